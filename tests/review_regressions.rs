//! Regressions from the review of 13 real applications (session 12), each proven by running
//! the rewritten program with CPython: a fix never names a module the function makes local
//! and binds only later (legale/rag-telegram-gpt-bot's `import asyncio` below the call);
//! single-task `asyncio.run(main())` scripts keep their blocking calls (kuzyivan's
//! `create_admin.py` `input()`, its migrators' hops); aiohttp objects made in moved code stay
//! on the loop (OF-Scraper's `_set_session`); caveats name only what the code changes.

mod common;

use std::fs;
use std::path::Path;

use common::{project, test_python, unfreeze_in};

/// Run `main.py` in `dir`; its stdout (it must succeed).
fn run_main(dir: &Path) -> String {
    let output = common::python(&test_python())
        .arg("main.py")
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "main.py failed:\n{}", output.show());
    output.stdout
}

/// `unfreeze fix --write .` (safe fixes only).
fn fix_safe(dir: &Path) -> common::Output {
    unfreeze_in(dir, &["fix", "--isolated", "--write", "."])
}

/// The findings of `check --format json .`.
fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let check = unfreeze_in(dir, &["check", "--isolated", "--format", "json", "."]);
    let value: serde_json::Value = serde_json::from_str(&check.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", check.show()));
    value.as_array().unwrap().clone()
}

/// legale's upload handler: a blocking `mkdir`, then a function-local `import asyncio` for a
/// later `create_task`; errors are answered, not raised.
const LOCAL_IMPORT_AFTER: &str = r#"from pathlib import Path


async def handle_file_upload(root):
    try:
        temp_dir = Path(root) / "uploads"
        temp_dir.mkdir(exist_ok=True)
        import asyncio
        await asyncio.sleep(0)
        return "ok"
    except Exception as e:
        return f"handled error: {type(e).__name__}: {e}"

"#;

/// Runs the upload handler once.
const UPLOAD_MAIN: &str = r#"import asyncio
import tempfile

from handler import handle_file_upload

print(asyncio.run(handle_file_upload(tempfile.mkdtemp())))
"#;

/// The local import runs first: the fix may use it.
const LOCAL_IMPORT_BEFORE: &str = r#"from pathlib import Path


async def handle_file_upload(root):
    import asyncio
    temp_dir = Path(root) / "uploads"
    temp_dir.mkdir(exist_ok=True)
    await asyncio.sleep(0)
    return "ok"

"#;

/// A fix that wrote `asyncio.to_thread(...)` above the function's own `import asyncio` made
/// every upload fail with UnboundLocalError; now the finding stays, with the reason, and the
/// program still answers "ok". Where the import runs first, the fix uses it and works.
#[test]
fn fix_never_names_a_module_the_function_binds_later() {
    let dir = project(&[
        ("handler.py", LOCAL_IMPORT_AFTER.as_bytes()),
        ("main.py", UPLOAD_MAIN.as_bytes()),
    ]);
    assert_eq!(run_main(dir.path()).trim(), "ok");
    let found = findings(dir.path());
    let mkdir = found
        .iter()
        .find(|f| f["code"] == "ASYNC240")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(mkdir["fix"].is_null(), "{mkdir}");
    let reason = mkdir["no_fix_reason"].as_str().unwrap();
    assert!(reason.contains("UnboundLocalError"), "{reason}");
    fix_safe(dir.path());
    assert_eq!(run_main(dir.path()).trim(), "ok");

    let dir = project(&[
        ("handler.py", LOCAL_IMPORT_BEFORE.as_bytes()),
        ("main.py", UPLOAD_MAIN.as_bytes()),
    ]);
    let fixed = fix_safe(dir.path());
    let text = fs::read_to_string(dir.path().join("handler.py")).unwrap();
    assert!(
        text.contains("await asyncio.to_thread(temp_dir.mkdir, exist_ok=True)"),
        "{text}\n{}",
        fixed.show()
    );
    assert_eq!(run_main(dir.path()).trim(), "ok");
}
