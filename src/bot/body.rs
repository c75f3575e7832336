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
    /// The file is not inside the repository (`path` is then as given).
    pub outside: bool,
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

/// A table cell of prose that may hold text from the repository (paths, messages, errors): one
/// line, pipes escaped; its `code spans` kept, and outside them the characters that would open
/// a link, an image, HTML or emphasis escaped, and `@` kept from mentioning anyone.
fn cell(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(open) = rest.find('`') {
        escape_prose(&rest[..open], &mut out);
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                out.push('`');
                out.push_str(&after[..close].replace('|', "\\|"));
                out.push('`');
                rest = &after[close + 1..];
            }
            None => {
                out.push_str("\\`");
                rest = after;
            }
        }
    }
    escape_prose(rest, &mut out);
    out
}

fn escape_prose(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            // A zero-width space: GitHub mentions `@name` in rendered text, escaped or not.
            '@' => out.push_str("@\u{200b}"),
            _ => out.push(c),
        }
    }
}

/// `text` as one code span in a table cell: fenced with one backtick more than the longest run
/// in it (a path with backticks cannot close it), pipes escaped.
fn code_span(text: &str) -> String {
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if line.starts_with('`') || line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{line}{pad}{fence}")
}

/// A finding's chain for its table cell, one line per hop (`path:line:col` and the call, each
/// a code span), after the cell's text; empty for a finding without a chain.
fn chain_lines(finding: &PlannedFinding) -> String {
    finding
        .chain
        .iter()
        .map(|hop| {
            format!(
                "<br>chain: {} {}",
                code_span(&format!(
                    "{}:{}:{}",
                    hop.filename, hop.location.row, hop.location.column
                )),
                code_span(&hop.call)
            )
        })
        .collect()
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

/// GitHub refuses a pull-request body longer than 65,536 characters; keep a margin.
pub const MAX_BODY_CHARS: usize = 60_000;

/// The pull-request body in Markdown, within [`MAX_BODY_CHARS`]: when every row does not fit,
/// each table keeps its first rows and says how many more the commit holds.
pub fn pull_request_body(
    plan: &Plan,
    files: &[RepoFile<'_>],
    errors: &[(String, String)],
    registry: &Registry,
    docs: &DocsLinks,
) -> String {
    let mut body = body_with_rows(plan, files, errors, registry, docs, usize::MAX);
    for max_rows in [200, 50, 20, 5, 0] {
        if body.chars().count() <= MAX_BODY_CHARS {
            break;
        }
        body = body_with_rows(plan, files, errors, registry, docs, max_rows);
    }
    body
}

/// A line after a table cut to `max_rows`.
fn more_rows(body: &mut String, total: usize, max_rows: usize, what: &str) {
    if total > max_rows {
        let _ = writeln!(
            body,
            "\n... and {} more {what} (the body is kept under GitHub's size limit; run \
             `unfreeze check` for the full list).",
            total - max_rows
        );
    }
}

fn body_with_rows(
    plan: &Plan,
    files: &[RepoFile<'_>],
    errors: &[(String, String)],
    registry: &Registry,
    docs: &DocsLinks,
    max_rows: usize,
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
        for (path, finding) in fixes.iter().take(max_rows) {
            let _ = writeln!(
                body,
                "| {} | {} | {} | {} |",
                code_span(&format!("{path}:{}", finding.location.row)),
                cell(finding.fix_title.as_deref().unwrap_or(&finding.message))
                    + &chain_lines(finding),
                finding.applicability.as_deref().unwrap_or(""),
                cell(finding.caveat.as_deref().unwrap_or("")),
            );
        }
        more_rows(&mut body, fixes.len(), max_rows, "changes of this rule");
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
            for (path, finding) in left.iter().take(max_rows) {
                let _ = writeln!(
                    body,
                    "| {} | {} | {} | {} |",
                    code_span(&format!(
                        "{path}:{}:{}",
                        finding.location.row, finding.location.column
                    )),
                    docs.link(&finding.code),
                    cell(&finding.message) + &chain_lines(finding),
                    cell(&finding.needs_human_reason()),
                );
            }
            more_rows(&mut body, left.len(), max_rows, "findings");
            body.push('\n');
        }
        for (path, message) in errors.iter().take(max_rows.max(20)) {
            let _ = writeln!(
                body,
                "- {}: could not be processed: {}",
                code_span(path),
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
    use crate::plan::{FixedContent, Location, PlannedFile, PlannedHop};

    fn finding(row: usize, applied: bool) -> PlannedFinding {
        PlannedFinding {
            code: "ASYNC251".to_owned(),
            name: "blocking-sleep".to_owned(),
            message: "`time.sleep` blocks the event loop in async function `f`".to_owned(),
            location: Location { row, column: 5 },
            end_location: Location { row, column: 18 },
            applicability: Some(if applied { "safe" } else { "unsafe" }.to_owned()),
            fix_title: Some("Replace with `await asyncio.sleep(...)`".to_owned()),
            caveat: (!applied).then(|| "a negative delay no longer raises".to_owned()),
            applied,
            no_fix_reason: None,
            chain: Vec::new(),
        }
    }

    #[test]
    fn a_huge_body_is_cut_to_githubs_limit_and_says_so() {
        let file = PlannedFile {
            path: "big.py".to_owned(),
            sha256: String::new(),
            fixed: Some(FixedContent {
                sha256: String::new(),
                encoding: "utf-8".to_owned(),
                content: String::new(),
                diff: String::new(),
            }),
            findings: (1..=3000).map(|row| finding(row, row % 3 != 0)).collect(),
            rejected: None,
            local_path: "big.py".into(),
        };
        let files = [RepoFile {
            path: "big.py".to_owned(),
            file: &file,
            outside: false,
        }];
        let registry = Registry::bundled().unwrap();
        let docs = DocsLinks { base: None };
        let body = pull_request_body(&Plan::new(false), &files, &[], &registry, &docs);
        assert!(body.chars().count() <= MAX_BODY_CHARS, "{}", body.len());
        assert!(body.contains("### ASYNC251 · blocking-sleep (2000 changes)"));
        assert!(body.contains("more changes of this rule"), "{body}");
        assert!(body.contains("### Needs a human (1000 items)"));
        assert!(body.contains("more findings"), "{body}");
        assert!(body.contains("| `big.py:1` |"), "the first rows are kept");

        let small = PlannedFile {
            findings: vec![finding(1, true)],
            ..file.clone()
        };
        let files = [RepoFile {
            path: "big.py".to_owned(),
            file: &small,
            outside: false,
        }];
        let body = pull_request_body(&Plan::new(false), &files, &[], &registry, &docs);
        assert!(!body.contains("more changes"), "{body}");
    }

    #[test]
    fn a_chain_shows_one_line_per_hop_in_code_spans() {
        let mut left = finding(4, false);
        left.chain = vec![
            PlannedHop {
                filename: "app/main.py".to_owned(),
                location: Location { row: 4, column: 5 },
                function: "handle".to_owned(),
                call: "load(key)".to_owned(),
            },
            PlannedHop {
                filename: "app/store.py".to_owned(),
                location: Location { row: 9, column: 12 },
                function: "load".to_owned(),
                call: "open(p, \"|\").read()".to_owned(),
            },
        ];
        assert_eq!(
            chain_lines(&left),
            "<br>chain: `app/main.py:4:5` `load(key)`\
             <br>chain: `app/store.py:9:12` `open(p, \"\\|\").read()`"
        );
        assert_eq!(chain_lines(&finding(1, true)), "");
    }

    #[test]
    fn cells_stay_on_one_line_and_escape_pipes() {
        assert_eq!(cell("a | b\n  c"), "a \\| b c");
    }

    #[test]
    fn repository_text_cannot_open_links_html_or_mentions_or_close_a_code_span() {
        // unfreeze's own code spans are kept.
        assert_eq!(
            cell("Replace with `await asyncio.sleep(...)`"),
            "Replace with `await asyncio.sleep(...)`"
        );
        assert_eq!(
            cell("x.py: [click](https://evil.test) <img src=x> @someone *bold*"),
            "x.py: \\[click\\](https://evil.test) \\<img src=x\\> @\u{200b}someone \\*bold\\*"
        );
        // An unmatched backtick is literal: what follows stays escaped prose.
        assert_eq!(cell("a`b <i>"), "a\\`b \\<i\\>");
        // A path with backticks stays inside its code span.
        assert_eq!(code_span("a`](x)`.py:3"), "``a`](x)`.py:3``");
        assert_eq!(code_span("`x.py"), "`` `x.py ``");
        assert_eq!(code_span("a|b.py:1"), "`a\\|b.py:1`");
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
