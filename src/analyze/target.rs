//! The project names a call reaches: the absolute name of a project function a callee
//! resolves to (through imports, `self`, instances of project classes), and the file's own
//! coroutine functions. Both read only the file's tree and semantic index.

use tree_sitter::Node;

use super::FileContext;
use super::receivers::{Names, enclosing_class};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{ModuleInfo, ModuleMap, absolute_name};
use crate::semantic::{BindingKind, Resolution, ScopeKind};

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The absolute name `callee` stands for, when it can be a project function: a function, a
/// method through `self` / `cls`, a class (called, it runs `__init__`: the project phase
/// follows the class to it), or a method of an object whose project class is known
/// (`receivers.rs`): `Class.method`, which the project phase finds on the class or a base.
pub(super) fn call_target(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    let index = file.index;
    let text = file.text;
    let names = Names { file, module, map };
    match callee.kind_name() {
        "identifier" => names.project_name(callee),
        "attribute" => {
            let object = callee.field(Field::Object)?;
            let attribute = &text[callee.field(Field::Attribute)?.byte_range()];
            if object.kind_name() == "identifier" {
                let name = &text[object.byte_range()];
                if matches!(name, "self" | "cls") {
                    // A method of the class around the calling method.
                    let class = enclosing_class(file, callee.start_byte())?;
                    return Some(join(&join(&module.name, &index.qualname(class)), attribute));
                }
                let Resolution::Binding(id) = index.resolve_name(name, object.start_byte()) else {
                    return None;
                };
                if matches!(
                    index.binding(id).kind,
                    BindingKind::Assignment | BindingKind::Parameter
                ) {
                    // `helper = Invoicer()` then `helper.render(...)`; `client: Client`.
                    return names
                        .receiver_class(object)
                        .map(|class| join(&class, attribute));
                }
                // `Repo.load(...)` on a class of the file, `helpers.load(...)` on an
                // imported module, `sdk.quote(...)` on an imported instance.
                return names.binding_name(id).map(|base| join(&base, attribute));
            }
            if let Some(class) = names.receiver_class(object) {
                // `Invoicer().render(...)`, `self.sdk.quote(...)`.
                return Some(join(&class, attribute));
            }
            let qualified = index.qualified_name(callee, text)?;
            names.project(absolute_name(module, &qualified)?)
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
