//! SQL passed in: database helpers that open the database and run the SQL their caller passes
//! (`def fetch_all(sql, values=None)`, a bot's `DB.fetchAll` staticmethod), in another module
//! or in the same one. Each call is classified by the SQL it passes: a helper call passing a
//! `SELECT` only reads, so a coroutine reading twice through it is no check-then-act and keeps
//! its safe fix, which is proven by running the rewritten program with CPython against a
//! sqlite3 file in a temporary directory. A real check-then-act through the same helpers
//! (`fetch_all("SELECT …")` then `update("UPDATE …")`) stays unsafe, and so does a helper
//! moved whole that selects then updates. Statements in exclusive clauses of one `if` /
//! `else` (the helper's `if values: execute(sql, values) else: execute(sql)`) are
//! alternatives, never a read followed by a write; inside a loop they are a sequence.

mod common;

use std::fs;
use std::path::Path;

use common::{Run, finding, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_SQL_PASSED_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python: its stdout (it must exit 0).
fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// `unfreeze check --no-cache .`: its text output.
fn check(dir: &Path) -> String {
    let output = unfreeze(dir, &["check", "--no-cache", "."]).output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

/// The helpers, as a bot writes them: each opens the database, runs the SQL it is passed (the
/// values in one branch, none in the other) and closes it.
const DB: &str = r#"import sqlite3

DB_PATH = "shop.db"


def fetch_all(sql, values=None):
    conn = sqlite3.connect(DB_PATH)
    if values:
        cursor = conn.execute(sql, values)
    else:
        cursor = conn.execute(sql)
    data = cursor.fetchall()
    conn.close()
    return data


def update(sql, values):
    conn = sqlite3.connect(DB_PATH)
    conn.execute(sql, values)
    conn.commit()
    conn.close()


def create():
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, coins INTEGER)")
    conn.execute("DELETE FROM users")
    conn.execute("INSERT INTO users (id, name, coins) VALUES (1, 'ada', 15)")
    conn.commit()
    conn.close()
"#;

/// Coroutines reading only, through the helper: one call, and two in a row (line 10-11).
const READS: &str = r#"import asyncio

from db import create, fetch_all


async def show(uid):
    return fetch_all("SELECT name FROM users WHERE id = ?", [uid])


async def profile(uid):
    coins = fetch_all("SELECT coins FROM users WHERE id = ?", [uid])
    name = fetch_all(f"SELECT name FROM users WHERE id = {int(uid)}")
    return name[0][0], coins[0][0]


async def main():
    create()
    asyncio.create_task(asyncio.sleep(0))
    print(await show(1), await profile(1))


asyncio.run(main())
"#;

#[test]
fn selects_passed_to_a_helper_of_another_module_are_safe_and_the_program_runs() {
    let dir = project(&[("db.py", DB.as_bytes()), ("main.py", READS.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "[('ada',)] ('ada', 15)\n");
    let report = check(dir.path());
    for location in [
        "main.py:7:12: UNF401 [*]",
        "main.py:11:13: UNF401 [*]",
        "main.py:12:12: UNF401 [*]",
    ] {
        let found = finding(&report, location);
        assert!(!found.contains("unsafe fix"), "{found}");
    }
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert_eq!(
        fixed.matches("await asyncio.to_thread(").count(),
        3,
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}

#[test]
fn selects_passed_to_a_helper_of_the_same_module_are_safe_and_the_program_runs() {
    // The helpers and the coroutines in one file.
    let helpers = DB.replacen("import sqlite3\n", "import asyncio\nimport sqlite3\n", 1);
    let coroutines = READS
        .replace("import asyncio\n", "")
        .replace("from db import create, fetch_all\n", "");
    let source = format!("{helpers}\n{coroutines}");
    let lines: Vec<&str> = source.lines().collect();
    let line = |text: &str| lines.iter().position(|l| l.contains(text)).unwrap() + 1;
    let dir = project(&[("main.py", source.as_bytes())]);
    let before = run_main(dir.path());
    let report = check(dir.path());
    for (text, column) in [
        ("return fetch_all(\"SELECT name", 12),
        ("coins = fetch_all(", 13),
        ("name = fetch_all(", 12),
    ] {
        let found = finding(
            &report,
            &format!("main.py:{}:{column}: UNF401 [*]", line(text)),
        );
        assert!(!found.contains("unsafe fix"), "{found}");
    }
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert_eq!(
        fixed.matches("await asyncio.to_thread(").count(),
        3,
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}

/// A check and its act through the same helpers: in the coroutine (lines 7 and 9), and in a
/// helper moved whole (line 19).
const SPEND: &str = r#"import asyncio

from db import create, fetch_all, update


async def spend(uid):
    rows = fetch_all("SELECT coins FROM users WHERE id = ?", [uid])
    if rows[0][0] >= 10:
        update("UPDATE users SET coins = coins - 10 WHERE id = ?", [uid])


def checked(uid):
    rows = fetch_all("SELECT coins FROM users WHERE id = ?", [uid])
    if rows[0][0] >= 10:
        update("UPDATE users SET coins = coins - 10 WHERE id = ?", [uid])


async def spend_checked(uid):
    checked(uid)


async def main():
    create()
    asyncio.create_task(asyncio.sleep(0))
    await spend(1)
    await spend_checked(1)


asyncio.run(main())
"#;

#[test]
fn a_check_then_act_through_the_same_helpers_stays_unsafe() {
    let dir = project(&[("db.py", DB.as_bytes()), ("main.py", SPEND.as_bytes())]);
    let report = check(dir.path());
    let read = finding(&report, "main.py:7:12: UNF401");
    assert!(
        read.contains("unsafe fix")
            && read.contains("check-then-act")
            && read.contains("then writes in another hop (line 9)"),
        "{read}"
    );
    let write = finding(&report, "main.py:9:9: UNF401");
    assert!(
        write.contains("unsafe fix") && write.contains("after the same function read it"),
        "{write}"
    );
    let moved = finding(&report, "main.py:19:5: UNF401");
    assert!(
        moved.contains("unsafe fix") && moved.contains("database"),
        "{moved}"
    );
}

/// Helpers choosing one statement of two: in one `if` / `else` (no sequence), and the same
/// choice made in a loop (a read in one turn, a write in the next).
const CHOICE: &str = r#"import asyncio
import sqlite3

DB_PATH = "shop.db"


def touch(uid, fresh):
    conn = sqlite3.connect(DB_PATH)
    if fresh:
        rows = conn.execute("SELECT coins FROM users WHERE id = ?", (uid,)).fetchall()
    else:
        conn.execute("UPDATE users SET coins = 0 WHERE id = ?", (uid,))
        rows = []
    conn.commit()
    conn.close()
    return rows


def touch_all(uids):
    conn = sqlite3.connect(DB_PATH)
    rows = []
    for uid in uids:
        if uid < 0:
            rows = conn.execute("SELECT coins FROM users WHERE id = ?", (-uid,)).fetchall()
        else:
            conn.execute("UPDATE users SET coins = ? WHERE id = ?", (len(rows), uid))
    conn.commit()
    conn.close()


async def handler(uid):
    return touch(uid, True)


async def handler_all(uids):
    touch_all(uids)


async def main():
    asyncio.create_task(asyncio.sleep(0))
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, coins INTEGER)")
    conn.execute("DELETE FROM users")
    conn.execute("INSERT INTO users (id, coins) VALUES (1, 5)")
    conn.commit()
    conn.close()
    print(await handler(1))
    await handler_all([-1, 1])
    print(await handler(1))


asyncio.run(main())
"#;

#[test]
fn statements_in_alternatives_of_one_if_are_no_read_then_write() {
    let dir = project(&[("main.py", CHOICE.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "[(5,)]\n[(1,)]\n");
    let report = check(dir.path());
    let alternatives = finding(&report, "main.py:32:12: UNF401 [*]");
    assert!(!alternatives.contains("unsafe fix"), "{alternatives}");
    let in_a_loop = finding(&report, "main.py:36:5: UNF401");
    assert!(
        in_a_loop.contains("unsafe fix") && in_a_loop.contains("reads then rewrites rows"),
        "{in_a_loop}"
    );
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(touch, uid, True)"),
        "{fixed}"
    );
    assert!(!fixed.contains("to_thread(touch_all"), "{fixed}");
    assert_eq!(run_main(dir.path()), before);
}

/// A check through a method of the coroutine's own class (line 14), or through a coroutine
/// it awaits (line 19), each reading through another module's helper, and the act through
/// another (lines 16 and 21).
const COG: &str = r#"import asyncio

from db import create, fetch_all, update


class Bank:
    def balance(self, uid):
        return fetch_all("SELECT coins FROM users WHERE id = ?", [uid])[0][0]

    async def balance_async(self, uid):
        return fetch_all("SELECT coins FROM users WHERE id = ?", [uid])[0][0]

    async def withdraw(self, uid, amount):
        if self.balance(uid) < amount:
            return
        update("UPDATE users SET coins = coins - ? WHERE id = ?", [amount, uid])

    async def withdraw_awaited(self, uid, amount):
        if await self.balance_async(uid) < amount:
            return
        update("UPDATE users SET coins = coins - ? WHERE id = ?", [amount, uid])


async def main():
    create()
    asyncio.create_task(asyncio.sleep(0))
    await Bank().withdraw(1, 10)
    await Bank().withdraw_awaited(1, 10)


asyncio.run(main())
"#;

#[test]
fn a_check_through_a_method_of_the_class_or_an_awaited_coroutine_stays_unsafe() {
    let dir = project(&[("db.py", DB.as_bytes()), ("main.py", COG.as_bytes())]);
    let report = check(dir.path());
    let check_hop = finding(&report, "main.py:14:12: UNF401");
    assert!(
        check_hop.contains("unsafe fix") && check_hop.contains("check-then-act"),
        "{check_hop}"
    );
    for location in ["main.py:16:9: UNF401", "main.py:21:9: UNF401"] {
        let act = finding(&report, location);
        assert!(
            act.contains("unsafe fix") && act.contains("after the same function read it"),
            "{act}"
        );
    }
}

/// A synchronous helper of the app selecting through another module's helper, moved whole
/// (line 12): it only reads.
const NAMES: &str = r#"import asyncio

from db import create, fetch_all


def name_of(uid):
    rows = fetch_all("SELECT name FROM users WHERE id = ?", [uid])
    return rows[0][0]


async def greet(uid):
    return "hello " + name_of(uid)


async def main():
    create()
    asyncio.create_task(asyncio.sleep(0))
    print(await greet(1))


asyncio.run(main())
"#;

#[test]
fn a_helper_moved_whole_that_only_selects_through_another_modules_helper_is_safe() {
    let dir = project(&[("db.py", DB.as_bytes()), ("main.py", NAMES.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "hello ada\n");
    let report = check(dir.path());
    let found = finding(&report, "main.py:12:23: UNF401 [*]");
    assert!(!found.contains("unsafe fix"), "{found}");
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(name_of, uid)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}
