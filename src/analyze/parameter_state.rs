//! State reached through a parameter: moved code that changes what one of its parameters
//! (other than `self` / `cls`) reaches shares that object with the coroutine that handed it
//! over, and with the event loop's other tasks using it (`ctx.bot.reload_extension(...)`
//! changes `ctx.bot`). An assignment to an attribute or item of it, a mutating method on the
//! parameter itself, or any method but a reading one on an attribute chain of it counts; a
//! parameter annotated with an immutable type (`[moved-code] immutable-types`: `str`, `Path`,
//! a tuple of those) and a name the moved code rebinds to something it made do not.

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::MovedCode;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// The object a parameter reaches that an assignment to `target` (an attribute or item
/// chain) changes, as written (`ctx.state` for `ctx.state.x = 1`, `cache` for
/// `cache[k] = v`).
pub(super) fn assigned(file: &FileContext, moved: &MovedCode, target: Node) -> Option<String> {
    let object = match target.kind_name() {
        "attribute" => target.field(Field::Object)?,
        "subscript" => target.field(Field::Value)?,
        _ => return None,
    };
    rooted_at_parameter(file, moved, object)?;
    Some(written(file, object))
}

/// What a method call on what a parameter reaches changes: `(the object, the call)` as
/// written, for `ctx.bot.reload_extension(...)` `("ctx.bot", "ctx.bot.reload_extension")`.
pub(super) fn called(
    file: &FileContext,
    moved: &MovedCode,
    callee: Node,
) -> Option<(String, String)> {
    if callee.kind_name() != "attribute" {
        return None;
    }
    let method = &file.text[callee.field(Field::Attribute)?.byte_range()];
    let object = callee.field(Field::Object)?;
    let counts = match object.kind_name() {
        // The parameter itself: only a method that changes it (`items.append(x)`).
        "identifier" => moved.mutating_methods.contains(method),
        "attribute" | "subscript" => {
            !moved.reading_methods.contains(method)
                && !moved
                    .reading_method_prefixes
                    .iter()
                    .any(|prefix| method.starts_with(prefix.as_str()))
        }
        _ => false,
    };
    if !counts {
        return None;
    }
    rooted_at_parameter(file, moved, object)?;
    Some((written(file, object), written(file, callee)))
}

/// The source text of `node`, its whitespace dropped.
fn written(file: &FileContext, node: Node) -> String {
    file.text[node.byte_range()]
        .split_whitespace()
        .collect::<String>()
}

/// Whether `expression` is a parameter (not `self` / `cls`, not annotated with an immutable
/// type) or an attribute / item chain rooted at one.
fn rooted_at_parameter(file: &FileContext, moved: &MovedCode, expression: Node) -> Option<()> {
    let mut node = expression;
    loop {
        node = match node.kind_name() {
            "attribute" => node.field(Field::Object)?,
            "subscript" => node.field(Field::Value)?,
            "identifier" => break,
            _ => return None,
        };
    }
    let name = &file.text[node.byte_range()];
    if matches!(name, "self" | "cls") {
        return None;
    }
    let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != BindingKind::Parameter {
        return None;
    }
    let immutable = binding.annotation.as_ref().is_some_and(|range| {
        crate::semantic::node_at(file.parsed.tree.root_node(), range)
            .is_some_and(|annotation| is_immutable_type(file, moved, annotation))
    });
    (!immutable).then_some(())
}

/// Whether an annotation names only immutable types: `str`, `Path`, `Optional[str]`,
/// `str | None`, `tuple[str, ...]`, `"str"` is not followed.
fn is_immutable_type(file: &FileContext, moved: &MovedCode, annotation: Node) -> bool {
    let root = file.parsed.tree.root_node();
    let listed = |node: Node| {
        file.index
            .callable_name(node, root, file.text)
            .is_some_and(|q| moved.immutable_types.contains(&q))
    };
    match annotation.kind_name() {
        "type" => annotation
            .named_child(0)
            .is_some_and(|inner| is_immutable_type(file, moved, inner)),
        "none" => true,
        "identifier" | "attribute" => listed(annotation),
        "binary_operator" => {
            let (Some(left), Some(right)) = (
                annotation.field(Field::Left),
                annotation.field(Field::Right),
            ) else {
                return false;
            };
            is_immutable_type(file, moved, left) && is_immutable_type(file, moved, right)
        }
        "subscript" | "generic_type" => {
            // `Optional[X]`, `tuple[X, ...]`, `Tuple[X, Y]`: the container immutable (or
            // `Optional` / `Union`), and every member too.
            let Some(base) = annotation
                .field(Field::Value)
                .or_else(|| annotation.named_child(0))
            else {
                return false;
            };
            let base_name = file.index.callable_name(base, root, file.text);
            let wrapper = base_name
                .as_deref()
                .is_some_and(|q| matches!(q, "typing.Optional" | "typing.Union"));
            if !wrapper && !listed(base) {
                return false;
            }
            let mut cursor = annotation.walk();
            annotation
                .named_children(&mut cursor)
                .skip(1)
                .flat_map(|members| {
                    // `generic_type`'s members sit in a `type_parameter`.
                    if members.kind_name() == "type_parameter" {
                        let mut inner = members.walk();
                        members.named_children(&mut inner).collect::<Vec<_>>()
                    } else {
                        vec![members]
                    }
                })
                .all(|member| {
                    member.kind_name() == "ellipsis" || is_immutable_type(file, moved, member)
                })
        }
        _ => false,
    }
}
