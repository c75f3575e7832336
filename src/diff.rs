//! Unified diffs of a fixed file, with `a/` and `b/` headers that `git apply` accepts: a
//! path is written as git writes it (C-quoted when it has a quote, a backslash, a control or a
//! non-ASCII character; followed by a tab when it has a space), and a missing final newline is
//! marked.

use std::io::{self, Write};

use colored::Colorize;
use similar::{DiffOp, TextDiff};

/// The unified diff from `old` to `new` for the file at `path` (as displayed).
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let path = path.trim_start_matches('/');
    let diff = TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .header(&header_name("a/", path), &header_name("b/", path))
        .to_string()
}

/// `prefix` and `path` as `git diff` writes them after `---` / `+++`.
fn header_name(prefix: &str, path: &str) -> String {
    let name = format!("{prefix}{path}");
    let needs_quotes = name
        .bytes()
        .any(|b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7f);
    if needs_quotes {
        return quote_c_style(&name);
    }
    // git ends a name that has a space with a tab, so trailing spaces are not lost.
    if name.contains(' ') {
        format!("{name}\t")
    } else {
        name
    }
}

/// The name in double quotes with C escapes, non-ASCII bytes in octal (git's default
/// `core.quotePath`).
fn quote_c_style(name: &str) -> String {
    let mut quoted = String::from("\"");
    for byte in name.bytes() {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            b'\t' => quoted.push_str("\\t"),
            b'\n' => quoted.push_str("\\n"),
            b'\r' => quoted.push_str("\\r"),
            0x07 => quoted.push_str("\\a"),
            0x08 => quoted.push_str("\\b"),
            0x0b => quoted.push_str("\\v"),
            0x0c => quoted.push_str("\\f"),
            b if !(0x20..0x7f).contains(&b) => quoted.push_str(&format!("\\{b:03o}")),
            b => quoted.push(b as char),
        }
    }
    quoted.push('"');
    quoted
}

/// For each 0-based line of `old`, the line of `new` it became: unchanged lines map exactly; a
/// changed line maps to the line at the same place in what replaced it; a deleted line to the
/// line after the deletion.
pub fn line_map(old: &str, new: &str) -> Vec<usize> {
    let diff = TextDiff::from_lines(old, new);
    let mut map = Vec::new();
    for op in diff.ops() {
        match *op {
            DiffOp::Equal { new_index, len, .. } => map.extend(new_index..new_index + len),
            DiffOp::Delete {
                old_len, new_index, ..
            } => map.extend(std::iter::repeat_n(new_index, old_len)),
            DiffOp::Insert { .. } => {}
            DiffOp::Replace {
                old_len,
                new_index,
                new_len,
                ..
            } => map.extend((0..old_len).map(|i| new_index + i.min(new_len - 1))),
        }
    }
    map
}

/// Write `diff` coloured (when colour is on): headers bold, removals red, additions green,
/// hunk headers cyan. Each line keeps its own terminator: a CRLF file's diff keeps its CRs, as
/// `git apply` needs them.
pub fn write_colored(out: &mut dyn Write, diff: &str) -> io::Result<()> {
    for line in diff.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let colored = if content.starts_with("+++") || content.starts_with("---") {
            content.bold()
        } else if content.starts_with('+') {
            content.green()
        } else if content.starts_with('-') {
            content.red()
        } else if content.starts_with("@@") {
            content.cyan()
        } else {
            content.normal()
        };
        write!(out, "{colored}{ending}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_git_headers() {
        let diff = unified_diff("pkg/a.py", "x = 1\n", "x = 2\n");
        assert!(
            diff.starts_with("--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n"),
            "{diff}"
        );
    }

    #[test]
    fn paths_are_quoted_as_git_quotes_them() {
        assert_eq!(header_name("a/", "pkg/plain.py"), "a/pkg/plain.py");
        assert_eq!(header_name("a/", "my file.py"), "a/my file.py\t");
        assert_eq!(header_name("b/", "quo\"te.py"), r#""b/quo\"te.py""#);
        assert_eq!(header_name("a/", "back\\slash.py"), r#""a/back\\slash.py""#);
        assert_eq!(header_name("a/", "tab\tx.py"), r#""a/tab\tx.py""#);
        assert_eq!(header_name("a/", "ünï.py"), r#""a/\303\274n\303\257.py""#);
    }

    #[test]
    fn lines_map_through_insertions_and_changes() {
        let old = "import time\nx = 1\ny = f(g())\nz = 3\n";
        let new = "import asyncio\nimport time\nx = 1\ny = f(await g())\nz = 3\n";
        assert_eq!(line_map(old, new), [1, 2, 3, 4]);
        assert_eq!(line_map("a\nb\nc\n", "a\nc\n"), [0, 1, 1]);
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let diff = unified_diff("a.py", "x = 1", "x = 2");
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
