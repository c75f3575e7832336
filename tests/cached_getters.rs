//! A project function whose blocking runs only on its first call (issue 20, session 18;
//! reviewer K: telegram-bot-v3's `get_settings` / `get_user_interaction_logger` /
//! `UserInteractionLogger()`, LlamaLinguist's `Logger.debug`; reviewer L: nextcloud's
//! `get_provider()`): a cached function taking no parameters (`@functools.lru_cache`,
//! `@functools.cache`), a lazy getter behind a module global it sets
//! (`global _x; if _x is None: _x = load()`), a classmethod behind a class attribute it sets
//! (through a method of the class too), and what blocks only through one of them, keep their
//! finding with no thread hop and a reason. A cache keyed by parameters, a test of `self.x`,
//! or blocking work outside the guard keeps the hop. `check` and `fix` agree; the rewritten
//! program runs with the test Python and prints what the original printed.

mod common;

use common::{project, python, test_python, unfreeze_in};

const ONCE: &str = "blocks only on its first call";

/// `check --isolated` of the files, as printed.
fn check(files: &[(&str, &str)]) -> String {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, s)| (*n, s.as_bytes())).collect();
    let dir = project(&files);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    out.stdout
}

/// The 1-based line of the first line of `source` containing `needle`.
fn line_of(source: &str, needle: &str) -> u32 {
    source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?}")) as u32
        + 1
}

/// The first line of the finding at `app.py:<line>:` and its `fix:` (`unsafe fix:`, `no
/// fix:`) line.
fn verdict(out: &str, line: u32) -> String {
    let start = format!("app.py:{line}:");
    let mut lines = out.lines().skip_while(|l| !l.starts_with(&start));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no finding at {start} in\n{out}"));
    let tail = lines
        .take_while(|l| !l.starts_with("app.py:"))
        .find(|l| l.contains("fix:"))
        .unwrap_or_default();
    format!("{head}\n{tail}")
}

const GETTERS: &str = r#"import asyncio
import functools
import json

_settings = None


def load_settings():
    with open("settings.json") as f:
        return json.load(f)


def get_settings():
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


@functools.lru_cache
def get_config():
    with open("settings.json") as f:
        return json.load(f)


@functools.cache
def get_limit():
    return get_config()["limit"]


def limit():
    return get_settings()["limit"]


class Logger:
    _file = None

    @classmethod
    def _setup(cls):
        cls._file = open("app.log", "a")

    @classmethod
    def _ensure(cls):
        if cls._file is None:
            cls._setup()

    @classmethod
    def info(cls, message):
        cls._ensure()
        return message


async def handler():
    a = get_settings()
    b = get_config()
    c = get_limit()
    d = limit()
    Logger.info("x")
    return a, b, c, d
"#;

#[test]
fn once_only_getters_keep_the_finding_without_a_hop() {
    let out = check(&[("app.py", GETTERS)]);
    let first = line_of(GETTERS, "a = get_settings()");
    for line in first..first + 5 {
        let verdict = verdict(&out, line);
        assert!(verdict.contains("no fix:"), "{verdict}\n{out}");
        assert!(verdict.contains(ONCE), "{verdict}");
        assert!(!verdict.contains("[*]"), "{verdict}");
    }
    assert!(
        verdict(&out, first).contains("module global `_settings`"),
        "{out}"
    );
    assert!(
        verdict(&out, first + 1).contains("cached by `functools.lru_cache`"),
        "{out}"
    );
    assert!(
        verdict(&out, first + 3).contains("`limit()` blocks only through `get_settings()`"),
        "{out}"
    );
    assert!(
        verdict(&out, first + 4).contains("class attribute `cls._file`"),
        "{out}"
    );
}

const NOT_ONCE: &str = r#"import asyncio
import functools
import json

_cache = None
_other = None


@functools.lru_cache(maxsize=None)
def get_user(name):
    with open(f"{name}.json") as f:
        return json.load(f)


def reload_always():
    global _cache
    if _cache is None:
        _cache = {}
    with open("settings.json") as f:
        _cache.update(json.load(f))
    return _cache


def sets_another():
    global _cache, _other
    if _cache is None:
        _other = open("settings.json").read()
    return _other


class Service:
    def __init__(self):
        self._data = None

    def data(self):
        if self._data is None:
            self._data = open("settings.json").read()
        return self._data


async def handler(service: Service):
    a = get_user("bob")
    b = reload_always()
    c = sets_another()
    d = service.data()
    return a, b, c, d
"#;

#[test]
fn caches_keyed_by_arguments_instances_and_work_outside_the_guard_keep_the_hop() {
    let out = check(&[("app.py", NOT_ONCE)]);
    let first = line_of(NOT_ONCE, "a = get_user(");
    for line in first..first + 4 {
        let verdict = verdict(&out, line);
        assert!(
            verdict.contains("fix: Run it in a worker thread") && !verdict.contains("no fix:"),
            "a hop is offered:\n{verdict}\n{out}"
        );
        assert!(!verdict.contains(ONCE), "{verdict}");
    }
}

/// The getter in another module, its callers in this one: the settling carries the verdict.
#[test]
fn a_lazy_getter_of_another_module_is_once_only_too() {
    let config = "import json\n\n_provider = None\n\n\ndef get_provider():\n    \
                  global _provider\n    if not _provider:\n        \
                  _provider = json.load(open(\"settings.json\"))\n    return _provider\n";
    let app = "from config import get_provider\n\n\nasync def search(q):\n    \
               provider = get_provider()\n    return provider[q]\n";
    let out = check(&[("config.py", config), ("app.py", app)]);
    let verdict = verdict(&out, line_of(app, "get_provider()"));
    assert!(verdict.contains("no fix:"), "{out}");
    assert!(
        verdict.contains("`get_provider()` blocks only on its first call"),
        "{verdict}"
    );
}

/// A coroutine app with a cached getter and a per-call read: `check` offers one fix, `fix
/// --write --unsafe-fixes` moves only that one, and the program prints what it printed.
const APP: &str = r#"import asyncio
import json

_settings = None


def get_settings():
    global _settings
    if _settings is None:
        with open("settings.json") as f:
            _settings = json.load(f)
    return _settings


def read_note(name):
    with open(name) as f:
        return f.read().strip()


async def handle(i):
    settings = get_settings()
    note = read_note("note.txt")
    return f"{settings['greeting']} {note} {i}"


async def main():
    results = await asyncio.gather(handle(1), handle(2))
    print("\n".join(results))


asyncio.run(main())
"#;

#[test]
fn a_cached_getter_in_a_coroutine_app_keeps_running_after_the_fix() {
    let dir = project(&[
        ("app.py", APP.as_bytes()),
        ("settings.json", br#"{"greeting": "hello"}"#),
        ("note.txt", b"world\n"),
    ]);
    let run = || {
        python(&test_python())
            .current_dir(dir.path())
            .arg("app.py")
            .output()
    };
    let before = run();
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "app.py"]);
    let fixable: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.starts_with("app.py:") && l.contains("[*]"))
        .collect();
    assert_eq!(fixable.len(), 1, "{}", check.stdout);
    let note = line_of(APP, "note = read_note(");
    assert!(
        fixable[0].starts_with(&format!("app.py:{note}:")),
        "{}",
        check.stdout
    );
    assert!(
        verdict(&check.stdout, note - 1).contains(ONCE),
        "{}",
        check.stdout
    );
    let fix = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--isolated",
            "--no-cache",
            "app.py",
        ],
    );
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        fixed.contains("settings = get_settings()\n"),
        "the getter stays:\n{fixed}\n{}",
        fix.show()
    );
    assert!(
        fixed.contains("await asyncio.to_thread(read_note, \"note.txt\")"),
        "{fixed}"
    );
    let after = run();
    assert_eq!(after.code, Some(0), "{}\n{fixed}", after.stderr);
    assert_eq!(after.stdout, before.stdout);
    assert_eq!(after.stdout.trim(), "hello world 1\nhello world 2");
    // A second `fix` proposes nothing, and `check` still reports the getter, without a fix.
    let again = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "app.py"]);
    assert!(!again.stdout.contains("[*]"), "{}", again.stdout);
    assert!(again.stdout.contains(ONCE), "{}", again.stdout);
}
