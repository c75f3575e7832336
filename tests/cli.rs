//! End-to-end tests of the `unfreeze` binary: exit codes, where output goes, what `fix` writes
//! (and keeps: line endings, BOM, encoding, permissions), stdin, JSON, colour, discovery and a
//! closed stdout. Each test runs the real binary in its own temporary directory.

mod common;

use common::{Run, project};

use std::fs;
use std::path::Path;

use serde_json::Value;

/// One async function with one blocking sleep (finding at 4:5).
const BLOCKING: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
/// `BLOCKING` after `fix --write`: the unused `import time` is replaced by `import asyncio`.
const BLOCKING_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";
const CLEAN: &str = "import time\n\n\ndef f():\n    time.sleep(1)\n";

/// `unfreeze ARGS` in `dir`, whatever NO_COLOR the tests run with.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args).env_remove("NO_COLOR")
}

/// The display paths of the findings in text output (`path:row:col: CODE ...` lines).
fn finding_paths(stdout: &str) -> Vec<String> {
    let mut paths: Vec<String> = stdout
        .lines()
        .filter(|line| line.contains(": ASYNC251"))
        .map(|line| line.split(':').next().unwrap().to_owned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

// ---------------------------------------------------------------- exit codes and commands

#[test]
fn check_on_a_clean_file_exits_0() {
    let dir = project(&[("clean.py", CLEAN.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "clean.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stdout.contains("No blocking calls found"),
        "{}",
        out.show()
    );
    assert!(!out.stdout.contains("ASYNC251"), "{}", out.show());
}

#[test]
fn check_on_a_file_with_a_finding_exits_1_and_prints_it() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(out.stdout.contains("a.py:4:5: ASYNC251"), "{}", out.show());
    assert!(out.stdout.contains("Found 1 finding"), "{}", out.show());
}

#[test]
fn missing_path_exits_2_names_it_on_stderr_and_other_paths_are_still_checked() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "missing_dir/nope.py", "a.py"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("missing_dir/nope.py"), "{}", out.show());
    assert!(
        !out.stdout.contains("nope.py"),
        "errors belong on stderr\n{}",
        out.show()
    );
    assert!(
        out.stdout.contains("a.py:4:5: ASYNC251"),
        "the existing path must still be checked\n{}",
        out.show()
    );
}

#[test]
fn unknown_select_code_exits_2_before_checking() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--select", "NOPE", "a.py"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("unknown rule code"), "{}", out.show());
    assert!(out.stderr.contains("NOPE"), "{}", out.show());
    assert!(!out.stdout.contains("ASYNC251"), "{}", out.show());
}

#[test]
fn unknown_ignore_code_exits_2() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--ignore", "NOPE", "a.py"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("unknown rule code"), "{}", out.show());
}

#[test]
fn select_by_prefix_and_ignore_change_what_is_reported() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let selected = unfreeze(dir.path(), &["check", "--select", "async", "a.py"]).output();
    assert_eq!(selected.code, Some(1), "{}", selected.show());
    assert!(selected.stdout.contains("ASYNC251"), "{}", selected.show());
    let ignored = unfreeze(dir.path(), &["check", "--ignore", "ASYNC251", "a.py"]).output();
    assert_eq!(ignored.code, Some(0), "{}", ignored.show());
    assert!(!ignored.stdout.contains("a.py:4:5"), "{}", ignored.show());
}

#[test]
fn invalid_exclude_glob_exits_2() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--exclude", "a[", "."]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("a["), "{}", out.show());
    assert!(!out.stdout.contains("ASYNC251"), "{}", out.show());
}

#[test]
fn explain_prints_the_rule_documentation_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    for code in ["ASYNC251", "blocking-sleep"] {
        let out = unfreeze(dir.path(), &["explain", code]).output();
        assert_eq!(out.code, Some(0), "{}", out.show());
        assert!(
            out.stdout.starts_with("# ASYNC251 (blocking-sleep)"),
            "{}",
            out.show()
        );
        assert!(out.stdout.contains("## Why is this bad?"), "{}", out.show());
        assert!(out.stdout.contains("asyncio.sleep"), "{}", out.show());
    }
}

#[test]
fn explain_unknown_rule_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(dir.path(), &["explain", "NOPE"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("NOPE"), "{}", out.show());
    assert!(out.stdout.is_empty(), "{}", out.show());
}

#[test]
fn rules_lists_async251() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(dir.path(), &["rules"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let line = out
        .stdout
        .lines()
        .find(|line| line.starts_with("ASYNC251"))
        .unwrap_or_else(|| panic!("no ASYNC251 line\n{}", out.show()));
    assert!(line.contains("blocking-sleep"), "{line}");
    assert!(line.contains("safe"), "{line}");
}

// ---------------------------------------------------------------- fix

#[test]
fn fix_without_write_prints_a_diff_writes_nothing_and_exits_1() {
    let dir = project(&[("pkg/a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "pkg/a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout
            .starts_with("--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ "),
        "{}",
        out.show()
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    for expected in [
        "-import time",
        "+import asyncio",
        "-    time.sleep(1)",
        "+    await asyncio.sleep(1)",
    ] {
        assert!(
            lines.contains(&expected),
            "missing `{expected}`\n{}",
            out.show()
        );
    }
    assert!(
        !out.stdout.contains("Would fix"),
        "the summary belongs on stderr\n{}",
        out.show()
    );
    assert!(out.stderr.contains("Would fix 1 finding"), "{}", out.show());
    assert_eq!(
        fs::read(dir.path().join("pkg/a.py")).unwrap(),
        BLOCKING.as_bytes(),
        "fix without --write must not touch the file"
    );
}

#[test]
fn fix_write_rewrites_a_directory_is_idempotent_and_check_is_then_clean() {
    let multi = "\
import time
from time import sleep as nap


async def poll(delay):
    time.sleep(delay)
    nap(delay)
    return time.monotonic()
";
    let multi_fixed = "\
import asyncio
import time


async def poll(delay):
    await asyncio.sleep(delay)
    await asyncio.sleep(delay)
    return time.monotonic()
";
    let dir = project(&[
        ("src/a.py", BLOCKING.as_bytes()),
        ("src/sub/multi.py", multi.as_bytes()),
        ("src/clean.py", CLEAN.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["fix", "--write", "src"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stdout.contains("Fixed 3 findings in 2 files"),
        "{}",
        out.show()
    );
    let read = |p: &str| fs::read_to_string(dir.path().join(p)).unwrap();
    assert_eq!(read("src/a.py"), BLOCKING_FIXED);
    assert_eq!(read("src/sub/multi.py"), multi_fixed);
    assert_eq!(read("src/clean.py"), CLEAN);
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let again = unfreeze(dir.path(), &["fix", "--write", "src"]).output();
    assert_eq!(again.code, Some(0), "{}", again.show());
    assert!(
        again.stdout.contains("Fixed 0 findings"),
        "{}",
        again.show()
    );
    assert_eq!(read("src/a.py"), BLOCKING_FIXED);
    assert_eq!(read("src/sub/multi.py"), multi_fixed);

    let check = unfreeze(dir.path(), &["check", "src"]).output();
    assert_eq!(check.code, Some(0), "{}", check.show());
    assert!(
        check.stdout.contains("(3 files checked)"),
        "{}",
        check.show()
    );
}

#[test]
fn fix_write_exits_1_when_a_finding_is_left_unfixed() {
    // A negative delay makes the fix unsafe: not applied without --unsafe-fixes.
    let source = "import time\n\nasync def f():\n    time.sleep(-1)\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout.contains("a.py:4:5: ASYNC251"),
        "the finding left is shown\n{}",
        out.show()
    );
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), source);

    let out = unfreeze(dir.path(), &["fix", "--write", "--unsafe-fixes", "a.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("a.py")).unwrap(),
        "import asyncio\n\nasync def f():\n    await asyncio.sleep(-1)\n"
    );
}

#[test]
fn fix_write_keeps_crlf_line_endings() {
    let source = "import time\r\n\r\nasync def f():\r\n    time.sleep(1)\r\n";
    let dir = project(&[("crlf.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "crlf.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        fs::read(dir.path().join("crlf.py")).unwrap(),
        b"import asyncio\r\n\r\nasync def f():\r\n    await asyncio.sleep(1)\r\n"
    );
}

#[test]
fn fix_write_keeps_a_utf8_bom() {
    let mut source = b"\xEF\xBB\xBF".to_vec();
    source.extend_from_slice(BLOCKING.as_bytes());
    let dir = project(&[("bom.py", &source)]);
    let out = unfreeze(dir.path(), &["fix", "--write", "bom.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let mut expected = b"\xEF\xBB\xBF".to_vec();
    expected.extend_from_slice(BLOCKING_FIXED.as_bytes());
    assert_eq!(fs::read(dir.path().join("bom.py")).unwrap(), expected);
}

#[cfg(unix)]
#[test]
fn fix_write_keeps_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[("script.py", BLOCKING.as_bytes())]);
    let path = dir.path().join("script.py");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
    let out = unfreeze(dir.path(), &["fix", "--write", "script.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(fs::read_to_string(&path).unwrap(), BLOCKING_FIXED);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o750, "mode {mode:o}");
}

#[test]
fn fix_write_keeps_a_latin1_file_latin1() {
    let source: &[u8] = b"# -*- coding: latin-1 -*-\nimport time\n\nasync def f():\n    \
        s = 'caf\xe9'\n    time.sleep(1)  # d\xe9j\xe0 vu\n";
    let expected: &[u8] = b"# -*- coding: latin-1 -*-\nimport asyncio\n\nasync def f():\n    \
        s = 'caf\xe9'\n    await asyncio.sleep(1)  # d\xe9j\xe0 vu\n";
    let dir = project(&[("latin.py", source)]);
    let out = unfreeze(dir.path(), &["fix", "--write", "latin.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(fs::read(dir.path().join("latin.py")).unwrap(), expected);
}

#[test]
fn non_utf8_file_without_cookie_is_reported_and_other_files_are_still_processed() {
    let bad: &[u8] = b"import time\ns = 'caf\xe9'\n\nasync def f():\n    time.sleep(1)\n";
    let dir = project(&[("bad.py", bad), ("ok.py", BLOCKING.as_bytes())]);

    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(2), "{}", check.show());
    assert!(check.stderr.contains("bad.py"), "{}", check.show());
    assert!(check.stderr.contains("UTF-8"), "{}", check.show());
    assert_eq!(finding_paths(&check.stdout), ["ok.py"], "{}", check.show());

    let fix = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(fix.code, Some(2), "{}", fix.show());
    assert!(fix.stderr.contains("bad.py"), "{}", fix.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("ok.py")).unwrap(),
        BLOCKING_FIXED
    );
    assert_eq!(fs::read(dir.path().join("bad.py")).unwrap(), bad);
}

// ---------------------------------------------------------------- syntax errors

const BROKEN: &str = "\
import time


async def before():
    time.sleep(1)


async def broken():
    time.sleep(2, $)


async def after():
    time.sleep(3)
";

/// Every finding of a file with a syntax error is reported, the syntax error too, and none
/// gets a fix: the file is never rewritten. (Until issue 26 the calls before and after the
/// error were fixed: a file that does not compile was rewritten without a word.)
#[test]
fn syntax_error_elsewhere_does_not_hide_findings_and_the_file_is_not_rewritten() {
    let dir = project(&[("broken.py", BROKEN.as_bytes())]);

    let json = unfreeze(dir.path(), &["check", "--format", "json", "broken.py"]).output();
    assert_eq!(json.code, Some(1), "{}", json.show());
    let findings: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let rows: Vec<(u64, &str, bool)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["row"].as_u64().unwrap(),
                f["code"].as_str().unwrap(),
                f["fix"].is_object(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (5, "ASYNC251", false),
            (9, "ASYNC251", false),
            (9, "SyntaxError", false),
            (13, "ASYNC251", false)
        ],
        "{}",
        json.show()
    );
    assert!(
        findings[0]["no_fix_reason"]
            .as_str()
            .is_some_and(|r| r.contains("syntax error")),
        "{}",
        json.show()
    );

    let fix = unfreeze(dir.path(), &["fix", "--write", "broken.py"]).output();
    assert_eq!(fix.code, Some(1), "every finding is left\n{}", fix.show());
    assert!(
        fix.stdout.contains("broken.py:9:5: ASYNC251"),
        "{}",
        fix.show()
    );
    assert!(fix.stdout.contains("syntax error"), "{}", fix.show());
    let fixed = fs::read_to_string(dir.path().join("broken.py")).unwrap();
    assert_eq!(fixed, BROKEN);
}

#[test]
fn sleep_in_a_statement_with_a_syntax_error_gets_no_fix() {
    // tree-sitter repairs `[time.sleep(2) for ]` into a list holding the call and an ERROR
    // node for `for`: the syntax error is reported, and no call of the file gets a fix.
    let source = "\
import time


async def broken():
    y = [time.sleep(2) for ]


async def after():
    time.sleep(3)
";
    let dir = project(&[("broken.py", source.as_bytes())]);
    let json = unfreeze(dir.path(), &["check", "--format", "json", "broken.py"]).output();
    let findings: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let after = findings
        .iter()
        .find(|f| f["location"]["row"] == 9)
        .unwrap_or_else(|| panic!("the finding after the error is reported\n{}", json.show()));
    assert!(after["fix"].is_null(), "{}", json.show());
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "SyntaxError" && f["location"]["row"] == 5),
        "{}",
        json.show()
    );
    for finding in &findings {
        assert!(
            finding["fix"].is_null(),
            "no call of a broken file is fixed\n{}",
            json.show()
        );
    }
    let fix = unfreeze(dir.path(), &["fix", "broken.py"]).output();
    assert!(!fix.stdout.contains("+++ "), "{}", fix.show());
}

// ---------------------------------------------------------------- stdin

#[test]
fn check_stdin_reports_findings_under_the_stdin_filename() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(
        dir.path(),
        &["check", "-", "--stdin-filename", "src/app.py"],
    )
    .stdin(BLOCKING)
    .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout.contains("src/app.py:4:5: ASYNC251"),
        "{}",
        out.show()
    );
    assert!(
        !dir.path().join("src").exists(),
        "nothing is written for stdin"
    );
}

#[test]
fn fix_stdin_prints_the_whole_fixed_source() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(dir.path(), &["fix", "-", "--stdin-filename", "src/app.py"])
        .stdin(BLOCKING)
        .output();
    // Like `fix` without --write: a proposed fix means exit 1.
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(out.stdout, BLOCKING_FIXED, "{}", out.show());
    assert!(out.stderr.contains("Would fix 1 finding"), "{}", out.show());
}

#[test]
fn fix_stdin_prints_clean_source_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(dir.path(), &["fix", "-"]).stdin(CLEAN).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(out.stdout, CLEAN, "{}", out.show());
}

#[test]
fn stdin_cannot_be_combined_with_other_paths() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "-", "a.py"])
        .stdin(BLOCKING)
        .output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("stdin"), "{}", out.show());
}

// ---------------------------------------------------------------- JSON

fn assert_location(value: &Value, row: u64, column: u64) {
    assert_eq!(value["row"].as_u64(), Some(row), "{value}");
    assert_eq!(value["column"].as_u64(), Some(column), "{value}");
}

#[test]
fn json_format_reports_findings_with_their_fix() {
    let dir = project(&[
        ("a.py", BLOCKING.as_bytes()),
        ("clean.py", CLEAN.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["check", "--format", "json", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    let findings: Vec<Value> = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("not a JSON array ({err})\n{}", out.show()));
    assert_eq!(findings.len(), 1, "{}", out.show());
    let finding = &findings[0];
    assert_eq!(finding["code"], "ASYNC251");
    assert_eq!(finding["name"], "blocking-sleep");
    assert!(
        finding["message"].as_str().unwrap().contains("time.sleep"),
        "{finding}"
    );
    assert_eq!(finding["filename"], "a.py");
    assert_location(&finding["location"], 4, 5);
    assert_location(&finding["end_location"], 4, 18);
    let fix = &finding["fix"];
    assert_eq!(fix["applicability"], "safe");
    assert!(
        fix["message"].as_str().unwrap().contains("asyncio.sleep"),
        "{fix}"
    );
    assert_eq!(fix["applied"], false, "check applies nothing");
    let edits = fix["edits"].as_array().unwrap();
    assert!(!edits.is_empty(), "{fix}");
    for edit in edits {
        assert!(edit["content"].is_string(), "{edit}");
        assert!(edit["location"]["row"].is_u64(), "{edit}");
        assert!(edit["end_location"]["column"].is_u64(), "{edit}");
    }
    let call = edits
        .iter()
        .find(|e| e["content"] == "await asyncio.sleep")
        .unwrap_or_else(|| panic!("no edit of the callee: {fix}"));
    assert_location(&call["location"], 4, 5);
    assert_location(&call["end_location"], 4, 15);
}

#[test]
fn json_format_in_fix_marks_the_fix_applied() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--format", "json", "a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    let findings: Vec<Value> = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err})\n{}", out.show()));
    assert_eq!(findings.len(), 1, "{}", out.show());
    assert_eq!(findings[0]["fix"]["applied"], true, "{}", out.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("a.py")).unwrap(),
        BLOCKING
    );
}

#[test]
fn json_format_with_no_findings_is_an_empty_array() {
    let dir = project(&[("clean.py", CLEAN.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--format", "json", "clean.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value, Value::Array(Vec::new()));
}

// ---------------------------------------------------------------- colour

const ESC: &str = "\x1b[";

#[test]
fn color_always_emits_ansi_escapes() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--color", "always", "a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(out.stdout.contains(ESC), "{}", out.show());
    let diff = unfreeze(dir.path(), &["fix", "--color", "always", "a.py"]).output();
    assert!(diff.stdout.contains(ESC), "{}", diff.show());
}

#[test]
fn color_never_emits_no_ansi_escapes() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    for args in [
        &["check", "--color", "never", "a.py", "missing.py"][..],
        &["fix", "--color", "never", "a.py"][..],
    ] {
        let out = unfreeze(dir.path(), args).output();
        assert!(
            out.stdout.contains("ASYNC251") || out.stdout.contains("+++"),
            "{}",
            out.show()
        );
        assert!(!out.stdout.contains(ESC), "{}", out.show());
        assert!(!out.stderr.contains(ESC), "{}", out.show());
    }
}

#[test]
fn color_auto_honours_no_color() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(
        dir.path(),
        &["check", "--color", "auto", "a.py", "missing.py"],
    )
    .env("NO_COLOR", "1")
    .output();
    assert!(out.stdout.contains("ASYNC251"), "{}", out.show());
    assert!(!out.stdout.contains(ESC), "{}", out.show());
    assert!(!out.stderr.contains(ESC), "{}", out.show());
}

#[test]
fn color_always_wins_over_no_color() {
    // main.rs: NO_COLOR is consulted only in `auto`; an explicit `always` is obeyed.
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--color", "always", "a.py"])
        .env("NO_COLOR", "1")
        .output();
    assert!(out.stdout.contains(ESC), "{}", out.show());
}

// ---------------------------------------------------------------- discovery

#[test]
fn discovery_skips_gitignored_files_and_excluded_directories() {
    let dir = project(&[
        (".gitignore", b"ignored.py\nbuild/\n"),
        ("app/main.py", BLOCKING.as_bytes()),
        ("app/generated/api.py", BLOCKING.as_bytes()),
        ("generated/top.py", BLOCKING.as_bytes()),
        ("build/out.py", BLOCKING.as_bytes()),
        ("ignored.py", BLOCKING.as_bytes()),
        ("venv/lib/dep.py", BLOCKING.as_bytes()),
        ("notes.txt", BLOCKING.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["check", "--exclude", "generated", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        finding_paths(&out.stdout),
        ["app/main.py"],
        "{}",
        out.show()
    );
    assert!(out.stdout.contains("(1 file checked)"), "{}", out.show());

    // Without --exclude the generated directories are checked: the exclusion did the work.
    let all = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(
        finding_paths(&all.stdout),
        ["app/generated/api.py", "app/main.py", "generated/top.py"],
        "{}",
        all.show()
    );
}

#[test]
fn explicitly_named_file_is_checked_even_if_excluded_or_gitignored() {
    let dir = project(&[
        (".gitignore", b"ignored.py\n"),
        ("generated/api.py", BLOCKING.as_bytes()),
        ("ignored.py", BLOCKING.as_bytes()),
    ]);
    let out = unfreeze(
        dir.path(),
        &[
            "check",
            "--exclude",
            "generated",
            "--exclude",
            "ignored.py",
            "generated/api.py",
            "ignored.py",
        ],
    )
    .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        finding_paths(&out.stdout),
        ["generated/api.py", "ignored.py"],
        "{}",
        out.show()
    );
}

#[test]
fn force_exclude_skips_named_files_the_configured_excludes_match() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.unfreeze]\nexclude = [\"migrations\", \"/gen\"]\n",
        ),
        ("app/migrations/m1.py", BLOCKING.as_bytes()),
        ("gen/api.py", BLOCKING.as_bytes()),
        ("app/gen/kept.py", BLOCKING.as_bytes()),
        ("app/views.py", BLOCKING.as_bytes()),
        (".venv/lib/site.py", BLOCKING.as_bytes()),
    ]);
    let named = [
        "app/migrations/m1.py",
        "gen/api.py",
        "app/gen/kept.py",
        "app/views.py",
        ".venv/lib/site.py",
    ];
    let run = |dir: &Path, flags: &[&str], files: &[&str]| {
        let mut args = vec!["check"];
        args.extend(flags);
        args.extend(files);
        unfreeze(dir, &args).output()
    };
    // Named files are checked whatever the excludes say...
    let out = run(dir.path(), &[], &named);
    assert_eq!(finding_paths(&out.stdout).len(), 5, "{}", out.show());
    // ...unless forced: the anchored `/gen` is the configuration's directory's only.
    let out = run(dir.path(), &["--force-exclude"], &named);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        finding_paths(&out.stdout),
        ["app/gen/kept.py", "app/views.py"],
        "{}",
        out.show()
    );
    // From a subdirectory the patterns are still the configuration file's.
    let out = run(
        &dir.path().join("app"),
        &["--force-exclude"],
        &["migrations/m1.py", "gen/kept.py", "views.py"],
    );
    assert_eq!(
        finding_paths(&out.stdout),
        ["gen/kept.py", "views.py"],
        "{}",
        out.show()
    );
    // Only excluded files named: nothing checked, exit 0.
    let out = run(
        dir.path(),
        &["--force-exclude"],
        &["app/migrations/m1.py", "gen"],
    );
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(finding_paths(&out.stdout).is_empty(), "{}", out.show());
    // `force-exclude = true` in the file; `--no-force-exclude` wins over it.
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.unfreeze]\nexclude = [\"migrations\"]\nforce-exclude = true\n",
    )
    .unwrap();
    let out = run(dir.path(), &[], &["app/migrations/m1.py", "app/views.py"]);
    assert_eq!(
        finding_paths(&out.stdout),
        ["app/views.py"],
        "{}",
        out.show()
    );
    let out = run(
        dir.path(),
        &["--no-force-exclude"],
        &["app/migrations/m1.py", "app/views.py"],
    );
    assert_eq!(finding_paths(&out.stdout).len(), 2, "{}", out.show());
}

#[test]
fn force_exclude_passes_excluded_stdin_through_untouched() {
    let dir = project(&[(
        "pyproject.toml",
        b"[tool.unfreeze]\nexclude = [\"migrations\"]\n",
    )]);
    let args = |command: &'static str| {
        vec![
            command,
            "--force-exclude",
            "--stdin-filename",
            "app/migrations/m1.py",
            "-",
        ]
    };
    let out = unfreeze(dir.path(), &args("check"))
        .stdin(BLOCKING)
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!out.stdout.contains("ASYNC251"), "{}", out.show());
    let out = unfreeze(dir.path(), &args("fix")).stdin(BLOCKING).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(out.stdout, BLOCKING, "{}", out.show());
    // A name the excludes do not match is fixed as usual.
    let out = unfreeze(
        dir.path(),
        &[
            "fix",
            "--force-exclude",
            "--stdin-filename",
            "app/views.py",
            "-",
        ],
    )
    .stdin(BLOCKING)
    .output();
    assert_eq!(out.stdout, BLOCKING_FIXED, "{}", out.show());
}

#[test]
fn pyi_files_are_checked() {
    let dir = project(&[("pkg/stub.pyi", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        finding_paths(&out.stdout),
        ["pkg/stub.pyi"],
        "{}",
        out.show()
    );
}

// ---------------------------------------------------------------- imports

#[test]
fn import_listed_in_dunder_all_is_kept_after_fixing() {
    let source = "\
from time import sleep

__all__ = [\"sleep\", \"main\"]


async def main():
    sleep(1)
";
    let dir = project(&[("api.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "api.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("api.py")).unwrap(),
        "\
import asyncio
from time import sleep

__all__ = [\"sleep\", \"main\"]


async def main():
    await asyncio.sleep(1)
"
    );
}

#[test]
fn unused_import_time_is_removed_after_fixing() {
    let source = "\
import logging
import time

log = logging.getLogger()


async def main():
    time.sleep(1)
";
    let dir = project(&[("a.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "a.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let fixed = fs::read_to_string(dir.path().join("a.py")).unwrap();
    assert!(!fixed.contains("import time"), "{fixed}");
    assert!(fixed.contains("import asyncio\n"), "{fixed}");
    assert!(fixed.contains("import logging\n"), "{fixed}");
    assert!(fixed.contains("    await asyncio.sleep(1)\n"), "{fixed}");
}

// ---------------------------------------------------------------- closed stdout

#[test]
fn closed_stdout_exits_cleanly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("import time\n\n");
    for i in 0..40 {
        body.push_str(&format!("async def f{i}():\n    time.sleep({i})\n\n"));
    }
    for i in 0..50 {
        fs::write(dir.path().join(format!("m{i:02}.py")), &body).unwrap();
    }
    let (first, output) = unfreeze(dir.path(), &["check", "."])
        .lossy()
        .first_line_then_close_stdout();
    assert!(first.starts_with("m00.py:4:5: ASYNC251"), "{first}");
    let stderr = &output.stderr;
    assert!(
        matches!(output.code, Some(0 | 1)),
        "exit status {:?}, stderr:\n{stderr}",
        output.code
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

// ---------------------------------------------------------------- diffs that git accepts

/// `fix`'s diff, applied with `git apply`, gives exactly what `fix --write` writes: for LF and
/// CRLF files, a file without a final newline, and paths git has to quote (a quote, a
/// backslash, a tab, non-ASCII) or to end with a tab (a space).
#[test]
fn fix_diff_round_trips_through_git_apply_and_matches_write() {
    let crlf = BLOCKING.replace('\n', "\r\n");
    let no_final_newline = "import time\n\nasync def f():\n    time.sleep(1)";
    let files: [(&str, &[u8]); 8] = [
        ("lf.py", BLOCKING.as_bytes()),
        ("pkg/crlf.py", crlf.as_bytes()),
        ("tail.py", no_final_newline.as_bytes()),
        ("with space/my file .py", BLOCKING.as_bytes()),
        ("quo\"te.py", BLOCKING.as_bytes()),
        ("back\\slash.py", BLOCKING.as_bytes()),
        ("tab\tname.py", BLOCKING.as_bytes()),
        ("ünïcode/café.py", BLOCKING.as_bytes()),
    ];
    let via_git = project(&files);
    let via_write = project(&files);
    let git = |args: &[&str]| {
        let out = Run::new("git")
            .args(args)
            .current_dir(via_git.path())
            .output();
        assert_eq!(out.code, Some(0), "git {args:?} failed\n{}", out.show());
    };
    git(&["init", "-q"]);
    let diff = unfreeze(via_git.path(), &["fix", "--color=never", "."]).output();
    assert_eq!(diff.code, Some(1), "{}", diff.stderr);
    assert!(
        diff.stdout.contains("--- \"a/quo\\\"te.py\"\n")
            && diff.stdout.contains("--- a/with space/my file .py\t\n")
            && diff
                .stdout
                .contains("+++ \"b/\\303\\274n\\303\\257code/caf\\303\\251.py\"\n"),
        "{}",
        diff.stdout
    );
    fs::write(via_git.path().join("fixes.diff"), &diff.stdout).unwrap();
    git(&["apply", "--check", "fixes.diff"]);
    git(&["apply", "fixes.diff"]);
    let write = unfreeze(via_write.path(), &["fix", "--write", "."]).output();
    assert_eq!(write.code, Some(0), "{}", write.stderr);
    for (path, _) in files {
        assert_eq!(
            fs::read(via_git.path().join(path)).unwrap(),
            fs::read(via_write.path().join(path)).unwrap(),
            "{path}: git apply and --write differ"
        );
    }
    let crlf_fixed = fs::read_to_string(via_write.path().join("pkg/crlf.py")).unwrap();
    assert!(crlf_fixed.contains("import asyncio\r\n") && !crlf_fixed.contains("asyncio\n"));
}

// ---------------------------------------------------------------- github and statistics

#[test]
fn github_format_prints_one_annotation_per_finding() {
    let dir = project(&[("pkg/a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--format", "github", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        out.stdout.trim_end(),
        "::error title=unfreeze (ASYNC251),file=pkg/a.py,line=4,col=5,endLine=4,endColumn=18::\
         ASYNC251 `time.sleep` blocks the event loop in async function `f` \
         (fix, safe: Replace with `await asyncio.sleep(...)`)"
    );
}

#[test]
fn statistics_counts_findings_per_rule() {
    let two_sleeps = format!("{BLOCKING}    time.sleep(2)\n");
    let dir = project(&[
        ("a.py", two_sleeps.as_bytes()),
        ("b.py", b"async def g():\n    open('x')\n"),
    ]);
    let out = unfreeze(dir.path(), &["check", "--statistics", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "2  ASYNC251  blocking-sleep  (2 fixable)",
            "1  ASYNC230  blocking-open"
        ]
    );
    let fix = unfreeze(dir.path(), &["fix", "--statistics", "."]).output();
    assert_eq!(fix.code, Some(2));
    assert!(
        fix.stderr.contains("only for `unfreeze check`"),
        "{}",
        fix.show()
    );
}

// ---------------------------------------------------------------- configuration

const OPENS: &str = "async def g():\n    open('x')\n";

#[test]
fn pyproject_configuration_selects_ignores_and_ignores_per_file() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"svc\"\n\n[tool.unfreeze]\nignore = [\"ASYNC230\"]\n\
              [tool.unfreeze.per-file-ignores]\n\"tests/*\" = [\"ASYNC251\"]\n",
        ),
        ("app/a.py", format!("{BLOCKING}{OPENS}").as_bytes()),
        ("tests/test_a.py", BLOCKING.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["check", "--format", "json", "."]).output();
    let findings: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let found: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("app/a.py".to_owned(), "ASYNC251".to_owned())],
        "{}",
        out.show()
    );

    // `--isolated` ignores the file; `--select` on the command line wins over it.
    let isolated = unfreeze(dir.path(), &["check", "--isolated", "--statistics", "."]).output();
    assert_eq!(
        isolated.stdout.lines().collect::<Vec<_>>(),
        [
            "2  ASYNC251  blocking-sleep  (2 fixable)",
            "1  ASYNC230  blocking-open"
        ]
    );
}

/// A nested call makes `fix` go round again on the fixed text; that round must still honour
/// the per-file ignores (it used to fix the ignored rule's findings).
#[test]
fn per_file_ignored_rule_is_not_fixed_in_a_later_fix_round() {
    let source = "import time\nimport requests\n\n\nasync def f(url):\n    time.sleep(1)\n    \
                  return requests.get(requests.get(url).text)\n";
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.unfreeze.per-file-ignores]\n\"a.py\" = [\"ASYNC251\"]\n",
        ),
        ("a.py", source.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let fixed = fs::read_to_string(dir.path().join("a.py")).unwrap();
    assert!(fixed.contains("    time.sleep(1)\n"), "{fixed}");
    // One hop for the nested calls (issue 20: the nested second hop was the bug).
    assert!(
        fixed.contains(
            "return await asyncio.to_thread(lambda: requests.get(requests.get(url).text))"
        ),
        "{fixed}"
    );
}

#[test]
fn unfreeze_toml_is_nearer_than_pyproject_and_config_flag_picks_a_file() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.unfreeze]\nselect = [\"ASYNC230\"]\n",
        ),
        ("pkg/unfreeze.toml", b"select = [\"ASYNC251\"]\n"),
        ("pkg/a.py", format!("{BLOCKING}{OPENS}").as_bytes()),
    ]);
    let nearest = unfreeze(dir.path(), &["check", "--statistics", "pkg"]).output();
    assert_eq!(
        nearest.stdout.trim(),
        "1  ASYNC251  blocking-sleep  (1 fixable)"
    );
    let chosen = unfreeze(
        dir.path(),
        &["check", "--statistics", "--config", "pyproject.toml", "pkg"],
    )
    .output();
    assert_eq!(chosen.stdout.trim(), "1  ASYNC230  blocking-open");
}

#[test]
fn invalid_configuration_exits_2_naming_file_and_key_before_reading_files() {
    for (config, key) in [
        ("[tool.unfreeze]\nselct = [\"ASYNC\"]\n", "selct"),
        ("[tool.unfreeze]\nselect = [\"NOPE1\"]\n", "NOPE1"),
        (
            "[tool.unfreeze]\nhttp-client = \"aiohttp\"\n",
            "http-client",
        ),
        ("[tool.unfreeze]\nselect = \"ASYNC\"\n", "select"),
    ] {
        let dir = project(&[
            ("pyproject.toml", config.as_bytes()),
            ("a.py", BLOCKING.as_bytes()),
        ]);
        let out = unfreeze(dir.path(), &["fix", "--write", "."]).output();
        assert_eq!(out.code, Some(2), "{config}: {}", out.show());
        assert!(out.stderr.contains("pyproject.toml"), "{}", out.show());
        assert!(out.stderr.contains(key), "{config}: {}", out.show());
        assert_eq!(
            out.stdout, "",
            "nothing reported before the configuration is valid"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("a.py")).unwrap(),
            BLOCKING,
            "no file touched"
        );
    }
}

#[test]
fn http_client_httpx2_targets_the_fork_in_the_requests_rewrite() {
    let dir = project(&[
        ("unfreeze.toml", b"http-client = \"httpx2\"\n"),
        (
            "app.py",
            b"import requests\n\n\nasync def f(url):\n    r = requests.get(url)\n    return r.status_code\n",
        ),
    ]);
    let out = unfreeze(
        dir.path(),
        &["fix", "--unsafe-fixes", "--color=never", "app.py"],
    )
    .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(out.stdout.contains("+import httpx2\n"), "{}", out.show());
    assert!(
        out.stdout.contains(
            // requests' defaults are written once per module (issue 23: not four keyword
            // lines per call).
            "+    async with httpx2.AsyncClient(**_REQUESTS_DEFAULTS) as client:\n"
        ),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("_HTTPX_SSL_CONTEXT = httpx2.create_ssl_context()"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains("+        r = await client.get(url)"),
        "{}",
        out.show()
    );
    assert!(
        out.stderr.contains("unsafe fix in the diff"),
        "{}",
        out.show()
    );
}

#[test]
fn per_file_ignores_hold_in_the_second_round_of_nested_fixes() {
    // The nested calls need a second round of fixes; the ignored rule's finding must not be
    // fixed in that round either.
    let source = "import os\nimport subprocess\nimport time\n\nasync def f(p):\n    \
                  subprocess.run([\"ls\", os.path.realpath(p)])\n    time.sleep(1)\n";
    let dir = project(&[
        ("a.py", source.as_bytes()),
        (
            "unfreeze.toml",
            b"[per-file-ignores]\n\"a.py\" = [\"ASYNC251\"]\n",
        ),
    ]);
    let out = unfreeze(dir.path(), &["fix", "--write", "a.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let fixed = fs::read_to_string(dir.path().join("a.py")).unwrap();
    assert!(
        // One hop for the nested calls (issue 20).
        fixed.contains(
            "await asyncio.to_thread(lambda: subprocess.run([\"ls\", os.path.realpath(p)]))"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains("    time.sleep(1)\n"),
        "ignored rule left alone:\n{fixed}"
    );
}
