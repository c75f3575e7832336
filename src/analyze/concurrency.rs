//! What code starts on the event loop, for the single-task recognition (`entry`,
//! `startup_hooks`) and the project summary. Whether a call starts or schedules concurrent
//! work (a runner, an `asyncio` function but the harmless ones, a method named like a
//! scheduler: the `[single-task]` data), whether a suspension waits on a quiet library only,
//! and whether a call of the project's own code starts nothing: the project phase settles
//! that fact across modules (`project/quiet.rs`) from what [`record_concurrency`] finds in each
//! function's own body (the first thing that starts work, the project functions it awaits).
//! Conservative: what is not known to start nothing may start something.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::FileContext;
use super::contained::{Containment, caught_inside, containment};
use super::module_functions::{first_child_is_async, is_masked, module_function};
use super::target::call_target;
use crate::codemod::{Registry, SingleTaskData, under};
use crate::parse::{Field, FieldChild, KindName, walk_tree};
use crate::project::{
    Construction, FunctionSummary, ModuleInfo, ModuleMap, ProjectCall, ProjectLookup,
    starts_no_work_key,
};
use crate::semantic::{BindingKind, Resolution, ScopeId, node_at};

/// Whether a call starts or schedules work on the loop, or may: any `asyncio` function but
/// the harmless ones, a method named like a scheduler, or code of another module of the
/// project that the project phase did not settle as starting nothing.
pub(super) fn schedules_work(file: &FileContext, data: &SingleTaskData, call: Node) -> bool {
    let Some(callee) = call.field(Field::Function) else {
        return true;
    };
    if calls_project_code(file, callee) {
        return !settled_quiet(file, callee);
    }
    starts_work_itself(file, data, callee)
}

/// Whether a call of a library (not the project's code) starts or schedules work.
fn starts_work_itself(file: &FileContext, data: &SingleTaskData, callee: Node) -> bool {
    let root = file.parsed.tree.root_node();
    let name = file.index.callable_name(callee, root, file.text);
    if let Some(name) = &name {
        if data.runner_calls.iter().any(|runner| under(name, runner)) {
            return true;
        }
        if name.starts_with("asyncio.") || name.starts_with("anyio.") || name.starts_with("trio.") {
            return !data.harmless_calls.contains(name);
        }
    }
    let last = match callee.kind_name() {
        "attribute" => callee.field(Field::Attribute),
        "identifier" => Some(callee),
        _ => None,
    };
    last.is_some_and(|last| {
        let method = &file.text[last.byte_range()];
        data.scheduling_methods.iter().any(|m| m == method)
    })
}

/// Whether `node` suspends its coroutine: an `await`, `async with` or `async for`.
pub(super) fn suspension(node: Node) -> bool {
    match node.kind_name() {
        "await" => true,
        "with_statement" | "for_statement" | "for_in_clause" => first_child_is_async(node),
        _ => false,
    }
}

/// What a suspension waits on: the awaited expression, the `async for`'s iterable, the
/// `async with`'s context managers; `None` when one cannot be read.
fn suspension_values(node: Node) -> Option<Vec<Node>> {
    match node.kind_name() {
        "await" => Some(node.named_child(0).into_iter().collect()),
        "for_statement" => Some(node.field(Field::Right).into_iter().collect()),
        "for_in_clause" => Some(node.field(Field::Right).into_iter().collect()),
        "with_statement" => {
            let mut values = Vec::new();
            let mut stack: Vec<Node> = node.named_children(&mut node.walk()).collect();
            while let Some(child) = stack.pop() {
                match child.kind_name() {
                    "with_clause" => stack.extend(child.named_children(&mut child.walk())),
                    "with_item" => {
                        let value = child.field(Field::Value)?;
                        let value = if value.kind_name() == "as_pattern" {
                            value.named_child(0)?
                        } else {
                            value
                        };
                        values.push(value);
                    }
                    _ => {}
                }
            }
            Some(values)
        }
        _ => None,
    }
}

/// Whether a suspension waits on a quiet library only (`await session.execute(q)`,
/// `async with engine.begin() as conn`, `await asyncio.sleep(1)`), or on project code the
/// project phase settled as starting nothing: what it awaits starts no task the script's
/// code races with. The calls in it are still read for scheduling.
pub(super) fn quiet_suspension(file: &FileContext, data: &SingleTaskData, node: Node) -> bool {
    suspension_values(node).is_some_and(|values| {
        !values.is_empty()
            && values
                .into_iter()
                .all(|value| quiet_value(file, data, value))
    })
}

/// Whether what `value` calls or is was made by a quiet library (or is a harmless `asyncio`
/// call such as `asyncio.sleep`, or a project function settled as starting nothing).
fn quiet_value(file: &FileContext, data: &SingleTaskData, value: Node) -> bool {
    let root = file.parsed.tree.root_node();
    let callee = (value.kind_name() == "call")
        .then(|| value.field(Field::Function))
        .flatten();
    if callee.is_some_and(|callee| settled_quiet(file, callee)) {
        return true;
    }
    let name = match callee {
        Some(callee) => file.index.callable_name(callee, root, file.text),
        None if value.kind_name() == "call" => None,
        None => file.index.object_kind(value, root, file.text),
    };
    if name.is_some_and(|name| {
        data.is_quiet(&name) || (callee.is_some() && data.harmless_calls.contains(&name))
    }) {
        return true;
    }
    callee.is_some_and(|callee| on_what_a_quiet_context_manager_yields(file, data, callee))
}

/// Whether `callee` is a method of what a project context manager settled as starting no
/// work yields, made by a quiet library: `client.get` after `async with http_session() as
/// client:`, where `http_session` is an `@asynccontextmanager` of the project that yields an
/// `httpx.AsyncClient` (`ProjectCall::StartsNoWork`'s `yields`). The name is bound there
/// only, once in its scope.
fn on_what_a_quiet_context_manager_yields(
    file: &FileContext,
    data: &SingleTaskData,
    callee: Node,
) -> bool {
    let Some(project) = file.project.as_ref() else {
        return false;
    };
    let ProjectLookup::Settled(calls) = project.lookup else {
        return false;
    };
    if callee.kind_name() != "attribute" {
        return false;
    }
    let (Some(object), Some(method)) =
        (callee.field(Field::Object), callee.field(Field::Attribute))
    else {
        return false;
    };
    if object.kind_name() != "identifier" {
        return false;
    }
    let index = file.index;
    let name = &file.text[object.byte_range()];
    let Resolution::Binding(id) = index.resolve_name(name, object.start_byte()) else {
        return false;
    };
    let binding = index.binding(id);
    if binding.kind != BindingKind::Assignment
        || index.bindings_in_scope(binding.scope, name).len() != 1
    {
        return false;
    }
    let root = file.parsed.tree.root_node();
    let Some(value) = binding.value.as_ref().and_then(|v| node_at(root, v)) else {
        return false;
    };
    // `async with <call> as name:` (the item's value, or the `as` pattern around it).
    let item = value.parent().and_then(|p| match p.kind_name() {
        "with_item" => Some(p),
        "as_pattern" => p.parent().filter(|i| i.kind_name() == "with_item"),
        _ => None,
    });
    let statement = item
        .and_then(|item| item.parent())
        .and_then(|clause| clause.parent())
        .filter(|s| s.kind_name() == "with_statement");
    if !statement.is_some_and(first_child_is_async) || value.kind_name() != "call" {
        return false;
    }
    let Some(target) = value
        .field(Field::Function)
        .and_then(|manager| call_target(file, project.module, project.map, manager))
    else {
        return false;
    };
    match calls.get(&starts_no_work_key(&target)) {
        Some(ProjectCall::StartsNoWork { yields: Some(kind) }) => {
            data.is_quiet(&format!("{kind}().{}", &file.text[method.byte_range()]))
        }
        _ => false,
    }
}

/// Whether a callee leaves nothing running when it returns: a function of a quiet library, a
/// harmless `asyncio` one, or project code the settling found starting nothing (what a
/// gather or a task group may start and still contain: `contained`).
pub(super) fn leaves_nothing_running(
    file: &FileContext,
    data: &SingleTaskData,
    callee: Node,
) -> bool {
    leaves_nothing_within(file, data, callee, 3)
}

/// [`leaves_nothing_running`], following the file's own coroutines `depth` deep: one whose
/// body is there to read, with no `yield`, no call that starts work, and only quiet or
/// containing suspensions (what the settling says too, known before it).
fn leaves_nothing_within(
    file: &FileContext,
    data: &SingleTaskData,
    callee: Node,
    depth: usize,
) -> bool {
    if settled_quiet(file, callee) {
        return true;
    }
    let root = file.parsed.tree.root_node();
    if file
        .index
        .callable_name(callee, root, file.text)
        .is_some_and(|name| data.is_quiet(&name) || data.harmless_calls.contains(&name))
    {
        return true;
    }
    let Some(body) = module_function(file, callee, true).and_then(|d| d.field(Field::Body)) else {
        return false;
    };
    if depth == 0 || is_masked(file, body) {
        return false;
    }
    let inner = |c: Node| leaves_nothing_within(file, data, c, depth - 1);
    let mut contained: HashSet<usize> = HashSet::new();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "lambda" | "class_definition" => continue,
            "yield" => return false,
            _ => {}
        }
        if suspension(node)
            && !contained.contains(&node.id())
            && !quiet_suspension(file, data, node)
        {
            let awaited_own = node.kind_name() == "await"
                && node
                    .named_child(0)
                    .filter(|c| c.kind_name() == "call")
                    .and_then(|c| c.field(Field::Function))
                    .is_some_and(&inner);
            match containment(file, data, node, &inner) {
                Some((kind, ids))
                    if kind == Containment::TaskGroup || !caught_inside(node, body) =>
                {
                    contained.extend(ids)
                }
                _ if awaited_own => {}
                _ => return false,
            }
        }
        if node.kind_name() == "call"
            && !contained.contains(&node.id())
            && node.field(Field::Function).is_none_or(|c| {
                module_function(file, c, true).is_none() && schedules_work(file, data, node)
            })
        {
            return false;
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    true
}

/// Whether a suspension waits on project code (which may have gathered tasks, and left
/// them running if it raised): `await helper()`.
pub(super) fn awaits_project_code(file: &FileContext, node: Node) -> bool {
    suspension_values(node).is_some_and(|values| {
        values.into_iter().any(|value| {
            value.kind_name() == "call"
                && value.field(Field::Function).is_some_and(|callee| {
                    calls_project_code(file, callee)
                        || module_function(file, callee, true).is_some()
                })
        })
    })
}

/// For the project summary: per `@contextlib.asynccontextmanager` coroutine of the file, the
/// kind of object every one of its `yield`s yields, when they all yield one known kind
/// ([`FunctionSummary::yields`]).
pub(super) fn record_yields(
    file: &FileContext,
    functions: &mut [FunctionSummary],
    by_scope: &HashMap<ScopeId, usize>,
) {
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let mut kinds: HashMap<usize, Option<String>> = HashMap::new();
    // The `yield` keyword is a node of kind `yield` too: only the expression counts.
    for &node in file.nodes.yields.iter().filter(|node| node.is_named()) {
        let Some(&f) = index
            .function_at(node.start_byte())
            .and_then(|scope| by_scope.get(&scope))
        else {
            continue;
        };
        let kind = node
            .named_child(0)
            .filter(|_| is_async_context_manager(file, node))
            .and_then(|value| index.object_kind(value, root, file.text));
        kinds
            .entry(f)
            .and_modify(|known| {
                if *known != kind {
                    *known = None;
                }
            })
            .or_insert(kind);
    }
    for (f, kind) in kinds {
        if functions[f].is_async {
            functions[f].yields = kind;
        }
    }
}

/// Whether the function around `node` is decorated with `contextlib.asynccontextmanager`
/// alone.
fn is_async_context_manager(file: &FileContext, node: Node) -> bool {
    let mut up = node.parent();
    while let Some(n) = up {
        match n.kind_name() {
            "function_definition" => break,
            "lambda" | "class_definition" => return false,
            _ => up = n.parent(),
        }
    }
    let Some(decorated) = up
        .and_then(|definition| definition.parent())
        .filter(|p| p.kind_name() == "decorated_definition")
    else {
        return false;
    };
    let decorators: Vec<Node> = decorated
        .named_children(&mut decorated.walk())
        .filter(|c| c.kind_name() == "decorator")
        .collect();
    let [decorator] = decorators[..] else {
        return false;
    };
    decorator
        .named_child(0)
        .and_then(|expression| file.index.qualified_name(expression, file.text))
        .is_some_and(|name| name == "contextlib.asynccontextmanager")
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

/// Whether the project phase settled that the project function `callee` names starts no
/// concurrent work, nor does anything it calls or awaits (`project/quiet.rs`). Before the
/// settling (or outside a project run) nothing is known: `false`.
pub(super) fn settled_quiet(file: &FileContext, callee: Node) -> bool {
    let Some(project) = file.project.as_ref() else {
        return false;
    };
    let ProjectLookup::Settled(calls) = project.lookup else {
        return false;
    };
    call_target(file, project.module, project.map, callee)
        .is_some_and(|target| calls.contains_key(&starts_no_work_key(&target)))
}

/// For the project summary: per function, the first thing in its own body that starts or
/// may start concurrent work (`starts_work`), and the project functions it awaits
/// (`awaits`, through `target_id`); the calls it makes are in `calls` already. Doubts: a
/// call of project code whose target is not known (a class of another module), a
/// suspension on anything but a quiet library or project code, a coroutine function of the
/// module handed to a library (it may be scheduled there), a body left out of the parse.
pub(super) fn record_concurrency(
    file: &FileContext,
    registry: &Registry,
    (module, map): (&ModuleInfo, &ModuleMap),
    functions: &mut [FunctionSummary],
    by_scope: &HashMap<ScopeId, usize>,
    target_id: &mut dyn FnMut(String) -> u32,
) {
    let data = registry.single_task();
    let index = file.index;
    let line = |node: Node| node.start_position().row as u32 + 1;
    let mark = |f: usize, at: u32, functions: &mut [FunctionSummary]| {
        let first = &mut functions[f].starts_work;
        if first.is_none_or(|line| at < line) {
            *first = Some(at);
        }
    };
    let contained = contained_in_functions(file, data, (module, map));
    walk_tree(&file.parsed.tree, |cursor| {
        let node = cursor.node();
        // The `await` keyword is a node of kind `await` too: only the expression counts.
        if !node.is_named() {
            return true;
        }
        let kind = node.kind_name();
        // A gather or task group that waits for what it starts leaves nothing running.
        if contained.contains(&node.id()) {
            return true;
        }
        if kind == "function_definition" {
            if let Some(body) = node.field(Field::Body)
                && let Some(&f) = by_scope.get(&index.scope_at(body.start_byte()))
                && is_masked(file, body)
            {
                mark(f, line(node), functions);
            }
            return true;
        }
        if !matches!(kind, "call" | "await" | "with_statement" | "for_statement")
            && kind != "for_in_clause"
        {
            return true;
        }
        let Some(&f) = index
            .function_at(node.start_byte())
            .and_then(|scope| by_scope.get(&scope))
        else {
            return true;
        };
        if kind == "call" {
            let Some(callee) = node.field(Field::Function) else {
                return true;
            };
            let awaited = node.parent().is_some_and(|p| p.kind_name() == "await");
            match call_target(file, module, map, callee) {
                Some(target) => {
                    if awaited {
                        let id = target_id(target);
                        if !functions[f].awaits.contains(&id) {
                            functions[f].awaits.push(id);
                        }
                    }
                }
                None if calls_project_code(file, callee) => mark(f, line(node), functions),
                None => {
                    if starts_work_itself(file, data, callee) || hands_over_a_coroutine(file, node)
                    {
                        mark(f, line(node), functions);
                    }
                }
            }
            return true;
        }
        if !suspension(node) {
            return true;
        }
        // A suspension on project code is decided by the settling (the call is recorded).
        let decided = suspension_values(node).is_some_and(|values| {
            !values.is_empty()
                && values.into_iter().all(|value| {
                    quiet_value(file, data, value)
                        || (value.kind_name() == "call"
                            && value
                                .field(Field::Function)
                                .and_then(|callee| call_target(file, module, map, callee))
                                .is_some())
                })
        });
        if !decided {
            mark(f, line(node), functions);
        }
        true
    });
}

/// The nodes of the file's functions that start tasks and wait for all of them
/// (`contained`): a gather not caught inside its function (which could go on with the other
/// tasks running), a task group's block. What they start is project code (the settling
/// decides it) or leaves nothing running.
fn contained_in_functions(
    file: &FileContext,
    data: &SingleTaskData,
    (module, map): (&ModuleInfo, &ModuleMap),
) -> HashSet<usize> {
    let mut contained = HashSet::new();
    if data.gathering_calls.is_empty() && data.task_groups.is_empty() {
        return contained;
    }
    let leaves_nothing = |callee: Node| {
        leaves_nothing_running(file, data, callee)
            || call_target(file, module, map, callee).is_some()
    };
    walk_tree(&file.parsed.tree, |cursor| {
        let node = cursor.node();
        if !node.is_named() || !matches!(node.kind_name(), "await" | "with_statement") {
            return true;
        }
        let mut up = node.parent();
        while let Some(n) = up.filter(|n| n.kind_name() != "function_definition") {
            up = n.parent();
        }
        let Some(function) = up else {
            return true;
        };
        if let Some((kind, ids)) = containment(file, data, node, &leaves_nothing)
            && (kind == Containment::TaskGroup || !caught_inside(node, function))
        {
            contained.extend(ids);
        }
        true
    });
    contained
}

/// Whether a call of a library passes one of the module's coroutine functions, uncalled,
/// as an argument (`client.add_event_callback(on_message)`): it may be scheduled there.
fn hands_over_a_coroutine(file: &FileContext, call: Node) -> bool {
    let Some(arguments) = call.field(Field::Arguments) else {
        return false;
    };
    arguments.named_children(&mut arguments.walk()).any(|a| {
        let value = match a.kind_name() {
            "keyword_argument" => a.field(Field::Value),
            _ => Some(a),
        };
        value.is_some_and(|v| {
            v.kind_name() == "identifier" && module_function(file, v, true).is_some()
        })
    })
}

/// The module globals made by a quiet library (`engine = create_async_engine(url)`), each
/// bound only so at module level.
pub(super) fn quiet_globals(file: &FileContext, registry: &Registry) -> Vec<String> {
    let data = registry.single_task();
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let mut verdicts: Vec<(String, bool)> = Vec::new();
    // Each name's place in `verdicts` (a file of many module-level names looked each one up
    // in all the others).
    let mut places: HashMap<&str, usize> = HashMap::new();
    for (_, binding) in index.bindings() {
        if binding.scope != index.module_scope() {
            continue;
        }
        let quiet = binding.kind == BindingKind::Assignment
            && binding
                .value
                .as_ref()
                .and_then(|v| node_at(root, v))
                .is_some_and(|value| {
                    let name = match value.kind_name() {
                        "call" => value
                            .field(Field::Function)
                            .and_then(|c| index.callable_name(c, root, file.text)),
                        _ => None,
                    };
                    name.is_some_and(|name| data.is_quiet(&name))
                });
        match places.get(binding.name.as_str()) {
            Some(&place) => verdicts[place].1 &= quiet,
            None => {
                places.insert(&binding.name, verdicts.len());
                verdicts.push((binding.name.clone(), quiet));
            }
        }
    }
    verdicts
        .into_iter()
        .filter_map(|(name, quiet)| quiet.then_some(name))
        .collect()
}

/// The file's classes, with the methods a call of one runs (`__init__`, `__post_init__`) and
/// whether its construction is a doubt whatever they do: a base of the project (not followed)
/// or a runner's (`discord.Client`), a keyword such as `metaclass=`, its own `__new__`.
pub(super) fn constructions(
    file: &FileContext,
    registry: &Registry,
    (module, map): (&ModuleInfo, &ModuleMap),
) -> Vec<Construction> {
    let data = registry.single_task();
    let index = file.index;
    let mut found = Vec::new();
    walk_tree(&file.parsed.tree, |cursor| {
        let class = cursor.node();
        if class.kind_name() != "class_definition" {
            return true;
        }
        let Some(body) = class.field(Field::Body) else {
            return true;
        };
        let mut doubt = false;
        if let Some(bases) = class.field(Field::Superclasses) {
            for base in bases.named_children(&mut bases.walk()) {
                doubt |= match base.kind_name() {
                    "identifier"
                        if index.resolve_name(&file.text[base.byte_range()], base.start_byte())
                            == Resolution::Builtin =>
                    {
                        false
                    }
                    "identifier" | "attribute" => {
                        call_target(file, module, map, base).is_some()
                            || index.qualified_name(base, file.text).is_none_or(|name| {
                                map.is_project_name(&name)
                                    || data.runner_calls.iter().any(|r| under(&name, r))
                            })
                    }
                    _ => true,
                };
            }
        }
        let mut runs = Vec::new();
        for statement in body.named_children(&mut body.walk()) {
            let definition = match statement.kind_name() {
                "function_definition" => statement,
                "decorated_definition" => match statement.child_by_field_name("definition") {
                    Some(d) => d,
                    None => continue,
                },
                _ => continue,
            };
            let Some(name) = definition.field(Field::Name) else {
                continue;
            };
            match &file.text[name.byte_range()] {
                "__new__" | "__call__" => doubt = true,
                method @ ("__init__" | "__post_init__") => runs.push(method.to_owned()),
                _ => {}
            }
        }
        found.push(Construction {
            qualname: index.qualname(index.scope_at(body.start_byte())),
            runs,
            doubt,
        });
        true
    });
    found
}
