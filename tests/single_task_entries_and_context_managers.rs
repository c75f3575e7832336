//! The single-task recognition of a script does not depend on which files of the project had
//! findings: a script reaching a package through its `__init__.py` re-export (`from pkg import
//! API`, the class in `pkg/client.py`) follows the class into its module, and a module first
//! read for its own findings (with bodies left out) is read again whole when the script's
//! entry point reaches it. Before, the verdict of a path check in the script flipped when a
//! fix (`get_event_loop` -> `get_running_loop`) removed the package's own findings, so a
//! second `fix` moved what the first had rightly left (reduced from plagness/Telegram-MCP,
//! scripts/test_media.py).

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

const INIT: &str = "from .client import API, Progress\n\n__all__ = [\"API\", \"Progress\"]\n";

const CLIENT: &str = "import asyncio\n\nfrom .commands import Registry\n\n\n\
class API:\n    def __init__(self, name):\n        self.name = name\n        self.sent = []\n        \
self.registry = Registry()\n\n    async def __aenter__(self):\n        return self\n\n    \
async def __aexit__(self, *args):\n        await asyncio.sleep(0)\n\n    \
async def send(self, text):\n        await asyncio.sleep(0)\n        self.sent.append(text)\n        \
return len(self.sent)\n\n\n\
class Progress:\n    def __init__(self, api):\n        self.api = api\n\n    \
async def update(self, text):\n        loop = asyncio.get_event_loop()\n        \
await self.api.send(text)\n        return loop.time()\n";

const COMMANDS: &str = "import asyncio\n\n\n\
class Registry:\n    def __init__(self):\n        self.handlers = {}\n\n    \
def register(self, name, handler):\n        self.handlers[name] = handler\n\n\n\
class Poller:\n    def __init__(self, api):\n        self.api = api\n\n    \
async def poll_once(self):\n        loop = asyncio.get_event_loop()\n        \
await self.api.send(\"poll\")\n        return loop.time()\n";

const SCRIPT: &str = "import asyncio\nimport os\nimport sys\n\n\
sys.path.insert(0, os.path.join(os.path.dirname(__file__), \"..\", \"sdk\"))\n\n\
from pkg import API\n\n\n\
async def main(path):\n    async with API(\"bot\") as api:\n        \
count = await api.send(\"hello\")\n        if not os.path.isfile(path):\n            \
print(\"missing\", count)\n            return\n        print(\"found\", count)\n\n\n\
if __name__ == \"__main__\":\n    asyncio.run(main(sys.argv[1]))\n";

const NO_FIX: &str = "no fix: nothing else runs on the event loop in this script, so \
                      `os.path.isfile()` blocks nothing";

#[test]
fn a_fix_in_a_package_the_script_uses_keeps_the_scripts_single_task_verdict() {
    let dir = project(&[
        ("scripts/send.py", SCRIPT.as_bytes()),
        ("sdk/pkg/__init__.py", INIT.as_bytes()),
        ("sdk/pkg/client.py", CLIENT.as_bytes()),
        ("sdk/pkg/commands.py", COMMANDS.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check
            .stdout
            .contains("scripts/send.py:13:16: ASYNC240 `os.path.isfile`"),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());

    let write = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "."],
    );
    assert_eq!(write.code, Some(1), "{}", write.show());
    for module in ["sdk/pkg/client.py", "sdk/pkg/commands.py"] {
        let text = std::fs::read_to_string(dir.path().join(module)).unwrap();
        assert!(
            text.contains("loop = asyncio.get_running_loop()"),
            "{module}: {text}"
        );
    }
    let script = std::fs::read_to_string(dir.path().join("scripts/send.py")).unwrap();
    assert_eq!(script, SCRIPT);

    // The second run proposes nothing: the script's verdict did not flip.
    for args in [
        &["fix", "--isolated", "--no-cache", "."][..],
        &["fix", "--unsafe-fixes", "--isolated", "--no-cache", "."][..],
    ] {
        let again = unfreeze_in(dir.path(), args);
        assert!(again.stdout.is_empty(), "{}", again.show());
    }
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());
    assert!(!check.stdout.contains("[*]"), "{}", check.show());

    // The program, with the package's fixes, runs.
    for (arg, expected) in [("scripts/send.py", "found 1\n"), ("nowhere", "missing 1\n")] {
        let out = python(&test_python())
            .current_dir(dir.path())
            .args(["scripts/send.py", arg])
            .deadline(Duration::from_secs(30))
            .output();
        assert_eq!(out.code, Some(0), "{}", out.show());
        assert_eq!(out.stdout, expected);
    }
}

/// A command-line tool that runs its coroutine from two places, the console script's function
/// and `if __name__ == "__main__":`, each with `asyncio.run` (a new loop): the coroutine runs
/// alone either way (reduced from yongwu0718/fastapi-deepagent-vue, cli/interact.py, where a
/// `setup_logging()` at the top of `_main` got a hop).
const TWO_ENTRIES: &str = "import asyncio\nimport os\nimport sys\n\n\n\
async def ask(prompt):\n    await asyncio.sleep(0)\n    return prompt.upper()\n\n\n\
async def _main(path):\n    os.makedirs(path, exist_ok=True)\n    \
name = input('name? ')\n    greeting = await ask(name)\n    \
if os.path.exists(os.path.join(path, 'seen')):\n        print('again', greeting)\n    \
else:\n        print('hello', greeting)\n\n\n\
def main():\n    asyncio.run(_main(sys.argv[1]))\n\n\n\
if __name__ == '__main__':\n    asyncio.run(_main(sys.argv[1]))\n";

#[test]
fn a_coroutine_run_by_two_entry_calls_is_alone_in_both() {
    let dir = project(&[("cli.py", TWO_ENTRIES.as_bytes())]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    for (at, reason) in [
        ("cli.py:12:5: UNF104", "`os.makedirs()` blocks nothing"),
        (
            "cli.py:13:12: ASYNC250",
            "no fix: `input()` in a script where nothing else runs",
        ),
        ("cli.py:15:8: ASYNC240", "`os.path.exists()` blocks nothing"),
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
        assert!(check.stdout.contains(reason), "{reason}: {}", check.show());
    }
    assert!(!check.stdout.contains("fix: Run it"), "{}", check.show());

    let write = unfreeze_in(
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
    assert_eq!(write.code, Some(1), "{}", write.show());
    let script = std::fs::read_to_string(dir.path().join("cli.py")).unwrap();
    assert_eq!(script, TWO_ENTRIES);

    // It reads piped standard input and ends (a prompt moved to a worker thread could abort
    // the interpreter at exit there).
    let out = python(&test_python())
        .current_dir(dir.path())
        .args(["cli.py", "state"])
        .stdin("ada\n")
        .deadline(Duration::from_secs(30))
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(out.stdout, "name? hello ADA\n");
}

/// A project `@asynccontextmanager` that starts no work and yields an object of a quiet
/// library (an `httpx.AsyncClient`): a script awaiting that object's requests is still alone
/// on its loop (reduced from yongwu0718/fastapi-deepagent-vue's CLIs, `async with
/// init_graph() as graph:` then `await graph.aget_state(...)`).
const HTTP: &str = "import contextlib\n\nimport httpx\n\n\n\
def handler(request):\n    return httpx.Response(200, text=f'seen {request.url.path}')\n\n\n\
@contextlib.asynccontextmanager\nasync def session(base):\n    \
async with httpx.AsyncClient(base_url=base, transport=httpx.MockTransport(handler)) as client:\n        \
yield client\n";

const FETCH: &str = "import asyncio\nimport os\nimport sys\n\nfrom pkg.http import session\n\n\n\
async def main(path):\n    async with session('http://127.0.0.1:1') as client:\n        \
response = await client.get('/status')\n        if os.path.exists(path):\n            \
print('found', response.text)\n        else:\n            print('missing', response.text)\n\n\n\
if __name__ == '__main__':\n    asyncio.run(main(sys.argv[1]))\n";

fn fetch_check(http: &str) -> (tempfile::TempDir, String) {
    let dir = project(&[
        ("fetch.py", FETCH.as_bytes()),
        ("pkg/__init__.py", b""),
        ("pkg/http.py", http.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check.stdout.contains("fetch.py:11:12: ASYNC240"),
        "{}",
        check.show()
    );
    (dir, check.stdout)
}

#[test]
fn what_a_quiet_project_context_manager_yields_is_followed() {
    let (dir, check) = fetch_check(HTTP);
    assert!(
        check.contains("no fix: nothing else runs on the event loop in this script, so `os.path.exists()` blocks nothing"),
        "{check}"
    );
    let write = unfreeze_in(
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
    assert_eq!(write.code, Some(1), "{}", write.show());
    let script = std::fs::read_to_string(dir.path().join("fetch.py")).unwrap();
    assert_eq!(script, FETCH);
    let out = python(&test_python())
        .current_dir(dir.path())
        .args(["fetch.py", "fetch.py"])
        .deadline(Duration::from_secs(30))
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(out.stdout, "found seen /status\n");
}

#[test]
fn a_context_manager_that_starts_a_task_or_yields_an_unknown_object_keeps_the_hop() {
    let hop = "fix: Run it in a worker thread";
    // It starts a task that outlives the `async with` line.
    let starts = HTTP.replace(
        "        yield client\n",
        "        ticker = asyncio.create_task(asyncio.sleep(10))\n        yield client\n        ticker.cancel()\n",
    );
    let starts = starts.replace("import contextlib\n", "import asyncio\nimport contextlib\n");
    let (_dir, check) = fetch_check(&starts);
    assert!(check.contains(hop), "{check}");
    // It yields an object of a library not known to start nothing (an MCP session keeps a
    // reader task running).
    let session = "import contextlib\n\nfrom mcp import ClientSession\n\n\n\
                   @contextlib.asynccontextmanager\nasync def session(base):\n    \
                   async with ClientSession(base, base) as client:\n        yield client\n";
    let (_dir, check) = fetch_check(session);
    assert!(check.contains(hop), "{check}");
    // Another decorator may bind anything to the `as` target.
    let wrapped = HTTP.replace(
        "@contextlib.asynccontextmanager\n",
        "@contextlib.asynccontextmanager\n@functools.wraps(handler)\n",
    );
    let wrapped = wrapped.replace(
        "import contextlib\n",
        "import contextlib\nimport functools\n",
    );
    let (_dir, check) = fetch_check(&wrapped);
    assert!(check.contains(hop), "{check}");
}
