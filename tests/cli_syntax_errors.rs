//! Syntax errors reported as ruff reports them (issue 26): a file unfreeze analyses that
//! tree-sitter cannot parse gets a `SyntaxError` finding with its line and column in every
//! output format, `check` exits 1, and the file is never rewritten (`fix`, `fix --write`,
//! `check --fix`, stdin) — the run says so. A file the lexical pre-pass skips is not parsed,
//! so its syntax errors are not reported (docs/ruff-users.md says why).

mod common;

use std::fs;

use common::{project, unfreeze};
use serde_json::Value;

/// Three blocking sleeps, the middle one in a broken statement.
const BROKEN: &str = "\
import time


async def before():
    time.sleep(1)


async def broken():
    time.sleep(2, $)


async def after():
    time.sleep(3)
";

#[test]
fn check_reports_the_syntax_error_with_its_line_and_column_and_exits_1() {
    let dir = project(&[("broken.py", BROKEN.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--no-cache", "broken.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout
            .contains("broken.py:9:19: SyntaxError: Invalid syntax: unexpected `$`"),
        "{}",
        out.show()
    );
    // The other findings are reported, without a fix: the file will not be rewritten.
    assert!(
        out.stdout.contains("broken.py:5:5: ASYNC251"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains("broken.py:13:5: ASYNC251"),
        "{}",
        out.show()
    );
    assert!(!out.stdout.contains("= fix:"), "{}", out.show());
    assert!(
        out.stdout
            .contains("no fix: the file has a syntax error (line 9)"),
        "{}",
        out.show()
    );
    // `--exit-zero` does not hide it either way: the finding is there, the status is 0.
    let zero = unfreeze(
        dir.path(),
        &["check", "--no-cache", "--exit-zero", "broken.py"],
    )
    .output();
    assert_eq!(zero.code, Some(0), "{}", zero.show());
    assert!(zero.stdout.contains("SyntaxError"), "{}", zero.show());
}

#[test]
fn every_output_format_carries_the_syntax_error() {
    let dir = project(&[("broken.py", BROKEN.as_bytes())]);
    let run = |format: &str| {
        let out = unfreeze(
            dir.path(),
            &[
                "check",
                "--no-cache",
                "--output-format",
                format,
                "broken.py",
            ],
        )
        .output();
        assert_eq!(out.code, Some(1), "{format}: {}", out.show());
        out
    };

    let json = run("json");
    let findings: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let error = findings
        .iter()
        .find(|f| f["code"] == "SyntaxError")
        .unwrap_or_else(|| panic!("no SyntaxError\n{}", json.show()));
    assert_eq!(error["location"]["row"], 9, "{}", json.show());
    assert_eq!(error["location"]["column"], 19, "{}", json.show());
    assert!(error["fix"].is_null(), "{}", json.show());
    assert!(
        findings.iter().all(|f| f["fix"].is_null()),
        "{}",
        json.show()
    );

    let sarif = run("sarif");
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| r["ruleId"] == "SyntaxError")
        .unwrap_or_else(|| panic!("no SyntaxError\n{}", sarif.show()));
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 9, "{}", sarif.show());
    assert_eq!(region["startColumn"], 19, "{}", sarif.show());

    let github = run("github");
    assert!(
        github.stdout.contains(
            "file=broken.py,line=9,col=19,endLine=9,endColumn=20::SyntaxError: Invalid syntax"
        ),
        "{}",
        github.show()
    );
}

#[test]
fn fix_write_leaves_a_broken_file_byte_for_byte_and_says_why() {
    let dir = project(&[("broken.py", BROKEN.as_bytes())]);
    let out = unfreeze(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--no-cache",
            "broken.py",
        ],
    )
    .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.py")).unwrap(),
        BROKEN
    );
    assert!(
        out.stdout.contains("broken.py:9:19: SyntaxError:"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains("Fixed 0 findings in 0 files; 4 left."),
        "{}",
        out.show()
    );

    // ruff's spelling, the same.
    let ruff = unfreeze(dir.path(), &["check", "--fix", "--no-cache", "broken.py"]).output();
    assert_eq!(ruff.code, Some(1), "{}", ruff.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.py")).unwrap(),
        BROKEN
    );
}

#[test]
fn fix_shows_no_diff_for_a_broken_file_and_says_it_is_not_fixed() {
    let ok = "import time\n\n\nasync def f():\n    time.sleep(1)\n";
    let dir = project(&[("broken.py", BROKEN.as_bytes()), ("ok.py", ok.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--no-cache", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(!out.stdout.contains("+++ b/broken.py"), "{}", out.show());
    // The other file's diff is there.
    assert!(out.stdout.contains("+++ b/ok.py"), "{}", out.show());
    assert!(
        out.stderr.contains(
            "broken.py:9:19: SyntaxError: Invalid syntax: unexpected `$` (the file is not fixed"
        ),
        "{}",
        out.show()
    );
}

#[test]
fn fix_from_stdin_gives_a_broken_buffer_back_unchanged() {
    let dir = project(&[]);
    let out = unfreeze(
        dir.path(),
        &["fix", "--no-cache", "--stdin-filename", "broken.py", "-"],
    )
    .stdin(BROKEN)
    .output();
    assert_eq!(out.stdout, BROKEN, "{}", out.show());
    assert!(
        out.stderr.contains("SyntaxError: Invalid syntax"),
        "{}",
        out.show()
    );
}

#[test]
fn a_missing_token_and_a_statement_that_cannot_be_parsed_are_reported_where_they_are() {
    let source = "\
import time


def helper(:
    return 1


async def f():
    time.sleep(1)
    x = (1,
    return x
";
    let dir = project(&[("broken.py", source.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--no-cache", "broken.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout
            .contains("broken.py:4:12: SyntaxError: Expected `)`"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("broken.py:10:5: SyntaxError: Invalid syntax: cannot parse `x = (1,`"),
        "{}",
        out.show()
    );
}

/// The documented difference from ruff: a file the lexical pre-pass skips (no blocking call
/// unfreeze knows, no `async`, no function or import a project rule may follow) is not parsed,
/// so its syntax error is not reported.
#[test]
fn a_file_the_pre_pass_skips_is_not_parsed_for_syntax_errors() {
    let dir = project(&[("plain.py", b"print(1 +)\n")]);
    let out = unfreeze(dir.path(), &["check", "--no-cache", "plain.py"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!out.stdout.contains("SyntaxError"), "{}", out.show());
}
