//! `to-thread`: the blocking call runs in a worker thread and is awaited
//! (`await asyncio.to_thread(f, a, k=v)`, trio's or anyio's `to_thread.run_sync`, or
//! `run_in_executor` below Python 3.9; the expression is `thread_call`'s).

use super::site::Proposal;
use super::site::{
    AwaitShape, Site, await_shape, broken_call, call_arguments, realigned_arguments,
};
use super::thread_call::thread_call;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild, KindName};
use tree_sitter::Node;

/// The consumers of an iterator that build a whole collection of it: moved to the thread with
/// the iterator, they return plain data (`list(coll.find(q))`).
const COLLECTING: &[&str] = &[
    "builtins.list",
    "builtins.tuple",
    "builtins.set",
    "builtins.frozenset",
    "builtins.sorted",
];

pub(super) fn to_thread(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    // `with urlopen(u) as r: ...`: the resource is used in the block too (reads, close), so
    // the whole block moves to the thread, or nothing does.
    if let Some(whole_block) = crate::codemod::offload::offload_with_item(site, applicability) {
        return whole_block;
    }
    if site.consumed_in_thread {
        return consumed_in_thread(site, applicability);
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

/// A lazy iterator that does no I/O until iterated (`coll.find(q)`), iterated on the spot: the
/// iteration moves with it, so the worker thread returns plain data, never the iterator:
/// `list(coll.find(q))` → `await asyncio.to_thread(list, coll.find(q))`; the iterable of a
/// comprehension or a `for` loop becomes such a list (for a loop, an unsafe fix: every item is
/// read before the first iteration).
fn consumed_in_thread(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    let parent = site.call.parent().ok_or("the call has no parent")?;
    let call_text = &site.text[site.call.byte_range()];
    let (target, arguments, applicability, caveat): (Node, &str, _, _) = match parent.kind_name() {
        "argument_list" => {
            let consumer = parent.parent().ok_or("the call has no consumer")?;
            let function = consumer.field(Field::Function).ok_or("no consumer")?;
            let collects = site
                .index
                .qualified_name(function, site.text)
                .is_some_and(|q| COLLECTING.contains(&q.as_str()));
            if !collects || parent.named_child_count() != 1 {
                return Err(format!(
                    "the iterator is consumed by `{}`, which is not moved with it: collect it \
                     in the thread instead, e.g. `await asyncio.to_thread(list, {call_text})`",
                    &site.text[function.byte_range()]
                ));
            }
            let name = &site.text[function.byte_range()];
            return rewrite(site, consumer, name, call_text, applicability, None);
        }
        "for_in_clause" => (site.call, call_text, applicability, None),
        "for_statement" => (
            site.call,
            call_text,
            Applicability::Unsafe,
            Some(
                "the loop now runs over a list of every item, read in the thread before the \
                 first iteration: more memory, and a `break` no longer saves reading the rest"
                    .to_owned(),
            ),
        ),
        _ => return Err("the iterator is not consumed on the spot".to_owned()),
    };
    rewrite(site, target, "list", arguments, applicability, caveat)
}

/// `target` replaced by the awaited thread call of `callee(arguments)`.
fn rewrite(
    site: &Site,
    target: Node,
    callee: &str,
    arguments: &str,
    applicability: Applicability,
    caveat: Option<String>,
) -> Result<Proposal, String> {
    let offset = target.start_byte();
    let (expression, replacement, imports) = thread_call(site, offset, callee, arguments, false)?;
    let rewritten = match await_shape(target) {
        AwaitShape::AlreadyAwaited => expression,
        AwaitShape::Bare => format!("await {expression}"),
        AwaitShape::Parenthesised => format!("(await {expression})"),
    };
    let mut edits = vec![Edit::replacement(target.byte_range(), rewritten)];
    edits.extend(imports);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.caveat = caveat;
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
