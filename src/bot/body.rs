//! The words of a bot run: the commit message and the pull-request body in Markdown (a table
//! per rule, each change with its rule's documentation, and what still needs a human).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::codemod::Registry;
use crate::plan::{Plan, PlannedFile, PlannedFinding};

/// A planned file with its path relative to the repository's top level.
pub struct RepoFile<'a> {
    pub path: String,
    pub file: &'a PlannedFile,
}

/// Where rule documentation lives: `{base}{CODE}.md`, or `unfreeze explain CODE` without one.
pub struct DocsLinks {
    pub base: Option<String>,
}

impl DocsLinks {
    /// `--docs-url`, else the package's repository (when its metadata names one).
    pub fn new(option: Option<&str>) -> DocsLinks {
        let base = match option {
            Some(base) => Some(base.to_owned()),
            None => option_env!("CARGO_PKG_REPOSITORY")
                .filter(|repo| !repo.is_empty())
                .map(|repo| {
                    format!(
                        "{}/blob/v{}/docs/rules/",
                        repo.trim_end_matches('/'),
                        env!("CARGO_PKG_VERSION")
                    )
                }),
        };
        DocsLinks {
            base: base.map(|b| if b.ends_with('/') { b } else { format!("{b}/") }),
        }
    }

    /// A Markdown reference to the rule's documentation.
    pub fn link(&self, code: &str) -> String {
        match &self.base {
            Some(base) => format!("[{code}]({base}{code}.md)"),
            None => format!("{code} (`unfreeze explain {code}`)"),
        }
    }
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Applied fixes, grouped by rule code: (file, finding).
fn applied_by_rule<'a>(
    files: &'a [RepoFile<'a>],
) -> BTreeMap<&'a str, Vec<(&'a str, &'a PlannedFinding)>> {
    let mut rules: BTreeMap<&str, Vec<(&str, &PlannedFinding)>> = BTreeMap::new();
    for repo_file in files {
        if repo_file.file.fixed.is_none() {
            continue;
        }
        for finding in repo_file.file.findings.iter().filter(|f| f.applied) {
            rules
                .entry(finding.code.as_str())
                .or_default()
                .push((repo_file.path.as_str(), finding));
        }
    }
    rules
}

/// Findings the fixes leave for a person: (file, finding).
pub fn needs_human<'a>(files: &'a [RepoFile<'a>]) -> Vec<(&'a str, &'a PlannedFinding)> {
    files
        .iter()
        .flat_map(|repo_file| {
            let fixed = repo_file.file.fixed.is_some();
            repo_file
                .file
                .findings
                .iter()
                .filter(move |f| !(fixed && f.applied))
                .map(move |f| (repo_file.path.as_str(), f))
        })
        .collect()
}

/// The number of fixes the commit applies.
pub fn applied_count(files: &[RepoFile<'_>]) -> usize {
    applied_by_rule(files).values().map(Vec::len).sum()
}

/// The commit's (and pull request's) title.
pub fn title(files: &[RepoFile<'_>]) -> String {
    let fixes = applied_count(files);
    let changed = files.iter().filter(|f| f.file.fixed.is_some()).count();
    format!(
        "unfreeze: fix {} in async code ({})",
        plural(fixes, "blocking call", "blocking calls"),
        plural(changed, "file", "files")
    )
}

/// The commit message: the title, the count per rule, what is left.
pub fn commit_message(files: &[RepoFile<'_>], registry: &Registry) -> String {
    let mut message = title(files);
    message.push_str("\n\n");
    for (code, fixes) in applied_by_rule(files) {
        let name = registry.get(code).map(|c| c.name.as_str()).unwrap_or("");
        let _ = writeln!(
            message,
            "- {code} {name}: {}",
            plural(fixes.len(), "fix", "fixes")
        );
    }
    let left = needs_human(files).len();
    if left > 0 {
        let _ = writeln!(
            message,
            "\n{} not changed: unsafe or display-only fixes, or no automatic fix.",
            plural(left, "finding", "findings")
        );
    }
    let _ = writeln!(
        message,
        "\nMade by `unfreeze bot` (unfreeze {}).",
        env!("CARGO_PKG_VERSION")
    );
    message
}

/// The pull-request body in Markdown.
pub fn pull_request_body(
    plan: &Plan,
    files: &[RepoFile<'_>],
    errors: &[(String, String)],
    registry: &Registry,
    docs: &DocsLinks,
) -> String {
    let mut body = String::new();
    let fixes = applied_count(files);
    let changed = files.iter().filter(|f| f.file.fixed.is_some()).count();
    let _ = writeln!(
        body,
        "This pull request rewrites {} in {} that block the asyncio event loop: while one \
         of them runs inside an `async def`, every other coroutine of the process waits. Each \
         change is listed under its rule, with the rule's documentation.\n",
        plural(fixes, "call", "calls"),
        plural(changed, "file", "files")
    );
    let _ = writeln!(
        body,
        "{}\n",
        if plan.unsafe_fixes {
            "Safe fixes keep behaviour. Unsafe fixes were included (`--unsafe-fixes`): each \
             one's behaviour difference is stated in its row; review those first."
        } else {
            "Every change is a safe fix: behaviour is kept, only the waiting no longer blocks \
             the loop."
        }
    );
    for (code, fixes) in applied_by_rule(files) {
        let codemod = registry.get(code);
        let name = codemod.map(|c| c.name.as_str()).unwrap_or("");
        let _ = writeln!(
            body,
            "### {code} · {name} ({})\n",
            plural(fixes.len(), "change", "changes")
        );
        let why = codemod
            .map(|c| format!("{}. ", c.summary.trim().trim_end_matches('.')))
            .unwrap_or_default();
        let _ = writeln!(body, "{why}Documentation: {}.\n", docs.link(code));
        let _ = writeln!(body, "| location | change | applicability | note |");
        let _ = writeln!(body, "|---|---|---|---|");
        for (path, finding) in fixes {
            let _ = writeln!(
                body,
                "| `{}:{}` | {} | {} | {} |",
                cell(path),
                finding.location.row,
                cell(finding.fix_title.as_deref().unwrap_or(&finding.message)),
                finding.applicability.as_deref().unwrap_or(""),
                cell(finding.caveat.as_deref().unwrap_or("")),
            );
        }
        body.push('\n');
    }
    let left = needs_human(files);
    if !left.is_empty() || !errors.is_empty() {
        let _ = writeln!(
            body,
            "### Needs a human ({})\n",
            plural(left.len() + errors.len(), "item", "items")
        );
        let _ = writeln!(
            body,
            "Not changed by this pull request: unsafe fixes (applied only with \
             `--unsafe-fixes`), display-only suggestions, and findings without an automatic \
             fix.\n"
        );
        if !left.is_empty() {
            let _ = writeln!(body, "| location | rule | finding | why |");
            let _ = writeln!(body, "|---|---|---|---|");
            for (path, finding) in &left {
                let _ = writeln!(
                    body,
                    "| `{}:{}:{}` | {} | {} | {} |",
                    cell(path),
                    finding.location.row,
                    finding.location.column,
                    docs.link(&finding.code),
                    cell(&finding.message),
                    cell(&finding.needs_human_reason()),
                );
            }
            body.push('\n');
        }
        for (path, message) in errors {
            let _ = writeln!(
                body,
                "- `{}`: could not be processed: {}",
                cell(path),
                cell(message)
            );
        }
        if !errors.is_empty() {
            body.push('\n');
        }
    }
    let _ = writeln!(
        body,
        "<sub>Made by `unfreeze bot` (unfreeze {}). Check locally with `unfreeze check`.</sub>",
        env!("CARGO_PKG_VERSION")
    );
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_on_one_line_and_escape_pipes() {
        assert_eq!(cell("a | b\n  c"), "a \\| b c");
    }

    #[test]
    fn links_use_the_base_or_explain() {
        let docs = DocsLinks {
            base: Some("https://example.org/rules/".to_owned()),
        };
        assert_eq!(
            docs.link("ASYNC251"),
            "[ASYNC251](https://example.org/rules/ASYNC251.md)"
        );
        let none = DocsLinks { base: None };
        assert_eq!(
            none.link("ASYNC251"),
            "ASYNC251 (`unfreeze explain ASYNC251`)"
        );
        assert_eq!(
            DocsLinks::new(Some("https://x.test/docs")).base.as_deref(),
            Some("https://x.test/docs/")
        );
    }
}
