//! Masked parsing: a copy of a file's text with some function bodies blanked out, for a parse
//! that needs only the rest (the project rules' summaries and speculation, where the lexical
//! pass showed nothing in those bodies can matter; see `LexicalProject::bodies_left_out`),
//! and for the parse that checks a fixed text, whose next round of fixes reads only the
//! bodies the fixes changed (`lexical::bodies_a_fix_round_leaves_out` chooses them).
//!
//! Each body becomes `...` followed by spaces, its line breaks kept: the text keeps its
//! length, its lines and every byte outside the bodies, so every offset, line and column the
//! analysis reports is the original file's, and the parser reads a function whose body is
//! `...`. The blanks after each `...`, up to the body's last line break, are not even read:
//! the parse skips them ([`MaskedText::skippable`], `parse::parse_skipping`): lexing blank
//! lines is not cheap to tree-sitter (in a file mostly blanked, it took as long as parsing
//! all the rest).

use std::ops::Range;

/// How many blanked stretches a parse skips at most (the largest): see [`blank_bodies`].
pub const MAX_SKIPPED: usize = 32;

/// A file's text with function bodies blanked.
#[derive(Debug, PartialEq, Eq)]
pub struct MaskedText {
    pub text: String,
    /// In each blanked body, the blanks after its `...` up to its last line break: spaces and
    /// line breaks only, which a parse need not read (the `...` and the line break after it
    /// end the function as the whole blank body would). In source order; the
    /// [`MAX_SKIPPED`] largest.
    pub skippable: Vec<Range<usize>>,
}

/// `text` with each of `bodies` (in source order) blanked, or `None` when there is nothing to
/// blank. A body is left as it is when it does not start on a line of its own with room for
/// `...` (a body the scan saw wrongly is never half blanked).
pub fn blank_bodies(text: &str, bodies: &[Range<usize>]) -> Option<MaskedText> {
    let mut bytes = text.as_bytes().to_vec();
    let mut blanked = false;
    let mut skippable = Vec::new();
    for body in bodies {
        let Some(slice) = bytes.get(body.clone()) else {
            continue;
        };
        let first_line = slice
            .iter()
            .position(|&b| matches!(b, b'\n' | b'\r'))
            .unwrap_or(slice.len());
        let starts_a_line = body.start > 0 && {
            let before = &text.as_bytes()[..body.start];
            let line_start = before
                .iter()
                .rposition(|&b| matches!(b, b'\n' | b'\r'))
                .map_or(0, |i| i + 1);
            before[line_start..]
                .iter()
                .all(|&b| matches!(b, b' ' | b'\t' | b'\x0c'))
        };
        if first_line < 3 || !starts_a_line || !text.is_char_boundary(body.end) {
            continue;
        }
        for b in &mut bytes[body.clone()] {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b' ';
            }
        }
        bytes[body.start..body.start + 3].copy_from_slice(b"...");
        blanked = true;
        // Up to the start of the body's last line break (`\r\n` whole).
        let after = body.start + 3;
        if let Some(last) = bytes[after..body.end]
            .iter()
            .rposition(|&b| matches!(b, b'\n' | b'\r'))
        {
            let mut end = after + last;
            if bytes[end] == b'\n' && end > after && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            if end > after
                && skippable
                    .last()
                    .is_none_or(|r: &Range<usize>| r.end <= after)
            {
                skippable.push(after..end);
            }
        }
    }
    // tree-sitter looks for the next range to read through all of them, from the first,
    // each time it moves the lexer: a parse of a file with thousands of skipped ranges
    // would take quadratic time. The largest few give most of the gain.
    if skippable.len() > MAX_SKIPPED {
        skippable.sort_by_key(|gap| std::cmp::Reverse(gap.len()));
        skippable.truncate(MAX_SKIPPED);
        skippable.sort_by_key(|gap| gap.start);
    }
    // Every byte changed was in a body and became ASCII; a body's bounds are on character
    // boundaries (checked above for the end; the start follows indentation).
    blanked.then(|| MaskedText {
        text: String::from_utf8(bytes).expect("blanking keeps UTF-8"),
        skippable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn body(text: &str, first: &str, next: Option<&str>) -> Range<usize> {
        let start = text.find(first).unwrap();
        let end = next.map_or(text.len(), |next| text.find(next).unwrap());
        start..end
    }

    #[test]
    fn a_blanked_body_keeps_length_lines_and_everything_around_it() {
        let text = "import time\n\ndef slow(x):\n    # sleep — a while\n    time.sleep(x)\n    return {\n        'a': 1,\n    }\n\nasync def main():\n    slow(1)\n";
        let range = body(text, "# sleep", Some("async def"));
        let masked = blank_bodies(text, std::slice::from_ref(&range))
            .unwrap()
            .text;
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.lines().count(), text.lines().count());
        assert_eq!(&masked[..range.start], &text[..range.start]);
        assert_eq!(&masked[range.end..], &text[range.end..]);
        assert!(masked[range.clone()].starts_with("...  "));
        assert!(!masked.contains("time.sleep"));
        let parsed = parse(&masked);
        assert!(!parsed.has_errors(), "{masked}");
        let functions: Vec<_> = {
            let root = parsed.tree.root_node();
            let mut cursor = root.walk();
            root.named_children(&mut cursor)
                .map(|n| n.kind().to_owned())
                .collect()
        };
        assert_eq!(
            functions,
            [
                "import_statement",
                "function_definition",
                "function_definition"
            ]
        );
    }

    #[test]
    fn a_method_body_and_crlf_line_endings() {
        let text = "class Repo:\r\n    def save(self):\r\n        return open('x').read()\r\n\r\n    async def load(self):\r\n        pass\r\n";
        let range = body(text, "return open", Some("    async def"));
        let masked = blank_bodies(text, &[range]).unwrap().text;
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.matches("\r\n").count(), text.matches("\r\n").count());
        assert!(!parse(&masked).has_errors(), "{masked:?}");
    }

    /// Every node of `parsed`: its kind, bytes and positions.
    fn shape(parsed: &crate::parse::ParsedFile) -> Vec<String> {
        let mut nodes = Vec::new();
        crate::parse::walk_tree(&parsed.tree, |cursor| {
            let node = cursor.node();
            nodes.push(format!(
                "{} {:?} {:?} {:?}",
                node.kind(),
                node.byte_range(),
                node.start_position(),
                node.end_position()
            ));
            true
        });
        nodes
    }

    #[test]
    fn a_parse_skipping_the_blanks_is_the_parse_of_the_masked_text() {
        for ending in ["\n", "\r\n"] {
            let text = "import time\n\nclass Repo:\n    def save(self, x):\n        # keep\n        time.sleep(x)\n\n        return {\n            'a': 1,\n        }\n\n    async def load(self):\n        return 1\n\n\ndef last():\n    return [\n        1,\n    ]\n"
                .replace('\n', ending);
            let bodies = [
                body(&text, "# keep", Some("    async def")),
                body(&text, "return [", None),
            ];
            let masked = blank_bodies(&text, &bodies).unwrap();
            assert_eq!(masked.skippable.len(), 2);
            for (gap, body) in masked.skippable.iter().zip(&bodies) {
                assert_eq!(gap.start, body.start + 3);
                assert!(
                    masked.text[gap.clone()]
                        .bytes()
                        .all(|b| b" \r\n".contains(&b))
                );
                // The body's last line break is read.
                assert!(
                    masked.text[gap.end..body.end].starts_with(ending),
                    "{ending:?}"
                );
            }
            let skipping = crate::parse::parse_skipping(&masked.text, &masked.skippable);
            let whole = parse(&masked.text);
            assert!(!whole.has_errors());
            assert_eq!(shape(&skipping), shape(&whole), "{ending:?}");
        }
    }

    #[test]
    fn only_the_largest_blanks_are_skipped() {
        // Bodies of 1 to 100 lines: the parse skips the 32 longest blanks, in source order.
        let mut text = String::new();
        let mut bodies = Vec::new();
        for lines in 1..=100 {
            text.push_str(&format!("def f{lines}():\n"));
            let start = text.len();
            for _ in 0..lines {
                text.push_str("    x = 1\n");
            }
            bodies.push(start..text.len());
        }
        let masked = blank_bodies(&text, &bodies).unwrap();
        assert_eq!(masked.skippable.len(), MAX_SKIPPED);
        let starts: Vec<usize> = masked.skippable.iter().map(|gap| gap.start).collect();
        let expected: Vec<usize> = bodies[100 - MAX_SKIPPED..]
            .iter()
            .map(|body| body.start + 3)
            .collect();
        assert_eq!(starts, expected);
        let skipping = crate::parse::parse_skipping(&masked.text, &masked.skippable);
        assert_eq!(shape(&skipping), shape(&parse(&masked.text)));
    }

    #[test]
    fn a_body_without_room_or_not_starting_a_line_is_left_as_is() {
        let text = "def f():\n    x\n\ndef g(): return 1\n";
        let short = body(text, "x\n", Some("\ndef g"));
        assert_eq!(blank_bodies(text, &[short]), None);
        let inline = body(text, "return 1", None);
        assert_eq!(blank_bodies(text, &[inline]), None);
        assert_eq!(blank_bodies(text, &[]), None);
    }
}
