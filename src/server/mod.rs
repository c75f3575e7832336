//! `unfreeze server`: a language server over stdio, so an editor shows the findings as the
//! code is typed and offers their fixes (docs/editors.md). A thread reads the editor's
//! messages (`inbox`); the server answers them in order, skipping the analysis of a buffer
//! text a queued change replaces and the requests cancelled before their turn. The buffers
//! are analysed as `check --stdin-filename` analyses them, with the configuration nearest
//! each file, and with the project view of their workspace root once it is ready (`project`).
//!
//! The steps, each in its own file: `transport` (the `Content-Length` framing), `documents`
//! (the open buffers and their paths), `position` (UTF-16 positions), `analysis` (a buffer's
//! findings and fixed texts), `diagnostics` (findings as diagnostics), `actions` (quick fixes
//! and "fix all"), `explain` ("explain rule"), `settings` (the editor's settings), `project`
//! (the workspace roots' project views, built in the background), `pull` (what an editor
//! pulls: its diagnostics, its settings).

mod actions;
mod analysis;
mod diagnostics;
mod documents;
mod explain;
mod inbox;
mod position;
mod project;
mod pull;
mod settings;
mod transport;

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use serde_json::{Value, json};

use self::actions::{ActionRequest, FIX_ALL_KIND, code_actions, resolve_fix_all};
use self::analysis::findings;
use self::diagnostics::diagnostics;
use self::documents::Documents;
use self::explain::{EXPLAIN_COMMAND, explain_rule};
use self::inbox::{Inbox, Incoming};
use self::position::Lines;
use self::project::Projects;
use self::pull::Pulls;
use self::settings::{EditorSettings, layered, names_settings};
use self::transport::write_message;
use crate::analyze::Finding;
use crate::codemod::Registry;

/// JSON-RPC's error codes the server answers with.
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;
/// LSP's answer to a request the client cancelled.
const REQUEST_CANCELLED: i64 = -32800;

/// How the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`, as the protocol asks.
    Clean,
    /// `exit` without `shutdown`, or the input closed first.
    Abrupt,
}

/// The server's state between messages.
struct Server<'r> {
    registry: &'r Registry,
    documents: Documents,
    /// The findings last published for each open buffer (the code actions read them).
    findings: HashMap<String, Vec<Finding>>,
    /// The diagnostics last published for each open buffer.
    published: HashMap<String, Value>,
    /// The editor's settings (`initializationOptions`, `workspace/didChangeConfiguration`).
    editor: EditorSettings,
    /// The `initializationOptions`, which the changed settings are layered over.
    initial_settings: Value,
    /// The client opens documents for the server (`window/showDocument`).
    shows_documents: bool,
    /// Messages to send after the answer to the current one.
    outbox: Vec<Value>,
    /// How many requests the server sent (their ids).
    sent: u64,
    /// The client resolves code actions' edits lazily (`codeAction/resolve`).
    resolves_edits: bool,
    /// The client lets the server register a file watcher (`client/registerCapability`).
    watches_files: bool,
    projects: Projects,
    /// What the editor pulls (diagnostics, settings) and the state of those pulls.
    pulls: Pulls,
    shut_down: bool,
}

/// Serve one editor session on `input` / `output` until `exit` or the end of the input.
pub fn serve(
    input: impl BufRead + Send + 'static,
    mut output: impl Write,
    registry: &Registry,
) -> io::Result<Ending> {
    let mut inbox = Inbox::spawn(input);
    let mut server = Server {
        registry,
        documents: Documents::default(),
        findings: HashMap::new(),
        published: HashMap::new(),
        editor: EditorSettings::default(),
        initial_settings: Value::Null,
        shows_documents: false,
        outbox: Vec::new(),
        sent: 0,
        resolves_edits: false,
        watches_files: false,
        projects: Projects::new(registry, inbox.sender()),
        pulls: Pulls::default(),
        shut_down: false,
    };
    while let Some(incoming) = inbox.next()? {
        let message = match incoming {
            Incoming::Editor(message) => message,
            Incoming::Project(root, view) => {
                for notification in server.project_arrived(root, view, &inbox) {
                    write_message(&mut output, &notification)?;
                }
                continue;
            }
        };
        let method = message["method"].as_str().unwrap_or_default();
        let params = &message["params"];
        match message.get("id") {
            // A response to a request of ours (only `workspace/configuration`'s is read).
            _ if method.is_empty() => {
                for message in server.response(&message, &inbox) {
                    write_message(&mut output, &message)?;
                }
            }
            Some(id) => {
                let answer = if inbox.cancelled(id) {
                    Err((REQUEST_CANCELLED, "cancelled".to_owned()))
                } else {
                    server.request(method, params)
                };
                let reply = match answer {
                    Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
                    Err((code, text)) => json!({
                        "jsonrpc": "2.0",
                        "id": id,
                        "error": {"code": code, "message": text},
                    }),
                };
                write_message(&mut output, &reply)?;
            }
            None if method == "exit" => {
                return Ok(if server.shut_down {
                    Ending::Clean
                } else {
                    Ending::Abrupt
                });
            }
            // A cancel for a request already answered.
            None if method == "$/cancelRequest" => {}
            None => {
                for notification in server.notification(method, params, &inbox) {
                    write_message(&mut output, &notification)?;
                }
            }
        }
        for message in std::mem::take(&mut server.outbox) {
            write_message(&mut output, &message)?;
        }
    }
    Ok(Ending::Abrupt)
}

impl Server<'_> {
    fn request(&mut self, method: &str, params: &Value) -> Result<Value, (i64, String)> {
        if self.shut_down {
            return Err((INVALID_REQUEST, "the server is shut down".to_owned()));
        }
        match method {
            "initialize" => {
                self.initial_settings = params["initializationOptions"].clone();
                self.configure(&params["initializationOptions"]);
                self.shows_documents = params["capabilities"]["window"]["showDocument"]["support"]
                    .as_bool()
                    .unwrap_or(false);
                let resolved = &params["capabilities"]["textDocument"]["codeAction"]["resolveSupport"]
                    ["properties"];
                self.resolves_edits = resolved
                    .as_array()
                    .is_some_and(|properties| properties.iter().any(|p| p == "edit"));
                self.watches_files = params["capabilities"]["workspace"]["didChangeWatchedFiles"]
                    ["dynamicRegistration"]
                    .as_bool()
                    .unwrap_or(false);
                self.projects.set_roots(params);
                self.pulls = Pulls::from_capabilities(&params["capabilities"]);
                Ok(json!({
                    "capabilities": {
                        "positionEncoding": "utf-16",
                        "textDocumentSync": {
                            "openClose": true,
                            "change": 1,
                            "save": {"includeText": false},
                        },
                        "codeActionProvider": {
                            "codeActionKinds": ["quickfix", FIX_ALL_KIND],
                            "resolveProvider": true,
                        },
                        "executeCommandProvider": {"commands": [EXPLAIN_COMMAND]},
                        "diagnosticProvider": pull::provider(),
                    },
                    "serverInfo": {"name": "unfreeze", "version": env!("CARGO_PKG_VERSION")},
                }))
            }
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/codeAction" => self.code_actions(params),
            "textDocument/diagnostic" => self.pull_diagnostics(params),
            "codeAction/resolve" => self.resolve(params),
            "workspace/executeCommand" => self.execute(params),
            _ => Err((METHOD_NOT_FOUND, format!("unsupported request `{method}`"))),
        }
    }

    fn code_actions(&mut self, params: &Value) -> Result<Value, (i64, String)> {
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        let Some(document) = self.documents.get(uri) else {
            return Err((INVALID_PARAMS, format!("`{uri}` is not open")));
        };
        let lines = Lines::new(&document.text);
        let range = lines.offset(&params["range"]["start"])..lines.offset(&params["range"]["end"]);
        let only = params["context"]["only"].as_array().map(|kinds| {
            kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        });
        let request = ActionRequest {
            uri,
            path: &document.path,
            text: &document.text,
            findings: self.findings.get(uri).map_or(&[], Vec::as_slice),
            range,
            only,
            lazy_fix_all: self.resolves_edits,
            editor: &self.editor,
        };
        let project = self.projects.view(&document.path);
        Ok(Value::Array(code_actions(&request, self.registry, project)))
    }

    /// The edit of a "fix all" action sent without one.
    fn resolve(&mut self, action: &Value) -> Result<Value, (i64, String)> {
        let uri = action["data"]["uri"].as_str().unwrap_or_default();
        let Some(document) = self.documents.get(uri) else {
            return Err((INVALID_PARAMS, format!("`{uri}` is not open")));
        };
        let project = self.projects.view(&document.path);
        let resolved = resolve_fix_all(
            action.clone(),
            &document.text,
            &document.path,
            &self.editor,
            self.registry,
            project,
        );
        // Nothing left to fix (the buffer changed): an empty edit.
        Ok(resolved.unwrap_or_else(|| {
            let mut action = action.clone();
            action["edit"] = json!({"changes": {}});
            action
        }))
    }

    /// The messages a notification makes the server send.
    fn notification(&mut self, method: &str, params: &Value, inbox: &Inbox) -> Vec<Value> {
        let document = &params["textDocument"];
        let uri = document["uri"].as_str().unwrap_or_default().to_owned();
        let version = document["version"].as_i64();
        match method {
            "textDocument/didOpen" => {
                let text = document["text"].as_str().unwrap_or_default().to_owned();
                if !self.documents.open(&uri, text, version) {
                    return Vec::new();
                }
                self.pulls.touched(&uri);
            }
            "textDocument/didChange" => {
                // Full sync: the last change holds the whole text.
                let Some(text) = params["contentChanges"]
                    .as_array()
                    .and_then(|changes| changes.last())
                    .and_then(|change| change["text"].as_str())
                else {
                    return Vec::new();
                };
                if !self.documents.change(&uri, text.to_owned(), version) {
                    return Vec::new();
                }
                self.pulls.touched(&uri);
            }
            // The configuration may have changed with a save: analysed again; the project
            // view of its root is built again in the background.
            "textDocument/didSave" => {
                if let Some(path) = documents::path_of(&uri) {
                    self.projects.saved(&path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                for change in params["changes"].as_array().into_iter().flatten() {
                    if let Some(path) = change["uri"].as_str().and_then(documents::path_of) {
                        self.projects.saved(&path);
                    }
                }
                return Vec::new();
            }
            "initialized" => {
                let mut requests = Vec::new();
                if self.watches_files {
                    requests.push(watch_files());
                }
                if self.pulls.configuration {
                    requests.push(self.ask_configuration());
                }
                return requests;
            }
            // No settings of the server's in it (`null`, as VS Code's client sends): the
            // editor that answers `workspace/configuration` is asked for them.
            "workspace/didChangeConfiguration"
                if self.pulls.configuration && !names_settings(&params["settings"]) =>
            {
                return vec![self.ask_configuration()];
            }
            "workspace/didChangeConfiguration" => {
                let settings = layered(&self.initial_settings, &params["settings"]);
                return self.settings_changed(&settings, inbox);
            }
            "textDocument/didClose" => {
                self.documents.close(&uri);
                self.findings.remove(&uri);
                self.published.remove(&uri);
                self.pulls.closed(&uri);
                if self.pulls.diagnostics {
                    return Vec::new();
                }
                return vec![publish(&uri, None, json!([]))];
            }
            _ => return Vec::new(),
        }
        if inbox.superseded(&uri) {
            // A newer text of the buffer is already waiting: only that one is analysed.
            return Vec::new();
        }
        if method == "textDocument/didSave" {
            // The text is the editor's already: what changed is on disk (a configuration),
            // so an editor that pulls is asked to pull again when the diagnostics changed.
            return self.reanalyse(&[uri], inbox, false);
        }
        self.analyse(&uri)
    }

    /// Analyse the open buffer `uri`: its diagnostics (published, unless the editor pulls
    /// them), and a log message when it could not be analysed (a bad configuration).
    fn analyse(&mut self, uri: &str) -> Vec<Value> {
        let Some(document) = self.documents.get(uri) else {
            return Vec::new();
        };
        let project = self.projects.view(&document.path);
        let found = findings(
            &document.text,
            &document.path,
            &self.editor,
            self.registry,
            project,
        );
        let mut messages = Vec::new();
        if let Some(error) = &found.error {
            messages.push(json!({
                "jsonrpc": "2.0",
                "method": "window/logMessage",
                "params": {"type": 1, "message": format!("unfreeze: {}: {error}", document.path.display())},
            }));
        }
        let diagnostics = Value::Array(diagnostics(&document.text, &found.findings, &self.editor));
        let changed = self.published.get(uri) != Some(&diagnostics);
        self.pulls.analysed(uri, changed);
        if !self.pulls.diagnostics {
            messages.push(publish(uri, document.version, diagnostics.clone()));
        }
        self.published.insert(uri.to_owned(), diagnostics);
        self.findings.insert(uri.to_owned(), found.findings);
        messages
    }
}

impl Server<'_> {
    /// Take the editor's settings from `value` (a wrong one is said in the editor's log,
    /// and left at its default); the project views follow them.
    fn configure(&mut self, value: &Value) {
        let (editor, wrong) = EditorSettings::from_value(value);
        for wrong in wrong {
            self.outbox.push(json!({
                "jsonrpc": "2.0",
                "method": "window/logMessage",
                "params": {"type": 2, "message": format!("unfreeze: setting ignored: {wrong}")},
            }));
        }
        self.projects.set_flags(editor.args());
        self.editor = editor;
    }

    /// `workspace/executeCommand`: "explain rule", what it sends queued in the outbox.
    fn execute(&mut self, params: &Value) -> Result<Value, (i64, String)> {
        if params["command"] != EXPLAIN_COMMAND {
            return Err((
                INVALID_PARAMS,
                format!("unknown command {}", params["command"]),
            ));
        }
        let code = params["arguments"][0].as_str().unwrap_or_default();
        let id = self.next_id();
        let message = explain_rule(code, self.registry, &self.editor, self.shows_documents, &id)
            .map_err(|err| (INVALID_PARAMS, err))?;
        self.outbox.push(message);
        Ok(Value::Null)
    }

    /// The project view of `root` arrived: every open buffer under it analysed again with it
    /// (but those a queued change replaces), its diagnostics published again when they
    /// changed.
    fn project_arrived(
        &mut self,
        root: std::path::PathBuf,
        view: Option<Box<crate::run::WarmProject>>,
        inbox: &Inbox,
    ) -> Vec<Value> {
        let ready = view.is_some();
        self.projects.arrived(root.clone(), view);
        if !ready {
            return Vec::new();
        }
        let mut uris: Vec<String> = self
            .documents
            .uris()
            .filter(|uri| {
                self.documents
                    .get(uri)
                    .is_some_and(|d| self.projects.root_of(&d.path) == Some(&root))
            })
            .map(str::to_owned)
            .collect();
        uris.sort();
        self.reanalyse(&uris, inbox, true)
    }

    /// Analyse the open buffers `uris` again (but those a queued change replaces), for a
    /// reason the editor cannot see: their diagnostics published (`only_changed`: those that
    /// changed), or, to an editor that pulls them, a request to pull again when some changed.
    fn reanalyse(&mut self, uris: &[String], inbox: &Inbox, only_changed: bool) -> Vec<Value> {
        let mut messages = Vec::new();
        let mut some_changed = false;
        for uri in uris.iter().filter(|uri| !inbox.superseded(uri)) {
            let before = self.published.get(uri).cloned();
            let analysed = self.analyse(uri);
            let changed = self.published.get(uri) != before.as_ref();
            some_changed |= changed;
            if changed || !only_changed {
                messages.extend(analysed);
            }
        }
        if some_changed {
            let id = self.next_id();
            messages.extend(self.pulls.refresh_request(&id));
        }
        messages
    }

    /// The id of the next request the server sends.
    fn next_id(&mut self) -> String {
        self.sent += 1;
        format!("unfreeze-{}", self.sent)
    }

    /// The settings became `value` (layered over the initial ones): every open buffer is
    /// analysed again when they changed.
    fn settings_changed(&mut self, value: &Value, inbox: &Inbox) -> Vec<Value> {
        let before = self.editor.clone();
        self.configure(value);
        let mut messages = std::mem::take(&mut self.outbox);
        if self.editor == before {
            return messages;
        }
        let mut uris: Vec<String> = self.documents.uris().map(str::to_owned).collect();
        uris.sort();
        messages.extend(self.reanalyse(&uris, inbox, false));
        messages
    }

    /// The `workspace/configuration` request for the editor's `unfreeze` section.
    fn ask_configuration(&mut self) -> Value {
        let id = self.next_id();
        self.pulls.configuration_request(id)
    }

    /// A response to one of the server's requests: the editor's answer to
    /// `workspace/configuration` is its settings (layered over `initializationOptions`, as a
    /// `didChangeConfiguration`'s are); the other answers need nothing.
    fn response(&mut self, message: &Value, inbox: &Inbox) -> Vec<Value> {
        let asked = self.pulls.asked.as_deref();
        if asked.is_none() || message["id"].as_str() != asked {
            return Vec::new();
        }
        self.pulls.asked = None;
        if let Some(error) = message.get("error") {
            return vec![json!({
                "jsonrpc": "2.0",
                "method": "window/logMessage",
                "params": {"type": 2, "message": format!("unfreeze: the settings could not be read: {error}")},
            })];
        }
        let settings = layered(&self.initial_settings, &message["result"][0]);
        self.settings_changed(&settings, inbox)
    }

    /// `textDocument/diagnostic`: an open buffer's diagnostics (analysed now if its text
    /// changed since; "unchanged" when the editor has them), or a file's on disk.
    fn pull_diagnostics(&mut self, params: &Value) -> Result<Value, (i64, String)> {
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        if self.documents.get(uri).is_none() {
            let Some(path) = documents::path_of(uri) else {
                return Err((INVALID_PARAMS, format!("`{uri}` is not a local file")));
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|err| (INVALID_PARAMS, format!("{}: {err}", path.display())))?;
            let project = self.projects.view(&path);
            let found = findings(&text, &path, &self.editor, self.registry, project);
            let items = diagnostics(&text, &found.findings, &self.editor);
            return Ok(json!({"kind": "full", "items": items}));
        }
        if !self.pulls.is_fresh(uri) {
            let messages = self.analyse(uri);
            self.outbox.extend(messages);
        }
        let items = self
            .published
            .get(uri)
            .cloned()
            .unwrap_or_else(|| json!([]));
        Ok(self.pulls.report(uri, params, &items))
    }
}

/// The `client/registerCapability` request that asks the editor to report changes of the
/// Python files and configurations on disk (`workspace/didChangeWatchedFiles`): a change the
/// editor did not save (`git checkout`) refreshes the project view too.
fn watch_files() -> Value {
    let watchers: Vec<Value> = [
        "**/*.py",
        "**/*.pyi",
        "**/pyproject.toml",
        "**/unfreeze.toml",
    ]
    .iter()
    .map(|glob| json!({"globPattern": glob}))
    .collect();
    json!({
        "jsonrpc": "2.0",
        "id": "unfreeze-watch",
        "method": "client/registerCapability",
        "params": {"registrations": [{
            "id": "unfreeze-watch",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]},
    })
}

/// The `textDocument/publishDiagnostics` notification.
fn publish(uri: &str, version: Option<i64>, diagnostics: Value) -> Value {
    let mut params = json!({"uri": uri, "diagnostics": diagnostics});
    if let Some(version) = version {
        params["version"] = json!(version);
    }
    json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params})
}
