//! The JSON reporter: one array of findings, written from its own wire structs so that an
//! internal refactor never changes the output. The schema is documented in
//! docs/json-format.md.

use std::io::{self, Write};

use serde::Serialize;

use super::Reporter;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::source::LineIndex;

#[derive(Serialize)]
struct Location {
    row: usize,
    column: usize,
}

#[derive(Serialize)]
struct WireEdit {
    content: String,
    location: Location,
    end_location: Location,
}

#[derive(Serialize)]
struct WireFix {
    applicability: &'static str,
    message: String,
    caveat: Option<String>,
    /// Whether this run applied (or, in diff mode, would apply) the fix.
    applied: bool,
    edits: Vec<WireEdit>,
}

#[derive(Serialize)]
struct WireFinding {
    code: String,
    name: String,
    message: String,
    filename: String,
    location: Location,
    end_location: Location,
    fix: Option<WireFix>,
    no_fix_reason: Option<String>,
    /// `safe` / `unsafe`: no fix of its own at that level, yet `fix` (`--unsafe-fixes`) fixes
    /// it in a later round.
    fixed_in_later_round: Option<&'static str>,
}

pub struct JsonReporter<W: Write, E: Write> {
    out: W,
    err: E,
    findings: Vec<WireFinding>,
}

impl<W: Write, E: Write> JsonReporter<W, E> {
    pub fn new(out: W, err: E) -> Self {
        JsonReporter {
            out,
            err,
            findings: Vec::new(),
        }
    }
}

fn applicability_name(applicability: crate::fix::Applicability) -> &'static str {
    match applicability {
        crate::fix::Applicability::Safe => "safe",
        crate::fix::Applicability::Unsafe => "unsafe",
        crate::fix::Applicability::DisplayOnly => "display-only",
    }
}

fn location(index: &LineIndex, text: &str, offset: usize) -> Location {
    let (row, column) = index.location(text, offset);
    Location { row, column }
}

impl<W: Write, E: Write> Reporter for JsonReporter<W, E> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        let (text, findings, applied) = match &report.outcome {
            FileOutcome::Error(message) => {
                return writeln!(self.err, "error: {}: {message}", report.display_path);
            }
            FileOutcome::Checked {
                text,
                findings,
                applied,
                rejected,
                ..
            } => {
                if let Some(reason) = rejected.as_ref().or(report.write_error.as_ref()) {
                    writeln!(self.err, "error: {}: {reason}", report.display_path)?;
                }
                (text, findings, applied)
            }
        };
        if findings.is_empty() {
            return Ok(());
        }
        let index = LineIndex::new(text);
        for (finding, applied) in findings.iter().zip(applied) {
            let fix = finding.fix.as_ref().map(|fix| WireFix {
                applicability: applicability_name(fix.applicability),
                message: fix.title.clone(),
                caveat: fix.caveat.clone(),
                applied: *applied,
                edits: fix
                    .edits
                    .iter()
                    .map(|edit| WireEdit {
                        content: edit.content.clone(),
                        location: location(&index, text, edit.range.start),
                        end_location: location(&index, text, edit.range.end),
                    })
                    .collect(),
            });
            self.findings.push(WireFinding {
                code: finding.code.clone(),
                name: finding.rule_name.clone(),
                message: finding.message.clone(),
                filename: report.display_path.clone(),
                location: location(&index, text, finding.range.start),
                end_location: location(&index, text, finding.range.end),
                fix,
                no_fix_reason: finding.no_fix_reason.clone(),
                fixed_in_later_round: finding.later_round.map(applicability_name),
            });
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, _original: &[u8]) -> io::Result<()> {
        self.file(report)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.out, &self.findings)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}
