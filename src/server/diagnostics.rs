//! Findings as the editor shows them: one LSP diagnostic per finding, with its code, its
//! message, what its fix would do (or why there is none), and its severity.

use serde_json::{Value, json};

use super::position::Lines;
use crate::analyze::{Finding, is_syntax_error};
use crate::fix::Applicability;

/// LSP's severities.
const ERROR: u8 = 1;
const WARNING: u8 = 2;

/// The diagnostics of `findings` in `text`.
pub fn diagnostics(text: &str, findings: &[Finding]) -> Vec<Value> {
    let lines = Lines::new(text);
    findings
        .iter()
        .map(|finding| diagnostic(&lines, finding))
        .collect()
}

/// The diagnostic of one finding.
pub fn diagnostic(lines: &Lines, finding: &Finding) -> Value {
    let syntax_error = is_syntax_error(finding);
    let message = match (&finding.fix, &finding.no_fix_reason) {
        _ if syntax_error => finding.message.clone(),
        (Some(fix), _) => {
            let label = match fix.applicability {
                Applicability::Safe => "fix",
                Applicability::Unsafe => "unsafe fix",
                Applicability::DisplayOnly => "suggestion",
            };
            format!("{}\n{label}: {}", finding.message, fix.title)
        }
        (None, Some(reason)) => format!("{}\nno fix: {reason}", finding.message),
        (None, None) => finding.message.clone(),
    };
    json!({
        "range": lines.range(finding.range.start, finding.range.end),
        "severity": if syntax_error { ERROR } else { WARNING },
        "code": finding.code,
        "source": "unfreeze",
        "message": message,
    })
}
