//! Thread affinity, proven by running the programs with CPython against a sqlite3 file in a
//! temporary directory, before and after `unfreeze fix --write --unsafe-fixes`: helpers that
//! use a connection made at import time (the shared-connection bot pattern, across modules)
//! are not moved to a worker thread, where sqlite3 would raise `ProgrammingError`; the finding
//! stays, with the reason. A helper that connects, works and closes by itself (the whole unit
//! of work) still moves, and so does one whose connection is made shareable.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{project, test_python, unfreeze_in};

/// Run `main.py` in `dir` against a fresh `bot.db`; its stdout (it must succeed).
fn run_main(dir: &Path) -> String {
    let _ = fs::remove_file(dir.join("bot.db"));
    let output = Command::new(test_python())
        .arg("main.py")
        .current_dir(dir)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "main.py failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// `unfreeze fix --write --unsafe-fixes .`
fn fix(dir: &Path) -> common::Output {
    unfreeze_in(
        dir,
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    )
}

/// The bot pattern: one module opens the connection and a cursor at import time; its
/// helpers use them; the handlers in another module call the helpers from coroutines.
const SHARED_DB: &str = r#"import sqlite3

con = sqlite3.connect("bot.db")
cursor = con.cursor()
cursor.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")


def get_user(user_id):
    cursor.execute("SELECT name FROM users WHERE id = ?", (user_id,))
    return cursor.fetchone()


def add_user(user_id, name):
    cursor.execute("INSERT OR REPLACE INTO users VALUES (?, ?)", (user_id, name))
    con.commit()
"#;

const SHARED_HANDLERS: &str = r#"from db import add_user, get_user


def greeting(user_id):
    row = get_user(user_id)
    return f"hello {row[0]}"


async def on_join(user_id, name):
    add_user(user_id, name)


async def on_message(user_id):
    return greeting(user_id)
"#;

const MAIN: &str = r#"import asyncio

from handlers import on_join, on_message


async def main():
    await on_join(1, "ada")
    await on_join(2, "grace")
    print(await on_message(1))
    print(await on_message(2))


asyncio.run(main())
"#;

#[test]
fn shared_connection_helpers_are_not_moved_to_a_thread() {
    let dir = project(&[
        ("db.py", SHARED_DB.as_bytes()),
        ("handlers.py", SHARED_HANDLERS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "hello ada\nhello grace\n");
    let fixed = fix(dir.path());
    // The rewritten program runs as before (moved to a worker thread, the helpers raised
    // `sqlite3.ProgrammingError`)...
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    // ... because nothing was fixable: the findings stay, the run exits 1, nothing written.
    assert_eq!(fixed.code, Some(1), "{}", fixed.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("handlers.py")).unwrap(),
        SHARED_HANDLERS
    );
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    assert_eq!(check.code, Some(1), "{}", check.show());
    for expected in [
        "handlers.py:10:5: UNF401 `add_user(...)` blocks the event loop",
        "no fix: `add_user` uses the sqlite3 cursor `cursor`, a module global (db.py:14)",
        "handlers.py:14:12: UNF401 `greeting(...)` blocks the event loop",
        "no fix: `greeting` (through `get_user`) uses the sqlite3 cursor `cursor`, a module \
         global (db.py:9)",
        "SQLite objects can only be used on the thread that made them",
        "`sqlite3.ProgrammingError`",
        "open the connection inside the function",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
}

/// `check --format json`: the finding has no fix, and says why.
#[test]
fn check_reports_the_shared_connection_finding_without_a_fix() {
    let dir = project(&[
        ("db.py", SHARED_DB.as_bytes()),
        ("handlers.py", SHARED_HANDLERS.as_bytes()),
    ]);
    let check = unfreeze_in(
        dir.path(),
        &["check", "--isolated", "--format", "json", "."],
    );
    assert_eq!(check.code, Some(1), "{}", check.show());
    let findings: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 2, "{}", check.show());
    for finding in findings {
        assert_eq!(finding["code"], "UNF401");
        assert!(finding["fix"].is_null(), "{finding}");
        let reason = finding["no_fix_reason"].as_str().unwrap();
        assert!(
            reason.contains("so it is not moved to a worker thread"),
            "{reason}"
        );
    }
    // `fix` agrees: no diff.
    let diff = unfreeze_in(dir.path(), &["fix", "--isolated", "--unsafe-fixes", "."]);
    assert!(!diff.stdout.contains("+++ "), "{}", diff.show());
}

/// The whole unit of work in one helper: it connects, works and closes; moved to a worker
/// thread together, the connection never crosses threads.
const UNIT_DB: &str = r#"import sqlite3

PATH = "bot.db"


def add_user(user_id, name):
    con = sqlite3.connect(PATH)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT OR REPLACE INTO users VALUES (?, ?)", (user_id, name))
        con.commit()
    finally:
        con.close()


def get_user(user_id):
    with sqlite3.connect(PATH) as con:
        cur = con.cursor()
        cur.execute("SELECT name FROM users WHERE id = ?", (user_id,))
        row = cur.fetchone()
    con.close()
    return row
"#;

const UNIT_HANDLERS: &str = r#"from db import add_user, get_user


async def on_join(user_id, name):
    add_user(user_id, name)


async def on_message(user_id):
    row = get_user(user_id)
    return f"hello {row[0]}"
"#;

#[test]
fn a_helper_doing_the_whole_unit_of_work_still_moves() {
    let dir = project(&[
        ("db.py", UNIT_DB.as_bytes()),
        ("handlers.py", UNIT_HANDLERS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "hello ada\nhello grace\n");
    let output = fix(dir.path());
    assert_eq!(output.code, Some(0), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(add_user, user_id, name)")
            && fixed.contains("await asyncio.to_thread(get_user, user_id)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}

/// A connection opened with `check_same_thread=False` may be used from any thread: the fix
/// stays (the helpers here are never run at the same time).
#[test]
fn a_shareable_connection_keeps_the_fix() {
    let shareable = SHARED_DB.replace(
        r#"sqlite3.connect("bot.db")"#,
        r#"sqlite3.connect("bot.db", check_same_thread=False)"#,
    );
    let dir = project(&[
        ("db.py", shareable.as_bytes()),
        ("handlers.py", SHARED_HANDLERS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run_main(dir.path());
    let output = fix(dir.path());
    assert_eq!(output.code, Some(0), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(fixed.contains("asyncio.to_thread(add_user"), "{fixed}");
    assert_eq!(run_main(dir.path()), before);
}

/// The connection and cursor themselves imported by other modules: a coroutine using them
/// directly is a UNF101 finding, and a helper using them is a UNF401 one, both without a fix.
const IMPORTING_HANDLERS: &str = r#"from db import con, cursor


def name_of(user_id):
    cursor.execute("SELECT name FROM users WHERE id = ?", (user_id,))
    return cursor.fetchone()[0]


async def on_join(user_id, name):
    con.execute("INSERT OR REPLACE INTO users VALUES (?, ?)", (user_id, name))
    con.commit()


async def on_message(user_id):
    return f"hello {name_of(user_id)}"
"#;

#[test]
fn calls_on_an_imported_connection_are_reported_without_a_fix() {
    let dir = project(&[
        ("db.py", SHARED_DB.as_bytes()),
        ("handlers.py", IMPORTING_HANDLERS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "hello ada\nhello grace\n");
    let fixed = fix(dir.path());
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    assert_eq!(fixed.code, Some(1), "{}", fixed.show());
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    for expected in [
        "handlers.py:10:5: UNF101 `con.execute` blocks the event loop on a database call in \
         async function `on_join`",
        "no fix: `con` is the sqlite3 connection made at import time in db.py, so the call is \
         not moved to a worker thread",
        "handlers.py:11:5: UNF101 `con.commit`",
        "handlers.py:15:21: UNF401 `name_of(...)` blocks the event loop in async function \
         `on_message`: on_message -> name_of -> sqlite3.connect().cursor().execute (blocking \
         call at handlers.py:5)",
        "no fix: `name_of` uses the sqlite3 cursor `cursor`, made at import time in db.py \
         (handlers.py:5)",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
}

/// A `with open(...)` block the ASYNC230 fix would move to a worker thread as a whole: one
/// that writes through the module's connection stays (no fix, with the reason); one that
/// connects, writes and closes by itself moves.
const BLOCKS: &str = r#"import asyncio
import sqlite3

con = sqlite3.connect("bot.db")
con.execute("CREATE TABLE IF NOT EXISTS lines (t TEXT)")


async def load(path):
    with open(path) as f:
        for line in f:
            con.execute("INSERT INTO lines VALUES (?)", (line.strip(),))
    con.commit()


async def load_own(path, db):
    with open(path) as f:
        rows = [(line.strip(),) for line in f]
        c = sqlite3.connect(db)
        c.executemany("INSERT INTO lines VALUES (?)", rows)
        c.commit()
        c.close()


async def main():
    with open("in.txt", "w") as f:
        f.write("a\nb\n")
    # Through gather: other tasks could run (in a single-task script nothing is moved, and
    # after a gather has returned the loop is alone again: both run inside it).
    await asyncio.gather(load("in.txt"), load_own("in.txt", "bot.db"))
    print(con.execute("SELECT count(*) FROM lines").fetchone()[0])


asyncio.run(main())
"#;

#[test]
fn a_with_block_using_the_shared_connection_is_not_moved() {
    let dir = project(&[("main.py", BLOCKS.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "4\n");
    let fixed = fix(dir.path());
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    let text = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        text.contains("async def load(path):\n    with open(path) as f:")
            && text.contains("await asyncio.to_thread(_read_file)"),
        "{text}"
    );
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    assert!(
        check.stdout.contains(
            "no fix: the `with` block uses the sqlite3 connection `con`, a module global (line \
             11), so it is not moved to a worker thread"
        ),
        "{}",
        check.show()
    );
}
