//! Where a node runs in its function's control flow, as far as the check-then-act rules need
//! it: the exclusive clauses of conditionals it is in (`if` / `elif` / `else`, a `try`'s
//! handlers and `else`, `match` cases, `a if c else b`), so that a read and a write in two
//! clauses of one conditional are not taken for a sequence that runs in one call.

use tree_sitter::Node;

use crate::parse::{Field, FieldChild, KindName};

/// The alternatives `node` is in, outermost first, up to its function: each conditional
/// (`if` / `elif` / `else`, a `try`'s handlers and its `else`, `match` cases, `a if c else
/// b`) by its node and the clause taken. A loop around them runs several clauses in turn: a
/// conditional inside a loop (of the same function) is left out.
pub(super) fn branches(node: Node) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let (mut inner, mut child) = (node, node);
    while let Some(parent) = child.parent() {
        match parent.kind_name() {
            "function_definition" | "lambda" | "class_definition" | "module" => break,
            "for_statement"
            | "while_statement"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => found.clear(),
            _ => {
                if let Some(clause) = clause_of(parent, child, inner) {
                    found.push((parent.id(), clause));
                }
            }
        }
        (inner, child) = (child, parent);
    }
    found.reverse();
    found
}

/// Which exclusive clause of `parent` its child `child` (holding `inner`) is, when `parent`
/// chooses between clauses: `None` for a part that runs whichever is taken (a condition, an
/// `elif`'s condition, a `try`'s body and `finally`, a case's pattern and guard).
fn clause_of(parent: Node, child: Node, inner: Node) -> Option<usize> {
    let index = || {
        let mut cursor = parent.walk();
        parent
            .children(&mut cursor)
            .position(|c| c.id() == child.id())
    };
    match (parent.kind_name(), child.kind_name()) {
        ("if_statement", "block") => {
            (parent.field(Field::Consequence) == Some(child)).then(index)?
        }
        // An `elif`'s condition runs before the clauses after it: only its body is exclusive.
        ("if_statement", "elif_clause") => {
            (child.field(Field::Consequence) == Some(inner)).then(index)?
        }
        ("if_statement", "else_clause")
        | ("try_statement", "except_clause" | "except_group_clause" | "else_clause") => index(),
        // `match`: its cases are in a block; a case's body is exclusive.
        ("block", "case_clause")
            if parent
                .parent()
                .is_some_and(|m| m.kind_name() == "match_statement") =>
        {
            (child.field(Field::Consequence) == Some(inner)).then(index)?
        }
        ("conditional_expression", _) => {
            let mut cursor = parent.walk();
            let parts: Vec<Node> = parent
                .named_children(&mut cursor)
                .filter(|p| p.kind_name() != "comment")
                .collect();
            (parts.len() == 3 && (parts[0] == child || parts[2] == child)).then(index)?
        }
        _ => None,
    }
}

/// Two places in exclusive clauses of one conditional, by their [`branches`].
pub(super) fn exclusive_branches(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .is_some_and(|(x, y)| x.0 == y.0)
}
