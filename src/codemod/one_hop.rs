//! One thread hop where per-call fixes would make several (`analyze/hops.rs` decides where):
//! an expression holding two blocking calls on one line, or one nested in another, runs in a
//! worker thread as a whole (`await asyncio.to_thread(lambda: shutil.copy(a, os.path.realpath(b)))`);
//! an `if` that checks the file system and acts on it moves into one nested function, so
//! the check and the act run together (`if os.path.exists(p): os.remove(p)`); and
//! `if not os.path.exists(d): os.makedirs(d)` becomes `os.makedirs(d, exist_ok=True)`, which
//! differs when `d` is a file (the caveat says so).

use std::collections::BTreeSet;

use tree_sitter::Node;

use super::offload::{Moved, MovedStatement, immovable, offload_statement};
use super::strategy::site::{AwaitShape, Proposal, Site, await_shape};
use super::strategy::thread_call::thread_call;
use super::thread_caveat::{Judged, thread_caveat};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild, KindName};

/// `node`, an expression of a coroutine, run in a worker thread in one hop:
/// `await asyncio.to_thread(lambda: <node>)`. `judged`: the calls in it whose own fixes
/// already ran them in a thread; any other call of unknown code makes the fix unsafe.
pub fn offload_expression(
    site: &Site,
    applicability: Applicability,
    node: Node,
    judged: &[Judged],
) -> Result<Proposal, String> {
    if site.index.in_generator_expression(node.start_byte()) {
        return Err("inside a generator expression, `await` would make it asynchronous".to_owned());
    }
    if let Some(reason) = immovable(site, node, None) {
        return Err(reason);
    }
    let mut stack = vec![node];
    let mut cursor = node.walk();
    while let Some(inner) = stack.pop() {
        if inner.kind_name() == "named_expression" {
            return Err("the expression binds a name (`:=`)".to_owned());
        }
        stack.extend(inner.named_children(&mut cursor));
    }
    let expression = &site.text[node.byte_range()];
    // `lambda: a, b` would be a tuple holding a lambda.
    let body = if node.kind_name() == "expression_list" {
        format!("({expression})")
    } else {
        expression.to_owned()
    };
    let (run, replacement, imports) = thread_call(
        site,
        node.start_byte(),
        &format!("lambda: {body}"),
        "",
        false,
    )?;
    let rewritten = match await_shape(node) {
        AwaitShape::AlreadyAwaited => return Err("the expression is already awaited".to_owned()),
        AwaitShape::Bare => format!("await {run}"),
        AwaitShape::Parenthesised => format!("(await {run})"),
    };
    let mut edits = vec![Edit::replacement(node.byte_range(), rewritten)];
    edits.extend(imports);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.moves = Some(node.byte_range());
    fix.runs_in_thread = Some(node.byte_range());
    if let Some(caveat) = thread_caveat(site, node, &BTreeSet::new(), &[], judged) {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(caveat);
    }
    Ok(Proposal { fix, replacement })
}

/// `statement` (an `if` that checks and acts), directly in the coroutine's body, moved into a
/// nested function named `name` (or the first free `name_2`, ...) run in one worker thread.
pub fn offload_check_then_act(
    site: &Site,
    applicability: Applicability,
    statement: Node,
    name: &str,
    judged: &[Judged],
) -> Result<Proposal, String> {
    let function = site
        .index
        .async_function_at(statement.start_byte())
        .ok_or("the statement is not in a coroutine")?;
    let unit = MovedStatement {
        name,
        judged,
        kept: &[],
        returns_last: false,
    };
    offload_statement(
        site,
        applicability,
        function,
        Moved::one(statement),
        Some(unit),
    )
}

/// What differs when `if not os.path.exists(d): os.makedirs(d)` becomes
/// `os.makedirs(d, exist_ok=True)`.
pub const EXIST_OK_CAVEAT: &str = "where the path exists as a file (not a directory), \
    `os.makedirs(..., exist_ok=True)` raises FileExistsError, while the check skipped the call";

/// `if not os.path.exists(d): os.makedirs(d)` (`statement`; `makedirs`: the call in its body)
/// → `await asyncio.to_thread(os.makedirs, d, exist_ok=True)`: one hop, no window between the
/// check and the act. Unsafe: a file at `d` now raises ([`EXIST_OK_CAVEAT`]).
pub fn makedirs_exist_ok(site: &Site, statement: Node, makedirs: Node) -> Result<Proposal, String> {
    let text = site.text;
    let callee = makedirs.field(Field::Function).ok_or("no callee")?;
    let arguments = makedirs
        .field(Field::Arguments)
        .filter(|a| a.kind_name() == "argument_list")
        .ok_or("no argument list")?;
    let inner = &text[arguments.start_byte() + 1..arguments.end_byte() - 1];
    let inner = inner.trim_end().trim_end_matches(',').trim_end();
    if inner.contains(['\n', '\r']) {
        return Err("the arguments span lines".to_owned());
    }
    let (run, replacement, imports) = thread_call(
        site,
        statement.start_byte(),
        &text[callee.byte_range()],
        &format!("{inner}, exist_ok=True"),
        true,
    )?;
    let mut edits = vec![Edit::replacement(
        statement.byte_range(),
        format!("await {run}"),
    )];
    edits.extend(imports);
    let mut fix = Fix::new(Applicability::Unsafe, String::new(), edits);
    fix.moves = Some(statement.byte_range());
    fix.caveat = Some(EXIST_OK_CAVEAT.to_owned());
    Ok(Proposal { fix, replacement })
}

/// A unit of work on a thread-affine object (`con = sqlite3.connect(p)` ... `con.close()`:
/// `first` to `last`, siblings in one block of the coroutine) moved into a nested function
/// named `name` (or the first free `name_2`, ...) run in one worker thread, so the object is
/// made, used and closed there. `judged`: the code the caller judged safe there (the call
/// making the object); `kept`: the names that must not be read after `last` (the object and
/// what is derived from it); `returns_last`: a `return` ending the one moved statement's body
/// returns the helper's result from the coroutine.
pub fn offload_unit_of_work(
    site: &Site,
    applicability: Applicability,
    (first, last): (Node, Node),
    name: &str,
    judged: &[Judged],
    (kept, returns_last): (&[String], bool),
) -> Result<Proposal, String> {
    let function = site
        .index
        .async_function_at(first.start_byte())
        .ok_or("the statement is not in a coroutine")?;
    let unit = MovedStatement {
        name,
        judged,
        kept,
        returns_last,
    };
    offload_statement(
        site,
        applicability,
        function,
        Moved { first, last },
        Some(unit),
    )
}
