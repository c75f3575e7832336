//! Blocking work that runs only on a function's first call (`FunctionSummary::once`): a
//! function decorated with a cache of `[moved-code] cache-decorators` (`functools.lru_cache`)
//! that takes no parameters, or a lazy getter whose blocking calls sit behind a test of a
//! module global it sets there (`global _x; if _x is None: _x = load()`), or of a class
//! attribute a classmethod sets there, directly or through a method of the class
//! (`if cls._logger is None: cls._setup()`). The settling tells a coroutine calling such a
//! function that the call blocks once, at start-up, not every time: a finding with no thread
//! hop.
//!
//! Not once-only: a cached function taking parameters (it blocks again for every new
//! argument; a method's `self` too), a test of `self.x` (once per instance, and an instance
//! may be made per request), a guard with work after it that blocks too.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use super::target::call_target;
use crate::codemod::{MovedCode, Registry};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{FunctionSummary, ModuleInfo, ModuleMap, OnceOnly};
use crate::semantic::ScopeId;
use crate::settings::RuleSelection;

/// Record, for each synchronous function of the file, what of its blocking runs only on its
/// first call.
pub(super) fn record_once(
    file: &FileContext,
    (registry, selection, moved): (&Registry, &RuleSelection, &MovedCode),
    (module, map): (&ModuleInfo, &ModuleMap),
    functions: &mut [FunctionSummary],
    by_scope: &HashMap<ScopeId, usize>,
    target_id: &mut dyn FnMut(String) -> u32,
) {
    let root = file.parsed.tree.root_node();
    for (&scope, &f) in by_scope {
        if functions[f].is_async || functions[f].is_generator {
            continue;
        }
        let range = file.index.scope(scope).range.clone();
        let Some(definition) = root
            .descendant_for_byte_range(range.start, range.end)
            .and_then(|n| {
                std::iter::successors(Some(n), |p| p.parent())
                    .find(|p| p.kind_name() == "function_definition")
            })
        else {
            continue;
        };
        if let Some(decorator) = cache_decorator(file, moved, definition) {
            functions[f].once = Some(OnceOnly {
                why: format!("cached by `{decorator}`"),
                whole: true,
                direct: true,
                calls: Vec::new(),
            });
            continue;
        }
        let Some((why, guarded)) = lazy_guards(file, definition) else {
            continue;
        };
        let under = |node: Node| guarded.iter().any(|r| r.contains(&node.start_byte()));
        let mut direct = true;
        let mut inside: HashSet<String> = HashSet::new();
        let mut outside: HashSet<String> = HashSet::new();
        for &call in &file.nodes.calls {
            if file.index.function_at(call.start_byte()) != Some(scope) {
                continue;
            }
            let is_under = under(call);
            if !is_under
                && super::evidence::blocking_evidence(file, registry, selection, call).is_some()
            {
                direct = false;
            }
            if let Some(target) = call
                .field(Field::Function)
                .and_then(|callee| call_target(file, module, map, callee))
            {
                if is_under {
                    inside.insert(target);
                } else {
                    outside.insert(target);
                }
            }
        }
        let mut calls: Vec<u32> = inside
            .into_iter()
            .filter(|t| !outside.contains(t))
            .map(&mut *target_id)
            .collect();
        calls.sort_unstable();
        functions[f].once = Some(OnceOnly {
            why,
            whole: false,
            direct,
            calls,
        });
    }
}

/// The cache decorator of a function taking no parameters, as written in the data.
fn cache_decorator(file: &FileContext, moved: &MovedCode, definition: Node) -> Option<String> {
    let parameters = definition.field(Field::Parameters)?;
    if parameters.named_child_count() > 0 {
        return None;
    }
    let decorated = definition
        .parent()
        .filter(|p| p.kind_name() == "decorated_definition")?;
    decorated
        .named_children(&mut decorated.walk())
        .filter(|c| c.kind_name() == "decorator")
        .filter_map(|d| d.named_child(0))
        .find_map(|expression| {
            let named = if expression.kind_name() == "call" {
                expression.field(Field::Function)?
            } else {
                expression
            };
            let name = file.index.qualified_name(named, file.text)?;
            moved.cache_decorators.contains(&name).then_some(name)
        })
}

/// The lazy guards at the top of a function's body: `if X is None:` / `if not X:` whose
/// block sets `X`, for `X` a name the function declares `global` or (in a classmethod)
/// `cls.attr`. Returns how it keeps its value, for a message, and the blocks' byte ranges.
fn lazy_guards(file: &FileContext, definition: Node) -> Option<(String, Vec<Range<usize>>)> {
    let body = definition.field(Field::Body)?;
    let globals = declared_globals(file, body);
    let receiver = class_receiver(file, definition);
    let mut why = None;
    let mut ranges = Vec::new();
    for statement in body.named_children(&mut body.walk()) {
        if statement.kind_name() != "if_statement" {
            continue;
        }
        let (Some(condition), Some(block)) = (
            statement.field(Field::Condition),
            statement.field(Field::Consequence),
        ) else {
            continue;
        };
        let Some(tested) = tested_unset(condition) else {
            continue;
        };
        let text = &file.text[tested.byte_range()];
        let kept = if tested.kind_name() == "identifier" && globals.iter().any(|g| g == text) {
            sets(file, block, text)
                .then(|| format!("it keeps its result in the module global `{text}`"))
        } else if let (Some(receiver), "attribute") = (receiver, tested.kind_name())
            && tested
                .field(Field::Object)
                .is_some_and(|o| &file.text[o.byte_range()] == receiver)
        {
            (sets(file, block, text)
                || sets_through_method(file, definition, block, receiver, text))
            .then(|| format!("it keeps its result in the class attribute `{text}`"))
        } else {
            None
        };
        if let Some(kept) = kept {
            why.get_or_insert(kept);
            ranges.push(block.byte_range());
        }
    }
    Some((why?, ranges))
}

/// The names a body declares `global` (not in nested functions).
fn declared_globals(file: &FileContext, body: Node) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "class_definition" | "lambda" => continue,
            "global_statement" => names.extend(
                node.named_children(&mut node.walk())
                    .filter(|n| n.kind_name() == "identifier")
                    .map(|n| file.text[n.byte_range()].to_owned()),
            ),
            _ => stack.extend(node.named_children(&mut node.walk())),
        }
    }
    names
}

/// For a `@classmethod`, the name of its first parameter (`cls`): its attributes are the
/// class's, one for the whole process.
fn class_receiver<'t>(file: &FileContext<'t>, definition: Node) -> Option<&'t str> {
    let decorated = definition
        .parent()
        .filter(|p| p.kind_name() == "decorated_definition")?;
    let is_classmethod = decorated
        .named_children(&mut decorated.walk())
        .filter(|c| c.kind_name() == "decorator")
        .filter_map(|d| d.named_child(0))
        .any(|e| &file.text[e.byte_range()] == "classmethod");
    let first = definition.field(Field::Parameters)?.named_child(0)?;
    (is_classmethod && first.kind_name() == "identifier").then(|| &file.text[first.byte_range()])
}

/// The name or attribute a condition tests for being unset: `X is None`, `not X`.
fn tested_unset(condition: Node) -> Option<Node> {
    match condition.kind_name() {
        "not_operator" => condition
            .child_by_field_name("argument")
            .filter(|a| matches!(a.kind_name(), "identifier" | "attribute")),
        "comparison_operator" => {
            let mut cursor = condition.walk();
            let mut children = condition.children(&mut cursor);
            let left = children.next()?;
            let operator = children.next()?;
            let right = children.next()?;
            (operator.kind() == "is"
                && right.kind_name() == "none"
                && children.next().is_none()
                && matches!(left.kind_name(), "identifier" | "attribute"))
            .then_some(left)
        }
        _ => None,
    }
}

/// Whether a block (not its nested functions) assigns `target` (`X = ...`, `cls.X = ...`).
fn sets(file: &FileContext, block: Node, target: &str) -> bool {
    let mut stack = vec![block];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "function_definition" | "class_definition" | "lambda" => continue,
            "assignment" | "augmented_assignment"
                if node
                    .field(Field::Left)
                    .is_some_and(|l| &file.text[l.byte_range()] == target) =>
            {
                return true;
            }
            _ => stack.extend(node.named_children(&mut node.walk())),
        }
    }
    false
}

/// Whether a block calls `cls.m(...)` for a method `m` of the same class whose body sets
/// `target` (`cls._logger = ...` in `_setup_logging`).
fn sets_through_method(
    file: &FileContext,
    definition: Node,
    block: Node,
    receiver: &str,
    target: &str,
) -> bool {
    let Some(class_body) = std::iter::successors(definition.parent(), |p| p.parent())
        .find(|p| p.kind_name() == "class_definition")
        .and_then(|c| c.field(Field::Body))
    else {
        return false;
    };
    let attribute = target.strip_prefix(receiver).unwrap_or(target);
    let mut stack = vec![block];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "call"
            && let Some(callee) = node.field(Field::Function)
            && callee.kind_name() == "attribute"
            && callee
                .field(Field::Object)
                .is_some_and(|o| &file.text[o.byte_range()] == receiver)
            && let Some(name) = callee.field(Field::Attribute)
        {
            let method = &file.text[name.byte_range()];
            let sets_it = class_body
                .named_children(&mut class_body.walk())
                .filter_map(|member| match member.kind_name() {
                    "decorated_definition" => member.child_by_field_name("definition"),
                    _ => Some(member),
                })
                .filter(|m| m.kind_name() == "function_definition")
                .filter(|m| {
                    m.field(Field::Name)
                        .is_some_and(|n| &file.text[n.byte_range()] == method)
                })
                .any(|m| {
                    // Its own first parameter names the class there.
                    let own = m
                        .field(Field::Parameters)
                        .and_then(|p| p.named_child(0))
                        .map_or(receiver, |p| &file.text[p.byte_range()]);
                    m.field(Field::Body)
                        .is_some_and(|b| sets(file, b, &format!("{own}{attribute}")))
                });
            if sets_it {
                return true;
            }
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    false
}
