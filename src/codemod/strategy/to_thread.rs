//! `to-thread`: the blocking call runs in a worker thread and is awaited
//! (`await asyncio.to_thread(f, a, k=v)`, trio's or anyio's `to_thread.run_sync`, or
//! `run_in_executor` below Python 3.9; the expression is `thread_call`'s).

use super::site::Proposal;
use super::site::{
    AwaitShape, Site, await_shape, broken_call, call_arguments, realigned_arguments,
};
use super::thread_call::thread_call;
use crate::fix::{Applicability, Edit, Fix};

pub(super) fn to_thread(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    // `with urlopen(u) as r: ...`: the resource is used in the block too (reads, close), so
    // the whole block moves to the thread, or nothing does.
    if let Some(whole_block) = crate::codemod::offload::offload_with_item(site, applicability) {
        return whole_block;
    }
    let (arguments, has_keywords) = call_arguments(site).ok_or("the call has no argument list")?;
    let callee = &site.text[site.callee.byte_range()];
    let offset = site.call.start_byte();
    let rewrite = |arguments: &str| -> Result<_, String> {
        let (expression, replacement, imports) =
            thread_call(site, offset, callee, arguments, has_keywords)?;
        let wrap = |expression: &str| match await_shape(site.call) {
            AwaitShape::AlreadyAwaited => expression.to_owned(),
            AwaitShape::Bare => format!("await {expression}"),
            AwaitShape::Parenthesised => format!("(await {expression})"),
        };
        let mut rewritten = wrap(&expression);
        // A line the rewrite makes too long breaks inside the new call's parentheses.
        if let Some(broken) = broken_call(site, &rewritten, &expression, &replacement) {
            rewritten = wrap(&broken);
        }
        Ok((rewritten, replacement, imports))
    };
    let (mut rewritten, mut replacement, mut imports) = rewrite(&arguments)?;
    // Continuation lines aligned under the old call's arguments move with them.
    if let Some(realigned) = realigned_arguments(site, &rewritten, &arguments) {
        (rewritten, replacement, imports) = rewrite(&realigned)?;
    }
    let mut edits = vec![Edit::replacement(site.call.byte_range(), rewritten)];
    edits.extend(imports);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.runs_in_thread = Some(site.call.byte_range());
    if site.index.in_generator_expression(offset) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    }
    Ok(Proposal { fix, replacement })
}
