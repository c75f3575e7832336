//! The human-readable reporter: ruff-like findings (`path:row:col: CODE message`, the source
//! line, a caret underline and the fix), unified diffs in `fix`, errors on stderr.

use std::collections::BTreeMap;
use std::io::{self, Write};

use colored::Colorize;

use super::Reporter;
use super::summary::Tally;
use crate::analyze::{Finding, is_syntax_error};
use crate::diff::{unified_diff, write_colored};
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::settings::Mode;
use crate::source::LineIndex;

/// One file's applied fixes for `--show-fixes`: (code, rule name) → how many.
type FixesByRule = BTreeMap<(String, String), usize>;

pub struct TextReporter<W: Write, E: Write> {
    out: W,
    err: E,
    mode: Mode,
    /// `--quiet`: no closing summary.
    quiet: bool,
    tally: Tally,
    /// `--show-fixes`: the fixes applied, per file and rule (`None`: not asked).
    shown_fixes: Option<Vec<(String, FixesByRule)>>,
    /// The command that applies what a diff run showed.
    apply_command: String,
    /// The requests migration's client: (its fixes' note, the summary's line), and whether a
    /// fix of the run carries it.
    http_target: Option<(String, String)>,
    migrated: bool,
}

impl<W: Write, E: Write> TextReporter<W, E> {
    pub fn new(out: W, err: E, mode: Mode) -> Self {
        TextReporter {
            out,
            err,
            mode,
            quiet: false,
            tally: Tally::default(),
            shown_fixes: None,
            apply_command: "unfreeze fix --write".to_owned(),
            http_target: None,
            migrated: false,
        }
    }

    /// List the fixes applied at the end (`--show-fixes`, with `--write`).
    pub fn show_fixes(mut self, show: bool) -> Self {
        self.shown_fixes = show.then(Vec::new);
        self
    }

    /// The command the closing line of a diff run names to apply it.
    pub fn apply_command(mut self, command: String) -> Self {
        self.apply_command = command;
        self
    }

    /// Count the fixes applied to a file, for `--show-fixes`.
    fn record_fixes(&mut self, report: &FileReport) {
        let (Some(shown), Some((_, findings, applied))) =
            (self.shown_fixes.as_mut(), report.checked())
        else {
            return;
        };
        let mut codes = BTreeMap::new();
        for (finding, applied) in findings.iter().zip(applied) {
            if *applied {
                *codes
                    .entry((finding.code.clone(), finding.rule_name.clone()))
                    .or_default() += 1;
            }
        }
        if !codes.is_empty() {
            shown.push((report.display_path.clone(), codes));
        }
    }

    /// Say in the closing summary which client the requests migration wrote, and why, when
    /// one of the run's fixes is that migration.
    pub fn http_target(mut self, target: &crate::codemod::HttpTarget) -> Self {
        self.http_target = Some((target.note(), target.summary()));
        self
    }

    /// Leave out the closing summary (`--quiet`).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    fn error(&mut self, path: &str, message: &str) -> io::Result<()> {
        writeln!(
            self.err,
            "{}: {}: {message}",
            "error".red().bold(),
            path.bold()
        )
    }

    fn finding(
        &mut self,
        path: &str,
        text: &str,
        index: &LineIndex,
        finding: &Finding,
    ) -> io::Result<()> {
        let (row, column) = index.location(text, finding.range.start);
        let marker = match &finding.fix {
            Some(fix) if fix.applicability == Applicability::Safe => " [*]",
            _ if finding.later_round == Some(Applicability::Safe) => " [*]",
            _ => "",
        };
        // ruff's spelling: `path:row:col: SyntaxError: message`.
        let colon = if is_syntax_error(finding) { ":" } else { "" };
        writeln!(
            self.out,
            "{}:{}:{}: {}{}{} {}",
            path.bold(),
            row,
            column,
            finding.code.red().bold(),
            colon.red().bold(),
            marker.cyan(),
            finding.message
        )?;
        let line = index.line_of(finding.range.start);
        let line_text = index.line_text(text, line);
        let gutter = row.to_string().len();
        let start_col = column - 1;
        let line_chars = line_text.chars().count();
        let end_col = if index.line_of(finding.range.end) == line {
            index.location(text, finding.range.end).1 - 1
        } else {
            line_chars
        };
        let pad = " ".repeat(gutter);
        writeln!(self.out, "{pad} {}", "|".blue().bold())?;
        writeln!(
            self.out,
            "{} {} {}",
            row.to_string().blue().bold(),
            "|".blue().bold(),
            line_text
        )?;
        let prefix: String = line_text
            .chars()
            .take(start_col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = "^".repeat(end_col.saturating_sub(start_col).max(1));
        writeln!(
            self.out,
            "{pad} {} {prefix}{}",
            "|".blue().bold(),
            carets.red().bold()
        )?;
        for hop in finding.shown_hops(path, (row, column)) {
            writeln!(
                self.out,
                "{pad} {} {}: {}:{}:{}  {}",
                "=".blue().bold(),
                "chain".bold(),
                hop.path,
                hop.row,
                hop.column,
                hop.call
            )?;
        }
        match (&finding.fix, &finding.no_fix_reason) {
            (Some(fix), _) => {
                let label = match fix.applicability {
                    Applicability::Safe => "fix".to_owned(),
                    Applicability::Unsafe => "unsafe fix".to_owned(),
                    Applicability::DisplayOnly => "suggestion".to_owned(),
                };
                write!(
                    self.out,
                    "{pad} {} {}: {}",
                    "=".blue().bold(),
                    label.bold(),
                    fix.title
                )?;
                match &fix.caveat {
                    Some(caveat) => writeln!(self.out, " ({caveat})")?,
                    None => writeln!(self.out)?,
                }
            }
            (_, _) if finding.later_round.is_some() => {
                let how = match finding.later_round {
                    Some(Applicability::Safe) => "`unfreeze fix`",
                    _ => "`unfreeze fix --unsafe-fixes`",
                };
                let why = finding
                    .no_fix_reason
                    .as_deref()
                    .map(|reason| format!(" ({reason} at first)"))
                    .unwrap_or_default();
                writeln!(
                    self.out,
                    "{pad} {} {}: {how} fixes it in a later round, once the other fixes are applied{why}",
                    "=".blue().bold(),
                    "fixable after another fix".bold()
                )?
            }
            (None, Some(reason)) => writeln!(
                self.out,
                "{pad} {} {}: {reason}",
                "=".blue().bold(),
                "no fix".bold()
            )?,
            (None, None) => {}
        }
        writeln!(self.out)
    }

    /// For each unsafe fix applied (or proposed), its stated behaviour difference, on stderr
    /// (stdout carries only the diff), so that whoever applies it knows what changes.
    fn unsafe_notes(&mut self, report: &FileReport) -> io::Result<()> {
        let Some((text, findings, applied)) = report.checked() else {
            return Ok(());
        };
        let mut index = None;
        for (finding, applied) in findings.iter().zip(applied) {
            let Some(fix) = finding.fix.as_ref().filter(|f| {
                *applied && f.applicability == Applicability::Unsafe && f.caveat.is_some()
            }) else {
                continue;
            };
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            let (row, column) = index.location(text, finding.range.start);
            let verb = match self.mode {
                Mode::Fix { write: true, .. } => "applied",
                _ => "in the diff",
            };
            writeln!(
                self.err,
                "{}: {}:{row}:{column}: {} unsafe fix {verb}: {}",
                "note".yellow().bold(),
                report.display_path,
                finding.code,
                fix.caveat.as_deref().unwrap_or_default()
            )?;
        }
        Ok(())
    }

    /// In `fix` (a diff, or stdout given to an editor), each syntax error on stderr, with
    /// what it means: the file is left as it is.
    fn syntax_errors_not_fixed(&mut self, report: &FileReport) -> io::Result<()> {
        let Some((text, findings, _)) = report.checked() else {
            return Ok(());
        };
        let mut index = None;
        for finding in findings.iter().filter(|f| is_syntax_error(f)) {
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            let (row, column) = index.location(text, finding.range.start);
            writeln!(
                self.err,
                "{}: {}:{row}:{column}: SyntaxError: {} (the file is not fixed: unfreeze \
                 never rewrites a file that does not parse)",
                "error".red().bold(),
                report.display_path,
                finding.message
            )?;
        }
        Ok(())
    }

    /// Print the findings of a file, or only those not applied.
    fn findings(&mut self, report: &FileReport, only_unapplied: bool) -> io::Result<()> {
        let Some((text, findings, applied)) = report.checked() else {
            return Ok(());
        };
        if findings.is_empty() {
            return Ok(());
        }
        let index = LineIndex::new(text);
        for (finding, applied) in findings.iter().zip(applied) {
            if only_unapplied && *applied {
                continue;
            }
            self.finding(&report.display_path, text, &index, finding)?;
        }
        Ok(())
    }
}

impl<W: Write, E: Write> Reporter for TextReporter<W, E> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        self.tally.add_report(report, self.mode);
        if let (Some((note, _)), FileOutcome::Checked { findings, .. }) =
            (&self.http_target, &report.outcome)
        {
            self.migrated |= findings.iter().any(|f| {
                f.fix
                    .as_ref()
                    .and_then(|fix| fix.caveat.as_deref())
                    .is_some_and(|c| c.starts_with(note.as_str()))
            });
        }
        match &report.outcome {
            FileOutcome::Error(message) => return self.error(&report.display_path, message),
            FileOutcome::Checked {
                text,
                fixed,
                rejected,
                ..
            } => {
                if let Some(reason) = rejected {
                    self.error(&report.display_path, reason)?;
                }
                if let Some(reason) = &report.write_error {
                    self.error(&report.display_path, reason)?;
                }
                match self.mode {
                    Mode::Check => self.findings(report, false)?,
                    Mode::Fix { write: false, .. } => {
                        self.syntax_errors_not_fixed(report)?;
                        if let Some(fixed) = fixed {
                            let diff = unified_diff(&report.display_path, text, &fixed.text);
                            write_colored(&mut self.out, &diff)?;
                        }
                    }
                    Mode::Fix { write: true, .. } => {
                        self.findings(report, true)?;
                        self.record_fixes(report);
                    }
                }
                if matches!(self.mode, Mode::Fix { .. }) {
                    self.unsafe_notes(report)?;
                }
            }
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, original: &[u8]) -> io::Result<()> {
        match (&report.outcome, self.mode) {
            (FileOutcome::Error(message), Mode::Fix { .. }) => {
                self.error(&report.display_path, message)?;
                // An editor replaces the buffer with stdout: give it back unchanged.
                self.out.write_all(original)
            }
            (
                FileOutcome::Checked {
                    fixed, rejected, ..
                },
                Mode::Fix { .. },
            ) => {
                self.tally.add_report(report, self.mode);
                if let Some(reason) = rejected {
                    self.error(&report.display_path, reason)?;
                }
                self.syntax_errors_not_fixed(report)?;
                match fixed {
                    Some(fixed) => self.out.write_all(&fixed.bytes),
                    None => self.out.write_all(original),
                }
            }
            (_, Mode::Check) => self.file(report),
        }
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.quiet {
            return self.out.flush();
        }
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        if summary.errors > 0 {
            writeln!(
                self.err,
                "{} could not be checked or fixed (see the errors above).",
                plural(summary.errors, "path")
            )?;
        }
        match self.mode {
            Mode::Check => {
                if summary.findings == 0 && summary.errors > 0 {
                    writeln!(
                        self.out,
                        "No blocking calls found in the {} checked.",
                        plural(summary.files_checked, "file")
                    )?;
                } else if summary.findings == 0 {
                    writeln!(
                        self.out,
                        "{} ({} checked)",
                        "No blocking calls found.".green().bold(),
                        plural(summary.files_checked, "file")
                    )?;
                } else {
                    writeln!(
                        self.out,
                        "Found {} ({} checked).",
                        plural(summary.findings, "finding"),
                        plural(summary.files_checked, "file")
                    )?;
                    self.tally.write_rules(&mut self.out, self.mode, "fixed")?;
                    if summary.safe_fixable > 0 {
                        writeln!(
                            self.out,
                            "{} fixable: `unfreeze fix` shows the diff, `unfreeze fix --write` applies it.",
                            summary.safe_fixable
                        )?;
                    }
                    if summary.unsafe_fixable > 0 {
                        writeln!(
                            self.out,
                            "{} more fixable with `--unsafe-fixes` (each changes behaviour in a stated way).",
                            summary.unsafe_fixable
                        )?;
                    }
                    if summary.unfixable > 0 {
                        writeln!(
                            self.out,
                            "{} without an automatic fix yet.",
                            plural(summary.unfixable, "finding")
                        )?;
                    }
                }
            }
            Mode::Fix { write, .. } => {
                // In diff mode stdout carries only the diff, so the summary goes to stderr.
                let verb = if write { "Fixed" } else { "Would fix" };
                let target: &mut dyn Write = if write { &mut self.out } else { &mut self.err };
                writeln!(
                    target,
                    "{verb} {} in {}; {} left.",
                    plural(summary.fixed, "finding"),
                    plural(summary.files_fixed, "file"),
                    summary.findings - summary.fixed
                )?;
                if summary.findings > 0 {
                    writeln!(
                        target,
                        "{} checked; findings by rule:",
                        plural(summary.files_checked, "file")
                    )?;
                    let fixed = if write { "fixed" } else { "in the diff" };
                    self.tally.write_rules(target, self.mode, fixed)?;
                } else {
                    writeln!(target, "{} checked.", plural(summary.files_checked, "file"))?;
                }
                if summary.findings > summary.fixed {
                    writeln!(target, "Not fixed:")?;
                    self.tally.write_skips(target)?;
                }
                if let (true, Some((_, line))) = (self.migrated, &self.http_target) {
                    writeln!(target, "{line}")?;
                }
                if !write && summary.fixed > 0 {
                    writeln!(target, "Run `{}` to apply.", self.apply_command)?;
                }
                if let Some(shown) = &self.shown_fixes {
                    let total: usize = shown
                        .iter()
                        .map(|(_, codes)| codes.values().sum::<usize>())
                        .sum();
                    if total > 0 {
                        writeln!(target, "Fixes applied, by file and rule ({total}):")?;
                    }
                    for (path, codes) in shown {
                        writeln!(target, "- {path}:")?;
                        for ((code, name), count) in codes {
                            writeln!(target, "    {count} × {code} ({name})")?;
                        }
                    }
                }
            }
        }
        self.out.flush()
    }
}
