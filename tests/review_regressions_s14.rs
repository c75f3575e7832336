//! Regressions from the third review of unseen applications (session 13's build, judged in
//! session 14), each reproduced on a small program first: a scratch file at a fixed path
//! written, used and deleted by one coroutine (mohamadnoorir63-svg/telegram-bot's Instagram
//! cookie file), caveats that were over-cautious or wrong in detail, and reasons the user never
//! saw.

mod common;

use std::fs;
use std::path::Path;

use common::{findings, project, test_python, unfreeze_in};

/// Run `main.py` in `dir`; its stdout (it must succeed).
fn run_main(dir: &Path) -> String {
    let output = common::python(&test_python())
        .arg("main.py")
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "main.py failed:\n{}", output.show());
    output.stdout
}

/// `unfreeze fix --write .` (safe fixes only).
fn fix_safe(dir: &Path) -> common::Output {
    unfreeze_in(dir, &["fix", "--isolated", "--write", "."])
}

/// The finding of `code` at `row` of `file`.
fn finding<'a>(
    all: &'a [serde_json::Value],
    file: &str,
    code: &str,
    row: u64,
) -> &'a serde_json::Value {
    all.iter()
        .find(|f| f["filename"] == file && f["code"] == code && f["location"]["row"] == row)
        .unwrap_or_else(|| panic!("no {code} at {file}:{row} in {all:#?}"))
}

/// The Instagram handler's cookie file: written at a fixed path, used by a library the
/// analysis does not follow (yt-dlp's `cookiefile`; here `http.cookiejar`), then deleted
/// after an `await`. `{NAME}` is the file's name.
const COOKIE_BOT: &str = r##"import asyncio
import http.cookiejar
import os
import uuid

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "downloads")
COOKIES = "# Netscape HTTP Cookie File\n" + "".join(
    f".example.com\tTRUE\t/\tFALSE\t0\tname{i}\tvalue{i}\n" for i in range(2000)
)


async def handle(i):
    cookie_path = os.path.join(FOLDER, {NAME})
    with open(cookie_path, "w", encoding="utf-8") as f:
        f.write(COOKIES)
    jar = http.cookiejar.MozillaCookieJar(cookie_path)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
        seen = len(jar)
    except Exception:
        seen = 0
    await asyncio.sleep(0)
    try:
        os.remove(cookie_path)
    except FileNotFoundError:
        pass
    return seen
"##;

/// Four requests at once, 50 times: how many saw the whole cookie file.
const COOKIE_MAIN: &str = r#"import asyncio
import os
import warnings

import bot

warnings.simplefilter("ignore")


async def main():
    os.makedirs(bot.FOLDER, exist_ok=True)
    seen = []
    for _ in range(50):
        seen += await asyncio.gather(*(bot.handle(i) for i in range(4)))
    full = sum(1 for s in seen if s == 2000)
    print(f"{full}/{len(seen)}")


asyncio.run(main())
"#;

/// A fixed cookie path written and deleted by the same coroutine: the write block and the
/// delete were safe fixes, and with them most concurrent requests found no cookie file or a
/// torn one (3 of 200 whole). Both are unsafe now, the caveat names the file, and the safe
/// fixes leave the program as it was (200 of 200).
#[test]
fn a_fixed_scratch_file_written_and_deleted_by_one_coroutine_is_unsafe() {
    let bot = COOKIE_BOT.replace("{NAME}", r#""cookie.txt""#);
    let dir = project(&[
        ("bot.py", bot.as_bytes()),
        ("main.py", COOKIE_MAIN.as_bytes()),
    ]);
    assert_eq!(run_main(dir.path()).trim(), "200/200");
    let all = findings(dir.path());
    for (code, row, does) in [("ASYNC230", 14, "writes"), ("UNF104", 24, "deletes")] {
        let fix = &finding(&all, "bot.py", code, row)["fix"];
        assert_eq!(fix["applicability"], "unsafe", "{code}: {fix:#}");
        let caveat = fix["caveat"].as_str().unwrap();
        assert!(
            caveat.contains(&format!(
                "{does} the file `cookie_path` (`FOLDER/cookie.txt`)"
            )) && caveat.contains("a fixed path that the same function also")
                && caveat.contains("give each run its own file"),
            "{code}: {caveat}"
        );
    }
    fix_safe(dir.path());
    assert_eq!(fs::read_to_string(dir.path().join("bot.py")).unwrap(), bot);
    assert_eq!(run_main(dir.path()).trim(), "200/200");
}

/// The same coroutine with a file of its own per call (`uuid4()`): nobody else's, so the
/// hops stay safe, and the rewritten program still sees every cookie.
#[test]
fn a_scratch_file_named_per_call_stays_safe() {
    let bot = COOKIE_BOT.replace("{NAME}", r#"f"cookie_{uuid.uuid4().hex}.txt""#);
    let dir = project(&[
        ("bot.py", bot.as_bytes()),
        ("main.py", COOKIE_MAIN.as_bytes()),
    ]);
    let all = findings(dir.path());
    for (code, row) in [("ASYNC230", 14), ("UNF104", 24)] {
        let fix = &finding(&all, "bot.py", code, row)["fix"];
        assert_eq!(fix["applicability"], "safe", "{code}: {fix:#}");
    }
    fix_safe(dir.path());
    let fixed = fs::read_to_string(dir.path().join("bot.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(os.remove, cookie_path)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()).trim(), "200/200");
}

/// michel-discord-bot's config module: it writes `config.json` only through a temporary file
/// and `os.replace`, and reads it in `load_names`.
const CONFIG_MODULE: &str = r#"import json
import os
import tempfile

CONFIG_PATH = "config.json"


def atomic_write(data):
    fd, tmp = tempfile.mkstemp(dir=".")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, CONFIG_PATH)


def load_names():
    with open(CONFIG_PATH) as f:
        return json.load(f)["names"]
"#;

/// An extension that rewrites the file in place, through the constant it imports.
const IN_PLACE_EXTENSION: &str = r#"import json

from app.config import CONFIG_PATH


def set_round(i):
    with open(CONFIG_PATH, "w") as f:
        json.dump({"names": ["x"] * 20000, "round": i}, f)


async def command(i):
    set_round(i)
"#;

/// The reader's coroutine.
const READER: &str = r#"from app.config import load_names


async def reader():
    try:
        return len(load_names())
    except ValueError:
        return "torn"
"#;

/// Readers and in-place writers at once; what the readers saw.
const CONFIG_MAIN: &str = r#"import asyncio

from app.config import atomic_write
from app.extension import command
from app.reader import reader


async def main():
    atomic_write({"names": ["x"] * 20000, "round": 0})
    seen = set()
    for _ in range(20):
        results = await asyncio.gather(
            *(reader() for _ in range(10)), *(command(i) for i in range(10))
        )
        seen |= {r for r in results if r is not None}
    print(sorted(seen, key=str))


asyncio.run(main())
"#;

/// A file its own module replaces whole, which another module rewrites in place through the
/// constant it imports: the two name the file differently (`config.json`,
/// `app.config.CONFIG_PATH`), and the reader was a safe fix that read torn files. Now both
/// names are one file: the reader is unsafe and its caveat names the writer; the safe fixes
/// leave it on the loop, and every read is whole.
#[test]
fn a_reader_races_another_module_writing_in_place_through_the_imported_constant() {
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/config.py", CONFIG_MODULE.as_bytes()),
        ("app/extension.py", IN_PLACE_EXTENSION.as_bytes()),
        ("app/reader.py", READER.as_bytes()),
        ("main.py", CONFIG_MAIN.as_bytes()),
    ]);
    assert_eq!(run_main(dir.path()), "[20000]\n");
    let all = findings(dir.path());
    let fix = &finding(&all, "app/reader.py", "UNF401", 6)["fix"];
    assert_eq!(fix["applicability"], "unsafe", "{fix:#}");
    let caveat = fix["caveat"].as_str().unwrap();
    assert!(
        caveat.contains("`load_names` reads the file")
            && caveat.contains("which `set_round` in app/extension.py:7 (another module) writes"),
        "{caveat}"
    );
    fix_safe(dir.path());
    let reader = fs::read_to_string(dir.path().join("app/reader.py")).unwrap();
    assert_eq!(reader, READER);
    assert_eq!(run_main(dir.path()), "[20000]\n");
}

/// A coroutine that removes a file another module reads: the caveat says it deletes the file
/// (it used to say "writes", with a corruption it cannot cause), and what the reader sees.
#[test]
fn removing_a_file_is_called_a_delete_in_the_caveat() {
    let dir = project(&[
        ("app/__init__.py", b""),
        (
            "app/restore.py",
            b"import os\n\nRESTORE = \"restore.zip\"\n\n\nasync def cleanup():\n    os.remove(RESTORE)\n",
        ),
        (
            "app/backup.py",
            b"from app.restore import RESTORE\n\n\ndef size():\n    with open(RESTORE, \"rb\") as f:\n        return len(f.read())\n\n\nasync def report():\n    return size()\n",
        ),
    ]);
    let all = findings(dir.path());
    let fix = &finding(&all, "app/restore.py", "UNF104", 7)["fix"];
    assert_eq!(fix["applicability"], "unsafe", "{fix:#}");
    let caveat = fix["caveat"].as_str().unwrap();
    assert!(
        caveat.starts_with("the call deletes the file `RESTORE`, which `size` in app/backup.py:5")
            && caveat.contains("can find the file gone")
            && !caveat.contains("corrupted"),
        "{caveat}"
    );
}

/// 9mits/custom-discord-bot's tests: a sqlite3 unit of work checked with `self.assertEqual`
/// inside an `IsolatedAsyncioTestCase`; one assertion meant to fail.
const ASSERTING_TEST: &str = r#"import asyncio
import sqlite3
import tempfile
import unittest
from pathlib import Path


class RowsTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.other = asyncio.create_task(asyncio.sleep(0))

    async def test_row(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "rows.db"
            connection = sqlite3.connect(path)
            connection.execute("CREATE TABLE t(v TEXT)")
            connection.execute("INSERT INTO t VALUES ('a')")
            self.assertEqual(connection.execute("SELECT v FROM t").fetchone()[0], "a")
            connection.close()

    @unittest.expectedFailure
    async def test_wrong_row(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "rows.db"
            connection = sqlite3.connect(path)
            connection.execute("CREATE TABLE t(v TEXT)")
            connection.execute("INSERT INTO t VALUES ('a')")
            self.assertEqual(connection.execute("SELECT v FROM t").fetchone()[0], "b")
            connection.close()
"#;

/// `self.assertEqual(...)` in moved code made the whole unit of work unsafe ("must be safe
/// to call from" a worker thread): unittest's assertions only compare and raise, and the
/// AssertionError crosses `asyncio.to_thread` unchanged. The fix is safe now, and the
/// rewritten tests still pass, and still fail where they should.
#[test]
fn a_unittest_assertion_in_moved_code_needs_no_caveat() {
    let dir = project(&[("test_rows.py", ASSERTING_TEST.as_bytes())]);
    let all = findings(dir.path());
    for row in [15, 25] {
        let fix = &finding(&all, "test_rows.py", "UNF101", row)["fix"];
        assert_eq!(fix["applicability"], "safe", "{fix:#}");
    }
    fix_safe(dir.path());
    let fixed = fs::read_to_string(dir.path().join("test_rows.py")).unwrap();
    assert!(
        fixed.matches("await asyncio.to_thread(").count() >= 2,
        "{fixed}"
    );
    let run = common::python(&test_python())
        .args(["-m", "unittest", "test_rows"])
        .current_dir(dir.path())
        .output();
    assert_eq!(run.code, Some(0), "{}\n{fixed}", run.show());
    assert!(
        run.stderr.contains("OK (expected failures=1)"),
        "{}",
        run.show()
    );
}

/// zacala1/hass-geofence-journal's tests: a sqlite3 connection made inside
/// `with closing(...) as connection:`, while another task runs.
const CLOSING_CONNECTION: &str = r#"import asyncio
import sqlite3
from contextlib import closing


async def count(path):
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS t(v TEXT)")
        connection.execute("INSERT INTO t VALUES ('a')")
        connection.commit()
        rows = connection.execute("SELECT count(*) FROM t").fetchone()[0]
    await asyncio.sleep(0)
    return rows


async def main():
    other = asyncio.create_task(asyncio.sleep(0))
    print(await count("rows.db"), await count("rows.db"))
    await other


asyncio.run(main())
"#;

/// `with closing(sqlite3.connect(p)) as connection:` got no fix ("not kept in a local name of
/// the coroutine"), and the calls on `connection` were not found at all. The connection is
/// made, used and closed in the block, so the block moves to a worker thread as one unit,
/// as `with sqlite3.connect(p) as con:` does: a safe fix, and the rewritten program, which
/// makes, uses and closes the connection in the worker thread, gives the same rows.
#[test]
fn a_connection_in_with_closing_moves_as_one_unit() {
    let dir = project(&[("main.py", CLOSING_CONNECTION.as_bytes())]);
    assert_eq!(run_main(dir.path()), "1 2\n");
    fs::remove_file(dir.path().join("rows.db")).unwrap();
    let all = findings(dir.path());
    for row in [7, 8, 11] {
        let found = finding(&all, "main.py", "UNF101", row);
        assert_eq!(found["fix"]["applicability"], "safe", "{found:#}");
    }
    fix_safe(dir.path());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("        with closing(sqlite3.connect(path)) as connection:")
            && fixed.contains("= await asyncio.to_thread("),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), "1 2\n", "{fixed}");
}

/// `input()`'s fix is unsafe wherever it is offered (and absent in a script where nothing
/// else runs), but `rules` and `explain` said ASYNC250's fix was "safe": the label is now
/// what every call gets, and a rule only some of whose calls get less says so with a `*`.
#[test]
fn rules_label_async250_by_the_fix_its_calls_get() {
    let dir = project(&[]);
    let rules = unfreeze_in(dir.path(), &["rules"]);
    let line = rules
        .stdout
        .lines()
        .find(|l| l.contains("ASYNC250"))
        .unwrap_or_else(|| panic!("{}", rules.show()));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(
        words.contains(&"unsafe") && !words.contains(&"safe"),
        "{line}"
    );
    let redis = rules.stdout.lines().find(|l| l.contains("UNF102")).unwrap();
    assert!(redis.split_whitespace().any(|w| w == "safe*"), "{redis}");
    assert!(
        rules
            .stderr
            .contains("*: the fix of some of the rule's calls is less safe"),
        "{}",
        rules.show()
    );
    let explain = unfreeze_in(dir.path(), &["explain", "ASYNC250"]);
    assert!(
        explain
            .stdout
            .contains("Fix: unsafe (every call it matches is an exception"),
        "{}",
        explain.show()
    );
}

/// A sync redis client whose module uses pub/sub is not migrated to `redis.asyncio`
/// (with `--unsafe-fixes`): each command gets its `to_thread` fix, and that fix now says why
/// there is no migration, in `check` as in `fix`.
#[test]
fn a_refused_redis_asyncio_migration_says_why() {
    let dir = project(&[(
        "app.py",
        b"import asyncio\nimport redis\n\nr = redis.Redis()\n\n\nasync def handler(key):\n    value = r.get(key)\n    p = r.pubsub()\n    p.subscribe(\"x\")\n    return value\n",
    )]);
    let all = findings(dir.path());
    let title = finding(&all, "app.py", "UNF102", 8)["fix"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        title.starts_with("Run it in a worker thread")
            && title.contains("(not migrated to `redis.asyncio`: `r.pubsub()` (line 9)"),
        "{title}"
    );
}
