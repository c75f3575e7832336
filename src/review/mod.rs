//! Interactive review (`unfreeze fix -i`): the proposals, one at a time, in sorted order, each
//! with its diff, rule, message, applicability and location; the answers come from a
//! [`Prompt`] (the terminal, or a script in tests). Accepted fixes of a file are applied
//! together with the fix pipeline (imports added once, imports left unused removed, re-parse
//! check); a proposal that overlaps an accepted one is dropped and, once the file's other
//! answers are in, the file is analyzed again so that what the accepted fixes left (a call
//! nested in a rewritten one) is proposed on the new text. Each file is written once, when its
//! review ends, atomically and only if it did not change since it was read.

mod prompt;
pub mod suppression;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use colored::Colorize;

pub use prompt::{Prompt, ScriptedPrompt, TerminalPrompt};
use suppression::{Style, suppression_edit, suppression_line};

use crate::analyze::Finding;
use crate::codemod::Registry;
use crate::diff::{line_map, unified_diff, write_colored};
use crate::fix::{Applicability, Edit, Fix, fix_file};
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::parse::{ParsedFile, parse};
use crate::report::summary::{Skip, Tally};
use crate::run::{Analysis, analyze, keeps_unused_imports, until_stable};
use crate::settings::{Mode, Settings};
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

/// The review of one file: its answers so far.
struct FileReview {
    /// A package's `__init__.py` keeps its imports.
    keep_imports: bool,
    /// The file's own syntax errors (fixes must add none).
    syntax_errors: usize,
    /// `d`: the rest of the file is skipped.
    skipped: bool,
    /// What was skipped, by rule and 0-based line of the round's text, so that a later round
    /// does not ask again.
    declined: HashMap<(String, usize), usize>,
    /// Findings dropped for overlapping an accepted fix, waiting for a later round.
    overlapped: Vec<Finding>,
    /// Fixes and suppression comments accepted.
    changes: usize,
    /// Every finding of the file with what became of it (`None`: fixed).
    decisions: Vec<(Finding, Option<Skip>)>,
    round: Round,
}

impl FileReview {
    /// The finding of the first round that a later round's proposal stands for: one an
    /// accepted fix overlapped, else one that had no fix then (an accepted fix made it
    /// fixable), else none (a new finding).
    fn original_of(&mut self, finding: &Finding) -> Finding {
        if let Some(i) = self.overlapped.iter().position(|f| f.code == finding.code) {
            return self.overlapped.remove(i);
        }
        let unfixed = self
            .decisions
            .iter()
            .position(|(f, outcome)| f.code == finding.code && *outcome == Some(Skip::NoFix));
        match unfixed {
            Some(i) => self.decisions.remove(i).0,
            None => finding.clone(),
        }
    }
}

struct Session<'a> {
    settings: &'a Settings,
    registry: &'a Registry,
    /// The analysis the proposals come from (its project calls serve the later rounds).
    analysis: &'a Analysis,
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
    // The project phase's settled calls are kept: the review's later rounds find the
    // project findings the first round found.
    let analysis = analyze(settings, registry, true);
    let total = analysis
        .reports
        .iter()
        .flat_map(|report| report.findings())
        .filter(|finding| is_proposal(finding, threshold))
        .count();
    let mut session = Session {
        settings,
        registry,
        analysis: &analysis,
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
    for report in &analysis.reports {
        match &report.outcome {
            FileOutcome::Error(message) => session.error(&report.display_path, message)?,
            FileOutcome::Checked {
                text,
                findings,
                fingerprint,
                ..
            } => {
                session.tally.files_checked += 1;
                // A file without findings has no fingerprint: nothing to review.
                if let Some(fingerprint) = fingerprint {
                    session.review_file(report, text, findings, *fingerprint)?;
                }
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
        let mut file = FileReview {
            keep_imports: keeps_unused_imports(&report.path),
            syntax_errors: 0,
            skipped: false,
            declined: HashMap::new(),
            overlapped: Vec::new(),
            changes: 0,
            decisions: Vec::new(),
            round: Round::new(text.to_owned()),
        };
        let mut proposals = Vec::new();
        for finding in findings {
            match finding.fix.as_ref().map(|fix| fix.applicability) {
                None | Some(Applicability::DisplayOnly) => {
                    file.decisions.push((finding.clone(), Some(Skip::NoFix)))
                }
                Some(applicability) if applicability < self.threshold => {
                    file.decisions.push((finding.clone(), Some(Skip::Unsafe)))
                }
                Some(_) => proposals.push(finding.clone()),
            }
        }
        if proposals.is_empty() {
            return self.record(file.decisions);
        }
        file.syntax_errors = file.round.parsed.error_ranges.len();
        let line_ending = detect_line_ending(text);
        let refinder = self.analysis.refinder(
            &report.path,
            text,
            line_ending.as_str(),
            self.settings,
            self.registry,
        );
        for finding in std::mem::take(&mut proposals) {
            self.propose(report, &mut file, finding.clone(), finding, 0)?;
        }
        // As `fix --write` does, the rounds analyze the text the accepted fixes produced: what
        // they overlapped (a call nested in a rewritten one) and what only they made fixable
        // is proposed; what was skipped is not asked again.
        let mut round_number = 0;
        let mut failure = None;
        until_stable(&refinder, |refind| {
            let text_now = file.round.current.clone();
            if text_now == file.round.base || file.skipped || self.quit {
                return None;
            }
            let lines = line_map(&file.round.base, &text_now);
            file.declined = std::mem::take(&mut file.declined)
                .into_iter()
                .map(|((code, line), count)| {
                    let moved = lines.get(line).copied().unwrap_or(line);
                    ((code, moved), count)
                })
                .collect();
            file.round = Round::new(text_now);
            let (again, _) = refind(&file.round.base, None, None);
            let mut proposals = Vec::new();
            for finding in again {
                if !is_proposal(&finding, self.threshold) {
                    continue;
                }
                let line = file.round.index.line_of(finding.range.start);
                if let Some(count) = file
                    .declined
                    .get_mut(&(finding.code.clone(), line))
                    .filter(|count| **count > 0)
                {
                    *count -= 1;
                    continue;
                }
                proposals.push(finding);
            }
            self.total += proposals.len();
            if proposals.is_empty() {
                return None;
            }
            round_number += 1;
            for finding in proposals {
                let original = file.original_of(&finding);
                if let Err(err) = self.propose(report, &mut file, finding, original, round_number) {
                    failure = Some(err);
                    return None;
                }
            }
            Some(())
        });
        if let Some(err) = failure {
            return Err(err);
        }
        // What the last round accepted becomes the text to write.
        if file.round.current != file.round.base {
            file.round = Round::new(file.round.current.clone());
        }
        let FileReview {
            mut decisions,
            overlapped,
            round,
            changes,
            ..
        } = file;
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

    /// Offer one proposal (or apply it, for a rule accepted with `a`) and record the answer
    /// against `original`, the finding it stands for.
    fn propose(
        &mut self,
        report: &FileReport,
        file: &mut FileReview,
        finding: Finding,
        original: Finding,
        round_number: usize,
    ) -> io::Result<()> {
        if file.skipped || self.quit {
            file.decisions.push((original, Some(Skip::Declined)));
            return Ok(());
        }
        let fix = finding.fix.clone().expect("a proposal has a fix");
        let mut fixes = file.round.accepted.clone();
        fixes.push(fix.clone());
        fixes.extend(file.round.suppression_fixes(&file.round.suppressions));
        let (row, column) = file
            .round
            .index
            .location(&file.round.base, finding.range.start);
        let candidate = match file
            .round
            .combine(&fixes, file.syntax_errors, file.keep_imports)
        {
            Ok(candidate) => candidate,
            Err(Clash::Overlap) => {
                // Not asked now: a later round may propose it again, counted then.
                self.total -= 1;
                if round_number == 0 {
                    file.overlapped.push(original);
                } else {
                    file.decisions.push((original, Some(Skip::Overlap)));
                }
                return Ok(());
            }
            Err(Clash::Rejected(_)) => {
                self.total -= 1;
                writeln!(
                    self.out,
                    "{} {}:{row}:{column} {}: with this fix the file would not parse; not offered",
                    "dropped".yellow().bold(),
                    report.display_path,
                    finding.code
                )?;
                file.decisions.push((original, Some(Skip::Rejected)));
                return Ok(());
            }
        };
        self.position += 1;
        let mut show = true;
        loop {
            let answer = if self.accept_rules.contains(&finding.code) {
                writeln!(
                    self.out,
                    "[{}/{}] {}:{row}:{column} {} {}: applied (all of this rule accepted)",
                    self.position, self.total, report.display_path, finding.code, finding.rule_name
                )?;
                Answer::Accept
            } else {
                self.ask(report, &finding, &file.round, &candidate, show)?
            };
            show = false;
            match answer {
                Answer::Accept | Answer::AcceptRule => {
                    if answer == Answer::AcceptRule {
                        self.accept_rules.insert(finding.code.clone());
                    }
                    file.round.accepted.push(fix);
                    file.round.current = candidate;
                    file.changes += 1;
                    file.decisions.push((original, None));
                }
                Answer::Skip | Answer::SkipFile | Answer::Quit => {
                    let line = file.round.index.line_of(finding.range.start);
                    *file
                        .declined
                        .entry((finding.code.clone(), line))
                        .or_default() += 1;
                    file.decisions.push((original, Some(Skip::Declined)));
                    file.skipped |= answer == Answer::SkipFile;
                    self.quit |= answer == Answer::Quit;
                }
                Answer::Suppress => match suppress(file, &finding) {
                    Ok(line) => {
                        writeln!(self.out, "Suppressed: {}", line.trim().bold())?;
                        file.changes += 1;
                        file.decisions.push((original, Some(Skip::Suppressed)));
                    }
                    Err(reason) => {
                        writeln!(
                            self.out,
                            "{} {reason}",
                            "cannot add a suppression comment:".yellow().bold()
                        )?;
                        continue;
                    }
                },
            }
            return Ok(());
        }
    }

    fn record(&mut self, decisions: Vec<(Finding, Option<Skip>)>) -> io::Result<()> {
        for (finding, outcome) in decisions {
            self.tally.add(&finding, outcome);
        }
        Ok(())
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

/// Add `finding`'s code to the suppression comment of its line; that line as it becomes.
fn suppress(file: &mut FileReview, finding: &Finding) -> Result<String, String> {
    let (syntax_errors, keep_imports) = (file.syntax_errors, file.keep_imports);
    let round = &mut file.round;
    let line = suppression_line(&round.base, &round.parsed, &round.index, &finding.range)?;
    let mut suppressions = round.suppressions.clone();
    let codes = suppressions.entry(line).or_default();
    if !codes.contains(&finding.code) {
        codes.push(finding.code.clone());
    }
    // Check the comment can be written before combining (the reason, if not).
    let edit = suppression_edit(
        &round.base,
        &round.parsed,
        &round.index,
        line,
        &suppressions[&line],
        round.style,
    )?;
    let start = round.index.line_start(line);
    let mut shown = round.index.line_text(&round.base, line).to_owned();
    shown.replace_range(
        edit.range.start - start..edit.range.end - start,
        &edit.content,
    );
    let mut fixes = round.accepted.clone();
    fixes.extend(round.suppression_fixes(&suppressions));
    match round.combine(&fixes, syntax_errors, keep_imports) {
        Ok(text) => {
            round.suppressions = suppressions;
            round.current = text;
            Ok(shown)
        }
        Err(Clash::Overlap) => Err(format!(
            "line {} is changed by a fix already accepted",
            line + 1
        )),
        Err(Clash::Rejected(reason)) => Err(reason),
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
