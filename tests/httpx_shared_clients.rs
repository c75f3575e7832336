//! The requests → httpx / httpx2 migration as a reviewer would write it (issue 23, session 16):
//! several requests calls in one coroutine share one `AsyncClient` (not one block per call),
//! with requests' behaviour kept where sharing could change it (a cookie a response sets is not
//! sent by the next call); a lone call's first proposal stays the worker-thread hop; a shared
//! module-level `Session` becomes one lazily created client. Each program talks to a local
//! HTTP server (127.0.0.1 only) it starts itself and prints the same lines before and after
//! `unfreeze fix --write --unsafe-fixes`, for httpx and for httpx2.
//!
//! Needs a Python with `requests`, `httpx` and `httpx2` (`.ci/run` installs them).

mod common;

use std::fs;
use std::path::Path;

use common::{python, test_python, unfreeze};

/// The server every program starts: `/echo` answers the path, method and `Cookie` header it
/// got; `/set-cookie` sets a cookie; `/status/N` answers N; `/lines` streams lines.
const SERVER: &str = r#"import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/status/"):
            return self.reply(int(self.path.rsplit("/", 1)[1]), b"{}")
        if self.path.startswith("/set-cookie"):
            return self.reply(200, b"{}", [("Set-Cookie", "token=abc; Path=/")])
        if self.path.startswith("/lines"):
            return self.reply(200, b"one\ntwo\r\n\nthree\rfour\n", [("Content-Type", "text/plain")])
        echo = {
            "path": self.path,
            "method": self.command,
            "cookie": self.headers.get("Cookie"),
            "body": body,
            "auth": self.headers.get("Authorization"),
            "team": self.headers.get("X-Team"),
            "agent": (self.headers.get("User-Agent") or "").split("/")[0],
            "type": self.headers.get("Content-Type"),
        }
        self.reply(200, json.dumps(echo).encode(), [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
"#;

/// Several calls per coroutine, in sequence, in branches, in a loop, in a `try`.
const SEVERAL_CALLS: &str = r#"

async def cookie_not_carried(base):
    first = requests.get(base + "/set-cookie")
    second = requests.get(base + "/echo")
    return first.status_code, second.json()["cookie"]


async def chained(base, page=None):
    r = requests.get(base + "/echo", params={"page": page, "all": True})
    data = r.json()
    if data["method"] == "GET":
        r2 = requests.post(base + "/echo", json={"from": data["path"]})
        return json.loads(r2.json()["body"]), r2.json()["cookie"]
    return None


async def branches(base, new):
    if new:
        r = requests.post(base + "/echo", data="x=1")
    else:
        r = requests.put(base + "/echo", data="x=2")
    return r.json()["method"], r.json()["body"]


async def in_a_loop(base):
    seen = []
    requests.get(base + "/set-cookie")
    for sku in ("a", "b"):
        r = requests.get(base + "/echo", params={"sku": sku})
        seen.append((r.json()["path"], r.json()["cookie"]))
    return seen


async def later_raise(base):
    r = requests.get(base + "/status/503")
    code = None
    try:
        r.raise_for_status()
    except requests.HTTPError as error:
        code = error.response.status_code
    other = requests.get(base + "/echo")
    return "http error", code, other.json()["method"]


async def in_a_try(base):
    try:
        ok = requests.get(base + "/echo")
        requests.get(base + "/status/500").raise_for_status()
        return "no error", ok.status_code
    except requests.exceptions.HTTPError as error:
        return "http error", error.response.status_code


async def fallback(base):
    try:
        r = requests.get(base + "/status/500")
        r.raise_for_status()
        return "primary"
    except:
        r = requests.get(base + "/echo")
        return "fallback", r.json()["method"]


async def main():
    server, base = serve()
    print("fallback", await fallback(base))
    print("cookie_not_carried", await cookie_not_carried(base))
    print("chained", await chained(base))
    print("branches", await branches(base, True), await branches(base, False))
    print("in_a_loop", await in_a_loop(base))
    print("later_raise", await later_raise(base))
    print("in_a_try", await in_a_try(base))
    server.shutdown()


asyncio.run(main())
"#;

fn run(dir: &Path) -> String {
    let out = python(&test_python())
        .current_dir(dir)
        .args(["client.py"])
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    out.stdout
}

/// `program` before and after `fix --write` (with `args`) in a project that declares
/// `client`: (stdout before, stdout after, the rewritten source, the fix run's output).
fn migrate(program: &str, client: &str, args: &[&str]) -> (String, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("client.py"), program).unwrap();
    fs::write(
        dir.path().join("requirements.txt"),
        format!("requests\n{client}\n"),
    )
    .unwrap();
    let before = run(dir.path());
    let mut all = vec!["fix", "--write", "--no-cache"];
    all.extend_from_slice(args);
    all.push("client.py");
    let fix = unfreeze(dir.path(), &all).lossy().output();
    let fixed = fs::read_to_string(dir.path().join("client.py")).unwrap();
    // 1: findings left (a fix below the run's threshold).
    assert!(matches!(fix.code, Some(0 | 1)), "{}\n{fixed}", fix.show());
    let after = run(dir.path());
    (
        before,
        after,
        fixed,
        format!("{}{}", fix.stdout, fix.stderr),
    )
}

/// The text of the coroutine `name` in `source`, up to the next top-level line.
fn coroutine<'s>(source: &'s str, name: &str) -> &'s str {
    let start = source
        .find(&format!("async def {name}("))
        .unwrap_or_else(|| panic!("no {name}:\n{source}"));
    let rest = &source[start..];
    let end = rest[1..]
        .find("\n\n\n")
        .or_else(|| rest[1..].find("\nasync def"))
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

fn one_client_per_coroutine(client: &str) {
    let program = format!("{SERVER}{SEVERAL_CALLS}");
    let (before, after, fixed, _) = migrate(&program, client, &["--unsafe-fixes"]);
    // The original's own answers, so that a change of the server cannot hide a difference.
    for line in [
        "cookie_not_carried (200, None)",
        "chained ({'from': '/echo?all=True'}, None)",
        "branches ('POST', 'x=1') ('PUT', 'x=2')",
        "in_a_loop [('/echo?sku=a', None), ('/echo?sku=b', None)]",
        "later_raise ('http error', 503, 'GET')",
        "in_a_try ('http error', 500)",
        "fallback ('fallback', 'GET')",
    ] {
        assert!(before.contains(line), "{line}\n{before}");
    }
    assert!(!fixed.contains("requests.get("), "all migrated:\n{fixed}");
    for name in [
        "cookie_not_carried",
        "chained",
        "branches",
        "in_a_loop",
        "later_raise",
    ] {
        let body = coroutine(&fixed, name);
        assert_eq!(
            body.matches(&format!("async with {client}.AsyncClient("))
                .count(),
            1,
            "one client for the coroutine's calls:\n{body}"
        );
        assert_eq!(
            body.matches("follow_redirects").count(),
            0,
            "requests' defaults written once, not per client:\n{body}"
        );
    }
    // The client opens where the first call is made, around the smallest run of statements.
    assert!(
        coroutine(&fixed, "in_a_loop").contains(&format!(
            "    seen = []\n    async with {client}.AsyncClient(**_REQUESTS_DEFAULTS) as client:\n        await client.get(base + \"/set-cookie\")\n        for sku in"
        )),
        "{fixed}"
    );
    // A cookie is cleared before a call that may follow another, not in the other branch.
    assert!(
        coroutine(&fixed, "cookie_not_carried").contains(
            "        client.cookies.clear()  # as requests: no cookie kept from an earlier call\n        second = await client.get("
        ),
        "{fixed}"
    );
    assert!(
        !coroutine(&fixed, "branches").contains("cookies.clear()"),
        "{fixed}"
    );
    // A `try` whose bare `except` would swallow the cancellation of the new awaits gets its
    // `except asyncio.CancelledError: raise`, indented with the block.
    assert!(
        coroutine(&fixed, "fallback").contains(
            "            return \"primary\"\n        except asyncio.CancelledError:\n            raise\n        except:\n"
        ),
        "{fixed}"
    );
    // Lines a fix adds inside the block are indented with it.
    assert!(
        coroutine(&fixed, "later_raise").contains(
            "        try:\n            if r.is_error:\n                r.raise_for_status()\n"
        ),
        "{fixed}"
    );
    assert_eq!(after, before, "same results with {client}:\n{fixed}");
}

#[test]
fn several_calls_in_a_coroutine_share_one_httpx_client() {
    one_client_per_coroutine("httpx");
}

#[test]
fn several_calls_in_a_coroutine_share_one_httpx2_client() {
    one_client_per_coroutine("httpx2");
}

/// A module-level session shared by coroutines, its settings made at import, closed by a
/// lifespan function the program's app runs (FastAPI's shape, without FastAPI).
const SHARED_SESSION: &str = r#"
from contextlib import asynccontextmanager

SESSION = requests.Session()
SESSION.headers["X-Team"] = "inventory"
SESSION.auth = ("user", "secret")


class App:
    def __init__(self, lifespan):
        self.lifespan = lifespan

    async def serve(self, work):
        async with self.lifespan(self):
            return await work()


@asynccontextmanager
async def lifespan(app):
    print("startup")
    yield
    print("shutdown")


app = App(lifespan=lifespan)


def sync_status(url):
    return SESSION.get(url).status_code


async def fetch(base, sku):
    r = SESSION.get(base + "/echo", params={"sku": sku}, timeout=5)
    body = r.json()
    return body["path"], body["team"], body["auth"], body["agent"], body["cookie"]


async def login(base):
    r = SESSION.get(base + "/set-cookie")
    return r.status_code


async def work(base):
    first = await asyncio.gather(fetch(base, "a"), fetch(base, "b"))
    await login(base)
    return first, await fetch(base, "c")


async def main(base):
    print("results", await app.serve(lambda: work(base)))


server, base = serve()
asyncio.run(main(base))
print("sync", sync_status(base + "/echo"), sorted(SESSION.cookies.keys()))
asyncio.run(main(base))
server.shutdown()
"#;

fn shared_session(client: &str, lifespan: bool) {
    let mut program = format!("{SERVER}{SHARED_SESSION}");
    if !lifespan {
        program = program.replace("app = App(lifespan=lifespan)", "app = App(lifespan)");
    }
    let (before, after, fixed, notes) = migrate(&program, client, &["--unsafe-fixes"]);
    for line in [
        "results ([('/echo?sku=a', 'inventory', 'Basic dXNlcjpzZWNyZXQ=', 'python-requests', None), ('/echo?sku=b', 'inventory', 'Basic dXNlcjpzZWNyZXQ=', 'python-requests', None)], ('/echo?sku=c', 'inventory', 'Basic dXNlcjpzZWNyZXQ=', 'python-requests', 'token=abc'))",
        "sync 200 ['token']",
    ] {
        assert!(before.contains(line), "{line}\n{before}");
    }
    // Every coroutine's request goes through the one lazily made client; the sync one stays.
    assert_eq!(
        fixed.matches("await _async_session().get(").count(),
        2,
        "{fixed}"
    );
    assert!(
        fixed.contains("    return SESSION.get(url).status_code"),
        "{fixed}"
    );
    assert!(
        fixed.contains(&format!("        client = {client}.AsyncClient(\n")),
        "{fixed}"
    );
    assert!(
        fixed.contains("            headers=SESSION.headers,\n            cookies=SESSION.cookies,\n            auth=SESSION.auth,\n"),
        "the session's settings are carried to the client:\n{fixed}"
    );
    if lifespan {
        assert!(
            fixed.contains(
                "    yield\n    await _close_async_session()  # closes `SESSION`'s AsyncClient\n"
            ),
            "closed at shutdown:\n{fixed}"
        );
    } else {
        assert!(!fixed.contains("_close_async_session"), "{fixed}");
        assert!(
            notes.contains("so the client `_async_session()` makes is not closed"),
            "{notes}"
        );
    }
    assert!(
        !notes.contains("User-Agent"),
        "requests' User-Agent is kept:\n{notes}"
    );
    assert_eq!(after, before, "same results with {client}:\n{fixed}");
}

#[test]
fn a_module_level_session_becomes_one_lazily_made_httpx_client_closed_by_the_lifespan() {
    shared_session("httpx", true);
}

#[test]
fn a_module_level_session_becomes_one_lazily_made_httpx2_client_closed_by_the_lifespan() {
    shared_session("httpx2", true);
}

#[test]
fn a_module_level_session_without_a_shutdown_point_says_its_client_stays_open() {
    shared_session("httpx2", false);
}

/// A lone requests call, and a call on a module-level session, in coroutines that run at once.
const LONE_CALL: &str = r#"

SESSION = requests.Session()


async def lone(base):
    r = requests.get(base + "/echo", params={"q": "1"})
    return r.json()["path"]


async def shared(base):
    return SESSION.get(base + "/echo").json()["method"]


async def main():
    server, base = serve()
    print(await asyncio.gather(lone(base), shared(base)))
    server.shutdown()


asyncio.run(main())
"#;

/// Without `--unsafe-fixes`, the lone call's fix is the worker-thread one-liner (the call and
/// its arguments unchanged), and the shared session's call keeps no fix (a `Session` used from
/// several threads at once is not known to be safe); with it, both migrate.
#[test]
fn a_lone_call_is_first_moved_to_a_thread_and_migrated_only_with_unsafe_fixes() {
    let program = format!("{SERVER}{LONE_CALL}");
    let (before, after, fixed, notes) = migrate(&program, "httpx2", &[]);
    assert!(before.contains("['/echo?q=1', 'GET']"), "{before}");
    assert!(
        fixed.contains(
            "    r = await asyncio.to_thread(requests.get, base + \"/echo\", params={\"q\": \"1\"})\n"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains("    return SESSION.get(base + \"/echo\").json()[\"method\"]\n"),
        "{fixed}"
    );
    assert!(!fixed.contains("httpx2"), "{fixed}");
    assert!(
        notes.contains("1 unsafe fix changes behaviour in a stated way"),
        "{notes}"
    );
    assert_eq!(after, before, "{fixed}");

    let (before, after, fixed, _) = migrate(&program, "httpx2", &["--unsafe-fixes"]);
    assert!(
        fixed.contains("        r = await client.get(")
            && fixed.contains(
                "    return (await _async_session().get(base + \"/echo\")).json()[\"method\"]\n"
            ),
        "{fixed}"
    );
    assert_eq!(after, before, "{fixed}");
}

/// Form fields with `None` and booleans, in sight and out of it, a str body, and streamed lines.
const FORMS_AND_LINES: &str = r#"

async def form_in_sight(base):
    r = requests.post(base + "/echo", data={"a": "1", "b": None, "c": True, "d": 2.5})
    return r.json()["body"], r.json()["type"]


async def form_out_of_sight(base, form):
    r = requests.post(base + "/echo", data=form)
    return r.json()["body"], r.json()["type"]


async def form_dumped(base, n):
    r = requests.post(base + "/echo", data=json.dumps({"n": n}))
    f = requests.post(base + "/echo", data=f"n={n}")
    return r.json()["body"], r.json()["type"], f.json()["body"]


async def lines_default(base):
    got = []
    with requests.get(base + "/lines", stream=True) as r:
        for line in r.iter_lines():
            got.append(line)
    return got


async def lines_small_chunks(base):
    got = []
    with requests.get(base + "/lines", stream=True) as r:
        for line in r.iter_lines(4):
            got.append(line)
    return got


async def lines_delimited(base):
    got = []
    with requests.get(base + "/lines", stream=True) as r:
        for line in r.iter_lines(chunk_size=3, delimiter=b"\n"):
            got.append(line)
    return got


async def main():
    server, base = serve()
    print("form_in_sight", await form_in_sight(base))
    print("form_dict", await form_out_of_sight(base, {"a": [1, None, "x"], "b": None, "c": False}))
    print("form_pairs", await form_out_of_sight(base, [("a", "1"), ("b", None), ("a", True)]))
    print("form_str", await form_out_of_sight(base, "x=1&y=2"))
    print("form_bytes", await form_out_of_sight(base, b"raw"))
    print("form_dumped", await form_dumped(base, 2))
    print("lines_default", await lines_default(base))
    print("lines_small_chunks", await lines_small_chunks(base))
    print("lines_delimited", await lines_delimited(base))
    server.shutdown()


asyncio.run(main())
"#;

fn forms_and_lines(client: &str) {
    let program = format!("{SERVER}{FORMS_AND_LINES}");
    let (before, after, fixed, _) = migrate(&program, client, &["--unsafe-fixes"]);
    for line in [
        "form_in_sight ('a=1&c=True&d=2.5', 'application/x-www-form-urlencoded')",
        "form_dict ('a=1&a=x&c=False', 'application/x-www-form-urlencoded')",
        "form_str ('x=1&y=2', None)",
        "form_bytes ('raw', None)",
        "form_dumped ('{\"n\": 2}', None, 'n=2')",
        "lines_default [b'one', b'two', b'', b'three', b'four']",
    ] {
        assert!(before.contains(line), "{line}\n{before}");
    }
    assert!(
        fixed.contains("data={\"a\": \"1\", \"c\": \"True\", \"d\": 2.5}"),
        "the fields in sight written as requests sends them:\n{fixed}"
    );
    assert!(fixed.contains("data=_form_fields(form)"), "{fixed}");
    assert!(
        fixed.contains("content=json.dumps({\"n\": n})") && fixed.contains("content=f\"n={n}\""),
        "a str body is `content=`:\n{fixed}"
    );
    assert!(
        fixed.contains("async for line in _iter_lines(r.aiter_bytes(512)):")
            && fixed.contains("async for line in _iter_lines(r.aiter_bytes(4)):")
            && fixed.contains("async for line in _iter_lines(r.aiter_bytes(3), b\"\\n\"):"),
        "{fixed}"
    );
    assert!(!fixed.contains("requests.get("), "{fixed}");
    assert_eq!(after, before, "same results with {client}:\n{fixed}");
}

#[test]
fn form_fields_and_streamed_lines_are_kept_with_httpx() {
    forms_and_lines("httpx");
}

#[test]
fn form_fields_and_streamed_lines_are_kept_with_httpx2() {
    forms_and_lines("httpx2");
}
