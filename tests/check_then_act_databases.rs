//! Session 16, issue 20: the check-then-act rule for databases beyond sqlite3.
//!
//! A pymongo collection is a shared database keyed by the expression it is reached through
//! (`cluster["bot"]["rank"]`, kept in a module global): `find_one` in one hop and
//! `insert_one` / `replace_one` of the same collection in a later hop of one coroutine
//! (Nishank1212/Gaara-discord-bot cogs/rank.py:39-49) is a check-then-act, so those hops are
//! unsafe, with a caveat naming the collection and both lines. A coroutine making one read
//! or one write stays safe.
//!
//! Proven by running the program with the test Python against a small pymongo stand-in on
//! `PYTHONPATH` (a thread-safe store, a lock and a 30 ms round trip per call, as
//! /work/review5/proof-I/rank_race.py): seven messages of a new member (two at once, then
//! five) make one document before the fix and after the safe `fix --write`; with the unsafe
//! fixes applied they make two, as the caveat says.
//!
//! The same for PostgreSQL through psycopg2 behind helper functions (gobboo/MCsniperBOT
//! database/postgres_handler.py and users.py:23/29): `create_connection()` returns
//! `psycopg2.connect(DSN)`, `query_sql` / `execute_sql` run one statement on it, and
//! `get_xp` runs `if not await user_exists(): await create_user()`, each helper coroutine
//! wrapping one of them. The read hop in `user_exists` is a check its caller acts on: unsafe.
//! Proven with a psycopg2 stand-in backed by one sqlite3 file (`check_same_thread=False`, a
//! 20 ms round trip per statement): two first messages of a member make one row before the fix
//! and after the safe fix, two with the unsafe fixes.
//!
//! `UNFREEZE_TEST_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::fake_pymongo::{fake_pymongo, run_main};
use common::{finding, fix_write, project, python, test_python, unfreeze};

/// cogs/rank.py of Gaara-discord-bot, cut down: a check-then-insert and a read-modify-write
/// of one collection, and coroutines making a single read or a single write.
const BOT: &str = r#"from pymongo import MongoClient

cluster = MongoClient("mongodb://127.0.0.1:27017")
collection = cluster["bot"]["rank"]


async def on_message(member):
    rankinfo = collection.find_one({"member": member})
    if not rankinfo:
        collection.insert_one({"member": member, "xp": 2})
        return
    rankinfo["xp"] += 2
    collection.replace_one({"member": member}, rankinfo)


async def count(member):
    return collection.count_documents({"member": member})


async def reset(member):
    collection.delete_many({"member": member})
"#;

const MAIN: &str = r#"import asyncio

from app import bot


async def main():
    await bot.reset(42)
    await asyncio.gather(bot.on_message(42), bot.on_message(42))
    await asyncio.gather(*[bot.on_message(42) for _ in range(5)])
    print("documents", await bot.count(42))


asyncio.run(main())
"#;

fn bot_project() -> tempfile::TempDir {
    project(&[
        ("app/__init__.py", b""),
        ("app/bot.py", BOT.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ])
}

#[test]
fn pymongo_check_then_insert_across_hops_is_unsafe() {
    let fake = fake_pymongo();
    let dir = bot_project();
    assert_eq!(run_main(dir.path(), fake.path()).trim(), "documents 1");

    let check = unfreeze(dir.path(), &["check", "--no-cache", "."]).output();
    let report = &check.stdout;
    let insert = finding(report, "app/bot.py:10:9: UNF106");
    assert!(
        insert.contains("unsafe fix")
            && insert.contains("check-then-act")
            && insert.contains("`collection`")
            && insert.contains("(line 8)"),
        "{insert}"
    );
    let read = finding(report, "app/bot.py:8:16: UNF106");
    assert!(
        read.contains("unsafe fix") && read.contains("(line 10)"),
        "{read}"
    );
    for single in [
        "app/bot.py:17:12: UNF106 [*]",
        "app/bot.py:21:5: UNF106 [*]",
    ] {
        assert!(!finding(report, single).contains("unsafe"), "{report}");
    }

    // The safe fix leaves the check and its act together: still one document.
    let safe = bot_project();
    fix_write(safe.path(), &[]);
    let fixed = fs::read_to_string(safe.path().join("app/bot.py")).unwrap();
    assert!(
        fixed.contains("collection.find_one({\"member\": member})")
            && fixed.contains("collection.insert_one({\"member\": member, \"xp\": 2})")
            && fixed.contains("collection.replace_one({\"member\": member}, rankinfo)"),
        "the check-then-act hops are unsafe, not applied:\n{fixed}"
    );
    // A single read, a single write: their hops stay safe.
    assert!(
        fixed.contains("asyncio.to_thread(collection.count_documents")
            && fixed.contains("asyncio.to_thread(collection.delete_many"),
        "{fixed}"
    );
    assert_eq!(run_main(safe.path(), fake.path()).trim(), "documents 1");

    // The unsafe fixes split the check from the act: the caveat is true.
    let unsafe_dir = bot_project();
    fix_write(unsafe_dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(unsafe_dir.path().join("app/bot.py")).unwrap();
    assert!(
        fixed.contains("asyncio.to_thread(collection.find_one"),
        "{fixed}"
    );
    assert_eq!(
        run_main(unsafe_dir.path(), fake.path()).trim(),
        "documents 2"
    );
}

/// One collection reached as `db.accounts`, `db["accounts"]` kept in a module global, through
/// `pymongo.MongoClient` imported as a module.
const BANK: &str = r#"import pymongo

client = pymongo.MongoClient("mongodb://127.0.0.1:27017")
db = client.bank
accounts = db["accounts"]


def add_coins(user, amount):
    doc = db.accounts.find_one({"user": user})
    doc["coins"] += amount
    accounts.replace_one({"user": user}, doc)


async def deposit(user, amount):
    add_coins(user, amount)


async def exists(user):
    return db.accounts.find_one({"user": user}) is not None


async def create(user):
    accounts.insert_one({"user": user, "coins": 0})


async def open_account(user):
    if not await exists(user):
        await create(user)


async def bump(user):
    accounts.find_one_and_update({"user": user}, {"$inc": {"coins": 1}})


async def other_db(user):
    doc = client.shop.accounts.find_one({"user": user})
    if not doc:
        db.logs.insert_one({"user": user})
"#;

#[test]
fn pymongo_collections_are_keyed_by_what_they_resolve_to() {
    let dir = project(&[("app/__init__.py", b""), ("app/bank.py", BANK.as_bytes())]);
    let check = unfreeze(dir.path(), &["check", "--no-cache", "."]).output();
    let report = &check.stdout;
    // A helper moved whole that reads then rewrites a document: a lost update.
    let moved = finding(report, "app/bank.py:15:5: UNF401");
    assert!(
        moved.contains("unsafe fix")
            && moved.contains("reads then rewrites documents of the collection `db.accounts`"),
        "{moved}"
    );
    // A read in an awaited helper coroutine whose caller then inserts through another.
    let check_hop = finding(report, "app/bank.py:19:12: UNF106");
    assert!(
        check_hop.contains("unsafe fix")
            && check_hop.contains("which `open_account` writes (line 28) after awaiting `exists`"),
        "{check_hop}"
    );
    // The insert its caller makes after that check: its hop alone lets the other task pass
    // the check while the insert waits in a thread (duplicate insert).
    let act_hop = finding(report, "app/bank.py:23:5: UNF106");
    assert!(
        act_hop.contains("unsafe fix")
            && act_hop.contains(
                "which `open_account` checked (line 27, through `exists`) before awaiting \
                 `create` (line 28)"
            ),
        "{act_hop}"
    );
    // One atomic call, and a read and a write of different collections.
    for safe in [
        "app/bank.py:32:5: UNF106 [*]",
        "app/bank.py:36:11: UNF106 [*]",
        "app/bank.py:38:9: UNF106 [*]",
    ] {
        assert!(!finding(report, safe).contains("unsafe"), "{report}");
    }
}

/// A psycopg2 stand-in: `connect(dsn)` opens the one sqlite3 file `FAKE_PG` names, usable from
/// any thread, each statement a 20 ms round trip.
const FAKE_PSYCOPG2: &str = r#"import os
import sqlite3
import time


class DatabaseError(Exception):
    pass


class Cursor:
    def __init__(self, conn):
        self._cursor = conn.cursor()

    def execute(self, sql):
        time.sleep(0.02)
        self._cursor.execute(sql)

    def fetchone(self):
        return self._cursor.fetchone()

    def close(self):
        self._cursor.close()


class Connection:
    def __init__(self):
        self._conn = sqlite3.connect(os.environ["FAKE_PG"], check_same_thread=False)

    def cursor(self):
        return Cursor(self._conn)

    def commit(self):
        self._conn.commit()


def connect(dsn):
    return Connection()
"#;

const HANDLER: &str = r#"import psycopg2

DSN = "dbname=bot host=127.0.0.1"


def create_connection():
    conn = psycopg2.connect(DSN)
    return conn


def execute_sql(command):
    conn = create_connection()
    cur = conn.cursor()
    cur.execute(command)
    cur.close()
    conn.commit()


def query_sql(command):
    conn = create_connection()
    cur = conn.cursor()
    cur.execute(command)
    data = cur.fetchone()
    cur.close()
    return data
"#;

const USERS: &str = r#"from database.postgres_handler import execute_sql
from database.postgres_handler import query_sql


async def user_exists(user_id):
    if query_sql(f"SELECT * FROM users WHERE user_id={user_id}") is None:
        return False
    return True


async def create_user(user_id, username):
    execute_sql(f"INSERT INTO users VALUES({user_id}, '{username}', 0)")


async def get_xp(user_id, username):
    if not await user_exists(user_id):
        await create_user(user_id, username)
    return query_sql(f"SELECT experience FROM users WHERE user_id={user_id}")[0]


async def user_count():
    return query_sql("SELECT COUNT(*) FROM users")[0]
"#;

const PG_MAIN: &str = r#"import asyncio

from database.postgres_handler import execute_sql
from database import users


async def main():
    execute_sql("CREATE TABLE IF NOT EXISTS users (user_id INT, username TEXT, experience INT)")
    await asyncio.gather(users.get_xp(42, "a"), users.get_xp(42, "a"))
    print("rows", await users.user_count())


asyncio.run(main())
"#;

fn pg_project() -> tempfile::TempDir {
    project(&[
        ("database/__init__.py", b""),
        ("database/postgres_handler.py", HANDLER.as_bytes()),
        ("database/users.py", USERS.as_bytes()),
        ("main.py", PG_MAIN.as_bytes()),
    ])
}

/// Run `main.py` in `dir` against a fresh stand-in database: its stdout.
fn run_pg(dir: &Path, fake: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .env("PYTHONPATH", fake)
        .env("FAKE_PG", dir.join("pg.sqlite3"))
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

#[test]
fn postgres_check_in_an_awaited_helper_is_a_check_then_act() {
    let fake = tempfile::tempdir().unwrap();
    fs::write(fake.path().join("psycopg2.py"), FAKE_PSYCOPG2).unwrap();
    let dir = pg_project();
    assert_eq!(run_pg(dir.path(), fake.path()).trim(), "rows 1");

    let check = unfreeze(dir.path(), &["check", "--no-cache", "."]).output();
    let report = &check.stdout;
    let read = finding(report, "database/users.py:6:8: UNF401");
    assert!(
        read.contains("unsafe fix")
            && read.contains("check-then-act")
            && read
                .contains("which `get_xp` writes (line 17) after awaiting `user_exists` (line 16)"),
        "{read}"
    );
    // The act hop alone splits them too: the insert waits in a thread while the other task
    // passes its check.
    let act = finding(report, "database/users.py:12:5: UNF401");
    assert!(
        act.contains("unsafe fix")
            && act.contains(
                "which `get_xp` checked (line 16, through `user_exists`) before awaiting \
                 `create_user` (line 17)"
            ),
        "{act}"
    );
    // A single read alone stays safe.
    assert!(
        !finding(report, "database/users.py:22:12: UNF401 [*]").contains("unsafe"),
        "{report}"
    );

    let safe = pg_project();
    fix_write(safe.path(), &[]);
    let fixed = fs::read_to_string(safe.path().join("database/users.py")).unwrap();
    assert!(
        fixed.contains(
            "    if query_sql(f\"SELECT * FROM users WHERE user_id={user_id}\") is None:"
        ),
        "the check hop is unsafe, not applied:\n{fixed}"
    );
    assert_eq!(run_pg(safe.path(), fake.path()).trim(), "rows 1");

    let unsafe_dir = pg_project();
    fix_write(unsafe_dir.path(), &["--unsafe-fixes"]);
    assert_eq!(run_pg(unsafe_dir.path(), fake.path()).trim(), "rows 2");
}
