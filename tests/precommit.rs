//! The pre-commit hooks of `.pre-commit-hooks.yaml`, driven by the real `pre-commit` from PyPI
//! in temporary git repositories.
//!
//! What is tested where:
//! - the manifest passes pre-commit's own `validate-manifest`;
//! - every hook of the manifest, with its id, entry, arguments and file types unchanged, runs
//!   through `pre-commit run` and a real `git commit`, as a `repo: local` hook with
//!   `language: system` pointing at the binary cargo just built (no install step, no network);
//! - the published hooks as they are (`language: python`: pre-commit pip-installs this
//!   repository, maturin builds the binary) in `published_hooks_install_and_run`, ignored by
//!   default because it builds a release binary; `.ci/run` runs it. It clones this repository's
//!   committed HEAD, so uncommitted changes to the hooks are not what it tests.
//!
//! pre-commit comes from the Python of `UNFREEZE_TEST_PYTHON` when it has it, else from a venv
//! made once under cargo's target directory (`pip install pre-commit`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Output, Run, pre_commit_python, python};

use serde_json::{Value, json};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
const SLEEPY_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";
const CLEAN: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";

fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")
}

/// The hooks of `.pre-commit-hooks.yaml`, read with pre-commit's own YAML library.
fn manifest() -> Vec<Value> {
    let output = python(&pre_commit_python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(manifest_path())
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    serde_json::from_str::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A git repository for pre-commit, with an identity and its own pre-commit cache.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("work")).unwrap();
        fs::write(
            dir.path().join("gitconfig"),
            "[user]\n\tname = Test\n\temail = test@example.test\n[init]\n\tdefaultBranch = main\n",
        )
        .unwrap();
        let repo = Repo { dir };
        repo.run("git", &["init", "--quiet"]).success_or_panic();
        repo
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// `program ARGS` in the work tree, with the repository's git configuration and
    /// pre-commit cache.
    fn command(&self, program: &str, args: &[&str]) -> Run {
        Run::new(program)
            .args(args)
            .current_dir(self.work())
            .env("GIT_CONFIG_GLOBAL", self.dir.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PRE_COMMIT_HOME", self.dir.path().join("pre-commit-home"))
            .env("NO_COLOR", "1")
            .env_remove("PRE_COMMIT_COLOR")
            .lossy()
    }

    fn run(&self, program: &str, args: &[&str]) -> Ran {
        Ran::from(self.command(program, args).output())
    }

    fn pre_commit(&self, args: &[&str]) -> Ran {
        let python = pre_commit_python();
        let mut all = vec!["-m", "pre_commit"];
        all.extend(args);
        self.run(&python, &all)
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.work().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.work().join(path)).unwrap()
    }
}

/// A run's exit code and all it printed (stdout, then stderr).
struct Ran {
    code: Option<i32>,
    text: String,
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.code,
            text: output.stdout + &output.stderr,
        }
    }
}

impl Ran {
    fn success_or_panic(&self) {
        assert_eq!(self.code, Some(0), "{}", self.text);
    }
}

/// The manifest's hooks as `repo: local` hooks running the binary under test.
fn local_config() -> String {
    let binary = common::UNFREEZE;
    assert!(!binary.contains([' ', '\'', '"']), "a plain path: {binary}");
    let hooks: Vec<Value> = manifest()
        .into_iter()
        .map(|mut hook| {
            let entry = hook["entry"].as_str().unwrap().to_owned();
            let rest = entry
                .strip_prefix("unfreeze")
                .expect("entries run unfreeze");
            hook["entry"] = Value::from(format!("{binary}{rest}"));
            hook["language"] = Value::from("system");
            hook.as_object_mut()
                .unwrap()
                .remove("minimum_pre_commit_version");
            hook
        })
        .collect();
    // JSON is YAML: pre-commit reads it as it is.
    json!({ "repos": [{ "repo": "local", "hooks": hooks }] }).to_string()
}

#[test]
fn manifest_passes_pre_commit_validation() {
    let output = python(&pre_commit_python())
        .args(["-m", "pre_commit", "validate-manifest"])
        .arg(manifest_path())
        .lossy()
        .output();
    assert_eq!(output.code, Some(0), "{}", output.stdout);
    let ids: Vec<String> = manifest()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["unfreeze", "unfreeze-fix"]);
}

#[test]
fn check_hook_fails_on_a_blocking_call_and_fix_hook_rewrites_it() {
    let repo = Repo::new();
    repo.write(".pre-commit-config.yaml", &local_config());
    repo.write("a.py", SLEEPY);
    repo.write("clean.py", CLEAN);
    // Not Python: the hooks' file types leave it alone.
    repo.write("notes.txt", "async def f():\n    time.sleep(1)\n");
    // Excluded by the project's configuration: pre-commit names it, the hooks skip it.
    repo.write(
        "pyproject.toml",
        "[tool.unfreeze]\nextend-exclude = [\"migrations\"]\n",
    );
    repo.write("migrations/m1.py", SLEEPY);
    repo.run("git", &["add", "."]).success_or_panic();

    let check = repo.pre_commit(&["run", "unfreeze", "--all-files"]);
    assert_eq!(check.code, Some(1), "{}", check.text);
    assert!(check.text.contains("a.py:4:5: ASYNC251"), "{}", check.text);
    assert!(!check.text.contains("notes.txt"), "{}", check.text);
    assert!(!check.text.contains("m1.py"), "{}", check.text);
    assert_eq!(repo.read("a.py"), SLEEPY, "the check hook writes nothing");

    let fix = repo.pre_commit(&["run", "unfreeze-fix", "--all-files"]);
    assert_eq!(fix.code, Some(1), "{}", fix.text);
    assert!(fix.text.contains("- exit code: 1"), "{}", fix.text);
    assert!(
        fix.text.contains("- files were modified by this hook"),
        "{}",
        fix.text
    );
    assert_eq!(repo.read("a.py"), SLEEPY_FIXED);
    assert_eq!(repo.read("clean.py"), CLEAN);
    assert_eq!(
        repo.read("migrations/m1.py"),
        SLEEPY,
        "excluded: left alone"
    );

    let again = repo.pre_commit(&["run", "--all-files"]);
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert_eq!(again.text.matches("Passed").count(), 2, "{}", again.text);
}

#[test]
fn installed_hooks_stop_a_commit_until_the_fix_is_staged() {
    let repo = Repo::new();
    repo.write(".pre-commit-config.yaml", &local_config());
    repo.write("README.md", "# demo\n");
    repo.run("git", &["add", "."]).success_or_panic();
    repo.run("git", &["commit", "--quiet", "-m", "initial"])
        .success_or_panic();
    repo.pre_commit(&["install"]).success_or_panic();

    repo.write("b.py", SLEEPY);
    repo.run("git", &["add", "b.py"]).success_or_panic();
    let refused = repo.run("git", &["commit", "-m", "add b"]);
    assert_ne!(refused.code, Some(0), "{}", refused.text);
    assert!(
        refused.text.contains("b.py:4:5: ASYNC251"),
        "{}",
        refused.text
    );
    assert_eq!(repo.read("b.py"), SLEEPY_FIXED, "the fix hook fixed it");
    let log = repo.run("git", &["log", "--oneline"]);
    assert_eq!(log.text.lines().count(), 1, "no commit made: {}", log.text);

    repo.run("git", &["add", "b.py"]).success_or_panic();
    let committed = repo.run("git", &["commit", "-m", "add b"]);
    assert_eq!(committed.code, Some(0), "{}", committed.text);
    let show = repo.run("git", &["show", "HEAD:b.py"]);
    assert_eq!(show.text, SLEEPY_FIXED);
}

/// The hooks exactly as published: pre-commit clones this repository at its committed HEAD and
/// pip-installs it (maturin builds a release binary; `CARGO_TARGET_DIR` is shared with this
/// checkout's target/ so that the dependencies are built once).
#[test]
#[ignore = "builds a release binary through pip and maturin; .ci/run runs it"]
fn published_hooks_install_and_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let head = Run::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .output();
    assert_eq!(head.code, Some(0), "this checkout is a git repository");
    let rev = head.stdout.trim().to_owned();
    let repo = Repo::new();
    let config = json!({ "repos": [{
        "repo": root.display().to_string(),
        "rev": rev,
        "hooks": [{ "id": "unfreeze" }, { "id": "unfreeze-fix" }],
    }]});
    repo.write(".pre-commit-config.yaml", &config.to_string());
    repo.write("a.py", SLEEPY);
    repo.run("git", &["add", "."]).success_or_panic();
    let python = pre_commit_python();
    let run = |args: &[&str]| {
        let mut all = vec!["-m", "pre_commit"];
        all.extend(args);
        Ran::from(
            repo.command(&python, &all)
                .env("CARGO_TARGET_DIR", root.join("target"))
                .output(),
        )
    };
    let check = run(&["run", "unfreeze", "--all-files"]);
    assert_eq!(check.code, Some(1), "{}", check.text);
    assert!(check.text.contains("a.py:4:5: ASYNC251"), "{}", check.text);
    let fix = run(&["run", "unfreeze-fix", "--all-files"]);
    assert_eq!(fix.code, Some(1), "{}", fix.text);
    assert_eq!(repo.read("a.py"), SLEEPY_FIXED);
    let again = run(&["run", "--all-files"]);
    assert_eq!(again.code, Some(0), "{}", again.text);
}
