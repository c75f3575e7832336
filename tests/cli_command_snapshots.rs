//! The CLI snapshots issue 26 asks for, per command, that tests/cli_ruff_habits.rs leaves
//! out: `apply` (a plan applied, then applied again, then refused for a changed file) and
//! `server --help`. (`explain` prints docs/rules/CODE.md, which tests/docs.rs keeps equal to
//! the rules' text.)

mod common;

use std::fs;
use std::path::Path;

use common::{Output, project};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    common::unfreeze(dir, args).env_remove("NO_COLOR").output()
}

/// The command, its exit code, stdout and stderr, as one snapshot.
fn snapshot(name: &str, args: &[&str], out: &Output) {
    let exit = out
        .code
        .map_or("killed by a signal".to_owned(), |code| code.to_string());
    let shown = format!(
        "$ unfreeze {}\n(exit {exit})\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.stdout,
        out.stderr
    );
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, shown);
    });
}

#[test]
fn apply_output() {
    let dir = project(&[("a.py", SLEEPY.as_bytes()), ("b.py", SLEEPY.as_bytes())]);
    let plan = ["fix", "--plan", "plan.json", "--no-cache", "."];
    assert_eq!(run(dir.path(), &plan).code, Some(1));
    let apply = ["apply", "plan.json"];
    snapshot("cli_apply", &apply, &run(dir.path(), &apply));
    snapshot("cli_apply_again", &apply, &run(dir.path(), &apply));
    assert_eq!(run(dir.path(), &plan).code, Some(0));
    fs::write(dir.path().join("a.py"), SLEEPY).unwrap();
    fs::write(dir.path().join("b.py"), SLEEPY).unwrap();
    assert_eq!(run(dir.path(), &plan).code, Some(1));
    fs::write(dir.path().join("b.py"), "# changed\n").unwrap();
    snapshot("cli_apply_changed", &apply, &run(dir.path(), &apply));
}

#[test]
fn server_help() {
    let dir = project(&[]);
    let args = ["server", "--help"];
    snapshot("cli_server_help", &args, &run(dir.path(), &args));
}
