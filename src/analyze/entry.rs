//! Single-task entry points: a script whose code runs one coroutine function with
//! `asyncio.run(main())` or `anyio.run(main)` / `trio.run(main, arg)` (which take the function
//! and its arguments: `function-entry-calls`) (at module level, or in a command's synchronous
//! function: it makes a new loop; through a name, nested in that function, or a method its
//! class's synchronous method runs: `wrappers`), or
//! `asyncio.get_event_loop().run_until_complete(main())` at module level, where
//! that coroutine and the file's own coroutines it awaits start nothing else on the event loop.
//! Blocking there blocks nobody; moving `input()` to a worker thread only makes Ctrl+C and
//! piped stdin worse. So does a call in the coroutine of `asyncio.run(main())`, or in a
//! framework's startup hook (`startup_hooks`), before anything started other work
//! (`name = input()` above `async with SessionLocal() as session:`), whatever comes later
//! but for a call that waits for every task it started (`contained`): an awaited gather of
//! tasks made right there, a task group's block, a project coroutine that gathers its own.
//! After one the loop is alone again; not in an `except` / `finally` around a gather, which
//! leaves the other tasks running when it raises.
//!
//! What it knows is data (`[single-task]`, `codemod/single_task`): the entry calls, the
//! awaits of quiet libraries (request/response clients: SQLAlchemy's async engine, asyncpg,
//! aiohttp's client session...) that start nothing, the runners and scheduling methods that
//! do. Conservative: when in doubt, a coroutine is not single-task. The coroutines reached may
//! await only each other, quiet libraries and `asyncio.sleep`; they call no other `asyncio`
//! function and no method that starts or schedules work (`create_task`, `gather`,
//! `run_polling`, ...), and every mention of them in the file is the entry call's argument or
//! an awaited call from one of them. Their bodies must be there to read (a masked body, `...`,
//! is a doubt).

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use super::concurrency::{quiet_suspension, schedules_work};
use super::first_suspension::{before_first_suspension, before_first_suspension_but};
use super::module_functions::{
    first_child_is_async, is_masked, method_only_mentioned_where_allowed, module_function,
    module_method, nested_coroutine, only_mentioned_where_allowed,
};
use super::startup_hooks::{awaits_through_parameter, startup_hooks};
use super::target::call_target;
use super::test_bodies::{TestRole, has_async_tests, test_bodies};
use super::wrappers::{coroutine_kept_for, is_method, method_qualname, wrapped_method};
use crate::codemod::{Registry, SingleTaskData};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{ModuleInfo, ModuleMap, ProjectLookup, entered_alone_key};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// Why nothing else runs on the loop where a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Alone {
    /// The only task of a script, or its main coroutine before anything else started.
    Script,
    /// A framework's startup hook (the index in `[[single-task.hook]]`), before it started
    /// anything itself.
    Hook(usize),
    /// An async test body, fixture or test case set-up (`test_bodies`), before it started
    /// anything itself: its role and the byte range of its name.
    Test(TestRole, (usize, usize)),
}

/// Whether `call` is in a coroutine function that runs as the only task of a script, or runs
/// in the coroutine of `asyncio.run(main())` (or a framework's startup hook) before anything
/// but a quiet library await suspends it (nothing else can have started on that loop yet,
/// whatever it awaits later).
pub(super) fn in_single_task_script(
    file: &FileContext,
    registry: &Registry,
    call: Node,
) -> Option<Alone> {
    let function = file.index.async_function_at(call.start_byte())?;
    let data = registry.single_task();
    let facts = file.single_task.get_or_init(|| {
        let mut mains: Vec<Node> = entry_points(file, data)
            .into_iter()
            .filter(|&(entry, main)| runs_main_alone_at_first(file, data, entry, main))
            .map(|(_, main)| main)
            .collect();
        mains.extend(entered_from_elsewhere(file));
        SingleTask {
            coroutines: single_task_coroutines(file, data),
            entries: mains
                .iter()
                // What a method run by a wrapper awaits is not followed: only its own name
                // was checked across the project.
                .chain(&entered_alone(
                    file,
                    data,
                    &mains
                        .iter()
                        .copied()
                        .filter(|m| !is_method(*m))
                        .collect::<Vec<_>>(),
                ))
                .map(|main| main.byte_range())
                .collect(),
            hooks: startup_hooks(file, data)
                .into_iter()
                .map(|(definition, hook)| (definition.byte_range(), hook))
                .collect(),
            tests: test_bodies(file, data, file.pytest_asyncio_auto)
                .into_iter()
                .map(|(definition, role)| (definition.byte_range(), role))
                .collect(),
        }
    });
    if facts.coroutines.contains(&function) {
        return Some(Alone::Script);
    }
    let root = file.parsed.tree.root_node();
    let alone_at_first = |definition: &Range<usize>| {
        node_at(root, definition).is_some_and(|definition| {
            function_scope(file, definition) == Some(function)
                && before_first_suspension(file, data, definition, call)
        })
    };
    if facts.entries.iter().any(alone_at_first) {
        return Some(Alone::Script);
    }
    let hook_alone = |(definition, hook): &&(Range<usize>, usize)| {
        node_at(root, definition).is_some_and(|definition| {
            let quiet_too =
                |node: Node| awaits_through_parameter(file, &data.hooks[*hook], definition, node);
            function_scope(file, definition) == Some(function)
                && before_first_suspension_but(file, data, definition, call, &quiet_too)
        })
    };
    if let Some(&(_, hook)) = facts.hooks.iter().find(hook_alone) {
        return Some(Alone::Hook(hook));
    }
    let (definition, role) = facts
        .tests
        .iter()
        .find(|(definition, _)| alone_at_first(definition))?;
    let name = node_at(root, definition)?.field(Field::Name)?;
    Some(Alone::Test(*role, (name.start_byte(), name.end_byte())))
}

/// Whether the file runs a coroutine as the main task of a loop, or has a framework's startup
/// hook: the project summary asks the settling which of its project calls start no work.
pub(super) fn has_single_task_entry(file: &FileContext, registry: &Registry) -> bool {
    let data = registry.single_task();
    !entry_points(file, data).is_empty()
        || !startup_hooks(file, data).is_empty()
        || has_async_tests(file, data, file.pytest_asyncio_auto)
}

/// The project coroutines, by absolute name, that the file's entry calls making a new loop
/// run alone (`asyncio.run(main(parse_arguments()))` with `main` imported from another
/// module): nothing scheduled before the call, and the imported name mentioned nowhere else
/// in the file but its import and such entry calls. The settling tells the file defining it
/// (`project/entered.rs`), which then runs it as its own entry coroutine.
pub(super) fn entry_runs(
    file: &FileContext,
    registry: &Registry,
    module: &ModuleInfo,
    map: &ModuleMap,
) -> Vec<String> {
    let data = registry.single_task();
    let mut runs: Vec<(String, &str)> = Vec::new();
    let mut allowed: HashSet<usize> = HashSet::new();
    for call in entry_calls(file, data) {
        let Some(callee) = entry_callee(file, data, call).filter(|c| c.kind_name() == "identifier")
        else {
            continue;
        };
        let name = &file.text[callee.byte_range()];
        let imported = matches!(
            file.index.resolve_name(name, callee.start_byte()),
            Resolution::Binding(id) if matches!(file.index.binding(id).kind, BindingKind::Import { .. })
        );
        if !imported
            || !makes_a_new_loop(file, data, call)
            || !nothing_scheduled_before(file, data, call)
        {
            continue;
        }
        if let Some(target) = call_target(file, module, map, callee) {
            allowed.insert(callee.id());
            runs.push((target, name));
        }
    }
    runs.into_iter()
        .filter(|(_, name)| only_named_where_allowed(file, name, &allowed))
        .map(|(target, _)| target)
        .collect()
}

/// Whether `name` appears in the file only in its imports, as an attribute's or keyword's
/// name, and at the `allowed` identifiers (whatever it resolves to: a doubt otherwise).
fn only_named_where_allowed(file: &FileContext, name: &str, allowed: &HashSet<usize>) -> bool {
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "import_statement" | "import_from_statement" | "future_import_statement" => continue,
            "identifier" => {
                let elsewhere = node.parent().is_some_and(|parent| {
                    (parent.kind_name() == "attribute"
                        && parent
                            .field(Field::Attribute)
                            .is_some_and(|a| a.id() == node.id()))
                        || (parent.kind_name() == "keyword_argument"
                            && parent
                                .field(Field::Name)
                                .is_some_and(|n| n.id() == node.id()))
                });
                if &file.text[node.byte_range()] == name
                    && !elsewhere
                    && !allowed.contains(&node.id())
                {
                    return false;
                }
                continue;
            }
            _ => {}
        }
        stack.extend(node.children(&mut node.walk()));
    }
    true
}

/// The file's module-level coroutine functions another file runs alone on a new loop, as
/// the settling told it (`project/entered.rs`): its entry coroutines too, when their bodies
/// are there to read and nothing in the file mentions them.
fn entered_from_elsewhere<'t>(file: &FileContext<'t>) -> Vec<Node<'t>> {
    let Some(project) = file.project.as_ref() else {
        return Vec::new();
    };
    let ProjectLookup::Settled(calls) = project.lookup else {
        return Vec::new();
    };
    let root = file.parsed.tree.root_node();
    root.named_children(&mut root.walk())
        .filter(|d| d.kind_name() == "function_definition" && first_child_is_async(*d))
        .filter(|d| {
            d.field(Field::Name).is_some_and(|name| {
                let name = &file.text[name.byte_range()];
                project.module.names.iter().any(|module| {
                    calls.contains_key(&entered_alone_key(&format!("{module}.{name}")))
                })
            })
        })
        .filter(|d| {
            d.field(Field::Body)
                .is_some_and(|body| !is_masked(file, body))
                && only_mentioned_where_allowed(file, &[*d], &HashSet::new())
        })
        .collect()
}

/// Whether `entry` makes a new loop (`asyncio.run(main())`, `asyncio.new_event_loop()
/// .run_until_complete(main())`, or `loop.run_until_complete(main())` on a `loop` made by
/// `asyncio.new_event_loop()` with nothing scheduled before in the same code): no task made
/// before it runs there; `main`'s body is there to read and nothing else in the file
/// mentions `main`.
fn runs_main_alone_at_first(
    file: &FileContext,
    data: &SingleTaskData,
    entry: Node,
    main: Node,
) -> bool {
    if is_method(main) {
        return makes_a_new_loop(file, data, entry)
            && nothing_scheduled_before(file, data, entry)
            && main
                .field(Field::Body)
                .is_some_and(|body| !is_masked(file, body))
            && wrapped_method_alone(file, data, main, true);
    }
    let mut allowed = new_loop_entries_of(file, data, main);
    allowed.extend(entry_callee(file, data, entry).map(|c| c.id()));
    makes_a_new_loop(file, data, entry)
        && nothing_scheduled_before(file, data, entry)
        && main
            .field(Field::Body)
            .is_some_and(|body| !is_masked(file, body))
        && only_mentioned_where_allowed(file, &[main], &allowed)
}

/// Whether the entry call makes a new loop (`asyncio.run`).
fn makes_a_new_loop(file: &FileContext, data: &SingleTaskData, entry: Node) -> bool {
    let root = file.parsed.tree.root_node();
    entry
        .field(Field::Function)
        .and_then(|callee| file.index.callable_name(callee, root, file.text))
        .is_some_and(|name| data.new_loop_calls.contains(&name))
}

/// The callee of the entry call's coroutine call: `main` in `asyncio.run(main())`, or the
/// coroutine function an entry call taking a function runs: `main` in `anyio.run(main,
/// arg)` (`function-entry-calls`).
fn entry_callee<'t>(
    file: &FileContext<'t>,
    data: &SingleTaskData,
    entry: Node<'t>,
) -> Option<Node<'t>> {
    let first = entry.field(Field::Arguments)?.named_child(0)?;
    if takes_the_function(file, data, entry) {
        return (first.kind_name() == "identifier").then_some(first);
    }
    let call = match first.kind_name() {
        "call" => first,
        "identifier" => coroutine_kept_for(file, entry, first)?,
        _ => return None,
    };
    call.field(Field::Function)
}

/// Whether the entry call takes the coroutine function and its arguments (`anyio.run(main)`,
/// `trio.run(main, arg)`) rather than a coroutine call.
fn takes_the_function(file: &FileContext, data: &SingleTaskData, entry: Node) -> bool {
    let root = file.parsed.tree.root_node();
    entry
        .field(Field::Function)
        .and_then(|callee| file.index.callable_name(callee, root, file.text))
        .is_some_and(|name| data.function_entry_calls.contains(&name))
}

/// The mentions of `main` that are the coroutine call of an entry call making a new loop
/// with nothing scheduled before it: a script that runs `main` from two places
/// (`asyncio.run(main())` in its console-script function and under `if __name__ ==
/// "__main__":`) runs it alone either way.
fn new_loop_entries_of(file: &FileContext, data: &SingleTaskData, main: Node) -> HashSet<usize> {
    entry_points(file, data)
        .into_iter()
        .filter(|&(entry, other)| {
            other.id() == main.id()
                && makes_a_new_loop(file, data, entry)
                && nothing_scheduled_before(file, data, entry)
        })
        .filter_map(|(entry, _)| entry_callee(file, data, entry).map(|c| c.id()))
        .collect()
}

/// Whether, when the entry call's loop is a name (`loop.run_until_complete(main())`), no call
/// before it in the same code (the function around it, or the module) starts or schedules
/// work: `loop.create_task(other())` first would run `other` next to `main`.
fn nothing_scheduled_before(file: &FileContext, data: &SingleTaskData, entry: Node) -> bool {
    let through_a_name = entry
        .field(Field::Function)
        .and_then(|callee| callee.field(Field::Object))
        .is_some_and(|object| {
            object.kind_name() == "identifier"
                && matches!(
                    file.index.resolve_name(&file.text[object.byte_range()], object.start_byte()),
                    Resolution::Binding(id) if file.index.binding(id).kind == BindingKind::Assignment
                )
        });
    if !through_a_name {
        return true;
    }
    let scope = file.index.scope_at(entry.start_byte());
    !file.nodes.calls.iter().any(|call| {
        call.start_byte() < entry.start_byte()
            && file.index.scope_at(call.start_byte()) == scope
            && schedules_work(file, data, *call)
    })
}

/// The module's coroutine functions that start alone because every mention of them in the
/// file is an await, in a coroutine that starts alone (`mains`, or one of these), at a
/// point where that coroutine still runs alone ([`before_first_suspension`]): `await
/// import_and_verify()` in `main` after only quiet awaits. Their bodies are single-task until
/// their own first suspension that may start work. A recursive one is never admitted.
fn entered_alone<'t>(
    file: &FileContext<'t>,
    data: &SingleTaskData,
    mains: &[Node<'t>],
) -> Vec<Node<'t>> {
    let mut entered: Vec<Node> = mains.to_vec();
    let mut allowed: HashSet<usize> = HashSet::new();
    let mut candidates: Vec<Node> = Vec::new();
    let mut read = 0;
    loop {
        while let Some(&caller) = entered.get(read) {
            read += 1;
            for (awaited, callee, definition) in awaited_module_coroutines(file, caller) {
                if before_first_suspension(file, data, caller, awaited) {
                    allowed.insert(callee.id());
                    if !candidates.contains(&definition) && !entered.contains(&definition) {
                        candidates.push(definition);
                    }
                }
            }
        }
        let (admitted, rest): (Vec<Node>, Vec<Node>) = candidates.iter().partition(|definition| {
            let method = definition
                .parent()
                .and_then(|block| block.parent())
                .is_some_and(|class| class.kind_name() == "class_definition");
            definition
                .field(Field::Body)
                .is_some_and(|body| !is_masked(file, body))
                && match method {
                    true => method_only_mentioned_where_allowed(file, **definition, &allowed),
                    false => only_mentioned_where_allowed(file, &[**definition], &allowed),
                }
        });
        if admitted.is_empty() {
            break;
        }
        candidates = rest;
        entered.extend(admitted);
    }
    entered.split_off(mains.len())
}

/// The awaits in `caller`'s own body of the module's coroutine functions: `(the await, the
/// callee name, the awaited function's def)`.
fn awaited_module_coroutines<'t>(
    file: &FileContext<'t>,
    caller: Node<'t>,
) -> Vec<(Node<'t>, Node<'t>, Node<'t>)> {
    let mut found = Vec::new();
    let Some(body) = caller.field(Field::Body) else {
        return found;
    };
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "await" => {
                if let Some(callee) = node
                    .named_child(0)
                    .filter(|c| c.kind_name() == "call")
                    .and_then(|c| c.field(Field::Function))
                {
                    if let Some(definition) = module_function(file, callee, true) {
                        found.push((node, callee, definition));
                    } else if let Some(definition) = module_method(file, callee)
                        && let Some(attribute) = callee.field(Field::Attribute)
                    {
                        // A method is allowed by the name after the dot.
                        found.push((node, attribute, definition));
                    }
                }
            }
            _ => {}
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    found
}

/// What a file's calls share for [`in_single_task_script`], found once per file.
#[derive(Debug, Default)]
pub struct SingleTask {
    /// The coroutine functions that run as the only task of a script.
    coroutines: HashSet<ScopeId>,
    /// The `def`s of the coroutine functions `asyncio.run` runs, alone at first.
    entries: Vec<Range<usize>>,
    /// The `def`s of the framework startup hooks, alone at first, with their hook.
    hooks: Vec<(Range<usize>, usize)>,
    /// The `def`s of the async tests, fixtures and set-ups, alone at first, with their role.
    tests: Vec<(Range<usize>, TestRole)>,
}

/// Each entry call with the file's coroutine function it runs: at module level, or, for a
/// call that makes a new loop (`asyncio.run`), in a synchronous function too (a command of a
/// command-line tool): the coroutine starts alone on that loop wherever the call is.
fn entry_points<'t>(file: &FileContext<'t>, data: &SingleTaskData) -> Vec<(Node<'t>, Node<'t>)> {
    entry_calls(file, data)
        .into_iter()
        .filter_map(|call| Some((call, entry_coroutine(file, data, call)?)))
        .collect()
}

/// The entry calls: at module level, or, for one that makes a new loop, in a synchronous
/// function.
fn entry_calls<'t>(file: &FileContext<'t>, data: &SingleTaskData) -> Vec<Node<'t>> {
    let root = file.parsed.tree.root_node();
    let module = file.index.module_scope();
    file.nodes
        .calls
        .iter()
        .filter(|call| {
            let Some(name) = call
                .field(Field::Function)
                .and_then(|callee| file.index.callable_name(callee, root, file.text))
            else {
                return false;
            };
            let scope = file.index.scope_at(call.start_byte());
            data.entry_calls.contains(&name)
                && (scope == module
                    || (data.new_loop_calls.contains(&name)
                        && file.index.scope(scope).kind
                            == (ScopeKind::Function { is_async: false })))
        })
        .copied()
        .collect()
}

/// The file's coroutine functions that run as the only task of a script, found from each
/// entry call ([`entry_points`]).
fn single_task_coroutines(file: &FileContext, data: &SingleTaskData) -> HashSet<ScopeId> {
    let mut single = HashSet::new();
    for (call, main) in entry_points(file, data) {
        if let Some(reached) = reached_alone(file, data, main, call) {
            single.extend(reached);
        }
    }
    single
}

/// The file's coroutine function the entry call runs: `asyncio.run(main())` or
/// `anyio.run(main)`, `main` an `async def` of the module.
fn entry_coroutine<'t>(
    file: &FileContext<'t>,
    data: &SingleTaskData,
    entry: Node<'t>,
) -> Option<Node<'t>> {
    let callee = entry_callee(file, data, entry)?;
    coroutine_definition(file, callee)
        .or_else(|| nested_coroutine(file, entry, callee))
        .or_else(|| wrapped_method(file, entry, makes_a_new_loop(file, data, entry), callee))
}

/// Whether a method run by a synchronous wrapper of its class is mentioned nowhere else in
/// the file (the wrappers' entry calls aside), and, across the project, the run found no
/// other file mentioning its name (`ProjectCall::EnteredAlone` for it): a coroutine that
/// anything else may await or schedule on a running loop is a doubt.
fn wrapped_method_alone(
    file: &FileContext,
    data: &SingleTaskData,
    main: Node,
    project_says: bool,
) -> bool {
    let allowed: HashSet<usize> = entry_points(file, data)
        .into_iter()
        .filter(|&(entry, other)| {
            other.id() == main.id()
                && makes_a_new_loop(file, data, entry)
                && nothing_scheduled_before(file, data, entry)
        })
        .filter_map(|(entry, _)| entry_callee(file, data, entry)?.field(Field::Attribute))
        .map(|attribute| attribute.id())
        .collect();
    if allowed.is_empty() || !method_only_mentioned_where_allowed(file, main, &allowed) {
        return false;
    }
    if !project_says {
        return true;
    }
    let Some(project) = file.project.as_ref() else {
        return false;
    };
    let ProjectLookup::Settled(calls) = project.lookup else {
        return false;
    };
    method_qualname(file, main).is_some_and(|qualname| {
        project
            .module
            .names
            .iter()
            .any(|module| calls.contains_key(&entered_alone_key(&format!("{module}.{qualname}"))))
    })
}

/// For the project summary: the coroutine methods the file's synchronous methods run on a new
/// loop (`asyncio.run(self.fetch_async())`) with nothing scheduled before, which the file
/// mentions nowhere else, by qualname ([`FileSummary::wrapped_entries`]).
///
/// [`FileSummary::wrapped_entries`]: crate::project::FileSummary::wrapped_entries
pub(super) fn wrapped_entries(file: &FileContext, registry: &Registry) -> Vec<String> {
    let data = registry.single_task();
    let mut found: Vec<String> = Vec::new();
    for (_, main) in entry_points(file, data) {
        if is_method(main)
            && wrapped_method_alone(file, data, main, false)
            && let Some(qualname) = method_qualname(file, main)
            && !found.contains(&qualname)
        {
            found.push(qualname);
        }
    }
    found
}

/// The `async def` node a callee names, when it is a plain name bound to one of the module's
/// coroutine functions.
fn coroutine_definition<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<Node<'t>> {
    module_function(file, callee, true)
}

/// The coroutine functions reached from `main` (its own scope and those it awaits,
/// transitively), when none of them starts other work on the loop and nothing else in the
/// file mentions them; `None` at the first doubt.
fn reached_alone(
    file: &FileContext,
    data: &SingleTaskData,
    main: Node,
    entry: Node,
) -> Option<Vec<ScopeId>> {
    // A method run by a wrapper is alone position by position only (`entries`).
    if is_method(main) {
        return None;
    }
    let mut definitions = vec![main];
    let mut seen: HashSet<usize> = HashSet::from([main.id()]);
    // The calls allowed to mention a reached coroutine: the entry's, and the awaited calls in
    // the reached bodies.
    let mut allowed_mentions: HashSet<usize> = new_loop_entries_of(file, data, main);
    allowed_mentions.extend(entry_callee(file, data, entry).map(|c| c.id()));
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
                    if first_child_is_async(node) && !quiet_suspension(file, data, node) =>
                {
                    return None;
                }
                "await" if quiet_suspension(file, data, node) => {}
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
                        if !data.harmless_calls.contains(&name) {
                            return None;
                        }
                    }
                }
                "call" => {
                    if schedules_work(file, data, node) {
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
