//! The `template` strategy of a user's `blocking-calls` entry: the call becomes the awaited
//! template (`legacy_async.fetch({args})`), with the template's imports added.

use crate::parse::KindName;

use super::site::Proposal;
use super::site::{AwaitShape, Site, await_shape, call_arguments};
use crate::codemod::Template;
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};

pub(super) fn apply_template(
    site: &Site,
    template: &Template,
    imports: &[String],
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (arguments, _) = call_arguments(site).ok_or("the call has no argument list")?;
    let receiver = match site.callee.kind_name() {
        "attribute" => site
            .callee
            .field(Field::Object)
            .map(|o| site.text[o.byte_range()].to_owned()),
        _ => None,
    };
    let callee = site.text[site.callee.byte_range()].to_owned();
    let mut edits = Vec::new();
    for module in imports {
        let reference = reference_module(
            site.index,
            site.tree,
            site.text,
            site.line_ending,
            module,
            site.call.start_byte(),
        )?;
        if reference.name != *module {
            return Err(format!(
                "`{module}` is imported as `{}` here; the template spells `{module}`",
                reference.name
            ));
        }
        edits.extend(reference.import);
    }
    let expression = template.render(|name| match name {
        "args" => arguments.clone(),
        "callee" => callee.clone(),
        "receiver" => receiver.clone().unwrap_or_default(),
        _ => String::new(),
    });
    let rewritten = match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => expression.clone(),
        AwaitShape::Bare => format!("await {expression}"),
        AwaitShape::Parenthesised => format!("(await {expression})"),
    };
    edits.insert(0, Edit::replacement(site.call.byte_range(), rewritten));
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    }
    let replacement = expression
        .split('(')
        .next()
        .unwrap_or(&expression)
        .to_owned();
    Ok(Proposal { fix, replacement })
}
