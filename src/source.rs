//! A file's text and the facts needed to write it back unchanged: encoding, BOM, line endings,
//! indentation; plus a line index that turns byte offsets into rows and columns for reporters.

use std::fmt;

/// The text encodings unfreeze reads and writes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Declared with a PEP 263 cookie (`# -*- coding: latin-1 -*-`); every byte is one char.
    Latin1,
}

/// Why a file's bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not valid UTF-8 and no coding cookie that explains it.
    InvalidUtf8 { offset: usize },
    /// A PEP 263 cookie names an encoding unfreeze does not write back.
    UnsupportedEncoding(String),
    /// NUL bytes: almost certainly a binary file with a `.py` name.
    Binary,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::InvalidUtf8 { offset } => write!(
                f,
                "not valid UTF-8 (byte {offset}) and no PEP 263 coding cookie declares another encoding"
            ),
            DecodeError::UnsupportedEncoding(name) => {
                write!(
                    f,
                    "the coding cookie declares `{name}`, which unfreeze cannot write back"
                )
            }
            DecodeError::Binary => write!(f, "contains NUL bytes; looks like a binary file"),
        }
    }
}

/// The line terminator a file uses, so that inserted lines match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
    Cr,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
            LineEnding::Cr => "\r",
        }
    }
}

/// A decoded source file: the text analyzed and the facts needed to encode it back.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The text without its BOM.
    pub text: String,
    pub encoding: Encoding,
    pub has_bom: bool,
    pub line_ending: LineEnding,
    /// The file's indentation unit (four spaces, two spaces, a tab, ...).
    pub indent: String,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl SourceText {
    /// Decode a file's bytes, honouring a UTF-8 BOM and a PEP 263 coding cookie.
    pub fn decode(bytes: &[u8]) -> Result<SourceText, DecodeError> {
        if bytes.contains(&0) {
            return Err(DecodeError::Binary);
        }
        let (has_bom, body) = match bytes.strip_prefix(UTF8_BOM) {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let (text, encoding) = match std::str::from_utf8(body) {
            Ok(text) => (text.to_owned(), Encoding::Utf8),
            Err(err) => match coding_cookie(body) {
                Some(name) if is_latin1(&name) && !has_bom => {
                    (body.iter().map(|&b| b as char).collect(), Encoding::Latin1)
                }
                Some(name) if is_utf8(&name) || has_bom => {
                    return Err(DecodeError::InvalidUtf8 {
                        offset: err.valid_up_to(),
                    });
                }
                Some(name) => return Err(DecodeError::UnsupportedEncoding(name)),
                None => {
                    return Err(DecodeError::InvalidUtf8 {
                        offset: err.valid_up_to(),
                    });
                }
            },
        };
        let line_ending = detect_line_ending(&text);
        let indent = detect_indent(&text);
        Ok(SourceText {
            text,
            encoding,
            has_bom,
            line_ending,
            indent,
        })
    }

    /// Text of a new version of this file, encoded the way the original was.
    /// Returns `None` if the new text cannot be represented in the file's encoding.
    pub fn encode(&self, new_text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(new_text.len() + 3);
        if self.has_bom {
            out.extend_from_slice(UTF8_BOM);
        }
        match self.encoding {
            Encoding::Utf8 => out.extend_from_slice(new_text.as_bytes()),
            Encoding::Latin1 => {
                for c in new_text.chars() {
                    out.push(u8::try_from(u32::from(c)).ok()?);
                }
            }
        }
        Some(out)
    }
}

fn is_latin1(name: &str) -> bool {
    matches!(
        name,
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "iso-latin-1" | "l1" | "cp819"
    )
}

fn is_utf8(name: &str) -> bool {
    matches!(name, "utf-8" | "utf8" | "utf_8" | "utf-8-sig")
}

/// The encoding named by a PEP 263 cookie on line 1 or 2, lower-cased with `_` as `-`.
pub fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            continue;
        }
        if let Some(pos) = trimmed.find("coding") {
            let rest = &trimmed[pos + "coding".len()..];
            let Some(rest) = rest.strip_prefix([':', '=']) else {
                continue;
            };
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !name.is_empty() {
                return Some(name.to_ascii_lowercase().replace('_', "-"));
            }
        }
    }
    None
}

/// The most common line terminator; `\n` for a file without any.
pub fn detect_line_ending(text: &str) -> LineEnding {
    let bytes = text.as_bytes();
    // Most files have no `\r` at all: one vectorised search decides them.
    if !bytes.contains(&b'\r') {
        return LineEnding::Lf;
    }
    let (mut lf, mut crlf, mut cr) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                crlf += 1;
                i += 1;
            }
            b'\r' => cr += 1,
            b'\n' => lf += 1,
            _ => {}
        }
        i += 1;
    }
    if crlf > lf && crlf >= cr {
        LineEnding::CrLf
    } else if cr > lf && cr > crlf {
        LineEnding::Cr
    } else {
        LineEnding::Lf
    }
}

/// `indentation` one `unit` deeper, measured the same with any tab size: a tab unit goes
/// before it (a leading tab moves every line by one tab stop), spaces after it (spaces after
/// a tab move every line by as many columns). The other way round, a file that mixes tabs
/// and spaces gets lines Python measures at other columns (`TabError`, `IndentationError`).
pub fn shifted(indentation: &str, unit: &str) -> String {
    match unit.starts_with('\t') {
        true => format!("{unit}{indentation}"),
        false => format!("{indentation}{unit}"),
    }
}

/// Where on a line starting at `line_start` with `leading` bytes of indentation one more
/// `unit` goes, as [`shifted`] puts it.
pub fn indent_insertion(line_start: usize, leading: usize, unit: &str) -> usize {
    match unit.starts_with('\t') {
        true => line_start,
        false => line_start + leading,
    }
}

/// The length in bytes of the indentation `text` starts with.
pub fn leading_whitespace(text: &str) -> usize {
    text.len() - text.trim_start_matches([' ', '\t']).len()
}

/// The indentation of the first indented line after an unindented line that opens a block
/// (`def ...:`, `if ...:`, ...), lines inside triple-quoted strings aside (a docstring's
/// `Prerequisites:` and its indented list are no code); four spaces if none.
pub fn detect_indent(text: &str) -> String {
    const BLOCK_KEYWORDS: &[&str] = &[
        "def", "class", "if", "elif", "else", "for", "while", "with", "try", "except", "finally",
        "async", "match", "case",
    ];
    let mut after_colon = false;
    let mut open_string: Option<&str> = None;
    for line in text.lines() {
        let content = line.trim_end();
        let in_string = open_string.is_some();
        open_string = triple_quotes_open_after(content, open_string);
        if in_string || content.trim_start().is_empty() {
            continue;
        }
        let leading: String = content
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        if after_colon && !leading.is_empty() {
            return leading;
        }
        if leading.is_empty() {
            let keyword = content
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .next()
                .unwrap_or("");
            after_colon = content.ends_with(':') && BLOCK_KEYWORDS.contains(&keyword);
        } else {
            after_colon = false;
        }
    }
    "    ".to_owned()
}

/// The triple quote (`"""` or `'''`) still open at the end of `line`, given the one open
/// at its start. Comments and one-line strings holding triple quotes are not told apart: this
/// only guides [`detect_indent`].
fn triple_quotes_open_after<'q>(line: &str, mut open: Option<&'q str>) -> Option<&'q str> {
    let mut rest = line;
    loop {
        match open {
            Some(quote) => match rest.find(quote) {
                Some(end) => {
                    rest = &rest[end + quote.len()..];
                    open = None;
                }
                None => return open,
            },
            None => {
                let next = ["\"\"\"", "'''"]
                    .into_iter()
                    .filter_map(|quote| rest.find(quote).map(|at| (at, quote)))
                    .min();
                match next {
                    Some((at, quote)) => {
                        rest = &rest[at + quote.len()..];
                        open = Some(quote);
                    }
                    None => return None,
                }
            }
        }
    }
}

/// Maps byte offsets to 1-based rows and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => line_starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i + 1),
                _ => {}
            }
        }
        LineIndex { line_starts }
    }

    /// 0-based line number containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line]
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of a 0-based line without its terminator.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(text.len());
        text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// 1-based row and 1-based column counted in characters.
    pub fn location(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = text[start..offset].chars().count() + 1;
        (line + 1, column)
    }
}

/// The offset where the line holding `offset` starts (after a `\n` or `\r`).
pub fn line_start_at(text: &str, offset: usize) -> usize {
    text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_and_restored() {
        let source = SourceText::decode(b"\xEF\xBB\xBFx = 1\n").unwrap();
        assert_eq!(source.text, "x = 1\n");
        assert_eq!(source.encode("y = 2\n").unwrap(), b"\xEF\xBB\xBFy = 2\n");
    }

    #[test]
    fn latin1_with_cookie_round_trips() {
        let bytes = b"# -*- coding: latin-1 -*-\ns = '\xe9'\n";
        let source = SourceText::decode(bytes).unwrap();
        assert_eq!(source.encoding, Encoding::Latin1);
        assert!(source.text.contains('\u{e9}'));
        assert_eq!(source.encode(&source.text).unwrap(), bytes.to_vec());
    }

    #[test]
    fn invalid_utf8_without_cookie_is_an_error() {
        assert!(matches!(
            SourceText::decode(b"s = '\xe9'\n"),
            Err(DecodeError::InvalidUtf8 { offset: 5 })
        ));
    }

    #[test]
    fn binary_is_an_error() {
        assert_eq!(
            SourceText::decode(b"\x00\x01").unwrap_err(),
            DecodeError::Binary
        );
    }

    #[test]
    fn line_endings_and_indent_are_detected() {
        assert_eq!(detect_line_ending("a\r\nb\r\n"), LineEnding::CrLf);
        assert_eq!(detect_line_ending("a\nb"), LineEnding::Lf);
        assert_eq!(detect_indent("def f():\n\treturn 1\n"), "\t");
        assert_eq!(detect_indent("if x:\n  y\n"), "  ");
        assert_eq!(detect_indent("x = 1\n"), "    ");
        // A docstring's indented list after a line ending with `:` is no code.
        let docstring =
            "\"\"\"Tests.\n\nPrerequisites:\n   - a server\n\"\"\"\n\nasync def f():\n    pass\n";
        assert_eq!(detect_indent(docstring), "    ");
        let quoted = "X = '''\nusage:\n  run it\n'''\nif X:\n\tpass\n";
        assert_eq!(detect_indent(quoted), "\t");
        // A line ending with `:` that opens no block (a dict's first line) is passed over.
        assert_eq!(detect_indent("D = {1:\n  2}\nclass A:\n   x = 1\n"), "   ");
    }

    #[test]
    fn locations_count_characters() {
        let text = "é = 1\nab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.location(text, 0), (1, 1));
        assert_eq!(index.location(text, 3), (1, 3));
        assert_eq!(index.location(text, text.find("cd").unwrap()), (3, 1));
        assert_eq!(index.line_text(text, 1), "ab");
    }
}
