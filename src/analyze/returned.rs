//! Thread affinity, the other direction: a thread-affine object (a sqlite3 connection or
//! cursor) made in code a fix would move to a worker thread and handed back to the event
//! loop's thread, where its next use fails. A synchronous function returning one it made
//! (`return conn, cursor`, or what another project function returned) is marked in its
//! summary ([`affine_returns`]; the settling follows those returns across functions and
//! modules), and one keeping it on `self` or in a module global is pinned ([`stored_affine`]); a coroutine's calls on a local holding one (`conn, cursor = create_conn()` then
//! `cursor.execute(...)`) are named for that function ([`returned_receiver`]); and a `with`
//! block moved as a whole must keep what it makes to itself ([`block_keeps_resource`],
//! [`affine_leaving_block`]).

use tree_sitter::Node;

use super::FileContext;
use super::affinity::{MAX_STEPS, made_shareable, origin};
use super::target::call_target;
use crate::codemod::Registry;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{AffineReturn, Affinity, ModuleInfo, ModuleMap, ReturnedObject};
use crate::semantic::{BindingId, BindingKind, Resolution, ScopeId, node_at};

/// `db.create_conn()[1].execute` for `cursor.execute(...)` after `conn, cursor =
/// create_conn()` (`db.get_conn().execute` after `conn = get_conn()` or `with get_conn() as
/// conn:`): a method codemods match on thread-affine objects, called on a local holding what
/// a project function returned, which may be such an object.
pub(super) fn returned_receiver(
    file: &FileContext,
    registry: &Registry,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
    if !registry.is_thread_affine_method(method) {
        return None;
    }
    let object = callee
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")?;
    let name = &file.text[object.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, object.start_byte()) else {
        return None;
    };
    let (call, position) = bound_call(file, id)?;
    match call_target(file, module, map, call.field(Field::Function)?) {
        Some(target) => Some(format!("{target}(){}.{method}", element_suffix(position))),
        // `cur = conn.cursor()` of such a local: `db.get_connection().cursor().execute`.
        None => {
            let made = call
                .field(Field::Function)
                .filter(|f| f.kind_name() == "attribute")?;
            let owner = made
                .field(Field::Object)
                .filter(|o| o.kind_name() == "identifier")?;
            let derived = &file.text[made.field(Field::Attribute)?.byte_range()];
            let owner_name = &file.text[owner.byte_range()];
            let Resolution::Binding(owner_id) =
                file.index.resolve_name(owner_name, owner.start_byte())
            else {
                return None;
            };
            let (owner_call, owner_position) = bound_call(file, owner_id)?;
            let target = call_target(file, module, map, owner_call.field(Field::Function)?)?;
            Some(format!(
                "{target}(){}.{derived}().{method}",
                element_suffix(owner_position)
            ))
        }
    }
}

/// `[1]` for element 1 of a returned tuple, nothing for the whole value: how
/// [`returned_receiver`] names a part of a call's result.
fn element_suffix(position: Option<u32>) -> String {
    position.map(|p| format!("[{p}]")).unwrap_or_default()
}

/// The call whose result (or element of it) the assignment `id` binds: `conn = f()`, `with
/// f() as conn:`, `for conn in f():` (`None`: the whole result, or what it yields), `conn,
/// cursor = f()` (`Some(1)` for `cursor`).
fn bound_call<'t>(file: &FileContext<'t>, id: BindingId) -> Option<(Node<'t>, Option<u32>)> {
    let binding = file.index.binding(id);
    if binding.kind != BindingKind::Assignment {
        return None;
    }
    let root = file.parsed.tree.root_node();
    if let Some(value) = &binding.value {
        let value = node_at(root, value)?;
        return (value.kind_name() == "call").then_some((value, None));
    }
    let name = node_at(root, &binding.range)?;
    // `for conn in get_connection():`: what the generator yields.
    if let Some(loop_) = name.parent().filter(|p| p.kind_name() == "for_statement")
        && loop_
            .field(Field::Left)
            .is_some_and(|l| l.id() == name.id())
    {
        let right = loop_
            .field(Field::Right)
            .filter(|r| r.kind_name() == "call")?;
        return Some((right, None));
    }
    let pattern = name.parent().filter(|p| {
        matches!(
            p.kind_name(),
            "pattern_list" | "tuple_pattern" | "list_pattern"
        )
    })?;
    let assignment = pattern.parent().filter(|a| a.kind_name() == "assignment")?;
    if assignment.field(Field::Left)?.id() != pattern.id() {
        return None;
    }
    let right = assignment
        .field(Field::Right)
        .filter(|r| r.kind_name() == "call")?;
    let mut cursor = pattern.walk();
    let elements: Vec<Node> = pattern.named_children(&mut cursor).collect();
    // After a starred element, positions count from the end: not followed.
    if elements
        .iter()
        .any(|e| e.kind_name() == "list_splat_pattern")
    {
        return None;
    }
    let position = elements.iter().position(|e| e.id() == name.id())?;
    Some((right, Some(position as u32)))
}

/// The thread-affine object `call` (in the synchronous function `function`) makes and keeps
/// for later code, on `self` / `cls` (`self.conn = sqlite3.connect(p)`) or in a module
/// global (`global conn; conn = sqlite3.connect(p)`): run in a worker thread, the function
/// would make it there and leave it to code that runs on the event loop's thread, so it is
/// pinned like a function using an object it did not make. So is `__init__`: UNF401 follows
/// a construction to it, and an object made in a worker thread keeping such an object would
/// fail at its first use on the event loop's thread (no fix, not an unsafe one).
pub(super) fn stored_affine(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    call: Node,
) -> Option<Affinity> {
    let assignment = call
        .parent()
        .filter(|p| p.kind_name() == "assignment")
        .filter(|p| p.field(Field::Right).is_some_and(|r| r.id() == call.id()))?;
    let left = assignment.field(Field::Left)?;
    let index = file.index;
    let kept = match left.kind_name() {
        "attribute" => {
            let object = left.field(Field::Object)?;
            let receiver = &file.text[object.byte_range()];
            if object.kind_name() != "identifier" || !matches!(receiver, "self" | "cls") {
                return None;
            }
            format!("`{}`", &file.text[left.byte_range()])
        }
        "identifier" => {
            let name = &file.text[left.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, left.end_byte()) else {
                return None;
            };
            if index.binding(id).scope != index.module_scope() {
                return None;
            }
            format!("the module global `{name}`")
        }
        _ => return None,
    };
    let root = file.parsed.tree.root_node();
    let kind = index.object_kind(call, root, file.text)?;
    let (family, label) = registry.thread_affine(&kind)?;
    let range = call.byte_range();
    if origin(file, family, (function, None), call, 0).is_some()
        || made_shareable(file, family, Some(&range), 0)
    {
        return None;
    }
    Some(Affinity {
        object: format!("the {label} it makes and keeps in {kept} for later code"),
        why: family.why.clone(),
        remedy: family.returned_remedy.clone(),
        line: call.start_position().row as u32 + 1,
    })
}

/// Whether what `call` makes stays in the `with` block a fix moves to a worker thread as a
/// whole (`with get_conn(p) as conn: ...`, `call` the resource): neither the block's target
/// for it nor a name the block binds to a method call on that target (`cur =
/// conn.cursor()`) is read after the block, so nothing it made comes back to the event
/// loop's thread.
pub(super) fn block_keeps_resource(
    file: &FileContext,
    function: ScopeId,
    block: Node,
    call: Node,
) -> bool {
    let Some(alias) = call
        .parent()
        .filter(|p| p.kind_name() == "as_pattern")
        .and_then(|p| p.field(Field::Alias))
    else {
        // `with get_conn(p):` binds nothing.
        return true;
    };
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let target = &file.text[alias.byte_range()];
    let inside = block.byte_range();
    let mut held: Vec<BindingId> = Vec::new();
    for (id, binding) in index.bindings_of(function) {
        if binding.kind != BindingKind::Assignment
            || binding.range.start < inside.start
            || binding.range.end > inside.end
        {
            continue;
        }
        let from_target = binding.range.start >= alias.start_byte()
            && binding.range.end <= alias.end_byte()
            || binding
                .value
                .as_ref()
                .and_then(|v| node_at(root, v))
                .filter(|v| v.kind_name() == "call")
                .and_then(|v| v.field(Field::Function))
                .filter(|f| f.kind_name() == "attribute")
                .and_then(|f| f.field(Field::Object))
                .is_some_and(|o| &file.text[o.byte_range()] == target);
        if from_target {
            held.push(id);
        }
    }
    read_after(file, function, block, &held).is_none()
}

/// The first of `held` (bindings made in `block`) that the coroutine `function` reads after
/// the block: what a fix moving the block to a worker thread hands back to the loop's
/// thread. A function whose body cannot be found counts as reading them all.
fn read_after(
    file: &FileContext,
    function: ScopeId,
    block: Node,
    held: &[BindingId],
) -> Option<BindingId> {
    if held.is_empty() {
        return None;
    }
    let index = file.index;
    let Some(body) = node_at(file.parsed.tree.root_node(), &index.scope(function).range) else {
        return held.first().copied();
    };
    let end = block.end_byte();
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        if node.end_byte() <= end {
            continue;
        }
        if node.kind_name() == "identifier"
            && node.start_byte() >= end
            && let Some(id) = binding_read(file, node)
            && held.contains(&id)
        {
            return Some(id);
        }
        stack.extend(node.named_children(&mut cursor));
    }
    None
}

/// The binding whose value the identifier `node` reads, if it reads one: a plain rebinding
/// (`session = SessionLocal()`) reads nothing, `count += 1` and `del count` read the value
/// before them, and so does a read on the right-hand side of the name's own rebinding
/// (`data = transform(data)`, `with wrap(conn) as conn:`), which runs first.
fn binding_read(file: &FileContext, node: Node) -> Option<BindingId> {
    let index = file.index;
    let name = &file.text[node.byte_range()];
    let binds_here = matches!(index.resolve_name(name, node.end_byte()),
        Resolution::Binding(id) if index.binding(id).range == node.byte_range());
    if binds_here {
        let reads_first = node.parent().is_some_and(|p| {
            matches!(p.kind_name(), "augmented_assignment" | "delete_statement")
                || p.kind_name() == "expression_list"
                    && p.parent()
                        .is_some_and(|d| d.kind_name() == "delete_statement")
        });
        // `resolve_name` takes the bindings that start before `node`: not its own.
        return match reads_first.then(|| index.resolve_name(name, node.start_byte())) {
            Some(Resolution::Binding(id)) => Some(id),
            _ => None,
        };
    }
    let Resolution::Binding(id) = index.resolve_name(name, node.start_byte()) else {
        return None;
    };
    let binding = index.binding(id);
    let root = file.parsed.tree.root_node();
    let runs_first = node_at(root, &binding.range).and_then(runs_before_binding);
    match runs_first {
        Some(range) if range.contains(&node.start_byte()) => {
            match index.resolve_name(name, binding.range.start) {
                Resolution::Binding(earlier) if earlier != id => Some(earlier),
                _ => None,
            }
        }
        _ => Some(id),
    }
}

/// The code that runs before the name at `target` is bound: the assignment, `with` item or
/// walrus binding it, a loop's iterable.
fn runs_before_binding(target: Node) -> Option<std::ops::Range<usize>> {
    let mut current = target;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "pattern_list" | "tuple_pattern" | "list_pattern" | "as_pattern_target"
            | "as_pattern" => current = parent,
            "assignment" | "with_item" | "named_expression" => return Some(parent.byte_range()),
            "for_statement" | "for_in_clause" => {
                return parent.field(Field::Right).map(|r| r.byte_range());
            }
            _ => return None,
        }
    }
    None
}

/// Why a `with` block a fix moves to a worker thread as a whole cannot move: it binds a name
/// to a thread-affine object made in it (`c = sqlite3.connect(p)`), or to what a project
/// function returning one returned (`returned_reason` of the call, from the settled project
/// calls), and the coroutine reads that name after the block, so the object would come back
/// to the event loop's thread.
pub(super) fn affine_leaving_block(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    block: Node,
    returned_reason: &dyn Fn(Node) -> Option<String>,
) -> Option<String> {
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let inside = block.byte_range();
    let mut held: Vec<(BindingId, String)> = Vec::new();
    for (id, binding) in index.bindings_of(function) {
        if binding.kind != BindingKind::Assignment
            || binding.range.start < inside.start
            || binding.range.end > inside.end
        {
            continue;
        }
        let name = &binding.name;
        let made = binding.value.as_ref().and_then(|v| {
            let value = node_at(root, v)?;
            let kind = index.object_kind(value, root, file.text)?;
            let (family, label) = registry.thread_affine(&kind)?;
            let from_elsewhere =
                origin(file, family, (function, Some(&inside)), value, 0).is_some();
            if from_elsewhere || made_shareable(file, family, Some(v), 0) {
                return None;
            }
            Some(format!(
                "the `with` block makes the {label} `{name}` (line {}) and the coroutine reads \
                 it after the block, so the block is not moved to a worker thread, which would \
                 make it there and hand it back to the event loop's thread: {}. Instead: {}",
                value.start_position().row + 1,
                family.why,
                family.returned_remedy
            ))
        });
        let reason = made.or_else(|| {
            let (call, _) = bound_call(file, id)?;
            let reason = returned_reason(call)?;
            Some(format!(
                "the `with` block binds `{name}` (line {}), which the coroutine reads after \
                 the block, to what a helper returns: {reason}",
                call.start_position().row + 1
            ))
        });
        if let Some(reason) = reason {
            held.push((id, reason));
        }
    }
    let ids: Vec<BindingId> = held.iter().map(|(id, _)| *id).collect();
    let first = read_after(file, function, block, &ids)?;
    held.into_iter()
        .find(|(id, _)| *id == first)
        .map(|(_, reason)| reason)
}

/// The parts of the value `statement` (a `return` of the synchronous function `function`)
/// returns that hold a thread-affine object: made in the function (not shareable), or
/// returned by a project function it calls (`target` names that call's target for the
/// summary).
pub(super) fn affine_returns(
    file: &FileContext,
    registry: &Registry,
    project: (&ModuleInfo, &ModuleMap),
    function: ScopeId,
    statement: Node,
    target: &mut dyn FnMut(String) -> u32,
) -> Vec<AffineReturn> {
    let Some(value) = statement.named_child(0) else {
        return Vec::new();
    };
    let elements: Vec<(Option<u32>, Node)> =
        if matches!(value.kind_name(), "expression_list" | "tuple") {
            let mut cursor = value.walk();
            value
                .named_children(&mut cursor)
                .enumerate()
                .map(|(i, element)| (Some(i as u32), element))
                .collect()
        } else {
            vec![(None, value)]
        };
    elements
        .into_iter()
        .filter_map(|(position, element)| {
            let object = returned_object(file, registry, project, function, element, target)?;
            Some(AffineReturn { position, object })
        })
        .collect()
}

/// What [`affine_returns`] says of one returned expression.
fn returned_object(
    file: &FileContext,
    registry: &Registry,
    (module, map): (&ModuleInfo, &ModuleMap),
    function: ScopeId,
    expr: Node,
    target: &mut dyn FnMut(String) -> u32,
) -> Option<ReturnedObject> {
    let root = file.parsed.tree.root_node();
    let made = file
        .index
        .object_kind(expr, root, file.text)
        .and_then(|kind| {
            let (family, label) = registry.thread_affine(&kind)?;
            Some((kind, family, label))
        });
    if let Some((kind, family, label)) = made {
        let from_elsewhere = origin(file, family, (function, None), expr, 0).is_some();
        let range = expr.byte_range();
        if from_elsewhere || made_shareable(file, family, Some(&range), 0) {
            return None;
        }
        return Some(ReturnedObject::Made {
            kind,
            label: label.to_owned(),
            why: family.why.clone(),
            remedy: family.returned_remedy.clone(),
            line: made_at(file, expr).start_position().row as u32 + 1,
        });
    }
    let (call, position) = match expr.kind_name() {
        "call" => (expr, None),
        "identifier" => {
            let name = &file.text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return None;
            };
            if file.index.binding(id).scope != function {
                return None;
            }
            bound_call(file, id)?
        }
        _ => return None,
    };
    let name = call_target(file, module, map, call.field(Field::Function)?)?;
    Some(ReturnedObject::Call {
        target: target(name),
        position,
    })
}

/// The expression that made the object a returned name holds (its assignment's value,
/// followed through names), else the returned expression itself.
fn made_at<'t>(file: &FileContext<'t>, mut expr: Node<'t>) -> Node<'t> {
    let root = file.parsed.tree.root_node();
    for _ in 0..MAX_STEPS {
        if expr.kind_name() != "identifier" {
            break;
        }
        let name = &file.text[expr.byte_range()];
        let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
            break;
        };
        match file
            .index
            .binding(id)
            .value
            .as_ref()
            .and_then(|v| node_at(root, v))
        {
            Some(value) => expr = value,
            None => break,
        }
    }
    expr
}

#[cfg(test)]
mod tests {
    use super::super::test_context::db_summary;
    use crate::project::{FileSummary, ReturnedObject};

    /// The summary of `source` as module `db` of a one-file project.
    fn summary(source: &str) -> FileSummary {
        db_summary(source)
    }

    /// The marked parts of one function's return value: `(position, "kind@line" or
    /// "-> target[i]")`.
    type Parts = Vec<(Option<u32>, String)>;

    /// What each function returns, by qualname.
    fn returns(source: &str) -> Vec<(String, Parts)> {
        let summary = summary(source);
        summary
            .functions
            .iter()
            .filter(|f| !f.returns.is_empty())
            .map(|f| {
                let parts = f
                    .returns
                    .iter()
                    .map(|r| {
                        let what = match &r.object {
                            ReturnedObject::Made { kind, line, .. } => format!("{kind}@{line}"),
                            ReturnedObject::Call { target, position } => format!(
                                "-> {}{}",
                                summary.targets[*target as usize],
                                super::element_suffix(*position)
                            ),
                        };
                        (r.position, what)
                    })
                    .collect();
                (f.qualname.clone(), parts)
            })
            .collect()
    }

    #[test]
    fn returned_connections_are_marked_directly_in_tuples_and_through_helpers() {
        let source = "import sqlite3\n\n\
                      def create_conn():\n    conn = None\n    try:\n        conn = sqlite3.connect('x.db')\n    \
                      except sqlite3.Error:\n        pass\n    cursor = conn.cursor()\n    return conn, cursor\n\n\
                      def get_conn(p):\n    return sqlite3.connect(p)\n\n\
                      def forward():\n    return create_conn()\n\n\
                      def cursor_only():\n    conn, cur = create_conn()\n    return cur\n";
        assert_eq!(
            returns(source),
            [
                (
                    "create_conn".to_owned(),
                    vec![
                        (Some(0), "sqlite3.connect@6".to_owned()),
                        (Some(1), "sqlite3.connect().cursor@9".to_owned()),
                    ]
                ),
                (
                    "get_conn".to_owned(),
                    vec![(None, "sqlite3.connect@13".to_owned())]
                ),
                (
                    "forward".to_owned(),
                    vec![(None, "-> project.db.create_conn".to_owned())]
                ),
                (
                    "cursor_only".to_owned(),
                    vec![(None, "-> project.db.create_conn[1]".to_owned())]
                ),
            ]
        );
    }

    #[test]
    fn plain_data_shareable_and_foreign_objects_are_not_marked() {
        let source = "import sqlite3\n\nshared = sqlite3.connect('x.db')\n\n\
                      def rows(p):\n    conn = sqlite3.connect(p)\n    try:\n        \
                      return conn.execute('q').fetchall()\n    finally:\n        conn.close()\n\n\
                      def shareable(p):\n    return sqlite3.connect(p, check_same_thread=False)\n\n\
                      def given(conn: sqlite3.Connection):\n    return conn\n\n\
                      def the_global():\n    return shared\n";
        assert_eq!(returns(source), []);
    }
}
