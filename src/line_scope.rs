//! Which files and lines a run reports: every line of every file (no scope), or only the lines
//! changed since a git revision (`--since REV`, read from `git diff --unified=0 REV`). Lines are
//! 1-based and kept per canonical path, and they follow a file through the rounds of fixes, so
//! a fix never reaches outside them.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use similar::{DiffOp, TextDiff};

use crate::git::Git;

/// The lines of one file in scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lines {
    /// The whole file (a file the change added or renamed).
    All,
    /// These 1-based, inclusive line ranges.
    Ranges(Vec<RangeInclusive<usize>>),
}

impl Lines {
    /// Whether any line of `first..=last` is in scope.
    pub fn covers(&self, first: usize, last: usize) -> bool {
        match self {
            Lines::All => true,
            Lines::Ranges(ranges) => ranges
                .iter()
                .any(|range| *range.start() <= last && first <= *range.end()),
        }
    }

    /// The same lines after `old` became `new`: unchanged lines move with the text; lines a
    /// change replaced or inserted are in scope when the change touched a line in scope (an
    /// insertion counts when a line on either side of it is in scope).
    pub fn carried(&self, old: &str, new: &str) -> Lines {
        let Lines::Ranges(_) = self else {
            return Lines::All;
        };
        let mut ranges: Vec<RangeInclusive<usize>> = Vec::new();
        let mut push = |first: usize, last: usize| {
            if let Some(previous) = ranges.last_mut()
                && *previous.end() + 1 >= first
            {
                *previous = *previous.start()..=last.max(*previous.end());
            } else {
                ranges.push(first..=last);
            }
        };
        for op in TextDiff::from_lines(old, new).ops() {
            match *op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    for i in 0..len {
                        if self.covers(old_index + i + 1, old_index + i + 1) {
                            push(new_index + i + 1, new_index + i + 1);
                        }
                    }
                }
                _ => {
                    let (old_range, new_range) = (op.old_range(), op.new_range());
                    if new_range.is_empty() {
                        continue;
                    }
                    let touched = if old_range.is_empty() {
                        // An insertion between old lines `start` and `start + 1` (1-based).
                        self.covers(old_range.start.max(1), old_range.start + 1)
                    } else {
                        self.covers(old_range.start + 1, old_range.end)
                    };
                    if touched {
                        push(new_range.start + 1, new_range.end);
                    }
                }
            }
        }
        Lines::Ranges(ranges)
    }
}

/// The files (by canonical path) and lines a run reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineScope {
    files: HashMap<PathBuf, Lines>,
}

impl LineScope {
    /// Add `lines` of the file at `path` (made canonical when it exists).
    pub fn add(&mut self, path: &Path, lines: Lines) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match (self.files.get_mut(&path), lines) {
            (Some(Lines::Ranges(existing)), Lines::Ranges(more)) => existing.extend(more),
            (Some(existing), lines) => {
                if lines == Lines::All {
                    *existing = Lines::All;
                }
            }
            (None, lines) => {
                self.files.insert(path, lines);
            }
        }
    }

    /// The lines in scope of the file at `path`; `None` when none is.
    pub fn file(&self, path: &Path) -> Option<&Lines> {
        let path = std::fs::canonicalize(path).ok()?;
        self.files.get(&path)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The lines added or changed since `rev`, per file (deleted files and pure deletions add
/// nothing: there is no line left to fix).
pub fn changed_since(git: &Git, rev: &str) -> Result<LineScope, String> {
    let commit = format!("{rev}^{{commit}}");
    if !git.succeeds(&["rev-parse", "--verify", "--quiet", commit.as_str()]) {
        return Err(format!(
            "--since: `{rev}` is not a revision of this repository"
        ));
    }
    let diff = git.run(&[
        "-c",
        "core.quotePath=false",
        "diff",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        rev,
        "--",
    ])?;
    Ok(parse_diff(&diff, &git.root))
}

/// Parse `git diff --unified=0` output; paths are relative to `root`.
pub fn parse_diff(diff: &str, root: &Path) -> LineScope {
    let mut scope = LineScope::default();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            let path = unquote(path);
            current = path.strip_prefix("b/").map(str::to_owned);
        } else if line.starts_with("diff --git ") {
            current = None;
        } else if let (Some(hunk), Some(path)) = (line.strip_prefix("@@ "), &current)
            && let Some(range) = new_lines(hunk)
        {
            scope.add(&root.join(path), Lines::Ranges(vec![range]));
        }
    }
    scope
}

/// The new side of a hunk header `-a,b +c,d @@ ...`: lines c..=c+d-1, `None` when d is 0.
fn new_lines(hunk: &str) -> Option<std::ops::RangeInclusive<usize>> {
    let new = hunk.split(' ').find_map(|part| part.strip_prefix('+'))?;
    let (start, count) = match new.split_once(',') {
        Some((start, count)) => (start.parse::<usize>().ok()?, count.parse::<usize>().ok()?),
        None => (new.parse::<usize>().ok()?, 1),
    };
    (count > 0).then(|| start..=start + count - 1)
}

/// Undo git's C-style quoting of a path (`"b/a\tb.py"`); plain paths are returned as they are.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(7),
            Some(b'b') => bytes.push(8),
            Some(b'f') => bytes.push(12),
            Some(b'v') => bytes.push(11),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&next @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(next - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_overlapping_ranges_only() {
        let lines = Lines::Ranges(vec![3..=4, 10..=10]);
        assert!(lines.covers(4, 6));
        assert!(lines.covers(1, 3));
        assert!(lines.covers(10, 10));
        assert!(!lines.covers(5, 9));
        assert!(!lines.covers(11, 20));
        assert!(Lines::All.covers(1, 1));
    }

    #[test]
    fn carried_lines_follow_insertions_above() {
        let old = "a\nb\nc\nd\n";
        // Two header lines inserted at the top, line 3 (`c`) rewritten.
        let new = "x\ny\na\nb\nC\nd\n";
        let carried = Lines::Ranges(vec![3..=3]).carried(old, new);
        assert_eq!(carried, Lines::Ranges(vec![5..=5]));
        let carried = Lines::Ranges(vec![4..=4]).carried(old, new);
        assert_eq!(carried, Lines::Ranges(vec![6..=6]));
    }

    #[test]
    fn carried_lines_include_a_rewrite_that_grew() {
        let old = "a\nb\nc\n";
        let new = "a\nB1\nB2\nB3\nc\n";
        let carried = Lines::Ranges(vec![2..=2]).carried(old, new);
        assert_eq!(carried, Lines::Ranges(vec![2..=4]));
        let untouched = Lines::Ranges(vec![1..=1]).carried(old, new);
        assert!(untouched.covers(1, 1));
        assert!(!untouched.covers(3, 3), "{untouched:?}");
    }

    #[test]
    fn scope_is_keyed_by_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x\n").unwrap();
        let mut scope = LineScope::default();
        scope.add(&dir.path().join("a.py"), Lines::Ranges(vec![1..=1]));
        scope.add(&dir.path().join("./a.py"), Lines::Ranges(vec![5..=5]));
        let lines = scope.file(&dir.path().join(".").join("a.py")).unwrap();
        assert!(lines.covers(5, 5) && lines.covers(1, 1));
        assert!(scope.file(&dir.path().join("b.py")).is_none());
    }

    #[test]
    fn hunk_headers_give_the_new_lines() {
        assert_eq!(new_lines("-3,0 +4,2 @@ def f():"), Some(4..=5));
        assert_eq!(new_lines("-3 +3 @@"), Some(3..=3));
        assert_eq!(new_lines("-3,2 +2,0 @@"), None);
    }

    #[test]
    fn quoted_paths_are_unquoted() {
        assert_eq!(unquote("\"b/a\\tb.py\""), "b/a\tb.py");
        assert_eq!(unquote("\"b/caf\\303\\251.py\""), "b/café.py");
        assert_eq!(unquote("b/plain.py"), "b/plain.py");
    }

    #[test]
    fn diff_lines_per_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x\n").unwrap();
        let diff = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,0 +2,3 @@\n+x\n\
                    diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n";
        let scope = parse_diff(diff, dir.path());
        let lines = scope.file(&dir.path().join("a.py")).unwrap();
        assert!(lines.covers(2, 2) && lines.covers(4, 4) && !lines.covers(1, 1));
        assert!(!lines.covers(5, 9));
    }
}
