//! Files as shared state, proven by running the programs with CPython: a JSON store that
//! concurrent coroutines read, change and rewrite loses no update on the event loop, and its
//! moved `with open` blocks (or a helper class's `load` / `save`) are unsafe fixes a safe
//! `fix --write` leaves alone, while the unsafe fix really loses updates; a file each
//! coroutine makes for itself (a temporary file) keeps its safe fix and its output. A
//! loop-bound call whose RuntimeError a handler swallows is unsafe (it never runs), and an
//! `asyncio.Queue()` made in moved code is refused only where the project may run below 3.10.
//!
//! `UNFREEZE_SHARED_FILES_BIN` runs the tests against another build of unfreeze (to show
//! they fail on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_SHARED_FILES_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python; its exit code, stdout and stderr.
fn run_main(dir: &Path) -> (Option<i32>, String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    (output.code, output.stdout, output.stderr)
}

/// `unfreeze check --no-cache .` (with the project's own configuration): its text output.
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

/// The ECS `match_dates_commands` shape: every command reads the store named by a module
/// constant, changes it, and rewrites it.
const STORE: &str = r#"import asyncio
import json

STORE_PATH = "store.json"


async def bump(i):
    await asyncio.sleep(0)
    with open(STORE_PATH, "r") as f:
        data = json.load(f)
    data["count"] += 1
    data["seen"].append(i)
    with open(STORE_PATH, "w") as f:
        json.dump(data, f, indent=4)


async def main():
    with open(STORE_PATH, "w") as f:
        json.dump({"count": 0, "seen": []}, f)
    await asyncio.gather(*(bump(i) for i in range(200)))
    with open(STORE_PATH) as f:
        data = json.load(f)
    print(data["count"], len(set(data["seen"])))


asyncio.run(main())
"#;

#[test]
fn a_read_modify_write_store_is_not_moved_by_a_safe_fix() {
    let dir = project(&[("main.py", STORE.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        before.trim(),
        "200 200",
        "no update is lost on the event loop"
    );

    // The findings stay, their fixes unsafe, naming the file and the race.
    let report = check(dir.path());
    // The load and the save are in one coroutine: the caveat says the read-modify-write is
    // split by the new awaits.
    for (line, does, also, other) in [(9, "reads", "rewrites", 13), (13, "writes", "read", 9)] {
        let expected = format!(
            "main.py:{line}:10: ASYNC230 `open` opens a file with blocking I/O in async \
             function `bump`"
        );
        assert!(report.contains(&expected), "{report}");
        let caveat = format!(
            "unsafe fix: Move the file's whole use to a worker thread: `await \
             asyncio.to_thread(...)` (the moved block {does} the file `STORE_PATH`, which the \
             same function also {also} (line {other}): a read-modify-write split by the new \
             `await`s, so another task's update of the file in between is lost: in worker \
             threads two coroutines can interleave and lose an update, and a reader can see the \
             file half-written; guard it with a lock or keep it on the event loop)"
        );
        assert!(report.contains(&caveat), "{report}");
    }

    // A safe fix leaves both blocks on the loop, and the program as it was.
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(!fixed.contains("def _write_data():"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);

    // The unsafe fix is what the caveat says: concurrent coroutines lose updates (or one of
    // them reads the file while another has truncated it).
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("def _write_data():"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert!(
        code != Some(0) || after.trim() != "200 200",
        "the unsafe fix lost no update: {after}{stderr}"
    );
}

/// The jira `TelegramPostDataStore` shape: a class whose `load` and `save` methods read and
/// rewrite the file named by `self.path`, called from handlers.
const METHODS: &str = r#"import asyncio
import json
import os


class Store:
    def __init__(self, path):
        self.path = path

    def load(self):
        if not os.path.exists(self.path):
            return {}
        with open(self.path, encoding="utf-8") as f:
            return json.load(f)

    def save(self, data):
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(data, f)


store = Store("data.json")


async def handle(i):
    await asyncio.sleep(0)
    data = store.load()
    data[str(i)] = i
    store.save(data)


async def main():
    await asyncio.gather(*(handle(i) for i in range(200)))
    print(len(store.load()))


asyncio.run(main())
"#;

#[test]
fn helpers_reading_and_rewriting_a_file_on_self_are_not_moved_by_a_safe_fix() {
    let dir = project(&[("main.py", METHODS.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before.trim(), "200");

    let report = check(dir.path());
    // Both calls are on `store`, a module global: the caveat says so first (the receiver),
    // then the file race, which is what this test is about.
    assert!(!report.contains("   = fix: "), "{report}");
    assert!(
        report.contains(
            "`Store.load` reads the file `self.path`, which the module also writes (line \
             17): in worker threads two coroutines can interleave and lose an update"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "`Store.save` writes the file `self.path`, which the module also reads (line 13)"
        ),
        "{report}"
    );

    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("    data = store.load()\n"), "{fixed}");
    assert!(fixed.contains("    store.save(data)\n"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);
}

/// Each coroutine writes its payload to a temporary file of its own, reads it back and
/// removes it: nobody else's file, so the moves stay safe.
const SCRATCH: &str = r#"import asyncio
import os
import tempfile


async def roundtrip(i):
    fd, path = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    with open(path, "w") as f:
        f.write(f"payload {i}")
    with open(path) as f:
        text = f.read()
    os.remove(path)
    return text


async def main():
    texts = await asyncio.gather(*(roundtrip(i) for i in range(50)))
    print(texts == [f"payload {i}" for i in range(50)], len(texts))


asyncio.run(main())
"#;

#[test]
fn a_temporary_file_of_each_coroutine_keeps_its_safe_fix_and_runs() {
    let dir = project(&[("main.py", SCRATCH.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before.trim(), "True 50");

    let report = check(dir.path());
    assert!(!report.contains("unsafe fix"), "{report}");

    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("def _write_file():"), "{fixed}");
    assert!(fixed.contains("def _read_text():"), "{fixed}");
    assert!(
        fixed.contains("await asyncio.to_thread(os.remove, path)"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);
}

/// PigPig's `_report_async`: a helper reports through a task, and catches the RuntimeError
/// `create_task` raises without a running loop.
const SWALLOWED: &str = r#"import asyncio
import time

reported = []


async def report(message):
    reported.append(message)


def slow_step(i):
    time.sleep(0.01)
    try:
        asyncio.create_task(report(f"step {i}"))
    except Exception:
        pass


async def main():
    for i in range(3):
        slow_step(i)
    await asyncio.sleep(0.05)
    print(len(reported))


asyncio.run(main())
"#;

#[test]
fn a_loop_bound_call_whose_error_is_swallowed_is_an_unsafe_fix_that_says_so() {
    let dir = project(&[("main.py", SWALLOWED.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before.trim(), "3");

    let report = check(dir.path());
    assert!(
        report.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` \
             (`slow_step` calls `asyncio.create_task` inside `try/except Exception`: in a \
             worker thread there is no running event loop; the handler catches the \
             RuntimeError, so nothing crashes, but what it schedules silently never runs"
        ),
        "{report}"
    );

    // The safe run keeps the call on the loop; the unsafe one does what the note says.
    fix_write(dir.path(), &[]);
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(
        (code, after.as_str()),
        (Some(0), before.as_str()),
        "{stderr}"
    );
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(slow_step, i)"),
        "{fixed}"
    );
    let (code, after, _) = run_main(dir.path());
    assert_eq!((code, after.trim()), (Some(0), "0"));
}

/// `get_queue`: made in a worker thread, an `asyncio.Queue` raises RuntimeError only below
/// Python 3.10; from 3.10 it binds to the loop that first uses it.
const QUEUES: &str = r#"import asyncio
import os


class Queues:
    def __init__(self):
        self.queues = {}

    def get_queue(self, name):
        os.makedirs(name, exist_ok=True)
        if name not in self.queues:
            self.queues[name] = asyncio.Queue()
        return self.queues[name]


async def main():
    # Not the only task: another task has run (else nothing is moved).
    await asyncio.create_task(asyncio.sleep(0))
    queues = Queues()
    queue = queues.get_queue("q")
    await queue.put(1)
    print(await queue.get())


asyncio.run(main())
"#;

#[test]
fn an_asyncio_queue_made_in_moved_code_is_refused_only_below_python_3_10() {
    let dir = project(&[("main.py", QUEUES.as_bytes())]);
    let report = check(dir.path());
    assert!(
        report.contains(
            "no fix: `Queues.get_queue` makes `asyncio.Queue()` (bound to a loop when made \
             below Python 3.10): a worker thread has no event loop, so on those versions, which \
             the project does not rule out, it would raise RuntimeError"
        ),
        "{report}"
    );

    let pyproject = "[project]\nname = \"q\"\nrequires-python = \">=3.10\"\n\n[tool.unfreeze]\n";
    fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    let report = check(dir.path());
    assert!(
        report.contains("unsafe fix: Run it in a worker thread")
            && report.contains("`Queues.get_queue` changes `self.queues`"),
        "{report}"
    );
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(queues.get_queue, \"q\")"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!((code, after.trim()), (Some(0), "1"), "{stderr}");
}
