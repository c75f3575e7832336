//! The per-rule pages in docs/rules/ are generated from the codemod files; this test fails
//! when they drift. Regenerate with `UNFREEZE_UPDATE_DOCS=1 cargo test --test docs`.

use std::fs;
use std::path::Path;

use unfreeze::codemod::Registry;
use unfreeze::report::rules::{explain, rules_index_markdown, rules_table};

fn check_or_update(path: &Path, expected: &str, stale: &mut Vec<String>) {
    if std::env::var_os("UNFREEZE_UPDATE_DOCS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, expected).unwrap();
    } else if fs::read_to_string(path).ok().as_deref() != Some(expected) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn rule_pages_match_the_codemod_files() {
    let registry = Registry::bundled().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    let mut stale = Vec::new();
    for codemod in registry.codemods() {
        check_or_update(
            &dir.join(format!("{}.md", codemod.code)),
            &explain(codemod),
            &mut stale,
        );
    }
    check_or_update(
        &dir.join("README.md"),
        &rules_index_markdown(&registry),
        &mut stale,
    );
    assert!(
        !rules_table(&registry).is_empty(),
        "the rules table lists the codemods"
    );
    assert!(
        stale.is_empty(),
        "stale generated docs (run `UNFREEZE_UPDATE_DOCS=1 cargo test --test docs`): {stale:?}"
    );
}
