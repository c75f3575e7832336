//! What the service tests (tests/services_*.rs) share: `check` and `fix --write` of a
//! project, isolated and without the cache, a report's expected lines, and `main.py` run with
//! the stand-in libraries of a `site` folder importable.

use std::path::Path;
use std::process::Command;

use super::{Output, test_python, unfreeze_in};

/// `unfreeze check --isolated .` in `dir`.
pub fn check(dir: &Path) -> Output {
    unfreeze_in(dir, &["check", "--isolated", "--no-cache", "."])
}

/// `unfreeze fix --write --isolated .` in `dir` (safe fixes only).
pub fn fix_write(dir: &Path) -> Output {
    unfreeze_in(dir, &["fix", "--isolated", "--no-cache", "--write", "."])
}

/// Every one of `expected` is in the output's stdout.
pub fn assert_contains(output: &Output, expected: &[&str]) {
    for expected in expected {
        assert!(
            output.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            output.show()
        );
    }
}

/// Run `main.py` in `dir` with the stand-in libraries of `site` importable; its stdout (it
/// must succeed).
pub fn run_main(dir: &Path, site: &Path) -> String {
    let output = Command::new(test_python())
        .arg("main.py")
        .current_dir(dir)
        .env("PYTHONPATH", site)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "main.py failed:\n{stdout}\n{stderr}"
    );
    stdout
}
