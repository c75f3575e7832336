//! A check-then-act on a filesystem path in code a fix moves to a worker thread (issue 20,
//! pavel-molyanov/telegram-ai-agent): `CODEX_ADAPTER.build_tui_start(...)` reaches
//! `_ensure_codex_global_skill_links`, which does `if target.exists(): continue;
//! target.symlink_to(...)` on fixed paths. On the event loop two sessions starting at once ran
//! the check and the create one after the other; in worker threads both pass the check and the
//! second create raises FileExistsError. The hop is unsafe now, with a caveat naming the path,
//! the check and the act; an act that tolerates the race keeps the hop safe.

mod common;

use std::fs;
use std::path::Path;

use common::{project, test_python, unfreeze_in};

/// The app's pattern, reduced: the link helper reached through the adapter's chain (the
/// blocking call is `path.stat()` in `binary`). `{ACT}` is the act.
const PROVIDERS: &str = r#"import os
from pathlib import Path

BASE = Path(os.path.dirname(os.path.abspath(__file__)))
_BOT_HOME = BASE / "codex-bot"
_HOME = BASE / "codex"


def _ensure_links():
    source_root = _HOME / "skills"
    target_root = _BOT_HOME / "skills"
    if not source_root.is_dir() or not target_root.is_dir():
        return
    for source in source_root.iterdir():
        if not source.is_dir() or not (source / "SKILL.md").is_file():
            continue
        target = target_root / source.name
        if target.exists() or target.is_symlink():
            continue
{ACT}


def _prefix():
    if (_BOT_HOME / "config.toml").exists():
        _ensure_links()
        return ["env", f"CODEX_HOME={_BOT_HOME}"]
    return []


class CodexAdapter:
    def binary(self):
        path = Path(os.path.abspath(__file__))
        path.stat()
        return str(path)

    def build_tui_start(self, cwd):
        return [*_prefix(), self.binary(), "--cd", cwd]


CODEX_ADAPTER = CodexAdapter()


async def start_session(cwd):
    startup_cmd = CODEX_ADAPTER.build_tui_start(cwd)
    return startup_cmd
"#;

const PLAIN_ACT: &str = "        target.symlink_to(source, target_is_directory=True)";

const TOLERANT_ACT: &str = "        try:
            target.symlink_to(source, target_is_directory=True)
        except FileExistsError:
            pass";

/// Four sessions start at once, 20 times (200 skills each): how many raised.
const MAIN: &str = r#"import asyncio

import providers

SKILLS = providers._HOME / "skills"
LINKS = providers._BOT_HOME / "skills"


async def main():
    for i in range(200):
        (SKILLS / f"skill{i}").mkdir(parents=True, exist_ok=True)
        (SKILLS / f"skill{i}" / "SKILL.md").write_text("x")
    LINKS.mkdir(parents=True, exist_ok=True)
    (providers._BOT_HOME / "config.toml").write_text("")
    errors = 0
    for _ in range(20):
        for link in LINKS.iterdir():
            link.unlink()
        results = await asyncio.gather(
            *(providers.start_session(f"/topic{i}") for i in range(4)),
            return_exceptions=True,
        )
        errors += sum(1 for r in results if isinstance(r, FileExistsError))
        assert all(isinstance(r, (list, FileExistsError)) for r in results), results
    print(f"errors={errors} links={len(list(LINKS.iterdir()))}")


asyncio.run(main())
"#;

/// Run `main.py` in `dir`: how many starts raised FileExistsError (it must succeed, with
/// every link made).
fn errors(dir: &Path) -> usize {
    let output = common::python(&test_python())
        .arg("main.py")
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "main.py failed:\n{}", output.show());
    let line = output.stdout.trim();
    let count = line
        .strip_prefix("errors=")
        .and_then(|rest| rest.strip_suffix(" links=200"))
        .unwrap_or_else(|| panic!("unexpected output: {line}"));
    count.parse().unwrap()
}

/// The UNF401 finding at the adapter's call, from `check --format json`.
fn hop(dir: &Path) -> serde_json::Value {
    let check = unfreeze_in(dir, &["check", "--isolated", "--format", "json", "."]);
    let all: serde_json::Value =
        serde_json::from_str(&check.stdout).unwrap_or_else(|err| panic!("{err}: {}", check.show()));
    all.as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["code"] == "UNF401"
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("CODEX_ADAPTER.build_tui_start"))
        })
        .unwrap_or_else(|| panic!("no UNF401 at the adapter's call: {all:#}"))
        .clone()
}

#[test]
fn a_moved_helper_that_checks_then_makes_a_fixed_link_is_unsafe() {
    let providers = PROVIDERS.replace("{ACT}", PLAIN_ACT);
    let dir = project(&[
        ("providers.py", providers.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    // On the loop, the starts run one after the other: no start raises.
    assert_eq!(errors(dir.path()), 0);
    let fix = &hop(dir.path())["fix"];
    assert_eq!(fix["applicability"], "unsafe", "{fix:#}");
    let caveat = fix["caveat"].as_str().unwrap();
    for part in [
        "`_ensure_links` (run by `CodexAdapter.build_tui_start`)",
        "checks the path `target` (`target_root / source.name`) (`.exists()`, line 18)",
        "then makes it (`.symlink_to()`, line 20)",
        "two calls at once in worker threads can both pass the check",
        "(FileExistsError)",
        "make the act tolerate it",
    ] {
        assert!(caveat.contains(part), "{part}: {caveat}");
    }
    // The safe fixes leave the call on the loop, and the program as it was.
    unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    let kept = fs::read_to_string(dir.path().join("providers.py")).unwrap();
    assert_eq!(kept, providers);
    assert_eq!(errors(dir.path()), 0);
    // The unsafe fix moves the call to a worker thread: what the caveat says happens.
    unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    let moved = fs::read_to_string(dir.path().join("providers.py")).unwrap();
    assert!(
        moved.contains("await asyncio.to_thread(CODEX_ADAPTER.build_tui_start, cwd)"),
        "{moved}"
    );
    assert!(errors(dir.path()) > 0, "no start raised FileExistsError");
}

#[test]
fn an_act_that_tolerates_the_race_keeps_the_hop_safe() {
    let providers = PROVIDERS.replace("{ACT}", TOLERANT_ACT);
    let dir = project(&[
        ("providers.py", providers.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    assert_eq!(errors(dir.path()), 0);
    let fix = &hop(dir.path())["fix"];
    assert_eq!(fix["applicability"], "safe", "{fix:#}");
    unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    let moved = fs::read_to_string(dir.path().join("providers.py")).unwrap();
    assert!(
        moved.contains("await asyncio.to_thread(CODEX_ADAPTER.build_tui_start, cwd)"),
        "{moved}"
    );
    // In worker threads now, and the second create is caught: every start succeeds.
    assert_eq!(errors(dir.path()), 0);
}

/// A coroutine's own check then act on a fixed directory: each call hopped alone would put a
/// new `await` between the two.
const LOCK_APP: &str = r#"import asyncio
import os
import shutil

LOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.lock")


async def claim():
    if not os.path.exists(LOCK):
        os.mkdir(LOCK)
    return True


async def main():
    errors = 0
    for _ in range(50):
        shutil.rmtree(LOCK, ignore_errors=True)
        results = await asyncio.gather(*(claim() for _ in range(4)), return_exceptions=True)
        errors += sum(1 for r in results if isinstance(r, FileExistsError))
        assert all(r is True or isinstance(r, FileExistsError) for r in results), results
    print(f"errors={errors} links=200")


asyncio.run(main())
"#;

#[test]
fn the_check_and_the_act_in_one_worker_thread_still_race_and_are_unsafe() {
    let dir = project(&[("main.py", LOCK_APP.as_bytes())]);
    assert_eq!(errors(dir.path()), 0);
    // Session 18: the check and the act move in one hop (the per-call hops would split
    // them), which is still a race between two worker threads: unsafe, stated.
    let notes = unfreeze_in(dir.path(), &["fix", "--isolated", "--unsafe-fixes", "."]).stderr;
    for row in [9, 10] {
        let note = notes
            .lines()
            .find(|l| l.starts_with(&format!("note: main.py:{row}:")))
            .unwrap_or_else(|| panic!("no note at line {row}: {notes}"));
        assert!(
            note.contains(
                "unsafe fix in the diff: checks the path `LOCK` (`os.path.exists(...)`, line 9) \
                 and then makes it (`os.mkdir(...)`, line 10), a check-then-act on one fixed \
                 path: two calls at once in worker threads can both pass the check"
            ) && note.contains("(FileExistsError)"),
            "{note}"
        );
    }
    unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    // The harness's own `shutil.rmtree` may be hopped; the coroutine is left as it was.
    let claim = "    if not os.path.exists(LOCK):\n        os.mkdir(LOCK)\n";
    let kept = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(kept.contains(claim), "{kept}");
    assert_eq!(errors(dir.path()), 0);
    unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    let moved = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        moved.contains("await asyncio.to_thread(_mkdir_unless_exists)"),
        "{moved}"
    );
    // The race is real but narrow now (two worker threads between one check and one
    // `mkdir`, no `await` between them): whether a run shows it depends on scheduling, so
    // the program is only required to run; the caveat above states the race.
    errors(dir.path());
}

/// Reviewer N's crash (session 18, an aiogram bot): a directory per chat, made unless it
/// exists, from a handler's parameter. Two messages of one chat handled at once pass one
/// path; moved to worker threads as one hop, both pass the check and the second `mkdir`
/// raises. The path from a parameter is not each call's own.
const CHAT_DIR_APP: &str = r#"import asyncio
import os
import shutil

BASE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chats")


async def on_photo(chat_id):
    barcode_path = os.path.join(BASE, str(chat_id))
    if not os.path.exists(barcode_path):
        os.mkdir(barcode_path)
    return True


async def main():
    errors = 0
    for _ in range(50):
        shutil.rmtree(BASE, ignore_errors=True)
        os.makedirs(BASE)
        results = await asyncio.gather(*(on_photo(7) for _ in range(4)), return_exceptions=True)
        errors += sum(1 for r in results if isinstance(r, FileExistsError))
        assert all(r is True or isinstance(r, FileExistsError) for r in results), results
    print(f"errors={errors} links=200")


asyncio.run(main())
"#;

#[test]
fn a_directory_per_chat_from_a_parameter_gets_no_safe_hop_and_never_raises() {
    let dir = project(&[("main.py", CHAT_DIR_APP.as_bytes())]);
    assert_eq!(errors(dir.path()), 0);
    unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    let kept = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        kept.contains("    if not os.path.exists(barcode_path):\n        os.mkdir(barcode_path)\n"),
        "{kept}"
    );
    assert_eq!(errors(dir.path()), 0, "{kept}");
    // The unsafe fix moves both into one worker thread and says two of them race.
    let notes = unfreeze_in(dir.path(), &["fix", "--isolated", "--unsafe-fixes", "."]).stderr;
    assert!(
        notes.contains("checks the path `barcode_path`")
            && notes.contains("two calls at once in worker threads can both pass the check"),
        "{notes}"
    );
}
