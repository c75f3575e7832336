//! The module's own functions as a script's entry point sees them: which `def` a plain name
//! names, whether a body was blanked for a masked parse, and whether the file mentions a
//! coroutine anywhere but where it is allowed to. Read by `entry` (single-task scripts),
//! `startup_hooks` (framework hooks) and `suspends` (which `def` an awaited `self.m()` runs).

use std::collections::HashSet;

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, ScopeKind};

/// The `def` (`is_async`: `async def`) node a callee names, when it is a plain name bound once
/// to one of the module's functions.
pub(super) fn module_function<'t>(
    file: &FileContext<'t>,
    callee: Node<'t>,
    is_async: bool,
) -> Option<Node<'t>> {
    module_definition(
        file,
        callee,
        BindingKind::Function { is_async },
        "function_definition",
    )
}

/// The `class` node a plain name names, when it is one of the module's classes bound once.
fn module_class<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<Node<'t>> {
    module_definition(file, callee, BindingKind::Class, "class_definition")
}

/// The definition (`kind`: a tree-sitter node kind) a plain name names, when the name is bound
/// once at module level, as `binding_kind`. A name bound twice (a second `def`, an assignment) is a
/// doubt.
fn module_definition<'t>(
    file: &FileContext<'t>,
    callee: Node<'t>,
    binding_kind: BindingKind,
    kind: &str,
) -> Option<Node<'t>> {
    if callee.kind_name() != "identifier" {
        return None;
    }
    let name = &file.text[callee.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, callee.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != binding_kind
        || binding.scope != file.index.module_scope()
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
    (definition.kind_name() == kind).then_some(definition)
}

/// The `async def` nested in the synchronous function an entry call is in that its callee
/// names (`def cmd(): async def _run(): ...; asyncio.run(_run())`): bound once there, as
/// that coroutine function. Nothing outside that function can name it.
pub(super) fn nested_coroutine<'t>(
    file: &FileContext<'t>,
    entry: Node<'t>,
    callee: Node<'t>,
) -> Option<Node<'t>> {
    if callee.kind_name() != "identifier" {
        return None;
    }
    let index = file.index;
    let name = &file.text[callee.byte_range()];
    let Resolution::Binding(id) = index.resolve_name(name, callee.start_byte()) else {
        return None;
    };
    let binding = index.binding(id);
    let scope = index.scope_at(entry.start_byte());
    if binding.kind != (BindingKind::Function { is_async: true })
        || binding.scope != scope
        || index.scope(scope).kind != (ScopeKind::Function { is_async: false })
        || index.bindings_named(scope, name).len() != 1
    {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let identifier = root.descendant_for_byte_range(binding.range.start, binding.range.end)?;
    let definition = identifier.parent()?;
    (definition.kind_name() == "function_definition").then_some(definition)
}

/// The `async def` of a method of one of the module's classes that an awaited call names:
/// `self.step()` in a method of that class, or `demo.run()` where `demo` is bound once, in
/// the caller's scope, to `Demo(...)` of a class the module defines once. A method defined
/// twice or decorated is a doubt.
pub(super) fn module_method<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<Node<'t>> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let object = callee.field(Field::Object)?;
    if object.kind_name() != "identifier" {
        return None;
    }
    let name = &file.text[object.byte_range()];
    let method = if name == "self" {
        // Only in a method of that class itself, not in a function or lambda nested in one.
        self_method(file, callee).filter(|m| m.called_in_own_method)?
    } else {
        let Resolution::Binding(id) = file.index.resolve_name(name, object.start_byte()) else {
            return None;
        };
        let binding = file.index.binding(id);
        if binding.kind != BindingKind::Assignment
            || file
                .index
                .bindings_named(binding.scope, &binding.name)
                .iter()
                .any(|&other| other != id)
        {
            return None;
        }
        let value = binding.value.as_ref()?;
        let root = file.parsed.tree.root_node();
        let value = root.descendant_for_byte_range(value.start, value.end)?;
        if value.kind_name() != "call" {
            return None;
        }
        let class = module_class(file, value.field(Field::Function)?)?;
        let attribute = callee.field(Field::Attribute)?;
        method_of_class(file, class, &file.text[attribute.byte_range()], false)?
    };
    (!method.decorated && first_child_is_async(method.definition)).then_some(method.definition)
}

/// The one `def` of a class that a call names, and what a caller may doubt about it.
#[derive(Clone, Copy)]
pub(super) struct ClassMethod<'t> {
    /// The `function_definition`, inside its decorators when it has some.
    pub(super) definition: Node<'t>,
    /// Whether decorators wrap it (a `property`, a cache: the call may not run its body).
    pub(super) decorated: bool,
    /// For `self.m()`: whether the call is in a method of that class itself, not in a
    /// function or a lambda nested in one (where `self` may be another name's).
    pub(super) called_in_own_method: bool,
}

/// The `def` a `self.name(...)` callee names: the method so named of the class around the
/// call (the nearest one), when the class body defines it exactly once (a property's setter,
/// a redefinition: a doubt). Read by `module_method` (entry coroutines) and `suspends` (does
/// an awaited method of the same class surely suspend).
pub(super) fn self_method<'t>(file: &FileContext<'t>, callee: Node<'t>) -> Option<ClassMethod<'t>> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let object = callee.field(Field::Object)?;
    if object.kind_name() != "identifier" || &file.text[object.byte_range()] != "self" {
        return None;
    }
    let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
    // The nearest class, and whether the first function on the way is one of its methods.
    let mut node = callee;
    let mut own_method = None;
    let class = loop {
        node = node.parent()?;
        match node.kind_name() {
            "class_definition" => break node,
            "function_definition" if own_method.is_none() => {
                let in_class_body = node
                    .parent()
                    .and_then(|block| block.parent())
                    .is_some_and(|class| class.kind_name() == "class_definition");
                own_method = Some(in_class_body);
            }
            "lambda" if own_method.is_none() => own_method = Some(false),
            _ => {}
        }
    };
    method_of_class(file, class, method, own_method == Some(true))
}

/// The one `def` named `method` in a class's body, decorated or not.
fn method_of_class<'t>(
    file: &FileContext<'t>,
    class: Node<'t>,
    method: &str,
    called_in_own_method: bool,
) -> Option<ClassMethod<'t>> {
    let body = class.field(Field::Body)?;
    let mut cursor = body.walk();
    let found: Vec<Node> = body
        .named_children(&mut cursor)
        .map(|child| match child.kind_name() {
            "decorated_definition" => child
                .named_child(child.named_child_count().saturating_sub(1) as u32)
                .unwrap_or(child),
            _ => child,
        })
        .filter(|d| {
            d.kind_name() == "function_definition"
                && d.field(Field::Name)
                    .is_some_and(|n| &file.text[n.byte_range()] == method)
        })
        .collect();
    match found.as_slice() {
        [definition] => Some(ClassMethod {
            definition: *definition,
            decorated: definition
                .parent()
                .is_some_and(|p| p.kind_name() == "decorated_definition"),
            called_in_own_method,
        }),
        _ => None,
    }
}

/// Whether `name` is the attribute of an imported module (`asyncio.run`): not a method.
fn of_a_module(file: &FileContext, name: Node) -> bool {
    let Some(attribute) = name.parent().filter(|p| p.kind_name() == "attribute") else {
        return false;
    };
    let Some(object) = attribute
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")
    else {
        return false;
    };
    if attribute.field(Field::Attribute).map(|a| a.id()) != Some(name.id()) {
        return false;
    }
    let text = &file.text[object.byte_range()];
    matches!(
        file.index.resolve_name(text, object.start_byte()),
        Resolution::Binding(id) if matches!(file.index.binding(id).kind, BindingKind::Import { .. })
    )
}

/// Whether every mention of a method's name in the file (an attribute `x.run`, a plain name
/// `run`) other than its own `def` is one `allowed` holds: another class's method of that
/// name, a callback, a `getattr` string aside, any other mention is a doubt.
pub(super) fn method_only_mentioned_where_allowed(
    file: &FileContext,
    definition: Node,
    allowed: &HashSet<usize>,
) -> bool {
    let Some(own) = definition.field(Field::Name) else {
        return false;
    };
    let name = &file.text[own.byte_range()];
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier" {
            if &file.text[node.byte_range()] == name
                && node.id() != own.id()
                && !allowed.contains(&node.id())
                && !of_a_module(file, node)
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
    let names: Vec<(&str, usize, usize)> = definitions
        .iter()
        .filter_map(|d| d.field(Field::Name))
        .map(|n| (&file.text[n.byte_range()], n.id(), n.start_byte()))
        .collect();
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier" {
            let text = &file.text[node.byte_range()];
            if let Some((_, def_name, def_start)) = names.iter().find(|(name, _, _)| *name == text)
                && node.id() != *def_name
                && !allowed.contains(&node.id())
                && resolves_to_coroutine(file, node, text, *def_start)
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

/// Whether `node` names a coroutine function of the module, or the one whose name is bound at
/// `def_start` (a coroutine nested in a command's function).
fn resolves_to_coroutine(file: &FileContext, node: Node, name: &str, def_start: usize) -> bool {
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
            binding.range.start == def_start
                || (binding.scope == file.index.module_scope()
                    && binding.kind == (BindingKind::Function { is_async: true }))
        }
        Resolution::Builtin => false,
    }
}
