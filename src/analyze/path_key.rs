//! How a file is named, keyed for the shared-file analysis (`shared_files.rs`): the path an
//! expression names, followed through locals, joins, path builders, module constants (by the
//! path they hold, when bound once to literals), attributes of `self` / `cls`, imports and
//! project functions returning it; and the parameter a path starts with (`path + ".tmp"`), so
//! a helper's file is the one each of its callers passes.

use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::MovedCode;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{ModuleInfo, absolute_name};
use crate::semantic::{BindingId, BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// How many names and calls a path is followed through (also stops cycles).
pub(super) const MAX_DEPTH: usize = 6;

/// A file access through a parameter of its function: `open(path, "w")` in
/// `def save_data(path, data)` reads or writes the file each caller names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ParamAccess {
    pub function: ScopeId,
    /// The parameter's 0-based position and its name (a call may pass it by keyword).
    pub position: usize,
    pub name: String,
    /// The path's key with `*` for the parameter: `*`, `*/.tmp` (`path + ".tmp"`).
    pub pattern: String,
    pub write: bool,
    /// The write removes the file.
    pub deletes: bool,
    pub atomic: bool,
}

/// The access of a path `key` (made of no shared name) when it starts with a parameter of
/// the function it is in: `path`, `path + ".tmp"`, `f"{path}.tmp"`, `Path(path)`.
pub(super) fn parameter_access(
    file: &FileContext,
    path: Node,
    key: &str,
    write: bool,
    deletes: bool,
    atomic: bool,
) -> Option<ParamAccess> {
    if key.matches('*').count() != 1 || !(key.starts_with('*') || key.starts_with("{*}")) {
        return None;
    }
    let id = path_parameter(file, path, 0)?;
    let binding = file.index.binding(id);
    let function = binding.scope;
    let position = parameter_position(file, &binding.range)?;
    Some(ParamAccess {
        function,
        position,
        name: binding.name.clone(),
        pattern: key.to_owned(),
        write,
        deletes,
        atomic,
    })
}

/// The parameter a path starts with, followed through locals (`tmp = path + ".tmp"`), joins
/// and path builders (`Path(path)`, `os.path.join(path, ...)`).
pub(super) fn path_parameter(file: &FileContext, expr: Node, depth: usize) -> Option<BindingId> {
    if depth > MAX_DEPTH {
        return None;
    }
    match expr.kind_name() {
        "parenthesized_expression" => path_parameter(file, expr.named_child(0)?, depth + 1),
        "binary_operator" => path_parameter(file, expr.field(Field::Left)?, depth + 1),
        "concatenated_string" => path_parameter(file, expr.named_child(0)?, depth + 1),
        "string" => {
            let mut cursor = expr.walk();
            let first = expr
                .named_children(&mut cursor)
                .find(|p| matches!(p.kind_name(), "string_content" | "interpolation"))?;
            (first.kind_name() == "interpolation")
                .then(|| first.named_child(0))
                .flatten()
                .and_then(|inner| path_parameter(file, inner, depth + 1))
        }
        "call" => {
            let arguments = expr.field(Field::Arguments)?;
            let mut cursor = arguments.walk();
            let first = arguments
                .named_children(&mut cursor)
                .find(|a| a.kind_name() != "comment")?;
            path_parameter(file, first, depth + 1)
        }
        "identifier" => {
            let name = &file.text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            match binding.kind {
                BindingKind::Parameter => Some(id),
                BindingKind::Assignment if binding.scope != file.index.module_scope() => {
                    let root = file.parsed.tree.root_node();
                    let value = node_at(root, binding.value.as_ref()?)?;
                    path_parameter(file, value, depth + 1)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The 0-based position of the parameter bound at `range` in its function's parameter list.
pub(super) fn parameter_position(file: &FileContext, range: &Range<usize>) -> Option<usize> {
    let root = file.parsed.tree.root_node();
    let mut node = root.descendant_for_byte_range(range.start, range.end)?;
    while let Some(parent) = node.parent() {
        if parent.kind_name() == "parameters" {
            let mut cursor = parent.walk();
            return parent
                .named_children(&mut cursor)
                .filter(|p| p.kind_name() != "comment")
                .position(|p| p.id() == node.id());
        }
        if parent.kind_name() == "lambda_parameters" {
            return None;
        }
        node = parent;
    }
    None
}

/// `pattern` with its parameter (`*`) replaced by `key`.
pub(super) fn substitute(pattern: &str, key: &str) -> String {
    match pattern.strip_prefix("{*}") {
        Some(rest) => format!("{key}{rest}"),
        None => pattern.replacen('*', key, 1),
    }
}

/// The argument at `position` (before any keyword argument) or named `keyword`.
pub(super) fn argument<'t>(
    file: &FileContext,
    call: Node<'t>,
    position: usize,
    keyword: Option<&str>,
) -> Option<Node<'t>> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let children: Vec<Node> = arguments.named_children(&mut cursor).collect();
    if let Some(keyword) = keyword
        && let Some(named) = children.iter().find(|a| {
            a.kind_name() == "keyword_argument"
                && a.field(Field::Name)
                    .is_some_and(|n| &file.text[n.byte_range()] == keyword)
        })
    {
        return named.field(Field::Value);
    }
    let positional: Vec<&Node> = children
        .iter()
        .take_while(|a| {
            !matches!(
                a.kind_name(),
                "keyword_argument" | "list_splat" | "dictionary_splat"
            )
        })
        .filter(|a| a.kind_name() != "comment")
        .collect();
    positional.get(position).map(|n| **n)
}

/// The resolved name of the file `expr` names, and whether a shared name is in it (a path
/// made only of parameters and locals is the caller's, not shared by name). `None` when it
/// is made fresh or cannot be followed (a call of a library function, a temporary file).
/// With `module`, the names are absolute (`app.store.PATH`), for every module to agree.
pub(super) fn path_key(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    expr: Node,
    depth: usize,
) -> Option<(String, bool)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let text = |n: Node| &file.text[n.byte_range()];
    match expr.kind_name() {
        "parenthesized_expression" => {
            path_key(file, moved, module, expr.named_child(0)?, depth + 1)
        }
        "string" => {
            let mut key = String::new();
            let mut named = true;
            let mut cursor = expr.walk();
            for part in expr.named_children(&mut cursor) {
                match part.kind_name() {
                    "string_content" | "escape_sequence" => key.push_str(text(part)),
                    "interpolation" => {
                        let (inner, shared) =
                            path_key(file, moved, module, part.named_child(0)?, depth + 1)?;
                        key.push_str(&format!("{{{inner}}}"));
                        named = shared;
                    }
                    _ => {}
                }
            }
            Some((key, named))
        }
        "concatenated_string" | "binary_operator" => {
            let mut cursor = expr.walk();
            let parts: Vec<Node> = expr.named_children(&mut cursor).collect();
            join(file, moved, module, &parts, depth)
        }
        "identifier" => {
            let name = text(expr);
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            match &binding.kind {
                BindingKind::Parameter => Some(("*".to_owned(), false)),
                BindingKind::Import { qualified, .. } => Some((absolute(module, qualified), true)),
                BindingKind::Assignment if binding.scope == file.index.module_scope() => Some((
                    constant_value(file, moved, module, name, binding, depth)
                        .unwrap_or_else(|| global(module, name)),
                    true,
                )),
                BindingKind::Assignment => {
                    let root = file.parsed.tree.root_node();
                    let value = node_at(root, binding.value.as_ref()?)?;
                    path_key(file, moved, module, value, depth + 1)
                }
                _ => None,
            }
        }
        "attribute" => {
            if let Some(state) = on_self(file, expr) {
                return Some((global(module, &state), true));
            }
            let qualified = file.index.qualified_name(expr, file.text)?;
            Some((absolute(module, &qualified), true))
        }
        // A thread hop awaited gives what the call in the thread returns.
        "await" => path_key(file, moved, module, expr.named_child(0)?, depth + 1),
        "call" => {
            let callee = expr.field(Field::Function)?;
            let root = file.parsed.tree.root_node();
            if let Some(qualified) = file.index.callable_name(callee, root, file.text) {
                if moved.path_builders.contains(&qualified) {
                    let arguments = expr.field(Field::Arguments)?;
                    let mut cursor = arguments.walk();
                    let parts: Vec<Node> = arguments.named_children(&mut cursor).collect();
                    return join(file, moved, module, &parts, depth);
                }
                // `asyncio.to_thread(get_path)` is `get_path()` run in a thread.
                if moved.thread_hops.contains(&qualified) {
                    return returned_by(file, module, argument(file, expr, 0, None)?);
                }
            }
            returned_by(file, module, callee)
        }
        _ => None,
    }
}

/// The key of the path `function` returns when called: a method through `self` / `cls`, or a
/// function of this module.
fn returned_by(
    file: &FileContext,
    module: Option<&ModuleInfo>,
    function: Node,
) -> Option<(String, bool)> {
    if let Some(method) = on_self(file, function) {
        return Some((format!("{}()", global(module, &method)), true));
    }
    if function.kind_name() != "identifier" {
        return None;
    }
    let name = &file.text[function.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, function.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    match &binding.kind {
        BindingKind::Function { .. } if binding.scope == file.index.module_scope() => {
            Some((format!("{}()", global(module, name)), true))
        }
        _ => None,
    }
}

/// The path a module constant holds, when it is bound once, to a string literal or a join
/// of literals and such constants (`os.path.join(DATA_DIR, "users.json")`, an f-string of
/// them): two constants holding one path name one file (`USERS_FILE`, `USER_FILE`).
fn constant_value(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    name: &str,
    binding: &crate::semantic::Binding,
    depth: usize,
) -> Option<String> {
    if file
        .index
        .bindings_in_scope(file.index.module_scope(), name)
        .len()
        != 1
    {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let value = node_at(root, binding.value.as_ref()?)?;
    if !literal_path(file, moved, value, depth) {
        return None;
    }
    let (key, _) = path_key(file, moved, module, value, depth + 1)?;
    Some(key)
}

/// Whether `expr` is made only of string literals, module constants and path builders.
fn literal_path(file: &FileContext, moved: &MovedCode, expr: Node, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    fn parts(node: Node) -> Vec<Node> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor)
            .filter(|p| !matches!(p.kind_name(), "comment"))
            .collect()
    }
    match expr.kind_name() {
        "string" => parts(expr).iter().all(|p| match p.kind_name() {
            "interpolation" => p
                .named_child(0)
                .is_some_and(|inner| literal_path(file, moved, inner, depth + 1)),
            _ => true,
        }),
        "parenthesized_expression" | "concatenated_string" | "binary_operator" => parts(expr)
            .iter()
            .all(|p| literal_path(file, moved, *p, depth + 1)),
        "identifier" => {
            let name = &file.text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return false;
            };
            let binding = file.index.binding(id);
            binding.kind == BindingKind::Assignment
                && binding.scope == file.index.module_scope()
                && file.index.bindings_in_scope(binding.scope, name).len() == 1
        }
        "call" => {
            let root = file.parsed.tree.root_node();
            let builder = expr
                .field(Field::Function)
                .and_then(|callee| file.index.callable_name(callee, root, file.text))
                .is_some_and(|q| moved.path_builders.contains(&q));
            builder
                && expr.field(Field::Arguments).is_some_and(|arguments| {
                    parts(arguments)
                        .iter()
                        .all(|p| literal_path(file, moved, *p, depth + 1))
                })
        }
        _ => false,
    }
}

/// A name of the module, absolute with `module`: `PATH`, `app.store.PATH`.
pub(super) fn global(module: Option<&ModuleInfo>, name: &str) -> String {
    match module {
        Some(module) => format!("{}.{name}", module.name),
        None => name.to_owned(),
    }
}

/// An imported name, absolute with `module` (`.config.PATH` in `app.main`: `app.config.PATH`).
pub(super) fn absolute(module: Option<&ModuleInfo>, qualified: &str) -> String {
    module
        .and_then(|module| absolute_name(module, qualified))
        .unwrap_or_else(|| qualified.to_owned())
}

/// The parts of a path joined (`os.path.join`, `/`, `+`): each must be followed.
fn join(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    parts: &[Node],
    depth: usize,
) -> Option<(String, bool)> {
    let mut keys = Vec::new();
    let mut named = false;
    for part in parts {
        if matches!(part.kind_name(), "comment" | "keyword_argument") {
            continue;
        }
        let (key, shared) = path_key(file, moved, module, *part, depth + 1)?;
        named |= shared;
        keys.push(key);
    }
    (!keys.is_empty()).then(|| (keys.join("/"), named))
}

/// `Store.path` for `self.path` (or `cls.path`) in a method of `Store`; `Store.a.b` for
/// `self.a.b`.
fn on_self(file: &FileContext, expr: Node) -> Option<String> {
    if expr.kind_name() != "attribute" {
        return None;
    }
    let mut root = expr;
    while root.kind_name() == "attribute" {
        root = root.field(Field::Object)?;
    }
    let name = &file.text[root.byte_range()];
    if root.kind_name() != "identifier" || !matches!(name, "self" | "cls") {
        return None;
    }
    let Resolution::Binding(id) = file.index.resolve_name(name, root.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != BindingKind::Parameter {
        return None;
    }
    let class = enclosing_class(file, binding.scope)?;
    let rest: String = file.text[root.end_byte()..expr.end_byte()]
        .split_whitespace()
        .collect();
    Some(format!("{class}{rest}"))
}

/// The class a method scope is in.
fn enclosing_class(file: &FileContext, function: ScopeId) -> Option<String> {
    let parent = file.index.scope(function).parent?;
    let scope = file.index.scope(parent);
    (scope.kind == ScopeKind::Class)
        .then(|| scope.name.clone())
        .flatten()
}

/// Whether `expr` is a name the module binds at its top level (a module constant).
pub(super) fn is_module_constant(file: &FileContext, expr: Node) -> bool {
    if expr.kind_name() != "identifier" {
        return false;
    }
    let name = &file.text[expr.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
        return false;
    };
    let binding = file.index.binding(id);
    binding.kind == BindingKind::Assignment && binding.scope == file.index.module_scope()
}

/// The keys other modules give the module constant `name` when they import it, under each
/// name the module is importable as (`core.config.CONFIG_PATH`, `src.core.config.CONFIG_PATH`).
pub(super) fn imported_as(module: Option<&ModuleInfo>, name: &str) -> Vec<String> {
    module
        .map(|module| module.names.iter().map(|m| format!("{m}.{name}")).collect())
        .unwrap_or_default()
}
