//! The suppression comment review writes when a person answers `s`: `# noqa: CODE` (or
//! `# unfreeze: ignore[CODE]` in a file that already uses that form), on a physical line the
//! analysis reads for the finding and where a comment can go, merged into a suppression
//! comment already there.

use crate::parse::KindName;
use std::ops::Range;

use crate::parse::ParsedFile;
use crate::source::LineIndex;
use crate::suppress::{Directive, parse_directive};

/// The two forms of a suppression comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `# noqa: CODE`: silences ruff and flake8 too.
    Noqa,
    /// `# unfreeze: ignore[CODE]`.
    Unfreeze,
}

impl Style {
    /// The form the file already uses most; `# noqa` when it uses neither.
    pub fn of(text: &str) -> Style {
        let lower = text.to_ascii_lowercase();
        let unfreeze =
            lower.matches("unfreeze: ignore").count() + lower.matches("unfreeze:ignore").count();
        let noqa = lower.matches("# noqa").count() + lower.matches("#noqa").count();
        if unfreeze > noqa {
            Style::Unfreeze
        } else {
            Style::Noqa
        }
    }

    fn comment(self, codes: &[String]) -> String {
        match self {
            Style::Noqa => format!("# noqa: {}", codes.join(", ")),
            Style::Unfreeze => format!("# unfreeze: ignore[{}]", codes.join(", ")),
        }
    }
}

/// Where the comment goes and what it becomes: replace `range` with `content`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentEdit {
    /// 0-based line.
    pub line: usize,
    pub range: Range<usize>,
    pub content: String,
}

/// The 0-based line a suppression for the finding at `range` goes on: the line it starts on,
/// else the line it ends on (the analysis reads both), whichever can take a comment at its
/// end (not inside a string, not after a `\` continuation). `Err` says why neither can.
pub fn suppression_line(
    text: &str,
    parsed: &ParsedFile,
    index: &LineIndex,
    range: &Range<usize>,
) -> Result<usize, String> {
    let first = index.line_of(range.start);
    let last = index.line_of(range.end);
    let mut why = String::new();
    for line in [first, last] {
        match comment_slot(text, parsed, index, line) {
            Ok(_) => return Ok(line),
            Err(reason) => why = reason,
        }
    }
    Err(why)
}

/// The end of `line`'s code (before trailing blanks) and its comment, if it has one.
fn comment_slot(
    text: &str,
    parsed: &ParsedFile,
    index: &LineIndex,
    line: usize,
) -> Result<(usize, Option<Range<usize>>), String> {
    let start = index.line_start(line);
    let content = index.line_text(text, line);
    let end = start + content.trim_end().len();
    if end == start {
        return Err("the line is empty".to_owned());
    }
    let root = parsed.tree.root_node();
    let last = root
        .descendant_for_byte_range(end - 1, end)
        .ok_or_else(|| "no code on the line".to_owned())?;
    if last.kind_name() == "comment" && last.start_byte() >= start {
        return Ok((end, Some(last.start_byte()..last.end_byte().min(end))));
    }
    let mut node = Some(last);
    while let Some(current) = node {
        // Between the parts of an implicitly concatenated string a comment is fine; inside
        // one part (a triple-quoted string, an f-string's braces) it would be text.
        if current.kind_name() == "string" && current.start_byte() < end && current.end_byte() > end
        {
            return Err(format!(
                "line {} ends inside a multi-line string, where a comment would be text",
                line + 1
            ));
        }
        node = current.parent();
    }
    if content.trim_end().ends_with('\\') {
        return Err(format!(
            "line {} ends with a `\\` continuation, where a comment is a syntax error",
            line + 1
        ));
    }
    Ok((end, None))
}

/// The edit that silences `codes` on `line`, merging with the line's own comment: codes are
/// added to a `# noqa: ...` or `# unfreeze: ignore[...]` list; after any other comment a new
/// suppression comment is appended.
pub fn suppression_edit(
    text: &str,
    parsed: &ParsedFile,
    index: &LineIndex,
    line: usize,
    codes: &[String],
    style: Style,
) -> Result<CommentEdit, String> {
    let (end, comment) = comment_slot(text, parsed, index, line)?;
    let Some(comment_range) = comment else {
        return Ok(CommentEdit {
            line,
            range: end..end,
            content: format!("  {}", style.comment(codes)),
        });
    };
    let comment = &text[comment_range.clone()];
    let merged = match parse_directive(comment) {
        Some(Directive::All) => {
            return Err(format!("line {} already has a bare `# noqa`", line + 1));
        }
        Some(Directive::Codes(_)) => merge_codes(comment, codes),
        _ => None,
    };
    let content = merged.unwrap_or_else(|| format!("{comment}  {}", style.comment(codes)));
    debug_assert!(
        codes.iter().all(|code| {
            let mut check = crate::suppress::Suppressions::default();
            check.add(0, &content, false);
            check.suppresses(code, &[0])
        }),
        "the merged comment `{content}` does not silence {codes:?}"
    );
    Ok(CommentEdit {
        line,
        range: comment_range,
        content,
    })
}

/// `# noqa: A1 why` + [B2] → `# noqa: A1, B2 why`; `# unfreeze: ignore[A1]` + [B2] →
/// `# unfreeze: ignore[A1, B2]`. `None` when the comment's code list cannot be found.
fn merge_codes(comment: &str, codes: &[String]) -> Option<String> {
    let lower = comment.to_ascii_lowercase();
    let insert_at = if let Some(pos) = lower.rfind("noqa").filter(|pos| {
        let before = lower[..*pos].trim_end();
        before.is_empty() || before.ends_with('#')
    }) {
        // After the last code of the list that follows `noqa:`.
        let after = pos + "noqa".len();
        let colon = after + comment[after..].find(':')?;
        let mut end = colon + 1;
        let mut cursor = colon + 1;
        for token in comment[colon + 1..].split_inclusive([',', ' ']) {
            let word = token.trim_end_matches([',', ' ']);
            let is_code = !word.is_empty()
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if word.is_empty() {
                cursor += token.len();
                continue;
            }
            if !is_code {
                break;
            }
            end = cursor + word.len();
            cursor += token.len();
        }
        end
    } else {
        let pos = lower.find("ignore[")?;
        pos + comment[pos..].find(']')?
    };
    Some(format!(
        "{}, {}{}",
        &comment[..insert_at],
        codes.join(", "),
        &comment[insert_at..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn edit(text: &str, needle: &str, codes: &[&str], style: Style) -> Result<String, String> {
        let parsed = parse(text);
        let index = LineIndex::new(text);
        let start = text.find(needle).unwrap();
        let range = start..start + needle.len();
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let line = suppression_line(text, &parsed, &index, &range)?;
        let edit = suppression_edit(text, &parsed, &index, line, &codes, style)?;
        let mut out = text.to_owned();
        out.replace_range(edit.range, &edit.content);
        Ok(out)
    }

    #[test]
    fn a_new_comment_goes_at_the_end_of_the_code() {
        assert_eq!(
            edit(
                "time.sleep(1)   \n",
                "time.sleep(1)",
                &["ASYNC251"],
                Style::Noqa
            )
            .unwrap(),
            "time.sleep(1)  # noqa: ASYNC251   \n"
        );
        assert_eq!(
            edit(
                "time.sleep(1)\n",
                "time.sleep(1)",
                &["ASYNC251"],
                Style::Unfreeze
            )
            .unwrap(),
            "time.sleep(1)  # unfreeze: ignore[ASYNC251]\n"
        );
    }

    #[test]
    fn codes_merge_into_an_existing_suppression_comment() {
        assert_eq!(
            edit(
                "time.sleep(1)  # noqa: RUF006 -- why\n",
                "time.sleep(1)",
                &["ASYNC251"],
                Style::Noqa
            )
            .unwrap(),
            "time.sleep(1)  # noqa: RUF006, ASYNC251 -- why\n"
        );
        assert_eq!(
            edit(
                "time.sleep(1)  # unfreeze: ignore[RUF006]\n",
                "time.sleep(1)",
                &["ASYNC251", "ASYNC210"],
                Style::Noqa
            )
            .unwrap(),
            "time.sleep(1)  # unfreeze: ignore[RUF006, ASYNC251, ASYNC210]\n"
        );
    }

    #[test]
    fn another_comment_is_kept_and_followed_by_the_suppression() {
        assert_eq!(
            edit(
                "time.sleep(1)  # type: ignore\n",
                "time.sleep(1)",
                &["ASYNC251"],
                Style::Noqa
            )
            .unwrap(),
            "time.sleep(1)  # type: ignore  # noqa: ASYNC251\n"
        );
    }

    #[test]
    fn a_call_whose_first_line_ends_in_a_string_is_suppressed_on_its_last_line() {
        let text = "requests.post(url, data=\"\"\"\nbody\n\"\"\")\n";
        assert_eq!(
            edit(
                text,
                "requests.post(url, data=\"\"\"\nbody\n\"\"\")",
                &["ASYNC210"],
                Style::Noqa
            )
            .unwrap(),
            "requests.post(url, data=\"\"\"\nbody\n\"\"\")  # noqa: ASYNC210\n"
        );
    }

    #[test]
    fn a_string_concatenated_over_lines_takes_a_comment_between_its_parts() {
        let text = "msg = (\n    f\"in {Path('.').resolve()};\"\n    \" more\"\n)\n";
        assert_eq!(
            edit(text, "Path('.').resolve()", &["ASYNC240"], Style::Noqa).unwrap(),
            "msg = (\n    f\"in {Path('.').resolve()};\"  # noqa: ASYNC240\n    \" more\"\n)\n"
        );
    }

    #[test]
    fn a_continuation_line_takes_no_comment() {
        let text = "x = time.sleep(1) + \\\n    2\n";
        assert_eq!(
            edit(text, "time.sleep(1)", &["ASYNC251"], Style::Noqa).unwrap_err(),
            "line 1 ends with a `\\` continuation, where a comment is a syntax error"
        );
    }

    #[test]
    fn the_style_follows_the_file() {
        assert_eq!(Style::of("x = 1\n"), Style::Noqa);
        assert_eq!(Style::of("x  # unfreeze: ignore[A1]\n"), Style::Unfreeze);
        assert_eq!(Style::of("x  # noqa: A1\ny  # noqa\n"), Style::Noqa);
    }
}
