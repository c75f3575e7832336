//! UNF301's fix ("await it") is the one whose whole point is a change of behaviour: the
//! coroutine never ran, awaited it does. Its unsafe fix says so, and the rewritten program
//! shows it: the file the un-awaited call never deleted is deleted.

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

const SCRIPT: &str = "import asyncio\nimport os\nimport sys\n\n\nasync def wipe(path):\n    \
                      os.unlink(path)\n\n\nasync def main(path):\n    wipe(path)\n\n\n\
                      asyncio.run(main(sys.argv[1]))\n";

const CAVEAT: &str = "unsafe fix: Await it: `await wipe(...)` (`wipe(...)` never ran here: \
                      awaited, its body now runs, so what it writes, deletes or sends now \
                      happens";

#[test]
fn awaiting_an_unawaited_coroutine_states_that_its_body_now_runs() {
    let dir = project(&[("app.py", SCRIPT.as_bytes()), ("victim.txt", b"kept")]);
    let run = |dir: &std::path::Path| {
        let out = python(&test_python())
            .current_dir(dir)
            .args(["-W", "ignore", "app.py", "victim.txt"])
            .deadline(Duration::from_secs(30))
            .output();
        assert_eq!(out.code, Some(0), "{}", out.show());
    };
    run(dir.path());
    assert!(dir.path().join("victim.txt").exists());

    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check.stdout.contains("app.py:11:5: UNF301"),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains(CAVEAT), "{}", check.show());

    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            ".",
        ],
    );
    assert!(
        fix.stderr.contains(
            "UNF301 unsafe fix applied: `wipe(...)` never ran here: awaited, its body now runs"
        ),
        "{}",
        fix.show()
    );
    let script = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(script.contains("    await wipe(path)\n"), "{script}");
    run(dir.path());
    assert!(!dir.path().join("victim.txt").exists());
}
