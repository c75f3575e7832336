//! A second run changes nothing, in a single-task script too: the fixes a run makes must not
//! change the single-task verdict of the calls it left. Here the script's only direct finding
//! (`os.path.exists` after a wait that may start work) is fixed; what is left is a project
//! finding (`config.exists()`, before anything else runs: no fix), so the next run's pre-filter
//! no longer lets the file through, and the entry function's body (`asyncio.run(main(...))`
//! in `cli()`) was left out of its parse: no entry point, and `config.exists()` got the offload
//! the first run had refused.

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

/// Shaped like an interactive client's `async_main`: a project call before the first await,
/// then an await of something not known to start nothing, then a path check.
const CLI: &str = "import asyncio\nimport os\nimport sys\n\nfrom pkg.config import Config\n\n\n\
                   async def main(path):\n    config = Config(path)\n    \
                   found = config.exists()\n    \
                   await asyncio.wait_for(asyncio.sleep(0), 1)\n    \
                   if os.path.exists(path):\n        print('found', found)\n\n\n\
                   def cli():\n    asyncio.run(main(sys.argv[1]))\n\n\n\
                   if __name__ == '__main__':\n    cli()\n";

const CONFIG: &str = "import os\n\n\nclass Config:\n    def __init__(self, path):\n        \
                      self.path = path\n\n    def exists(self):\n        \
                      return os.path.exists(self.path)\n";

const NO_FIX: &str = "no fix: nothing else runs on the event loop in this script, so \
                      `config.exists()` blocks nothing";

#[test]
fn fixing_the_direct_findings_keeps_the_single_task_verdict_of_the_others() {
    let dir = project(&[
        ("cli.py", CLI.as_bytes()),
        ("pkg/__init__.py", b""),
        ("pkg/config.py", CONFIG.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check.stdout.contains("cli.py:10:13: UNF401"),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());
    assert!(
        check.stdout.contains("cli.py:12:8: ASYNC240 [*]"),
        "{}",
        check.show()
    );

    let write = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "."],
    );
    assert_eq!(write.code, Some(1), "{}", write.show());
    let script = std::fs::read_to_string(dir.path().join("cli.py")).unwrap();
    assert!(
        script.contains("    found = config.exists()\n")
            && script.contains("    if await asyncio.to_thread(os.path.exists, path):\n"),
        "{script}"
    );

    // The second run proposes nothing, and `check` still says why `config.exists()` stays.
    let again = unfreeze_in(dir.path(), &["fix", "--isolated", "--no-cache", "."]);
    assert!(again.stdout.is_empty(), "{}", again.show());
    assert!(
        again
            .stderr
            .contains("Would fix 0 findings in 0 files; 1 left."),
        "{}",
        again.show()
    );
    let unsafe_again = unfreeze_in(
        dir.path(),
        &["fix", "--unsafe-fixes", "--isolated", "--no-cache", "."],
    );
    assert!(unsafe_again.stdout.is_empty(), "{}", unsafe_again.show());
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check.stdout.contains("cli.py:10:13: UNF401"),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());
    assert!(!check.stdout.contains("[*]"), "{}", check.show());

    // The rewritten program runs.
    let out = python(&test_python())
        .current_dir(dir.path())
        .args(["cli.py", "cli.py"])
        .deadline(Duration::from_secs(30))
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(out.stdout, "found True\n");
}
