//! What UNF401's fix moves to a worker thread decides the fix, proven by running the programs
//! with CPython: a helper that serialises state its class's coroutines change is not moved by
//! a safe `fix --write` (its fix is unsafe, with the reason `check` shows); a helper that
//! calls `asyncio.create_task` in an `except` branch gets no fix even with `--unsafe-fixes`,
//! and the program still runs; a pure helper keeps its safe fix and its output.
//!
//! `UNFREEZE_SHARED_STATE_BIN` runs the tests against another build of unfreeze (to show
//! they fail on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_SHARED_STATE_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python; its exit code, stdout and stderr.
fn run_main(dir: &Path) -> (Option<i32>, String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    (output.code, output.stdout, output.stderr)
}

/// `unfreeze check --isolated --select UNF401 .`: its text output.
fn check(dir: &Path) -> String {
    let output = unfreeze(
        dir,
        &["check", "--isolated", "--no-cache", "--select", "UNF401"],
    )
    .arg(".")
    .output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

/// `unfreeze fix --isolated --write [extra] .` must succeed.
fn fix_write(dir: &Path, extra: &[&str]) {
    let output = unfreeze(dir, &["fix", "--isolated", "--no-cache", "--write"])
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

/// Handlers add jobs to `self.jobs` concurrently and save them all with `_save`, which
/// serialises `self.jobs` into a file in the working directory.
const JOBS: &str = r#"import asyncio
import json


class Jobs:
    def __init__(self, path):
        self.path = path
        self.jobs = {}

    def _save(self):
        with open(self.path, "w") as f:
            json.dump(self.jobs, f)

    async def add(self, i):
        await asyncio.sleep(0)
        self.jobs[f"job{i}"] = {"id": i, "payload": "x" * 100}
        self._save()


async def main():
    jobs = Jobs("jobs.json")
    await asyncio.gather(*(jobs.add(i) for i in range(200)))
    with open("jobs.json") as f:
        print(len(json.load(f)))


asyncio.run(main())
"#;

#[test]
fn a_helper_serialising_shared_state_is_not_moved_by_a_safe_fix() {
    let dir = project(&[("main.py", JOBS.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before.trim(), "200");

    // The finding stays, its fix unsafe, with what may happen.
    let report = check(dir.path());
    assert!(report.contains("UNF401 `self._save(...)`"), "{report}");
    assert!(
        report.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` \
             (`Jobs._save` reads `self.jobs` (`json.dump`) in a worker thread while \
             coroutines may change it: a concurrent change raises 'dictionary changed size \
             during iteration' or saves a mix; guard it with a lock or copy the state before \
             the hop)"
        ),
        "{report}"
    );

    // A safe fix leaves the call where it is, and the program as it was.
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("        self._save()\n"), "{fixed}");
    assert!(!fixed.contains("to_thread"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);
}

/// `save_config` reports a failed save with a task: in a worker thread, where UNF401's fix
/// would run it, `asyncio.create_task` raises "no running event loop". The save fails here
/// (its folder does not exist), so the `except` branch runs.
const CONFIG: &str = r#"import asyncio

REPORTS = []


async def report(path):
    print(f"could not save {path}")


def save_config(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError:
        REPORTS.append(asyncio.create_task(report(path)))


async def main():
    await asyncio.create_task(asyncio.sleep(0))
    save_config("missing/config.json", "{}")
    await asyncio.gather(*REPORTS)
    print("done")


asyncio.run(main())
"#;

#[test]
fn a_helper_calling_create_task_gets_no_fix_and_the_program_still_runs() {
    let dir = project(&[("main.py", CONFIG.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before, "could not save missing/config.json\ndone\n");

    let report = check(dir.path());
    assert!(report.contains("UNF401 `save_config(...)`"), "{report}");
    assert!(
        report.contains(
            "no fix: `save_config` calls `asyncio.create_task` (in an `except` branch): in a \
             worker thread there is no running event loop, it would raise RuntimeError"
        ),
        "{report}"
    );

    // Even the unsafe fixes leave the call on the event loop: the program runs as before.
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("    save_config(\"missing/config.json\", \"{}\")\n"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "the fixed program failed:\n{stderr}");
    assert!(!stderr.contains("RuntimeError"), "{stderr}");
    assert_eq!(after, before);
}

/// The same, one call and one module away: `save_config` calls `report_failure` in another
/// module, which makes the task. The helper's module has no blocking call of its own.
const NOTIFY: &str = r#"import asyncio

REPORTS = []


async def report(path):
    print(f"could not save {path}")


def report_failure(path):
    REPORTS.append(asyncio.create_task(report(path)))
"#;

const STORE: &str = r#"from app.notify import report_failure


def save_config(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError:
        report_failure(path)
"#;

const STORE_MAIN: &str = r#"import asyncio

from app.notify import REPORTS
from app.store import save_config


async def main():
    await asyncio.create_task(asyncio.sleep(0))
    save_config("missing/config.json", "{}")
    await asyncio.gather(*REPORTS)
    print("done")


asyncio.run(main())
"#;

#[test]
fn create_task_in_a_helper_of_another_module_gets_no_fix_either() {
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/notify.py", NOTIFY.as_bytes()),
        ("app/store.py", STORE.as_bytes()),
        ("main.py", STORE_MAIN.as_bytes()),
    ]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");

    let report = check(dir.path());
    assert!(
        report.contains(
            "no fix: `report_failure` (run by `save_config`) calls `asyncio.create_task`: in a \
             worker thread there is no running event loop, it would raise RuntimeError"
        ),
        "{report}"
    );
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "the fixed program failed:\n{stderr}");
    assert_eq!(after, before);
}

/// A pure helper: it reads the file it is given and returns its contents.
const PURE: &str = r#"import asyncio
import sys


def read_text(path):
    with open(path) as f:
        return f.read()


async def main():
    # Another task runs meanwhile (in a single-task script nothing is moved, and after a
    # gather has returned the loop is alone again).
    ticker = asyncio.create_task(asyncio.sleep(0))
    print(read_text(sys.argv[0]).count("def "))
    await ticker


asyncio.run(main())
"#;

#[test]
fn a_pure_helper_keeps_its_safe_fix_and_its_output() {
    let dir = project(&[("main.py", PURE.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");

    let report = check(dir.path());
    assert!(
        report.contains("= fix: Run it in a worker thread: `await asyncio.to_thread(...)`\n"),
        "{report}"
    );
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(read_text, sys.argv[0])"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);
}

/// The `with open(...)` block moves (ASYNC230's offload-block fix): a block that serialises
/// `self.jobs` is not moved by a safe fix; one that makes a task is not moved at all.
const BLOCKS: &str = r#"import asyncio
import json

REPORTS = []


async def report(path):
    print(f"saved {path}")


class Jobs:
    def __init__(self):
        self.jobs = {}

    async def add(self, i):
        await asyncio.sleep(0)
        self.jobs[f"job{i}"] = i
        with open("jobs.json", "w") as f:
            json.dump(self.jobs, f)

    async def save_and_report(self, path):
        with open(path, "w") as f:
            f.write("{}")
            REPORTS.append(asyncio.create_task(report(path)))


async def main():
    jobs = Jobs()
    await asyncio.gather(*(jobs.add(i) for i in range(50)))
    await jobs.save_and_report("other.json")
    await asyncio.gather(*REPORTS)
    with open("jobs.json") as f:
        print(len(json.load(f)))


asyncio.run(main())
"#;

#[test]
fn moved_blocks_follow_the_same_rules() {
    let dir = project(&[("main.py", BLOCKS.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before, "saved other.json\n50\n");
    let output = unfreeze(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC230",
            ".",
        ],
    )
    .output();
    assert!(
        output.stdout.contains(
            "unsafe fix: Move the file's whole use to a worker thread: `await \
             asyncio.to_thread(...)` (the moved block reads `self.jobs` (`json.dump`) in a \
             worker thread while coroutines may change it"
        ),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains(
            "no fix: the moved block calls `asyncio.create_task`: in a worker thread there is \
             no running event loop, it would raise RuntimeError"
        ),
        "{}",
        output.stdout
    );
    // Safe fixes: neither block moves.
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(!fixed.contains("to_thread"), "{fixed}");
    // With the unsafe ones, the create_task block still stays on the event loop.
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("            REPORTS.append(asyncio.create_task(report(path)))\n"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "the fixed program failed:\n{stderr}");
    assert_eq!(after, before);
}
