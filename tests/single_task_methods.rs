//! Issue 20 (reviewer K, session 17): a method of the script's own class, awaited from the
//! only task of the script (`demo = Demo()` then `await demo.run()` in `main`, and
//! `await self._step()` inside it), runs alone as a module-level coroutine awaited from there
//! does: its blocking calls before it starts other work get no thread hop, with the reason.
//! A method also mentioned anywhere else in the file (a handler awaiting it, a callback), or
//! awaited after `main` started a task, keeps its hop; the rewritten program runs.

mod common;

use common::{project, python, test_python, unfreeze};

const ALONE: &str = r#"import asyncio
import os


class Demo:
    async def run(self):
        os.makedirs("x", exist_ok=True)
        await self._step()

    async def _step(self):
        os.makedirs("y", exist_ok=True)


async def main():
    demo = Demo()
    await demo.run()
    print(sorted(os.listdir(".")))


if __name__ == "__main__":
    asyncio.run(main())
"#;

/// The same class, its `run` also awaited by a handler the script registers.
const MENTIONED: &str = r#"import asyncio
import os


class Demo:
    async def run(self):
        os.makedirs("x", exist_ok=True)
        await self._step()

    async def _step(self):
        os.makedirs("y", exist_ok=True)


async def on_event(demo):
    await demo.run()


async def main():
    demo = Demo()
    await demo.run()
    await on_event(demo)
    print(sorted(os.listdir(".")))


if __name__ == "__main__":
    asyncio.run(main())
"#;

/// Awaited after `main` started a task that is still running.
const AFTER_TASK: &str = r#"import asyncio
import os


class Demo:
    async def run(self):
        os.makedirs("x", exist_ok=True)


async def beat():
    await asyncio.sleep(0.01)


async def main():
    task = asyncio.create_task(beat())
    demo = Demo()
    await demo.run()
    await task
    print(sorted(os.listdir(".")))


if __name__ == "__main__":
    asyncio.run(main())
"#;

fn fixes(source: &str) -> String {
    let dir = project(&[("app.py", source.as_bytes())]);
    unfreeze(dir.path(), &["check", "--no-cache", "app.py"])
        .output()
        .stdout
}

#[test]
fn a_method_awaited_only_from_the_only_task_gets_no_hop() {
    let report = fixes(ALONE);
    assert_eq!(report.matches("UNF104 `os.makedirs").count(), 2, "{report}");
    assert_eq!(
        report
            .matches("makedirs()` blocks nothing: moving it to a worker thread")
            .count(),
        2,
        "{report}"
    );
    assert!(!report.contains("UNF104 [*] `os.makedirs"), "{report}");
}

#[test]
fn a_method_mentioned_elsewhere_or_awaited_beside_a_task_keeps_its_hop() {
    for (source, hops) in [(MENTIONED, 2), (AFTER_TASK, 1)] {
        let dir = project(&[("app.py", source.as_bytes())]);
        let report = unfreeze(dir.path(), &["check", "--no-cache", "app.py"])
            .output()
            .stdout;
        assert_eq!(
            report.matches("UNF104 [*] `os.makedirs").count(),
            hops,
            "{report}"
        );
        let before = python(&test_python())
            .current_dir(dir.path())
            .arg("app.py")
            .output();
        assert_eq!(before.code, Some(0), "{}", before.show());
        for made in ["x", "y"] {
            let _ = std::fs::remove_dir(dir.path().join(made));
        }
        let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "app.py"]).output();
        assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
        let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
        assert_eq!(
            fixed.matches("await asyncio.to_thread(os.makedirs").count(),
            hops,
            "{fixed}"
        );
        let after = python(&test_python())
            .current_dir(dir.path())
            .arg("app.py")
            .output();
        assert_eq!(after.code, Some(0), "{}", after.show());
        assert_eq!(after.stdout, before.stdout);
    }
}
