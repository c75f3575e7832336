//! The git commands unfreeze needs (the bot, `--since`), run with `git` on the PATH (no libgit2): each returns its
//! trimmed stdout, or an error naming the command and git's own message.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git work tree, addressed by its top-level directory.
pub struct Git {
    pub root: PathBuf,
}

/// What the commit is signed with when git has no identity configured.
pub const FALLBACK_NAME: &str = "unfreeze";
pub const FALLBACK_EMAIL: &str = "unfreeze@localhost";

fn describe(args: &[&OsStr]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("git {}", words.join(" "))
}

/// Run git in `dir`; with `literal_paths`, file names are names, never pathspec patterns
/// (`git add -- 'a[1].py'`): only for the commands that accept it (add, commit).
fn run_in(dir: &Path, args: &[&OsStr], literal_paths: bool) -> Result<Output, String> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        // Scripts and CI must never wait for an editor or a password prompt.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_EDITOR", "true");
    if literal_paths {
        command.env("GIT_LITERAL_PATHSPECS", "1");
    }
    command.output().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => "git is not installed (not found on PATH)".to_owned(),
        _ => format!("could not run {}: {err}", describe(args)),
    })
}

fn checked(args: &[&OsStr], output: Output) -> Result<String, String> {
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!("`{}` failed: {}", describe(args), stderr.trim()))
}

impl Git {
    /// The work tree containing `dir`.
    pub fn discover(dir: &Path) -> Result<Git, String> {
        let args = [OsStr::new("rev-parse"), OsStr::new("--show-toplevel")];
        let output = run_in(dir, &args, false)?;
        if !output.status.success() {
            return Err(format!("{} is not inside a git repository", dir.display()));
        }
        let root = String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned();
        Ok(Git {
            root: PathBuf::from(root),
        })
    }

    /// Run git in the work tree; stdout on success.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String, String> {
        let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
        checked(&args, run_in(&self.root, &args, false)?)
    }

    /// Run a git command whose file arguments are literal names (`add`, `commit`).
    pub fn run_with_paths<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String, String> {
        let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
        checked(&args, run_in(&self.root, &args, true)?)
    }

    /// Whether a git command succeeds (for queries such as "does this ref exist").
    pub fn succeeds<S: AsRef<OsStr>>(&self, args: &[S]) -> bool {
        let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
        run_in(&self.root, &args, false).is_ok_and(|output| output.status.success())
    }

    /// Paths with uncommitted changes or untracked (not ignored), as `git status` shows them.
    pub fn dirty_paths(&self) -> Result<Vec<String>, String> {
        let status = self.run(&["status", "--porcelain=v1", "--untracked-files=all"])?;
        Ok(status
            .lines()
            .filter(|line| line.len() > 3)
            .map(|line| line[3..].to_owned())
            .collect())
    }

    /// Whether git can sign a commit with the configured identity (user.name / user.email or
    /// the GIT_AUTHOR_* / GIT_COMMITTER_* variables).
    pub fn has_identity(&self) -> bool {
        self.succeeds(&["var", "GIT_AUTHOR_IDENT"])
            && self.succeeds(&["var", "GIT_COMMITTER_IDENT"])
    }

    /// The current branch, `None` on a detached HEAD.
    pub fn current_branch(&self) -> Option<String> {
        self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .ok()
    }

    pub fn git_dir(&self) -> Result<PathBuf, String> {
        let dir = self.run(&["rev-parse", "--absolute-git-dir"])?;
        Ok(PathBuf::from(dir))
    }
}
