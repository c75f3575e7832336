//! Suppression filtering: the `# noqa` / `# unfreeze: ...` comments of a file silence the
//! findings on their lines, or the whole file.

use super::{FileContext, Finding};
use crate::suppress::Suppressions;

/// The suppression comments of the file; `newlines`: the offsets of its `\n`s, by which the
/// comments' lines are counted (a search from the start per comment was quadratic).
fn suppressions_in(file: &FileContext, newlines: &[usize]) -> Suppressions {
    let mut suppressions = Suppressions::default();
    for comment in &file.nodes.comments {
        let text = &file.text[comment.byte_range()];
        if text.contains("noqa") || text.contains("NOQA") || text.contains("unfreeze") {
            let line = newlines.partition_point(|&newline| newline < comment.start_byte());
            let line_start = line
                .checked_sub(1)
                .map_or(0, |previous| newlines[previous] + 1);
            let own_line = file.text[line_start..comment.start_byte()]
                .trim()
                .is_empty();
            suppressions.add(line, text, own_line);
        }
    }
    suppressions
}

/// Drop the findings the file's comments suppress (all of them, for a skipped file).
pub(super) fn drop_suppressed(file: &FileContext, findings: &mut Vec<Finding>) {
    // Lines as the comments are counted: by `\n`.
    let newlines: Vec<usize> = memchr::memchr_iter(b'\n', file.text.as_bytes()).collect();
    let suppressions = suppressions_in(file, &newlines);
    if suppressions.skip_file {
        findings.clear();
        return;
    }
    if !suppressions.is_empty() {
        let line_of = |offset: usize| newlines.partition_point(|&newline| newline < offset);
        findings.retain(|finding| {
            let lines = [line_of(finding.range.start), line_of(finding.range.end)];
            !suppressions.suppresses(&finding.code, &lines)
        });
    }
}
