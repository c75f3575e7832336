//! A coroutine run by a synchronous wrapper on a new loop is alone there until it starts work,
//! as a script's `main` is (issue 20, session 18; reviewer K: sofascore_scraper
//! match_fetcher.py:202, `asyncio.run(self.fetch_all_rounds_async(...))` in a sync method, and
//! telegram-bot-v3 main.py, `bot_coroutine = run_bot(); asyncio.run(bot_coroutine)`). Three
//! shapes: a method of the class run by one of its synchronous methods
//! (`asyncio.run(self.fetch_async())`, `loop.run_until_complete(self.x())` on a new loop), a
//! coroutine kept in a name just before (`coro = run_bot(); asyncio.run(coro)`), and a
//! coroutine nested in a command's function (`def cmd(): async def _run(): ...;
//! asyncio.run(_run())`). Each offload kind is covered: a call's hop (`os.makedirs`), a
//! UNF401 helper (`load(path)`), a moved `with open` block. Not alone: a task started first
//! and kept, the method also awaited by another module's server coroutine or started there
//! as a task, the kept coroutine handed to something else: the hops stay, and the rewritten
//! program runs with the test Python. `check` and `fix` agree on every one.

mod common;

use common::{project, python, test_python, unfreeze_in};

/// The three offloads, in a coroutine body indented by `indent`: a call (UNF104), a project
/// helper (UNF401), a `with open` block (ASYNC230).
fn body(indent: &str) -> String {
    [
        "os.makedirs(out, exist_ok=True)",
        "text = load(\"data.txt\")",
        "with open(os.path.join(out, \"copy.txt\"), \"w\") as f:",
        "    f.write(text)",
        "return text",
    ]
    .iter()
    .map(|line| format!("{indent}{line}\n"))
    .collect()
}

const HEAD: &str = "import asyncio\nimport os\n\n\ndef load(path):\n    with open(path) as f:\n        \
                    return f.read()\n\n\n";

/// `asyncio.run(self.fetch_async(out))` in `Fetcher.fetch`.
fn method_wrapper(before: &str) -> String {
    format!(
        "{HEAD}class Fetcher:\n    async def fetch_async(self, out):\n{before}{}\n    \
         def fetch(self, out):\n        return asyncio.run(self.fetch_async(out))\n\n\n\
         if __name__ == \"__main__\":\n    print(Fetcher().fetch(\"out\"))\n",
        body("        ")
    )
}

/// A ticker task started first and kept (awaited at the end): the loop is not alone after it.
const TICKER_FIRST: &str =
    "        ticker = asyncio.get_running_loop().create_task(asyncio.sleep(0.01))\n";

/// `check` and `fix --write --unsafe-fixes` of the project; `(check's text, app.py after)`.
fn check_and_fix(files: &[(&str, &str)]) -> (String, String, tempfile::TempDir) {
    let mut all: Vec<(&str, &[u8])> = files.iter().map(|(p, s)| (*p, s.as_bytes())).collect();
    all.push(("data.txt", b"hello"));
    let dir = project(&all);
    let check = unfreeze_in(dir.path(), &["check", "--no-cache", "."]);
    unfreeze_in(
        dir.path(),
        &["fix", "--write", "--unsafe-fixes", "--no-cache", "."],
    );
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    (check.stdout, fixed, dir)
}

/// The lines of app.py's findings in `check`'s text, each with whether a fix is offered.
fn app_findings(check: &str) -> Vec<(String, bool)> {
    let lines: Vec<&str> = check.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with("app.py:") {
            continue;
        }
        let code = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let no_fix = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("app.py:"))
            .any(|l| l.contains("= no fix: nothing else runs on the event loop"));
        found.push((
            format!("{} {code}", line.split(' ').next().unwrap()),
            !no_fix,
        ));
    }
    found
}

/// Alone: the three findings are there, none offers a hop, and `fix` writes nothing.
fn assert_alone(check: &str, fixed: &str, source: &str) {
    let findings = app_findings(check);
    let codes: Vec<&str> = findings
        .iter()
        .map(|(f, _)| f.split(' ').nth(1).unwrap())
        .collect();
    for code in ["UNF104", "UNF401", "ASYNC230"] {
        assert!(codes.contains(&code), "no {code} in\n{check}");
    }
    assert!(
        findings.iter().all(|(_, fix)| !fix),
        "a hop offered where the coroutine is alone:\n{check}"
    );
    assert_eq!(fixed, source, "fix agrees with check: nothing to write");
}

/// Not alone: every one of the three offers its hop, `fix` writes them, and the rewritten
/// program runs with the test Python and prints what the original printed.
fn assert_not_alone_and_runs(check: &str, fixed: &str, dir: &tempfile::TempDir) {
    let findings = app_findings(check);
    assert!(findings.len() >= 3, "{check}");
    assert!(
        findings.iter().all(|(_, fix)| *fix),
        "every hop stays where other work runs:\n{check}"
    );
    assert!(fixed.contains("asyncio.to_thread(os.makedirs"), "{fixed}");
    assert!(fixed.contains("asyncio.to_thread(load"), "{fixed}");
    let ran = python(&test_python())
        .current_dir(dir.path())
        .arg("app.py")
        .output();
    assert_eq!(ran.code, Some(0), "{}\n{fixed}", ran.stderr);
    assert_eq!(ran.stdout.trim(), "hello", "{fixed}");
    let copy = std::fs::read_to_string(dir.path().join("out/copy.txt")).unwrap();
    assert_eq!(copy, "hello");
}

#[test]
fn method_run_by_its_class_s_sync_wrapper_is_alone_no_hop() {
    let source = method_wrapper("");
    let (check, fixed, _dir) = check_and_fix(&[("app.py", &source)]);
    assert_alone(&check, &fixed, &source);
}

#[test]
fn method_run_until_complete_on_a_new_loop_is_alone_too() {
    let source = method_wrapper("").replace(
        "        return asyncio.run(self.fetch_async(out))\n",
        "        loop = asyncio.new_event_loop()\n        try:\n            \
         return loop.run_until_complete(self.fetch_async(out))\n        finally:\n            \
         loop.close()\n",
    );
    let (check, fixed, _dir) = check_and_fix(&[("app.py", &source)]);
    assert_alone(&check, &fixed, &source);
}

#[test]
fn method_wrapper_that_starts_a_task_first_keeps_its_hops_and_runs() {
    let source = method_wrapper(TICKER_FIRST).replace(
        "        return text\n",
        "        await ticker\n        return text\n",
    );
    let (check, fixed, dir) = check_and_fix(&[("app.py", &source)]);
    assert_not_alone_and_runs(&check, &fixed, &dir);
}

/// Another module's server coroutine awaits the same method: it runs beside other work there.
#[test]
fn method_also_awaited_from_another_module_keeps_its_hops_and_runs() {
    let source = method_wrapper("");
    let server = "from app import Fetcher\n\n\nasync def handle(request):\n    \
                  return await Fetcher().fetch_async(request)\n";
    let (check, fixed, dir) = check_and_fix(&[("app.py", &source), ("server.py", server)]);
    assert_not_alone_and_runs(&check, &fixed, &dir);
    // A run on the one file still sees its neighbour.
    let one = unfreeze_in(dir.path(), &["check", "--no-cache", "app.py"]);
    assert!(
        !one.stdout.contains("= no fix: nothing else"),
        "{}",
        one.stdout
    );
}

/// Another module starts the method as a task (never awaiting it there): a doubt too.
#[test]
fn method_started_as_a_task_elsewhere_keeps_its_hops() {
    let source = method_wrapper("");
    let other = "import asyncio\n\nimport app\n\n\nasync def serve(fetcher):\n    \
                 asyncio.create_task(fetcher.fetch_async(\"out\"))\n";
    let (check, _, _dir) = check_and_fix(&[("app.py", &source), ("other.py", other)]);
    let findings = app_findings(&check);
    assert!(findings.len() >= 3, "{check}");
    assert!(findings.iter().all(|(_, fix)| *fix), "{check}");
}

/// The file itself awaits the method from a coroutine it schedules: not alone.
#[test]
fn method_mentioned_elsewhere_in_its_file_keeps_its_hops() {
    let source = method_wrapper("").replace(
        "\n\nif __name__",
        "\n\n    async def serve(self):\n        \
         asyncio.get_running_loop().create_task(self.fetch_async(\"out\"))\n\n\nif __name__",
    );
    let (check, _, _dir) = check_and_fix(&[("app.py", &source)]);
    let findings = app_findings(&check);
    assert!(findings.len() >= 3, "{check}");
    assert!(
        findings
            .iter()
            .filter(|(f, _)| !f.contains("RUF006"))
            .all(|(_, fix)| *fix),
        "{check}"
    );
}

/// `coro = work("out")` just before `asyncio.run(coro)` (closed in a `finally`, as
/// telegram-bot-v3's `main` does).
fn kept_coroutine(run: &str) -> String {
    format!(
        "{HEAD}async def work(out):\n{}\n\ndef main():\n    coro = work(\"out\")\n    \
         try:\n        print({run})\n    finally:\n        if hasattr(coro, \"close\"):\n            \
         coro.close()\n\n\nif __name__ == \"__main__\":\n    main()\n",
        body("    ")
    )
}

#[test]
fn coroutine_kept_in_a_name_then_run_is_alone_no_hop() {
    let source = kept_coroutine("asyncio.run(coro)");
    let (check, fixed, _dir) = check_and_fix(&[("app.py", &source)]);
    assert_alone(&check, &fixed, &source);
}

/// The kept coroutine is handed to another coroutine that runs it beside a ticker.
#[test]
fn coroutine_kept_in_a_name_and_handed_over_keeps_its_hops_and_runs() {
    let source = kept_coroutine("asyncio.run(both(coro))").replace(
        "\n\ndef main():",
        "\n\nasync def both(coro):\n    \
         results = await asyncio.gather(coro, asyncio.sleep(0.01))\n    \
         return results[0]\n\n\ndef main():",
    );
    let (check, fixed, dir) = check_and_fix(&[("app.py", &source)]);
    assert_not_alone_and_runs(&check, &fixed, &dir);
}

/// A click-style command: the coroutine nested in the command's function.
fn nested_command(extra: &str, run: &str) -> String {
    format!(
        "{HEAD}def cmd():\n    async def _run(out):\n{}{extra}\n    print({run})\n\n\n\
         if __name__ == \"__main__\":\n    cmd()\n",
        body("        ")
    )
}

#[test]
fn coroutine_nested_in_a_command_function_is_alone_no_hop() {
    let source = nested_command("", "asyncio.run(_run(\"out\"))");
    let (check, fixed, _dir) = check_and_fix(&[("app.py", &source)]);
    assert_alone(&check, &fixed, &source);
}

/// The nested coroutine is also gathered with a ticker by another nested coroutine.
#[test]
fn nested_coroutine_also_gathered_keeps_its_hops_and_runs() {
    let source = nested_command(
        "\n    async def _both(out):\n        \
         results = await asyncio.gather(_run(out), asyncio.sleep(0.01))\n        \
         return results[0]\n",
        "asyncio.run(_both(\"out\"))",
    );
    let (check, fixed, dir) = check_and_fix(&[("app.py", &source)]);
    assert_not_alone_and_runs(&check, &fixed, &dir);
}
