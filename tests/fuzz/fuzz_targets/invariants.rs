//! The invariants every fuzz target checks on one input, through the library's own per-file
//! entry point (`run::process_source`, what each worker of a run calls; panics are not caught
//! there, so libFuzzer sees them):
//! - no panic, in `fix` with and without unsafe fixes;
//! - every fixed output has no more syntax errors than its input (none where the input had
//!   none), and its bytes decode back to the fixed text;
//! - a second pass over the fixed output proposes nothing (one run converges).

use std::path::Path;
use std::sync::OnceLock;

use unfreeze::codemod::Registry;
use unfreeze::config::{Config, HttpClient, PerFileIgnores};
use unfreeze::outcome::FileOutcome;
use unfreeze::parse::parse;
use unfreeze::run::process_source;
use unfreeze::settings::{Mode, Settings};
use unfreeze::source::SourceText;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::bundled().expect("the bundled codemods compile"))
}

fn settings(unsafe_fixes: bool, http_client: HttpClient) -> Settings {
    let config = Config {
        http_client,
        ..Config::default()
    };
    Settings {
        mode: Mode::Fix {
            write: true,
            unsafe_fixes,
        },
        paths: Vec::new(),
        stdin_filename: None,
        read_stdin: false,
        exclude: Vec::new(),
        forced_excludes: None,
        selection: Default::default(),
        per_file_ignores: PerFileIgnores::new(&config),
        config,
        progress: false,
        line_scope: None,
        cache_dir: None,
        file_timeout: None,
    }
}

/// Check the invariants on `bytes` as the file `file_name`.
pub fn check(bytes: &[u8], file_name: &str, http_client: HttpClient) {
    let path = Path::new(file_name);
    for unsafe_fixes in [false, true] {
        let settings = settings(unsafe_fixes, http_client);
        let FileOutcome::Checked {
            text,
            findings,
            applied,
            fixed,
            ..
        } = process_source(bytes, path, &settings, registry())
        else {
            continue;
        };
        assert_eq!(
            applied.len(),
            findings.len(),
            "one applied flag per finding"
        );
        let Some(fixed) = fixed else {
            continue;
        };
        let before = parse(&text).error_ranges.len();
        let after = parse(&fixed.text).error_ranges.len();
        assert!(
            after <= before,
            "the fix added syntax errors ({before} -> {after}):\n{}",
            fixed.text
        );
        let decoded = SourceText::decode(&fixed.bytes).expect("the fixed bytes decode");
        assert_eq!(
            decoded.text, fixed.text,
            "the fixed bytes decode to the fixed text"
        );
        if let FileOutcome::Checked {
            fixed: Some(again), ..
        } = process_source(&fixed.bytes, path, &settings, registry())
        {
            panic!(
                "a second pass changed the fixed output (unsafe_fixes: {unsafe_fixes}):\n\
                 --- first pass\n{}\n--- second pass\n{}",
                fixed.text, again.text
            );
        }
    }
}
