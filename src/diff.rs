//! Unified diffs of a fixed file, with `a/` and `b/` headers that `git apply` accepts.

use similar::TextDiff;

/// The unified diff from `old` to `new` for the file at `path` (as displayed).
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let path = path.trim_start_matches('/');
    let diff = TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
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
    fn missing_final_newline_is_marked() {
        let diff = unified_diff("a.py", "x = 1", "x = 2");
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
