//! `--statistics`: one line per rule with its count, instead of every finding. The counts are
//! the closing summary's ([`Tally`]): how many findings have a safe fix and how many an unsafe
//! one (the JSON adds those with none); after `check --fix`, of the findings left.

use std::io::{self, Write};

use serde::Serialize;

use super::summary::{Skip, Tally};
use super::{Format, Reporter};
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::settings::Mode;

/// One rule's line in `--format json`.
#[derive(Serialize)]
struct RuleCount<'a> {
    code: &'a str,
    name: &'a str,
    count: usize,
    /// How many of them have a safe fix.
    fixable: usize,
    /// How many have an unsafe fix (applied only with `--unsafe-fixes`).
    unsafe_fixable: usize,
    /// How many have no fix.
    no_fix: usize,
}

pub struct StatisticsReporter<W: Write, E: Write> {
    out: W,
    err: E,
    format: Format,
    mode: Mode,
    tally: Tally,
}

impl<W: Write, E: Write> StatisticsReporter<W, E> {
    pub fn new(out: W, err: E, format: Format, mode: Mode) -> Self {
        StatisticsReporter {
            out,
            err,
            format,
            mode,
            tally: Tally::default(),
        }
    }
}

impl<W: Write, E: Write> Reporter for StatisticsReporter<W, E> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        if let FileOutcome::Error(message) = &report.outcome {
            return writeln!(self.err, "error: {}: {message}", report.display_path);
        }
        let rejected = match &report.outcome {
            FileOutcome::Checked { rejected, .. } => rejected.as_deref(),
            FileOutcome::Error(_) => None,
        };
        for reason in [rejected, report.write_error.as_deref()]
            .into_iter()
            .flatten()
        {
            writeln!(self.err, "error: {}: {reason}", report.display_path)?;
        }
        let Some((_, findings, applied)) = report.checked() else {
            return Ok(());
        };
        let written = matches!(self.mode, Mode::Fix { write: true, .. });
        for (finding, applied) in findings.iter().zip(applied) {
            if !(written && *applied) {
                self.tally.add(finding, Some(Skip::NoFix));
            }
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, _original: &[u8]) -> io::Result<()> {
        self.file(report)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        if self.format == Format::Json {
            let rows: Vec<RuleCount> = self
                .tally
                .sorted_rules()
                .into_iter()
                .map(|rule| RuleCount {
                    code: &rule.code,
                    name: &rule.name,
                    count: rule.found,
                    fixable: rule.safe,
                    unsafe_fixable: rule.unsafe_,
                    no_fix: rule.found - rule.safe - rule.unsafe_,
                })
                .collect();
            serde_json::to_writer_pretty(&mut self.out, &rows)?;
            writeln!(self.out)?;
        } else {
            let rules = self.tally.sorted_rules();
            let width = rules
                .iter()
                .map(|r| r.found.to_string().len())
                .max()
                .unwrap_or(1);
            for rule in rules {
                let mut counts = Vec::new();
                if rule.safe > 0 {
                    counts.push(format!("{} fixable", rule.safe));
                }
                if rule.unsafe_ > 0 {
                    counts.push(format!("{} unsafe", rule.unsafe_));
                }
                let counts = if counts.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", counts.join(", "))
                };
                writeln!(
                    self.out,
                    "{:>width$}  {:<9} {}{counts}",
                    rule.found, rule.code, rule.name
                )?;
            }
        }
        self.out.flush()
    }
}
