//! Reach (issue 27): what UNF401 follows and what the module-level rules keep seeing. A file
//! whose name is not a module name still has its own functions followed; a module bound by
//! `import` keeps its findings when an `except ImportError` fallback rebinds the name; calls
//! through constructors, inherited methods, `with` blocks and receivers of a known project
//! class are followed. Each behaviour change is proven by running the rewritten program.

mod common;

use std::fs;
use std::path::Path;

use common::{findings, project, test_python, unfreeze_in};

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

/// A vendor SDK of the project, built on a blocking call two hops down, and an inherited
/// one: the coroutines reach it through every kind of receiver.
const SDK: &str = r#"import time


class Transport:
    def send(self, n):
        time.sleep(0.05)
        return n * 2


class CarrierSDK(Transport):
    def __init__(self, key="k"):
        time.sleep(0.05)
        self.key = key

    def quote(self, n):
        return self.send(n) + 1


class Session:
    def __enter__(self):
        time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        return False


sdk = CarrierSDK()
"#;

const SERVICE: &str = r#"import asyncio

from app.sdk import CarrierSDK, Session, sdk


class Service:
    def __init__(self):
        self.sdk = CarrierSDK("s")

    async def handle(self, n):
        return self.sdk.quote(n)


async def by_global(n):
    return sdk.quote(n)


async def by_param(client: CarrierSDK, n):
    return client.quote(n)


async def by_local(n):
    c = CarrierSDK()
    return c.send(n)


async def by_with():
    with Session():
        return "entered"


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    service = Service()
    print(await service.handle(1), await by_global(2), await by_param(sdk, 3))
    print(await by_local(4), await by_with())
    await task


asyncio.run(main())
"#;

fn sdk_project() -> tempfile::TempDir {
    project(&[
        ("app/__init__.py", b""),
        ("app/sdk.py", SDK.as_bytes()),
        ("app/service.py", SERVICE.as_bytes()),
        ("main.py", b"import app.service\n"),
    ])
}

#[test]
fn unf401_follows_constructors_inherited_methods_with_blocks_and_receivers_of_a_known_class() {
    let dir = sdk_project();
    let found = of_code(&findings(dir.path()), "UNF401");
    let shown: Vec<String> = found
        .iter()
        .map(|(file, line, message)| format!("{file}:{line}: {message}"))
        .collect();
    let expect = [
        (
            11,
            "handle -> CarrierSDK.quote -> Transport.send -> time.sleep",
        ),
        (
            15,
            "by_global -> CarrierSDK.quote -> Transport.send -> time.sleep",
        ),
        (
            19,
            "by_param -> CarrierSDK.quote -> Transport.send -> time.sleep",
        ),
        (23, "by_local -> CarrierSDK.__init__ -> time.sleep"),
        (24, "by_local -> Transport.send -> time.sleep"),
        (28, "by_with -> Session.__enter__ -> time.sleep"),
        (
            34,
            "main -> Service.__init__ -> CarrierSDK.__init__ -> time.sleep",
        ),
    ];
    for (line, chain) in expect {
        assert!(
            found.iter().any(|(file, l, m)| file.ends_with("service.py")
                && *l == line
                && m.contains(chain)),
            "no UNF401 at service.py:{line} with `{chain}` in\n{}",
            shown.join("\n")
        );
    }
    // `Service.__init__` is synchronous: its own constructor call is not in a coroutine.
    assert_eq!(found.len(), 7, "{}", shown.join("\n"));
}

/// The fix of each: a method on a shared object (an attribute of `self`, a module global, a
/// parameter) and a constructor are unsafe, with the reason; a `with` whose `__enter__`
/// blocks has no fix; a method of a local object made in the coroutine is safe. Applied with
/// `--unsafe-fixes`, the program gives the same results.
#[test]
fn reached_calls_on_shared_objects_are_unsafe_fixes_and_the_rewrite_runs() {
    let dir = sdk_project();
    let check = unfreeze_in(
        dir.path(),
        &["check", "--isolated", "--no-cache", "--format", "json", "."],
    );
    let all: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let at = |line: u64| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["code"] == "UNF401"
                    && f["location"]["row"] == line
                    && f["filename"].as_str().unwrap().ends_with("service.py")
            })
            .unwrap_or_else(|| panic!("no finding at line {line}: {}", check.stdout))
            .clone()
    };
    for (line, shared) in [
        (11, "`self.sdk`, kept on the instance"),
        (15, "`sdk`, imported from another module"),
        (19, "`client`, a parameter"),
    ] {
        let finding = at(line);
        assert_eq!(finding["fix"]["applicability"], "unsafe", "{finding}");
        let text = finding.to_string();
        assert!(text.contains(shared), "{line}: {text}");
    }
    let constructor = at(23);
    assert_eq!(
        constructor["fix"]["applicability"], "unsafe",
        "{constructor}"
    );
    assert!(
        constructor
            .to_string()
            .contains("makes its object in a worker thread")
    );
    let local = at(24);
    assert_eq!(local["fix"]["applicability"], "safe", "{local}");
    let with = at(28);
    assert!(with["fix"].is_null(), "{with}");
    assert!(with.to_string().contains("runs at the `with`"), "{with}");

    let before = run(dir.path(), "main.py");
    assert_eq!(before, "3 5 7\n8 entered\n");
    // Safe fixes only: the shared receivers stay where they are.
    fix(dir.path(), &[]);
    let service = fs::read_to_string(dir.path().join("app/service.py")).unwrap();
    assert!(
        service.contains("return await asyncio.to_thread(c.send, n)"),
        "{service}"
    );
    assert!(service.contains("return self.sdk.quote(n)"), "{service}");
    assert!(service.contains("return sdk.quote(n)"), "{service}");
    assert_eq!(run(dir.path(), "main.py"), before);
    fix(dir.path(), &["--unsafe-fixes"]);
    let service = fs::read_to_string(dir.path().join("app/service.py")).unwrap();
    assert!(
        service.contains("return await asyncio.to_thread(self.sdk.quote, n)"),
        "{service}"
    );
    assert!(service.contains("with Session():"), "{service}");
    assert_eq!(run(dir.path(), "main.py"), before);
}
