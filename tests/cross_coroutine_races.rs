//! Session 17, issue 20: races across coroutines that safe fixes introduced (review 5,
//! reviewer J, proofs-J). Each shape is taken from the app the reviewer proved it on:
//!
//! 1. A database write and its in-memory copy changed with no `await` between them, split by
//!    the new `await` while another coroutine reads the copy (discrdapp/economy-bot
//!    cogs/codes.py:40: `DELETE FROM Codes` then `self.currCode = word`; `code` reads both:
//!    a code paid twice).
//! 2. A read whose result replaces in-memory state another coroutine changes in place
//!    (economy-bot cogs/alerts.py:168/171: `self.usersWhoViewedAlert = [...rows...]` while
//!    `alerts` appends to it: the append is lost).
//! 3. A file removed in a worker thread while another coroutine writes it (alturiak/nio-smith
//!    core/plugin.py:563/565: `isfile` / `remove` of `<plugin>.json` while `store_data`
//!    writes it: the data is lost on disk).
//! 4. A check through another awaited coroutine and its act, on a store that is not a
//!    database: chromadb's collections (mmornati/hass-mcp chroma_backend.py:79/106:
//!    `if await self.collection_exists(name): return` then `create_collection`).
//!
//! Each is proven by running the program with the test Python, the interleaving forced by a
//! worker thread that takes its time: the program as written and after the safe `fix
//! --write` keep the invariant; with `--unsafe-fixes` applied the race the caveat states is
//! seen. The same shape where no other coroutine uses the state keeps its safe fix, and the
//! rewritten program runs right.
//!
//! `UNFREEZE_TEST_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{fix_write, project, python, test_python, unfreeze};

/// Run `main.py` in `dir` with the test Python (`lib` beside `dir` on its path): its stdout.
fn run_main(dir: &Path) -> String {
    let lib = dir.parent().unwrap().join("lib");
    let output = python(&test_python())
        .current_dir(dir)
        .env("PYTHONPATH", lib)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// `unfreeze check --no-cache .`: its text output.
fn check(dir: &Path) -> String {
    let output = unfreeze(dir, &["check", "--no-cache", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    output.stdout
}

/// The finding at `location` (`codes.py:13:9: UNF401`) in a check's output, up to the next
/// finding (a line starting with a letter).
fn finding<'r>(report: &'r str, location: &str) -> &'r str {
    let start = report
        .find(location)
        .unwrap_or_else(|| panic!("no finding at {location}:\n{report}"));
    let rest = &report[start..];
    let mut end = rest.find('\n').unwrap_or(rest.len());
    while end < rest.len() {
        let line_end = rest[end + 1..]
            .find('\n')
            .map_or(rest.len(), |e| end + 1 + e);
        if rest[end + 1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            break;
        }
        end = line_end;
    }
    &rest[..end]
}

/// A copy of `files` under `root/app` (the project) and `lib` files under `root/lib` (a
/// stand-in library on the test Python's path, outside the project).
fn app(files: &[(&str, &str)], lib: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut all: Vec<(String, &[u8])> = files
        .iter()
        .map(|(p, t)| (format!("app/{p}"), t.as_bytes()))
        .collect();
    all.extend(lib.iter().map(|(p, t)| (format!("lib/{p}"), t.as_bytes())));
    let borrowed: Vec<(&str, &[u8])> = all.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let root = project(&borrowed);
    let dir = root.path().join("app");
    (root, dir)
}

/// The program as written, after the safe fixes, and after the unsafe ones: their outputs.
fn three_runs(files: &[(&str, &str)], lib: &[(&str, &str)]) -> (String, String, String, String) {
    let (_root, dir) = app(files, lib);
    let report = check(&dir);
    let original = run_main(&dir);
    fix_write(&dir, &[]);
    let safe = run_main(&dir);
    fix_write(&dir, &["--unsafe-fixes"]);
    let unsafe_run = run_main(&dir);
    (report, original, safe, unsafe_run)
}

// 1. A database write and its in-memory copy.

/// economy-bot's `DB`: a connection per call; the delete takes its time after it commits (the
/// window the new `await` opens, made wide).
const DB: &str = r#"import sqlite3
import time

import config


class DB:
    @staticmethod
    def fetchOne(sql, values=None):
        conn = sqlite3.connect(config.db)
        row = conn.execute(sql, values or []).fetchone()
        conn.close()
        return row

    @staticmethod
    def fetchAll(sql, values=None):
        conn = sqlite3.connect(config.db)
        rows = conn.execute(sql, values or []).fetchall()
        conn.close()
        time.sleep(0.1)
        return rows

    @staticmethod
    def insert(sql, values=None):
        conn = sqlite3.connect(config.db)
        conn.execute(sql, values or [])
        conn.commit()
        conn.close()

    @staticmethod
    def delete(sql, values=None):
        conn = sqlite3.connect(config.db)
        conn.execute(sql, values or [])
        conn.commit()
        conn.close()
        time.sleep(0.1)
"#;

const CONFIG: &str = "db = \"bot.db\"\n";

/// economy-bot cogs/codes.py, reduced: `GetNewCode` and the `/code` command.
const CODES: &str = r#"import asyncio

from db import DB


class Codes:
    def __init__(self):
        self.currCode = "santa"
        self.rewards = 0

    async def GetNewCode(self, word):
        DB.delete("DELETE FROM Codes;")
        self.currCode = word
        await asyncio.sleep(0)

    async def code(self, uid, code):
        data = DB.fetchOne("SELECT * FROM Codes WHERE DiscordID = ?;", [uid])  # noqa: UNF401
        if data:
            return "already"
        elif code != self.currCode:
            return "invalid"
        DB.insert("INSERT INTO Codes VALUES(?)", [uid])  # noqa: UNF401
        self.rewards += 1
        return "redeemed"
"#;

const CODES_MAIN: &str = r#"import asyncio
import os
import sqlite3

from codes import Codes


async def main():
    if os.path.exists("bot.db"):
        os.remove("bot.db")
    c = sqlite3.connect("bot.db")
    c.execute("CREATE TABLE Codes(DiscordID INTEGER)")
    c.commit()
    c.close()
    cog = Codes()
    await cog.code(1, "santa")
    done = False

    async def traffic():
        while not done:
            await cog.code(1, "santa")
            await asyncio.sleep(0)

    async def new_code():
        nonlocal done
        await cog.GetNewCode("elves")
        done = True

    await asyncio.gather(traffic(), new_code())
    print("paid", cog.rewards)


asyncio.run(main())
"#;

#[test]
fn a_database_write_split_from_its_in_memory_copy_that_another_coroutine_reads_is_unsafe() {
    let files = [
        ("config.py", CONFIG),
        ("db.py", DB),
        ("codes.py", CODES),
        ("main.py", CODES_MAIN),
    ];
    let (report, original, safe, unsafe_run) = three_runs(&files, &[]);
    let hop = finding(&report, "codes.py:12:9: UNF401");
    assert!(hop.contains("unsafe fix"), "{hop}");
    for said in [
        "writes the database `config.db` (line 12)",
        "`self.currCode`, kept on the instance, is assigned (line 13)",
        "`code` (line 20)",
    ] {
        assert!(hop.contains(said), "{said}:\n{hop}");
    }
    assert_eq!(original.trim(), "paid 1");
    assert_eq!(safe.trim(), "paid 1", "the safe fix pays a code twice");
    // The race the caveat states: `/code` runs between the delete and the new code.
    assert_ne!(unsafe_run.trim(), "paid 1", "{unsafe_run}");
}

/// The same write and assignment, but no other coroutine reads the state.
const CODES_ALONE: &str = r#"import asyncio

from db import DB


class Codes:
    def __init__(self):
        self.lastReset = None

    async def GetNewCode(self, word):
        DB.delete("DELETE FROM Codes;")
        self.lastReset = word
        await asyncio.sleep(0)


async def main():
    import sqlite3

    c = sqlite3.connect("bot.db")
    c.execute("CREATE TABLE Codes(DiscordID INTEGER)")
    c.execute("INSERT INTO Codes VALUES(1)")
    c.commit()
    c.close()
    cog = Codes()
    # A bot: another task runs beside the cog (the script is not its only task).
    beat = asyncio.create_task(asyncio.sleep(0.01))
    await cog.GetNewCode("elves")
    await beat
    c = sqlite3.connect("bot.db")
    print(cog.lastReset, c.execute("SELECT COUNT(*) FROM Codes").fetchone()[0])


if __name__ == "__main__":
    asyncio.run(main())
"#;

#[test]
fn a_database_write_next_to_state_no_other_coroutine_reads_keeps_its_safe_fix() {
    let (_root, dir) = app(
        &[
            ("config.py", CONFIG),
            ("db.py", DB),
            ("codes.py", CODES_ALONE),
            (
                "main.py",
                "import asyncio\nimport codes\n\nasyncio.run(codes.main())\n",
            ),
        ],
        &[],
    );
    let report = check(&dir);
    let hop = finding(&report, "codes.py:11:9: UNF401 [*]");
    assert!(!hop.contains("unsafe fix"), "{hop}");
    fix_write(&dir, &[]);
    let fixed = fs::read_to_string(dir.join("codes.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(DB.delete, \"DELETE FROM Codes;\")"),
        "{fixed}"
    );
    assert_eq!(run_main(&dir).trim(), "elves 0");
}

// 2. A result that replaces state another coroutine changes in place.

/// economy-bot cogs/alerts.py, reduced: `refreshalerts` and `/alerts`.
const ALERTS: &str = r#"import asyncio

from db import DB


class Alerts:
    def __init__(self):
        self.viewed = []

    async def refresh(self):
        rows = DB.fetchAll("SELECT DiscordID FROM AlertsViewed")
        self.viewed = [row[0] for row in rows]

    async def view(self, uid):
        DB.insert("INSERT INTO AlertsViewed VALUES(?)", [uid])  # noqa: UNF401
        self.viewed.append(uid)
"#;

const ALERTS_MAIN: &str = r#"import asyncio
import os
import sqlite3

from alerts import Alerts


async def main():
    if os.path.exists("bot.db"):
        os.remove("bot.db")
    c = sqlite3.connect("bot.db")
    c.execute("CREATE TABLE AlertsViewed(DiscordID INTEGER)")
    c.commit()
    c.close()
    cog = Alerts()

    async def later():
        await asyncio.sleep(0.02)
        await cog.view(7)

    await asyncio.gather(cog.refresh(), later())
    await asyncio.sleep(0.2)
    print("viewed", 7 in cog.viewed)


asyncio.run(main())
"#;

#[test]
fn a_read_whose_result_replaces_state_another_coroutine_appends_to_is_unsafe() {
    let files = [
        ("config.py", CONFIG),
        ("db.py", DB),
        ("alerts.py", ALERTS),
        ("main.py", ALERTS_MAIN),
    ];
    let (report, original, safe, unsafe_run) = three_runs(&files, &[]);
    let hop = finding(&report, "alerts.py:11:16: UNF401");
    assert!(hop.contains("unsafe fix"), "{hop}");
    for said in [
        "`self.viewed`, kept on the instance, is replaced (line 12)",
        "(line 11)",
        "`view` changes it in place (line 16)",
    ] {
        assert!(hop.contains(said), "{said}:\n{hop}");
    }
    assert_eq!(original.trim(), "viewed True");
    assert_eq!(safe.trim(), "viewed True", "the safe fix loses the append");
    assert_eq!(unsafe_run.trim(), "viewed False", "{unsafe_run}");
}

#[test]
fn a_read_replacing_state_other_coroutines_only_read_keeps_its_safe_fix() {
    let alerts = ALERTS.replace(
        "        self.viewed.append(uid)\n",
        "        return uid in self.viewed\n",
    );
    let (_root, dir) = app(
        &[
            ("config.py", CONFIG),
            ("db.py", DB),
            ("alerts.py", &alerts),
            ("main.py", ALERTS_MAIN),
        ],
        &[],
    );
    let report = check(&dir);
    let original = run_main(&dir);
    let hop = finding(&report, "alerts.py:11:16: UNF401 [*]");
    assert!(!hop.contains("unsafe fix"), "{hop}");
    fix_write(&dir, &[]);
    let fixed = fs::read_to_string(dir.join("alerts.py")).unwrap();
    assert!(
        fixed.contains("rows = await asyncio.to_thread(\n            DB.fetchAll,"),
        "{fixed}"
    );
    // Nothing is appended: the refresh reads the table before the insert in both.
    assert_eq!(original.trim(), "viewed False");
    assert_eq!(run_main(&dir), original);
}

// 3. A file removed in a worker thread while another coroutine writes it.

/// nio-smith core/plugin.py, reduced: `store_data` / `clear_data` and the save that writes
/// the data file, or removes it when the data is empty. `os.path.isfile` takes its time (a
/// slow disk), so the window is wide.
const PLUGIN: &str = r#"import json
import os


class Plugin:
    def __init__(self, path):
        self.path = path
        self.data = {}

    async def _save_json(self, data, filename):
        with open(filename, "w") as file:  # noqa: ASYNC230
            json.dump(data, file)
        return True

    async def _save(self):
        if self.data != {}:
            return await self._save_json(self.data, self.path)
        else:
            if os.path.isfile(self.path):
                os.remove(self.path)
            return True

    async def store_data(self, name, value):
        self.data[name] = value
        return await self._save()

    async def clear_data(self, name):
        del self.data[name]
        return await self._save()
"#;

const PLUGIN_MAIN: &str = r#"import asyncio
import json
import os
import time

_isfile = os.path.isfile


def slow_isfile(path):
    time.sleep(0.1)
    return _isfile(path)


os.path.isfile = slow_isfile

from plugin import Plugin


async def main():
    p = Plugin("sample.json")
    await p.store_data("old", 1)

    async def later():
        await asyncio.sleep(0.02)
        await p.store_data("tracked", "$ev")

    await asyncio.gather(p.clear_data("old"), later())
    await asyncio.sleep(0.2)
    on_disk = json.load(open("sample.json")) if os.path.exists("sample.json") else None
    print("disk", on_disk, "memory", p.data)


asyncio.run(main())
"#;

#[test]
fn a_file_removed_in_a_thread_while_another_coroutine_writes_it_is_unsafe() {
    let files = [("plugin.py", PLUGIN), ("main.py", PLUGIN_MAIN)];
    let (report, original, safe, unsafe_run) = three_runs(&files, &[]);
    let check_hop = finding(&report, "plugin.py:19:16: ASYNC240");
    assert!(check_hop.contains("unsafe fix"), "{check_hop}");
    let remove_hop = finding(&report, "plugin.py:20:17: UNF104");
    assert!(remove_hop.contains("unsafe fix"), "{remove_hop}");
    assert!(
        remove_hop.contains("deletes the file `self.path`, which the module also writes (line"),
        "{remove_hop}"
    );
    let kept = "disk {'tracked': '$ev'} memory {'tracked': '$ev'}";
    assert_eq!(original.trim(), kept);
    assert_eq!(safe.trim(), kept, "the safe fix loses the data on disk");
    assert_eq!(
        unsafe_run.trim(),
        "disk None memory {'tracked': '$ev'}",
        "{unsafe_run}"
    );
}

#[test]
fn a_file_removed_that_no_other_code_writes_keeps_its_safe_fix() {
    let plugin = r#"import os


class Plugin:
    def __init__(self, path):
        self.lock_path = path

    async def unlock(self):
        try:
            os.remove(self.lock_path)
        except FileNotFoundError:
            pass
        return True
"#;
    let main = r#"import asyncio

from plugin import Plugin

open("run.lock", "w").close()
asyncio.run(Plugin("run.lock").unlock())
import os

print("lock", os.path.exists("run.lock"))
"#;
    let (_root, dir) = app(&[("plugin.py", plugin), ("main.py", main)], &[]);
    let report = check(&dir);
    let hop = finding(&report, "plugin.py:10:13: UNF104 [*]");
    assert!(!hop.contains("unsafe fix"), "{hop}");
    fix_write(&dir, &[]);
    let fixed = fs::read_to_string(dir.join("plugin.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(os.remove"),
        "{fixed}"
    );
    assert_eq!(run_main(&dir).trim(), "lock False");
}

// 4. A check through another awaited coroutine and its act, on chromadb's collections.

/// A stand-in for chromadb with its semantics: thread-safe, unique collection names,
/// `create_collection` of an existing name raises; listing takes a round trip's time.
const CHROMADB: &str = r#"import threading
import time


class _Collection:
    def __init__(self, name):
        self.name = name


class PersistentClient:
    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._collections = {}

    def list_collections(self):
        with self._lock:
            found = list(self._collections.values())
        time.sleep(0.05)
        return found

    def create_collection(self, name, metadata=None):
        with self._lock:
            if name in self._collections:
                raise ValueError(f"Collection {name} already exists")
            self._collections[name] = _Collection(name)
            return self._collections[name]

    def get_or_create_collection(self, name, metadata=None):
        with self._lock:
            return self._collections.setdefault(name, _Collection(name))
"#;

/// hass-mcp app/core/vectordb/chroma_backend.py, reduced.
const BACKEND: &str = r#"import chromadb


class ChromaBackend:
    def __init__(self, path):
        self.client = chromadb.PersistentClient(path=path)

    async def collection_exists(self, name):
        collections = self.client.list_collections()
        return any(col.name == name for col in collections)

    async def create_collection(self, name):
        if await self.collection_exists(name):
            return
        self.client.create_collection(name=name)

    async def store(self, name):
        try:
            await self.create_collection(name)
            return "stored"
        except ValueError as err:
            return f"failed: {err}"
"#;

const BACKEND_MAIN: &str = r#"import asyncio

from backend import ChromaBackend


async def main():
    backend = ChromaBackend("db")
    results = await asyncio.gather(*(backend.store("history") for _ in range(3)))
    print(sorted(set(results)))


asyncio.run(main())
"#;

#[test]
fn a_chroma_collection_checked_through_another_coroutine_then_created_is_unsafe() {
    let files = [("backend.py", BACKEND), ("main.py", BACKEND_MAIN)];
    let lib = [("chromadb/__init__.py", CHROMADB)];
    let (report, original, safe, unsafe_run) = three_runs(&files, &lib);
    let act = finding(&report, "backend.py:15:9: UNF106");
    assert!(act.contains("unsafe fix"), "{act}");
    assert!(
        act.contains(
            "writes the collections of the chroma client `self.client`, which \
             `create_collection` checked before it (line 13, through `self.collection_exists`)"
        ),
        "{act}"
    );
    assert!(act.contains("get_or_create_collection"), "{act}");
    let check_hop = finding(&report, "backend.py:9:23: UNF106");
    assert!(check_hop.contains("unsafe fix"), "{check_hop}");
    assert!(
        check_hop.contains("which `create_collection` writes (line 15)"),
        "{check_hop}"
    );
    assert_eq!(original.trim(), "['stored']");
    assert_eq!(safe.trim(), "['stored']", "the safe fix fails a request");
    assert!(
        unsafe_run.contains("failed: Collection history already exists"),
        "{unsafe_run}"
    );
}

#[test]
fn chroma_calls_with_no_check_before_the_act_keep_their_safe_fixes() {
    let backend = r#"import chromadb


class ChromaBackend:
    def __init__(self, path):
        self.client = chromadb.PersistentClient(path=path)

    async def count(self):
        return len(self.client.list_collections())

    async def ensure(self, name):
        return self.client.get_or_create_collection(name=name).name
"#;
    let main = r#"import asyncio

from backend import ChromaBackend


async def main():
    backend = ChromaBackend("db")
    names = await asyncio.gather(*(backend.ensure("history") for _ in range(3)))
    print(sorted(set(names)), await backend.count())


asyncio.run(main())
"#;
    let lib = [("chromadb/__init__.py", CHROMADB)];
    let (_root, dir) = app(&[("backend.py", backend), ("main.py", main)], &lib);
    let report = check(&dir);
    for location in [
        "backend.py:9:20: UNF106 [*]",
        "backend.py:12:16: UNF106 [*]",
    ] {
        let hop = finding(&report, location);
        assert!(!hop.contains("unsafe fix"), "{hop}");
    }
    fix_write(&dir, &[]);
    let fixed = fs::read_to_string(dir.join("backend.py")).unwrap();
    assert!(fixed.contains("asyncio.to_thread"), "{fixed}");
    assert_eq!(run_main(&dir).trim(), "['history'] 1");
}
