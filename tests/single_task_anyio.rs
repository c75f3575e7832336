//! `anyio.run(main, *args)` and `trio.run(main, *args)` take the coroutine function and its
//! arguments (`function-entry-calls` in `[single-task]`), and make a new loop as
//! `asyncio.run(main(...))` does: the coroutine they run is single-task (issue 20, session 17;
//! reviewer L, nextcloud-mcp-server scripts/chunk_density_sweep.py:180). A hop in it is not
//! offered, and says why; with a task started first the hop stays, and the rewritten program
//! runs with the test Python (anyio is installed there; trio is not, so trio is checked by
//! its verdict only).

mod common;

use common::{project, python, test_python, unfreeze_in};

const REASON: &str = "no fix: `input()` in a script where nothing else runs on the event loop";

/// `check`, then `fix --write --unsafe-fixes` (`input()`'s fix is unsafe: Ctrl+C) on
/// `app.py`: (check's output, the file after the fix, the project dir).
fn check_and_fix(source: &str) -> (String, String, tempfile::TempDir) {
    let dir = project(&[("app.py", source.as_bytes())]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "app.py"]);
    assert!(check.stdout.contains("ASYNC250"), "{}", check.show());
    unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "app.py",
        ],
    );
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    (check.stdout, fixed, dir)
}

const ALONE: &str = "import anyio\n\n\nasync def main(n):\n    name = input()\n    \
                     await anyio.sleep(0)\n    print(n, name)\n\n\nanyio.run(main, 3)\n";

#[test]
fn anyio_run_of_the_function_runs_it_alone_no_hop() {
    let (check, fixed, _dir) = check_and_fix(ALONE);
    assert!(check.contains(REASON), "{check}");
    assert_eq!(fixed, ALONE, "the call stays where it is");
}

#[test]
fn trio_run_and_keyword_backend_are_entries_too() {
    let trio = ALONE
        .replace("import anyio", "import trio")
        .replace("anyio.sleep", "trio.sleep")
        .replace("anyio.run(main, 3)", "trio.run(main, 3)");
    let (check, fixed, _dir) = check_and_fix(&trio);
    assert!(check.contains(REASON), "{check}");
    assert_eq!(fixed, trio);
    let backend = ALONE.replace(
        "anyio.run(main, 3)",
        "anyio.run(main, 3, backend=\"asyncio\")",
    );
    let (check, _, _dir) = check_and_fix(&backend);
    assert!(check.contains(REASON), "{check}");
}

/// `main` starts a task in a task group before the prompt: the hop stays, and the program
/// runs: the ticker goes on while the worker thread reads the line.
const BESIDE_A_TASK: &str = "import anyio\n\n\nasync def tick():\n    \
                             await anyio.sleep(0)\n    print('tick')\n\n\n\
                             async def main(n):\n    \
                             async with anyio.create_task_group() as tg:\n        \
                             tg.start_soon(tick)\n        name = input()\n    \
                             print(n, name)\n\n\nanyio.run(main, 3)\n";

#[test]
fn anyio_run_of_a_function_that_starts_a_task_first_keeps_the_hop_and_runs() {
    let (check, fixed, dir) = check_and_fix(BESIDE_A_TASK);
    assert!(!check.contains("no fix"), "{check}");
    assert!(fixed.contains("to_thread.run_sync(input"), "{fixed}");
    let ran = python(&test_python())
        .current_dir(dir.path())
        .arg("app.py")
        .stdin("bob\n")
        .output();
    assert_eq!(ran.code, Some(0), "{}\n{fixed}", ran.stderr);
    assert_eq!(ran.stdout.trim(), "tick\n3 bob", "{fixed}");
}

/// A function passed somewhere else too (a task group) is not alone: its hop stays.
#[test]
fn a_function_also_started_as_a_task_is_not_alone() {
    let source = ALONE.replace(
        "anyio.run(main, 3)",
        "async def both():\n    async with anyio.create_task_group() as tg:\n        \
         tg.start_soon(main, 1)\n\n\nanyio.run(both)",
    );
    let (check, _, _dir) = check_and_fix(&source);
    assert!(!check.contains("no fix"), "{check}");
}

/// The entry coroutine in another module: `run.py` does `anyio.run(main, "data.txt")` with
/// `main` imported from `app/core.py` (project/entered.rs): the offload there goes.
#[test]
fn imported_function_run_by_anyio_runs_alone_no_hop() {
    let core = "import anyio\n\n\nasync def main(path):\n    data = open(path).read()\n    \
                await anyio.sleep(0.01)\n    print(len(data))\n";
    let run = "import anyio\n\nfrom app.core import main\n\n\
               if __name__ == \"__main__\":\n    anyio.run(main, \"data.txt\")\n";
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/core.py", core.as_bytes()),
        ("run.py", run.as_bytes()),
        ("data.txt", b"hello"),
    ]);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("app/core.py:5:"))
        .unwrap_or_else(|| panic!("no finding at app/core.py:5 in\n{}", out.stdout));
    assert!(
        !line.contains("[*]"),
        "alone: no hop offered\n{}",
        out.stdout
    );
}

/// anyio's pytest plugin (anyio 4) runs every `async def test_*` without a mark under
/// `anyio_mode = "auto"`, as pytest-asyncio does under `asyncio_mode = "auto"`: the test body
/// is alone before it starts work (reviewer L: nextcloud-mcp-server's suite is configured so,
/// with an `anyio_backend` fixture in its conftest).
#[test]
fn anyio_auto_mode_runs_unmarked_async_tests_alone() {
    let test = "import subprocess\n\n\nasync def test_one():\n    \
                subprocess.run([\"true\"])\n";
    let check = |pyproject: &str| {
        let dir = project(&[
            ("pyproject.toml", pyproject.as_bytes()),
            ("tests/test_x.py", test.as_bytes()),
        ]);
        unfreeze_in(dir.path(), &["check", "--no-cache", "."]).stdout
    };
    let auto = check("[tool.pytest.ini_options]\nanyio_mode = \"auto\"\n");
    assert!(
        auto.contains("no fix: the body of test `test_one`"),
        "{auto}"
    );
    let strict = check("[tool.pytest.ini_options]\nanyio_mode = \"strict\"\n");
    assert!(!strict.contains("no fix"), "{strict}");
}
