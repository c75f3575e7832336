//! Whether a coroutine already suspends, on every path, between two points of its body: a
//! check at one and its act at the other were then never atomic for the other coroutines, so
//! a new thread hop on either side opens no window that was not open before. The rules that
//! name a check-then-act or a read-modify-write split by a new `await` (a database's rows,
//! a file, in-memory state) ask this first, so that a hop next to
//! `if not get_setting(u): await msg.edit(...) else: await msg.edit(...)` followed by the
//! write is not called a new race — and the label does not change once an earlier round's
//! hop, itself an `await`, stands between them.
//!
//! Conservative, for the cases it cannot see (when unsure, it says "no suspension", so the
//! rule keeps its caveat): only the statements that run on every path from the first point
//! to the second count (the rest of the first point's statement, the statements after it in
//! each enclosing block, an `if` whose every clause, `else` included, suspends, the body of a
//! `with`, the header of an `async with` / `async for`); leaving a loop, a `try` or an
//! exception handler on the way stops the search. An `await` in a short-circuit operand, a
//! conditional expression, a comprehension or a lambda may not run. An `await` of a
//! coroutine of the file (a module function, a method of the same class through `self`)
//! suspends only where its own body does on every path (a cached accessor that awaits the
//! first time only does not); any other `await` does (a library's, another module's).

use tree_sitter::Node;

use super::FileContext;
use super::module_functions::self_method;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// Whether the code between byte `from` (the end of the first point) and byte `to` (the
/// last byte of the second: what its statement evaluates before it counts), in one function,
/// suspends on every path that leads from one to the other.
pub(super) fn suspends_between(file: &FileContext, from: usize, to: usize) -> bool {
    if to <= from {
        return false;
    }
    let root = file.parsed.tree.root_node();
    let Some(start) = root.descendant_for_byte_range(from.saturating_sub(1), from) else {
        return false;
    };
    let Some(mut statement) = statement_of(start) else {
        return false;
    };
    let depth = 0;
    loop {
        if contains(statement, to) {
            // Both in one statement: what runs after the first and before the second in it.
            return suspends_inside(file, statement, from, to);
        }
        if suspends_after(file, statement, from) {
            return true;
        }
        // The statements after it in its block, up to the one holding the second point.
        let mut next = statement.next_named_sibling();
        while let Some(sibling) = next {
            if contains(sibling, to) {
                return suspends_inside(file, sibling, from, to);
            }
            if surely_suspends(file, sibling, depth) {
                return true;
            }
            next = sibling.next_named_sibling();
        }
        // The end of the block: out of the compound statement that owns it.
        let Some(block) = statement.parent() else {
            return false;
        };
        let Some(owner) = block.parent() else {
            return false;
        };
        let owner = match owner.kind_name() {
            "elif_clause" | "else_clause" => match owner.parent() {
                Some(conditional) => conditional,
                None => return false,
            },
            _ => owner,
        };
        match owner.kind_name() {
            "if_statement" | "with_statement" => statement = owner,
            _ => return false,
        }
    }
}

/// Whether a function whose body is `body` suspends on every path from its start to byte
/// `to` (the last byte of a point in it).
pub(super) fn suspends_before(file: &FileContext, body: Node, to: usize) -> bool {
    let depth = 0;
    let mut cursor = body.walk();
    for statement in body.named_children(&mut cursor) {
        if contains(statement, to) {
            return suspends_inside(file, statement, statement.start_byte(), to);
        }
        if surely_suspends(file, statement, depth) {
            return true;
        }
    }
    false
}

/// The statement `node` is in: its ancestor whose parent is a block or the module.
fn statement_of(node: Node) -> Option<Node> {
    let mut node = node;
    loop {
        let parent = node.parent()?;
        if matches!(parent.kind_name(), "block" | "module") {
            return Some(node);
        }
        if matches!(
            parent.kind_name(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            return None;
        }
        node = parent;
    }
}

fn contains(node: Node, offset: usize) -> bool {
    node.start_byte() <= offset && offset < node.end_byte()
}

/// Whether the part of `statement` that runs after byte `from` (inside it) suspends on every
/// path out of it: an `await` after `from` in a simple statement; every clause of an `if`
/// whose condition holds `from` (an `else` among them); the body of a `with` whose header
/// holds it.
fn suspends_after(file: &FileContext, statement: Node, from: usize) -> bool {
    let depth = 0;
    match statement.kind_name() {
        "if_statement" => {
            let in_condition = statement
                .field(Field::Condition)
                .is_some_and(|c| contains(c, from.saturating_sub(1)));
            in_condition && every_clause_suspends(file, statement, depth)
        }
        "with_statement" => {
            let in_header = statement
                .field(Field::Body)
                .is_some_and(|body| from <= body.start_byte());
            in_header
                && statement
                    .field(Field::Body)
                    .is_some_and(|body| block_suspends(file, body, depth))
        }
        "for_statement"
        | "while_statement"
        | "try_statement"
        | "match_statement"
        | "function_definition"
        | "class_definition"
        | "decorated_definition" => false,
        _ => awaits_surely(file, statement, depth, |a| a.start_byte() >= from),
    }
}

/// Whether, inside the compound `statement` that holds `to` in one of its blocks (and `from`
/// before that block: in its header, or before the statement), what runs between the two on
/// every path suspends: the header after `from`, then the statements of that block before the
/// one holding `to`, and so on down.
fn suspends_inside(file: &FileContext, statement: Node, from: usize, to: usize) -> bool {
    let depth = 0;
    let mut node = statement;
    loop {
        let header_suspends = match node.kind_name() {
            "if_statement" => node
                .field(Field::Condition)
                .is_some_and(|c| awaits_surely(file, c, depth, |a| a.start_byte() >= from)),
            "with_statement" => {
                let body_start = node.field(Field::Body).map_or(0, |b| b.start_byte());
                (is_async(node) && from < body_start)
                    || awaits_surely(file, node, depth, |a| {
                        a.start_byte() >= from && a.end_byte() <= body_start
                    })
            }
            // A simple statement: what it evaluates before `to` (the value of an assignment
            // runs before the assignment).
            kind if !is_compound(kind) => {
                return awaits_surely(file, node, depth, |a| {
                    a.start_byte() >= from && a.end_byte() <= to
                });
            }
            // Loops, `try` and `match`: not every path runs what comes before `to`.
            _ => return false,
        };
        if header_suspends {
            return true;
        }
        let Some(block) = blocks_of(node).into_iter().find(|b| contains(*b, to)) else {
            return false;
        };
        let mut cursor = block.walk();
        let mut holder = None;
        for child in block.named_children(&mut cursor) {
            if contains(child, to) {
                holder = Some(child);
                break;
            }
            if surely_suspends(file, child, depth) {
                return true;
            }
        }
        match holder {
            Some(child) => node = child,
            None => return false,
        }
    }
}

fn is_compound(kind: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "with_statement"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "match_statement"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
    )
}

/// The blocks of a compound statement: its body or consequence, and those of its clauses.
fn blocks_of(statement: Node) -> Vec<Node> {
    let mut blocks = Vec::new();
    let mut cursor = statement.walk();
    for child in statement.named_children(&mut cursor) {
        match child.kind_name() {
            "block" => blocks.push(child),
            "elif_clause" | "else_clause" => {
                let mut inner = child.walk();
                blocks.extend(
                    child
                        .named_children(&mut inner)
                        .filter(|b| b.kind_name() == "block"),
                );
            }
            _ => {}
        }
    }
    blocks
}

/// Whether `statement` suspends on every path through it.
fn surely_suspends(file: &FileContext, statement: Node, depth: u8) -> bool {
    match statement.kind_name() {
        "if_statement" => {
            statement
                .field(Field::Condition)
                .is_some_and(|c| awaits_surely(file, c, depth, |_| true))
                || every_clause_suspends(file, statement, depth)
        }
        "with_statement" => {
            is_async(statement)
                || statement
                    .field(Field::Body)
                    .is_some_and(|body| block_suspends(file, body, depth))
        }
        // An `async for` awaits its iterator's `__anext__` at least once.
        "for_statement" => is_async(statement),
        "while_statement" => statement
            .field(Field::Condition)
            .is_some_and(|c| awaits_surely(file, c, depth, |_| true)),
        "try_statement"
        | "match_statement"
        | "function_definition"
        | "class_definition"
        | "decorated_definition" => false,
        _ => awaits_surely(file, statement, depth, |_| true),
    }
}

/// An `if` with an `else`, every clause of which suspends.
fn every_clause_suspends(file: &FileContext, conditional: Node, depth: u8) -> bool {
    let Some(consequence) = conditional.field(Field::Consequence) else {
        return false;
    };
    if !block_suspends(file, consequence, depth) {
        return false;
    }
    let mut has_else = false;
    let mut cursor = conditional.walk();
    for clause in conditional.named_children(&mut cursor) {
        let body = match clause.kind_name() {
            "elif_clause" => clause.field(Field::Consequence),
            "else_clause" => {
                has_else = true;
                clause.field(Field::Body)
            }
            _ => continue,
        };
        if !body.is_some_and(|b| block_suspends(file, b, depth)) {
            return false;
        }
    }
    has_else
}

fn block_suspends(file: &FileContext, block: Node, depth: u8) -> bool {
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .any(|s| surely_suspends(file, s, depth))
}

fn is_async(statement: Node) -> bool {
    statement.child(0).is_some_and(|c| c.kind() == "async")
}

/// Whether `node` holds an `await` that `keep` accepts, runs whenever `node` does (not in a
/// short-circuit operand, a conditional expression, a comprehension, a lambda, a nested
/// block), and suspends.
fn awaits_surely(file: &FileContext, node: Node, depth: u8, keep: impl Fn(Node) -> bool) -> bool {
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        if current.kind_name() == "await"
            && current.is_named()
            && keep(current)
            && suspends(file, current, depth)
        {
            return true;
        }
        let mut cursor = current.walk();
        for (i, child) in current.children(&mut cursor).enumerate() {
            let conditional = match current.kind_name() {
                // Only the left operand always runs.
                "boolean_operator" => i > 0,
                "conditional_expression" => i > 0,
                "lambda"
                | "list_comprehension"
                | "set_comprehension"
                | "dictionary_comprehension"
                | "generator_expression"
                | "block" => true,
                _ => false,
            };
            if !conditional {
                stack.push(child);
            }
        }
    }
    false
}

/// Whether `await x` suspends: anything but a call of a coroutine of this file whose body may
/// finish without suspending.
fn suspends(file: &FileContext, awaited: Node, depth: u8) -> bool {
    let Some(call) = awaited.named_child(0).filter(|c| c.kind_name() == "call") else {
        return true;
    };
    let Some(callee) = call.field(Field::Function) else {
        return true;
    };
    match definition_of(file, callee) {
        // Its body must suspend on every path (a coroutine that awaits only the first time,
        // to fill a cache, does not); three calls deep is a doubt.
        Some(definition) => {
            depth < 3
                && definition
                    .field(Field::Body)
                    .is_some_and(|body| block_suspends(file, body, depth + 1))
        }
        None => true,
    }
}

/// The `def` a callee names in this file: a module-level function bound once, or a method of
/// the enclosing class called through `self`.
fn definition_of<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<Node<'t>> {
    let root = file.parsed.tree.root_node();
    match callee.kind_name() {
        "identifier" => {
            let name = &file.text[callee.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, callee.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            if binding.kind != (BindingKind::Function { is_async: true }) {
                return None;
            }
            let name_node =
                root.descendant_for_byte_range(binding.range.start, binding.range.end)?;
            name_node
                .parent()
                .filter(|d| d.kind_name() == "function_definition")
        }
        // A method of the class around the call, decorated or not, called from any function
        // nested in it.
        "attribute" => self_method(file, callee).map(|method| method.definition),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::suspends_between;
    use crate::analyze::test_context::with_context;

    /// Whether the code between the end of `check()` and the start of `act(` suspends.
    fn split(body: &str) -> bool {
        let source = format!(
            "import asyncio\n\nasync def quiet():\n    return 1\n\nasync def loud():\n    await asyncio.sleep(0)\n\nasync def cached():\n    if not CACHE:\n        await asyncio.sleep(0)\n    return CACHE\n\nasync def f(msg, c, items):\n{body}"
        );
        let from = source.find("check()").unwrap() + "check()".len();
        let to = source.find("act(").unwrap();
        with_context("m.py", &source, None, |file| {
            suspends_between(file, from, to)
        })
    }

    #[test]
    fn an_await_between_on_every_path_splits() {
        assert!(split("    x = check()\n    await msg.edit()\n    act(x)\n"));
        assert!(split(
            "    if not check():\n        await msg.edit(1)\n    else:\n        await msg.edit(2)\n    act()\n"
        ));
        assert!(split(
            "    with open('f') as fh:\n        if check():\n            await loud()\n        else:\n            await msg.send()\n        fh.close()\n    act()\n"
        ));
        assert!(split(
            "    x = check()\n    async with msg.lock:\n        pass\n    act(x)\n"
        ));
        assert!(split(
            "    x = check()\n    if c:\n        await msg.edit()\n        act(x)\n"
        ));
        assert!(split("    x = f(check(), await msg.edit())\n    act(x)\n"));
    }

    #[test]
    fn an_await_some_paths_skip_does_not() {
        assert!(!split(
            "    x = check()\n    act(x)\n    await msg.edit()\n"
        ));
        assert!(!split(
            "    if check():\n        await msg.edit()\n    act()\n"
        ));
        assert!(!split(
            "    x = check()\n    if c:\n        await msg.edit()\n    act(x)\n"
        ));
        assert!(!split(
            "    x = check()\n    y = c and await msg.edit()\n    act(x)\n"
        ));
        assert!(!split(
            "    x = check()\n    for i in items:\n        await msg.edit(i)\n    act(x)\n"
        ));
        assert!(!split(
            "    x = check()\n    try:\n        await msg.edit()\n    except Exception:\n        pass\n    act(x)\n"
        ));
        assert!(!split(
            "    for i in items:\n        await msg.edit()\n        x = check()\n    act(x)\n"
        ));
        // Every way out of the loop after the check passes the `await`.
        assert!(split(
            "    for i in items:\n        x = check()\n        await msg.edit()\n    act(x)\n"
        ));
        assert!(!split(
            "    x = check()\n    y = [await msg.edit(i) for i in items]\n    act(x)\n"
        ));
    }

    #[test]
    fn a_coroutine_of_the_file_that_never_suspends_does_not() {
        assert!(!split("    x = check()\n    await quiet()\n    act(x)\n"));
        assert!(!split("    x = check()\n    await cached()\n    act(x)\n"));
        assert!(split("    x = check()\n    await loud()\n    act(x)\n"));
    }
}
