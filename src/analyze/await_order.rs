//! A new `await` in the value of an augmented assignment to shared state: in
//! `self.total += await asyncio.to_thread(size, p)` Python reads `self.total` before the await
//! and stores the sum after it, so another task that changes `self.total` meanwhile loses its
//! update (before the fix the statement ran without a suspension, atomically for the other
//! coroutines). Such a fix is unsafe, with the difference stated.
//!
//! Likewise a new `await` while the coroutine has swapped process-wide state for a while
//! (`sys.stdout = buffer` … `sys.stdout = original`, `os.environ["PATH"] = ...` before and
//! after, or inside `with contextlib.redirect_stdout(buffer):`): other coroutines then run with
//! the swapped state. The state and the swaps are `[moved-code] process-state` and
//! `process-state-swaps` of `codemods/UNF401.toml`.
//!
//! And a new `await` after the coroutine changed the working directory (`os.chdir`,
//! `process-state-changes`), or in a loop that changes it: during the await another task can
//! change it again (the moved code's relative paths then name that task's directory), or runs
//! in this one's.

use tree_sitter::Node;

use super::FileContext;
use super::cancellation::adds_await;
use super::state_split::{StateAccesses, split_check};
use crate::codemod::{MovedCode, Registry};
use crate::fix::{Applicability, Fix};
use crate::parse::{Field, FieldChild, KindName, walk_tree};
use crate::semantic::{BindingKind, Resolution, ScopeId};

/// What the file holds that a new `await` may split, found in one walk of the tree (a walk of
/// each call's ancestors costs O(depth) per step: cubic in deeply nested calls).
#[derive(Default)]
pub struct AwaitHazards {
    /// Augmented assignments to shared state: the value's range, and the target as written.
    read_modify_writes: Vec<(std::ops::Range<usize>, String)>,
    /// Assignments of process-wide state: the state, where, and the function they are in.
    state_assignments: Vec<(String, std::ops::Range<usize>, Option<ScopeId>)>,
    /// Bodies of `with` blocks that swap process-wide state: the body's range, the context
    /// manager, where the `with` starts, and its function.
    state_swaps: Vec<(std::ops::Range<usize>, String, usize, Option<ScopeId>)>,
    /// Calls changing the working directory: the call, as written, its function, and the
    /// loops around it in that function.
    directory_changes: Vec<DirectoryChange>,
    /// Reads and writes of shared state in the file's coroutines (`state_split.rs`).
    state: StateAccesses,
}

/// A call changing the process's working directory (`os.chdir(...)`).
struct DirectoryChange {
    range: std::ops::Range<usize>,
    shown: String,
    function: Option<ScopeId>,
    loops: Vec<std::ops::Range<usize>>,
}

/// The call changing the process's working directory that `call` is, as its callee is
/// written (`os.chdir`): a qualified name of `[moved-code] process-state-changes`, or a method
/// of `process-state-change-methods` on a receiver that resolves to nothing known (`os`
/// reached through a star import).
pub(super) fn changes_directory(
    file: &FileContext,
    moved: &MovedCode,
    call: Node,
) -> Option<String> {
    let callee = call.field(Field::Function)?;
    // Only a plain name can be an alias (`from os import chdir as cd`): an attribute is
    // resolved only when its last segment is one of the names.
    if callee.kind_name() == "attribute" {
        let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
        let named = moved.process_state_change_methods.contains(method)
            || moved
                .process_state_changes
                .iter()
                .any(|q| q.rsplit('.').next() == Some(method));
        if !named {
            return None;
        }
    }
    let root = file.parsed.tree.root_node();
    let shown = || file.text[callee.byte_range()].split_whitespace().collect();
    match file.index.callable_name(callee, root, file.text) {
        Some(qualified) => moved.process_state_changes.contains(&qualified).then(shown),
        None => {
            let method = callee
                .field(Field::Attribute)
                .filter(|_| callee.kind_name() == "attribute")?;
            moved
                .process_state_change_methods
                .contains(&file.text[method.byte_range()])
                .then(shown)
        }
    }
}

/// The loops around `node` inside its function (for a change made in a loop, every await of
/// the loop's body comes after one).
fn enclosing_loops(node: Node) -> Vec<std::ops::Range<usize>> {
    let mut loops = Vec::new();
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "function_definition" | "lambda" | "class_definition" => break,
            "for_statement" | "while_statement" => loops.push(parent.byte_range()),
            _ => {}
        }
        current = parent;
    }
    loops
}

impl AwaitHazards {
    fn of(file: &FileContext, moved: Option<&MovedCode>) -> AwaitHazards {
        let mut hazards = AwaitHazards {
            state: StateAccesses::of(file, moved),
            ..AwaitHazards::default()
        };
        let text = file.text;
        let state_of = |target: Node| -> Option<String> {
            let moved = moved?;
            let target = match target.kind_name() {
                "subscript" => target.field(Field::Value)?,
                _ => target,
            };
            (target.kind_name() == "attribute")
                .then(|| file.index.qualified_name(target, text))
                .flatten()
                .filter(|q| moved.process_state.contains(q))
        };
        walk_tree(&file.parsed.tree, |cursor| {
            let node = cursor.node();
            match node.kind_name() {
                "call" => {
                    if let Some(shown) = moved.and_then(|m| changes_directory(file, m, node)) {
                        hazards.directory_changes.push(DirectoryChange {
                            range: node.byte_range(),
                            shown,
                            function: file.index.function_at(node.start_byte()),
                            loops: enclosing_loops(node),
                        });
                    }
                }
                "augmented_assignment" => {
                    if let (Some(left), Some(right)) =
                        (node.field(Field::Left), node.field(Field::Right))
                        && is_shared(file, left)
                    {
                        let written = text[left.byte_range()].split_whitespace().collect();
                        hazards
                            .read_modify_writes
                            .push((right.byte_range(), written));
                    }
                }
                "assignment" => {
                    if let Some(state) = node.field(Field::Left).and_then(state_of) {
                        let function = file.index.function_at(node.start_byte());
                        hazards
                            .state_assignments
                            .push((state, node.byte_range(), function));
                    }
                }
                "with_statement" => {
                    let swap = moved.and_then(|moved| {
                        let clause = node
                            .named_child(0)
                            .filter(|c| c.kind_name() == "with_clause")?;
                        let mut cursor = clause.walk();
                        clause
                            .named_children(&mut cursor)
                            .filter_map(|item| item.field(Field::Value))
                            .filter(|value| value.kind_name() == "call")
                            .filter_map(|value| value.field(Field::Function))
                            .filter_map(|callee| file.index.qualified_name(callee, text))
                            .find(|q| moved.process_state_swaps.contains(q))
                    });
                    if let (Some(swap), Some(body)) = (swap, node.field(Field::Body)) {
                        let function = file.index.function_at(node.start_byte());
                        hazards.state_swaps.push((
                            body.byte_range(),
                            swap,
                            node.start_byte(),
                            function,
                        ));
                    }
                }
                _ => {}
            }
            true
        });
        hazards
    }
}

fn hazards<'f>(file: &'f FileContext, registry: &Registry) -> &'f AwaitHazards {
    file.await_hazards.get_or_init(|| {
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref());
        AwaitHazards::of(file, moved)
    })
}

fn add_difference(fix: &mut Fix, difference: String) {
    fix.applicability = fix.applicability.min(Applicability::Unsafe);
    fix.caveat = Some(match fix.caveat.take() {
        Some(caveat) => format!("{caveat}; {difference}"),
        None => difference,
    });
}

/// The fix, unsafe (and why) where the `await` it adds sits in the value of an augmented
/// assignment whose target is shared state: an attribute or item, or a module global.
pub(super) fn keep_read_modify_write(
    file: &FileContext,
    registry: &Registry,
    call: Node,
    mut fix: Fix,
) -> Fix {
    let inside = |range: &std::ops::Range<usize>| {
        range.start <= call.start_byte() && call.end_byte() <= range.end
    };
    let Some((_, written)) = hazards(file, registry)
        .read_modify_writes
        .iter()
        .find(|(value, _)| inside(value))
    else {
        return fix;
    };
    if !adds_await(file.text, &fix) {
        return fix;
    }
    add_difference(
        &mut fix,
        format!(
            "`{written} += ...` reads `{written}` before the new `await` and stores after it: \
             another task that changes it meanwhile loses its update; assign the awaited \
             result to a local first"
        ),
    );
    fix
}

/// The fix, unsafe (and why) where the `await` it adds splits a check of shared state (a
/// module global, `self.x`, a class attribute) from the write that acts on it
/// (`state_split.rs`).
pub(super) fn keep_state_check(file: &FileContext, registry: &Registry, call: Node, fix: &mut Fix) {
    if !adds_await(file.text, fix) {
        return;
    }
    let state = &hazards(file, registry).state;
    if let Some(split) = split_check(state, file, call) {
        add_difference(fix, split);
        return;
    }
    // Races with the other coroutines of the class or module (`state_mirror.rs`).
    let replaced = super::state_mirror::replaced_state(file, state, call);
    let mirrored = || {
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())?;
        let inside = |r: &std::ops::Range<usize>| {
            *r == call.byte_range()
                || fix
                    .moves
                    .as_ref()
                    .is_some_and(|m| m.start <= r.start && r.end <= m.end)
        };
        let writes: Vec<_> = super::shared_files::shared_files(file, moved)
            .all()
            .iter()
            .filter(|a| a.write && inside(&a.range))
            .collect();
        super::state_mirror::split_mirror(file, state, &writes, call)
    };
    if let Some(race) = replaced.or_else(mirrored) {
        add_difference(fix, race);
    }
}

/// An attribute or item (`self.total`, `counts[k]`), or a name the module binds.
fn is_shared(file: &FileContext, target: Node) -> bool {
    match target.kind_name() {
        "attribute" | "subscript" => true,
        "identifier" => {
            let name = &file.text[target.byte_range()];
            match file.index.resolve_name(name, target.start_byte()) {
                Resolution::Binding(id) => {
                    let binding = file.index.binding(id);
                    binding.scope == file.index.module_scope()
                        && binding.kind != BindingKind::Parameter
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Make `fix` unsafe (and say why) when the `await` it adds lands while the coroutine has
/// swapped process-wide state: between an assignment of it before `call` and one after, or
/// in the block of a `with` that swaps it.
pub(super) fn keep_process_state(
    file: &FileContext,
    registry: &Registry,
    call: Node,
    fix: &mut Fix,
) {
    let hazards = hazards(file, registry);
    if hazards.state_assignments.is_empty()
        && hazards.state_swaps.is_empty()
        && hazards.directory_changes.is_empty()
    {
        return;
    }
    let function = file.index.function_at(call.start_byte());
    if function.is_none() || !adds_await(file.text, fix) {
        return;
    }
    let line_of = |at: usize| file.text[..at].matches('\n').count() + 1;
    let in_function = |f: &Option<ScopeId>| *f == function;
    let restored = |state: &str| {
        hazards
            .state_assignments
            .iter()
            .any(|(s, range, f)| s == state && in_function(f) && range.start >= call.end_byte())
    };
    let swapped = hazards
        .state_assignments
        .iter()
        .find(|(state, range, f)| {
            in_function(f) && range.end <= call.start_byte() && restored(state)
        })
        .map(|(state, range, _)| {
            format!(
                "the coroutine swaps `{state}` on line {} and restores it after this call",
                line_of(range.start)
            )
        })
        .or_else(|| {
            hazards
                .state_swaps
                .iter()
                .find(|(body, _, _, f)| {
                    in_function(f) && body.start <= call.start_byte() && call.end_byte() <= body.end
                })
                .map(|(_, swap, at, _)| {
                    format!(
                        "the call runs inside `with {swap}(...)` (line {})",
                        line_of(*at)
                    )
                })
        });
    let Some(swapped) = swapped else {
        // The working directory changed before the call (or in a loop around it).
        let changed = hazards.directory_changes.iter().find(|change| {
            in_function(&change.function)
                && (change.range.end <= call.start_byte()
                    || change
                        .loops
                        .iter()
                        .any(|l| l.start <= call.start_byte() && call.end_byte() <= l.end))
        });
        if let Some(change) = changed {
            add_difference(
                fix,
                format!(
                    "the coroutine changes the working directory (`{}(...)`, line {}) before \
                     this call: during the new `await` another task can change it again, and \
                     the moved code's relative paths then name that task's directory (or that \
                     task runs in this one's); keep the calls on the event loop or use \
                     absolute paths",
                    change.shown,
                    line_of(change.range.start)
                ),
            );
        }
        return;
    };
    add_difference(
        fix,
        format!(
            "{swapped}: during the new `await` other coroutines run with the swapped state \
             (what they print lands in this one's buffer, they see its environment)"
        ),
    );
}
