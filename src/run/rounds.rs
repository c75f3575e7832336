//! A file's fixes, round after round: the fixed text is analyzed again until nothing more
//! applies, so one run converges where a second run would change the file again. The same
//! rounds serve `fix`, `fix --write`, the plan and the review (`fix -i`).

use std::ops::Range;
use std::path::Path;

use crate::analyze::{Finding, SYNTAX_ERROR_REASON, with_syntax_errors};
use crate::budget::stopped;
use crate::codemod::Registry;
use crate::fix::imports::SPLIT_IMPORTS_REASON;
use crate::fix::{Applicability, CheckMask, fix_file_masked};
use crate::lexical::bodies_a_fix_round_leaves_out;
use crate::line_scope::Lines;
use crate::outcome::{FileOutcome, FixedFile};
use crate::parse::ParsedFile;
use crate::settings::Settings;
use crate::source::{LineIndex, SourceText};
use crate::write::Fingerprint;

use super::file::{Analyzed, ProjectRole, find_in_project, skipped};
use super::labels::EarlierLabels;

/// How many extra rounds of fixes one file gets (nested fixes need one round per level).
pub const MAX_FIX_ROUNDS: usize = 8;

/// A package's `__init__.py` re-exports what it imports: its imports are never removed.
pub fn keeps_unused_imports(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "__init__.py")
}

/// What the fix rounds of one file need to find its findings again in a text its fixes
/// produced: the file, the run's settings and what the run knows of the project's calls (they
/// are looked up by name, never summarized again), so that every round of `fix`, the plan and
/// the review sees the findings the first round saw.
pub struct Refinder<'a> {
    pub(super) path: &'a Path,
    pub(super) settings: &'a Settings,
    pub(super) registry: &'a Registry,
    pub(super) role: ProjectRole<'a>,
    /// The file's text as read: the scope's lines (`--since`) follow the fixes from it.
    pub(super) original: &'a str,
    pub(super) line_ending: &'a str,
}

impl Refinder<'_> {
    /// The findings in scope of `current` (the text the fixes so far produced) and how many
    /// syntax errors the parsed text has. `masked`: `current` with bodies blanked, the text to
    /// parse instead; `parsed`: its parse, when the check of the fixes made one.
    pub fn find(
        &self,
        current: &str,
        masked: Option<&str>,
        parsed: Option<ParsedFile>,
    ) -> (Vec<Finding>, usize) {
        let (mut findings, errors, _) = find_in_project(
            masked.unwrap_or(current),
            self.line_ending,
            self.path,
            self.settings,
            self.registry,
            self.role,
            true,
            parsed,
        );
        keep_in_line_scope(
            &mut findings,
            self.path,
            self.original,
            current,
            self.settings,
        );
        (findings, errors)
    }
}

/// The fix-until-stable loop that `fix`, `fix --write`, the plan and the review share: after
/// the first round's fixes, the text they produced is analyzed again until nothing more
/// applies (at most [`MAX_FIX_ROUNDS`] rounds), so that one run converges where a second run
/// would change the file again: fixes skipped because they overlapped another (a call nested
/// in a fixed call), calls that resolve only once a fix added an import (`httpx.request` after
/// `import httpx`), and, in a file with syntax errors, calls tree-sitter's error recovery
/// reads differently once the file changed.
///
/// `round` finds the findings again with the refinder it is given, decides which fixes apply
/// (by threshold, or by asking the person), and returns `None` when the round changed nothing
/// (or there is no text to go on from).
pub fn until_stable(
    refinder: &Refinder,
    mut round: impl FnMut(
        &dyn Fn(&str, Option<&str>, Option<ParsedFile>) -> (Vec<Finding>, usize),
    ) -> Option<()>,
) {
    let refind = |current: &str, masked: Option<&str>, parsed: Option<ParsedFile>| {
        refinder.find(current, masked, parsed)
    };
    for _ in 0..MAX_FIX_ROUNDS {
        if round(&refind).is_none() {
            break;
        }
    }
}

/// Make an analyzed file's fixes (in fix mode) and its outcome. `round_role`: what the fix
/// rounds know of the project's calls. In both modes, a finding without a fix of its own that
/// a later round fixes says so ([`Finding::later_round`]), so that `check` and `fix` agree.
pub(super) fn fixed_outcome(
    analyzed: Analyzed,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    round_role: ProjectRole,
) -> FileOutcome {
    let Analyzed {
        source,
        mut findings,
        syntax_errors,
        syntax_findings,
        fingerprint,
        ..
    } = analyzed;
    keep_in_line_scope(&mut findings, path, &source.text, &source.text, settings);
    if !syntax_findings.is_empty() {
        // A file that does not parse is reported, never rewritten (as ruff does).
        let findings = with_syntax_errors(findings, syntax_findings, &source.text);
        return FileOutcome::Checked {
            applied: vec![false; findings.len()],
            findings,
            text: source.text,
            fixed: None,
            rejected: None,
            fingerprint: Some(fingerprint),
            over_budget: false,
        };
    }
    let mut applied = vec![false; findings.len()];
    let mut fixed = None;
    let mut rejected = None;
    let mut stopped_early = false;
    let context = RoundContext {
        source: &source,
        syntax_errors,
        path,
        settings,
        registry,
        round_role,
    };
    if settings.mode.threshold().is_none() && may_fix_later(&findings, syntax_errors) {
        // `check`: what `fix` and `fix --unsafe-fixes` would do in later rounds.
        for threshold in [Applicability::Unsafe, Applicability::Safe] {
            // Past the file's time budget, its findings are reported as they are.
            let Ok(rounds) = stopped(|| fix_in_rounds(&findings, threshold, &context)) else {
                rejected = Some(skipped(settings.file_timeout, "analysing"));
                stopped_early = true;
                break;
            };
            mark_later_rounds(&mut findings, &rounds.applied, threshold);
        }
    }
    if let Some(threshold) = settings.mode.threshold()
        && findings.iter().any(|f| f.fix.is_some())
    {
        // Past the file's time budget, its findings are reported, none fixed.
        let Ok(rounds) = stopped(|| fix_in_rounds(&findings, threshold, &context)) else {
            let rejected = Some(skipped(settings.file_timeout, "fixing"));
            let outcome = checked_outcome(source, findings, applied, None, rejected, fingerprint);
            return over_budget(outcome);
        };
        mark_later_rounds(&mut findings, &rounds.applied, threshold);
        applied = rounds.applied;
        rejected = rounds.rejected;
        let fixed_text = rounds.fixed_text;
        if let Some(text) = fixed_text {
            match source.encode(&text) {
                Some(bytes) => {
                    fixed = Some(Box::new(FixedFile {
                        text,
                        bytes,
                        read_as: fingerprint,
                    }))
                }
                None => {
                    applied.iter_mut().for_each(|a| *a = false);
                    rejected =
                        Some("the fixed text cannot be written in the file's encoding".to_owned());
                }
            }
        }
    }
    let outcome = checked_outcome(source, findings, applied, fixed, rejected, fingerprint);
    if stopped_early {
        return over_budget(outcome);
    }
    outcome
}

/// `outcome`, marked as stopped at the file's time budget.
fn over_budget(mut outcome: FileOutcome) -> FileOutcome {
    if let FileOutcome::Checked { over_budget, .. } = &mut outcome {
        *over_budget = true;
    }
    outcome
}

/// The outcome of a file analyzed (and, in fix mode, fixed).
fn checked_outcome(
    source: SourceText,
    findings: Vec<Finding>,
    applied: Vec<bool>,
    fixed: Option<Box<FixedFile>>,
    rejected: Option<String>,
    fingerprint: Fingerprint,
) -> FileOutcome {
    let (text, fingerprint) = if findings.is_empty() {
        (String::new(), None)
    } else {
        (source.text, Some(fingerprint))
    };
    FileOutcome::Checked {
        text,
        findings,
        applied,
        fixed,
        rejected,
        over_budget: false,
        fingerprint,
    }
}

/// What a file's fix rounds need besides the findings.
struct RoundContext<'a> {
    source: &'a SourceText,
    syntax_errors: Option<usize>,
    path: &'a Path,
    settings: &'a Settings,
    registry: &'a Registry,
    round_role: ProjectRole<'a>,
}

/// The fix rounds' result: which findings they fixed, the text, or why it was refused.
struct Rounds {
    applied: Vec<bool>,
    fixed_text: Option<String>,
    rejected: Option<String>,
}

/// Whether `finding`'s own fix applies at `threshold`.
fn fixed_at(finding: &Finding, threshold: Applicability) -> bool {
    finding
        .fix
        .as_ref()
        .is_some_and(|fix| fix.applicability >= threshold)
}

/// Whether a later round may fix a finding that has no fix of its own: only where the file's
/// syntax errors may read differently once other fixes are applied, or where a module-level
/// definition was refused as splitting the imports (another fix may add it), and some fix
/// applies in the first round. A masked parse
/// (`None`) did not count the file's errors: then only a finding refused for a syntax error
/// shows them.
fn may_fix_later(findings: &[Finding], syntax_errors: Option<usize>) -> bool {
    let errors = match syntax_errors {
        Some(count) => count > 0,
        None => findings
            .iter()
            .any(|f| f.fix.is_none() && f.no_fix_reason.as_deref() == Some(SYNTAX_ERROR_REASON)),
    };
    // A definition another fix adds may make room for one refused as splitting the imports.
    let split_imports = findings
        .iter()
        .any(|f| f.fix.is_none() && f.no_fix_reason.as_deref() == Some(SPLIT_IMPORTS_REASON));
    (errors || split_imports)
        && findings.iter().any(|f| f.fix.is_none())
        && findings.iter().any(|f| f.fix.is_some())
}

/// Record, on each finding the rounds fixed though its own fix does not apply at `threshold`,
/// the lowest threshold at which a later round fixes it.
fn mark_later_rounds(findings: &mut [Finding], applied: &[bool], threshold: Applicability) {
    for (finding, done) in findings.iter_mut().zip(applied) {
        if *done && !fixed_at(finding, threshold) {
            finding.later_round = Some(threshold);
        }
    }
}

/// `fix`'s rounds over one file at `threshold`: the first round's fixes, then the text they
/// produced analyzed again until nothing more applies, crediting the original findings.
fn fix_in_rounds(findings: &[Finding], threshold: Applicability, context: &RoundContext) -> Rounds {
    let RoundContext {
        source,
        syntax_errors,
        path,
        settings,
        registry,
        round_role,
    } = *context;
    let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
    let keep_imports = keeps_unused_imports(path);
    // The rounds below read only what the fixes changed and the findings' code: their
    // parses leave out the other bodies (`lexical::bodies_a_fix_round_leaves_out`).
    let leave_out =
        |text: &str, keep: &[Range<usize>]| bodies_a_fix_round_leaves_out(text, keep, registry);
    let finding_ranges: Vec<Range<usize>> = findings.iter().map(|f| f.range.clone()).collect();
    let mask = CheckMask {
        findings: &finding_ranges,
        bodies_left_out: &leave_out,
    };
    let outcome = fix_file_masked(
        &source.text,
        syntax_errors,
        &fixes,
        threshold,
        keep_imports,
        Some(&mask),
    );
    let mut applied = outcome.applied;
    // What the first round left unsafe (or without a fix) stays so in every later round.
    let mut labels = EarlierLabels::default();
    labels.left_by(findings, &applied, &outcome.findings_after, threshold);
    let rejected = outcome.rejected;
    let mut fixed_text = outcome.fixed_text;
    let mut fixed_parse = outcome.parsed;
    let refinder = Refinder {
        path,
        settings,
        registry,
        role: round_role,
        original: &source.text,
        line_ending: source.line_ending.as_str(),
    };
    until_stable(&refinder, |refind| {
        let current = fixed_text.as_deref()?;
        let (parsed, masked_text) = match fixed_parse.take() {
            Some(checked) => (Some(checked.parsed), checked.masked_text),
            None => (None, None),
        };
        // A masked parse's errors are not all the text's: counted again if a fix has any.
        let masked = masked_text.is_some();
        let (mut more, round_errors) = refind(current, masked_text.as_deref(), parsed);
        let unmatched = labels.lower(&mut more);
        let more_fixes: Vec<_> = more.iter().map(|f| f.fix.as_ref()).collect();
        // The labels no finding matched are carried through the round's edits too.
        let more_ranges: Vec<Range<usize>> = more
            .iter()
            .map(|f| f.range.clone())
            .chain(unmatched.ranges())
            .collect();
        let mask = CheckMask {
            findings: &more_ranges,
            bodies_left_out: &leave_out,
        };
        let round = fix_file_masked(
            current,
            (!masked).then_some(round_errors),
            &more_fixes,
            threshold,
            keep_imports,
            Some(&mask),
        );
        let next = round.fixed_text?;
        // Credit the original findings that were left over, rule by rule: the one with the
        // same call text first (it may have had no fix before, next to a syntax error that
        // tree-sitter now reads differently), then one that had a fix (skipped for an
        // overlap), then any (its fix appeared once the text changed: an import added).
        for (finding, done) in more.iter().zip(&round.applied) {
            if !done {
                continue;
            }
            let call = current.get(finding.range.clone());
            let same_call = |f: &Finding| source.text.get(f.range.clone()) == call;
            if let Some(original) = findings
                .iter()
                .zip(applied.iter_mut())
                .filter(|(f, a)| {
                    !**a && f.code == finding.code && (same_call(f) || fixed_at(f, threshold))
                })
                .min_by_key(|(f, _)| !same_call(f))
            {
                *original.1 = true;
            }
        }
        let (after, carried) = round.findings_after.split_at(more.len());
        labels.left_by(&more, &round.applied, after, threshold);
        labels.extend(unmatched.moved_to(carried));
        fixed_text = Some(next);
        fixed_parse = round.parsed;
        Some(())
    });
    Rounds {
        applied,
        fixed_text,
        rejected,
    }
}

/// With a scope (`--since`): keep the findings of `current`, the text of the file at `path`
/// that was `original` before this run's fixes, that are on lines in scope; the lines follow
/// the fixes made so far. Without one, keep them all.
pub fn keep_in_line_scope(
    findings: &mut Vec<Finding>,
    path: &Path,
    original: &str,
    current: &str,
    settings: &Settings,
) {
    let Some(scope) = &settings.line_scope else {
        return;
    };
    let lines = scope
        .file(path)
        .cloned()
        .unwrap_or(Lines::Ranges(Vec::new()));
    let lines = if original == current {
        lines
    } else {
        lines.carried(original, current)
    };
    let index = LineIndex::new(current);
    findings.retain(|finding| {
        let first = index.line_of(finding.range.start) + 1;
        let last = index.line_of(finding.range.end) + 1;
        lines.covers(first, last)
    });
}
