//! Waits on thread synchronisation in a coroutine (UNF107), proven by running a program with
//! CPython before and after `unfreeze fix --write`: `Thread.join()` and a
//! `concurrent.futures.Future`'s `result()` move to a worker thread, the event loop keeps
//! ticking while they wait, and the results are the same (with `--unsafe-fixes`, the future is
//! awaited through `asyncio.wrap_future` instead). A thread that needs the event loop
//! to finish (it waits for `asyncio.run_coroutine_threadsafe`) could never finish while the
//! loop's thread joined it; after the fix it does. Calls whose arguments make them return at
//! once (`acquire(blocking=False)`, `get(block=False)`, `result(timeout=0)`) are left alone,
//! and so are the same method names on other objects (`str.join`, `dict.get`).

mod common;

use std::fs;
use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

const PROGRAM: &str = r#"import asyncio
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

executor = ThreadPoolExecutor(max_workers=2)
LOCK = threading.Lock()
ticks = 0


async def ticker():
    global ticks
    while True:
        await asyncio.sleep(0.01)
        ticks += 1


def slow_square(n):
    time.sleep(0.3)
    return n * n


async def wait_for_thread():
    results = []
    worker = threading.Thread(target=lambda: results.append(slow_square(3)))
    worker.start()
    worker.join()
    return results[0]


async def wait_for_future():
    future = executor.submit(slow_square, 4)
    return future.result()


async def double_on_loop(n):
    return n * 2


def ask_the_loop(loop, n, out):
    try:
        out.append(asyncio.run_coroutine_threadsafe(double_on_loop(n), loop).result(timeout=1))
    except TimeoutError:
        out.append("timeout")


async def wait_for_thread_needing_loop():
    out = []
    worker = threading.Thread(target=ask_the_loop, args=(asyncio.get_running_loop(), 5, out))
    worker.start()
    worker.join()
    return out[0]


async def calls_that_return_at_once(parts, cache):
    jobs = queue.Queue()
    taken = LOCK.acquire(blocking=False)
    LOCK.release()
    try:
        jobs.get(block=False)
    except queue.Empty:
        pass
    future = executor.submit(slow_square, 0)
    return taken, ", ".join(parts), cache.get("k"), future.result(timeout=0) if future.done() else None


async def main():
    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    start = ticks
    joined = await wait_for_thread()
    ticks_join = ticks - start
    start = ticks
    resolved = await wait_for_future()
    ticks_result = ticks - start
    needs_loop = await wait_for_thread_needing_loop()
    quick = await calls_that_return_at_once(["a", "b"], {"k": 1})
    ticking.cancel()
    print(f"joined={joined} result={resolved} needs_loop={needs_loop} quick={quick[:3]}")
    print(f"ticks_join={ticks_join} ticks_result={ticks_result}")


asyncio.run(main())
"#;

/// Run `main.py` in `dir`: (the results line, ticks while joining, ticks while waiting for
/// the future).
fn run(dir: &std::path::Path) -> (String, u32, u32) {
    let output = python(&test_python())
        .arg("main.py")
        .current_dir(dir)
        .deadline(Duration::from_secs(60))
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    let mut lines = output.stdout.lines();
    let results = lines.next().unwrap_or_default().to_owned();
    let ticks = lines.next().unwrap_or_default();
    let value = |key: &str| -> u32 {
        ticks
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {ticks:?}"))
    };
    (results, value("ticks_join="), value("ticks_result="))
}

#[test]
fn thread_join_and_future_result_wait_in_a_worker_thread_and_the_loop_keeps_ticking() {
    let dir = project(&[("main.py", PROGRAM.as_bytes())]);
    let (before, join_before, result_before) = run(dir.path());
    // The loop's thread waited: no tick while the thread ran or the future was computed, and
    // the thread needing the loop gave up.
    assert!(
        join_before <= 1 && result_before <= 1,
        "{join_before} {result_before}"
    );
    assert!(before.contains("needs_loop=timeout"), "{before}");

    let fixed = unfreeze_in(dir.path(), &["fix", "--isolated", "--write", "."]);
    assert_eq!(fixed.code, Some(0), "{}", fixed.show());
    let source = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert_eq!(
        source
            .matches("await asyncio.to_thread(worker.join)")
            .count(),
        2,
        "{source}"
    );
    assert!(
        source.contains("return await asyncio.to_thread(future.result)"),
        "{source}"
    );
    // Left alone: they return at once, or are not thread synchronisation at all.
    for kept in [
        "LOCK.acquire(blocking=False)",
        "jobs.get(block=False)",
        "future.result(timeout=0)",
        "\", \".join(parts)",
        "cache.get(\"k\")",
    ] {
        assert!(source.contains(kept), "{kept} changed:\n{source}");
    }

    let (after, join_after, result_after) = run(dir.path());
    // The loop ran while the thread and the future worked (0.3 s each, a tick every 10 ms).
    assert!(
        join_after >= 10 && result_after >= 10,
        "{join_after} {result_after}"
    );
    // The same results; the thread that needs the loop now gets its answer.
    assert_eq!(
        after,
        before.replace("needs_loop=timeout", "needs_loop=10"),
        "{after}"
    );
}

#[test]
fn with_unsafe_fixes_a_future_is_awaited_on_the_loop_through_wrap_future() {
    let dir = project(&[("main.py", PROGRAM.as_bytes())]);
    let (before, _, _) = run(dir.path());

    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--unsafe-fixes", "."],
    );
    assert_eq!(fixed.code, Some(0), "{}", fixed.show());
    let source = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        source.contains("return await asyncio.wrap_future(future)"),
        "{source}"
    );
    // A timeout stays: `wrap_future` takes none.
    assert!(source.contains("future.result(timeout=0)"), "{source}");

    let (after, join_after, result_after) = run(dir.path());
    assert!(
        join_after >= 10 && result_after >= 10,
        "{join_after} {result_after}"
    );
    assert_eq!(
        after,
        before.replace("needs_loop=timeout", "needs_loop=10"),
        "{after}"
    );
}
