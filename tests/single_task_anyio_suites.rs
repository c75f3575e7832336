//! anyio test suites (issue 20, session 18; reviewer L, nextcloud-mcp-server): with
//! `anyio_mode = "auto"` every `async def test_*` runs on the anyio plugin's runner, one loop
//! that session- and module-scoped async fixtures share with the tests for as long as they
//! live. A test is alone there when everything it takes starts nothing (its own sync
//! fixtures, `anyio_backend`, pytest-mock's `mocker`) and no wider-scoped fixture of a
//! `conftest.py` above it may leave work running past its `yield`: one that awaits only
//! `anyio.sleep` leaves nothing; one that keeps a task group (a server, a client session's
//! reader) open across its `yield` runs beside every later test, so their hops stay. A
//! function-scoped fixture that starts a server is a doubt only for the tests taking it.
//! `check` and `fix` agree.

mod common;

use common::{project, unfreeze_in};

const PYPROJECT: &str = "[tool.pytest.ini_options]\nanyio_mode = \"auto\"\n";

const CONFTEST: &str = r#"import anyio
import pytest


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "settings.txt"
    path.write_text("x")
    return path


@pytest.fixture(scope="session")
async def warmed(anyio_backend):
    await anyio.sleep(0)
    yield "ready"
"#;

/// A session fixture keeping a task group (a server) running across its `yield`.
const SERVING: &str = r#"

async def serve():
    await anyio.sleep_forever()


@pytest.fixture(scope="session")
async def server(anyio_backend):
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        yield "http://127.0.0.1:8000"
        tg.cancel_scope.cancel()
"#;

const TESTS: &str = r#"import subprocess

import pytest

pytestmark = [pytest.mark.unit]


async def test_read(settings, mocker):
    data = open(settings).read()
    subprocess.run(["true"])
    assert data == "x"


async def test_plain():
    subprocess.run(["true"])
"#;

const ALONE: &str = "no fix: the body of test";

/// `check` of the project: (the lines of findings, each with its `fix:` / `no fix:` line).
fn check(files: &[(&str, &str)]) -> (Vec<String>, tempfile::TempDir) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, s)| (*n, s.as_bytes())).collect();
    let dir = project(&files);
    let out = unfreeze_in(dir.path(), &["check", "--no-cache", "."]);
    let mut findings = Vec::new();
    let mut head: Option<&str> = None;
    for line in out.stdout.lines() {
        if line.starts_with("tests/") {
            head = Some(line);
        } else if line.contains("fix:")
            && let Some(h) = head.take()
        {
            findings.push(format!("{h}\n{line}"));
        }
    }
    (findings, dir)
}

/// `fix --write` (safe fixes) changes a file exactly when `check` offered a safe fix in it.
fn fix_agrees(dir: &tempfile::TempDir, findings: &[String], file: &str, source: &str) {
    let offered = findings
        .iter()
        .any(|f| f.starts_with(&format!("{file}:")) && f.contains("[*]"));
    unfreeze_in(dir.path(), &["fix", "--write", "--no-cache", "."]);
    let after = std::fs::read_to_string(dir.path().join(file)).unwrap();
    assert_eq!(after != source, offered, "{file}:\n{after}\n{findings:#?}");
}

#[test]
fn anyio_auto_tests_with_quiet_fixtures_run_alone() {
    let (findings, dir) = check(&[
        ("pyproject.toml", PYPROJECT),
        ("tests/conftest.py", CONFTEST),
        ("tests/test_a.py", TESTS),
    ]);
    assert_eq!(findings.len(), 3, "{findings:#?}");
    for finding in &findings {
        assert!(finding.contains(ALONE), "{finding}");
    }
    fix_agrees(&dir, &findings, "tests/test_a.py", TESTS);
}

#[test]
fn a_session_fixture_keeping_a_task_group_open_past_its_yield_keeps_every_hop() {
    let conftest = format!("{CONFTEST}{SERVING}");
    let (findings, dir) = check(&[
        ("pyproject.toml", PYPROJECT),
        ("tests/conftest.py", &conftest),
        ("tests/test_a.py", TESTS),
    ]);
    let in_tests: Vec<&String> = findings
        .iter()
        .filter(|f| f.starts_with("tests/test_a.py"))
        .collect();
    assert_eq!(in_tests.len(), 3, "{findings:#?}");
    for finding in in_tests {
        assert!(!finding.contains(ALONE), "{finding}");
        assert!(finding.contains("fix: "), "{finding}");
    }
    fix_agrees(&dir, &findings, "tests/test_a.py", TESTS);
}

/// A function-scoped fixture of the test file starting a server before its `yield`: the
/// test taking it is not alone, the one that does not is.
#[test]
fn a_fixture_starting_a_server_before_its_yield_is_a_doubt_for_its_tests_only() {
    let tests = format!(
        "{TESTS}\n\n@pytest.fixture\nasync def echo_server():\n    \
         import asyncio\n\n    async def handle(reader, writer):\n        \
         writer.close()\n\n    server = await asyncio.start_server(handle, \"127.0.0.1\", 0)\n    \
         yield server\n    server.close()\n\n\n\
         async def test_served(echo_server):\n    subprocess.run([\"true\"])\n"
    );
    let (findings, dir) = check(&[
        ("pyproject.toml", PYPROJECT),
        ("tests/conftest.py", CONFTEST),
        ("tests/test_a.py", &tests),
    ]);
    let served = findings
        .iter()
        .find(|f| f.contains("`test_served`"))
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(!served.contains(ALONE), "{served}");
    let plain = findings
        .iter()
        .find(|f| f.contains("`test_plain`"))
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(plain.contains(ALONE), "{plain}");
    fix_agrees(&dir, &findings, "tests/test_a.py", &tests);
}

/// Without the auto mode, a `pytestmark` list holding `pytest.mark.anyio` marks the file.
#[test]
fn a_pytestmark_list_with_the_anyio_mark_marks_the_file() {
    let tests = TESTS.replace(
        "pytestmark = [pytest.mark.unit]",
        "pytestmark = [pytest.mark.unit, pytest.mark.anyio]",
    );
    let (findings, _dir) = check(&[("tests/conftest.py", CONFTEST), ("tests/test_a.py", &tests)]);
    assert_eq!(findings.len(), 3, "{findings:#?}");
    for finding in &findings {
        assert!(finding.contains(ALONE), "{finding}");
    }
    // Unmarked and no auto mode: not a test pytest runs on a loop; the hops stay.
    let (findings, _dir) = check(&[("tests/conftest.py", CONFTEST), ("tests/test_a.py", TESTS)]);
    assert!(findings.iter().all(|f| !f.contains(ALONE)), "{findings:#?}");
}
