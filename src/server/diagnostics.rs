//! Findings as the editor shows them: one LSP diagnostic per finding, with its code, its
//! message, what its fix would do (or why there is none), its severity, and the hops of its
//! chain (UNF401) as related information.

use serde_json::{Value, json};

use super::position::Lines;
use super::settings::EditorSettings;
use crate::analyze::{Finding, is_syntax_error};
use crate::fix::Applicability;

/// LSP's severities.
const ERROR: u8 = 1;
const WARNING: u8 = 2;

/// The diagnostics of `findings` in `text`.
pub fn diagnostics(text: &str, findings: &[Finding], editor: &EditorSettings) -> Vec<Value> {
    let lines = Lines::new(text);
    findings
        .iter()
        .map(|finding| diagnostic(&lines, finding, editor))
        .collect()
}

/// The diagnostic of one finding (linked to its rule's page when the editor's settings say
/// where the pages are: `docsUrl`).
pub fn diagnostic(lines: &Lines, finding: &Finding, editor: &EditorSettings) -> Value {
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
    let mut diagnostic = json!({
        "range": lines.range(finding.range.start, finding.range.end),
        "severity": if syntax_error { ERROR } else { WARNING },
        "code": finding.code,
        "source": "unfreeze",
        "message": message,
    });
    if let Some(page) = editor.rule_page(&finding.code).filter(|_| !syntax_error) {
        diagnostic["codeDescription"] = json!({"href": page});
    }
    let related = chain_hops(finding);
    if !related.is_empty() {
        diagnostic["relatedInformation"] = Value::Array(related);
    }
    diagnostic
}

/// A chain's hops after the finding's own call (UNF401: the helper's call leading on, ...,
/// the blocking call), each at its place in its file, so the editor links to them.
fn chain_hops(finding: &Finding) -> Vec<Value> {
    let Some(chain) = &finding.chain else {
        return Vec::new();
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    chain
        .hops
        .iter()
        .map(|hop| {
            // Columns counted in characters: UTF-16 units but for characters beyond the BMP.
            let line = hop.line.saturating_sub(1);
            let start = hop.column.saturating_sub(1);
            let end = start + hop.call.chars().map(char::len_utf16).sum::<usize>() as u32;
            let path = cwd.join(&hop.path);
            json!({
                "location": {
                    "uri": file_uri(&path),
                    "range": {
                        "start": {"line": line, "character": start},
                        "end": {"line": line, "character": end},
                    },
                },
                "message": format!("in `{}`: {}", hop.function, hop.call),
            })
        })
        .collect()
}

/// The `file://` URI of a local path (the bytes URIs cannot hold percent-encoded).
pub fn file_uri(path: &std::path::Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}
