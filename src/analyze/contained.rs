//! Suspensions that contain the tasks they start, for the position-aware single-task
//! recognition (`entry`) and the project summary (`concurrency::record_concurrency`): an
//! `await asyncio.gather(...)` of coroutines or tasks made right there waits for every one of
//! them before it returns, and an `async with asyncio.TaskGroup() as tg:` block waits for the
//! tasks started in it (`tg.create_task(...)`, anyio's `tg.start_soon(f)`), so after either
//! the loop is as alone as before. The calls that do so are data (`[single-task]
//! gathering-calls`, `task-makers`, `task-groups`, `task-group-methods`). What is gathered or
//! started must itself leave nothing running: the caller says which callees do (a quiet
//! library or project code the settling found starting nothing; in the summary, project code
//! the settling decides). A gather that raises leaves the other tasks running: code in an
//! `except` or `finally` around it is not alone ([`in_handler_around`]); a task group waits
//! for its tasks even then. Conservative: any other shape is no containment.

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::SingleTaskData;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::Resolution;

/// What kind of containment a suspension is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Containment {
    /// An awaited gathering call: done when it returns, not when it raises.
    Gather,
    /// A task group's `async with`: done after its block, whatever happened in it.
    TaskGroup,
}

/// Whether the suspension `node` contains every task it starts, and the ids of the nodes
/// that start or wait for them (the suspension, the gathering call, the task makers, the task
/// group's method calls): those start nothing that outlives the suspension. `leaves_nothing`
/// says whether a callee (of a gathered call, of `create_task(...)`'s coroutine, of
/// `start_soon`'s function) leaves nothing running when it returns.
pub(super) fn containment(
    file: &FileContext,
    data: &SingleTaskData,
    node: Node,
    leaves_nothing: &dyn Fn(Node) -> bool,
) -> Option<(Containment, Vec<usize>)> {
    match node.kind_name() {
        "await" => gather(file, data, node, leaves_nothing).map(|ids| (Containment::Gather, ids)),
        "with_statement" => {
            task_group(file, data, node, leaves_nothing).map(|ids| (Containment::TaskGroup, ids))
        }
        _ => None,
    }
}

/// `await asyncio.gather(a(), create_task(b()), *[c(x) for x in xs], *tasks)`, or the gather
/// kept in a name in the statement just before and awaited only there (`futures =
/// asyncio.gather(*tasks)`, `results = await futures`).
fn gather(
    file: &FileContext,
    data: &SingleTaskData,
    node: Node,
    leaves_nothing: &dyn Fn(Node) -> bool,
) -> Option<Vec<usize>> {
    let awaited = node.named_child(0)?;
    let call = match awaited.kind_name() {
        "call" => awaited,
        "identifier" => {
            let bound = bound_once(file, awaited, node)?;
            let before = statement_of(node)?.prev_named_sibling()?;
            (before.id() == bound.statement.id() && bound.mentions == 2)
                .then_some(bound.value)
                .filter(|v| v.kind_name() == "call")?
        }
        _ => return None,
    };
    let root = file.parsed.tree.root_node();
    let name = file
        .index
        .callable_name(call.field(Field::Function)?, root, file.text)?;
    if !data.gathering_calls.contains(&name) {
        return None;
    }
    let mut ids = vec![node.id(), call.id()];
    let arguments = call.field(Field::Arguments)?;
    for argument in arguments.named_children(&mut arguments.walk()) {
        match argument.kind_name() {
            // `return_exceptions=True`: no call in it.
            "keyword_argument" => {
                if argument
                    .field(Field::Value)
                    .is_none_or(|v| has_call(v) || v.kind_name() == "await")
                {
                    return None;
                }
            }
            "list_splat" => {
                let inner = argument.named_child(0)?;
                let items = fresh_list(file, inner, call)?;
                for item in items {
                    ids.extend(fresh_task(file, data, item, leaves_nothing)?);
                }
            }
            _ => ids.extend(fresh_task(file, data, argument, leaves_nothing)?),
        }
    }
    Some(ids)
}

/// The coroutine calls a starred argument of a gather holds: a list or a list comprehension
/// written there, or a name bound to one in the statement just before the gather's and
/// mentioned nowhere else in its function, or a name bound to an empty list that the loop
/// just before the gather's statement fills, one task per iteration, and nothing else
/// mentions (`tasks = []`, `for x in xs: tasks.append(asyncio.ensure_future(f(x)))`).
fn fresh_list<'t>(
    file: &FileContext<'t>,
    inner: Node<'t>,
    gather: Node<'t>,
) -> Option<Vec<Node<'t>>> {
    match inner.kind_name() {
        "list" => Some(inner.named_children(&mut inner.walk()).collect()),
        "list_comprehension" => Some(vec![inner.field(Field::Body)?]),
        "identifier" => {
            let bound = bound_once(file, inner, gather)?;
            let before = statement_of(gather)?.prev_named_sibling()?;
            if before.id() == bound.statement.id() && bound.mentions == 2 {
                return fresh_list(file, bound.value, gather);
            }
            // `tasks = []` earlier, then a loop appending one task per iteration.
            let empty = bound.value.kind_name() == "list" && bound.value.named_child_count() == 0;
            if !empty
                || bound.mentions != 3
                || before.kind_name() != "for_statement"
                || super::module_functions::first_child_is_async(before)
                || before
                    .named_children(&mut before.walk())
                    .any(|c| c.kind_name() == "else_clause")
                || bound.statement.parent().map(|p| p.id()) != before.parent().map(|p| p.id())
                || bound.statement.start_byte() >= before.start_byte()
            {
                return None;
            }
            let body = before.field(Field::Body)?;
            let [statement] = body.named_children(&mut body.walk()).collect::<Vec<_>>()[..] else {
                return None;
            };
            let call = statement
                .named_child(0)
                .filter(|_| statement.kind_name() == "expression_statement")
                .filter(|c| c.kind_name() == "call")?;
            let callee = call.field(Field::Function)?;
            let receiver = callee.field(Field::Object)?;
            let appends = callee.kind_name() == "attribute"
                && callee
                    .field(Field::Attribute)
                    .is_some_and(|a| &file.text[a.byte_range()] == "append")
                && receiver.kind_name() == "identifier"
                && file.text[receiver.byte_range()] == file.text[inner.byte_range()];
            let arguments = call.field(Field::Arguments)?;
            let item = arguments.named_child(0)?;
            (appends && arguments.named_child_count() == 1).then(|| vec![item])
        }
        _ => None,
    }
}

/// A local name bound once in its scope by an assignment statement: the value, that
/// statement, and how many times the function around `at` mentions the binding.
struct BoundOnce<'t> {
    value: Node<'t>,
    statement: Node<'t>,
    mentions: usize,
}

fn bound_once<'t>(
    file: &FileContext<'t>,
    name_node: Node<'t>,
    at: Node<'t>,
) -> Option<BoundOnce<'t>> {
    let name = &file.text[name_node.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, name_node.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if file.index.bindings_in_scope(binding.scope, name).len() != 1 {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let value = binding
        .value
        .as_ref()
        .and_then(|v| crate::semantic::node_at(root, v))?;
    let assignment = value.parent().filter(|p| p.kind_name() == "assignment")?;
    let statement = assignment
        .parent()
        .filter(|s| s.kind_name() == "expression_statement")?;
    let function = enclosing_function(at)?;
    let mut mentions = 0;
    let mut stack = vec![function];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "identifier"
            && &file.text[n.byte_range()] == name
            && file.index.resolve_name(name, n.start_byte()) == Resolution::Binding(id)
        {
            mentions += 1;
        }
        stack.extend(n.named_children(&mut n.walk()));
    }
    Some(BoundOnce {
        value,
        statement,
        mentions,
    })
}

/// The statement (in a block, or the module) holding `node`.
fn statement_of(node: Node) -> Option<Node> {
    let mut up = node;
    while up
        .parent()
        .is_some_and(|p| p.kind_name() != "block" && p.kind_name() != "module")
    {
        up = up.parent()?;
    }
    Some(up)
}

/// A task made right there of a call that leaves nothing running: `create_task(a())`, or the
/// coroutine call `a()` itself. The ids of the task makers.
fn fresh_task(
    file: &FileContext,
    data: &SingleTaskData,
    item: Node,
    leaves_nothing: &dyn Fn(Node) -> bool,
) -> Option<Vec<usize>> {
    if item.kind_name() != "call" {
        return None;
    }
    let callee = item.field(Field::Function)?;
    let root = file.parsed.tree.root_node();
    let maker = file
        .index
        .callable_name(callee, root, file.text)
        .is_some_and(|name| data.task_makers.contains(&name));
    if maker {
        let arguments = item.field(Field::Arguments)?;
        let coroutine = arguments.named_child(0)?;
        if arguments.named_child_count() != 1 || coroutine.kind_name() != "call" {
            return None;
        }
        let mut ids = vec![item.id()];
        ids.extend(fresh_task(file, data, coroutine, leaves_nothing)?);
        return Some(ids);
    }
    leaves_nothing(callee).then(Vec::new)
}

/// `async with asyncio.TaskGroup() as tg:` whose block mentions `tg` only to start tasks of
/// callees that leave nothing running.
fn task_group(
    file: &FileContext,
    data: &SingleTaskData,
    node: Node,
    leaves_nothing: &dyn Fn(Node) -> bool,
) -> Option<Vec<usize>> {
    if !super::module_functions::first_child_is_async(node) {
        return None;
    }
    let clause = node
        .named_children(&mut node.walk())
        .find(|c| c.kind_name() == "with_clause")?;
    let items: Vec<Node> = clause.named_children(&mut clause.walk()).collect();
    let [item] = items[..] else {
        return None;
    };
    let pattern = item
        .field(Field::Value)
        .filter(|v| v.kind_name() == "as_pattern")?;
    let maker = pattern.named_child(0).filter(|c| c.kind_name() == "call")?;
    let root = file.parsed.tree.root_node();
    let name = file
        .index
        .callable_name(maker.field(Field::Function)?, root, file.text)?;
    if !data.task_groups.contains(&name) {
        return None;
    }
    let alias = pattern.field(Field::Alias)?;
    let alias = if alias.kind_name() == "identifier" {
        alias
    } else {
        alias
            .named_child(0)
            .filter(|a| a.kind_name() == "identifier")?
    };
    let group = &file.text[alias.byte_range()];
    let body = node.field(Field::Body)?;
    let mut ids = vec![node.id(), maker.id()];
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if matches!(
            n.kind_name(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            // A nested function may keep the group: a doubt.
            if mentions(file, n, group) {
                return None;
            }
            continue;
        }
        if n.kind_name() == "identifier" && &file.text[n.byte_range()] == group {
            // Only as `tg.<method>(...)`.
            let attribute = n.parent().filter(|p| {
                p.kind_name() == "attribute"
                    && p.field(Field::Object).map(|o| o.id()) == Some(n.id())
            })?;
            let method = attribute.field(Field::Attribute)?;
            if !data
                .task_group_methods
                .iter()
                .any(|m| m == &file.text[method.byte_range()])
            {
                return None;
            }
            let call = attribute.parent().filter(|p| {
                p.kind_name() == "call"
                    && p.field(Field::Function).map(|f| f.id()) == Some(attribute.id())
            })?;
            let first = call.field(Field::Arguments)?.named_child(0)?;
            match first.kind_name() {
                "call" => ids.extend(fresh_task(file, data, first, leaves_nothing)?),
                "identifier" | "attribute" if leaves_nothing(first) => {}
                _ => return None,
            }
            ids.push(call.id());
        }
        stack.extend(n.named_children(&mut n.walk()));
    }
    Some(ids)
}

/// Whether `name` appears as an identifier in `node`.
fn mentions(file: &FileContext, node: Node, name: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "identifier" && &file.text[n.byte_range()] == name {
            return true;
        }
        stack.extend(n.named_children(&mut n.walk()));
    }
    false
}

/// Whether `node` holds a call.
fn has_call(node: Node) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "call" {
            return true;
        }
        stack.extend(n.named_children(&mut n.walk()));
    }
    false
}

/// The function definition around `node`.
fn enclosing_function(node: Node) -> Option<Node> {
    let mut up = node.parent();
    while let Some(n) = up {
        if n.kind_name() == "function_definition" {
            return Some(n);
        }
        up = n.parent();
    }
    None
}

/// Whether `position` is in an `except` or `finally` clause of a `try` whose body holds
/// `suspension` (inside `within`): it runs when the suspension raised, with whatever it
/// started still running.
pub(super) fn in_handler_around(suspension: Node, position: usize, within: Node) -> bool {
    let mut up = suspension.parent();
    while let Some(n) = up.filter(|n| n.id() != within.id()) {
        if n.kind_name() == "try_statement"
            && n.field(Field::Body).is_some_and(|b| {
                b.start_byte() <= suspension.start_byte() && suspension.end_byte() <= b.end_byte()
            })
        {
            let handles = n.named_children(&mut n.walk()).any(|clause| {
                matches!(
                    clause.kind_name(),
                    "except_clause" | "except_group_clause" | "finally_clause"
                ) && clause.start_byte() <= position
                    && position < clause.end_byte()
            });
            if handles {
                return true;
            }
        }
        up = n.parent();
    }
    false
}

/// Whether `suspension` is in a `try` with an `except` clause, inside `function`: the
/// function may catch a gather's error and go on (or return) with its other tasks running.
pub(super) fn caught_inside(suspension: Node, function: Node) -> bool {
    let mut up = suspension.parent();
    while let Some(n) = up.filter(|n| n.id() != function.id()) {
        if n.kind_name() == "try_statement"
            && n.field(Field::Body).is_some_and(|b| {
                b.start_byte() <= suspension.start_byte() && suspension.end_byte() <= b.end_byte()
            })
            && n.named_children(&mut n.walk())
                .any(|c| matches!(c.kind_name(), "except_clause" | "except_group_clause"))
        {
            return true;
        }
        up = n.parent();
    }
    false
}
