//! The JSON reporter: one array of findings, written from its own wire structs so that an
//! internal refactor never changes the output. The schema is documented in
//! docs/json-format.md.

use std::io::{self, Write};

use serde::Serialize;

use super::Reporter;
use crate::analyze::Finding;
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
    /// For a call reaching a blocking project function: the chain hop by hop, from this call
    /// to the blocking one. Left out for other findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    chain: Vec<WireHop>,
}

/// One hop of a chain: in `function` of `filename`, the call `call` at `location`.
#[derive(Serialize)]
struct WireHop {
    filename: String,
    location: Location,
    function: String,
    call: String,
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

fn wire_chain(finding: &Finding, path: &str, found: &Location) -> Vec<WireHop> {
    finding
        .shown_hops(path, (found.row, found.column))
        .into_iter()
        .map(|hop| WireHop {
            filename: hop.path.to_owned(),
            location: Location {
                row: hop.row,
                column: hop.column,
            },
            function: hop.function.to_owned(),
            call: hop.call.to_owned(),
        })
        .collect()
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
            let found = location(&index, text, finding.range.start);
            self.findings.push(WireFinding {
                code: finding.code.clone(),
                name: finding.rule_name.clone(),
                message: finding.message.clone(),
                filename: report.display_path.clone(),
                location: Location {
                    row: found.row,
                    column: found.column,
                },
                end_location: location(&index, text, finding.range.end),
                fix,
                no_fix_reason: finding.no_fix_reason.clone(),
                fixed_in_later_round: finding.later_round.map(applicability_name),
                chain: wire_chain(finding, &report.display_path, &found),
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
