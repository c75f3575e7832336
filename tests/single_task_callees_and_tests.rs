//! Async test bodies and fixtures run alone on their event loop until they start work
//! (issue 20 item 4; reviewers judged these hops pointless in ITSpecialist111/HASS-AI-Orchestrator,
//! zacala1/hass-geofence-journal and mmornati/hass-mcp): a call at the top of a pytest-asyncio
//! test, an async fixture before its `yield`, an `IsolatedAsyncioTestCase` test or its
//! `asyncSetUp` keeps no thread hop, with the test named in the reason. A test that started a
//! task or a server, or that takes a fixture that did, keeps the fix, and the behaviour test
//! shows why: the server it started answers only when the blocking call leaves the loop.

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

const CONFTEST: &str = "import asyncio\n\nimport pytest\n\n\n\
@pytest.fixture\ndef db_path(tmp_path):\n    return tmp_path / \"store.db\"\n\n\n\
@pytest.fixture\nasync def server():\n    \
started = await asyncio.start_server(lambda r, w: w.close(), \"127.0.0.1\", 0)\n    \
yield started\n    started.close()\n";

const TESTS: &str = "import asyncio\nimport os\nimport sqlite3\n\n\n\
async def test_seeded_store_reads_back(db_path):\n    connection = sqlite3.connect(db_path)\n    \
connection.execute(\"create table t (x)\")\n    connection.close()\n    \
assert os.path.exists(db_path)\n    with open(db_path, \"rb\") as f:\n        \
assert f.read(16).startswith(b\"SQLite\")\n\n\n\
async def test_after_a_task_started(db_path):\n    \
task = asyncio.create_task(asyncio.sleep(1))\n    assert not os.path.exists(db_path)\n    \
task.cancel()\n\n\n\
async def test_beside_a_server(server, db_path):\n    assert not os.path.exists(db_path)\n";

const AUTO: &str = "[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n";

#[test]
fn pytest_asyncio_auto_mode_test_bodies_keep_their_calls_until_they_start_work() {
    let dir = project(&[
        ("pyproject.toml", AUTO.as_bytes()),
        ("tests/conftest.py", CONFTEST.as_bytes()),
        ("tests/test_store.py", TESTS.as_bytes()),
    ]);
    // Not `--isolated`: pytest's own configuration says `asyncio_mode = "auto"`.
    let check = unfreeze_in(dir.path(), &["check", "--no-cache", "."]);
    for (at, callee) in [
        ("tests/test_store.py:7:18: UNF101", "sqlite3.connect"),
        ("tests/test_store.py:8:5: UNF101", "connection.execute"),
        ("tests/test_store.py:10:12: ASYNC240", "os.path.exists"),
        ("tests/test_store.py:11:10: ASYNC230", "open"),
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
        let reason = format!(
            "no fix: the body of test `test_seeded_store_reads_back`: nothing else runs on its \
             event loop before it starts other work, so `{callee}()` blocks nothing"
        );
        assert!(check.stdout.contains(&reason), "{reason}: {}", check.show());
    }
    // After `create_task`, and beside the conftest's server fixture: the hop stays.
    for at in [
        "tests/test_store.py:17:16: ASYNC240 [*]",
        "tests/test_store.py:22:16: ASYNC240 [*]",
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
    }

    // Without the setting nothing marks the tests: pytest-asyncio would not run them as
    // coroutines on a loop of their own, and every hop is offered as before.
    let unmarked = project(&[
        ("tests/conftest.py", CONFTEST.as_bytes()),
        ("tests/test_store.py", TESTS.as_bytes()),
    ]);
    let check = unfreeze_in(unmarked.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        !check.stdout.contains("the body of test"),
        "{}",
        check.show()
    );

    // The same tests marked one by one, with the config ignored (`--isolated`).
    let marked = TESTS
        .replace("import sqlite3\n", "import sqlite3\n\nimport pytest\n")
        .replace(
            "\nasync def test_",
            "\n@pytest.mark.asyncio\nasync def test_",
        );
    let dir = project(&[
        ("tests/conftest.py", CONFTEST.as_bytes()),
        ("tests/test_store.py", marked.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check
            .stdout
            .contains("no fix: the body of test `test_seeded_store_reads_back`: nothing else runs"),
        "{}",
        check.show()
    );
    assert_eq!(
        check.stdout.matches("ASYNC240 [*]").count(),
        2,
        "{}",
        check.show()
    );
}

/// An async fixture is alone before its `yield`; one that started a task first is not, and
/// neither is a test that takes it (reduced from mmornati/hass-mcp
/// tests/fixtures/cache_fixtures.py:130, a constructor hop in an async fixture).
const FIXTURES: &str = "import asyncio\nimport os\n\nimport pytest\nimport pytest_asyncio\n\n\n\
@pytest_asyncio.fixture\nasync def cache_dir(tmp_path):\n    \
os.makedirs(tmp_path / \"cache\", exist_ok=True)\n    yield tmp_path / \"cache\"\n\n\n\
@pytest_asyncio.fixture\nasync def ticking(tmp_path):\n    \
task = asyncio.create_task(asyncio.sleep(3600))\n    \
os.makedirs(tmp_path / \"ticks\", exist_ok=True)\n    yield task\n    task.cancel()\n\n\n\
@pytest.mark.asyncio\nasync def test_cache_is_empty(cache_dir):\n    \
assert os.listdir(cache_dir) == []\n\n\n\
@pytest.mark.asyncio\nasync def test_ticks_beside(ticking, tmp_path):\n    \
assert os.path.isdir(tmp_path / \"ticks\")\n";

#[test]
fn an_async_fixture_is_alone_before_its_yield_unless_it_started_a_task() {
    let dir = project(&[("tests/test_cache.py", FIXTURES.as_bytes())]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    for (at, reason) in [
        (
            "tests/test_cache.py:10:5: UNF104",
            "no fix: the async fixture `cache_dir` before its `yield`: nothing else runs",
        ),
        (
            "tests/test_cache.py:24:12: UNF104",
            "no fix: the body of test `test_cache_is_empty`: nothing else runs",
        ),
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
        assert!(check.stdout.contains(reason), "{reason}: {}", check.show());
    }
    for at in [
        "tests/test_cache.py:17:5: UNF104 [*]",
        "tests/test_cache.py:29:12: ASYNC240 [*]",
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
    }
}

/// `unittest.IsolatedAsyncioTestCase` (stdlib, so the rewritten tests run here): `asyncSetUp`
/// seeds a sqlite3 file and one test reads it back, alone, so neither gets a hop; the other
/// test starts a server on 127.0.0.1 and then fetches from it with a blocking `urlopen`,
/// which only works once the fetch leaves the loop: that hop stays, and is what makes the
/// test pass.
const CASE: &str = "import asyncio\nimport os\nimport sqlite3\nimport tempfile\nimport unittest\n\
import urllib.request\n\n\n\
async def answer(reader, writer):\n    await reader.readuntil(b\"\\r\\n\\r\\n\")\n    \
writer.write(b\"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok\")\n    \
await writer.drain()\n    writer.close()\n\n\n\
class CacheTest(unittest.IsolatedAsyncioTestCase):\n    async def asyncSetUp(self):\n        \
self.path = os.path.join(tempfile.mkdtemp(), \"cache.db\")\n        \
connection = sqlite3.connect(self.path)\n        \
connection.execute(\"create table entries (key text, value text)\")\n        \
connection.execute(\"insert into entries values ('a', '1')\")\n        \
connection.commit()\n        connection.close()\n\n    \
async def test_reads_the_seeded_entry(self):\n        connection = sqlite3.connect(self.path)\n        \
row = connection.execute(\"select value from entries where key = 'a'\").fetchone()\n        \
connection.close()\n        self.assertEqual(row, (\"1\",))\n\n    \
async def test_fetches_from_a_server_it_started(self):\n        \
server = await asyncio.start_server(answer, \"127.0.0.1\", 0)\n        \
port = server.sockets[0].getsockname()[1]\n        \
body = urllib.request.urlopen(f\"http://127.0.0.1:{port}/\", timeout=2).read()\n        \
server.close()\n        self.assertEqual(body, b\"ok\")\n";

fn run_tests(dir: &std::path::Path) -> common::Output {
    python(&test_python())
        .current_dir(dir)
        .args(["-m", "unittest", "-v", "test_cache"])
        .deadline(Duration::from_secs(60))
        .output()
}

#[test]
fn isolated_asyncio_test_cases_keep_set_up_and_lone_tests_and_fix_the_one_beside_its_server() {
    let dir = project(&[("test_cache.py", CASE.as_bytes())]);
    // The original: the server cannot answer while `urlopen` blocks its loop.
    let before = run_tests(dir.path());
    assert_ne!(before.code, Some(0), "{}", before.show());
    assert!(
        before
            .stderr
            .contains("test_fetches_from_a_server_it_started")
    );

    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    for (at, reason) in [
        (
            "test_cache.py:19:22: UNF101",
            "no fix: the test case's `asyncSetUp`: nothing else runs on its event loop",
        ),
        (
            "test_cache.py:26:22: UNF101",
            "no fix: the body of test `test_reads_the_seeded_entry`: nothing else runs",
        ),
    ] {
        assert!(check.stdout.contains(at), "{at}: {}", check.show());
        assert!(check.stdout.contains(reason), "{reason}: {}", check.show());
    }
    assert!(
        check.stdout.contains("test_cache.py:34:16: ASYNC210 [*]"),
        "{}",
        check.show()
    );

    let write = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "."],
    );
    assert_eq!(write.code, Some(1), "{}", write.show());
    let fixed = std::fs::read_to_string(dir.path().join("test_cache.py")).unwrap();
    assert_eq!(
        fixed,
        CASE.replace(
            "body = urllib.request.urlopen(f\"http://127.0.0.1:{port}/\", timeout=2).read()",
            "body = (await asyncio.to_thread(urllib.request.urlopen, \
             f\"http://127.0.0.1:{port}/\", timeout=2)).read()",
        )
    );
    let after = run_tests(dir.path());
    assert_eq!(after.code, Some(0), "{}", after.show());
    assert!(after.stderr.contains("Ran 2 tests"), "{}", after.show());
    // A second run proposes nothing.
    let again = unfreeze_in(dir.path(), &["fix", "--isolated", "--no-cache", "."]);
    assert!(again.stdout.is_empty(), "{}", again.show());
}

/// A stub of Home Assistant's core: `async_add_executor_job` runs the function with
/// `run_in_executor`, as Home Assistant does, and counts its calls.
const HOMEASSISTANT_CORE: &str = "import asyncio\n\nCALLS = []\n\n\n\
class HomeAssistant:\n    def async_add_executor_job(self, target, *args):\n        \
CALLS.append(target.__name__)\n        \
return asyncio.get_running_loop().run_in_executor(None, target, *args)\n";

/// An integration that imports anyio (for its own helpers) and has `hass` in scope: the
/// project's idiom, `hass.async_add_executor_job`, wins over `anyio.to_thread.run_sync`
/// (zacala1/hass-geofence-journal tests/test_management_reset_integration.py:115; issue 20
/// item 4). A ticker beside it shows the loop ran meanwhile.
const ANYIO_INTEGRATION: &str = "import asyncio\nimport threading\nimport time\n\nimport anyio\n\n\
from homeassistant import core\n\n\n\
def seed(path):\n    time.sleep(0.3)\n    with open(path, \"w\") as f:\n        f.write(\"seeded\")\n    \
return threading.current_thread() is threading.main_thread()\n\n\n\
async def ticker(ticks):\n    while True:\n        await anyio.sleep(0.01)\n        ticks.append(1)\n\n\n\
async def async_setup_entry(hass, path):\n    return seed(path)\n\n\n\
async def main():\n    ticks = []\n    task = asyncio.create_task(ticker(ticks))\n    \
await asyncio.sleep(0)\n    on_main = await async_setup_entry(core.HomeAssistant(), \"seed.txt\")\n    \
task.cancel()\n    print(\"main thread:\", on_main)\n    print(\"executor jobs:\", core.CALLS)\n    \
print(\"loop ran:\", len(ticks) > 5)\n\n\nasyncio.run(main())\n";

#[test]
fn hass_in_scope_wins_over_anyio_in_a_file_that_imports_anyio() {
    let dir = project(&[
        ("main.py", ANYIO_INTEGRATION.as_bytes()),
        ("homeassistant/__init__.py", b""),
        ("homeassistant/core.py", HOMEASSISTANT_CORE.as_bytes()),
    ]);
    let run = || {
        let out = python(&test_python())
            .current_dir(dir.path())
            .arg("main.py")
            .deadline(Duration::from_secs(30))
            .output();
        assert_eq!(out.code, Some(0), "{}", out.show());
        out.stdout
    };
    let before = run();
    assert!(
        before.contains("main thread: True\nexecutor jobs: []\nloop ran: False\n"),
        "{before}"
    );
    let write = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--isolated",
            "--no-cache",
            "--select",
            "UNF401",
            ".",
        ],
    );
    assert_eq!(write.code, Some(0), "{}", write.show());
    let main = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        main.contains(
            "async def async_setup_entry(hass, path):\n    \
             return await hass.async_add_executor_job(seed, path)\n"
        ),
        "{main}"
    );
    assert!(!main.contains("to_thread"), "{main}");
    let after = run();
    assert!(
        after.contains("main thread: False\nexecutor jobs: ['seed']\nloop ran: True\n"),
        "{after}"
    );
}
