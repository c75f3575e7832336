//! Bad input that tests/cli.rs and tests/reliability.rs did not cover yet (docs/reliability.md
//! has the table of every bad input, its behaviour and its test): mixed and CR-only line
//! endings, a coding cookie unfreeze cannot write back, a fix that would span a syntax error,
//! files changed or deleted between reading and writing (through the real run loop), and a
//! closed stdout under `fix --write`. Each one checks the message (file and reason) and that
//! nothing is lost, byte for byte.

mod common;

use common::{Run, project};

use std::fs;
use std::path::{Path, PathBuf};

use unfreeze::codemod::Registry;
use unfreeze::config::{Config, PerFileIgnores};
use unfreeze::outcome::{FileReport, Summary};
use unfreeze::report::Reporter;
use unfreeze::run::run;
use unfreeze::settings::{Mode, Settings};

const BLOCKING: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
const BLOCKING_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";

/// `unfreeze ARGS --color=never --isolated` in `dir`, its output decoded lossily.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args)
        .args(["--color=never", "--isolated"])
        .env_remove("NO_COLOR")
        .lossy()
}

fn read(dir: &Path, path: &str) -> Vec<u8> {
    fs::read(dir.join(path)).unwrap()
}

// ---------------------------------------------------------------- line endings

/// Each line keeps its own ending: LF, CRLF and a lone CR mixed in one file, and a file with CR
/// only. Inserted lines (the import) take the file's most common ending.
#[test]
fn mixed_and_cr_only_line_endings_are_kept_line_by_line() {
    let mixed = b"import time\r\n\nasync def f():\r\n    time.sleep(1)\n    time.sleep(2)\r\n";
    let mixed_fixed: &[u8] = b"import asyncio\r\n\nasync def f():\r\n    \
        await asyncio.sleep(1)\n    await asyncio.sleep(2)\r\n";
    let cr = b"import time\r\rasync def f():\r    time.sleep(1)\r";
    let cr_fixed: &[u8] = b"import asyncio\r\rasync def f():\r    await asyncio.sleep(1)\r";
    let dir = project(&[("mixed.py", mixed), ("cr.py", cr)]);

    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(1), "{}", check.show());
    assert!(
        check.stdout.contains("mixed.py:5:5: ASYNC251"),
        "{}",
        check.show()
    );
    assert!(
        check.stdout.contains("cr.py:4:5: ASYNC251"),
        "{}",
        check.show()
    );

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    assert_eq!(read(dir.path(), "mixed.py"), mixed_fixed);
    assert_eq!(read(dir.path(), "cr.py"), cr_fixed);
    let again = unfreeze(dir.path(), &["fix", "."]).output();
    assert_eq!(again.code, Some(0), "{}", again.show());
}

// ---------------------------------------------------------------- encodings

/// A PEP 263 cookie naming an encoding unfreeze does not handle, on a file that is not UTF-8:
/// reported with the path and the encoding's name, exit 2, the file untouched, the others
/// fixed.
#[test]
fn unknown_coding_cookie_is_reported_and_the_file_left_byte_for_byte() {
    let klingon: &[u8] =
        b"# -*- coding: klingon -*-\nimport time\n\nasync def f():\n    s = '\xe9'\n    time.sleep(1)\n";
    let dir = project(&[("klingon.py", klingon), ("ok.py", BLOCKING.as_bytes())]);
    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(2), "{}", fix.show());
    assert!(
        fix.stderr
            .contains("klingon.py: the coding cookie declares `klingon`"),
        "{}",
        fix.show()
    );
    assert_eq!(read(dir.path(), "klingon.py"), klingon);
    assert_eq!(read(dir.path(), "ok.py"), BLOCKING_FIXED.as_bytes());
}

// ---------------------------------------------------------------- syntax errors

/// A multi-line call whose arguments hold a syntax error: the finding is reported with the
/// reason, the syntax error too, and no fix is made, even with `--unsafe-fixes`: the file
/// stays byte for byte. (Until issue 26 the call on the other side of the error was fixed:
/// a file that does not compile was rewritten without a word.)
#[test]
fn no_fix_is_made_in_a_file_with_a_syntax_error() {
    let source = "\
import requests
import time


async def fetch(url):
    r = requests.get(url,
        timeout=$)
    return r.text


async def pause():
    time.sleep(1)
";
    let dir = project(&[("broken.py", source.as_bytes())]);
    let check = unfreeze(dir.path(), &["check", "--format", "json", "broken.py"]).output();
    assert_eq!(check.code, Some(1), "{}", check.show());
    let findings: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let rows: Vec<(u64, bool)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["location"]["row"].as_u64().unwrap(), f["fix"].is_object()))
        .collect();
    assert_eq!(
        rows,
        [(6, false), (7, false), (12, false)],
        "{}",
        check.show()
    );
    assert_eq!(findings[1]["code"], "SyntaxError", "{}", check.show());
    assert!(
        findings[0]["no_fix_reason"]
            .as_str()
            .is_some_and(|r| r.contains("syntax error")),
        "{}",
        check.show()
    );

    let fix = unfreeze(
        dir.path(),
        &["fix", "--write", "--unsafe-fixes", "broken.py"],
    )
    .output();
    assert_eq!(fix.code, Some(1), "{}", fix.show());
    assert_eq!(
        String::from_utf8(read(dir.path(), "broken.py")).unwrap(),
        source
    );
}

// ---------------------------------------------------------------- changed between read and write

/// A reporter that, when it is handed `trigger`'s report (after that file was written), does
/// something to the tree, the way an editor or `git checkout` could while unfreeze runs. A run
/// replayed from the cache writes the files in sorted order, each just before its report, so
/// the later files are changed after they were read and before they are written. (Any other
/// run writes each file as soon as its outcome is final, `run/as_ready.rs`, through the same
/// `write_atomically`.)
struct Meddler {
    trigger: PathBuf,
    meddle: Option<Box<dyn FnOnce()>>,
    reports: Vec<(String, Option<String>)>,
}

impl Reporter for Meddler {
    fn file(&mut self, report: &FileReport) -> std::io::Result<()> {
        if report.path == self.trigger
            && let Some(meddle) = self.meddle.take()
        {
            meddle();
        }
        self.reports
            .push((report.display_path.clone(), report.write_error.clone()));
        Ok(())
    }

    fn stdin_file(&mut self, _: &FileReport, _: &[u8]) -> std::io::Result<()> {
        unreachable!("no stdin in this test")
    }

    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

/// b.py gets new content of its own, c.py is deleted and d.py gets other bytes of the same
/// length, all after unfreeze read them: none is overwritten (c.py is not recreated), each is
/// reported as changed on disk, and the run counts them as errors (exit 2).
#[test]
fn files_changed_or_deleted_after_they_were_read_are_not_overwritten() {
    let dir = project(&[
        ("a.py", BLOCKING.as_bytes()),
        ("b.py", BLOCKING.as_bytes()),
        ("c.py", BLOCKING.as_bytes()),
        ("d.py", BLOCKING.as_bytes()),
    ]);
    let root = fs::canonicalize(dir.path()).unwrap();
    let edited = "import time\n\n# edited by hand meanwhile\nasync def f():\n    time.sleep(5)\n";
    let same_length = BLOCKING.replace("sleep(1)", "sleep(9)");
    let meddle = {
        let root = root.clone();
        let same_length = same_length.clone();
        move || {
            fs::write(root.join("b.py"), edited).unwrap();
            fs::remove_file(root.join("c.py")).unwrap();
            fs::write(root.join("d.py"), &same_length).unwrap();
        }
    };
    let mut reporter = Meddler {
        trigger: root.join("a.py"),
        meddle: Some(Box::new(meddle)),
        reports: Vec::new(),
    };
    let config = Config::default();
    let settings = Settings {
        mode: Mode::Fix {
            write: true,
            unsafe_fixes: false,
        },
        paths: vec![root.clone()],
        stdin_filename: None,
        read_stdin: false,
        exclude: Vec::new(),
        forced_excludes: None,
        selection: Default::default(),
        per_file_ignores: PerFileIgnores::new(&config),
        config,
        progress: false,
        line_scope: None,
        cache_dir: Some(root.join(".cache")),
        file_timeout: None,
    };
    let registry = Registry::bundled().unwrap();
    // A first run without writing fills the cache, so the run below is replayed from it.
    let mut filling = Meddler {
        trigger: PathBuf::new(),
        meddle: None,
        reports: Vec::new(),
    };
    let diff_only = Settings {
        mode: Mode::Fix {
            write: false,
            unsafe_fixes: false,
        },
        ..settings.clone()
    };
    run(&diff_only, &registry, &mut filling).unwrap();
    let summary = run(&settings, &registry, &mut reporter).unwrap();

    assert!(reporter.meddle.is_none(), "a.py was reported");
    assert_eq!(
        fs::read_to_string(root.join("a.py")).unwrap(),
        BLOCKING_FIXED
    );
    assert_eq!(fs::read_to_string(root.join("b.py")).unwrap(), edited);
    assert!(!root.join("c.py").exists(), "c.py was recreated");
    assert_eq!(fs::read_to_string(root.join("d.py")).unwrap(), same_length);
    let errors: Vec<(String, Option<String>)> = reporter
        .reports
        .iter()
        .map(|(path, error)| {
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), error.clone())
        })
        .collect();
    let changed = Some("the file changed on disk since it was read; not overwritten".to_owned());
    assert_eq!(
        errors,
        [
            ("a.py".to_owned(), None),
            ("b.py".to_owned(), changed.clone()),
            ("c.py".to_owned(), changed.clone()),
            ("d.py".to_owned(), changed),
        ]
    );
    assert_eq!(summary.errors, 3, "{summary:?}");
    assert_eq!(summary.fixed, 1, "{summary:?}");
    assert_eq!(
        summary.exit_status(settings.mode),
        unfreeze::outcome::ExitStatus::Error
    );
    let names: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains(".unfreeze-")),
        "a temporary file was left: {names:?}"
    );
}

// ---------------------------------------------------------------- closed stdout

/// Regression: `fix --write . | head -1` stopped at the first report that could not be printed
/// and exited 0 with most files silently left unfixed (213 of 300 here). Now every file is
/// still written, and the exit code tells what the summary would have (1: a finding is left
/// in each file).
#[test]
fn fix_write_with_a_closed_stdout_still_writes_every_file() {
    // Each file: a sleep that is fixed, and a call without a fix that is reported (so every
    // file prints a line). (It was a sleep in a broken statement until syntax errors stopped
    // every fix of their file, issue 26.)
    let source = "import os\nimport time\n\nasync def f():\n    time.sleep(1)\n\nasync def g():\n    os.fdopen(3)\n";
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        fs::write(dir.path().join(format!("m{i:03}.py")), source).unwrap();
    }
    let (first, output) =
        unfreeze(dir.path(), &["fix", "--write", "."]).first_line_then_close_stdout();
    assert!(first.starts_with("m000.py:8:5: ASYNC231"), "{first}");
    let stderr = &output.stderr;
    assert_eq!(output.code, Some(1), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    let expected = source
        .replace("import os\nimport time\n", "import asyncio\nimport os\n")
        .replace("time.sleep(1)", "await asyncio.sleep(1)");
    for i in 0..300 {
        let name = format!("m{i:03}.py");
        assert_eq!(
            fs::read_to_string(dir.path().join(&name)).unwrap(),
            expected,
            "{name} was not written"
        );
    }
}

// ---------------------------------------------------------------- command line under --write

/// An unknown rule code (command line or configuration) stops `fix --write` before any file is
/// read: the code is named, exit 2, and no file is touched.
#[test]
fn unknown_rule_code_under_fix_write_touches_no_file() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "--select", "ASYNC999", "."]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("unknown rule code") && out.stderr.contains("ASYNC999"),
        "{}",
        out.show()
    );
    assert_eq!(out.stdout, "", "{}", out.show());
    assert_eq!(read(dir.path(), "a.py"), BLOCKING.as_bytes());

    let configured = project(&[
        ("a.py", BLOCKING.as_bytes()),
        ("unfreeze.toml", b"ignore = [\"NOPE1\"]\n"),
    ]);
    let out = common::unfreeze(
        configured.path(),
        &["fix", "--write", "--config", "unfreeze.toml", "."],
    )
    .lossy()
    .output();
    let stderr = &out.stderr;
    assert_eq!(out.code, Some(2), "{stderr}");
    assert!(
        stderr.contains("unfreeze.toml") && stderr.contains("NOPE1"),
        "{stderr}"
    );
    assert_eq!(read(configured.path(), "a.py"), BLOCKING.as_bytes());
}

/// A path that does not exist, next to one that does, under `fix --write`: the missing one is
/// named on stderr, exit 2, and the existing one is still fixed.
#[test]
fn missing_path_under_fix_write_is_reported_and_the_other_path_is_written() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "nowhere/gone.py", "a.py"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("nowhere/gone.py") && out.stderr.contains("no such file"),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path(), "a.py"), BLOCKING_FIXED.as_bytes());
    assert!(!dir.path().join("nowhere").exists());
}
