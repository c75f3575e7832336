//! The database and SDK catalogue (UNF106), proven by running the programs with CPython before
//! and after `unfreeze fix --write --unsafe-fixes`. pymongo cannot reach a server here, so the
//! test writes a stand-in `pymongo` package (outside the project, on `PYTHONPATH`) whose
//! every round trip sleeps and records the thread it ran on: the rewritten program gives the
//! same data, no round trip runs on the event loop's thread (a `find()` cursor is read in the
//! same hop that makes it), and the loop keeps ticking.

mod common;

use std::path::Path;
use std::process::Command;

use common::{project, test_python, unfreeze_in};

/// A stand-in for pymongo: `MongoClient` → database → collection by attribute or item; each
/// operation (and a cursor's first read) sleeps 150 ms and records its thread.
const PYMONGO_STUB: &str = r#""""A stand-in for pymongo: every round trip sleeps and records the thread it ran on."""
import threading
import time

CALLS = []
LOOP_THREAD = threading.main_thread().ident
DATA = {}


def _round_trip(name):
    CALLS.append((name, threading.get_ident()))
    time.sleep(0.15)


def on_loop():
    return sum(1 for _, thread in CALLS if thread == LOOP_THREAD)


class Cursor:
    def __init__(self, docs):
        self._docs = docs  # building a cursor does no I/O
        self._batch = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._batch is None:
            _round_trip("getMore")
            self._batch = list(self._docs)
        if not self._batch:
            raise StopIteration
        return self._batch.pop(0)

    def to_list(self):
        return list(self)


class Collection:
    def __init__(self, name):
        self._docs = DATA.setdefault(name, [])

    def _match(self, query):
        return [d for d in self._docs if all(d.get(k) == v for k, v in query.items())]

    def find_one(self, query):
        _round_trip("find_one")
        found = self._match(query)
        return dict(found[0]) if found else None

    def insert_one(self, doc):
        _round_trip("insert_one")
        self._docs.append(dict(doc))

    def update_one(self, query, update):
        _round_trip("update_one")
        for doc in self._match(query)[:1]:
            doc.update(update["$set"])

    def count_documents(self, query):
        _round_trip("count_documents")
        return len(self._match(query))

    def find(self, query=None):
        return Cursor([dict(d) for d in self._match(query or {})])


class Database:
    def __getattr__(self, name):
        return Collection(name)

    def __getitem__(self, name):
        return Collection(name)


class MongoClient:
    def __init__(self, uri="mongodb://127.0.0.1"):
        pass

    def __getattr__(self, name):
        return Database()

    def __getitem__(self, name):
        return Database()
"#;

/// A bot's handlers: a collection in a module global (`client["bot"]["users"]`), one kept on
/// `self` (`self.db.orders`, `self.db["orders"]`), cursors consumed by `list`, a comprehension
/// and `to_list`; a heartbeat task measures the loop's largest lag.
const BOT: &str = r#"import asyncio
import time

import pymongo
from pymongo import MongoClient

client = MongoClient("mongodb://127.0.0.1")
users = client["bot"]["users"]


class Shop:
    def __init__(self):
        self.db = client.shop
        self.orders = self.db.orders

    async def order(self, order_id, item):
        self.orders.insert_one({"_id": order_id, "item": item, "paid": False})
        self.db["orders"].update_one({"_id": order_id}, {"$set": {"paid": True}})
        return self.orders.find_one({"_id": order_id})


async def start(user_id, name):
    if users.find_one({"_id": user_id}) is None:
        users.insert_one({"_id": user_id, "name": name, "admin": user_id % 2 == 0})
    admins = list(users.find({"admin": True}))
    names = [u["name"] for u in users.find({})]
    every = users.find({}).to_list()
    return users.count_documents({}), admins, names, len(every)


async def heartbeat(lag, stop):
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lag.append(time.perf_counter() - before - 0.005)


async def main():
    lag, stop = [], asyncio.Event()
    beat = asyncio.create_task(heartbeat(lag, stop))
    await asyncio.sleep(0.02)
    results = []
    for user_id, name in [(1, "ann"), (2, "bob"), (1, "ann")]:
        results.append(await start(user_id, name))
    results.append(await Shop().order(7, "tea"))
    stop.set()
    await beat
    print(repr(results))
    print(f"on_loop={pymongo.on_loop()}")
    print(f"calls={len(pymongo.CALLS)}")
    print(f"max_lag_ms={max(lag) * 1000:.0f}")


asyncio.run(main())
"#;

/// Run `app/main.py` with the stub on `PYTHONPATH`; its stdout (it must succeed).
fn run_bot(dir: &Path) -> String {
    let output = Command::new(test_python())
        .arg("main.py")
        .current_dir(dir.join("app"))
        .env("PYTHONPATH", python_path(dir))
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

/// The stubs first, then whatever the environment already puts on the path.
fn python_path(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.join("stubs")];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap()
}

fn value<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in:\n{stdout}"))
}

#[test]
fn pymongo_calls_move_off_the_loop_thread_with_the_same_data() {
    let dir = project(&[
        ("stubs/pymongo/__init__.py", PYMONGO_STUB.as_bytes()),
        ("app/main.py", BOT.as_bytes()),
    ]);
    let before = run_bot(dir.path());
    // The original blocks: every round trip runs on the loop's thread.
    assert_eq!(value(&before, "on_loop"), "20", "{before}");
    assert!(
        value(&before, "max_lag_ms").parse::<u32>().unwrap() >= 150,
        "{before}"
    );

    let fixed = unfreeze_in(
        &dir.path().join("app"),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    let report = fixed.show();
    assert!(report.contains("Fixed 9 findings"), "{report}");
    let rewritten = std::fs::read_to_string(dir.path().join("app/main.py")).unwrap();
    // A cursor is read in the hop that makes it, never handed back to the loop.
    assert!(
        rewritten.contains("admins = await asyncio.to_thread(list, users.find({\"admin\": True}))"),
        "{rewritten}"
    );
    assert!(
        rewritten.contains("for u in await asyncio.to_thread(list, users.find({}))]"),
        "{rewritten}"
    );

    let after = run_bot(dir.path());
    assert_eq!(value(&after, "on_loop"), "0", "{after}");
    assert_eq!(value(&after, "calls"), value(&before, "calls"));
    assert!(
        value(&after, "max_lag_ms").parse::<u32>().unwrap() < 100,
        "{after}"
    );
    // The same data: the first line is every handler's result.
    assert_eq!(before.lines().next(), after.lines().next());

    // A second run changes nothing.
    let again = unfreeze_in(&dir.path().join("app"), &["check", "--isolated", "."]);
    assert!(
        again.stdout.contains("No blocking calls found"),
        "{}",
        again.show()
    );
}

/// The most common bot stack: one module makes the client and its collections at import
/// time; the handlers in another module import a collection by name.
const DATABASE: &str = r#"from pymongo import MongoClient

client = MongoClient("mongodb://127.0.0.1")
db = client["bot"]
users = db.users
"#;

const HANDLERS: &str = r#"import asyncio
import time

import pymongo
from database import users


async def start(user_id, name):
    if users.find_one({"_id": user_id}) is None:
        users.insert_one({"_id": user_id, "name": name, "admin": True})
    return users.count_documents({}), list(users.find({"admin": True}))


async def heartbeat(lag, stop):
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lag.append(time.perf_counter() - before - 0.005)


async def main():
    lag, stop = [], asyncio.Event()
    beat = asyncio.create_task(heartbeat(lag, stop))
    await asyncio.sleep(0.02)
    results = [await start(1, "ann"), await start(2, "bob")]
    stop.set()
    await beat
    print(repr(results))
    print(f"on_loop={pymongo.on_loop()}")
    print(f"calls={len(pymongo.CALLS)}")
    print(f"max_lag_ms={max(lag) * 1000:.0f}")


asyncio.run(main())
"#;

#[test]
fn a_collection_imported_from_another_module_is_found_and_moved() {
    let dir = project(&[
        ("stubs/pymongo/__init__.py", PYMONGO_STUB.as_bytes()),
        ("app/database.py", DATABASE.as_bytes()),
        ("app/main.py", HANDLERS.as_bytes()),
    ]);
    let before = run_bot(dir.path());
    assert_eq!(value(&before, "on_loop"), "8", "{before}");

    let fixed = unfreeze_in(
        &dir.path().join("app"),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert!(
        fixed.stdout.contains("Fixed 4 findings"),
        "{}",
        fixed.show()
    );
    let rewritten = std::fs::read_to_string(dir.path().join("app/main.py")).unwrap();
    assert!(
        rewritten.contains("await asyncio.to_thread(list, users.find({\"admin\": True}))"),
        "{rewritten}"
    );

    let after = run_bot(dir.path());
    assert_eq!(value(&after, "on_loop"), "0", "{after}");
    assert_eq!(value(&after, "calls"), value(&before, "calls"));
    assert!(
        value(&after, "max_lag_ms").parse::<u32>().unwrap() < 100,
        "{after}"
    );
    assert_eq!(before.lines().next(), after.lines().next());
}

/// SQLAlchemy against a real sqlite file: a module-level session shared by the handlers, and
/// a helper that opens its own session (the whole unit of work).
const SQLALCHEMY_DB: &str = r#"import threading

from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)


engine = create_engine("sqlite:///bot.db")
Base.metadata.create_all(engine)
SessionLocal = sessionmaker(bind=engine)
session = SessionLocal()


def add_user(name):
    session.add(User(name=name))
    session.commit()


def count_users():
    with Session(engine) as s:
        return s.query(User).count(), threading.get_ident()
"#;

const SQLALCHEMY_MAIN: &str = r#"import asyncio
import threading

import db


async def handler(name):
    db.add_user(name)
    return db.count_users()


async def main():
    loop_thread = threading.get_ident()
    results = [await handler(n) for n in ("ann", "bob", "cid")]
    print(repr([count for count, _ in results]))
    print(f"counted_on_loop={sum(t == loop_thread for _, t in results)}")


asyncio.run(main())
"#;

#[test]
fn a_shared_sqlalchemy_session_stays_and_a_whole_unit_of_work_moves() {
    let has_sqlalchemy = Command::new(test_python())
        .args(["-c", "import sqlalchemy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_sqlalchemy {
        eprintln!("skipped: the test Python has no sqlalchemy (.ci/run installs it)");
        return;
    }
    let dir = project(&[
        ("app/db.py", SQLALCHEMY_DB.as_bytes()),
        ("app/main.py", SQLALCHEMY_MAIN.as_bytes()),
    ]);
    let run = |dir: &Path| {
        let _ = std::fs::remove_file(dir.join("app/bot.db"));
        run_bot(dir)
    };
    let before = run(dir.path());
    assert_eq!(value(&before, "counted_on_loop"), "3", "{before}");

    let check = unfreeze_in(&dir.path().join("app"), &["check", "--isolated", "."]);
    // The helper using the module's session is found, and stays: no fix, with the reason.
    assert!(
        check
            .stdout
            .contains("no fix: `add_user` uses the SQLAlchemy session `session`"),
        "{}",
        check.show()
    );
    let fixed = unfreeze_in(
        &dir.path().join("app"),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert!(fixed.stdout.contains("Fixed 1 finding"), "{}", fixed.show());
    let rewritten = std::fs::read_to_string(dir.path().join("app/main.py")).unwrap();
    assert!(rewritten.contains("db.add_user(name)\n"), "{rewritten}");
    assert!(
        rewritten.contains("return await asyncio.to_thread(db.count_users)"),
        "{rewritten}"
    );

    let after = run(dir.path());
    assert_eq!(before.lines().next(), after.lines().next());
    assert_eq!(value(&after, "counted_on_loop"), "0", "{after}");
}
