//! The caveats UNF401's reach puts on a worker-thread fix of a call through a class: a class
//! called on itself keeps nothing (its staticmethods and classmethods are judged by what they
//! do), an object under construction is nobody's yet, a constructor whose object keeps a
//! thread-bound object gets no fix, and a real shared instance with state stays unsafe. Each
//! behaviour change is proven by running the rewritten program.

mod common;

use std::fs;
use std::path::Path;

use common::{project, test_python, unfreeze_in};

/// The UNF401 findings of `check --format json .` in `file`, by line.
fn unf401(dir: &Path, file: &str) -> Vec<(u64, serde_json::Value)> {
    let check = unfreeze_in(
        dir,
        &["check", "--isolated", "--no-cache", "--format", "json", "."],
    );
    let value: serde_json::Value =
        serde_json::from_str(&check.stdout).unwrap_or_else(|err| panic!("{err}: {}", check.show()));
    value
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "UNF401" && f["filename"].as_str().unwrap().ends_with(file))
        .map(|f| (f["location"]["row"].as_u64().unwrap(), f.clone()))
        .collect()
}

fn at(found: &[(u64, serde_json::Value)], line: u64) -> &serde_json::Value {
    &found
        .iter()
        .find(|(l, _)| *l == line)
        .unwrap_or_else(|| panic!("no UNF401 at line {line}: {found:?}"))
        .1
}

/// Run `script` in `dir` with the test Python; its stdout (it must succeed).
fn run(dir: &Path, script: &str) -> String {
    let output = common::python(&test_python())
        .arg(script)
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "{script} failed:\n{}", output.show());
    output.stdout
}

/// `unfreeze fix --write .` with `extra` arguments; it must succeed.
fn fix(dir: &Path, extra: &[&str]) {
    let mut args = vec!["fix", "--isolated", "--no-cache", "--write"];
    args.extend_from_slice(extra);
    args.push(".");
    let output = unfreeze_in(dir, &args);
    assert!(
        output.code == Some(0) || output.code == Some(1),
        "fix failed:\n{}",
        output.show()
    );
}

/// A class used as a namespace of database helpers (each opens its own connection), and a
/// classmethod that counts on the class.
const CLASS_DB: &str = r#"import sqlite3

PATH = "app.db"


class DB:
    count = 0

    @staticmethod
    def fetch_all(query):
        conn = sqlite3.connect(PATH)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    @classmethod
    def bump(cls):
        conn = sqlite3.connect(PATH)
        conn.close()
        cls.count += 1
        return cls.count
"#;

const CLASS_MAIN: &str = r#"import asyncio
import sqlite3

from db import DB, PATH


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    rows = DB.fetch_all("SELECT n FROM t ORDER BY n")
    print(rows)
    print(DB.bump())
    await task


if __name__ == "__main__":
    conn = sqlite3.connect(PATH)
    conn.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
    conn.execute("INSERT INTO t VALUES (1), (2)")
    conn.commit()
    conn.close()
    asyncio.run(main())
"#;

/// `DB.fetch_all(...)` on the class keeps nothing shared: a safe fix, and the rewritten
/// program gives the same rows. `DB.bump()` writes `cls.count`: unsafe, and the caveat says
/// so (not a blanket text about the receiver).
#[test]
fn a_call_on_a_class_is_judged_by_what_it_does_not_by_the_receiver() {
    let dir = project(&[
        ("db.py", CLASS_DB.as_bytes()),
        ("main.py", CLASS_MAIN.as_bytes()),
    ]);
    let found = unf401(dir.path(), "main.py");
    let fetch = at(&found, 9);
    assert_eq!(fetch["fix"]["applicability"], "safe", "{fetch}");
    let bump = at(&found, 11);
    assert_eq!(bump["fix"]["applicability"], "unsafe", "{bump}");
    let text = bump.to_string();
    assert!(text.contains("changes `cls.count`"), "{text}");
    assert!(!text.contains("runs in a worker thread on `DB`"), "{text}");

    let before = run(dir.path(), "main.py");
    assert_eq!(before, "[(1,), (2,)]\n1\n");
    fs::remove_file(dir.path().join("app.db")).unwrap();
    fix(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(DB.fetch_all, \"SELECT n FROM t ORDER BY n\")"),
        "{fixed}"
    );
    assert!(fixed.contains("print(DB.bump())"), "{fixed}");
    assert_eq!(run(dir.path(), "main.py"), before);
}

/// A store whose `__init__` makes its folder and sets its attributes, made by a helper and by
/// a constructor call in the coroutine.
const STORE: &str = r#"import os
import time


class Store:
    def __init__(self, path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        time.sleep(0.01)
        self._path = path
        self.items = []

    def path(self):
        return self._path


def open_store(path):
    return Store(path)
"#;

const STORE_MAIN: &str = r#"import asyncio

from store import Store, open_store


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    store = open_store("data/a.json")
    other = Store("data/b.json")
    print(store.path(), other.path(), os.path.isdir("data"))
    await task


import os

asyncio.run(main())
"#;

/// `__init__` reached through a construction sets attributes of the object being made, which
/// no coroutine can see: `open_store(...)` keeps its safe fix (no "changes `self._path`"
/// caveat), and the rewritten program runs the same.
#[test]
fn an_object_under_construction_is_nobodys_yet() {
    let dir = project(&[
        ("store.py", STORE.as_bytes()),
        ("main.py", STORE_MAIN.as_bytes()),
    ]);
    let found = unf401(dir.path(), "main.py");
    let helper = at(&found, 8);
    assert_eq!(helper["fix"]["applicability"], "safe", "{helper}");
    let constructor = at(&found, 9);
    let text = constructor.to_string();
    assert!(!text.contains("changes `self._path`"), "{text}");
    assert!(!text.contains("changes `self.items`"), "{text}");

    let before = run(dir.path(), "main.py");
    assert_eq!(before, "data/a.json data/b.json True\n");
    fs::remove_dir_all(dir.path().join("data")).unwrap();
    fix(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("store = await asyncio.to_thread(open_store, \"data/a.json\")"),
        "{fixed}"
    );
    assert_eq!(run(dir.path(), "main.py"), before);
}

/// A handler whose `__init__` opens a sqlite3 connection and keeps it on `self`.
const HANDLER: &str = r#"import sqlite3


class DatabaseHandler:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)

    def add(self, n):
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
        self.conn.execute("INSERT INTO t VALUES (?)", (n,))
        self.conn.commit()

    def total(self):
        return self.conn.execute("SELECT SUM(n) FROM t").fetchone()[0]
"#;

const HANDLER_MAIN: &str = r#"import asyncio

from handler import DatabaseHandler


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    db = DatabaseHandler("app.db")
    db.add(2)
    db.add(3)
    print(db.total())
    await task


asyncio.run(main())
"#;

/// Made in a worker thread, the handler's connection would raise `sqlite3.ProgrammingError`
/// at its first use on the event loop's thread: the constructor gets no fix (the reason names
/// `self.conn`), not an unsafe one, and the program still runs after `--unsafe-fixes`.
#[test]
fn a_constructor_keeping_a_thread_bound_object_gets_no_fix() {
    let dir = project(&[
        ("handler.py", HANDLER.as_bytes()),
        ("main.py", HANDLER_MAIN.as_bytes()),
    ]);
    let found = unf401(dir.path(), "main.py");
    let constructor = at(&found, 8);
    assert!(constructor["fix"].is_null(), "{constructor}");
    let reason = constructor["no_fix_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("`self.conn`"), "{reason}");
    assert!(reason.contains("sqlite3 connection"), "{reason}");

    let before = run(dir.path(), "main.py");
    assert_eq!(before, "5\n");
    fs::remove_file(dir.path().join("app.db")).unwrap();
    fix(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("db = DatabaseHandler(\"app.db\")"),
        "{fixed}"
    );
    assert_eq!(run(dir.path(), "main.py"), before);
}

/// A real shared instance with state: a module-level `store = Store()` whose method fills its
/// cache.
const SHARED_STORE: &str = r#"import time


class Store:
    def __init__(self):
        self.cache = {}

    def load(self, key):
        time.sleep(0.01)
        self.cache[key] = key.upper()
        return self.cache[key]


store = Store()
"#;

const SHARED_MAIN: &str = r#"import asyncio

from shared import store


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    print(store.load("a"), sorted(store.cache))
    await task


asyncio.run(main())
"#;

/// Unlike a class, a module-level instance is shared with every coroutine: its method's fix
/// stays unsafe, the caveat names the instance and what the method changes; only
/// `--unsafe-fixes` applies it, and the program still runs.
#[test]
fn a_shared_instance_with_state_stays_unsafe() {
    let dir = project(&[
        ("shared.py", SHARED_STORE.as_bytes()),
        ("main.py", SHARED_MAIN.as_bytes()),
    ]);
    let found = unf401(dir.path(), "main.py");
    let load = at(&found, 8);
    assert_eq!(load["fix"]["applicability"], "unsafe", "{load}");
    let text = load.to_string();
    assert!(
        text.contains("`store`, imported from another module"),
        "{text}"
    );
    assert!(text.contains("changes `self.cache"), "{text}");

    let before = run(dir.path(), "main.py");
    assert_eq!(before, "A ['a']\n");
    fix(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("print(store.load(\"a\")"), "{fixed}");
    fix(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(store.load, \"a\")"),
        "{fixed}"
    );
    assert_eq!(run(dir.path(), "main.py"), before);
}
