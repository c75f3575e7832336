//! Parameter tests that code runs under (`if markers is None: markers = load()`,
//! `load() if markers is None else markers`, `markers or load()`), and what the arguments of
//! a call are known to be (never `None`, truthy, or the caller's own parameter passed on).
//! The project summary records both, so a blocking chain that runs only when a caller leaves
//! an argument out is dropped at the calls that pass it; the analysis asks the same question
//! of a coroutine's call. When unsure, nothing is known and the chain stays.

use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{ParamGuard, Passed, PassedArg};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind};

/// How deep a name's value is followed through other names (`a = b`, `b = ()`).
const MAX_DEPTH: u32 = 3;

/// What the settling needs of a call in the synchronous function `scope`: the parameter test
/// it runs under, and its arguments whose value is known (the function's own parameters
/// passed on included).
pub fn site_facts(
    file: &FileContext,
    scope: ScopeId,
    call: Node,
) -> (Option<ParamGuard>, Vec<PassedArg>) {
    let mut guard = None;
    let mut child = call;
    let mut definition = None;
    // The call's ancestors up to its function: a statement's nesting, not the file.
    while let Some(parent) = child.parent() {
        match parent.kind_name() {
            "function_definition" => {
                definition = Some(parent);
                break;
            }
            "lambda" | "class_definition" => break,
            _ => {}
        }
        if guard.is_none()
            && let Some((name, falsy)) = test_guarding(file, parent, child)
            && unchanged_outside(file, scope, name, child.byte_range(), parent.byte_range())
        {
            guard = Some((name, falsy));
        }
        child = parent;
    }
    let Some(definition) = definition else {
        return (None, Vec::new());
    };
    let is_method = file
        .index
        .scope(scope)
        .parent
        .is_some_and(|p| file.index.scope(p).kind == ScopeKind::Class);
    let guard = guard.and_then(|(name, falsy)| {
        Some(ParamGuard {
            name: name.to_owned(),
            position: parameter_position(file, definition, name, is_method)?,
            falsy,
        })
    });
    let forward = |name: &str| {
        Some(ParamGuard {
            name: name.to_owned(),
            position: parameter_position(file, definition, name, is_method)?,
            falsy: false,
        })
    };
    (guard, arguments(file, Some((scope, &forward)), call))
}

/// Whether `call` passes the argument `guard` tests with a value that keeps the guarded code
/// from running (not `None`; truthy for a test of falsiness). Only what is known counts.
pub fn passes(file: &FileContext, call: Node, guard: &ParamGuard) -> bool {
    arguments(file, None, call).iter().any(|arg| {
        let matches = arg.keyword.as_deref() == Some(guard.name.as_str())
            || (arg.position.is_some() && arg.position == guard.position);
        matches
            && match arg.value {
                Passed::Truthy => true,
                Passed::NotNone => !guard.falsy,
                Passed::Param(_) => false,
            }
    })
}

/// A caller's parameter passed on: its guard, when `name` is one of the function's own
/// parameters.
type Forward<'f> = dyn Fn(&str) -> Option<ParamGuard> + 'f;

/// The arguments of `call` whose value is known. `forward`: the synchronous function the
/// call is in, whose parameters passed on unchanged are recorded as such.
fn arguments(
    file: &FileContext,
    forward: Option<(ScopeId, &Forward)>,
    call: Node,
) -> Vec<PassedArg> {
    let mut found = Vec::new();
    let Some(arguments) = call.field(Field::Arguments) else {
        return found;
    };
    if arguments.kind_name() != "argument_list" {
        return found;
    }
    let mut position = Some(0u32);
    let mut cursor = arguments.walk();
    for argument in arguments.named_children(&mut cursor) {
        let (keyword, value) = match argument.kind_name() {
            "keyword_argument" => {
                let Some(name) = argument.field(Field::Name) else {
                    continue;
                };
                (
                    Some(&file.text[name.byte_range()]),
                    argument.field(Field::Value),
                )
            }
            // After `*args`, positions are unknown.
            "list_splat" => {
                position = None;
                continue;
            }
            "dictionary_splat" | "comment" => continue,
            _ => (None, Some(argument)),
        };
        let this_position = if keyword.is_none() { position } else { None };
        if keyword.is_none() {
            position = position.map(|p| p + 1);
        }
        if let Some(value) = value.and_then(|v| known_value(file, forward, v, 0)) {
            found.push(PassedArg {
                keyword: keyword.map(str::to_owned),
                position: this_position,
                value,
            });
        }
    }
    found
}

/// What an expression is known to be.
fn known_value(
    file: &FileContext,
    forward: Option<(ScopeId, &Forward)>,
    value: Node,
    depth: u32,
) -> Option<Passed> {
    let text = &file.text[value.byte_range()];
    let emptiness = |truthy: bool| {
        Some(if truthy {
            Passed::Truthy
        } else {
            Passed::NotNone
        })
    };
    match value.kind_name() {
        "string" | "concatenated_string" => {
            let body = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let formatted =
                text.len() != body.len() && text[..text.len() - body.len()].contains(['f', 'F']);
            let inner = body.trim_matches(|c| c == '"' || c == '\'');
            emptiness(!formatted && !inner.is_empty())
        }
        "integer" | "float" => {
            let number: Option<f64> = text.replace('_', "").parse().ok();
            emptiness(number.is_some_and(|n| n != 0.0))
        }
        "true" | "lambda" => Some(Passed::Truthy),
        "false" => Some(Passed::NotNone),
        "list" | "tuple" | "set" | "dictionary" => emptiness(value.named_child_count() > 0),
        "list_comprehension"
        | "set_comprehension"
        | "dictionary_comprehension"
        | "generator_expression" => Some(Passed::NotNone),
        "parenthesized_expression" => known_value(file, forward, value.named_child(0)?, depth),
        "call" => known_call(file, forward, value, depth),
        "identifier" if depth < MAX_DEPTH => known_name(file, forward, value, depth),
        _ => None,
    }
}

/// A call known never to return `None`: a builtin constructor (`tuple(...)`), or a mapping's
/// `.get(key, default)` with a default that is not `None` (what the caller means when the
/// key is missing; a `None` stored under the key is not followed).
fn known_call(
    file: &FileContext,
    forward: Option<(ScopeId, &Forward)>,
    call: Node,
    depth: u32,
) -> Option<Passed> {
    let callee = call.field(Field::Function)?;
    let arguments = call.field(Field::Arguments)?;
    match callee.kind_name() {
        "identifier" => {
            let name = &file.text[callee.byte_range()];
            let builtin = matches!(
                name,
                "list" | "tuple" | "dict" | "set" | "frozenset" | "str" | "bytes" | "int" | "float"
            );
            let unshadowed =
                file.index.resolve_name(name, callee.start_byte()) == Resolution::Builtin;
            (builtin && unshadowed).then_some(Passed::NotNone)
        }
        "attribute" => {
            let method = callee.field(Field::Attribute)?;
            if &file.text[method.byte_range()] != "get" || arguments.named_child_count() != 2 {
                return None;
            }
            let default = arguments.named_child(1)?;
            if default.kind_name() == "keyword_argument" {
                return None;
            }
            match known_value(file, forward, default, depth + 1)? {
                Passed::Truthy | Passed::NotNone => Some(Passed::NotNone),
                Passed::Param(_) => None,
            }
        }
        _ => None,
    }
}

/// A name known never to be `None`: every binding of it in its scope is a function, a class,
/// or an assignment of such a value; or the calling function's own parameter, never rebound.
fn known_name(
    file: &FileContext,
    forward: Option<(ScopeId, &Forward)>,
    name: Node,
    depth: u32,
) -> Option<Passed> {
    let text = &file.text[name.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(text, name.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    let all = file.index.bindings_in_scope(binding.scope, text);
    if binding.kind == BindingKind::Parameter {
        let (scope, forward) = forward?;
        return (binding.scope == scope && all.len() == 1)
            .then(|| forward(text))
            .flatten()
            .map(Passed::Param);
    }
    let mut truthy = true;
    for &other in all {
        let other = file.index.binding(other);
        match other.kind {
            BindingKind::Function { .. } | BindingKind::Class => {}
            BindingKind::Assignment => {
                let range = other.value.clone()?;
                let value = node_at_range(file, range)?;
                match known_value(file, forward, value, depth + 1)? {
                    Passed::Truthy => {}
                    Passed::NotNone => truthy = false,
                    Passed::Param(_) => return None,
                }
            }
            _ => return None,
        }
    }
    Some(if truthy {
        Passed::Truthy
    } else {
        Passed::NotNone
    })
}

/// The node spanning exactly `range`.
fn node_at_range<'t>(file: &FileContext<'t>, range: Range<usize>) -> Option<Node<'t>> {
    let node = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(range.start, range.end)?;
    (node.byte_range() == range).then_some(node)
}

/// The parameter test of `parent` that `child` runs under: `(name, falsy)`.
fn test_guarding<'t>(file: &FileContext<'t>, parent: Node, child: Node) -> Option<(&'t str, bool)> {
    let is = |field: Option<Node>| field.is_some_and(|f| f.id() == child.id());
    match parent.kind_name() {
        "if_statement" | "elif_clause" => {
            let condition = parent.field(Field::Condition)?;
            if is(parent.field(Field::Consequence)) {
                test_of(file, condition, false)
            } else if parent.kind_name() == "if_statement" && child.kind_name() == "else_clause" {
                // An `else` runs only when the `if`'s own test failed (whatever its `elif`s).
                test_of(file, condition, true)
            } else {
                None
            }
        }
        "conditional_expression" => {
            let condition = parent.named_child(1)?;
            if is(parent.named_child(0)) {
                test_of(file, condition, false)
            } else if is(parent.named_child(2)) {
                test_of(file, condition, true)
            } else {
                None
            }
        }
        "boolean_operator" if is(parent.field(Field::Right)) => {
            let operator = parent.field(Field::Operator)?;
            let left = parent.field(Field::Left)?;
            match operator.kind_name() {
                "or" => test_of(file, left, true),
                "and" => test_of(file, left, false),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What `condition` being true (`negated`: false) says of a parameter: it is `None`
/// (`(name, false)`) or falsy (`(name, true)`).
fn test_of<'t>(file: &FileContext<'t>, condition: Node, negated: bool) -> Option<(&'t str, bool)> {
    let name =
        |node: Node| (node.kind_name() == "identifier").then(|| &file.text[node.byte_range()]);
    match condition.kind_name() {
        "parenthesized_expression" => test_of(file, condition.named_child(0)?, negated),
        "identifier" if negated => Some((name(condition)?, true)),
        "not_operator" if !negated => {
            Some((name(condition.child_by_field_name("argument")?)?, true))
        }
        "comparison_operator" if condition.named_child_count() == 2 => {
            let (left, right) = (condition.named_child(0)?, condition.named_child(1)?);
            if right.kind_name() != "none" {
                return None;
            }
            let mut cursor = condition.walk();
            let operator: Vec<&str> = condition
                .children(&mut cursor)
                .filter(|c| !c.is_named())
                .map(|c| c.kind_name())
                .collect();
            let is_none = match operator.as_slice() {
                ["is"] => !negated,
                ["is not"] | ["is", "not"] => negated,
                _ => false,
            };
            is_none.then(|| Some((name(left)?, false))).flatten()
        }
        "boolean_operator" if !negated => {
            let operator = condition.field(Field::Operator)?;
            (operator.kind_name() == "and").then_some(())?;
            test_of(file, condition.field(Field::Left)?, false)
                .or_else(|| test_of(file, condition.field(Field::Right)?, false))
        }
        _ => None,
    }
}

/// Whether `name` is a parameter of function `scope` that nothing rebinds outside the code
/// the test guards (`guarded`), except an assignment of the test itself
/// (`markers = markers or load()`, whose value is `test`).
fn unchanged_outside(
    file: &FileContext,
    scope: ScopeId,
    name: &str,
    guarded: Range<usize>,
    test: Range<usize>,
) -> bool {
    let all = file.index.bindings_in_scope(scope, name);
    let Some((first, rest)) = all.split_first() else {
        return false;
    };
    file.index.binding(*first).kind == BindingKind::Parameter
        && rest.iter().all(|&id| {
            let binding = file.index.binding(id);
            let inside = guarded.start <= binding.range.start && binding.range.end <= guarded.end;
            inside || binding.value.as_ref() == Some(&test)
        })
}

/// The position a call passes parameter `name` of `definition` at: `Some(None)` for a
/// keyword-only parameter or a method's, `None` when `name` is not a plain parameter.
fn parameter_position(
    file: &FileContext,
    definition: Node,
    name: &str,
    is_method: bool,
) -> Option<Option<u32>> {
    let parameters = definition.field(Field::Parameters)?;
    let mut position = Some(0u32);
    let mut cursor = parameters.walk();
    for parameter in parameters.named_children(&mut cursor) {
        let identifier = match parameter.kind_name() {
            "identifier" => Some(parameter),
            "typed_parameter" => parameter.named_child(0),
            "default_parameter" | "typed_default_parameter" => parameter.field(Field::Name),
            "list_splat_pattern" | "keyword_separator" => {
                position = None;
                continue;
            }
            _ => continue,
        };
        if identifier
            .is_some_and(|i| i.kind_name() == "identifier" && &file.text[i.byte_range()] == name)
        {
            return Some(position.filter(|_| !is_method));
        }
        position = position.map(|p| p + 1);
    }
    None
}
