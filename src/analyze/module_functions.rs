//! The module's own functions as a script's entry point sees them: which `def` a plain name
//! names, whether a body was blanked for a masked parse, and whether the file mentions a
//! coroutine anywhere but where it is allowed to. Read by `entry` (single-task scripts) and
//! `startup_hooks` (framework hooks).

use std::collections::HashSet;

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// The `def` (`is_async`: `async def`) node a callee names, when it is a plain name bound once
/// to one of the module's functions.
pub(super) fn module_function<'t>(
    file: &FileContext<'t>,
    callee: Node<'t>,
    is_async: bool,
) -> Option<Node<'t>> {
    if callee.kind_name() != "identifier" {
        return None;
    }
    let name = &file.text[callee.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, callee.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != (BindingKind::Function { is_async })
        || binding.scope != file.index.module_scope()
        // A name bound twice (a second `def`, an assignment) is a doubt.
        || file
            .index
            .bindings_named(binding.scope, &binding.name)
            .iter()
            .any(|&other| other != id)
    {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let identifier = root.descendant_for_byte_range(binding.range.start, binding.range.end)?;
    let definition = identifier.parent()?;
    (definition.kind_name() == "function_definition").then_some(definition)
}

pub(super) fn first_child_is_async(node: Node) -> bool {
    node.child(0).is_some_and(|c| c.kind_name() == "async")
}

/// A body blanked for a masked parse (`...` alone): what it does is unknown.
pub(super) fn is_masked(file: &FileContext, body: Node) -> bool {
    body.named_child_count() == 1
        && body.named_child(0).is_some_and(|statement| {
            statement.kind_name() == "expression_statement"
                && statement
                    .named_child(0)
                    .is_some_and(|e| e.kind_name() == "ellipsis")
        })
        && file.text[body.byte_range()].trim() == "..."
}

/// Whether every identifier in the file that resolves to one of the reached coroutines is
/// one of the allowed calls' callee (or the `def` itself).
pub(super) fn only_mentioned_where_allowed(
    file: &FileContext,
    definitions: &[Node],
    allowed: &HashSet<usize>,
) -> bool {
    let names: Vec<(&str, usize)> = definitions
        .iter()
        .filter_map(|d| d.field(Field::Name))
        .map(|n| (&file.text[n.byte_range()], n.id()))
        .collect();
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier" {
            let text = &file.text[node.byte_range()];
            if let Some((_, def_name)) = names.iter().find(|(name, _)| *name == text)
                && node.id() != *def_name
                && !allowed.contains(&node.id())
                && resolves_to_module_coroutine(file, node, text)
            {
                return false;
            }
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    true
}

fn resolves_to_module_coroutine(file: &FileContext, node: Node, name: &str) -> bool {
    // An attribute's name (`obj.main`) or a keyword (`FastAPI(lifespan=...)`) is not a
    // mention of the module's `main`.
    if let Some(parent) = node.parent()
        && ((parent.kind_name() == "attribute"
            && parent
                .field(Field::Attribute)
                .is_some_and(|a| a.id() == node.id()))
            || (parent.kind_name() == "keyword_argument"
                && parent
                    .field(Field::Name)
                    .is_some_and(|n| n.id() == node.id())))
    {
        return false;
    }
    match file.index.resolve_name(name, node.start_byte()) {
        Resolution::Binding(id) => {
            let binding = file.index.binding(id);
            binding.scope == file.index.module_scope()
                && binding.kind == (BindingKind::Function { is_async: true })
        }
        Resolution::Builtin => false,
    }
}
