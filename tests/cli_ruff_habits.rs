//! A ruff user's hands on the command line (issue 26): configuration that never silently
//! misleads (a broken `pyproject.toml`, `requires-python` without a `[tool.unfreeze]` table,
//! the command that applies what was shown, the httpx dependency, opt-in rules), ruff's
//! spellings where they mean the same (`check --fix`, `check --diff`, `--show-fixes`,
//! `--output-format`, `--exit-zero`, `--extend-select`, `--extend-ignore`, `rule CODE`),
//! ruff's and flake8's file-level `noqa`, and help texts and tables that say only what works.
//! Each command's output is snapshotted in `snapshots/cli_*.snap` with its exit code
//! (`INSTA_UPDATE=always cargo test --test cli_ruff_habits`, then read the diff). The runs add
//! `--no-cache`, which the snapshots leave out of the command they show.

mod common;

use std::fs;
use std::path::Path;

use common::snapshot::snapshot;
use common::{Output, project};

/// A coroutine with two safe fixes (the sleep, subprocess) and a finding without a fix
/// (`os.fdopen`).
const APP: &str = "\
import os
import subprocess
import time


async def handler():
    time.sleep(0)
    subprocess.run([\"true\"])
    return os.fdopen(3)
";

/// `unfreeze ARGS` in `dir`, without the result cache and colour.
fn run(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = args.iter().copied().chain(["--no-cache"]).collect();
    common::unfreeze(dir, &args).env_remove("NO_COLOR").output()
}

/// `unfreeze ARGS` (no cache options: `rules`, `explain`, `--help`).
fn run_plain(dir: &Path, args: &[&str]) -> Output {
    common::unfreeze(dir, args).env_remove("NO_COLOR").output()
}

fn app() -> tempfile::TempDir {
    project(&[("app.py", APP.as_bytes())])
}

// ---------------------------------------------------------------- configuration defects

/// A `pyproject.toml` that is not TOML used to be passed over without a word, and the search
/// moved on to the parent's configuration (here: one that ignores the very rule).
#[test]
fn invalid_pyproject_stops_the_run_with_file_and_line_instead_of_using_the_parent_config() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.unfreeze]\nignore = [\"ASYNC251\"]\n",
        ),
        (
            "svc/pyproject.toml",
            b"[project]\nname = \"svc\"\n\n[tool.unfreeze\nselect = [\"ASYNC251\"]\n",
        ),
        ("svc/app.py", APP.as_bytes()),
    ]);
    let args = ["check", "svc"];
    snapshot(
        "cli_check_invalid_pyproject",
        &args,
        &run(dir.path(), &args),
    );
    for command in ["check", "fix"] {
        let out = run(dir.path(), &[command, "svc"]);
        assert_eq!(out.code, Some(2), "{}", out.show());
        assert!(
            out.stderr.contains("svc/pyproject.toml") && out.stderr.contains("line 4"),
            "the error names the file and the line\n{}",
            out.show()
        );
        assert_eq!(out.stdout, "", "no file is checked\n{}", out.show());
    }
    // A broken pyproject.toml without any unfreeze table stops the run too: it may have been
    // meant to hold one, and the parent's configuration would otherwise apply unannounced.
    fs::write(
        dir.path().join("svc/pyproject.toml"),
        "[project\nname = \"svc\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "svc"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("line 1"), "{}", out.show());
}

/// The fixed program of a project that says `requires-python = ">=3.8"` must run on 3.8,
/// whose asyncio has no `to_thread`: with or without a `[tool.unfreeze]` table (it used to
/// be read only with one). The rewritten program runs on an asyncio without `to_thread`.
#[test]
fn requires_python_sets_the_target_with_or_without_an_unfreeze_table() {
    let program = "\
import asyncio
import subprocess


async def tick():
    await asyncio.sleep(0)


async def work():
    done = subprocess.run([\"true\"])
    print(\"exit\", done.returncode)


async def main():
    await asyncio.gather(tick(), work())


asyncio.run(main())
";
    for pyproject in [
        "[project]\nname = \"svc\"\nrequires-python = \">=3.8\"\n",
        "[project]\nname = \"svc\"\nrequires-python = \">=3.8\"\n\n[tool.unfreeze]\n",
    ] {
        let dir = project(&[
            ("pyproject.toml", pyproject.as_bytes()),
            ("src/app.py", program.as_bytes()),
        ]);
        let out = run(dir.path(), &["fix", "--write", "src"]);
        assert_eq!(out.code, Some(0), "{pyproject}\n{}", out.show());
        let fixed = fs::read_to_string(dir.path().join("src/app.py")).unwrap();
        assert!(
            fixed.contains("run_in_executor") && !fixed.contains("to_thread"),
            "{pyproject}\n{fixed}"
        );
        // Python 3.8's asyncio: no `to_thread`.
        let ran = common::python(&common::stdlib_python())
            .current_dir(dir.path())
            .args([
                "-c",
                "import asyncio, runpy; del asyncio.to_thread; runpy.run_path('src/app.py')",
            ])
            .output();
        assert_eq!(ran.code, Some(0), "{fixed}\n{}", ran.show());
        assert_eq!(ran.stdout, "exit 0\n", "{}", ran.show());
    }
    // An `unfreeze.toml` takes the `requires-python` of the pyproject.toml beside it, and an
    // explicit `target-version` wins over it.
    let dir = project(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"svc\"\nrequires-python = \">=3.8\"\n",
        ),
        ("unfreeze.toml", b"ignore = []\n"),
        ("app.py", program.as_bytes()),
    ]);
    let out = run(dir.path(), &["fix", "app.py"]);
    assert!(out.stdout.contains("run_in_executor"), "{}", out.show());
    fs::write(
        dir.path().join("unfreeze.toml"),
        "target-version = \"py311\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["fix", "app.py"]);
    assert!(out.stdout.contains("asyncio.to_thread"), "{}", out.show());
}

/// The closing line of a diff run names the command that applies what the diff showed: with
/// `--unsafe-fixes` (and the selection and paths) it used to say `unfreeze fix --write`,
/// which applies a different set of fixes.
#[test]
fn apply_line_names_the_command_that_applies_the_diff_shown() {
    let dir = app();
    let args = ["fix", "--unsafe-fixes", "--select", "ASYNC2", "app.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_fix_unsafe_apply_line", &args, &out);
    let line = out
        .stderr
        .lines()
        .find(|line| line.starts_with("Run `"))
        .unwrap_or_else(|| panic!("no apply line\n{}", out.show()));
    assert_eq!(
        line,
        "Run `unfreeze fix --write --unsafe-fixes --select ASYNC2 app.py` to apply."
    );
    // Running it applies exactly the diff that was shown.
    let diff_shown = out.stdout.clone();
    let command = line
        .trim_start_matches("Run `unfreeze ")
        .trim_end_matches("` to apply.");
    let words: Vec<&str> = command.split(' ').collect();
    let before = fs::read_to_string(dir.path().join("app.py")).unwrap();
    let applied = run(dir.path(), &words);
    assert_eq!(
        applied.code,
        Some(1),
        "os.fdopen is left\n{}",
        applied.show()
    );
    let after = fs::read_to_string(dir.path().join("app.py")).unwrap();
    let redo = project(&[("app.py", before.as_bytes())]);
    let diff_again = run(
        redo.path(),
        &["fix", "--unsafe-fixes", "--select", "ASYNC2"],
    )
    .stdout;
    assert_eq!(diff_again, diff_shown);
    assert!(after.contains("await asyncio.sleep(0)"), "{after}");
}

/// The requests → httpx migration adds an import of the client: where the project does not
/// declare it, the note says it must be added.
#[test]
fn httpx_migration_says_the_dependency_must_be_installed() {
    let source = "\
import requests


async def fetch(url):
    response = requests.get(url)
    return response.status_code
";
    let dir = project(&[("svc.py", source.as_bytes())]);
    let out = run(dir.path(), &["fix", "--unsafe-fixes", "svc.py"]);
    // Nothing declared: the migration writes httpx2 and says to add it.
    assert!(out.stdout.contains("+import httpx2"), "{}", out.show());
    assert!(
        out.stderr.contains(
            "add `httpx2` to the project's dependencies, or the rewritten module fails at \
             import (ModuleNotFoundError)"
        ),
        "{}",
        out.show()
    );
    let docs = run_plain(dir.path(), &["explain", "ASYNC210"]);
    assert!(
        docs.stdout
            .contains("the project must then have httpx installed"),
        "{}",
        docs.show()
    );
}

/// `explain UNF402` used to say `--select UNF402`, which turns every other rule off; the
/// command-line `--extend-select` it now names works and keeps the others.
#[test]
fn explain_of_an_opt_in_rule_names_a_way_to_enable_it_that_works() {
    let dir = project(&[(
        "g.py",
        b"import asyncio\nimport time\n\n\nasync def main(a, b):\n    time.sleep(0)\n    \
          await asyncio.gather(a(), b())\n",
    )]);
    let docs = run_plain(dir.path(), &["explain", "UNF402"]);
    assert!(
        docs.stdout.contains("`--extend-select UNF402`"),
        "{}",
        docs.show()
    );
    let out = run(
        dir.path(),
        &["check", "--extend-select", "UNF402", "--statistics", "g.py"],
    );
    assert_eq!(
        out.stdout,
        "1  ASYNC251  blocking-sleep  (1 fixable)\n1  UNF402    gather-without-return-exceptions  (1 unsafe)\n",
        "{}",
        out.show()
    );
}

// ---------------------------------------------------------------- ruff's spellings

#[test]
fn check_fix_is_fix_write() {
    let dir = app();
    let other = app();
    let args = ["check", "--fix", "app.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_fix", &args, &out);
    let write = run(other.path(), &["fix", "--write", "app.py"]);
    assert_eq!((out.code, &out.stdout), (write.code, &write.stdout));
    assert_eq!(
        fs::read(dir.path().join("app.py")).unwrap(),
        fs::read(other.path().join("app.py")).unwrap()
    );
    assert_ne!(fs::read_to_string(dir.path().join("app.py")).unwrap(), APP);
}

#[test]
fn check_diff_is_fix_and_names_check_fix_to_apply() {
    let dir = app();
    let args = ["check", "--diff", "app.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_diff", &args, &out);
    let fix = run(dir.path(), &["fix", "app.py"]);
    assert_eq!((out.code, &out.stdout), (fix.code, &fix.stdout));
    assert!(
        out.stderr
            .contains("Run `unfreeze check --fix app.py` to apply."),
        "{}",
        out.show()
    );
    assert_eq!(fs::read_to_string(dir.path().join("app.py")).unwrap(), APP);
}

#[test]
fn show_fixes_lists_the_fixes_applied_per_file_and_rule() {
    let dir = app();
    let args = ["check", "--fix", "--show-fixes", "app.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_fix_show_fixes", &args, &out);
    assert!(
        out.stdout.contains(
            "- app.py:\n    1 × ASYNC221 (run-process)\n    1 × ASYNC251 (blocking-sleep)\n"
        ),
        "{}",
        out.show()
    );
}

#[test]
fn output_format_is_format() {
    let dir = app();
    let args = ["check", "--output-format", "json", "app.py"];
    let out = run(dir.path(), &args);
    let format = run(dir.path(), &["check", "--format", "json", "app.py"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(out.stdout, format.stdout);
    assert!(out.stdout.starts_with('['), "{}", out.show());
}

#[test]
fn exit_zero_exits_0_with_findings_but_2_on_errors() {
    let dir = project(&[
        ("app.py", APP.as_bytes()),
        ("bad.py", b"# -*- coding: klingon -*-\ns = '\xe9'\n"),
    ]);
    let args = ["check", "--exit-zero", "app.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_exit_zero", &args, &out);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stdout.contains("ASYNC251"), "{}", out.show());
    let errors = run(dir.path(), &["check", "--exit-zero", "."]);
    assert_eq!(errors.code, Some(2), "{}", errors.show());
}

#[test]
fn extend_select_adds_and_extend_ignore_removes_on_the_command_line() {
    let dir = project(&[
        ("unfreeze.toml", b"select = [\"ASYNC251\"]\n"),
        ("app.py", APP.as_bytes()),
    ]);
    let args = [
        "check",
        "--statistics",
        "--extend-select",
        "ASYNC22,ASYNC230",
        "--extend-ignore",
        "ASYNC230",
        "app.py",
    ];
    let out = run(dir.path(), &args);
    snapshot("cli_check_extend_select_ignore", &args, &out);
    assert_eq!(
        out.stdout,
        "1  ASYNC221  run-process  (1 fixable)\n1  ASYNC251  blocking-sleep  (1 fixable)\n",
        "the configuration's select, plus ASYNC22*, minus ASYNC230\n{}",
        out.show()
    );
    let unknown = run(dir.path(), &["check", "--extend-select", "NOPE9", "app.py"]);
    assert_eq!(unknown.code, Some(2), "{}", unknown.show());
    assert!(unknown.stderr.contains("NOPE9"), "{}", unknown.show());
}

#[test]
fn rule_code_is_explain() {
    let dir = tempfile::tempdir().unwrap();
    let rule = run_plain(dir.path(), &["rule", "ASYNC251"]);
    let explain = run_plain(dir.path(), &["explain", "ASYNC251"]);
    assert_eq!(rule.code, Some(0), "{}", rule.show());
    assert_eq!(rule.stdout, explain.stdout);
}

/// `--statistics` used to count only safe fixes: the unsafe ones the summary shows were gone.
/// After `check --fix` it counts what is left.
#[test]
fn statistics_keep_the_unsafe_counts_and_count_what_is_left_after_fixing() {
    let source = "\
import asyncio
import subprocess


async def main():
    subprocess.run([\"true\"])
    job()


async def job():
    pass
";
    let dir = project(&[("a.py", source.as_bytes())]);
    let args = ["check", "--statistics", "a.py"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_statistics", &args, &out);
    let summary = run(dir.path(), &["check", "a.py"]);
    assert!(
        summary.stdout.contains("(1 unsafe)"),
        "the summary counts an unsafe fix\n{}",
        summary.show()
    );
    assert!(out.stdout.contains("(1 unsafe)"), "{}", out.show());
    let json = run(
        dir.path(),
        &["check", "--statistics", "--format", "json", "a.py"],
    );
    let rows: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let unsafe_total: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unsafe_fixable"].as_u64().unwrap())
        .sum();
    assert_eq!(unsafe_total, 1, "{}", json.show());

    let args = ["check", "--fix", "--statistics", "a.py"];
    let left = run(dir.path(), &args);
    snapshot("cli_check_fix_statistics", &args, &left);
    assert!(!left.stdout.contains("ASYNC221"), "fixed\n{}", left.show());
    assert!(left.stdout.contains("(1 unsafe)"), "left\n{}", left.show());
}

// ---------------------------------------------------------------- file-level noqa

#[test]
fn ruff_and_flake8_file_level_noqa_silence_the_shared_codes() {
    let project_coroutine = "\nasync def job():\n    pass\n\n\nasync def later():\n    job()\n";
    let with = |header: &str| format!("{header}\n{APP}{project_coroutine}");
    let dir = project(&[
        ("ruff_all.py", with("# ruff: noqa").as_bytes()),
        ("ruff_one.py", with("# ruff: noqa: ASYNC251").as_bytes()),
        ("flake8.py", with("# flake8: noqa").as_bytes()),
        ("trailing.py", with("x = 1  # ruff: noqa").as_bytes()),
    ]);
    let args = ["check", "--statistics", "--format", "json"];
    let codes = |file: &str| -> Vec<String> {
        let out = run(dir.path(), &[&args[..], &[file]].concat());
        let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let mut codes: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect();
        codes.sort();
        codes
    };
    // ruff has the ASYNC rules, not unfreeze's own UNF301.
    assert_eq!(codes("ruff_all.py"), ["UNF301"]);
    assert_eq!(
        codes("ruff_one.py"),
        ["ASYNC221", "ASYNC231", "UNF301"],
        "only the named code"
    );
    assert_eq!(codes("flake8.py"), ["UNF301"]);
    assert_eq!(
        codes("trailing.py"),
        ["ASYNC221", "ASYNC231", "ASYNC251", "UNF301"],
        "a file-level comment counts only on a line of its own"
    );
}

// ---------------------------------------------------------------- what the run says

#[test]
fn paths_without_python_files_warn() {
    let dir = project(&[("docs/readme.md", b"# docs\n")]);
    let args = ["check", "docs"];
    let out = run(dir.path(), &args);
    snapshot("cli_check_no_python_files", &args, &out);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stderr
            .contains("warning: no Python files found under docs"),
        "{}",
        out.show()
    );
}

/// `--since REV` with no Python file changed checks nothing, and says no more than that.
#[test]
fn since_with_nothing_changed_does_not_warn() {
    let dir = app();
    let git = |args: &[&str]| {
        let out = common::Run::new("git")
            .current_dir(dir.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output();
        assert_eq!(out.code, Some(0), "git {args:?}\n{}", out.show());
    };
    git(&["init", "--quiet"]);
    git(&["add", "app.py"]);
    git(&[
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.test",
        "commit",
        "--quiet",
        "-m",
        "app",
    ]);
    let out = run(dir.path(), &["check", "--since", "HEAD", "."]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!out.stderr.contains("warning"), "{}", out.show());
}

/// `fix` used to leave out the line `check` prints about the paths that could not be checked.
#[test]
fn fix_says_how_many_paths_could_not_be_checked() {
    let dir = project(&[
        ("app.py", APP.as_bytes()),
        ("bad.py", b"# -*- coding: klingon -*-\ns = '\xe9'\n"),
    ]);
    let args = ["fix", "."];
    let out = run(dir.path(), &args);
    snapshot("cli_fix_unreadable_path", &args, &out);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr
            .contains("1 path could not be checked or fixed (see the errors above)."),
        "{}",
        out.show()
    );
}

// ---------------------------------------------------------------- help texts and tables

#[test]
fn rules_columns_are_aligned_and_opt_in_rules_marked() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["rules"];
    let out = run_plain(dir.path(), &args);
    snapshot("cli_rules", &args, &out);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // The start of the word after the first run of spaces at or after `from`.
    let next_column = |line: &str, from: usize| {
        let gap = from + line[from..].find("  ").unwrap();
        gap + line[gap..].find(|c: char| c != ' ').unwrap()
    };
    let names: Vec<usize> = lines.iter().map(|line| next_column(line, 0)).collect();
    let fixes: Vec<usize> = lines
        .iter()
        .zip(&names)
        .map(|(line, name)| next_column(line, *name))
        .collect();
    for column in [&names, &fixes] {
        assert!(
            column.windows(2).all(|w| w[0] == w[1]),
            "a column starts at one place on every line\n{}",
            out.stdout
        );
    }
    let opt_in: Vec<&str> = lines
        .iter()
        .filter(|line| line.contains(" opt-in "))
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(opt_in, ["UNF402"], "{}", out.stdout);
}

#[test]
fn fix_help_lists_only_what_fix_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["fix", "--help"];
    let help = run_plain(dir.path(), &args);
    snapshot("cli_fix_help", &args, &help);
    assert_eq!(help.code, Some(0), "{}", help.show());
    assert!(!help.stdout.contains("--statistics"), "{}", help.stdout);
    let refused = run(dir.path(), &["fix", "--statistics", "."]);
    assert_eq!(refused.code, Some(2), "{}", refused.show());
    for option in [
        "--extend-select",
        "--extend-ignore",
        "--output-format",
        "--exit-zero",
        "--show-fixes",
    ] {
        assert!(help.stdout.contains(option), "{option}\n{}", help.stdout);
    }
}

#[test]
fn check_help_lists_ruffs_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["check", "--help"];
    let help = run_plain(dir.path(), &args);
    snapshot("cli_check_help", &args, &help);
    for option in [
        "--fix",
        "--diff",
        "--unsafe-fixes",
        "--show-fixes",
        "--statistics",
    ] {
        assert!(help.stdout.contains(option), "{option}\n{}", help.stdout);
    }
}

#[test]
fn bot_help_does_not_offer_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["bot", "--help"];
    let help = run_plain(dir.path(), &args);
    snapshot("cli_bot_help", &args, &help);
    assert_eq!(help.code, Some(0), "{}", help.show());
    assert!(!help.stdout.contains("`-`"), "{}", help.stdout);
    assert!(!help.stdout.contains("stdin"), "{}", help.stdout);
    assert!(!help.stdout.contains("--exit-zero"), "{}", help.stdout);
    // Hidden, and refused when given anyway.
    let refused = run(dir.path(), &["bot", "--exit-zero"]);
    assert_eq!(refused.code, Some(2), "{}", refused.show());
    assert!(refused.stderr.contains("--exit-zero"), "{}", refused.show());
}
