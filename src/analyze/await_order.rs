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

use tree_sitter::Node;

use super::FileContext;
use super::cancellation::adds_await;
use crate::codemod::{Registry, Site};
use crate::fix::{Applicability, Fix};
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// The fix, unsafe (and why) where the `await` it adds sits in the value of an augmented
/// assignment whose target is shared state: an attribute or item, or a module global.
pub(super) fn keep_read_modify_write(site: &Site, mut fix: Fix) -> Fix {
    let Some(target) = augmented_target(site.call) else {
        return fix;
    };
    if !is_shared(site, target) || !adds_await(site.text, &fix) {
        return fix;
    }
    let written: String = site.text[target.byte_range()].split_whitespace().collect();
    let difference = format!(
        "`{written} += ...` reads `{written}` before the new `await` and stores after it: \
         another task that changes it meanwhile loses its update; assign the awaited result to \
         a local first"
    );
    fix.applicability = fix.applicability.min(Applicability::Unsafe);
    fix.caveat = Some(match fix.caveat.take() {
        Some(caveat) => format!("{caveat}; {difference}"),
        None => difference,
    });
    fix
}

/// The target of the augmented assignment whose value holds `call` (through expressions
/// only, not a lambda or a nested function).
fn augmented_target(call: Node) -> Option<Node> {
    let mut current = call;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "augmented_assignment" => {
                let right = parent.field(Field::Right)?;
                return (right.start_byte() <= call.start_byte()
                    && call.end_byte() <= right.end_byte())
                .then(|| parent.field(Field::Left))
                .flatten();
            }
            "lambda" | "function_definition" | "expression_statement" | "block" => return None,
            _ => current = parent,
        }
    }
    None
}

/// An attribute or item (`self.total`, `counts[k]`), or a name the module binds.
fn is_shared(site: &Site, target: Node) -> bool {
    match target.kind_name() {
        "attribute" | "subscript" => true,
        "identifier" => {
            let name = &site.text[target.byte_range()];
            match site.index.resolve_name(name, target.start_byte()) {
                Resolution::Binding(id) => {
                    let binding = site.index.binding(id);
                    binding.scope == site.index.module_scope()
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
    let Some(moved) = registry
        .codemods()
        .iter()
        .find_map(|c| c.moved_code.as_ref())
    else {
        return;
    };
    if moved.process_state.is_empty() && moved.process_state_swaps.is_empty() {
        return;
    }
    let Some(function) = enclosing_function(call) else {
        return;
    };
    if !adds_await(file.text, fix) {
        return;
    }
    let state_of = |target: Node| -> Option<String> {
        let target = match target.kind_name() {
            "subscript" => target.field(Field::Value)?,
            _ => target,
        };
        (target.kind_name() == "attribute")
            .then(|| file.index.qualified_name(target, file.text))
            .flatten()
            .filter(|q| moved.process_state.contains(q))
    };
    let mut before: Vec<(String, usize)> = Vec::new();
    let mut after: Vec<String> = Vec::new();
    let mut swapped_by_with = None;
    let mut stack = vec![function];
    let mut cursor = function.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "lambda" | "class_definition" if node.id() != function.id() => {
                continue;
            }
            "assignment" => {
                if let Some(state) = node.field(Field::Left).and_then(state_of) {
                    if node.end_byte() <= call.start_byte() {
                        before.push((state, node.start_byte()));
                    } else if node.start_byte() >= call.end_byte() {
                        after.push(state);
                    }
                }
            }
            "with_statement"
                if node.start_byte() <= call.start_byte() && call.end_byte() <= node.end_byte() =>
            {
                let swaps = node
                    .named_child(0)
                    .filter(|clause| clause.kind_name() == "with_clause")
                    .and_then(|clause| {
                        clause
                            .named_children(&mut clause.walk())
                            .filter_map(|item| item.field(Field::Value))
                            .filter(|value| value.kind_name() == "call")
                            .filter_map(|value| value.field(Field::Function))
                            .filter_map(|callee| file.index.qualified_name(callee, file.text))
                            .find(|q| moved.process_state_swaps.contains(q))
                    });
                if swaps.is_some()
                    && node
                        .field(Field::Body)
                        .is_some_and(|b| b.start_byte() <= call.start_byte())
                {
                    swapped_by_with = swaps.map(|q| (q, node.start_byte()));
                }
            }
            _ => {}
        }
        stack.extend(node.named_children(&mut cursor));
    }
    let line_of = |at: usize| file.text[..at].matches('\n').count() + 1;
    let swapped = before
        .into_iter()
        .find(|(state, _)| after.contains(state))
        .map(|(state, at)| {
            format!(
                "the coroutine swaps `{state}` on line {} and restores it after this call",
                line_of(at)
            )
        })
        .or(swapped_by_with.map(|(swap, at)| {
            format!(
                "the call runs inside `with {swap}(...)` (line {})",
                line_of(at)
            )
        }));
    let Some(swapped) = swapped else {
        return;
    };
    let difference = format!(
        "{swapped}: during the new `await` other coroutines run with the swapped state (what \
         they print lands in this one's buffer, they see its environment)"
    );
    fix.applicability = fix.applicability.min(Applicability::Unsafe);
    fix.caveat = Some(match fix.caveat.take() {
        Some(caveat) => format!("{caveat}; {difference}"),
        None => difference,
    });
}

/// The `async def` (or `def`) whose body holds `node`.
fn enclosing_function(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.kind_name() == "function_definition" {
            return Some(parent);
        }
        current = parent;
    }
    None
}
