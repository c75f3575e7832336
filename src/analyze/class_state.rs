//! Whether a class of the file keeps nothing of its own: no method writes an attribute of
//! `self` / `cls` (`self.x = ...`, `self.x += ...`, `self.items[k] = ...`, `setattr`), its
//! body binds no class attribute of a value that can change (only constants: strings,
//! numbers, `None`, booleans and tuples of them), no decorator makes fields of it
//! (`@dataclass`), and every base is a project class (a library base may keep anything:
//! unknown). A method of a module-level instance of such a class, moved to a worker thread,
//! shares nothing with the coroutines on the loop through the instance; the project phase
//! adds that every project base keeps nothing too (`project/mod.rs`).

use tree_sitter::Node;

use super::FileContext;
use super::receivers::{Names, literal_string};
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, ScopeKind, node_at};

/// Whether the class `definition` (a `class_definition`) keeps nothing of its own, and
/// names only project classes (or `object`) as bases.
pub(super) fn keeps_nothing(names: &Names, definition: Node) -> bool {
    let file = names.file;
    let text = file.text;
    if definition
        .parent()
        .is_some_and(|p| p.kind_name() == "decorated_definition")
    {
        return false;
    }
    if let Some(list) = definition.field(Field::Superclasses) {
        let mut cursor = list.walk();
        for base in list.named_children(&mut cursor) {
            let object = base.kind_name() == "identifier"
                && &text[base.byte_range()] == "object"
                && file.index.resolve_name("object", base.start_byte()) == Resolution::Builtin;
            if !object && names.project_name(base).is_none() {
                return false;
            }
        }
    }
    let Some(body) = definition.field(Field::Body) else {
        return false;
    };
    let mut cursor = body.walk();
    for statement in body.named_children(&mut cursor) {
        match statement.kind_name() {
            "function_definition" | "decorated_definition" | "pass_statement" | "comment" => {}
            // A docstring.
            "expression_statement"
                if statement
                    .named_child(0)
                    .is_some_and(|e| e.kind_name() == "string") => {}
            "expression_statement" => {
                let Some(assignment) = statement
                    .named_child(0)
                    .filter(|a| a.kind_name() == "assignment")
                else {
                    return false;
                };
                match assignment.field(Field::Right) {
                    Some(value) if constant(value) => {}
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    !writes_own_state(names, body)
}

/// A constant value: a string, a number, `None`, a boolean, a tuple of those.
fn constant(value: Node) -> bool {
    match value.kind_name() {
        "string" | "concatenated_string" | "integer" | "float" | "none" | "true" | "false" => true,
        "unary_operator" => value.named_child(0).is_some_and(constant),
        "tuple" | "parenthesized_expression" => {
            let mut cursor = value.walk();
            value
                .named_children(&mut cursor)
                .filter(|c| c.kind_name() != "comment")
                .all(constant)
        }
        _ => false,
    }
}

/// Whether code in `body` (the methods, and what they nest) writes through a parameter
/// (`self`, `cls`, or any other: an object passed in may be the instance): an assignment,
/// augmented assignment or `del` whose target starts with one, or a call of `setattr`, or a
/// use of `__dict__`.
fn writes_own_state(names: &Names, body: Node) -> bool {
    let text = names.file.text;
    let through_self = |target: Node| through_parameter(names, target);
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let writes = match node.kind_name() {
            "assignment" | "augmented_assignment" | "for_statement" => {
                node.field(Field::Left).is_some_and(through_self)
            }
            // `with open(p) as self.f:`
            "as_pattern" => {
                let mut cursor = node.walk();
                node.named_children(&mut cursor)
                    .skip(1)
                    .any(|t| t.named_child(0).is_some_and(through_self))
            }
            "delete_statement" => {
                let mut cursor = node.walk();
                node.named_children(&mut cursor).any(through_self)
            }
            "identifier" => matches!(&text[node.byte_range()], "setattr" | "__dict__"),
            _ => false,
        };
        if writes {
            return true;
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether a target writes state through a parameter or a class: `self.x`, `self.x[k]`,
/// `cls.x.y`, `Store.x`, in a tuple of targets too.
fn through_parameter(names: &Names, target: Node) -> bool {
    let index = names.file.index;
    let text = names.file.text;
    match target.kind_name() {
        "attribute" | "subscript" => {
            let mut object = target;
            while matches!(object.kind_name(), "attribute" | "subscript") {
                let next = match object.kind_name() {
                    "attribute" => object.field(Field::Object),
                    _ => object.field(Field::Value),
                };
                let Some(next) = next else {
                    return true;
                };
                object = next;
            }
            // `self.x`, `other.x` (a parameter may be the instance), `Store.x` (a class).
            object.kind_name() == "identifier"
                && matches!(
                    index.resolve_name(&text[object.byte_range()], object.start_byte()),
                    Resolution::Binding(id)
                        if matches!(index.binding(id).kind, BindingKind::Parameter | BindingKind::Class)
                )
        }
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "tuple"
        | "list"
        | "expression_list"
        | "parenthesized_expression" => {
            let mut cursor = target.walk();
            target
                .named_children(&mut cursor)
                .any(|t| through_parameter(names, t))
        }
        _ => false,
    }
}

/// A class of the file: its qualname and the project names of its bases.
pub(super) type ClassFact = (String, Vec<String>);

/// What [`class_facts`] finds.
pub(super) struct ClassFacts {
    /// The file's classes, `(qualname, the project names of its bases)`.
    pub classes: Vec<ClassFact>,
    /// Its module-level instances, `(name, what made it)`.
    pub instances: Vec<(String, String)>,
    /// The qualnames of the classes that keep nothing of their own (`class_state.rs`).
    pub stateless: Vec<String>,
    /// The classes a library finds by name (`[[lookup-by-name]]`), `(lookup, name,
    /// qualname)`: `("discord-cog", "Economy", "Economy")`; `*` for a name not written out.
    pub named: Vec<(String, String, String)>,
}

/// The file's classes, their instances and those keeping nothing ([`ClassFacts`]): one pass
/// over the index's class scopes and module bindings.
pub(super) fn class_facts(names: &Names) -> ClassFacts {
    let file = names.file;
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let mut classes = Vec::new();
    let mut stateless = Vec::new();
    let mut named = Vec::new();
    for (id, scope) in index.scopes() {
        if scope.kind != ScopeKind::Class {
            continue;
        }
        let Some(definition) = class_definition(root, &scope.range) else {
            continue;
        };
        let mut bases = Vec::new();
        if let Some(list) = definition.field(Field::Superclasses) {
            let mut cursor = list.walk();
            for base in list.named_children(&mut cursor) {
                if let Some(name) = names.project_name(base) {
                    bases.push(name);
                }
            }
        }
        if keeps_nothing(names, definition) {
            stateless.push(index.qualname(id));
        }
        for (lookup, name) in found_by_name(file, definition) {
            named.push((lookup, name, index.qualname(id)));
        }
        classes.push((index.qualname(id), bases));
    }
    let mut instances = Vec::new();
    for (_, binding) in index.bindings_of(index.module_scope()) {
        if binding.kind != BindingKind::Assignment {
            continue;
        }
        if let Some(made) = binding
            .value
            .as_ref()
            .and_then(|value| node_at(root, value))
            .and_then(|value| names.constructed(value))
        {
            instances.push((binding.name.clone(), made));
        }
    }
    ClassFacts {
        classes,
        instances,
        stateless,
        named,
    }
}

/// The lookups by name that find the class `definition` (it derives from one of a lookup's
/// `classes`), each with the name they find it by: its `name=` class keyword, `*` when that
/// is not a literal, else the class's own name.
fn found_by_name(file: &FileContext, definition: Node) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Some(list) = definition.field(Field::Superclasses) else {
        return found;
    };
    let text = file.text;
    let mut cursor = list.walk();
    let parts: Vec<Node> = list.named_children(&mut cursor).collect();
    for lookup in file.name_lookups {
        let derives = parts.iter().any(|base| {
            file.index
                .qualified_name(*base, text)
                .is_some_and(|q| lookup.classes.contains(&q))
        });
        if !derives {
            continue;
        }
        let keyword = parts.iter().find(|p| {
            p.kind_name() == "keyword_argument"
                && p.field(Field::Name).map(|n| &text[n.byte_range()])
                    == lookup.name_keyword.as_deref()
        });
        let name = match keyword {
            Some(keyword) => keyword
                .field(Field::Value)
                .and_then(|v| literal_string(text, v))
                .unwrap_or_else(|| "*".to_owned()),
            None => match definition.field(Field::Name) {
                Some(name) => text[name.byte_range()].to_owned(),
                None => continue,
            },
        };
        found.push((lookup.name.clone(), name));
    }
    found
}

/// The `class_definition` whose body spans `range` (a class scope's): a body of one
/// statement spans what that statement does, and `node_at` finds the statement.
fn class_definition<'t>(root: Node<'t>, range: &std::ops::Range<usize>) -> Option<Node<'t>> {
    let mut node = node_at(root, range)?;
    loop {
        let parent = node.parent()?;
        if node.kind_name() == "block" && parent.kind_name() == "class_definition" {
            return Some(parent);
        }
        if parent.byte_range() != *range {
            return None;
        }
        node = parent;
    }
}
