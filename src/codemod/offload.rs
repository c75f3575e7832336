//! The `offload-block` strategy: a blocking resource used as a whole moves to a worker thread
//! as a whole.
//!
//! - `with open(p) as f: ...` (or an SMTP, FTP, socket or database connection in a `with`)
//!   inside a coroutine becomes a nested plain function holding the `with` statement, run by
//!   `await asyncio.to_thread(...)`: the file is opened, read or written, and closed in one
//!   thread, never on the event loop. A call on the `with` target inside the block
//!   (`smtp.send_message(msg)`) gets the same fix.
//! - Names the block assigns and the coroutine reads afterwards are returned by the function
//!   (`data = await asyncio.to_thread(_read_data)`; the function is named for what the block
//!   does, `helper_name.rs`); a block that ends in `return x` returns
//!   from the coroutine with the function's result.
//! - `open(p).read()` and other method chains on the resource become
//!   `await asyncio.to_thread(lambda: open(p).read())`.
//!
//! No fix when the block cannot move as it is: it awaits, yields, returns early, breaks out
//! of a loop around it, declares `global` / `nonlocal`, calls `super()`, `locals()` or
//! `vars()`, deletes names, rebinds a name it also reads from the coroutine, or binds a name
//! only conditionally that the coroutine reads afterwards. The fix is unsafe when the block
//! calls code that is not known to be safe in a thread while other coroutines run, or stores
//! into objects the coroutine shares.

use crate::parse::KindName;
use std::collections::BTreeSet;

use tree_sitter::Node;

use super::helper_name::{HelperFacts, helper_base};
use super::strategy::idiom::async_file_block;
use super::strategy::site::{AwaitShape, Proposal, Site, await_shape, free_name};
use super::strategy::thread_call::thread_call;
use super::sure_binding::{binding_takes_effect, dominates, sure_binding_in};
use super::thread_caveat::{Judged, thread_caveat};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::{Resolution, ScopeId};
use crate::source::line_start_at;

pub fn offload_block(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    let function = site
        .index
        .async_function_at(site.call.start_byte())
        .ok_or("the call is not in a coroutine")?;
    if let Some(with) = with_statement_of(site, function) {
        return offload_with(site, applicability, function, with);
    }
    offload_chain(site, applicability)
}

/// When `site.call` makes the resource of a `with` statement in a coroutine: the fix moving
/// the whole block, or why it cannot move (moving the call alone would leave the block's
/// reads and the close on the event loop). `None`: the call makes no `with` resource, or
/// that of an `async with`, whose uses are awaited (moving the call alone is the fix).
pub fn offload_with_item(
    site: &Site,
    applicability: Applicability,
) -> Option<Result<Proposal, String>> {
    let function = site.index.async_function_at(site.call.start_byte())?;
    let mut node = site
        .index
        .with_item_call(site.call, site.tree.root_node(), site.text)
        .parent()?;
    if node.kind_name() == "as_pattern" {
        node = node.parent()?;
    }
    if node.kind_name() != "with_item" {
        return None;
    }
    let with = with_statement_of(site, function)?;
    if with.child(0).is_some_and(|c| c.kind_name() == "async") {
        return None;
    }
    Some(
        offload_with(site, applicability, function, with).map_err(|reason| {
            format!(
                "the `with` block uses what the call makes (reads, the close) and cannot move to a \
             worker thread as a whole ({reason}); moving the call alone would leave them \
             blocking"
            )
        }),
    )
}

/// The `with` block a fix for `site.call` moves to a worker thread as a whole, if any (the
/// analysis checks what the block uses: `analyze/affinity.rs`).
pub fn moved_with_block<'t>(site: &Site<'t>) -> Option<Node<'t>> {
    let function = site.index.async_function_at(site.call.start_byte())?;
    with_statement_of(site, function)
        .filter(|w| w.child(0).is_none_or(|c| c.kind_name() != "async"))
}

/// The `with` statement whose resource `site.call` makes (`with open(p) as f:`), or whose
/// target it calls a method on (`f.write(...)` inside that `with`).
fn with_statement_of<'t>(site: &Site<'t>, function: ScopeId) -> Option<Node<'t>> {
    let text = site.text;
    // `with open(p) as f:` / `with open(p):` / `with closing(sqlite3.connect(p)) as con:`
    let mut node = site
        .index
        .with_item_call(site.call, site.tree.root_node(), site.text)
        .parent()?;
    if node.kind_name() == "as_pattern" {
        node = node.parent()?;
    }
    if node.kind_name() == "with_item" {
        let statement = node.parent()?.parent()?;
        return (statement.kind_name() == "with_statement").then_some(statement);
    }
    // `f.write(...)` where `f` is the target of an enclosing `with` (or
    // `con.execute(q).fetchone()`, a chain starting from it).
    let mut receiver = site.callee.field(Field::Object)?;
    while receiver.kind_name() == "call" {
        receiver = receiver
            .field(Field::Function)
            .filter(|f| f.kind_name() == "attribute")?
            .field(Field::Object)?;
    }
    let mut receiver = Some(receiver).filter(|o| o.kind_name() == "identifier")?;
    // `cur.fetchone()` after `cur = con.cursor()` in `with sqlite3.connect(p) as con:`: what
    // the target derives is followed back to it (a few steps).
    for _ in 0..4 {
        let name = &text[receiver.byte_range()];
        let Resolution::Binding(id) = site.index.resolve_name(name, receiver.start_byte()) else {
            return None;
        };
        let binding = site.index.binding(id);
        if binding.scope != function {
            return None;
        }
        let mut current = site.call;
        while let Some(parent) = current.parent() {
            if parent.kind_name() == "with_statement"
                && with_targets(parent, text)
                    .iter()
                    .any(|t| t.byte_range() == binding.range && &text[t.byte_range()] == name)
            {
                return Some(parent);
            }
            if matches!(
                parent.kind_name(),
                "function_definition" | "lambda" | "class_definition"
            ) {
                break;
            }
            current = parent;
        }
        let value = binding
            .value
            .as_ref()
            .and_then(|v| {
                site.tree
                    .root_node()
                    .descendant_for_byte_range(v.start, v.end)
            })
            .filter(|v| v.kind_name() == "call")?;
        receiver = value
            .field(Field::Function)
            .filter(|f| f.kind_name() == "attribute")?
            .field(Field::Object)
            .filter(|o| o.kind_name() == "identifier")?;
    }
    None
}

/// The names a `with` statement binds with `as`.
fn with_targets<'t>(with: Node<'t>, _text: &str) -> Vec<Node<'t>> {
    let mut targets = Vec::new();
    let Some(clause) = with
        .named_child(0)
        .filter(|c| c.kind_name() == "with_clause")
    else {
        return targets;
    };
    let mut cursor = clause.walk();
    for item in clause.named_children(&mut cursor) {
        let Some(value) = item.field(Field::Value) else {
            continue;
        };
        if value.kind_name() == "as_pattern"
            && let Some(alias) = value.field(Field::Alias)
        {
            let mut stack = vec![alias];
            let mut inner = alias.walk();
            while let Some(n) = stack.pop() {
                if n.kind_name() == "identifier" {
                    targets.push(n);
                } else {
                    stack.extend(n.named_children(&mut inner));
                }
            }
        }
    }
    targets
}

/// Why `statement` cannot move into a nested function as it is, if it cannot.
pub(crate) fn immovable(site: &Site, statement: Node, last_return: Option<Node>) -> Option<String> {
    let text = site.text;
    let mut stack = vec![(statement, 0usize)];
    let mut cursor = statement.walk();
    while let Some((node, loops)) = stack.pop() {
        let reason = match node.kind_name() {
            "await" => Some("the block awaits"),
            "yield" => Some("the block yields"),
            "return_statement" if Some(node.id()) != last_return.map(|r| r.id()) => {
                Some("the block returns early")
            }
            "break_statement" | "continue_statement" if loops == 0 => {
                Some("the block breaks out of a loop around it")
            }
            "global_statement" | "nonlocal_statement" => {
                Some("the block declares `global` or `nonlocal` names")
            }
            "delete_statement" => Some("the block deletes names"),
            "call" => {
                let callee = node.field(Field::Function);
                let name = callee
                    .filter(|c| c.kind_name() == "identifier")
                    .map(|c| &text[c.byte_range()]);
                match name {
                    Some("super") => Some("the block calls `super()`, which needs its method"),
                    Some("locals" | "vars" | "exec" | "eval") => {
                        Some("the block inspects or runs code in its own scope")
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(reason) = reason {
            return Some(reason.to_owned());
        }
        if node.id() != statement.id() && node.child(0).is_some_and(|c| c.kind_name() == "async") {
            return Some("the block holds `async` statements".to_owned());
        }
        // Nested functions and classes are their own world: only `super()` et al. matter at
        // this level, and a `return` there is theirs.
        if matches!(
            node.kind_name(),
            "function_definition" | "class_definition" | "lambda"
        ) {
            continue;
        }
        let inner_loops = loops
            + usize::from(matches!(
                node.kind_name(),
                "for_statement" | "while_statement"
            ));
        stack.extend(node.named_children(&mut cursor).map(|c| (c, inner_loops)));
    }
    None
}

/// What the block needs from the coroutine and gives back to it.
struct Names {
    /// Names bound in the block and read by the coroutine afterwards, in order.
    returned: Vec<String>,
    /// The first call that may not be safe in a worker thread, or store into a shared object.
    thread_caveat: Option<String>,
}

fn names_of_block(
    site: &Site,
    function: ScopeId,
    function_node: Node,
    moved: Moved,
    body: Option<Node>,
    judged: &[Judged],
) -> Result<Names, String> {
    let text = site.text;
    let statement = moved.first;
    let span = moved.span();
    let inside = |n: Node| span.start <= n.start_byte() && n.end_byte() <= span.end;
    let binding_sites: std::collections::HashSet<std::ops::Range<usize>> = site
        .index
        .bindings_of(function)
        .map(|(_, b)| b.range.clone())
        .collect();
    // Names the coroutine binds inside the block.
    let bound_inside: BTreeSet<String> = site
        .index
        .bindings_of(function)
        .filter(|(_, b)| span.start <= b.range.start && b.range.end <= span.end)
        .map(|(_, b)| b.name.clone())
        .collect();
    // The targets of the `with` statement, or of those a moved `if` holds.
    let targets: Vec<Node> = if moved.is_one() && statement.kind_name() == "with_statement" {
        with_targets(statement, text)
    } else {
        let mut targets = Vec::new();
        let mut stack = moved.statements();
        let mut cursor = statement.walk();
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "with_statement" => targets.extend(with_targets(node, text)),
                "function_definition" | "class_definition" | "lambda" => continue,
                _ => {}
            }
            stack.extend(node.named_children(&mut cursor));
        }
        targets
    };
    // The blocks the statement is in, innermost first, up to the coroutine's body: a plain
    // binding in one of them, after the statement, rebinds the name for what follows.
    let blocks: Vec<Node> = {
        let mut blocks = Vec::new();
        let mut current = statement;
        while let Some(parent) = current.parent() {
            if parent.kind_name() == "block" {
                blocks.push(parent);
            }
            if parent.id() == function_node.id() {
                break;
            }
            current = parent;
        }
        blocks
    };
    let in_loop = {
        let mut current = statement;
        let mut found = false;
        while let Some(parent) = current.parent() {
            if parent.id() == function_node.id() {
                break;
            }
            if matches!(parent.kind_name(), "for_statement" | "while_statement") {
                found = true;
            }
            current = parent;
        }
        found
    };
    // Every occurrence of those names in the coroutine itself (not in nested scopes).
    struct Occurrence<'t> {
        node: Node<'t>,
        binds: bool,
    }
    let mut occurrences: Vec<(String, Occurrence)> = Vec::new();
    let mut stack = vec![function_node];
    let mut cursor = function_node.walk();
    while let Some(node) = stack.pop() {
        // A keyword argument's name (`make(extra=1)`) and an attribute's (`obj.extra`) are
        // no occurrence of a local.
        match node.kind_name() {
            "keyword_argument" => stack.extend(node.field(Field::Value)),
            "attribute" => stack.extend(node.field(Field::Object)),
            _ => stack.extend(node.named_children(&mut cursor)),
        }
        if node.kind_name() != "identifier" {
            continue;
        }
        let name = &text[node.byte_range()];
        if !bound_inside.contains(name) {
            continue;
        }
        let Resolution::Binding(id) = site.index.resolve_name(name, node.start_byte()) else {
            continue;
        };
        if site.index.binding(id).scope != function {
            continue;
        }
        occurrences.push((
            name.to_owned(),
            Occurrence {
                node,
                binds: binding_sites.contains(&node.byte_range()),
            },
        ));
    }
    occurrences.sort_by_key(|(_, o)| o.node.start_byte());
    // `count += 1` and `del count` read the name before they bind (or unbind) it.
    let reads = |o: &Occurrence| {
        !o.binds
            || o.node.parent().is_some_and(|p| {
                matches!(p.kind_name(), "augmented_assignment" | "delete_statement")
                    || p.kind_name() == "expression_list"
                        && p.parent()
                            .is_some_and(|d| d.kind_name() == "delete_statement")
            })
    };
    let mut returned = Vec::new();
    for name in &bound_inside {
        let of_name = || {
            occurrences
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, o)| o)
        };
        let is_target = targets.iter().any(|t| &text[t.byte_range()] == name);
        // Inside the block: every read must see a binding the block made first.
        let bound_outside = of_name().any(|o| o.binds && !inside(o.node));
        if bound_outside && !is_target {
            let first_binding = of_name().find(|o| o.binds && inside(o.node));
            let sure = first_binding
                .filter(|b| body.is_some_and(|body| sure_binding_in(b.node, body)))
                .and_then(|b| {
                    let mut statement = b.node;
                    while statement
                        .parent()
                        .is_some_and(|p| Some(p.id()) != body.map(|b| b.id()))
                    {
                        statement = statement.parent()?;
                    }
                    Some(statement.end_byte())
                });
            let reads_first = of_name().any(|o| {
                reads(o) && inside(o.node) && sure.is_none_or(|end| o.node.start_byte() < end)
            });
            if reads_first {
                return Err(format!(
                    "the block reads and rebinds `{name}`, which the coroutine also binds"
                ));
            }
        }
        // After the block: reads before a sure rebinding takes effect see what the block
        // bound, those on its right-hand side too (`data = transform(data)`).
        let rebound_at = of_name()
            .filter(|o| {
                o.binds
                    && o.node.start_byte() >= span.end
                    && blocks.iter().any(|block| sure_binding_in(o.node, *block))
            })
            .find_map(|o| binding_takes_effect(o.node))
            .unwrap_or(usize::MAX);
        let rebound_before = |read: Node| {
            of_name().any(|o| {
                o.binds
                    && o.node.start_byte() >= span.end
                    && o.node.start_byte() < read.start_byte()
                    && dominates(o.node, read)
            })
        };
        let read_later = of_name().any(|o| {
            reads(o)
                && !inside(o.node)
                && ((o.node.start_byte() >= span.end
                    && o.node.start_byte() < rebound_at
                    && !rebound_before(o.node))
                    || (in_loop && o.node.start_byte() < span.start))
        });
        if !read_later {
            continue;
        }
        if is_target {
            return Err(format!(
                "the coroutine uses `{name}` after the block closes it"
            ));
        }
        let unconditional = body.is_some_and(|body| {
            of_name().any(|o| o.binds && inside(o.node) && sure_binding_in(o.node, body))
        });
        if !unconditional {
            return Err(format!(
                "the block binds `{name}` only on some paths, and the coroutine reads it afterwards"
            ));
        }
        returned.push(name.clone());
    }
    Ok(Names {
        returned,
        thread_caveat: moved
            .statements()
            .into_iter()
            .find_map(|s| thread_caveat(site, s, &bound_inside, &targets, judged)),
    })
}

/// What moving a `with` block needs, once it is known it can move.
struct Plan<'t> {
    first_line: usize,
    body: Option<Node<'t>>,
    last_return: Option<Node<'t>>,
    names: Names,
}

/// A statement other than a `with` that moves to a worker thread as a whole (an `if` that
/// checks and acts: `analyze/hops.rs`): its helper's name, and the code in it whose move the
/// fixes of its own calls already judged.
pub(crate) struct MovedStatement<'a> {
    pub name: &'a str,
    pub judged: &'a [Judged],
    /// Names that must not be read after the moved code (a connection it closes).
    pub kept: &'a [String],
    /// A `return` ending the moved statement's body returns from the coroutine with the
    /// helper's result (a `with` block's body runs once; a `for` loop ending the coroutine
    /// falls through to `None` either way).
    pub returns_last: bool,
}

/// The statements a fix moves into one nested function: one (a `with` block, an `if`), or a
/// run of siblings of one block (`con = sqlite3.connect(p)` ... `con.close()`).
#[derive(Clone, Copy)]
pub(crate) struct Moved<'t> {
    pub first: Node<'t>,
    pub last: Node<'t>,
}

impl<'t> Moved<'t> {
    pub(crate) fn one(statement: Node<'t>) -> Moved<'t> {
        Moved {
            first: statement,
            last: statement,
        }
    }

    fn is_one(&self) -> bool {
        self.first.id() == self.last.id()
    }

    pub(crate) fn span(&self) -> std::ops::Range<usize> {
        self.first.start_byte()..self.last.end_byte()
    }

    /// The statements, first to last.
    pub(crate) fn statements(&self) -> Vec<Node<'t>> {
        let mut statements = vec![self.first];
        let mut current = self.first;
        while current.id() != self.last.id() {
            match current.next_named_sibling() {
                Some(next) => {
                    statements.push(next);
                    current = next;
                }
                None => break,
            }
        }
        statements
    }
}

/// Whether `statement` (a `with` block, or with `unit` another statement) can move into a
/// nested function as it is, and what that needs.
fn plan_block<'t>(
    site: &Site<'t>,
    function: ScopeId,
    function_node: Node<'t>,
    moved: Moved<'t>,
    unit: Option<&MovedStatement>,
) -> Result<Plan<'t>, String> {
    let text = site.text;
    let statement = moved.first;
    if site.index.scope_at(statement.start_byte()) != function
        || statement.parent().is_none_or(|p| p.kind_name() != "block")
    {
        return Err("the statement is not directly in the coroutine's body".to_owned());
    }
    let first_line = line_start_at(text, statement.start_byte());
    let indent = &text[first_line..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the statement shares its line with other code".to_owned());
    }
    // A run of statements: their block; the plain bindings in it are sure.
    let body = match moved.is_one() {
        true => statement
            .field(Field::Body)
            .or_else(|| statement.field(Field::Consequence)),
        false => statement.parent(),
    };
    // `with open(p) as f: return json.load(f)`: the function returns it (an `if` returns
    // only on one path).
    let last_return = body
        .filter(|_| unit.is_none_or(|u| u.returns_last))
        .and_then(|b| {
            let last = b.named_child(u32::try_from(b.named_child_count().checked_sub(1)?).ok()?)?;
            (last.kind_name() == "return_statement").then_some(last)
        });
    if let Some(reason) = moved
        .statements()
        .into_iter()
        .find_map(|s| immovable(site, s, last_return))
    {
        return Err(reason);
    }
    let judged = unit.map_or(&[][..], |u| u.judged);
    // In an `if`, no binding is sure: a name it binds and the coroutine reads refuses it.
    let sure_body = body.filter(|_| unit.is_none() || !moved.is_one());
    let names = names_of_block(site, function, function_node, moved, sure_body, judged)?;
    if last_return.is_some() && !names.returned.is_empty() {
        return Err("the block both returns and binds names used afterwards".to_owned());
    }
    if let Some(name) = unit.and_then(|u| names.returned.iter().find(|n| u.kept.contains(n))) {
        return Err(format!(
            "the coroutine uses `{name}` after the code that closes it"
        ));
    }
    Ok(Plan {
        first_line,
        body,
        last_return,
        names,
    })
}

/// The helper's name: what the block does (`helper_name.rs`), unique in the coroutine. Two
/// blocks of one coroutine that do the same get `_write_state` and `_write_state_2`: each
/// block takes the next name that the coroutine does not use among those of the blocks
/// before it that can move too, so that every finding of a block, in every round, picks the
/// same.
fn helper_name(
    site: &Site,
    function: ScopeId,
    function_node: Node,
    with: Node,
    plan: &Plan,
) -> String {
    let base_of = |block: Node, plan: &Plan| {
        helper_base(&HelperFacts {
            text: site.text,
            index: site.index,
            with: block,
            targets: &with_targets(block, site.text),
            returned: &plan.names.returned,
            last_return: plan.last_return,
        })
    };
    let base = base_of(with, plan);
    let mut before = 0;
    let mut stack = vec![function_node];
    let mut cursor = function_node.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "with_statement"
            && node.start_byte() < with.start_byte()
            && plan_block(site, function, function_node, Moved::one(node), None)
                .is_ok_and(|other| base_of(node, &other) == base)
        {
            before += 1;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    // Unbound where the block is, and spelled nowhere in the coroutine: the new local
    // shadows nothing and nothing in the coroutine means another thing by it.
    let coroutine_text = &site.text[function_node.byte_range()];
    (1..)
        .map(|i| match i {
            1 => base.clone(),
            n => format!("{base}_{n}"),
        })
        .filter(|name| {
            site.index.resolve_name(name, with.start_byte()) == Resolution::Builtin
                && !contains_word(coroutine_text, name)
        })
        .nth(before)
        .expect("some name is free")
}

/// Whether `text` has `word` in it as a whole word.
fn contains_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_word)
            && !text[at + word.len()..].chars().next().is_some_and(is_word)
    })
}

fn offload_with(
    site: &Site,
    applicability: Applicability,
    function: ScopeId,
    with: Node,
) -> Result<Proposal, String> {
    if with.child(0).is_some_and(|c| c.kind_name() == "async") {
        return Err("the `with` is already asynchronous".to_owned());
    }
    offload_statement(site, applicability, function, Moved::one(with), None)
}

/// `statement`, directly in the body of the coroutine `function`, moved into a nested plain
/// function run in a worker thread: a `with` block (`unit`: `None`), or another statement.
pub(crate) fn offload_statement(
    site: &Site,
    applicability: Applicability,
    function: ScopeId,
    moved: Moved,
    unit: Option<MovedStatement>,
) -> Result<Proposal, String> {
    let text = site.text;
    let le = site.line_ending;
    let function_node = site.scope_node(function).ok_or("no function body")?;
    let plan = plan_block(site, function, function_node, moved, unit.as_ref())?;
    let with = moved.first;
    let end = moved.last.end_byte();
    let helper = match &unit {
        Some(unit) => free_name(site, unit.name),
        None => helper_name(site, function, function_node, with, &plan),
    };
    let Plan {
        first_line,
        body,
        last_return,
        names,
    } = plan;
    let indent = &text[first_line..with.start_byte()];
    let unit = crate::source::detect_indent(text);
    let mut string_ranges = Vec::new();
    let mut stack = moved.statements();
    let mut cursor = with.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "string" {
            string_ranges.push(node.byte_range());
        } else {
            stack.extend(node.named_children(&mut cursor));
        }
    }
    // One edit at each place: the same fix comes from every finding in the block, and equal
    // edits are applied once, while two different insertions at one place would conflict.
    let mut edits = vec![Edit::insertion(
        first_line,
        format!("{indent}def {helper}():{le}"),
    )];
    let mut line = first_line;
    while line < end {
        let inside_string = string_ranges.iter().any(|r| r.start < line && line < r.end);
        let blank = text[line..].starts_with(['\n', '\r']);
        if !inside_string && !blank {
            let leading = crate::source::leading_whitespace(&text[line..]);
            let at = crate::source::indent_insertion(line, leading, &unit);
            edits.push(Edit::insertion(at, unit.clone()));
        }
        match text[line..end].find('\n') {
            Some(newline) => line += newline + 1,
            None => break,
        }
    }
    let (run, replacement, imports) = thread_call(site, with.start_byte(), &helper, "", false)?;
    edits.extend(imports);
    // After the block's last line (and its comment, if any).
    let rest = &text[end..];
    let line_end = end + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let body_indent = crate::source::shifted(indent, &unit);
    let mut after = String::new();
    let call_line = match (&last_return, names.returned.as_slice()) {
        (Some(_), _) => format!("return await {run}"),
        (None, []) => format!("await {run}"),
        (None, returned) => {
            let joined = returned.join(", ");
            after.push_str(&format!("{le}{body_indent}return {joined}"));
            // `content: Final = f.read()` keeps its annotation in the coroutine too.
            let annotation = match returned {
                [name] => body.and_then(|body| annotation_of(text, body, name)),
                _ => None,
            };
            match annotation {
                Some(annotation) => format!("{joined}: {annotation} = await {run}"),
                None => format!("{joined} = await {run}"),
            }
        }
    };
    after.push_str(&format!("{le}{indent}{call_line}"));
    edits.push(Edit::insertion(line_end, after));

    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.moves = Some(moved.span());
    if let Some(caveat) = names.thread_caveat {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(caveat);
    } else if let Some((edits, title)) = async_file_block(site, with).filter(|_| moved.is_one()) {
        // The project's aiofiles instead of the thread: the same verdict, the block kept.
        let moves = fix.moves.take();
        fix = Fix::new(fix.applicability, title, edits);
        fix.moves = moves;
    }
    Ok(Proposal { fix, replacement })
}

/// The annotation of `name: T = ...`, a statement directly in `body`.
fn annotation_of<'t>(text: &'t str, body: Node, name: &str) -> Option<&'t str> {
    let mut cursor = body.walk();
    let statements: Vec<Node> = body.named_children(&mut cursor).collect();
    statements.into_iter().find_map(|statement| {
        let assignment = statement.named_child(0).filter(|a| {
            statement.kind_name() == "expression_statement" && a.kind_name() == "assignment"
        })?;
        let left = assignment.field(Field::Left)?;
        let annotation = assignment.field(Field::Type)?;
        (left.kind_name() == "identifier" && &text[left.byte_range()] == name)
            .then(|| &text[annotation.byte_range()])
    })
}

/// Whether the call is a method called on what another call the codemod matches returns:
/// `smtplib.LMTP(p).noop()` (not `Path(p).open()`, whose `open` makes the object).
fn ends_a_chain_of_a_match(site: &Site) -> bool {
    let Some(receiver) = site
        .call
        .field(Field::Function)
        .filter(|callee| callee.kind_name() == "attribute")
        .and_then(|callee| callee.field(Field::Object))
        .filter(|object| object.kind_name() == "call")
    else {
        return false;
    };
    receiver
        .field(Field::Function)
        .and_then(|callee| {
            site.index
                .callable_name(callee, site.tree.root_node(), site.text)
        })
        .is_some_and(|name| site.codemod_calls.contains(&name))
}

/// `open(p).read()` → `await asyncio.to_thread(lambda: open(p).read())`; reported as the
/// method call (`smtplib.LMTP(p).noop()`), the same.
fn offload_chain(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    let text = site.text;
    let mut outer = site.call;
    while let Some(attribute) = outer.parent().filter(|p| {
        p.kind_name() == "attribute" && p.field(Field::Object).is_some_and(|o| o.id() == outer.id())
    }) {
        match attribute.parent().filter(|c| {
            c.kind_name() == "call"
                && c.field(Field::Function)
                    .is_some_and(|f| f.id() == attribute.id())
        }) {
            Some(call) => outer = call,
            None => break,
        }
    }
    // `smtplib.LMTP(p).noop()` reported as the method call: when the call it is made on is
    // the codemod's too, that call's fix moves this same chain; the two fixes are one edit.
    if outer.id() == site.call.id() && !ends_a_chain_of_a_match(site) {
        let what = match site.codemod_calls.iter().any(|c| c == site.qualified) {
            true => "the object it makes is kept for later calls",
            false => "the object it is called on is kept for other calls",
        };
        return Err(format!(
            "{what}: only a `with` block, or a chained call such as `open(p).read()`, moves \
             to a thread as a whole"
        ));
    }
    if site.index.in_generator_expression(outer.start_byte()) {
        return Err("inside a generator expression, `await` would make it asynchronous".to_owned());
    }
    let mut stack = vec![outer];
    let mut cursor = outer.walk();
    while let Some(node) = stack.pop() {
        if matches!(node.kind_name(), "await" | "yield" | "named_expression") {
            return Err("the expression awaits, yields or binds a name".to_owned());
        }
        stack.extend(node.named_children(&mut cursor));
    }
    let expression = &text[outer.byte_range()];
    let (run, replacement, imports) = thread_call(
        site,
        outer.start_byte(),
        &format!("lambda: {expression}"),
        "",
        false,
    )?;
    let rewritten = match await_shape(outer) {
        AwaitShape::AlreadyAwaited => return Err("the call is already awaited".to_owned()),
        AwaitShape::Bare => format!("await {run}"),
        AwaitShape::Parenthesised => format!("(await {run})"),
    };
    let mut edits = vec![Edit::replacement(outer.byte_range(), rewritten)];
    edits.extend(imports);
    let mut fix = Fix::new(applicability, String::new(), edits);
    fix.runs_in_thread = Some(outer.byte_range());
    Ok(Proposal { fix, replacement })
}
