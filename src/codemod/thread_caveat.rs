//! The caveat of code a fix moves to a worker thread as a block (the `offload-block`
//! strategy, `offload.rs`): the first thing in it that may not be safe there while other
//! coroutines run — a call of code not known to be thread-safe, or a store into an object the
//! block did not make.

use std::collections::BTreeSet;

use tree_sitter::Node;

use super::strategy::site::Site;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution, node_at};

/// Code in moved code whose move other fixes already judged (their caveats carry over): a
/// call run in a worker thread by itself (`whole: false`: its arguments were evaluated on the
/// event loop and are not judged), or everything in `range` (a block moved as a whole).
#[derive(Clone, Debug)]
pub struct Judged {
    pub range: std::ops::Range<usize>,
    pub whole: bool,
}

impl Judged {
    pub(crate) fn covers(&self, node: Node) -> bool {
        if self.whole {
            self.range.start <= node.start_byte() && node.end_byte() <= self.range.end
        } else {
            self.range == node.byte_range()
        }
    }
}

/// Whether `node` is a string: a literal, or a name every binding of which in its scope
/// assigns a string literal (`COOKIES = """..."""`), so that a `str` method on it only
/// computes.
fn is_string(site: &Site, node: Node) -> bool {
    match node.kind_name() {
        "string" | "concatenated_string" => true,
        "parenthesized_expression" => node.named_child(0).is_some_and(|n| is_string(site, n)),
        "identifier" => {
            let name = &site.text[node.byte_range()];
            let Resolution::Binding(id) = site.index.resolve_name(name, node.start_byte()) else {
                return false;
            };
            let root = site.tree.root_node();
            let bindings = site
                .index
                .bindings_in_scope(site.index.binding(id).scope, name);
            !bindings.is_empty()
                && bindings.iter().all(|&b| {
                    let binding = site.index.binding(b);
                    binding.kind == BindingKind::Assignment
                        && binding
                            .value
                            .as_ref()
                            .and_then(|value| node_at(root, value))
                            .is_some_and(|value| {
                                matches!(value.kind_name(), "string" | "concatenated_string")
                            })
                })
        }
        _ => false,
    }
}

/// Whether `callee` is `self.assertEqual` (a `test-case-methods` name) in a method of a class
/// deriving from a `test-case-bases` class: it compares its arguments and raises.
fn test_assertion(site: &Site, callee: Node) -> bool {
    let safe = site.thread_safe;
    let text = site.text;
    let on_self = callee.kind_name() == "attribute"
        && callee
            .field(Field::Object)
            .is_some_and(|o| o.kind_name() == "identifier" && &text[o.byte_range()] == "self")
        && callee
            .field(Field::Attribute)
            .is_some_and(|m| safe.test_case_methods.contains(&text[m.byte_range()]));
    if !on_self {
        return false;
    }
    // The class the method is in (rare: only for such a call in moved code).
    let mut node = callee;
    while let Some(parent) = node.parent() {
        if parent.kind_name() == "class_definition" {
            let Some(bases) = parent.field(Field::Superclasses) else {
                return false;
            };
            let mut cursor = bases.walk();
            return bases.named_children(&mut cursor).any(|base| {
                site.index
                    .qualified_name(base, text)
                    .is_some_and(|q| safe.test_case_bases.contains(&q))
            });
        }
        node = parent;
    }
    false
}

/// The first thing in the block that may not be safe in a worker thread while other
/// coroutines run: a call of unknown code, or a store into an object the block did not make.
pub(crate) fn thread_caveat(
    site: &Site,
    statement: Node,
    bound_inside: &BTreeSet<String>,
    targets: &[Node],
    judged: &[Judged],
) -> Option<String> {
    let text = site.text;
    // A name the block made (its `with` targets, its own assignments), or an attribute, call
    // result or item reached from one: `proc.stdout.read()`, `f.readline().strip()`.
    let is_local = |node: Node| {
        let mut root = node;
        loop {
            let inner = match root.kind_name() {
                "attribute" => root.field(Field::Object),
                "call" => root.field(Field::Function),
                "subscript" => root.field(Field::Value),
                "parenthesized_expression" => root.named_child(0),
                _ => None,
            };
            match inner {
                Some(inner) => root = inner,
                None => break,
            }
        }
        root.kind_name() == "identifier" && {
            let name = &text[root.byte_range()];
            bound_inside.contains(name) || targets.iter().any(|t| &text[t.byte_range()] == name)
        }
    };
    let with_values: Vec<std::ops::Range<usize>> = statement
        .named_child(0)
        .filter(|c| c.kind_name() == "with_clause")
        .map(|clause| {
            let mut cursor = clause.walk();
            clause
                .named_children(&mut cursor)
                .filter_map(|item| item.field(Field::Value))
                .map(|v| v.byte_range())
                .collect()
        })
        .unwrap_or_default();
    let mut stack = vec![statement];
    let mut cursor = statement.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        match node.kind_name() {
            "call" => {
                if with_values
                    .iter()
                    .any(|r| r.start <= node.start_byte() && node.end_byte() <= r.end)
                    || judged.iter().any(|j| j.covers(node))
                {
                    continue;
                }
                let Some(callee) = node.field(Field::Function) else {
                    continue;
                };
                let safe = site.thread_safe;
                let on_local = callee.kind_name() == "attribute"
                    && callee.field(Field::Object).is_some_and(|o| {
                        is_local(o)
                            || o.kind_name() == "integer"
                            || (is_string(site, o)
                                && callee.field(Field::Attribute).is_some_and(|m| {
                                    safe.str_methods.contains(&text[m.byte_range()])
                                }))
                    });
                let known = site.index.qualified_name(callee, text).is_some_and(|q| {
                    safe.calls.contains(&q)
                        || q.strip_prefix("builtins.")
                            .is_some_and(|b| safe.builtins.contains(b))
                }) || (callee.kind_name() == "identifier"
                    && safe.builtins.contains(&text[callee.byte_range()])
                    && site
                        .index
                        .resolve_name(&text[callee.byte_range()], callee.start_byte())
                        == Resolution::Builtin);
                if !on_local && !known && !test_assertion(site, callee) {
                    return Some(format!(
                        "`{}(...)` now runs in a worker thread while other coroutines run: it \
                         must be safe to call from one",
                        text[callee.byte_range()]
                            .split_whitespace()
                            .collect::<String>()
                    ));
                }
            }
            "assignment" | "augmented_assignment" => {
                let left = node.field(Field::Left);
                if let Some(left) =
                    left.filter(|l| matches!(l.kind_name(), "attribute" | "subscript"))
                {
                    let object = left
                        .field(Field::Object)
                        .or_else(|| left.field(Field::Value));
                    if !object.is_some_and(is_local) {
                        return Some(format!(
                            "`{}` is now set from a worker thread while other coroutines run",
                            &text[left.byte_range()]
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    None
}
