//! A thread fix uses the project's own offload where the code shows one (`[[offload-idiom]]`
//! in codemods/UNF401.toml, the configuration's `offload`): Home Assistant's
//! `hass.async_add_executor_job`, the `ThreadPoolExecutor` a class already hands to
//! `run_in_executor`, starlette's `run_in_threadpool`, a declared helper, and `async with
//! aiofiles.open(...)` for a simple file block. The rewrites are shown for each idiom; that
//! the idiom changes neither whether a fix is offered nor how safe it is; and the rewritten
//! programs are run with the test Python: the function runs in a worker thread, through the
//! project's own offload, with the same result (starlette's and aiofiles' only when the test
//! Python has them, as `.ci/run`'s does).
//!
//! `UNFREEZE_IDIOM_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_IDIOM_BIN", dir, args)
}

/// `unfreeze fix --write [extra]` in `dir` (the configuration, if any, is read), then the
/// file at `path` as written.
fn fixed(dir: &Path, path: &str, extra: &[&str]) -> String {
    let output = unfreeze(dir, &["fix", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .output();
    assert!(
        matches!(output.code, Some(0 | 1)),
        "fix failed:\n{}",
        output.show()
    );
    fs::read_to_string(dir.join(path)).unwrap()
}

/// `unfreeze check` in `dir`: its text output.
fn check(dir: &Path, extra: &[&str]) -> String {
    unfreeze(dir, &["check", "--no-cache"])
        .args(extra)
        .arg(".")
        .output()
        .stdout
}

/// The fixed text of one file, alone in a project without configuration.
fn fixed_alone(source: &str) -> String {
    let dir = project(&[("app.py", source.as_bytes())]);
    fixed(dir.path(), "app.py", &["--isolated"])
}

/// Run `main.py` in `dir` with `python`; exit code and stdout (stderr on failure).
fn run_main(python_path: &str, dir: &Path) -> String {
    let output = python(python_path).current_dir(dir).arg("main.py").output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

#[test]
fn home_assistant_code_uses_hass_async_add_executor_job() {
    let source = r#"import subprocess
from homeassistant.core import HomeAssistant


async def async_setup(hass, cmd):
    subprocess.run(cmd)
    subprocess.run(cmd, check=True)


async def async_read(h: HomeAssistant, path):
    with open(path) as f:
        return f.read()


class Coordinator:
    def __init__(self, hass):
        self.hass = hass

    async def refresh(self, cmd):
        subprocess.run(cmd)


class Flow:
    async def step(self, cmd):
        self.hass.data.clear()
        subprocess.run(cmd)


class Plain:
    async def step(self, cmd):
        subprocess.run(cmd)
"#;
    let fixed = fixed_alone(source);
    for expected in [
        "import functools\n",
        "async def async_setup(hass, cmd):\n    await hass.async_add_executor_job(subprocess.run, cmd)\n    \
         await hass.async_add_executor_job(\n        functools.partial(subprocess.run, cmd, check=True)\n    )\n",
        // Annotated `HomeAssistant`, whatever its name; a moved `with` block too.
        "            return f.read()\n    return await h.async_add_executor_job(_read_file)\n",
        // `self.hass` set in the class, or already used by it.
        "    async def refresh(self, cmd):\n        await self.hass.async_add_executor_job(subprocess.run, cmd)\n",
        "        self.hass.data.clear()\n        await self.hass.async_add_executor_job(subprocess.run, cmd)\n",
        // A class that has no `hass`: asyncio's own.
        "class Plain:\n    async def step(self, cmd):\n        await asyncio.to_thread(subprocess.run, cmd)\n",
    ] {
        assert!(fixed.contains(expected), "{expected}\n---\n{fixed}");
    }
}

#[test]
fn a_hass_outside_home_assistant_code_or_rebound_is_not_taken_for_it() {
    // No `homeassistant` import: a parameter called `hass` is anyone's.
    let fixed = fixed_alone(
        "import subprocess\n\n\nasync def setup(hass, cmd):\n    subprocess.run(cmd)\n",
    );
    assert!(
        fixed.contains("    await asyncio.to_thread(subprocess.run, cmd)\n"),
        "{fixed}"
    );
    // A `hass` that may be `None`, or a class whose `self.hass` may be: not taken.
    let fixed = fixed_alone(
        "import subprocess\nimport homeassistant\n\n\nasync def a(cmd, hass=None):\n    subprocess.run(cmd)\n\n\n\
         async def b(cmd, hass: homeassistant.core.HomeAssistant | None):\n    subprocess.run(cmd)\n\n\n\
         class C:\n    def __init__(self):\n        self.hass = None\n\n    async def c(self, cmd):\n        subprocess.run(cmd)\n",
    );
    assert_eq!(
        fixed
            .matches("await asyncio.to_thread(subprocess.run, cmd)")
            .count(),
        3,
        "{fixed}"
    );
    // `hass` rebound before the call is no longer the parameter.
    let fixed = fixed_alone(
        "import subprocess\nimport homeassistant\n\n\nasync def setup(hass, cmd):\n    hass = None\n    subprocess.run(cmd)\n",
    );
    assert!(
        fixed.contains("    await asyncio.to_thread(subprocess.run, cmd)\n"),
        "{fixed}"
    );
}

#[test]
fn the_idiom_changes_neither_whether_there_is_a_fix_nor_its_safety() {
    // The same helpers, with and without `hass` in scope: the same verdicts, only the call
    // that runs the function differs.
    let program = |parameter: &str| {
        format!(
            r#"import json
import sqlite3
import subprocess
import homeassistant

CON = sqlite3.connect("app.db")


class Store:
    def __init__(self):
        self.jobs = {{}}

    def save(self):
        with open("jobs.json", "w") as f:
            json.dump(self.jobs, f)

    async def add(self, {parameter}, i):
        self.jobs[i] = i
        self.save()


def count():
    return CON.execute("select 1").fetchone()


def run(cmd):
    subprocess.run(cmd)


async def handler({parameter}, cmd):
    count()
    run(cmd)
"#
        )
    };
    let verdicts = |parameter: &str| -> Vec<String> {
        let dir = project(&[("app.py", program(parameter).as_bytes())]);
        check(dir.path(), &["--isolated", "--select", "UNF401"])
            .lines()
            .filter(|line| {
                line.starts_with("app.py:")
                    || (line.starts_with("   = ") && !line.starts_with("   = chain:"))
            })
            .map(|line| {
                line.replace("hass.async_add_executor_job", "RUNNER")
                    .replace("asyncio.to_thread", "RUNNER")
            })
            .collect()
    };
    let with_hass = verdicts("hass");
    let without = verdicts("not_hass");
    assert_eq!(with_hass.len(), 6, "{with_hass:#?}");
    assert_eq!(
        with_hass,
        without
            .iter()
            .map(|l| l.replace("not_hass", "hass"))
            .collect::<Vec<_>>()
    );
    let joined = with_hass.join("\n");
    for verdict in [
        "   = unsafe fix: Run it in a worker thread: `await RUNNER(...)` (`Store.save` reads `self.jobs`",
        "   = no fix: `count` uses the sqlite3 connection `CON`",
        "   = fix: Run it in a worker thread: `await RUNNER(...)`",
    ] {
        assert!(joined.contains(verdict), "{verdict}\n---\n{joined}");
    }
    // The runner with `hass` in scope is Home Assistant's.
    let dir = project(&[("app.py", program("hass").as_bytes())]);
    let report = check(dir.path(), &["--isolated", "--select", "UNF401"]);
    assert!(
        report.contains(
            "   = fix: Run it in a worker thread: `await hass.async_add_executor_job(...)`"
        ),
        "{report}"
    );
}

#[test]
fn a_class_thread_pool_executor_is_reused_on_the_running_loop() {
    let fixed = fixed_alone(
        r#"import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(4)


class Worker:
    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=2)
        self._loop = None

    async def start(self):
        self._loop = asyncio.get_running_loop()
        return await self._loop.run_in_executor(self._executor, print, 1)

    async def run(self, cmd):
        subprocess.run(cmd, check=True)


class Closable:
    def __init__(self):
        self._executor = ThreadPoolExecutor()

    def close(self):
        self._executor = None

    async def start(self):
        await asyncio.get_running_loop().run_in_executor(self._executor, print)

    async def run(self, cmd):
        subprocess.run(cmd)


async def module_level(cmd):
    await asyncio.get_running_loop().run_in_executor(POOL, print)
    subprocess.run(cmd)
"#,
    );
    for expected in [
        // The class's executor (never its `self._loop`, which may be unset).
        "    async def run(self, cmd):\n        await asyncio.get_running_loop().run_in_executor(\n            self._executor, functools.partial(subprocess.run, cmd, check=True)\n        )\n",
        // An executor attribute that may be `None` is not reused; the module's pool is.
        "    async def run(self, cmd):\n        await asyncio.get_running_loop().run_in_executor(POOL, subprocess.run, cmd)\n",
        "    await asyncio.get_running_loop().run_in_executor(POOL, print)\n    await asyncio.get_running_loop().run_in_executor(POOL, subprocess.run, cmd)\n",
    ] {
        assert!(fixed.contains(expected), "{expected}\n---\n{fixed}");
    }
}

#[test]
fn starlette_and_fastapi_modules_use_run_in_threadpool() {
    let fixed = fixed_alone(
        "import subprocess\nfrom starlette.concurrency import run_in_threadpool\n\n\nasync def endpoint(cmd):\n    subprocess.run(cmd, check=True)\n",
    );
    assert!(
        fixed.contains("    await run_in_threadpool(subprocess.run, cmd, check=True)\n"),
        "{fixed}"
    );
    let fixed = fixed_alone(
        "import subprocess\nfrom fastapi import concurrency\n\n\nasync def endpoint(cmd):\n    subprocess.run(cmd)\n",
    );
    assert!(
        fixed.contains("    await concurrency.run_in_threadpool(subprocess.run, cmd)\n"),
        "{fixed}"
    );
    // Imported only for type checkers: not there at run time.
    let fixed = fixed_alone(
        "import subprocess\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from starlette.concurrency import run_in_threadpool\n\n\nasync def endpoint(cmd):\n    subprocess.run(cmd)\n",
    );
    assert!(
        fixed.contains("    await asyncio.to_thread(subprocess.run, cmd)\n"),
        "{fixed}"
    );
}

const HELPER: &str = r#"import asyncio
from functools import partial


async def sync_to_async(func, *args, wait=True, **kwargs):
    future = asyncio.get_running_loop().run_in_executor(None, partial(func, *args, **kwargs))
    return await future if wait else future
"#;

const USES_HELPER: &str = r#"import subprocess

from .helpers import sync_to_async


async def handler(cmd):
    await sync_to_async(print, "ready")
    subprocess.run(cmd, check=True)
"#;

#[test]
fn a_declared_helper_is_used_where_the_file_imports_it() {
    let files = |config: &str| {
        project(&[
            ("pyproject.toml", config.as_bytes()),
            ("bot/__init__.py", b""),
            ("bot/helpers.py", HELPER.as_bytes()),
            ("bot/handlers.py", USES_HELPER.as_bytes()),
            (
                "bot/other.py",
                b"import subprocess\n\n\nasync def other(cmd):\n    subprocess.run(cmd)\n",
            ),
        ])
    };
    // Keyword arguments through `functools.partial` unless the configuration says the
    // helper passes them on (this one would swallow a `wait=`).
    let dir = files("[tool.unfreeze]\noffload = \"bot.helpers.sync_to_async\"\n");
    let handlers = fixed(dir.path(), "bot/handlers.py", &[]);
    assert!(
        handlers.contains(
            "    await sync_to_async(functools.partial(subprocess.run, cmd, check=True))\n"
        ),
        "{handlers}"
    );
    // A file that does not import it keeps asyncio's own.
    let other = fs::read_to_string(dir.path().join("bot/other.py")).unwrap();
    assert!(
        other.contains("    await asyncio.to_thread(subprocess.run, cmd)\n"),
        "{other}"
    );
    let dir = files(
        "[tool.unfreeze]\noffload = { function = \"bot.helpers.sync_to_async\", keywords = \"pass\" }\n",
    );
    let handlers = fixed(dir.path(), "bot/handlers.py", &[]);
    assert!(
        handlers.contains("    await sync_to_async(subprocess.run, cmd, check=True)\n"),
        "{handlers}"
    );
    // A bad declaration stops the run before any file is read, naming the key.
    let dir = files("[tool.unfreeze]\noffload = \"sync_to_async\"\n");
    let output = unfreeze(dir.path(), &["check", "--no-cache", "."]).output();
    assert_eq!(output.code, Some(2), "{}", output.show());
    assert!(
        output.stderr.contains("offload: `sync_to_async`"),
        "{}",
        output.show()
    );
}

/// A stub of Home Assistant's core: `async_add_executor_job` runs the function with
/// `run_in_executor`, as Home Assistant does, and counts its calls.
const HOMEASSISTANT_CORE: &str = r#"import asyncio

CALLS = []


class HomeAssistant:
    def async_add_executor_job(self, target, *args):
        CALLS.append(getattr(target, "func", target).__name__)
        return asyncio.get_running_loop().run_in_executor(None, target, *args)
"#;

/// An integration whose setup reads a file and checksums it with blocking calls; a ticker
/// counts how often the loop ran meanwhile.
const INTEGRATION: &str = r#"import asyncio
import hashlib
import threading
import time

from homeassistant import core
from homeassistant.core import HomeAssistant


def checksum(path, *, algorithm="sha256"):
    on_main_thread = threading.current_thread() is threading.main_thread()
    time.sleep(0.3)
    with open(path, "rb") as f:
        return hashlib.new(algorithm, f.read()).hexdigest(), on_main_thread


async def ticker(ticks):
    while True:
        await asyncio.sleep(0.01)
        ticks.append(1)


async def async_setup(hass: HomeAssistant, path):
    return checksum(path, algorithm="md5")


async def main():
    with open("data.bin", "wb") as f:
        f.write(b"x" * 1000)
    ticks = []
    task = asyncio.create_task(ticker(ticks))
    await asyncio.sleep(0)
    result, on_main_thread = await async_setup(HomeAssistant(), "data.bin")
    task.cancel()
    print(result)
    print("main thread:", on_main_thread)
    print("executor jobs:", core.CALLS)
    print("loop ran:", len(ticks) > 5)


asyncio.run(main())
"#;

#[test]
fn a_rewritten_home_assistant_integration_runs_the_function_in_hass_s_executor() {
    let dir = project(&[
        ("main.py", INTEGRATION.as_bytes()),
        ("homeassistant/__init__.py", b""),
        ("homeassistant/core.py", HOMEASSISTANT_CORE.as_bytes()),
    ]);
    let python = test_python();
    let before = run_main(&python, dir.path());
    assert!(
        before.contains("main thread: True\nexecutor jobs: []\nloop ran: False\n"),
        "{before}"
    );

    let main = fixed(dir.path(), "main.py", &["--isolated", "--select", "UNF401"]);
    assert!(
        main.contains(
            "    return await hass.async_add_executor_job(\n        functools.partial(checksum, path, algorithm=\"md5\")\n    )\n"
        ),
        "{main}"
    );
    let after = run_main(&python, dir.path());
    assert!(
        after.contains("main thread: False\nexecutor jobs: ['checksum']\nloop ran: True\n"),
        "{after}"
    );
    assert_eq!(
        after.lines().next(),
        before.lines().next(),
        "the same checksum"
    );
}

/// A worker class with its own named thread pool; `digest` blocks in a coroutine.
const WORKER: &str = r#"import asyncio
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def digest(data, *, rounds=1):
    name = threading.current_thread().name
    time.sleep(0.05)
    for _ in range(rounds):
        data = hashlib.sha256(data).digest()
    return name, data.hex()


class Worker:
    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-pool")

    async def warm_up(self):
        return await asyncio.get_running_loop().run_in_executor(self._pool, digest, b"")

    async def handle(self, data):
        return digest(data, rounds=3)


async def main():
    worker = Worker()
    await worker.warm_up()
    name, result = await worker.handle(b"payload")
    print(result)
    print("thread:", name.split("_")[0])


asyncio.run(main())
"#;

#[test]
fn a_rewritten_worker_runs_the_function_in_its_own_pool() {
    let dir = project(&[("main.py", WORKER.as_bytes())]);
    let python = test_python();
    let before = run_main(&python, dir.path());
    assert!(before.ends_with("thread: MainThread\n"), "{before}");

    let main = fixed(dir.path(), "main.py", &["--isolated", "--select", "UNF401"]);
    assert!(
        main.contains(
            "        return await asyncio.get_running_loop().run_in_executor(\n            self._pool, functools.partial(digest, data, rounds=3)\n        )\n"
        ),
        "{main}"
    );
    let after = run_main(&python, dir.path());
    assert!(after.ends_with("thread: worker-pool\n"), "{after}");
    assert_eq!(
        after.lines().next(),
        before.lines().next(),
        "the same digest"
    );
}

/// A FastAPI-style handler: `run_in_threadpool` is imported and used for one call; `render`
/// blocks.
const STARLETTE_APP: &str = r#"import asyncio
import threading
import time

from starlette.concurrency import run_in_threadpool


def render(name, *, greeting="hello"):
    time.sleep(0.05)
    return greeting + " " + name, threading.current_thread() is threading.main_thread()


async def endpoint(name):
    await run_in_threadpool(print, "rendering")
    return render(name, greeting="hi")


print(asyncio.run(endpoint("ada")))
"#;

#[test]
fn a_rewritten_starlette_endpoint_runs_the_function_in_the_threadpool() {
    let interpreter = test_python();
    let has_starlette = python(&interpreter)
        .args(["-c", "import starlette"])
        .output()
        .code
        == Some(0);
    if !has_starlette {
        eprintln!("skipped: the test Python has no starlette (.ci/run installs it)");
        return;
    }
    let dir = project(&[("main.py", STARLETTE_APP.as_bytes())]);
    let before = run_main(&interpreter, dir.path());
    assert_eq!(before, "rendering\n('hi ada', True)\n");

    let main = fixed(dir.path(), "main.py", &["--isolated", "--select", "UNF401"]);
    assert!(
        main.contains("    return await run_in_threadpool(render, name, greeting=\"hi\")\n"),
        "{main}"
    );
    let after = run_main(&interpreter, dir.path());
    assert_eq!(after, "rendering\n('hi ada', False)\n");
}

#[test]
fn a_simple_file_block_uses_aiofiles_where_the_file_imports_it() {
    let source = r#"import json
from aiofiles import open as aiopen


async def load(path):
    with open(path) as f:
        data = f.read()
    return json.loads(data)


async def save(path, text):
    with open(path, "w", encoding="utf-8") as f:
        # the whole text
        f.write(text)
        f.write("\n")


async def not_simple(path):
    with open(path) as f:
        return json.load(f)
"#;
    let fixed = fixed_alone(source);
    for expected in [
        "    async with aiopen(path) as f:\n        data = await f.read()\n    return json.loads(data)\n",
        "    async with aiopen(path, \"w\", encoding=\"utf-8\") as f:\n        # the whole text\n        \
         await f.write(text)\n        await f.write(\"\\n\")\n",
        // `f` handed to other code: the whole block moves to a thread, as before.
        "    def _read_file():\n        with open(path) as f:\n            return json.load(f)\n    \
         return await asyncio.to_thread(_read_file)\n",
    ] {
        assert!(fixed.contains(expected), "{expected}\n---\n{fixed}");
    }
    let dir = project(&[("app.py", source.as_bytes())]);
    let report = check(dir.path(), &["--isolated"]);
    assert!(
        report.contains(
            "   = fix: Open it with `async with aiopen(...)` and await its reads and writes"
        ),
        "{report}"
    );
    // Without the import, asyncio's own.
    let fixed = fixed_alone(&source.replace("from aiofiles import open as aiopen\n", ""));
    assert!(!fixed.contains("async with"), "{fixed}");
}

/// A config store whose `save` writes and whose `load` reads a file in `with` blocks, in a
/// module that already uses aiofiles; a ticker counts the loop's turns meanwhile.
const AIOFILES_APP: &str = r#"import asyncio
import json

import aiofiles


async def save(path, settings):
    text = json.dumps(settings)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")


async def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return json.loads(text)


async def main():
    # Another task: not a script where nothing else runs (there, blocking blocks nobody).
    ticker = asyncio.create_task(asyncio.sleep(0))
    async with aiofiles.open("log.txt", "w") as log:
        await log.write("start\n")
    await save("settings.json", {"volume": 11, "name": "ada"})
    print(await load("settings.json"))
    await ticker


asyncio.run(main())
"#;

#[test]
fn a_rewritten_aiofiles_program_reads_and_writes_the_same() {
    let interpreter = test_python();
    let has_aiofiles = python(&interpreter)
        .args(["-c", "import aiofiles"])
        .output()
        .code
        == Some(0);
    if !has_aiofiles {
        eprintln!("skipped: the test Python has no aiofiles (.ci/run installs it)");
        return;
    }
    let dir = project(&[("main.py", AIOFILES_APP.as_bytes())]);
    let before = run_main(&interpreter, dir.path());
    assert_eq!(before, "{'volume': 11, 'name': 'ada'}\n");
    let written = fs::read_to_string(dir.path().join("settings.json")).unwrap();

    let main = fixed(dir.path(), "main.py", &["--isolated"]);
    assert!(
        main.contains("    async with aiofiles.open(path, encoding=\"utf-8\") as f:\n        text = await f.read()\n"),
        "{main}"
    );
    assert!(!main.contains("to_thread"), "{main}");
    fs::remove_file(dir.path().join("settings.json")).unwrap();
    let after = run_main(&interpreter, dir.path());
    assert_eq!(after, before);
    assert_eq!(
        fs::read_to_string(dir.path().join("settings.json")).unwrap(),
        written
    );
}
