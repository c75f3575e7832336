//! The project rules' fixes, proven by running the programs with CPython before and after
//! `unfreeze fix --write`: a handler calling a blocking helper in another module no longer
//! stalls the loop (UNF401), an un-awaited save in another module now happens (UNF301), and a
//! gather whose member fails still surfaces the error after the rewrite, with no member left
//! running (UNF402).

mod common;

use std::fs;
use std::path::Path;

use common::{project, python, stderr_value as value, test_python, unfreeze};

/// Run `main.py` in `dir`; its stdout, and its stderr.
fn run_main(dir: &Path) -> (String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .args(["-W", "ignore::RuntimeWarning", "main.py"])
        .output();
    assert_eq!(output.code, Some(0), "main.py failed:\n{}", output.show());
    (output.stdout, output.stderr)
}

/// `unfreeze fix --write --unsafe-fixes <args> .` must fix everything it reports.
fn fix(dir: &Path, args: &[&str]) {
    let output = unfreeze(dir, &["fix", "--isolated", "--write", "--unsafe-fixes"])
        .args(args)
        .arg(".")
        .lossy()
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
}

const PROFILES: &str = r#"import time


def fetch_profile(user_id):
    # Stands for a blocking HTTP call or database query.
    time.sleep(0.3)
    return {"id": user_id, "name": f"user{user_id}"}


def load_profile(user_id):
    profile = fetch_profile(user_id)
    return profile["name"]
"#;

const HANDLERS: &str = r#"import asyncio
import sys
import time

from app.profiles import load_profile


async def heartbeat(stop, lags):
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - before - 0.01)


async def handler(user_id):
    await asyncio.sleep(0)
    return load_profile(user_id)


async def main():
    stop = asyncio.Event()
    lags = []
    beat = asyncio.create_task(heartbeat(stop, lags))
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    names = await asyncio.gather(*(handler(i) for i in range(5)))
    elapsed = time.perf_counter() - start
    stop.set()
    await beat
    print(names)
    print(f"elapsed={elapsed:.3f}", file=sys.stderr)
    print(f"max_lag={max(lags):.3f}", file=sys.stderr)
"#;

#[test]
fn a_handler_calling_a_blocking_helper_in_another_module_no_longer_stalls_the_loop() {
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/profiles.py", PROFILES.as_bytes()),
        ("app/handlers.py", HANDLERS.as_bytes()),
        (
            "main.py",
            b"import asyncio\n\nfrom app.handlers import main\n\nasyncio.run(main())\n",
        ),
    ]);
    let (before, before_err) = run_main(dir.path());
    assert_eq!(before, "['user0', 'user1', 'user2', 'user3', 'user4']\n");
    assert!(value(&before_err, "elapsed") >= 1.2, "{before_err}");
    assert!(value(&before_err, "max_lag") >= 0.25, "{before_err}");

    fix(dir.path(), &["--select", "UNF401"]);
    let handlers = fs::read_to_string(dir.path().join("app/handlers.py")).unwrap();
    assert!(
        handlers.contains("return await asyncio.to_thread(load_profile, user_id)"),
        "{handlers}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app/profiles.py")).unwrap(),
        PROFILES,
        "the helper itself is unchanged"
    );

    let (after, after_err) = run_main(dir.path());
    assert_eq!(after, before);
    assert!(value(&after_err, "elapsed") < 0.9, "{after_err}");
    assert!(value(&after_err, "max_lag") < 0.1, "{after_err}");
}

#[test]
fn an_unawaited_save_in_another_module_now_happens() {
    let dir = project(&[
        (
            "store.py",
            b"import asyncio\n\nSAVED = []\n\n\nasync def save(item):\n    await asyncio.sleep(0)\n    SAVED.append(item)\n",
        ),
        (
            "main.py",
            b"import asyncio\n\nimport store\nfrom store import save\n\n\nasync def handle(item):\n    save(item)\n    store.save(item + '!')\n\n\nasyncio.run(handle('order-1'))\nprint(store.SAVED)\n",
        ),
    ]);
    let (before, _) = run_main(dir.path());
    assert_eq!(before, "[]\n", "nothing is saved: the coroutines never run");
    fix(dir.path(), &["--select", "UNF301"]);
    let (after, _) = run_main(dir.path());
    assert_eq!(after, "['order-1', 'order-1!']\n");
}

const GATHER: &str = r#"import asyncio

LOG = []


async def slow():
    await asyncio.sleep(0.2)
    LOG.append("slow done")
    return "slow"


async def fail():
    await asyncio.sleep(0.01)
    raise ValueError("boom")


def others():
    return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])


async def discarded():
    await asyncio.gather(fail(), slow())


async def assigned():
    first, second = await asyncio.gather(slow(), fail())
    return first, second


async def main():
    for job in (discarded, assigned):
        LOG.clear()
        try:
            print(job.__name__, "returned", await job())
        except ValueError as error:
            print(job.__name__, f"raised {error!r} running={others()} log={LOG}")
        await asyncio.sleep(0.3)


asyncio.run(main())
"#;

#[test]
fn a_failing_gather_member_still_surfaces_its_error_and_leaves_no_task_running() {
    let dir = project(&[("main.py", GATHER.as_bytes())]);
    let (before, _) = run_main(dir.path());
    assert_eq!(
        before,
        "discarded raised ValueError('boom') running=1 log=[]\n\
         assigned raised ValueError('boom') running=1 log=[]\n",
        "the original leaves the slow member running, unsupervised"
    );
    fix(dir.path(), &["--select", "UNF402"]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert_eq!(
        fixed.matches("return_exceptions=True").count(),
        2,
        "{fixed}"
    );
    let (after, _) = run_main(dir.path());
    assert_eq!(
        after,
        "discarded raised ValueError('boom') running=0 log=['slow done']\n\
         assigned raised ValueError('boom') running=0 log=['slow done']\n",
        "the error surfaces once every member is done\n{fixed}"
    );
}

const GATHER_GROUP: &str = r#"import asyncio

LOG = []


async def slow():
    await asyncio.sleep(0.2)
    LOG.append("slow done")


async def fail():
    await asyncio.sleep(0.01)
    raise ValueError("boom")


async def main():
    try:
        await asyncio.gather(fail(), slow())
    except Exception as error:
        leaves = list(getattr(error, "exceptions", [error]))
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        print(type(error).__name__, leaves, f"running={len(others)} log={LOG}")
    await asyncio.sleep(0.3)


asyncio.run(main())
"#;

#[test]
fn the_task_group_alternative_cancels_the_other_members_and_raises_a_group() {
    let version = python(&test_python())
        .args(["-c", "import sys; print(sys.version_info >= (3, 11))"])
        .output();
    if version.stdout.trim() != "True" {
        // asyncio.TaskGroup needs Python 3.11; the fix is only offered for that target.
        return;
    }
    let dir = project(&[
        ("main.py", GATHER_GROUP.as_bytes()),
        ("unfreeze.toml", b"target-version = \"py311\"\n"),
    ]);
    let (before, _) = run_main(dir.path());
    assert_eq!(before, "ValueError [ValueError('boom')] running=1 log=[]\n");
    let output = unfreeze(
        dir.path(),
        &[
            "fix",
            "--write",
            "--unsafe-fixes",
            "--select",
            "UNF402",
            ".",
        ],
    )
    .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("async with asyncio.TaskGroup() as task_group:\n            task_group.create_task(fail())\n            task_group.create_task(slow())\n"),
        "{fixed}"
    );
    let (after, _) = run_main(dir.path());
    assert_eq!(
        after, "ExceptionGroup [ValueError('boom')] running=0 log=[]\n",
        "the other member is cancelled, the failure comes in a group\n{fixed}"
    );
}
