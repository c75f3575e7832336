//! A single-task entry whose coroutine lives in another module (issue 20, session 17):
//! `run.py` does `asyncio.run(main("data.txt"))` with `main` imported from `app/core.py`.
//! The file defining `main` treats it as its entry coroutine, as if the entry call were its
//! own: the offload in its prologue goes. When another module also imports and awaits
//! `main` beside other work (a server), the hop stays, and the rewritten programs run.

mod common;

use common::{project, python, test_python, unfreeze_in};

const CORE: &str = "import asyncio\n\n\nasync def main(path):\n    \
                    data = open(path).read()\n    await asyncio.sleep(0.01)\n    \
                    print(len(data))\n";

const RUN: &str = "import asyncio\n\nfrom app.core import main\n\n\
                   if __name__ == \"__main__\":\n    asyncio.run(main(\"data.txt\"))\n";

const SERVER: &str = "import asyncio\n\nfrom app.core import main\n\n\n\
                      async def tick():\n    await asyncio.sleep(0.01)\n\n\n\
                      async def serve():\n    await asyncio.gather(main(\"data.txt\"), tick())\n\n\n\
                      if __name__ == \"__main__\":\n    asyncio.run(serve())\n";

fn offload_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("app/core.py:5:"))
        .unwrap_or_else(|| panic!("no finding at app/core.py:5 in\n{stdout}"))
}

#[test]
fn imported_entry_coroutine_runs_alone_no_hop() {
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/core.py", CORE.as_bytes()),
        ("run.py", RUN.as_bytes()),
        ("data.txt", b"hello"),
    ]);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let line = offload_line(&out.stdout);
    assert!(
        !line.contains("[*]"),
        "alone: no hop offered\n{}",
        out.stdout
    );
}

#[test]
fn imported_entry_coroutine_also_awaited_by_a_server_keeps_its_hop() {
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/core.py", CORE.as_bytes()),
        ("app/server.py", SERVER.as_bytes()),
        ("run.py", RUN.as_bytes()),
        ("data.txt", b"hello"),
    ]);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let line = offload_line(&out.stdout);
    assert!(line.contains("[*]"), "not alone: hop kept\n{}", out.stdout);
    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--no-cache", "--write", "."],
    );
    assert_ne!(fixed.code, None, "{}", fixed.stderr);
    let core = std::fs::read_to_string(dir.path().join("app/core.py")).unwrap();
    assert!(core.contains("to_thread"), "the hop was made:\n{core}");
    let py = test_python();
    for args in [&["run.py"][..], &["-m", "app.server"][..]] {
        let ran = python(&py).current_dir(dir.path()).args(args).output();
        assert_eq!(ran.code, Some(0), "{args:?}: {}\n{core}", ran.stderr);
        assert_eq!(ran.stdout.trim(), "5", "{args:?}");
    }
}

/// A project coroutine that fills a local list with tasks in a loop and gathers it, the
/// gather kept in a name and awaited on the next line (FediFetcher's getter wrappers).
const PARTS: &str = "import asyncio\n\n\nasync def part(n):\n    await asyncio.sleep(0.01)\n    \
                     return n\n\n\nasync def appended(n):\n    tasks = []\n    \
                     for i in range(n):\n        tasks.append(asyncio.ensure_future(part(i)))\n    \
                     return await asyncio.gather(*tasks)\n\n\nasync def kept(n):\n    \
                     tasks = [asyncio.ensure_future(part(i)) for i in range(n)]\n    \
                     futures = asyncio.gather(*tasks)\n    return await futures\n";

/// `main` in `app/core.py`, run by `run.py`: an offload after awaiting `gathered`.
fn core_after(gathered: &str) -> String {
    format!(
        "import asyncio\n\nfrom app import parts\n\n\nasync def main(path):\n    \
         await parts.{gathered}(3)\n    data = open(path).read()\n    print(len(data))\n"
    )
}

fn offload_after(gathered: &str) -> String {
    let core = core_after(gathered);
    let files: Vec<(&str, &[u8])> = vec![
        ("app/__init__.py", b""),
        ("app/parts.py", PARTS.as_bytes()),
        ("app/core.py", core.as_bytes()),
        ("run.py", RUN.as_bytes()),
        ("data.txt", b"hello"),
    ];
    let dir = project(&files);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("app/core.py:8:"))
        .unwrap_or_else(|| panic!("no finding at app/core.py:8 in\n{}", out.stdout));
    line.to_owned()
}

#[test]
fn after_a_project_coroutine_gathering_appended_or_kept_tasks_the_loop_is_alone() {
    for gathered in ["appended", "kept"] {
        let line = offload_after(gathered);
        assert!(!line.contains("[*]"), "{gathered}: alone again\n{line}");
    }
}

#[test]
fn a_gathered_list_used_for_something_else_is_no_containment() {
    // The list is also handed to a module global: a task may outlive the gather's caller.
    let parts = PARTS.replace(
        "    return await asyncio.gather(*tasks)\n",
        "    KEPT.append(tasks)\n    return await asyncio.gather(*tasks)\n",
    ) + "\n\nKEPT = []\n";
    let dir = project(&[
        ("app/__init__.py", b""),
        ("app/parts.py", parts.as_bytes()),
        ("app/core.py", core_after("appended").as_bytes()),
        ("run.py", RUN.as_bytes()),
        ("data.txt", b"hello"),
    ]);
    let out = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("app/core.py:8:"))
        .unwrap_or_else(|| panic!("no finding in\n{}", out.stdout));
    assert!(line.contains("[*]"), "doubt: hop kept\n{line}");
    let fixed = unfreeze_in(
        dir.path(),
        &["fix", "--isolated", "--no-cache", "--write", "."],
    );
    assert_ne!(fixed.code, None, "{}", fixed.stderr);
    let ran = python(&test_python())
        .current_dir(dir.path())
        .arg("run.py")
        .output();
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout.trim(), "5");
}
