//! Rewrite strategies: the Rust that codemod files name in `[fix] strategy`. Each turns a
//! matched site into a [`Fix`]; the data file chooses the strategy and its parameters.

use crate::parse::KindName;
use std::collections::BTreeMap;

use tree_sitter::{Node, Tree};

use super::Template;
use crate::fix::imports::{module_statement_insertion, reference_module};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingKind, Resolution, ScopeId, SemanticIndex};

/// Everything a strategy may look at for one matched call.
pub struct Site<'a> {
    pub text: &'a str,
    pub line_ending: &'a str,
    pub tree: &'a Tree,
    pub index: &'a SemanticIndex,
    pub call: Node<'a>,
    pub callee: Node<'a>,
    /// What the callee resolved to, e.g. `time.sleep`.
    pub qualified: &'a str,
    /// `anyio` or `trio` when the file is written for that library; `None` for asyncio.
    pub library: Option<&'static str>,
    /// The lowest Python version the project supports, when known (`(3, 8)`).
    pub target_version: Option<(u8, u8)>,
    /// The module requests calls are rewritten to: `httpx` or `httpx2`.
    pub http_client: &'static str,
}

impl<'a> Site<'a> {
    /// The node that spans `scope`'s code (a function's body).
    pub fn scope_node(&self, scope: ScopeId) -> Option<Node<'a>> {
        let range = &self.index.scope(scope).range;
        self.tree
            .root_node()
            .descendant_for_byte_range(range.start, range.end)
    }
}

/// An async library a replacement can target.
const LIBRARIES: &[&str] = &["asyncio", "trio", "anyio"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Call the async equivalent and await it: `time.sleep(x)` → `await asyncio.sleep(x)`.
    /// Files importing anyio (first) or trio get that library's equivalent when one is given.
    AwaitAsyncEquivalent {
        asyncio: String,
        trio: Option<String>,
        anyio: Option<String>,
    },
    /// Call another function of the same library instead, not awaited:
    /// `asyncio.get_event_loop()` → `asyncio.get_running_loop()`.
    ReplaceFunction { asyncio: String },
    /// Keep a strong reference to a task until it is done: a module-level set, and a
    /// done-callback that discards the task from it.
    KeepTaskReference,
    /// Await the call: `save(x)` → `await save(x)`.
    AddAwait,
    /// `await asyncio.gather(...)` with `return_exceptions=True`, then the first failure
    /// raised once every member is done (see the `gather` module).
    GatherSurfaceErrors,
    /// `await asyncio.gather(a(), b())` → an `asyncio.TaskGroup` (Python 3.11+).
    GatherTaskGroup,
    /// `requests.get(...)` → `await client.get(...)` in `async with httpx.AsyncClient(...)`
    /// (see the `httpx` module).
    HttpxClient,
    /// Run the blocking call in a worker thread and await it:
    /// `f(a, k=v)` → `await asyncio.to_thread(f, a, k=v)`; `trio.to_thread.run_sync` /
    /// `anyio.to_thread.run_sync` in files written for those (with `functools.partial` for
    /// keyword arguments, which `run_sync` does not take); `run_in_executor` with
    /// `functools.partial` below Python 3.9, which has no `asyncio.to_thread`.
    ToThread,
    /// Move the blocking resource's whole use to a worker thread: a `with` block into a
    /// nested function run by `to_thread`, a chained call into a lambda (see the `offload`
    /// module).
    OffloadBlock,
    /// A user's replacement template (`blocking-calls` in the configuration), awaited:
    /// `legacy.fetch(u)` with `template = "legacy_async.fetch({args})"` →
    /// `await legacy_async.fetch(u)`; `imports` are added when missing.
    Template {
        template: Template,
        imports: Vec<String>,
    },
}

/// A strategy that takes no `replacement` table.
fn without_replacement(
    name: &str,
    replacement: &BTreeMap<String, String>,
    strategy: Strategy,
) -> Result<Strategy, String> {
    if replacement.is_empty() {
        Ok(strategy)
    } else {
        Err(format!("strategy `{name}` takes no `replacement`"))
    }
}

/// A fix before the codemod's title is rendered.
pub struct Proposal {
    pub fix: Fix,
    /// The replacement as written, e.g. `aio.sleep`, for the title.
    pub replacement: String,
}

/// Placeholders of a user template.
const TEMPLATE_PLACEHOLDERS: &[&str] = &["args", "callee", "receiver"];

impl Strategy {
    /// A `Template` strategy from configuration text.
    pub fn template(template: &str, imports: &[String]) -> Result<Strategy, String> {
        let template = Template::parse(template, TEMPLATE_PLACEHOLDERS)
            .map_err(|e| format!("`template`: {e}"))?;
        for module in imports {
            let valid = !module.is_empty()
                && !module.contains('.')
                && module.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`imports`: {module:?} must be a top-level module name (e.g. \"mylib\")"
                ));
            }
        }
        Ok(Strategy::Template {
            template,
            imports: imports.to_vec(),
        })
    }

    pub fn compile(name: &str, replacement: &BTreeMap<String, String>) -> Result<Strategy, String> {
        match name {
            "await-async-equivalent" => {
                for (library, target) in replacement {
                    if !LIBRARIES.contains(&library.as_str()) {
                        return Err(format!(
                            "`replacement.{library}`: unknown library (expected one of {})",
                            LIBRARIES.join(", ")
                        ));
                    }
                    let module = target.split('.').next().unwrap_or("");
                    if module != library || !target.contains('.') {
                        return Err(format!(
                            "`replacement.{library} = {target:?}` must be a function of `{library}`"
                        ));
                    }
                }
                let asyncio = replacement.get("asyncio").cloned().ok_or_else(|| {
                    "strategy `await-async-equivalent` needs `replacement.asyncio`".to_owned()
                })?;
                Ok(Strategy::AwaitAsyncEquivalent {
                    asyncio,
                    trio: replacement.get("trio").cloned(),
                    anyio: replacement.get("anyio").cloned(),
                })
            }
            "replace-function" => {
                let asyncio = replacement
                    .get("asyncio")
                    .filter(|t| t.starts_with("asyncio.") && replacement.len() == 1)
                    .ok_or("strategy `replace-function` needs exactly `replacement.asyncio`, a function of `asyncio`")?;
                Ok(Strategy::ReplaceFunction {
                    asyncio: asyncio.clone(),
                })
            }
            "add-await" => without_replacement(name, replacement, Strategy::AddAwait),
            "gather-surface-errors" => {
                without_replacement(name, replacement, Strategy::GatherSurfaceErrors)
            }
            "gather-task-group" => {
                without_replacement(name, replacement, Strategy::GatherTaskGroup)
            }
            "keep-task-reference" => {
                without_replacement(name, replacement, Strategy::KeepTaskReference)
            }
            "httpx-client" => without_replacement(name, replacement, Strategy::HttpxClient),
            "to-thread" => without_replacement(name, replacement, Strategy::ToThread),
            "offload-block" => without_replacement(name, replacement, Strategy::OffloadBlock),
            other => Err(format!(
                "unknown strategy `{other}` (known: await-async-equivalent, replace-function, keep-task-reference, add-await, httpx-client, to-thread, offload-block, gather-surface-errors, gather-task-group)"
            )),
        }
    }

    /// Build the fix for `site`, or say why there is none.
    pub fn propose(&self, site: &Site, applicability: Applicability) -> Result<Proposal, String> {
        match self {
            Strategy::AwaitAsyncEquivalent {
                asyncio,
                trio,
                anyio,
            } => {
                let target = match (site.library, anyio, trio) {
                    (Some("anyio"), Some(anyio), _) => anyio,
                    (Some("trio"), _, Some(trio)) => trio,
                    (Some(library), _, _) => {
                        return Err(library_error(library));
                    }
                    _ => asyncio,
                };
                await_async_equivalent(site, target, applicability)
            }
            Strategy::ToThread => to_thread(site, applicability),
            Strategy::OffloadBlock => super::offload::offload_block(site, applicability),
            Strategy::HttpxClient => {
                super::httpx::httpx_client(site, applicability, site.http_client)
            }
            Strategy::ReplaceFunction { asyncio } => replace_function(site, asyncio, applicability),
            Strategy::KeepTaskReference => keep_task_reference(site, applicability),
            Strategy::GatherSurfaceErrors => super::gather::surface_errors(site, applicability),
            Strategy::GatherTaskGroup => super::gather::task_group(site, applicability),
            Strategy::AddAwait => Ok(Proposal {
                fix: Fix::new(
                    applicability,
                    String::new(),
                    vec![Edit::insertion(site.call.start_byte(), "await ")],
                ),
                replacement: format!("await {}(...)", &site.text[site.callee.byte_range()]),
            }),
            Strategy::Template { template, imports } => {
                apply_template(site, template, imports, applicability)
            }
        }
    }
}

/// How `await` must be written in front of the call at `call`.
pub(crate) enum AwaitShape {
    /// The call is already awaited (`await time.sleep(1)`, a bug in itself).
    AlreadyAwaited,
    /// `await f()` as is.
    Bare,
    /// The call is a receiver or callee: `(await f()).x`, `(await f())[0]`, `(await f())()`.
    Parenthesised,
}

pub(crate) fn await_shape(call: Node) -> AwaitShape {
    let Some(parent) = call.parent() else {
        return AwaitShape::Bare;
    };
    let is_field = |field: Field| {
        parent
            .field(field)
            .is_some_and(|child| child.id() == call.id())
    };
    match parent.kind_name() {
        "await" => AwaitShape::AlreadyAwaited,
        "attribute" if is_field(Field::Object) => AwaitShape::Parenthesised,
        "subscript" if is_field(Field::Value) => AwaitShape::Parenthesised,
        "call" if is_field(Field::Function) => AwaitShape::Parenthesised,
        _ => AwaitShape::Bare,
    }
}

/// How the fix names `module.function` and the import it needs: through the module as the
/// callee names it (`aio.sleep` for `aio.get_event_loop`), else as [`name_at`] the call.
fn target_function(
    site: &Site,
    module: &str,
    function: &str,
) -> Result<(String, Vec<Edit>), String> {
    match callee_module_alias(site, module) {
        Some(alias) => Ok((format!("{alias}.{function}"), Vec::new())),
        None => name_at(site, module, function, site.call.start_byte()),
    }
}

/// How the file at `offset` names `module.path` (`anyio` and `to_thread.run_sync`), and the
/// import that needs: by a name it imports already ([`imported_as`]), else through the
/// module, imported if needed.
fn name_at(
    site: &Site,
    module: &str,
    path: &str,
    offset: usize,
) -> Result<(String, Vec<Edit>), String> {
    if let Some(name) = imported_as(site, &format!("{module}.{path}"), offset) {
        return Ok((name, Vec::new()));
    }
    let reference = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        module,
        offset,
    )?;
    Ok((format!("{}.{path}", reference.name), reference.import))
}

/// `aio` when the callee is `aio.something` and `aio` is `module` imported under that name.
fn callee_module_alias(site: &Site, module: &str) -> Option<String> {
    let object = site.callee.field(Field::Object)?;
    if object.kind_name() != "identifier" {
        return None;
    }
    let name = &site.text[object.byte_range()];
    match site.index.resolve_name(name, object.start_byte()) {
        Resolution::Binding(id) => match &site.index.binding(id).kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } if qualified == module => Some(name.to_owned()),
            _ => None,
        },
        Resolution::Builtin => None,
    }
}

/// The local name a callee's import binds (`time` for `time.sleep` after `import time`,
/// `sleep` after `from time import sleep`), which the fix may leave unused.
fn imported_head(site: &Site) -> Option<String> {
    let mut head = site.callee;
    while head.kind_name() == "attribute" {
        head = head.field(Field::Object)?;
    }
    if head.kind_name() != "identifier" {
        return None;
    }
    let name = &site.text[head.byte_range()];
    match site.index.resolve_name(name, head.start_byte()) {
        Resolution::Binding(id)
            if matches!(site.index.binding(id).kind, BindingKind::Import { .. }) =>
        {
            Some(name.to_owned())
        }
        _ => None,
    }
}

fn first_argument_is_negative_literal(site: &Site) -> bool {
    let Some(arguments) = site.call.field(Field::Arguments) else {
        return false;
    };
    arguments.named_child(0).is_some_and(|arg| {
        arg.kind_name() == "unary_operator"
            && site.text[arg.byte_range()].trim_start().starts_with('-')
            && arg
                .named_child(0)
                .is_some_and(|n| matches!(n.kind_name(), "integer" | "float"))
    })
}

fn await_async_equivalent(
    site: &Site,
    target: &str,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (module, function) = target
        .split_once('.')
        .expect("validated when the codemod was compiled");
    let (replacement, import) = target_function(site, module, function)?;
    let mut edits = Vec::new();
    match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                replacement.clone(),
            ));
        }
        AwaitShape::Bare => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("await {replacement}"),
            ));
        }
        AwaitShape::Parenthesised => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("(await {replacement}"),
            ));
            edits.push(Edit::insertion(site.call.end_byte(), ")"));
        }
    }
    edits.extend(import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    } else if first_argument_is_negative_literal(site) {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(format!(
            "a negative delay raises `ValueError` in `{}` but returns at once in `{replacement}`",
            site.qualified
        ));
    }
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal { fix, replacement })
}

fn replace_function(
    site: &Site,
    target: &str,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (module, function) = target
        .split_once('.')
        .expect("validated when the codemod was compiled");
    let (replacement, import) = target_function(site, module, function)?;
    let mut edits = vec![Edit::replacement(
        site.callee.byte_range(),
        replacement.clone(),
    )];
    edits.extend(import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal { fix, replacement })
}

/// The module-level set that keeps tasks alive.
const TASK_SET: &str = "_background_tasks";

/// A local name that nothing in scope uses yet: `base`, `base_1`, ...
pub(crate) fn free_name(site: &Site, base: &str) -> String {
    let offset = site.call.start_byte();
    numbered_names(base)
        // Unbound in every enclosing scope: the new local shadows nothing.
        .find(|name| site.index.resolve_name(name, offset) == Resolution::Builtin)
        .expect("some name is free")
}

/// `base`, `base_1`, `base_2`, ...: candidates for a new name.
pub(crate) fn numbered_names(base: &str) -> impl Iterator<Item = String> + '_ {
    (0..).map(move |i| {
        if i == 0 {
            base.to_owned()
        } else {
            format!("{base}_{i}")
        }
    })
}

/// The indentation of `statement` and the end of its last line (before a trailing comment's
/// line ending), when the statement has its lines to itself.
pub(crate) fn own_lines<'t>(site: &Site<'t>, statement: Node) -> Result<(&'t str, usize), String> {
    let line_start = crate::source::line_start_at(site.text, statement.start_byte());
    let indent = &site.text[line_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the statement shares its line with other code".to_owned());
    }
    let rest = &site.text[statement.end_byte()..];
    let line_end = statement.end_byte() + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let after = &site.text[statement.end_byte()..line_end];
    if !(after.trim().is_empty() || after.trim_start().starts_with('#')) {
        return Err("the statement shares its line with other code".to_owned());
    }
    Ok((indent, line_end))
}

/// `asyncio.create_task(c())` as a statement →
/// `task = asyncio.create_task(c())` + `_background_tasks.add(task)` +
/// `task.add_done_callback(_background_tasks.discard)`, with `_background_tasks = set()`
/// defined once after the imports. For `t = create_task(c())` with `t` unused, only the two
/// bookkeeping lines are added.
fn keep_task_reference(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    let statement = site.call.parent().ok_or("the call has no statement")?;
    let (task, prefix_edit) = match statement.kind_name() {
        "expression_statement" => {
            let name = free_name(site, "task");
            (
                name.clone(),
                Some(Edit::insertion(
                    site.call.start_byte(),
                    format!("{name} = "),
                )),
            )
        }
        "assignment" => {
            let target = statement
                .field(Field::Left)
                .ok_or("the assignment has no target")?;
            (site.text[target.byte_range()].to_owned(), None)
        }
        _ => return Err("the task is not created by a statement of its own".to_owned()),
    };
    let (indent, line_end) = own_lines(site, statement)?;
    // The set: reuse a module-level `_background_tasks`, or define it after the imports.
    let set_defined = matches!(
        site.index.resolve_name(TASK_SET, site.call.start_byte()),
        Resolution::Binding(id) if site.index.binding(id).scope == site.index.module_scope()
    );
    let le = site.line_ending;
    let mut edits = Vec::new();
    edits.extend(prefix_edit);
    edits.push(Edit::insertion(
        line_end,
        format!(
            "{le}{indent}{TASK_SET}.add({task}){le}{indent}{task}.add_done_callback({TASK_SET}.discard)"
        ),
    ));
    if !set_defined {
        if site.index.resolve_name(TASK_SET, site.call.start_byte()) != Resolution::Builtin {
            return Err(format!("`{TASK_SET}` means something else here"));
        }
        edits.push(module_statement_insertion(
            site.tree,
            site.text,
            le,
            &format!("{TASK_SET}: set = set()  # tasks kept alive until they finish"),
        ));
    }
    let fix = Fix::new(applicability, String::new(), edits);
    Ok(Proposal {
        fix,
        replacement: format!("{TASK_SET}.add({task})"),
    })
}

/// The text between a call's parentheses, and whether it passes keyword arguments.
fn call_arguments<'t>(site: &Site<'t>) -> Option<(String, bool)> {
    let arguments = site.call.field(Field::Arguments)?;
    if arguments.kind_name() == "generator_expression" {
        // `f(x for x in y)`: the generator needs its own parentheses once it is not alone.
        return Some((site.text[arguments.byte_range()].to_owned(), false));
    }
    let inner = &site.text[arguments.start_byte() + 1..arguments.end_byte() - 1];
    let mut cursor = arguments.walk();
    let has_keywords = arguments
        .named_children(&mut cursor)
        .any(|a| matches!(a.kind_name(), "keyword_argument" | "dictionary_splat"));
    Some((inner.to_owned(), has_keywords))
}

/// `head` + `(callee, args)`, keeping the arguments' text (comments, line breaks) as written.
fn call_with(head: &str, callee: &str, arguments: &str) -> String {
    if arguments.trim().is_empty() {
        format!("{head}({callee}{arguments})")
    } else if arguments.starts_with(['\n', '\r']) {
        // The arguments start on their own line: so does the callee, indented as the first
        // of them (`to_thread(\n    f,\n    a,\n)`).
        let rest = arguments.trim_start_matches(['\n', '\r']);
        let newline = if arguments.starts_with("\r\n") {
            "\r\n"
        } else {
            &arguments[..1]
        };
        let indent = &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()];
        format!("{head}({newline}{indent}{callee},{arguments})")
    } else {
        format!("{head}({callee}, {arguments})")
    }
}

/// Why a strategy has no fix in a file written for `library`.
fn library_error(library: &str) -> String {
    if library == crate::analyze::LIBRARY_INTERNALS {
        "inside anyio's or trio's own package, their internal APIs are the right fix".to_owned()
    } else {
        format!("no `{library}` equivalent is known for this call")
    }
}

/// The expression that runs `callee(arguments)` in a worker thread at `offset`, the name of
/// what runs it (for titles), and the imports it needs: `asyncio.to_thread(f, a, k=v)`;
/// `trio.to_thread.run_sync` / `anyio.to_thread.run_sync` in files written for those (with
/// `functools.partial` for keyword arguments, which `run_sync` does not take);
/// `run_in_executor` with `functools.partial` below Python 3.9, which has no `to_thread`.
pub(crate) fn thread_call(
    site: &Site,
    offset: usize,
    callee: &str,
    arguments: &str,
    has_keywords: bool,
) -> Result<(String, String, Vec<Edit>), String> {
    if site.library == Some(crate::analyze::LIBRARY_INTERNALS) {
        return Err(library_error(crate::analyze::LIBRARY_INTERNALS));
    }
    let mut imports = Vec::new();
    // What runs it, as the file can name it (`run_sync` when it imports that already).
    let named = |imports: &mut Vec<Edit>, module: &str, path: &str| -> Result<String, String> {
        let (name, import) = name_at(site, module, path, offset)?;
        imports.extend(import);
        Ok(name)
    };
    let (expression, replacement) = match (site.library, site.target_version) {
        (Some(library), _) => {
            let run_sync = named(&mut imports, library, "to_thread.run_sync")?;
            let expression = if has_keywords {
                let partial = named(&mut imports, "functools", "partial")?;
                format!("{run_sync}({})", call_with(&partial, callee, arguments))
            } else {
                call_with(&run_sync, callee, arguments)
            };
            (expression, run_sync)
        }
        (None, Some((3, minor))) if minor < 9 => {
            let asyncio = reference_module(
                site.index,
                site.tree,
                site.text,
                site.line_ending,
                "asyncio",
                offset,
            )?;
            imports.extend(asyncio.import);
            let executor = format!("{}.get_running_loop().run_in_executor", asyncio.name);
            let expression = if arguments.trim().is_empty() {
                format!("{executor}(None, {callee})")
            } else {
                let partial = named(&mut imports, "functools", "partial")?;
                format!(
                    "{executor}(None, {})",
                    call_with(&partial, callee, arguments)
                )
            };
            (expression, executor)
        }
        (None, _) => {
            let to_thread = named(&mut imports, "asyncio", "to_thread")?;
            (call_with(&to_thread, callee, arguments), to_thread)
        }
    };
    Ok((expression, replacement, imports))
}

/// How the file at `offset` names `qualified` (a module's attribute, `anyio.to_thread.run_sync`)
/// through an import of it or of a module it is in other than the top one:
/// `from anyio.to_thread import run_sync` gives `run_sync`, `from anyio import to_thread`
/// gives `to_thread.run_sync`. The top module is left to `reference_module`.
fn imported_as(site: &Site, qualified: &str, offset: usize) -> Option<String> {
    let mut prefix = qualified;
    let mut rest = String::new();
    while let Some((parent, last)) = prefix.rsplit_once('.') {
        if let Some(name) = site.index.module_alias_at(prefix, offset) {
            return Some(format!("{name}{rest}"));
        }
        rest = format!(".{last}{rest}");
        prefix = parent;
    }
    None
}

fn to_thread(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    // `with urlopen(u) as r: ...`: the resource is used in the block too (reads, close), so
    // the whole block moves to the thread, or nothing does.
    if let Some(whole_block) = super::offload::offload_with_item(site, applicability) {
        return whole_block;
    }
    let (arguments, has_keywords) = call_arguments(site).ok_or("the call has no argument list")?;
    let callee = &site.text[site.callee.byte_range()];
    let offset = site.call.start_byte();
    let (expression, replacement, imports) =
        thread_call(site, offset, callee, &arguments, has_keywords)?;
    let rewritten = match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => expression,
        AwaitShape::Bare => format!("await {expression}"),
        AwaitShape::Parenthesised => format!("(await {expression})"),
    };
    let mut edits = vec![Edit::replacement(site.call.byte_range(), rewritten)];
    edits.extend(imports);
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(offset) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    }
    Ok(Proposal { fix, replacement })
}

fn apply_template(
    site: &Site,
    template: &Template,
    imports: &[String],
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (arguments, _) = call_arguments(site).ok_or("the call has no argument list")?;
    let receiver = match site.callee.kind_name() {
        "attribute" => site
            .callee
            .field(Field::Object)
            .map(|o| site.text[o.byte_range()].to_owned()),
        _ => None,
    };
    let callee = site.text[site.callee.byte_range()].to_owned();
    let mut edits = Vec::new();
    for module in imports {
        let reference = reference_module(
            site.index,
            site.tree,
            site.text,
            site.line_ending,
            module,
            site.call.start_byte(),
        )?;
        if reference.name != *module {
            return Err(format!(
                "`{module}` is imported as `{}` here; the template spells `{module}`",
                reference.name
            ));
        }
        edits.extend(reference.import);
    }
    let expression = template.render(|name| match name {
        "args" => arguments.clone(),
        "callee" => callee.clone(),
        "receiver" => receiver.clone().unwrap_or_default(),
        _ => String::new(),
    });
    let rewritten = match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => expression.clone(),
        AwaitShape::Bare => format!("await {expression}"),
        AwaitShape::Parenthesised => format!("(await {expression})"),
    };
    edits.insert(0, Edit::replacement(site.call.byte_range(), rewritten));
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    }
    let replacement = expression
        .split('(')
        .next()
        .unwrap_or(&expression)
        .to_owned();
    Ok(Proposal { fix, replacement })
}

#[cfg(test)]
mod tests {
    use super::call_with;
    use crate::analyze::{FileContext, analyze};
    use crate::codemod::Registry;
    use crate::fix::{Applicability, fix_file};
    use crate::parse::parse;
    use crate::semantic::build_index;
    use crate::settings::RuleSelection;

    const TO_THREAD: &str = r#"
code = "X200"
name = "x-thread"
summary = "s"
message = "`{callee}` blocks"
applicability = "safe"
[match]
calls = ["subprocess.run", "builtins.input", "os.path.exists"]
[[match.methods]]
receivers = ["requests.Session"]
names = ["get"]
[fix]
strategy = "to-thread"
title = "Run it with `{replacement}`"
[docs]
what = "w"
why = "y"
example = "e"
use-instead = "u"
fix-safety = "f"
"#;

    fn fixed(source: &str, target_version: Option<(u8, u8)>) -> String {
        let registry = Registry::from_files(&[("x.toml", TO_THREAD)]).unwrap();
        let parsed = parse(source);
        let index = build_index(&parsed.tree, source);
        let nodes = crate::parse::KeyNodes::of(&parsed.tree);
        let file = FileContext {
            path: std::path::Path::new("app.py"),
            text: source,
            line_ending: "\n",
            parsed: &parsed,
            nodes: &nodes,
            index: &index,
            target_version,
            http_client: "httpx",
            unsafe_fixes: false,
            project: None,
        };
        let findings = analyze(&file, &registry, &RuleSelection::default());
        let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
        fix_file(source, 0, &fixes, Applicability::Safe, false)
            .fixed_text
            .unwrap_or_else(|| source.to_owned())
    }

    #[test]
    fn calls_move_to_a_thread_keeping_arguments_and_receivers() {
        let source = "import subprocess\nimport requests\n\nasync def f(s: requests.Session, cmd):\n    subprocess.run(cmd, check=True)  # keep\n    name = input().strip()\n    s.get(\n        'u',  # the url\n        timeout=3,\n    )\n";
        assert_eq!(
            fixed(source, None),
            "import asyncio\nimport subprocess\nimport requests\n\nasync def f(s: requests.Session, cmd):\n    await asyncio.to_thread(subprocess.run, cmd, check=True)  # keep\n    name = (await asyncio.to_thread(input)).strip()\n    await asyncio.to_thread(\n        s.get,\n        'u',  # the url\n        timeout=3,\n    )\n"
        );
    }

    #[test]
    fn arguments_on_their_own_lines_get_the_callee_on_its_own_line() {
        assert_eq!(
            call_with("run", "f", "\n    a,\n    b,\n"),
            "run(\n    f,\n    a,\n    b,\n)"
        );
        assert_eq!(
            call_with("run", "f", "\r\n\r\n\ta\r\n"),
            "run(\r\n\tf,\r\n\r\n\ta\r\n)"
        );
        assert_eq!(call_with("run", "f", "a, b"), "run(f, a, b)");
        assert_eq!(call_with("run", "f", ""), "run(f)");
    }

    #[test]
    fn generator_argument_keeps_its_parentheses() {
        let source = "import os\nasync def f(ps):\n    os.path.exists(p for p in ps)\n";
        assert_eq!(
            fixed(source, None),
            "import asyncio\nimport os\nasync def f(ps):\n    await asyncio.to_thread(os.path.exists, (p for p in ps))\n"
        );
    }

    #[test]
    fn below_python_3_9_uses_run_in_executor_and_partial() {
        let source = "import subprocess\nasync def f(cmd):\n    subprocess.run(cmd, check=True)\n    input()\n";
        assert_eq!(
            fixed(source, Some((3, 8))),
            "import asyncio\nimport functools\nimport subprocess\nasync def f(cmd):\n    await asyncio.get_running_loop().run_in_executor(None, functools.partial(subprocess.run, cmd, check=True))\n    await asyncio.get_running_loop().run_in_executor(None, input)\n"
        );
    }

    #[test]
    fn trio_and_anyio_use_their_thread_api_with_partial_for_keywords() {
        let source = "import subprocess\nimport trio\nasync def f(cmd):\n    subprocess.run(cmd)\n    subprocess.run(cmd, check=True)\n";
        assert_eq!(
            fixed(source, None),
            "import functools\nimport subprocess\nimport trio\nasync def f(cmd):\n    await trio.to_thread.run_sync(subprocess.run, cmd)\n    await trio.to_thread.run_sync(functools.partial(subprocess.run, cmd, check=True))\n"
        );
        let source = "import anyio\nimport os\nasync def f(p):\n    return os.path.exists(p)\n";
        assert_eq!(
            fixed(source, None),
            "import anyio\nimport os\nasync def f(p):\n    return await anyio.to_thread.run_sync(os.path.exists, p)\n"
        );
    }

    #[test]
    fn a_thread_function_or_partial_imported_by_name_is_used_as_it_is() {
        let source = "from anyio.to_thread import run_sync\nimport os\nasync def f(p):\n    return os.path.exists(p)\n";
        assert_eq!(
            fixed(source, None),
            "from anyio.to_thread import run_sync\nimport os\nasync def f(p):\n    return await run_sync(os.path.exists, p)\n"
        );
        let source = "from anyio import to_thread as threads\nfrom functools import partial\nimport subprocess\nasync def f(cmd):\n    subprocess.run(cmd, check=True)\n";
        assert_eq!(
            fixed(source, None),
            "from anyio import to_thread as threads\nfrom functools import partial\nimport subprocess\nasync def f(cmd):\n    await threads.run_sync(partial(subprocess.run, cmd, check=True))\n"
        );
        let source =
            "from asyncio import to_thread\nimport os\nasync def f(p):\n    os.path.exists(p)\n";
        assert_eq!(
            fixed(source, None),
            "from asyncio import to_thread\nimport os\nasync def f(p):\n    await to_thread(os.path.exists, p)\n"
        );
        // Shadowed where the call is: the module's name, imported.
        let source = "from asyncio import to_thread\nimport os\nasync def f(p, to_thread):\n    os.path.exists(p)\n";
        assert_eq!(
            fixed(source, None),
            "from asyncio import to_thread\nimport asyncio\nimport os\nasync def f(p, to_thread):\n    await asyncio.to_thread(os.path.exists, p)\n"
        );
    }
}
