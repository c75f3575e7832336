//! What the last review found unreported (issue 22, reviewers K and L): the synchronous
//! openai / slack_sdk clients, the docker SDK, psutil's measuring sleep, the pypandoc and
//! pytesseract subprocess wrappers, a local alias of another module's pymongo collection, and
//! sqlite3 connections handed out by a generator helper. The SDKs run as stand-ins the tests
//! write outside the project (on `PYTHONPATH`), whose calls block with `time.sleep` and record
//! the thread they ran on; sqlite3 runs on real files.

mod common;

use common::project;
use common::services::{assert_contains, check, fix_write, run_main};

/// The loop's longest stall, as `main.py` prints it (`lag 0.312`).
fn lag(stdout: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("lag "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lag line in:\n{stdout}"))
}

/// openai 1.x, slack_sdk and psutil stand-ins: each call sleeps 0.3 s, as a round trip (or
/// psutil's `interval`) would.
const STUBS: &[(&str, &[u8])] = &[
    (
        "openai/__init__.py",
        br#"import threading
import time

ON_LOOP = []


class _Completions:
    def create(self, model, messages):
        ON_LOOP.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.3)
        return "answer to " + messages[-1]["content"]


class _Runs:
    def retrieve(self, thread_id, run_id):
        ON_LOOP.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.3)
        return "completed"


class _Threads:
    runs = _Runs()


class _Chat:
    completions = _Completions()


class _Beta:
    threads = _Threads()


class OpenAI:
    def __init__(self, api_key=None):
        self.chat = _Chat()
        self.beta = _Beta()
"#,
    ),
    (
        "slack_sdk/__init__.py",
        br#"import threading
import time

POSTED = []


class WebClient:
    def __init__(self, token=None):
        self.token = token

    def chat_postMessage(self, channel, text):
        POSTED.append((channel, text, threading.current_thread() is threading.main_thread()))
        time.sleep(0.3)
        return {"ok": True}
"#,
    ),
    (
        "psutil/__init__.py",
        br#"import time


def cpu_percent(interval=None, percpu=False):
    if interval:
        time.sleep(interval)
    return 12.5
"#,
    ),
];

const BOT: &str = r#"from openai import OpenAI
import psutil
from slack_sdk import WebClient

client = OpenAI(api_key="k")
slack_client = WebClient(token="t")


async def answer(channel, question):
    reply = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": question}]
    )
    status = client.beta.threads.runs.retrieve(thread_id="t", run_id="r")
    slack_client.chat_postMessage(channel=channel, text=reply)
    return reply, status


async def load():
    return psutil.cpu_percent(interval=0.3), psutil.cpu_percent()
"#;

const BOT_MAIN: &str = r##"import asyncio
import time

import openai
import slack_sdk

import bot


async def ticker(stop, worst):
    last = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.monotonic()
        worst[0] = max(worst[0], now - last)
        last = now


async def main():
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    await asyncio.sleep(0.02)
    results = await asyncio.gather(bot.answer("#a", "one"), bot.answer("#b", "two"), bot.load())
    stop.set()
    await tick
    print(results)
    print(sorted((c, t) for c, t, _ in slack_sdk.POSTED))
    print("on loop", any(openai.ON_LOOP) or any(l for *_, l in slack_sdk.POSTED))
    print(f"lag {worst[0]:.3f}")


asyncio.run(main())
"##;

/// The wops-bi bot's shape: a module-global `OpenAI` client (chat completions, an assistants
/// run polled), a module-global slack `WebClient`, and psutil sampling with an interval, in
/// coroutines run side by side. Each call is reported, naming the library's call, and moved to
/// a worker thread (both clients are thread-safe); psutil without an interval is no finding.
/// The rewritten program gives the same results and the loop no longer stalls.
#[test]
fn sdk_clients_and_psutil_move_to_threads_and_the_loop_stays_free() {
    let site = project(STUBS);
    let dir = project(&[("bot.py", BOT.as_bytes()), ("main.py", BOT_MAIN.as_bytes())]);
    let before = run_main(dir.path(), site.path());
    assert!(before.contains("on loop True"), "{before}");
    assert!(lag(&before) > 0.25, "{before}");

    let found = check(dir.path());
    assert_contains(
        &found,
        &[
            "bot.py:10:13: UNF106 [*] `client.chat.completions.create` blocks the event loop on a round trip",
            "bot.py:13:14: UNF106 [*] `client.beta.threads.runs.retrieve`",
            "bot.py:14:5: UNF106 [*] `slack_client.chat_postMessage`",
            "bot.py:19:12: UNF105 [*] `psutil.cpu_percent` sleeps `interval` seconds between two readings",
        ],
    );
    // `psutil.cpu_percent()` compares with the previous call: no sleep, no finding.
    assert!(!found.stdout.contains("bot.py:19:43"), "{}", found.show());

    let fixed = fix_write(dir.path());
    assert!(fixed.code != Some(2), "{}", fixed.show());
    let written = std::fs::read_to_string(dir.path().join("bot.py")).unwrap();
    assert!(
        written.contains(
            "await asyncio.to_thread(slack_client.chat_postMessage, channel=channel, text=reply)"
        ),
        "{written}"
    );
    assert!(
        written.contains(
            "await asyncio.to_thread(psutil.cpu_percent, interval=0.3), psutil.cpu_percent()"
        ),
        "{written}"
    );
    let after = run_main(dir.path(), site.path());
    let same = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("lag ") && !l.starts_with("on loop"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(same(&before), same(&after));
    assert!(after.contains("on loop False"), "{after}");
    assert!(lag(&after) < 0.1, "{after}");
    // A second run changes nothing.
    assert!(
        !check(dir.path()).stdout.contains("[*]"),
        "{}",
        check(dir.path()).show()
    );
}

/// The docker SDK (Advance-file-store's runbot / stopbot): a client the coroutine makes is its
/// own, so its calls move safely; a module-global client is a `requests.Session` shared by
/// coroutines, which docker-py does not document as thread-safe: an unsafe fix, with the
/// reason. pypandoc and pytesseract run a program per call: reported as ASYNC221, moved.
#[test]
fn docker_calls_are_labelled_by_whose_client_it_is_and_wrappers_run_a_subprocess() {
    let dir = project(&[(
        "ops.py",
        br#"import docker
import pypandoc
import pytesseract

shared = docker.from_env()


async def stop_bot(name):
    client = docker.from_env()
    container = client.containers.get(name)
    container.stop()
    container.remove()


async def start_bot(image):
    return shared.containers.run(image, detach=True)


async def render(text, image):
    html = pypandoc.convert_text(text, "html", format="md")
    return html, pytesseract.image_to_string(image)
"#,
    )]);
    let found = check(dir.path());
    assert_contains(
        &found,
        &[
            "ops.py:9:14: UNF106 [*] `docker.from_env` blocks the event loop on a round trip",
            "ops.py:10:17: UNF106 [*] `client.containers.get`",
            "ops.py:11:5: UNF106 [*] `container.stop`",
            "ops.py:12:5: UNF106 [*] `container.remove`",
            "ops.py:16:12: UNF106 `shared.containers.run`",
            "which neither requests nor docker-py documents as thread-safe",
            "ops.py:20:12: ASYNC221 [*] `pypandoc.convert_text` runs a subprocess",
            "ops.py:21:18: ASYNC221 [*] `pytesseract.image_to_string` runs a subprocess",
        ],
    );
}

/// DB_ScreamingSheep's bots: `collection = DB.collection` in the coroutine, then
/// `collection.find_one(...)`, where `DB.collection` is a pymongo collection of a sibling
/// module: reported as the written-out `DB.collection.find_one(...)` is, and keyed as it is
/// (a read then a write through the alias is a check-then-act: unsafe). A name bound twice is
/// not followed (either value may reach the call).
#[test]
fn a_local_alias_of_another_modules_collection_is_followed() {
    let dir = project(&[
        (
            "DB.py",
            b"from pymongo import MongoClient\ncluster = MongoClient(\"mongodb://x\")\ncollection = cluster[\"d\"][\"c\"]\n",
        ),
        (
            "bots/cog.py",
            br#"import DB


async def handler(uid):
    collection = DB.collection
    return collection.find_one({"id": uid})


async def add_xp(uid):
    collection = DB.collection
    user = collection.find_one({"id": uid})
    collection.update_one({"id": uid}, {"$set": {"xp": user["xp"] + 1}})


async def rebinds(uid, other):
    collection = DB.collection
    if other:
        collection = other
    return collection.find_one({"id": uid})
"#,
        ),
    ]);
    let found = check(dir.path());
    assert_contains(
        &found,
        &[
            "bots/cog.py:6:12: UNF106 [*] `collection.find_one` blocks the event loop",
            // The XP read then write through the alias: a check-then-act, as written out.
            "bots/cog.py:11:12: UNF106 `collection.find_one`",
            "the call reads the collection `collection`, which the same function then writes in another hop (line 12)",
            "bots/cog.py:12:5: UNF106 `collection.update_one`",
        ],
    );
    assert!(!found.stdout.contains("bots/cog.py:19"), "{}", found.show());
}

const SLACK_EVENTS_DB: &str = r#"import sqlite3
from contextlib import contextmanager

DB_PATH = "events.db"


def get_connection(commit=False):
    conn = sqlite3.connect(DB_PATH)
    yield conn
    if commit:
        conn.commit()
    conn.close()


@contextmanager
def get_conn():
    conn = sqlite3.connect(DB_PATH)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def create_tables():
    for conn in get_connection(commit=True):
        conn.execute("CREATE TABLE IF NOT EXISTS channels (id TEXT UNIQUE)")
"#;

const SLACK_EVENTS_HANDLERS: &str = r#"from database import get_conn, get_connection


async def add_channel(channel_id):
    for conn in get_connection(commit=True):
        cur = conn.cursor()
        cur.execute("INSERT INTO channels VALUES (?)", [channel_id])


async def channels():
    for conn in get_connection():
        cur = conn.cursor()
        cur.execute("SELECT id FROM channels ORDER BY id")
        return [row[0] for row in cur.fetchall()]


async def remove_channel(channel_id):
    with get_conn() as conn:
        conn.execute("DELETE FROM channels WHERE id = ?", [channel_id])


async def lookup(channel_id):
    for conn in get_connection():
        cur = conn.cursor()
        cur.execute("SELECT id FROM channels WHERE id = ?", [channel_id])
        if cur.fetchone():
            return channel_id
    return None
"#;

const SLACK_EVENTS_MAIN: &str = r#"import asyncio

import database
import handlers


async def main():
    database.create_tables()
    await asyncio.gather(handlers.add_channel("C1"), handlers.add_channel("C2"))
    await handlers.remove_channel("C1")
    print(await handlers.channels(), await handlers.lookup("C1"))


asyncio.run(main())
"#;

/// slack-events-bot's `database.py`: the sqlite3 connection a generator helper yields
/// (`for conn in get_connection(commit=True):`, its `cursor()` too) and a `@contextmanager`'s
/// (`with get_conn() as conn:`), imported from another module: each call is reported, and the
/// whole `for` / `with` statement, the helper's call with it, moves to one worker thread (the
/// connection is made, used, committed and closed there). The rewritten program gives the same
/// result on a real sqlite3 file, and a second run changes nothing. A loop whose body returns
/// before other code of the coroutine has no fix, with the reason.
#[test]
fn sqlite_connections_from_generator_helpers_move_as_one_unit() {
    let dir = project(&[
        ("database.py", SLACK_EVENTS_DB.as_bytes()),
        ("handlers.py", SLACK_EVENTS_HANDLERS.as_bytes()),
        ("main.py", SLACK_EVENTS_MAIN.as_bytes()),
    ]);
    let site = project(&[]);
    let before = run_main(dir.path(), site.path());
    assert_eq!(before.trim(), "['C2'] None");
    std::fs::remove_file(dir.path().join("events.db")).unwrap();

    let found = check(dir.path());
    assert_contains(
        &found,
        &[
            "handlers.py:7:9: UNF101 [*] `cur.execute` blocks the event loop on a database call",
            "handlers.py:13:9: UNF101 [*] `cur.execute`",
            "handlers.py:14:35: UNF101 [*] `cur.fetchall`",
            "handlers.py:19:9: UNF101 [*] `conn.execute`",
            "handlers.py:26:12: UNF101 `cur.fetchone`",
            "handlers.py:25:9: UNF101 `cur.execute` blocks the event loop on a database call in async function `lookup`",
            "no fix: the sqlite3 connection `get_connection` yields (made at database.py:8) belongs to the event loop's thread",
        ],
    );
    fix_write(dir.path());
    let written = std::fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(
        written.contains(
            "    def _db_work():\n        for conn in get_connection(commit=True):\n            cur = conn.cursor()\n"
        ),
        "{written}"
    );
    assert!(
        written.contains("        with get_conn() as conn:\n            conn.execute("),
        "{written}"
    );
    assert!(
        written.contains("    return await asyncio.to_thread(_db_work)\n"),
        "{written}"
    );
    assert_eq!(run_main(dir.path(), site.path()).trim(), "['C2'] None");
    let again = check(dir.path());
    assert!(!again.stdout.contains("[*]"), "{}", again.show());
}

/// A generator helper that also changes shared state (a module-global counter) is not known
/// to be safe in a worker thread: the statement still moves whole, as an unsafe fix naming the
/// helper's call.
#[test]
fn a_generator_helper_changing_shared_state_moves_only_as_an_unsafe_fix() {
    let dir = project(&[(
        "db.py",
        br#"import sqlite3

OPENED = []


def get_connection():
    conn = sqlite3.connect("x.db")
    OPENED.append(conn)
    yield conn
    conn.close()


async def add(x):
    for conn in get_connection():
        conn.execute("INSERT INTO t VALUES (?)", [x])
"#,
    )]);
    let found = check(dir.path());
    assert_contains(
        &found,
        &[
            "db.py:15:9: UNF101 `conn.execute` blocks the event loop on a database call",
            "unsafe fix: Move the database work to a worker thread as one unit",
            "`get_connection(...)` now runs in a worker thread while other coroutines run",
        ],
    );
}
