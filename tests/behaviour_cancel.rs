//! The proof that a fix adding an `await` inside a `try` keeps the task's cancellation working
//! (issue 20, item 3): a coroutine whose blocking call sits in `try: ... except: pass` (and the
//! `except BaseException`, `except Exception`, nested and offloaded variants) is awaited under
//! `asyncio.timeout(0.1)`. Before the fix the blocking call cannot be interrupted; a fix that
//! only added the `await` would let the handler swallow the cancellation, so the timeout would
//! never reach the caller. After `unfreeze fix --write` the caller gets `TimeoutError` well
//! before the 0.5 s the call takes, and without a timeout the program prints what it printed.
//!
//! Needs Python 3.11+ (`asyncio.timeout`) through `common::test_python()`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{project, test_python, unfreeze_in};

/// Each coroutine takes 0.5 s in a `try` whose handler would catch a cancellation; `main` runs
/// each once without a deadline (its result) and once under `asyncio.timeout(0.1)` (what the
/// caller sees, and after how long).
const PROGRAM: &str = r#"import asyncio
import subprocess
import sys
import time

SLOW = 0.5


async def bare():
    try:
        time.sleep(SLOW)
        result = "slept"
    except:
        result = "swallowed"
    return result


async def base_exception():
    try:
        time.sleep(SLOW)
        result = "slept"
    except ValueError:
        result = "value error"
    except BaseException as error:
        result = f"swallowed {type(error).__name__}"
    return result


async def exception():
    try:
        time.sleep(SLOW)
        result = "slept"
    except Exception:
        result = "swallowed"
    return result


async def nested():
    result = "start"
    try:
        for attempt in range(1):
            try:
                subprocess.run([sys.executable, "-c", f"import time; time.sleep({SLOW})"])
                result = "ran"
            except (OSError, BaseException):
                result = "inner swallowed"
    except:
        result = "outer swallowed"
    return result


async def main():
    for work in (bare, base_exception, exception, nested):
        print(work.__name__, "without a deadline:", await work())
        start = time.perf_counter()
        try:
            async with asyncio.timeout(0.1):
                outcome = f"returned {await work()!r}"
        except TimeoutError:
            outcome = "TimeoutError"
        elapsed = time.perf_counter() - start
        print(work.__name__, "under timeout(0.1):", outcome)
        print(f"{work.__name__} elapsed={elapsed:.3f}", file=sys.stderr)


asyncio.run(main())
"#;

const NAMES: [&str; 4] = ["bare", "base_exception", "exception", "nested"];

struct Run {
    stdout: String,
    /// Per coroutine, how long the caller waited under the timeout.
    elapsed: Vec<f64>,
}

fn run_program(path: &Path) -> Run {
    let python = test_python();
    let output = Command::new(&python)
        .arg(path)
        .current_dir(path.parent().unwrap())
        .output()
        .unwrap_or_else(|err| panic!("could not run `{python}`: {err}"));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "`{python} {}` failed:\n{stdout}\n{stderr}",
        path.display()
    );
    let elapsed = NAMES
        .iter()
        .map(|name| {
            stderr
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} elapsed=")))
                .unwrap_or_else(|| panic!("no elapsed for {name}:\n{stderr}"))
                .parse()
                .unwrap()
        })
        .collect();
    Run { stdout, elapsed }
}

/// The lines of `stdout` about `name` run under the timeout.
fn under_timeout<'s>(stdout: &'s str, name: &str) -> &'s str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} under timeout(0.1): ")))
        .unwrap_or_else(|| panic!("no timeout line for {name}:\n{stdout}"))
}

fn without_deadline(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.contains("without a deadline"))
        .collect()
}

/// The source of the function `name` in `text` (up to the next top-level definition).
fn function<'t>(text: &'t str, name: &str) -> &'t str {
    let start = text
        .find(&format!("async def {name}("))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"));
    let end = text[start + 1..]
        .find("\nasync def ")
        .map_or(text.len(), |e| start + 1 + e);
    &text[start..end]
}

#[test]
fn a_fix_inside_a_try_that_catches_base_exception_still_lets_asyncio_timeout_cancel() {
    let dir = project(&[("program.py", PROGRAM.as_bytes())]);
    let path = dir.path().join("program.py");

    let before = run_program(&path);
    // The blocking calls cannot be interrupted: every call runs its 0.5 s to the end.
    for name in NAMES {
        assert!(
            under_timeout(&before.stdout, name).starts_with("returned"),
            "{}",
            before.stdout
        );
    }

    let fixed = unfreeze_in(dir.path(), &["fix", "--write", "program.py"]);
    assert_eq!(fixed.code, Some(0), "{}", fixed.show());
    let text = fs::read_to_string(&path).unwrap();

    let after = run_program(&path);
    // Without a deadline, the same results.
    assert_eq!(
        without_deadline(&after.stdout),
        without_deadline(&before.stdout),
        "{text}"
    );
    // Under the deadline, the caller sees the timeout, long before the call would end.
    for (name, elapsed) in NAMES.iter().zip(&after.elapsed) {
        assert_eq!(
            under_timeout(&after.stdout, name),
            "TimeoutError",
            "{name} swallowed the cancellation:\n{}\n{text}",
            after.stdout
        );
        assert!(*elapsed < 0.35, "{name} took {elapsed:.3} s:\n{text}");
    }

    // The shape: one clause first in each try that would swallow the cancellation, none where
    // `except Exception` cannot catch it (a `BaseException` since Python 3.8).
    assert!(
        !text.contains("    time.sleep(") && !text.contains("    subprocess.run("),
        "{text}"
    );
    let clause = "except asyncio.CancelledError:\n";
    assert!(
        function(&text, "bare").contains(&format!(
            "        result = \"slept\"\n    {clause}        raise\n    except:\n"
        )),
        "{text}"
    );
    assert!(
        function(&text, "base_exception").contains(&format!(
            "        result = \"slept\"\n    {clause}        raise\n    except ValueError:\n"
        )),
        "{text}"
    );
    assert!(
        !function(&text, "exception").contains("CancelledError"),
        "{text}"
    );
    // Nested: both trys between the await and the function, each once.
    let nested = function(&text, "nested");
    assert_eq!(nested.matches(clause).count(), 2, "{text}");
    assert!(nested.contains(&format!("            {clause}                raise\n            except (OSError, BaseException):\n")), "{text}");
    assert!(
        nested.contains(&format!("    {clause}        raise\n    except:\n")),
        "{text}"
    );

    // A second run changes nothing.
    let again = unfreeze_in(dir.path(), &["fix", "--write", "program.py"]);
    assert_eq!(again.code, Some(0), "{}", again.show());
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

/// A handler that names the cancellation and does not re-raise is the user's own choice: the
/// fix would let it catch a cancellation that could not arrive there before, so it is unsafe,
/// with that difference stated, and `fix --write` leaves the code alone.
const EXPLICIT: &str = r#"import asyncio
import time


async def stop_quietly():
    try:
        time.sleep(0.5)
    except asyncio.CancelledError:
        return "cancelled"
    return "slept"


async def main():
    try:
        async with asyncio.timeout(0.1):
            print(await stop_quietly())
    except TimeoutError:
        print("TimeoutError")


asyncio.run(main())
"#;

#[test]
fn a_handler_catching_cancelled_error_without_raise_makes_the_fix_unsafe_with_the_difference_stated()
 {
    let dir = project(&[("explicit.py", EXPLICIT.as_bytes())]);
    let path = dir.path().join("explicit.py");
    let written = unfreeze_in(dir.path(), &["fix", "--write", "explicit.py"]);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        EXPLICIT,
        "{}",
        written.show()
    );
    assert!(
        written.stdout.contains("unsafe") || written.stderr.contains("unsafe"),
        "{}",
        written.show()
    );

    let shown = unfreeze_in(dir.path(), &["fix", "--unsafe-fixes", "explicit.py"]);
    let all = format!("{}{}", shown.stdout, shown.stderr);
    assert!(
        all.contains(
            "the `except` on line 8 catches the task's cancellation and does not re-raise it"
        ),
        "{}",
        shown.show()
    );
    // The unsafe fix adds no clause: the user's handler stays the one that runs.
    assert!(
        all.contains("+        await asyncio.sleep(0.5)"),
        "{}",
        shown.show()
    );
    assert!(
        !all.contains("+    except asyncio.CancelledError"),
        "{}",
        shown.show()
    );

    // As the caveat says: with the fix, the handler catches the timeout's cancellation.
    let applied = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--unsafe-fixes", "explicit.py"],
    );
    assert_eq!(applied.code, Some(0), "{}", applied.show());
    let output = Command::new(test_python())
        .arg(&path)
        .output()
        .expect("python runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "cancelled\n");
}
