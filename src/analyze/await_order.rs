//! A new `await` in the value of an augmented assignment to shared state: in
//! `self.total += await asyncio.to_thread(size, p)` Python reads `self.total` before the await
//! and stores the sum after it, so another task that changes `self.total` meanwhile loses its
//! update (before the fix the statement ran without a suspension, atomically for the other
//! coroutines). Such a fix is unsafe, with the difference stated.

use tree_sitter::Node;

use super::cancellation::adds_await;
use crate::codemod::Site;
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
