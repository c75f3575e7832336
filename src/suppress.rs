//! Suppression comments: `# noqa` and `# noqa: CODE, CODE` (the same syntax as ruff and
//! flake8, so one comment silences every tool), `# unfreeze: ignore[CODE, CODE]` (or bare,
//! for every rule) on the line of a finding, and `# unfreeze: skip-file` on a line of its own
//! to skip a whole file.

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
}

/// Parse a comment's text (with its `#`).
pub fn parse_directive(comment: &str) -> Option<Directive> {
    let body = comment.trim_start_matches('#').trim();
    let lower = body.to_ascii_lowercase();
    if lower == "unfreeze: skip-file" || lower == "unfreeze:skip-file" {
        return Some(Directive::SkipFile);
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
    lines: HashMap<usize, Vec<Directive>>,
}

impl Suppressions {
    /// Record the comment `text` found on `line`; `own_line` when nothing precedes it.
    pub fn add(&mut self, line: usize, text: &str, own_line: bool) {
        match parse_directive(text) {
            Some(Directive::SkipFile) if own_line => self.skip_file = true,
            Some(Directive::SkipFile) | None => {}
            Some(directive) => self.lines.entry(line).or_default().push(directive),
        }
    }

    /// Whether no line has a directive.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether `code` is silenced on any of `lines`.
    pub fn suppresses(&self, code: &str, lines: &[usize]) -> bool {
        lines.iter().any(|line| {
            self.lines.get(line).is_some_and(|directives| {
                directives.iter().any(|d| match d {
                    Directive::All => true,
                    Directive::Codes(codes) => codes.iter().any(|c| code.starts_with(c.as_str())),
                    Directive::SkipFile => false,
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
