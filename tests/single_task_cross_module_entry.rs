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
