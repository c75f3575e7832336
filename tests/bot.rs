//! `unfreeze bot` against real git: a work tree whose `origin` is a bare repository on disk.
//! Branch, commit content, pushed ref, pull-request body, refusals, `--since`, nothing to fix,
//! and `gh` (a recording stand-in on the PATH, or none at all).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Output, Run, unfreeze, write_files};

const SLEEPY: &str = "import time\n\nasync def f():\n    time.sleep(1)\n";
const SLEEPY_FIXED: &str = "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n";
/// A negative delay: the fix is unsafe, left for a human.
const UNSAFE: &str = "import time\n\nasync def g():\n    time.sleep(-1)\n";
/// `httpx.stream` in a coroutine: a display-only suggestion.
const STREAM: &str = "import httpx\n\nasync def s(url):\n    httpx.stream(\"GET\", url)\n";

/// A work tree with one commit of `files` and a bare repository as its `origin`.
struct Repo {
    _dir: tempfile::TempDir,
    work: PathBuf,
    remote: PathBuf,
    /// A git configuration with an identity, used instead of the user's.
    config: PathBuf,
}

/// `run` with `config` as git's only configuration, and no identity from the environment.
fn with_git_config(run: Run, config: &Path) -> Run {
    run.env("GIT_CONFIG_GLOBAL", config)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
}

/// `git ARGS` in `dir` with the configuration `config`.
fn git(dir: &Path, config: &Path, args: &[&str]) -> Output {
    with_git_config(Run::new("git").current_dir(dir).args(args), config).output()
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("gitconfig");
        fs::write(
            &config,
            "[user]\n\tname = Test Author\n\temail = author@example.test\n\
             [init]\n\tdefaultBranch = main\n",
        )
        .unwrap();
        let repo = Repo {
            work: dir.path().join("work"),
            remote: dir.path().join("remote.git"),
            config,
            _dir: dir,
        };
        fs::create_dir(&repo.work).unwrap();
        repo.git_ok(&["init", "--quiet", "--bare", repo.remote.to_str().unwrap()]);
        repo.git_ok(&["init", "--quiet"]);
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        write_files(&repo.work, &bytes);
        repo.git_ok(&["add", "."]);
        repo.git_ok(&["commit", "--quiet", "-m", "initial"]);
        repo.git_ok(&["remote", "add", "origin", repo.remote.to_str().unwrap()]);
        repo.git_ok(&["push", "--quiet", "origin", "main"]);
        repo
    }

    fn git_ok(&self, args: &[&str]) -> String {
        let output = git(&self.work, &self.config, args);
        assert_eq!(output.code, Some(0), "git {args:?}: {}", output.stderr);
        output.stdout.trim_end().to_owned()
    }

    fn commit_all(&self, message: &str) {
        self.git_ok(&["add", "."]);
        self.git_ok(&["commit", "--quiet", "-m", message]);
    }

    /// `unfreeze bot ARGS` in the work tree, with the repository's git configuration.
    fn bot_with(&self, args: &[&str]) -> Run {
        with_git_config(unfreeze(&self.work, &["bot"]).args(args), &self.config)
    }

    fn bot(&self, args: &[&str]) -> Output {
        self.bot_with(args).output()
    }

    fn head(&self) -> String {
        self.git_ok(&["rev-parse", "HEAD"])
    }

    fn branches(&self) -> Vec<String> {
        self.git_ok(&["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[test]
fn bot_commits_the_fixes_on_a_branch_pushes_it_and_explains_them() {
    let repo = Repo::new(&[
        ("app/a.py", SLEEPY),
        ("app/u.py", UNSAFE),
        ("app/s.py", STREAM),
        ("README.md", "# project\n"),
    ]);
    let start = repo.head();
    let short = repo.git_ok(&["rev-parse", "--short", "HEAD"]);
    let out = repo.bot(&[
        "--push",
        "origin",
        "--pr-body",
        "../body.md",
        "--docs-url",
        "https://docs.test/rules/",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let branch = format!("unfreeze/fixes-{short}");
    assert_eq!(repo.git_ok(&["symbolic-ref", "--short", "HEAD"]), branch);

    // One commit on top of the start, with exactly the fixed file, as `fix --write` makes it.
    assert_eq!(repo.git_ok(&["rev-parse", "HEAD~1"]), start);
    assert_eq!(
        repo.git_ok(&["diff", "--name-only", "HEAD~1", "HEAD"]),
        "app/a.py"
    );
    assert_eq!(
        repo.git_ok(&["show", "HEAD:app/a.py"]),
        SLEEPY_FIXED.trim_end()
    );
    assert_eq!(
        repo.git_ok(&["status", "--porcelain"]),
        "",
        "nothing left over"
    );
    let message = repo.git_ok(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("unfreeze: fix 1 blocking call in async code (1 file)\n"),
        "{message}"
    );
    assert!(
        message.contains("- ASYNC251 blocking-sleep: 1 fix"),
        "{message}"
    );
    assert!(message.contains("2 findings not changed"), "{message}");
    assert_eq!(
        repo.git_ok(&["log", "-1", "--format=%an <%ae>"]),
        "Test Author <author@example.test>"
    );

    // The branch is in the remote, at the new commit.
    let pushed = git(
        &repo.remote,
        &repo.config,
        &["rev-parse", &format!("refs/heads/{branch}")],
    );
    assert_eq!(pushed.code, Some(0), "the branch was pushed");
    assert_eq!(pushed.stdout.trim(), repo.head());

    // The body: a table for the rule with its docs, and what needs a human.
    let body = fs::read_to_string(repo.work.join("../body.md")).unwrap();
    assert!(
        out.stdout.is_empty(),
        "the body went to the file: {}",
        out.show()
    );
    assert!(
        body.contains("### ASYNC251 · blocking-sleep (1 change)"),
        "{body}"
    );
    assert!(
        body.contains("Documentation: [ASYNC251](https://docs.test/rules/ASYNC251.md)"),
        "{body}"
    );
    assert!(
        body.contains("| `app/a.py:4` | Replace with `await asyncio.sleep(...)` | safe |"),
        "{body}"
    );
    let human = body
        .split("### Needs a human (2 items)")
        .nth(1)
        .expect(&body);
    assert!(
        human.contains("| `app/u.py:4:5` | [ASYNC251](https://docs.test/rules/ASYNC251.md) |"),
        "{body}"
    );
    assert!(human.contains("unsafe fix not applied: "), "{body}");
    assert!(human.contains("| `app/s.py:4:5` | [ASYNC210]"), "{body}");
    assert!(human.contains("suggestion only ("), "{body}");
    assert!(
        !human.contains("app/a.py"),
        "the fixed call is not listed: {body}"
    );
}

#[test]
fn bot_prints_the_body_on_stdout_without_pr_body() {
    let repo = Repo::new(&[("a.py", SLEEPY)]);
    let out = repo.bot(&["--branch", "fix/loop"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        repo.git_ok(&["symbolic-ref", "--short", "HEAD"]),
        "fix/loop"
    );
    assert!(
        out.stdout.contains("### ASYNC251 · blocking-sleep"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("ASYNC251 (`unfreeze explain ASYNC251`)"),
        "without a docs URL the body points at `explain`: {}",
        out.show()
    );
    assert!(
        out.stderr.contains("created branch fix/loop"),
        "{}",
        out.show()
    );
}

#[test]
fn bot_refuses_a_dirty_work_tree_unless_allowed() {
    let repo = Repo::new(&[("a.py", SLEEPY), ("b.py", "x = 1\n")]);
    let start = repo.head();
    fs::write(repo.work.join("b.py"), "x = 2\n").unwrap();
    let out = repo.bot(&[]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("uncommitted changes (b.py)"),
        "{}",
        out.show()
    );
    assert!(out.stderr.contains("--allow-dirty"), "{}", out.show());
    assert_eq!(repo.branches(), ["main"]);
    assert_eq!(repo.head(), start);
    assert_eq!(fs::read_to_string(repo.work.join("a.py")).unwrap(), SLEEPY);

    // An untracked file counts too.
    repo.git_ok(&["checkout", "--", "b.py"]);
    fs::write(repo.work.join("new.py"), SLEEPY).unwrap();
    let out = repo.bot(&[]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("new.py"), "{}", out.show());

    // Allowed: the fixed files are committed, the other changes stay uncommitted.
    let out = repo.bot(&["--allow-dirty", "a.py"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        repo.git_ok(&["diff", "--name-only", "HEAD~1", "HEAD"]),
        "a.py"
    );
    assert_eq!(repo.git_ok(&["status", "--porcelain"]), "?? new.py");
}

#[test]
fn bot_since_fixes_only_the_lines_changed_since_a_revision() {
    let old = "import time\n\nasync def old():\n    time.sleep(1)\n";
    let repo = Repo::new(&[("a.py", old), ("untouched.py", SLEEPY)]);
    let base = repo.head();
    let grown = format!("{old}\n\nasync def new():\n    time.sleep(2)\n");
    fs::write(repo.work.join("a.py"), &grown).unwrap();
    fs::write(repo.work.join("added.py"), SLEEPY).unwrap();
    repo.commit_all("feature");
    let out = repo.bot(&["--since", &base]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let mut changed: Vec<String> = repo
        .git_ok(&["diff", "--name-only", "HEAD~1", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    changed.sort();
    assert_eq!(changed, ["a.py", "added.py"]);
    let a = repo.git_ok(&["show", "HEAD:a.py"]);
    assert!(
        a.contains("    time.sleep(1)"),
        "the old line is left alone:\n{a}"
    );
    assert!(
        a.contains("    await asyncio.sleep(2)"),
        "the new line is fixed:\n{a}"
    );
    assert_eq!(
        repo.git_ok(&["show", "HEAD:added.py"]),
        SLEEPY_FIXED.trim_end()
    );
    assert!(
        !out.stdout.contains("untouched.py") && !out.stdout.contains("a.py:4"),
        "findings outside the change are not reported: {}",
        out.show()
    );

    let out = repo.bot(&["--since", "no-such-rev", "--branch", "other"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("`no-such-rev` is not a revision"),
        "{}",
        out.show()
    );
}

#[test]
fn bot_with_nothing_to_fix_creates_nothing() {
    let repo = Repo::new(&[
        (
            "clean.py",
            "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n",
        ),
        ("u.py", UNSAFE),
    ]);
    let start = repo.head();
    let out = repo.bot(&["--push", "origin"]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stderr
            .contains("nothing to fix (1 finding needs a human: see `unfreeze check`); no branch or commit created"),
        "{}",
        out.show()
    );
    assert!(out.stdout.is_empty(), "{}", out.show());
    assert_eq!(repo.branches(), ["main"]);
    assert_eq!(repo.head(), start);
    let remote_branches = git(
        &repo.remote,
        &repo.config,
        &["branch", "--format=%(refname:short)"],
    );
    assert_eq!(remote_branches.stdout.trim(), "main");
}

#[test]
fn bot_refuses_before_changing_anything() {
    let repo = Repo::new(&[("a.py", SLEEPY)]);
    let start = repo.head();
    let out = repo.bot(&["--push", "upstream"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("`upstream` is not a remote"),
        "{}",
        out.show()
    );

    repo.git_ok(&["branch", "taken"]);
    let out = repo.bot(&["--branch", "taken"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("the branch `taken` already exists"),
        "{}",
        out.show()
    );

    let out = repo.bot(&["--branch", "bad..name"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("not a valid branch name"),
        "{}",
        out.show()
    );

    let out = repo.bot(&["--open-pr"]);
    assert_eq!(out.code, Some(2), "--open-pr needs --push: {}", out.show());

    let outside = tempfile::tempdir().unwrap();
    let out = unfreeze(outside.path(), &["bot"])
        .env("GIT_CEILING_DIRECTORIES", outside.path().parent().unwrap())
        .output();
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("is not inside a git repository"));

    assert_eq!(repo.branches(), ["main", "taken"]);
    assert_eq!(repo.head(), start);
    assert_eq!(fs::read_to_string(repo.work.join("a.py")).unwrap(), SLEEPY);
}

/// A directory holding only a link to `git`, to stand for a PATH without `gh`.
fn path_with_only_git(dir: &Path) -> PathBuf {
    let bin = dir.join("only-git");
    fs::create_dir(&bin).unwrap();
    let git = Run::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .stdout;
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    bin
}

#[test]
fn bot_open_pr_without_gh_says_so_and_changes_nothing() {
    let repo = Repo::new(&[("a.py", SLEEPY)]);
    let bin = path_with_only_git(repo.work.parent().unwrap());
    let out = repo
        .bot_with(&["--push", "origin", "--open-pr"])
        .env("PATH", &bin)
        .output();
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr
            .contains("--open-pr needs the GitHub CLI `gh`, which is not installed"),
        "{}",
        out.show()
    );
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn bot_open_pr_runs_gh_pr_create_with_the_body() {
    let repo = Repo::new(&[("a.py", SLEEPY)]);
    let root = repo.work.parent().unwrap();
    let bin = root.join("fake-gh");
    fs::create_dir(&bin).unwrap();
    let record = root.join("gh-args");
    // A stand-in for gh: records its arguments and the body file's content.
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{record}'\nwhile [ $# -gt 0 ]; do \
         if [ \"$1\" = --body-file ]; then cp \"$2\" '{record}.body'; fi; shift; done\n\
         echo https://github.test/o/r/pull/7\n",
        record = record.display()
    );
    fs::write(bin.join("gh"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(bin.join("gh"), fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = repo
        .bot_with(&["--push", "origin", "--open-pr", "--branch", "bot/pr"])
        .env("PATH", &path)
        .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let args: Vec<String> = fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        args[..5],
        ["pr", "create", "--head", "bot/pr", "--title"],
        "{args:?}"
    );
    assert_eq!(
        args[5],
        "unfreeze: fix 1 blocking call in async code (1 file)"
    );
    assert_eq!(args[6], "--body-file");
    assert_eq!(args[8..], ["--base", "main"], "{args:?}");
    let body = fs::read_to_string(format!("{}.body", record.display())).unwrap();
    assert_eq!(body, out.stdout, "gh gets the body that was printed");
    assert!(
        out.stderr
            .contains("opened the pull request https://github.test/o/r/pull/7"),
        "{}",
        out.show()
    );
    assert!(body.contains("### ASYNC251"), "{body}");
}

#[test]
fn bot_commits_with_a_fallback_identity_when_git_has_none() {
    let repo = Repo::new(&[("a.py", SLEEPY)]);
    let empty = repo.work.parent().unwrap().join("empty-gitconfig");
    fs::write(&empty, "").unwrap();
    let out = repo.bot_with(&[]).env("GIT_CONFIG_GLOBAL", &empty).output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(
        out.stderr
            .contains("committing as unfreeze <unfreeze@localhost>"),
        "{}",
        out.show()
    );
    assert_eq!(
        repo.git_ok(&["log", "-1", "--format=%an <%ae>"]),
        "unfreeze <unfreeze@localhost>"
    );
}

#[test]
fn bot_since_keeps_nested_fixes_inside_the_changed_lines() {
    // The inner call's fix overlaps the outer one's, so it is made in a second round on the
    // fixed text, where every line has moved: the changed lines must follow, or the old
    // function would be fixed in that round too.
    let old = "import os\nimport subprocess\n\nasync def old(p):\n    \
               subprocess.run([\"ls\", os.path.realpath(p)])\n";
    let repo = Repo::new(&[("a.py", old)]);
    let base = repo.head();
    let grown =
        format!("{old}\nasync def new(p):\n    subprocess.run([\"ls\", os.path.realpath(p)])\n");
    fs::write(repo.work.join("a.py"), &grown).unwrap();
    repo.commit_all("new");
    let out = repo.bot(&["--since", &base]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let a = repo.git_ok(&["show", "HEAD:a.py"]);
    assert!(
        a.contains("async def old(p):\n    subprocess.run([\"ls\", os.path.realpath(p)])\n"),
        "the old function is left alone:\n{a}"
    );
    assert!(
        a.contains(
            // One hop for both (issue 20: the nested second hop was the bug).
            "async def new(p):\n    await asyncio.to_thread(lambda: subprocess.run([\"ls\", \
             os.path.realpath(p)]))"
        ),
        "both nested calls of the new function are fixed:\n{a}"
    );
}

#[test]
fn bot_refuses_to_fix_files_it_cannot_commit() {
    let repo = Repo::new(&[("a.py", SLEEPY), (".gitignore", "generated/\n")]);
    fs::create_dir(repo.work.join("generated")).unwrap();
    fs::write(repo.work.join("generated/g.py"), SLEEPY).unwrap();
    let outside = repo.work.parent().unwrap().join("outside.py");
    fs::write(&outside, SLEEPY).unwrap();

    let out = repo.bot(&["a.py", "generated/g.py"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("generated/g.py is ignored by git"),
        "{}",
        out.show()
    );

    let out = repo.bot(&["a.py", outside.to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("is outside the git repository"),
        "{}",
        out.show()
    );

    assert_eq!(repo.branches(), ["main"]);
    assert_eq!(fs::read_to_string(repo.work.join("a.py")).unwrap(), SLEEPY);
    assert_eq!(fs::read_to_string(&outside).unwrap(), SLEEPY);
    // Walking the work tree skips the ignored directory: the bot runs.
    let out = repo.bot(&[]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        repo.git_ok(&["diff", "--name-only", "HEAD~1", "HEAD"]),
        "a.py"
    );
}

#[test]
fn bot_commits_files_whose_names_look_like_patterns() {
    let repo = Repo::new(&[("odd [1]*.py", SLEEPY), ("odd 1x.py", "x = 1\n")]);
    let out = repo.bot(&[]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(
        repo.git_ok(&[
            "-c",
            "core.quotePath=false",
            "diff",
            "--name-only",
            "HEAD~1",
            "HEAD"
        ]),
        "odd [1]*.py"
    );
    assert_eq!(
        repo.git_ok(&["show", "HEAD:odd [1]*.py"]),
        SLEEPY_FIXED.trim_end()
    );
    assert!(out.stdout.contains("| `odd [1]*.py:4` |"), "{}", out.show());
}

#[test]
fn check_and_fix_since_report_only_the_changed_lines() {
    // A reviewing bot annotates a pull request's own lines: `check --since`.
    let old = "import time\n\nasync def old():\n    time.sleep(1)\n";
    let repo = Repo::new(&[("a.py", old), ("untouched.py", SLEEPY)]);
    let base = repo.head();
    fs::write(
        repo.work.join("a.py"),
        format!("{old}\n\nasync def new():\n    time.sleep(2)\n"),
    )
    .unwrap();
    repo.commit_all("feature");
    let run = |args: &[&str]| unfreeze(&repo.work, args).output();
    let out = run(&["check", "--since", &base, "--format", "github"]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.show());
    assert!(lines[0].contains("file=a.py,line=8,"), "{}", out.show());

    let out = run(&["fix", "--since", &base]);
    assert_eq!(out.code, Some(1), "{}", out.show());
    assert!(
        out.stdout.contains("+    await asyncio.sleep(2)"),
        "{}",
        out.show()
    );
    assert!(!out.stdout.contains("asyncio.sleep(1)"), "{}", out.show());

    let out = run(&["check", "--since", &base, "-"]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("--since needs files"), "{}", out.show());
}

#[test]
fn interactive_review_since_proposes_only_the_changed_lines_in_every_round() {
    // Accepting the outer call's fix makes the review propose again, on the new text, what it
    // overlapped: that second round must stay on the changed lines too.
    let old = "import os\nimport subprocess\n\nasync def old(p):\n    \
               subprocess.run([\"ls\", os.path.realpath(p)])\n";
    let repo = Repo::new(&[("a.py", old)]);
    let base = repo.head();
    fs::write(
        repo.work.join("a.py"),
        format!("{old}\nasync def new(p):\n    subprocess.run([\"ls\", os.path.realpath(p)])\n"),
    )
    .unwrap();
    repo.commit_all("new");
    fs::write(repo.work.join("../keys"), "a a a a a a").unwrap();
    let out = unfreeze(
        &repo.work,
        &[
            "fix",
            "-i",
            "--review-script",
            "../keys",
            "--since",
            &base,
            "a.py",
        ],
    )
    .output();
    assert_eq!(out.code, Some(0), "{}", out.show());
    let a = fs::read_to_string(repo.work.join("a.py")).unwrap();
    assert!(
        a.contains("async def old(p):\n    subprocess.run([\"ls\", os.path.realpath(p)])\n"),
        "the old function is left alone:\n{a}\n{}",
        out.show()
    );
    assert!(
        a.contains(
            // One hop for both (issue 20: the nested second hop was the bug).
            "async def new(p):\n    await asyncio.to_thread(lambda: subprocess.run([\"ls\", \
             os.path.realpath(p)]))"
        ),
        "both nested calls of the new function are fixed:\n{a}\n{}",
        out.show()
    );
}
