//! The diff a reviewer would write (issue 20, item 5): a `with` block moved to a worker
//! thread becomes a function named for what it does (`_read_config`, `_write_state`,
//! `_write_state_2`), never `_<coroutine>_sync_2`; a module-level definition a fix adds lands
//! after the last top-level import, never between two import blocks; an import whose every
//! use a fix rewrote is removed, one that was unused already stays; continuation lines of a
//! rewritten call stay aligned under its arguments, and a line the rewrite takes over the
//! file's length breaks inside the new call. The rewritten programs run with the test Python
//! and print what the originals printed; a second run changes nothing.
//!
//! `UNFREEZE_LAYOUT_BIN` runs the tests against another build of unfreeze (to show they fail
//! on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Output, Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Output {
    let binary = std::env::var("UNFREEZE_LAYOUT_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_unfreeze").to_owned());
    Run::new(binary).current_dir(dir).args(args).output()
}

/// `fix --write` (with `extra`) on the project, then a second `fix` that must propose nothing.
fn fix_write_converged(dir: &Path, extra: &[&str]) {
    let mut args = vec!["fix", "--isolated", "--no-cache", "--write"];
    args.extend(extra);
    args.push(".");
    let output = unfreeze(dir, &args);
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let mut again = vec!["fix", "--isolated", "--no-cache"];
    again.extend(extra);
    again.push(".");
    let second = unfreeze(dir, &again);
    assert!(
        !second.stdout.contains("--- a/"),
        "a second run changes the file:\n{}",
        second.show()
    );
}

/// `python main.py` in `dir` with the test Python: it must exit 0; its stdout.
fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// The index of the first line of `text` that starts with `prefix` (after its indentation).
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|line| line.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

const BLOCKS: &str = r#"import asyncio
import json


async def sync_state(config_path, state_path):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    state = {"name": config["name"], "count": len(config["items"])}
    with open(state_path, "w", encoding="utf-8") as out:
        json.dump(state, out)
    state["count"] += 1
    with open(state_path, "w", encoding="utf-8") as out:
        json.dump(state, out)
    with open(state_path, encoding="utf-8") as f:
        return f.read()


async def main():
    # Another task runs: the script is not single-task, so its hops are worth a fix.
    other = asyncio.create_task(asyncio.sleep(0))
    with open("config.json", "w", encoding="utf-8") as f:
        json.dump({"name": "demo", "items": [1, 2, 3]}, f)
    print(await sync_state("config.json", "state.json"))


asyncio.run(main())
"#;

#[test]
fn moved_blocks_are_named_for_what_they_do_and_the_program_runs_the_same() {
    let dir = project(&[("main.py", BLOCKS.as_bytes())]);
    let before = run_main(dir.path());
    // `main` writes config.json, which `sync_state` reads through its parameter: the move of
    // that write is unsafe (a file the module reads and writes), so the names are checked on
    // the unsafe run, which moves every block.
    fix_write_converged(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    for name in [
        "def _read_config():",
        "def _write_state():",
        "def _write_state_2():",
        // `open(state_path)` and `open("config.json", "w")`: the path names the file.
        "def _read_state():",
        "def _write_config():",
    ] {
        assert!(fixed.contains(name), "no `{name}` in:\n{fixed}");
    }
    assert!(
        !fixed.contains("_sync"),
        "a numbered `_sync` helper:\n{fixed}"
    );
    assert!(
        fixed.contains("config = await asyncio.to_thread(_read_config)"),
        "{fixed}"
    );
    assert_eq!(
        run_main(dir.path()),
        before,
        "the rewritten program:\n{fixed}"
    );
    assert_eq!(before.trim(), r#"{"name": "demo", "count": 4}"#);
}

const SPLIT_IMPORTS: &str = r#""""A service whose imports come in two blocks."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helper import work
import json

# module-level logger
LOG = []


async def handle(i):
    asyncio.create_task(work(i, LOG))


async def main():
    for i in range(3):
        await handle(i)
    await asyncio.sleep(0.05)
    print(json.dumps(sorted(LOG)))


if __name__ == "__main__":
    asyncio.run(main())
"#;

const HELPER: &str = r#"import asyncio


async def work(i, log):
    await asyncio.sleep(0.01)
    log.append(i)
"#;

#[test]
fn a_module_global_lands_after_the_last_import_block() {
    let dir = project(&[
        ("main.py", SPLIT_IMPORTS.as_bytes()),
        ("helper.py", HELPER.as_bytes()),
    ]);
    let before = run_main(dir.path());
    fix_write_converged(dir.path(), &["--select", "RUF006"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    let global = line_of(&fixed, "_background_tasks: set = set()");
    let last_import = fixed
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|line| line.starts_with("import ") || line.starts_with("from "))
        .unwrap();
    assert!(
        global > last_import,
        "`_background_tasks` is defined before an import (E402):\n{fixed}"
    );
    assert!(global < line_of(&fixed, "async def handle"), "{fixed}");
    assert!(fixed.contains("_background_tasks.add(task)"), "{fixed}");
    assert_eq!(
        run_main(dir.path()),
        before,
        "the rewritten program:\n{fixed}"
    );
    assert_eq!(before.trim(), "[0, 1, 2]");
}

#[test]
fn a_task_made_at_import_before_later_imports_gets_no_fix_and_says_why() {
    let source = r#"try:
    import asyncio
    asyncio.create_task(asyncio.sleep(0))
except RuntimeError:
    print("no running loop at import")

import json


async def main():
    asyncio.create_task(asyncio.sleep(0))
    await asyncio.sleep(0.01)
    print(json.dumps("done"))


asyncio.run(main())
"#;
    let dir = project(&[("main.py", source.as_bytes())]);
    let output = unfreeze(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "RUF006",
            ".",
        ],
    );
    assert_eq!(output.code, Some(1), "{}", output.show());
    assert!(
        output.stdout.contains("no fix:") && output.stdout.contains("split the imports"),
        "{}",
        output.show()
    );
    let before = run_main(dir.path());
    // The coroutine's task is fixed and defines the set after `import json`; the next round
    // must not reuse that set at import time, before it is defined.
    fix_write_converged(dir.path(), &["--select", "RUF006"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("\n    asyncio.create_task(asyncio.sleep(0))\nexcept"),
        "the import-time task is left as it was:\n{fixed}"
    );
    assert!(line_of(&fixed, "_background_tasks: set") > line_of(&fixed, "import json"));
    assert_eq!(
        run_main(dir.path()),
        before,
        "the rewritten program:\n{fixed}"
    );
    let output = unfreeze(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "RUF006",
            ".",
        ],
    );
    assert!(
        output
            .stdout
            .contains("before `_background_tasks` is defined"),
        "{}",
        output.show()
    );
}

const ORPHANS: &str = r#"import asyncio
import requests
from requests import get
from time import sleep


async def fetch(url):
    sleep(0)
    return get(url, timeout=5).status_code


print(asyncio.iscoroutinefunction(fetch))
"#;

#[test]
fn imports_the_fix_orphaned_are_removed_and_already_unused_ones_stay() {
    let dir = project(&[("main.py", ORPHANS.as_bytes())]);
    fix_write_converged(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        !fixed.contains("from requests import get"),
        "`get` was only used by the migrated call:\n{fixed}"
    );
    assert!(
        !fixed.contains("from time import sleep"),
        "`sleep` was only used by the rewritten call:\n{fixed}"
    );
    assert!(
        fixed.contains("import requests\n"),
        "`import requests` was unused before the fix; the fix does not remove it:\n{fixed}"
    );
    assert_eq!(run_main(dir.path()).trim(), "True", "{fixed}");
}

const LAYOUT: &str = r#"import asyncio
import subprocess
import sys


async def main():
    other = asyncio.create_task(asyncio.sleep(0))
    result = subprocess.run([sys.executable, "-c",
                             "print('hello from the child')"],
                            capture_output=True, text=True,
                            check=True)
    print(result.stdout.strip())
    answer = subprocess.check_output([sys.executable, "-c", "print(6 * 7)"], text=True)
    print(answer.strip())


asyncio.run(main())
"#;

#[test]
fn continuation_lines_follow_the_call_and_long_lines_break() {
    let dir = project(&[("main.py", LAYOUT.as_bytes())]);
    let before = run_main(dir.path());
    fix_write_converged(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    let lines: Vec<&str> = fixed.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let call = line_of(&fixed, "result = await asyncio.to_thread(subprocess.run, [");
    let column = lines[call].find('[').unwrap();
    // `"print(...)"` was under the list's first item, the other lines under the arguments.
    assert_eq!(indent(lines[call + 1]), column + 1, "{fixed}");
    assert_eq!(indent(lines[call + 2]), column, "{fixed}");
    assert_eq!(indent(lines[call + 3]), column, "{fixed}");
    // The file's longest line is under 88 characters: so are the lines the fix adds.
    assert!(
        fixed.lines().all(|line| line.chars().count() <= 88),
        "a line over 88 characters:\n{fixed}"
    );
    let broken = line_of(&fixed, "answer = await asyncio.to_thread(");
    assert_eq!(
        lines[broken + 1].trim(),
        r#"subprocess.check_output, [sys.executable, "-c", "print(6 * 7)"], text=True"#,
        "{fixed}"
    );
    assert_eq!(lines[broken + 2], "    )", "{fixed}");
    assert_eq!(
        run_main(dir.path()),
        before,
        "the rewritten program:\n{fixed}"
    );
    assert_eq!(before, "hello from the child\n42\n");
}
