//! Suppression comments: `# noqa` and `# noqa: CODE, CODE` (the same syntax as ruff and
//! flake8, so one comment silences every tool), `# unfreeze: ignore[CODE, CODE]` (or bare,
//! for every rule) on the line of a finding, and `# unfreeze: skip-file` on a line of its own
//! to skip a whole file. ruff's and flake8's file-level comments on a line of their own are
//! honoured for the rules the tools share: `# ruff: noqa` silences the ruff rules unfreeze
//! has too (`ASYNC*`, `RUF*`), `# flake8: noqa` the flake8-async ones (`ASYNC*`), and
//! `# ruff: noqa: CODE, CODE` (or `# flake8: noqa: CODE`) the codes it names, in the whole file.
//! unfreeze's own rules (`UNF*`) answer only to comments that name them, or to
//! `# unfreeze: skip-file`.

use std::collections::HashMap;

/// What one comment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    /// Silence every rule on this line.
    All,
    /// Silence these codes (or code prefixes) on this line.
    Codes(Vec<String>),
    /// Skip the whole file.
    SkipFile,
    /// Another tool's file-level comment (`# ruff: noqa`, `# flake8: noqa: ASYNC251`).
    File(FileDirective),
}

/// A file-level comment of ruff or flake8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDirective {
    pub tool: Tool,
    /// The codes (or prefixes) named; empty: every rule the tool shares with unfreeze.
    pub codes: Vec<String>,
}

/// The tool a file-level comment speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Ruff,
    Flake8,
}

impl Tool {
    /// The code prefixes of the rules unfreeze shares with the tool (DESIGN: a rule that is
    /// the same as ruff's or flake8-async's has the same code).
    fn shared_prefixes(self) -> &'static [&'static str] {
        match self {
            Tool::Ruff => &["ASYNC", "RUF"],
            Tool::Flake8 => &["ASYNC"],
        }
    }
}

impl FileDirective {
    fn suppresses(&self, code: &str) -> bool {
        if self.codes.is_empty() {
            self.tool
                .shared_prefixes()
                .iter()
                .any(|prefix| code.starts_with(prefix))
        } else {
            self.codes.iter().any(|c| code.starts_with(c.as_str()))
        }
    }
}

/// `ruff: noqa`, `flake8: noqa: A1, A2` (the comment's text after `#`, trimmed).
fn file_directive(body: &str, lower: &str) -> Option<Directive> {
    let (tool, prefix) = [(Tool::Ruff, "ruff:"), (Tool::Flake8, "flake8:")]
        .into_iter()
        .find(|(_, prefix)| lower.starts_with(prefix))?;
    let rest = lower[prefix.len()..].trim_start();
    let after = rest.strip_prefix("noqa")?;
    if after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let skipped = body.len() - after.len();
    let codes = match body[skipped..].trim_start().strip_prefix(':') {
        Some(codes) => split_codes(codes),
        None => Vec::new(),
    };
    Some(Directive::File(FileDirective { tool, codes }))
}

/// Parse a comment's text (with its `#`).
pub fn parse_directive(comment: &str) -> Option<Directive> {
    let body = comment.trim_start_matches('#').trim();
    let lower = body.to_ascii_lowercase();
    if lower == "unfreeze: skip-file" || lower == "unfreeze:skip-file" {
        return Some(Directive::SkipFile);
    }
    if let Some(directive) = file_directive(body, &lower) {
        return Some(directive);
    }
    // `# noqa` may follow other text in the comment: `# type: ignore  # noqa: E501` is one
    // comment node; look for the last `noqa`.
    if let Some(pos) = lower.rfind("noqa") {
        let before = lower[..pos].trim_end();
        if before.is_empty() || before.ends_with('#') {
            let rest = body[pos + 4..].trim_start();
            return Some(match rest.strip_prefix(':') {
                Some(codes) => {
                    let codes = split_codes(codes);
                    if codes.is_empty() {
                        Directive::All
                    } else {
                        Directive::Codes(codes)
                    }
                }
                None => Directive::All,
            });
        }
    }
    if let Some(pos) = lower
        .find("unfreeze: ignore")
        .or_else(|| lower.find("unfreeze:ignore"))
    {
        let rest = &body[pos..];
        let rest = rest[rest.find("ignore").unwrap_or(0) + "ignore".len()..].trim_start();
        return Some(match rest.strip_prefix('[') {
            Some(inner) => {
                let codes = split_codes(inner.split(']').next().unwrap_or(""));
                if codes.is_empty() {
                    Directive::All
                } else {
                    Directive::Codes(codes)
                }
            }
            None => Directive::All,
        });
    }
    None
}

/// `ASYNC251, RUF006 trailing words` → the leading rule codes.
fn split_codes(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .take_while(|c| {
            c.chars().next().is_some_and(|f| f.is_ascii_uppercase())
                && c.chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

/// The directives of one file, by 0-based line.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    pub skip_file: bool,
    /// ruff's and flake8's file-level comments.
    file_wide: Vec<FileDirective>,
    lines: HashMap<usize, Vec<Directive>>,
}

impl Suppressions {
    /// Record the comment `text` found on `line`; `own_line` when nothing precedes it.
    pub fn add(&mut self, line: usize, text: &str, own_line: bool) {
        match parse_directive(text) {
            Some(Directive::SkipFile) if own_line => self.skip_file = true,
            Some(Directive::File(directive)) if own_line => self.file_wide.push(directive),
            Some(Directive::SkipFile | Directive::File(_)) | None => {}
            Some(directive) => self.lines.entry(line).or_default().push(directive),
        }
    }

    /// Whether no line has a directive, and no comment speaks for the whole file.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.file_wide.is_empty()
    }

    /// Whether `code` is silenced on any of `lines`, or in the whole file.
    pub fn suppresses(&self, code: &str, lines: &[usize]) -> bool {
        if self.file_wide.iter().any(|d| d.suppresses(code)) {
            return true;
        }
        lines.iter().any(|line| {
            self.lines.get(line).is_some_and(|directives| {
                directives.iter().any(|d| match d {
                    Directive::All => true,
                    Directive::Codes(codes) => codes.iter().any(|c| code.starts_with(c.as_str())),
                    Directive::SkipFile | Directive::File(_) => false,
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noqa_forms() {
        assert_eq!(parse_directive("# noqa"), Some(Directive::All));
        assert_eq!(parse_directive("# NOQA"), Some(Directive::All));
        assert_eq!(
            parse_directive("# noqa: ASYNC251, RUF006"),
            Some(Directive::Codes(vec!["ASYNC251".into(), "RUF006".into()]))
        );
        assert_eq!(
            parse_directive("#noqa:ASYNC251"),
            Some(Directive::Codes(vec!["ASYNC251".into()]))
        );
        assert_eq!(
            parse_directive("# type: ignore  # noqa: ASYNC251 slow on purpose"),
            Some(Directive::Codes(vec!["ASYNC251".into()]))
        );
        assert_eq!(parse_directive("# see the noqa docs"), None);
        assert_eq!(parse_directive("# plain comment"), None);
    }

    #[test]
    fn unfreeze_forms() {
        assert_eq!(
            parse_directive("# unfreeze: ignore[ASYNC251]"),
            Some(Directive::Codes(vec!["ASYNC251".into()]))
        );
        assert_eq!(parse_directive("# unfreeze: ignore"), Some(Directive::All));
        assert_eq!(
            parse_directive("# unfreeze: skip-file"),
            Some(Directive::SkipFile)
        );
    }

    #[test]
    fn ruff_and_flake8_file_level_forms() {
        let file = |tool, codes: &[&str]| {
            Some(Directive::File(FileDirective {
                tool,
                codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            }))
        };
        assert_eq!(parse_directive("# ruff: noqa"), file(Tool::Ruff, &[]));
        assert_eq!(
            parse_directive("# ruff: noqa: ASYNC251, RUF006"),
            file(Tool::Ruff, &["ASYNC251", "RUF006"])
        );
        assert_eq!(
            parse_directive("#ruff:noqa:ASYNC"),
            file(Tool::Ruff, &["ASYNC"])
        );
        assert_eq!(parse_directive("# flake8: noqa"), file(Tool::Flake8, &[]));
        assert_eq!(
            parse_directive("# flake8: NOQA: ASYNC210"),
            file(Tool::Flake8, &["ASYNC210"])
        );
        assert_eq!(parse_directive("# ruff: noqanything"), None);
        assert_eq!(parse_directive("# ruff: isort: skip"), None);
    }

    #[test]
    fn file_level_comments_silence_the_shared_rules_in_the_whole_file() {
        let mut ruff = Suppressions::default();
        ruff.add(0, "# ruff: noqa", true);
        assert!(ruff.suppresses("ASYNC251", &[7]));
        assert!(ruff.suppresses("RUF006", &[7]));
        assert!(!ruff.suppresses("UNF101", &[7]), "ruff has no UNF rules");
        let mut flake8 = Suppressions::default();
        flake8.add(2, "# flake8: noqa", true);
        assert!(flake8.suppresses("ASYNC210", &[9]));
        assert!(!flake8.suppresses("RUF006", &[9]));
        let mut named = Suppressions::default();
        named.add(0, "# ruff: noqa: ASYNC251, UNF101", true);
        assert!(named.suppresses("ASYNC251", &[5]));
        assert!(named.suppresses("UNF101", &[5]));
        assert!(!named.suppresses("ASYNC210", &[5]));
        let mut trailing = Suppressions::default();
        trailing.add(3, "# ruff: noqa", false);
        assert!(
            trailing.is_empty(),
            "a file-level comment counts only on a line of its own"
        );
    }

    #[test]
    fn suppression_matches_codes_and_prefixes() {
        let mut suppressions = Suppressions::default();
        suppressions.add(3, "# noqa: ASYNC2", false);
        suppressions.add(5, "# unfreeze: skip-file", false);
        assert!(suppressions.suppresses("ASYNC251", &[3]));
        assert!(!suppressions.suppresses("RUF006", &[3]));
        assert!(!suppressions.suppresses("ASYNC251", &[4]));
        assert!(
            !suppressions.skip_file,
            "skip-file only counts on a line of its own"
        );
        suppressions.add(0, "# unfreeze: skip-file", true);
        assert!(suppressions.skip_file);
    }
}
