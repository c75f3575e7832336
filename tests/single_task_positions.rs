//! Single-task code gets no thread hop, whatever the offload, and the recognition is
//! position-aware (issue 20, session 17): in the coroutine of `asyncio.run(main())` the loop
//! is alone before anything starts, and alone again after a call that waits for every task it
//! started (an awaited `asyncio.gather` of tasks made right there, a task group's block, a
//! project coroutine in another module that gathers its own tasks); not while a task made
//! with `create_task` is alive, nor in the `except` around a gather that raised (its other
//! tasks go on). Each position is tried with four offloads: a chained `open(...).read()`, a
//! moved `with open(...)` block, a UNF401 project helper, a constructor hop (`Store(...)`, an
//! unsafe fix). The behaviour test rewrites every script and runs it with the test Python.
//!
//! `UNFREEZE_TEST_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without this change).

mod common;

use common::{findings, project, python, test_python, unfreeze_in};

/// The project module: a blocking helper, a class whose constructor blocks, and a coroutine
/// that starts tasks and gathers all of them before it returns.
const HELPERS: &str = "import asyncio\n\n\ndef load(path):\n    with open(path) as f:\n        \
                       return f.read()\n\n\nclass Store:\n    def __init__(self, path):\n        \
                       with open(path) as f:\n            self.text = f.read()\n\n\n\
                       async def part(n):\n    await asyncio.sleep(0.01)\n    return n\n\n\n\
                       async def run_parts():\n    \
                       tasks = [asyncio.ensure_future(part(i)) for i in range(3)]\n    \
                       return await asyncio.gather(*tasks)\n";

/// The four offloads, one per line (the `with` block two), at the indentation `{i}`.
const KINDS: [&str; 4] = [
    "{i}data = open(\"data.txt\").read()\n",
    "{i}with open(\"data.txt\") as f:\n{i}    moved = f.read()\n",
    "{i}loaded = helpers.load(\"data.txt\")\n",
    "{i}store = helpers.Store(\"data.txt\")\n",
];

/// What each kind's line starts with, to find it in a script.
const MARKS: [&str; 4] = [
    "data = open(",
    "with open(",
    "loaded = helpers.load(",
    "store = helpers.Store(",
];

const PRINT: &str = "{i}print(len(data), len(moved), len(loaded), len(store.text))\n";

const ALONE: &str = "nothing else runs on the event loop in this script";

fn kinds(indent: &str) -> String {
    KINDS
        .iter()
        .chain([&PRINT])
        .map(|k| k.replace("{i}", indent))
        .collect()
}

/// A script whose `main` runs `before`, the four offloads (at `indent`), then `after`.
fn script(before: &str, indent: &str, after: &str) -> String {
    format!(
        "import asyncio\n\nimport helpers\n\n\nasync def tick():\n    await asyncio.sleep(0.01)\n\n\n\
         async def fail():\n    await asyncio.sleep(0)\n    raise ValueError(\"boom\")\n\n\n\
         async def main():\n{before}{}{after}    print(\"done\")\n\n\n\
         if __name__ == \"__main__\":\n    asyncio.run(main())\n",
        kinds(indent)
    )
}

/// Each script: its name, its text, whether the offloads in it are alone on the loop.
fn scripts() -> Vec<(&'static str, String, bool)> {
    vec![
        (
            "prologue.py",
            script("", "    ", "    await asyncio.gather(tick(), tick())\n"),
            true,
        ),
        (
            "after_gather.py",
            script(
                "    await asyncio.gather(tick(), helpers.part(1))\n",
                "    ",
                "",
            ),
            true,
        ),
        (
            "after_task_group.py",
            script(
                "    async with asyncio.TaskGroup() as tg:\n        tg.create_task(tick())\n",
                "    ",
                "",
            ),
            true,
        ),
        (
            "after_project_gather.py",
            script("    await helpers.run_parts()\n", "    ", ""),
            true,
        ),
        (
            "in_except_around_gather.py",
            script(
                "    try:\n        await asyncio.gather(tick(), fail())\n    except ValueError:\n",
                "        ",
                "",
            ),
            false,
        ),
        (
            "while_a_task_runs.py",
            script(
                "    background = asyncio.create_task(tick())\n",
                "    ",
                "    await background\n",
            ),
            false,
        ),
        (
            "after_dropped_task.py",
            script("    asyncio.ensure_future(tick())\n", "    ", ""),
            false,
        ),
    ]
}

fn files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = scripts()
        .into_iter()
        .map(|(name, text, _)| (name.to_owned(), text))
        .collect();
    files.push(("helpers.py".to_owned(), HELPERS.to_owned()));
    files.push(("data.txt".to_owned(), "hello\n".to_owned()));
    files
}

fn make_project() -> tempfile::TempDir {
    let files = files();
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    project(&borrowed)
}

#[test]
fn every_offload_is_withheld_where_the_loop_is_alone_and_kept_where_it_is_not() {
    let dir = make_project();
    let found = findings(dir.path());
    for (name, text, alone) in scripts() {
        for mark in MARKS {
            let row = text
                .lines()
                .position(|l| l.trim_start().starts_with(mark))
                .unwrap()
                + 1;
            let finding = found
                .iter()
                .find(|f| f["filename"] == name && f["location"]["row"] == row)
                .unwrap_or_else(|| panic!("{name}:{row} ({mark}) not reported: {found:#?}"));
            let reason = finding["no_fix_reason"].as_str().unwrap_or("");
            if alone {
                assert!(
                    finding["fix"].is_null() && reason.starts_with(ALONE),
                    "{name}:{row} ({mark}) is alone on the loop, no hop: {finding:#}"
                );
            } else {
                assert!(
                    !finding["fix"].is_null(),
                    "{name}:{row} ({mark}) runs next to another task, the hop stays: {finding:#}"
                );
            }
        }
    }
}

/// `fix` agrees with `check`: the fixes it makes are the ones `check` offered, and every
/// script runs the same after the rewrite (the kept hops included), with the test Python.
#[test]
fn the_kept_hops_run_and_the_withheld_ones_leave_the_script_as_it_was() {
    let python_bin = test_python();
    let dir = make_project();
    let run = |name: &str| {
        let out = python(&python_bin)
            .current_dir(dir.path())
            .arg(name)
            .output();
        assert_eq!(out.code, Some(0), "{name}: {}", out.show());
        out.stdout
    };
    let before: Vec<String> = scripts().iter().map(|(n, _, _)| run(n)).collect();
    for out in &before {
        assert_eq!(out, "6 6 6 6\ndone\n");
    }
    let write = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--isolated",
            "--no-cache",
            "--write",
            "--unsafe-fixes",
            ".",
        ],
    );
    assert!(write.code.is_some(), "{}", write.show());
    for ((name, original, alone), out) in scripts().iter().zip(&before) {
        let rewritten = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let hops = rewritten.matches("asyncio.to_thread(").count();
        if *alone {
            assert_eq!(
                &rewritten, original,
                "{name} is alone on the loop: untouched"
            );
        } else {
            assert!(hops >= 4, "{name}: every offload hopped:\n{rewritten}");
        }
        assert_eq!(&run(name), out, "{name} after the rewrite:\n{rewritten}");
    }
    // A second run finds nothing more to fix: the verdicts did not flip.
    let again = unfreeze_in(
        dir.path(),
        &[
            "fix",
            "--isolated",
            "--no-cache",
            "--unsafe-fixes",
            "--diff",
            ".",
        ],
    );
    assert!(
        !again.stdout.contains("+++"),
        "a second run changed more:\n{}",
        again.show()
    );
}
