//! sqlite3 in coroutines (UNF101), the whole unit of work moved, proven by running the
//! programs with CPython against sqlite3 files in a temporary directory, before and after
//! `unfreeze fix --write`: a coroutine that connects, works and closes
//! (`con = sqlite3.connect(p)` ... `con.close()`), or works in a `with sqlite3.connect(p) as
//! con:` block, runs that code in one worker thread, so the connection is made, used and
//! closed on one thread (sqlite3 raises `ProgrammingError` otherwise); the program gives the
//! same results, and a slow query (a user function sleeping 300 ms per call) no longer freezes
//! the loop. Code that cannot move as a whole (it awaits between connect and close, or the
//! connection is handed to other code) keeps its finding, with the reason, and still runs.

mod common;

use std::fs;
use std::path::Path;

use common::{measure, project, test_python, unfreeze_in};

/// Coroutines doing their own sqlite3 work: a unit from connect to close, a `with` block
/// holding a slow query, a cursor read in a comprehension; and two that cannot move.
const HANDLERS: &str = r#"import asyncio
import sqlite3
import time


def slow(value):
    time.sleep(0.3)
    return value


async def add_user(path, name):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
    cur = con.execute("INSERT INTO users (name) VALUES (?)", (name,))
    new_id = cur.lastrowid
    con.commit()
    con.close()
    return new_id


async def slow_count(path):
    with sqlite3.connect(path) as con:
        con.create_function("slow", 1, slow)
        row = con.execute("SELECT slow(count(*)) FROM users").fetchone()
    return row[0]


async def names(path):
    con = sqlite3.connect(path)
    cur = con.cursor()
    cur.execute("SELECT name FROM users ORDER BY id")
    found = [r[0] for r in cur.fetchall()]
    con.close()
    return found


async def rename(path, old, new):
    with sqlite3.connect(path) as con:
        con.execute("UPDATE users SET name = ? WHERE name = ?", (new, old))
    return con.total_changes


async def audited(path):
    con = sqlite3.connect(path)
    count = con.execute("SELECT count(*) FROM users").fetchone()[0]
    await asyncio.sleep(0)
    con.close()
    return count


def describe(con):
    return con.execute("SELECT group_concat(name) FROM users").fetchone()[0]


async def summary(path):
    con = sqlite3.connect(path)
    text = describe(con)
    con.close()
    return text
"#;

const MAIN: &str = r#"import asyncio
import sys
import time

from handlers import add_user, audited, names, rename, slow_count, summary


async def ticker(stop):
    worst = 0.0
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        worst = max(worst, now - last - 0.005)
        last = now
    return worst


async def main():
    path = "app.db"
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stop))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    print(await add_user(path, "ada"), await add_user(path, "bob"))
    print(await names(path))
    print(await slow_count(path))
    elapsed = time.perf_counter() - start
    stop.set()
    lag = await tick
    print(await rename(path, "bob", "bea"))
    print(await audited(path))
    print(await summary(path))
    print(f"elapsed={elapsed * 1000:.1f}", file=sys.stderr)
    print(f"max_lag={lag * 1000:.1f}", file=sys.stderr)


asyncio.run(main())
"#;

const EXPECTED: &str = "1 2\n['ada', 'bob']\n2\n1\n2\nada,bea\n";

/// Run `main.py` in `dir` against a fresh `app.db`.
fn run(python: &str, dir: &Path) -> common::Measured {
    let _ = fs::remove_file(dir.join("app.db"));
    measure(python, &dir.join("main.py"), "")
}

#[test]
fn sqlite_units_of_work_move_whole_and_free_the_loop() {
    let python = test_python();
    let dir = project(&[
        ("handlers.py", HANDLERS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run(&python, dir.path());
    assert_eq!(before.stdout, EXPECTED);
    assert!(
        before.max_lag > 250.0,
        "the slow query should freeze the loop before the fix: {} ms",
        before.max_lag
    );

    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--select", "UNF101", "."],
    );
    // The units that cannot move keep their findings: the run exits 1.
    assert_eq!(fixed.code, Some(1), "{}", fixed.show());
    let handlers = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    for moved in [
        // connect ... close, one function in one thread; what the coroutine reads returned.
        "    def _db_work():\n        con = sqlite3.connect(path)\n",
        "        con.close()\n        return new_id\n    new_id = await asyncio.to_thread(_db_work)\n",
        "        con.close()\n        return found\n    found = await asyncio.to_thread(_db_work)\n",
        // The `with` block moves as it is (it commits; it does not close).
        "        with sqlite3.connect(path) as con:\n            con.create_function(\"slow\", 1, slow)\n",
    ] {
        assert!(handlers.contains(moved), "{moved:?} not in\n{handlers}");
    }
    for kept in [
        // Used after the block: the `with` stays.
        "    with sqlite3.connect(path) as con:\n        con.execute(\"UPDATE",
        // Awaits between connect and close.
        "    con = sqlite3.connect(path)\n    count = con.execute(",
        // Handed to other code.
        "    con = sqlite3.connect(path)\n    text = describe(con)\n",
    ] {
        assert!(handlers.contains(kept), "{kept:?} not in\n{handlers}");
    }
    let check = unfreeze_in(
        dir.path(),
        &["check", "--isolated", "--select", "UNF101", "."],
    );
    for reason in [
        "the block awaits",
        "`con` is handed to other code (line",
        "the coroutine uses `con` after the block closes it",
    ] {
        assert!(
            check.stdout.contains(reason),
            "{reason:?} not in\n{}",
            check.show()
        );
    }

    let after = run(&python, dir.path());
    assert_eq!(after.stdout, EXPECTED, "same results after the fix");
    assert!(
        // Under 50 ms on a quiet machine; a loaded one (other tests, other builds) adds
        // scheduling noise, so the bound is looser and relative to the original's freeze.
        after.max_lag < 100.0 && after.max_lag * 3.0 < before.max_lag,
        "the loop stays free while the slow query runs in a thread: {} ms",
        after.max_lag
    );
    // Converged: a second run changes nothing.
    let again = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--select", "UNF101", "."],
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("handlers.py")).unwrap(),
        handlers,
        "{}",
        again.show()
    );
}
