//! The synchronous wrappers that run a coroutine on a new loop, as `entry` reads them: a
//! coroutine kept in a name just before (`coro = run_bot(); asyncio.run(coro)`) and a
//! coroutine method a synchronous method of its class runs (`asyncio.run(self.fetch_async())`;
//! whether another file names it is `run/wrapped.rs`'s to say). A coroutine nested in the
//! command's function is `module_functions::nested_coroutine`.

use tree_sitter::Node;

use super::FileContext;
use super::module_functions::module_method;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, ScopeKind, node_at};

/// The coroutine call a name holds when an entry call is given the name (`coro = run_bot()`
/// just before, then `asyncio.run(coro)`): the name is bound once in the entry call's own
/// (synchronous or module) scope, to a call, before the entry call, and the code mentions it
/// nowhere but there, in the entry call, and where a coroutine object can only be looked at
/// or closed (`coro.close()`, `hasattr(coro, "close")`): never awaited, scheduled or handed
/// over elsewhere.
pub(super) fn coroutine_kept_for<'t>(
    file: &FileContext<'t>,
    entry: Node<'t>,
    name: Node<'t>,
) -> Option<Node<'t>> {
    let index = file.index;
    let text = &file.text[name.byte_range()];
    let Resolution::Binding(id) = index.resolve_name(text, name.start_byte()) else {
        return None;
    };
    let binding = index.binding(id);
    if binding.kind != BindingKind::Assignment
        || binding.scope != index.scope_at(entry.start_byte())
        || binding.range.start >= entry.start_byte()
        || index.bindings_in_scope(binding.scope, text).len() != 1
    {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let value = binding.value.as_ref().and_then(|v| node_at(root, v))?;
    // `coro = run_bot()` itself, not `a = b = run_bot()` or `coro, x = ...`.
    let statement = value.parent().filter(|p| {
        p.kind_name() == "assignment"
            && p.field(Field::Left).is_some_and(|left| {
                left.kind_name() == "identifier" && left.start_byte() == binding.range.start
            })
    });
    if value.kind_name() != "call" || statement.is_none() {
        return None;
    }
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind_name() != "identifier" {
            stack.extend(node.children(&mut node.walk()));
            continue;
        }
        let mention = node;
        let other_name = &file.text[mention.byte_range()] != text
            || mention.parent().is_some_and(|p| {
                p.kind_name() == "attribute"
                    && p.field(Field::Attribute)
                        .is_some_and(|a| a.id() == mention.id())
            });
        if other_name
            || mention.start_byte() == binding.range.start
            || mention.id() == name.id()
            || closed_or_looked_at(file, mention)
        {
            continue;
        }
        // A mention of another binding of the name (a local of another function) aside.
        if index.resolve_name(text, mention.start_byte()) == Resolution::Binding(id) {
            return None;
        }
    }
    Some(value)
}

/// Whether a mention of a coroutine object only looks at it or closes it, which never runs
/// it: `coro.close()`, `hasattr(coro, "close")`.
fn closed_or_looked_at(file: &FileContext, mention: Node) -> bool {
    let Some(parent) = mention.parent() else {
        return false;
    };
    let root = file.parsed.tree.root_node();
    match parent.kind_name() {
        "attribute" => {
            parent
                .field(Field::Object)
                .is_some_and(|o| o.id() == mention.id())
                && parent
                    .field(Field::Attribute)
                    .is_some_and(|a| &file.text[a.byte_range()] == "close")
                && parent.parent().is_some_and(|call| {
                    call.kind_name() == "call"
                        && call
                            .field(Field::Function)
                            .is_some_and(|f| f.id() == parent.id())
                })
        }
        "argument_list" => parent.parent().is_some_and(|call| {
            call.field(Field::Function)
                .and_then(|f| file.index.callable_name(f, root, file.text))
                .is_some_and(|n| n == "hasattr" || n == "builtins.hasattr")
                && parent
                    .named_child(0)
                    .is_some_and(|first| first.id() == mention.id())
        }),
        _ => false,
    }
}

/// The coroutine method a synchronous method of the same class runs on a new loop:
/// `asyncio.run(self.fetch_async(...))`, `loop.run_until_complete(self.x())` with `loop =
/// asyncio.new_event_loop()` (`module_method` finds the class around the call).
pub(super) fn wrapped_method<'t>(
    file: &FileContext<'t>,
    entry: Node<'t>,
    new_loop: bool,
    callee: Node<'t>,
) -> Option<Node<'t>> {
    let scope = file.index.scope_at(entry.start_byte());
    if callee.kind_name() != "attribute"
        || file.index.scope(scope).kind != (ScopeKind::Function { is_async: false })
        || !new_loop
    {
        return None;
    }
    let object = callee.field(Field::Object)?;
    (&file.text[object.byte_range()] == "self")
        .then(|| module_method(file, callee))
        .flatten()
}

/// Whether `definition` is a method (a `def` directly in a class body).
pub(super) fn is_method(definition: Node) -> bool {
    definition
        .parent()
        .and_then(|block| block.parent())
        .is_some_and(|class| class.kind_name() == "class_definition")
}

/// The qualname of a method's `def` (`Fetcher.fetch_async`).
pub(super) fn method_qualname(file: &FileContext, definition: Node) -> Option<String> {
    let body = definition.field(Field::Body)?;
    Some(file.index.qualname(file.index.scope_at(body.start_byte())))
}
