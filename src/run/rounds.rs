//! A file's fixes, round after round: the fixed text is analyzed again until nothing more
//! applies, so one run converges where a second run would change the file again. The same
//! rounds serve `fix`, `fix --write`, the plan and the review (`fix -i`).

use std::ops::Range;
use std::path::Path;

use crate::analyze::Finding;
use crate::codemod::Registry;
use crate::fix::{CheckMask, fix_file_masked};
use crate::outcome::{FileOutcome, FixedFile};
use crate::prefilter::bodies_a_fix_round_leaves_out;
use crate::scope::Lines;
use crate::settings::Settings;
use crate::source::LineIndex;

use super::file::{Analysed, ProjectRole, find_in_project};

/// How many extra rounds of fixes one file gets (nested fixes need one round per level).
pub const MAX_FIX_ROUNDS: usize = 8;

/// A package's `__init__.py` re-exports what it imports: its imports are never removed.
pub fn keeps_unused_imports(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "__init__.py")
}

/// Make an analysed file's fixes (in fix mode) and its outcome. `round_role`: what the fix
/// rounds know of the project's calls.
pub(super) fn finish(
    analysed: Analysed,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    round_role: ProjectRole,
) -> FileOutcome {
    let Analysed {
        source,
        mut findings,
        syntax_errors,
        fingerprint,
        ..
    } = analysed;
    keep_in_scope(&mut findings, path, &source.text, &source.text, settings);
    let mut applied = vec![false; findings.len()];
    let mut fixed = None;
    let mut rejected = None;
    if let Some(threshold) = settings.mode.threshold()
        && findings.iter().any(|f| f.fix.is_some())
    {
        let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
        let keep_imports = keeps_unused_imports(path);
        // The rounds below read only what the fixes changed and the findings' code: their
        // parses leave out the other bodies (`prefilter::bodies_a_fix_round_leaves_out`).
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
        applied = outcome.applied;
        rejected = outcome.rejected;
        let mut fixed_text = outcome.fixed_text;
        let mut fixed_parse = outcome.parsed;
        // The fixed text is analysed again until nothing more applies, so that one run converges
        // where a second run would change the file again: fixes skipped because they overlapped
        // another (a call nested in a fixed call), calls that resolve only once a fix added an
        // import (`httpx.request` after `import httpx`), and, in a file with syntax errors,
        // calls tree-sitter's error recovery reads differently once the file changed.
        for _ in 0..MAX_FIX_ROUNDS {
            let Some(current) = fixed_text.as_deref() else {
                break;
            };
            let (parsed, masked_text) = match fixed_parse.take() {
                Some(checked) => (Some(checked.parsed), checked.masked_text),
                None => (None, None),
            };
            // A masked parse's errors are not all the text's: counted again if a fix has any.
            let masked = masked_text.is_some();
            let (mut more, round_errors, _) = find_in_project(
                masked_text.as_deref().unwrap_or(current),
                source.line_ending.as_str(),
                path,
                settings,
                registry,
                round_role,
                true,
                parsed,
            );
            keep_in_scope(&mut more, path, &source.text, current, settings);
            let more_fixes: Vec<_> = more.iter().map(|f| f.fix.as_ref()).collect();
            let more_ranges: Vec<Range<usize>> = more.iter().map(|f| f.range.clone()).collect();
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
            let Some(next) = round.fixed_text else {
                break;
            };
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
                    .filter(|(f, a)| !**a && f.code == finding.code)
                    .min_by_key(|(f, _)| (!same_call(f), f.fix.is_none()))
                {
                    *original.1 = true;
                }
            }
            fixed_text = Some(next);
            fixed_parse = round.parsed;
        }
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
        fingerprint,
    }
}

/// With a scope (`--since`): keep the findings of `current`, the text of the file at `path`
/// that was `original` before this run's fixes, that are on lines in scope; the lines follow
/// the fixes made so far. Without one, keep them all.
pub fn keep_in_scope(
    findings: &mut Vec<Finding>,
    path: &Path,
    original: &str,
    current: &str,
    settings: &Settings,
) {
    let Some(scope) = &settings.scope else {
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
