//! Files shared across modules and the working directory, proven by running the programs with
//! CPython.
//!
//! The Star-Wars bot shape: a coroutine rewrites a JSON file that a helper imported from
//! another module reads. The moved `with open(..., "w")` block and the moved helper are unsafe
//! fixes naming the other module's side; a safe `fix --write` leaves the program as it was,
//! and the unsafe fix does what its caveat says (a slow disk makes the torn read certain, not
//! timed). A file only one module touches keeps its safe fix. The TelegramBot shape: a
//! coroutine changes the working directory, then globs relative patterns; the hops the fix
//! adds after the `os.chdir`, and a moved helper changing the directory, are unsafe.
//!
//! `UNFREEZE_SHARED_FILES_PROJECT_BIN` runs the tests against another build of unfreeze (to
//! show they fail on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, finding, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_SHARED_FILES_PROJECT_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python: its stdout (it must exit 0).
fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// `unfreeze check --no-cache .`: its text output.
fn check(dir: &Path) -> String {
    let output = unfreeze(dir, &["check", "--no-cache", "."]).output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

/// `unfreeze fix --no-cache --write [extra] .` must succeed.
fn fix_write(dir: &Path, extra: &[&str]) {
    let output = unfreeze(dir, &["fix", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .lossy()
        .output();
    assert!(
        matches!(output.code, Some(0 | 1)),
        "fix failed:\n{}",
        output.show()
    );
}

/// The helper module that reads the store.
const STORE: &str = r#"import json


def get_bank_data():
    with open("bank.json") as f:
        return json.load(f)
"#;

/// A slow disk, for the test only: `json.dump` writes half of the document, then waits (up to
/// two seconds) for a reader to have its chance before it writes the rest. On the event loop's
/// thread nothing else runs meanwhile; in a worker thread a coroutine reads the half.
const SLOW_DISK: &str = r#""""A disk that writes a document in two halves."""
import json
import threading

writing = threading.Event()
read_done = threading.Event()
_load = json.load


def _slow_dump(obj, fp, **kwargs):
    text = json.dumps(obj, **kwargs)
    read_done.clear()
    fp.write(text[: len(text) // 2])
    fp.flush()
    writing.set()
    read_done.wait(timeout=2)
    fp.write(text[len(text) // 2 :])


def _load_and_tell(fp, **kwargs):
    try:
        return _load(fp, **kwargs)
    finally:
        read_done.set()


json.dump = _slow_dump
json.load = _load_and_tell
"#;

/// The cog: a command rewrites the bank file the imported helper reads; another reads the
/// balance once the write has begun.
const COG: &str = r#"import asyncio
import json

import slowdisk
from store import get_bank_data


async def deposit(amount):
    users = get_bank_data()
    users["balance"] += amount
    with open("bank.json", "w") as f:
        json.dump(users, f)


async def balance():
    while not slowdisk.writing.is_set():
        await asyncio.sleep(0.01)
    try:
        return get_bank_data()["balance"]
    except ValueError as error:
        return f"torn read: {type(error).__name__}"


async def main():
    with open("bank.json", "w") as f:
        f.write(json.dumps({"balance": 100, "history": list(range(2000))}))
    _, seen = await asyncio.gather(deposit(5), balance())
    print(seen, get_bank_data()["balance"])


asyncio.run(main())
"#;

#[test]
fn a_file_another_module_reads_is_not_written_by_a_safe_fix() {
    let files: &[(&str, &[u8])] = &[
        ("store.py", STORE.as_bytes()),
        ("slowdisk.py", SLOW_DISK.as_bytes()),
        ("main.py", COG.as_bytes()),
    ];
    let dir = project(files);
    let before = run_main(dir.path());
    assert_eq!(before.trim(), "105 105", "on the event loop the read waits");

    // The moved write names the other module's reader; the moved helper, the coroutine
    // writing the file it reads.
    let report = check(dir.path());
    let write = finding(&report, "main.py:11:10: ASYNC230");
    assert!(
        write.contains(
            "unsafe fix: Move the file's whole use to a worker thread: `await \
             asyncio.to_thread(...)` (the moved block writes the file `\"bank.json\"`, which \
             `get_bank_data` in store.py:5 (another module) reads: on the event loop's thread \
             the two never interleave, but while this write runs in a worker thread that read \
             can see the file half-written; guard it with a lock or keep it on the event loop)"
        ),
        "{write}"
    );
    let read = finding(&report, "main.py:19:16: UNF401");
    assert!(
        read.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` \
             (`get_bank_data` reads the file `bank.json`, which `deposit` in main.py:11 \
             (another module) writes: in a worker thread this read can see the file \
             half-written; guard it with a lock or keep it on the event loop)"
        ),
        "{read}"
    );
    assert!(
        !report.contains("[*]"),
        "nothing here is a safe fix:\n{report}"
    );

    // A safe fix leaves the program as it was.
    let safe = project(files);
    fix_write(safe.path(), &[]);
    assert_eq!(
        fs::read_to_string(safe.path().join("main.py")).unwrap(),
        COG,
        "a safe fix moved a use of the shared file"
    );
    assert_eq!(run_main(safe.path()), before);

    // The unsafe fix is what the caveat says: the balance is read while the deposit's write,
    // now in a worker thread, has written half of the file.
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("asyncio.to_thread"), "{fixed}");
    assert_eq!(
        run_main(dir.path()).trim(),
        "torn read: JSONDecodeError 105"
    );
}

#[test]
fn a_file_only_one_module_touches_keeps_its_safe_fix() {
    // The coroutine writes a report nobody reads and reads, through a helper of another
    // module, a configuration nobody writes: both move safely, as before.
    let config = "import json\n\n\ndef read_config():\n    with open(\"config.json\") as f:\n        return json.load(f)\n";
    let main = r#"import asyncio
import json

from config import read_config


async def report(i):
    settings = read_config()
    with open(f"report-{i}.json", "w") as f:
        json.dump({"i": i, "scale": settings["scale"]}, f)
    with open("summary.txt", "a") as f:
        f.write(f"{i}\n")


async def main():
    await asyncio.gather(*(report(i) for i in range(5)))
    with open("report-3.json") as f:
        print(json.load(f))


asyncio.run(main())
"#;
    let files: &[(&str, &[u8])] = &[
        ("config.py", config.as_bytes()),
        ("config.json", b"{\"scale\": 3}"),
        ("main.py", main.as_bytes()),
    ];
    let dir = project(files);
    let before = run_main(dir.path());
    assert_eq!(before.trim(), "{'i': 3, 'scale': 3}");

    let report = check(dir.path());
    for location in [
        "main.py:8:16: UNF401 [*]",
        "main.py:9:10: ASYNC230 [*]",
        "main.py:11:10: ASYNC230 [*]",
    ] {
        let found = finding(&report, location);
        assert!(found.contains("= fix: "), "{found}");
        assert!(!found.contains("another module"), "{found}");
    }

    let fixed = project(files);
    fix_write(fixed.path(), &[]);
    let text = fs::read_to_string(fixed.path().join("main.py")).unwrap();
    assert!(
        text.contains("await asyncio.to_thread(read_config)"),
        "{text}"
    );
    assert_eq!(run_main(fixed.path()), before);
    let summary = fs::read_to_string(fixed.path().join("summary.txt")).unwrap();
    assert_eq!(summary.lines().count(), 5, "{summary}");
}

/// The TelegramBot `/img` shape: the handler changes into the query's directory, globs
/// relative patterns, and changes back; a helper lists a directory it changes into.
const CHDIR: &str = r#"import asyncio
import glob
import os

ROOT = os.getcwd()


async def listing(name):
    os.chdir(os.path.join(ROOT, "store", name))
    found = []
    for pattern in ("*.png", "*.jpg"):
        found.extend(glob.glob(pattern))
    os.chdir(ROOT)
    return sorted(found)


def peek(name):
    os.chdir(os.path.join(ROOT, "store", name))
    names = sorted(os.listdir("."))
    os.chdir(ROOT)
    return names


async def peek_command(name):
    return peek(name)


async def main():
    print(await asyncio.gather(listing("cats"), listing("dogs")))
    print(await asyncio.gather(peek_command("cats"), peek_command("dogs")))


asyncio.run(main())
"#;

#[test]
fn hops_after_a_change_of_directory_are_unsafe() {
    let files: &[(&str, &[u8])] = &[
        ("main.py", CHDIR.as_bytes()),
        ("store/cats/cat0.png", b""),
        ("store/cats/cat1.jpg", b""),
        ("store/dogs/dog0.png", b""),
        ("store/dogs/dog1.jpg", b""),
    ];
    let dir = project(files);
    let before = run_main(dir.path());
    assert_eq!(
        before,
        "[['cat0.png', 'cat1.jpg'], ['dog0.png', 'dog1.jpg']]\n\
         [['cat0.png', 'cat1.jpg'], ['dog0.png', 'dog1.jpg']]\n"
    );

    let report = check(dir.path());
    let glob = finding(&report, "main.py:12:22: UNF104");
    assert!(
        glob.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (the \
             coroutine changes the working directory (`os.chdir(...)`, line 9) before this \
             call: during the new `await` another task can change it again, and the moved \
             code's relative paths then name that task's directory (or that task runs in this \
             one's); keep the calls on the event loop or use absolute paths)"
        ),
        "{glob}"
    );
    let helper = finding(&report, "main.py:25:12: UNF401");
    assert!(
        helper.contains(
            "(`peek` changes the process's working directory (`os.chdir(...)`) in a worker \
             thread while coroutines may use it"
        ),
        "{helper}"
    );
    assert!(
        !report.contains("[*]"),
        "nothing here is a safe fix:\n{report}"
    );

    // A safe fix leaves the program as it was.
    fix_write(dir.path(), &[]);
    assert_eq!(
        fs::read_to_string(dir.path().join("main.py")).unwrap(),
        CHDIR
    );
    assert_eq!(run_main(dir.path()), before);
}

#[test]
fn a_chdir_reached_through_a_star_import_counts() {
    // `os` comes from a star import (TelegramBot's `from telethon import *`): the name resolves
    // to nothing known, and a `chdir` on it is taken for the process's.
    let main = r#"import asyncio
import glob

from tools import *


async def listing(name):
    os.chdir(name)
    return glob.glob("*.png")


async def main():
    print(await asyncio.gather(listing("."), listing(".")))


asyncio.run(main())
"#;
    let dir = project(&[("tools.py", b"import os\n"), ("main.py", main.as_bytes())]);
    let report = check(dir.path());
    let glob = finding(&report, "main.py:9:12: UNF104");
    assert!(
        glob.contains("unsafe fix: ")
            && glob
                .contains("the coroutine changes the working directory (`os.chdir(...)`, line 8)"),
        "{glob}"
    );
}
