//! Where the coroutine a script runs alone (or a framework's startup hook, or an async test)
//! first suspends: a call before that point runs while nothing else can have started on the
//! loop. Read by `entry` (scripts and hooks) and `test_bodies` (tests and fixtures).

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use super::concurrency::{
    awaits_project_code, leaves_nothing_running, quiet_suspension, schedules_work, suspension,
};
use super::contained::{Containment, containment, in_handler_around};
use super::module_functions::module_function;
use crate::codemod::SingleTaskData;
use crate::parse::{Field, FieldChild, KindName};

/// Whether `call` in `main`'s own body runs before `main` first suspends (`main` runs alone
/// at first, as `entry` finds it, or is a startup hook or an async test): no `await`, `async with`,
/// `async for` or `yield` precedes it or shares a loop with it, but for the awaits of quiet
/// libraries (which start nothing), and no call before it or in a loop around it (nor in the
/// file's synchronous functions those call) starts or schedules work.
pub(super) fn before_first_suspension(
    file: &FileContext,
    data: &SingleTaskData,
    main: Node,
    call: Node,
) -> bool {
    before_first_suspension_but(file, data, main, call, &|_| false)
}

/// [`before_first_suspension`], with the suspensions `quiet_too` says start nothing counted as
/// quiet too (a startup hook's awaits through its parameter's request/response client).
pub(super) fn before_first_suspension_but(
    file: &FileContext,
    data: &SingleTaskData,
    main: Node,
    call: Node,
    quiet_too: &dyn Fn(Node) -> bool,
) -> bool {
    let Some(body) = main.field(Field::Body) else {
        return false;
    };
    let start = call.start_byte();
    // The loops around the call: a suspension anywhere in them runs before a later iteration.
    let mut loops = Vec::new();
    // The `if` statements around it, with their other branches: those never run before it.
    let mut branches: Vec<Node> = Vec::new();
    let mut up = call.parent();
    while let Some(node) = up.filter(|n| n.id() != body.id()) {
        match node.kind_name() {
            "for_statement" | "while_statement" => loops.push(node.byte_range()),
            "if_statement" => branches.push(node),
            _ => {}
        }
        up = node.parent();
    }
    let other_branches = other_branches(&branches, &loops, start);
    let mut helpers: Vec<Node> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::from([main.id()]);
    // What a gather or task group before it started and waited for: nothing left running.
    let mut contained: HashSet<usize> = HashSet::new();
    let leaves_nothing = |callee: Node| leaves_nothing_running(file, data, callee);
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let kind = node.kind_name();
        if matches!(kind, "function_definition" | "lambda") || other_branches.contains(&node.id()) {
            continue;
        }
        let in_loop = loops
            .iter()
            .any(|r| r.start <= node.start_byte() && node.end_byte() <= r.end);
        let before = node.start_byte() < start || in_loop;
        let mut suspends = kind == "yield"
            || (suspension(node)
                && !contained.contains(&node.id())
                && !quiet_suspension(file, data, node)
                && !quiet_too(node));
        // A gather that returned, a task group's block that ended: alone again after it, but
        // not in an `except` / `finally` around a gather (it raised, the rest runs on), nor
        // inside the block.
        if suspends
            && before
            && !(node.start_byte() <= start && start < node.end_byte())
            && let Some((how, ids)) = containment(file, data, node, &leaves_nothing)
            && (how == Containment::TaskGroup || !in_handler_around(node, start, body))
        {
            contained.extend(ids);
            suspends = false;
        }
        if suspends && before {
            return false;
        }
        // Project code may have gathered tasks and raised: its `except` is not alone.
        if before
            && suspension(node)
            && awaits_project_code(file, node)
            && in_handler_around(node, start, body)
        {
            return false;
        }
        // A call in a loop around it runs before its later iterations, itself included.
        if kind == "call" && before && !contained.contains(&node.id()) {
            if schedules_work(file, data, node) && !quiet_too(node) {
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
                if schedules_work(file, data, node) {
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

/// The bodies of the branches of the `if` statements around a position (at `start`) that do
/// not hold it: only one branch runs, so what the others do never runs before it. Not when a
/// loop holds the `if` (an earlier iteration may have taken another branch); an `elif`'s
/// condition is kept (it may run before).
fn other_branches(ifs: &[Node], loops: &[Range<usize>], start: usize) -> HashSet<usize> {
    let holds = |node: Node| node.start_byte() <= start && start < node.end_byte();
    let mut skipped = HashSet::new();
    for statement in ifs {
        if loops
            .iter()
            .any(|r| r.start <= statement.start_byte() && statement.end_byte() <= r.end)
        {
            continue;
        }
        for child in statement.named_children(&mut statement.walk()) {
            if holds(child) {
                continue;
            }
            let branch = match child.kind_name() {
                "block" => Some(child),
                "elif_clause" => child.field(Field::Consequence),
                "else_clause" => child.field(Field::Body),
                _ => None,
            };
            skipped.extend(branch.map(|b| b.id()));
        }
    }
    skipped
}
