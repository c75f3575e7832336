//! `fix --plan` and `apply`: the plan records each file's SHA-256 and fixed content, `apply`
//! writes exactly what `fix --write` would have written, and only to unchanged files.

mod common;

use std::fs;

use common::{project, unfreeze};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
const SLEEPY_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";
/// A negative delay makes the fix unsafe.
const UNSAFE: &str = "import time\n\nasync def g():\n    time.sleep(-1)\n";
const OTHER: &str = "import subprocess\n\nasync def h():\n    subprocess.run(['ls'])\n";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_plan(dir: &std::path::Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
}

fn file<'a>(plan: &'a Value, path: &str) -> &'a Value {
    plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} in the plan: {plan:#}"))
}

#[test]
fn plan_records_hashes_findings_and_the_diff_it_prints() {
    let dir = project(&[
        ("a.py", SLEEPY.as_bytes()),
        ("pkg/b.py", OTHER.as_bytes()),
        ("clean.py", b"x = 1\n"),
    ]);
    let out = unfreeze(dir.path(), &["fix", "--plan", "plan.json", "."]).output();
    assert_eq!(out.code, Some(1), "fixes proposed: {}", out.show());
    assert!(
        out.stdout.contains("+    await asyncio.sleep(1)"),
        "{}",
        out.show()
    );
    let plan = read_plan(dir.path());
    assert_eq!(plan["format"], "unfreeze-plan");
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["unsafe_fixes"], false);
    assert_eq!(plan["files"].as_array().unwrap().len(), 2, "{plan:#}");
    let a = file(&plan, "a.py");
    assert_eq!(a["sha256"], sha256(SLEEPY.as_bytes()));
    assert_eq!(a["fixed"]["content"], SLEEPY_FIXED);
    assert_eq!(a["fixed"]["encoding"], "utf-8");
    assert_eq!(a["fixed"]["sha256"], sha256(SLEEPY_FIXED.as_bytes()));
    let diff = a["fixed"]["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- a/a.py\n+++ b/a.py\n"), "{diff}");
    assert!(
        out.stdout.contains(diff),
        "the plan's diff is the one printed"
    );
    let finding = &a["findings"][0];
    assert_eq!(finding["code"], "ASYNC251");
    assert_eq!(finding["applicability"], "safe");
    assert_eq!(finding["applied"], true);
    assert_eq!(finding["location"]["row"], 4);
    assert_eq!(finding["location"]["column"], 5);
    assert_eq!(file(&plan, "pkg/b.py")["findings"][0]["code"], "ASYNC221");
    // Planning writes nothing.
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), SLEEPY);
}

#[test]
fn apply_writes_what_fix_write_writes() {
    let files: &[(&str, &[u8])] = &[("a.py", SLEEPY.as_bytes()), ("pkg/b.py", OTHER.as_bytes())];
    let planned = project(files);
    let written = project(files);
    let out = unfreeze(planned.path(), &["fix", "--plan", "plan.json", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    let out = unfreeze(planned.path(), &["apply", "plan.json"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stdout.contains("applied: a.py"), "{}", out.show());
    assert!(out.stdout.contains("applied: pkg/b.py"), "{}", out.show());
    let out = unfreeze(written.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    for path in ["a.py", "pkg/b.py"] {
        assert_eq!(
            fs::read(planned.path().join(path)).unwrap(),
            fs::read(written.path().join(path)).unwrap(),
            "{path}"
        );
    }
    // Applying again: every file already has its fixed content.
    let again = unfreeze(planned.path(), &["apply", "plan.json"]).output();
    assert_eq!(again.code, Some(0), "{}", again.show());
    assert!(
        again.stdout.contains("already applied: a.py"),
        "{}",
        again.show()
    );
}

#[test]
fn apply_refuses_changed_and_removed_files_by_name_and_applies_the_rest() {
    let dir = project(&[
        ("a.py", SLEEPY.as_bytes()),
        ("b.py", OTHER.as_bytes()),
        ("c.py", SLEEPY.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["fix", "--plan", "plan.json", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    let edited = format!("{SLEEPY}# edited after the plan\n");
    fs::write(dir.path().join("b.py"), &edited).unwrap();
    fs::remove_file(dir.path().join("c.py")).unwrap();
    let out = unfreeze(dir.path(), &["apply", "plan.json"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stderr
            .contains("refused: b.py: changed since the plan was made"),
        "{}",
        out.show()
    );
    assert!(
        out.stderr.contains("refused: c.py: no longer exists"),
        "{}",
        out.show()
    );
    assert_eq!(fs::read_to_string(dir.path().join("b.py")).unwrap(), edited);
    assert!(!dir.path().join("c.py").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("a.py")).unwrap(),
        SLEEPY_FIXED
    );
}

#[test]
fn apply_check_and_all_or_nothing_write_nothing() {
    let dir = project(&[("a.py", SLEEPY.as_bytes()), ("b.py", OTHER.as_bytes())]);
    unfreeze(dir.path(), &["fix", "--plan", "plan.json", "."]).output();
    let out = unfreeze(dir.path(), &["apply", "--check", "plan.json"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stdout.contains("would apply: a.py"), "{}", out.show());
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), SLEEPY);

    fs::write(dir.path().join("b.py"), "# changed\n").unwrap();
    let out = unfreeze(dir.path(), &["apply", "--all-or-nothing", "plan.json"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(out.stderr.contains("refused: b.py"), "{}", out.show());
    assert!(
        out.stderr.contains("refused: a.py: not written"),
        "{}",
        out.show()
    );
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), SLEEPY);
}

#[test]
fn plan_respects_unsafe_fixes() {
    let dir = project(&[("u.py", UNSAFE.as_bytes())]);
    unfreeze(dir.path(), &["fix", "--plan", "plan.json", "u.py"]).output();
    let plan = read_plan(dir.path());
    let u = file(&plan, "u.py");
    assert!(u["fixed"].is_null(), "no safe fix: {plan:#}");
    assert_eq!(u["findings"][0]["applicability"], "unsafe");
    assert_eq!(u["findings"][0]["applied"], false);
    assert!(u["findings"][0]["caveat"].is_string(), "{plan:#}");
    let out = unfreeze(dir.path(), &["apply", "plan.json"]).output();
    assert_eq!(out.code, Some(0), "nothing to apply: {}", out.show());
    assert_eq!(fs::read_to_string(dir.path().join("u.py")).unwrap(), UNSAFE);

    unfreeze(
        dir.path(),
        &["fix", "--unsafe-fixes", "--plan", "plan.json", "u.py"],
    )
    .output();
    let plan = read_plan(dir.path());
    assert_eq!(plan["unsafe_fixes"], true);
    assert_eq!(file(&plan, "u.py")["findings"][0]["applied"], true);
    let out = unfreeze(dir.path(), &["apply", "plan.json"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        fs::read_to_string(dir.path().join("u.py"))
            .unwrap()
            .contains("await asyncio.sleep(-1)")
    );
}

#[test]
fn apply_refuses_a_damaged_or_foreign_plan() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    unfreeze(dir.path(), &["fix", "--plan", "plan.json", "a.py"]).output();
    let mut plan = read_plan(dir.path());
    plan["files"][0]["fixed"]["content"] = Value::from("import os\n");
    fs::write(dir.path().join("edited.json"), plan.to_string()).unwrap();
    let out = unfreeze(dir.path(), &["apply", "edited.json"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("does not match its sha256"),
        "{}",
        out.show()
    );
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), SLEEPY);

    plan["version"] = Value::from(99);
    fs::write(dir.path().join("future.json"), plan.to_string()).unwrap();
    let out = unfreeze(dir.path(), &["apply", "future.json"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("plan version 99 is not supported"),
        "{}",
        out.show()
    );

    fs::write(dir.path().join("other.json"), "[1, 2]").unwrap();
    let out = unfreeze(dir.path(), &["apply", "other.json"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("is not an unfreeze plan"),
        "{}",
        out.show()
    );

    let out = unfreeze(dir.path(), &["apply", "missing.json"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("could not read the plan missing.json"),
        "{}",
        out.show()
    );
}

#[test]
fn latin1_file_is_planned_in_base64_and_applied_byte_for_byte() {
    let source: &[u8] =
        b"# -*- coding: latin-1 -*-\nimport time\n\nasync def f():\n    time.sleep(1)  # caf\xe9\n";
    let planned = project(&[("latin.py", source)]);
    let written = project(&[("latin.py", source)]);
    unfreeze(planned.path(), &["fix", "--plan", "plan.json", "latin.py"]).output();
    let plan = read_plan(planned.path());
    assert_eq!(file(&plan, "latin.py")["fixed"]["encoding"], "base64");
    let out = unfreeze(planned.path(), &["apply", "plan.json"]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    unfreeze(written.path(), &["fix", "--write", "latin.py"]).output();
    let applied = fs::read(planned.path().join("latin.py")).unwrap();
    assert_eq!(applied, fs::read(written.path().join("latin.py")).unwrap());
    assert!(applied.ends_with(b"# caf\xe9\n"));
}

#[test]
fn plan_conflicts_with_write_and_stdin() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--write", "--plan", "p.json", "a.py"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    let out = unfreeze(dir.path(), &["fix", "--plan", "p.json", "-"]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("--plan needs files"), "{}", out.show());
    assert!(!dir.path().join("p.json").exists());
}

#[test]
fn exit_non_zero_on_fix_reports_a_changed_file() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let out = unfreeze(
        dir.path(),
        &["fix", "--write", "--exit-non-zero-on-fix", "a.py"],
    )
    .output();
    assert_eq!(out.code, Some(1), "a file was changed: {}", out.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("a.py")).unwrap(),
        SLEEPY_FIXED
    );
    let out = unfreeze(
        dir.path(),
        &["fix", "--write", "--exit-non-zero-on-fix", "a.py"],
    )
    .output();
    assert_eq!(out.code, Some(0), "nothing left: {}", out.show());
    let out = unfreeze(dir.path(), &["fix", "--exit-non-zero-on-fix", "a.py"]).output();
    assert_eq!(out.code, Some(2), "needs --write: {}", out.show());
}
