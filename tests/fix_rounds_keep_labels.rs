//! A later fix round never lifts an earlier round's label (issue 20, "safe means safe"): a
//! file's path comes from a helper whose call gets a safe thread hop (`path =
//! get_config_path()` becomes `path = await asyncio.to_thread(get_config_path)`), and the
//! coroutine reads the file and rewrites it. `check` labels the read and the write unsafe (a
//! read-modify-write split by new awaits); `fix --write` leaves them on the event loop, the
//! rewritten program loses no update when two saves run at once, and `check` on the rewritten
//! file still labels them unsafe (the path through the hop is still `get_config_path()`'s).

mod common;

use std::fs;
use std::path::Path;

use common::{project, python, test_python, unfreeze_in};
use serde_json::Value;

const STORE: &str = r#"import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def get_config_path():
    if os.path.exists(os.path.join(HERE, "config")):
        return os.path.join(HERE, "config", "agents.json")
    return os.path.join(HERE, "agents.json")


async def save(item):
    path = get_config_path()
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    else:
        data = {"items": []}
    data["items"].append(item)
    with open(path, "w") as f:
        json.dump(data, f)
"#;

/// Two saves at once, many times over, from a fresh file each time: the items kept.
const RUN: &str = r#"import asyncio
import json

import store


async def both():
    asyncio.create_task(asyncio.sleep(0))
    await asyncio.gather(store.save("a"), store.save("b"))


lost = 0
for _ in range(20):
    with open(store.get_config_path(), "w") as f:
        json.dump({"items": []}, f)
    asyncio.run(both())
    with open(store.get_config_path()) as f:
        if sorted(json.load(f)["items"]) != ["a", "b"]:
            lost += 1
print("lost", lost)
"#;

fn check_json(dir: &Path) -> Vec<Value> {
    let check = unfreeze_in(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--isolated",
            "--no-cache",
            "store.py",
        ],
    );
    assert_eq!(check.code, Some(1), "{}", check.show());
    match serde_json::from_str(&check.stdout) {
        Ok(Value::Array(findings)) => findings,
        _ => panic!("not a JSON array\n{}", check.show()),
    }
}

/// The applicability `check` gives the ASYNC230 findings (the `open`s), in order.
fn open_labels(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["code"] == "ASYNC230")
        .map(|f| {
            f["fix"]["applicability"]
                .as_str()
                .unwrap_or("none")
                .to_owned()
        })
        .collect()
}

#[test]
fn fix_write_leaves_the_unsafe_read_and_write_and_loses_no_update() {
    let dir = project(&[("store.py", STORE.as_bytes()), ("run.py", RUN.as_bytes())]);
    assert_eq!(open_labels(&check_json(dir.path())), ["unsafe", "unsafe"]);

    let fix = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "store.py"],
    );
    assert_eq!(fix.code, Some(1), "{}", fix.show());
    assert!(
        !fix.stderr.contains("unsafe fix in the diff"),
        "{}",
        fix.show()
    );
    let fixed = fs::read_to_string(dir.path().join("store.py")).unwrap();
    // The safe hops are made; the read and the write stay on the event loop.
    assert!(
        fixed.contains("    path = await asyncio.to_thread(get_config_path)\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains(
            "        with open(path) as f:\n            data = json.load(f)\n    else:\n"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains("    with open(path, \"w\") as f:\n        json.dump(data, f)\n"),
        "{fixed}"
    );
    assert!(!fixed.contains("def _"), "{fixed}");

    // `check` on the rewritten file still labels them unsafe.
    assert_eq!(open_labels(&check_json(dir.path())), ["unsafe", "unsafe"]);

    // Two concurrent saves keep both items, every time.
    let run = python(&test_python())
        .current_dir(dir.path())
        .arg("run.py")
        .output();
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "lost 0\n", "{}\n{fixed}", run.show());
}

/// With `--unsafe-fixes` the read and the write move, as `check` says they would (the
/// caveat states the race): the rounds keep labels, they do not refuse fixes asked for.
#[test]
fn fix_unsafe_fixes_still_moves_them() {
    let dir = project(&[("store.py", STORE.as_bytes())]);
    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "store.py",
        ],
    );
    assert_eq!(fix.code, Some(0), "{}", fix.show());
    let fixed = fs::read_to_string(dir.path().join("store.py")).unwrap();
    assert!(
        fixed.contains("data = await asyncio.to_thread(_read_data)"),
        "{fixed}"
    );
    assert!(
        fixed.contains("await asyncio.to_thread(_write_data)"),
        "{fixed}"
    );
}
