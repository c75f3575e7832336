//! GitHub Actions annotations: one `::error` workflow command per finding, so a CI job shows
//! each blocking call on the pull request's diff.

use std::io::{self, Write};

use super::Reporter;
use crate::analyze::is_syntax_error;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::source::LineIndex;

pub struct GithubReporter<W: Write> {
    out: W,
}

impl<W: Write> GithubReporter<W> {
    pub fn new(out: W) -> Self {
        GithubReporter { out }
    }
}

/// Escape a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl<W: Write> Reporter for GithubReporter<W> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        let file = escape_property(&report.display_path);
        let (text, findings) = match &report.outcome {
            FileOutcome::Error(message) => {
                return writeln!(self.out, "::error file={file}::{}", escape_data(message));
            }
            FileOutcome::Checked { text, findings, .. } => (text, findings),
        };
        if let Some(reason) = &report.write_error {
            writeln!(self.out, "::error file={file}::{}", escape_data(reason))?;
        }
        if findings.is_empty() {
            return Ok(());
        }
        let index = LineIndex::new(text);
        for finding in findings {
            let (line, col) = index.location(text, finding.range.start);
            let (end_line, end_col) = index.location(text, finding.range.end);
            let title = escape_property(&format!("unfreeze ({})", finding.code));
            let colon = if is_syntax_error(finding) { ":" } else { "" };
            let mut message = format!("{}{colon} {}", finding.code, finding.message);
            if let Some(fix) = &finding.fix {
                message.push_str(&format!(" (fix, {}: {})", fix.applicability, fix.title));
            }
            writeln!(
                self.out,
                "::error title={title},file={file},line={line},col={col},endLine={end_line},endColumn={end_col}::{}",
                escape_data(&message)
            )?;
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, _original: &[u8]) -> io::Result<()> {
        self.file(report)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
