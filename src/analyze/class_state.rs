//! Whether a class of the file keeps nothing of its own: no method writes an attribute of
//! `self` / `cls` (`self.x = ...`, `self.x += ...`, `self.items[k] = ...`, `setattr`), its
//! body binds no class attribute of a value that can change (only constants: strings,
//! numbers, `None`, booleans and tuples of them), no decorator makes fields of it
//! (`@dataclass`), and every base is a project class (a library base may keep anything:
//! unknown). A method of a module-level instance of such a class, moved to a worker thread,
//! shares nothing with the coroutines on the loop through the instance; the project phase
//! adds that every project base keeps nothing too (`project/mod.rs`).

use tree_sitter::Node;

use super::receivers::Names;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// Whether the class `definition` (a `class_definition`) keeps nothing of its own, and
/// names only project classes (or `object`) as bases.
pub(super) fn keeps_nothing(names: &Names, definition: Node) -> bool {
    let file = names.file;
    let text = file.text;
    if definition
        .parent()
        .is_some_and(|p| p.kind_name() == "decorated_definition")
    {
        return false;
    }
    if let Some(list) = definition.field(Field::Superclasses) {
        let mut cursor = list.walk();
        for base in list.named_children(&mut cursor) {
            let object = base.kind_name() == "identifier"
                && &text[base.byte_range()] == "object"
                && file.index.resolve_name("object", base.start_byte()) == Resolution::Builtin;
            if !object && names.project_name(base).is_none() {
                return false;
            }
        }
    }
    let Some(body) = definition.field(Field::Body) else {
        return false;
    };
    let mut cursor = body.walk();
    for statement in body.named_children(&mut cursor) {
        match statement.kind_name() {
            "function_definition" | "decorated_definition" | "pass_statement" | "comment" => {}
            // A docstring.
            "expression_statement"
                if statement
                    .named_child(0)
                    .is_some_and(|e| e.kind_name() == "string") => {}
            "expression_statement" => {
                let Some(assignment) = statement
                    .named_child(0)
                    .filter(|a| a.kind_name() == "assignment")
                else {
                    return false;
                };
                match assignment.field(Field::Right) {
                    Some(value) if constant(value) => {}
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    !writes_own_state(names, body)
}

/// A constant value: a string, a number, `None`, a boolean, a tuple of those.
fn constant(value: Node) -> bool {
    match value.kind_name() {
        "string" | "concatenated_string" | "integer" | "float" | "none" | "true" | "false" => true,
        "unary_operator" => value.named_child(0).is_some_and(constant),
        "tuple" | "parenthesized_expression" => {
            let mut cursor = value.walk();
            value
                .named_children(&mut cursor)
                .filter(|c| c.kind_name() != "comment")
                .all(constant)
        }
        _ => false,
    }
}

/// Whether code in `body` (the methods, and what they nest) writes through a parameter
/// (`self`, `cls`, or any other: an object passed in may be the instance): an assignment,
/// augmented assignment or `del` whose target starts with one, or a call of `setattr`, or a
/// use of `__dict__`.
fn writes_own_state(names: &Names, body: Node) -> bool {
    let text = names.file.text;
    let through_self = |target: Node| through_parameter(names, target);
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let writes = match node.kind_name() {
            "assignment" | "augmented_assignment" | "for_statement" => {
                node.field(Field::Left).is_some_and(through_self)
            }
            // `with open(p) as self.f:`
            "as_pattern" => {
                let mut cursor = node.walk();
                node.named_children(&mut cursor)
                    .skip(1)
                    .any(|t| t.named_child(0).is_some_and(through_self))
            }
            "delete_statement" => {
                let mut cursor = node.walk();
                node.named_children(&mut cursor).any(through_self)
            }
            "identifier" => matches!(&text[node.byte_range()], "setattr" | "__dict__"),
            _ => false,
        };
        if writes {
            return true;
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether a target writes state through a parameter or a class: `self.x`, `self.x[k]`,
/// `cls.x.y`, `Store.x`, in a tuple of targets too.
fn through_parameter(names: &Names, target: Node) -> bool {
    let index = names.file.index;
    let text = names.file.text;
    match target.kind_name() {
        "attribute" | "subscript" => {
            let mut object = target;
            while matches!(object.kind_name(), "attribute" | "subscript") {
                let next = match object.kind_name() {
                    "attribute" => object.field(Field::Object),
                    _ => object.field(Field::Value),
                };
                let Some(next) = next else {
                    return true;
                };
                object = next;
            }
            // `self.x`, `other.x` (a parameter may be the instance), `Store.x` (a class).
            object.kind_name() == "identifier"
                && matches!(
                    index.resolve_name(&text[object.byte_range()], object.start_byte()),
                    Resolution::Binding(id)
                        if matches!(index.binding(id).kind, BindingKind::Parameter | BindingKind::Class)
                )
        }
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "tuple"
        | "list"
        | "expression_list"
        | "parenthesized_expression" => {
            let mut cursor = target.walk();
            target
                .named_children(&mut cursor)
                .any(|t| through_parameter(names, t))
        }
        _ => false,
    }
}
