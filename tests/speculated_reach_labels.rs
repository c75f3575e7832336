//! A UNF401 finding settled from the first pass's speculation (`analyze/speculation.rs`) gets
//! the label a pass with the settled calls gives it (`receivers::reach_fix`): a constructor's
//! hop is unsafe (the object is made in a worker thread), a method on a shared object is
//! unsafe, whichever path the file took (issue 20, session 18: before, the speculation path
//! skipped the reach check, so the same call was safe in one file and unsafe in the next).

mod common;

use common::{project, unfreeze_in};

const MODELS: &str = "class Client:\n    def __init__(self, path):\n        \
                      self.data = open(path).read()\n\n    def size(self):\n        \
                      return len(self.data)\n\n\ndef quiet():\n    return 1\n";

/// A file the settling leaves to its speculation.
const SPECULATED: &str = "from models import Client\n\n\nasync def handler(path):\n    \
                          client = Client(path)\n    return client.size()\n";

/// The same coroutine in a file that gets a pass with the settled calls (its entry point
/// calls a project function, whose "starts nothing" the settling tells it).
const SETTLED: &str = "import asyncio\n\nfrom models import Client, quiet\n\n\n\
                       async def handler(path):\n    client = Client(path)\n    \
                       return client.size()\n\n\nasync def main():\n    quiet()\n\n\n\
                       asyncio.run(main())\n";

const CAVEAT: &str = "`Client(...)` now makes its object in a worker thread";

#[test]
fn a_constructor_hop_is_unsafe_on_both_paths_and_check_and_fix_agree() {
    let dir = project(&[
        ("models.py", MODELS.as_bytes()),
        ("app.py", SPECULATED.as_bytes()),
        ("app2.py", SETTLED.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let findings: Vec<(&str, &str)> = check
        .stdout
        .lines()
        .filter(|l| l.contains("UNF401"))
        .zip(
            check
                .stdout
                .lines()
                .filter(|l| l.contains("fix:"))
                .collect::<Vec<_>>(),
        )
        .collect();
    assert_eq!(findings.len(), 2, "{}", check.stdout);
    for (head, fix) in &findings {
        assert!(!head.contains("[*]"), "not safe:\n{}", check.stdout);
        assert!(fix.contains("unsafe fix:"), "{}", check.stdout);
        assert!(fix.contains(CAVEAT), "{}", check.stdout);
    }
    // `fix` (safe fixes only) writes nothing; `--unsafe-fixes` moves both constructors.
    let safe = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "."],
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).unwrap(),
        SPECULATED,
        "{}",
        safe.show()
    );
    unfreeze_in(
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
    for name in ["app.py", "app2.py"] {
        let fixed = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            fixed.contains("await asyncio.to_thread(Client, path)"),
            "{name}:\n{fixed}"
        );
    }
}
