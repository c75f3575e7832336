//! Positions as the editor counts them: a line and a column in UTF-16 code units (LSP's
//! default encoding), to and from the byte offsets the analysis uses.

use serde_json::{Value, json};

use crate::source::LineIndex;

/// The text of one document with its line starts, for converting positions.
pub struct Lines<'a> {
    text: &'a str,
    index: LineIndex,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            index: LineIndex::new(text),
        }
    }

    /// The LSP position of byte `offset`.
    pub fn position(&self, offset: usize) -> Value {
        let offset = offset.min(self.text.len());
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line);
        let column: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        json!({"line": line, "character": column})
    }

    /// The LSP range of the bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> Value {
        json!({"start": self.position(start), "end": self.position(end)})
    }

    /// The byte offset of an LSP position (past the end of a line: the line's end).
    pub fn offset(&self, position: &Value) -> usize {
        let line = position["line"].as_u64().unwrap_or(0) as usize;
        let column = position["character"].as_u64().unwrap_or(0) as usize;
        if line >= self.index.line_count() {
            return self.text.len();
        }
        let start = self.index.line_start(line);
        let mut units = 0;
        for (i, c) in self.text[start..].char_indices() {
            if units >= column || c == '\n' || c == '\r' {
                return start + i;
            }
            units += c.len_utf16();
        }
        self.text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let text = "a = '😀'\nb = 1\n";
        let lines = Lines::new(text);
        let after_emoji = text.find("'\n").unwrap();
        assert_eq!(
            lines.position(after_emoji),
            json!({"line": 0, "character": 7})
        );
        assert_eq!(
            lines.offset(&json!({"line": 0, "character": 7})),
            after_emoji
        );
        // Line 1 starts after `'` and `\n` (bytes 9 and 10).
        assert_eq!(lines.offset(&json!({"line": 1, "character": 2})), 13);
    }
}
