//! "Explain rule": a code action per diagnostic whose command (`unfreeze.explain`, run by the
//! editor through `workspace/executeCommand`) shows the rule's documentation, the text
//! `unfreeze explain CODE` prints. An editor that opens documents for the server
//! (`window/showDocument`) opens the rule's page when the settings say where the pages are
//! (`docsUrl`, in the browser), else the text as a Markdown file in the editor (written under
//! the temporary directory); any other editor shows it as a message (`window/showMessage`).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::diagnostics::{diagnostic, file_uri};
use super::position::Lines;
use super::settings::EditorSettings;
use crate::analyze::Finding;
use crate::codemod::Registry;
use crate::report::rules::explain;

/// The command of the "explain rule" actions.
pub const EXPLAIN_COMMAND: &str = "unfreeze.explain";

/// LSP's `MessageType.Info`.
const INFO: u8 = 3;

/// The "explain rule" action of `finding`.
pub fn explain_action(lines: &Lines, finding: &Finding, editor: &EditorSettings) -> Value {
    let title = format!("{}: explain rule", finding.code);
    json!({
        "title": title,
        "kind": "quickfix",
        "diagnostics": [diagnostic(lines, finding, editor)],
        "command": {"title": title, "command": EXPLAIN_COMMAND, "arguments": [finding.code]},
    })
}

/// What the server sends the editor to explain the rule `code`: a `window/showDocument`
/// request (`id`) when the editor `shows_documents`, else a `window/showMessage`.
pub fn explain_rule(
    code: &str,
    bundled: &Registry,
    editor: &EditorSettings,
    shows_documents: bool,
    id: &str,
) -> Result<Value, String> {
    let codemod = bundled
        .get(code)
        .ok_or_else(|| format!("unknown rule `{code}` (see `unfreeze rules`)"))?;
    let text = explain(codemod);
    let document = |uri: String, external: bool| {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "window/showDocument",
            "params": {"uri": uri, "external": external, "takeFocus": true},
        })
    };
    if shows_documents {
        if let Some(page) = editor.rule_page(code) {
            return Ok(document(page, true));
        }
        if let Some(path) = written(code, &text) {
            return Ok(document(file_uri(&path), false));
        }
    }
    Ok(json!({
        "jsonrpc": "2.0",
        "method": "window/showMessage",
        "params": {"type": INFO, "message": text},
    }))
}

/// The rule's text written as `CODE.md` in a directory of the temporary directory (per
/// version of unfreeze), for the editor to open; `None` when it cannot be written.
fn written(code: &str, text: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("unfreeze-{}-rules", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{code}.md"));
    std::fs::write(&path, text).ok()?;
    Some(path)
}
