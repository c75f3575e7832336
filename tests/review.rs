//! Interactive review (`unfreeze fix -i`), end to end: the real binary answered by a scripted
//! prompt (the hidden `--review-script`, keys on stdin), and by key presses in a real terminal
//! through tmux (skipped, saying why, when tmux is not installed).

mod common;

use common::{Output, Run, UNFREEZE as BIN, project, write_files};

use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Two sleeps and an HTTP call in one coroutine.
const APP: &str = "\
import time
import requests


async def handler(url):
    time.sleep(1)
    response = requests.get(url)
    time.sleep(2)
    return response.json()
";

/// One sleep.
const JOB: &str = "import time\n\n\nasync def job():\n    time.sleep(5)\n";

/// `fix -i` in `dir` answered with `keys`, plus `args`.
fn review(dir: &Path, keys: &str, args: &[&str]) -> Output {
    unfreeze(dir, &["fix", "-i", "--review-script", "-", "--color=never"])
        .args(args)
        .stdin(keys)
        .output()
}

/// `unfreeze ARGS` in `dir`, its output decoded lossily.
fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze(dir, args).lossy()
}

fn read(dir: &Path, path: &str) -> String {
    fs::read_to_string(dir.join(path)).unwrap()
}

#[test]
fn each_proposal_shows_location_rule_message_applicability_and_its_diff() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let out = review(dir.path(), "nnn", &["."]);
    let first = out.stdout.split("Apply this fix?").next().unwrap();
    for expected in [
        "[1/3] app.py:6:5: ASYNC251 blocking-sleep",
        "`time.sleep` blocks the event loop in async function `handler`",
        "safe fix: Replace with `await asyncio.sleep(...)`",
        "--- a/app.py\n+++ b/app.py\n",
        "+import asyncio\n import time\n import requests\n",
        "-    time.sleep(1)\n+    await asyncio.sleep(1)\n     response = requests.get(url)\n",
    ] {
        assert!(first.contains(expected), "{expected:?} missing:\n{first}");
    }
    assert!(
        out.stdout.contains("[3/3] app.py:8:5: ASYNC251"),
        "{}",
        out.show()
    );
    assert_eq!(
        read(dir.path(), "app.py"),
        APP,
        "nothing accepted, nothing written"
    );
    assert!(
        out.stdout.ends_with("Applied 0 changes in 0 files.\n"),
        "{}",
        out.show()
    );
    assert_eq!(out.code, Some(1), "findings are left");
}

#[test]
fn accepting_a_subset_writes_the_file_once_with_imports_added_and_left_in_use() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    // Accept the first sleep, skip the HTTP call and the second sleep.
    let out = review(dir.path(), "ynn", &["."]);
    assert_eq!(
        read(dir.path(), "app.py"),
        APP.replace("import time\n", "import asyncio\nimport time\n")
            .replace("time.sleep(1)", "await asyncio.sleep(1)"),
        "{}",
        out.show()
    );
    assert_eq!(
        out.stdout.matches("Wrote app.py").count(),
        1,
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains("Wrote app.py (1 change)."),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.ends_with("Applied 1 change in 1 file.\n"),
        "{}",
        out.show()
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn the_diff_of_a_later_proposal_is_shown_on_top_of_the_accepted_ones() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let out = review(dir.path(), "yny", &["."]);
    let third = out.stdout.split("[3/3]").nth(1).unwrap();
    let third = third.split("Apply this fix?").next().unwrap();
    // `import asyncio` is already there; the last sleep leaves `import time` unused.
    assert!(!third.contains("+import asyncio"), "{third}");
    assert!(third.contains("-import time\n"), "{third}");
    assert!(
        third.contains("-    time.sleep(2)\n+    await asyncio.sleep(2)\n"),
        "{third}"
    );
    let written = read(dir.path(), "app.py");
    assert!(
        written.starts_with("import asyncio\nimport requests\n"),
        "{written}"
    );
    assert!(
        written.contains("    response = requests.get(url)\n"),
        "{written}"
    );
    assert!(
        out.stdout.ends_with("Applied 2 changes in 1 file.\n"),
        "{}",
        out.show()
    );
}

#[test]
fn accepting_every_proposal_gives_what_fix_write_gives() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/demo/inventory_service");
    let files: Vec<(String, Vec<u8>)> = fs::read_dir(&demo)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                format!("svc/{}", path.file_name().unwrap().to_string_lossy()),
                fs::read(&path).unwrap(),
            )
        })
        .collect();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    let reviewed = project(&files);
    let written = project(&files);
    let out = review(reviewed.path(), &"y".repeat(500), &["--unsafe-fixes", "."]);
    let write = unfreeze(written.path(), &["fix", "--write", "--unsafe-fixes", "."]).output();
    // Both leave the findings without a fix: exit 1.
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert_eq!(write.code, Some(1), "{}", write.show());
    for (name, _) in &files {
        assert_eq!(
            read(reviewed.path(), name),
            read(written.path(), name),
            "{name}: review accepting everything differs from --write"
        );
    }
    let fixed: usize = write
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Fixed "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .expect("--write says how many it fixed");
    assert!(
        out.stdout.contains(&format!("Applied {fixed} changes in ")),
        "--write fixed {fixed}:\n{}",
        out.show()
    );
}

#[test]
fn a_accepts_every_remaining_proposal_of_the_rule_across_files() {
    let dir = project(&[("a.py", APP.as_bytes()), ("b.py", JOB.as_bytes())]);
    // `a` on the first sleep; the HTTP call is still asked about (skipped); the other sleeps,
    // in this file and the next, are applied without asking.
    let out = review(dir.path(), "an", &["."]);
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        2,
        "{}",
        out.show()
    );
    assert!(
        out.stdout.contains(
            "[3/4] a.py:8:5 ASYNC251 blocking-sleep: applied (all of this rule accepted)"
        ),
        "{}",
        out.show()
    );
    assert!(!read(dir.path(), "a.py").contains("time.sleep"));
    assert!(read(dir.path(), "a.py").contains("requests.get(url)"));
    assert_eq!(
        read(dir.path(), "b.py"),
        "import asyncio\n\n\nasync def job():\n    await asyncio.sleep(5)\n"
    );
    assert!(
        out.stdout.ends_with("Applied 3 changes in 2 files.\n"),
        "{}",
        out.show()
    );
}

#[test]
fn d_skips_the_rest_of_the_file_and_moves_to_the_next() {
    let dir = project(&[("a.py", APP.as_bytes()), ("b.py", JOB.as_bytes())]);
    let out = review(dir.path(), "ydy", &["."]);
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        3,
        "{}",
        out.show()
    );
    let a = read(dir.path(), "a.py");
    assert!(
        a.contains("await asyncio.sleep(1)") && a.contains("    time.sleep(2)"),
        "{a}"
    );
    assert!(read(dir.path(), "b.py").contains("await asyncio.sleep(5)"));
    assert!(out.stdout.contains("[3/4] b.py:5:5"), "{}", out.show());
}

#[test]
fn q_quits_keeping_what_was_accepted_and_touches_nothing_else() {
    let dir = project(&[("a.py", APP.as_bytes()), ("b.py", JOB.as_bytes())]);
    let out = review(dir.path(), "yq", &["."]);
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        2,
        "{}",
        out.show()
    );
    assert!(read(dir.path(), "a.py").contains("await asyncio.sleep(1)"));
    assert!(read(dir.path(), "a.py").contains("    time.sleep(2)"));
    assert_eq!(read(dir.path(), "b.py"), JOB);
    assert!(
        out.stdout.contains("  3 proposals were skipped."),
        "{}",
        out.show()
    );
    assert!(
        out.stdout.ends_with("Applied 1 change in 1 file.\n"),
        "{}",
        out.show()
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn the_end_of_the_script_quits_like_q() {
    let dir = project(&[("a.py", APP.as_bytes())]);
    let out = review(dir.path(), "y", &["."]);
    assert!(
        out.stdout.contains("End of input: quitting"),
        "{}",
        out.show()
    );
    assert!(read(dir.path(), "a.py").contains("await asyncio.sleep(1)"));
}

#[test]
fn help_and_unknown_keys_ask_again_without_deciding() {
    let dir = project(&[("b.py", JOB.as_bytes())]);
    let out = review(dir.path(), "?xy", &["."]);
    assert!(
        out.stdout
            .contains("a - apply this fix and every remaining fix of the same rule")
    );
    assert!(out.stdout.contains("s - add a suppression comment"));
    assert!(
        out.stdout
            .contains("Press y, n, a, d, s or q (? for help).")
    );
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        3,
        "{}",
        out.show()
    );
    assert_eq!(
        out.stdout.matches("[1/1]").count(),
        1,
        "the proposal is shown once"
    );
    assert!(read(dir.path(), "b.py").contains("await asyncio.sleep(5)"));
    assert_eq!(out.code, Some(0));
}

#[test]
fn s_adds_a_noqa_comment_merged_with_the_lines_own_and_check_is_then_clean() {
    let source = "\
import time
import requests


async def handler(url):
    time.sleep(1)  # noqa: RUF006 -- slow on purpose
    data = requests.post(url, data=\"\"\"
payload
\"\"\")
    time.sleep(2)  # type: ignore
    return data
";
    let dir = project(&[("app.py", source.as_bytes())]);
    let out = review(dir.path(), "sss", &["."]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let written = read(dir.path(), "app.py");
    assert_eq!(
        written,
        source
            .replace("# noqa: RUF006 -- slow", "# noqa: RUF006, ASYNC251 -- slow")
            .replace("\"\"\")\n", "\"\"\")  # noqa: ASYNC210\n")
            .replace("# type: ignore", "# type: ignore  # noqa: ASYNC251"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("Suppressed: time.sleep(1)  # noqa: RUF006, ASYNC251 -- slow on purpose")
    );
    assert!(
        out.stdout
            .contains("  3 findings were silenced with a suppression comment.")
    );
    let check = unfreeze(dir.path(), &["check", "."]).output();
    assert_eq!(check.code, Some(0), "{}", check.show());
}

#[test]
fn s_uses_the_unfreeze_form_in_a_file_that_uses_it() {
    let source = "import time\n\n\nasync def f():\n    time.sleep(1)  # unfreeze: ignore[RUF006]\n    time.sleep(2)\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let out = review(dir.path(), "ss", &["."]);
    assert_eq!(
        read(dir.path(), "a.py"),
        "import time\n\n\nasync def f():\n    time.sleep(1)  # unfreeze: ignore[RUF006, ASYNC251]\n    time.sleep(2)  # unfreeze: ignore[ASYNC251]\n",
        "{}",
        out.show()
    );
}

#[test]
fn a_suppression_and_a_fix_on_the_same_line_are_both_written() {
    let source = "import time\nimport requests\n\n\nasync def f(url):\n    return requests.get(url, timeout=time.sleep(1))\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    // Suppress the HTTP call, accept the sleep nested in it.
    let out = review(dir.path(), "sy", &["."]);
    assert_eq!(
        read(dir.path(), "a.py"),
        "import asyncio\nimport requests\n\n\nasync def f(url):\n    return requests.get(url, timeout=await asyncio.sleep(1))  # noqa: ASYNC210\n",
        "{}",
        out.show()
    );
    assert_eq!(out.code, Some(0), "{}", out.show());
}

#[test]
fn a_nested_call_overlapping_an_accepted_fix_is_proposed_again_on_the_fixed_text() {
    let source =
        "import requests\n\n\nasync def f(url):\n    return requests.get(requests.get(url).text)\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let written = project(&[("a.py", source.as_bytes())]);
    let out = review(dir.path(), "yy", &["."]);
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        2,
        "{}",
        out.show()
    );
    // Both calls share one hop now (issue 20: the nested second hop was the bug), so the
    // second is proposed in the same round, where it is in the text as read.
    assert!(
        out.stdout.contains("[2/2] a.py:5:25: ASYNC210"),
        "{}",
        out.show()
    );
    assert_eq!(
        unfreeze(written.path(), &["fix", "--write", "."])
            .output()
            .code,
        Some(0)
    );
    assert_eq!(read(dir.path(), "a.py"), read(written.path(), "a.py"));
    assert!(
        out.stdout.ends_with("Applied 2 changes in 1 file.\n"),
        "{}",
        out.show()
    );
}

#[test]
fn a_skipped_outer_call_is_not_asked_again_after_its_nested_call_is_fixed() {
    let source =
        "import requests\n\n\nasync def f(url):\n    return requests.get(requests.get(url).text)\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let out = review(dir.path(), "ny", &["."]);
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        2,
        "{}",
        out.show()
    );
    // The nested call's fix is the one hop for both (issue 20), as its diff shows.
    assert!(
        read(dir.path(), "a.py").contains(
            "return await asyncio.to_thread(lambda: requests.get(requests.get(url).text))"
        ),
        "{}",
        out.show()
    );
}

/// Two blocks that reuse the name `f` (the first in a loop): each moves to a thread, and the
/// review applies exactly what `fix --write` applies.
#[test]
fn blocks_reusing_a_name_are_both_proposed_and_the_review_matches_write() {
    let source = "import json\n\n\nasync def init(paths, recipe):\n    found = []\n    \
                  for r in paths:\n        with open(r) as f:\n            found.append(json.load(f))\n    \
                  with open(recipe) as f:\n        inputs = json.load(f)\n    return found, inputs\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let written = project(&[("a.py", source.as_bytes())]);
    // The first block's fix (in a loop, appending to a list) is unsafe.
    let out = review(dir.path(), "yy", &["--unsafe-fixes", "."]);
    assert!(
        out.stdout.contains("[1/2] a.py:7:14: ASYNC230"),
        "{}",
        out.show()
    );
    assert!(out.stdout.contains("[2/2] a.py:"), "{}", out.show());
    assert!(
        out.stdout.ends_with("Applied 2 changes in 1 file.\n"),
        "{}",
        out.show()
    );
    assert_eq!(out.code, Some(0), "{}", out.show());
    let write = unfreeze(written.path(), &["fix", "--write", "--unsafe-fixes", "."]).output();
    assert_eq!(write.code, Some(0), "{}", write.show());
    assert_eq!(read(dir.path(), "a.py"), read(written.path(), "a.py"));
}

#[test]
fn unsafe_fixes_are_offered_only_with_unsafe_fixes_and_state_the_behaviour_change() {
    let source = "import time\n\n\nasync def f():\n    time.sleep(-1)\n";
    let dir = project(&[("a.py", source.as_bytes())]);
    let out = review(dir.path(), "y", &["."]);
    assert!(out.stdout.contains("No fixes to review."), "{}", out.show());
    assert!(
        out.stdout.contains(
            "1 unsafe fix changes behaviour in a stated way: applied only with `--unsafe-fixes`."
        ),
        "{}",
        out.show()
    );
    assert_eq!(read(dir.path(), "a.py"), source);
    let out = review(dir.path(), "y", &["--unsafe-fixes", "."]);
    assert!(
        out.stdout.contains("unsafe fix: Replace with"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("behaviour change: a negative delay raises `ValueError`"),
        "{}",
        out.show()
    );
    assert!(read(dir.path(), "a.py").contains("await asyncio.sleep(-1)"));
}

#[test]
fn without_a_terminal_review_refuses_with_exit_2_and_touches_nothing() {
    let dir = project(&[("b.py", JOB.as_bytes())]);
    // No stdin given: it is /dev/null.
    let output = unfreeze(dir.path(), &["fix", "-i", "."]).output();
    assert_eq!(output.code, Some(2));
    let stderr = &output.stderr;
    assert!(
        stderr
            .contains("`fix -i` asks about each fix in a terminal, and stdin or stdout is not one"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert_eq!(read(dir.path(), "b.py"), JOB);
}

#[test]
fn review_refuses_stdin_write_and_machine_formats() {
    let dir = project(&[("b.py", JOB.as_bytes())]);
    for args in [
        &["fix", "-i", "--review-script", "-", "-"][..],
        &["fix", "-i", "--write", "."],
        &["fix", "-i", "--review-script", "-", "--format", "json", "."],
    ] {
        let out = unfreeze(dir.path(), args).output();
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.show());
    }
    assert_eq!(read(dir.path(), "b.py"), JOB);
}

#[test]
fn a_file_changed_while_under_review_is_not_overwritten() {
    let dir = project(&[("b.py", JOB.as_bytes())]);
    let mut child = unfreeze(
        dir.path(),
        &["fix", "-i", "--review-script", "-", "--color=never", "."],
    )
    .command()
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Wait for the question (it has no newline: read byte by byte).
    let mut shown = Vec::new();
    let mut byte = [0u8];
    while !String::from_utf8_lossy(&shown).contains("Apply this fix?") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "the review ended early");
        shown.push(byte[0]);
    }
    let edited = JOB.replace("job", "edited_job");
    fs::write(dir.path().join("b.py"), &edited).unwrap();
    child.stdin.take().unwrap().write_all(b"y").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{rest}\n{stderr}");
    assert!(
        stderr.contains("b.py: the file changed on disk since it was read; not overwritten"),
        "{stderr}"
    );
    assert_eq!(read(dir.path(), "b.py"), edited);
    assert!(rest.contains("Applied 0 changes in 0 files."), "{rest}");
}

#[test]
fn quiet_leaves_out_the_table_but_not_the_closing_line() {
    let dir = project(&[("b.py", JOB.as_bytes())]);
    let out = review(dir.path(), "n", &["--quiet", "."]);
    assert!(!out.stdout.contains("findings by rule"), "{}", out.show());
    assert!(
        out.stdout.ends_with("Applied 0 changes in 0 files.\n"),
        "{}",
        out.show()
    );
}

// ---------------------------------------------------------------- a real terminal (tmux)

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None` (after saying why) when tmux is not installed.
    fn start(name: &str, dir: &Path, command: &str) -> Option<Tmux> {
        let installed = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            eprintln!("skipping {name}: tmux is not installed (.ci/run installs it)");
            return None;
        }
        let tmux = Tmux {
            socket: format!("unfreeze-test-{}-{name}", std::process::id()),
        };
        let status = tmux
            .command()
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "120",
                "-y",
                "60",
                "-c",
            ])
            .arg(dir)
            .arg(command)
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Some(tmux)
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    /// The screen's text (`escapes`: with its colour escapes).
    fn screen(&self, escapes: bool) -> String {
        let mut command = self.command();
        command.args(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
        if escapes {
            command.arg("-e");
        }
        String::from_utf8_lossy(&command.output().unwrap().stdout).into_owned()
    }

    /// Wait until the screen shows `text` `times` times.
    fn wait_for(&self, text: &str, times: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen(false);
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "t", "-l", keys])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// The shell command tmux runs: the binary, then its exit status, then a pause so the pane
/// stays to be read.
fn in_terminal(args: &str) -> String {
    format!("env -u NO_COLOR {BIN} {args}; echo \"exit status $?\"; sleep 60")
}

#[test]
fn review_in_a_real_terminal_through_tmux() {
    let dir = project(&[("a.py", APP.as_bytes()), ("b.py", JOB.as_bytes())]);
    let Some(tmux) = Tmux::start("review", dir.path(), &in_terminal("fix -i .")) else {
        return;
    };
    let screen = tmux.wait_for("Apply this fix? [y,n,a,d,s,q,?]", 1);
    assert!(
        screen.contains("[1/4] a.py:6:5: ASYNC251 blocking-sleep"),
        "{screen}"
    );
    assert!(screen.contains("+    await asyncio.sleep(1)"), "{screen}");
    // In a terminal the diff is coloured (green additions).
    assert!(
        tmux.screen(true)
            .contains("\u{1b}[32m+    await asyncio.sleep(1)"),
        "{}",
        tmux.screen(true)
    );
    // Single key presses, no Enter: accept, skip, help, then accept the rule.
    tmux.keys("y");
    tmux.wait_for("[2/4] a.py:7:16: ASYNC210", 1);
    tmux.keys("n");
    tmux.wait_for("[3/4] a.py:8:5: ASYNC251", 1);
    tmux.keys("?");
    tmux.wait_for("q - quit: write the fixes accepted so far", 1);
    tmux.keys("a");
    let screen = tmux.wait_for("exit status", 1);
    assert!(screen.contains("Wrote a.py (2 changes)."), "{screen}");
    assert!(
        screen.contains(
            "[4/4] b.py:5:5 ASYNC251 blocking-sleep: applied (all of this rule accepted)"
        ),
        "{screen}"
    );
    assert!(screen.contains("Applied 3 changes in 2 files."), "{screen}");
    assert!(screen.contains("exit status 1"), "{screen}");
    let a = read(dir.path(), "a.py");
    assert!(
        a.contains("await asyncio.sleep(1)")
            && a.contains("requests.get(url)")
            && a.contains("await asyncio.sleep(2)"),
        "{a}"
    );
    assert!(read(dir.path(), "b.py").contains("await asyncio.sleep(5)"));
}

#[test]
fn q_in_a_real_terminal_keeps_the_accepted_fixes() {
    let dir = project(&[("a.py", APP.as_bytes()), ("b.py", JOB.as_bytes())]);
    let Some(tmux) = Tmux::start("quit", dir.path(), &in_terminal("fix -i .")) else {
        return;
    };
    tmux.wait_for("Apply this fix?", 1);
    tmux.keys("y");
    tmux.wait_for("Apply this fix?", 2);
    tmux.keys("q");
    let screen = tmux.wait_for("exit status", 1);
    assert!(screen.contains("Applied 1 change in 1 file."), "{screen}");
    assert!(read(dir.path(), "a.py").contains("await asyncio.sleep(1)"));
    assert_eq!(read(dir.path(), "b.py"), JOB);
}

/// The progress bar of a long run is drawn on stderr in a terminal (recorded raw with
/// `pipe-pane`, since it is erased at the end) and never when stderr is not a terminal.
#[test]
fn a_long_run_draws_a_progress_bar_in_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, &[u8])> = (0..3000)
        .map(|i| (format!("pkg{}/m{i}.py", i % 20), JOB.as_bytes()))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    write_files(dir.path(), &files);
    let piped = unfreeze(dir.path(), &["check", "."])
        .env("UNFREEZE_PROGRESS_DELAY_MS", "0")
        .output();
    assert!(
        piped.stdout.contains("(3000 files checked)"),
        "{}",
        piped.stderr
    );
    assert!(!piped.stderr.contains("checking"), "{}", piped.stderr);
    let log = dir.path().join("terminal.log");
    // `sleep 1`: the pipe is set up before the run starts. A delay of 0 draws the bar at
    // once, however fast the machine (a real run waits 300 ms first). `--no-cache`: the run
    // above left a cache this one would replay at once.
    let command = format!(
        "sleep 1; UNFREEZE_PROGRESS_DELAY_MS=0 {BIN} check --no-cache . >/dev/null; echo \"exit status $?\"; sleep 60"
    );
    let Some(tmux) = Tmux::start("progress", dir.path(), &command) else {
        return;
    };
    let status = tmux
        .command()
        .args(["pipe-pane", "-o", "-t", "t"])
        .arg(format!("cat >> '{}'", log.display()))
        .status()
        .unwrap();
    assert!(status.success());
    tmux.wait_for("exit status 1", 1);
    let raw = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        raw.contains("checking") && raw.contains("/3000 files"),
        "no progress bar in the terminal's output:\n{raw}"
    );
    let quiet = dir.path().join("quiet.log");
    let command = format!(
        "sleep 1; UNFREEZE_PROGRESS_DELAY_MS=0 {BIN} check -q --no-cache . >/dev/null; echo \"exit status $?\"; sleep 60"
    );
    let Some(tmux) = Tmux::start("progress-quiet", dir.path(), &command) else {
        return;
    };
    tmux.command()
        .args(["pipe-pane", "-o", "-t", "t"])
        .arg(format!("cat >> '{}'", quiet.display()))
        .status()
        .unwrap();
    tmux.wait_for("exit status 1", 1);
    let raw = fs::read_to_string(&quiet).unwrap_or_default();
    assert!(!raw.contains("checking"), "--quiet drew a bar:\n{raw}");
}

/// The review's later rounds keep the project phase's view: a call of a blocking project
/// function nested in one whose fix was accepted is proposed again, as `fix --write` fixes it.
#[test]
fn a_nested_project_call_is_proposed_again_in_the_next_round() {
    let files: &[(&str, &[u8])] = &[
        ("pkg/__init__.py", b""),
        (
            "pkg/helpers.py",
            b"import time\n\n\ndef slow(x):\n    time.sleep(1)\n    return x\n",
        ),
        (
            "pkg/app.py",
            b"from pkg.helpers import slow\n\n\nasync def main():\n    return slow(slow(1))\n",
        ),
    ];
    let reviewed = project(files);
    let written = project(files);
    let out = review(
        reviewed.path(),
        "yy",
        &["--unsafe-fixes", "--no-cache", "."],
    );
    assert_eq!(
        out.stdout.matches("Apply this fix?").count(),
        2,
        "{}",
        out.show()
    );
    let write = unfreeze(
        written.path(),
        &["fix", "--write", "--unsafe-fixes", "--no-cache", "."],
    )
    .output();
    assert_eq!(write.code, Some(0), "{}", write.show());
    let app = read(reviewed.path(), "pkg/app.py");
    assert!(
        // One hop for both (issue 20: the nested second hop was the bug).
        app.contains("await asyncio.to_thread(lambda: slow(slow(1)))"),
        "{app}"
    );
    assert_eq!(app, read(written.path(), "pkg/app.py"));
}
