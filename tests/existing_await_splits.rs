//! Issue 20: a check and its act that the original code already splits with an `await` on
//! every path between them are not a new race when a fix moves either to a worker thread.
//!
//! discrdapp/economy-bot cogs/games/poker.py:400 reads a user setting in an `if` whose two
//! clauses each `await self.msg.edit(...)`, then writes the database after; Gaara-discord-bot
//! cogs/economy.py:75-98 reads a document, answers in each clause with `await ctx.send(...)`,
//! then replaces it. Other coroutines could already change the rows at those awaits, so the
//! hops add no window: the fixes are safe. The same shape without the awaits, or with an
//! `await` only some paths take, or an `await` of the file's own coroutine that returns a
//! cached value without suspending, keeps its check-then-act caveat. And the label no longer
//! flips on the second run: an earlier round's hop is itself an `await` between the two.

mod common;

use std::path::Path;

use common::{project, python, test_python, unfreeze};

/// A database helper opening its own connection per call (no thread affinity), and
/// coroutines checking then acting on one table.
const DB: &str = r#"import sqlite3

PATH = "settings.db"


def fetch(sql, args=()):
    con = sqlite3.connect(PATH)
    try:
        return con.execute(sql, args).fetchone()
    finally:
        con.close()


def update(sql, args=()):
    con = sqlite3.connect(PATH)
    try:
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()
"#;

const APP: &str = r#"import asyncio

import db

SENT = []


async def send(text):
    await asyncio.sleep(0)
    SENT.append(text)


async def cached_channel():
    if not SENT:
        await asyncio.sleep(0)
    return SENT


async def game_over(user):
    if not db.fetch("SELECT shown FROM settings WHERE user = ?", (user,)):
        await send("image")
    else:
        await send("text")
    db.update("UPDATE settings SET shown = shown + 1 WHERE user = ?", (user,))


async def no_await_between(user):
    if not db.fetch("SELECT shown FROM settings WHERE user = ?", (user,)):
        SENT.append("first")
    db.update("UPDATE settings SET shown = shown + 1 WHERE user = ?", (user,))


async def await_on_one_path(user):
    if not db.fetch("SELECT shown FROM settings WHERE user = ?", (user,)):
        await send("first")
    db.update("UPDATE settings SET shown = shown + 1 WHERE user = ?", (user,))


async def cached_between(user):
    row = db.fetch("SELECT shown FROM settings WHERE user = ?", (user,))
    await cached_channel()
    if row:
        db.update("UPDATE settings SET shown = shown + 1 WHERE user = ?", (user,))
"#;

const MAIN: &str = r#"import asyncio
import sqlite3

import app

con = sqlite3.connect("settings.db")
con.execute("CREATE TABLE settings (user INTEGER, shown INTEGER)")
con.execute("INSERT INTO settings VALUES (1, 0)")
con.commit()
con.close()


async def main():
    # Another task on the loop: the coroutines below are not the only one running.
    beat = asyncio.create_task(asyncio.sleep(0.01))
    for _ in range(2):
        await app.game_over(1)
        await app.no_await_between(1)
        await app.await_on_one_path(1)
        await app.cached_between(1)
    con = sqlite3.connect("settings.db")
    print(con.execute("SELECT shown FROM settings").fetchall(), app.SENT)
    await beat


asyncio.run(main())
"#;

/// The applicability of each finding's fix (or "none") in app.py, by line.
fn labels(dir: &Path) -> Vec<(u64, String, String)> {
    let output = unfreeze(dir, &["check", "--no-cache", "--format", "json", "."]).output();
    let findings: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let mut labels: Vec<(u64, String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["filename"] == "app.py")
        .map(|f| {
            let fix = &f["fix"];
            let label = fix["applicability"].as_str().unwrap_or("none").to_owned();
            let caveat = fix["caveat"].as_str().unwrap_or("").to_owned();
            (f["location"]["row"].as_u64().unwrap(), label, caveat)
        })
        .collect();
    labels.sort();
    labels
}

fn label_at(labels: &[(u64, String, String)], line: u64) -> (&str, &str) {
    labels
        .iter()
        .find(|(l, _, _)| *l == line)
        .map(|(_, label, caveat)| (label.as_str(), caveat.as_str()))
        .unwrap_or_else(|| panic!("no finding at line {line}: {labels:?}"))
}

fn app() -> tempfile::TempDir {
    project(&[
        ("db.py", DB.as_bytes()),
        ("app.py", APP.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ])
}

fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

#[test]
fn a_check_already_split_by_an_await_on_every_path_is_safe_to_hop() {
    let dir = app();
    let labels = labels(dir.path());
    // game_over: the awaits in both clauses already split the read (20) and the write (24).
    assert_eq!(label_at(&labels, 20).0, "safe", "{labels:?}");
    assert_eq!(label_at(&labels, 24).0, "safe", "{labels:?}");
    // No await between: the hops split a check from its act.
    for line in [28, 30] {
        let (label, caveat) = label_at(&labels, line);
        assert_eq!(label, "unsafe", "line {line}: {labels:?}");
        assert!(caveat.contains("check-then-act"), "line {line}: {caveat}");
    }
    // An await on one path only: the other path had no window.
    for line in [34, 36] {
        assert_eq!(
            label_at(&labels, line).0,
            "unsafe",
            "line {line}: {labels:?}"
        );
    }
    // An await of the file's coroutine that returns a cached value without suspending.
    for line in [40, 43] {
        assert_eq!(
            label_at(&labels, line).0,
            "unsafe",
            "line {line}: {labels:?}"
        );
    }
}

#[test]
fn the_safe_fixes_run_as_before_and_a_second_run_changes_nothing() {
    let dir = app();
    let before = run_main(dir.path());
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        fixed.contains("if not await asyncio.to_thread(db.fetch,"),
        "{fixed}"
    );
    assert!(
        fixed.contains("    await asyncio.to_thread(\n        db.update,"),
        "{fixed}"
    );
    std::fs::remove_file(dir.path().join("settings.db")).unwrap();
    assert_eq!(run_main(dir.path()), before);
    // The labels of what is left are the same on the rewritten file: nothing more is safe.
    let again = unfreeze(dir.path(), &["fix", "--no-cache", "."]).output();
    assert!(!again.stdout.contains("+++"), "{}", again.show());
    assert!(
        again.stderr.contains("Would fix 0 findings"),
        "{}",
        again.show()
    );
}
