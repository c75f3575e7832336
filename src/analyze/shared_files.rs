//! Files as shared state: the files a module both reads and writes through a shared name (a
//! module global, an attribute of `self` / `cls`, a string literal, an imported name, a
//! project function returning the path). On the event loop's thread a coroutine's read,
//! change and rewrite of such a file is atomic with respect to the other coroutines; moved to
//! a worker thread, two of them interleave (an update is lost) and a reader can see the file
//! truncated by a write in progress. Which calls read or write a file is data
//! (`[[moved-code.files]]` in `codemods/UNF401.toml`); a path made fresh (a parameter, a
//! temporary file, a name built from a call) is nobody else's, and stays safe.
//!
//! Project-wide: each access is also keyed the same in every module ([`FileUse::key`]: a
//! literal by its text, a name by its absolute name), for the summary; the settling finds the
//! files other modules read or write (`project/shared_files.rs`), and a file's second pass
//! sees those its coroutines touch ([`ProjectCall::SharedFile`]): moved code racing with
//! another module on such a file is unsafe too, and the message names the other side.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::{FileAccessCall, FileAccessKind, MovedCode};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    FileUse, ModuleInfo, ProjectCall, ProjectLookup, SHARED_FILE_PREFIX, absolute_name,
    race_message,
};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// How many names and calls a path is followed through (also stops cycles).
const MAX_DEPTH: usize = 6;

/// One call in the file that reads or writes a file named through a shared name.
#[derive(Debug, Clone)]
pub(super) struct FileAccess {
    /// The call's bytes.
    pub range: Range<usize>,
    /// The function it is in.
    pub function: Option<ScopeId>,
    /// What names the file, resolved: `MATCH_DATES_PATH`, `Store.path`, `{config.DIR}/*`.
    pub key: String,
    /// The path as written: `self.data_store_path`.
    pub shown: String,
    pub write: bool,
    /// A write that makes the file appear whole, at once (`os.replace(tmp, path)`).
    pub atomic: bool,
    /// 1-based.
    pub line: u32,
    /// The key every module gives the file ([`FileUse::key`]), when the file is a module.
    pub project_key: Option<String>,
}

/// What other modules do to a file this one's coroutines read or write, as the settling
/// found: their first reader and in-place writer, each named for a message
/// ("`get_bank_data` in open_acc.py:20").
#[derive(Debug, Clone, Default)]
struct Elsewhere {
    reader: Option<String>,
    writer: Option<String>,
}

/// The file accesses of one file: those to files the module both reads and writes, and
/// every access through a shared name (for the summary and for the files other modules use).
#[derive(Debug, Default)]
pub struct SharedFiles {
    accesses: Vec<FileAccess>,
    all: Vec<FileAccess>,
    elsewhere: HashMap<String, Elsewhere>,
}

impl SharedFiles {
    /// The accesses of `file` to files it both reads and writes.
    /// `module`: the file's module, for the keys every module agrees on.
    pub(super) fn of(
        file: &FileContext,
        moved: &MovedCode,
        module: Option<&ModuleInfo>,
    ) -> SharedFiles {
        if moved.files.is_empty() {
            return SharedFiles::default();
        }
        let root = file.parsed.tree.root_node();
        let mut accesses = Vec::new();
        let mut through_parameters = Vec::new();
        for &call in &file.nodes.calls {
            let Some(callee) = call.field(Field::Function) else {
                continue;
            };
            let Some(ways) = file
                .index
                .callable_name(callee, root, file.text)
                .and_then(|q| moved.files.get(&q))
            else {
                continue;
            };
            for way in ways {
                match access_of(file, moved, module, call, callee, way) {
                    Some(Access::Named(access)) => accesses.push(access),
                    Some(Access::Parameter(access)) => through_parameters.push(access),
                    None => {}
                }
            }
        }
        accesses.extend(bind_parameters(file, moved, module, through_parameters));
        let mut kinds: HashMap<&str, (bool, bool)> = HashMap::new();
        for access in &accesses {
            let entry = kinds.entry(&access.key).or_default();
            if access.write {
                entry.1 = true;
            } else {
                entry.0 = true;
            }
        }
        let shared: Vec<String> = kinds
            .into_iter()
            .filter(|(_, (read, write))| *read && *write)
            .map(|(key, _)| key.to_owned())
            .collect();
        let all = accesses.clone();
        accesses.retain(|a| shared.contains(&a.key));
        let elsewhere = match file.project.map(|p| p.lookup) {
            Some(ProjectLookup::Settled(calls)) => all
                .iter()
                .filter_map(|a| {
                    let key = a.project_key.as_ref()?;
                    match calls.get(&format!("{SHARED_FILE_PREFIX}{key}"))? {
                        ProjectCall::SharedFile { reader, writer } => Some((
                            key.clone(),
                            Elsewhere {
                                reader: reader.clone(),
                                writer: writer.clone(),
                            },
                        )),
                        _ => None,
                    }
                })
                .collect(),
            _ => HashMap::new(),
        };
        SharedFiles {
            accesses,
            all,
            elsewhere,
        }
    }

    /// The file's accesses in functions, keyed project-wide, by function: for the summary.
    pub(super) fn uses(&self) -> impl Iterator<Item = (ScopeId, FileUse)> + '_ {
        self.all.iter().filter_map(|a| {
            Some((
                a.function?,
                FileUse {
                    key: a.project_key.clone()?,
                    write: a.write,
                    atomic: a.atomic,
                    line: a.line,
                },
            ))
        })
    }

    /// What the code in `range` does to a file another module reads or writes, as the
    /// settling found ([`race_message`]).
    fn elsewhere_in(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        if self.elsewhere.is_empty() {
            return None;
        }
        self.all.iter().filter(|a| inside(a)).find_map(|a| {
            let other = self.elsewhere.get(a.project_key.as_ref()?)?;
            let shown = format!("`{}`", a.shown);
            let (reader, writer) = (other.reader.clone(), other.writer.clone());
            race_message(&shown, a.write, a.atomic, reader, writer)
        })
    }

    /// What the code in `range` (of `function`, or a moved block when `None` is given for
    /// it) does to a shared file, for a hazard's message: "reads and rewrites the file
    /// `MATCH_DATES_PATH`", "reads the file `self.path`, which `save` (line 9) writes".
    pub(super) fn hazard_in(&self, inside: impl Fn(&FileAccess) -> bool) -> Option<String> {
        let race = self.race_in(&inside);
        match (race, self.fixed_temporary(&inside)) {
            (Some(race), Some(temporary)) => Some(format!("{race}; it also {temporary}")),
            (race, temporary) => race.or(temporary),
        }
    }

    /// A write through a fixed temporary name then renamed over the file (`path + ".tmp"`,
    /// `os.replace(tmp, path)`) in the code `inside` picks: two such saves running at once
    /// in worker threads write the same temporary file, and the second rename finds it gone.
    fn fixed_temporary(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        let moved: Vec<&FileAccess> = self.all.iter().filter(|a| inside(a)).collect();
        moved
            .iter()
            .filter(|a| a.write && a.atomic)
            .find_map(|whole| {
                let temporary = moved.iter().any(|t| {
                    t.write
                        && !t.atomic
                        && t.range == whole.range
                        && t.key.len() > whole.key.len()
                        && (t.key.starts_with(&whole.key)
                            || t.key.starts_with(&format!("{{{}}}", whole.key)))
                        && !t.key.contains('*')
                });
                temporary.then(|| format!(
                "replaces the file `{}` through a fixed temporary name (`os.replace` of a file \
                 named after it): two saves running at once in worker threads write the same \
                 temporary file, and the second `os.replace` fails with FileNotFoundError (an \
                 atomic replace through a fixed temporary name is still a race between two \
                 writers)",
                whole.shown
            ))
            })
    }

    /// What the code `inside` picks does to a file the module, or another, also reads or
    /// writes.
    fn race_in(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        let moved: Vec<&FileAccess> = self.accesses.iter().filter(|a| inside(a)).collect();
        let Some(first) = moved.first() else {
            return self.elsewhere_in(inside);
        };
        let same: Vec<&&FileAccess> = moved.iter().filter(|a| a.key == first.key).collect();
        let reads = same.iter().any(|a| !a.write);
        let writes = same.iter().any(|a| a.write);
        // A local name says little: what it holds is shown too.
        let local = first.shown.chars().all(|c| c.is_alphanumeric() || c == '_');
        let shown = match local && first.shown != first.key {
            true => format!("`{}` (`{}`)", first.shown, first.key),
            false => format!("`{}`", first.shown),
        };
        if reads && writes {
            return Some(format!("reads and rewrites the file {shown}"));
        }
        // Only read, where every write this module makes replaces the file whole: a reader
        // sees the old contents or the new. Other modules may still write it in place (they
        // are not followed: a real application raced so), so the fix stays unsafe, and says
        // which writer it saw.
        let atomic_here = !writes
            && self
                .accesses
                .iter()
                .filter(|a| a.key == first.key && a.write)
                .all(|a| a.atomic);
        if atomic_here {
            return Some(format!(
                "reads the file {shown}, which this module replaces whole (`os.replace`) but \
                 other modules may write in place (not followed): a read in a worker thread \
                 can then see it half-written"
            ));
        }
        let others = || {
            self.accesses
                .iter()
                .filter(|a| a.key == first.key && a.write != first.write)
        };
        // The load and the save of one coroutine, each moved on its own: the change between
        // them no longer runs at once with them.
        if let Some(other) =
            others().find(|a| first.function.is_some() && a.function == first.function)
        {
            let (does, also) = match first.write {
                true => ("writes", "read"),
                false => ("reads", "rewrites"),
            };
            return Some(format!(
                "{does} the file {shown}, which the same function also {also} (line {}): a \
                 read-modify-write split by the new `await`s, so another task's update of \
                 the file in between is lost",
                other.line
            ));
        }
        let other = others().next()?;
        let (does, also) = match first.write {
            true => ("writes", "reads"),
            false => ("reads", "writes"),
        };
        Some(format!(
            "{does} the file {shown}, which the module also {also} (line {})",
            other.line
        ))
    }
}

/// An access through a shared name, or through a parameter of its function.
enum Access {
    Named(FileAccess),
    Parameter(ParamAccess),
}

/// The access `call` makes in the way `way` describes, when its path is a shared name or
/// starts with a parameter of its function (`path`, `path + ".tmp"`).
fn access_of(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    call: Node,
    callee: Node,
    way: &FileAccessCall,
) -> Option<Access> {
    let path = match &way.path_argument {
        Some((position, keyword)) => argument(file, call, *position, keyword.as_deref())?,
        None => callee.field(Field::Object)?,
    };
    let write = match way.access {
        FileAccessKind::Read => false,
        FileAccessKind::Write => true,
        FileAccessKind::Mode => {
            let (position, keyword) = way.mode_argument.as_ref()?;
            match argument(file, call, *position, keyword.as_deref()) {
                None => false,
                Some(mode) if mode.kind_name() == "string" => {
                    let mut cursor = mode.walk();
                    let content: String = mode
                        .named_children(&mut cursor)
                        .filter(|p| p.kind_name() == "string_content")
                        .map(|p| &file.text[p.byte_range()])
                        .collect();
                    content.contains(['w', 'a', 'x', '+'])
                }
                // A mode not written out may write.
                Some(_) => true,
            }
        }
    };
    let (key, named) = path_key(file, moved, None, path, 0)?;
    // A path that starts with a parameter (`path`, `path + ".tmp"`) is the file each caller
    // names.
    if let Some(access) = parameter_access(file, path, &key, write, write && way.atomic) {
        return Some(Access::Parameter(access));
    }
    if !named {
        return None;
    }
    // A path that starts with a parameter (`path + ".tmp"`) is the caller's: two modules
    // doing the same to their own callers' paths share nothing.
    let project_key = module
        .filter(|_| named)
        .and_then(|module| path_key(file, moved, Some(module), path, 0))
        .map(|(key, _)| key)
        .filter(|key| !key.starts_with('*') && !key.starts_with("{*}"));
    Some(Access::Named(FileAccess {
        range: call.byte_range(),
        function: file.index.function_at(call.start_byte()),
        key,
        shown: file.text[path.byte_range()]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        write,
        atomic: write && way.atomic,
        line: call.start_position().row as u32 + 1,
        project_key,
    }))
}

/// A file access through a parameter of its function: `open(path, "w")` in
/// `def save_data(path, data)` reads or writes the file each caller names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ParamAccess {
    function: ScopeId,
    /// The parameter's 0-based position and its name (a call may pass it by keyword).
    position: usize,
    name: String,
    /// The path's key with `*` for the parameter: `*`, `*/.tmp` (`path + ".tmp"`).
    pattern: String,
    write: bool,
    atomic: bool,
}

/// The access of a path `key` (made of no shared name) when it starts with a parameter of
/// the function it is in: `path`, `path + ".tmp"`, `f"{path}.tmp"`, `Path(path)`.
fn parameter_access(
    file: &FileContext,
    path: Node,
    key: &str,
    write: bool,
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
        atomic,
    })
}

/// The parameter a path starts with, followed through locals (`tmp = path + ".tmp"`), joins
/// and path builders (`Path(path)`, `os.path.join(path, ...)`).
fn path_parameter(
    file: &FileContext,
    expr: Node,
    depth: usize,
) -> Option<crate::semantic::BindingId> {
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
fn parameter_position(file: &FileContext, range: &Range<usize>) -> Option<usize> {
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
fn substitute(pattern: &str, key: &str) -> String {
    match pattern.strip_prefix("{*}") {
        Some(rest) => format!("{key}{rest}"),
        None => pattern.replacen('*', key, 1),
    }
}

/// The accesses the file's calls of its own module-level functions make through their
/// parameters: `load_data(FILE_JOKES)` reads the file `FILE_JOKES` when `load_data(path)`
/// opens `path`. A call passing on its own parameter (`return load_json(path, [])`) makes
/// its function access that file too, and its callers bind it in turn (a few levels).
fn bind_parameters(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    found: Vec<ParamAccess>,
) -> Vec<FileAccess> {
    let mut bound = Vec::new();
    if found.is_empty() {
        return bound;
    }
    let index = file.index;
    let module_scope = index.module_scope();
    // The module's functions by name (a name defined twice is left out).
    let mut functions: HashMap<&str, Option<ScopeId>> = HashMap::new();
    for (id, scope) in index.scopes() {
        if matches!(scope.kind, ScopeKind::Function { .. })
            && scope.parent == Some(module_scope)
            && let Some(name) = scope.name.as_deref()
        {
            functions
                .entry(name)
                .and_modify(|f| *f = None)
                .or_insert(Some(id));
        }
    }
    // Each call of one of them, with its target.
    let calls: Vec<(Node, ScopeId)> = file
        .nodes
        .calls
        .iter()
        .filter_map(|&call| {
            let callee = call.field(Field::Function)?;
            if callee.kind_name() != "identifier" {
                return None;
            }
            let name = &file.text[callee.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, callee.start_byte()) else {
                return None;
            };
            let binding = index.binding(id);
            if binding.scope != module_scope
                || !matches!(binding.kind, BindingKind::Function { .. })
            {
                return None;
            }
            Some((call, (*functions.get(name)?)?))
        })
        .collect();
    let mut seen: std::collections::HashSet<ParamAccess> = found.iter().cloned().collect();
    let mut pending = found;
    for _ in 0..MAX_DEPTH {
        if pending.is_empty() {
            break;
        }
        let mut by_function: HashMap<ScopeId, Vec<&ParamAccess>> = HashMap::new();
        for access in &pending {
            by_function.entry(access.function).or_default().push(access);
        }
        let mut next = Vec::new();
        for &(call, target) in &calls {
            let Some(uses) = by_function.get(&target) else {
                continue;
            };
            for access in uses {
                let Some(argument) = argument(file, call, access.position, Some(&access.name))
                else {
                    continue;
                };
                let Some((key, named)) = path_key(file, moved, None, argument, 0) else {
                    continue;
                };
                let pattern = substitute(&access.pattern, &key);
                if !named || key.starts_with('*') || key.starts_with("{*}") {
                    if let Some(passed) =
                        parameter_access(file, argument, &pattern, access.write, access.atomic)
                        && seen.insert(passed.clone())
                    {
                        next.push(passed);
                    }
                    continue;
                }
                let project_key = module
                    .and_then(|module| path_key(file, moved, Some(module), argument, 0))
                    .map(|(key, _)| substitute(&access.pattern, &key))
                    .filter(|key| !key.starts_with('*') && !key.starts_with("{*}"));
                let written: String = file.text[argument.byte_range()]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                bound.push(FileAccess {
                    range: call.byte_range(),
                    function: index.function_at(call.start_byte()),
                    key: pattern,
                    shown: substitute(&access.pattern, &written),
                    write: access.write,
                    atomic: access.atomic,
                    line: call.start_position().row as u32 + 1,
                    project_key,
                });
            }
        }
        pending = next;
    }
    bound
}

/// The argument at `position` (before any keyword argument) or named `keyword`.
fn argument<'t>(
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
fn path_key(
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
        "call" => {
            let callee = expr.field(Field::Function)?;
            let root = file.parsed.tree.root_node();
            if let Some(method) = on_self(file, callee) {
                return Some((format!("{}()", global(module, &method)), true));
            }
            if let Some(qualified) = file.index.callable_name(callee, root, file.text)
                && moved.path_builders.contains(&qualified)
            {
                let arguments = expr.field(Field::Arguments)?;
                let mut cursor = arguments.walk();
                let parts: Vec<Node> = arguments.named_children(&mut cursor).collect();
                return join(file, moved, module, &parts, depth);
            }
            // A function of this module returning the path.
            let name = text(callee);
            let Resolution::Binding(id) = file.index.resolve_name(name, callee.start_byte()) else {
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
fn global(module: Option<&ModuleInfo>, name: &str) -> String {
    match module {
        Some(module) => format!("{}.{name}", module.name),
        None => name.to_owned(),
    }
}

/// An imported name, absolute with `module` (`.config.PATH` in `app.main`: `app.config.PATH`).
fn absolute(module: Option<&ModuleInfo>, qualified: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::test_context::with_context;
    use super::*;
    use crate::codemod::Registry;

    /// The keys of the shared accesses of `source`, with `w` for a write.
    fn shared(source: &str) -> Vec<String> {
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        with_context("app.py", source, None, |file| {
            SharedFiles::of(file, moved, None)
                .accesses
                .iter()
                .map(|a| format!("{}{}", a.key, if a.write { " w" } else { "" }))
                .collect()
        })
    }

    #[test]
    fn a_module_constant_read_and_rewritten_is_shared() {
        let source = "import json\nPATH = 'a.json'\n\ndef load():\n    with open(PATH) as f:\n        return json.load(f)\n\ndef save(d):\n    with open(PATH, mode='w') as f:\n        json.dump(d, f)\n";
        assert_eq!(shared(source), ["PATH", "PATH w"]);
    }

    #[test]
    fn a_self_attribute_and_a_joined_path_are_followed_through_locals() {
        let source = "import os\nclass Store:\n    def load(self, gid):\n        path = os.path.join(self.dir, f'{gid}.json')\n        return open(path).read()\n\n    def save(self, gid, text):\n        with open(os.path.join(self.dir, f'{gid}.json'), 'w') as f:\n            f.write(text)\n";
        assert_eq!(
            shared(source),
            ["Store.dir/{*}.json", "Store.dir/{*}.json w"]
        );
    }

    #[test]
    fn a_path_method_and_a_project_function_name_the_file() {
        let source = "from pathlib import Path\ndef config_path():\n    return 'c.json'\n\ndef load():\n    return Path(config_path()).read_text()\n\ndef save(text):\n    Path(config_path()).write_text(text)\n";
        assert_eq!(shared(source), ["config_path()", "config_path() w"]);
    }

    #[test]
    fn fresh_paths_parameters_and_files_only_read_are_not_shared() {
        let source = "import tempfile, uuid, os\nLOG = 'log.txt'\n\ndef scratch(text, path):\n    fd, tmp = tempfile.mkstemp()\n    with open(tmp, 'w') as f:\n        f.write(text)\n    open(tmp).read()\n    open(f'{uuid.uuid4()}.txt', 'w').write(text)\n    open(f'{uuid.uuid4()}.txt').read()\n    open(path, 'w').write(text)\n    open(path).read()\n    return open(LOG).read()\n";
        assert!(shared(source).is_empty(), "{:?}", shared(source));
    }

    #[test]
    fn every_access_is_keyed_the_same_in_every_module_for_the_summary() {
        // In `app.cog`: a literal by its text, a module global and an imported constant by
        // their absolute names; a parameter's path is nobody's, and so is what an imported
        // function returns (it may make a fresh path).
        let source = "import json\nfrom .config import BANK\nfrom .paths import users_path\nLOG = 'log.txt'\n\nasync def cmd(p):\n    open('mainbank.json', 'w').write('{}')\n    open(BANK).read()\n    open(users_path()).read()\n    open(LOG, 'a').write('x')\n    open(p).read()\n    open(p + '.tmp', 'w').write('')\n";
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        let module = ModuleInfo {
            name: "app.cog".to_owned(),
            is_package: false,
            names: vec!["app.cog".to_owned()],
        };
        let uses: Vec<String> = with_context("app/cog.py", source, None, |file| {
            SharedFiles::of(file, moved, Some(&module))
                .uses()
                .map(|(_, u)| format!("{}{}", u.key, if u.write { " w" } else { "" }))
                .collect()
        });
        assert_eq!(
            uses,
            ["mainbank.json w", "app.config.BANK", "app.cog.LOG w"]
        );
    }
}
