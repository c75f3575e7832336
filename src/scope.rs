//! Which files and lines a run reports: every line of every file (no scope), or only the lines
//! a change touched (`unfreeze bot --since REV`). Lines are 1-based and kept per canonical path,
//! and they follow a file through the rounds of fixes, so a fix never reaches outside them.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use similar::{DiffOp, TextDiff};

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
}
