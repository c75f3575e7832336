//! The whole unit of work on a thread-affine object a coroutine makes for itself: `con =
//! sqlite3.connect(p)`, the statements using it and what it derives (its cursors), and
//! `con.close()`, siblings in one block of the coroutine. Moved to a worker thread as one hop
//! (`codemod::one_hop::offload_unit_of_work`), the object is made, used and closed on one
//! thread, which a call moved on its own would break. What it cannot move says why: nothing
//! closes the object in the same block, the object is handed to other code (which might keep
//! it), the coroutine reads it after the close, the code awaits (`codemod/offload.rs`), or it
//! uses another such object it did not make (`affinity.rs`).
//!
//! A `with sqlite3.connect(p) as con:` block is not a unit here: the `offload-block`
//! strategy moves it as it is (the connection's `with` commits or rolls back, and does not
//! close it; moved whole, that stays so).

use tree_sitter::Node;

use super::FileContext;
use super::affinity::{MAX_STEPS, foreign_affine_use, foreign_affine_use_in_statements};
use crate::codemod::one_hop::offload_unit_of_work;
use crate::codemod::strategy::Proposal;
use crate::codemod::{Judged, Registry, Site, ThreadAffine};
use crate::fix::Applicability;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, ScopeId, node_at};

/// The nested function a unit of work moves into (`_db_work_2` when taken).
const HELPER: &str = "_db_work";

/// What a call on (or making) a thread-affine object has for a fix moving code as a block.
pub(super) enum AffineCall<'t> {
    /// The statements from the object's making to its close, which can move as one.
    Unit(Box<UnitOfWork<'t>>),
    /// A chain that makes the object and uses it in one expression
    /// (`sqlite3.connect(p).execute(q).fetchall()`): the strategy's own fix moves it whole.
    Chain,
    /// The object is not one the coroutine made in a block it closes it in: no fix, the
    /// per-call reason (a module global, a parameter, an attribute of `self`).
    Foreign,
    /// No fix, this reason.
    Refused(String),
}

/// A run of statements that makes, uses and closes a thread-affine object.
pub(super) struct UnitOfWork<'t> {
    /// The nested function's name: `_db_work`, `_db_work_2` for the coroutine's second unit.
    name: String,
    first: Node<'t>,
    last: Node<'t>,
    /// The call making the object: the unit judged it (it is why the unit moves).
    judged: Vec<Judged>,
    /// The object and what is derived from it: none may be read after the unit.
    kept: Vec<String>,
    /// A `return` ending the statement's body returns the helper's result (a helper's `with`
    /// block, or its `for` loop ending the coroutine).
    returns_last: bool,
}

impl UnitOfWork<'_> {
    pub(super) fn propose(
        &self,
        site: &Site,
        applicability: Applicability,
    ) -> Result<Proposal, String> {
        offload_unit_of_work(
            site,
            applicability,
            (self.first, self.last),
            &self.name,
            &self.judged,
            (&self.kept, self.returns_last),
        )
    }
}

/// What `call` (in the coroutine `function`) has when it makes a thread-affine object or is
/// a method of one; `None` for any other call.
pub(super) fn affine_call<'t>(
    file: &FileContext<'t>,
    registry: &Registry,
    function: ScopeId,
    call: Node<'t>,
) -> Option<AffineCall<'t>> {
    let root = file.parsed.tree.root_node();
    let callee = call.field(Field::Function)?;
    if made_by(file, registry, call).is_none() {
        let object = callee
            .field(Field::Object)
            .filter(|_| callee.kind_name() == "attribute")?;
        let kind = file.index.object_kind(object, root, file.text)?;
        registry.thread_affine(&kind)?;
    }
    let (name, statement) = match maker_of(file, registry, function, call, 0) {
        Ok(found) => found,
        // Made elsewhere and shareable (`check_same_thread=False`), or not followed: a call
        // moved on its own could still run while another thread uses the object.
        Err(AffineCall::Foreign)
            if foreign_affine_use(file, registry, function, call).is_none() =>
        {
            return Some(AffineCall::Refused(
                "the object it is called on was made elsewhere (shared between threads, as \
                 with `check_same_thread=False`, or made where the analysis cannot follow): \
                 calls moved one by one to worker threads could use it from two threads at \
                 once. Instead: guard it with a lock and move each whole operation to a \
                 thread, or port it to the async driver"
                    .to_owned(),
            ));
        }
        // `conn.backup(sqlite3.connect(":memory:"))`: made and used inside another unit,
        // which moves it with the rest.
        Err(answer) => match enclosing_unit(file, registry, call) {
            Some(found) => found,
            None => return Some(answer),
        },
    };
    // Named for what the statement makes (`con` is a connection where the call is on the
    // cursor it returns).
    let family = statement
        .named_child(0)
        .and_then(|a| a.field(Field::Right))
        .and_then(|maker| made_by(file, registry, maker))?;
    Some(unit_for(
        file, registry, function, call, family, &name, statement,
    ))
}

/// The family and label of the thread-affine object `call` makes (`sqlite3.connect(p)`).
fn made_by<'r>(
    file: &FileContext,
    registry: &'r Registry,
    call: Node,
) -> Option<(&'r ThreadAffine, &'r str)> {
    let callee = call.field(Field::Function)?;
    let name = file
        .index
        .callable_name(callee, file.parsed.tree.root_node(), file.text)?;
    registry
        .thread_affine(&name)
        .filter(|(family, _)| family.made_by.contains(&name))
}

/// The local name holding the object `expr` makes or uses, and the statement that made it
/// (`con = sqlite3.connect(p)`, directly in a block of the coroutine); or what else to do.
fn maker_of<'t>(
    file: &FileContext<'t>,
    registry: &Registry,
    function: ScopeId,
    expr: Node<'t>,
    steps: usize,
) -> Result<(String, Node<'t>), AffineCall<'t>> {
    if steps > MAX_STEPS {
        return Err(AffineCall::Foreign);
    }
    let text = file.text;
    match expr.kind_name() {
        "call" if made_by(file, registry, expr).is_some() => {
            // Used in the same expression (`sqlite3.connect(p).execute(q)`): the chain.
            let in_chain = expr.parent().is_some_and(|p| {
                p.kind_name() == "attribute"
                    && p.field(Field::Object).is_some_and(|o| o.id() == expr.id())
            });
            if in_chain {
                return chain(file, registry, expr);
            }
            let assignment = expr.parent().filter(|p| {
                p.kind_name() == "assignment"
                    && p.field(Field::Right).is_some_and(|r| r.id() == expr.id())
            });
            let statement = assignment
                .and_then(|a| a.parent())
                .filter(|s| s.kind_name() == "expression_statement")
                .filter(|s| s.parent().is_some_and(|b| b.kind_name() == "block"));
            let target = assignment.and_then(|a| a.field(Field::Left));
            let left = target.filter(|l| l.kind_name() == "identifier");
            let in_with = expr.parent().is_some_and(|p| {
                p.kind_name() == "with_item"
                    || (p.kind_name() == "as_pattern"
                        && p.parent().is_some_and(|w| w.kind_name() == "with_item"))
            });
            match (left, statement) {
                (Some(left), Some(statement)) => {
                    Ok((text[left.byte_range()].to_owned(), statement))
                }
                // A use outside the `with` block that made it: after the block, or after
                // the statement that moves it.
                _ if in_with => Err(AffineCall::Refused(
                    "the object is the `with` block's own (`with sqlite3.connect(p) as con:`), \
                     and this use of it, or of what it made, is not inside that block"
                        .to_owned(),
                )),
                _ => Err(AffineCall::Refused(match target {
                    Some(target) => format!(
                        "what it makes is kept in `{}`, beyond the coroutine: made in a worker \
                         thread, it would be used from the event loop's thread",
                        &text[target.byte_range()]
                    ),
                    None => "what it makes is not kept in a local name of the coroutine \
                             (`con = sqlite3.connect(p)`), so the code using it cannot be \
                             followed"
                        .to_owned(),
                })),
            }
        }
        "call" | "attribute" => {
            // `con.execute(q).fetchone()`: the object the chain starts from.
            let inner = match expr.kind_name() {
                "call" => expr.field(Field::Function),
                _ => Some(expr),
            };
            match inner.filter(|i| i.kind_name() == "attribute") {
                Some(attribute) => {
                    let object = attribute.field(Field::Object).ok_or(AffineCall::Foreign)?;
                    maker_of(file, registry, function, object, steps + 1)
                }
                None => Err(AffineCall::Foreign),
            }
        }
        "identifier" => {
            let name = &text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return Err(AffineCall::Foreign);
            };
            let binding = file.index.binding(id);
            if binding.scope != function || binding.kind != BindingKind::Assignment {
                return Err(AffineCall::Foreign);
            }
            let root = file.parsed.tree.root_node();
            let value = binding
                .value
                .as_ref()
                .and_then(|v| node_at(root, v))
                .filter(|v| v.kind_name() == "call")
                .ok_or(AffineCall::Foreign)?;
            // `cur = con.cursor()`: made where `con` was; `con = sqlite3.connect(p)`: here.
            let found = maker_of(file, registry, function, value, steps + 1)?;
            // The making must come first on every path to the use.
            let dominates = found.1.parent().is_some_and(|block| {
                block.start_byte() <= expr.start_byte() && expr.end_byte() <= block.end_byte()
            }) && found.1.end_byte() <= expr.start_byte();
            if !dominates {
                return Err(AffineCall::Refused(format!(
                    "`{}` is made in a block that does not hold every use of it, so the code \
                     using it does not move as one unit",
                    found.0
                )));
            }
            Ok(found)
        }
        _ => Err(AffineCall::Foreign),
    }
}

/// A chain making the object (`sqlite3.connect(p).execute(q).fetchall()`) moves whole, unless
/// what it ends in is such an object too (the cursor of `cur = sqlite3.connect(p).execute(q)`
/// would come back to the event loop's thread).
fn chain<'t>(
    file: &FileContext<'t>,
    registry: &Registry,
    call: Node<'t>,
) -> Result<(String, Node<'t>), AffineCall<'t>> {
    let mut outer = call;
    while let Some(next) = outer
        .parent()
        .filter(|p| p.kind_name() == "attribute")
        .and_then(|a| a.parent())
        .filter(|c| c.kind_name() == "call")
    {
        outer = next;
    }
    let root = file.parsed.tree.root_node();
    match file
        .index
        .object_kind(outer, root, file.text)
        .and_then(|kind| registry.thread_affine(&kind))
    {
        Some((family, label)) => Err(AffineCall::Refused(format!(
            "the expression hands a {label} it makes back to the event loop's thread: {}. \
             Instead: {}",
            family.why, family.returned_remedy
        ))),
        None => Err(AffineCall::Chain),
    }
}

/// The unit from `statement` (`name = <maker>`) to `name.close()`, checked.
fn unit_for<'t>(
    file: &FileContext<'t>,
    registry: &Registry,
    function: ScopeId,
    call: Node<'t>,
    (family, label): (&ThreadAffine, &str),
    name: &str,
    statement: Node<'t>,
) -> AffineCall<'t> {
    let text = file.text;
    let refuse = |what: String| {
        AffineCall::Refused(format!(
            "{what}: {}. Instead: {}",
            family.why, family.returned_remedy
        ))
    };
    let mut statements = vec![statement];
    let mut next = statement.next_named_sibling();
    let closed = loop {
        let Some(current) = next else {
            break false;
        };
        statements.push(current);
        if closes(text, current, name) {
            break true;
        }
        next = current.next_named_sibling();
    };
    if !closed {
        return refuse(format!(
            "the {label} `{name}` is not closed by a `{name}.close()` in the block that makes \
             it, so there is no whole unit of work (make, use, close) to move to a worker thread"
        ));
    }
    let last = *statements.last().expect("the close");
    if call.start_byte() < statement.start_byte() || call.end_byte() > last.end_byte() {
        return refuse(format!(
            "the call is not between `{name} = ...` and `{name}.close()`"
        ));
    }
    // The object and what is derived from it, bound in the unit.
    let root = file.parsed.tree.root_node();
    let mut kept = vec![name.to_owned()];
    walk(&statements, |node| {
        if node.kind_name() == "assignment"
            && let (Some(left), Some(right)) = (node.field(Field::Left), node.field(Field::Right))
            && left.kind_name() == "identifier"
            && file
                .index
                .object_kind(right, root, text)
                .is_some_and(|kind| registry.thread_affine(&kind).is_some())
        {
            let derived = text[left.byte_range()].to_owned();
            if !kept.contains(&derived) {
                kept.push(derived);
            }
        }
    });
    // Each use calls a method, iterates or opens a transaction (`with con:`); anything else
    // hands the object on, and what takes it might keep it beyond the unit.
    let mut handed = None;
    walk(&statements, |node| {
        if handed.is_some()
            || node.kind_name() != "identifier"
            || !kept.iter().any(|k| k == &text[node.byte_range()])
            || is_member_name(node)
        {
            return;
        }
        if !matches!(
            file.index.resolve_name(&text[node.byte_range()], node.start_byte()),
            Resolution::Binding(id) if file.index.binding(id).scope == function
        ) {
            return;
        }
        if !is_plain_use(node) {
            handed = Some(node);
        }
    });
    if let Some(node) = handed {
        return refuse(format!(
            "`{}` is handed to other code (line {}), which might keep the {label} beyond the \
             unit of work",
            &text[node.byte_range()],
            node.start_position().row + 1
        ));
    }
    if let Some(affinity) = foreign_affine_use_in_statements(file, registry, function, &statements)
    {
        return AffineCall::Refused(format!(
            "the code from `{name} = ...` to `{name}.close()` also uses {} (line {}), so it is \
             not moved to a worker thread: {}. Instead: {}",
            affinity.object, affinity.line, affinity.why, affinity.remedy
        ));
    }
    let maker = statement
        .named_child(0)
        .and_then(|a| a.field(Field::Right))
        .map(|r| r.byte_range());
    let before = makers_before(file, registry, statement);
    AffineCall::Unit(Box::new(UnitOfWork {
        name: match before {
            0 => HELPER.to_owned(),
            n => format!("{HELPER}_{}", n + 1),
        },
        first: statement,
        last,
        judged: maker
            .into_iter()
            .map(|range| Judged {
                range,
                whole: false,
            })
            .collect(),
        kept,
        returns_last: false,
    }))
}

/// The unit around `node` of another object: a statement before it in one of its blocks makes
/// one (`con = sqlite3.connect(p)`) that a statement after it closes (`con.close()`).
fn enclosing_unit<'t>(
    file: &FileContext<'t>,
    registry: &Registry,
    node: Node<'t>,
) -> Option<(String, Node<'t>)> {
    let text = file.text;
    let mut current = node;
    while let Some(parent) = current.parent() {
        if matches!(parent.kind_name(), "function_definition" | "lambda") {
            return None;
        }
        if parent.kind_name() == "block" {
            let mut before = current.prev_named_sibling();
            while let Some(statement) = before {
                let made = statement
                    .named_child(0)
                    .filter(|_| statement.kind_name() == "expression_statement")
                    .filter(|a| a.kind_name() == "assignment")
                    .filter(|a| {
                        a.field(Field::Right)
                            .is_some_and(|r| made_by(file, registry, r).is_some())
                    })
                    .and_then(|a| a.field(Field::Left))
                    .filter(|l| l.kind_name() == "identifier");
                if let Some(left) = made {
                    let name = &text[left.byte_range()];
                    let mut after = Some(current);
                    while let Some(later) = after {
                        if closes(text, later, name) {
                            return Some((name.to_owned(), statement));
                        }
                        after = later.next_named_sibling();
                    }
                }
                before = statement.prev_named_sibling();
            }
        }
        current = parent;
    }
    None
}

/// How many statements of the coroutine before `statement` make such an object into a name
/// (`con = sqlite3.connect(p)`): the units before it, which name their functions first.
fn makers_before(file: &FileContext, registry: &Registry, statement: Node) -> usize {
    let mut function = statement;
    while let Some(parent) = function.parent() {
        function = parent;
        if function.kind_name() == "function_definition" {
            break;
        }
    }
    let mut count = 0;
    let mut stack = vec![function];
    let mut cursor = function.walk();
    while let Some(node) = stack.pop() {
        if node.start_byte() >= statement.start_byte() {
            continue;
        }
        if node.kind_name() == "function_definition" && node.id() != function.id() {
            continue;
        }
        let makes = node.kind_name() == "expression_statement"
            && node
                .named_child(0)
                .filter(|a| a.kind_name() == "assignment")
                .and_then(|a| a.field(Field::Right))
                .is_some_and(|right| made_by(file, registry, right).is_some());
        count += usize::from(makes);
        stack.extend(node.named_children(&mut cursor));
    }
    count
}

/// Whether `statement` is `name.close()`, or a `try` whose `finally:` block holds it.
fn closes(text: &str, statement: Node, name: &str) -> bool {
    if statement.kind_name() == "try_statement" {
        let mut cursor = statement.walk();
        let finally = statement
            .named_children(&mut cursor)
            .find(|c| c.kind_name() == "finally_clause")
            .and_then(|f| {
                let mut inner = f.walk();
                f.named_children(&mut inner)
                    .find(|b| b.kind_name() == "block")
            });
        return finally.is_some_and(|block| {
            let mut inner = block.walk();
            block
                .named_children(&mut inner)
                .any(|s| closes(text, s, name))
        });
    }
    statement.kind_name() == "expression_statement"
        && statement
            .named_child(0)
            .filter(|c| c.kind_name() == "call")
            .and_then(|c| c.field(Field::Function))
            .filter(|f| f.kind_name() == "attribute")
            .is_some_and(|f| {
                f.field(Field::Object)
                    .is_some_and(|o| o.kind_name() == "identifier" && &text[o.byte_range()] == name)
                    && f.field(Field::Attribute)
                        .is_some_and(|a| &text[a.byte_range()] == "close")
            })
}

/// `con.execute(...)`, `for row in cur:`, `with con:`, `cur = ...`: a use that keeps the
/// object where it is.
fn is_plain_use(node: Node) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    let is = |field: Field| parent.field(field).is_some_and(|f| f.id() == node.id());
    match parent.kind_name() {
        "attribute" => is(Field::Object),
        "for_statement" => is(Field::Right),
        "with_item" => is(Field::Value),
        "assignment" => is(Field::Left),
        _ => false,
    }
}

/// Whether `node` names a member or a keyword, not a variable: the `session` of
/// `driver.session()`, the `session` of `f(session=...)`.
fn is_member_name(node: Node) -> bool {
    node.parent().is_some_and(|parent| {
        let field = match parent.kind_name() {
            "attribute" => Field::Attribute,
            "keyword_argument" => Field::Name,
            _ => return false,
        };
        parent.field(field).is_some_and(|f| f.id() == node.id())
    })
}

/// Every node of `statements`, in order.
fn walk<'t>(statements: &[Node<'t>], mut visit: impl FnMut(Node<'t>)) {
    let Some(first) = statements.first() else {
        return;
    };
    let mut cursor = first.walk();
    let mut stack: Vec<Node> = statements.iter().rev().copied().collect();
    while let Some(node) = stack.pop() {
        visit(node);
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
}

/// The `for conn in get_connection(...):` or `with get_conn() as conn:` statement of the
/// coroutine `function` whose target the receiver of `callee` is, or was derived from in it
/// (`cur = conn.cursor()`), when the project pinned that receiver as a thread-affine object
/// the helper called there made and returned or yielded: the whole statement, the helper's
/// call included, moves to one worker thread as a unit of work, so the object is made, used
/// and closed there (a generator's code after its `yield`, the commit and the close, runs when
/// the loop asks for the next item: in that thread too).
pub(super) fn helper_unit<'t>(
    file: &FileContext<'t>,
    function: ScopeId,
    callee: Node<'t>,
    maker_moves: bool,
) -> Option<UnitOfWork<'t>> {
    let object = callee
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")?;
    let (statement, target) = helper_statement(file, function, object, 0)?;
    let inside = statement.byte_range();
    if !(inside.start <= callee.start_byte() && callee.end_byte() <= inside.end) {
        return None;
    }
    let kept = derived_in(file, function, statement, target);
    // The helper's call (`get_connection(commit=True)`): judged when the project found
    // nothing it (or what it calls) must not do in a worker thread: `maker_moves`.
    let made = match statement.kind_name() {
        "for_statement" => statement.field(Field::Right),
        _ => statement
            .named_child(0)
            .and_then(|clause| clause.named_child(0))
            .and_then(|item| item.named_child(0))
            .and_then(|pattern| pattern.named_child(0)),
    }
    .filter(|call| call.kind_name() == "call");
    let judged = made.filter(|_| maker_moves).map(|call| Judged {
        range: call.byte_range(),
        whole: false,
    });
    // A `with` block's body runs once; a `for` loop's last `return` is the coroutine's only
    // when nothing follows the loop (no iteration falls through to `None` either way).
    let returns_last = match statement.kind_name() {
        "for_statement" => {
            !has_else(statement)
                && statement.next_named_sibling().is_none()
                && statement.parent().is_some_and(|block| {
                    block.parent().is_some_and(|def| {
                        def.kind_name() == "function_definition"
                            && def.field(Field::Body).is_some_and(|b| b.id() == block.id())
                    })
                })
        }
        _ => true,
    };
    Some(UnitOfWork {
        name: HELPER.to_owned(),
        first: statement,
        last: statement,
        judged: judged.into_iter().collect(),
        kept,
        returns_last,
    })
}

/// The statement binding `name` (a `for` loop's target or a `with` item's, its iterable or
/// resource a call), followed back through derived locals (`cur = conn.cursor()`).
fn helper_statement<'t>(
    file: &FileContext<'t>,
    function: ScopeId,
    name: Node<'t>,
    depth: usize,
) -> Option<(Node<'t>, String)> {
    if depth > MAX_STEPS {
        return None;
    }
    let text = file.text;
    let written = &text[name.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(written, name.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.scope != function || binding.kind != BindingKind::Assignment {
        return None;
    }
    // A name bound twice in the coroutine may hold either object at the call.
    if file.index.bindings_in_scope(function, written).len() != 1 {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let bound = node_at(root, &binding.range)?;
    if let Some(loop_) = bound.parent().filter(|p| p.kind_name() == "for_statement")
        && loop_
            .field(Field::Left)
            .is_some_and(|l| l.id() == bound.id())
    {
        loop_
            .field(Field::Right)
            .filter(|r| r.kind_name() == "call")?;
        return Some((loop_, written.to_owned()));
    }
    let mut up = bound.parent();
    if up.is_some_and(|p| p.kind_name() == "as_pattern_target") {
        up = up.and_then(|p| p.parent());
    }
    if let Some(pattern) = up.filter(|p| p.kind_name() == "as_pattern") {
        pattern.named_child(0).filter(|v| v.kind_name() == "call")?;
        let item = pattern.parent().filter(|i| i.kind_name() == "with_item")?;
        let clause = item.parent().filter(|c| c.kind_name() == "with_clause")?;
        // One resource: a second one would move with it unasked.
        if clause.named_child_count() != 1 {
            return None;
        }
        let with = clause
            .parent()
            .filter(|w| w.kind_name() == "with_statement")?;
        // `async with` is awaited: not a unit a thread can run.
        if text[with.byte_range()].starts_with("async") {
            return None;
        }
        return Some((with, written.to_owned()));
    }
    // `cur = conn.cursor()`: derived from `conn`, inside the statement that binds it.
    let value = node_at(root, binding.value.as_ref()?).filter(|v| v.kind_name() == "call")?;
    let owner = value
        .field(Field::Function)
        .filter(|f| f.kind_name() == "attribute")?
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")?;
    let (statement, target) = helper_statement(file, function, owner, depth + 1)?;
    let inside = statement.byte_range();
    (inside.start <= value.start_byte() && value.end_byte() <= inside.end)
        .then_some((statement, target))
}

/// `target` and the names the statement binds to method calls on it, or on those
/// (`cur = conn.cursor()`): none may be read after the statement.
fn derived_in(
    file: &FileContext,
    function: ScopeId,
    statement: Node,
    target: String,
) -> Vec<String> {
    let root = file.parsed.tree.root_node();
    let inside = statement.byte_range();
    let mut kept = vec![target];
    loop {
        let before = kept.len();
        for (_, binding) in file.index.bindings_of(function) {
            if kept.contains(&binding.name)
                || binding.range.start < inside.start
                || binding.range.end > inside.end
            {
                continue;
            }
            let derived = binding
                .value
                .as_ref()
                .and_then(|v| node_at(root, v))
                .filter(|v| v.kind_name() == "call")
                .and_then(|v| v.field(Field::Function))
                .filter(|f| f.kind_name() == "attribute")
                .and_then(|f| f.field(Field::Object))
                .is_some_and(|o| kept.iter().any(|k| *k == file.text[o.byte_range()]));
            if derived {
                kept.push(binding.name.clone());
            }
        }
        if kept.len() == before {
            return kept;
        }
    }
}

/// Whether the loop has an `else:` clause.
fn has_else(statement: Node) -> bool {
    let mut cursor = statement.walk();
    statement
        .named_children(&mut cursor)
        .any(|child| child.kind_name() == "else_clause")
}

#[cfg(test)]
mod tests {
    use super::super::analyze;
    use super::super::test_context::with_context;
    use crate::codemod::Registry;
    use crate::fix::{Applicability, fix_file};
    use crate::settings::RuleSelection;

    /// The bundled UNF101 findings of `source`: the safe fixes applied, and the reasons.
    fn fixed(source: &str) -> (String, Vec<String>) {
        let registry = Registry::bundled().unwrap();
        let selection = RuleSelection::default();
        let findings = with_context("app.py", source, None, |file| {
            analyze(file, &registry, &selection)
        });
        let findings: Vec<_> = findings.iter().filter(|f| f.code == "UNF101").collect();
        let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
        let text = fix_file(source, 0, &fixes, Applicability::Safe, false)
            .fixed_text
            .unwrap_or_else(|| source.to_owned());
        let reasons = findings
            .iter()
            .filter_map(|f| f.no_fix_reason.clone())
            .collect();
        (text, reasons)
    }

    #[test]
    fn two_units_of_one_coroutine_get_functions_of_their_own() {
        let source = "import sqlite3\n\nasync def f(p):\n    con = sqlite3.connect(p)\n    a = con.execute('q').fetchone()\n    con.close()\n    con = sqlite3.connect(p)\n    b = con.execute('r').fetchone()\n    con.close()\n    return a, b\n";
        let (text, reasons) = fixed(source);
        assert!(reasons.is_empty(), "{reasons:?}");
        assert!(
            text.contains("        return a\n    a = await asyncio.to_thread(_db_work)\n"),
            "{text}"
        );
        assert!(
            text.contains("    def _db_work_2():\n        con = sqlite3.connect(p)\n        b = "),
            "{text}"
        );
        assert!(
            text.contains("    b = await asyncio.to_thread(_db_work_2)\n    return a, b\n"),
            "{text}"
        );
    }

    #[test]
    fn a_connection_handed_on_or_never_closed_stays_with_the_reason() {
        let source = "import sqlite3\n\nasync def handed(p):\n    con = sqlite3.connect(p)\n    keep(con)\n    con.close()\n\nasync def open_ended(p):\n    con = sqlite3.connect(p)\n    return con.execute('q').fetchall()\n";
        let (text, reasons) = fixed(source);
        assert_eq!(text, source);
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("`con` is handed to other code (line 5)")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("is not closed by a `con.close()` in the block")),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_close_in_a_finally_block_ends_the_unit() {
        let source = "import sqlite3\n\nasync def f(p, rows):\n    con = sqlite3.connect(p)\n    try:\n        con.executemany('q', rows)\n        con.commit()\n    finally:\n        con.close()\n    return len(rows)\n";
        let (text, reasons) = fixed(source);
        assert!(reasons.is_empty(), "{reasons:?}");
        assert!(
            text.contains("    def _db_work():\n        con = sqlite3.connect(p)\n        try:\n"),
            "{text}"
        );
        assert!(
            text.contains("            con.close()\n    await asyncio.to_thread(_db_work)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_cursor_made_in_a_with_block_moves_with_the_block() {
        let source = "import sqlite3\n\nasync def f(p):\n    with sqlite3.connect(p) as con:\n        cur = con.cursor()\n        cur.execute('q')\n        rows = cur.fetchall()\n    return rows\n";
        let (text, reasons) = fixed(source);
        assert!(reasons.is_empty(), "{reasons:?}");
        assert!(
            text.contains(
                "        with sqlite3.connect(p) as con:\n            cur = con.cursor()\n"
            ),
            "{text}"
        );
    }
}
