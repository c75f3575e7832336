//! Issue 20 (reviewer L, session 17, cbcoutinho/nextcloud-mcp-server client/webdav.py:886): in
//! a file written for anyio, a thread hop added to clean-up code (a `finally`, an `except`
//! that catches the cancellation) is not safe: anyio's cancellation is level-triggered, so
//! when the clean-up runs because the scope was cancelled, the new `await` raises again at
//! once and the clean-up never happens (a partial download left on disk). The fix there is
//! unsafe, with the difference stated; the same code in an asyncio file, where the
//! cancellation is delivered once, keeps its safe fix. The program below runs with the test
//! Python before and after `fix --write`: the partial file is still removed.

mod common;

use common::{project, python, test_python, unfreeze};

const DOWNLOAD: &str = r#"from pathlib import Path

import anyio


async def stream(dest: Path):
    try:
        async with await anyio.open_file(dest, "wb") as fh:
            await fh.write(b"partial body ")
            await anyio.sleep(10)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


async def main():
    dest = Path("doc.pdf")
    with anyio.move_on_after(0.2):
        await stream(dest)
    print("left behind:", dest.exists())


anyio.run(main)
"#;

const ASYNCIO_DOWNLOAD: &str = r#"import asyncio
from pathlib import Path


async def stream(dest: Path):
    try:
        dest.write_bytes(b"partial body ")
        await asyncio.sleep(10)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


async def main():
    dest = Path("doc.pdf")
    beat = asyncio.create_task(asyncio.sleep(0.01))
    try:
        async with asyncio.timeout(0.2):
            await stream(dest)
    except TimeoutError:
        pass
    await beat
    print("left behind:", dest.exists())


asyncio.run(main())
"#;

#[test]
fn a_hop_in_anyio_clean_up_code_is_unsafe_and_the_safe_run_keeps_cleaning_up() {
    let dir = project(&[("download.py", DOWNLOAD.as_bytes())]);
    let report = unfreeze(dir.path(), &["check", "--no-cache", "download.py"])
        .output()
        .stdout;
    assert!(
        report.contains("whose cancellation is level-triggered: when the `except` that catches the cancellation (line 11)"),
        "{report}"
    );
    assert!(report.contains("unsafe fix"), "{report}");
    let before = python(&test_python())
        .current_dir(dir.path())
        .arg("download.py")
        .output();
    assert_eq!(before.stdout, "left behind: False\n", "{}", before.show());
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "download.py"]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = std::fs::read_to_string(dir.path().join("download.py")).unwrap();
    assert!(
        fixed.contains("        dest.unlink(missing_ok=True)\n"),
        "{fixed}"
    );
    let after = python(&test_python())
        .current_dir(dir.path())
        .arg("download.py")
        .output();
    assert_eq!(after.stdout, "left behind: False\n", "{}", after.show());
}

#[test]
fn the_same_clean_up_in_an_asyncio_file_keeps_its_safe_hop_and_still_cleans_up() {
    let dir = project(&[("download.py", ASYNCIO_DOWNLOAD.as_bytes())]);
    let report = unfreeze(dir.path(), &["check", "--no-cache", "download.py"])
        .output()
        .stdout;
    assert!(!report.contains("level-triggered"), "{report}");
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "download.py"]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = std::fs::read_to_string(dir.path().join("download.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(dest.unlink"),
        "{fixed}"
    );
    let after = python(&test_python())
        .current_dir(dir.path())
        .arg("download.py")
        .output();
    assert_eq!(after.stdout, "left behind: False\n", "{}", after.show());
}
