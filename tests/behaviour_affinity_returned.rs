//! Thread affinity, the other direction, proven by running the programs with CPython against a
//! sqlite3 file in a temporary directory, before and after `unfreeze fix --write`: a helper
//! that makes a connection and returns it (the sk-disc-bot pattern, `conn, cursor =
//! create_conn()` in 38 coroutines) is not moved to a worker thread, which would make the
//! connection there and hand it back to the event loop's thread, where its next use raises
//! `sqlite3.ProgrammingError`; the finding stays, with the reason. The coroutine's calls on
//! the returned connection and cursor are UNF101 findings. A helper that connects, queries
//! and closes by itself (the whole unit of work) still moves, and runs.

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

/// `unfreeze fix --write [--unsafe-fixes] .`
fn fix(dir: &Path, unsafe_fixes: bool) -> common::Output {
    let mut args = vec!["fix", "--isolated", "--write"];
    if unsafe_fixes {
        args.push("--unsafe-fixes");
    }
    args.push(".");
    unfreeze_in(dir, &args)
}

/// The helpers: one makes a connection and a cursor and returns both (as sk-disc-bot's
/// `create_conn`), one hands on what another returns, one returns a connection for a `with`
/// block (which the coroutine closes after the block in one place, and keeps inside the block
/// in another), one does the whole unit of work and returns plain data.
const DB: &str = r#"import sqlite3

PATH = "bot.db"


def create_conn():
    conn = None
    try:
        conn = sqlite3.connect(PATH)
    except sqlite3.Error as e:
        print(e)
    cursor = conn.cursor()
    return conn, cursor


def commit_close_conn(conn):
    conn.commit()
    conn.close()


def get_db():
    return create_conn()


def get_db_connection(path):
    return sqlite3.connect(path)


def count_users(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        conn.close()
"#;

/// The coroutines, as the bot's cogs use the helpers.
const HANDLERS: &str = r#"from db import PATH, commit_close_conn, count_users, create_conn, get_db, get_db_connection


async def setup():
    conn, cursor = create_conn()
    cursor.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
    commit_close_conn(conn)


async def add_user(user_id, name):
    conn, cursor = create_conn()
    cursor.execute("INSERT OR REPLACE INTO users VALUES (?, ?)", (user_id, name))
    commit_close_conn(conn)


async def get_user(user_id):
    conn, cursor = get_db()
    cursor.execute("SELECT name FROM users WHERE id = ?", (user_id,))
    row = cursor.fetchone()
    conn.close()
    return row[0]


async def rename(user_id, name):
    with get_db_connection(PATH) as conn:
        conn.execute("UPDATE users SET name = ? WHERE id = ?", (name, user_id))
    conn.close()


async def named(name):
    with get_db_connection(PATH) as conn:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        conn.commit()
    return row[0]


async def how_many():
    n = count_users(PATH)
    return n
"#;

const MAIN: &str = r#"import asyncio

from handlers import add_user, get_user, how_many, named, rename, setup


async def main():
    await setup()
    await add_user(1, "ada")
    await add_user(2, "grace")
    await rename(2, "hopper")
    print(await get_user(1), await get_user(2), await how_many(), await named("hopper"))


asyncio.run(main())
"#;

/// The sk-disc-bot pattern across two modules: `fix --write` (and with `--unsafe-fixes`)
/// leaves the program runnable, since no call of a helper returning a connection moves to a
/// worker thread; the one helper doing the whole unit of work moves, and the result is the
/// same.
#[test]
fn helpers_returning_a_connection_are_not_moved_to_a_thread() {
    for unsafe_fixes in [false, true] {
        let dir = project(&[
            ("db.py", DB.as_bytes()),
            ("handlers.py", HANDLERS.as_bytes()),
            ("main.py", MAIN.as_bytes()),
        ]);
        let before = run_main(dir.path());
        assert_eq!(before, "ada hopper 2 2\n");
        let fixed = fix(dir.path(), unsafe_fixes);
        // Moved to a worker thread, `create_conn` made the connection there and the next
        // `cursor.execute` raised `sqlite3.ProgrammingError`.
        assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
        // Findings without a fix remain: the run exits 1.
        assert_eq!(fixed.code, Some(1), "{}", fixed.show());
        let text = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
        // The whole unit of work moved...
        assert!(
            text.contains("n = await asyncio.to_thread(count_users, PATH)"),
            "{text}"
        );
        // ... and so did the `with` block that keeps its connection to itself...
        assert!(
            text.contains("row = await asyncio.to_thread(_execute_row)"),
            "{text}"
        );
        // ... the helpers returning a connection the coroutine uses did not.
        for kept in [
            "    conn, cursor = create_conn()\n",
            "    conn, cursor = get_db()\n",
            "async def rename(user_id, name):\n    with get_db_connection(PATH) as conn:\n",
        ] {
            assert!(text.contains(kept), "`{kept}` not in:\n{text}");
        }
        assert!(!text.contains("to_thread(create_conn"), "{text}");
        assert!(!text.contains("to_thread(get_db"), "{text}");
    }
}

/// `check` shows the UNF401 findings with the reason (which object, made where, the remedy),
/// and the UNF101 findings on the returned cursor and connection; `fix` agrees.
#[test]
fn check_reports_the_returned_connection_with_the_reason() {
    let dir = project(&[
        ("db.py", DB.as_bytes()),
        ("handlers.py", HANDLERS.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    assert_eq!(check.code, Some(1), "{}", check.show());
    for expected in [
        "handlers.py:5:20: UNF401 `create_conn(...)` blocks the event loop in async function \
         `setup`",
        "no fix: `create_conn` returns the sqlite3 connection and the sqlite3 cursor it makes \
         (db.py:9), so the call is not moved to a worker thread, which would make them there \
         and hand them back to the event loop's thread: SQLite objects can only be used on the \
         thread that made them: from any other thread they raise `sqlite3.ProgrammingError`. \
         Instead: move the whole unit of work (connect, use, close) into one function and \
         offload that",
        "handlers.py:17:20: UNF401 `get_db(...)` blocks the event loop",
        "no fix: `get_db` returns the sqlite3 connection and the sqlite3 cursor `create_conn` \
         makes (db.py:9)",
        "handlers.py:25:10: UNF401 `get_db_connection(...)` blocks the event loop",
        "no fix: `get_db_connection` returns the sqlite3 connection it makes (db.py:26)",
        // (c) the calls on the returned objects.
        "handlers.py:6:5: UNF101 `cursor.execute` blocks the event loop on a database call in \
         async function `setup`",
        "no fix: the sqlite3 cursor `create_conn` returns (made at db.py:12) belongs to the \
         event loop's thread, where the coroutine called `create_conn`, so the call is not \
         moved to a worker thread",
        "handlers.py:19:11: UNF101 `cursor.fetchone`",
        "handlers.py:20:5: UNF101 `conn.close`",
        "handlers.py:26:9: UNF101 `conn.execute`",
        "no fix: the sqlite3 connection `get_db_connection` returns (made at db.py:26)",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
    // The whole unit of work keeps its fix, and so does the `with` block whose connection
    // stays in it (moved as a whole).
    for fixable in [
        "handlers.py:38:9: UNF401 [*] `count_users(...)` blocks",
        "handlers.py:31:10: UNF401 [*] `get_db_connection(...)` blocks the event loop in async \
         function `named`",
    ] {
        assert!(check.stdout.contains(fixable), "{}", check.show());
    }
    // `check --format json` agrees: every other finding has no fix, with a reason.
    let json = unfreeze_in(
        dir.path(),
        &["check", "--isolated", "--format", "json", "."],
    );
    let findings: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for finding in findings.as_array().unwrap() {
        let message = finding["message"].as_str().unwrap();
        let fixable = message.starts_with("`count_users(...)`")
            || (message.starts_with("`get_db_connection(...)`")
                && message.contains("function `named`"));
        assert_eq!(finding["fix"].is_null(), !fixable, "{finding}");
        if !fixable {
            assert!(
                finding["no_fix_reason"]
                    .as_str()
                    .unwrap()
                    .contains("so the call is not moved to a worker thread"),
                "{finding}"
            );
        }
    }
}

/// A call whose result is thrown away hands nothing back: the connection it makes never
/// leaves the worker thread, and the fix stays.
#[test]
fn a_discarded_result_keeps_the_fix() {
    let handlers = "from db import get_db_connection\n\n\nasync def touch(path):\n    \
                    get_db_connection(path)\n";
    let dir = project(&[
        ("db.py", DB.as_bytes()),
        ("handlers.py", handlers.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    assert!(
        check
            .stdout
            .contains("handlers.py:5:5: UNF401 [*] `get_db_connection(...)` blocks"),
        "{}",
        check.show()
    );
}

/// `with open(...)` blocks the ASYNC230 fix would move to a worker thread as a whole: one that
/// makes a connection, or calls a helper returning one, and leaves it to the code after the
/// block stays (no fix, with the reason); one that connects, writes and closes inside moves.
const BLOCKS: &str = r#"import sqlite3

from db import PATH, create_conn


async def load(path):
    with open(path) as f:
        names = [line.strip() for line in f]
        conn, cursor = create_conn()
    cursor.executemany("INSERT INTO users (name) VALUES (?)", [(n,) for n in names])
    conn.commit()
    conn.close()


async def load_direct(path):
    with open(path) as f:
        names = [line.strip() for line in f]
        c = sqlite3.connect(PATH)
    c.executemany("INSERT INTO users (name) VALUES (?)", [(n,) for n in names])
    c.commit()
    c.close()


async def load_inside(path):
    with open(path) as f:
        names = [line.strip() for line in f]
        c = sqlite3.connect(PATH)
        c.executemany("INSERT INTO users (name) VALUES (?)", [(n,) for n in names])
        c.commit()
        c.close()
    return len(names)
"#;

const BLOCKS_MAIN: &str = r#"import asyncio
import sqlite3

from handlers import load, load_direct, load_inside


async def main():
    c = sqlite3.connect("bot.db")
    c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    c.commit()
    c.close()
    with open("in.txt", "w") as f:
        f.write("a\nb\n")
    await load("in.txt")
    await load_direct("in.txt")
    print(await load_inside("in.txt"))
    print(sqlite3.connect("bot.db").execute("SELECT count(*) FROM users").fetchone()[0])


asyncio.run(main())
"#;

#[test]
fn a_with_block_handing_a_connection_back_is_not_moved() {
    let dir = project(&[
        ("db.py", DB.as_bytes()),
        ("handlers.py", BLOCKS.as_bytes()),
        ("main.py", BLOCKS_MAIN.as_bytes()),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "2\n6\n");
    let fixed = fix(dir.path(), true);
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    let text = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(
        text.contains("async def load(path):\n    with open(path) as f:")
            && text.contains("async def load_direct(path):\n    with open(path) as f:")
            && text.contains("names = await asyncio.to_thread(_read_names)"),
        "{text}"
    );
    // (The fix added `import asyncio` at the top: one line down.)
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    for expected in [
        "handlers.py:8:10: ASYNC230 `open` opens a file with blocking I/O in async function \
         `load`",
        "no fix: the `with` block binds `conn` (line 10), which the coroutine reads after the \
         block, to what a helper returns: `create_conn` returns the sqlite3 connection and \
         the sqlite3 cursor it makes (db.py:9)",
        "handlers.py:17:10: ASYNC230 `open` opens a file with blocking I/O in async function \
         `load_direct`",
        "no fix: the `with` block makes the sqlite3 connection `c` (line 19) and the coroutine \
         reads it after the block, so the block is not moved to a worker thread",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
}

/// A helper that keeps the connection it makes for later code, on `self` or in a module
/// global: moved to a worker thread, it would leave the connection to methods running on the
/// event loop's thread. No fix, with the reason; the program runs.
const STORED: &str = r#"import asyncio
import sqlite3

conn = None


def open_global(path):
    global conn
    conn = sqlite3.connect(path)


class Bot:
    def __init__(self, path):
        self.path = path
        self.db = None

    def connect(self):
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")

    async def start(self):
        self.connect()
        open_global(self.path)

    async def add(self, user_id, name):
        self.db.execute("INSERT INTO users VALUES (?, ?)", (user_id, name))
        self.db.commit()
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


async def main():
    bot = Bot("bot.db")
    await bot.start()
    print(await bot.add(1, "ada"))


asyncio.run(main())
"#;

#[test]
fn a_helper_keeping_its_connection_on_self_or_a_global_is_not_moved() {
    let dir = project(&[("main.py", STORED.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "1\n");
    let fixed = fix(dir.path(), true);
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    let text = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(!text.contains("to_thread"), "{text}");
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    for expected in [
        "main.py:22:9: UNF401 `self.connect(...)` blocks the event loop in async function \
         `start`",
        "no fix: `Bot.connect` uses the sqlite3 connection it makes and keeps in `self.db` for \
         later code (main.py:18), so it is not moved to a worker thread",
        "main.py:23:9: UNF401 `open_global(...)` blocks the event loop",
        "no fix: `open_global` uses the sqlite3 connection it makes and keeps in the module \
         global `conn` for later code (main.py:9)",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
}
