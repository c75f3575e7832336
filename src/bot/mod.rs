//! `unfreeze bot`: the pull-request workflow in a git repository. Refuse a dirty work tree,
//! compute the fixes (optionally only on the lines changed since a revision), and when there
//! are any: create a branch, write them, commit, write the pull-request body, push to a remote
//! and open the pull request with `gh`. Every check that can fail is done before anything
//! changes (docs/bot.md).

pub mod body;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{self, BotArgs};
use crate::codemod::Registry;
use crate::git::{FALLBACK_EMAIL, FALLBACK_NAME, Git};
use crate::outcome::ExitStatus;
use crate::plan::{Plan, PlanRecorder, apply_plan};
use crate::report::Format;
use crate::run::run;
use crate::settings::Mode;
use body::{DocsLinks, RepoFile, commit_message, pull_request_body, title};

/// A program on the PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn is_valid_branch(git: &Git, name: &str) -> bool {
    git.succeeds(&["check-ref-format", "--branch", name])
}

/// The path of a planned file relative to the repository's top level; `None` outside it.
fn repo_path(root: &Path, path: &Path) -> Option<String> {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    absolute
        .strip_prefix(&root)
        .ok()
        .map(|relative| relative.display().to_string())
}

/// A fixed file the commit could not hold: outside the work tree, or ignored by git.
fn uncommittable(git: &Git, files: &[RepoFile<'_>]) -> Option<String> {
    files
        .iter()
        .filter(|f| f.file.fixed.is_some())
        .find_map(|f| {
            if f.outside {
                Some(format!("{} is outside the git repository", f.file.path))
            } else if git.succeeds(&["check-ignore", "--quiet", "--", f.path.as_str()]) {
                Some(format!("{} is ignored by git", f.path))
            } else {
                None
            }
        })
}

/// The bot command. Messages go to `err`; the pull-request body to `out` (or `--pr-body`).
pub fn execute_bot(
    args: &BotArgs,
    registry: &Registry,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitStatus> {
    match bot(args, registry, out, err) {
        Ok(status) => Ok(status),
        Err(BotError::Io(error)) => Err(error),
        Err(BotError::Message(message)) => {
            writeln!(err, "error: {message}")?;
            Ok(ExitStatus::Error)
        }
    }
}

enum BotError {
    Io(io::Error),
    Message(String),
}

impl From<io::Error> for BotError {
    fn from(error: io::Error) -> BotError {
        BotError::Io(error)
    }
}

impl From<String> for BotError {
    fn from(message: String) -> BotError {
        BotError::Message(message)
    }
}

/// Where the bot starts: the short hash of HEAD and the branch it will create.
struct Start {
    head: String,
    branch: String,
}

/// The checks that can refuse a run, before anything changes.
fn preflight(args: &BotArgs, git: &Git) -> Result<Start, BotError> {
    if args.open_pr && find_program("gh").is_none() {
        return Err(
            "--open-pr needs the GitHub CLI `gh`, which is not installed (not found \
                    on PATH); install it from https://cli.github.com, or leave out --open-pr \
                    and open the pull request with the body the bot writes"
                .to_owned()
                .into(),
        );
    }
    if let Some(remote) = &args.push
        && !git.succeeds(&["remote", "get-url", remote.as_str()])
    {
        return Err(format!(
            "--push: `{remote}` is not a remote of this repository (see `git remote -v`)"
        )
        .into());
    }
    if !args.allow_dirty {
        let dirty = git.dirty_paths()?;
        if !dirty.is_empty() {
            let shown: Vec<_> = dirty.iter().take(5).map(String::as_str).collect();
            return Err(format!(
                "the work tree has uncommitted changes ({}{}); commit or stash them, or pass \
                 --allow-dirty",
                shown.join(", "),
                if dirty.len() > 5 { ", ..." } else { "" }
            )
            .into());
        }
    }
    let head = git
        .run(&["rev-parse", "--short", "HEAD"])
        .map_err(|e| format!("the repository has no commit yet: {e}"))?;
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| format!("unfreeze/fixes-{head}"));
    if !is_valid_branch(git, &branch) {
        return Err(format!("`{branch}` is not a valid branch name").into());
    }
    if git.succeeds(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("refs/heads/{branch}"),
    ]) {
        return Err(format!(
            "the branch `{branch}` already exists; delete it or name another with --branch"
        )
        .into());
    }
    Ok(Start { head, branch })
}

/// Commit `paths` (relative to the work tree) with `message`, as git's identity or, when git
/// has none, as unfreeze.
fn commit(git: &Git, paths: &[&str], message: &str, err: &mut dyn Write) -> Result<(), BotError> {
    let mut add = vec!["add", "--"];
    add.extend(paths);
    git.run_with_paths(&add)?;
    let mut commit: Vec<String> = Vec::new();
    if !git.has_identity() {
        writeln!(
            err,
            "unfreeze bot: git has no user.name/user.email; committing as {FALLBACK_NAME} \
             <{FALLBACK_EMAIL}>"
        )?;
        commit.extend([
            "-c".to_owned(),
            format!("user.name={FALLBACK_NAME}"),
            "-c".to_owned(),
            format!("user.email={FALLBACK_EMAIL}"),
        ]);
    }
    commit.extend(
        [
            "commit",
            "--quiet",
            "--no-verify",
            "--message",
            message,
            "--",
        ]
        .map(str::to_owned),
    );
    commit.extend(paths.iter().map(|p| (*p).to_owned()));
    git.run_with_paths(&commit)?;
    Ok(())
}

fn bot(
    args: &BotArgs,
    registry: &Registry,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitStatus, BotError> {
    let common = &args.common;
    if common.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err("the bot works on files in a git repository, not on stdin"
            .to_owned()
            .into());
    }
    if common.statistics {
        return Err("--statistics is only for `unfreeze check`"
            .to_owned()
            .into());
    }
    if common.exit_zero {
        return Err("--exit-zero is for check and fix: the bot exits 0 or 2"
            .to_owned()
            .into());
    }
    if common.format != Format::Text {
        return Err(
            "the bot writes Markdown (the pull-request body); --format is for check and fix"
                .to_owned()
                .into(),
        );
    }
    let mode = Mode::Fix {
        write: false,
        unsafe_fixes: args.unsafe_fixes,
    };
    let settings = cli::settings(common, mode, registry)?;
    let registry = registry
        .with_configured_calls(&settings.config.blocking_calls)?
        .with_offload(&settings.config.offload);

    // Everything that can refuse the run is checked before anything changes.
    let git = Git::discover(&std::env::current_dir()?)?;
    let Start { head, branch } = preflight(args, &git)?;
    let start_branch = git.current_branch();

    // Compute the fixes without writing anything.
    let mut recorder = PlanRecorder::new(Plan::new(args.unsafe_fixes), None);
    let summary = run(&settings, &registry, &mut recorder)?;
    let plan = recorder.plan;
    let errors = recorder.errors;
    for (path, message) in &errors {
        writeln!(err, "error: {path}: {message}")?;
    }
    let files: Vec<RepoFile<'_>> = plan
        .files
        .iter()
        .map(|file| match repo_path(&git.root, &file.local_path) {
            Some(path) => RepoFile {
                path,
                file,
                outside: false,
            },
            None => RepoFile {
                path: file.path.clone(),
                file,
                outside: true,
            },
        })
        .collect();
    let error_status = if summary.errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    };
    if plan.fixed_files().next().is_none() {
        let left = body::needs_human(&files).len();
        writeln!(
            err,
            "unfreeze bot: nothing to fix{}; no branch or commit created",
            if left > 0 {
                format!(
                    " ({left} finding{} need{} a human: see `unfreeze check`)",
                    if left == 1 { "" } else { "s" },
                    if left == 1 { "s" } else { "" }
                )
            } else {
                String::new()
            }
        )?;
        return Ok(error_status);
    }

    if let Some(problem) = uncommittable(&git, &files) {
        return Err(format!(
            "{problem}: the bot commits every file it fixes; leave it out of PATHS or \
             --exclude it"
        )
        .into());
    }

    // Branch, write, commit.
    git.run(&["switch", "--quiet", "--create", branch.as_str()])?;
    writeln!(err, "unfreeze bot: created branch {branch} from {head}")?;
    let outcome = apply_plan(&plan, Path::new(""), false, true);
    if !outcome.refused.is_empty() || !outcome.errors.is_empty() {
        let problems: Vec<String> = outcome
            .refused
            .iter()
            .chain(&outcome.errors)
            .map(|r| format!("{}: {}", r.path, r.reason))
            .collect();
        return Err(format!(
            "nothing committed: files changed while the bot ran ({}); branch `{branch}` is \
             checked out",
            problems.join("; ")
        )
        .into());
    }
    let changed: Vec<&str> = files
        .iter()
        .filter(|f| f.file.fixed.is_some())
        .map(|f| f.path.as_str())
        .collect();
    commit(&git, &changed, &commit_message(&files, &registry), err)?;
    let commit_id = git.run(&["rev-parse", "--short", "HEAD"])?;
    writeln!(
        err,
        "unfreeze bot: committed {commit_id}: {} ({})",
        title(&files),
        changed.join(", ")
    )?;

    // The pull-request body.
    let docs = DocsLinks::new(args.docs_url.as_deref());
    let pr_body = pull_request_body(&plan, &files, &errors, &registry, &docs);
    let body_file = match &args.pr_body {
        Some(path) => {
            std::fs::write(path, &pr_body)
                .map_err(|e| format!("could not write {}: {e}", path.display()))?;
            writeln!(
                err,
                "unfreeze bot: pull-request body written to {}",
                path.display()
            )?;
            Some(path.clone())
        }
        None => {
            out.write_all(pr_body.as_bytes())?;
            out.flush()?;
            None
        }
    };

    if let Some(remote) = &args.push {
        git.run(&[
            "push",
            "--quiet",
            "--set-upstream",
            remote.as_str(),
            branch.as_str(),
        ])?;
        writeln!(err, "unfreeze bot: pushed {branch} to {remote}")?;
    }
    if args.open_pr {
        let body_file = match body_file {
            Some(path) => path,
            None => {
                let path = git.git_dir()?.join("unfreeze-pr-body.md");
                std::fs::write(&path, &pr_body)?;
                path
            }
        };
        let mut gh = Command::new("gh");
        gh.current_dir(&git.root)
            .args(["pr", "create", "--head", branch.as_str(), "--title"])
            .arg(title(&files))
            .arg("--body-file")
            .arg(&body_file);
        if let Some(base) = args.base.as_ref().or(start_branch.as_ref()) {
            gh.args(["--base", base.as_str()]);
        }
        // gh's own output goes to stderr: stdout is the body's.
        let output = gh
            .output()
            .map_err(|e| format!("could not run `gh pr create`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`gh pr create` failed ({}): {}; the branch {branch} is pushed, the body is \
                 in {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                body_file.display()
            )
            .into());
        }
        writeln!(
            err,
            "unfreeze bot: opened the pull request {}",
            String::from_utf8_lossy(&output.stdout).trim()
        )?;
    }
    Ok(error_status)
}
