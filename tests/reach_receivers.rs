//! Reach (issue 27): what UNF401 follows and what the module-level rules keep seeing. A file
//! whose name is not a module name still has its own functions followed; a module bound by
//! `import` keeps its findings when an `except ImportError` fallback rebinds the name; calls
//! through constructors, inherited methods, `with` blocks and receivers of a known project
//! class are followed. Each behaviour change is proven by running the rewritten program.

mod common;

use std::fs;
use std::path::Path;

use common::{project, test_python, unfreeze_in};

/// The findings of `check --format json .`.
fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let check = unfreeze_in(
        dir,
        &["check", "--isolated", "--no-cache", "--format", "json", "."],
    );
    let value: serde_json::Value =
        serde_json::from_str(&check.stdout).unwrap_or_else(|err| panic!("{err}: {}", check.show()));
    value.as_array().unwrap().clone()
}

/// The findings of `code`, as (file, line, message).
fn of_code(findings: &[serde_json::Value], code: &str) -> Vec<(String, u64, String)> {
    findings
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            (
                f["filename"].as_str().unwrap_or_default().to_owned(),
                f["location"]["row"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Run `script` in `dir` with the test Python; its stdout (it must succeed).
fn run(dir: &Path, script: &str) -> String {
    let output = common::python(&test_python())
        .arg(script)
        .current_dir(dir)
        .output();
    assert_eq!(output.code, Some(0), "{script} failed:\n{}", output.show());
    output.stdout
}

/// `unfreeze fix --write .` with `extra` arguments; it must succeed.
fn fix(dir: &Path, extra: &[&str]) {
    let mut args = vec!["fix", "--isolated", "--no-cache", "--write"];
    args.extend_from_slice(extra);
    args.push(".");
    let output = unfreeze_in(dir, &args);
    assert!(
        output.code == Some(0) || output.code == Some(1),
        "fix failed:\n{}",
        output.show()
    );
}

/// A script named as no module can be (`013_x.py`): its coroutine calls its own blocking
/// function and one imported from a module of the project.
const NUMBERED_SCRIPT: &str = r#"import asyncio
import time

from helpers import load


def slow(n):
    time.sleep(0.01)
    return n * 2


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    print(slow(21), load())
    await task


asyncio.run(main())
"#;

const HELPERS: &str = r#"import time


def load():
    time.sleep(0.01)
    return "loaded"
"#;

#[test]
fn unf401_follows_functions_in_a_file_whose_name_is_not_a_module_name() {
    for name in ["013_x.py", "my-bot.py"] {
        let dir = project(&[
            (name, NUMBERED_SCRIPT.as_bytes()),
            ("helpers.py", HELPERS.as_bytes()),
        ]);
        let found = of_code(&findings(dir.path()), "UNF401");
        let lines: Vec<u64> = found.iter().map(|(_, line, _)| *line).collect();
        assert_eq!(lines, [14, 14], "{name}: {found:?}");
        assert!(
            found.iter().any(|(_, _, m)| m.contains("main -> slow")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|(_, _, m)| m.contains("main -> load")),
            "{found:?}"
        );
        let before = run(dir.path(), name);
        fix(dir.path(), &[]);
        let fixed = fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            fixed.contains("await asyncio.to_thread(slow, 21)"),
            "{fixed}"
        );
        assert!(fixed.contains("await asyncio.to_thread(load)"), "{fixed}");
        assert_eq!(run(dir.path(), name), before);
        assert_eq!(before, "42 loaded\n");
    }
}

/// The demo's optional-driver idiom: the module bound in a `try:`, `None` in the fallback.
const OPTIONAL_REDIS: &str = r#"import asyncio

try:
    import redis
except ImportError:  # optional
    redis = None

PORT = 0


async def remember(user, name):
    cache = redis.Redis(host="127.0.0.1", port=PORT, decode_responses=True)
    cache.set(f"user:{user}", name)
    cache.hset(f"profile:{user}", mapping={"name": name})
    return cache.get(f"user:{user}"), cache.hgetall(f"profile:{user}")


async def main():
    if redis is None:
        print("no redis")
        return
    task = asyncio.create_task(asyncio.sleep(0))
    print(await remember(1, "ada"))
    await task


asyncio.run(main())
"#;

#[test]
fn unf102_keeps_a_module_whose_name_a_fallback_rebinds_to_none() {
    let dir = project(&[("app.py", OPTIONAL_REDIS.as_bytes())]);
    let found = of_code(&findings(dir.path()), "UNF102");
    let lines: Vec<u64> = found.iter().map(|(_, line, _)| *line).collect();
    assert_eq!(lines, [13, 14, 15, 15], "{found:?}");

    // The redis.asyncio migration (unsafe) would add `import redis.asyncio` at the top, which
    // fails where redis is not installed: not offered for an optional import, and the program
    // still starts without redis.
    let without = project(&[("app.py", OPTIONAL_REDIS.as_bytes())]);
    fix(without.path(), &["--unsafe-fixes", "--select", "UNF102"]);
    let fixed = fs::read_to_string(without.path().join("app.py")).unwrap();
    assert!(!fixed.contains("redis.asyncio"), "{fixed}");
    assert!(
        fixed.contains("await asyncio.to_thread(cache.set"),
        "{fixed}"
    );
    let plain = common::python(&common::stdlib_python())
        .args(["-S", "app.py"])
        .current_dir(without.path())
        .output();
    assert_eq!(plain.stdout, "no redis\n", "{}", plain.show());

    let Some(server) = common::redis::RedisServer::start() else {
        assert!(
            std::env::var_os("UNFREEZE_REQUIRE_REDIS").is_none(),
            "redis-server is not installed, and UNFREEZE_REQUIRE_REDIS says this test must run"
        );
        eprintln!("SKIPPED (the run): redis-server is not installed");
        return;
    };
    let python = common::redis::redis_python();
    let program = OPTIONAL_REDIS.replace("PORT = 0", &format!("PORT = {}", server.port));
    fs::write(dir.path().join("app.py"), program).unwrap();
    let run_app = || {
        let output = common::python(&python)
            .arg("app.py")
            .current_dir(dir.path())
            .output();
        assert_eq!(output.code, Some(0), "app.py failed:\n{}", output.show());
        output.stdout
    };
    let before = run_app();
    assert_eq!(before, "('ada', {'name': 'ada'})\n");
    fix(dir.path(), &["--select", "UNF102"]);
    let fixed = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(cache.set, f\"user:{user}\", name)"),
        "{fixed}"
    );
    assert_eq!(run_app(), before);
}
