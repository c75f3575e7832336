//! Suppression filtering: the `# noqa` / `# unfreeze: ...` comments of a file silence the
//! findings on their lines, or the whole file.

use super::{FileContext, Finding};
use crate::suppress::Suppressions;

/// The suppression comments of the file.
fn suppressions_in(file: &FileContext) -> Suppressions {
    let mut suppressions = Suppressions::default();
    for comment in &file.nodes.comments {
        let text = &file.text[comment.byte_range()];
        if text.contains("noqa") || text.contains("NOQA") || text.contains("unfreeze") {
            let line = file.text[..comment.start_byte()].matches('\n').count();
            let line_start = file.text[..comment.start_byte()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
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
    let suppressions = suppressions_in(file);
    if suppressions.skip_file {
        findings.clear();
        return;
    }
    if !suppressions.is_empty() {
        // Lines as the comments were counted: by `\n`.
        let newlines: Vec<usize> = file.text.match_indices('\n').map(|(i, _)| i).collect();
        let line_of = |offset: usize| newlines.partition_point(|&newline| newline < offset);
        findings.retain(|finding| {
            let lines = [line_of(finding.range.start), line_of(finding.range.end)];
            !suppressions.suppresses(&finding.code, &lines)
        });
    }
}
