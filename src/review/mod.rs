//! Interactive review (`unfreeze fix -i`): the proposals, one at a time, in sorted order, each
//! with its diff, rule, message, applicability and location; the answers come from a
//! [`Prompt`] (the terminal, or a script in tests). Accepted fixes of a file are applied
//! together with the fix pipeline (imports added once, imports left unused removed, re-parse
//! check); a proposal that overlaps an accepted one is dropped and, once the file's other
//! answers are in, the file is analysed again so that what the accepted fixes left (a call
//! nested in a rewritten one) is proposed on the new text. Each file is written once, when its
//! review ends, atomically and only if it did not change since it was read.

mod prompt;
mod suppression;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use colored::Colorize;

pub use prompt::{Prompt, ScriptedPrompt, TerminalPrompt};
use suppression::{Style, suppression_edit, suppression_line};

use crate::analyze::Finding;
use crate::codemod::Registry;
use crate::diff::{unified_diff, write_colored};
use crate::fix::{Applicability, Edit, Fix, fix_file};
use crate::parse::{ParsedFile, parse};
use crate::report::summary::{Skip, Tally};
use crate::run::{
    FileOutcome, FileReport, MAX_FIX_ROUNDS, Mode, Settings, Summary, analyze_paths, find,
    keeps_unused_imports,
};
use crate::source::{LineIndex, SourceText, detect_line_ending};
use crate::write::{Fingerprint, WriteError, write_atomically};

const HELP: &str = "\
y - apply this fix
n - skip this fix
a - apply this fix and every remaining fix of the same rule
d - skip the remaining fixes in this file
s - add a suppression comment for this rule on the line instead of fixing it
q - quit: write the fixes accepted so far, skip everything else
? - show this help";

/// What the person answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Accept,
    Skip,
    AcceptRule,
    SkipFile,
    Suppress,
    Quit,
}

/// Why a set of fixes cannot be applied together.
enum Clash {
    /// Two of them overlap.
    Overlap,
    /// The result would not parse.
    Rejected(String),
}

/// The review of one file's text in one round: the fixes and suppression comments accepted
/// so far, and the text they give.
struct Round {
    base: String,
    parsed: ParsedFile,
    index: LineIndex,
    style: Style,
    accepted: Vec<Fix>,
    /// Codes to silence, by 0-based line of `base`.
    suppressions: BTreeMap<usize, Vec<String>>,
    /// `base` with everything accepted applied.
    current: String,
}

impl Round {
    fn new(base: String) -> Round {
        let parsed = parse(&base);
        let index = LineIndex::new(&base);
        let style = Style::of(&base);
        Round {
            current: base.clone(),
            base,
            parsed,
            index,
            style,
            accepted: Vec::new(),
            suppressions: BTreeMap::new(),
        }
    }

    /// The suppression comments as fixes (one per line).
    fn suppression_fixes(&self, suppressions: &BTreeMap<usize, Vec<String>>) -> Vec<Fix> {
        suppressions
            .iter()
            .filter_map(|(line, codes)| {
                let edit = suppression_edit(
                    &self.base,
                    &self.parsed,
                    &self.index,
                    *line,
                    codes,
                    self.style,
                )
                .ok()?;
                Some(Fix::new(
                    Applicability::Safe,
                    "add a suppression comment".to_owned(),
                    vec![Edit::replacement(edit.range, edit.content)],
                ))
            })
            .collect()
    }

    /// `base` with `fixes` applied by the fix pipeline, or why they cannot all be.
    fn combine(
        &self,
        fixes: &[Fix],
        syntax_errors: usize,
        keep_imports: bool,
    ) -> Result<String, Clash> {
        let refs: Vec<Option<&Fix>> = fixes.iter().map(Some).collect();
        let outcome = fix_file(
            &self.base,
            syntax_errors,
            &refs,
            Applicability::Unsafe,
            keep_imports,
        );
        if let Some(reason) = outcome.rejected {
            return Err(Clash::Rejected(reason));
        }
        if outcome.applied.iter().any(|applied| !applied) {
            return Err(Clash::Overlap);
        }
        Ok(outcome.fixed_text.unwrap_or_else(|| self.base.clone()))
    }
}

/// How a file's review ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileState {
    Open,
    /// `d`: the rest of the file is skipped.
    Skipped,
}

struct Session<'a> {
    settings: &'a Settings,
    registry: &'a Registry,
    prompt: &'a mut dyn Prompt,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    threshold: Applicability,
    /// Rules answered with `a`.
    accept_rules: HashSet<String>,
    quit: bool,
    position: usize,
    total: usize,
    tally: Tally,
    changes: usize,
    files_written: usize,
    errors: usize,
}

/// Review every fix of the settings' paths with `prompt`, writing the accepted ones; `out`
/// shows the proposals, `err` the errors. `quiet` leaves out the closing table.
pub fn review(
    settings: &Settings,
    registry: &Registry,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
    err: &mut dyn Write,
    quiet: bool,
) -> io::Result<Summary> {
    let threshold = match settings.mode {
        Mode::Fix {
            unsafe_fixes: true, ..
        } => Applicability::Unsafe,
        _ => Applicability::Safe,
    };
    let reports = analyze_paths(settings, registry);
    let total = reports
        .iter()
        .flat_map(|report| report.findings())
        .filter(|finding| is_proposal(finding, threshold))
        .count();
    let mut session = Session {
        settings,
        registry,
        prompt,
        out,
        err,
        threshold,
        accept_rules: HashSet::new(),
        quit: false,
        position: 0,
        total,
        tally: Tally::default(),
        changes: 0,
        files_written: 0,
        errors: 0,
    };
    if total == 0 {
        writeln!(session.out, "No fixes to review.")?;
    }
    for report in &reports {
        match &report.outcome {
            FileOutcome::Error(message) => session.error(&report.display_path, message)?,
            FileOutcome::Checked {
                text,
                findings,
                fingerprint,
                ..
            } => {
                session.tally.files_checked += 1;
                session.review_file(report, text, findings, *fingerprint)?;
            }
        }
    }
    session.finish(quiet)
}

fn is_proposal(finding: &Finding, threshold: Applicability) -> bool {
    finding.fix.as_ref().is_some_and(|fix| {
        fix.applicability >= threshold && fix.applicability > Applicability::DisplayOnly
    })
}

impl Session<'_> {
    fn error(&mut self, path: &str, message: &str) -> io::Result<()> {
        self.errors += 1;
        writeln!(
            self.err,
            "{}: {}: {message}",
            "error".red().bold(),
            path.bold()
        )
    }

    fn review_file(
        &mut self,
        report: &FileReport,
        text: &str,
        findings: &[Finding],
        fingerprint: Fingerprint,
    ) -> io::Result<()> {
        let mut decisions: Vec<(Finding, Option<Skip>)> = Vec::new();
        let mut proposals = Vec::new();
        for finding in findings {
            match finding.fix.as_ref().map(|fix| fix.applicability) {
                None | Some(Applicability::DisplayOnly) => {
                    decisions.push((finding.clone(), Some(Skip::NoFix)))
                }
                Some(applicability) if applicability < self.threshold => {
                    decisions.push((finding.clone(), Some(Skip::Unsafe)))
                }
                Some(_) => proposals.push(finding.clone()),
            }
        }
        if proposals.is_empty() {
            return self.record(decisions);
        }
        let keep_imports = keeps_unused_imports(&report.path);
        let syntax_errors = parse(text).error_ranges.len();
        let mut state = FileState::Open;
        // What was skipped, by rule and text, so that a later round does not ask again.
        let mut declined: HashMap<(String, String), usize> = HashMap::new();
        // Findings dropped for overlapping an accepted fix, waiting for a later round.
        let mut overlapped: Vec<Finding> = Vec::new();
        let mut changes = 0;
        let mut round = Round::new(text.to_owned());
        for round_number in 0..=MAX_FIX_ROUNDS {
            let mut dropped = 0;
            for finding in std::mem::take(&mut proposals) {
                // A later round's proposal stands for one that an accepted fix overlapped.
                let original = match overlapped.iter().position(|f| f.code == finding.code) {
                    Some(i) if round_number > 0 => overlapped.remove(i),
                    _ => finding.clone(),
                };
                if state == FileState::Skipped || self.quit {
                    decisions.push((original, Some(Skip::Declined)));
                    continue;
                }
                let fix = finding.fix.clone().expect("a proposal has a fix");
                let mut fixes = round.accepted.clone();
                fixes.push(fix.clone());
                fixes.extend(round.suppression_fixes(&round.suppressions));
                let candidate = match round.combine(&fixes, syntax_errors, keep_imports) {
                    Ok(candidate) => candidate,
                    Err(Clash::Overlap) => {
                        dropped += 1;
                        // Not asked now: a later round may propose it again, counted then.
                        self.total -= 1;
                        if round_number == 0 {
                            overlapped.push(original);
                        } else {
                            decisions.push((original, Some(Skip::Overlap)));
                        }
                        continue;
                    }
                    Err(Clash::Rejected(_)) => {
                        self.total -= 1;
                        let (row, column) = round.index.location(&round.base, finding.range.start);
                        writeln!(
                            self.out,
                            "{} {}:{row}:{column} {}: with this fix the file would not parse; not offered",
                            "dropped".yellow().bold(),
                            report.display_path,
                            finding.code
                        )?;
                        decisions.push((original, Some(Skip::Rejected)));
                        continue;
                    }
                };
                self.position += 1;
                let mut show = true;
                loop {
                    let answer = if self.accept_rules.contains(&finding.code) {
                        let (row, column) = round.index.location(&round.base, finding.range.start);
                        writeln!(
                            self.out,
                            "[{}/{}] {}:{row}:{column} {} {}: applied (all of this rule accepted)",
                            self.position,
                            self.total,
                            report.display_path,
                            finding.code,
                            finding.rule_name
                        )?;
                        Answer::Accept
                    } else {
                        self.ask(report, &finding, &round, &candidate, show)?
                    };
                    show = false;
                    match answer {
                        Answer::Accept | Answer::AcceptRule => {
                            if answer == Answer::AcceptRule {
                                self.accept_rules.insert(finding.code.clone());
                            }
                            round.accepted.push(fix.clone());
                            round.current = candidate.clone();
                            changes += 1;
                            decisions.push((original, None));
                        }
                        Answer::Skip | Answer::SkipFile | Answer::Quit => {
                            let snippet = round.base[finding.range.clone()].to_owned();
                            *declined.entry((finding.code.clone(), snippet)).or_default() += 1;
                            decisions.push((original, Some(Skip::Declined)));
                            match answer {
                                Answer::SkipFile => state = FileState::Skipped,
                                Answer::Quit => self.quit = true,
                                _ => {}
                            }
                        }
                        Answer::Suppress => {
                            match self.suppress(&mut round, &finding, syntax_errors, keep_imports) {
                                Ok((comment_line, comment)) => {
                                    writeln!(
                                        self.out,
                                        "Line {} now ends with `{}`.",
                                        comment_line + 1,
                                        comment.trim()
                                    )?;
                                    changes += 1;
                                    decisions.push((original, Some(Skip::Suppressed)));
                                }
                                Err(reason) => {
                                    writeln!(
                                        self.out,
                                        "{} {reason}",
                                        "cannot add a suppression comment:".yellow().bold()
                                    )?;
                                    continue;
                                }
                            }
                        }
                    }
                    break;
                }
            }
            let progressed = round.current != round.base;
            let text_now = round.current.clone();
            if dropped == 0 || !progressed || state != FileState::Open || self.quit {
                round = Round::new(text_now);
                break;
            }
            // Propose again what the accepted fixes overlapped, on the text they produced.
            let (again, _) = find(
                &text_now,
                detect_line_ending(&text_now).as_str(),
                &report.path,
                self.settings,
                self.registry,
            );
            round = Round::new(text_now);
            for finding in again {
                if !is_proposal(&finding, self.threshold) {
                    continue;
                }
                let snippet = round.base[finding.range.clone()].to_owned();
                if let Some(count) = declined
                    .get_mut(&(finding.code.clone(), snippet))
                    .filter(|count| **count > 0)
                {
                    *count -= 1;
                    continue;
                }
                proposals.push(finding);
            }
            self.total += proposals.len();
            if proposals.is_empty() {
                break;
            }
        }
        decisions.extend(
            overlapped
                .into_iter()
                .map(|finding| (finding, Some(Skip::Overlap))),
        );
        if round.base != text {
            match write_file(report, &round.base, fingerprint) {
                Ok(()) => {
                    self.changes += changes;
                    self.files_written += 1;
                    writeln!(
                        self.out,
                        "{} {} ({}).",
                        "Wrote".green().bold(),
                        report.display_path,
                        plural(changes, "change")
                    )?;
                }
                Err(message) => {
                    self.error(&report.display_path, &message)?;
                    for (_, outcome) in &mut decisions {
                        if matches!(outcome, None | Some(Skip::Suppressed)) {
                            *outcome = Some(Skip::WriteFailed);
                        }
                    }
                }
            }
        }
        self.record(decisions)
    }

    fn record(&mut self, decisions: Vec<(Finding, Option<Skip>)>) -> io::Result<()> {
        for (finding, outcome) in decisions {
            self.tally.add(&finding, outcome);
        }
        Ok(())
    }

    /// Add `finding`'s code to the suppression comment of its line; the line it went on and
    /// the comment.
    fn suppress(
        &mut self,
        round: &mut Round,
        finding: &Finding,
        syntax_errors: usize,
        keep_imports: bool,
    ) -> Result<(usize, String), String> {
        let line = suppression_line(&round.base, &round.parsed, &round.index, &finding.range)?;
        let mut suppressions = round.suppressions.clone();
        let codes = suppressions.entry(line).or_default();
        if !codes.contains(&finding.code) {
            codes.push(finding.code.clone());
        }
        // Check the comment can be written before combining (the reason, if not).
        let comment = suppression_edit(
            &round.base,
            &round.parsed,
            &round.index,
            line,
            &suppressions[&line],
            round.style,
        )?
        .content;
        let mut fixes = round.accepted.clone();
        fixes.extend(round.suppression_fixes(&suppressions));
        match round.combine(&fixes, syntax_errors, keep_imports) {
            Ok(text) => {
                round.suppressions = suppressions;
                round.current = text;
                Ok((line, comment))
            }
            Err(Clash::Overlap) => Err(format!(
                "line {} is changed by a fix already accepted",
                line + 1
            )),
            Err(Clash::Rejected(reason)) => Err(reason),
        }
    }

    /// Show a proposal (when `show`) and read the answer.
    fn ask(
        &mut self,
        report: &FileReport,
        finding: &Finding,
        round: &Round,
        candidate: &str,
        show: bool,
    ) -> io::Result<Answer> {
        let fix = finding.fix.as_ref().expect("a proposal has a fix");
        if show {
            let (row, column) = round.index.location(&round.base, finding.range.start);
            writeln!(self.out)?;
            writeln!(
                self.out,
                "{} {}:{row}:{column}: {} {}",
                format!("[{}/{}]", self.position, self.total).dimmed(),
                report.display_path.bold(),
                finding.code.red().bold(),
                finding.rule_name
            )?;
            writeln!(self.out, "{}", finding.message)?;
            let label = match fix.applicability {
                Applicability::Safe => "safe fix".green().bold(),
                _ => "unsafe fix".yellow().bold(),
            };
            writeln!(self.out, "{label}: {}", fix.title)?;
            if let Some(caveat) = &fix.caveat {
                writeln!(self.out, "{} {caveat}", "behaviour change:".yellow().bold())?;
            }
            let diff = unified_diff(&report.display_path, &round.current, candidate);
            write_colored(self.out, &diff)?;
        }
        loop {
            write!(self.out, "{} [y,n,a,d,s,q,?] ", "Apply this fix?".bold())?;
            self.out.flush()?;
            let Some(key) = self.prompt.key()? else {
                writeln!(self.out)?;
                writeln!(
                    self.out,
                    "End of input: quitting, keeping the fixes accepted so far."
                )?;
                return Ok(Answer::Quit);
            };
            if key.is_ascii_graphic() {
                writeln!(self.out, "{key}")?;
            } else {
                writeln!(self.out)?;
            }
            return Ok(match key.to_ascii_lowercase() {
                'y' => Answer::Accept,
                'n' => Answer::Skip,
                'a' => Answer::AcceptRule,
                'd' => Answer::SkipFile,
                's' => Answer::Suppress,
                'q' => Answer::Quit,
                '?' => {
                    writeln!(self.out, "{HELP}")?;
                    continue;
                }
                _ => {
                    writeln!(self.out, "Press y, n, a, d, s or q (? for help).")?;
                    continue;
                }
            });
        }
    }

    fn finish(self, quiet: bool) -> io::Result<Summary> {
        let mut summary = Summary {
            files_checked: self.tally.files_checked,
            files_fixed: self.files_written,
            errors: self.errors,
            ..Summary::default()
        };
        for rule in self.tally.rules() {
            summary.findings += rule.found;
            summary.fixed += rule.fixed + rule.skipped.get(&Skip::Suppressed).unwrap_or(&0);
        }
        writeln!(self.out)?;
        if !quiet && summary.findings > 0 {
            writeln!(
                self.out,
                "{} checked; findings by rule:",
                plural(summary.files_checked, "file")
            )?;
            self.tally
                .write_rules(self.out, self.settings.mode, "fixed")?;
            if !self.tally.skipped().is_empty() {
                writeln!(self.out, "Not fixed:")?;
                self.tally.write_skips(self.out)?;
            }
        }
        writeln!(
            self.out,
            "Applied {} in {}.",
            plural(self.changes, "change"),
            plural(self.files_written, "file")
        )?;
        self.out.flush()?;
        Ok(summary)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Write `text` to the report's file in its own encoding, if the file is still as it was read.
fn write_file(report: &FileReport, text: &str, fingerprint: Fingerprint) -> Result<(), String> {
    let bytes =
        std::fs::read(&report.path).map_err(|err| format!("could not read the file: {err}"))?;
    if Fingerprint::of(&bytes) != fingerprint {
        return Err(WriteError::Changed.to_string());
    }
    let source = SourceText::decode(&bytes).map_err(|err| err.to_string())?;
    let encoded = source
        .encode(text)
        .ok_or_else(|| "the fixed text cannot be written in the file's encoding".to_owned())?;
    write_atomically(&report.path, &encoded, fingerprint).map_err(|err| err.to_string())
}
