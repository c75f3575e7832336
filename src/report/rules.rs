//! The text of `unfreeze rules` and `unfreeze explain` (also the per-rule pages in
//! docs/rules/, which a test keeps in sync).

use crate::codemod::{Codemod, Registry};

/// The rule's fix in one word: its applicability, or `no fix`.
pub fn fix_label(codemod: &Codemod) -> String {
    match &codemod.strategy {
        Some(_) => codemod.applicability.to_string(),
        None if codemod.from_configuration.is_some() => "configured".to_owned(),
        None => "no fix".to_owned(),
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
            fix_label(codemod),
            codemod.summary.replace('|', "\\|"),
            code = codemod.code
        ));
    }
    index
}

/// The rule's documentation as Markdown.
pub fn explain(codemod: &Codemod) -> String {
    let docs = &codemod.docs;
    let fix = match &codemod.strategy {
        Some(_) => format!("Fix: {} by default.", codemod.applicability),
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
