//! The proof that the rewrites keep a program's behaviour and unblock its event loop
//! (ASYNC251's `await asyncio.sleep`, and the to-thread fixes of ASYNC221/240/250):
//! a small asyncio program is run with CPython before and after `unfreeze fix --write`; its
//! output must be identical, while its wall time and its heartbeat's worst loop lag must drop
//! (the blocking sleeps serialise the workers; the awaited ones overlap).
//!
//! Needs Python 3 (`UNFREEZE_TEST_PYTHON`, default `python3`); fails, rather than skips,
//! without it.

use std::fs;
use std::path::Path;
use std::process::Command;

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

struct Measured {
    stdout: String,
    elapsed: f64,
    max_lag: f64,
}

fn python() -> String {
    std::env::var("UNFREEZE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// `key=value` from the program's stderr.
fn stderr_value(stderr: &str, key: &str) -> f64 {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("the program printed no `{key}=` line; stderr:\n{stderr}"))
        .trim()
        .parse()
        .unwrap_or_else(|err| panic!("`{key}` is not a number ({err}); stderr:\n{stderr}"))
}

fn run_program(path: &Path) -> Measured {
    run_program_with_stdin(path, "")
}

fn run_program_with_stdin(path: &Path, stdin: &str) -> Measured {
    use std::io::Write;
    use std::process::Stdio;
    let python = python();
    let child = Command::new(&python)
        .arg(path)
        .current_dir(path.parent().expect("the program is in a directory"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(stdin.as_bytes())?;
            Ok(child)
        });
    let output = child
        .and_then(|child| child.wait_with_output())
        .unwrap_or_else(|err| {
            panic!(
                "could not run Python (`{python}`): {err}. This test needs Python 3: install \
                 python3 or point UNFREEZE_TEST_PYTHON at an interpreter."
            )
        });
    let stdout = String::from_utf8(output.stdout).expect("the program prints UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "`{python} {}` failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        path.display(),
        output.status
    );
    Measured {
        elapsed: stderr_value(&stderr, "elapsed"),
        max_lag: stderr_value(&stderr, "max_lag"),
        stdout,
    }
}

#[test]
fn fixed_program_prints_the_same_output_and_no_longer_blocks_the_event_loop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workers.py");
    fs::write(&path, PROGRAM).unwrap();

    let before = run_program(&path);
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

    let fix = Command::new(env!("CARGO_BIN_EXE_unfreeze"))
        .args(["fix", "--write", "workers.py"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .output()
        .expect("the unfreeze binary runs");
    let fix_stdout = String::from_utf8_lossy(&fix.stdout);
    let fix_stderr = String::from_utf8_lossy(&fix.stderr);
    assert_eq!(
        fix.status.code(),
        Some(0),
        "`unfreeze fix --write` should fix everything:\nstdout:\n{fix_stdout}\nstderr:\n{fix_stderr}"
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

    let after = run_program(&path);
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
    name = input().strip()
    folder = Path("work")
    folder.mkdir(exist_ok=True)
    stop = asyncio.Event()
    lags = []
    beat = asyncio.create_task(heartbeat(stop, lags))
    await asyncio.sleep(0.05)
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

    let before = run_program_with_stdin(&path, "alice\n");
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

    let fix = Command::new(env!("CARGO_BIN_EXE_unfreeze"))
        .args(["fix", "--write", "--isolated", "jobs.py"])
        .current_dir(dir.path())
        .output()
        .expect("the unfreeze binary runs");
    assert_eq!(
        fix.status.code(),
        Some(0),
        "everything should be fixed:\n{}{}",
        String::from_utf8_lossy(&fix.stdout),
        String::from_utf8_lossy(&fix.stderr)
    );
    let fixed = fs::read_to_string(&path).unwrap();
    for expected in [
        "name = (await asyncio.to_thread(input)).strip()",
        "(await asyncio.to_thread(subprocess.run, SLOW + [f\"job-{n}\"], capture_output=True, text=True)).stdout.strip()",
        "await asyncio.to_thread(marker.write_text, f\"payload {n * n}\")",
        "await asyncio.to_thread(os.path.exists, marker) and await asyncio.to_thread(marker.is_file)",
        "await asyncio.to_thread(Path(marker).read_text)",
        "await asyncio.to_thread(folder.mkdir, exist_ok=True)",
        // `with` blocks move to the thread as a whole, returning what the coroutine reads.
        "    def _worker_sync():\n        with subprocess.Popen(",
        "    piped = await asyncio.to_thread(_worker_sync)",
        "    def _worker_sync_2():\n        with open(notes, \"w\", encoding=\"utf-8\") as fh:",
        "    first_line = await asyncio.to_thread(_worker_sync_3)",
        "size = len(await asyncio.to_thread(lambda: open(notes).read()))",
    ] {
        assert!(
            fixed.contains(expected),
            "missing `{expected}` in:\n{fixed}"
        );
    }

    fs::remove_dir_all(dir.path().join("work")).unwrap();
    let after = run_program_with_stdin(&path, "alice\n");
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
        let output = Command::new(python())
            .arg(&path)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(run(), "ok []\n", "the original never saves");
    let fix = Command::new(env!("CARGO_BIN_EXE_unfreeze"))
        .args(["fix", "--write", "--unsafe-fixes", "--isolated", "audit.py"])
        .current_dir(dir.path())
        .output()
        .expect("the unfreeze binary runs");
    assert_eq!(
        fix.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fix.stdout)
    );
    assert_eq!(
        run(),
        "ok [{'path': '/orders'}]\n",
        "the fixed program saves the record"
    );
}
