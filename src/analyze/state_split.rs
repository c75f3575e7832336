//! A check-then-act on in-memory shared state split by a new `await`: a coroutine reads a
//! module global it declares `global`, an attribute of `self` / `cls` or a class attribute
//! (`if _client is None:`, `if not self._ready:`, `if key not in self.cache:`), then writes
//! the same state (`_client = httpx.AsyncClient(...)`, `self.cache[key] = value`). Before the
//! fix nothing suspended the coroutine between the two, so the pair ran at once for the other
//! coroutines; once a fix puts an `await` between them, concurrent callers all pass the check
//! before any of them acts (five lazy clients for five callers, a value computed twice and one
//! overwritten). Such a fix is unsafe, with the state and both lines named: the same rule as
//! the check-then-act on files and databases (`shared_databases.rs`), for state in memory.
//!
//! A write before the read is not a check-then-act (the act is done before the `await`), nor
//! is a read after the last write; a read and a write in exclusive clauses of one `if` never
//! both run in one call ([`super::branches::exclusive_branches`]).

use tree_sitter::Node;

use super::FileContext;
use super::branches::{branches, exclusive_branches};
use super::receivers::enclosing_class;
use super::suspends::suspends_between;
use crate::codemod::MovedCode;
use crate::parse::{Field, FieldChild, KindName, walk_tree};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind};
use crate::source::LineIndex;

/// What kind of shared state an access names, for a message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum StateKind {
    Global,
    Instance,
    Class,
}

/// One read or write of shared state in a coroutine.
pub(super) struct StateAccess {
    /// The state, the same for every access to it: `_client`, `Cache.entries` (for
    /// `self.entries` in `Cache`'s methods).
    pub(super) key: String,
    /// As written: `_client`, `self.entries`.
    pub(super) shown: String,
    pub(super) kind: StateKind,
    pub(super) function: ScopeId,
    /// Where it happens: a read where it is written, a write at the end of its statement
    /// (`self.n = self.n + 1` reads before it writes).
    pub(super) at: usize,
    pub(super) line: usize,
    pub(super) write: bool,
    /// A write that assigns the state itself, not an item or a sum of it.
    pub(super) assigns: bool,
    /// A read in the condition of an `if`, `while`, `assert` or conditional expression.
    pub(super) checks: bool,
    pub(super) branches: Vec<(usize, usize)>,
    /// A read that changes the state in place: the receiver of a mutating method
    /// (`self.seen.append(x)`, `[moved-code] mutating-methods`).
    pub(super) mutates: bool,
    /// For a write, where its statement starts.
    pub(super) from: usize,
}

/// The reads and writes of shared state in the file's coroutines.
#[derive(Default)]
pub struct StateAccesses {
    pub(super) accesses: Vec<StateAccess>,
}

impl StateAccesses {
    pub(super) fn of(file: &FileContext, moved: Option<&MovedCode>) -> StateAccesses {
        let mut accesses = Vec::new();
        let lines = LineIndex::new(file.text);
        walk_tree(&file.parsed.tree, |cursor| {
            let node = cursor.node();
            if matches!(node.kind_name(), "attribute" | "identifier")
                && let Some(function) = file.index.async_function_at(node.start_byte())
                && let Some((key, kind)) = state_of(file, node)
            {
                let line = |at: usize| lines.line_of(at) + 1;
                let shown: String = file.text[node.byte_range()].split_whitespace().collect();
                let mutates = moved.is_some_and(|moved| mutated_in_place(file, moved, node));
                let access = |write, at, assigns, from| StateAccess {
                    key: key.clone(),
                    shown: shown.clone(),
                    kind,
                    function,
                    at,
                    line: line(node.start_byte()),
                    write,
                    assigns,
                    checks: !write && in_condition(node),
                    branches: branches(node),
                    mutates: !write && mutates,
                    from,
                };
                match written(node) {
                    Some(Written {
                        statement,
                        augmented,
                        assigns,
                    }) => {
                        if augmented {
                            accesses.push(access(false, node.start_byte(), false, 0));
                        }
                        accesses.push(access(
                            true,
                            statement.end_byte(),
                            assigns,
                            statement.start_byte(),
                        ));
                    }
                    None => accesses.push(access(false, node.start_byte(), false, 0)),
                }
                // `self.x` is one access, not also one of `self`.
                return node.kind_name() != "attribute";
            }
            true
        });
        StateAccesses { accesses }
    }
}

/// The shared state `node` names, keyed, when it is some: a name bound at module level by an
/// assignment (a module global: written in a function only where it is declared `global`),
/// `self.x` / `cls.x` in a method, `Class.x` on a class of the file.
fn state_of(file: &FileContext, node: Node) -> Option<(String, StateKind)> {
    let index = file.index;
    let text = file.text;
    match node.kind_name() {
        "identifier" => {
            let parent = node.parent()?;
            // A name that is not read or written as a value: an attribute's name, a keyword,
            // the names of `global`, `def`, `class`, `import`, a parameter.
            let named_here = match parent.kind_name() {
                "attribute" => parent.field(Field::Attribute) == Some(node),
                "keyword_argument" => parent.field(Field::Name) == Some(node),
                "function_definition" | "class_definition" => {
                    parent.field(Field::Name) == Some(node)
                }
                "global_statement"
                | "nonlocal_statement"
                | "dotted_name"
                | "aliased_import"
                | "parameters"
                | "typed_parameter"
                | "default_parameter"
                | "typed_default_parameter" => true,
                _ => false,
            };
            if named_here {
                return None;
            }
            let name = &text[node.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, node.start_byte()) else {
                return None;
            };
            let binding = index.binding(id);
            (binding.scope == index.module_scope() && binding.kind == BindingKind::Assignment)
                .then(|| (name.to_owned(), StateKind::Global))
        }
        "attribute" => {
            let object = node.field(Field::Object)?;
            let attribute = &text[node.field(Field::Attribute)?.byte_range()];
            // `self.load()`: a method looked up, not state.
            if node
                .parent()
                .is_some_and(|p| p.kind_name() == "call" && p.field(Field::Function) == Some(node))
            {
                return None;
            }
            if object.kind_name() != "identifier" {
                return None;
            }
            let owner = &text[object.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(owner, object.start_byte()) else {
                return None;
            };
            let binding = index.binding(id);
            match binding.kind {
                BindingKind::Parameter if matches!(owner, "self" | "cls") => {
                    let class = enclosing_class(file, node.start_byte())?;
                    let method = index.function_at(node.start_byte())?;
                    // The method's own first parameter, not a nested function's.
                    (binding.scope == method).then_some(())?;
                    Some((
                        format!("{}.{attribute}", index.qualname(class)),
                        StateKind::Instance,
                    ))
                }
                BindingKind::Class if index.scope(binding.scope).kind == ScopeKind::Module => {
                    Some((format!("{owner}.{attribute}"), StateKind::Class))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `node` is the receiver of a mutating method called on it (`self.seen.append(x)`).
fn mutated_in_place(file: &FileContext, moved: &MovedCode, node: Node) -> bool {
    let Some(method) = node
        .parent()
        .filter(|p| p.kind_name() == "attribute" && p.field(Field::Object) == Some(node))
    else {
        return false;
    };
    method
        .parent()
        .is_some_and(|c| c.kind_name() == "call" && c.field(Field::Function) == Some(method))
        && method.field(Field::Attribute).is_some_and(|name| {
            moved
                .mutating_methods
                .contains(&file.text[name.byte_range()])
        })
}

/// How a write target is written.
struct Written<'t> {
    /// The statement that writes (its end is when the write happens).
    statement: Node<'t>,
    /// `+=` and the like: read first.
    augmented: bool,
    /// The state itself is assigned (`x = ...`, `self.x = ...`), not an item of it.
    assigns: bool,
}

/// Whether `node` is written: the target of an assignment (in a tuple of targets too), the
/// object of an item assigned or deleted (`self.cache[key] = value`, `del CACHE[key]`), or
/// deleted.
fn written<'t>(node: Node<'t>) -> Option<Written<'t>> {
    let mut target = node;
    let mut assigns = true;
    // `self.cache[key] = ...`: the subscript is the target, the state its object.
    if let Some(parent) = node.parent()
        && parent.kind_name() == "subscript"
        && parent.field(Field::Value) == Some(node)
    {
        target = parent;
        assigns = false;
    }
    loop {
        let parent = target.parent()?;
        match parent.kind_name() {
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "parenthesized_expression" => target = parent,
            "assignment" if parent.field(Field::Left) == Some(target) => {
                return Some(Written {
                    statement: parent,
                    augmented: false,
                    assigns,
                });
            }
            "augmented_assignment" if parent.field(Field::Left) == Some(target) => {
                return Some(Written {
                    statement: parent,
                    augmented: true,
                    assigns: false,
                });
            }
            "delete_statement" | "expression_list"
                if parent.kind_name() == "delete_statement"
                    || parent
                        .parent()
                        .is_some_and(|p| p.kind_name() == "delete_statement") =>
            {
                let statement = match parent.kind_name() {
                    "delete_statement" => parent,
                    _ => parent.parent()?,
                };
                return Some(Written {
                    statement,
                    augmented: false,
                    assigns: false,
                });
            }
            _ => return None,
        }
    }
}

/// Whether the value of `call` is tested: the call (awaited or not) is in the condition of an
/// `if`, `elif`, `while`, `assert` or a conditional expression, or assigned to a name such a
/// condition later in its function reads (`balance = await get_balance(u)` then `if balance
/// < cost:`). A check, whose act may follow.
pub(super) fn is_checked(text: &str, call: Node) -> bool {
    if in_condition(call) {
        return true;
    }
    // Up to the statement: `x = await f()[0]`.
    let mut node = call;
    let assignment = loop {
        let Some(parent) = node.parent() else {
            return false;
        };
        match parent.kind_name() {
            "assignment" => break parent,
            "await"
            | "parenthesized_expression"
            | "subscript"
            | "attribute"
            | "call"
            | "argument_list" => node = parent,
            _ => return false,
        }
    };
    let Some(target) = assignment
        .field(Field::Left)
        .filter(|t| t.kind_name() == "identifier")
    else {
        return false;
    };
    let name = &text[target.byte_range()];
    let mut function = assignment;
    while function.kind_name() != "function_definition" {
        let Some(parent) = function.parent() else {
            return false;
        };
        function = parent;
    }
    let mut stack = vec![function];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "identifier"
            && node.start_byte() > assignment.end_byte()
            && &text[node.byte_range()] == name
            && in_condition(node)
        {
            return true;
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether `node` is read in the condition of an `if`, `elif`, `while`, `assert` or a
/// conditional expression: a check.
fn in_condition(node: Node) -> bool {
    let mut child = node;
    while let Some(parent) = child.parent() {
        match parent.kind_name() {
            "if_statement" | "elif_clause" | "while_statement" => {
                return parent.field(Field::Condition) == Some(child);
            }
            "assert_statement" => return true,
            "conditional_expression" => {
                let mut cursor = parent.walk();
                let parts: Vec<Node> = parent
                    .named_children(&mut cursor)
                    .filter(|p| p.kind_name() != "comment")
                    .collect();
                return parts.len() == 3 && parts[1] == child;
            }
            "block" | "function_definition" | "lambda" | "class_definition" | "module" => {
                return false;
            }
            _ => child = parent,
        }
    }
    false
}

/// What splitting the coroutine at `call` with a new `await` does to shared state it reads
/// before the call and writes after it, for a fix's caveat.
pub(super) fn split_check(
    accesses: &StateAccesses,
    file: &FileContext,
    call: Node,
) -> Option<String> {
    let function = file.index.function_at(call.start_byte())?;
    let mut keys: Vec<&str> = Vec::new();
    for access in accesses.accesses.iter().filter(|a| a.function == function) {
        if !keys.contains(&access.key.as_str()) {
            keys.push(&access.key);
        }
    }
    if keys.is_empty() {
        return None;
    }
    // The call's branches only where its function touches shared state: a walk of its
    // ancestors per call is cubic in deeply nested calls.
    let hop = (call.end_byte(), branches(call));
    for key in keys {
        let same = || {
            accesses
                .accesses
                .iter()
                .filter(move |a| a.function == function && a.key == key)
        };
        // The last access before the `await` (on a path through it) is a read: the check
        // not yet acted on. A write whose statement holds the call happens after it.
        let Some(read) = same()
            .filter(|a| a.at < hop.0 && !exclusive_branches(&a.branches, &hop.1))
            .max_by_key(|a| (a.at, a.write))
            .filter(|a| !a.write)
        else {
            continue;
        };
        let Some(write) = same().filter(|a| a.write && a.at >= hop.0).find(|w| {
            !exclusive_branches(&w.branches, &hop.1)
                && !exclusive_branches(&w.branches, &read.branches)
        }) else {
            continue;
        };
        // Already split by an `await` of the original on every path: no new window.
        if suspends_between(file, read.at + 1, write.at.saturating_sub(1)) {
            continue;
        }
        // The check, when the coroutine tests the state somewhere before the `await`.
        let check = same()
            .rfind(|a| {
                !a.write && a.at < hop.0 && a.checks && !exclusive_branches(&a.branches, &hop.1)
            })
            .unwrap_or(read);
        let what = match read.kind {
            StateKind::Global => format!("`{}`, a module global", read.shown),
            StateKind::Instance => format!("`{}`, kept on the instance", read.shown),
            StateKind::Class => format!("`{}`, a class attribute", read.shown),
        };
        let act = match write.assigns {
            true => "assignment",
            false => "change",
        };
        return Some(match check.checks {
            true => format!(
                "check-then-act on {what}: its check (line {}) and its {act} (line {}) are \
                 split by the new `await`, so concurrent callers all pass the check before \
                 any of them acts (a lazy object made once per caller, all but the last lost; \
                 a value computed twice, one overwritten); act before the `await`, or hold an \
                 `asyncio.Lock` across the check and the act",
                check.line, write.line
            ),
            false => format!(
                "read-modify-write of {what}: it is read (line {}) and its {act} (line {}) \
                 comes after the new `await`, so another task's change in between is lost; \
                 read it after the `await`, or hold an `asyncio.Lock` across both",
                read.line, write.line
            ),
        });
    }
    None
}
