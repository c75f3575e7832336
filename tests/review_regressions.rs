//! Regressions from the review of 13 real applications (session 12), each proven by running
//! the rewritten program with CPython: a fix never names a module the function makes local
//! and binds only later (legale/rag-telegram-gpt-bot's `import asyncio` below the call);
//! single-task `asyncio.run(main())` scripts keep their blocking calls (kuzyivan's
//! `create_admin.py` `input()`, its migrators' hops); aiohttp objects made in moved code stay
//! on the loop (OF-Scraper's `_set_session`); caveats name only what the code changes.

mod common;

use std::fs;
use std::path::Path;

use common::{findings, project, test_python, unfreeze_in};

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

/// Runs the upload handler once, beside another task (as the server does: run alone by
/// `asyncio.run`, the handler would be single-task code, which gets no hop anyway).
const UPLOAD_MAIN: &str = r#"import asyncio
import tempfile

from handler import handle_file_upload


async def serve(root):
    other = asyncio.create_task(asyncio.sleep(0.01))
    answer = await handle_file_upload(root)
    await other
    return answer


print(asyncio.run(serve(tempfile.mkdtemp())))
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
    let fixed = fix_safe(dir.path());
    assert_eq!(run_main(dir.path()).trim(), "ok", "{}", fixed.show());
    let mkdir = found
        .iter()
        .find(|f| f["code"] == "ASYNC240")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(mkdir["fix"].is_null(), "{mkdir}");
    let reason = mkdir["no_fix_reason"].as_str().unwrap();
    assert!(reason.contains("UnboundLocalError"), "{reason}");

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

/// kuzyivan's `create_admin.py`: `input()` first, then an async session (here a stand-in of
/// the file's own `db` module) — single-task, though `main` awaits another module's code later.
const CREATE_ADMIN: &str = r#"import asyncio

from db import SessionLocal


async def create_web_admin():
    print("ready", flush=True)
    password = input("password: ")
    async with SessionLocal() as session:
        await session.save(password)


if __name__ == "__main__":
    asyncio.run(create_web_admin())
"#;

const ADMIN_DB: &str = r#"import asyncio


class SessionLocal:
    async def __aenter__(self):
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc):
        return False

    async def save(self, value):
        print("saved", value)
"#;

/// How many Ctrl+C (1.5 s apart, up to 4) end the script while it waits for input on an open
/// pipe (5: it outlived them all).
fn interrupts_to_end(dir: &Path, script: &str) -> usize {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut child = Command::new(test_python())
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    // Let it reach the blocking read.
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id().to_string();
    let mut sent = 0;
    let ended = 'signals: loop {
        if sent == 4 {
            break false;
        }
        let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(kill.success());
        sent += 1;
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break 'signals true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Closing stdin ends a worker's read, and with it the program.
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    if ended { sent } else { 5 }
}

/// Moved to a worker thread, the `input()` kept the interpreter alive after Ctrl+C (asyncio.run
/// waits for the default executor's thread, blocked on stdin). The script is recognised as
/// single-task (the call runs before its coroutine first suspends), so the call stays, with
/// the reason, and Ctrl+C ends it as before.
#[test]
fn input_before_the_first_await_of_a_script_stays_where_ctrl_c_ends_it() {
    let dir = project(&[
        ("create_admin.py", CREATE_ADMIN.as_bytes()),
        ("db.py", ADMIN_DB.as_bytes()),
    ]);
    let before = interrupts_to_end(dir.path(), "create_admin.py");
    assert!(before <= 2, "{before}");
    let found = findings(dir.path());
    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert_eq!(
        interrupts_to_end(dir.path(), "create_admin.py"),
        before,
        "{}\n{}",
        fs::read_to_string(dir.path().join("create_admin.py")).unwrap(),
        fixed.show()
    );
    let input = found
        .iter()
        .find(|f| f["code"] == "ASYNC250")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(input["fix"].is_null(), "{input}");
    assert!(
        input["no_fix_reason"]
            .as_str()
            .unwrap()
            .contains("nothing else runs on the event loop"),
        "{input}"
    );
}

/// kuzyivan's `manual_import_dislocation.py` shape: a CLI run by `asyncio.run(main())` checks
/// its input file, then works through an async session of the project's `db` module. The
/// program reports how many threads it ran on.
const IMPORT_SCRIPT: &str = r#"import asyncio
import os
import threading

from db import SessionLocal

FILENAME = "report.xlsx"


async def main():
    print("import", FILENAME)
    if not os.path.exists(FILENAME):
        print("missing")
        return
    async with SessionLocal() as session:
        await session.save(FILENAME)
    print("threads", threading.active_count())


if __name__ == "__main__":
    asyncio.run(main())
"#;

/// Nothing else runs on the loop before `main` first suspends, so the `os.path.exists` check
/// blocks nobody: the finding stays with the reason, and the program keeps to one thread
/// (the hop started the default executor's worker for nothing).
#[test]
fn a_single_task_script_keeps_its_blocking_check_without_a_pointless_hop() {
    let dir = project(&[
        ("main.py", IMPORT_SCRIPT.as_bytes()),
        ("db.py", ADMIN_DB.as_bytes()),
        ("report.xlsx", b"rows"),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "import report.xlsx\nsaved report.xlsx\nthreads 1\n");
    let found = findings(dir.path());
    let exists = found
        .iter()
        .find(|f| f["code"] == "ASYNC240")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(exists["fix"].is_null(), "{exists}");
    assert_eq!(
        exists["no_fix_reason"],
        "nothing else runs on the event loop in this script, so `os.path.exists()` blocks \
         nothing: moving it to a worker thread would only add a hop"
    );
    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert_eq!(run_main(dir.path()), before, "{}", fixed.show());
}

/// A Python with aiohttp (the version the review used), in a venv made once under cargo's
/// target directory.
fn aiohttp_python() -> String {
    use std::process::Command;
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aiohttp-venv");
    let python = venv.join("bin/python").display().to_string();
    let ready = |python: &str| {
        Command::new(python)
            .args(["-c", "import aiohttp"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ready(&python) {
        let made = Command::new(test_python())
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "could not create a venv at {}", venv.display());
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("aiohttp==3.14.5")
            .status()
            .is_ok_and(|s| s.success());
        assert!(installed, "could not install aiohttp from PyPI");
    }
    python
}

/// OF-Scraper's `sessionManager.__aenter__`: `_set_session` reads a file (blocking) and makes
/// an `aiohttp.ClientSession` with a `TCPConnector`, which take the running loop.
const SESSION_MANAGER: &str = r#"import ssl

import aiohttp


class sessionManager:
    def __init__(self):
        self._session = None

    def _get_ssl_context(self):
        with open("ca.txt") as f:
            f.read()
        return ssl.create_default_context()

    def _set_session(self, async_=True):
        if self._session:
            return
        ssl_context = self._get_ssl_context()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=10, ssl=ssl_context),
        )
        return self._session

    async def __aenter__(self):
        self._set_session(async_=True)
        return self

    async def __aexit__(self, *exc):
        await self._session.close()
"#;

const SESSION_MAIN: &str = r#"import asyncio

from session import sessionManager


async def main():
    try:
        async with sessionManager() as manager:
            print("session made:", type(manager._session).__name__)
    except Exception as e:
        print(f"failed: {type(e).__name__}: {e}")


asyncio.run(main())
"#;

/// Moved to a worker thread, `aiohttp.ClientSession(...)` / `TCPConnector(...)` raise
/// "no running event loop": every `async with sessionManager()` failed. They are loop-bound
/// calls now: no fix, with the reason, and the program still makes its session.
#[test]
fn aiohttp_objects_made_in_moved_code_keep_it_on_the_loop() {
    let python = aiohttp_python();
    let dir = project(&[
        ("session.py", SESSION_MANAGER.as_bytes()),
        ("main.py", SESSION_MAIN.as_bytes()),
        ("ca.txt", b""),
    ]);
    let run = || {
        let output = common::python(&python)
            .arg("main.py")
            .current_dir(dir.path())
            .output();
        assert_eq!(output.code, Some(0), "{}", output.show());
        output.stdout
    };
    assert_eq!(run(), "session made: ClientSession\n");
    let found = findings(dir.path());
    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert_eq!(run(), "session made: ClientSession\n", "{}", fixed.show());
    let moved = found
        .iter()
        .find(|f| f["code"] == "UNF401")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(moved["fix"].is_null(), "{moved}");
    assert!(
        moved["no_fix_reason"].as_str().unwrap().contains(
            "calls `aiohttp.ClientSession`: in a worker thread there is no running event loop"
        ),
        "{moved}"
    );
}

/// OF-Scraper's cache module: `global lock` only to call `lock.acquire()`, and the one global
/// write (`cache = ...`) between `lock.acquire()` and `finally: lock.release()`.
const CACHE: &str = r#"import json
import threading

cache = None
lock = threading.Lock()
builds = []


def get(key, default=None):
    global lock
    lock.acquire()
    try:
        global cache
        if cache is None:
            builds.append(1)
            with open("cache.json") as f:
                cache = json.load(f)
        return cache.get(key, default)
    finally:
        lock.release()
"#;

const CACHE_MAIN: &str = r#"import asyncio

import cache


async def lookup(key):
    return cache.get(key, "-")


async def main():
    values = await asyncio.gather(*(lookup(k) for k in ["a", "b", "c"] * 20))
    print("".join(values), len(cache.builds))


asyncio.run(main())
"#;

/// The caveat said "`get` changes the module global `lock`" for a function that only
/// declares and acquires it; its one write is under that lock. The fix is safe now, and the
/// rewritten program, its lookups in worker threads, builds the cache once and answers alike.
#[test]
fn a_global_declared_only_to_acquire_a_lock_is_not_a_change() {
    let dir = project(&[
        ("cache.py", CACHE.as_bytes()),
        ("main.py", CACHE_MAIN.as_bytes()),
        ("cache.json", br#"{"a": "1", "b": "2"}"#),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, format!("{} 1\n", "12-".repeat(20)));
    let found = findings(dir.path());
    let get = found
        .iter()
        .find(|f| f["code"] == "UNF401")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(get["fix"]["applicability"], "safe", "{get}");
    assert!(get["fix"]["caveat"].is_null(), "{get}");
    let fixed = fix_safe(dir.path());
    let text = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        text.contains("await asyncio.to_thread(cache.get, key, \"-\")"),
        "{text}\n{}",
        fixed.show()
    );
    assert_eq!(run_main(dir.path()), before);
}

/// protella's `_SELF_STATUS_MARKERS`: a module tuple of strings, bound once, iterated by a
/// helper that also reads a file.
const MARKERS: &str = r#"import asyncio

_SELF_STATUS_MARKERS = (
    "Thinking...",
    "Catching up on",
)


def is_chrome(text):
    with open("extra.txt") as f:
        extra = f.read().strip()
    return any(marker in text for marker in _SELF_STATUS_MARKERS) or text == extra


async def classify(text):
    return is_chrome(text)


async def main():
    texts = ["Thinking... hard", "hello", "Catching up on news", "placeholder"] * 10
    print(sum(await asyncio.gather(*(classify(t) for t in texts))))


asyncio.run(main())
"#;

/// The caveat said coroutines "may change" `_SELF_STATUS_MARKERS` ("dictionary changed size
/// during iteration") for a tuple constant nothing rebinds. The fix is safe now, and the
/// rewritten program answers alike.
#[test]
fn iterating_a_constant_tuple_is_not_shared_state() {
    let dir = project(&[
        ("main.py", MARKERS.as_bytes()),
        ("extra.txt", b"placeholder\n"),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "30\n");
    let found = findings(dir.path());
    let chrome = found
        .iter()
        .find(|f| f["code"] == "UNF401")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(chrome["fix"]["applicability"], "safe", "{chrome}");
    let fixed = fix_safe(dir.path());
    let text = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        text.contains("return await asyncio.to_thread(is_chrome, text)"),
        "{text}\n{}",
        fixed.show()
    );
    assert_eq!(run_main(dir.path()), before);
}

/// michel-discord-bot's config: the module writes `config.json` only through a temporary
/// file and `os.replace`; `load_names` only reads it.
const ATOMIC_CONFIG: &str = r#"import asyncio
import json
import os
import tempfile

CONFIG_PATH = "config.json"


def _atomic_write(data):
    fd, tmp = tempfile.mkstemp(dir=".")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, CONFIG_PATH)


def load_names():
    with open(CONFIG_PATH) as f:
        return json.load(f)["names"]


async def reader():
    return len(load_names())


async def writer(i):
    _atomic_write({"names": ["x"] * 50, "round": i})


async def main():
    _atomic_write({"names": ["x"] * 50, "round": 0})
    results = await asyncio.gather(*(reader() for _ in range(40)), *(writer(i) for i in range(40)))
    print(sorted(set(r for r in results if r is not None)))


asyncio.run(main())
"#;

/// A file the module only ever replaces whole (`os.replace`), and no other module writes in
/// place: its reader sees the old contents or the new, so the fix is safe (a real
/// application's other modules did write it in place, through the constant they import:
/// review_regressions_s14.rs proves that reader unsafe, naming the writer). The rewritten
/// program, its reads in worker threads racing the replacements, reads whole files only.
#[test]
fn a_reader_of_a_file_written_only_by_os_replace_is_safe_when_no_module_writes_it_in_place() {
    let dir = project(&[("main.py", ATOMIC_CONFIG.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before, "[50]\n");
    let found = findings(dir.path());
    let reader = found
        .iter()
        .find(|f| f["code"] == "UNF401" && f["message"].as_str().unwrap().contains("load_names"))
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(reader["fix"]["applicability"], "safe", "{reader}");
    assert!(reader["fix"]["caveat"].is_null(), "{reader}");
    let fixed = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--isolated",
            "--no-cache",
            "--write",
            "--unsafe-fixes",
            ".",
        ],
    );
    let text = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        text.contains("return len(await asyncio.to_thread(load_names))"),
        "{text}\n{}",
        fixed.show()
    );
    assert_eq!(run_main(dir.path()), before);
}
