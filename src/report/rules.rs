//! The text of `unfreeze rules` and `unfreeze explain` (also the per-rule pages in
//! docs/rules/, which a test keeps in sync).

use crate::codemod::{Codemod, Registry};

/// The rule's fix in one word: its applicability, or `no fix`. Where every call the rule
/// matches is an exception (`[[fix.exceptions]]`, all alike), the exception's (`unsafe` for
/// ASYNC250's `input()`); where only some are, the default with a `*` ([`EXCEPTIONS_NOTE`]).
pub fn fix_label(codemod: &Codemod) -> String {
    match &codemod.strategy {
        Some(_) => match exception_labels(codemod) {
            Exceptions::None => codemod.applicability.to_string(),
            Exceptions::All(label) => label,
            Exceptions::Some => format!("{}*", codemod.applicability),
        },
        None if codemod.from_configuration.is_some() => "configured".to_owned(),
        None => "no fix".to_owned(),
    }
}

/// What a `*` after a rule's fix means, below the tables.
pub const EXCEPTIONS_NOTE: &str = "*: the fix of some of the rule's calls is less safe (unsafe, \
    display-only, or none): `unfreeze explain CODE` says which";

/// How many of the calls with a less safe fix `explain` names per label.
const SHOWN_CALLS: usize = 3;

/// How a rule's `[[fix.exceptions]]` cover the calls it matches.
enum Exceptions {
    None,
    /// Every call, all with this label.
    All(String),
    Some,
}

/// One exception's label: its applicability, or `no fix`.
fn exception_label(exception: &crate::codemod::FixException) -> String {
    match exception.no_fix {
        true => "no fix".to_owned(),
        false => exception.applicability.to_string(),
    }
}

fn exception_labels(codemod: &Codemod) -> Exceptions {
    let lower: Vec<_> = codemod
        .fix_exceptions
        .values()
        .filter(|e| e.no_fix || e.applicability != codemod.applicability)
        .collect();
    if lower.is_empty() {
        return Exceptions::None;
    }
    // Every call: none left at the default, and none only sometimes excepted.
    let every = codemod.calls.iter().all(|call| {
        codemod
            .fix_exceptions
            .get(call)
            .is_some_and(|e| !e.unless_local_receiver)
    });
    let first = exception_label(lower[0]);
    match every
        && lower.len() == codemod.fix_exceptions.len()
        && lower.iter().all(|e| exception_label(e) == first)
    {
        true => Exceptions::All(first),
        false => Exceptions::Some,
    }
}

/// "Fix: safe by default." and, for `[[fix.exceptions]]`, which calls get less.
fn fix_line(codemod: &Codemod) -> String {
    let mut by_label: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for (call, exception) in &codemod.fix_exceptions {
        if exception.no_fix || exception.applicability != codemod.applicability {
            by_label
                .entry(exception_label(exception))
                .or_default()
                .push(call);
        }
    }
    match exception_labels(codemod) {
        Exceptions::None => format!("Fix: {} by default.", codemod.applicability),
        Exceptions::All(label) => format!(
            "Fix: {label} (every call it matches is an exception to the rule's {} default).",
            codemod.applicability
        ),
        Exceptions::Some => {
            let parts: Vec<String> = by_label
                .into_iter()
                .map(|(label, mut calls)| {
                    calls.sort_unstable();
                    let shown: Vec<String> = calls
                        .iter()
                        .take(SHOWN_CALLS)
                        .map(|c| format!("`{c}`"))
                        .collect();
                    match calls.len().saturating_sub(SHOWN_CALLS) {
                        0 => format!("{label} for {}", shown.join(", ")),
                        more => format!("{label} for {} and {more} more", shown.join(", ")),
                    }
                })
                .collect();
            format!(
                "Fix: {} by default; {}.",
                codemod.applicability,
                parts.join("; ")
            )
        }
    }
}

/// `opt-in` for a rule that runs only when selected, else nothing.
fn opt_in_label(codemod: &Codemod) -> &'static str {
    if codemod.default_enabled {
        ""
    } else {
        "opt-in"
    }
}

/// One line per rule: code, name, fix applicability, `opt-in` for a rule that runs only
/// when selected, summary; each column as wide as its longest entry.
pub fn rules_table(registry: &Registry) -> String {
    let codemods = registry.codemods();
    let width = |column: &dyn Fn(&Codemod) -> usize| codemods.iter().map(column).max().unwrap_or(0);
    let code = width(&|c| c.code.len());
    let name = width(&|c| c.name.len());
    let fix = width(&|c| fix_label(c).len());
    let opt_in = width(&|c| opt_in_label(c).len());
    let mut out = String::new();
    for codemod in codemods {
        out.push_str(&format!(
            "{:<code$}  {:<name$}  {:<fix$}  {:<opt_in$}  {}\n",
            codemod.code,
            codemod.name,
            fix_label(codemod),
            opt_in_label(codemod),
            codemod.summary
        ));
    }
    out
}

/// What the `*` of [`rules_table`] means, where a rule has one: printed on stderr, so that
/// stdout stays one rule a line.
pub fn rules_legend(registry: &Registry) -> Option<&'static str> {
    registry
        .codemods()
        .iter()
        .any(|c| fix_label(c).ends_with('*'))
        .then_some(EXCEPTIONS_NOTE)
}

/// docs/rules/README.md: a Markdown table linking every rule's page.
pub fn rules_index_markdown(registry: &Registry) -> String {
    let mut index = String::from(
        "# Rules\n\nGenerated from `codemods/*.toml` (`unfreeze rules`); one page per rule.\n\n\
         | code | name | fix | summary |\n|---|---|---|---|\n",
    );
    for codemod in registry.codemods() {
        index.push_str(&format!(
            "| [{code}]({code}.md) | {} | {} | {} |\n",
            codemod.name,
            fix_label(codemod).replace('*', "\\*"),
            codemod.summary.replace('|', "\\|"),
            code = codemod.code
        ));
    }
    if registry
        .codemods()
        .iter()
        .any(|c| fix_label(c).ends_with('*'))
    {
        index.push_str(&format!("\n{}\n", EXCEPTIONS_NOTE.replacen('*', "\\*", 1)));
    }
    index
}

/// The rule's documentation as Markdown.
pub fn explain(codemod: &Codemod) -> String {
    let docs = &codemod.docs;
    let fix = match &codemod.strategy {
        Some(_) => fix_line(codemod),
        None => "Fix: none (reported only).".to_owned(),
    };
    let fix = if codemod.default_enabled {
        fix
    } else {
        format!(
            "{fix}\n\nOpt-in: not enabled by default; enable it with `--extend-select {code}` \
             on the command line or `extend-select = [\"{code}\"]` in the configuration \
             (`--select {code}` runs this rule alone).",
            code = codemod.code
        )
    };
    format!(
        "# {code} ({name})\n\n{summary}\n\n{fix}\n\n## What it does\n\n{what}\n\n\
         ## Why is this bad?\n\n{why}\n\n## Example\n\n```python\n{example}\n```\n\n\
         ## Use instead\n\n```python\n{use_instead}\n```\n\n## Fix safety\n\n{fix_safety}\n",
        code = codemod.code,
        name = codemod.name,
        summary = codemod.summary,
        what = docs.what,
        why = docs.why,
        example = docs.example,
        use_instead = docs.use_instead,
        fix_safety = docs.fix_safety,
    )
}
