//! Single-task entry points: a script whose module-level code runs one coroutine function with
//! `asyncio.run(main())` (or `asyncio.get_event_loop().run_until_complete(main())`), where that
//! coroutine and the file's own coroutines it awaits start nothing else on the event loop.
//! Blocking there blocks nobody; moving `input()` to a worker thread only makes Ctrl+C and
//! piped stdin worse. So does a call in the coroutine of `asyncio.run(main())` before `main`
//! first suspends (`name = input()` above `async with SessionLocal() as session:`), whatever
//! `main` awaits later: the new loop has no other task yet.
//!
//! Conservative: when in doubt, a coroutine is not single-task. The coroutines reached may
//! await only each other and `asyncio.sleep`; they use no `async with` / `async for`, call no
//! other `asyncio` function and no method that starts or schedules work (`create_task`,
//! `gather`, `serve_forever`, ...), and every mention of them in the file is the entry call's
//! argument or an awaited call from one of them. Their bodies must be there to read (a masked
//! body, `...`, is a doubt).

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// The calls that run a coroutine as the event loop's main task.
const ENTRY_CALLS: &[&str] = &[
    "asyncio.run",
    "asyncio.get_event_loop().run_until_complete",
    "asyncio.new_event_loop().run_until_complete",
];

/// What the reached coroutines may await besides each other: it starts no task.
const HARMLESS_AWAITS: &[&str] = &["asyncio.sleep"];

/// `asyncio` functions that start nothing on the loop, callable without a doubt.
const HARMLESS_ASYNCIO: &[&str] = &["asyncio.sleep", "asyncio.run"];

/// Method names that start or schedule work on an event loop, whatever their receiver (which
/// often cannot be resolved: `loop`, `tg`, `server`): their presence is a doubt.
const SCHEDULING_METHODS: &[&str] = &[
    "create_task",
    "ensure_future",
    "gather",
    "wait",
    "as_completed",
    "start_soon",
    "start",
    "serve_forever",
    "start_server",
    "start_serving",
    "create_server",
    "call_soon",
    "call_soon_threadsafe",
    "call_later",
    "call_at",
    "run_in_executor",
    "add_reader",
    "add_writer",
    "add_signal_handler",
    "run_coroutine_threadsafe",
    "TaskGroup",
];

/// Whether `call` is in a coroutine function that runs as the only task of a script, or runs
/// in the coroutine of `asyncio.run(main())` before its first suspension point (nothing else
/// can have started on that new loop yet, whatever `main` awaits later).
pub(super) fn in_single_task_script(file: &FileContext, call: Node) -> bool {
    let Some(function) = file.index.async_function_at(call.start_byte()) else {
        return false;
    };
    let facts = file.single_task.get_or_init(|| SingleTask {
        coroutines: single_task_coroutines(file),
        entries: entry_points(file)
            .into_iter()
            .filter(|&(entry, main)| runs_main_alone_at_first(file, entry, main))
            .map(|(_, main)| main.byte_range())
            .collect(),
    });
    if facts.coroutines.contains(&function) {
        return true;
    }
    let root = file.parsed.tree.root_node();
    facts.entries.iter().any(|main| {
        let Some(main) = node_at(root, main) else {
            return false;
        };
        function_scope(file, main) == Some(function) && before_first_suspension(file, main, call)
    })
}

/// Whether `entry` is `asyncio.run(main())` (a new loop: no task made before it runs there),
/// `main`'s body is there to read and nothing else in the file mentions `main`.
fn runs_main_alone_at_first(file: &FileContext, entry: Node, main: Node) -> bool {
    let root = file.parsed.tree.root_node();
    let is_run = entry
        .field(Field::Function)
        .and_then(|callee| file.index.callable_name(callee, root, file.text))
        .is_some_and(|name| name == "asyncio.run");
    let entry_callee = entry
        .field(Field::Arguments)
        .and_then(|a| a.named_child(0))
        .and_then(|c| c.field(Field::Function));
    let allowed: HashSet<usize> = entry_callee.iter().map(|c| c.id()).collect();
    is_run
        && main
            .field(Field::Body)
            .is_some_and(|body| !is_masked(file, body))
        && only_mentioned_where_allowed(file, &[main], &allowed)
}

/// What a file's calls share for [`in_single_task_script`], found once per file.
#[derive(Debug, Default)]
pub struct SingleTask {
    /// The coroutine functions that run as the only task of a script.
    coroutines: HashSet<ScopeId>,
    /// The `def`s of the coroutine functions `asyncio.run` runs, alone at first.
    entries: Vec<Range<usize>>,
}

/// Each module-level entry call with the file's coroutine function it runs.
fn entry_points<'t>(file: &FileContext<'t>) -> Vec<(Node<'t>, Node<'t>)> {
    let root = file.parsed.tree.root_node();
    let module = file.index.module_scope();
    file.nodes
        .calls
        .iter()
        .filter(|call| file.index.scope_at(call.start_byte()) == module)
        .filter(|call| {
            call.field(Field::Function)
                .and_then(|callee| file.index.callable_name(callee, root, file.text))
                .is_some_and(|name| ENTRY_CALLS.contains(&name.as_str()))
        })
        .filter_map(|&call| Some((call, entry_coroutine(file, call)?)))
        .collect()
}

/// Whether `call` in `main`'s own body runs before `main` first suspends (`main` runs alone
/// at first: [`runs_main_alone_at_first`]): no `await`, `async with`, `async for` or `yield` precedes it or
/// shares a loop with it, and no call before it or in a loop around it (nor in the file's
/// synchronous functions those call) starts or schedules work.
fn before_first_suspension(file: &FileContext, main: Node, call: Node) -> bool {
    let Some(body) = main.field(Field::Body) else {
        return false;
    };
    let start = call.start_byte();
    // The loops around the call: a suspension anywhere in them runs before a later iteration.
    let mut loops = Vec::new();
    let mut up = call.parent();
    while let Some(node) = up.filter(|n| n.id() != body.id()) {
        if matches!(node.kind_name(), "for_statement" | "while_statement") {
            loops.push(node.byte_range());
        }
        up = node.parent();
    }
    let mut helpers: Vec<Node> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::from([main.id()]);
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let kind = node.kind_name();
        if matches!(kind, "function_definition" | "lambda") {
            continue;
        }
        let suspends = matches!(kind, "await" | "yield")
            || (matches!(kind, "with_statement" | "for_statement" | "for_in_clause")
                && first_child_is_async(node));
        let in_loop = loops
            .iter()
            .any(|r| r.start <= node.start_byte() && node.end_byte() <= r.end);
        if suspends && (node.start_byte() < start || in_loop) {
            return false;
        }
        // A call in a loop around it runs before its later iterations, itself included.
        if kind == "call" && (node.start_byte() < start || in_loop) {
            if schedules_work(file, node) {
                return false;
            }
            if let Some(helper) = node
                .field(Field::Function)
                .and_then(|callee| module_function(file, callee, false))
                && seen.insert(helper.id())
            {
                helpers.push(helper);
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    // The synchronous helpers called first: they schedule nothing either.
    while let Some(helper) = helpers.pop() {
        let mut stack = vec![helper];
        while let Some(node) = stack.pop() {
            if node.kind_name() == "call" {
                if schedules_work(file, node) {
                    return false;
                }
                if let Some(next) = node
                    .field(Field::Function)
                    .and_then(|callee| module_function(file, callee, false))
                    && seen.insert(next.id())
                {
                    helpers.push(next);
                }
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }
    true
}

/// The file's coroutine functions that run as the only task of a script, found from each
/// entry call at module level.
fn single_task_coroutines(file: &FileContext) -> HashSet<ScopeId> {
    let root = file.parsed.tree.root_node();
    let module = file.index.module_scope();
    let mut single = HashSet::new();
    for &call in &file.nodes.calls {
        if file.index.scope_at(call.start_byte()) != module {
            continue;
        }
        let Some(callee) = call.field(Field::Function) else {
            continue;
        };
        let Some(name) = file.index.callable_name(callee, root, file.text) else {
            continue;
        };
        if !ENTRY_CALLS.contains(&name.as_str()) {
            continue;
        }
        let Some(main) = entry_coroutine(file, call) else {
            continue;
        };
        if let Some(reached) = reached_alone(file, main, call) {
            single.extend(reached);
        }
    }
    single
}

/// The file's coroutine function the entry call runs: `asyncio.run(main())`, `main` an
/// `async def` of the module.
fn entry_coroutine<'t>(file: &FileContext<'t>, entry: Node<'t>) -> Option<Node<'t>> {
    let arguments = entry.field(Field::Arguments)?;
    let first = arguments.named_child(0)?;
    if first.kind_name() != "call" {
        return None;
    }
    coroutine_definition(file, first.field(Field::Function)?)
}

/// The `async def` node a callee names, when it is a plain name bound to one of the module's
/// coroutine functions.
fn coroutine_definition<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<Node<'t>> {
    module_function(file, callee, true)
}

/// The `def` (`is_async`: `async def`) node a callee names, when it is a plain name bound once
/// to one of the module's functions.
fn module_function<'t>(
    file: &FileContext<'t>,
    callee: Node<'t>,
    is_async: bool,
) -> Option<Node<'t>> {
    if callee.kind_name() != "identifier" {
        return None;
    }
    let name = &file.text[callee.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, callee.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != (BindingKind::Function { is_async })
        || binding.scope != file.index.module_scope()
        // A name bound twice (a second `def`, an assignment) is a doubt.
        || file
            .index
            .bindings_named(binding.scope, &binding.name)
            .iter()
            .any(|&other| other != id)
    {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let identifier = root.descendant_for_byte_range(binding.range.start, binding.range.end)?;
    let definition = identifier.parent()?;
    (definition.kind_name() == "function_definition").then_some(definition)
}

/// The coroutine functions reached from `main` (its own scope and those it awaits,
/// transitively), when none of them starts other work on the loop and nothing else in the
/// file mentions them; `None` at the first doubt.
fn reached_alone(file: &FileContext, main: Node, entry: Node) -> Option<Vec<ScopeId>> {
    let mut definitions = vec![main];
    let mut seen: HashSet<usize> = HashSet::from([main.id()]);
    // The calls allowed to mention a reached coroutine: the entry's, and the awaited calls in
    // the reached bodies.
    let mut allowed_mentions: HashSet<usize> = HashSet::new();
    if let Some(argument) = entry
        .field(Field::Arguments)
        .and_then(|a| a.named_child(0))
        .and_then(|c| c.field(Field::Function))
    {
        allowed_mentions.insert(argument.id());
    }
    let mut i = 0;
    while let Some(&definition) = definitions.get(i) {
        i += 1;
        let body = definition.field(Field::Body)?;
        if is_masked(file, body) {
            return None;
        }
        let mut stack = vec![body];
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "with_statement" | "for_statement" | "for_in_clause"
                    if first_child_is_async(node) =>
                {
                    return None;
                }
                "await" => {
                    let awaited = node.named_child(0)?;
                    if awaited.kind_name() != "call" {
                        return None;
                    }
                    let callee = awaited.field(Field::Function)?;
                    if let Some(next) = coroutine_definition(file, callee) {
                        allowed_mentions.insert(callee.id());
                        if seen.insert(next.id()) {
                            definitions.push(next);
                        }
                    } else {
                        let root = file.parsed.tree.root_node();
                        let name = file.index.callable_name(callee, root, file.text)?;
                        if !HARMLESS_AWAITS.contains(&name.as_str()) {
                            return None;
                        }
                    }
                }
                "call" => {
                    if schedules_work(file, node) {
                        return None;
                    }
                    // The file's own synchronous functions it calls are read too.
                    if let Some(helper) = node
                        .field(Field::Function)
                        .and_then(|callee| module_function(file, callee, false))
                        && seen.insert(helper.id())
                    {
                        definitions.push(helper);
                    }
                }
                "yield" => return None,
                _ => {}
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }
    let coroutines: Vec<Node> = definitions
        .into_iter()
        .filter(|d| first_child_is_async(*d))
        .collect();
    let scopes: Vec<ScopeId> = coroutines
        .iter()
        .filter_map(|d| function_scope(file, *d))
        .collect();
    (scopes.len() == coroutines.len()
        && only_mentioned_where_allowed(file, &coroutines, &allowed_mentions))
    .then_some(scopes)
}

/// Whether a call starts or schedules work on the loop, or may: any `asyncio` function but
/// the harmless ones, a method named like a scheduler, or code of another module of the
/// project (what it does is not read here).
fn schedules_work(file: &FileContext, call: Node) -> bool {
    let Some(callee) = call.field(Field::Function) else {
        return true;
    };
    if calls_project_code(file, callee) {
        return true;
    }
    let root = file.parsed.tree.root_node();
    if let Some(name) = file.index.callable_name(callee, root, file.text)
        && (name.starts_with("asyncio.") || name.starts_with("anyio.") || name.starts_with("trio."))
    {
        return !HARMLESS_ASYNCIO.contains(&name.as_str());
    }
    let last = match callee.kind_name() {
        "attribute" => callee.field(Field::Attribute),
        "identifier" => Some(callee),
        _ => None,
    };
    last.is_some_and(|last| SCHEDULING_METHODS.contains(&&file.text[last.byte_range()]))
}

/// Whether the callee is reached through an import of the project's own code (a relative
/// import, or a module of the project): `tools.get_tools`, `Bot(...).start`.
fn calls_project_code(file: &FileContext, callee: Node) -> bool {
    let mut head = callee;
    while head.kind_name() != "identifier" {
        let next = match head.kind_name() {
            "attribute" => head.field(Field::Object),
            "call" => head.field(Field::Function),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        head = next;
    }
    let name = &file.text[head.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, head.start_byte()) else {
        return false;
    };
    match &file.index.binding(id).kind {
        BindingKind::Import { qualified, .. } => {
            qualified.starts_with('.')
                || file
                    .project
                    .as_ref()
                    .is_some_and(|project| project.map.is_project_name(qualified))
        }
        _ => false,
    }
}

fn first_child_is_async(node: Node) -> bool {
    node.child(0).is_some_and(|c| c.kind_name() == "async")
}

/// A body blanked for a masked parse (`...` alone): what it does is unknown.
fn is_masked(file: &FileContext, body: Node) -> bool {
    body.named_child_count() == 1
        && body.named_child(0).is_some_and(|statement| {
            statement.kind_name() == "expression_statement"
                && statement
                    .named_child(0)
                    .is_some_and(|e| e.kind_name() == "ellipsis")
        })
        && file.text[body.byte_range()].trim() == "..."
}

/// The function scope of a `def` node.
fn function_scope(file: &FileContext, definition: Node) -> Option<ScopeId> {
    let body = definition.field(Field::Body)?;
    let scope = file.index.scope_at(body.start_byte());
    matches!(
        file.index.scope(scope).kind,
        ScopeKind::Function { is_async: true }
    )
    .then_some(scope)
}

/// Whether every identifier in the file that resolves to one of the reached coroutines is
/// one of the allowed calls' callee (or the `def` itself).
fn only_mentioned_where_allowed(
    file: &FileContext,
    definitions: &[Node],
    allowed: &HashSet<usize>,
) -> bool {
    let names: Vec<(&str, usize)> = definitions
        .iter()
        .filter_map(|d| d.field(Field::Name))
        .map(|n| (&file.text[n.byte_range()], n.id()))
        .collect();
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier" {
            let text = &file.text[node.byte_range()];
            if let Some((_, def_name)) = names.iter().find(|(name, _)| *name == text)
                && node.id() != *def_name
                && !allowed.contains(&node.id())
                && resolves_to_module_coroutine(file, node, text)
            {
                return false;
            }
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    true
}

fn resolves_to_module_coroutine(file: &FileContext, node: Node, name: &str) -> bool {
    // An attribute's name (`obj.main`) is not a mention of the module's `main`.
    if let Some(parent) = node.parent()
        && parent.kind_name() == "attribute"
        && parent
            .field(Field::Attribute)
            .is_some_and(|a| a.id() == node.id())
    {
        return false;
    }
    match file.index.resolve_name(name, node.start_byte()) {
        Resolution::Binding(id) => {
            let binding = file.index.binding(id);
            binding.scope == file.index.module_scope()
                && binding.kind == (BindingKind::Function { is_async: true })
        }
        Resolution::Builtin => false,
    }
}
