//! Blocking chains that run only under a parameter test, proven by running the programs with
//! CPython before and after `unfreeze fix --write --unsafe-fixes`: a helper whose `open()`
//! runs only when `markers is None` is not reported, nor moved to a worker thread, where its
//! callers pass markers (by keyword, by position, through a module constant, through a
//! helper that passes its own parameter on); a caller that leaves them out still gets the
//! finding and its fix, and the program gives the same result.

mod common;

use std::fs;
use std::path::Path;

use common::{project, test_python, unfreeze_in};

/// Run `main.py` in `dir`; its stdout (it must succeed).
fn run_main(dir: &Path) -> String {
    let output = common::python(&test_python())
        .arg("main.py")
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "main.py failed:\n{}", output.show());
    output.stdout
}

/// `unfreeze fix --write --unsafe-fixes .`
fn fix(dir: &Path) -> common::Output {
    unfreeze_in(
        dir,
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    )
}

/// The markers are read from a file only when the caller passes none; `classify` passes its
/// own parameter on, by position.
const GUARDED_HELPERS: &str = r#"def read_markers():
    with open("markers.txt") as f:
        return f.read().split()


def is_marked(text, markers=None):
    if markers is None:
        markers = read_markers()
    return any(m in text for m in markers)


def classify(texts, *, markers=None):
    return [t for t in texts if is_marked(t, markers)]
"#;

const GUARDED_MAIN: &str = r#"import asyncio

from helpers import classify, is_marked

PINNED = ("x",)


async def with_markers():
    return classify(["a x", "b"], markers=["x"])


async def with_pinned():
    return classify(["a x", "b"], markers=PINNED)


async def positional():
    return is_marked("a x", ["x"])


async def without_markers():
    return classify(["a x", "b y"])


async def main():
    results = await asyncio.gather(
        with_markers(), with_pinned(), positional(), without_markers()
    )
    print(results)


asyncio.run(main())
"#;

#[test]
fn a_helper_called_with_markers_is_not_moved_and_one_called_without_is() {
    let dir = project(&[
        ("helpers.py", GUARDED_HELPERS.as_bytes()),
        ("main.py", GUARDED_MAIN.as_bytes()),
        ("markers.txt", b"y\n"),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "[['a x'], ['a x'], True, ['b y']]\n");
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    // Only the call that leaves the markers out reaches `open()`.
    assert!(
        check.stdout.contains(
            "main.py:21:12: UNF401 [*] `classify(...)` blocks the event loop in async function \
             `without_markers`: without_markers -> classify -> is_marked -> read_markers -> \
             builtins.open"
        ),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains("Found 1 finding"), "{}", check.show());
    let fixed = fix(dir.path());
    assert_eq!(fixed.code, Some(0), "{}", fixed.show());
    let main = fs::read_to_string(dir.path().join("main.py")).unwrap();
    // The calls passing markers are as they were: no thread hop for a branch never taken.
    for kept in [
        "    return classify([\"a x\", \"b\"], markers=[\"x\"])\n",
        "    return classify([\"a x\", \"b\"], markers=PINNED)\n",
        "    return is_marked(\"a x\", [\"x\"])\n",
    ] {
        assert!(main.contains(kept), "`{kept}` not in:\n{main}");
    }
    // The call that reads the file moves to a worker thread.
    assert!(
        main.contains("    return await asyncio.to_thread(classify, [\"a x\", \"b y\"])\n"),
        "{main}"
    );
    assert_eq!(run_main(dir.path()), before);
    // A second run proposes nothing.
    let again = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    assert_eq!(again.code, Some(0), "{}", again.show());
}

/// What is not known to be passed keeps the finding: `None`, a falsy value for a test of
/// falsiness, a coroutine's own parameter, a name also bound to `None`, a parameter rebound
/// before its test.
#[test]
fn arguments_not_known_to_be_passed_keep_the_finding() {
    let helpers = r#"def read_markers():
    with open("markers.txt") as f:
        return f.read().split()


def falsy(markers=None):
    markers = markers or read_markers()
    return markers


def rebound(text, markers=None):
    markers = text.split() if text else markers
    if markers is None:
        markers = read_markers()
    return markers


def ternary(markers=None):
    return read_markers() if markers is None else markers
"#;
    let main = r#"from helpers import falsy, rebound, ternary


async def handler(maybe):
    falsy(markers=())
    falsy(markers=["x"])
    falsy(markers=maybe)
    rebound("t", markers=["x"])
    ternary(None)
    ternary("")
    m = ("x",)
    m = None
    ternary(m)
"#;
    let dir = project(&[
        ("helpers.py", helpers.as_bytes()),
        ("main.py", main.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    let lines: Vec<&str> = check
        .stdout
        .lines()
        .filter(|line| line.starts_with("main.py:"))
        .map(|line| line.split(": UNF401").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "main.py:5:5",
            "main.py:7:5",
            "main.py:8:5",
            "main.py:9:5",
            "main.py:13:5"
        ],
        "{}",
        check.show()
    );
}

/// A helper that calls a method on what its `ctx` parameter reaches changes an object the
/// coroutine handed over (the bot's registries, in the reviewed bot); one taking only a `str`
/// path shares nothing.
const PARAMETER_HELPERS: &str = r#"import os


class Registry:
    def __init__(self):
        self.loaded = []

    def reload_extension(self, name):
        self.loaded.append(name)


class Context:
    def __init__(self):
        self.bot = Registry()


def reload_for(ctx, path):
    size = os.path.getsize(path)
    ctx.bot.reload_extension(path)
    return size, len(ctx.bot.loaded)


def size_of(path: str) -> int:
    return os.path.getsize(path)
"#;

const PARAMETER_MAIN: &str = r#"import asyncio

from helpers import Context, reload_for, size_of

CTX = Context()


async def on_save(path):
    return reload_for(CTX, path)


async def on_size(path):
    return size_of(path)


async def main():
    print(await asyncio.gather(on_save("data.txt"), on_size("data.txt")))


asyncio.run(main())
"#;

#[test]
fn a_helper_changing_what_its_parameter_reaches_is_unsafe_and_a_str_path_one_is_safe() {
    let dir = project(&[
        ("helpers.py", PARAMETER_HELPERS.as_bytes()),
        ("main.py", PARAMETER_MAIN.as_bytes()),
        ("data.txt", b"12345"),
    ]);
    let before = run_main(dir.path());
    assert_eq!(before, "[(5, 1), 5]\n");
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "."]);
    for expected in [
        "main.py:9:12: UNF401 `reload_for(...)` blocks the event loop",
        "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (`reload_for` \
         calls `ctx.bot.reload_extension(...)`, which may change `ctx.bot`, an object passed in \
         by its caller that the event loop's other tasks may use too,",
        "main.py:13:12: UNF401 [*] `size_of(...)` blocks the event loop",
    ] {
        assert!(
            check.stdout.contains(expected),
            "`{expected}` not in:\n{}",
            check.show()
        );
    }
    // The safe fixes: only the helper taking a `str` path moves; the program runs the same.
    let fixed = unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    let main = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        main.contains("    return reload_for(CTX, path)\n"),
        "{}\n{main}",
        fixed.show()
    );
    assert!(
        main.contains("    return await asyncio.to_thread(size_of, path)\n"),
        "{main}"
    );
    assert_eq!(run_main(dir.path()), before);
}
