//! What the editor asks for instead of being told: its diagnostics (`textDocument/diagnostic`,
//! the pull model of LSP 3.17, which VS Code's client uses) and its settings
//! (`workspace/configuration`). An editor that says it pulls diagnostics gets them only as
//! answers (no `publishDiagnostics`, so none is shown twice), each with a result id that
//! says whether they changed since its last pull; when they change for a reason the editor
//! cannot see (the project view arrived, a setting changed, another module was saved) the
//! server asks it to pull again (`workspace/diagnostic/refresh`). An editor that answers
//! `workspace/configuration` is asked for its `unfreeze` section after `initialized`, and
//! again when a `workspace/didChangeConfiguration` carries no settings of the server's.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

/// What the editor said it can do, at `initialize`.
#[derive(Default)]
pub struct Pulls {
    /// It pulls diagnostics (`textDocument.diagnostic` in its capabilities).
    pub diagnostics: bool,
    /// It pulls again when asked (`workspace.diagnostics.refreshSupport`).
    pub refresh: bool,
    /// It answers `workspace/configuration`.
    pub configuration: bool,
    /// The id of the `workspace/configuration` request waiting for its answer.
    pub asked: Option<String>,
    /// The result id of each open buffer's diagnostics (a new one when they change).
    result_ids: HashMap<String, u64>,
    serial: u64,
    /// The open buffers whose analysis is of their current text.
    fresh: HashSet<String>,
}

impl Pulls {
    /// What the `initialize` request's `capabilities` say.
    pub fn from_capabilities(capabilities: &Value) -> Pulls {
        Pulls {
            diagnostics: capabilities["textDocument"]["diagnostic"].is_object(),
            refresh: capabilities["workspace"]["diagnostics"]["refreshSupport"]
                .as_bool()
                .unwrap_or(false),
            configuration: capabilities["workspace"]["configuration"]
                .as_bool()
                .unwrap_or(false),
            ..Pulls::default()
        }
    }

    /// The buffer `uri` was opened, changed or closed: its analysis is not of its text.
    pub fn touched(&mut self, uri: &str) {
        self.fresh.remove(uri);
    }

    pub fn is_fresh(&self, uri: &str) -> bool {
        self.fresh.contains(uri)
    }

    /// The buffer `uri` was analysed; `changed`: its diagnostics differ from the last ones.
    pub fn analysed(&mut self, uri: &str, changed: bool) {
        self.fresh.insert(uri.to_owned());
        if changed || !self.result_ids.contains_key(uri) {
            self.serial += 1;
            self.result_ids.insert(uri.to_owned(), self.serial);
        }
    }

    pub fn closed(&mut self, uri: &str) {
        self.fresh.remove(uri);
        self.result_ids.remove(uri);
    }

    /// The answer to a `textDocument/diagnostic` for an open buffer whose diagnostics are
    /// `items`: "unchanged" when the editor's `previousResultId` is the current one.
    pub fn report(&self, uri: &str, params: &Value, items: &Value) -> Value {
        let id = self.result_ids.get(uri).copied().unwrap_or(0).to_string();
        if params["previousResultId"].as_str() == Some(id.as_str()) {
            json!({"kind": "unchanged", "resultId": id})
        } else {
            json!({"kind": "full", "resultId": id, "items": items})
        }
    }

    /// The request that asks the editor to pull every diagnostic again, when it can.
    pub fn refresh_request(&self, id: &str) -> Option<Value> {
        (self.diagnostics && self.refresh)
            .then(|| json!({"jsonrpc": "2.0", "id": id, "method": "workspace/diagnostic/refresh"}))
    }

    /// The request for the editor's `unfreeze` settings (its id kept, to know the answer).
    pub fn configuration_request(&mut self, id: String) -> Value {
        let request = json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "workspace/configuration",
            "params": {"items": [{"section": "unfreeze"}]},
        });
        self.asked = Some(id);
        request
    }
}

/// The `diagnosticProvider` the server advertises: the diagnostics of a buffer depend on
/// other files (the project view); no workspace-wide pull (only the open buffers are
/// analysed).
pub fn provider() -> Value {
    json!({
        "identifier": "unfreeze",
        "interFileDependencies": true,
        "workspaceDiagnostics": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_ids_change_only_with_the_diagnostics() {
        let mut pulls = Pulls::from_capabilities(&json!({
            "textDocument": {"diagnostic": {}},
            "workspace": {"diagnostics": {"refreshSupport": true}, "configuration": true},
        }));
        assert!(pulls.diagnostics && pulls.refresh && pulls.configuration);
        pulls.analysed("a", true);
        let full = pulls.report("a", &json!({}), &json!([1]));
        assert_eq!(full["kind"], "full");
        let id = full["resultId"].clone();
        pulls.analysed("a", false);
        let again = pulls.report("a", &json!({"previousResultId": id}), &json!([1]));
        assert_eq!(again["kind"], "unchanged");
        pulls.analysed("a", true);
        let changed = pulls.report("a", &json!({"previousResultId": id}), &json!([]));
        assert_eq!(changed["kind"], "full");
        assert_ne!(changed["resultId"], id);
    }

    #[test]
    fn an_editor_that_does_not_pull_is_not_asked_to_refresh() {
        let pulls = Pulls::from_capabilities(&json!({}));
        assert!(!pulls.diagnostics && !pulls.configuration);
        assert!(pulls.refresh_request("x").is_none());
    }
}
