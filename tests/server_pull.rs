//! `unfreeze server` with an editor that pulls (issue 26), driven over stdio: diagnostics
//! answered to `textDocument/diagnostic` (as VS Code's client asks for them), never pushed as
//! well, "unchanged" when the editor has them, a pull again asked for
//! (`workspace/diagnostic/refresh`) when the project view changes them; and the settings read
//! from the editor (`workspace/configuration`) after `initialized` and when a
//! `didChangeConfiguration` carries none, taking effect on the diagnostics.

mod common;
mod lsp;

use common::project;
use lsp::{Session, apply, uri_of};
use serde_json::{Value, json};

const APP: &str = "\
import time


async def handler():
    time.sleep(1)


async def ask():
    return input(\"name? \")
";

const HELPERS: &str = "\
import time


def load():
    time.sleep(1)
";

const CALLER: &str = "\
import helpers


async def handler():
    helpers.load()
";

/// What an editor that pulls diagnostics says at `initialize` (VS Code's client says this).
fn pulling() -> Value {
    json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": false, "relatedDocumentSupport": false}},
        "workspace": {"diagnostics": {"refreshSupport": true}},
    })
}

fn codes(diagnostics: &Value) -> Vec<&str> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

/// Pull the diagnostics of `uri` (request `id`), asserting no `publishDiagnostics` comes
/// before the answer (the server pushes nothing to an editor that pulls).
fn pull(session: &mut Session, id: &str, uri: &str, previous: Option<&Value>) -> Value {
    let mut params = json!({"textDocument": {"uri": uri}});
    if let Some(previous) = previous {
        params["previousResultId"] = previous.clone();
    }
    session.send(
        json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/diagnostic", "params": params}),
    );
    let answer =
        session.receive(|m| m["id"] == id || m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(answer["id"], id, "pushed to an editor that pulls: {answer}");
    assert!(answer.get("error").is_none(), "{answer}");
    answer["result"].clone()
}

fn open(session: &mut Session, uri: &str, text: &str) {
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
}

#[test]
fn an_editor_that_pulls_gets_checks_findings_as_answers_and_only_as_answers() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.send(
        json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "processId": null, "rootUri": uri_of(dir.path()), "capabilities": pulling(),
        }}),
    );
    let init = session.receive(|m| m["id"] == "init");
    assert_eq!(
        init["result"]["capabilities"]["diagnosticProvider"],
        json!({"identifier": "unfreeze", "interFileDependencies": true, "workspaceDiagnostics": false})
    );
    session.notify("initialized", json!({}));
    open(&mut session, &uri, APP);
    let first = pull(&mut session, "p1", &uri, None);
    assert_eq!(first["kind"], "full");
    assert_eq!(codes(&first["items"]), ["ASYNC251", "ASYNC250"], "{first}");
    assert_eq!(
        first["items"][0]["range"]["start"],
        json!({"line": 4, "character": 4})
    );
    // Pulled again with nothing changed: "unchanged", with the same result id.
    let again = pull(&mut session, "p2", &uri, Some(&first["resultId"]));
    assert_eq!(
        again,
        json!({"kind": "unchanged", "resultId": first["resultId"]})
    );
    // The quick fix of the pulled diagnostic, applied as the editor applies it.
    let diagnostic = &first["items"][0];
    let actions = session.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        }),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("ASYNC251 fix:"))
        .unwrap_or_else(|| panic!("{actions}"));
    let fixed = apply(APP, &fix["edit"], &uri);
    assert_eq!(
        fixed,
        APP.replace("import time", "import asyncio")
            .replace("time.sleep(1)", "await asyncio.sleep(1)")
    );
    // The fixed text typed: the next pull has only the input call, under a new result id.
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let changed = pull(&mut session, "p3", &uri, Some(&first["resultId"]));
    assert_eq!(changed["kind"], "full");
    assert_eq!(codes(&changed["items"]), ["ASYNC250"], "{changed}");
    assert_ne!(changed["resultId"], first["resultId"]);
    // A setting changed: the editor is asked to pull again (nothing pushed), and the pull
    // has the setting's effect.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"ignore": ["ASYNC250"]}}}),
    );
    let refresh = session.receive(|m| {
        m["method"] == "workspace/diagnostic/refresh"
            || m["method"] == "textDocument/publishDiagnostics"
    });
    assert_eq!(
        refresh["method"], "workspace/diagnostic/refresh",
        "{refresh}"
    );
    session.send(json!({"jsonrpc": "2.0", "id": refresh["id"], "result": null}));
    let ignored = pull(&mut session, "p4", &uri, Some(&changed["resultId"]));
    assert_eq!(ignored["kind"], "full");
    assert_eq!(ignored["items"], json!([]), "{ignored}");
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"ignore": []}}}),
    );
    // Closed: nothing pushed; a pull of the file reads it from disk (as saved: both calls).
    session.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let on_disk = pull(&mut session, "p5", &uri, None);
    assert_eq!(
        codes(&on_disk["items"]),
        ["ASYNC251", "ASYNC250"],
        "{on_disk}"
    );
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn the_project_view_arriving_asks_the_editor_to_pull_again() {
    let dir = project(&[
        ("helpers.py", HELPERS.as_bytes()),
        ("app.py", CALLER.as_bytes()),
    ]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize_with(dir.path(), pulling());
    open(&mut session, &uri, CALLER);
    pull(&mut session, "p1", &uri, None);
    // The view is built in the background; when it changes the buffer's diagnostics the
    // server asks for a pull (the editor cannot know), and the pull has the UNF401.
    let refresh = session.receive(|m| {
        m["method"] == "workspace/diagnostic/refresh"
            || m["method"] == "textDocument/publishDiagnostics"
    });
    assert_eq!(
        refresh["method"], "workspace/diagnostic/refresh",
        "{refresh}"
    );
    session.send(json!({"jsonrpc": "2.0", "id": refresh["id"], "result": null}));
    let after = pull(&mut session, "p2", &uri, None);
    assert_eq!(codes(&after["items"]), ["UNF401"], "{after}");
    let message = after["items"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("handler -> load -> time.sleep (blocking call at helpers.py:5)"),
        "{message}"
    );
    assert_eq!(session.finish(), Some(0));
}

/// The next `workspace/configuration` request: its id, after checking it asks for the
/// `unfreeze` section.
fn configuration_request(session: &mut Session) -> Value {
    let request = session.receive(|m| m["method"] == "workspace/configuration");
    assert_eq!(
        request["params"]["items"],
        json!([{"section": "unfreeze"}]),
        "{request}"
    );
    request["id"].clone()
}

#[test]
fn the_settings_are_asked_of_the_editor_and_take_effect() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    // An editor that answers `workspace/configuration` (and pushes no settings).
    session.initialize_with(dir.path(), json!({"workspace": {"configuration": true}}));
    let asked = configuration_request(&mut session);
    open(&mut session, &uri, APP);
    assert_eq!(
        codes(&json!(session.diagnostics(&uri))),
        ["ASYNC251", "ASYNC250"]
    );
    // The answer (the section as VS Code gives it, every key, unset ones null): the open
    // buffer is analysed again with it.
    session.send(json!({"jsonrpc": "2.0", "id": asked, "result": [{
        "unsafeFixes": false, "select": null, "extendSelect": [], "ignore": ["ASYNC250"],
        "extendIgnore": [], "config": null, "isolated": false, "docsUrl": null,
    }]}));
    assert_eq!(codes(&json!(session.diagnostics(&uri))), ["ASYNC251"]);
    // A change that carries no settings of the server's (`null`, or other servers'): asked
    // again, and the new answer applies.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"python": {"analysis": {}}}}),
    );
    let asked = configuration_request(&mut session);
    session.send(json!({"jsonrpc": "2.0", "id": asked, "result": [{"select": ["ASYNC250"]}]}));
    assert_eq!(codes(&json!(session.diagnostics(&uri))), ["ASYNC250"]);
    // Settings pushed in the change itself are used as they are (no question).
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"select": ["ASYNC251"]}}}),
    );
    let next = session.receive(|m| {
        m["method"] == "workspace/configuration" || m["method"] == "textDocument/publishDiagnostics"
    });
    assert_eq!(
        codes(&next["params"]["diagnostics"]),
        ["ASYNC251"],
        "{next}"
    );
    // An editor that cannot answer: said in its log, the settings kept.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let asked = configuration_request(&mut session);
    session
        .send(json!({"jsonrpc": "2.0", "id": asked, "error": {"code": -32603, "message": "no"}}));
    let log = session.receive(|m| m["method"] == "window/logMessage");
    let text = log["params"]["message"].as_str().unwrap();
    assert!(text.contains("settings could not be read"), "{text}");
    assert_eq!(session.finish(), Some(0));
}
