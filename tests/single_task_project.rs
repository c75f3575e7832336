//! Single-task programs recognized across the project's modules: a script whose
//! `asyncio.run(main())` runs coroutines and helpers of other modules that start no concurrent
//! work gets no thread offload of `input()` (the rewritten program is the program), while the
//! same program with a task started in another module, however deep, keeps its offload and
//! still runs.

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

/// The script: its helpers, a class and an awaited coroutine all live in `pkg`.
const CLI: &str = "import asyncio\n\nfrom pkg.config import load_config\nfrom pkg.store import Store\n\
                   from pkg.work import greet\n\n\nasync def main():\n    config = load_config()\n    \
                   store = Store(config['name'])\n    await greet(store)\n    \
                   name = input('name: ')\n    await greet(store, name)\n    \
                   print('greeted', store.count)\n\n\nif __name__ == '__main__':\n    \
                   asyncio.run(main())\n";

const CONFIG: &str = "import os\n\n\ndef load_config():\n    \
                      return {'name': os.environ.get('STORE_NAME', 'store')}\n";

const STORE: &str = "class Store:\n    def __init__(self, name):\n        self.name = name\n        \
                     self.count = 0\n";

/// `greet` awaits a coroutine of a third module, which awaits only `asyncio.sleep`.
const WORK: &str = "from pkg.pause import pause\n\n\nasync def greet(store, name='world'):\n    \
                    await pause()\n    store.count += 1\n    print('hello', name)\n";

const PAUSE: &str = "import asyncio\n\n\nasync def pause():\n    await asyncio.sleep(0)\n";

/// A task started, as the brief's test programs do: `asyncio.create_task(asyncio.sleep(0))`.
const STARTS_A_TASK: &str = "asyncio.create_task(asyncio.sleep(0))";

/// The project with `pause` and `Store.__init__` as given.
fn files<'a>(pause: &'a str, store: &'a str) -> Vec<(&'static str, &'a [u8])> {
    vec![
        ("cli.py", CLI.as_bytes()),
        ("pkg/__init__.py", b""),
        ("pkg/config.py", CONFIG.as_bytes()),
        ("pkg/store.py", store.as_bytes()),
        ("pkg/work.py", WORK.as_bytes()),
        ("pkg/pause.py", pause.as_bytes()),
    ]
}

/// `check`, then `fix --write --unsafe-fixes` on the whole project: (check's output, the
/// script after the fix, the whole fix's output).
fn check_and_fix(files: &[(&str, &[u8])]) -> (String, String, tempfile::TempDir) {
    let dir = project(files);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check.stdout.contains("cli.py:12:12: ASYNC250"),
        "{}",
        check.show()
    );
    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            ".",
        ],
    );
    assert!(
        fix.stderr.is_empty() || fix.code.is_some(),
        "{}",
        fix.show()
    );
    let script = std::fs::read_to_string(dir.path().join("cli.py")).unwrap();
    (check.stdout, script, dir)
}

/// Run the script with a name on stdin: its stdout.
fn run(dir: &std::path::Path) -> String {
    let out = python(&test_python())
        .current_dir(dir)
        .arg("cli.py")
        .stdin("Ada\n")
        .deadline(Duration::from_secs(30))
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    out.stdout
}

#[test]
fn a_cli_whose_main_awaits_quiet_code_of_other_modules_gets_no_offload() {
    let (check, script, dir) = check_and_fix(&files(PAUSE, STORE));
    assert!(
        check.contains("no fix: `input()` in a script where nothing else runs on the event loop"),
        "{check}"
    );
    assert_eq!(script, CLI, "the rewritten program is the program");
    assert_eq!(
        run(dir.path()),
        "hello world\nname: hello Ada\ngreeted 2\n",
        "it still runs as it did"
    );
}

#[test]
fn a_task_started_two_modules_down_keeps_the_offload() {
    let pause = PAUSE.replace("await asyncio.sleep(0)", STARTS_A_TASK);
    let (check, script, dir) = check_and_fix(&files(&pause, STORE));
    assert!(!check.contains("no fix: `input()`"), "{check}");
    assert!(
        script.contains("name = await asyncio.to_thread(input, 'name: ')"),
        "{script}"
    );
    // The moved prompt still reads the line, next to the task.
    assert!(run(dir.path()).ends_with("hello Ada\ngreeted 2\n"));
}

#[test]
fn a_task_started_by_a_constructor_of_another_module_keeps_the_offload() {
    // `Store(...)` runs its `__init__`, which starts a task on the running loop.
    let store = format!(
        "import asyncio\n\n\n{}",
        STORE.replace(
            "        self.count = 0\n",
            &format!("        self.count = 0\n        self.ticker = {STARTS_A_TASK}\n"),
        )
    );
    let (check, script, dir) = check_and_fix(&files(PAUSE, &store));
    assert!(!check.contains("no fix: `input()`"), "{check}");
    assert!(
        script.contains("name = await asyncio.to_thread(input, 'name: ')"),
        "{script}"
    );
    assert!(run(dir.path()).ends_with("hello Ada\ngreeted 2\n"));
}

#[test]
fn the_hops_a_fix_adds_in_other_modules_keep_the_script_single_task() {
    // `greet` writes a log file: its fix moves the `with` block to a worker thread, and the
    // next run must still see a script where nothing else runs on the loop.
    let work = WORK.replace(
        "    store.count += 1\n",
        "    store.count += 1\n    with open('greeted.log', 'a') as log:\n        \
         log.write(name + '\\n')\n",
    );
    let mut files = files(PAUSE, STORE);
    files[4].1 = work.as_bytes();
    let (_, script, dir) = check_and_fix(&files);
    assert_eq!(script, CLI);
    let work = std::fs::read_to_string(dir.path().join("pkg/work.py")).unwrap();
    assert!(work.contains("await asyncio.to_thread("), "{work}");
    let again = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        again
            .stdout
            .contains("no fix: `input()` in a script where nothing else runs on the event loop"),
        "{}",
        again.show()
    );
    assert_eq!(run(dir.path()), "hello world\nname: hello Ada\ngreeted 2\n");
    let log = std::fs::read_to_string(dir.path().join("greeted.log")).unwrap();
    assert_eq!(log, "world\nAda\n");
}
