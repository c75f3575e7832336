//! Per-codemod fixtures and snapshots: for every codemod, `tests/fixtures/codemods/<CODE>*.py`
//! is checked and fixed by the real binary; the findings as printed and the fix diffs are
//! snapshotted in `snapshots/`; the fixed file must parse (tree-sitter, and CPython when
//! available) and a second run must propose nothing.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Output, Run, python, stdlib_python};
use unfreeze::codemod::Registry;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codemods")
}

/// `unfreeze ARGS --no-cache` in `dir`, whatever NO_COLOR the tests run with. The fixtures are
/// the repository's: no result cache is left next to them.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args)
        .arg("--no-cache")
        .env_remove("NO_COLOR")
}

/// The fixtures of one codemod: `<CODE>.py` and `<CODE>_<variant>.py`.
fn fixtures_for(code: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.strip_suffix(".py").is_some_and(|stem| {
                stem == code || stem.strip_prefix(code).is_some_and(|r| r.starts_with('_'))
            })
        })
        .collect();
    names.sort();
    names
}

/// `--config <fixture>.toml` when the fixture comes with a configuration, else `--isolated`
/// (fixtures never pick up the repository's own configuration).
fn config_args(fixture: &str) -> Vec<String> {
    let config = fixture.trim_end_matches(".py").to_owned() + ".toml";
    if fixtures_dir().join(&config).exists() {
        // Relative to the fixtures folder, where the runs start: the snapshots show it.
        vec!["--config".to_owned(), config]
    } else {
        vec!["--isolated".to_owned()]
    }
}

/// CPython compiles the file: stricter than parsing (repeated keywords, `await` outside a
/// coroutine, `nonlocal` without a binding are compile-time errors that `ast.parse` accepts).
fn python_parses(path: &Path) -> Option<bool> {
    let compiled = python(&stdlib_python())
        .args([
            "-c",
            "import sys; compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec')",
        ])
        .arg(path)
        .try_output()
        .ok()?;
    Some(compiled.code == Some(0))
}

#[test]
fn every_codemod_has_a_fixture_and_every_fixture_a_codemod() {
    let registry = Registry::bundled().unwrap();
    for codemod in registry.codemods() {
        assert!(
            fixtures_dir().join(format!("{}.py", codemod.code)).exists(),
            "{} has no fixture tests/fixtures/codemods/{}.py",
            codemod.origin,
            codemod.code
        );
    }
    for entry in fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "requirements.txt" {
            // The dependencies the fixtures' project declares (the requests migration's client).
            continue;
        }
        if !name.ends_with(".py") {
            // `<fixture>.toml`: the configuration a fixture runs with.
            let fixture = name.trim_end_matches(".toml").to_owned() + ".py";
            assert!(
                fixtures_dir().join(&fixture).exists(),
                "{name} has no {fixture}"
            );
            continue;
        }
        let code = name
            .trim_end_matches(".py")
            .split('_')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            registry.get(&code).is_some(),
            "fixture {name} names no codemod"
        );
    }
}

/// The exit code as the snapshots show it (-1: killed by a signal).
fn exit(output: &Output) -> i32 {
    output.code.unwrap_or(-1)
}

#[test]
fn codemod_snapshots() {
    let registry = Registry::bundled().unwrap();
    for codemod in registry.codemods() {
        for fixture in fixtures_for(&codemod.code) {
            let config = config_args(&fixture);
            let with = |args: &[&str]| -> Vec<String> {
                args.iter()
                    .map(|a| a.to_string())
                    .chain(config.iter().cloned())
                    .chain([fixture.clone()])
                    .collect()
            };
            let run = |args: &[&str]| {
                let args = with(args);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                unfreeze(&fixtures_dir(), &args).output()
            };
            let check = run(&["check", "--color=never"]);
            let fix = run(&["fix", "--color=never"]);
            let unsafe_fix = run(&["fix", "--unsafe-fixes", "--color=never"]);
            let snapshot = format!(
                "$ unfreeze check {fixture}\n(exit {})\n{}\n$ unfreeze fix {fixture}\n(exit {})\n{}{}\n$ unfreeze fix --unsafe-fixes {fixture}\n(exit {})\n{}{}",
                exit(&check),
                check.stdout,
                exit(&fix),
                fix.stdout,
                fix.stderr,
                exit(&unsafe_fix),
                unsafe_fix.stdout,
                unsafe_fix.stderr,
            );
            let name = fixture.trim_end_matches(".py").to_owned();
            insta::with_settings!({
                snapshot_path => "../snapshots",
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name, snapshot);
            });
        }
    }
}

#[test]
fn fixed_fixtures_parse_and_a_second_run_proposes_nothing() {
    let registry = Registry::bundled().unwrap();
    for codemod in registry.codemods() {
        for fixture in fixtures_for(&codemod.code) {
            let dir = tempfile::tempdir().unwrap();
            fs::copy(fixtures_dir().join(&fixture), dir.path().join(&fixture)).unwrap();
            let config = config_args(&fixture);
            if let Some(name) = config.get(1) {
                fs::copy(fixtures_dir().join(name), dir.path().join(name)).unwrap();
            }
            let config: Vec<&str> = config.iter().map(String::as_str).collect();
            let args = |base: &[&'static str]| -> Vec<&str> {
                base.iter()
                    .copied()
                    .chain(config.iter().copied())
                    .chain([fixture.as_str()])
                    .collect()
            };
            let first = unfreeze(dir.path(), &args(&["fix", "--write", "--unsafe-fixes"])).output();
            assert_ne!(first.code, Some(2), "{fixture}: {}", first.stderr);
            let fixed = fs::read_to_string(dir.path().join(&fixture)).unwrap();
            assert!(
                !unfreeze::parse::parse(&fixed).has_errors(),
                "{fixture}: the fixed file has syntax errors:\n{fixed}"
            );
            if let Some(parses) = python_parses(&dir.path().join(&fixture)) {
                assert!(
                    parses,
                    "{fixture}: CPython rejects the fixed file:\n{fixed}"
                );
            }
            let second = unfreeze(dir.path(), &args(&["fix", "--unsafe-fixes"])).output();
            assert_eq!(
                second.stdout, "",
                "{fixture}: a second run proposes changes"
            );
            let again = fs::read_to_string(dir.path().join(&fixture)).unwrap();
            assert_eq!(fixed, again);
        }
    }
}
