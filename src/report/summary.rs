//! The closing summary's numbers per rule: how many findings each rule has, how many of them
//! were fixed, and why the others were not. Filled from the file reports (or, in review, from
//! the person's decisions) and written as the last lines of a human-readable run.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::analyze::Finding;
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport};
use crate::settings::Mode;

/// Why a finding's fix was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// No fix, or only a suggestion.
    NoFix,
    /// The fix is unsafe and the run applies only safe fixes.
    Unsafe,
    /// The fix overlapped another one; the next run proposes it again.
    Overlap,
    /// The file would not parse (or could not be encoded) with its fixes: nothing changed.
    Rejected,
    /// The file could not be written (changed on disk, read-only, ...).
    WriteFailed,
    /// The file's fixes were stopped at its time budget (`--file-timeout`): nothing changed.
    OverBudget,
    /// Review: the person skipped it (or quit before reaching it).
    Declined,
    /// Review: a suppression comment was added instead.
    Suppressed,
}

impl Skip {
    /// The short label used in a rule's line.
    fn label(self) -> &'static str {
        match self {
            Skip::NoFix => "no fix",
            Skip::Unsafe => "unsafe",
            Skip::Overlap => "overlapping",
            Skip::Rejected => "would not parse",
            Skip::WriteFailed => "not written",
            Skip::OverBudget => "over the time budget",
            Skip::Declined => "skipped",
            Skip::Suppressed => "suppressed",
        }
    }

    /// The sentence that explains `count` of them.
    fn explain(self, count: usize) -> String {
        let (one, many) = match self {
            Skip::NoFix => (
                "finding has no automatic fix yet (see `unfreeze check`)",
                "findings have no automatic fix yet (see `unfreeze check`)",
            ),
            Skip::Unsafe => (
                "unsafe fix changes behaviour in a stated way: applied only with `--unsafe-fixes`",
                "unsafe fixes change behaviour in a stated way: applied only with `--unsafe-fixes`",
            ),
            Skip::Overlap => (
                "fix overlaps another one: run `unfreeze fix` again",
                "fixes overlap another one: run `unfreeze fix` again",
            ),
            Skip::Rejected => (
                "fix is in a file that would not parse after fixing (nothing changed in it)",
                "fixes are in files that would not parse after fixing (nothing changed in them)",
            ),
            Skip::WriteFailed => (
                "fix is in a file that could not be written (see the errors above)",
                "fixes are in files that could not be written (see the errors above)",
            ),
            Skip::OverBudget => (
                "fix is in a file stopped at its time budget, --file-timeout (nothing changed in it)",
                "fixes are in files stopped at their time budget, --file-timeout (nothing changed \
                 in them)",
            ),
            Skip::Declined => ("proposal was skipped", "proposals were skipped"),
            Skip::Suppressed => (
                "finding was silenced with a suppression comment",
                "findings were silenced with a suppression comment",
            ),
        };
        format!("{count} {}", if count == 1 { one } else { many })
    }
}

/// One rule's numbers.
#[derive(Clone, Debug, Default)]
pub struct RuleTally {
    pub code: String,
    pub name: String,
    pub found: usize,
    /// Findings with a safe fix.
    pub safe: usize,
    /// Findings with an unsafe fix.
    pub unsafe_: usize,
    /// Fixes applied (or, in diff mode, in the diff).
    pub fixed: usize,
    pub skipped: BTreeMap<Skip, usize>,
}

/// The numbers of a whole run.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub files_checked: usize,
    rules: BTreeMap<String, RuleTally>,
}

/// Why the fix of a finding of `report` was not applied in fix mode; `None` when it was.
fn skip_reason(report: &FileReport, finding: &Finding, applied: bool, mode: Mode) -> Option<Skip> {
    if applied {
        return None;
    }
    let applicability = finding.fix.as_ref().map(|fix| fix.applicability);
    let unsafe_fixes = matches!(
        mode,
        Mode::Fix {
            unsafe_fixes: true,
            ..
        }
    );
    Some(match applicability {
        None | Some(Applicability::DisplayOnly) => Skip::NoFix,
        Some(Applicability::Unsafe) if !unsafe_fixes => Skip::Unsafe,
        _ if report.write_error.is_some() => Skip::WriteFailed,
        _ if matches!(
            &report.outcome,
            FileOutcome::Checked {
                over_budget: true,
                ..
            }
        ) =>
        {
            Skip::OverBudget
        }
        _ if matches!(
            &report.outcome,
            FileOutcome::Checked {
                rejected: Some(_),
                ..
            }
        ) =>
        {
            Skip::Rejected
        }
        _ => Skip::Overlap,
    })
}

impl Tally {
    fn rule(&mut self, finding: &Finding) -> &mut RuleTally {
        self.rules
            .entry(finding.code.clone())
            .or_insert_with(|| RuleTally {
                code: finding.code.clone(),
                name: finding.rule_name.clone(),
                ..RuleTally::default()
            })
    }

    /// Count one finding; `outcome` is `None` when its fix was applied.
    pub fn add(&mut self, finding: &Finding, outcome: Option<Skip>) {
        let rule = self.rule(finding);
        rule.found += 1;
        let own = finding.fix.as_ref().map(|fix| fix.applicability);
        // A finding a later round fixes counts as fixable at that level, as `fix` counts it.
        match own.max(finding.later_round) {
            Some(Applicability::Safe) => rule.safe += 1,
            Some(Applicability::Unsafe) => rule.unsafe_ += 1,
            _ => {}
        }
        match outcome {
            None => rule.fixed += 1,
            Some(skip) => *rule.skipped.entry(skip).or_default() += 1,
        }
    }

    /// Count a file's findings as the run left them.
    pub fn add_report(&mut self, report: &FileReport, mode: Mode) {
        let Some((_, findings, applied)) = report.checked() else {
            return;
        };
        self.files_checked += 1;
        for (i, finding) in findings.iter().enumerate() {
            let outcome = match mode {
                Mode::Check => Some(Skip::NoFix),
                Mode::Fix { .. } => skip_reason(
                    report,
                    finding,
                    applied.get(i).copied().unwrap_or(false),
                    mode,
                ),
            };
            self.add(finding, outcome);
        }
    }

    pub fn rules(&self) -> impl Iterator<Item = &RuleTally> {
        self.rules.values()
    }

    /// Every rule's skips, added up.
    pub fn skipped(&self) -> BTreeMap<Skip, usize> {
        let mut total = BTreeMap::new();
        for rule in self.rules.values() {
            for (skip, count) in &rule.skipped {
                *total.entry(*skip).or_default() += count;
            }
        }
        total
    }

    /// One line per rule, most findings first: in check mode how many are fixable, otherwise
    /// how many were fixed and why the others were not. `fixed` names what a fix became
    /// ("fixed", "in the diff").
    pub fn write_rules(&self, out: &mut dyn Write, mode: Mode, fixed: &str) -> io::Result<()> {
        let rules = self.sorted_rules();
        let count_width = rules
            .iter()
            .map(|r| r.found.to_string().len())
            .max()
            .unwrap_or(1);
        // At least as wide as the bundled codes (`ASYNC251`), so columns stay put run to run.
        let code_width = rules.iter().map(|r| r.code.len()).max().unwrap_or(0).max(8);
        let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for rule in rules {
            let mut parts = Vec::new();
            match mode {
                Mode::Check => {
                    if rule.safe > 0 {
                        parts.push(format!("{} fixable", rule.safe));
                    }
                    if rule.unsafe_ > 0 {
                        parts.push(format!("{} unsafe", rule.unsafe_));
                    }
                    let without = rule.found - rule.safe - rule.unsafe_;
                    if without > 0 {
                        parts.push(format!("{without} no fix"));
                    }
                }
                Mode::Fix { .. } => {
                    parts.push(format!("{} {fixed}", rule.fixed));
                    for (skip, count) in &rule.skipped {
                        parts.push(format!("{count} {}", skip.label()));
                    }
                }
            }
            writeln!(
                out,
                "  {:>count_width$}  {:<code_width$}  {:<name_width$}  ({})",
                rule.found,
                rule.code,
                rule.name,
                parts.join(", ")
            )?;
        }
        Ok(())
    }

    /// The rules, most findings first (ties by code).
    pub fn sorted_rules(&self) -> Vec<&RuleTally> {
        let mut rules: Vec<&RuleTally> = self.rules.values().collect();
        rules.sort_by(|a, b| b.found.cmp(&a.found).then(a.code.cmp(&b.code)));
        rules
    }

    /// One line per reason a fix was not applied.
    pub fn write_skips(&self, out: &mut dyn Write) -> io::Result<()> {
        for (skip, count) in self.skipped() {
            writeln!(out, "  {}.", skip.explain(count))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Fix;

    fn finding(code: &str, applicability: Option<Applicability>) -> Finding {
        Finding {
            code: code.to_owned(),
            rule_name: format!("rule-{code}"),
            message: String::new(),
            range: 0..1,
            fix: applicability.map(|a| Fix::new(a, "t".to_owned(), Vec::new())),
            no_fix_reason: None,
            later_round: None,
            speculation: None,
            chain: None,
        }
    }

    #[test]
    fn rules_are_listed_most_findings_first_with_why_fixes_were_skipped() {
        let mut tally = Tally::default();
        tally.add(&finding("ASYNC251", Some(Applicability::Safe)), None);
        tally.add(&finding("ASYNC210", Some(Applicability::Safe)), None);
        tally.add(
            &finding("ASYNC210", Some(Applicability::Unsafe)),
            Some(Skip::Unsafe),
        );
        tally.add(&finding("ASYNC210", None), Some(Skip::NoFix));
        let mut out = Vec::new();
        let mode = Mode::Fix {
            write: true,
            unsafe_fixes: false,
        };
        tally.write_rules(&mut out, mode, "fixed").unwrap();
        tally.write_skips(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  3  ASYNC210  rule-ASYNC210  (1 fixed, 1 no fix, 1 unsafe)\n\
             \x20 1  ASYNC251  rule-ASYNC251  (1 fixed)\n\
             \x20 1 finding has no automatic fix yet (see `unfreeze check`).\n\
             \x20 1 unsafe fix changes behaviour in a stated way: applied only with `--unsafe-fixes`.\n"
        );
    }
}
