//! Async test bodies and fixtures (`test_bodies`): which run alone at first, and every doubt
//! that keeps one from counting as alone.

use super::entry::{Alone, in_single_task_script};
use super::test_bodies::{TestRole, test_bodies};
use super::test_context::with_context;
use crate::codemod::Registry;

/// Why the `input()` call in the test file `source` runs alone, if it does.
fn alone_in(path: &str, source: &str) -> Option<TestRole> {
    let registry = Registry::bundled().unwrap();
    with_context(path, source, None, |file| {
        let call = file
            .nodes
            .calls
            .iter()
            .find(|c| {
                c.child(0)
                    .is_some_and(|f| &source[f.byte_range()] == "input")
            })
            .expect("an input() call");
        match in_single_task_script(file, &registry, *call) {
            Some(Alone::Test(role, _)) => Some(role),
            _ => None,
        }
    })
}

fn alone(source: &str) -> Option<TestRole> {
    alone_in("tests/test_app.py", source)
}

const HEAD: &str = "import asyncio\nimport pytest\n\n";

#[test]
fn a_marked_test_body_runs_alone_until_it_starts_work() {
    let test = format!("{HEAD}@pytest.mark.asyncio\nasync def test_x(tmp_path):\n    input()\n");
    assert_eq!(alone(&test), Some(TestRole::Test));
    // The mark called, on the class, or in `pytestmark`.
    let called = test.replace("asyncio\nasync", "asyncio()\nasync");
    assert_eq!(alone(&called), Some(TestRole::Test));
    let class = format!(
        "{HEAD}@pytest.mark.asyncio\nclass TestServer:\n    async def test_x(self):\n        input()\n"
    );
    assert_eq!(alone(&class), Some(TestRole::Test));
    let module =
        format!("{HEAD}pytestmark = [pytest.mark.asyncio]\n\nasync def test_x():\n    input()\n");
    assert_eq!(alone(&module), Some(TestRole::Test));
    // On a loop shared between tests (`loop_scope`), an earlier test's tasks may still run.
    let shared = test.replace("asyncio\nasync", "asyncio(loop_scope=\"module\")\nasync");
    assert_eq!(alone(&shared), None);
    let shared_module = format!(
        "{HEAD}pytestmark = pytest.mark.asyncio(loop_scope=\"session\")\n\nasync def test_x():\n    input()\n"
    );
    assert_eq!(alone(&shared_module), None);
    let function_scoped = test.replace("asyncio\nasync", "asyncio(loop_scope=\"function\")\nasync");
    assert_eq!(alone(&function_scoped), Some(TestRole::Test));
    let anyio = format!("{HEAD}@pytest.mark.anyio\nasync def test_x():\n    input()\n");
    assert_eq!(alone(&anyio), Some(TestRole::Test));
    // After a quiet await still; after a task, a server or an unknown await, no more.
    let quiet = test.replace("    input()", "    await asyncio.sleep(0)\n    input()");
    assert_eq!(alone(&quiet), Some(TestRole::Test));
    let doubts = [
        "    asyncio.create_task(serve())\n    input()",
        "    server = await asyncio.start_server(handle, \"127.0.0.1\", 0)\n    input()",
        "    await app.startup()\n    input()",
        "    async with app.run_test() as pilot:\n        input()",
    ];
    for body in doubts {
        let case = test.replace("    input()", body);
        assert_eq!(alone(&case), None, "{case}");
    }
    let aiohttp = format!(
        "{HEAD}from aiohttp.test_utils import TestClient, TestServer\n\n\
         @pytest.mark.asyncio\nasync def test_x(app):\n    client = TestClient(TestServer(app))\n    input()\n"
    );
    assert_eq!(alone(&aiohttp), None);
}

#[test]
fn unmarked_tests_and_files_pytest_does_not_collect_are_not_tests() {
    let unmarked = format!("{HEAD}async def test_x():\n    input()\n");
    assert_eq!(alone(&unmarked), None);
    let marked = format!("{HEAD}@pytest.mark.asyncio\nasync def test_x():\n    input()\n");
    assert_eq!(alone_in("app/helpers.py", &marked), None);
    assert_eq!(alone_in("tests/app_test.py", &marked), Some(TestRole::Test));
    // `asyncio_mode = "auto"`: every `async def test_*` of a collected file.
    let registry = Registry::bundled().unwrap();
    with_context("tests/test_app.py", &unmarked, None, |file| {
        assert_eq!(test_bodies(file, registry.single_task(), true).len(), 1);
        assert!(test_bodies(file, registry.single_task(), false).is_empty());
    });
    // A test the file also awaits itself is no test only.
    let reused = format!("{marked}\nasync def helper():\n    await test_x()\n");
    assert_eq!(alone(&reused), None);
}

#[test]
fn fixtures_the_test_takes_must_start_nothing() {
    let fixture = "@pytest.fixture\ndef store(tmp_path):\n    return tmp_path / \"db\"\n\n";
    let test = "@pytest.mark.asyncio\nasync def test_x(store):\n    input()\n";
    assert_eq!(
        alone(&format!("{HEAD}{fixture}{test}")),
        Some(TestRole::Test)
    );
    // An async fixture that awaits only quiet libraries before its `yield`.
    let quiet =
        "@pytest_asyncio.fixture\nasync def store():\n    await asyncio.sleep(0)\n    yield 1\n\n";
    let head = format!("{HEAD}import pytest_asyncio\n\n");
    assert_eq!(alone(&format!("{head}{quiet}{test}")), Some(TestRole::Test));
    // One that starts a server task before its `yield`: the test runs beside it.
    let server = "@pytest_asyncio.fixture\nasync def store():\n    task = asyncio.create_task(serve())\n    \
                  yield task\n    task.cancel()\n\n";
    assert_eq!(alone(&format!("{head}{server}{test}")), None);
    let handed = "@pytest_asyncio.fixture\nasync def store():\n    \
                  yield await asyncio.start_server(h, \"127.0.0.1\", 0)\n\n";
    assert_eq!(alone(&format!("{head}{handed}{test}")), None);
    // Through another fixture, and through `usefixtures`.
    let through = "@pytest.fixture\ndef outer(store):\n    return store\n\n";
    let test_outer = test.replace("test_x(store)", "test_x(outer)");
    assert_eq!(alone(&format!("{head}{server}{through}{test_outer}")), None);
    let uses = "@pytest.mark.asyncio\n@pytest.mark.usefixtures(\"store\")\nasync def test_x():\n    input()\n";
    assert_eq!(alone(&format!("{head}{server}{uses}")), None);
    assert_eq!(alone(&format!("{head}{quiet}{uses}")), Some(TestRole::Test));
    // A fixture living longer than a test may run beside every test after the first.
    let wide = server.replace(
        "@pytest_asyncio.fixture\n",
        "@pytest_asyncio.fixture(scope=\"module\")\n",
    );
    let other = "@pytest.mark.asyncio\nasync def test_other():\n    pass\n\n";
    assert_eq!(
        alone(&format!(
            "{head}{wide}{other}@pytest.mark.asyncio\nasync def test_x():\n    input()\n"
        )),
        None
    );
    // An autouse fixture that starts work runs before every test.
    let autouse = server.replace(
        "@pytest_asyncio.fixture\n",
        "@pytest_asyncio.fixture(autouse=True)\n",
    );
    let plain = "@pytest.mark.asyncio\nasync def test_x():\n    input()\n";
    assert_eq!(alone(&format!("{head}{autouse}{plain}")), None);
    // A fixture the file does not define (a conftest's, a plugin's) is a doubt, but for
    // pytest's own and the listed plugins'.
    assert_eq!(alone(&format!("{HEAD}{test}")), None);
    let hass =
        "@pytest.mark.asyncio\nasync def test_x(hass, tmp_path, monkeypatch):\n    input()\n";
    assert_eq!(alone(&format!("{HEAD}{hass}")), Some(TestRole::Test));
}

#[test]
fn an_async_fixture_is_alone_before_its_yield() {
    let fixture = "import pytest_asyncio\n\n@pytest_asyncio.fixture\nasync def backend(tmp_path):\n    \
                   input()\n    yield 1\n";
    assert_eq!(alone(&format!("{HEAD}{fixture}")), Some(TestRole::Fixture));
    // After its yield the test ran, and whatever it started.
    let after = fixture.replace("    input()\n    yield 1\n", "    yield 1\n    input()\n");
    assert_eq!(alone(&format!("{HEAD}{after}")), None);
    // After it started a task itself.
    let started = fixture.replace(
        "    input()\n",
        "    asyncio.create_task(serve())\n    input()\n",
    );
    assert_eq!(alone(&format!("{HEAD}{started}")), None);
    // `@pytest.fixture` on a coroutine (anyio's plugin, pytest-asyncio's auto mode), in any file.
    let plain = "@pytest.fixture\nasync def backend():\n    input()\n    yield 1\n";
    assert_eq!(
        alone_in("tests/fixtures/cache.py", &format!("{HEAD}{plain}")),
        Some(TestRole::Fixture)
    );
}

#[test]
fn isolated_asyncio_test_cases_run_each_test_alone_after_their_set_up() {
    let case = "import unittest\n\nclass T(unittest.IsolatedAsyncioTestCase):\n    \
                async def asyncSetUp(self):\n        self.x = 1\n\n    \
                async def test_x(self):\n        input()\n";
    assert_eq!(alone(case), Some(TestRole::Test));
    assert_eq!(alone_in("anything.py", case), Some(TestRole::Test));
    let set_up = case
        .replace("        self.x = 1\n", "        input()\n")
        .replace(
            "        input()\n\n    async def test_x",
            "        input()\n\n    async def test_y",
        );
    assert_eq!(alone(&set_up), Some(TestRole::SetUp));
    // A set-up that starts a server: the tests run beside it.
    let serving = case.replace(
        "        self.x = 1\n",
        "        self.server = await asyncio.start_server(h, \"127.0.0.1\", 0)\n",
    );
    assert_eq!(alone(&format!("import asyncio\n{serving}")), None);
    // A decorated test (`@unittest.expectedFailure`) runs after the same set-up.
    let decorated = serving.replace(
        "    async def test_x(self):",
        "    @unittest.expectedFailure\n    async def test_x(self):",
    );
    assert_eq!(alone(&format!("import asyncio\n{decorated}")), None);
    // Another base beside it may set up anything.
    let mixed = case.replace(
        "(unittest.IsolatedAsyncioTestCase)",
        "(ServerMixin, unittest.IsolatedAsyncioTestCase)",
    );
    assert_eq!(alone(&mixed), None);
}
