//! A transitive finding's chain hop by hop (UNF401): a coroutine of one module calls a method
//! of a second, which calls a function of a third making the blocking call. Every hop, from
//! the coroutine's call to the blocking one, is shown with its `path:line:col` (the column in
//! characters) and the call as written on one line: as note lines under the finding in the
//! text output, as a `chain` array in the JSON, as SARIF `codeFlows` (valid against the
//! official schema), the same from the result cache. The message is unchanged; a direct finding has no chain.

mod common;

use common::sarif_schema::validate;
use common::{Output, project, unfreeze};

use serde_json::{Value, json};

const MAIN: &str = "from app.store import Store


async def handle(key):
    print(\"handling\")
    return Store.load(
        key,
    )
";

/// A non-ASCII character before the call: its column counts characters (29), not bytes (30).
const STORE: &str = "from app.disk import exists


class Store:
    @staticmethod
    def load(key):
        note = \"é\"; found = exists(f\"/tmp/{key}\")
        return found and note
";

const DISK: &str = "import os


def exists(path):
    return os.path.exists(path)
";

/// A direct finding, which has no chain.
const TICK: &str = "import time\n\nasync def tick():\n    time.sleep(1)\n";

const MESSAGE: &str = "`Store.load(...)` blocks the event loop in async function `handle`: \
                       handle -> Store.load -> exists -> os.path.exists (blocking call at \
                       app/disk.py:5)";

fn app() -> tempfile::TempDir {
    project(&[
        ("app/__init__.py", b""),
        ("app/main.py", MAIN.as_bytes()),
        ("app/store.py", STORE.as_bytes()),
        ("app/disk.py", DISK.as_bytes()),
        ("app/tick.py", TICK.as_bytes()),
    ])
}

fn check(dir: &tempfile::TempDir, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--isolated"];
    args.extend_from_slice(extra);
    args.push(".");
    let out = unfreeze(dir.path(), &args).output();
    assert_eq!(out.code, Some(1), "findings: {}", out.show());
    out
}

/// The hops as `(path, row, column, function, call)`.
fn expected() -> [(&'static str, u64, u64, &'static str, &'static str); 3] {
    [
        ("app/main.py", 6, 12, "handle", "Store.load(key,)"),
        (
            "app/store.py",
            7,
            29,
            "Store.load",
            "exists(f\"/tmp/{key}\")",
        ),
        ("app/disk.py", 5, 12, "exists", "os.path.exists(path)"),
    ]
}

#[test]
fn text_shows_one_note_line_per_hop_under_the_finding() {
    let dir = app();
    let out = check(&dir, &["--no-cache"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("app/main.py:6:12: UNF401"))
        .unwrap_or_else(|| panic!("the finding: {}", out.show()));
    assert!(lines[head].ends_with(MESSAGE), "{}", lines[head]);
    let notes: Vec<&str> = lines[head..]
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("= chain:"))
        .collect();
    let wanted: Vec<String> = expected()
        .iter()
        .map(|(path, row, column, _, call)| format!("  = chain: {path}:{row}:{column}  {call}"))
        .collect();
    assert_eq!(notes, wanted, "{}", out.stdout);
    // The direct finding (in a file sorted after main.py) has none.
    assert_eq!(out.stdout.matches("= chain:").count(), 3, "{}", out.stdout);
    // Under the source line and its carets, before the fix.
    let first = lines.iter().position(|l| *l == wanted[0]).unwrap();
    let fix = lines
        .iter()
        .position(|l| l.starts_with("  = fix:"))
        .unwrap();
    assert!(lines[first - 1].trim_end().ends_with('^'), "{}", out.stdout);
    assert!(fix > first + 2, "{}", out.stdout);
}

fn json_chain(out: &Output) -> Value {
    let findings: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 2, "{}", out.stdout);
    let finding = &findings[0];
    assert_eq!(findings[1]["filename"], "app/tick.py");
    assert!(findings[1].get("chain").is_none(), "{}", out.stdout);
    // The old fields are unchanged.
    assert_eq!(finding["code"], "UNF401");
    assert_eq!(finding["message"], MESSAGE);
    assert_eq!(finding["filename"], "app/main.py");
    assert_eq!(finding["location"], json!({"row": 6, "column": 12}));
    finding["chain"].clone()
}

fn wanted_json() -> Value {
    expected()
        .iter()
        .map(|(path, row, column, function, call)| {
            json!({
                "filename": path,
                "location": {"row": row, "column": column},
                "function": function,
                "call": call,
            })
        })
        .collect()
}

#[test]
fn json_has_the_chain_hop_by_hop() {
    let dir = app();
    let out = check(&dir, &["--no-cache", "--format", "json"]);
    assert_eq!(json_chain(&out), wanted_json());
}

#[test]
fn the_chain_survives_the_result_cache() {
    let dir = app();
    let cold = check(&dir, &["--format", "json"]);
    let warm = check(&dir, &["--format", "json"]);
    assert_eq!(json_chain(&cold), wanted_json());
    assert_eq!(json_chain(&warm), wanted_json());
}

#[test]
fn sarif_has_a_code_flow_with_a_location_per_hop() {
    let dir = app();
    let out = check(&dir, &["--no-cache", "--format", "sarif"]);
    validate(&out.stdout);
    let log: Value = serde_json::from_str(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{}", out.stdout);
    assert!(results[1].get("codeFlows").is_none(), "{}", out.stdout);
    assert_eq!(results[0]["message"]["text"], MESSAGE);
    let flows = results[0]["codeFlows"].as_array().expect("codeFlows");
    assert_eq!(flows.len(), 1, "{}", out.stdout);
    let locations = flows[0]["threadFlows"][0]["locations"].as_array().unwrap();
    let got: Vec<Value> = locations
        .iter()
        .map(|l| {
            let location = &l["location"];
            let physical = &location["physicalLocation"];
            json!([
                physical["artifactLocation"]["uri"],
                physical["region"]["startLine"],
                physical["region"]["startColumn"],
                location["logicalLocations"][0]["fullyQualifiedName"],
                location["message"]["text"],
                l["nestingLevel"],
            ])
        })
        .collect();
    let wanted: Vec<Value> = expected()
        .iter()
        .enumerate()
        .map(|(depth, (path, row, column, function, call))| {
            json!([path, row, column, function, call, depth])
        })
        .collect();
    assert_eq!(got, wanted, "{}", out.stdout);
}
