//! Reliability tests: what `unfreeze` does when it is killed mid-write, and with inputs and file
//! systems that are unusual rather than wrong (tabs, form feeds, empty and huge files, deep
//! nesting, Python 2, binary files, symlink loops, unreadable and read-only files, a directory
//! where no temporary file can be created), and when the analysis of one file panics. Each test
//! runs the real binary (or, for races that cannot be timed from outside, `unfreeze::write`) in
//! its own temporary directory.
//!
//! Tests marked `#[ignore = "bug: ..."]` pin bugs that are not fixed yet: run them with
//! `cargo test --test reliability -- --ignored`. The tests whose comment starts with
//! "Regression" pinned bugs found while writing this file that are fixed now.

mod common;

use common::{Output, Run, project};

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use unfreeze::write::{Fingerprint, WriteError, write_atomically};

/// One async function with one blocking sleep.
const BLOCKING: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
/// `BLOCKING` after `fix --write`.
const BLOCKING_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";

/// The two heavy tests (the kill loop and the 20 MB file) take this lock so that neither
/// distorts the other's timing or memory.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `unfreeze ARGS --color=never` in `dir`, its output decoded lossily.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args)
        .arg("--color=never")
        .env_remove("NO_COLOR")
        .lossy()
}

fn read(dir: &Path, path: &str) -> Vec<u8> {
    fs::read(dir.join(path)).unwrap()
}

/// Every regular file under `root` (symlinks are not followed), relative to it, sorted; the
/// result cache's directory left out.
fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            // The result cache's directory: its own file and temporary file (a run killed
            // while saving it leaves one), never a source.
            if entry.file_name() == ".unfreeze_cache" {
                continue;
            }
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// The names of the entries of `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------- crash safety

/// A deterministic pseudo-random sequence (xorshift64*), so that a failing round can be
/// replayed.
struct Rng(u64);

impl Rng {
    /// A number in [0, 1).
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (value >> 11) as f64 / (1u64 << 53) as f64
    }
}

const CRASH_DIRS: usize = 8;
const CRASH_FILES_PER_DIR: usize = 125;
const CRASH_ROUNDS: usize = 6;

/// ~2,000 small fixable files in 16 directories, of a few shapes (LF and CRLF, `import time`
/// and `from time import sleep`, one or two calls).
fn crash_originals() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for d in 0..CRASH_DIRS {
        for i in 0..CRASH_FILES_PER_DIR {
            for (dir, prefix) in [(format!("pkg{d}"), "m"), (format!("pkg{d}/sub"), "n")] {
                let n = d * CRASH_FILES_PER_DIR + i;
                let text = match n % 4 {
                    0 => format!("import time\n\nasync def {prefix}{n}():\n    time.sleep({n})\n"),
                    1 => format!(
                        "import time\r\n\r\nasync def {prefix}{n}():\r\n    time.sleep({n})\r\n"
                    ),
                    2 => format!(
                        "from time import sleep\n\n\nasync def {prefix}{n}(x):\n    sleep(x)\n    \
                         return x + {n}\n"
                    ),
                    _ => format!(
                        "import time\n\n\nasync def {prefix}{n}():\n    time.sleep(1)\n    \
                         t = time.monotonic()\n    time.sleep({n})\n    return t\n"
                    ),
                };
                files.push((format!("{dir}/{prefix}{n}.py"), text.into_bytes()));
            }
        }
    }
    files
}

fn write_crash_tree(root: &Path, originals: &[(String, Vec<u8>)]) {
    for (path, bytes) in originals {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

fn source_set(originals: &[(String, Vec<u8>)]) -> HashSet<PathBuf> {
    originals.iter().map(|(p, _)| PathBuf::from(p)).collect()
}

/// Put the tree back to exactly the originals: drop every other file, rewrite the sources.
/// (Overwriting the 2,000 files in place is ~10 times faster than creating them in a new
/// directory on the slow file system these tests were written on.)
fn restore_crash_tree(root: &Path, originals: &[(String, Vec<u8>)]) {
    let sources = source_set(originals);
    for path in all_files(root) {
        if !sources.contains(&path) {
            fs::remove_file(root.join(path)).unwrap();
        }
    }
    write_crash_tree(root, originals);
    assert_eq!(all_files(root).len(), originals.len());
}

/// SIGKILL `fix --write` at pseudo-random moments from 5 ms to the full run time. Writes are
/// temp file + rename, so every file must be byte-for-byte the original or the fixed version.
/// A temporary file can remain after SIGKILL (killed between creating it and renaming it; at
/// most one per worker thread, since each writes the files it finished one after the other,
/// `run/as_ready.rs`): it must be the killed
/// process's, sit next to its original, and never be a `.py`/`.pyi` name that discovery would
/// pick up; a following `fix --write` then finishes the job and `check` sees only the sources.
///
/// Measured on the 2-CPU VM this was written on (debug binary): a full run takes 0.8-2.2 s,
/// almost all of it in the writes (one fsync per file, and fsync latency varies a lot); the
/// whole test ~21-23 s. Rounds print their delay, progress and timings (`--nocapture`).
#[test]
fn fix_write_killed_at_any_moment_leaves_each_file_original_or_fixed_and_a_rerun_finishes() {
    let _heavy = heavy();
    let started = Instant::now();
    let originals = crash_originals();
    let total = originals.len();
    assert_eq!(total, 2000);

    // One tree, put back to the originals before each run.
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    write_crash_tree(root, &originals);

    // The expected fixed content, from uninterrupted runs. Two of them: the output must not
    // depend on the run, and the shorter duration is the full run time the kill delays are
    // spread over (fsync latency varies a lot between runs).
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut full_run = Duration::MAX;
    for reference_run in 0..2 {
        if reference_run > 0 {
            restore_crash_tree(root, &originals);
        }
        let run_started = Instant::now();
        let out = unfreeze(root, &["fix", "--write", "."]).output();
        let took = run_started.elapsed();
        eprintln!("uninterrupted run {reference_run}: {took:?}");
        full_run = full_run.min(took);
        assert_eq!(out.code, Some(0), "{}", out.show());
        assert!(
            out.stdout.contains(&format!("in {total} files; 0 left.")),
            "{}",
            out.show()
        );
        let fixed: Vec<Vec<u8>> = originals.iter().map(|(path, _)| read(root, path)).collect();
        assert_eq!(
            all_files(root).len(),
            total,
            "an uninterrupted run leaves no temporary file"
        );
        if expected.is_empty() {
            expected = fixed;
        } else {
            assert!(
                expected == fixed,
                "two uninterrupted runs wrote different files"
            );
        }
    }
    for ((path, original), fixed) in originals.iter().zip(&expected) {
        assert_ne!(original, fixed, "{path}: every file has a fix");
    }

    let sources = source_set(&originals);
    // Each file is written by the worker thread that finished it (rayon's pool: one per CPU).
    let writers = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut rng = Rng(0x5EED_2024_0BAD_F00D);
    let floor = Duration::from_millis(5);
    let span = full_run.saturating_sub(floor);
    let mut partial_rounds = 0;
    let mut leftover_temporaries = 0;
    for round in 0..CRASH_ROUNDS {
        // Stratified: round r lands somewhere in the r-th slice of [5 ms, full run].
        let fraction = (round as f64 + rng.next_unit()) / CRASH_ROUNDS as f64;
        let delay = floor + span.mul_f64(fraction);

        let round_started = Instant::now();
        restore_crash_tree(root, &originals);
        let setup = round_started.elapsed();
        let mut child = unfreeze(root, &["fix", "--write", "."])
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the unfreeze binary runs");
        let pid = child.id();
        std::thread::sleep(delay);
        // SIGKILL on Unix; a child that already finished is not an error.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let killed = status.code().is_none();

        let mut fixed = 0;
        for ((path, original), fixed_bytes) in originals.iter().zip(&expected) {
            let now = read(root, path);
            if now == *fixed_bytes {
                fixed += 1;
            } else {
                assert!(
                    now == *original,
                    "round {round} (killed after {delay:?}): {path} is neither the original \
                     nor the fixed version:\n{}",
                    String::from_utf8_lossy(&now)
                );
            }
        }
        let extra: Vec<PathBuf> = all_files(root)
            .into_iter()
            .filter(|p| !sources.contains(p))
            .collect();
        for temporary in &extra {
            let name = temporary
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let marker = format!(".unfreeze-{pid}-");
            let original_name = name
                .strip_prefix('.')
                .and_then(|rest| rest.split_once(&marker))
                .map(|(original, _)| original.to_owned())
                .unwrap_or_else(|| {
                    panic!("round {round}: unexpected file {temporary:?} (not process {pid}'s)")
                });
            assert!(name.ends_with(".tmp"), "{temporary:?}");
            assert!(
                !unfreeze::discover::is_python_file(temporary),
                "{temporary:?} would be discovered as a source"
            );
            let next_to = temporary.with_file_name(&original_name);
            assert!(
                sources.contains(&next_to),
                "{temporary:?} is not next to its original {next_to:?}"
            );
        }
        assert!(
            extra.len() <= writers,
            "round {round}: {writers} writers leave at most one temporary file each: {extra:?}"
        );
        if !killed {
            assert_eq!(status.code(), Some(0), "round {round}");
            assert_eq!(fixed, total, "round {round}: the run finished");
            assert!(
                extra.is_empty(),
                "round {round}: finished run left {extra:?}"
            );
        }
        if fixed > 0 && fixed < total {
            partial_rounds += 1;
        }
        leftover_temporaries += extra.len();
        eprintln!(
            "round {round}: delay {delay:?}, killed {killed}, {fixed}/{total} fixed, \
             temporary files left: {extra:?}"
        );

        // A following run finishes the job, and the leftovers are not taken for sources.
        let rerun_started = Instant::now();
        let rerun = unfreeze(root, &["fix", "--write", "."]).output();
        let rerun_took = rerun_started.elapsed();
        assert_eq!(rerun.code, Some(0), "round {round}: {}", rerun.show());
        assert!(
            rerun.stdout.contains(&match total - fixed {
                1 => "in 1 file; 0 left.".to_owned(),
                left => format!("in {left} files; 0 left."),
            }),
            "round {round}: {}",
            rerun.show()
        );
        for ((path, _), fixed_bytes) in originals.iter().zip(&expected) {
            assert!(
                read(root, path) == *fixed_bytes,
                "round {round}: {path} not fixed by the rerun"
            );
        }
        let check = unfreeze(root, &["check", "."]).output();
        assert_eq!(check.code, Some(0), "round {round}: {}", check.show());
        assert!(
            check.stdout.contains(&format!("({total} files checked)")),
            "round {round}: {}",
            check.show()
        );
        eprintln!(
            "round {round}: setup {setup:?}, rerun {rerun_took:?}, whole round {:?}",
            round_started.elapsed()
        );
    }
    eprintln!(
        "{partial_rounds}/{CRASH_ROUNDS} rounds killed mid-write, {leftover_temporaries} \
         temporary files left in all; whole test {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------- indentation and whitespace

#[test]
fn fix_keeps_tab_and_mixed_indentation_byte_for_byte() {
    // Each block is consistent for CPython (TabError-free); inserted lines (the `create_task`
    // fix adds two) take the indentation of the statement they follow.
    let tabs = "import time\n\nasync def f():\n\ttime.sleep(1)\n\tif True:\n\t\ttime.sleep(2)\n";
    let tabs_fixed = "import asyncio\n\nasync def f():\n\tawait asyncio.sleep(1)\n\tif True:\n\
                      \t\tawait asyncio.sleep(2)\n";
    let mixed = "\
import asyncio
import time

async def spaces():
    time.sleep(1)

async def tabs():
\ttime.sleep(2)
\tif True:
\t    time.sleep(3)
\t    asyncio.create_task(g())

async def mixed():
    if True:
    \ttime.sleep(4)
    \tasyncio.create_task(g())
";
    let mixed_fixed = "\
import asyncio

_background_tasks: set = set()  # tasks kept alive until they finish

async def spaces():
    await asyncio.sleep(1)

async def tabs():
\tawait asyncio.sleep(2)
\tif True:
\t    await asyncio.sleep(3)
\t    task = asyncio.create_task(g())
\t    _background_tasks.add(task)
\t    task.add_done_callback(_background_tasks.discard)

async def mixed():
    if True:
    \tawait asyncio.sleep(4)
    \ttask = asyncio.create_task(g())
    \t_background_tasks.add(task)
    \ttask.add_done_callback(_background_tasks.discard)
";
    let dir = project(&[("tabs.py", tabs.as_bytes()), ("mixed.py", mixed.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        String::from_utf8(read(dir.path(), "tabs.py")).unwrap(),
        tabs_fixed
    );
    assert_eq!(
        String::from_utf8(read(dir.path(), "mixed.py")).unwrap(),
        mixed_fixed
    );
}

#[test]
fn form_feeds_at_line_starts_are_kept_and_the_call_after_one_is_fixed() {
    // A form feed at the start of a line is ignored for indentation: the call is in `f`.
    let source = "\x0cimport time\n\x0c\nasync def f():\n\x0c    time.sleep(1)\n\x0c\n\
                  \x0cdef g():\n    return time.monotonic()\n";
    let fixed = "import asyncio\n\x0cimport time\n\x0c\nasync def f():\n\
                 \x0c    await asyncio.sleep(1)\n\x0c\n\x0cdef g():\n    return time.monotonic()\n";
    let dir = project(&[("ff.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "ff.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(String::from_utf8(read(dir.path(), "ff.py")).unwrap(), fixed);
}

#[test]
fn empty_and_comment_only_files_are_checked_without_error_and_left_untouched() {
    let comments = "# async def f():\n#     time.sleep(1)\n# import time\n";
    let files: [(&str, &[u8]); 5] = [
        ("empty.py", b""),
        ("comments.py", comments.as_bytes()),
        ("blank.py", b"\n\n   \n"),
        ("bom_only.py", b"\xEF\xBB\xBF"),
        ("a.py", BLOCKING.as_bytes()),
    ];
    let dir = project(&files);
    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(1), "{}", check.show());
    assert!(
        check.stdout.contains("a.py:4:5: ASYNC251"),
        "{}",
        check.show()
    );
    assert!(
        check.stdout.contains("Found 1 finding (5 files checked)"),
        "{}",
        check.show()
    );
    assert_eq!(check.stderr, "", "{}", check.show());

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    for (path, bytes) in &files[..4] {
        assert_eq!(read(dir.path(), path), *bytes, "{path} must be untouched");
    }
    assert_eq!(read(dir.path(), "a.py"), BLOCKING_FIXED.as_bytes());
}

// ---------------------------------------------------------------- Python 2

#[test]
fn python2_code_is_checked_without_error_and_other_files_are_fixed() {
    // Genuine Python 2: print statements, `except E, e`, backticks, `exec`, `<>`, old octal.
    // It mentions `async` so that it is parsed rather than skipped by the cheap pre-filter.
    let python2 = "\
# This module is not async code.
import time

def wait(n):
    try:
        time.sleep(n)
    except IOError, e:
        print >>sys.stderr, \"failed\", `e`
    if n <> 0:
        print \"slept\", n
    exec \"mode = 0777\"
";
    // A module-level print statement next to an async function: the function is still fixed
    // and the Python 2 line is kept as it is.
    let mixed = "import time\nprint \"x\"\n\nasync def f():\n    time.sleep(1)\n";
    let mixed_fixed = "import asyncio\nprint \"x\"\n\nasync def f():\n    await asyncio.sleep(1)\n";
    let dir = project(&[
        ("legacy.py", python2.as_bytes()),
        ("mixed.py", mixed.as_bytes()),
        ("ok.py", BLOCKING.as_bytes()),
    ]);
    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(1), "{}", check.show());
    assert!(!check.stdout.contains("legacy.py"), "{}", check.show());
    assert!(
        check.stdout.contains("mixed.py:5:5: ASYNC251"),
        "{}",
        check.show()
    );
    assert!(
        check.stdout.contains("ok.py:4:5: ASYNC251"),
        "{}",
        check.show()
    );
    assert!(
        check.stdout.contains("(3 files checked)"),
        "{}",
        check.show()
    );
    assert_eq!(check.stderr, "", "{}", check.show());

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    assert!(!fix.stderr.contains("panicked"), "{}", fix.show());
    assert_eq!(read(dir.path(), "legacy.py"), python2.as_bytes());
    assert_eq!(read(dir.path(), "mixed.py"), mixed_fixed.as_bytes());
    assert_eq!(read(dir.path(), "ok.py"), BLOCKING_FIXED.as_bytes());
}

// ---------------------------------------------------------------- size and depth

/// A 20 MB module of ordinary functions with one async function in the middle.
///
/// Measured (2 CPUs): `fix --write` takes ~32 s with the release binary and ~62 s with the
/// debug binary that `cargo test` runs, and peaks at ~3 GB of memory (`check` alone: ~7 s
/// release, ~1.5 GB). Time grows linearly with size; not asserted here.
#[test]
fn a_20_mb_file_is_fixed() {
    let _heavy = heavy();
    let target_size = 20 * 1024 * 1024;
    let mut source = String::with_capacity(target_size + 1024);
    source.push_str("import time\n\n");
    let mut i = 0;
    let mut target_at = None;
    while source.len() < target_size {
        source.push_str(&format!(
            "def func_{i}(a, b):\n    c = a + b * {i}\n    return time.monotonic() + c\n\n\n"
        ));
        i += 1;
        if i == 100_000 {
            target_at = Some(source.len());
            source.push_str("async def target():\n    time.sleep(1)\n\n\n");
        }
    }
    assert!(target_at.is_some(), "the async function is in the file");
    // `time` is still used: `import asyncio` is added, `import time` stays.
    let expected = format!("import asyncio\n{source}").replacen(
        "async def target():\n    time.sleep(1)\n",
        "async def target():\n    await asyncio.sleep(1)\n",
        1,
    );
    let dir = project(&[("big.py", source.as_bytes())]);
    let started = Instant::now();
    let out = unfreeze(dir.path(), &["fix", "--write", "big.py"]).output();
    eprintln!(
        "20 MB file ({} bytes): fix --write took {:?}",
        source.len(),
        started.elapsed()
    );
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stdout.contains("Fixed 1 finding in 1 file; 0 left."),
        "{}",
        out.show()
    );
    let written = read(dir.path(), "big.py");
    assert!(
        written == expected.as_bytes(),
        "the 20 MB file is not exactly the expected fix ({} bytes written, {} expected)",
        written.len(),
        expected.len()
    );
}

/// 10,000 levels of parentheses, of brackets and of a left-nested `+` chain, each in an async
/// function next to a `time.sleep`: a recursive walk would overflow a thread's stack and abort
/// the whole process (not a catchable panic).
#[test]
fn a_10000_deep_nested_expression_does_not_crash_and_the_sleep_next_to_it_is_fixed() {
    const DEPTH: usize = 10_000;
    let expressions = [
        (
            "parens.py",
            format!("{}1{}", "(".repeat(DEPTH), ")".repeat(DEPTH)),
        ),
        (
            "lists.py",
            format!("{}1{}", "[".repeat(DEPTH), "]".repeat(DEPTH)),
        ),
        ("sum.py", vec!["1"; DEPTH].join(" + ")),
    ];
    let sources: Vec<(&str, String)> = expressions
        .iter()
        .map(|(name, expression)| {
            (
                *name,
                format!("import time\n\nasync def f():\n    x = {expression}\n    time.sleep(1)\n"),
            )
        })
        .collect();
    let files: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|(name, source)| (*name, source.as_bytes()))
        .collect();
    let dir = project(&files);
    let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!out.stderr.contains("overflow"), "{}", out.show());
    assert!(
        out.stdout.contains("Fixed 3 findings in 3 files; 0 left."),
        "{}",
        out.show()
    );
    for ((name, expression), (_, source)) in expressions.iter().zip(&sources) {
        let expected = format!(
            "import asyncio\n\nasync def f():\n    x = {expression}\n    await asyncio.sleep(1)\n"
        );
        assert!(
            read(dir.path(), name) == expected.as_bytes(),
            "{name} not fixed as expected (original {} bytes)",
            source.len()
        );
    }
}

/// `check` on `time.sleep(time.sleep(...))` nested `depth` deep (and, with `trailer`, more code
/// after it), failing if it takes more than 60 s (a debug build takes ~5 s of CPU; a loaded
/// 2-core machine running the suite stretched that past 20 s of wall time).
fn check_nested_blocking_calls(depth: usize, trailer: &str) {
    let source = format!(
        "import time\n\nasync def f():\n    x = {}1{}\n{trailer}",
        "time.sleep(".repeat(depth),
        ")".repeat(depth)
    );
    let dir = project(&[("nested.py", source.as_bytes())]);
    // Well under a second (release) when analysis is not cubic; killed and failed after 60 s.
    let out = unfreeze(dir.path(), &["check", "nested.py"])
        .deadline(Duration::from_secs(60))
        .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    // With a broken trailer, its syntax error is one more finding (issue 26).
    let found = depth + usize::from(trailer.contains("(:"));
    assert!(
        out.stdout.contains(&format!("Found {found} findings")),
        "{}",
        out.show()
    );
}

/// Regression: the analysis walked each call's ancestors with tree-sitter's `Node::parent`
/// (itself O(depth)) to look for a broken statement, so N nested calls took O(N^3): with the
/// release binary N = 500 took 2.6 s, N = 1,000 22 s, N = 2,000 178 s. The walk is now done
/// only in files with a syntax error.
#[test]
fn nested_blocking_calls_are_analysed_in_reasonable_time() {
    check_nested_blocking_calls(1_000, "");
}

/// Regression: the same nesting in a file with a syntax error elsewhere took the cubic path
/// (release binary: N = 500 2.6 s, N = 1,000 ~20 s) until the ancestor walk used a cursor.
#[test]
fn nested_blocking_calls_in_a_file_with_a_syntax_error_are_analysed_in_reasonable_time() {
    // The syntax error is a finding of its own (issue 26).
    check_nested_blocking_calls(1_000, "\ndef broken(:\n    pass\n");
}

// ---------------------------------------------------------------- files that are not text

#[test]
fn binary_file_named_py_is_reported_with_its_path_exit_2_and_others_are_fixed() {
    let binary: &[u8] = b"import time\x00\x01\x02\xff\xfe\nasync def f():\n    time.sleep(1)\n";
    let dir = project(&[("pkg/blob.py", binary), ("pkg/ok.py", BLOCKING.as_bytes())]);

    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(2), "{}", check.show());
    assert!(check.stderr.contains("pkg/blob.py"), "{}", check.show());
    assert!(check.stderr.contains("NUL"), "{}", check.show());
    assert!(
        check.stdout.contains("pkg/ok.py:4:5: ASYNC251"),
        "{}",
        check.show()
    );
    assert!(!check.stdout.contains("blob.py"), "{}", check.show());

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(2), "{}", fix.show());
    assert!(fix.stderr.contains("pkg/blob.py"), "{}", fix.show());
    assert!(
        fix.stdout.contains("Fixed 1 finding in 1 file"),
        "{}",
        fix.show()
    );
    assert_eq!(read(dir.path(), "pkg/blob.py"), binary);
    assert_eq!(read(dir.path(), "pkg/ok.py"), BLOCKING_FIXED.as_bytes());
}

// ---------------------------------------------------------------- file system oddities

#[cfg(unix)]
#[test]
fn symlink_loops_in_the_tree_terminate_and_the_other_files_are_checked() {
    use std::os::unix::fs::symlink;
    let dir = project(&[
        ("pkg/a.py", BLOCKING.as_bytes()),
        ("pkg/sub/b.py", BLOCKING.as_bytes()),
    ]);
    symlink(".", dir.path().join("pkg/loop")).unwrap();
    symlink("..", dir.path().join("pkg/sub/up")).unwrap();

    // Symlinks are not followed inside the walk: each file is seen once, no error.
    let output = unfreeze(dir.path(), &["check", "pkg"])
        .deadline(Duration::from_secs(60))
        .output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    assert!(output.stdout.contains("pkg/a.py:4:5"), "{}", output.show());
    assert!(
        output.stdout.contains("pkg/sub/b.py:4:5"),
        "{}",
        output.show()
    );
    assert!(
        output.stdout.contains("Found 2 findings (2 files checked)"),
        "{}",
        output.show()
    );
    assert_eq!(output.stderr, "", "{}", output.show());

    // Named on the command line, the loop is entered once (as a root) and then not followed.
    let through_loop = unfreeze(dir.path(), &["check", "pkg/loop"]).output();
    assert_eq!(through_loop.code, Some(1), "{}", through_loop.show());
    assert!(
        through_loop.stdout.contains("(2 files checked)"),
        "{}",
        through_loop.show()
    );

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    assert_eq!(read(dir.path(), "pkg/a.py"), BLOCKING_FIXED.as_bytes());
    assert_eq!(read(dir.path(), "pkg/sub/b.py"), BLOCKING_FIXED.as_bytes());
    assert!(
        fs::symlink_metadata(dir.path().join("pkg/loop"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is left alone"
    );
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// chmod 000. Without privileges the file cannot be read: it is reported and the others are
/// fixed. With them (root, CAP_DAC_OVERRIDE) it is read and checked like any file, and
/// `fix --write` refuses to replace it because mode 000 has no write bit (write.rs refuses
/// read-only files), so it is still reported and left as it is. The test detects which case
/// applies by reading the file itself, and says which branch ran on stderr.
#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_left_unchanged_and_the_others_are_fixed() {
    let dir = project(&[
        ("locked.py", BLOCKING.as_bytes()),
        ("ok.py", BLOCKING.as_bytes()),
    ]);
    let locked = dir.path().join("locked.py");
    set_mode(&locked, 0o000);
    let readable_anyway = fs::read(&locked).is_ok();

    let check = unfreeze(dir.path(), &["check", "."]).output();
    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    set_mode(&locked, 0o644);
    assert_eq!(read(dir.path(), "locked.py"), BLOCKING.as_bytes());
    assert_eq!(read(dir.path(), "ok.py"), BLOCKING_FIXED.as_bytes());
    assert_eq!(fix.code, Some(2), "{}", fix.show());
    assert!(fix.stderr.contains("locked.py"), "{}", fix.show());
    assert!(
        fix.stdout.contains("Fixed 1 finding in 1 file"),
        "{}",
        fix.show()
    );
    if readable_anyway {
        eprintln!("branch: privileged (chmod 000 does not prevent reading)");
        assert_eq!(check.code, Some(1), "{}", check.show());
        assert!(
            check.stdout.contains("locked.py:4:5: ASYNC251"),
            "{}",
            check.show()
        );
        assert!(
            check.stdout.contains("ok.py:4:5: ASYNC251"),
            "{}",
            check.show()
        );
        assert_eq!(check.stderr, "", "{}", check.show());
        assert!(
            fix.stderr
                .contains("locked.py: could not write the file: the file is read-only"),
            "{}",
            fix.show()
        );
        assert!(
            fix.stdout.contains("locked.py:4:5: ASYNC251"),
            "the finding left is shown\n{}",
            fix.show()
        );
    } else {
        eprintln!("branch: unprivileged (chmod 000 prevents reading)");
        assert_eq!(check.code, Some(2), "{}", check.show());
        assert!(
            check.stderr.contains("locked.py: could not read the file"),
            "{}",
            check.show()
        );
        assert!(
            check.stdout.contains("ok.py:4:5: ASYNC251"),
            "{}",
            check.show()
        );
        assert!(
            fix.stderr.contains("locked.py: could not read the file"),
            "{}",
            fix.show()
        );
    }
}

/// chmod 444 on the file, directory writable. Even where the rename would succeed (any user
/// may rename over a read-only file in a writable directory), unfreeze refuses read-only
/// files: the file is reported, left unchanged (mode included), and the others are written.
#[cfg(unix)]
#[test]
fn read_only_file_under_write_is_reported_left_unchanged_and_the_others_are_written() {
    let dir = project(&[
        ("pkg/frozen.py", BLOCKING.as_bytes()),
        ("pkg/ok.py", BLOCKING.as_bytes()),
    ]);
    let frozen = dir.path().join("pkg/frozen.py");
    set_mode(&frozen, 0o444);
    let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr
            .contains("pkg/frozen.py: could not write the file: the file is read-only"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains("Fixed 1 finding in 1 file; 1 left."),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path(), "pkg/frozen.py"), BLOCKING.as_bytes());
    assert_eq!(mode_of(&frozen), 0o444);
    assert_eq!(read(dir.path(), "pkg/ok.py"), BLOCKING_FIXED.as_bytes());
    assert_eq!(names_in(&dir.path().join("pkg")), ["frozen.py", "ok.py"]);
}

/// Regression: the temporary name (`.NAME.unfreeze-PID-N.tmp`) was ~25 bytes longer than the
/// file's name, so a file whose name is near NAME_MAX (255 bytes) could never be fixed ("File
/// name too long"); write.rs now shortens the name in the temporary one.
#[test]
fn fix_write_fixes_a_file_whose_name_is_near_the_file_name_limit() {
    let name = format!("{}.py", "m".repeat(240));
    let dir = project(&[(&name, BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(read(dir.path(), &name), BLOCKING_FIXED.as_bytes());
}

// ---------------------------------------------------------------- write_atomically

#[test]
fn write_atomically_refuses_a_file_changed_to_other_bytes_of_the_same_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.py");
    fs::write(&path, "x = 2\n").unwrap();
    let err = write_atomically(&path, b"y = 1\n", Fingerprint::of(b"x = 1\n")).unwrap_err();
    assert!(matches!(err, WriteError::Changed), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"x = 2\n");
    assert_eq!(names_in(dir.path()), ["a.py"]);
}

/// The directory became read-only after the file was read, so the temporary file cannot be
/// created. Without privileges: an I/O error, the original intact, nothing left behind. With
/// them (root ignores the directory's mode), the write goes through as usual; the test probes
/// which case applies and says so on stderr.
#[cfg(unix)]
#[test]
fn write_atomically_into_a_directory_that_became_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("ro");
    fs::create_dir(&sub).unwrap();
    let path = sub.join("a.py");
    fs::write(&path, BLOCKING).unwrap();
    set_mode(&sub, 0o555);
    let probe = sub.join(".probe");
    let can_create = fs::File::create(&probe).is_ok();
    if can_create {
        fs::remove_file(&probe).unwrap();
    }
    let result = write_atomically(
        &path,
        BLOCKING_FIXED.as_bytes(),
        Fingerprint::of(BLOCKING.as_bytes()),
    );
    let contents = fs::read(&path).unwrap();
    let names = names_in(&sub);
    set_mode(&sub, 0o755);
    if can_create {
        eprintln!("branch: privileged (a read-only directory does not stop file creation)");
        result.unwrap();
        assert_eq!(contents, BLOCKING_FIXED.as_bytes());
    } else {
        eprintln!("branch: unprivileged (the temporary file cannot be created)");
        match result {
            Err(WriteError::Io(err)) => {
                assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}")
            }
            other => panic!("expected a permission error, got {other:?}"),
        }
        assert_eq!(contents, BLOCKING.as_bytes());
    }
    assert_eq!(names, ["a.py"], "no temporary file left");
}

/// A temporary file that cannot be created whatever the privileges (root ignores a read-only
/// directory): the file's path is a few bytes under PATH_MAX (4,096 with the NUL on Linux), so
/// the file can be read but the temporary file's longer path in the same directory is refused
/// with ENAMETOOLONG. The error is reported, the original is intact, nothing is left behind.
/// (Should unfreeze ever create the temporary file relative to a directory handle, this case
/// would succeed and the test needs another way to make creation fail.)
#[cfg(target_os = "linux")]
#[test]
fn write_atomically_reports_a_temporary_file_that_cannot_be_created_and_keeps_the_original() {
    const PATH_MAX: usize = 4096;
    let dir = tempfile::tempdir().unwrap();
    let mut deep = fs::canonicalize(dir.path()).unwrap();
    // `<deep>/a.py` is 4,087 bytes; `<deep>/.a.py.unfreeze-PID-N.tmp` at least 4,104.
    let deep_len = PATH_MAX - 1 - "/a.py".len() - 3;
    let mut remaining = deep_len - deep.as_os_str().len();
    while remaining > 0 {
        let take = if remaining > 250 { 200 } else { remaining - 1 };
        deep.push("d".repeat(take));
        remaining -= take + 1;
    }
    assert_eq!(deep.as_os_str().len(), deep_len);
    fs::create_dir_all(&deep).unwrap();
    let path = deep.join("a.py");
    fs::write(&path, BLOCKING).unwrap();
    let err = write_atomically(
        &path,
        BLOCKING_FIXED.as_bytes(),
        Fingerprint::of(BLOCKING.as_bytes()),
    )
    .unwrap_err();
    match &err {
        WriteError::Io(io) => assert_eq!(io.raw_os_error(), Some(36), "ENAMETOOLONG: {io}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("could not write the file"),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), BLOCKING.as_bytes());
    assert_eq!(names_in(&deep), ["a.py"]);
}

// ---------------------------------------------------------------- fixes that break files

/// Regression, found while looking for an input that panics (none found): a `create_task`
/// statement right after the import block got its `_background_tasks` declaration inserted at
/// the same offset as its own rewrite, and the edits interleaved into `task = ` followed by a
/// newline, which CPython rejects. tree-sitter-python accepts `task = \n_background_tasks: set
/// = set()` as a chained assignment, so the re-parse guard in fix/mod.rs did not catch it and
/// `fix --write` wrote a file that no longer compiled.
///
/// (Issue 20: the source had `import os` after the call; a set defined before the call would
/// now split the imports, so that file gets no fix, `tests/reviewer_layout.rs`. Without it
/// the declaration and the rewrite still share their offset.)
#[test]
fn fix_write_keeps_a_create_task_right_after_the_imports_valid() {
    let source = "import asyncio\nasyncio.create_task(g())\nprint('imported')\n";
    let dir = project(&[("tasks.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "tasks.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let fixed = String::from_utf8(read(dir.path(), "tasks.py")).unwrap();
    let lines: Vec<&str> = fixed.lines().collect();
    for line in &lines {
        assert!(
            !line.trim_end().ends_with('='),
            "an assignment without a value:\n{fixed}"
        );
    }
    let declaration = lines
        .iter()
        .position(|l| l.starts_with("_background_tasks: set = set()"))
        .unwrap_or_else(|| panic!("no declaration:\n{fixed}"));
    let call = lines
        .iter()
        .position(|l| *l == "task = asyncio.create_task(g())")
        .unwrap_or_else(|| panic!("the call is not stored in `task`:\n{fixed}"));
    assert!(declaration < call, "{fixed}");
    assert_eq!(
        fixed.matches("_background_tasks.add(").count(),
        1,
        "one task, one add:\n{fixed}"
    );
}

// ---------------------------------------------------------------- panics

/// Run with the panic test hook: analysing a file named `boom.py` panics (src/run.rs,
/// `UNFREEZE_TEST_PANIC_ON`, docs/reliability.md). One worker thread, so the files analysed
/// after the panic use the same thread, and its parser, as the one that panicked.
fn with_panic_on_boom(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let run = unfreeze(dir, args)
        .env("UNFREEZE_TEST_PANIC_ON", "boom.py")
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("RUST_BACKTRACE");
    match stdin {
        Some(text) => run.stdin(text),
        None => run,
    }
    .output()
}

/// A panic while analysing one file is caught: the file is reported with its path and the
/// panic's message, left byte for byte, every other file is still checked and fixed, and the
/// run exits 2; read from stdin, the source is given back unchanged. Without the hook the same
/// file is fixed like the others.
#[test]
fn a_panic_while_analysing_one_file_is_reported_with_its_path_and_the_run_goes_on() {
    let names = ["a.py", "boom.py", "c.py", "d.py", "e.py"];
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, BLOCKING.as_bytes())).collect();
    let dir = project(&files);
    let message = "boom.py: internal error while analysing this file (please report it): \
                   deliberate panic (UNFREEZE_TEST_PANIC_ON=boom.py)";

    let check = with_panic_on_boom(dir.path(), &["check", "."], None);
    assert_eq!(check.code, Some(2), "{}", check.show());
    assert!(check.stderr.contains(message), "{}", check.show());
    for name in names.iter().filter(|n| **n != "boom.py") {
        let finding = format!("{name}:4:5: ASYNC251");
        assert!(check.stdout.contains(&finding), "{}", check.show());
    }
    assert!(!check.stdout.contains("boom.py:"), "{}", check.show());

    let fix = with_panic_on_boom(dir.path(), &["fix", "--write", "."], None);
    assert_eq!(fix.code, Some(2), "{}", fix.show());
    assert!(fix.stderr.contains(message), "{}", fix.show());
    assert!(
        fix.stdout.contains("Fixed 4 findings in 4 files"),
        "{}",
        fix.show()
    );
    for name in names {
        let expected = if name == "boom.py" {
            BLOCKING
        } else {
            BLOCKING_FIXED
        };
        assert_eq!(read(dir.path(), name), expected.as_bytes(), "{name}");
    }

    let stdin = with_panic_on_boom(
        dir.path(),
        &["fix", "--stdin-filename", "boom.py", "-"],
        Some(BLOCKING),
    );
    assert_eq!(stdin.code, Some(2), "{}", stdin.show());
    assert!(stdin.stderr.contains(message), "{}", stdin.show());
    assert_eq!(stdin.stdout, BLOCKING, "the source is given back unchanged");

    let control = unfreeze(dir.path(), &["fix", "--write", "boom.py"]).output();
    assert_eq!(control.code, Some(0), "{}", control.show());
    assert_eq!(read(dir.path(), "boom.py"), BLOCKING_FIXED.as_bytes());
}
