//! `unfreeze server` driven over stdio as an editor drives it (issue 26): `initialize`,
//! `didOpen` → `publishDiagnostics` with `check`'s findings (positions in UTF-16 units),
//! `codeAction` → the quick fix and "add `# noqa`", their edits applied as an editor applies
//! them and the text asserted, `didChange` → new diagnostics, `shutdown` / `exit` → status 0.

mod common;

mod lsp;

use common::{project, unfreeze};
use lsp::{Session, apply, codes, uri_of};
use serde_json::{Value, json};

/// An emoji (two UTF-16 units, one character, four bytes) before the call on its line.
const APP: &str = "\
import time


async def handler():
    print(\"\u{1F600}\"); time.sleep(1)


async def ask():
    return input(\"name? \")
";

#[test]
fn an_editor_session_gets_checks_findings_their_quick_fixes_and_noqa() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let path = dir.path().join("app.py");
    let uri = uri_of(&path);
    let mut session = Session::start(dir.path());
    session.initialize(dir.path());
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
    );
    let diagnostics = session.diagnostics(&uri);

    // The same findings as `check`, at the same places (LSP: 0-based, UTF-16 units).
    let check = unfreeze(
        dir.path(),
        &["check", "--no-cache", "--format", "json", "app.py"],
    )
    .output();
    let findings: Vec<Value> = serde_json::from_str(&check.stdout).unwrap();
    let codes = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes(&diagnostics), codes(&findings), "{diagnostics:?}");
    assert_eq!(codes(&diagnostics), ["ASYNC251", "ASYNC250"]);
    // `check` counts the emoji as one column (17, 1-based); UTF-16 counts it as two.
    assert_eq!(findings[0]["location"]["column"], 17);
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 4, "character": 17})
    );
    assert_eq!(
        diagnostics[0]["range"]["end"],
        json!({"line": 4, "character": 30})
    );
    assert_eq!(diagnostics[0]["source"], "unfreeze");

    // The quick fix at the sleep: its edit gives the text `unfreeze fix` writes for it.
    let sleep_range = diagnostics[0]["range"].clone();
    let actions = session.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": sleep_range,
            "context": {"diagnostics": [diagnostics[0]]},
        }),
    );
    let actions = actions.as_array().unwrap();
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let fix = actions
        .iter()
        .find(|a| a["kind"] == "quickfix" && a["title"].as_str().unwrap().contains("ASYNC251 fix"))
        .unwrap_or_else(|| panic!("a quick fix for the sleep: {titles:?}"));
    assert_eq!(fix["isPreferred"], true);
    let fixed = apply(APP, &fix["edit"], &uri);
    assert_eq!(
        fixed,
        APP.replace("import time\n", "import asyncio\n")
            .replace("time.sleep(1)", "await asyncio.sleep(1)"),
    );

    // "add `# noqa: ASYNC251`" at the end of the sleep's line.
    let noqa = actions
        .iter()
        .find(|a| a["title"] == "ASYNC251: add `# noqa: ASYNC251`")
        .unwrap_or_else(|| panic!("a noqa action: {titles:?}"));
    let silenced = apply(APP, &noqa["edit"], &uri);
    assert_eq!(
        silenced,
        APP.replace("time.sleep(1)\n", "time.sleep(1)  # noqa: ASYNC251\n")
    );
    // "fix all" is offered too.
    assert!(
        actions
            .iter()
            .any(|a| a["kind"] == "source.fixAll.unfreeze"),
        "{titles:?}"
    );

    // The unsafe fix of `input` is offered, never preferred, its title saying so.
    let ask_range = diagnostics[1]["range"].clone();
    let actions = session.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": ask_range, "context": {"diagnostics": []}}),
    );
    let unsafe_fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("ASYNC250 unsafe fix")
        })
        .unwrap_or_else(|| panic!("the unsafe fix of input: {actions}"));
    assert_eq!(unsafe_fix["isPreferred"], false);
    assert!(
        unsafe_fix["title"]
            .as_str()
            .unwrap()
            .contains("Ctrl+C no longer interrupts"),
        "{unsafe_fix}"
    );
    assert!(
        apply(APP, &unsafe_fix["edit"], &uri)
            .contains("return await asyncio.to_thread(input, \"name? \")"),
        "{unsafe_fix}"
    );

    // The buffer with the noqa: only `input` is left.
    session.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": silenced}],
        }),
    );
    assert_eq!(codes(&session.diagnostics(&uri)), ["ASYNC250"]);

    // A syntax error typed in: reported as an error, and no quick fix for the sleep.
    let broken = APP.replace("async def ask():", "async def ask(:");
    session.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"text": broken}],
        }),
    );
    let diagnostics = session.diagnostics(&uri);
    let syntax = diagnostics
        .iter()
        .find(|d| d["code"] == "SyntaxError")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(syntax["severity"], 1);
    assert_eq!(syntax["range"]["start"]["line"], 7);
    let actions = session.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": sleep_range, "context": {"diagnostics": []}}),
    );
    assert!(
        !actions
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["title"].as_str().unwrap().contains(" fix:")),
        "{actions}"
    );

    // The editor's buffer is never written by the server.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), APP);
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn the_project_configuration_is_read_and_exit_without_shutdown_is_status_1() {
    // `ignore` in the project's pyproject.toml: the sleep is not reported in the editor.
    let dir = project(&[
        ("app.py", APP.as_bytes()),
        (
            "pyproject.toml",
            b"[tool.unfreeze]\nignore = [\"ASYNC251\"]\n",
        ),
    ]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize(dir.path());
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
    );
    let diagnostics = session.diagnostics(&uri);
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ASYNC250"]);
    session.notify("exit", Value::Null);
    drop(session.stdin);
    assert_eq!(session.child.wait().unwrap().code(), Some(1));
}

/// A file whose analysis takes a while (3,000 coroutines with a sleep each), so that what the
/// editor sends meanwhile is queued when the server looks at it.
fn slow_file() -> String {
    let mut text = "import time\n\n".to_owned();
    for i in 0..3000 {
        text.push_str(&format!("\nasync def f{i}():\n    time.sleep({i})\n\n"));
    }
    text
}

/// Typing queues one change per keystroke: a change that a queued change replaces is not
/// analysed (only the newest text is), and a request cancelled before its turn is answered
/// "cancelled" (LSP's -32800) without being computed.
#[test]
fn changes_replaced_by_queued_ones_are_not_analysed_and_cancelled_requests_are_not_answered() {
    let slow = slow_file();
    let dir = project(&[("app.py", slow.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize(dir.path());
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": slow}}),
    );
    // While the open buffer is analysed: a code action, cancelled at once, then 9 changes.
    session.send(json!({
        "jsonrpc": "2.0",
        "id": 99,
        "method": "textDocument/codeAction",
        "params": {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}},
            "context": {"diagnostics": []},
        },
    }));
    session.notify("$/cancelRequest", json!({"id": 99}));
    for version in 2..=10 {
        let text = if version == 10 {
            APP.to_owned()
        } else {
            slow.replace("time.sleep(0)", &format!("time.sleep({version})"))
        };
        session.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            }),
        );
    }
    let answer = session.receive(|m| m["id"] == 99);
    assert_eq!(answer["error"]["code"], -32800, "{:?}", answer.get("error"));
    // The diagnostics published, up to those of the last text.
    let mut versions = Vec::new();
    loop {
        let published = session.receive(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        let version = published["params"]["version"].as_i64().unwrap();
        versions.push(version);
        if version == 10 {
            let codes: Vec<&str> = published["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["code"].as_str().unwrap())
                .collect();
            assert_eq!(codes, ["ASYNC251", "ASYNC250"]);
            break;
        }
    }
    // Each of those analyses takes longer than the editor took to send every change.
    assert!(versions.len() <= 3, "{versions:?}");
    assert_eq!(session.finish(), Some(0));
}

/// An editor that resolves edits lazily gets "fix all" without its edit (no second analysis
/// at every cursor move); `codeAction/resolve` gives the text `unfreeze fix` writes.
#[test]
fn fix_all_is_resolved_when_chosen_and_gives_what_fix_writes() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize_with(
        dir.path(),
        json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}}),
    );
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
    );
    session.diagnostics(&uri);
    let actions = session.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert!(actions[0].get("edit").is_none(), "{actions:?}");
    let resolved = session.request("codeAction/resolve", actions[0].clone());
    let fixed = apply(APP, &resolved["edit"], &uri);
    // `unfreeze fix` (safe fixes only: `input`'s unsafe fix is left out).
    let fix = unfreeze(
        dir.path(),
        &["fix", "--no-cache", "--stdin-filename", "app.py", "-"],
    )
    .stdin(APP)
    .output();
    assert_eq!(fixed, fix.stdout);
    assert!(fixed.contains("await asyncio.sleep(1)"), "{fixed}");
    assert!(fixed.contains("return input("), "{fixed}");
    assert_eq!(session.finish(), Some(0));
}

/// The actions at the sleep of `APP` (line 4).
fn actions_at_sleep(session: &mut Session, uri: &str) -> Vec<Value> {
    let at = json!({"line": 4, "character": 20});
    session
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": at, "end": at},
                "context": {"diagnostics": []},
            }),
        )
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn explain_rule_opens_the_rules_text_in_the_editor_or_shows_it() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let explained = unfreeze(dir.path(), &["explain", "ASYNC251"]).output();
    assert_eq!(explained.code, Some(0));
    for shows_documents in [true, false] {
        let mut session = Session::start(dir.path());
        session.initialize_with(
            dir.path(),
            json!({"window": {"showDocument": {"support": shows_documents}}}),
        );
        session.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
        );
        let diagnostics = session.diagnostics(&uri);
        // No page to link to unless the settings say where the pages are.
        assert!(diagnostics[0].get("codeDescription").is_none());
        let actions = actions_at_sleep(&mut session, &uri);
        let explain = actions
            .iter()
            .find(|a| a["title"] == "ASYNC251: explain rule")
            .unwrap_or_else(|| panic!("{actions:?}"));
        assert_eq!(explain["command"]["command"], "unfreeze.explain");
        assert_eq!(explain["command"]["arguments"], json!(["ASYNC251"]));
        assert!(explain.get("edit").is_none());
        let result = session.request("workspace/executeCommand", explain["command"].clone());
        assert_eq!(result, Value::Null);
        if shows_documents {
            // The text `unfreeze explain` prints, opened in the editor as a Markdown file.
            let show = session.receive(|m| m["method"] == "window/showDocument");
            assert_eq!(show["params"]["external"], false);
            let shown = show["params"]["uri"].as_str().unwrap();
            assert!(shown.ends_with("/ASYNC251.md"), "{shown}");
            let path = shown.strip_prefix("file://").unwrap();
            assert_eq!(std::fs::read_to_string(path).unwrap(), explained.stdout);
            session.send(json!({"jsonrpc": "2.0", "id": show["id"], "result": {"success": true}}));
        } else {
            let shown = session.receive(|m| m["method"] == "window/showMessage");
            assert_eq!(shown["params"]["message"], explained.stdout.as_str());
        }
        assert_eq!(session.finish(), Some(0));
    }
}

#[test]
fn with_a_docs_url_diagnostics_link_to_the_rules_page_and_explain_opens_it() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    session.initialize_options(
        dir.path(),
        json!({"window": {"showDocument": {"support": true}}}),
        json!({"docsUrl": "https://example.org/unfreeze/docs/rules"}),
    );
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
    );
    let diagnostics = session.diagnostics(&uri);
    assert_eq!(
        diagnostics[0]["codeDescription"]["href"],
        "https://example.org/unfreeze/docs/rules/ASYNC251.md"
    );
    session.request(
        "workspace/executeCommand",
        json!({"command": "unfreeze.explain", "arguments": ["ASYNC251"]}),
    );
    let show = session.receive(|m| m["method"] == "window/showDocument");
    assert_eq!(
        show["params"],
        json!({
            "uri": "https://example.org/unfreeze/docs/rules/ASYNC251.md",
            "external": true,
            "takeFocus": true,
        })
    );
    assert_eq!(session.finish(), Some(0));
}

#[test]
fn the_editors_settings_are_checks_flags_and_apply_when_changed() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let uri = uri_of(&dir.path().join("app.py"));
    let mut session = Session::start(dir.path());
    // `ignore` (`--ignore`), and a setting of the wrong type, said in the log.
    session.initialize_options(
        dir.path(),
        json!({}),
        json!({"ignore": ["ASYNC250"], "unsafeFixes": "yes"}),
    );
    let log = session.receive(|m| m["method"] == "window/logMessage");
    let text = log["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("`unsafeFixes` must be true or false"),
        "{text}"
    );
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": APP}}),
    );
    assert_eq!(codes(&session.diagnostics(&uri)), ["ASYNC251"]);
    // Changed (in the `unfreeze` object, as editors send every server's settings): the open
    // buffer is analysed again at once; the keys not sent keep their initial value.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"extendSelect": ["UNF402"]}}}),
    );
    assert_eq!(codes(&session.diagnostics(&uri)), ["ASYNC251"]);
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"select": ["ASYNC250"], "ignore": []}}}),
    );
    assert_eq!(codes(&session.diagnostics(&uri)), ["ASYNC250"]);
    // `null` (an editor saying "ask me"): nothing changes, nothing is analysed again.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    // A code `check` refuses: said as the configuration error it is, nothing reported.
    session.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"unfreeze": {"select": ["NOPE1"]}}}),
    );
    let log = session.receive(|m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"].as_str().unwrap().contains("NOPE1")
    });
    assert_eq!(log["params"]["type"], 1, "an error: {log}");
    assert!(session.diagnostics(&uri).is_empty());
    assert_eq!(session.finish(), Some(0));
}
