//! The proof that the rewrites keep a program's behaviour and unblock its event loop
//! (ASYNC251's `await asyncio.sleep`, and the to-thread fixes of ASYNC221/240/250):
//! a small asyncio program is run with CPython before and after `unfreeze fix --write`; its
//! output must be identical, while its wall time and its heartbeat's worst loop lag must drop
//! (the blocking sleeps serialise the workers; the awaited ones overlap).
//!
//! Needs Python 3 (`UNFREEZE_TEST_PYTHON`, default `python3`); fails, rather than skips,
//! without it.

mod common;

use std::fs;

use common::{measure, stdlib_python, unfreeze};

/// Five workers that each wait 0.3 s, through two import styles of `time.sleep`, gathered
/// concurrently; a heartbeat task records how late its 10 ms wake-ups are.
const PROGRAM: &str = r#""""Five workers that each do some work and wait 0.3 s, run concurrently."""
import asyncio
import sys
import time
from time import sleep as pause

DELAY = 0.3
results = []


async def heartbeat(stop, lags):
    # Ask to wake up every 10 ms and record how late each wake-up is.
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - before - 0.01)


async def square(n):
    await asyncio.sleep(0)
    value = sum(n for _ in range(n))
    time.sleep(DELAY)
    results.append(("square", n, value))


async def cube(n):
    await asyncio.sleep(0)
    value = n * n * n
    pause(DELAY)
    results.append(("cube", n, value))


async def main():
    stop = asyncio.Event()
    lags = []
    beat = asyncio.create_task(heartbeat(stop, lags))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    await asyncio.gather(square(1), cube(2), square(3), cube(4), square(5))
    elapsed = time.perf_counter() - start
    stop.set()
    await beat
    for kind, n, value in sorted(results):
        print(f"{kind}({n}) = {value}")
    print(f"elapsed={elapsed:.3f}", file=sys.stderr)
    print(f"max_lag={max(lags):.3f}", file=sys.stderr)


asyncio.run(main())
"#;

const EXPECTED_STDOUT: &str = "\
cube(2) = 8
cube(4) = 64
square(1) = 1
square(3) = 9
square(5) = 25
";

#[test]
fn fixed_program_prints_the_same_output_and_no_longer_blocks_the_event_loop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workers.py");
    fs::write(&path, PROGRAM).unwrap();

    let before = measure(&stdlib_python(), &path, "");
    assert_eq!(
        before.stdout, EXPECTED_STDOUT,
        "the original program's output"
    );
    assert!(
        before.elapsed >= 1.2,
        "the original's blocking sleeps should serialise the workers (5 x 0.3 s), took {:.3} s",
        before.elapsed
    );
    assert!(
        before.max_lag >= 0.25,
        "the original should starve the heartbeat, max lag {:.3} s",
        before.max_lag
    );

    let fix = unfreeze(dir.path(), &["fix", "--write", "workers.py"])
        .env_remove("NO_COLOR")
        .lossy()
        .output();
    assert_eq!(
        fix.code,
        Some(0),
        "`unfreeze fix --write` should fix everything:\n{}",
        fix.show()
    );

    let fixed = fs::read_to_string(&path).unwrap();
    assert_ne!(fixed, PROGRAM, "the file was not rewritten");
    assert_eq!(
        fixed.matches("await asyncio.sleep(DELAY)").count(),
        2,
        "both import styles should be rewritten:\n{fixed}"
    );
    assert!(
        !fixed.contains("time.sleep("),
        "a blocking sleep is left:\n{fixed}"
    );
    assert!(
        !fixed.contains("pause("),
        "a blocking sleep is left:\n{fixed}"
    );

    let after = measure(&stdlib_python(), &path, "");
    assert_eq!(
        after.stdout, before.stdout,
        "the rewritten program must print the same output\nrewritten file:\n{fixed}"
    );
    // Bounds relative to the original run as well, so that a loaded machine slows both alike.
    assert!(
        after.elapsed < 0.9_f64.max(before.elapsed / 2.0),
        "the rewritten workers should overlap (~0.3 s), took {:.3} s (original {:.3} s)",
        after.elapsed,
        before.elapsed
    );
    assert!(
        after.max_lag < 0.25 && after.max_lag < before.max_lag / 5.0,
        "the rewritten program should keep the heartbeat on time, max lag {:.3} s (original {:.3} s)",
        after.max_lag,
        before.max_lag
    );
}

/// Five workers that each run a 0.3 s subprocess, check files through `os.path` and
/// `pathlib`, and handle a failing subprocess's exception; the program also reads its name
/// from stdin. Every blocking call has a to-thread fix.
const THREAD_PROGRAM: &str = r#""""Workers that run subprocesses and look at files."""
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

SLOW = [sys.executable, "-c", "import time, sys; time.sleep(0.3); print(sys.argv[1])"]
results = []


async def heartbeat(stop, lags):
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - before - 0.01)


async def worker(n, folder: Path):
    echoed = subprocess.run(SLOW + [f"job-{n}"], capture_output=True, text=True).stdout.strip()
    marker = folder / f"{n}.txt"
    marker.write_text(f"payload {n * n}")
    found = os.path.exists(marker) and marker.is_file()
    body = Path(marker).read_text()
    try:
        subprocess.run([sys.executable, "-c", f"raise SystemExit({n})"], check=True)
        failed = None
    except subprocess.CalledProcessError as error:
        failed = error.returncode
    with subprocess.Popen(SLOW + [f"popen-{n}"], stdout=subprocess.PIPE, text=True) as proc:
        piped = proc.stdout.read().strip()
    notes = folder / f"{n}.notes"
    with open(notes, "w", encoding="utf-8") as fh:
        fh.write(f"note {n}\n")
    with open(notes, encoding="utf-8") as fh:
        first_line = fh.readline().strip()
    size = len(open(notes).read())
    results.append((n, echoed, found, body, failed, piped, first_line, size))


async def main():
    stop = asyncio.Event()
    lags = []
    beat = asyncio.create_task(heartbeat(stop, lags))
    await asyncio.sleep(0.05)
    # After the heartbeat started: before it, nothing else would run (no fix there).
    name = input().strip()
    folder = Path("work")
    folder.mkdir(exist_ok=True)
    start = time.perf_counter()
    await asyncio.gather(*(worker(n, folder) for n in range(1, 6)))
    elapsed = time.perf_counter() - start
    stop.set()
    await beat
    print(f"hello {name}")
    for row in sorted(results):
        print(row)
    print(f"elapsed={elapsed:.3f}", file=sys.stderr)
    print(f"max_lag={max(lags):.3f}", file=sys.stderr)


asyncio.run(main())
"#;

#[test]
fn to_thread_fixes_keep_results_and_exceptions_and_unblock_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.py");
    fs::write(&path, THREAD_PROGRAM).unwrap();

    let before = measure(&stdlib_python(), &path, "alice\n");
    assert!(
        before.stdout.starts_with("hello alice\n"),
        "{}",
        before.stdout
    );
    assert!(
        before
            .stdout
            .contains("(3, 'job-3', True, 'payload 9', 3, 'popen-3', 'note 3', 7)"),
        "{}",
        before.stdout
    );
    assert!(
        before.elapsed >= 2.5,
        "the subprocesses should serialise: {:.3} s",
        before.elapsed
    );
    assert!(
        before.max_lag >= 0.25,
        "the heartbeat should starve: {:.3} s",
        before.max_lag
    );

    // `input()` in a worker thread changes what Ctrl+C does: its fix is unsafe (stated), and
    // this program reads a piped line, which it keeps doing.
    let fix = unfreeze(
        dir.path(),
        &["fix", "--write", "--unsafe-fixes", "--isolated", "jobs.py"],
    )
    .lossy()
    .output();
    assert_eq!(
        fix.code,
        Some(0),
        "everything should be fixed:\n{}",
        fix.show()
    );
    let fixed = fs::read_to_string(&path).unwrap();
    for expected in [
        "name = (await asyncio.to_thread(input)).strip()",
        "(await asyncio.to_thread(subprocess.run, SLOW + [f\"job-{n}\"], capture_output=True, text=True)).stdout.strip()",
        "await asyncio.to_thread(marker.write_text, f\"payload {n * n}\")",
        // Two hops on one line are one (issue 20: the old two-hop line was the bug).
        "found = await asyncio.to_thread(lambda: os.path.exists(marker) and marker.is_file())",
        "await asyncio.to_thread(Path(marker).read_text)",
        "await asyncio.to_thread(folder.mkdir, exist_ok=True)",
        // `with` blocks move to the thread as a whole, returning what the coroutine reads,
        // in functions named for what they do (issue 20: no more `_worker_sync_2`).
        "    def _read_piped():\n        with subprocess.Popen(",
        "    piped = await asyncio.to_thread(_read_piped)",
        "    def _write_notes():\n        with open(notes, \"w\", encoding=\"utf-8\") as fh:",
        "    first_line = await asyncio.to_thread(_read_first_line)",
        "size = len(await asyncio.to_thread(lambda: open(notes).read()))",
    ] {
        assert!(
            fixed.contains(expected),
            "missing `{expected}` in:\n{fixed}"
        );
    }

    fs::remove_dir_all(dir.path().join("work")).unwrap();
    let after = measure(&stdlib_python(), &path, "alice\n");
    assert_eq!(
        after.stdout, before.stdout,
        "the rewritten program must print the same:\n{fixed}"
    );
    assert!(
        after.elapsed < before.elapsed / 2.0,
        "the subprocesses should now overlap: {:.3} s (original {:.3} s)",
        after.elapsed,
        before.elapsed
    );
    assert!(
        after.max_lag < 0.25 && after.max_lag < before.max_lag / 5.0,
        "the heartbeat should stay on time: {:.3} s (original {:.3} s)",
        after.max_lag,
        before.max_lag
    );
}

const UNAWAITED_PROGRAM: &str = r#""""An audit record that is never saved: the coroutine is never awaited."""
import asyncio
import warnings

warnings.simplefilter("ignore")  # the "never awaited" RuntimeWarning of the original
saved = []


async def save_audit(entry):
    await asyncio.sleep(0)
    saved.append(entry)


async def handle(path):
    save_audit({"path": path})
    return "ok"


print(asyncio.run(handle("/orders")), saved)
"#;

#[test]
fn awaiting_an_unawaited_coroutine_makes_its_work_happen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.py");
    fs::write(&path, UNAWAITED_PROGRAM).unwrap();
    let run = || {
        let output = common::python(&stdlib_python()).arg(&path).output();
        assert_eq!(output.code, Some(0), "{}", output.show());
        output.stdout
    };
    assert_eq!(run(), "ok []\n", "the original never saves");
    let fix = unfreeze(
        dir.path(),
        &["fix", "--write", "--unsafe-fixes", "--isolated", "audit.py"],
    )
    .lossy()
    .output();
    assert_eq!(fix.code, Some(0), "{}", fix.stdout);
    assert_eq!(
        run(),
        "ok [{'path': '/orders'}]\n",
        "the fixed program saves the record"
    );
}
