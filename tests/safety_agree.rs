//! Safe means safe (issue 20): `check` and `fix` agree on what is fixable, finding by finding,
//! over every fixture and the demo; and a single-task script keeps its `input()` (the finding
//! stays with the reason) while a script that runs other tasks gets the fix and still prints
//! the same with piped standard input; and `fix -i` accepting everything writes what `fix --write`
//! writes.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Output, project, test_python, unfreeze_in};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One thing to check and fix: files copied into a fresh directory, and the configuration
/// argument (`--config` the fixture's own, else `--isolated`).
struct Unit {
    name: String,
    /// (source, name in the copy)
    copy: Vec<(PathBuf, String)>,
    config: Option<PathBuf>,
}

/// Every fixture file on its own (with its `.toml` configuration when it has one), every
/// fixture project, and the demo.
fn units() -> Vec<Unit> {
    let mut units = Vec::new();
    for folder in ["tests/fixtures/codemods", "tests/fixtures/fuzz"] {
        let mut files: Vec<PathBuf> = fs::read_dir(root().join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let config = file.with_extension("toml");
            units.push(Unit {
                name: format!("{folder}/{name}"),
                copy: vec![(file.clone(), name)],
                config: config.exists().then_some(config),
            });
        }
    }
    let mut projects: Vec<PathBuf> = fs::read_dir(root().join("tests/fixtures/projects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    projects.sort();
    projects.push(root().join("docs/demo"));
    for dir in projects {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        units.push(Unit {
            name: dir.strip_prefix(root()).unwrap().display().to_string(),
            copy: vec![(dir, name)],
            config: None,
        });
    }
    units
}

impl Unit {
    /// A fresh copy of the unit.
    fn lay_out(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (source, name) in &self.copy {
            if source.is_dir() {
                copy_tree(source, &dir.path().join(name));
            } else {
                fs::copy(source, dir.path().join(name)).unwrap();
            }
        }
        if let Some(config) = &self.config {
            fs::copy(config, dir.path().join("fixture-config.toml")).unwrap();
        }
        dir
    }

    fn run(&self, dir: &Path, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--no-cache");
        match self.config {
            Some(_) => all.extend(["--config", "fixture-config.toml"]),
            None => all.push("--isolated"),
        }
        all.push(".");
        let output = unfreeze_in(dir, &all);
        assert!(
            matches!(output.code, Some(0 | 1)),
            "{}: {args:?}\n{}",
            self.name,
            output.show()
        );
        output
    }

    fn findings(&self, dir: &Path, args: &[&str]) -> Vec<Value> {
        let output = self.run(dir, args);
        match serde_json::from_str(&output.stdout) {
            Ok(Value::Array(findings)) => findings,
            _ => panic!(
                "{}: {args:?}: not a JSON array\n{}",
                self.name,
                output.show()
            ),
        }
    }
}

/// Whether `check` says the finding is fixed by `fix` (`unsafe_fixes`: `fix --unsafe-fixes`).
fn check_says_fixable(finding: &Value, unsafe_fixes: bool) -> bool {
    let level_fixes = |level: &Value| match level.as_str() {
        Some("safe") => true,
        Some("unsafe") => unsafe_fixes,
        _ => false,
    };
    level_fixes(&finding["fix"]["applicability"]) || level_fixes(&finding["fixed_in_later_round"])
}

/// Whether `fix --format json` says it fixed the finding (in diff mode: would fix it).
fn fix_says_fixed(finding: &Value) -> bool {
    finding["fix"]["applied"] == Value::Bool(true) || !finding["fixed_in_later_round"].is_null()
}

/// What identifies a finding across a fix that moved lines: its file, rule and message (the
/// message names the call and the function).
fn identity(finding: &Value) -> (String, String, String) {
    let text = |key: &str| finding[key].as_str().unwrap_or_default().to_owned();
    (text("filename"), text("code"), text("message"))
}

fn counted(findings: impl Iterator<Item = (String, String, String)>) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for (file, code, message) in findings {
        *counts
            .entry(format!("{file}: {code} {message}"))
            .or_default() += 1;
    }
    counts
}

/// For every fixture and the demo, at both thresholds: the findings `check` calls fixable are
/// exactly those `fix --format json` (would) apply, and after `fix --write` exactly the others
/// are left.
#[test]
fn check_and_fix_agree_on_every_finding_of_every_fixture() {
    let mut disagreements = Vec::new();
    for unit in units() {
        disagreements.extend(disagreements_of(&unit));
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Where `check` and `fix` (and what `fix --write` leaves) disagree on `unit`, at both
/// thresholds.
fn disagreements_of(unit: &Unit) -> Vec<String> {
    let mut disagreements = Vec::new();
    {
        let dir = unit.lay_out();
        let checked = unit.findings(dir.path(), &["check", "--format", "json"]);
        for unsafe_fixes in [false, true] {
            let mut fix_args = vec!["fix", "--format", "json"];
            if unsafe_fixes {
                fix_args.push("--unsafe-fixes");
            }
            let level = if unsafe_fixes {
                "--unsafe-fixes"
            } else {
                "safe"
            };
            let planned = unit.findings(dir.path(), &fix_args);
            assert_eq!(
                checked.iter().map(identity).collect::<Vec<_>>(),
                planned.iter().map(identity).collect::<Vec<_>>(),
                "{}: check and fix report the same findings",
                unit.name
            );
            for (check, fix) in checked.iter().zip(&planned) {
                if check_says_fixable(check, unsafe_fixes) != fix_says_fixed(fix) {
                    disagreements.push(format!(
                        "{} ({level}): {:?} check {} / fix {}",
                        unit.name,
                        identity(check),
                        check_says_fixable(check, unsafe_fixes),
                        fix_says_fixed(fix)
                    ));
                }
            }
            // What `fix --write` leaves is what `check` said it would leave.
            let written = unit.lay_out();
            let mut write_args = vec!["fix", "--write"];
            if unsafe_fixes {
                write_args.push("--unsafe-fixes");
            }
            unit.run(written.path(), &write_args);
            let left = unit.findings(written.path(), &["check", "--format", "json"]);
            let expected = counted(
                checked
                    .iter()
                    .filter(|f| !check_says_fixable(f, unsafe_fixes))
                    .map(identity),
            );
            let actual = counted(left.iter().map(identity));
            if expected != actual {
                disagreements.push(format!(
                    "{} ({level}): check says these are left {expected:#?}, fix --write left {actual:#?}",
                    unit.name
                ));
            }
        }
    }
    disagreements
}

/// A file's path from a helper that gets a safe thread hop (`path = get_config_path()`), then
/// read and rewritten in the coroutine: `check` labels the read and the write unsafe (a
/// read-modify-write), and `fix`'s later rounds, reading the text where the path is now
/// `await asyncio.to_thread(get_config_path)`, must not apply them as safe.
#[test]
fn check_and_fix_agree_when_a_later_round_reads_a_rewritten_path() {
    let source = r#"import json
import os


def get_config_path():
    if os.path.exists("/config"):
        return "/config/agents.json"
    return "agents.json"


async def save(item):
    path = get_config_path()
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    else:
        data = {"items": []}
    data["items"].append(item)
    with open(path, "w") as f:
        json.dump(data, f)
"#;
    let holder = tempfile::tempdir().unwrap();
    let file = holder.path().join("store.py");
    fs::write(&file, source).unwrap();
    let unit = Unit {
        name: "store.py".to_owned(),
        copy: vec![(file, "store.py".to_owned())],
        config: None,
    };
    let disagreements = disagreements_of(&unit);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

const SINGLE_TASK: &str = r#"import asyncio


async def main():
    name = input()
    print(name.upper())


if __name__ == "__main__":
    asyncio.run(main())
"#;

const OTHER_TASKS: &str = r#"import asyncio


async def worker(named):
    await named.wait()
    print("the worker saw the name")


async def prompt(named):
    name = input()
    print(name.upper())
    named.set()


async def main():
    named = asyncio.Event()
    await asyncio.gather(worker(named), prompt(named))


if __name__ == "__main__":
    asyncio.run(main())
"#;

/// The script run by the test Python with `stdin` piped: its exit code and output.
fn run_script(dir: &Path, script: &str, stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = Command::new(test_python())
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test Python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_single_task_script_keeps_its_input_with_the_reason() {
    let dir = project(&[("cli.py", SINGLE_TASK.as_bytes())]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "cli.py"]);
    assert_eq!(check.code, Some(1), "{}", check.show());
    assert!(check.stdout.contains("ASYNC250"), "{}", check.show());
    assert!(
        check.stdout.contains(
            "no fix: `input()` in a script where nothing else runs on the event loop: moving it \
             to a worker thread only makes Ctrl+C and piped stdin worse; nothing else is blocked"
        ),
        "{}",
        check.show()
    );
    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "cli.py",
        ],
    );
    assert!(matches!(fix.code, Some(0 | 1)), "{}", fix.show());
    assert_eq!(
        fs::read_to_string(dir.path().join("cli.py")).unwrap(),
        SINGLE_TASK
    );
    let (code, stdout, stderr) = run_script(dir.path(), "cli.py", "alice\n");
    assert_eq!((code, stdout.as_str()), (Some(0), "ALICE\n"), "{stderr}");
}

#[test]
fn a_script_that_runs_other_tasks_gets_the_fix_and_prints_the_same() {
    let dir = project(&[
        ("cli.py", OTHER_TASKS.as_bytes()),
        ("original.py", OTHER_TASKS.as_bytes()),
    ]);
    // `input()`'s fix is unsafe (what Ctrl+C does changes): applied with --unsafe-fixes.
    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "cli.py",
        ],
    );
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    let fixed = fs::read_to_string(dir.path().join("cli.py")).unwrap();
    assert!(
        fixed.contains("name = await asyncio.to_thread(input)"),
        "{fixed}"
    );
    let before = run_script(dir.path(), "original.py", "alice\n");
    let after = run_script(dir.path(), "cli.py", "alice\n");
    assert_eq!(
        (before.0, before.1.as_str()),
        (Some(0), "ALICE\nthe worker saw the name\n"),
        "{}",
        before.2
    );
    assert_eq!((after.0, &after.1), (before.0, &before.1), "{}", after.2);
    assert!(!after.2.contains("Fatal Python error"), "{}", after.2);
}

/// The coroutine holding `input()` is reached through another one, and another fix in the
/// file makes `fix` go a second round, whose parse may leave bodies out: that round still
/// sees the script as single-task and leaves `input()` as the first round (and `check`) did.
#[test]
fn a_later_fix_round_still_sees_the_single_task_script() {
    let source = r#"import asyncio
import time


async def ask(question):
    return input(question)


async def main():
    await asyncio.sleep(0)
    print((await ask("name? ")).upper())


async def unused():
    time.sleep(0)


if __name__ == "__main__":
    asyncio.run(main())
"#;
    let dir = project(&[("cli.py", source.as_bytes())]);
    let fix = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "cli.py"],
    );
    assert_eq!(fix.code, Some(1), "{}", fix.show());
    let fixed = fs::read_to_string(dir.path().join("cli.py")).unwrap();
    assert!(fixed.contains("    return input(question)\n"), "{fixed}");
    assert!(fixed.contains("await asyncio.sleep(0)\n\n\nif"), "{fixed}");
    let (code, stdout, stderr) = run_script(dir.path(), "cli.py", "alice\n");
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "name? ALICE\n"),
        "{stderr}"
    );
}

/// The files of a laid-out unit, by path relative to its root.
fn files_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let name = path.strip_prefix(root).unwrap().to_path_buf();
                into.insert(name, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// For every fixture and the demo, at both thresholds: `fix -i` answered `y` to every
/// proposal writes exactly what `fix --write` writes — the review's own fix rounds never
/// offer a fix the rounds of `--write` would leave (a label an earlier round gave, lifted).
#[test]
fn the_review_accepting_everything_writes_what_fix_write_writes_on_every_fixture() {
    let mut differences = Vec::new();
    for unit in units() {
        for unsafe_fixes in [false, true] {
            let threshold: &[&str] = if unsafe_fixes {
                &["--unsafe-fixes"]
            } else {
                &[]
            };
            let written = unit.lay_out();
            let mut args = vec!["fix", "--write"];
            args.extend(threshold);
            unit.run(written.path(), &args);
            let reviewed = unit.lay_out();
            let mut args = vec!["fix", "-i", "--review-script", "-", "--color=never"];
            args.extend(threshold);
            args.push("--no-cache");
            match unit.config {
                Some(_) => args.extend(["--config", "fixture-config.toml"]),
                None => args.push("--isolated"),
            }
            args.push(".");
            let review = common::unfreeze(reviewed.path(), &args)
                .stdin("y".repeat(2000))
                .lossy()
                .output();
            assert!(
                matches!(review.code, Some(0 | 1)),
                "{}: {args:?}\n{}",
                unit.name,
                review.show()
            );
            let (by_write, by_review) = (files_of(written.path()), files_of(reviewed.path()));
            for (name, bytes) in &by_write {
                if by_review.get(name) != Some(bytes) {
                    differences.push(format!(
                        "{} ({}): {} differs:\n--- fix --write\n{}\n--- fix -i, all accepted\n{}",
                        unit.name,
                        if unsafe_fixes {
                            "--unsafe-fixes"
                        } else {
                            "safe"
                        },
                        name.display(),
                        String::from_utf8_lossy(bytes),
                        by_review
                            .get(name)
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}
