//! Inputs the fuzzer (tests/fuzz, docs/reliability.md) found bugs with, kept as fixtures in
//! tests/fixtures/fuzz/: every one is checked with the fuzz targets' own invariants (no panic;
//! no new syntax errors; the fixed bytes decode back; a second pass proposes nothing), and each
//! bug has a named test through the binary, the way a user meets it.

mod common;

use common::{Output, Run, project};

use std::fs;
use std::path::{Path, PathBuf};

use unfreeze::config::HttpClient;

#[path = "fuzz/fuzz_targets/invariants.rs"]
mod invariants;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_fuzz_fixture_keeps_the_fuzz_invariants() {
    let paths = fixtures();
    assert!(!paths.is_empty());
    for path in paths {
        let bytes = fs::read(&path).unwrap();
        for client in [HttpClient::Httpx, HttpClient::Httpx2] {
            invariants::check(&bytes, "fuzz.py", client);
            invariants::check(&bytes, "__init__.py", client);
        }
    }
}

/// `unfreeze ARGS --color=never --isolated --no-cache` in `dir`, its output decoded lossily.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args)
        .args(["--color=never", "--isolated", "--no-cache"])
        .lossy()
}

/// `fix --write --unsafe-fixes` on the fixture: its output, the fixed text, and the second
/// run's output (no diff when one run converged).
fn fix_twice(fixture: &str) -> (Output, String, Output) {
    let source = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz")
            .join(fixture),
    )
    .unwrap();
    // The project declares httpx: the requests migration targets it (`http-client = "auto"`).
    let dir = project(&[("fuzz.py", &source), ("requirements.txt", b"httpx\n")]);
    let first = unfreeze(dir.path(), &["fix", "--write", "--unsafe-fixes", "fuzz.py"]).output();
    assert!(matches!(first.code, Some(0 | 1)), "{}", first.show());
    let fixed = fs::read_to_string(dir.path().join("fuzz.py")).unwrap();
    let second = unfreeze(dir.path(), &["fix", "--unsafe-fixes", "fuzz.py"]).output();
    (first, fixed, second)
}

/// Regression (cargo-fuzz, pipeline_bytes): the requests rewrite adds `import httpx`; the file
/// already called `httpx.request(...)` without importing it, so only after the fix did that call
/// resolve to httpx, and a second run rewrote it. One run now analyses its own result again
/// until nothing more applies.
#[test]
fn fix_converges_when_an_import_added_by_a_fix_makes_a_call_resolve() {
    let (_, fixed, second) = fix_twice("import_added_by_a_fix_makes_a_name_resolve.py");
    assert!(!second.stdout.contains("+++ "), "{}", second.show());
    assert!(
        fixed.contains("await asyncio.to_thread(httpx.request, \"GET\", URL)"),
        "{fixed}"
    );
    assert!(fixed.contains("async with httpx.AsyncClient("), "{fixed}");
}

/// Regression (cargo-fuzz, pipeline_bytes): in a file with syntax errors, the call on the line
/// `results = [...]  sync` sat in a statement tree-sitter marked as broken, so it got no fix;
/// after other calls were fixed, tree-sitter's error recovery read that line as two valid
/// statements and a second run fixed the call. Since issue 26 a file with a syntax error is
/// never rewritten: one run reports it and leaves it as it is, and so does the second.
#[test]
fn fix_converges_in_a_file_whose_syntax_errors_are_read_differently_after_a_fix() {
    let original = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz/syntax_errors_read_differently_after_a_fix.py"),
    )
    .unwrap();
    let (first, fixed, second) = fix_twice("syntax_errors_read_differently_after_a_fix.py");
    assert!(!second.stdout.contains("+++ "), "{}", second.show());
    assert_eq!(fixed, original);
    assert_eq!(first.code, Some(1), "{}", first.show());
    assert!(first.stdout.contains("SyntaxError:"), "{}", first.show());
}
