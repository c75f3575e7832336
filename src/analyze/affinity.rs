//! Thread affinity in a function's body: a call on an object that must stay on the thread
//! that made it (the `[[thread-affine]]` families of the codemods: a sqlite3 connection and
//! its cursors), when the function did not make that object itself: a module global, a
//! parameter, an attribute of `self`, a name of an enclosing function. Moving such a function
//! to a worker thread would use the object from the wrong thread; a function that makes the
//! object itself (connects, uses, closes) moves as one unit of work.
//!
//! The other direction, an object made in the moved code and handed back to the event
//! loop's thread, is `returned.rs`'s.

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::{Registry, ThreadAffine};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{AffineGlobal, AffineMember, Affinity, ModuleInfo, ModuleMap, absolute_name};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// How many steps (names, derived calls) are followed back to what made an object.
pub(super) const MAX_STEPS: usize = 8;

/// Where the object a function uses was made, when not in the function itself; each with
/// the expression naming it in the function (`cur`, `self.db`).
pub(super) enum Origin<'t> {
    /// A module-level name of this file.
    Global(String, Node<'t>),
    /// A parameter: the caller made it.
    Parameter(String, Node<'t>),
    /// `self.<attribute>`: another method made it.
    Attribute(String, Node<'t>),
    /// A name of an enclosing function.
    Enclosing(String, Node<'t>),
    /// A name the coroutine made before the moved block.
    Outside(String, Node<'t>),
}

/// The thread-affine object the call in `function` (its scope) uses without having made it:
/// `cursor.execute(...)` with `cursor` a module global made by `sqlite3.connect(p).cursor()`.
pub(super) fn foreign_affine_use(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    call: Node,
) -> Option<Affinity> {
    foreign_affine_use_moved(file, registry, function, None, call)
}

/// The first thread-affine object a `with` block of the coroutine `function` uses without
/// the block having made it: moved to a worker thread as a whole, the block would use it
/// from the wrong thread.
pub(super) fn foreign_affine_use_in_block(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    block: Node,
) -> Option<Affinity> {
    foreign_affine_use_in_statements(file, registry, function, &[block])
}

/// [`foreign_affine_use_in_block`] for a run of sibling statements moved as one.
pub(super) fn foreign_affine_use_in_statements(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    statements: &[Node],
) -> Option<Affinity> {
    let (first, last) = (statements.first()?, statements.last()?);
    let span = first.start_byte()..last.end_byte();
    let mut stack = statements.to_vec();
    let mut cursor = first.walk();
    let mut calls = Vec::new();
    while let Some(node) = stack.pop() {
        if matches!(
            node.kind_name(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            continue;
        }
        if node.kind_name() == "call" {
            calls.push(node);
        }
        stack.extend(node.named_children(&mut cursor));
    }
    calls.sort_by_key(|c| c.start_byte());
    calls.into_iter().find_map(|call| {
        foreign_affine_use_moved(file, registry, function, Some(span.clone()), call)
    })
}

/// [`foreign_affine_use`], for the code of `function` that moves: all of it, or `block`.
fn foreign_affine_use_moved(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    block: Option<std::ops::Range<usize>>,
    call: Node,
) -> Option<Affinity> {
    let callee = call
        .field(Field::Function)
        .filter(|c| c.kind_name() == "attribute")?;
    let object = callee.field(Field::Object)?;
    let root = file.parsed.tree.root_node();
    let kind = file.index.object_kind(object, root, file.text)?;
    let (family, _) = registry.thread_affine(&kind)?;
    let origin = origin(file, family, (function, block.as_ref()), object, 0)?;
    let (Origin::Global(_, named)
    | Origin::Parameter(_, named)
    | Origin::Attribute(_, named)
    | Origin::Enclosing(_, named)
    | Origin::Outside(_, named)) = origin;
    // Named after what the name holds (`con` is a connection even where the call is on the
    // cursor `con.cursor()` returns).
    let label = file
        .index
        .object_kind(named, root, file.text)
        .and_then(|kind| Some(registry.thread_affine(&kind)?.1.to_owned()))?;
    let object = match origin {
        Origin::Global(name, _) => format!("the {label} `{name}`, a module global"),
        Origin::Parameter(name, _) => {
            format!("the {label} `{name}`, a parameter its caller made")
        }
        Origin::Attribute(name, _) => {
            format!("the {label} `self.{name}`, made in another method")
        }
        Origin::Enclosing(name, _) => {
            format!("the {label} `{name}`, made by the enclosing function")
        }
        Origin::Outside(name, _) => {
            format!("the {label} `{name}`, made on the event loop's thread before the block")
        }
    };
    Some(Affinity {
        object,
        why: family.why.clone(),
        remedy: family.remedy.clone(),
        line: call.start_position().row as u32 + 1,
    })
}

/// The module globals of the file holding thread-affine objects made at import time (not made
/// shareable), which other modules may import.
pub(super) fn affine_globals(file: &FileContext, registry: &Registry) -> Vec<AffineGlobal> {
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let mut globals: Vec<AffineGlobal> = Vec::new();
    for (_, binding) in index.bindings() {
        // A module global, or an attribute of a module-level class (`Baydb.session`, bound
        // in the class body): both made at import time and shared by every importer.
        let name = if binding.scope == index.module_scope() {
            binding.name.clone()
        } else {
            let scope = index.scope(binding.scope);
            match (&scope.kind, &scope.name) {
                (ScopeKind::Class, Some(class)) if scope.parent == Some(index.module_scope()) => {
                    format!("{class}.{}", binding.name)
                }
                _ => continue,
            }
        };
        if binding.kind != BindingKind::Assignment || globals.iter().any(|g| g.name == name) {
            continue;
        }
        let Some(value) = binding.value.as_ref().and_then(|v| node_at(root, v)) else {
            continue;
        };
        let Some(kind) = index.object_kind(value, root, file.text) else {
            continue;
        };
        let Some((family, label)) = registry.thread_affine(&kind) else {
            if registry.follows_imported(&kind) {
                let mut affine_members: Vec<AffineMember> = registry
                    .thread_affine_made_from(&kind)
                    .map(|(made, family, label)| AffineMember {
                        kind: made.to_owned(),
                        label: label.to_owned(),
                        why: family.why.clone(),
                        remedy: family.remedy.clone(),
                    })
                    .collect();
                affine_members.sort_by(|a, b| a.kind.cmp(&b.kind));
                globals.push(AffineGlobal {
                    name: name.clone(),
                    kind,
                    label: String::new(),
                    why: String::new(),
                    remedy: String::new(),
                    line: value.start_position().row as u32 + 1,
                    shareable: true,
                    affine_members,
                });
            }
            continue;
        };
        if made_shareable(file, family, binding.value.as_ref(), 0) {
            continue;
        }
        globals.push(AffineGlobal {
            name: name.clone(),
            kind,
            label: label.to_owned(),
            why: family.why.clone(),
            remedy: family.remedy.clone(),
            line: value.start_position().row as u32 + 1,
            shareable: false,
            affine_members: Vec::new(),
        });
    }
    globals
}

/// `db.cursor.execute` for `cursor.execute(...)` after `from db import cursor` (or
/// `db.cursor.execute(...)` after `import db`): a method a codemod matches on thread-affine
/// objects, called on a name of another project module, which may be such an object. A
/// member chain on such a name is named too, for the settling to follow from the global's
/// kind: `db.db.users.find_one` (`from db import db`, then `db.users.find_one(...)`),
/// `db.db[].find_one` (`db["users"]`), `db.db.get_collection().find_one`,
/// `db.conn.cursor().execute`.
pub(super) fn imported_receiver(
    file: &FileContext,
    registry: &Registry,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
    if !registry.is_thread_affine_method(method) {
        return None;
    }
    imported_member_call(file, module, map, callee)
}

/// The project name of a method called on a name of another project module, or a member
/// chain on one (`db_config.users_col.find_one`), without asking whether a codemod matches
/// the method: [`imported_receiver`] for the settling's answer about any method.
pub(super) fn imported_member_call(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
    let object = callee.field(Field::Object)?;
    let qualified = member_chain(file, object, 0)?;
    if qualified.starts_with("builtins.") {
        return None;
    }
    let absolute = absolute_name(module, &qualified)?;
    map.is_project_name(&absolute)
        .then(|| format!("{absolute}.{method}"))
}

/// How many members past an imported name [`member_chain`] follows (a method call counts
/// two: `session.query(X).filter_by(k=v).update(...)` is four).
const MAX_MEMBERS: usize = 8;

/// The qualified name of an imported name followed by members: an attribute (`.users`), a
/// subscript (`[]`, whatever the key) or a method call (`.get_collection()`, whatever the
/// arguments).
fn member_chain(file: &FileContext, node: Node, members: usize) -> Option<String> {
    let text = file.text;
    match node.kind_name() {
        "identifier" => file.index.qualified_name(node, text).or_else(|| {
            // `users = db.users` at module level, `db` imported: the chain it holds.
            if members >= MAX_MEMBERS {
                return None;
            }
            let name = &text[node.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            // A module global, or a function's local alias bound once there (`collection =
            // DB.collection`, then `collection.find_one(...)`): a name bound twice may hold
            // either value at the call.
            let module_global = binding.scope == file.index.module_scope();
            let local_alias = matches!(
                file.index.scope(binding.scope).kind,
                ScopeKind::Function { .. }
            ) && file.index.bindings_in_scope(binding.scope, name).len() == 1;
            if !(module_global || local_alias) || binding.kind != BindingKind::Assignment {
                return None;
            }
            let value = node_at(file.parsed.tree.root_node(), binding.value.as_ref()?)?;
            if value.kind_name() == "identifier" || value.byte_range().contains(&node.start_byte())
            {
                return None;
            }
            member_chain(file, value, members + 1)
        }),
        "parenthesized_expression" => member_chain(file, node.named_child(0)?, members),
        _ if members >= MAX_MEMBERS => None,
        "attribute" => {
            let base = member_chain(file, node.field(Field::Object)?, members + 1)?;
            Some(format!(
                "{base}.{}",
                &text[node.field(Field::Attribute)?.byte_range()]
            ))
        }
        "subscript" => {
            let base = member_chain(file, node.field(Field::Value)?, members + 1)?;
            Some(format!("{base}[]"))
        }
        "call" => {
            let callee = node
                .field(Field::Function)
                .filter(|c| c.kind_name() == "attribute")?;
            let base = member_chain(file, callee, members + 1)?;
            Some(format!("{base}()"))
        }
        _ => None,
    }
}

/// Where the object `expr` evaluates to was made, followed back through the function's own
/// names and derived calls (`con.cursor()`); `None`: the function made it, or it was made
/// shareable (`check_same_thread=False`), or it cannot be told.
pub(super) fn origin<'t>(
    file: &FileContext<'t>,
    family: &ThreadAffine,
    moved: (ScopeId, Option<&std::ops::Range<usize>>),
    expr: Node<'t>,
    steps: usize,
) -> Option<Origin<'t>> {
    let (function, block) = moved;
    if steps > MAX_STEPS {
        return None;
    }
    let root = file.parsed.tree.root_node();
    match expr.kind_name() {
        "parenthesized_expression" => origin(file, family, moved, expr.named_child(0)?, steps + 1),
        "call" => {
            let callee = expr.field(Field::Function)?;
            let made_here = file
                .index
                .callable_name(callee, root, file.text)
                .is_some_and(|name| family.made_by.contains(&name));
            if made_here {
                return None;
            }
            // `con.cursor()`: a derived object, bound where `con` was made.
            let object = callee
                .field(Field::Object)
                .filter(|_| callee.kind_name() == "attribute")?;
            origin(file, family, moved, object, steps + 1)
        }
        "identifier" => {
            let name = &file.text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            if binding.scope == function {
                let inside = block
                    .is_none_or(|b| b.start <= binding.range.start && binding.range.end <= b.end);
                return match binding.kind {
                    BindingKind::Parameter => Some(Origin::Parameter(name.to_owned(), expr)),
                    BindingKind::Assignment if inside => {
                        let value = node_at(root, binding.value.as_ref()?)?;
                        origin(file, family, moved, value, steps + 1)
                    }
                    BindingKind::Assignment => {
                        (!made_shareable(file, family, binding.value.as_ref(), steps))
                            .then(|| Origin::Outside(name.to_owned(), expr))
                    }
                    _ => None,
                };
            }
            if binding.kind != BindingKind::Assignment
                || made_shareable(file, family, binding.value.as_ref(), steps)
            {
                return None;
            }
            match file.index.scope(binding.scope).kind {
                ScopeKind::Module => Some(Origin::Global(name.to_owned(), expr)),
                ScopeKind::Function { .. } => Some(Origin::Enclosing(name.to_owned(), expr)),
                _ => None,
            }
        }
        "attribute" => {
            let object = expr.field(Field::Object)?;
            let attribute = expr.field(Field::Attribute)?;
            if object.kind_name() != "identifier"
                || !matches!(&file.text[object.byte_range()], "self" | "cls")
            {
                return None;
            }
            let class = file.index.scope(function).parent?;
            if file.index.scope(class).kind != ScopeKind::Class {
                return None;
            }
            let attribute = &file.text[attribute.byte_range()];
            let values = file.index.attribute_values(class, attribute);
            let shareable = values
                .iter()
                .any(|value| made_shareable(file, family, Some(value), steps));
            (!shareable).then(|| Origin::Attribute(attribute.to_owned(), expr))
        }
        _ => None,
    }
}

/// Whether the value at `value` was made by a constructor call with the family's
/// `shareable-with` argument (`sqlite3.connect(p, check_same_thread=False)`), followed
/// through names and derived calls; an origin that cannot be followed is not shareable.
pub(super) fn made_shareable(
    file: &FileContext,
    family: &ThreadAffine,
    value: Option<&std::ops::Range<usize>>,
    steps: usize,
) -> bool {
    let Some((keyword, wanted)) = &family.shareable_with else {
        return false;
    };
    let root = file.parsed.tree.root_node();
    let Some(mut node) = value.and_then(|v| node_at(root, v)) else {
        return false;
    };
    for _ in steps..=MAX_STEPS {
        match node.kind_name() {
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => node = inner,
                None => return false,
            },
            "call" => {
                let Some(callee) = node.field(Field::Function) else {
                    return false;
                };
                let constructor = file
                    .index
                    .callable_name(callee, root, file.text)
                    .is_some_and(|name| family.made_by.contains(&name));
                if constructor {
                    return has_keyword(file, node, keyword, wanted);
                }
                match callee.field(Field::Object) {
                    Some(object) if callee.kind_name() == "attribute" => node = object,
                    _ => return false,
                }
            }
            "identifier" => {
                let name = &file.text[node.byte_range()];
                let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte())
                else {
                    return false;
                };
                match file
                    .index
                    .binding(id)
                    .value
                    .as_ref()
                    .and_then(|v| node_at(root, v))
                {
                    Some(value) => node = value,
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// Whether `call` passes `keyword=wanted` (the value as written: `False`).
fn has_keyword(file: &FileContext, call: Node, keyword: &str, wanted: &str) -> bool {
    let Some(arguments) = call.field(Field::Arguments) else {
        return false;
    };
    let mut cursor = arguments.walk();
    for argument in arguments.named_children(&mut cursor) {
        if argument.kind_name() != "keyword_argument" {
            continue;
        }
        let name = argument
            .field(Field::Name)
            .map(|n| &file.text[n.byte_range()]);
        let value = argument
            .field(Field::Value)
            .map(|v| &file.text[v.byte_range()]);
        if name == Some(keyword) && value == Some(wanted) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::test_context::db_summary;
    use crate::project::FileSummary;

    /// The summary of `source` as module `db` of a one-file project.
    fn summary(source: &str) -> FileSummary {
        db_summary(source)
    }

    /// The object each summarized function is pinned by, by qualname.
    fn pinned(source: &str) -> Vec<(String, Option<String>)> {
        summary(source)
            .functions
            .into_iter()
            .map(|f| (f.qualname, f.affinity.map(|a| a.object)))
            .collect()
    }

    #[test]
    fn objects_the_function_did_not_make_pin_it() {
        let source = "import sqlite3\n\ncon = sqlite3.connect('x.db')\ncur = con.cursor()\n\n\
                      def by_global(i):\n    return cur.execute('q', (i,)).fetchone()\n\n\
                      def derived_locally(i):\n    c = con.cursor()\n    c.execute('q')\n\n\
                      def by_parameter(db: sqlite3.Connection):\n    db.commit()\n\n\
                      class Store:\n    def __init__(self):\n        self.db = sqlite3.connect('x.db')\n\n    \
                      def get(self):\n        return self.db.execute('q').fetchall()\n";
        assert_eq!(
            pinned(source),
            [
                (
                    "by_global".to_owned(),
                    Some("the sqlite3 cursor `cur`, a module global".to_owned())
                ),
                (
                    "derived_locally".to_owned(),
                    Some("the sqlite3 connection `con`, a module global".to_owned())
                ),
                (
                    "by_parameter".to_owned(),
                    Some("the sqlite3 connection `db`, a parameter its caller made".to_owned())
                ),
                // Reached through a construction (UNF401 follows it), the object made in a
                // worker thread would keep the connection for the loop's thread.
                (
                    "Store.__init__".to_owned(),
                    Some(
                        "the sqlite3 connection it makes and keeps in `self.db` for later code"
                            .to_owned()
                    )
                ),
                (
                    "Store.get".to_owned(),
                    Some("the sqlite3 connection `self.db`, made in another method".to_owned())
                ),
            ]
        );
    }

    #[test]
    fn a_whole_unit_of_work_or_a_shareable_connection_pins_nothing() {
        let source = "import sqlite3\n\nshared = sqlite3.connect('x.db', check_same_thread=False)\n\
                      cur = shared.cursor()\n\n\
                      def unit(p):\n    con = sqlite3.connect(p)\n    rows = con.execute('q').fetchall()\n    con.close()\n    return rows\n\n\
                      def with_block(p):\n    with sqlite3.connect(p) as con:\n        return con.cursor().execute('q').fetchone()\n\n\
                      def on_shared():\n    return cur.execute('q').fetchone()\n";
        assert!(
            pinned(source).iter().all(|(_, pin)| pin.is_none()),
            "{:?}",
            pinned(source)
        );
    }

    #[test]
    fn module_globals_made_at_import_time_are_listed_unless_shareable() {
        let source = "import sqlite3\n\ncon = sqlite3.connect('x.db')\ncursor = con.cursor()\n\
                      other = sqlite3.connect('y.db', check_same_thread=False)\n";
        let globals: Vec<(String, String)> = summary(source)
            .affine_globals
            .into_iter()
            .map(|g| (g.name, g.kind))
            .collect();
        assert_eq!(
            globals,
            [
                ("con".to_owned(), "sqlite3.connect".to_owned()),
                ("cursor".to_owned(), "sqlite3.connect().cursor".to_owned()),
            ]
        );
    }
}
