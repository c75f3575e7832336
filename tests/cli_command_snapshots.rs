//! The CLI snapshots issue 26 asks for, per command, that tests/cli_ruff_habits.rs leaves
//! out: `apply` (a plan applied, then applied again, then refused for a changed file) and
//! `server --help`. (`explain` prints docs/rules/CODE.md, which tests/docs.rs keeps equal to
//! the rules' text.)

mod common;

use std::fs;
use std::path::Path;

use common::snapshot::snapshot;
use common::{Output, project};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    common::unfreeze(dir, args).env_remove("NO_COLOR").output()
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
