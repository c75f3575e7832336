//! Races a new `await` opens between a coroutine and the other coroutines of its class or
//! module on in-memory shared state (a module global, `self.x`, a class attribute) that
//! mirrors a database or a file, as `state_split.rs` does for a check and its act in one
//! coroutine:
//!
//! - **A write and its in-memory copy split.** The moved code writes a database or a file
//!   (`DELETE FROM Codes`) and the same coroutine, with no `await` between them in the
//!   original, changes shared state (`self.curr_code = word`) that another coroutine reads.
//!   Before the fix both changed at once for the other coroutines; after it a reader that
//!   runs during the new `await` sees the rows changed and the old value (a code claimed
//!   twice).
//! - **A result that replaces state others change in place.** The moved call's result (a
//!   `SELECT`), directly or through a local, is assigned to shared state
//!   (`self.viewed = [r[0] for r in rows]`) that another coroutine changes in place
//!   (`self.viewed.append(user)`, `self.seen[k] = v`, `+=`): a change made while the worker
//!   thread runs goes to the old value, which the assignment then throws away.
//!
//! Such a fix is unsafe, with the state, both lines and the other coroutine named.

use tree_sitter::Node;

use super::FileContext;
use super::branches::{branches, exclusive_branches};
use super::file_access::FileAccess;
use super::path_race::awaits_between;
use super::shared_collections::named;
use super::state_split::{StateAccess, StateAccesses, StateKind};
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingId, Resolution, ScopeId};

/// The state as a message names it.
fn what(access: &StateAccess) -> String {
    match access.kind {
        StateKind::Global => format!("`{}`, a module global", access.shown),
        StateKind::Instance => format!("`{}`, kept on the instance", access.shown),
        StateKind::Class => format!("`{}`, a class attribute", access.shown),
    }
}

fn function_name(file: &FileContext, function: ScopeId) -> String {
    file.index.scope(function).name.clone().unwrap_or_default()
}

/// What a database or file access is made to, for a message.
fn target(access: &FileAccess) -> String {
    match (access.database, access.deletes) {
        (true, _) => format!("writes {}", named(access)),
        (false, true) => format!("deletes the file `{}`", access.shown),
        (false, false) => format!("writes the file `{}`", access.shown),
    }
}

/// The caveat of a fix whose new `await` at `call` separates a write the moved code makes to a
/// database or a file (`writes`) from a change of shared state the coroutine makes next to it,
/// with no `await` between them in the original, when another coroutine reads that state.
pub(super) fn split_mirror(
    file: &FileContext,
    state: &StateAccesses,
    writes: &[&FileAccess],
    call: Node,
) -> Option<String> {
    let written = writes.first()?;
    let function = file.index.async_function_at(call.start_byte())?;
    state
        .accesses
        .iter()
        .find(|a| a.function == function && (a.write || a.mutates))?;
    let hop = branches(call);
    let changes = state
        .accesses
        .iter()
        .filter(|a| a.function == function && (a.write || a.mutates))
        .filter(|a| !exclusive_branches(&a.branches, &hop));
    for change in changes {
        let starts = match change.write {
            true => change.from,
            false => change.at,
        };
        let after = if starts >= call.end_byte() {
            !awaits_between(file, call.end_byte(), starts)
        } else if change.at <= call.start_byte() {
            !awaits_between(file, change.at, call.start_byte())
        } else {
            // The call is in the statement that assigns: `self.x = f()` (see
            // `replaced_state`).
            continue;
        };
        if !after {
            continue;
        }
        let Some(reader) = state
            .accesses
            .iter()
            .filter(|r| r.key == change.key && r.function != function && !r.write)
            .max_by_key(|r| r.checks)
        else {
            continue;
        };
        let reader_name = function_name(file, reader.function);
        let changed = match change.write && change.assigns {
            true => "assigned",
            false => "changed",
        };
        let seen = match starts >= call.end_byte() {
            true => "the change already written and the old value",
            false => "the new value and the change not yet written",
        };
        return Some(format!(
            "{} (line {}) while {}, is {changed} (line {}) with no `await` between them \
             before the fix, so the other coroutines saw both change at once; the new `await` \
             separates them, and `{reader_name}` (line {}), which reads `{}`, can run in \
             between and see {seen}, a state the original never showed; change `{}` on the same side of \
             the `await` as the write (before it: to the new value, or to one that closes the \
             window such as `None`), or hold an `asyncio.Lock` that `{reader_name}` holds too",
            target(written),
            call.start_position().row + 1,
            what(change),
            change.line,
            reader.line,
            reader.shown,
            change.shown,
        ));
    }
    None
}

/// The caveat of a fix whose moved call's result (directly, or through a local the
/// coroutine then reads) replaces shared state that another coroutine changes in place.
pub(super) fn replaced_state(
    file: &FileContext,
    state: &StateAccesses,
    call: Node,
) -> Option<String> {
    let function = file.index.async_function_at(call.start_byte())?;
    let own = |a: &&StateAccess| a.function == function && a.write && a.assigns;
    // The call's ancestors only where its coroutine assigns shared state: a walk of them per
    // call is quadratic in deeply nested calls.
    state.accesses.iter().find(own)?;
    let assignment = assignment_of(call)?;
    // `self.x = await hop(...)`, or `rows = await hop(...)` then `self.x = [...rows...]`.
    let replaced = state
        .accesses
        .iter()
        .filter(own)
        .find(|a| a.from == assignment.start_byte())
        .or_else(|| {
            let local = assignment
                .field(Field::Left)
                .filter(|l| l.kind_name() == "identifier")?;
            let name = &file.text[local.byte_range()];
            let Resolution::Binding(bound) = file.index.resolve_name(name, assignment.end_byte())
            else {
                return None;
            };
            let root = file.parsed.tree.root_node();
            state.accesses.iter().filter(own).find(|a| {
                a.from >= assignment.end_byte()
                    && !awaits_between(file, assignment.end_byte(), a.from)
                    && crate::semantic::node_at(root, &(a.from..a.at))
                        .and_then(|s| s.field(Field::Right))
                        .is_some_and(|value| reads_binding(file, value, name, bound))
            })
        })?;
    let changer = state.accesses.iter().find(|a| {
        a.key == replaced.key && a.function != function && (a.mutates || (a.write && !a.assigns))
    })?;
    let changer_name = function_name(file, changer.function);
    Some(format!(
        "{}, is replaced (line {}) by what the moved call returns (line {}), while \
         `{changer_name}` changes it in place (line {}): a change made while the worker thread \
         runs goes to the old value, which the assignment then throws away (a lost update; \
         before the fix nothing ran between the call and the assignment); hold an \
         `asyncio.Lock` that `{changer_name}` holds too, or apply the changes made meanwhile \
         to the new value",
        what(replaced),
        replaced.line,
        call.start_position().row + 1,
        changer.line,
    ))
}

/// The assignment whose value holds `call` (`x = await f()`, `self.x = [r for r in f()]`).
fn assignment_of(call: Node) -> Option<Node> {
    let mut node = call;
    loop {
        let parent = node.parent()?;
        match parent.kind_name() {
            "assignment" => {
                return (parent.field(Field::Right) == Some(node)).then_some(parent);
            }
            "block"
            | "expression_statement"
            | "function_definition"
            | "lambda"
            | "class_definition"
            | "module" => return None,
            _ => node = parent,
        }
    }
}

/// Whether `value` reads the name `name` bound as `bound`.
fn reads_binding(file: &FileContext, value: Node, name: &str, bound: BindingId) -> bool {
    let mut stack = vec![value];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier"
            && &file.text[node.byte_range()] == name
            && file.index.resolve_name(name, node.start_byte()) == Resolution::Binding(bound)
        {
            return true;
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    false
}
