//! The project classes behind a call, for UNF401's reach: the class an expression names, the
//! class of the object a receiver holds (a local or module global assigned a constructor, an
//! attribute `self.x` every assignment in the class gives one class, a parameter annotated
//! with a class), the classes of the file with their bases and the module-level instances,
//! for the project phase (`project/mod.rs` follows constructors, inherited methods and
//! instances through them). Names are resolved through the semantic index, never by text.

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::Registry;
use crate::fix::Applicability;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{LOOKUP_PREFIX, ModuleInfo, ModuleMap, absolute_name};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// Resolves the file's expressions to project names.
pub(super) struct Names<'f, 'a> {
    pub file: &'f FileContext<'a>,
    pub module: &'f ModuleInfo,
    pub map: &'f ModuleMap,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

impl Names<'_, '_> {
    pub fn project(&self, name: String) -> Option<String> {
        self.map.is_project_name(&name).then_some(name)
    }

    /// The absolute name of the project definition (function, class, module, module global)
    /// a binding stands for.
    pub fn binding_name(&self, id: crate::semantic::BindingId) -> Option<String> {
        let index = self.file.index;
        let binding = index.binding(id);
        match &binding.kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } => self.project(absolute_name(self.module, qualified)?),
            BindingKind::Function { .. } | BindingKind::Class => Some(join(
                &self.module.name,
                &join(&member_prefix(self.file, binding.scope), &binding.name),
            )),
            _ => None,
        }
    }

    /// The absolute name of the project definition an identifier or a dotted name names.
    pub fn project_name(&self, node: Node) -> Option<String> {
        let index = self.file.index;
        let text = self.file.text;
        match node.kind_name() {
            "identifier" => match index.resolve_name(&text[node.byte_range()], node.start_byte()) {
                Resolution::Binding(id) => self.binding_name(id),
                Resolution::Builtin => None,
            },
            "attribute" => self.project(absolute_name(
                self.module,
                &index.qualified_name(node, text)?,
            )?),
            _ => None,
        }
    }

    /// The class a call of `construction` makes, when its callee names a project definition
    /// (the project phase tells a class from a function).
    pub(super) fn constructed(&self, construction: Node) -> Option<String> {
        if construction.kind_name() != "call" {
            return None;
        }
        self.project_name(construction.field(Field::Function)?)
    }

    /// The project class of what `object` holds, when known: a call's result, a name assigned
    /// one, a parameter annotated with one, `self.x` when every value the class assigns it
    /// (`None` aside) is made by the same class.
    pub fn receiver_class(&self, object: Node) -> Option<String> {
        let index = self.file.index;
        let text = self.file.text;
        let root = self.file.parsed.tree.root_node();
        match object.kind_name() {
            "call" => self
                .constructed(object)
                .or_else(|| self.looked_up(object).map(|(target, _)| target)),
            "identifier" => {
                let Resolution::Binding(id) =
                    index.resolve_name(&text[object.byte_range()], object.start_byte())
                else {
                    return None;
                };
                let binding = index.binding(id);
                match binding.kind {
                    BindingKind::Assignment => {
                        self.constructed(node_at(root, binding.value.as_ref()?)?)
                    }
                    BindingKind::Parameter => {
                        self.annotated_class(node_at(root, binding.annotation.as_ref()?)?)
                    }
                    _ => None,
                }
            }
            "attribute" => {
                let owner = object.field(Field::Object)?;
                if owner.kind_name() != "identifier"
                    || !matches!(&text[owner.byte_range()], "self" | "cls")
                {
                    return None;
                }
                let class = enclosing_class(self.file, object.start_byte())?;
                let attribute = &text[object.field(Field::Attribute)?.byte_range()];
                let mut classes = index
                    .attribute_values(class, attribute)
                    .iter()
                    .filter_map(|range| node_at(root, range))
                    .filter(|value| value.kind_name() != "none")
                    .map(|value| self.constructed(value));
                let first = classes.next()??;
                classes
                    .all(|c| c.as_deref() == Some(first.as_str()))
                    .then_some(first)
            }
            "parenthesized_expression" => self.receiver_class(object.named_child(0)?),
            _ => None,
        }
    }

    /// The project object a library's lookup by name returns (`[[lookup-by-name]]`:
    /// `self.bot.get_cog("Economy")` on a bot known by its constructor or annotation), named
    /// for the project phase ([`LOOKUP_PREFIX`]`discord-cog:Economy`, which it resolves to
    /// the one class so named), and the lookup's name.
    pub fn looked_up(&self, call: Node) -> Option<(String, &str)> {
        let file = self.file;
        if file.name_lookups.is_empty() || call.kind_name() != "call" {
            return None;
        }
        let callee = call.field(Field::Function)?;
        let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
        let name = literal_name(file.text, call)?;
        let root = file.parsed.tree.root_node();
        let called = file.index.callable_name(callee, root, file.text);
        let annotated = self.annotated_receiver(callee.field(Field::Object)?);
        let lookup = file.name_lookups.iter().find(|lookup| {
            lookup.calls.iter().any(|c| {
                Some(c) == called.as_ref()
                    || annotated
                        .iter()
                        .any(|class| *c == format!("{class}().{method}"))
            })
        })?;
        Some((
            format!("{LOOKUP_PREFIX}{}:{name}", lookup.name),
            lookup.name.as_str(),
        ))
    }

    /// The classes `self.attr` is annotated with where the class assigns it
    /// (`self.bot: commands.Bot = bot`), by qualified name.
    fn annotated_receiver(&self, object: Node) -> Vec<String> {
        let file = self.file;
        let root = file.parsed.tree.root_node();
        let (Some(owner), Some(attribute)) =
            (object.field(Field::Object), object.field(Field::Attribute))
        else {
            return Vec::new();
        };
        if object.kind_name() != "attribute"
            || owner.kind_name() != "identifier"
            || !matches!(&file.text[owner.byte_range()], "self" | "cls")
        {
            return Vec::new();
        }
        let Some(class) = enclosing_class(file, object.start_byte()) else {
            return Vec::new();
        };
        file.index
            .attribute_values(class, &file.text[attribute.byte_range()])
            .iter()
            .filter_map(|range| node_at(root, range)?.parent())
            .filter(|a| a.kind_name() == "assignment")
            .filter_map(|a| a.field(Field::Type))
            .filter_map(|t| t.named_child(0).or(Some(t)))
            .filter_map(|t| file.index.qualified_name(t, file.text))
            .collect()
    }

    /// `Client`, `sdk.Client`, `Optional[Client]`, `Client | None` → the project name.
    fn annotated_class(&self, annotation: Node) -> Option<String> {
        let mut node = annotation;
        for _ in 0..8 {
            match node.kind_name() {
                "type" | "parenthesized_expression" => node = node.named_child(0)?,
                "identifier" | "attribute" => return self.project_name(node),
                "binary_operator" => {
                    let left = node.field(Field::Left)?;
                    let right = node.field(Field::Right)?;
                    node = if left.kind_name() == "none" {
                        right
                    } else {
                        left
                    };
                }
                "generic_type" | "subscript" => {
                    let base = node.named_child(0)?;
                    let qualified = self.file.index.qualified_name(base, self.file.text)?;
                    if qualified != "typing.Optional" {
                        return None;
                    }
                    node = node.named_child(1)?;
                    if node.kind_name() == "type_parameter" {
                        node = node.named_child(0)?;
                    }
                }
                _ => return None,
            }
        }
        None
    }
}

/// The one argument of `call`, a string literal without interpolation that is a plain name
/// (`"Economy"`).
fn literal_name(text: &str, call: Node) -> Option<String> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let passed: Vec<Node> = arguments
        .named_children(&mut cursor)
        .filter(|a| a.kind_name() != "comment")
        .collect();
    let [literal] = passed[..] else {
        return None;
    };
    literal_string(text, literal).filter(|name| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The value of a string literal without interpolation or escapes.
pub(super) fn literal_string(text: &str, literal: Node) -> Option<String> {
    if literal.kind_name() != "string" {
        return None;
    }
    let mut cursor = literal.walk();
    let mut value = String::new();
    for part in literal.named_children(&mut cursor) {
        match part.kind_name() {
            "string_start" | "string_end" => {}
            "string_content" => value.push_str(&text[part.byte_range()]),
            _ => return None,
        }
    }
    Some(value)
}

/// The class whose method's body `offset` is in (through comprehensions and lambdas).
pub(super) fn enclosing_class(file: &FileContext, offset: usize) -> Option<ScopeId> {
    let index = file.index;
    let mut scope = index.scope_at(offset);
    while matches!(
        index.scope(scope).kind,
        ScopeKind::Comprehension { .. } | ScopeKind::Lambda
    ) {
        scope = index.scope(scope).parent?;
    }
    let class = index.scope(scope).parent?;
    (index.scope(class).kind == ScopeKind::Class).then_some(class)
}

/// The dotted prefix of the names bound in `scope` (as `target::member_prefix`).
fn member_prefix(file: &FileContext, scope: ScopeId) -> String {
    let path = file.index.qualname(scope);
    if matches!(file.index.scope(scope).kind, ScopeKind::Function { .. }) {
        format!("{path}.<locals>")
    } else {
        path
    }
}

/// Whether the object a method is called on is shared with the coroutines on the loop: an
/// attribute of `self` / `cls`, a module global, an imported name that is not a module, a
/// parameter. How the object is named in a message, when it is.
pub(super) fn shared_receiver(names: &Names, callee: Node) -> Option<String> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let object = callee.field(Field::Object)?;
    let index = names.file.index;
    let text = names.file.text;
    let written = &text[object.byte_range()];
    match object.kind_name() {
        "attribute" => {
            let owner = object.field(Field::Object)?;
            (owner.kind_name() == "identifier"
                && matches!(&text[owner.byte_range()], "self" | "cls"))
            .then(|| format!("`{written}`, kept on the instance"))
        }
        // `self.bot.get_cog("Economy")`: one object the library keeps for every caller.
        "call" => names.looked_up(object).map(|(_, lookup)| {
            format!("`{written}`, the one object the library keeps for that name ({lookup})")
        }),
        "identifier" => {
            let Resolution::Binding(id) = index.resolve_name(written, object.start_byte()) else {
                return None;
            };
            let binding = index.binding(id);
            match binding.kind {
                BindingKind::Assignment if binding.scope == index.module_scope() => {
                    Some(format!("`{written}`, a module global"))
                }
                BindingKind::Parameter if !matches!(written, "self" | "cls") => {
                    Some(format!("`{written}`, a parameter"))
                }
                BindingKind::Import { .. } => {
                    let name = names.binding_name(id)?;
                    let (_, rest) = names.map.file_defining_rest(&name)?;
                    (!rest.is_empty()).then(|| format!("`{written}`, imported from another module"))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the object of `callee` (`DB` in `DB.fetch_all`) names a project class itself, not
/// an instance: a class bound in the file, or an imported name whose absolute name with the
/// method is the chain's first hop (`app.db.DB.fetch_all` for `DB.fetch_all`).
/// For a callee `object.method`: whether `object` is a class the file binds (a staticmethod
/// or classmethod called on it), and the project name `object.method` stands for, to be
/// compared with a chain's first hop.
fn class_call(names: &Names, callee: Node) -> (bool, Option<String>) {
    if callee.kind_name() != "attribute" {
        return (false, None);
    }
    let (Some(object), Some(method)) =
        (callee.field(Field::Object), callee.field(Field::Attribute))
    else {
        return (false, None);
    };
    let index = names.file.index;
    let text = names.file.text;
    if object.kind_name() == "identifier"
        && let Resolution::Binding(id) =
            index.resolve_name(&text[object.byte_range()], object.start_byte())
        && index.binding(id).kind == BindingKind::Class
    {
        return (true, None);
    }
    let called = names
        .project_name(object)
        .map(|name| format!("{name}.{}", &text[method.byte_range()]));
    (false, called)
}

/// Whether `call` is the value of a `with` item (`with Client() as c:`).
pub(super) fn is_with_item(call: Node) -> bool {
    call.parent().is_some_and(|p| {
        p.kind_name() == "with_item"
            || (p.kind_name() == "as_pattern"
                && p.parent().is_some_and(|w| w.kind_name() == "with_item"))
    })
}

/// The targets a `with` item's call also reaches: its class's `__enter__` and `__exit__`.
pub(super) fn with_targets(target: &str) -> [String; 2] {
    [format!("{target}.__enter__"), format!("{target}.__exit__")]
}

/// What the reach of a blocking project call asks of its worker-thread fix.
pub(super) enum ReachFix {
    /// The fix is unsafe, for this reason.
    Unsafe(String),
    /// No fix, for this reason.
    None(String),
}

/// A blocking project call reached through a class: its worker-thread fix made unsafe, or
/// taken away, with the reason (`receivers::reach_fix`).
pub(super) fn apply_reach(
    reach: &ReachFix,
    fix: &mut Option<crate::fix::Fix>,
    no_fix_reason: &mut Option<String>,
) {
    match reach {
        ReachFix::None(reason) => {
            if fix.take().is_some() || no_fix_reason.is_none() {
                *no_fix_reason = Some(reason.clone());
            }
        }
        ReachFix::Unsafe(reason) => {
            if let Some(fix) = fix {
                fix.applicability = fix.applicability.min(Applicability::Unsafe);
                fix.caveat = Some(match fix.caveat.take() {
                    Some(caveat) => format!("{reason}; {caveat}"),
                    None => reason.clone(),
                });
            }
        }
    }
}

/// What the blocking call at the end of a UNF401 chain (`handler -> ask -> builtins.input`)
/// asks of a worker-thread fix by its own rule: a `[[fix.exceptions]]` entry of that call
/// marked `through-helpers` (its difference does not depend on how the call is written:
/// `input()` in a helper is still `input()` in a worker thread) makes the hop of the helper
/// reaching it unsafe too, for the same reason. Not every exception does: a helper that
/// takes and releases a `threading.Lock` in the thread is no lock left taken.
pub(super) fn leaf_exception(registry: &Registry, chain: &str) -> Option<ReachFix> {
    let leaf = chain.rsplit(" -> ").next()?;
    registry.for_call(leaf).iter().find_map(|&i| {
        let exception = registry.codemod(i).fix_exceptions.get(leaf)?;
        (exception.through_helpers
            && exception.applicability == Applicability::Unsafe
            && !exception.no_fix
            && !exception.unless_local_receiver
            && !exception.not_evidence)
            .then(|| ReachFix::Unsafe(format!("it runs `{leaf}`: {}", exception.reason)))
    })
}

/// What of a call and its callee decides the worker-thread fix of a call UNF401 reaches
/// through a class ([`ReachFacts::decide`]), read from the tree: kept with a speculative
/// finding, so the settled chain decides it the same way as in a pass with the settled calls.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReachFacts {
    /// The callee as written.
    written: String,
    /// `Base.__init__(self)`: a call of the method, not a construction.
    attribute_init: bool,
    /// The call is a `with` item's value.
    with_item: bool,
    /// The receiver is a class the file binds.
    class_receiver: bool,
    /// The project name `object.method` stands for.
    called: Option<String>,
    /// The receiver shared with the coroutines, described (`shared_receiver`).
    shared: Option<String>,
}

/// The facts of `call` (its callee `callee`) that [`ReachFacts::decide`] reads.
pub(super) fn reach_facts(names: &Names, call: Node, callee: Node) -> ReachFacts {
    let text = names.file.text;
    let (class_receiver, called) = class_call(names, callee);
    ReachFacts {
        written: text[callee.byte_range()].to_owned(),
        attribute_init: callee.kind_name() == "attribute"
            && callee
                .field(Field::Attribute)
                .is_some_and(|a| &text[a.byte_range()] == "__init__"),
        with_item: is_with_item(call),
        class_receiver,
        called,
        shared: shared_receiver(names, callee),
    }
}

/// What a worker-thread fix of a call UNF401 reaches through a class must say: a `with` on
/// an object whose `__enter__` / `__exit__` block (no fix: they run at the `with`), a
/// constructor (the object is made in a worker thread), a method of an object shared with the
/// coroutines on the loop (it runs on that object from another thread). `first_hop` is the
/// chain's first function (`CarrierSDK.__init__`). `keeps_nothing`: the receiver's class
/// and its project bases keep nothing of their own (`class_state.rs`), so sharing the
/// receiver shares nothing.
pub(super) fn reach_fix(
    names: &Names,
    call: Node,
    callee: Node,
    first_hop: &str,
    through_with: bool,
    keeps_nothing: bool,
) -> Option<ReachFix> {
    reach_facts(names, call, callee).decide(first_hop, through_with, keeps_nothing)
}

impl ReachFacts {
    /// [`reach_fix`] from the facts.
    pub(super) fn decide(
        &self,
        first_hop: &str,
        through_with: bool,
        keeps_nothing: bool,
    ) -> Option<ReachFix> {
        let written = &self.written;
        if through_with {
            return Some(ReachFix::None(format!(
                "`{first_hop}` blocks, and it runs at the `with` on the event loop's thread: \
                 only the whole `with` block moved to a worker thread would help, which is a \
                 human's decision"
            )));
        }
        if first_hop.ends_with(".__init__") && !self.attribute_init {
            let with = if self.with_item {
                "; the `with` block still runs on the event loop"
            } else {
                ""
            };
            return Some(ReachFix::Unsafe(format!(
                "`{written}(...)` now makes its object in a worker thread and hands it to the \
                 event loop's thread: an object holding something bound to the thread that \
                 made it (a sqlite3 connection, a thread-local) would not work there{with}"
            )));
        }
        // A class keeps nothing of its own a call shares: a staticmethod or classmethod called
        // on it is judged by what the function does (its moved-code hazards: `cls.x` it
        // writes, a file, a database, a module global), not by the receiver.
        let names_class = self.class_receiver
            || self.called.as_ref().is_some_and(|called| {
                called == first_hop || called.ends_with(&format!(".{first_hop}"))
            });
        if names_class || keeps_nothing {
            return None;
        }
        let shared = self.shared.as_ref()?;
        Some(ReachFix::Unsafe(format!(
            "`{written}` runs in a worker thread on {shared}, which the coroutines on the event \
             loop share: whatever it keeps (a session, a connection, a cache) must be safe to use \
             from two threads at once"
        )))
    }
}
