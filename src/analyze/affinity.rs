//! Thread affinity in a function's body: a call on an object that must stay on the thread
//! that made it (the `[[thread-affine]]` families of the codemods: a sqlite3 connection and
//! its cursors), when the function did not make that object itself: a module global, a
//! parameter, an attribute of `self`, a name of an enclosing function. Moving such a function
//! to a worker thread would use the object from the wrong thread; a function that makes the
//! object itself (connects, uses, closes) moves as one unit of work.
//!
//! The other direction: a function that makes such an object and returns it (`return conn,
//! cursor`, or what another project function returned) is marked in its summary; run in a
//! worker thread, it would hand the object back to the event loop's thread. The settling
//! follows those returns across functions and modules, and a coroutine's calls on a local
//! holding one (`conn, cursor = create_conn()` then `cursor.execute(...)`) are named for it
//! ([`returned_receiver`]).

use tree_sitter::Node;

use super::FileContext;
use super::target::call_target;
use crate::codemod::{Registry, ThreadAffine};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    AffineGlobal, AffineReturn, Affinity, ModuleInfo, ModuleMap, ReturnedObject, absolute_name,
};
use crate::semantic::{BindingId, BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// How many steps (names, derived calls) are followed back to what made an object.
const MAX_STEPS: usize = 8;

/// Where the object a function uses was made, when not in the function itself; each with
/// the expression naming it in the function (`cur`, `self.db`).
enum Origin<'t> {
    /// A module-level name of this file.
    Global(String, Node<'t>),
    /// A parameter: the caller made it.
    Parameter(String, Node<'t>),
    /// `self.<attribute>`: another method made it.
    Attribute(String, Node<'t>),
    /// A name of an enclosing function.
    Enclosing(String, Node<'t>),
    /// A name the coroutine made before the moved block.
    Outside(String, Node<'t>),
}

/// The thread-affine object the call in `function` (its scope) uses without having made it:
/// `cursor.execute(...)` with `cursor` a module global made by `sqlite3.connect(p).cursor()`.
pub(super) fn foreign_affine_use(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    call: Node,
) -> Option<Affinity> {
    foreign_affine_use_moved(file, registry, function, None, call)
}

/// The first thread-affine object a `with` block of the coroutine `function` uses without
/// the block having made it: moved to a worker thread as a whole, the block would use it
/// from the wrong thread.
pub(super) fn foreign_affine_use_in_block(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    block: Node,
) -> Option<Affinity> {
    let mut stack = vec![block];
    let mut cursor = block.walk();
    let mut calls = Vec::new();
    while let Some(node) = stack.pop() {
        if matches!(
            node.kind_name(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            continue;
        }
        if node.kind_name() == "call" {
            calls.push(node);
        }
        stack.extend(node.named_children(&mut cursor));
    }
    calls.sort_by_key(|c| c.start_byte());
    calls.into_iter().find_map(|call| {
        foreign_affine_use_moved(file, registry, function, Some(block.byte_range()), call)
    })
}

/// [`foreign_affine_use`], for the code of `function` that moves: all of it, or `block`.
fn foreign_affine_use_moved(
    file: &FileContext,
    registry: &Registry,
    function: ScopeId,
    block: Option<std::ops::Range<usize>>,
    call: Node,
) -> Option<Affinity> {
    let callee = call
        .field(Field::Function)
        .filter(|c| c.kind_name() == "attribute")?;
    let object = callee.field(Field::Object)?;
    let root = file.parsed.tree.root_node();
    let kind = file.index.object_kind(object, root, file.text)?;
    let (family, _) = registry.thread_affine(&kind)?;
    let origin = origin(file, family, (function, block.as_ref()), object, 0)?;
    let (Origin::Global(_, named)
    | Origin::Parameter(_, named)
    | Origin::Attribute(_, named)
    | Origin::Enclosing(_, named)
    | Origin::Outside(_, named)) = origin;
    // Named after what the name holds (`con` is a connection even where the call is on the
    // cursor `con.cursor()` returns).
    let label = file
        .index
        .object_kind(named, root, file.text)
        .and_then(|kind| Some(registry.thread_affine(&kind)?.1.to_owned()))?;
    let object = match origin {
        Origin::Global(name, _) => format!("the {label} `{name}`, a module global"),
        Origin::Parameter(name, _) => {
            format!("the {label} `{name}`, a parameter its caller made")
        }
        Origin::Attribute(name, _) => {
            format!("the {label} `self.{name}`, made in another method")
        }
        Origin::Enclosing(name, _) => {
            format!("the {label} `{name}`, made by the enclosing function")
        }
        Origin::Outside(name, _) => {
            format!("the {label} `{name}`, made on the event loop's thread before the block")
        }
    };
    Some(Affinity {
        object,
        why: family.why.clone(),
        remedy: family.remedy.clone(),
        line: call.start_position().row as u32 + 1,
    })
}

/// The module globals of the file holding thread-affine objects made at import time (not made
/// shareable), which other modules may import.
pub(super) fn affine_globals(file: &FileContext, registry: &Registry) -> Vec<AffineGlobal> {
    let index = file.index;
    let root = file.parsed.tree.root_node();
    let mut globals: Vec<AffineGlobal> = Vec::new();
    for (_, binding) in index.bindings() {
        if binding.scope != index.module_scope()
            || binding.kind != BindingKind::Assignment
            || globals.iter().any(|g| g.name == binding.name)
        {
            continue;
        }
        let Some(value) = binding.value.as_ref().and_then(|v| node_at(root, v)) else {
            continue;
        };
        let Some(kind) = index.object_kind(value, root, file.text) else {
            continue;
        };
        let Some((family, label)) = registry.thread_affine(&kind) else {
            continue;
        };
        if made_shareable(file, family, binding.value.as_ref(), 0) {
            continue;
        }
        globals.push(AffineGlobal {
            name: binding.name.clone(),
            kind,
            label: label.to_owned(),
            why: family.why.clone(),
            remedy: family.remedy.clone(),
            line: value.start_position().row as u32 + 1,
        });
    }
    globals
}

/// `db.cursor.execute` for `cursor.execute(...)` after `from db import cursor` (or
/// `db.cursor.execute(...)` after `import db`): a method a codemod matches on thread-affine
/// objects, called on a name of another project module, which may be such an object.
pub(super) fn imported_receiver(
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
    let object = callee.field(Field::Object)?;
    let qualified = file.index.qualified_name(object, file.text)?;
    if qualified.starts_with("builtins.") {
        return None;
    }
    let absolute = absolute_name(module, &qualified)?;
    map.is_project_name(&absolute)
        .then(|| format!("{absolute}.{method}"))
}

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
    let target = call_target(file, module, map, call.field(Field::Function)?)?;
    Some(format!("{target}(){}.{method}", element_suffix(position)))
}

/// `[1]` for element 1 of a returned tuple, nothing for the whole value: how
/// [`returned_receiver`] names a part of a call's result.
pub fn element_suffix(position: Option<u32>) -> String {
    position.map(|p| format!("[{p}]")).unwrap_or_default()
}

/// The call whose result (or element of it) the assignment `id` binds: `conn = f()`, `with
/// f() as conn:` (`None`: the whole result), `conn, cursor = f()` (`Some(1)` for `cursor`).
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
    for (id, binding) in index.bindings() {
        if binding.scope != function
            || binding.kind != BindingKind::Assignment
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
        if node.kind_name() == "identifier" && node.start_byte() >= end {
            let name = &file.text[node.byte_range()];
            if let Resolution::Binding(id) = index.resolve_name(name, node.start_byte())
                && held.contains(&id)
            {
                return Some(id);
            }
        }
        stack.extend(node.named_children(&mut cursor));
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
    for (id, binding) in index.bindings() {
        if binding.scope != function
            || binding.kind != BindingKind::Assignment
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

/// Where the object `expr` evaluates to was made, followed back through the function's own
/// names and derived calls (`con.cursor()`); `None`: the function made it, or it was made
/// shareable (`check_same_thread=False`), or it cannot be told.
fn origin<'t>(
    file: &FileContext<'t>,
    family: &ThreadAffine,
    moved: (ScopeId, Option<&std::ops::Range<usize>>),
    expr: Node<'t>,
    steps: usize,
) -> Option<Origin<'t>> {
    let (function, block) = moved;
    if steps > MAX_STEPS {
        return None;
    }
    let root = file.parsed.tree.root_node();
    match expr.kind_name() {
        "parenthesized_expression" => origin(file, family, moved, expr.named_child(0)?, steps + 1),
        "call" => {
            let callee = expr.field(Field::Function)?;
            let made_here = file
                .index
                .callable_name(callee, root, file.text)
                .is_some_and(|name| family.made_by.contains(&name));
            if made_here {
                return None;
            }
            // `con.cursor()`: a derived object, bound where `con` was made.
            let object = callee
                .field(Field::Object)
                .filter(|_| callee.kind_name() == "attribute")?;
            origin(file, family, moved, object, steps + 1)
        }
        "identifier" => {
            let name = &file.text[expr.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            if binding.scope == function {
                let inside = block
                    .is_none_or(|b| b.start <= binding.range.start && binding.range.end <= b.end);
                return match binding.kind {
                    BindingKind::Parameter => Some(Origin::Parameter(name.to_owned(), expr)),
                    BindingKind::Assignment if inside => {
                        let value = node_at(root, binding.value.as_ref()?)?;
                        origin(file, family, moved, value, steps + 1)
                    }
                    BindingKind::Assignment => {
                        (!made_shareable(file, family, binding.value.as_ref(), steps))
                            .then(|| Origin::Outside(name.to_owned(), expr))
                    }
                    _ => None,
                };
            }
            if binding.kind != BindingKind::Assignment
                || made_shareable(file, family, binding.value.as_ref(), steps)
            {
                return None;
            }
            match file.index.scope(binding.scope).kind {
                ScopeKind::Module => Some(Origin::Global(name.to_owned(), expr)),
                ScopeKind::Function { .. } => Some(Origin::Enclosing(name.to_owned(), expr)),
                _ => None,
            }
        }
        "attribute" => {
            let object = expr.field(Field::Object)?;
            let attribute = expr.field(Field::Attribute)?;
            if object.kind_name() != "identifier"
                || !matches!(&file.text[object.byte_range()], "self" | "cls")
            {
                return None;
            }
            let class = file.index.scope(function).parent?;
            if file.index.scope(class).kind != ScopeKind::Class {
                return None;
            }
            let attribute = &file.text[attribute.byte_range()];
            let values = file.index.attribute_values(class, attribute);
            let shareable = values
                .iter()
                .any(|value| made_shareable(file, family, Some(value), steps));
            (!shareable).then(|| Origin::Attribute(attribute.to_owned(), expr))
        }
        _ => None,
    }
}

/// Whether the value at `value` was made by a constructor call with the family's
/// `shareable-with` argument (`sqlite3.connect(p, check_same_thread=False)`), followed
/// through names and derived calls; an origin that cannot be followed is not shareable.
fn made_shareable(
    file: &FileContext,
    family: &ThreadAffine,
    value: Option<&std::ops::Range<usize>>,
    steps: usize,
) -> bool {
    let Some((keyword, wanted)) = &family.shareable_with else {
        return false;
    };
    let root = file.parsed.tree.root_node();
    let Some(mut node) = value.and_then(|v| node_at(root, v)) else {
        return false;
    };
    for _ in steps..=MAX_STEPS {
        match node.kind_name() {
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => node = inner,
                None => return false,
            },
            "call" => {
                let Some(callee) = node.field(Field::Function) else {
                    return false;
                };
                let constructor = file
                    .index
                    .callable_name(callee, root, file.text)
                    .is_some_and(|name| family.made_by.contains(&name));
                if constructor {
                    return has_keyword(file, node, keyword, wanted);
                }
                match callee.field(Field::Object) {
                    Some(object) if callee.kind_name() == "attribute" => node = object,
                    _ => return false,
                }
            }
            "identifier" => {
                let name = &file.text[node.byte_range()];
                let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte())
                else {
                    return false;
                };
                match file
                    .index
                    .binding(id)
                    .value
                    .as_ref()
                    .and_then(|v| node_at(root, v))
                {
                    Some(value) => node = value,
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// Whether `call` passes `keyword=wanted` (the value as written: `False`).
fn has_keyword(file: &FileContext, call: Node, keyword: &str, wanted: &str) -> bool {
    let Some(arguments) = call.field(Field::Arguments) else {
        return false;
    };
    let mut cursor = arguments.walk();
    for argument in arguments.named_children(&mut cursor) {
        if argument.kind_name() != "keyword_argument" {
            continue;
        }
        let name = argument
            .field(Field::Name)
            .map(|n| &file.text[n.byte_range()]);
        let value = argument
            .field(Field::Value)
            .map(|v| &file.text[v.byte_range()]);
        if name == Some(keyword) && value == Some(wanted) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::summarize;
    use super::super::test_context::with_context;
    use crate::codemod::Registry;
    use crate::project::{FileSummary, ModuleMap};
    use crate::settings::RuleSelection;

    /// The summary of `source` as module `db` of a one-file project.
    fn summary(source: &str) -> FileSummary {
        let registry = Registry::bundled().unwrap();
        let root = PathBuf::from("/project");
        let path = root.join("db.py");
        let map = ModuleMap::build(&[root], std::slice::from_ref(&path));
        let module = map.module(&path).unwrap();
        with_context("db.py", source, None, |file| {
            summarize(file, module, &map, &registry, &RuleSelection::default())
        })
    }

    /// The object each summarized function is pinned by, by qualname.
    fn pinned(source: &str) -> Vec<(String, Option<String>)> {
        summary(source)
            .functions
            .into_iter()
            .map(|f| (f.qualname, f.affinity.map(|a| a.object)))
            .collect()
    }

    #[test]
    fn objects_the_function_did_not_make_pin_it() {
        let source = "import sqlite3\n\ncon = sqlite3.connect('x.db')\ncur = con.cursor()\n\n\
                      def by_global(i):\n    return cur.execute('q', (i,)).fetchone()\n\n\
                      def derived_locally(i):\n    c = con.cursor()\n    c.execute('q')\n\n\
                      def by_parameter(db: sqlite3.Connection):\n    db.commit()\n\n\
                      class Store:\n    def __init__(self):\n        self.db = sqlite3.connect('x.db')\n\n    \
                      def get(self):\n        return self.db.execute('q').fetchall()\n";
        assert_eq!(
            pinned(source),
            [
                (
                    "by_global".to_owned(),
                    Some("the sqlite3 cursor `cur`, a module global".to_owned())
                ),
                (
                    "derived_locally".to_owned(),
                    Some("the sqlite3 connection `con`, a module global".to_owned())
                ),
                (
                    "by_parameter".to_owned(),
                    Some("the sqlite3 connection `db`, a parameter its caller made".to_owned())
                ),
                ("Store.__init__".to_owned(), None),
                (
                    "Store.get".to_owned(),
                    Some("the sqlite3 connection `self.db`, made in another method".to_owned())
                ),
            ]
        );
    }

    #[test]
    fn a_whole_unit_of_work_or_a_shareable_connection_pins_nothing() {
        let source = "import sqlite3\n\nshared = sqlite3.connect('x.db', check_same_thread=False)\n\
                      cur = shared.cursor()\n\n\
                      def unit(p):\n    con = sqlite3.connect(p)\n    rows = con.execute('q').fetchall()\n    con.close()\n    return rows\n\n\
                      def with_block(p):\n    with sqlite3.connect(p) as con:\n        return con.cursor().execute('q').fetchone()\n\n\
                      def on_shared():\n    return cur.execute('q').fetchone()\n";
        assert!(
            pinned(source).iter().all(|(_, pin)| pin.is_none()),
            "{:?}",
            pinned(source)
        );
    }

    #[test]
    fn module_globals_made_at_import_time_are_listed_unless_shareable() {
        let source = "import sqlite3\n\ncon = sqlite3.connect('x.db')\ncursor = con.cursor()\n\
                      other = sqlite3.connect('y.db', check_same_thread=False)\n";
        let globals: Vec<(String, String)> = summary(source)
            .affine_globals
            .into_iter()
            .map(|g| (g.name, g.kind))
            .collect();
        assert_eq!(
            globals,
            [
                ("con".to_owned(), "sqlite3.connect".to_owned()),
                ("cursor".to_owned(), "sqlite3.connect().cursor".to_owned()),
            ]
        );
    }
}
