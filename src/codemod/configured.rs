//! A blocking call the user declares in the configuration (`blocking-calls`, or
//! `cpu-bound-calls` with whether it releases the GIL), validated into a [`ConfiguredCall`]
//! that the registry turns into a codemod of its own: a copy of the bundled codemod that
//! takes that table's calls (`[match] from-configuration`).

use super::Strategy;
use super::names::is_qualified_name;
use crate::fix::Applicability;

/// A blocking call declared in the configuration (`[[tool.unfreeze.blocking-calls]]`),
/// validated.
#[derive(Clone, Debug)]
pub struct ConfiguredCall {
    pub call: String,
    /// The configuration table it was declared in: `blocking-calls` or `cpu-bound-calls`.
    pub table: &'static str,
    pub strategy: Option<Strategy>,
    pub applicability: Applicability,
    /// Why the call gets no fix although it has a strategy: a CPU-bound call that holds the
    /// GIL, which a worker thread would not take off the event loop.
    pub no_fix_reason: Option<String>,
}

/// The tables of the configuration whose calls a codemod may take (`from-configuration`).
pub const CONFIGURED_TABLES: &[&str] = &["blocking-calls", "cpu-bound-calls"];

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
            table: "blocking-calls",
            strategy,
            applicability,
            no_fix_reason: None,
        })
    }

    /// Validate one `cpu-bound-calls` entry: `call` a qualified name; with `releases-gil =
    /// true` it moves to a worker thread (safe: the thread runs while the loop does), else it
    /// gets no fix and the reason suggests a process pool.
    pub fn compile_cpu_bound(call: &str, releases_gil: bool) -> Result<ConfiguredCall, String> {
        if !is_qualified_name(call) {
            return Err(format!("`call = {call:?}` is not a dotted qualified name"));
        }
        let no_fix_reason = (!releases_gil).then(|| {
            format!(
                "the configuration declares `{call}` CPU-bound and holding the GIL \
                 (`releases-gil = false`): in a worker thread it would still stall the event \
                 loop. Run it in a process pool instead, `await \
                 asyncio.get_running_loop().run_in_executor(ProcessPoolExecutor(), f, *args)` \
                 (picklable arguments only), or make it release the GIL"
            )
        });
        Ok(ConfiguredCall {
            call: call.to_owned(),
            table: "cpu-bound-calls",
            strategy: Some(Strategy::ToThread),
            applicability: Applicability::Safe,
            no_fix_reason,
        })
    }
}
