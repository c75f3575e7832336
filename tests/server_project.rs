//! `unfreeze server` with the project view (issue 26): a two-module project whose coroutine
//! calls the other module's blocking helper. The first diagnostics come before the project
//! view is ready (the buffer alone: no UNF401); the view arrives from the background and the
//! buffer is published again with the UNF401 and its chain; a call typed and not saved is
//! reported with the project; a save (or a change on disk the editor's watcher reports) of
//! the other module builds the view again, and the diagnostic disappears and appears with it.

mod common;
mod lsp;

use std::fs;

use common::project;
use lsp::{Session, apply, codes, uri_of};
use serde_json::{Value, json};

const HELPERS: &str = "\
import time


def load():
    time.sleep(1)


def fast():
    return 1
";

const APP: &str = "\
import helpers


async def handler():
    helpers.load()


async def other():
    helpers.fast()
";

impl Session {
    /// The next diagnostics published for `uri` that `wanted` accepts (others are skipped).
    fn diagnostics_until(&mut self, uri: &str, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        loop {
            let diagnostics = self.diagnostics(uri);
            if wanted(&diagnostics) {
                return diagnostics;
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            }),
        );
    }
}

fn unf401(diagnostics: &[Value]) -> Vec<&Value> {
    diagnostics
        .iter()
        .filter(|d| d["code"] == "UNF401")
        .collect()
}

#[test]
fn the_project_view_arrives_after_the_first_diagnostics_and_reports_the_chain() {
    let dir = project(&[
        ("helpers.py", HELPERS.as_bytes()),
        ("app.py", APP.as_bytes()),
    ]);
    let app = uri_of(&dir.path().join("app.py"));
    let helpers = uri_of(&dir.path().join("helpers.py"));
    let mut session = Session::start(dir.path());
    session.initialize(dir.path());
    session.open(&app, APP);
    // The buffer alone first: the project view is being built in the background.
    let first = session.diagnostics(&app);
    assert!(unf401(&first).is_empty(), "{first:?}");
    // Then published again with the project: the call to the blocking helper, its chain.
    let with_project = session.diagnostics_until(&app, |d| !unf401(d).is_empty());
    assert_eq!(codes(&with_project), ["UNF401"], "{with_project:?}");
    let diagnostic = &with_project[0];
    assert_eq!(
        diagnostic["range"]["start"],
        json!({"line": 4, "character": 4})
    );
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        message.contains("handler -> load -> time.sleep (blocking call at helpers.py:5)"),
        "{message}"
    );
    let related = diagnostic["relatedInformation"].as_array().unwrap();
    assert_eq!(related.len(), 1, "{related:?}");
    assert_eq!(related[0]["location"]["uri"], helpers);
    assert_eq!(
        related[0]["location"]["range"]["start"],
        json!({"line": 4, "character": 4})
    );
    assert_eq!(related[0]["message"], "in `load`: time.sleep(1)");

    // Its quick fix, with the project, as `fix` gives it.
    let actions = session.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": app},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        }),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("UNF401 fix:"))
        .unwrap_or_else(|| panic!("{actions}"));
    assert_eq!(
        apply(APP, &fix["edit"], &app),
        "import asyncio\nimport helpers\n\n\nasync def handler():\n    await asyncio.to_thread(helpers.load)\n\n\nasync def other():\n    helpers.fast()\n"
    );

    // A call typed, not saved: reported with the project at once.
    let typed = APP.replace("helpers.fast()", "helpers.load()");
    session.change(&app, 2, &typed);
    let diagnostics = session.diagnostics(&app);
    let lines: Vec<&Value> = unf401(&diagnostics)
        .iter()
        .map(|d| &d["range"]["start"]["line"])
        .collect();
    assert_eq!(lines, [&json!(4), &json!(8)], "{diagnostics:?}");
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn saving_the_other_module_builds_the_view_again() {
    let dir = project(&[
        ("helpers.py", HELPERS.as_bytes()),
        ("app.py", APP.as_bytes()),
    ]);
    let helpers_path = dir.path().join("helpers.py");
    let app = uri_of(&dir.path().join("app.py"));
    let helpers = uri_of(&helpers_path);
    let mut session = Session::start(dir.path());
    // An editor with workspace folders (their first one is the root here).
    let result = session.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": null,
            "workspaceFolders": [{"uri": uri_of(dir.path()), "name": "p"}],
            "capabilities": {},
        }),
    );
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    session.notify("initialized", json!({}));
    session.open(&app, APP);
    session.diagnostics_until(&app, |d| unf401(d).len() == 1);

    // The helper no longer blocks, saved: the UNF401 goes.
    session.open(&helpers, HELPERS);
    let quiet = HELPERS.replace("    time.sleep(1)\n", "    return 2\n");
    session.change(&helpers, 2, &quiet);
    fs::write(&helpers_path, &quiet).unwrap();
    session.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": helpers}}),
    );
    session.diagnostics_until(&app, |d| unf401(d).is_empty());

    // `fast` blocks now, saved: the other coroutine's call is reported.
    let slow = quiet.replace("    return 1\n", "    time.sleep(2)\n    return 1\n");
    session.change(&helpers, 3, &slow);
    fs::write(&helpers_path, &slow).unwrap();
    session.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": helpers}}),
    );
    let diagnostics = session.diagnostics_until(&app, |d| !unf401(d).is_empty());
    let found = unf401(&diagnostics);
    assert_eq!(found.len(), 1, "{diagnostics:?}");
    assert_eq!(found[0]["range"]["start"]["line"], 8);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("other -> fast -> time.sleep"),
        "{diagnostics:?}"
    );
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn a_change_on_disk_the_watcher_reports_builds_the_view_again() {
    let dir = project(&[
        ("helpers.py", HELPERS.as_bytes()),
        ("app.py", APP.as_bytes()),
    ]);
    let helpers_path = dir.path().join("helpers.py");
    let app = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize_with(
        dir.path(),
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    // The server asks to watch the Python files and the configurations.
    let register = session.receive(|m| m["method"] == "client/registerCapability");
    let registration = &register["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&Value> = registration["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["globPattern"])
        .collect();
    assert!(globs.contains(&&json!("**/*.py")), "{globs:?}");
    session.send(json!({"jsonrpc": "2.0", "id": register["id"], "result": null}));

    session.open(&app, APP);
    session.diagnostics_until(&app, |d| unf401(d).len() == 1);
    // A `git checkout` changes the helper on disk: no editor buffer, the watcher reports it.
    fs::write(&helpers_path, HELPERS.replace("time.sleep(1)", "pass")).unwrap();
    session.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri_of(&helpers_path), "type": 2}]}),
    );
    session.diagnostics_until(&app, |d| unf401(d).is_empty());
    assert_eq!(session.finish(), Some(0));
}

/// A buffer outside every workspace root is analysed alone, as `check --stdin-filename` does.
#[test]
fn a_buffer_outside_the_roots_is_analysed_alone() {
    let dir = project(&[
        ("helpers.py", HELPERS.as_bytes()),
        ("app.py", APP.as_bytes()),
        ("elsewhere/.keep", b""),
    ]);
    let app = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize(&dir.path().join("elsewhere"));
    session.open(&app, APP);
    let diagnostics = session.diagnostics(&app);
    assert!(unf401(&diagnostics).is_empty(), "{diagnostics:?}");
    // A change: still alone (no view was started for it).
    session.change(&app, 2, &format!("{APP}\n"));
    let diagnostics = session.diagnostics(&app);
    assert!(unf401(&diagnostics).is_empty(), "{diagnostics:?}");
    assert_eq!(session.finish(), Some(0));
}
