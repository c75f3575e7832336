//! `--statistics`: one line per rule with its count, instead of every finding.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Format, Reporter};
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport, Summary};

#[derive(Default, Serialize)]
struct RuleCount {
    code: String,
    name: String,
    count: usize,
    /// How many of them have a safe fix.
    fixable: usize,
}

pub struct StatisticsReporter<W: Write, E: Write> {
    out: W,
    err: E,
    format: Format,
    counts: BTreeMap<String, RuleCount>,
}

impl<W: Write, E: Write> StatisticsReporter<W, E> {
    pub fn new(out: W, err: E, format: Format) -> Self {
        StatisticsReporter {
            out,
            err,
            format,
            counts: BTreeMap::new(),
        }
    }
}

impl<W: Write, E: Write> Reporter for StatisticsReporter<W, E> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        if let FileOutcome::Error(message) = &report.outcome {
            return writeln!(self.err, "error: {}: {message}", report.display_path);
        }
        for finding in report.findings() {
            let entry = self
                .counts
                .entry(finding.code.clone())
                .or_insert_with(|| RuleCount {
                    code: finding.code.clone(),
                    name: finding.rule_name.clone(),
                    ..RuleCount::default()
                });
            entry.count += 1;
            if finding
                .fix
                .as_ref()
                .is_some_and(|fix| fix.applicability == Applicability::Safe)
            {
                entry.fixable += 1;
            }
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, _original: &[u8]) -> io::Result<()> {
        self.file(report)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let mut rows: Vec<&RuleCount> = self.counts.values().collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        if self.format == Format::Json {
            serde_json::to_writer_pretty(&mut self.out, &rows)?;
            writeln!(self.out)?;
        } else {
            let width = rows
                .iter()
                .map(|r| r.count.to_string().len())
                .max()
                .unwrap_or(1);
            for row in rows {
                let fixable = if row.fixable > 0 {
                    format!("  ({} fixable)", row.fixable)
                } else {
                    String::new()
                };
                writeln!(
                    self.out,
                    "{:>width$}  {:<9} {}{fixable}",
                    row.count, row.code, row.name
                )?;
            }
        }
        self.out.flush()
    }
}
