//! Sync redis-py in coroutines (UNF102), proven against a real `redis-server` the test starts on
//! a free 127.0.0.1 port (no persistence) and stops after: the commands of a shared client
//! move to worker threads one by one (the client's connection pool is thread-safe), so a slow
//! command (a Lua script busy for 300 ms) no longer freezes the loop, and the program gives
//! the same results; a pipeline, a `pubsub()` object and a `lock()` stay where they are, with
//! the reason, and still work. Skipped, saying so, only where `redis-server` is not installed
//! and `UNFREEZE_REQUIRE_REDIS` is unset; `.ci/run` installs it and sets that.

mod common;

use std::fs;
use std::path::Path;

use common::redis::{RedisServer, redis_python};
use common::{measure, project, unfreeze_in};

/// Handlers sharing one module-level client, doing a bit of everything: plain commands, a
/// slow script, a pipeline, a lock and a pub/sub round; and a ticker measuring the loop's
/// worst lag while they run. (A client imported from another module is not followed yet.)
const HANDLERS: &str = r#"import redis

cache = redis.Redis(host="127.0.0.1", port=PORT, decode_responses=True)

# Busy on the server for 300 ms: a slow command, as a KEYS over a large database would be.
SLOW = """
local start = redis.call('TIME')
local begin = tonumber(start[1]) * 1000000 + tonumber(start[2])
while true do
    local now = redis.call('TIME')
    if tonumber(now[1]) * 1000000 + tonumber(now[2]) - begin > 300000 then
        return 1
    end
end
"""


async def remember(user, name):
    cache.set(f"user:{user}", name)
    cache.hset(f"profile:{user}", mapping={"name": name, "visits": 0})
    cache.hincrby(f"profile:{user}", "visits", 1)
    return cache.get(f"user:{user}")


async def report(user):
    cache.eval(SLOW, 0)
    return sorted(cache.hgetall(f"profile:{user}").items())


async def batch(user):
    pipe = cache.pipeline()
    pipe.incr(f"count:{user}")
    pipe.incr(f"count:{user}")
    return pipe.execute()


async def exclusive(user):
    lock = cache.lock(f"lock:{user}", timeout=5)
    lock.acquire()
    try:
        return cache.incr(f"locked:{user}")
    finally:
        lock.release()


async def notify(user):
    channel = cache.pubsub()
    channel.subscribe("events")
    channel.get_message(timeout=1.0)
    cache.publish("events", f"hello {user}")
    message = None
    for _ in range(50):
        message = channel.get_message(timeout=0.1)
        if message is not None:
            break
    channel.close()
    return message["data"]
"#;

const MAIN: &str = r#"import asyncio
import sys
import time

from handlers import batch, cache, exclusive, notify, remember, report


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
    print(await remember(1, "ada"))
    print(await report(1))
    print(await batch(1))
    print(await exclusive(1))
    print(await notify(1))
    elapsed = time.perf_counter() - start
    stop.set()
    lag = await tick
    print(f"elapsed={elapsed * 1000:.1f}", file=sys.stderr)
    print(f"max_lag={lag * 1000:.1f}", file=sys.stderr)


cache.flushdb()
asyncio.run(main())
"#;

fn run(python: &str, dir: &Path) -> common::Measured {
    measure(python, &dir.join("main.py"), "")
}

#[test]
fn redis_commands_move_to_threads_and_free_the_loop() {
    let Some(server) = RedisServer::start() else {
        assert!(
            std::env::var_os("UNFREEZE_REQUIRE_REDIS").is_none(),
            "redis-server is not installed, and UNFREEZE_REQUIRE_REDIS (set by .ci/run) says \
             this test must run"
        );
        eprintln!(
            "SKIPPED: redis-server is not installed (`apt-get install -y redis-server`; .ci/run \
             installs it)"
        );
        return;
    };
    let python = redis_python();
    let handlers = HANDLERS.replace("PORT", &server.port.to_string());
    let dir = project(&[
        ("handlers.py", handlers.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ]);
    let before = run(&python, dir.path());
    assert_eq!(
        before.stdout,
        "ada\n[('name', 'ada'), ('visits', '1')]\n[1, 2]\n1\nhello 1\n"
    );

    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--write", "--select", "UNF102", "."],
    );
    // The pipeline, the lock and the pub/sub calls stay: no fix, so the run exits 1.
    assert_eq!(fixed.code, Some(1), "{}", fixed.show());
    let handlers = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    for moved in [
        "await asyncio.to_thread(cache.set, f\"user:{user}\", name)",
        "await asyncio.to_thread(cache.hincrby, f\"profile:{user}\", \"visits\", 1)",
        "return await asyncio.to_thread(cache.get, f\"user:{user}\")",
        "await asyncio.to_thread(cache.eval, SLOW, 0)",
        "return await asyncio.to_thread(cache.incr, f\"locked:{user}\")",
        "await asyncio.to_thread(cache.publish, \"events\", f\"hello {user}\")",
    ] {
        assert!(handlers.contains(moved), "{moved:?} not in\n{handlers}");
    }
    for kept in [
        "    return pipe.execute()",
        "    lock.acquire()",
        "        lock.release()",
        "    channel.subscribe(\"events\")",
        "        message = channel.get_message(timeout=0.1)",
    ] {
        assert!(handlers.contains(kept), "{kept:?} not in\n{handlers}");
    }

    let after = run(&python, dir.path());
    assert_eq!(after.stdout, before.stdout, "the results changed");
    eprintln!(
        "max lag before {:.1} ms, after {:.1} ms",
        before.max_lag, after.max_lag
    );
    assert!(
        before.max_lag > 150.0,
        "the slow script should freeze the original's loop: {:.1} ms",
        before.max_lag
    );
    assert!(
        after.max_lag < 0.5 * before.max_lag,
        "the rewritten program should keep the loop running: {:.1} ms after, {:.1} ms before",
        after.max_lag,
        before.max_lag
    );

    let check = unfreeze_in(
        dir.path(),
        &["check", "--isolated", "--select", "UNF102", "."],
    );
    for reason in [
        "no fix: a pipeline is not safe to pass between threads",
        "no fix: a redis-py `Lock` keeps its token in thread-local storage",
        "no fix: a `pubsub()` object keeps one connection",
    ] {
        assert!(
            check.stdout.contains(reason),
            "{reason:?}:\n{}",
            check.show()
        );
    }
}
