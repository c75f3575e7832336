//! SQLModel sessions, clickhouse_driver clients, the stripe and MailerLite SDKs and
//! mplfinance in coroutines (issue 22). The programs run against the real SQLAlchemy and
//! sqlite3 files (SQLModel is a stand-in subclass of SQLAlchemy's `Session`, as the real one
//! is) and against stand-ins of the vendor SDKs the tests write outside the project (on
//! `PYTHONPATH`): each round trip sleeps and records whether it ran on the event loop's thread.

mod common;

use std::path::Path;
use std::process::Command;

use common::services::{assert_contains, check, fix_write, run_main};
use common::{project, test_python, unfreeze_in, write_files};

/// SQLModel's `Session` is SQLAlchemy's with `exec` added; the stand-in is the same subclass
/// over the real SQLAlchemy, recording the thread each `exec` ran on.
const SQLMODEL_STUB: &str = r#"import threading

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session as _Session

EXEC_ON_LOOP = []


class Session(_Session):
    def exec(self, statement):
        EXEC_ON_LOOP.append(threading.current_thread() is threading.main_thread())
        return self.execute(statement)
"#;

const SQLMODEL_DB: &str = r#"from sqlmodel import Session, create_engine, text

engine = create_engine("sqlite:///shop.db")


def setup():
    with Session(engine) as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS items (name TEXT)"))
        s.execute(text("DELETE FROM items"))
        s.commit()


def count_items(session: Session):
    return session.exec(text("SELECT count(*) FROM items")).scalar()
"#;

const SQLMODEL_HANDLERS: &str = r#"from sqlmodel import Session, text

from db import count_items, engine


async def add_item(name):
    with Session(engine) as s:
        s.execute(text("INSERT INTO items (name) VALUES (:n)"), {"n": name})
        total = s.exec(text("SELECT count(*) FROM items")).scalar()
        s.commit()
    return total


async def names(session: Session):
    rows = session.exec(text("SELECT name FROM items ORDER BY name")).all()
    return [r[0] for r in rows]


async def how_many(session: Session):
    return count_items(session)
"#;

const SQLMODEL_MAIN: &str = r#"import asyncio

import sqlmodel
from sqlmodel import Session

import db
import handlers


async def tick(stop):
    while not stop.is_set():
        await asyncio.sleep(0.001)


async def main():
    db.setup()
    stop = asyncio.Event()
    ticker = asyncio.create_task(tick(stop))
    totals = await asyncio.gather(handlers.add_item("pear"), handlers.add_item("apple"))
    print(sorted(totals))
    with Session(db.engine) as s:
        print(await handlers.names(s))
        print(await handlers.how_many(s))
    stop.set()
    await ticker
    print("exec on the loop:", sqlmodel.EXEC_ON_LOOP)


asyncio.run(main())
"#;

/// A `sqlmodel.Session` is a SQLAlchemy session: its calls are UNF101 findings, a session the
/// coroutine did not make (a FastAPI `Depends` parameter) gets no fix with the reason, and so
/// does a helper taking it (UNF401: the two paths agree); the coroutine's own
/// `with Session(engine) as s:` block moves whole to a worker thread, and the program gives
/// the same results against a real sqlite file.
#[test]
fn sqlmodel_sessions_are_sqlalchemy_sessions() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[("sqlmodel/__init__.py", SQLMODEL_STUB.as_bytes())],
    );
    let dir = project(&[
        ("db.py", SQLMODEL_DB.as_bytes()),
        ("handlers.py", SQLMODEL_HANDLERS.as_bytes()),
        ("main.py", SQLMODEL_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "handlers.py:8:9: UNF101 [*] `s.execute`",
            "handlers.py:9:17: UNF101 [*] `s.exec`",
            "handlers.py:10:9: UNF101 [*] `s.commit`",
            "handlers.py:15:12: UNF101 `session.exec`",
            "no fix: `session.exec` is a call on a SQLAlchemy session, which one call moved on \
             its own would use from another thread",
            "handlers.py:20:12: UNF401 `count_items(...)`",
            "how_many -> count_items -> sqlmodel.Session().exec",
            "no fix: `count_items` uses the SQLAlchemy session `session`, a parameter its caller \
             made",
        ],
    );
    let before = run_main(dir.path(), site.path());
    assert!(
        before.ends_with("exec on the loop: [True, True, True, True]\n"),
        "{before}"
    );
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    let results = |out: &str| out.lines().take(3).collect::<Vec<_>>().join("\n");
    assert_eq!(results(&after), results(&before), "{}", fixed.show());
    assert_eq!(results(&after), "[1, 2]\n['apple', 'pear']\n2");
    // The two `with` blocks ran in worker threads; the session passed in stayed.
    assert!(
        after.ends_with("exec on the loop: [False, False, True, True]\n"),
        "{after}\n{}",
        fixed.show()
    );
}

/// The stripe SDK's resource classes and MailerLite's client: each call records the thread it
/// ran on and sleeps for a round trip.
const STRIPE_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


def _trip(name):
    if threading.current_thread() is threading.main_thread():
        LOOP_CALLS.append(name)
    time.sleep(0.05)


class Customer:
    @staticmethod
    def create(**params):
        _trip("Customer.create")
        return {"id": "cus_1", "email": params.get("email")}

    @staticmethod
    def retrieve(customer_id):
        _trip("Customer.retrieve")
        return {"id": customer_id}


from stripe import checkout  # noqa: E402
"#;

const STRIPE_CHECKOUT_STUB: &str = r#"from stripe import _trip


class Session:
    @staticmethod
    def create(**params):
        _trip("checkout.Session.create")
        return {"url": "https://checkout.test/" + params["customer"]}
"#;

const MAILERLITE_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


class _Subscribers:
    def create(self, email, **fields):
        if threading.current_thread() is threading.main_thread():
            LOOP_CALLS.append("subscribers.create")
        time.sleep(0.05)
        return {"data": {"email": email}}


class Client:
    def __init__(self, config):
        self.subscribers = _Subscribers()
"#;

const SDK_HANDLERS: &str = r#"import mailerlite as MailerLite
import stripe

client = MailerLite.Client({"api_key": "test"})


async def sign_up(email):
    customer = stripe.Customer.create(email=email)
    session = stripe.checkout.Session.create(customer=customer["id"], mode="subscription")
    client.subscribers.create(email)
    return session["url"]
"#;

const SDK_MAIN: &str = r#"import asyncio

import mailerlite
import stripe

import handlers


async def main():
    print(await asyncio.gather(handlers.sign_up("a@x.test"), handlers.sign_up("b@x.test")))
    print("on the loop:", stripe.LOOP_CALLS, mailerlite.LOOP_CALLS)


asyncio.run(main())
"#;

/// stripe's resource calls and MailerLite's client are thread-safe (stripe keeps one
/// `requests.Session` per thread, MailerLite makes one request per call): found, each moved to
/// a worker thread by a safe fix, with the same results.
#[test]
fn stripe_and_mailerlite_calls_move_to_worker_threads() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[
            ("stripe/__init__.py", STRIPE_STUB.as_bytes()),
            ("stripe/checkout.py", STRIPE_CHECKOUT_STUB.as_bytes()),
            ("mailerlite/__init__.py", MAILERLITE_STUB.as_bytes()),
        ],
    );
    let dir = project(&[
        ("handlers.py", SDK_HANDLERS.as_bytes()),
        ("main.py", SDK_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "handlers.py:8:16: UNF106 [*] `stripe.Customer.create`",
            "handlers.py:9:15: UNF106 [*] `stripe.checkout.Session.create`",
            "handlers.py:10:5: UNF106 [*] `client.subscribers.create`",
        ],
    );
    let before = run_main(dir.path(), site.path());
    assert!(
        before.ends_with(
            "on the loop: ['Customer.create', 'checkout.Session.create', 'Customer.create', \
             'checkout.Session.create'] ['subscribers.create', 'subscribers.create']\n"
        ),
        "{before}"
    );
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    assert_eq!(
        after,
        "['https://checkout.test/cus_1', 'https://checkout.test/cus_1']\non the loop: [] []\n",
        "{}",
        fixed.show()
    );
}

/// A stand-in of clickhouse_driver's `Client`: one connection, which raises when two queries
/// run on it at once (the real one breaks its stream).
const CLICKHOUSE_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


class Client:
    def __init__(self, host="127.0.0.1", **settings):
        self._busy = threading.Lock()

    def execute(self, query, params=None):
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("Simultaneous queries on one connection")
        try:
            if threading.current_thread() is threading.main_thread():
                LOOP_CALLS.append(query)
            time.sleep(0.05)
            return [(1,)]
        finally:
            self._busy.release()
"#;

const CLICKHOUSE_HANDLERS: &str = r#"from clickhouse_driver import Client

shared = Client(host="127.0.0.1")


async def own_client(query):
    client = Client(host="127.0.0.1")
    return client.execute(query)


async def shared_client(query):
    return shared.execute(query)
"#;

const CLICKHOUSE_MAIN: &str = r#"import asyncio

import clickhouse_driver

import handlers


async def main():
    print(await asyncio.gather(handlers.own_client("SELECT 1"), handlers.own_client("SELECT 2")))
    print(await asyncio.gather(handlers.shared_client("SELECT 3"), handlers.shared_client("SELECT 4")))
    print("on the loop:", clickhouse_driver.LOOP_CALLS)


asyncio.run(main())
"#;

/// A clickhouse_driver client is not thread-safe: the coroutine's own client moves per call
/// (safe), a shared one gets an unsafe fix with the reason; with the safe fixes applied the
/// program runs as before, the shared client's queries still on the loop's thread (moved,
/// the two would overlap on its one connection).
#[test]
fn clickhouse_clients_move_only_when_the_coroutine_owns_them() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[("clickhouse_driver/__init__.py", CLICKHOUSE_STUB.as_bytes())],
    );
    let dir = project(&[
        ("handlers.py", CLICKHOUSE_HANDLERS.as_bytes()),
        ("main.py", CLICKHOUSE_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "handlers.py:8:12: UNF106 [*] `client.execute`",
            "handlers.py:12:12: UNF106 `shared.execute`",
            "a clickhouse_driver `Client` holds one connection and is not thread-safe",
        ],
    );
    let before = run_main(dir.path(), site.path());
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    assert_eq!(
        before,
        "[[(1,)], [(1,)]]\n[[(1,)], [(1,)]]\non the loop: ['SELECT 1', 'SELECT 2', 'SELECT 3', \
         'SELECT 4']\n"
    );
    assert_eq!(
        after,
        "[[(1,)], [(1,)]]\n[[(1,)], [(1,)]]\non the loop: ['SELECT 3', 'SELECT 4']\n",
        "{}",
        fixed.show()
    );
    // The unsafe fix, applied, makes the two queries overlap on the shared connection.
    unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--isolated",
            "--no-cache",
            "--write",
            "--unsafe-fixes",
            ".",
        ],
    );
    let unsafe_run = Command::new(test_python())
        .arg("main.py")
        .current_dir(dir.path())
        .env("PYTHONPATH", site.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&unsafe_run.stderr).contains("Simultaneous queries"),
        "{}",
        String::from_utf8_lossy(&unsafe_run.stderr)
    );
}

/// `mpf.plot(df, savefig=...)` renders a matplotlib figure and writes it: CPU-bound with the
/// GIL held, as matplotlib's `savefig` is: reported, no fix, a process pool suggested.
#[test]
fn mplfinance_plot_is_cpu_bound_without_a_thread_fix() {
    let dir = project(&[(
        "charts.py",
        b"import mplfinance as mpf\n\n\nasync def chart(df):\n    mpf.plot(df, type=\"candle\", savefig=\"chart.png\")\n    return \"chart.png\"\n",
    )]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "charts.py:5:5: UNF105 `mpf.plot` is CPU-bound work",
            "no fix: rendering holds the GIL and matplotlib's process-wide drawing lock",
            "ProcessPoolExecutor()",
        ],
    );
}

/// A stand-in of pymongo: collections whose calls record whether they ran on the event loop's
/// thread (the real ones are thread-safe, and so is this one).
const PYMONGO_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


class _Collection:
    def __init__(self):
        self._docs = {1: {"_id": 1, "name": "ada"}}
        self._lock = threading.Lock()

    def _trip(self, name):
        if threading.current_thread() is threading.main_thread():
            LOOP_CALLS.append(name)
        time.sleep(0.02)

    def count_documents(self, query):
        self._trip("count_documents")
        with self._lock:
            return len(self._docs)

    def find_one(self, query):
        self._trip("find_one")
        with self._lock:
            return self._docs.get(query["_id"])


class _Database:
    def __getitem__(self, name):
        return _Collection()


class MongoClient:
    def __init__(self, uri):
        pass

    def __getitem__(self, name):
        return _Database()
"#;

const SIBLING_DATABASE: &str = r#"import pymongo

users = pymongo.MongoClient("mongodb://127.0.0.1:27017")["app"]["users"]


def count_users():
    return users.count_documents({})


def find_user(user_id):
    return users.find_one({"_id": user_id})
"#;

const SIBLING_STORE: &str = r#"import sqlite3

con = sqlite3.connect("store.db")
con.execute("CREATE TABLE IF NOT EXISTS seen (id INTEGER)")
"#;

const SIBLING_BOT: &str = r#"import asyncio

import database
import pymongo
from store import con


async def stats():
    return database.count_users()


async def user(user_id):
    return database.find_user(user_id)


async def seen():
    return con.execute("SELECT count(*) FROM seen").fetchone()[0]


async def tick(stop):
    while not stop.is_set():
        await asyncio.sleep(0.001)


async def main():
    stop = asyncio.Event()
    ticker = asyncio.create_task(tick(stop))
    print(await asyncio.gather(stats(), user(1), seen()))
    stop.set()
    await ticker
    print("on the loop:", pymongo.LOOP_CALLS)


if __name__ == "__main__":
    asyncio.run(main())
"#;

/// `python app/bot/bot.py` puts `app/bot/` first on `sys.path`, so its `import database` and
/// `from store import con` are the files beside it, though `bot/` is a package inside the
/// package `app`: followed there, the pymongo helpers are found (UNF401, safe: the collections
/// are thread-safe) and the sqlite3 connection made at import time gets no fix (UNF101, its
/// reason); the fixed script gives the same results with no collection call on the loop.
#[test]
fn a_scripts_sibling_modules_imported_by_bare_name_are_followed() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[("pymongo/__init__.py", PYMONGO_STUB.as_bytes())],
    );
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/bot/__init__.py", b""),
        ("app/bot/database.py", SIBLING_DATABASE.as_bytes()),
        ("app/bot/store.py", SIBLING_STORE.as_bytes()),
        ("app/bot/bot.py", SIBLING_BOT.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app/bot/bot.py:9:12: UNF401 [*] `database.count_users(...)`",
            "stats -> count_users -> pymongo.MongoClient.*.*().count_documents (blocking call \
             at app/bot/database.py:7)",
            "app/bot/bot.py:13:12: UNF401 [*] `database.find_user(...)`",
            "app/bot/bot.py:17:12: UNF101 `con.execute`",
            "no fix: `con` is the sqlite3 connection made at import time in app/bot/store.py",
        ],
    );
    let run = |dir: &Path| {
        let output = Command::new(test_python())
            .arg("bot/bot.py")
            .current_dir(dir.join("app"))
            .env("PYTHONPATH", site.path())
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let before = run(dir.path());
    assert_eq!(
        before,
        "[1, {'_id': 1, 'name': 'ada'}, 0]\non the loop: ['count_documents', 'find_one']\n"
    );
    let fixed = fix_write(dir.path());
    let after = run(dir.path());
    assert_eq!(
        after,
        "[1, {'_id': 1, 'name': 'ada'}, 0]\non the loop: []\n",
        "{}",
        fixed.show()
    );
}

const CLASS_SESSION_DBPROC: &str = r#"from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker


class Baydb:
    engine = create_engine("sqlite:///members.db")
    DBSession = sessionmaker(bind=engine)
    session = DBSession()
    conn = engine.connect()


def setup():
    Baydb.session.execute(text("CREATE TABLE IF NOT EXISTS members (id INTEGER, points INTEGER)"))
    Baydb.session.execute(text("DELETE FROM members"))
    Baydb.session.execute(text("INSERT INTO members VALUES (1, 0)"))
    Baydb.session.commit()
"#;

const CLASS_SESSION_COG: &str = r#"from sqlalchemy import text

from utilities.dbproc import Baydb


class Points:
    global session
    session = Baydb.session

    async def addpoints(self, member_id, value):
        row = session.execute(text("SELECT points FROM members WHERE id = :i"), {"i": member_id}).fetchone()
        session.execute(text("UPDATE members SET points = :p WHERE id = :i"), {"p": row[0] + value, "i": member_id})
        session.commit()
        return row[0] + value

    async def total(self):
        return Baydb.session.execute(text("SELECT sum(points) FROM members")).scalar()
"#;

const CLASS_SESSION_MAIN: &str = r#"import asyncio

from cogs.points import Points
from utilities.dbproc import setup


async def main():
    setup()
    cog = Points()
    print(await cog.addpoints(1, 5), await cog.addpoints(1, 2), await cog.total())


asyncio.run(main())
"#;

/// A SQLAlchemy session kept as a class attribute of a class of another module
/// (dark-echo/Bay-Oh-Woolph: `class Baydb: session = DBSession()`, then in a cog
/// `global session; session = Baydb.session` or `Baydb.session.execute(...)`): its calls in
/// coroutines are found and get no fix, with the reason (the session is made at import time
/// and shared); the fixed program is unchanged and runs as before against a real sqlite file.
#[test]
fn a_session_kept_on_an_imported_class_is_followed() {
    let dir = project(&[
        ("utilities/__init__.py", b""),
        ("utilities/dbproc.py", CLASS_SESSION_DBPROC.as_bytes()),
        ("cogs/__init__.py", b""),
        ("cogs/points.py", CLASS_SESSION_COG.as_bytes()),
        ("main.py", CLASS_SESSION_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "cogs/points.py:11:15: UNF101 `session.execute`",
            "cogs/points.py:13:9: UNF101 `session.commit`",
            "no fix: `Baydb.session` is the SQLAlchemy session made at import time in \
             utilities/dbproc.py, so the call is not moved to a worker thread",
            "cogs/points.py:17:16: UNF101 `Baydb.session.execute`",
        ],
    );
    let site = tempfile::tempdir().unwrap();
    let before = run_main(dir.path(), site.path());
    assert_eq!(before, "5 7 7\n");
    let points = std::fs::read_to_string(dir.path().join("cogs/points.py")).unwrap();
    fix_write(dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cogs/points.py")).unwrap(),
        points
    );
    assert_eq!(run_main(dir.path(), site.path()), before);
}

/// In one module: `Store.session.commit()` on a class attribute is the session's call.
#[test]
fn a_class_attribute_of_the_module_has_the_kind_of_its_value() {
    let dir = project(&[(
        "store.py",
        b"from sqlalchemy import create_engine\nfrom sqlalchemy.orm import Session\n\n\nclass Store:\n    session = Session(create_engine(\"sqlite://\"))\n\n\nasync def save():\n    Store.session.commit()\n",
    )]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &["store.py:10:5: UNF101 `Store.session.commit`", "no fix:"],
    );
}
