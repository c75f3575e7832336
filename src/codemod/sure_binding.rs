//! Where a name a moved block binds is surely bound, and from where on: the plain bindings
//! (an assignment statement, a `with` target) that bind on every path through their block,
//! the point after which such a binding holds (`data = transform(data)` reads the earlier
//! value first), and whether one reaches a later read on every path. `offload.rs` decides
//! with them which names the moved block's function returns.

use tree_sitter::Node;

use crate::parse::{Field, FieldChild, KindName};

/// Whether `node` is a plain, unconditional binding in `block`: the target of a `with`
/// statement of the block, or a name on the left of a plain assignment statement of it.
pub(super) fn sure_binding_in(node: Node, block: Node) -> bool {
    sure_binding_statement(node)
        .and_then(|statement| statement.parent())
        .is_some_and(|b| b.id() == block.id())
}

/// The statement that surely binds `node` when it runs: the `with` statement of a `with`
/// target, or the plain assignment's statement; `None` for a binding on some paths only.
fn sure_binding_statement(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "as_pattern_target" | "as_pattern" | "with_item" | "with_clause" => {}
            "pattern_list" | "tuple_pattern" | "list_pattern" => {}
            "assignment" => {
                if !parent.field(Field::Left).is_some_and(|l| {
                    l.start_byte() <= node.start_byte() && node.end_byte() <= l.end_byte()
                }) {
                    return None;
                }
            }
            "with_statement" | "expression_statement" => return Some(parent),
            _ => return None,
        }
        current = parent;
    }
    None
}

/// Where the sure binding at `node` takes effect: after the whole statement of an assignment
/// (its right-hand side, `data = transform(data)`, reads the name's earlier value first), at
/// the body of a `with` statement (its context expressions are evaluated first).
pub(super) fn binding_takes_effect(node: Node) -> Option<usize> {
    let statement = sure_binding_statement(node)?;
    Some(match statement.kind_name() {
        "with_statement" => statement
            .field(Field::Body)
            .map_or(statement.end_byte(), |b| b.start_byte()),
        _ => statement.end_byte(),
    })
}

/// Whether a later binding of the name (at `binding`) reaches `read` on every path: the read
/// follows the binding's statement in the same block, or sits in the body of the `with`
/// statement that binds it (`with open(p) as f: json.load(f)` in a second block).
pub(super) fn dominates(binding: Node, read: Node) -> bool {
    let Some(statement) = sure_binding_statement(binding) else {
        return false;
    };
    let within = |outer: Node| {
        outer.start_byte() <= read.start_byte() && read.end_byte() <= outer.end_byte()
    };
    let after_in_block =
        read.start_byte() >= statement.end_byte() && statement.parent().is_some_and(within);
    let in_with_body = statement.kind_name() == "with_statement"
        && statement.field(Field::Body).is_some_and(within);
    after_in_block || in_with_body
}
