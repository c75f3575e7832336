//! What an earlier fix round said of the findings its fixes left, carried to the later rounds:
//! a finding whose fix did not reach the run's threshold (unsafe, or no fix) keeps at most
//! that label in every later round. A later round reads a text the fixes rewrote, where what
//! made the fix unsafe may no longer show (a path now the result of a thread hop); it may
//! finish what an overlap or a missing import held back, never lift a label.

use std::ops::Range;

use crate::analyze::{Finding, SYNTAX_ERROR_REASON};
use crate::fix::Applicability;
use crate::fix::imports::SPLIT_IMPORTS_REASON;

/// One finding an earlier round left with a label below the threshold.
struct Label {
    code: String,
    /// Where its call is in the current text (grown to cover what replaced part of it).
    range: Range<usize>,
    /// Its fix's applicability, `None` when it had no fix.
    most: Option<Applicability>,
    no_fix_reason: Option<String>,
}

/// The labels the rounds so far left, by where their findings are in the current text.
#[derive(Default)]
pub(super) struct EarlierLabels {
    labels: Vec<Label>,
}

/// Whether a finding without a fix may get one in a later round: its code next to a syntax
/// error that tree-sitter reads differently once the file changed, or a definition refused as
/// splitting the imports that another fix's definition makes room for.
fn may_get_a_fix_later(finding: &Finding) -> bool {
    matches!(
        finding.no_fix_reason.as_deref(),
        Some(SYNTAX_ERROR_REASON | SPLIT_IMPORTS_REASON)
    )
}

impl EarlierLabels {
    /// Add the findings of a round (`after`: where each is in the text the round produced)
    /// that the round did not fix and whose label is below `threshold`.
    pub(super) fn left_by(
        &mut self,
        findings: &[Finding],
        applied: &[bool],
        after: &[Range<usize>],
        threshold: Applicability,
    ) {
        for ((finding, done), range) in findings.iter().zip(applied).zip(after) {
            let most = finding.fix.as_ref().map(|fix| fix.applicability);
            let below = match most {
                Some(applicability) => applicability < threshold,
                None => !may_get_a_fix_later(finding),
            };
            if !*done && below {
                self.labels.push(Label {
                    code: finding.code.clone(),
                    range: range.clone(),
                    most,
                    no_fix_reason: finding.no_fix_reason.clone(),
                });
            }
        }
    }

    /// Lower each finding of a later round that an earlier round labelled (same rule, its call
    /// where the earlier one's was) to that label. Returns the labels no finding matched, to
    /// be carried through the round's edits (their ranges: [`Self::ranges`]).
    pub(super) fn lower(&mut self, findings: &mut [Finding]) -> EarlierLabels {
        let mut matched = vec![false; self.labels.len()];
        for finding in findings.iter_mut() {
            let earlier = self.labels.iter().enumerate().find(|(_, label)| {
                label.code == finding.code
                    && label.range.start <= finding.range.start
                    && finding.range.end <= label.range.end
            });
            let Some((i, label)) = earlier else {
                continue;
            };
            matched[i] = true;
            match (label.most, finding.fix.as_mut()) {
                (Some(most), Some(fix)) => fix.applicability = fix.applicability.min(most),
                (None, Some(_)) => {
                    finding.fix = None;
                    finding.no_fix_reason = label.no_fix_reason.clone();
                }
                (_, None) => {}
            }
        }
        let labels = std::mem::take(&mut self.labels);
        EarlierLabels {
            labels: labels
                .into_iter()
                .zip(matched)
                .filter(|(_, matched)| !matched)
                .map(|(label, _)| label)
                .collect(),
        }
    }

    /// Where the labels' findings are in the current text.
    pub(super) fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.labels.iter().map(|label| label.range.clone())
    }

    /// The labels, moved to `after` (one range each, in order: where the round's edits put
    /// them).
    pub(super) fn moved_to(mut self, after: &[Range<usize>]) -> EarlierLabels {
        for (label, range) in self.labels.iter_mut().zip(after) {
            label.range = range.clone();
        }
        self
    }

    /// Both sets of labels.
    pub(super) fn extend(&mut self, other: EarlierLabels) {
        self.labels.extend(other.labels);
    }
}
