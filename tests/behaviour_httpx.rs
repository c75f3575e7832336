//! The requests → httpx / httpx2 migration keeps what requests did, not only states what
//! changed: a legacy async program talks to a local HTTP server (127.0.0.1 only) that it
//! starts itself, before and after `unfreeze fix --write --unsafe-fixes`, for each client, and
//! prints the same lines. What it exercises: `params=` merged into a URL that already has a
//! query, `None` values left out and booleans written `True` (a literal dict rendered in
//! place; values out of sight through the module's helper), `except requests.HTTPError` around
//! a later `raise_for_status()` and `except requests.exceptions.JSONDecodeError` around
//! `.json()`, a response handed to a helper of the module that reads `urlsplit(r.url)`, and a
//! streamed body read with `iter_content()` (same chunks, same bytes).
//! And the client itself: the one the project's dependencies name, else httpx2 with the note
//! that the dependency must be added.
//!
//! Needs a Python with `requests`, `httpx` and `httpx2` (`.ci/run` installs them).

mod common;

use std::fs;
use std::path::Path;

use common::{python, test_python, unfreeze};

/// The program; `PORT` is replaced by a free port so that one URL is a literal.
const PROGRAM: &str = r#"import asyncio
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

LITERAL = "http://127.0.0.1:PORT/echo"


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, kind="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/status/"):
            return self.reply(int(self.path.rsplit("/", 1)[1]), b"{}")
        if self.path.startswith("/big"):
            return self.reply(200, bytes(range(256)) * 20, "application/octet-stream")
        if self.path.startswith("/text"):
            return self.reply(200, b"<html>not json</html>", "text/html")
        self.reply(200, json.dumps({"path": self.path}).encode())


def _summary(resp, label="summary"):
    parts = urlsplit(resp.url)
    return label, resp.status_code, parts.path, parts.query


def _is_fine(resp):
    return resp.ok, resp.reason


async def handed_to_a_reader_of_ok(base):
    r = requests.get(base + "/status/404")
    return _is_fine(r)


async def query_kept(base):
    filters = {"sku": "BX 200", "n": 3}
    r = requests.get(base + "/echo?fixed=1", params=filters)
    return r.json()["path"]


async def none_and_bools_out_of_sight(base, page=None, everything=True):
    r = requests.get(base + "/echo", params={"q": "a", "page": page, "all": everything, "tags": ["x", None, False]})
    return r.json()["path"]


async def none_and_bools_in_sight():
    r = requests.get(LITERAL, params={"q": "a", "page": None, "all": True, "off": False})
    return r.json()["path"]


async def raise_for_status_later(base):
    r = requests.get(base + "/status/503")
    try:
        r.raise_for_status()
    except requests.HTTPError as error:
        return "http error", error.response.status_code
    return "no error"


async def invalid_json(base):
    r = requests.get(base + "/text")
    try:
        return r.json()
    except requests.exceptions.JSONDecodeError:
        return "not json", r.status_code


async def handed_to_a_helper(base):
    r = requests.get(base + "/echo?fixed=1")
    return _summary(r)


async def streamed(base):
    sizes = []
    digest = hashlib.sha256()
    with requests.get(base + "/big", stream=True, timeout=5) as r:
        r.raise_for_status()
        for chunk in r.iter_content(1024):
            sizes.append(len(chunk))
            digest.update(chunk)
    return r.status_code, sizes, digest.hexdigest()[:12]


async def streamed_byte_by_byte(base):
    count = 0
    with requests.get(base + "/big", stream=True) as r:
        for chunk in r.iter_content():
            count += len(chunk) == 1
    return count


async def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print("query_kept", await query_kept(base))
    print("none_and_bools_out_of_sight", await none_and_bools_out_of_sight(base))
    print("none_and_bools_in_sight", await none_and_bools_in_sight())
    print("raise_for_status_later", await raise_for_status_later(base))
    print("invalid_json", await invalid_json(base))
    print("handed_to_a_helper", await handed_to_a_helper(base))
    print("handed_to_a_reader_of_ok", await handed_to_a_reader_of_ok(base))
    print("streamed", await streamed(base))
    print("streamed_byte_by_byte", await streamed_byte_by_byte(base))
    server.shutdown()


asyncio.run(main())
"#;

/// A port nothing listens on now (the program binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(dir: &Path) -> String {
    let out = python(&test_python())
        .current_dir(dir)
        .args(["client.py"])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    out.stdout
}

/// The program in a project that declares `requirements`, before and after the migration:
/// (stdout before, stdout after, the rewritten source, the fix run's stderr).
fn migrate(requirements: Option<&str>) -> (String, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let program = PROGRAM.replace("PORT", &free_port().to_string());
    fs::write(dir.path().join("client.py"), &program).unwrap();
    if let Some(requirements) = requirements {
        fs::write(dir.path().join("requirements.txt"), requirements).unwrap();
    }
    let before = run(dir.path());
    let fix = unfreeze(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--no-cache",
            "client.py",
        ],
    )
    .lossy()
    .output();
    let fixed = fs::read_to_string(dir.path().join("client.py")).unwrap();
    assert_eq!(fix.code, Some(0), "{}\n{fixed}", fix.show());
    let after = run(dir.path());
    (
        before,
        after,
        fixed,
        format!("{}{}", fix.stdout, fix.stderr),
    )
}

fn assert_kept(client: &str, before: &str, after: &str, fixed: &str) {
    // The original's own answers, so that a change of the server cannot hide a difference.
    for line in [
        "query_kept /echo?fixed=1&sku=BX+200&n=3",
        "none_and_bools_out_of_sight /echo?q=a&all=True&tags=x&tags=False",
        "none_and_bools_in_sight /echo?q=a&all=True&off=False",
        "raise_for_status_later ('http error', 503)",
        "invalid_json ('not json', 200)",
        "handed_to_a_helper ('summary', 200, '/echo', 'fixed=1')",
        "streamed (200, [1024, 1024, 1024, 1024, 1024], ",
        "handed_to_a_reader_of_ok (False, 'Not Found')",
        "streamed_byte_by_byte 5120",
    ] {
        assert!(before.contains(line), "{line}\n{before}");
    }
    assert!(
        !fixed.contains("requests.get("),
        "every other call migrated:\n{fixed}"
    );
    // `_is_fine` reads `.ok` and `.reason`, which an httpx response lacks: that call stays on
    // requests, in a worker thread.
    assert!(
        fixed.contains("r = await asyncio.to_thread(requests.get, base + \"/status/404\")"),
        "{fixed}"
    );
    assert!(
        fixed.contains("async for chunk in r.aiter_bytes(1024):"),
        "the stream is read asynchronously:\n{fixed}"
    );
    assert!(
        fixed.contains(&format!("async with {client}.AsyncClient(")),
        "{fixed}"
    );
    assert_eq!(after, before, "same results with {client}:\n{fixed}");
}

#[test]
fn migration_to_httpx_keeps_query_strings_handlers_and_helpers() {
    let (before, after, fixed, _) = migrate(Some("requests\nhttpx>=0.27\n"));
    assert!(fixed.contains("import httpx\n"), "{fixed}");
    assert_kept("httpx", &before, &after, &fixed);
}

#[test]
fn migration_to_httpx2_keeps_query_strings_handlers_and_helpers() {
    let (before, after, fixed, _) = migrate(Some("requests\nhttpx2\n"));
    assert!(fixed.contains("import httpx2\n"), "{fixed}");
    assert_kept("httpx2", &before, &after, &fixed);
}

#[test]
fn the_client_follows_the_declared_dependencies_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("app.py"),
        "import requests\n\nasync def f(u):\n    return requests.get(u).status_code\n",
    )
    .unwrap();
    let fix = |dir: &Path| {
        unfreeze(dir, &["fix", "--unsafe-fixes", "--no-cache", "app.py"])
            .lossy()
            .output()
    };
    // Nothing declared, no lowest Python: httpx2, and the dependency to add.
    let out = fix(dir.path());
    assert!(out.stdout.contains("+import httpx2\n"), "{}", out.show());
    assert!(
        out.stderr.contains(
            "requests migrates to httpx2: the project declares no async HTTP client and no \
             lowest Python version. The project does not declare `httpx2`: add it to its \
             dependencies."
        ),
        "{}",
        out.show()
    );
    assert!(
        out.stderr
            .contains("add `httpx2` to the project's dependencies, or the rewritten module fails"),
        "each fix's note says it too:\n{}",
        out.show()
    );
    // A lowest Python below httpx2's: httpx.
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\nrequires-python = \">=3.9\"\ndependencies = [\"requests\"]\n",
    )
    .unwrap();
    let out = fix(dir.path());
    assert!(out.stdout.contains("+import httpx\n"), "{}", out.show());
    assert!(
        out.stderr
            .contains("its lowest Python is 3.9 and `httpx2` needs Python 3.11"),
        "{}",
        out.show()
    );
    // Declared in the lock file (uv.lock): httpx2, without the note to add it.
    fs::write(
        dir.path().join("uv.lock"),
        "version = 1\n\n[[package]]\nname = \"httpx2\"\nversion = \"2.17.0\"\n",
    )
    .unwrap();
    let out = fix(dir.path());
    assert!(out.stdout.contains("+import httpx2\n"), "{}", out.show());
    assert!(
        out.stderr
            .contains("requests migrates to httpx2: the project depends on `httpx2` (uv.lock)."),
        "{}",
        out.show()
    );
    assert!(!out.stderr.contains("add `httpx2`"), "{}", out.show());
    // `http-client` forces it.
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\ndependencies = [\"requests\"]\n\n[tool.unfreeze]\nhttp-client = \"httpx\"\n",
    )
    .unwrap();
    let out = fix(dir.path());
    assert!(out.stdout.contains("+import httpx\n"), "{}", out.show());
    assert!(out.stderr.contains("add `httpx`"), "{}", out.show());
}
