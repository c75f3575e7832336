//! `--since REV`: the files and lines changed since a git revision, read from
//! `git diff --unified=0 REV` (the work tree against REV), as a [`LineScope`].

use std::path::Path;

use super::git::Git;
use crate::scope::{LineScope, Lines};

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
