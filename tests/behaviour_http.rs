//! The proof that the requests → httpx.AsyncClient rewrite keeps behaviour: a legacy async
//! program using `requests` talks to a local HTTP server (127.0.0.1 only), before and after
//! `unfreeze fix --write --unsafe-fixes`. The printed results must be identical (status codes,
//! redirects followed or not, query strings, bodies, reasons, URLs, the exceptions caught), and
//! the rewritten program's concurrent requests must overlap while a heartbeat stays on time.
//!
//! Needs Python 3 with `requests` and `httpx` (`UNFREEZE_TEST_PYTHON`, which `.ci/run` points
//! at a venv that has them); fails, rather than skips, without them.

mod common;

use std::fs;

use common::{Measured, measure, test_python, unfreeze};

const PROGRAM: &str = r#""""A legacy inventory client: async code, blocking requests calls."""
import asyncio
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/redirect"):
            return self.reply(302, headers=[("Location", "/echo?from=redirect")])
        if self.path.startswith("/status/"):
            return self.reply(int(self.path.rsplit("/", 1)[1]), b"nope")
        if self.path.startswith("/set-cookie"):
            return self.reply(200, b"ok", [("Set-Cookie", "sess=abc; Path=/")])
        if self.path.startswith("/slow"):
            time.sleep(0.15)
        echo = {
            "method": self.command,
            "path": self.path,
            "type": self.headers.get("Content-Type"),
            "body": body.decode("utf-8", "replace"),
            "team": self.headers.get("X-Team"),
            "cookie": self.headers.get("Cookie"),
            "auth": self.headers.get("Authorization"),
        }
        if self.headers.get("Content-Type") == "application/json":
            echo["body"] = json.loads(body)
        self.reply(200, json.dumps(echo, sort_keys=True).encode(), [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


async def get_with_params(base):
    r = requests.get(base + "/echo", {"sku": "BX-200", "n": "3"}, timeout=5)
    return r.status_code, r.json()["path"], r.ok


async def post_text(base):
    r = requests.post(base + "/echo", "café=1")
    return r.json()["body"], r.json()["type"]


async def post_json(base):
    r = requests.post(base + "/echo", json={"sku": "é", "levels": [1, 2]})
    return r.json()["body"], r.json()["type"]


async def follow_redirect(base):
    r = requests.get(base + "/redirect")
    return r.status_code, len(r.history), r.url.endswith("/echo?from=redirect")


async def head_does_not_follow(base):
    r = requests.head(base + "/redirect")
    return r.status_code, r.is_redirect


async def not_found(base):
    r = requests.get(base + "/status/404")
    if not r.ok:
        return "missing", r.status_code, r.reason
    return "found"


async def raise_for_status(base):
    try:
        r = requests.get(base + "/status/500")
        r.raise_for_status()
        return "no error"
    except requests.exceptions.HTTPError as error:
        return "http error", error.response.status_code


async def connection_refused(port):
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
        return "connected"
    except requests.exceptions.ConnectionError:
        return "connection refused"


async def delete_and_put(base):
    d = requests.delete(base + "/echo")
    p = requests.put(base + "/echo", data=b"raw")
    return d.json()["method"], p.json()["method"], p.json()["body"]


async def session_with_block(base):
    accepted = 0
    with requests.Session() as s:
        s.headers["X-Team"] = "inventory"
        for sku in ("a", "b"):
            r = s.post(base + "/echo", json={"sku": sku}, timeout=5)
            if r.status_code == requests.codes.ok:
                accepted += 1
        s.get(base + "/set-cookie")
        r = s.get(base + "/echo")
        return accepted, r.json()["team"], r.json()["cookie"]


async def session_local(base):
    s = requests.Session()
    s.auth = ("user", "secret")
    s.max_redirects = 0
    r = s.get(base + "/echo", params={"q": "1"})
    try:
        s.get(base + "/redirect")
        outcome = "followed"
    except requests.exceptions.TooManyRedirects:
        outcome = "too many redirects"
    s.close()
    return r.json()["auth"], r.json()["path"], outcome


class Catalogue:
    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.session.headers.update({"X-Team": "catalogue"})

    async def team(self):
        r = self.session.get(self.base + "/echo")
        return r.json()["team"], r.ok

    async def close(self):
        self.session.close()


async def session_on_self(base):
    catalogue = Catalogue(base)
    team = await catalogue.team()
    await catalogue.close()
    return team


async def slow(base, n):
    r = requests.get(base + f"/slow?n={n}")
    return r.json()["path"]


async def heartbeat(stop, lags):
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - before - 0.01)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for check in (get_with_params, post_text, post_json, follow_redirect, head_does_not_follow,
                  not_found, raise_for_status, delete_and_put, session_with_block, session_local,
                  session_on_self):
        print(check.__name__, await check(base))
    print("connection_refused", await connection_refused(closed_port()))
    stop = asyncio.Event()
    lags = []
    beat = asyncio.create_task(heartbeat(stop, lags))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    # Twenty handlers at once: each rewritten call builds a client, and a client that loaded
    # the CA bundle itself (about 25 ms) would stall the loop for half a second in all.
    paths = await asyncio.gather(*(slow(base, n) for n in range(20)))
    elapsed = time.perf_counter() - start
    stop.set()
    await beat
    print("slow", sorted(paths))
    server.shutdown()
    print(f"elapsed={elapsed:.3f}", file=sys.stderr)
    print(f"max_lag={max(lags):.3f}", file=sys.stderr)


asyncio.run(main())
"#;

#[test]
fn requests_rewritten_to_httpx_behaves_the_same_and_unblocks_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.py");
    fs::write(&path, PROGRAM).unwrap();
    // The project declares httpx, so the migration targets it (`http-client = "auto"`).
    fs::write(dir.path().join("requirements.txt"), "requests\nhttpx\n").unwrap();
    let Measured {
        stdout: before,
        elapsed: before_elapsed,
        max_lag: before_lag,
    } = measure(&test_python(), &path, "");
    assert!(
        before.contains("head_does_not_follow (302, True)"),
        "{before}"
    );
    assert!(
        before.contains("session_on_self ('catalogue', True)"),
        "{before}"
    );
    assert!(
        before.contains("session_with_block (2, 'inventory', 'sess=abc')"),
        "{before}"
    );
    assert!(
        before.contains(
            "session_local ('Basic dXNlcjpzZWNyZXQ=', '/echo?q=1', 'too many redirects')"
        ),
        "{before}"
    );
    assert!(
        before_elapsed >= 2.4,
        "the original serialises: {before_elapsed}"
    );
    assert!(
        before_lag >= 0.25,
        "the original starves the heartbeat: {before_lag}"
    );

    let fix = unfreeze(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "client.py",
        ],
    )
    .lossy()
    .output();
    let fixed = fs::read_to_string(&path).unwrap();
    assert_eq!(
        fix.code,
        Some(0),
        "everything should be rewritten:\n{}\n{fixed}",
        fix.show()
    );
    assert_eq!(
        fixed.matches("async with httpx.AsyncClient(").count(),
        // One client per coroutine (issue 23): `delete_and_put`'s two calls share one.
        11,
        "every coroutine's requests calls get one client, and the `with` session an async one:\n{fixed}"
    );
    assert!(
        fixed.contains("    s = httpx.AsyncClient(") && fixed.contains("await s.aclose()"),
        "the local session becomes a client:\n{fixed}"
    );
    assert!(
        fixed.contains("        self.session = httpx.AsyncClient(")
            && fixed.contains("await self.session.aclose()"),
        "the session on `self` becomes a client:\n{fixed}"
    );
    assert!(!fixed.contains("requests.get("), "{fixed}");
    assert!(
        fixed.contains("_HTTPX_SSL_CONTEXT = httpx.create_ssl_context()"),
        "{fixed}"
    );

    let Measured {
        stdout: after,
        elapsed: after_elapsed,
        max_lag: after_lag,
    } = measure(&test_python(), &path, "");
    assert_eq!(
        after, before,
        "same observable results after the rewrite:\n{fixed}"
    );
    // Bounds relative to the original run, so that a loaded machine slows both alike. For
    // scale: the same rewrite with a CA bundle loaded per client (no shared SSL context) would
    // lag 20 x ~25 ms = 0.5 s; measured once on a loaded machine, 6.6 s (0.12 s with it).
    assert!(
        after_elapsed < before_elapsed * 0.6,
        "the rewritten requests overlap: {after_elapsed:.3} s (was {before_elapsed:.3} s)"
    );
    assert!(
        after_lag < 0.25 && after_lag < before_lag / 5.0,
        "the heartbeat stays on time: {after_lag:.3} s (was {before_lag:.3} s)"
    );
}
