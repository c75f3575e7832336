//! The diff a reviewer would write (issue 20, item 5): at most one thread hop per line, and a
//! check and the act it guards in one hop. Diffs of small programs, and the programs run with
//! CPython before and after the fix: same results, and the check and the act now run in one
//! worker thread (recorded by wrappers around `os.path.exists`, `os.remove`, ...).
//!
//! `UNFREEZE_HOPS_BIN` runs the tests against another build of unfreeze (to show they fail
//! on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_HOPS_BIN", dir, args)
}

/// `unfreeze fix --isolated --no-cache --write [extra] .` must succeed; the fixed `main.py`.
fn fix_write(dir: &Path, extra: &[&str]) -> String {
    let output = unfreeze(dir, &["fix", "--isolated", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .output();
    assert!(
        matches!(output.code, Some(0 | 1)),
        "fix failed:\n{}",
        output.show()
    );
    fs::read_to_string(dir.join("main.py")).unwrap()
}

/// `unfreeze ARGS --isolated --no-cache .`: its stdout.
fn run(dir: &Path, args: &[&str]) -> String {
    let output = unfreeze(dir, args)
        .args(["--isolated", "--no-cache", "."])
        .output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    output.stdout
}

/// The lines of `text` with more than one thread hop.
fn lines_with_two_hops(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| line.matches("to_thread").count() > 1)
        .collect()
}

/// A second run proposes nothing.
fn assert_converged(dir: &Path, extra: &[&str]) {
    let mut args = vec!["fix"];
    args.extend(extra);
    let again = run(dir, &args);
    assert!(
        !again.contains("+++"),
        "a second run changes the file:\n{again}"
    );
}

const NESTED: &str = r#"import asyncio
import os
import shutil


async def backup(src, dst_dir):
    shutil.copy(src, os.path.join(os.path.realpath(dst_dir), "copy.txt"))


async def total(a, b):
    return os.path.getsize(a) + os.path.getsize(b)


async def first_size(a, b):
    return os.path.getsize(a) if os.path.exists(a) else os.path.getsize(b)
"#;

#[test]
fn hops_nested_or_on_one_line_become_one_hop_in_order() {
    let dir = project(&[("main.py", NESTED.as_bytes())]);
    let fixed = fix_write(dir.path(), &[]);
    assert!(
        fixed.contains(
            "    await asyncio.to_thread(lambda: shutil.copy(src, os.path.join(os.path.realpath(dst_dir), \"copy.txt\")))\n"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains(
            "    return await asyncio.to_thread(lambda: os.path.getsize(a) + os.path.getsize(b))\n"
        ),
        "{fixed}"
    );
    // The conditional expression keeps its short circuit: one branch runs, as before.
    assert!(
        fixed.contains(
            "    return await asyncio.to_thread(lambda: os.path.getsize(a) if os.path.exists(a) else os.path.getsize(b))\n"
        ),
        "{fixed}"
    );
    assert_eq!(lines_with_two_hops(&fixed), Vec::<&str>::new());
    assert_converged(dir.path(), &[]);
}

#[test]
fn an_anyio_file_gets_one_run_sync_with_a_lambda() {
    let program = "import os\n\nimport anyio\n\n\nasync def size(p):\n    return os.path.getsize(os.path.realpath(p))\n";
    let dir = project(&[("main.py", program.as_bytes())]);
    let fixed = fix_write(dir.path(), &[]);
    assert!(
        fixed.contains(
            "    return await anyio.to_thread.run_sync(lambda: os.path.getsize(os.path.realpath(p)))\n"
        ),
        "{fixed}"
    );
    assert_converged(dir.path(), &[]);
}

const CHECKS: &str = r#"import asyncio
import os
import shutil


async def remove_stale(p):
    if os.path.exists(p):
        os.remove(p)


async def ensure_dir(d):
    if not os.path.exists(d):
        os.makedirs(d)


async def clear(p):
    if os.path.isdir(p):
        shutil.rmtree(p)
    else:
        os.remove(p)
"#;

#[test]
fn a_check_and_its_act_move_together_and_makedirs_takes_exist_ok_only_as_unsafe() {
    let dir = project(&[("main.py", CHECKS.as_bytes())]);
    // Session 18: the paths are the callers' (`p`, `d`): two calls at once may pass one path,
    // and in two worker threads both pass the check and the second act fails. The one hop is
    // an unsafe fix that says so; the safe run leaves the coroutines as they are.
    let report = run(dir.path(), &["check"]);
    assert!(!report.contains("= fix:"), "{report}");
    let notes = unfreeze(
        dir.path(),
        &["fix", "--unsafe-fixes", "--isolated", "--no-cache", "."],
    )
    .output()
    .stderr;
    assert!(
        notes.contains(
            "main.py:7:8: ASYNC240 unsafe fix in the diff: checks the path `p` \
             (`os.path.exists(...)`, line 7) and then removes it (`os.remove(...)`, line 8)"
        ) && notes.contains("two calls at once in worker threads"),
        "{notes}"
    );
    let safe = fix_write(dir.path(), &[]);
    assert!(safe.ends_with(CHECKS), "{safe}");
    assert_converged(dir.path(), &[]);

    let dir = project(&[("main.py", CHECKS.as_bytes())]);
    let unsafe_fixed = fix_write(dir.path(), &["--unsafe-fixes"]);
    let expected_unsafe = r#"async def remove_stale(p):
    def _remove_if_exists():
        if os.path.exists(p):
            os.remove(p)
    await asyncio.to_thread(_remove_if_exists)


async def ensure_dir(d):
    await asyncio.to_thread(os.makedirs, d, exist_ok=True)


async def clear(p):
    def _rmtree_or_remove():
        if os.path.isdir(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    await asyncio.to_thread(_rmtree_or_remove)
"#;
    assert!(unsafe_fixed.ends_with(expected_unsafe), "{unsafe_fixed}");

    // With `--unsafe-fixes`, the directory is made with `exist_ok=True`, and the difference
    // is stated.
    let dir = project(&[("main.py", CHECKS.as_bytes())]);
    let diff = run(dir.path(), &["fix", "--unsafe-fixes"]);
    assert!(
        diff.contains(
            "-    if not os.path.exists(d):\n-        os.makedirs(d)\n+    await asyncio.to_thread(os.makedirs, d, exist_ok=True)\n"
        ),
        "{diff}"
    );
    let stderr = unfreeze(
        dir.path(),
        &["fix", "--unsafe-fixes", "--isolated", "--no-cache", "."],
    )
    .output()
    .stderr;
    assert!(
        stderr.contains(
            "where the path exists as a file (not a directory), `os.makedirs(..., exist_ok=True)` \
             raises FileExistsError, while the check skipped the call"
        ),
        "{stderr}"
    );
    let unsafe_fixed = fix_write(dir.path(), &["--unsafe-fixes"]);
    assert_eq!(lines_with_two_hops(&unsafe_fixed), Vec::<&str>::new());
    assert_converged(dir.path(), &["--unsafe-fixes"]);
}

#[test]
fn code_that_would_make_the_merged_hop_less_safe_keeps_its_own_hops() {
    // `notify` is unknown code: moved into the thread with the check, it would make the one
    // hop unsafe; the fix keeps two hops instead, each as safe as before.
    // The path is made per call (a uuid name): no other call checks or removes it.
    let program = r#"import asyncio
import os
import uuid

from hooks import notify


async def remove_stale():
    p = f"/tmp/{uuid.uuid4()}.txt"
    if os.path.exists(p):
        os.remove(p)
        notify(p)
"#;
    let dir = project(&[("main.py", program.as_bytes())]);
    let fixed = fix_write(dir.path(), &[]);
    assert!(
        fixed.contains(
            "    if await asyncio.to_thread(os.path.exists, p):\n        await asyncio.to_thread(os.remove, p)\n        notify(p)\n"
        ),
        "{fixed}"
    );
    // Not with `--unsafe-fixes` either: one hop there would be less safe than the two.
    let dir = project(&[("main.py", program.as_bytes())]);
    let unsafe_fixed = fix_write(dir.path(), &["--unsafe-fixes"]);
    assert_eq!(unsafe_fixed, fixed);
}

/// Every file-system call the operations make, recorded with the thread it ran in; each
/// operation prints its result and where its calls ran: on the event loop's thread (`loop`),
/// all in one worker thread (`one worker`), or split.
const PROGRAM: &str = r#"import asyncio
import os
import shutil
import sys
import threading

CALLS = []


def recording(name, real):
    def wrapper(*args, **kwargs):
        CALLS.append((name, threading.get_ident()))
        return real(*args, **kwargs)
    return wrapper


os.path.exists = recording("exists", os.path.exists)
os.path.isdir = recording("isdir", os.path.isdir)
os.path.getsize = recording("getsize", os.path.getsize)
os.path.realpath = recording("realpath", os.path.realpath)
os.remove = recording("remove", os.remove)
os.makedirs = recording("makedirs", os.makedirs)
shutil.rmtree = recording("rmtree", shutil.rmtree)
shutil.copy = recording("copy", shutil.copy)


async def remove_stale(p):
    if os.path.exists(p):
        os.remove(p)


async def ensure_dir(d):
    if not os.path.exists(d):
        os.makedirs(d)


async def clear(p):
    if os.path.isdir(p):
        shutil.rmtree(p)
    else:
        os.remove(p)


async def total(a, b):
    return os.path.getsize(a) + os.path.getsize(b)


async def backup(src, dst_dir):
    shutil.copy(src, os.path.join(os.path.realpath(dst_dir), "copy.txt"))


def where(calls):
    threads = {ident for _, ident in calls}
    if threads == {threading.main_thread().ident}:
        return "loop"
    if len(threads) == 1:
        return "one worker"
    return "split"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


async def main():
    base = sys.argv[1]
    stale = os.path.join(base, "stale.txt")
    write(stale, "old")
    made = os.path.join(base, "made", "deeper")
    tree = os.path.join(base, "tree")
    write(os.path.join(base, "plain.txt"), "12345")
    write(os.path.join(base, "other.txt"), "123")
    results = []
    operations = [
        ("remove_stale", lambda: remove_stale(stale)),
        ("remove_stale again", lambda: remove_stale(stale)),
        ("ensure_dir", lambda: ensure_dir(made)),
        ("ensure_dir again", lambda: ensure_dir(made)),
        ("backup", lambda: backup(os.path.join(base, "plain.txt"), made)),
        ("total", lambda: total(os.path.join(base, "plain.txt"), os.path.join(base, "other.txt"))),
        ("clear dir", lambda: clear(os.path.join(base, "made"))),
        ("clear file", lambda: clear(os.path.join(base, "other.txt"))),
    ]
    for name, operation in operations:
        CALLS.clear()
        value = await operation()
        calls = list(CALLS)
        print(f"{name}: {value} | {sorted({n for n, _ in calls})} | {where(calls)}")
    print(sorted(os.listdir(base)))


asyncio.run(main())
"#;

/// Run `main.py` with the test Python in a fresh directory of its own; its output.
fn run_program(dir: &Path) -> Vec<String> {
    let data = tempfile::tempdir().unwrap();
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .arg(data.path())
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout.lines().map(str::to_owned).collect()
}

/// Each line's three parts: the operation's result, the calls it made, and where they ran
/// (the listing at the end is a result).
fn parts(lines: &[String]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut results, mut calls, mut places) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines {
        let mut fields = line.split(" | ");
        results.extend(fields.next().map(str::to_owned));
        calls.extend(fields.next().map(str::to_owned));
        places.extend(fields.next().map(str::to_owned));
    }
    (results, calls, places)
}

#[test]
fn the_rewritten_program_gives_the_same_results_with_each_check_and_act_in_one_worker() {
    for extra in [&[][..], &["--unsafe-fixes"][..]] {
        let dir = project(&[("main.py", PROGRAM.as_bytes())]);
        let before = run_program(dir.path());
        let (results_before, calls_before, places_before) = parts(&before);
        assert_eq!(places_before, vec!["loop"; 8], "{before:#?}");

        let fixed = fix_write(dir.path(), extra);
        assert_eq!(lines_with_two_hops(&fixed), Vec::<&str>::new(), "{fixed}");
        let after = run_program(dir.path());
        let (results_after, calls_after, places_after) = parts(&after);
        assert_eq!(results_after, results_before, "{extra:?}\n{fixed}");
        if extra.is_empty() {
            // The safe fix makes the very same calls.
            assert_eq!(calls_after, calls_before, "{fixed}");
        }
        // Each operation's calls, check and act, ran in one worker thread: one hop. Session
        // 18: the check-then-acts on the callers' paths are unsafe fixes (two calls at once
        // in worker threads race), so the safe run leaves them on the loop.
        let expected = if extra.is_empty() {
            let mut places = vec!["loop"; 8];
            places[4] = "one worker";
            places[5] = "one worker";
            places
        } else {
            vec!["one worker"; 8]
        };
        assert_eq!(places_after, expected, "{extra:?}\n{after:#?}\n{fixed}");
    }
}

/// `ensure_dir` on a path that is a file: the check skips `os.makedirs`.
const A_FILE_IN_THE_WAY: &str = r#"import asyncio
import os
import sys


async def ensure_dir(d):
    if not os.path.exists(d):
        os.makedirs(d)


async def main():
    # Another task runs: the script is not single-task, so its hops are worth a fix.
    other = asyncio.create_task(asyncio.sleep(0))
    path = os.path.join(sys.argv[1], "taken")
    with open(path, "w") as f:
        f.write("a file")
    try:
        await ensure_dir(path)
        print("skipped")
    except FileExistsError:
        print("FileExistsError")


asyncio.run(main())
"#;

#[test]
fn exist_ok_differs_only_where_the_caveat_says_and_only_with_unsafe_fixes() {
    let dir = project(&[("main.py", A_FILE_IN_THE_WAY.as_bytes())]);
    assert_eq!(run_program(dir.path()), ["skipped"]);
    // No safe fix (session 18: `d` is the caller's, so two calls at once in worker threads
    // would race on it); the program is unchanged.
    let fixed = fix_write(dir.path(), &[]);
    assert!(
        fixed.contains("    if not os.path.exists(d):\n        os.makedirs(d)\n"),
        "{fixed}"
    );
    assert_eq!(run_program(dir.path()), ["skipped"]);
    // The unsafe one is the stated difference: a file at the path now raises.
    let dir = project(&[("main.py", A_FILE_IN_THE_WAY.as_bytes())]);
    let fixed = fix_write(dir.path(), &["--unsafe-fixes"]);
    assert!(fixed.contains("exist_ok=True"), "{fixed}");
    assert_eq!(run_program(dir.path()), ["FileExistsError"]);
}

#[test]
fn a_call_the_configuration_ignores_is_not_moved_with_the_hop_around_it() {
    let program = "import os\nimport subprocess\n\n\nasync def f(p):\n    subprocess.run([\"ls\", os.path.realpath(p)])\n";
    let dir = project(&[
        ("main.py", program.as_bytes()),
        (
            "unfreeze.toml",
            b"[per-file-ignores]\n\"main.py\" = [\"ASYNC240\"]\n",
        ),
    ]);
    let output = unfreeze(dir.path(), &["fix", "--write", "--no-cache", "main.py"]).output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains(
            "    await asyncio.to_thread(subprocess.run, [\"ls\", os.path.realpath(p)])\n"
        ),
        "{fixed}"
    );
}

#[test]
fn thread_affine_and_loop_bound_code_never_moves_with_a_merged_hop() {
    // A sqlite3 connection made on the loop's thread, and an asyncio API that needs the loop:
    // one hop would move them into a worker thread (a ProgrammingError, a RuntimeError), so
    // each blocking call keeps its own hop, even with `--unsafe-fixes`.
    let program = r#"import asyncio
import os
import sqlite3

con = sqlite3.connect("x.db")


async def clean(p):
    if os.path.exists(p):
        con.execute("DELETE FROM t")
        os.remove(p)


async def sizes(p, q):
    return os.path.getsize(p) + len(con.execute("SELECT 1").fetchall()) + os.path.getsize(q)


async def later(p):
    if os.path.exists(p):
        asyncio.get_running_loop().call_soon(print)
        os.remove(p)
"#;
    let dir = project(&[("main.py", program.as_bytes())]);
    let fixed = fix_write(dir.path(), &["--unsafe-fixes"]);
    for kept in [
        "    if await asyncio.to_thread(os.path.exists, p):\n        con.execute(\"DELETE FROM t\")\n        await asyncio.to_thread(os.remove, p)\n",
        "    return await asyncio.to_thread(os.path.getsize, p) + len(con.execute(\"SELECT 1\").fetchall()) + await asyncio.to_thread(os.path.getsize, q)\n",
        "    if await asyncio.to_thread(os.path.exists, p):\n        asyncio.get_running_loop().call_soon(print)\n        await asyncio.to_thread(os.remove, p)\n",
    ] {
        assert!(fixed.contains(kept), "missing {kept:?} in:\n{fixed}");
    }
    assert!(!fixed.contains("lambda"), "{fixed}");
    assert!(!fixed.contains("def _"), "{fixed}");
}
