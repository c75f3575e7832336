//! A slow or huge file never keeps the other files from being written (issue 25): `fix
//! --write` writes each file as soon as its outcome is final, and `--file-timeout` stops a
//! file that takes too long, reports it as skipped (with its findings, when its analysis was
//! done), writes nothing of it and exits as for a file error. No timing is asserted: the
//! first test watches the order of the writes, the others give a budget no file this big
//! meets and that a file this small is never checked against (the clock is read every 1024
//! calls analysed, `src/budget.rs`).

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{project, unfreeze, unfreeze_in};

/// A file of `n` coroutines, each with one `time.sleep(0)`: `n` findings, each with a fix.
fn many_sleeps(n: usize) -> String {
    let mut text = String::from("import time\n");
    for i in 0..n {
        text.push_str(&format!("\n\nasync def f{i}():\n    time.sleep(0)\n"));
    }
    text
}

const SMALL: &str = "import time\n\n\nasync def handler():\n    time.sleep(1)\n";

/// The run sorts `a_huge.py` first: before this change every file was written after the
/// whole analysis, in that order, so `b_small.py` was never written before `a_huge.py`. Now
/// `b_small.py` is written while `a_huge.py` is still being fixed, and `a_huge.py` after.
#[test]
fn the_small_file_is_written_while_the_huge_one_is_still_being_fixed() {
    small_written_before_huge(&[]);
}

/// The same without the project rules: each file is read once, by one pass.
#[test]
fn without_the_project_rules_too() {
    small_written_before_huge(&["--select", "ASYNC251"]);
}

/// `fix --write` (with `extra` options) on a huge file and a small one: the small one is
/// written while the huge one is not yet, during the run.
fn small_written_before_huge(extra: &[&str]) {
    let huge = many_sleeps(5_000);
    let dir = project(&[
        ("a_huge.py", huge.as_bytes()),
        ("b_small.py", SMALL.as_bytes()),
    ]);
    let small = dir.path().join("b_small.py");
    let huge_path = dir.path().join("a_huge.py");
    let mut args = vec!["fix", "--isolated", "--no-cache", "--quiet", "--write"];
    args.extend_from_slice(extra);
    args.push(".");
    let mut child = unfreeze(dir.path(), &args)
        // Two workers, so the small file does not queue behind the huge one on a one-core machine.
        .env("RAYON_NUM_THREADS", "2")
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let written_while_running = loop {
        let small_now = fs::read_to_string(&small).unwrap();
        if small_now != SMALL {
            let huge_now = fs::read_to_string(&huge_path).unwrap();
            let running = child.try_wait().unwrap().is_none();
            break Some((small_now, huge_now == huge, running));
        }
        if child.try_wait().unwrap().is_some() {
            break None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the run did not end"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let status = child.wait().unwrap();
    let (small_now, huge_unwritten, running) =
        written_while_running.expect("b_small.py was not written before the run ended");
    assert!(small_now.contains("await asyncio.sleep(1)"), "{small_now}");
    assert!(
        huge_unwritten && running,
        "b_small.py was written only after a_huge.py (huge file unwritten: {huge_unwritten}, \
         run going on: {running})"
    );
    assert_eq!(status.code(), Some(0));
    let huge_after = fs::read_to_string(&huge_path).unwrap();
    assert_eq!(huge_after.matches("await asyncio.sleep(0)").count(), 5_000);
}

/// Exit code and text output of `fix --write` with a budget of one millisecond.
fn fix_within_a_millisecond(dir: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "fix",
        "--isolated",
        "--no-cache",
        "--write",
        "--file-timeout",
        "0.001",
    ];
    args.extend_from_slice(extra);
    args.push(".");
    unfreeze_in(dir, &args)
}

/// A file whose analysis takes longer than its budget is skipped with the reason, nothing
/// of it written; the small file is fixed and written; the exit code is a file error's.
#[test]
fn a_file_past_its_budget_is_skipped_and_the_others_are_written() {
    let huge = many_sleeps(5_000);
    let dir = project(&[
        ("a_huge.py", huge.as_bytes()),
        ("b_small.py", SMALL.as_bytes()),
    ]);
    let output = fix_within_a_millisecond(dir.path(), &[]);
    assert_eq!(output.code, Some(2), "{}", output.show());
    assert!(
        output.stderr.contains(
            "a_huge.py: skipped: analysing this file took longer than its time budget \
             (--file-timeout 0.001 s)"
        ),
        "{}",
        output.show()
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a_huge.py")).unwrap(),
        huge,
        "nothing of the skipped file is written"
    );
    let small = fs::read_to_string(dir.path().join("b_small.py")).unwrap();
    assert!(small.contains("await asyncio.sleep(1)"), "{small}");
}

/// A file analysed within its budget whose fixes run past it keeps its findings (reported,
/// none fixed), and the reason says so; nothing of it is written. Without the project rules
/// (`--select ASYNC251`) one pass does both: its 600 calls are analysed before the first
/// reading of the clock, which comes in the round that analyses the fixed text again.
#[test]
fn a_file_stopped_while_fixing_keeps_its_findings() {
    let many = many_sleeps(600);
    let dir = project(&[
        ("a_many.py", many.as_bytes()),
        ("b_small.py", SMALL.as_bytes()),
    ]);
    let output = fix_within_a_millisecond(dir.path(), &["--select", "ASYNC251"]);
    assert_eq!(output.code, Some(2), "{}", output.show());
    assert!(
        output.stderr.contains(
            "a_many.py: skipped: fixing this file took longer than its time budget \
             (--file-timeout 0.001 s); nothing of it was written"
        ),
        "{}",
        output.show()
    );
    // Its 600 findings are reported, none fixed; the small file's is fixed.
    assert!(
        output
            .stdout
            .contains("601  ASYNC251  blocking-sleep  (1 fixed, 600 over the time budget)"),
        "{}",
        output.show()
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a_many.py")).unwrap(),
        many
    );
    let small = fs::read_to_string(dir.path().join("b_small.py")).unwrap();
    assert!(small.contains("await asyncio.sleep(1)"), "{small}");
}

/// Without a budget (or with 0) nothing is skipped; a budget that is not a number is refused
/// before any file is touched.
#[test]
fn no_budget_skips_nothing_and_a_bad_one_is_refused() {
    let dir = project(&[("b_small.py", SMALL.as_bytes())]);
    let bad = unfreeze_in(dir.path(), &["check", "--file-timeout", "soon", "."]);
    assert_eq!(bad.code, Some(2), "{}", bad.show());
    assert!(
        bad.stderr.contains("not a number of seconds"),
        "{}",
        bad.show()
    );
    let zero = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--isolated",
            "--no-cache",
            "--write",
            "--file-timeout",
            "0",
            ".",
        ],
    );
    assert_eq!(zero.code, Some(0), "{}", zero.show());
    let small = fs::read_to_string(dir.path().join("b_small.py")).unwrap();
    assert!(small.contains("await asyncio.sleep(1)"), "{small}");
}
