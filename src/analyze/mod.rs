//! One walk per file: each call node is offered to the codemods interested in what it
//! resolves to, and each match in async context becomes a [`Finding`] with its fix.

use crate::parse::KindName;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use tree_sitter::Node;

use crate::codemod::{Registry, Site};
use crate::fix::{Applicability, Fix};
use crate::parse::{Field, FieldChild};
use crate::parse::{KeyNodes, ParsedFile, handlers_around};
use crate::project::{ProjectCall, ProjectCalls, ProjectLookup, ProjectView};
use crate::semantic::{BindingKind, Resolution, ScopeKind, SemanticIndex};
use crate::settings::RuleSelection;
use crate::suppress::Suppressions;

#[cfg(test)]
mod strategy_tests;

/// One problem found in a file, with the fix that solves it when there is one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub rule_name: String,
    pub message: String,
    /// The byte range reported (the call).
    pub range: Range<usize>,
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
    /// Made in the project phase's first pass, before the project was settled: the finding
    /// holds only under one outcome of a project call ([`settle_speculation`]).
    pub speculation: Option<Box<Speculation>>,
}

/// The outcome of the project phase a call was analysed under, before the project was
/// settled: a call whose target may reach a project coroutine or blocking function is analysed
/// once per outcome, and only the findings of the settled one are kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Speculation {
    /// The absolute name the call resolves to (a key of [`crate::project::ProjectCalls`]).
    pub target: String,
    pub outcome: Outcome,
}

/// What a project call may turn out to reach.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Neither: the call is matched as any other.
    Neither,
    /// A project coroutine function.
    Coroutine,
    /// A blocking project function. The message is rendered once the chain is known, from
    /// what the call gave it.
    Blocking {
        codemod: usize,
        callee: String,
        qualified: String,
        function: String,
    },
}

/// Keep the findings of a speculative first pass that hold under what the project phase
/// settled for the file (`calls`; `None`: no project call reaches anything), with their
/// messages rendered, in their order.
pub fn settle_speculation(
    findings: Vec<Finding>,
    calls: Option<&ProjectCalls>,
    registry: &Registry,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            let Some(speculation) = finding.speculation.take() else {
                return Some(finding);
            };
            let settled = calls.and_then(|calls| calls.get(&speculation.target));
            match (speculation.outcome, settled) {
                (Outcome::Neither, None) | (Outcome::Coroutine, Some(ProjectCall::Coroutine)) => {
                    Some(finding)
                }
                (
                    Outcome::Blocking {
                        codemod,
                        callee,
                        qualified,
                        function,
                    },
                    Some(ProjectCall::Blocking { chain, location }),
                ) => {
                    finding.message = registry.codemod(codemod).message.render(|name| match name {
                        "callee" => callee.clone(),
                        "qualified" => qualified.clone(),
                        "function" => function.clone(),
                        "chain" => chain.clone(),
                        "location" => location.clone(),
                        _ => String::new(),
                    });
                    Some(finding)
                }
                _ => None,
            }
        })
        .collect()
}

/// The file's context for the analysis.
pub struct FileContext<'a> {
    /// The file's path (or `--stdin-filename`), used to recognise trio's and anyio's own code.
    pub path: &'a std::path::Path,
    pub text: &'a str,
    pub line_ending: &'a str,
    pub parsed: &'a ParsedFile,
    /// The calls and comments of `parsed` (and yields, for the project summary).
    pub nodes: &'a KeyNodes<'a>,
    pub index: &'a SemanticIndex,
    /// The lowest Python version the project supports, when configured or declared.
    pub target_version: Option<(u8, u8)>,
    /// `httpx` or `httpx2`: where requests calls are rewritten to.
    pub http_client: &'static str,
    /// The run applies unsafe fixes: a codemod's unsafe alternative fix is preferred.
    pub unsafe_fixes: bool,
    /// The calls in this file that the project phase found reaching project coroutine
    /// functions or blocking project functions.
    pub project: Option<ProjectView<'a>>,
}

/// Find every match of an enabled codemod in one file, sorted by position.
pub fn analyze(file: &FileContext, registry: &Registry, selection: &RuleSelection) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut suppressions = Suppressions::default();
    let library = preferred_library(file);
    for &call in &file.nodes.calls {
        analyze_call(file, registry, selection, library, call, &mut findings);
    }
    for comment in &file.nodes.comments {
        let text = &file.text[comment.byte_range()];
        if text.contains("noqa") || text.contains("NOQA") || text.contains("unfreeze") {
            let line = file.text[..comment.start_byte()].matches('\n').count();
            let line_start = file.text[..comment.start_byte()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let own_line = file.text[line_start..comment.start_byte()]
                .trim()
                .is_empty();
            suppressions.add(line, text, own_line);
        }
    }
    finish(file, findings, &suppressions)
}

/// Drop suppressed findings (or all, for a skipped file) and sort the rest.
fn finish(
    file: &FileContext,
    mut findings: Vec<Finding>,
    suppressions: &Suppressions,
) -> Vec<Finding> {
    if suppressions.skip_file {
        return Vec::new();
    }
    if !suppressions.is_empty() {
        // Lines as the comments were counted: by `\n`.
        let newlines: Vec<usize> = file.text.match_indices('\n').map(|(i, _)| i).collect();
        let line_of = |offset: usize| newlines.partition_point(|&newline| newline < offset);
        findings.retain(|finding| {
            let lines = [line_of(finding.range.start), line_of(finding.range.end)];
            !suppressions.suppresses(&finding.code, &lines)
        });
    }
    findings.sort_by(|a, b| (a.range.start, &a.code).cmp(&(b.range.start, &b.code)));
    findings
}

/// The async library a file is written for when it says so: it imports anyio or trio, or it
/// is part of one of those packages itself (relative imports only). `None`: asyncio.
fn preferred_library(file: &FileContext) -> Option<&'static str> {
    // anyio's API works on every backend, so an unconditional `import anyio` decides; trio's
    // only on trio, so trio needs a file that does not use asyncio. An optional import (in a
    // `try`, an `if`, a `with suppress(ImportError)`) decides nothing.
    if imports_unconditionally(file, "anyio") {
        return Some("anyio");
    }
    if imports_unconditionally(file, "trio") && !file.index.imports_module("asyncio") {
        return Some("trio");
    }
    // The libraries' own code reaches its thread API through internal modules: no fix there.
    let components: Vec<_> = file.path.components().map(|c| c.as_os_str()).collect();
    if components.iter().any(|c| *c == "anyio" || *c == "trio") {
        return Some(LIBRARY_INTERNALS);
    }
    None
}

/// The library marker for files inside anyio's or trio's own package.
pub use crate::codemod::LIBRARY_INTERNALS;

/// Whether `module` is imported by a statement directly at module level (not in a `try`,
/// `if`, `with` or function).
fn imports_unconditionally(file: &FileContext, module: &str) -> bool {
    let root = file.parsed.tree.root_node();
    file.index
        .bindings()
        .any(|(_, binding)| match &binding.kind {
            crate::semantic::BindingKind::Import {
                qualified,
                statement,
                type_checking_only: false,
                ..
            } => {
                let imports_it = qualified == module
                    || qualified
                        .strip_prefix(module)
                        .is_some_and(|rest| rest.starts_with('.'));
                imports_it
                    && root
                        .descendant_for_byte_range(statement.start, statement.end)
                        .and_then(|n| {
                            let mut n = n;
                            while !matches!(
                                n.kind_name(),
                                "import_statement" | "import_from_statement"
                            ) {
                                n = n.parent()?;
                            }
                            n.parent()
                        })
                        .is_some_and(|p| p.kind_name() == "module")
            }
            _ => false,
        })
}

/// The name of the coroutine function `callee` calls, when it is one of the file's own: an
/// `async def` it resolves to, or an `async def` method of the enclosing class called through
/// `self` / `cls`. Async generators (an `async def` with `yield`) are not awaitable: excluded.
fn project_coroutine(file: &FileContext, callee: Node) -> Option<String> {
    let binding = match callee.kind_name() {
        "identifier" => {
            let name = &file.text[callee.byte_range()];
            match file.index.resolve_name(name, callee.start_byte()) {
                Resolution::Binding(id) => id,
                Resolution::Builtin => return None,
            }
        }
        "attribute" => {
            let object = callee.field(Field::Object)?;
            let attribute = callee.field(Field::Attribute)?;
            if object.kind_name() != "identifier"
                || !matches!(&file.text[object.byte_range()], "self" | "cls")
            {
                return None;
            }
            let mut scope = file.index.scope_at(callee.start_byte());
            while matches!(
                file.index.scope(scope).kind,
                ScopeKind::Comprehension { .. } | ScopeKind::Lambda
            ) {
                scope = file.index.scope(scope).parent?;
            }
            let class = file.index.scope(scope).parent?;
            if file.index.scope(class).kind != ScopeKind::Class {
                return None;
            }
            file.index
                .binding_in_scope(class, &file.text[attribute.byte_range()])?
        }
        _ => return None,
    };
    let binding = file.index.binding(binding);
    if binding.kind != (BindingKind::Function { is_async: true }) {
        return None;
    }
    let name_node = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(binding.range.start, binding.range.end)?;
    let definition = name_node
        .parent()
        .filter(|d| d.kind_name() == "function_definition")?;
    if contains_yield(definition.field(Field::Body)?) {
        return None;
    }
    Some(file.text[callee.byte_range()].to_owned())
}

/// Whether a function body yields (not counting nested functions, lambdas and classes).
fn contains_yield(body: Node) -> bool {
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "yield" => return true,
            "function_definition" | "lambda" | "class_definition" => {}
            _ => stack.extend(node.named_children(&mut cursor)),
        }
    }
    false
}

/// Whether `callee` is a method of an object made in the calling function itself
/// (`s = requests.Session()`, `with requests.Session() as s`): no other coroutine holds it.
fn has_local_receiver(file: &FileContext, callee: Node) -> bool {
    let Some(object) = callee
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")
    else {
        // `requests.Session().get(...)`: a fresh object, used once.
        return callee
            .field(Field::Object)
            .is_some_and(|o| o.kind_name() == "call");
    };
    let name = &file.text[object.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, object.start_byte()) else {
        return false;
    };
    let binding = file.index.binding(id);
    let function = file.index.scope_at(callee.start_byte());
    binding.kind == BindingKind::Assignment
        && binding.value.is_some()
        && binding.scope == function
        && matches!(file.index.scope(function).kind, ScopeKind::Function { .. })
}

/// Whether the value of `call` is thrown away: the call is a statement of its own, or it is
/// assigned to a function-local name that nothing reads afterwards (`task = create_task(...)`
/// with `task` never used: the reference dies with the frame).
pub(crate) fn is_result_discarded(file: &FileContext, call: Node) -> bool {
    let Some(parent) = call.parent() else {
        return false;
    };
    if parent.kind_name() == "expression_statement" {
        return parent.named_child_count() == 1;
    }
    if parent.kind_name() != "assignment"
        || parent
            .field(Field::Right)
            .is_none_or(|r| r.id() != call.id())
        || parent.field(Field::Type).is_some()
    {
        return false;
    }
    let Some(target) = parent
        .field(Field::Left)
        .filter(|l| l.kind_name() == "identifier")
    else {
        return false;
    };
    let scope_id = file.index.scope_at(call.start_byte());
    let scope = file.index.scope(scope_id);
    if !matches!(scope.kind, ScopeKind::Function { .. }) {
        return false;
    }
    let name = &file.text[target.byte_range()];
    let Some(body) = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(scope.range.start, scope.range.end)
    else {
        return false;
    };
    // Any other occurrence of the name in the function (nested scopes included, `global` /
    // `nonlocal` too) counts as a use: only a name that appears nowhere else is dead.
    let mut uses = 0;
    let mut cursor = body.walk();
    loop {
        let node = cursor.node();
        if node.kind_name() == "identifier" && &file.text[node.byte_range()] == name {
            uses += 1;
            if uses > 1 {
                return false;
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == body.id() {
                return uses == 1;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return uses == 1;
            }
        }
    }
}

/// Whether the iterator `call` returns is consumed right there: the iterable of a `for` or a
/// comprehension, or the argument of a builtin that drains it (`list(...)`, `sorted(...)`).
fn is_consumed_in_place(file: &FileContext, call: Node) -> bool {
    let Some(parent) = call.parent() else {
        return false;
    };
    let is_right = |node: Node| {
        node.field(Field::Right)
            .is_some_and(|r| r.id() == call.id())
    };
    match parent.kind_name() {
        "for_statement" | "for_in_clause" => is_right(parent),
        "argument_list" => {
            let Some(consumer) = parent.parent().and_then(|c| c.field(Field::Function)) else {
                return false;
            };
            matches!(
                file.index.qualified_name(consumer, file.text).as_deref(),
                Some(
                    "builtins.list"
                        | "builtins.sorted"
                        | "builtins.tuple"
                        | "builtins.set"
                        | "builtins.frozenset"
                        | "builtins.sum"
                        | "builtins.any"
                        | "builtins.all"
                        | "builtins.max"
                        | "builtins.min"
                        | "builtins.dict"
                        | "builtins.next"
                )
            )
        }
        _ => false,
    }
}

/// Whether `call` sits in the body of a `try` (in its own function) with an `except` for one
/// of `exceptions` (qualified names).
fn caught_by(file: &FileContext, call: Node, exceptions: &[String]) -> bool {
    !exceptions.is_empty()
        && handlers_around(call).iter().any(|handler| {
            handler.items.iter().any(|item| {
                file.index
                    .qualified_name(*item, file.text)
                    .is_some_and(|q| exceptions.contains(&q))
            })
        })
}

/// Whether the statement before the one holding `call` (in the same block) awaits a function
/// whose last name is one of `names`: `await wait_readable(sock)` then `sock.recv(n)`.
fn follows_await_of(file: &FileContext, call: Node, names: &[String]) -> bool {
    if names.is_empty() {
        return false;
    }
    let mut statement = call;
    while let Some(parent) = statement.parent() {
        if matches!(parent.kind_name(), "block" | "module") {
            break;
        }
        statement = parent;
    }
    let mut previous = statement.prev_named_sibling();
    while let Some(node) = previous.filter(|n| n.kind_name() == "comment") {
        previous = node.prev_named_sibling();
    }
    let Some(previous) = previous else {
        return false;
    };
    let mut stack = vec![previous];
    let mut cursor = previous.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "await"
            && let Some(awaited) = node.named_child(0).filter(|n| n.kind_name() == "call")
            && let Some(function) = awaited.field(Field::Function)
            && callee_tail(function, file.text).is_some_and(|tail| names.iter().any(|n| n == tail))
        {
            return true;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether the call's argument text mentions one of `words`.
fn mentions_any(file: &FileContext, call: Node, words: &[String]) -> bool {
    !words.is_empty()
        && call.field(Field::Arguments).is_some_and(|arguments| {
            let text = &file.text[arguments.byte_range()];
            words.iter().any(|w| text.contains(w.as_str()))
        })
}

/// The name of the innermost function around `offset`, or `<module>`.
fn enclosing_function_name(index: &SemanticIndex, offset: usize) -> String {
    let mut id = index.scope_at(offset);
    loop {
        let scope = index.scope(id);
        match scope.kind {
            ScopeKind::Function { .. } => return scope.name.clone().unwrap_or_default(),
            ScopeKind::Lambda => return "<lambda>".to_owned(),
            ScopeKind::Class => return scope.name.clone().unwrap_or_default(),
            ScopeKind::Module => return "<module>".to_owned(),
            ScopeKind::Comprehension { .. } => match scope.parent {
                Some(parent) => id = parent,
                None => return "<module>".to_owned(),
            },
        }
    }
}

/// Whether the statement holding `node` contains a syntax error (or `node` sits inside an
/// `ERROR` node): a fix there could straddle code tree-sitter only guessed at.
fn in_broken_statement(root: Node, node: Node) -> bool {
    // `Node::parent` costs O(depth) in tree-sitter; a cursor walking down from the root gives
    // every ancestor in O(depth) in all, so deeply nested calls stay linear.
    let mut ancestors = Vec::new();
    let mut cursor = root.walk();
    while cursor.node().id() != node.id() {
        ancestors.push(cursor.node());
        let mut found = false;
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if child.start_byte() <= node.start_byte()
                    && node.end_byte() <= child.end_byte()
                    && !(child.start_byte() == child.end_byte()
                        && node.start_byte() != child.start_byte())
                {
                    found = true;
                    break;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        if !found {
            return false;
        }
    }
    for ancestor in ancestors.iter().rev() {
        if ancestor.is_error() {
            return true;
        }
        let kind = ancestor.kind_name();
        if kind.ends_with("statement") || kind == "block" || kind == "module" {
            return kind != "block" && kind != "module" && ancestor.has_error();
        }
    }
    false
}

/// The last name of a callee (`sleep` in `time.sleep`), if it is a plain name or attribute.
fn callee_tail<'t>(callee: Node, text: &'t str) -> Option<&'t str> {
    match callee.kind_name() {
        "identifier" => Some(&text[callee.byte_range()]),
        "attribute" => callee
            .field(Field::Attribute)
            .map(|a| &text[a.byte_range()]),
        _ => None,
    }
}

/// The codemod counting as blocking evidence that `call` matches, in any context (a
/// synchronous function's body included): `(code, qualified name)`. The codemods' own
/// conditions apply (lazy iterators consumed on the spot, `unless-caught`, ...); a code the
/// run ignores is no evidence.
pub fn blocking_evidence(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    call: Node,
) -> Option<(String, String)> {
    let callee = call.field(Field::Function)?;
    let tail = callee_tail(callee, file.text)?;
    if callee.kind_name() == "attribute" && !registry.cares_about_tail(tail) {
        return None;
    }
    let qualified = file
        .index
        .callable_name(callee, file.parsed.tree.root_node(), file.text)?;
    let awaited = call.parent().is_some_and(|p| p.kind_name() == "await");
    let unless_mentioned = registry
        .blocking_codemods()
        .iter()
        .any(|&i| mentions_any(file, call, &registry.codemod(i).unless_arguments_mention));
    if awaited || unless_mentioned || on_nonblocking_socket(file, call, &qualified) {
        return None;
    }
    registry.for_call(&qualified).iter().find_map(|&i| {
        let codemod = registry.codemod(i);
        let excluded = !registry.is_evidence(i)
            || codemod
                .fix_exceptions
                .get(&qualified)
                .is_some_and(|exception| exception.not_evidence)
            || selection.is_ignored(&codemod.code)
            || (codemod.lazy_calls.contains(&qualified) && !is_consumed_in_place(file, call))
            || caught_by(file, call, &codemod.unless_caught)
            || mentions_any(file, call, &codemod.unless_arguments_mention);
        (!excluded).then(|| (codemod.code.clone(), qualified.clone()))
    })
}

/// Whether `call` is a method of a socket that the same function made non-blocking before
/// the call (`sock.setblocking(False)`, `sock.settimeout(0)`): it returns at once.
fn on_nonblocking_socket(file: &FileContext, call: Node, qualified: &str) -> bool {
    if !qualified.starts_with("socket.socket().") {
        return false;
    }
    let Some(receiver) = call
        .field(Field::Function)
        .and_then(|f| f.field(Field::Object))
        .filter(|o| o.kind_name() == "identifier")
    else {
        return false;
    };
    let name = &file.text[receiver.byte_range()];
    let scope = file.index.scope(file.index.scope_at(call.start_byte()));
    let before: String = file.text[scope.range.start.min(call.start_byte())..call.start_byte()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    [
        "setblocking(False)",
        "setblocking(0)",
        "settimeout(0)",
        "settimeout(0.0)",
    ]
    .iter()
    .any(|setting| before.contains(&format!("{name}.{setting}")))
}

fn analyze_call(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    library: Option<&'static str>,
    call: Node,
    findings: &mut Vec<Finding>,
) {
    let Some(callee) = call.field(Field::Function) else {
        return;
    };
    let Some(tail) = callee_tail(callee, file.text) else {
        return;
    };
    // A call of one of the file's own coroutine functions goes to the codemods that want those.
    let coroutine = if registry.coroutine_codemods().is_empty() {
        None
    } else {
        project_coroutine(file, callee)
    };
    let offer = |project_call: Option<&ProjectCall>,
                 speculation: Option<&str>,
                 findings: &mut Vec<Finding>| {
        let call = CallSite {
            call,
            callee,
            tail,
            coroutine: coroutine.clone(),
            project_call,
            speculation,
        };
        offer_call(file, registry, selection, library, call, findings);
    };
    let Some(project) = file.project.filter(|_| coroutine.is_none()) else {
        return offer(None, None, findings);
    };
    match project.lookup {
        ProjectLookup::Settled(calls) => {
            let project_call = if calls.is_empty() {
                None
            } else {
                project.target(file, callee).and_then(|t| calls.get(&t))
            };
            offer(project_call, None, findings);
        }
        ProjectLookup::Speculative(lexical) => {
            match project
                .target(file, callee)
                .filter(|t| lexical.may_matter(t))
            {
                Some(target) => {
                    let blocking = ProjectCall::Blocking {
                        chain: String::new(),
                        location: String::new(),
                    };
                    offer(None, Some(&target), findings);
                    offer(Some(&ProjectCall::Coroutine), Some(&target), findings);
                    offer(Some(&blocking), Some(&target), findings);
                }
                None => offer(None, None, findings),
            }
        }
    }
}

/// A call offered to the codemods, with what the project phase says of it.
struct CallSite<'t, 'p> {
    call: Node<'t>,
    callee: Node<'t>,
    tail: &'t str,
    /// The file's own coroutine function it calls.
    coroutine: Option<String>,
    project_call: Option<&'p ProjectCall>,
    /// In a speculative first pass, the target the project call was assumed for.
    speculation: Option<&'p str>,
}

fn offer_call(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    library: Option<&'static str>,
    site: CallSite,
    findings: &mut Vec<Finding>,
) {
    let CallSite {
        call,
        callee,
        tail,
        coroutine,
        project_call,
        speculation,
    } = site;
    let root = file.parsed.tree.root_node();
    let mut chain = ("", "");
    let (qualified, matching) = match (coroutine, project_call) {
        (Some(name), _) => (name, registry.coroutine_codemods()),
        (None, Some(ProjectCall::Coroutine)) => (
            file.text[callee.byte_range()].to_owned(),
            registry.coroutine_codemods(),
        ),
        (None, Some(ProjectCall::Blocking { chain: c, location })) => {
            if call.parent().is_some_and(|p| p.kind_name() == "await") {
                // Awaiting a synchronous function's call awaits what it returns.
                return;
            }
            chain = (c.as_str(), location.as_str());
            (
                file.text[callee.byte_range()].to_owned(),
                registry.blocking_codemods(),
            )
        }
        (None, None) => {
            // A plain name can be an alias (`from time import sleep as nap`): only an
            // attribute's last segment is the real function name, so only attributes are
            // pre-filtered.
            if callee.kind_name() == "attribute" && !registry.cares_about_tail(tail) {
                return;
            }
            let Some(qualified) = file.index.callable_name(callee, root, file.text) else {
                return;
            };
            let matching = registry.for_call(&qualified);
            (qualified, matching)
        }
    };
    if matching.is_empty() {
        return;
    }
    let async_function = file.index.async_function_at(call.start_byte());
    let function_name = match async_function {
        Some(function) => file.index.scope(function).name.clone().unwrap_or_default(),
        None => enclosing_function_name(file.index, call.start_byte()),
    };
    // Each walks the tree around the call: only when a codemod asks.
    let result_discarded = std::cell::OnceCell::new();
    let result_discarded = || *result_discarded.get_or_init(|| is_result_discarded(file, call));
    let consumed_in_place = std::cell::OnceCell::new();
    let consumed_in_place = || *consumed_in_place.get_or_init(|| is_consumed_in_place(file, call));
    // `await obj.method()` on an object believed synchronous: the belief (an annotation, an
    // assignment) is wrong, since the result is awaitable; not a blocking call.
    let awaited_method =
        qualified.contains("().") && call.parent().is_some_and(|p| p.kind_name() == "await");
    // One line, single spaces, none around dots and brackets: `Path(a or b).exists`.
    let callee_text: String = file.text[callee.byte_range()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
        .replace(". ", ".")
        .replace("( ", "(")
        .replace(" )", ")");
    for &i in matching {
        let codemod = registry.codemod(i);
        if !selection.is_enabled(&codemod.code, codemod.default_enabled)
            || (codemod.async_only && async_function.is_none())
            || (codemod.result_discarded && !result_discarded())
            || (codemod.lazy_calls.contains(&qualified) && !consumed_in_place())
            || (awaited_method && codemod.async_only)
            || caught_by(file, call, &codemod.unless_caught)
            || mentions_any(file, call, &codemod.unless_arguments_mention)
            || follows_await_of(file, call, &codemod.unless_after_await_of)
        {
            continue;
        }
        let message_template = codemod
            .fix_exceptions
            .get(&qualified)
            .and_then(|exception| exception.message.as_ref())
            .unwrap_or(&codemod.message);
        let message = message_template.render(|name| match name {
            "callee" => callee_text.clone(),
            "qualified" => qualified.clone(),
            "function" => function_name.clone(),
            "chain" => chain.0.to_owned(),
            "location" => chain.1.to_owned(),
            _ => String::new(),
        });
        let site = Site {
            text: file.text,
            line_ending: file.line_ending,
            tree: &file.parsed.tree,
            index: file.index,
            call,
            callee,
            qualified: &qualified,
            library,
            target_version: file.target_version,
            http_client: file.http_client,
        };
        let render_title = |title: &crate::codemod::Template, replacement: &str| {
            title.render(|name| match name {
                "replacement" => replacement.to_owned(),
                "callee" => callee_text.clone(),
                "qualified" => qualified.clone(),
                _ => String::new(),
            })
        };
        // The alternative first, when the run goes as far as its applicability.
        let alternative = codemod
            .alternative
            .as_ref()
            .filter(|a| file.unsafe_fixes || a.applicability == Applicability::Safe)
            .and_then(|a| {
                let mut proposal = a.strategy.propose(&site, a.applicability).ok()?;
                proposal.fix.title = render_title(&a.title, &proposal.replacement);
                Some(proposal.fix)
            });
        let primary = || match (&codemod.strategy, &codemod.fix_title) {
            (Some(strategy), Some(title)) => match strategy.propose(&site, codemod.applicability) {
                Ok(mut proposal) => {
                    if let Some(exception) = codemod.fix_exceptions.get(&qualified)
                        && exception.applicability < proposal.fix.applicability
                        && !(exception.unless_local_receiver && has_local_receiver(file, callee))
                    {
                        proposal.fix.applicability = exception.applicability;
                        proposal.fix.caveat = Some(exception.reason.clone());
                    }
                    proposal.fix.title = render_title(title, &proposal.replacement);
                    Ok(Some(proposal.fix))
                }
                Err(reason) => Err(reason),
            },
            _ => Ok(None),
        };
        let chosen = match alternative {
            Some(fix) => Ok(Some(fix)),
            None => primary(),
        };
        let (fix, no_fix_reason) = match chosen {
            Ok(Some(fix)) => {
                let touches_error = fix
                    .edits
                    .iter()
                    .any(|e| file.parsed.touches_error(&e.range))
                    || file.parsed.touches_error(&call.byte_range())
                    // Only files with syntax errors need the ancestor walk.
                    || (file.parsed.has_errors()
                        && in_broken_statement(file.parsed.tree.root_node(), call));
                if touches_error {
                    (
                        None,
                        Some("the code around it has a syntax error".to_owned()),
                    )
                } else {
                    (Some(fix), None)
                }
            }
            Ok(None) => (None, None),
            Err(reason) => (None, Some(reason)),
        };
        let speculation = speculation.map(|target| {
            let outcome = match project_call {
                None => Outcome::Neither,
                Some(ProjectCall::Coroutine) => Outcome::Coroutine,
                Some(ProjectCall::Blocking { .. }) => Outcome::Blocking {
                    codemod: i,
                    callee: callee_text.clone(),
                    qualified: qualified.clone(),
                    function: function_name.clone(),
                },
            };
            Box::new(Speculation {
                target: target.to_owned(),
                outcome,
            })
        });
        findings.push(Finding {
            code: codemod.code.clone(),
            rule_name: codemod.name.clone(),
            message,
            range: call.byte_range(),
            fix,
            no_fix_reason,
            speculation,
        });
    }
}
