//! Syntax errors as findings: each `ERROR` or `MISSING` node tree-sitter leaves in a file
//! unfreeze analyses is reported as a `SyntaxError` (ruff reports them the same way), and
//! such a file is never rewritten: the other findings keep no fix, with the reason.

use tree_sitter::Node;

use super::Finding;
use crate::parse::{ParsedFile, walk_tree};
use crate::source::LineIndex;

/// The code of a syntax error's finding (ruff prints `SyntaxError: ...` in its place).
pub const SYNTAX_ERROR_CODE: &str = "SyntaxError";

/// Why a syntax error has no fix.
const SYNTAX_ERROR_NO_FIX: &str =
    "unfreeze never rewrites a file that does not parse: correct the syntax first";

/// Whether `finding` reports a syntax error rather than a rule's finding.
pub fn is_syntax_error(finding: &Finding) -> bool {
    finding.code == SYNTAX_ERROR_CODE
}

/// One finding per outermost `ERROR` or `MISSING` node of `parsed` (the ranges
/// [`ParsedFile::error_ranges`] holds), in source order; none for a file that parses.
pub fn syntax_errors(parsed: &ParsedFile, text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !parsed.has_errors() {
        return findings;
    }
    walk_tree(&parsed.tree, |cursor| {
        let node = cursor.node();
        if node.is_missing() {
            findings.push(finding(&node, format!("Expected `{}`", node.kind())));
            false
        } else if node.is_error() {
            if !is_grammar_gap(&node, text) {
                findings.push(finding(&node, unexpected(&node, text)));
            }
            false
        } else {
            node.has_error()
        }
    });
    findings
}

/// Valid Python that tree-sitter's grammar cannot parse, so not reported: a boolean
/// operator in an annotation (`items: List[str] or None = None`, `x: Dict or None = f()`,
/// `-> List[str] or None:`), which Python evaluates as any expression but the grammar reads as
/// a type that ends at the subscript, leaving `or None` as an error right after the `type` (or
/// after the `typed_parameter` holding it).
/// The parse keeps its error range (no fix is made inside it).
fn is_grammar_gap(node: &Node, text: &str) -> bool {
    let code = text.get(node.byte_range()).unwrap_or_default();
    let operator = ["or", "and"].iter().any(|word| {
        code.strip_prefix(word)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
    });
    operator
        && !code.contains('\n')
        && node
            .prev_sibling()
            .is_some_and(|previous| matches!(previous.kind(), "type" | "typed_parameter"))
}

/// The message of an `ERROR` node: the token tree-sitter could not place, or the start of
/// the code it could not parse.
fn unexpected(node: &Node, text: &str) -> String {
    let mut first = *node;
    while let Some(child) = first.child(0) {
        first = child;
    }
    let first_line = |range: std::ops::Range<usize>| {
        text.get(range)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
    };
    let token = first_line(first.byte_range());
    let code = first_line(node.byte_range());
    if code.is_empty() {
        return "Invalid syntax".to_owned();
    }
    if code == token {
        return format!("Invalid syntax: unexpected `{}`", shortened(token));
    }
    format!("Invalid syntax: cannot parse `{}`", shortened(code))
}

/// At most 40 characters of `code`, `...` saying when there was more.
fn shortened(code: &str) -> String {
    let shown: String = code.chars().take(40).collect();
    let more = if shown.len() < code.len() { "..." } else { "" };
    format!("{shown}{more}")
}

fn finding(node: &Node, message: String) -> Finding {
    Finding {
        code: SYNTAX_ERROR_CODE.to_owned(),
        rule_name: "syntax-error".to_owned(),
        message,
        range: node.byte_range(),
        fix: None,
        no_fix_reason: Some(SYNTAX_ERROR_NO_FIX.to_owned()),
        later_round: None,
        speculation: None,
        chain: None,
    }
}

/// `findings` of a file with the syntax errors `errors` (not empty): the findings keep no
/// fix (the file is never rewritten; the reason names the first error's line), and the errors
/// join them, everything in source order.
pub fn with_syntax_errors(
    mut findings: Vec<Finding>,
    errors: Vec<Finding>,
    text: &str,
) -> Vec<Finding> {
    let Some(first) = errors.first() else {
        return findings;
    };
    let line = LineIndex::new(text).line_of(first.range.start) + 1;
    let reason = format!(
        "the file has a syntax error (line {line}): unfreeze never rewrites a file that does \
         not parse"
    );
    for finding in &mut findings {
        finding.fix = None;
        finding.later_round = None;
        finding.no_fix_reason = Some(reason.clone());
    }
    findings.extend(errors);
    findings.sort_by_key(|finding| finding.range.start);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn a_missing_token_and_an_unexpected_one_are_described() {
        let text = "def f(:\n    pass\n";
        let errors = syntax_errors(&parse(text), text);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "Expected `)`");
        let text = "x = f(1, $)\n";
        let errors = syntax_errors(&parse(text), text);
        assert_eq!(errors[0].message, "Invalid syntax: unexpected `$`");
        assert_eq!(errors[0].range, 9..10);
        let text = "async def f():\n    x = (1,\n    return x\n";
        let errors = syntax_errors(&parse(text), text);
        assert_eq!(errors[0].message, "Invalid syntax: cannot parse `x = (1,`");
    }

    #[test]
    fn a_boolean_operator_in_an_annotation_is_valid_python() {
        for text in [
            "def f(a: List[str] or None = None, b: int = 1):\n    pass\n",
            "def f(a: Dict[str, int] or None):\n    pass\n",
            "def f(\n    a: List[str] or None = None,\n    b: Callable,\n):\n    pass\n",
            "x: Dict[str, int] or None = g()\n",
            "def f() -> List[str] or None:\n    pass\n",
        ] {
            let errors = syntax_errors(&parse(text), text);
            assert!(errors.is_empty(), "{text}: {:?}", errors[0].message);
        }
        // Outside an annotation, `or` where it cannot be is still an error.
        let text = "x = [1 or]\n";
        assert_eq!(syntax_errors(&parse(text), text).len(), 1);
    }

    #[test]
    fn a_file_that_parses_has_none() {
        let text = "async def f():\n    await g()\n";
        assert!(syntax_errors(&parse(text), text).is_empty());
    }
}
