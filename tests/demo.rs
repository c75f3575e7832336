//! What the user sees on the bundled demo (`docs/demo`, the README's example): the output of
//! `check` (text, JSON, statistics), `fix` and `fix --unsafe-fixes`, each with its stderr and
//! exit code, snapshotted in `snapshots/demo_*.snap`. Run from the repository root on the
//! relative path, as the README does, so the paths printed are the same on every machine;
//! without the result cache, so every run is a first run. After a change to what the user
//! should see: `INSTA_UPDATE=always cargo test --test demo` (or `cargo insta review`), then
//! read the diff of the snapshots.

mod common;

use std::path::Path;

/// `unfreeze ARGS --no-cache docs/demo` in the repository root, as one snapshot: the command,
/// its exit code, stdout and stderr.
fn snapshot_demo(name: &str, args: &[&str]) {
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--no-cache", "docs/demo"])
        .collect();
    let out = common::unfreeze(Path::new(env!("CARGO_MANIFEST_DIR")), &args).output();
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
fn demo_check() {
    snapshot_demo("demo_check", &["check"]);
}

#[test]
fn demo_check_json() {
    snapshot_demo("demo_check_json", &["check", "--format", "json"]);
}

#[test]
fn demo_check_statistics() {
    snapshot_demo("demo_check_statistics", &["check", "--statistics"]);
}

#[test]
fn demo_fix() {
    snapshot_demo("demo_fix", &["fix"]);
}

#[test]
fn demo_fix_unsafe_fixes() {
    snapshot_demo("demo_fix_unsafe_fixes", &["fix", "--unsafe-fixes"]);
}
