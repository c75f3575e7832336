//! Whether a call is blocking evidence: the codemod that matches it in any context (a
//! synchronous function's body included), read by the file's summary (`summary.rs`) and by
//! the once-only getters (`once_only.rs`).

use tree_sitter::Node;

use super::FileContext;
use super::conditions::{
    callee_tail, caught_by, is_consumed_in_place, is_non_blocking, mentions_any,
};
use super::socket::on_nonblocking_socket;
use crate::codemod::Registry;
use crate::parse::{Field, FieldChild, KindName};
use crate::settings::RuleSelection;

/// The codemod counting as blocking evidence that `call` matches, in any context (a
/// synchronous function's body included): `(code, qualified name)`. The codemods' own
/// conditions apply (lazy iterators consumed on the spot, `unless-caught`, ...); a code the
/// run ignores is no evidence.
pub(super) fn blocking_evidence(
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
            || mentions_any(file, call, &codemod.unless_arguments_mention)
            || is_non_blocking(file, call, &qualified, &codemod.non_blocking);
        (!excluded).then(|| (codemod.code.clone(), qualified.clone()))
    })
}
