//! One walk per file: each call node is offered to the codemods interested in what it
//! resolves to, and each match in async context becomes a [`Finding`] with its fix.

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use crate::codemod::{Registry, Site};
use crate::fix::Fix;
use crate::parse::ParsedFile;
use crate::semantic::SemanticIndex;

/// One problem found in a file, with the fix that solves it when there is one.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: String,
    pub rule_name: String,
    pub message: String,
    /// The byte range reported (the call).
    pub range: Range<usize>,
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
}

/// Which rule codes a run reports.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// `None`: every rule enabled by default.
    pub select: Option<HashSet<String>>,
    pub ignore: HashSet<String>,
}

impl RuleSelection {
    pub fn is_enabled(&self, code: &str, default_enabled: bool) -> bool {
        let selected = match &self.select {
            Some(select) => select.iter().any(|s| matches_code(s, code)),
            None => default_enabled,
        };
        selected && !self.ignore.iter().any(|s| matches_code(s, code))
    }
}

/// `ASYNC` selects `ASYNC251`; `ASYNC2` selects `ASYNC251`; `ALL` selects everything.
fn matches_code(selector: &str, code: &str) -> bool {
    selector == "ALL" || code.starts_with(selector)
}

/// The file's context for the analysis.
pub struct FileContext<'a> {
    pub text: &'a str,
    pub line_ending: &'a str,
    pub parsed: &'a ParsedFile,
    pub index: &'a SemanticIndex,
}

/// Find every match of an enabled codemod in one file, sorted by position.
pub fn analyze(file: &FileContext, registry: &Registry, selection: &RuleSelection) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut cursor = file.parsed.tree.walk();
    loop {
        let node = cursor.node();
        if node.kind() == "call" {
            analyze_call(file, registry, selection, node, &mut findings);
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                findings.sort_by(|a: &Finding, b: &Finding| {
                    (a.range.start, &a.code).cmp(&(b.range.start, &b.code))
                });
                return findings;
            }
        }
    }
}

/// The last name of a callee (`sleep` in `time.sleep`), if it is a plain name or attribute.
fn callee_tail<'t>(callee: Node, text: &'t str) -> Option<&'t str> {
    match callee.kind() {
        "identifier" => Some(&text[callee.byte_range()]),
        "attribute" => callee
            .child_by_field_name("attribute")
            .map(|a| &text[a.byte_range()]),
        _ => None,
    }
}

fn analyze_call(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    call: Node,
    findings: &mut Vec<Finding>,
) {
    let Some(callee) = call.child_by_field_name("function") else {
        return;
    };
    let Some(tail) = callee_tail(callee, file.text) else {
        return;
    };
    // A plain name can be an alias (`from time import sleep as nap`): only an attribute's
    // last segment is the real function name, so only attributes are pre-filtered.
    if callee.kind() == "attribute" && !registry.cares_about_tail(tail) {
        return;
    }
    let Some(qualified) = file.index.qualified_name(callee, file.text) else {
        return;
    };
    let matching = registry.for_call(&qualified);
    if matching.is_empty() {
        return;
    }
    let Some(function) = file.index.async_function_at(call.start_byte()) else {
        return;
    };
    let function_name = file.index.scope(function).name.clone().unwrap_or_default();
    let callee_text: String = file.text[callee.byte_range()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("");
    for &i in matching {
        let codemod = registry.codemod(i);
        if !selection.is_enabled(&codemod.code, codemod.default_enabled) {
            continue;
        }
        let message = codemod.message.render(|name| match name {
            "callee" => callee_text.clone(),
            "qualified" => qualified.clone(),
            "function" => function_name.clone(),
            _ => String::new(),
        });
        let site = Site {
            text: file.text,
            line_ending: file.line_ending,
            tree: &file.parsed.tree,
            index: file.index,
            call,
            callee,
            qualified: &qualified,
        };
        let (fix, no_fix_reason) = match (&codemod.strategy, &codemod.fix_title) {
            (Some(strategy), Some(title)) => match strategy.propose(&site, codemod.applicability) {
                Ok(mut proposal) => {
                    proposal.fix.title = title.render(|name| match name {
                        "replacement" => proposal.replacement.clone(),
                        "callee" => callee_text.clone(),
                        "qualified" => qualified.clone(),
                        _ => String::new(),
                    });
                    let touches_error = proposal
                        .fix
                        .edits
                        .iter()
                        .any(|e| file.parsed.touches_error(&e.range))
                        || file.parsed.touches_error(&call.byte_range());
                    if touches_error {
                        (
                            None,
                            Some("the code around it has a syntax error".to_owned()),
                        )
                    } else {
                        (Some(proposal.fix), None)
                    }
                }
                Err(reason) => (None, Some(reason)),
            },
            _ => (None, None),
        };
        findings.push(Finding {
            code: codemod.code.clone(),
            rule_name: codemod.name.clone(),
            message,
            range: call.byte_range(),
            fix,
            no_fix_reason,
        });
    }
}
