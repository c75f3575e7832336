//! CPU-bound work in coroutines (UNF105), proven by running the programs with CPython before
//! and after `unfreeze fix --write`: handlers that derive keys with `hashlib.pbkdf2_hmac` or
//! compress a few megabytes with `zlib` freeze the event loop for hundreds of milliseconds
//! (a ticker task measures its worst lag); rewritten, the work runs in worker threads, where
//! the C code releases the GIL, so the ticker keeps time, and the results are the same. A
//! function the configuration declares CPU-bound and holding the GIL gets no fix, with the
//! process pool named in the reason, and the program is left as it was.

mod common;

use std::fs;
use std::path::Path;

use common::{Measured, measure, project, stdlib_python, unfreeze_in};

/// The ticker and the main coroutine the programs share: `{work}` is awaited while the ticker
/// runs; the results go to stdout, `elapsed=` and `max_lag=` (milliseconds) to stderr.
const HARNESS: &str = r#"

async def ticker(stop):
    worst = 0.0
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        worst = max(worst, now - last - 0.005)
        last = now
    return worst


async def main():
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stop))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    results = [await work(i) for i in range(2)]
    elapsed = time.perf_counter() - start
    stop.set()
    lag = await tick
    for result in results:
        print(hashlib.sha256(result).hexdigest())
    print(f"elapsed={elapsed * 1000:.1f}", file=sys.stderr)
    print(f"max_lag={lag * 1000:.1f}", file=sys.stderr)


asyncio.run(main())
"#;

/// Key derivation in a request handler: about half a second per call with the GIL released.
const PBKDF2: &str = r#"import asyncio
import hashlib
import sys
import time


async def hash_password(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1_500_000)


async def work(i):
    return await hash_password(f"password-{i}", f"salt-{i}".encode())
"#;

/// Compressing a few megabytes of (deterministic) text at level 9, then checking it.
const ZLIB: &str = r#"import asyncio
import base64
import hashlib
import random
import sys
import time
import zlib

BLOB = base64.b64encode(random.Random(7).randbytes(6_000_000))


async def archive(blob):
    packed = zlib.compress(blob, 9)
    assert zlib.decompress(packed) == blob
    return packed


async def work(i):
    return await archive(BLOB[i:])
"#;

/// `unfreeze fix --write` with only UNF105 selected (the harness's own findings, if any, are
/// other rules').
fn fix(dir: &Path) -> common::Output {
    unfreeze_in(
        dir,
        &["fix", "--isolated", "--write", "--select", "UNF105", "."],
    )
}

/// Run the program before and after the fix: the same results, the loop freed.
fn before_and_after(program: &str, moved: &[&str]) -> (Measured, Measured, String) {
    let source = format!("{program}{HARNESS}");
    let dir = project(&[("main.py", source.as_bytes())]);
    let main = dir.path().join("main.py");
    let before = measure(&stdlib_python(), &main, "");
    let fixed = fix(dir.path());
    assert_eq!(fixed.code, Some(0), "{}", fixed.show());
    let rewritten = fs::read_to_string(&main).unwrap();
    for line in moved {
        assert!(rewritten.contains(line), "{line:?} not in\n{rewritten}");
    }
    let after = measure(&stdlib_python(), &main, "");
    assert_eq!(after.stdout, before.stdout, "the results changed");
    (before, after, rewritten)
}

/// Generous margins: the machine is shared and has two cores.
fn assert_loop_freed(before: &Measured, after: &Measured) {
    eprintln!(
        "max lag before {:.1} ms, after {:.1} ms",
        before.max_lag, after.max_lag
    );
    assert!(
        before.max_lag > 150.0,
        "the original should freeze the loop for the whole call: {:.1} ms",
        before.max_lag
    );
    assert!(
        after.max_lag < 0.5 * before.max_lag,
        "the rewritten program should keep the loop running: {:.1} ms after, {:.1} ms before",
        after.max_lag,
        before.max_lag
    );
}

#[test]
fn pbkdf2_in_a_handler_moves_to_a_thread_and_frees_the_loop() {
    let (before, after, _) = before_and_after(
        PBKDF2,
        &[
            "return await asyncio.to_thread(\n        hashlib.pbkdf2_hmac, \"sha256\", \
             password.encode(), salt, 1_500_000\n    )",
        ],
    );
    assert_loop_freed(&before, &after);
}

#[test]
fn zlib_on_megabytes_moves_to_a_thread_and_frees_the_loop() {
    let (before, after, _) = before_and_after(
        ZLIB,
        &[
            "packed = await asyncio.to_thread(zlib.compress, blob, 9)",
            "assert await asyncio.to_thread(zlib.decompress, packed) == blob",
        ],
    );
    assert_loop_freed(&before, &after);
}

/// A project's own CPU-bound functions, declared in the configuration: one that releases the
/// GIL (it compresses) moves to a thread; one that holds it (pure Python) gets no fix, the
/// reason suggesting a process pool, and the program runs as before.
#[test]
fn configured_cpu_bound_calls_follow_releases_gil() {
    let config = r#"[tool.unfreeze]
select = ["UNF105"]

[[tool.unfreeze.cpu-bound-calls]]
call = "work.pack"
releases-gil = true

[[tool.unfreeze.cpu-bound-calls]]
call = "work.score"
releases-gil = false
"#;
    let work = r#"import zlib


def pack(blob):
    return zlib.compress(blob, 9)


def score(n):
    return sum(i * i % 7 for i in range(n))
"#;
    let main = r#"import asyncio

import work


async def handle(blob, n):
    packed = work.pack(blob)
    return len(packed) < len(blob), work.score(n)


async def main():
    # Another task runs meanwhile: no single-task script, where nothing would be moved.
    ticker = asyncio.create_task(asyncio.sleep(0))
    result = await handle(b"abc" * 100_000, 200_000)
    await ticker
    return result


print(asyncio.run(main()))
"#;
    let dir = project(&[
        ("pyproject.toml", config.as_bytes()),
        ("work.py", work.as_bytes()),
        ("main.py", main.as_bytes()),
    ]);
    let run = || {
        let out = common::python(&stdlib_python())
            .current_dir(dir.path())
            .arg("main.py")
            .output();
        assert_eq!(out.code, Some(0), "{}", out.show());
        out.stdout
    };
    let before = run();
    let check = unfreeze_in(dir.path(), &["check", "."]);
    assert!(
        check
            .stdout
            .contains("UNF105 [*] `work.pack` is CPU-bound work"),
        "{}",
        check.show()
    );
    assert!(
        check.stdout.contains(
            "no fix: the configuration declares `work.score` CPU-bound and holding the GIL"
        ) && check.stdout.contains("ProcessPoolExecutor()"),
        "{}",
        check.show()
    );
    let fixed = unfreeze_in(dir.path(), &["fix", "--write", "."]);
    assert_eq!(
        fixed.code,
        Some(1),
        "the no-fix finding stays: {}",
        fixed.show()
    );
    let rewritten = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        rewritten.contains("packed = await asyncio.to_thread(work.pack, blob)"),
        "{rewritten}"
    );
    assert!(
        rewritten.contains("work.score(n)") && !rewritten.contains("to_thread(work.score"),
        "{rewritten}"
    );
    assert_eq!(run(), before);
}
