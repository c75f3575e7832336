//! The project names a call reaches: the absolute name of a project function a callee
//! resolves to (through imports, `self`, instances of project classes), and the file's own
//! coroutine functions. Both read only the file's tree and semantic index.

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{ModuleInfo, ModuleMap, absolute_name};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, SemanticIndex};

/// `Repo.save` for a method's scope, `outer.<locals>.inner` for a nested function (as
/// Python's `__qualname__`); `""` for the module.
pub(super) fn qualname(index: &SemanticIndex, mut scope: ScopeId) -> String {
    let mut parts = Vec::new();
    let mut inner = true;
    loop {
        let current = index.scope(scope);
        if let (ScopeKind::Function { .. } | ScopeKind::Class, Some(name)) =
            (current.kind, &current.name)
        {
            if !inner && matches!(current.kind, ScopeKind::Function { .. }) {
                parts.push("<locals>");
            }
            parts.push(name.as_str());
            inner = false;
        }
        match current.parent {
            Some(parent) => scope = parent,
            None => break,
        }
    }
    parts.reverse();
    parts.join(".")
}

/// The dotted prefix of the names bound in `scope`: `Repo` in a class body,
/// `outer.<locals>` in a function.
fn member_prefix(index: &SemanticIndex, scope: ScopeId) -> String {
    let path = qualname(index, scope);
    if matches!(index.scope(scope).kind, ScopeKind::Function { .. }) {
        format!("{path}.<locals>")
    } else {
        path
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The absolute name `callee` stands for, when it can be a project function.
pub(super) fn call_target(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    let index = file.index;
    let text = file.text;
    let project = |name: String| map.is_project_name(&name).then_some(name);
    let local = |id| -> Option<String> {
        let binding = index.binding(id);
        match &binding.kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } => project(absolute_name(module, qualified)?),
            BindingKind::Function { .. } | BindingKind::Class => Some(join(
                &module.name,
                &join(&member_prefix(index, binding.scope), &binding.name),
            )),
            _ => None,
        }
    };
    // A method of an instance made by calling a class: `Class.method` when the call's callee
    // is a class of the project (a function's result has no methods in the project map).
    let instance_method = |construction: Node, attribute: &str| -> Option<String> {
        let class = construction.field(Field::Function)?;
        let base = match class.kind_name() {
            "identifier" => match index.resolve_name(&text[class.byte_range()], class.start_byte())
            {
                Resolution::Binding(id) => local(id)?,
                Resolution::Builtin => return None,
            },
            _ => project(absolute_name(module, &index.qualified_name(class, text)?)?)?,
        };
        Some(join(&base, attribute))
    };
    match callee.kind_name() {
        "identifier" => {
            let name = &text[callee.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, callee.start_byte()) else {
                return None;
            };
            // A class call runs `__init__`, which this phase does not follow.
            (index.binding(id).kind != BindingKind::Class)
                .then(|| local(id))
                .flatten()
        }
        "attribute" => {
            let object = callee.field(Field::Object)?;
            let attribute = &text[callee.field(Field::Attribute)?.byte_range()];
            if object.kind_name() == "identifier" {
                let name = &text[object.byte_range()];
                if matches!(name, "self" | "cls") {
                    // A method of the class around the calling method.
                    let mut scope = index.scope_at(callee.start_byte());
                    while matches!(
                        index.scope(scope).kind,
                        ScopeKind::Comprehension { .. } | ScopeKind::Lambda
                    ) {
                        scope = index.scope(scope).parent?;
                    }
                    let class = index.scope(scope).parent?;
                    if index.scope(class).kind != ScopeKind::Class {
                        return None;
                    }
                    return Some(join(
                        &join(&module.name, &qualname(index, class)),
                        attribute,
                    ));
                }
                let Resolution::Binding(id) = index.resolve_name(name, object.start_byte()) else {
                    return None;
                };
                let binding = index.binding(id);
                if binding.kind == BindingKind::Assignment {
                    // `helper = Invoicer()` then `helper.render(...)`.
                    let value = binding.value.as_ref()?;
                    let value = file
                        .parsed
                        .tree
                        .root_node()
                        .descendant_for_byte_range(value.start, value.end)
                        .filter(|v| v.byte_range() == *value && v.kind_name() == "call")?;
                    return instance_method(value, attribute);
                }
                // `Repo.load(...)` on a class of the file, `helpers.load(...)` on an
                // imported module.
                return local(id).map(|base| join(&base, attribute));
            }
            if object.kind_name() == "call" {
                // `Invoicer().render(...)`.
                return instance_method(object, attribute);
            }
            let qualified = index.qualified_name(callee, text)?;
            project(absolute_name(module, &qualified)?)
        }
        _ => None,
    }
}

/// The name of the coroutine function `callee` calls, when it is one of the file's own: an
/// `async def` it resolves to, or an `async def` method of the enclosing class called through
/// `self` / `cls`. Async generators (an `async def` with `yield`) are not awaitable: excluded.
pub(super) fn project_coroutine(file: &FileContext, callee: Node) -> Option<String> {
    let binding = match callee.kind_name() {
        "identifier" => {
            let name = &file.text[callee.byte_range()];
            match file.index.resolve_name(name, callee.start_byte()) {
                Resolution::Binding(id) => id,
                Resolution::Builtin => return None,
            }
        }
        "attribute" => {
            let object = callee.field(Field::Object)?;
            let attribute = callee.field(Field::Attribute)?;
            if object.kind_name() != "identifier"
                || !matches!(&file.text[object.byte_range()], "self" | "cls")
            {
                return None;
            }
            let mut scope = file.index.scope_at(callee.start_byte());
            while matches!(
                file.index.scope(scope).kind,
                ScopeKind::Comprehension { .. } | ScopeKind::Lambda
            ) {
                scope = file.index.scope(scope).parent?;
            }
            let class = file.index.scope(scope).parent?;
            if file.index.scope(class).kind != ScopeKind::Class {
                return None;
            }
            file.index
                .binding_in_scope(class, &file.text[attribute.byte_range()])?
        }
        _ => return None,
    };
    let binding = file.index.binding(binding);
    if binding.kind != (BindingKind::Function { is_async: true }) {
        return None;
    }
    let name_node = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(binding.range.start, binding.range.end)?;
    let definition = name_node
        .parent()
        .filter(|d| d.kind_name() == "function_definition")?;
    if contains_yield(definition.field(Field::Body)?) {
        return None;
    }
    Some(file.text[callee.byte_range()].to_owned())
}

/// Whether a function body yields (not counting nested functions, lambdas and classes).
fn contains_yield(body: Node) -> bool {
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "yield" => return true,
            "function_definition" | "lambda" | "class_definition" => {}
            _ => stack.extend(node.named_children(&mut cursor)),
        }
    }
    false
}
