//! What a moved function's own module helpers do decides UNF401's fix, even when nothing in
//! the helper is a call the lexical pre-pass looks for (its body is parsed because a function
//! that blocks calls it), and a change made under a thread lock is guarded. Proven by running
//! the programs with CPython.

mod common;

use std::path::Path;

use common::{project, python, test_python, unfreeze_in};

fn run_main(dir: &Path) -> (Option<i32>, String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    (output.code, output.stdout, output.stderr)
}

fn check(dir: &Path) -> String {
    let output = unfreeze_in(
        dir,
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "UNF401",
            ".",
        ],
    );
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

fn fix_write(dir: &Path) {
    let output = unfreeze_in(dir, &["fix", "--isolated", "--no-cache", "--write", "."]);
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
}

/// `get_tools` blocks; on an error it reports through `_report`, which schedules a task on
/// the running loop (as RUF006's fix leaves it: `task = asyncio.create_task(...)`). Nothing in
/// `_report` blocks, so the pre-pass used to leave its body out of the parse.
const TOOLS: &str = r#"import asyncio
import os

_tasks = set()


async def log(e):
    print("reported", type(e).__name__)


def _report(e):
    task = asyncio.create_task(log(e))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def get_tools(d):
    try:
        return sorted(os.listdir(d))
    except OSError as e:
        _report(e)
        return []
"#;

const MAIN: &str = r#"import asyncio
from tools import get_tools


async def main():
    # Not the only task: another task has run (else nothing is moved).
    await asyncio.create_task(asyncio.sleep(0))
    print(get_tools("missing-dir"))
    await asyncio.sleep(0.05)


asyncio.run(main())
"#;

#[test]
fn a_helper_that_schedules_a_task_keeps_the_blocking_function_on_the_loop() {
    let dir = project(&[("tools.py", TOOLS.as_bytes()), ("main.py", MAIN.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before, "[]\nreported FileNotFoundError\n");
    let findings = check(dir.path());
    assert!(
        findings.contains("no fix: `_report` (run by `get_tools`) calls `asyncio.create_task`"),
        "{findings}"
    );
    fix_write(dir.path());
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before, "{stderr}");
}

/// `Service._count` changes `self.count`, under `with self._lock:` (a `threading.Lock`):
/// `listing`, which blocks and calls it, may move to a worker thread, safely.
const LOCKED: &str = r#"import asyncio
import os
import threading


class Service:
    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def _count(self):
        with self._lock:
            self.count += 1

    def listing(self, d):
        self._count()
        return sorted(os.listdir(d))

    async def handle(self, d):
        return self.listing(d)


async def main():
    service = Service()
    results = await asyncio.gather(*(service.handle(".") for _ in range(20)))
    print(len(results), service.count)


asyncio.run(main())
"#;

#[test]
fn a_change_under_a_thread_lock_keeps_the_fix_safe() {
    let dir = project(&[("main.py", LOCKED.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    let findings = check(dir.path());
    assert!(
        findings.contains("UNF401 [*] `self.listing(...)`"),
        "{findings}"
    );
    fix_write(dir.path());
    let fixed = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("return await asyncio.to_thread(self.listing, d)"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(after, before);
    assert_eq!(after, "20 20\n");
}

/// The same change without the lock makes the fix unsafe, with the reason.
#[test]
fn the_same_change_without_a_lock_is_unsafe() {
    let unlocked = LOCKED.replace(
        "        with self._lock:\n            self.count += 1",
        "        self.count += 1",
    );
    let dir = project(&[("main.py", unlocked.as_bytes())]);
    let findings = check(dir.path());
    assert!(
        findings.contains("`Service._count` (run by `Service.listing`) changes `self.count`"),
        "{findings}"
    );
}

/// Fifty tasks add a file's size to `self.total`: on the loop each `+=` is atomic.
const TOTALS: &str = r#"import asyncio
import os


class Sizes:
    def __init__(self):
        self.total = 0

    async def add(self, path):
        self.total += os.path.getsize(path)


async def main():
    sizes = Sizes()
    await asyncio.gather(*(sizes.add("main.py") for _ in range(50)))
    print(sizes.total == 50 * os.path.getsize("main.py"))


asyncio.run(main())
"#;

/// The new `await` would split `self.total += ...` into a read before and a store after it:
/// the fix is unsafe, with the reason; `fix --write` leaves it, and the unsafe fix, applied,
/// shows the lost updates it was labelled for.
#[test]
fn an_await_inside_a_read_modify_write_of_shared_state_is_unsafe() {
    let dir = project(&[("main.py", TOTALS.as_bytes())]);
    assert_eq!(run_main(dir.path()).1, "True\n");
    let output = unfreeze_in(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC240",
            ".",
        ],
    );
    assert!(
        output.stdout.contains(
            "`self.total += ...` reads `self.total` before the new `await` and stores after it"
        ),
        "{}",
        output.show()
    );
    fix_write(dir.path());
    assert_eq!(run_main(dir.path()).1, "True\n");
    let unsafe_write = unfreeze_in(
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
        matches!(unsafe_write.code, Some(0 | 1)),
        "{}",
        unsafe_write.show()
    );
    let fixed = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("self.total += await asyncio.to_thread(os.path.getsize, path)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()).1, "False\n");
}

/// A coroutine that swaps `sys.stdout` for a buffer while it runs user code: a new `await`
/// between the swap and the restore lets other coroutines print into the buffer.
const SWAPPED: &str = r#"import asyncio
import io
import os
import sys


async def run_code(path):
    buffer = io.StringIO()
    original = sys.stdout
    sys.stdout = buffer
    try:
        print("captured")
        size = os.path.getsize(path)
    finally:
        sys.stdout = original
    return buffer.getvalue(), size


async def chatter():
    for _ in range(20):
        print("other task")
        await asyncio.sleep(0)


async def main():
    (captured, size), _ = await asyncio.gather(run_code("main.py"), chatter())
    print(repr(captured), size > 0)


asyncio.run(main())
"#;

#[test]
fn an_await_while_stdout_is_swapped_is_unsafe() {
    let dir = project(&[("main.py", SWAPPED.as_bytes())]);
    let (_, before, _) = run_main(dir.path());
    assert!(before.ends_with("'captured\\n' True\n"), "{before}");
    let output = unfreeze_in(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC240",
            ".",
        ],
    );
    assert!(
        output.stdout.contains(
            "the coroutine swaps `sys.stdout` on line 10 and restores it after this call"
        ),
        "{}",
        output.show()
    );
    fix_write(dir.path());
    let (_, after, _) = run_main(dir.path());
    assert_eq!(after, before);
}
