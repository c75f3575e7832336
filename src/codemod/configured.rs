//! A blocking call the user declares in the configuration (`blocking-calls`), validated into
//! a [`ConfiguredCall`] that the registry turns into a codemod of its own.

use super::Strategy;
use super::compile::is_qualified_name;
use crate::fix::Applicability;

/// A blocking call declared in the configuration (`[[tool.unfreeze.blocking-calls]]`),
/// validated.
#[derive(Clone, Debug)]
pub struct ConfiguredCall {
    pub call: String,
    pub strategy: Option<Strategy>,
    pub applicability: Applicability,
}

impl ConfiguredCall {
    /// Validate one entry: `call` a qualified name (methods as `pkg.Client().get`), `fix` one
    /// of `to-thread` / `template` / absent, `template` with `{args}`, `{callee}`,
    /// `{receiver}` placeholders, `imports` top-level module names.
    pub fn compile(
        call: &str,
        fix: Option<&str>,
        template: Option<&str>,
        imports: &[String],
        applicability: Option<&str>,
    ) -> Result<ConfiguredCall, String> {
        if !is_qualified_name(call) {
            return Err(format!("`call = {call:?}` is not a dotted qualified name"));
        }
        let strategy = match (fix, template) {
            (None, None) => None,
            (Some("to-thread"), None) => Some(Strategy::ToThread),
            (Some("template") | None, Some(template)) => {
                Some(Strategy::template(template, imports)?)
            }
            (Some("to-thread"), Some(_)) => {
                return Err("`template` goes with `fix = \"template\"`, not `to-thread`".to_owned());
            }
            (Some("template"), None) => {
                return Err("`fix = \"template\"` needs a `template`".to_owned());
            }
            (Some(other), _) => {
                return Err(format!(
                    "`fix = {other:?}`: expected \"to-thread\" or \"template\""
                ));
            }
        };
        let applicability = match applicability {
            None => Applicability::Safe,
            Some(text) => Applicability::parse(text).ok_or_else(|| {
                format!(
                    "`applicability = {text:?}`: expected \"safe\", \"unsafe\" or \"display-only\""
                )
            })?,
        };
        let applicability = if strategy.is_none() {
            Applicability::DisplayOnly
        } else {
            applicability
        };
        Ok(ConfiguredCall {
            call: call.to_owned(),
            strategy,
            applicability,
        })
    }
}
