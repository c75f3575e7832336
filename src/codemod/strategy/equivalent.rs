//! `await-async-equivalent` (`time.sleep(x)` → `await asyncio.sleep(x)`) and
//! `replace-function` (`asyncio.get_event_loop()` → `asyncio.get_running_loop()`): the call
//! keeps its arguments, the callee becomes another library function; and
//! `await-wrapped-future` (`fut.result()` → `await asyncio.wrap_future(fut)`).

use crate::parse::KindName;

use super::site::Proposal;
use super::site::{AwaitShape, Site, await_shape, imported_head, target_function};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};

fn first_argument_is_negative_literal(site: &Site) -> bool {
    let Some(arguments) = site.call.field(Field::Arguments) else {
        return false;
    };
    arguments.named_child(0).is_some_and(|arg| {
        arg.kind_name() == "unary_operator"
            && site.text[arg.byte_range()].trim_start().starts_with('-')
            && arg
                .named_child(0)
                .is_some_and(|n| matches!(n.kind_name(), "integer" | "float"))
    })
}

pub(super) fn await_async_equivalent(
    site: &Site,
    target: &str,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (module, function) = target
        .split_once('.')
        .expect("validated when the codemod was compiled");
    let (replacement, import) = target_function(site, module, function)?;
    let mut edits = Vec::new();
    match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                replacement.clone(),
            ));
        }
        AwaitShape::Bare => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("await {replacement}"),
            ));
        }
        AwaitShape::Parenthesised => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("(await {replacement}"),
            ));
            edits.push(Edit::insertion(site.call.end_byte(), ")"));
        }
    }
    edits.extend(import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    } else if first_argument_is_negative_literal(site) {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(format!(
            "a negative delay raises `ValueError` in `{}` but returns at once in `{replacement}`",
            site.qualified
        ));
    }
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal { fix, replacement })
}

pub(super) fn replace_function(
    site: &Site,
    target: &str,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (module, function) = target
        .split_once('.')
        .expect("validated when the codemod was compiled");
    let (replacement, import) = target_function(site, module, function)?;
    let mut edits = vec![Edit::replacement(
        site.callee.byte_range(),
        replacement.clone(),
    )];
    edits.extend(import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal { fix, replacement })
}

/// `fut.result()` → `await asyncio.wrap_future(fut)`: only `result` with no argument (a
/// timeout has no place in `wrap_future`), in a file written for asyncio.
pub(super) fn await_wrapped_future(
    site: &Site,
    applicability: Applicability,
) -> Result<Proposal, String> {
    if let Some(library) = site.library {
        return Err(super::site::library_error(library));
    }
    let object = site
        .callee
        .field(Field::Object)
        .filter(|_| site.qualified.ends_with("().result"))
        .ok_or_else(|| format!("`{}` is not a future's `result()`", site.qualified))?;
    if site
        .call
        .field(Field::Arguments)
        .is_some_and(|a| a.named_child_count() > 0)
    {
        return Err(
            "`result` is given a timeout, which `asyncio.wrap_future` does not take".to_owned(),
        );
    }
    let (wrap, import) = target_function(site, "asyncio", "wrap_future")?;
    let awaited = format!("{wrap}({})", &site.text[object.byte_range()]);
    let text = match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => awaited,
        AwaitShape::Bare => format!("await {awaited}"),
        AwaitShape::Parenthesised => format!("(await {awaited})"),
    };
    let mut edits = vec![Edit::replacement(site.call.byte_range(), text)];
    edits.extend(import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.caveat = Some(
        "if the task is cancelled while it waits, the future is cancelled too: work not \
         started yet never runs, and another waiter on the future sees it cancelled"
            .to_owned(),
    );
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    }
    Ok(Proposal {
        fix,
        replacement: wrap,
    })
}
