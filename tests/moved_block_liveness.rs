//! A name a moved `with` block binds is live when the coroutine reads it after the block,
//! even where the read is on the right-hand side of the name's own rebinding
//! (`data = transform(data)`, `data += [1]`, `data = [x for x in data]`, `del data`): the
//! helper returns it and its result is assigned. A rebinding that reads nothing (`data = 5`)
//! still leaves it dead. Proven by running the rewritten programs with CPython.

mod common;

use std::path::Path;

use common::{project, python, test_python, unfreeze_in};

fn run_main(dir: &Path) -> (Option<i32>, String, String) {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    (output.code, output.stdout, output.stderr)
}

fn fix_write(dir: &Path, unsafe_fixes: bool) {
    let mut args = vec!["fix", "--isolated", "--no-cache", "--write"];
    if unsafe_fixes {
        args.push("--unsafe-fixes");
    }
    args.push(".");
    let output = unfreeze_in(dir, &args);
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
}

/// A coroutine reading `data` from a JSON file in a `with` block, then `after` (lines of the
/// coroutine, indented by four) and `print(...)` of `shown`.
fn program(after: &str, shown: &str) -> String {
    format!(
        "import asyncio\nimport json\n\n\n\
         def transform(d):\n    return d + [3]\n\n\n\
         async def load(path):\n    \
         # Not the only task: another task has run (else nothing is moved).\n    \
         await asyncio.create_task(asyncio.sleep(0))\n    \
         with open(path) as f:\n        data = json.load(f)\n\
         {after}    print({shown})\n\n\n\
         asyncio.run(load(\"p.json\"))\n"
    )
}

/// Fix `main.py` (`after` the block) with the safe fixes, check the block moved, run it and
/// compare with the original's output.
fn moves_and_runs(after: &str, shown: &str, expected: &str) -> String {
    let source = program(after, shown);
    let dir = project(&[("main.py", source.as_bytes()), ("p.json", b"[1, 2]")]);
    let (code, before, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(before.trim(), expected);
    fix_write(dir.path(), false);
    let fixed = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("await asyncio.to_thread("), "{fixed}");
    assert!(
        !fixed.contains("    with open(path) as f:\n        data"),
        "{fixed}"
    );
    let (code, after_fix, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "the fixed program fails:\n{fixed}\n{stderr}");
    assert_eq!(after_fix, before, "{fixed}");
    fixed
}

#[test]
fn a_rebinding_that_reads_the_name_keeps_it_live() {
    for (after, shown, expected) in [
        ("    data = transform(data)\n", "data", "[1, 2, 3]"),
        ("    data = data.copy()\n", "data", "[1, 2]"),
        ("    data: list = transform(data)\n", "data", "[1, 2, 3]"),
    ] {
        let fixed = moves_and_runs(after, shown, expected);
        assert!(
            fixed.contains("    data = await asyncio.to_thread("),
            "{fixed}"
        );
    }
}

#[test]
fn an_augmented_assignment_reads_the_name_first() {
    // Even when nothing reads the name after it (`total += 1` as the last word).
    for (shown, expected) in [("len([])", "0"), ("data", "[1, 2, 1]")] {
        let fixed = moves_and_runs("    data += [1]\n", shown, expected);
        assert!(
            fixed.contains("    data = await asyncio.to_thread("),
            "{fixed}"
        );
    }
}

#[test]
fn a_comprehension_over_the_name_reads_it() {
    let fixed = moves_and_runs("    data = [x * 2 for x in data]\n", "data", "[2, 4]");
    assert!(
        fixed.contains("    data = await asyncio.to_thread("),
        "{fixed}"
    );
}

#[test]
fn del_reads_the_name() {
    let fixed = moves_and_runs("    del data\n", "'gone'", "gone");
    assert!(
        fixed.contains("    data = await asyncio.to_thread("),
        "{fixed}"
    );
}

#[test]
fn a_rebinding_that_reads_nothing_leaves_the_name_dead() {
    let fixed = moves_and_runs("    data = 5\n", "data", "5");
    assert!(!fixed.contains("return data"), "{fixed}");
    assert!(!fixed.contains("data = await"), "{fixed}");
    assert!(fixed.contains("\n    await asyncio.to_thread("), "{fixed}");
}

/// What the block makes and the coroutine reads on the right-hand side of a rebinding
/// (`conn = wrap(conn)`) comes back to the event loop's thread: a sqlite3 connection made in
/// the worker thread would fail there, so the block does not move, even with
/// `--unsafe-fixes`, and the program still runs.
#[test]
fn a_thread_affine_object_read_by_its_rebinding_keeps_the_block_in_place() {
    let source = "import asyncio\nimport sqlite3\n\n\n\
                  def wrap(c):\n    return c\n\n\n\
                  async def load(path, db):\n    \
                  await asyncio.create_task(asyncio.sleep(0))\n    \
                  with open(path) as f:\n        conn = sqlite3.connect(db)\n        \
                  name = f.read().strip()\n    \
                  conn = wrap(conn)\n    \
                  print(conn.execute(\"select 1\").fetchone(), name)\n    \
                  conn.close()\n\n\n\
                  asyncio.run(load(\"p.txt\", \"x.db\"))\n";
    let dir = project(&[("main.py", source.as_bytes()), ("p.txt", b"hi\n")]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check
            .stdout
            .contains("makes the sqlite3 connection `conn` (line 12) and the coroutine reads it"),
        "{}",
        check.show()
    );
    fix_write(dir.path(), true);
    let (code, stdout, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "(1,) hi\n");
}

/// The hop merging that moves a check and its act into one worker thread decides the same
/// way: the `if` binds `removed` on one path, and its rebinding reads it
/// (`removed = "yes" if removed else "no"`), so the `if` does not move as a whole (each call
/// keeps its own hop) and the program still says the file was removed.
#[test]
fn a_moved_check_and_act_keeps_a_name_its_rebinding_reads() {
    let source = "import asyncio\nimport os\n\n\n\
                  async def main(p):\n    \
                  await asyncio.create_task(asyncio.sleep(0))\n    \
                  removed = False\n    \
                  if os.path.exists(p):\n        os.remove(p)\n        removed = True\n    \
                  removed = \"yes\" if removed else \"no\"\n    \
                  print(removed, os.path.exists(p))\n\n\n\
                  asyncio.run(main(\"gone.txt\"))\n";
    let dir = project(&[("main.py", source.as_bytes()), ("gone.txt", b"x")]);
    // Unsafe fixes: `p` is the caller's path, so a hop of the check or the act alone splits a
    // check-then-act two calls could run on one path (session 18), an unsafe fix.
    fix_write(dir.path(), true);
    let fixed = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("asyncio.to_thread(os.remove, p)"), "{fixed}");
    let (code, stdout, stderr) = run_main(dir.path());
    assert_eq!(code, Some(0), "{fixed}\n{stderr}");
    assert_eq!(stdout, "yes False\n", "{fixed}");
}
