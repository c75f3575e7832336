//! What real services block on, reached across modules: a pymongo database or client made in
//! one module and imported into another (`from database import db`, then
//! `db.users.find_one(...)`, `db["users"]`, `db.get_collection("users")`), a sqlite3
//! connection imported and used through what it makes (`con.cursor().execute(...)`,
//! `con.execute(q).fetchall()`), and a vendor SDK client imported from a module of the
//! project. pymongo objects are thread-safe: one call moves to a worker thread; a sqlite3
//! connection is not: the finding stays with the reason, and the rewritten program still runs
//! (moved to a worker thread, sqlite3 would raise `ProgrammingError`). botocore's waiters and
//! paginators, run against a local S3 stand-in the program starts on 127.0.0.1: rewritten,
//! no request leaves from the event loop's thread and the keys listed are the same.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::services::{assert_contains, check};
use common::{measure, project, stdlib_python, test_python, unfreeze_in};

/// The Telegram-bot layout: the database and its collections are made once, in their own
/// module.
const MONGO_DATABASE: &str = r#"from pymongo import MongoClient

client = MongoClient("mongodb://127.0.0.1:27017")
db = client["bot"]
archive = client.get_database("archive")
"#;

const MONGO_HANDLERS: &str = r#"import asyncio

import database
from database import archive, client, db

orders = db["orders"]
stats = db.stats


def count_users():
    return db.users.count_documents({})


def count_starts():
    return stats.count_documents({})


def log_order(user_id):
    orders.insert_one({"user": user_id, "logged": True})


async def on_start(user_id):
    asyncio.create_task(asyncio.sleep(0))
    user = db.users.find_one({"_id": user_id})
    db["users"].insert_one({"_id": user_id})
    old = archive.get_collection("users").find_one({"_id": user_id})
    admins = list(db.admins.find({"admin": True}))
    total = count_users()
    client.bot.stats.update_one({}, {"$inc": {"starts": 1}})
    database.db.log.insert_one({"user": user_id})
    orders.insert_one({"user": user_id})
    starts = count_starts()
    log_order(user_id)
    return user, old, admins, total, starts
"#;

#[test]
fn a_pymongo_database_imported_from_another_module_is_followed_into_its_collections() {
    let dir = project(&[
        ("database.py", MONGO_DATABASE.as_bytes()),
        ("handlers.py", MONGO_HANDLERS.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_eq!(output.code, Some(1), "{}", output.show());
    assert_contains(
        &output,
        &[
            "handlers.py:24:12: UNF106 [*] `db.users.find_one` blocks the event loop",
            "handlers.py:25:5: UNF106 [*] `db[\"users\"].insert_one` blocks the event loop",
            "handlers.py:26:11: UNF106 [*] `archive.get_collection(\"users\").find_one` blocks",
            "handlers.py:27:19: UNF106 [*] `db.admins.find` blocks the event loop",
            "handlers.py:28:13: UNF401 [*] `count_users(...)` blocks the event loop in async \
             function `on_start`: on_start -> count_users -> \
             pymongo.MongoClient.*.*().count_documents",
            "handlers.py:29:5: UNF106 [*] `client.bot.stats.update_one` blocks the event loop",
            "handlers.py:30:5: UNF106 [*] `database.db.log.insert_one` blocks the event loop",
            "handlers.py:31:5: UNF106 [*] `orders.insert_one` blocks the event loop",
            // A collection bound at module level, used in a helper the coroutine calls.
            "handlers.py:32:14: UNF401 [*] `count_starts(...)` blocks the event loop in async \
             function `on_start`: on_start -> count_starts -> \
             pymongo.MongoClient.*.*().count_documents",
            "handlers.py:33:5: UNF401 [*] `log_order(...)` blocks the event loop in async \
             function `on_start`: on_start -> log_order -> pymongo.MongoClient.*.*().insert_one",
        ],
    );
    // The client is thread-safe: each call moves on its own, the cursor read in the same hop.
    let fixed = unfreeze_in(dir.path(), &["fix", "--isolated", "--no-cache", "."]);
    assert_contains(
        &fixed,
        &[
            "+    user = await asyncio.to_thread(db.users.find_one, {\"_id\": user_id})",
            "+    await asyncio.to_thread(db[\"users\"].insert_one, {\"_id\": user_id})",
            "+    admins = await asyncio.to_thread(list, db.admins.find({\"admin\": True}))",
            "+    total = await asyncio.to_thread(count_users)",
            "+    starts = await asyncio.to_thread(count_starts)",
            "+    await asyncio.to_thread(log_order, user_id)",
        ],
    );
}

/// The shared-connection bot: one module opens the connection at import time; the others
/// import it and reach it through cursors and statement chains.
const SQLITE_DB: &str = r#"import sqlite3

con = sqlite3.connect("bot.db")
con.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
"#;

const SQLITE_HELPERS: &str = r#"from db import con


def name_of(user_id):
    return con.cursor().execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()[0]
"#;

const SQLITE_HANDLERS: &str = r#"import asyncio

from db import con
from helpers import name_of

cur = con.cursor()


async def on_join(user_id, name):
    asyncio.create_task(asyncio.sleep(0))
    con.cursor().execute("INSERT OR REPLACE INTO users VALUES (?, ?)", (user_id, name))
    con.commit()


async def on_message(user_id):
    asyncio.create_task(asyncio.sleep(0))
    count = con.execute("SELECT count(*) FROM users").fetchone()[0]
    cur.execute("SELECT name FROM users")
    return f"hello {name_of(user_id)} ({count} users)"
"#;

const SQLITE_MAIN: &str = r#"import asyncio

from handlers import on_join, on_message


async def main():
    await on_join(1, "ada")
    await on_join(2, "grace")
    print(await on_message(1))
    print(await on_message(2))


asyncio.run(main())
"#;

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

#[test]
fn a_sqlite_connection_imported_from_another_module_is_found_through_its_cursors_and_kept_on_its_thread()
 {
    let dir = project(&[
        ("db.py", SQLITE_DB.as_bytes()),
        ("helpers.py", SQLITE_HELPERS.as_bytes()),
        ("handlers.py", SQLITE_HANDLERS.as_bytes()),
        ("main.py", SQLITE_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_eq!(output.code, Some(1), "{}", output.show());
    assert_contains(
        &output,
        &[
            "handlers.py:11:5: UNF101 `con.cursor().execute` blocks the event loop on a \
             database call",
            "handlers.py:12:5: UNF101 `con.commit` blocks",
            "handlers.py:17:13: UNF101 `con.execute(\"SELECT count(*) FROM users\").fetchone` \
             blocks",
            "handlers.py:19:21: UNF401 `name_of(...)` blocks the event loop in async function \
             `on_message`: on_message -> name_of -> sqlite3.connect().cursor().execute",
            "handlers.py:18:5: UNF101 `cur.execute` blocks",
            "no fix: `con` is the sqlite3 connection made at import time in db.py, so the call \
             is not moved to a worker thread",
            "no fix: `name_of` uses the sqlite3 connection `con`, made at import time in db.py \
             (helpers.py:5), so it is not moved to a worker thread",
        ],
    );
    // Nothing moves to a worker thread: the rewritten program runs as before (a moved call
    // would raise `sqlite3.ProgrammingError`).
    let before = run_main(dir.path());
    assert_eq!(before, "hello ada (2 users)\nhello grace (2 users)\n");
    let fixed = unfreeze_in(
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
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
    let handlers = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(!handlers.contains("to_thread"), "{handlers}");
}

/// A vendor SDK client made in one module, used in another: found, and its fix is unsafe
/// (the client's `requests.Session` is shared by every coroutine using it).
#[test]
fn a_vendor_sdk_client_imported_from_another_module_is_found_with_an_unsafe_fix() {
    let dir = project(&[
        (
            "clients.py",
            b"import spotipy\n\nsp = spotipy.Spotify(auth=\"token\")\n",
        ),
        (
            "handlers.py",
            b"import asyncio\n\nfrom clients import sp\n\n\nasync def on_search(query):\n    \
              asyncio.create_task(asyncio.sleep(0))\n    return sp.search(query)\n\n\n\
              async def on_top():\n    asyncio.create_task(asyncio.sleep(0))\n    \
              return sp.current_user_top_artists()\n",
        ),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "handlers.py:8:12: UNF106 `sp.search` blocks the event loop on a round trip",
            "handlers.py:13:12: UNF106 `sp.current_user_top_artists` blocks the event loop",
        ],
    );
    let safe = unfreeze_in(dir.path(), &["fix", "--isolated", "--no-cache", "."]);
    assert!(!safe.stdout.contains("to_thread"), "{}", safe.show());
    let unsafe_fix = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--no-cache", "--unsafe-fixes", "."],
    );
    assert_contains(
        &unsafe_fix,
        &["+    return await asyncio.to_thread(sp.search, query)"],
    );
    assert!(
        unsafe_fix.stderr.contains("one `requests.Session`"),
        "{}",
        unsafe_fix.show()
    );
}

/// `img = img.resize(...)`: the `img` in the value is the image bound before, so the chain
/// of an image rebound to its own result is still followed.
#[test]
fn an_image_rebound_to_its_own_result_is_still_an_image() {
    let dir = project(&[(
        "thumbs.py",
        b"import asyncio\nfrom PIL import Image\n\n\nasync def thumb(path):\n    \
          asyncio.create_task(asyncio.sleep(0))\n    img = Image.open(path)\n    \
          img = img.resize((64, 64))\n    img.thumbnail((32, 32))\n    return img\n",
    )]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "thumbs.py:8:11: UNF105 [*] `img.resize` is CPU-bound work",
            "thumbs.py:9:5: UNF105 [*] `img.thumbnail` is CPU-bound work",
        ],
    );
}

/// A local S3 stand-in on 127.0.0.1, started by the program itself: `ListObjectsV2` in pages
/// of two keys and `HeadBucket`, each request taking 150 ms, as a round trip to a far server.
const S3_SERVER: &str = r#"import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KEYS = [f"photos/{i}.jpg" for i in range(5)]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _reply(self, body=b""):
        time.sleep(0.15)
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        self._reply()

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        start = int(query.get("continuation-token", ["0"])[0])
        page = KEYS[start : start + 2]
        more = start + 2 < len(KEYS)
        contents = "".join(f"<Contents><Key>{k}</Key><Size>1</Size></Contents>" for k in page)
        token = f"<NextContinuationToken>{start + 2}</NextContinuationToken>" if more else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>bucket</Name><KeyCount>{len(page)}</KeyCount><MaxKeys>2</MaxKeys>"
            f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}{contents}"
            "</ListBucketResult>"
        )
        self._reply(body.encode())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
ENDPOINT = f"http://127.0.0.1:{server.server_address[1]}"
"#;

/// A handler waiting for a bucket, then listing it page by page and in one
/// `build_full_result()`, through a botocore client; every request records the thread it
/// was sent from, and a ticker measures the loop's worst lag.
const S3_APP: &str = r#"import asyncio
import sys
import threading
import time

import botocore.session
from botocore.config import Config

from store import ENDPOINT

s3 = botocore.session.get_session().create_client(
    "s3",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(s3={"addressing_style": "path"}),
)
SENT_FROM = []
s3.meta.events.register("before-send", lambda **kwargs: SENT_FROM.append(threading.get_ident()))


async def list_keys(bucket):
    s3.get_waiter("bucket_exists").wait(Bucket=bucket)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    paginator = s3.get_paginator("list_objects_v2")
    full = paginator.paginate(Bucket=bucket).build_full_result()
    return keys, len(full["Contents"])


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
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stop))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    keys, total = await list_keys("bucket")
    elapsed = time.perf_counter() - start
    stop.set()
    lag = await tick
    print(keys, total)
    loop_thread = threading.get_ident()
    print(f"requests={len(SENT_FROM)}")
    print(f"on_loop={sum(1 for thread in SENT_FROM if thread == loop_thread)}")
    print(f"elapsed={elapsed * 1000:.1f}", file=sys.stderr)
    print(f"max_lag={lag * 1000:.1f}", file=sys.stderr)


asyncio.run(main())
"#;

/// `key=value` on a line of `stdout`.
fn stdout_value(stdout: &str, key: &str) -> u32 {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no `{key}=` in:\n{stdout}"))
        .parse()
        .unwrap()
}

/// botocore's waiters and paginators: a waiter's `wait()` and a paginator's pages are
/// requests; the rewritten program lists the same keys with no request sent from the event
/// loop's thread, and the loop keeps time.
#[test]
fn botocore_waiters_and_paginator_pages_move_off_the_loop_with_the_same_keys() {
    let python = stdlib_python();
    let has_botocore = common::python(&python)
        .args(["-c", "import botocore"])
        .output()
        .code
        == Some(0);
    if !has_botocore {
        eprintln!("skipped: {python} has no botocore");
        return;
    }
    let dir = project(&[
        ("store.py", S3_SERVER.as_bytes()),
        ("app.py", S3_APP.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app.py:24:5: UNF106 [*] `s3.get_waiter(\"bucket_exists\").wait` blocks",
            "app.py:26:17: UNF106 `s3.get_paginator(\"list_objects_v2\").paginate` blocks",
            "app.py:29:12: UNF106 [*] `paginator.paginate(Bucket=bucket).build_full_result` \
             blocks",
        ],
    );
    let app = dir.path().join("app.py");
    let before = measure(&python, &app, "");
    assert!(
        before.stdout.contains("'photos/4.jpg'] 5\n") && before.stdout.contains("on_loop=7\n"),
        "{}",
        before.stdout
    );
    let fixed = unfreeze_in(
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
    assert!(
        fixed
            .stderr
            .contains("the loop now runs over a list of every item"),
        "{}",
        fixed.show()
    );
    let after = measure(&python, &app, "");
    let listed = |stdout: &str| stdout.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        listed(&after.stdout),
        listed(&before.stdout),
        "{}",
        fixed.show()
    );
    assert_eq!(
        stdout_value(&after.stdout, "requests"),
        7,
        "{}",
        after.stdout
    );
    assert_eq!(
        stdout_value(&after.stdout, "on_loop"),
        0,
        "{}",
        fixed.show()
    );
    assert!(
        before.max_lag > 500.0 && after.max_lag < 0.25 * before.max_lag,
        "max lag {} ms before, {} ms after",
        before.max_lag,
        after.max_lag
    );
}
