//! The project phase end to end, on the multi-module fixture projects under
//! `tests/fixtures/projects/`: every transitive chain is found with its evidence (UNF401),
//! coroutine functions of other modules called without `await` are found (UNF301), what must
//! not be reported is not (generators, cycles without a blocking call, sync callers, calls
//! already in a thread), the fixes apply, the result parses, and a second run changes nothing.

mod common;

use std::fs;
use std::path::Path;

use common::{project, python, test_python, unfreeze};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

/// A copy of a fixture project in a temporary directory, to fix in place.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut pending = vec![fixture(name)];
    while let Some(from) = pending.pop() {
        for entry in fs::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(fixture(name)).unwrap();
            if path.is_dir() {
                fs::create_dir_all(dir.path().join(relative)).unwrap();
                pending.push(path);
            } else {
                fs::copy(&path, dir.path().join(relative)).unwrap();
            }
        }
    }
    dir
}

/// The `path:row:col: CODE message` lines of text output.
fn finding_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| {
            let mut parts = line.splitn(3, ':');
            parts.next().is_some_and(|p| p.ends_with(".py"))
                && parts.next().is_some_and(|p| p.parse::<u32>().is_ok())
        })
        .map(str::to_owned)
        .collect()
}

/// Run unfreeze in `dir` with the parse log on (`UNFREEZE_DEBUG_PARSED`): its stdout, and
/// one `path\tbytes\twhy\tleft-out-bytes` entry per parse. Without the result cache: every
/// run parses what a first run does.
fn run_logging_parses(dir: &Path, args: &[&str]) -> (String, Vec<String>) {
    let mut output = unfreeze(dir, args)
        .arg("--no-cache")
        .env("UNFREEZE_DEBUG_PARSED", "1")
        .output();
    let parses = output.take_parse_log();
    (output.stdout, parses)
}

/// The bytes the parse of `file` left out, from [`run_logging_parses`]'s lines.
fn bytes_left_out(parses: &[String], file: &str) -> usize {
    let entry = parses.iter().find(|p| p.contains(file)).unwrap();
    entry.rsplit('\t').next().unwrap().parse().unwrap()
}

fn check(dir: &Path) -> Vec<String> {
    let output = unfreeze(
        dir,
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--color=never",
            "--select",
            "UNF3,UNF4",
            ".",
        ],
    )
    .output();
    assert_ne!(output.code, Some(2), "{}", output.show());
    finding_lines(&output.stdout)
}

/// Fix with unsafe fixes, then: the files parse with CPython, and a second run finds and
/// changes nothing.
fn fix_converges(dir: &Path) {
    let args = [
        "fix",
        "--isolated",
        "--color=never",
        "--select",
        "UNF3,UNF4",
        "--write",
        "--unsafe-fixes",
        ".",
    ];
    let first = unfreeze(dir, &args).output();
    assert_eq!(first.code, Some(0), "{}", first.show());
    let parsed = python(&test_python())
        .current_dir(dir)
        .args(["-m", "compileall", "-q", "."])
        .output();
    assert_eq!(
        parsed.code,
        Some(0),
        "the fixed project does not compile\n{}",
        parsed.show()
    );
    assert_eq!(check(dir), Vec::<String>::new());
    let before = contents(dir);
    let second = unfreeze(dir, &args).output();
    assert_eq!(second.code, Some(0), "{}", second.show());
    assert_eq!(contents(dir), before, "the second run changed files");
}

/// Every Python file under `dir` with its text, sorted.
fn contents(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                let text = fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn chains_across_modules_are_found_with_their_evidence() {
    let dir = fixture("chains");
    assert_eq!(
        check(&dir),
        [
            "app/api.py:9:15: UNF401 [*] `load_profile(...)` blocks the event loop in async function `handler`: handler -> load_profile -> fetch_json -> requests.get (blocking call at app/net.py:7)",
            "app/api.py:10:14: UNF401 [*] `load_avatar(...)` blocks the event loop in async function `handler`: handler -> load_avatar -> backoff -> time.sleep (blocking call at app/net.py:11)",
            "app/api.py:15:5: UNF301 `record(...)` creates a coroutine that is never awaited in async function `handler`: its body never runs",
            "app/api.py:22:5: UNF401 [*] `app.net.retry_forever(...)` blocks the event loop in async function `poller`: poller -> retry_forever -> backoff -> time.sleep (blocking call at app/net.py:11)",
            "app/api.py:23:12: UNF401 [*] `retry_forever(...)` blocks the event loop in async function `poller`: poller -> retry_forever -> backoff -> time.sleep (blocking call at app/net.py:11)",
            "app/profiles.py:24:9: UNF401 [*] `self.save_all(...)` blocks the event loop in async function `store`: store -> Repo.save_all -> Repo.save -> builtins.open (blocking call at app/profiles.py:16)",
            "app/profiles.py:30:9: UNF301 `self.flush(...)` creates a coroutine that is never awaited in async function `close`: its body never runs",
        ]
    );
}

#[test]
fn src_layouts_namespace_packages_reexports_and_instances_resolve() {
    let dir = fixture("layouts");
    assert_eq!(
        check(&dir),
        [
            "plugins/billing/hooks.py:5:5: UNF401 [*] `render_pdf(...)` blocks the event loop in async function `on_paid`: on_paid -> render_pdf -> subprocess.run (blocking call at plugins/billing/invoice.py:6)",
            "src/shop/service.py:8:5: UNF401 [*] `orders.persist_order(...)` blocks the event loop in async function `place`: place -> persist -> sqlite3.connect (blocking call at src/shop/orders/store.py:5)",
            "src/shop/service.py:9:5: UNF401 [*] `persist_order(...)` blocks the event loop in async function `place`: place -> persist -> sqlite3.connect (blocking call at src/shop/orders/store.py:5)",
            "src/shop/service.py:10:5: UNF301 `notify(...)` creates a coroutine that is never awaited in async function `place`: its body never runs",
            "src/shop/service.py:11:12: UNF301 `notify(...)` creates a coroutine that is never awaited in async function `place`: its body never runs",
            "src/shop/service.py:12:5: UNF401 [*] `Invoicer().render(...)` blocks the event loop in async function `place`: place -> Invoicer.render -> render_pdf -> subprocess.run (blocking call at plugins/billing/invoice.py:6)",
            "src/shop/service.py:18:9: UNF401 [*] `helper.render(...)` blocks the event loop in async function `run`: run -> Invoicer.render -> render_pdf -> subprocess.run (blocking call at plugins/billing/invoice.py:6)",
        ]
    );
}

#[test]
fn fixing_a_project_converges_and_keeps_it_compiling() {
    let layouts = copy_of("layouts");
    fix_converges(layouts.path());
    let dir = copy_of("chains");
    fix_converges(dir.path());
    let api = fs::read_to_string(dir.path().join("app/api.py")).unwrap();
    for expected in [
        "profile = await asyncio.to_thread(load_profile, request.user_id)",
        "await record({\"path\": request.path})",
        "return await asyncio.to_thread(retry_forever, url)",
        // Untouched: not blocking, a generator, an async generator, sync code.
        "doubled = pure(2)\n    ping_pong(3)",
        "for line in lines(\"x\"):",
        "    stream()\n",
        "    return load_profile(request.user_id)",
    ] {
        assert!(api.contains(expected), "{expected}\n---\n{api}");
    }
}

#[test]
fn only_the_paths_given_are_the_project() {
    // Checking one module alone: its imports of the rest are outside the project, unknown.
    let dir = fixture("chains");
    let output = unfreeze(
        &dir,
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--color=never",
            "--select",
            "UNF4",
            "app/api.py",
        ],
    )
    .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
}

#[test]
fn stdin_is_a_project_of_one_file() {
    let source = "import time\n\ndef nap():\n    time.sleep(1)\n\nasync def main():\n    nap()\n";
    let stdout = unfreeze(
        Path::new("."),
        &["check", "--isolated", "--color=never", "-"],
    )
    .stdin(source)
    .output()
    .stdout;
    assert!(
        stdout.contains("UNF401 [*] `nap(...)` blocks the event loop in async function `main`: main -> nap -> time.sleep (blocking call at -:4)"),
        "{stdout}"
    );
}

#[test]
fn nested_project_calls_are_fixed_in_one_run() {
    // `store(load(key))`: one hop runs both (issue 20: the nested second hop was the bug), so
    // a second run has nothing left to do.
    let dir = common::project(&[
        (
            "helpers.py",
            b"import time\n\n\ndef load(key):\n    time.sleep(0.1)\n    return key\n\n\ndef store(value):\n    time.sleep(0.1)\n",
        ),
        (
            "app.py",
            b"from helpers import load, store\n\n\nasync def handler(key):\n    store(load(key))\n",
        ),
    ]);
    let args = ["fix", "--isolated", "--write", "--select", "UNF4", "."];
    let first = unfreeze(dir.path(), &args).output();
    assert_eq!(first.code, Some(0), "{}", first.show());
    let app = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        app.contains("await asyncio.to_thread(lambda: store(load(key)))"),
        "{app}"
    );
    let before = contents(dir.path());
    let second = unfreeze(dir.path(), &args).output();
    assert_eq!(second.code, Some(0), "{}", second.show());
    assert_eq!(contents(dir.path()), before);
}

#[test]
fn a_helper_the_tokenizer_cannot_follow_is_still_summarised() {
    // The lexical pass cannot follow `net.py` (an unclosed bracket at its end): the file is
    // parsed and summarised precisely instead, and the chain through it is still found.
    let dir = project(&[
        ("app/__init__.py", b""),
        (
            "app/net.py",
            b"import time\n\n\ndef nap():\n    time.sleep(1)\n\n\nBROKEN = (1,\n",
        ),
        (
            "app/api.py",
            b"from .net import nap\n\n\nasync def handler():\n    nap()\n",
        ),
    ]);
    let lines = check(dir.path());
    // The syntax error is reported too (issue 26: until then it was not, ruff reports it).
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("UNF401") && lines[0].contains("handler -> nap -> time.sleep"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("app/net.py:8:1: SyntaxError: "),
        "{lines:?}"
    );
}

#[test]
fn files_the_project_rules_cannot_need_are_not_parsed() {
    // `UNFREEZE_DEBUG_PARSED` logs each parse: the coroutine's file and the helper chain are
    // parsed, a module of the same package that no coroutine reaches is not, nor a coroutine
    // that only awaits.
    let dir = project(&[
        ("app/__init__.py", b""),
        (
            "app/net.py",
            b"import requests\n\n\ndef fetch(u):\n    return requests.get(u)\n",
        ),
        (
            "app/helpers.py",
            b"from .net import fetch\n\n\ndef load(u):\n    return fetch(u)\n",
        ),
        (
            "app/api.py",
            b"from .helpers import load\n\n\nasync def handler(u):\n    return load(u)\n",
        ),
        (
            "app/unrelated.py",
            b"import json\n\n\ndef encode(x):\n    return json.dumps(x)\n",
        ),
        (
            "app/awaits.py",
            b"async def other(session, u):\n    return await session.get(u)\n",
        ),
    ]);
    let (stdout, parses) =
        run_logging_parses(dir.path(), &["check", "--isolated", "--color=never", "."]);
    assert!(
        stdout.contains("handler -> load -> fetch -> requests.get"),
        "{stdout}"
    );
    let parsed: Vec<&str> = parses
        .iter()
        .filter_map(|line| line.split('\t').next())
        .collect();
    for needed in ["api.py", "helpers.py", "net.py"] {
        assert!(
            parsed.iter().any(|path| path.ends_with(needed)),
            "{needed} not parsed: {parses:?}"
        );
    }
    for skipped in ["unrelated.py", "awaits.py"] {
        assert!(
            !parsed.iter().any(|path| path.ends_with(skipped)),
            "{skipped} parsed: {parses:?}"
        );
    }
}

#[test]
fn namespace_directories_resolve_without_a_root_naming_them() {
    // Run from above `svc-1` (not an identifier, so the root names nothing): `app/util/`
    // has no `__init__.py` but sits inside the package `app`, so it is `app.util.io`, and
    // `vendor/` (a top-level namespace package) is importable as `vendor.tools`.
    let dir = project(&[
        ("svc-1/app/__init__.py", b""),
        (
            "svc-1/app/util/io.py",
            b"def load(path):\n    with open(path) as f:\n        return f.read()\n",
        ),
        ("svc-1/vendor/tools/__init__.py", b"import time\n\n\ndef nap():\n    time.sleep(1)\n"),
        (
            "svc-1/app/api.py",
            b"from app.util.io import load\nfrom vendor.tools import nap\n\n\nasync def handler(path):\n    nap()\n    return load(path)\n",
        ),
    ]);
    let lines = check(dir.path());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("handler -> nap -> time.sleep")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("handler -> load -> builtins.open")),
        "{lines:?}"
    );
}

#[test]
fn parses_leave_out_the_function_bodies_that_cannot_matter() {
    // `api.py` has project findings only, `helpers.py` is summarised because `api.py` calls
    // into it: in check mode their parses leave out the bodies of `render` and `Cache.get`
    // (nothing in them can block or reach a coroutine) and keep the others, with the same
    // findings as whole parses; fix mode too.
    let helpers = "import time\n\n\ndef load(key):\n    time.sleep(0.1)\n    return key\n\n\ndef render(rows):\n    out = []\n    for row in rows:\n        out.append(str(row))\n    return out\n\n\nclass Cache:\n    def __init__(self):\n        self.data = {}\n\n    def get(self, key):\n        return self.data.get(key)\n\n\ndef numbers():\n    yield 1\n";
    let api = "from .helpers import load, render\n\n\nasync def handler(key):\n    rows = render([key])\n    return load(rows)\n";
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/helpers.py", helpers.as_bytes()),
        ("app/api.py", api.as_bytes()),
    ]);
    let between = |from: &str, to: &str| helpers.find(to).unwrap() - helpers.find(from).unwrap();
    let expected = between("out = []", "class Cache") + between("return self.data", "def numbers");
    let (stdout, parses) =
        run_logging_parses(dir.path(), &["check", "--isolated", "--color=never", "."]);
    assert_eq!(
        bytes_left_out(&parses, "helpers.py"),
        expected,
        "{parses:?}"
    );
    // `handler`'s body reaches `load`: kept.
    assert_eq!(bytes_left_out(&parses, "api.py"), 0, "{parses:?}");
    let lines = finding_lines(&stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(":6:12: UNF401") && lines[0].contains("handler -> load -> time.sleep"),
        "{lines:?}"
    );
    let (diff, parses) = run_logging_parses(
        dir.path(),
        &["fix", "--isolated", "--color=never", "--unsafe-fixes", "."],
    );
    assert_eq!(
        bytes_left_out(&parses, "helpers.py"),
        expected,
        "{parses:?}"
    );
    assert!(
        diff.contains("+    return await asyncio.to_thread(load, rows)"),
        "{diff}"
    );
}

#[test]
fn a_file_with_findings_of_its_own_is_parsed_without_the_bodies_its_rules_cannot_read() {
    // `api.py` has a finding of its own: its parse keeps the coroutine and leaves out
    // `render`, in check and in fix mode, with the finding and fix of a whole parse.
    // `client.py` names `requests`: a session on `self` is fixed only if every use of the
    // attribute allows it, so every body is parsed.
    let api = "import time\n\n\nasync def handler(key):\n    time.sleep(1)\n    return render([key])\n\n\ndef render(rows):\n    out = []\n    for row in rows:\n        out.append(str(row))\n    return out\n";
    let client = "import requests\n\n\nclass Api:\n    def __init__(self):\n        self.session = requests.Session()\n\n    def close(self):\n        self.session.close()\n\n    async def fetch(self, url):\n        return self.session.get(url)\n";
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/api.py", api.as_bytes()),
        ("app/client.py", client.as_bytes()),
    ]);
    let render = api.len() - api.find("out = []").unwrap();
    let (stdout, parses) =
        run_logging_parses(dir.path(), &["check", "--isolated", "--color=never", "."]);
    assert_eq!(bytes_left_out(&parses, "api.py"), render, "{parses:?}");
    assert_eq!(bytes_left_out(&parses, "client.py"), 0, "{parses:?}");
    let lines = finding_lines(&stdout);
    assert!(
        lines.iter().any(|l| l.contains("api.py:5:5: ASYNC251")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("client.py:12:16: ASYNC210")),
        "{lines:?}"
    );
    let (diff, parses) = run_logging_parses(
        dir.path(),
        &["fix", "--isolated", "--color=never", "--unsafe-fixes", "."],
    );
    assert_eq!(bytes_left_out(&parses, "api.py"), render, "{parses:?}");
    assert!(diff.contains("+    await asyncio.sleep(1)"), "{diff}");
    // A synchronous method closes the session, which an `AsyncClient` cannot do: the
    // session stays, and the request goes to a thread.
    assert!(!diff.contains("AsyncClient"), "{diff}");
    assert!(
        diff.contains("+        return await asyncio.to_thread(self.session.get, url)"),
        "{diff}"
    );
}

#[test]
fn a_file_with_project_findings_is_parsed_once() {
    // The first pass analyses the project calls under each outcome before the settling
    // chooses: `api.py` (a blocking chain, an un-awaited coroutine, a per-file finding and an
    // awaited coroutine that is none) is parsed once, in check and in fix mode, and its
    // findings and fixes are those of the settled project.
    let dir = project(&[
        ("app/__init__.py", b""),
        (
            "app/helpers.py",
            b"import time\n\n\ndef load(key):\n    time.sleep(0.1)\n    return key\n\n\nasync def notify(key):\n    return key\n\n\ndef pure(key):\n    return key\n",
        ),
        (
            "app/api.py",
            b"import time\n\nfrom .helpers import load, notify, pure\n\n\nasync def handler(key):\n    notify(key)\n    await notify(key)\n    time.sleep(1)\n    pure(key)\n    return load(key)\n",
        ),
    ]);
    // The parses of `api.py`.
    let run = |args: &[&str]| {
        let (stdout, parses) = run_logging_parses(dir.path(), args);
        let api: Vec<String> = parses
            .into_iter()
            .filter(|p| p.contains("api.py"))
            .collect();
        (stdout, api)
    };
    let (stdout, parses) = run(&["check", "--isolated", "--color=never", "."]);
    assert_eq!(parses.len(), 1, "{parses:?}");
    let lines = finding_lines(&stdout);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains(":7:5: UNF301")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(":9:5: ASYNC251")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":11:12: UNF401") && l.contains("handler -> load -> time.sleep")),
        "{lines:?}"
    );
    // Fix mode parses the file once to analyse it; the parses after are the fixes' checks.
    let (diff, parses) = run(&["fix", "--isolated", "--color=never", "--unsafe-fixes", "."]);
    assert!(parses[0].contains("\tanalyse+summarise\t"), "{parses:?}");
    assert!(
        !parses.iter().any(|p| p.contains("\tproject-calls\t")),
        "{parses:?}"
    );
    assert!(
        diff.contains("+    return await asyncio.to_thread(load, key)"),
        "{diff}"
    );
    assert!(diff.contains("+    await asyncio.sleep(1)"), "{diff}");
}
