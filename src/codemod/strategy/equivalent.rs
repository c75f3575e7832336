//! `await-async-equivalent` (`time.sleep(x)` → `await asyncio.sleep(x)`) and
//! `replace-function` (`asyncio.get_event_loop()` → `asyncio.get_running_loop()`): the call
//! keeps its arguments, the callee becomes another library function.

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
