//! JSON stores whose helpers take the path as an argument (`load_data(FILE_JOKES)`,
//! `save_data(FILE_JOKES, data)`), proven by running the programs with the test Python: the
//! file a helper opens through its parameter is the file each call passes, so moving those
//! calls to worker threads is unsafe and the caveat names the file; a helper given a fresh
//! path (a parameter of the coroutine, a temporary directory) keeps its safe fix; two module
//! constants holding one path name one file, across modules too; a load and a save hop of one
//! coroutine are a read-modify-write split by the new awaits; a save through a fixed temporary
//! name (`path + ".tmp"`, `os.replace`) is a race between two writers.
//!
//! `UNFREEZE_PARAMS_BIN` runs the tests against another build of unfreeze (to show they fail
//! on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_PARAMS_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python; its exit code, stdout and stderr.
fn run_main(dir: &Path) -> (Option<i32>, String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    (output.code, output.stdout, output.stderr)
}

/// The UNF401 findings of `check --format json`, by file and line: (applicability, caveat).
fn unf401(dir: &Path) -> Vec<(String, u64, String, String)> {
    let output = unfreeze(
        dir,
        &["check", "--isolated", "--no-cache", "--format", "json", "."],
    )
    .output();
    let value: serde_json::Value = serde_json::from_str(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", output.show()));
    value
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "UNF401")
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["location"]["row"].as_u64().unwrap(),
                f["fix"]["applicability"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
                f["fix"]["caveat"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The finding at `file:line`.
fn at(found: &[(String, u64, String, String)], file: &str, line: u64) -> (String, String) {
    found
        .iter()
        .find(|f| f.0 == file && f.1 == line)
        .map(|f| (f.2.clone(), f.3.clone()))
        .unwrap_or_else(|| panic!("no UNF401 at {file}:{line}: {found:?}"))
}

/// `unfreeze fix --isolated --no-cache --write [extra] .` must succeed.
fn fix_write(dir: &Path, extra: &[&str]) {
    let output = unfreeze(dir, &["fix", "--isolated", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .lossy()
        .output();
    assert!(
        matches!(output.code, Some(0 | 1)),
        "fix failed:\n{}",
        output.show()
    );
}

/// A Telegram bot's jokes store: every command loads the file through `load_data(FILE_JOKES)`,
/// changes it and rewrites it in place through `save_data(FILE_JOKES, data)`.
const JOKES: &str = r#"import asyncio
import json
import os

FILE_JOKES = "jokes.json"


def load_data(file_name):
    if os.path.exists(file_name):
        with open(file_name, "r", encoding="utf-8") as f:
            try:
                return json.load(f)
            except json.JSONDecodeError:
                return {}
    return {}


def save_data(file_name, data):
    with open(file_name, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)


async def add_joke(i):
    await asyncio.sleep(0)
    data = load_data(FILE_JOKES)
    data[str(len(data))] = f"joke {i} " + "x" * 200
    save_data(FILE_JOKES, data)


async def main():
    save_data(FILE_JOKES, {str(i): "x" * 200 for i in range(2000)})
    await asyncio.gather(*(add_joke(i) for i in range(40)))
    print(len(load_data(FILE_JOKES)))


asyncio.run(main())
"#;

#[test]
fn a_store_whose_helpers_take_the_path_is_not_moved_by_a_safe_fix() {
    let dir = project(&[("main.py", JOKES.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!((code, before.trim()), (Some(0), "2040"), "{stderr}");

    // The load and the save hop of `add_joke`: unsafe, the file and the split named.
    let found = unf401(dir.path());
    for (line, does) in [(25, "reads"), (27, "writes")] {
        let (applicability, caveat) = at(&found, "main.py", line);
        assert_eq!(applicability, "unsafe", "{line}: {caveat}");
        assert!(
            caveat.contains(&format!("the call {does} the file `FILE_JOKES`"))
                && caveat.contains("a read-modify-write split by the new `await`s"),
            "{line}: {caveat}"
        );
    }

    // A safe `fix --write` leaves them on the loop: no update is lost.
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(!fixed.contains("to_thread(load_data"), "{fixed}");
    assert!(!fixed.contains("to_thread(save_data"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!((code, after), (Some(0), before), "{stderr}");

    // The unsafe fix does what the caveat says: the adds interleave in worker threads.
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("data = await asyncio.to_thread(load_data, FILE_JOKES)"),
        "{fixed}"
    );
    let (_, after, _) = run_main(dir.path());
    assert_ne!(after.trim(), "2040", "updates are lost in worker threads");
}

/// The same helpers given paths nobody else uses: a parameter of the coroutine, files in a
/// temporary directory each call makes.
const FRESH: &str = r#"import asyncio
import json
import os
import tempfile


def save_data(file_name, data):
    with open(file_name, "w", encoding="utf-8") as f:
        json.dump(data, f)


def load_data(file_name):
    with open(file_name, "r", encoding="utf-8") as f:
        return json.load(f)


async def export(path, i):
    await asyncio.sleep(0)
    save_data(path, {"i": i})
    return load_data(path)["i"]


async def main():
    with tempfile.TemporaryDirectory() as d:
        results = await asyncio.gather(
            *(export(os.path.join(d, f"{i}.json"), i) for i in range(20))
        )
    print(sum(results))


asyncio.run(main())
"#;

#[test]
fn a_helper_given_a_fresh_path_keeps_its_safe_fix_and_its_output() {
    let dir = project(&[("main.py", FRESH.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!((code, before.trim()), (Some(0), "190"), "{stderr}");
    let found = unf401(dir.path());
    for line in [19, 20] {
        let (applicability, caveat) = at(&found, "main.py", line);
        assert_eq!(applicability, "safe", "{line}: {caveat}");
    }
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(save_data, path, {\"i\": i})"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!((code, after), (Some(0), before), "{stderr}");
}

/// Two names for one file: `bot.py` broadcasts to the users `load_json(USERS_FILE, [])`
/// reads; `data_manager.py` registers every private message's user, rewriting the file it
/// names `USER_FILE` in place.
const BOT: &str = r#"import asyncio
import json
import os

from data_manager import register_private_user

USERS_FILE = "data/users.json"


def load_json(path, default):
    if not os.path.exists(path):
        return default
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except Exception:
        return default


async def broadcast():
    await asyncio.sleep(0)
    users = load_json(USERS_FILE, [])
    return len(users)


async def on_message(uid):
    await asyncio.sleep(0)
    register_private_user(uid)


async def main():
    os.makedirs("data", exist_ok=True)
    for uid in range(3000):
        register_private_user(uid)
    counts = await asyncio.gather(
        *(broadcast() for _ in range(20)), *(on_message(u) for u in range(20))
    )
    print(min(c for c in counts if c is not None), len(load_json(USERS_FILE, [])))
"#;

const DATA_MANAGER: &str = r#"import json
import os

DATA_DIR = "data"
USER_FILE = os.path.join(DATA_DIR, "users.json")


def register_private_user(uid):
    users = []
    if os.path.exists(USER_FILE):
        with open(USER_FILE, "r", encoding="utf-8") as f:
            users = json.load(f)
    if uid not in users:
        users.append(uid)
    with open(USER_FILE, "w", encoding="utf-8") as f:
        json.dump(users, f)
"#;

const MAIN: &str = "import asyncio\n\nfrom bot import main\n\nasyncio.run(main())\n";

#[test]
fn two_constants_holding_one_path_name_one_file_across_modules() {
    let dir = project(&[
        ("main.py", MAIN.as_bytes()),
        ("bot.py", BOT.as_bytes()),
        ("data_manager.py", DATA_MANAGER.as_bytes()),
    ]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!((code, before.trim()), (Some(0), "3000 3000"), "{stderr}");
    let found = unf401(dir.path());
    let (applicability, caveat) = at(&found, "bot.py", 22);
    assert_eq!(applicability, "unsafe", "{caveat}");
    assert!(
        caveat.contains(
            "reads the file `USERS_FILE`, which `register_private_user` in data_manager.py:15 \
             (another module) writes"
        ),
        "{caveat}"
    );
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("bot.py")).unwrap();
    assert!(!fixed.contains("to_thread(load_json"), "{fixed}");
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!((code, after), (Some(0), before), "{stderr}");
}

/// An event cog: each command loads the config, changes it and saves it back, through
/// wrappers of helpers taking the path; the save writes `path + ".tmp"` and renames it over
/// the file.
const EVENTS: &str = r#"import asyncio
import json
import os

CONFIG_FILE = "event_config.json"


def _read_json(path, default):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return dict(default)


def _write_json(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    os.replace(tmp, path)


def load_config():
    return _read_json(CONFIG_FILE, {"token": 0, "pad": []})


def save_config(cfg):
    _write_json(CONFIG_FILE, cfg)


async def event_reset(i):
    await asyncio.sleep(0)
    cfg = load_config()
    cfg["token"] += 1
    _write_json(CONFIG_FILE, cfg)


async def main():
    save_config({"token": 0, "pad": ["x" * 100] * 3000})
    results = await asyncio.gather(*(event_reset(i) for i in range(20)), return_exceptions=True)
    print(load_config()["token"], sum(isinstance(r, Exception) for r in results))


asyncio.run(main())
"#;

#[test]
fn a_load_and_a_save_hop_of_one_file_and_a_fixed_temporary_name_are_races() {
    let dir = project(&[("main.py", EVENTS.as_bytes())]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!((code, before.trim()), (Some(0), "20 0"), "{stderr}");
    let found = unf401(dir.path());
    let (applicability, caveat) = at(&found, "main.py", 33);
    assert_eq!(applicability, "unsafe", "{caveat}");
    assert!(
        caveat.contains(
            "the call reads the file `CONFIG_FILE`, which the same function also rewrites \
             (line 35): a read-modify-write split by the new `await`s"
        ),
        "{caveat}"
    );
    let (applicability, caveat) = at(&found, "main.py", 35);
    assert_eq!(applicability, "unsafe", "{caveat}");
    assert!(
        caveat.contains(
            "the call writes the file `CONFIG_FILE`, which the same function also read (line 33)"
        ) && caveat.contains("a read-modify-write split by the new `await`s"),
        "{caveat}"
    );
    assert!(
        caveat.contains("through a fixed temporary name")
            && caveat.contains("the second `os.replace` fails with FileNotFoundError"),
        "{caveat}"
    );
    fix_write(dir.path(), &[]);
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!((code, after), (Some(0), before), "{stderr}");

    // The unsafe fix: the saves race on the one temporary name, and updates are lost.
    fix_write(dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(_write_json, CONFIG_FILE, cfg)"),
        "{fixed}"
    );
    let (code, after, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_ne!(after.trim(), "20 0", "the saves race in worker threads");
}
