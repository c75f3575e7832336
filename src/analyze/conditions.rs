//! What the code around a call says, as the codemods' conditions ask it: whether its result
//! is thrown away or its iterator consumed on the spot, whether a `try` around it catches a
//! given exception, whether it follows an `await` of a readiness function, whether its
//! receiver was made in the calling function, whether its arguments make it return at once.

use tree_sitter::Node;

use super::FileContext;
use crate::codemod::{ArgumentValue, NonBlocking};
use crate::parse::{Field, FieldChild, KindName, handlers_around};
use crate::semantic::{BindingKind, Resolution, ScopeKind};

/// The last name of a callee (`sleep` in `time.sleep`), if it is a plain name or attribute.
pub(super) fn callee_tail<'t>(callee: Node, text: &'t str) -> Option<&'t str> {
    match callee.kind_name() {
        "identifier" => Some(&text[callee.byte_range()]),
        "attribute" => callee
            .field(Field::Attribute)
            .map(|a| &text[a.byte_range()]),
        _ => None,
    }
}

/// Whether the value of `call` is thrown away: the call is a statement of its own, or it is
/// assigned to a function-local name that nothing reads afterwards (`task = create_task(...)`
/// with `task` never used: the reference dies with the frame).
pub(super) fn is_result_discarded(file: &FileContext, call: Node) -> bool {
    let Some(parent) = call.parent() else {
        return false;
    };
    if parent.kind_name() == "expression_statement" {
        return parent.named_child_count() == 1;
    }
    if parent.kind_name() != "assignment"
        || parent
            .field(Field::Right)
            .is_none_or(|r| r.id() != call.id())
        || parent.field(Field::Type).is_some()
    {
        return false;
    }
    let Some(target) = parent
        .field(Field::Left)
        .filter(|l| l.kind_name() == "identifier")
    else {
        return false;
    };
    let scope_id = file.index.scope_at(call.start_byte());
    let scope = file.index.scope(scope_id);
    if !matches!(scope.kind, ScopeKind::Function { .. }) {
        return false;
    }
    let name = &file.text[target.byte_range()];
    let Some(body) = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(scope.range.start, scope.range.end)
    else {
        return false;
    };
    // Any other occurrence of the name in the function (nested scopes included, `global` /
    // `nonlocal` too) counts as a use: only a name that appears nowhere else is dead.
    let mut uses = 0;
    let mut cursor = body.walk();
    loop {
        let node = cursor.node();
        if node.kind_name() == "identifier" && &file.text[node.byte_range()] == name {
            uses += 1;
            if uses > 1 {
                return false;
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == body.id() {
                return uses == 1;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return uses == 1;
            }
        }
    }
}

/// Whether the iterator `call` returns is consumed right there: the iterable of a `for` or a
/// comprehension, or the argument of a builtin that drains it (`list(...)`, `sorted(...)`).
pub(super) fn is_consumed_in_place(file: &FileContext, call: Node) -> bool {
    let Some(parent) = call.parent() else {
        return false;
    };
    let is_right = |node: Node| {
        node.field(Field::Right)
            .is_some_and(|r| r.id() == call.id())
    };
    match parent.kind_name() {
        "for_statement" | "for_in_clause" => is_right(parent),
        "argument_list" => {
            let Some(consumer) = parent.parent().and_then(|c| c.field(Field::Function)) else {
                return false;
            };
            matches!(
                file.index.qualified_name(consumer, file.text).as_deref(),
                Some(
                    "builtins.list"
                        | "builtins.sorted"
                        | "builtins.tuple"
                        | "builtins.set"
                        | "builtins.frozenset"
                        | "builtins.sum"
                        | "builtins.any"
                        | "builtins.all"
                        | "builtins.max"
                        | "builtins.min"
                        | "builtins.dict"
                        | "builtins.next"
                )
            )
        }
        _ => false,
    }
}

/// Whether `call` sits in the body of a `try` (in its own function) with an `except` for one
/// of `exceptions` (qualified names).
pub(super) fn caught_by(file: &FileContext, call: Node, exceptions: &[String]) -> bool {
    !exceptions.is_empty()
        && handlers_around(call).iter().any(|handler| {
            handler.items.iter().any(|item| {
                file.index
                    .qualified_name(*item, file.text)
                    .is_some_and(|q| exceptions.contains(&q))
            })
        })
}

/// Whether the statement before the one holding `call` (in the same block) awaits a function
/// whose last name is one of `names`: `await wait_readable(sock)` then `sock.recv(n)`.
pub(super) fn follows_await_of(file: &FileContext, call: Node, names: &[String]) -> bool {
    if names.is_empty() {
        return false;
    }
    let mut statement = call;
    while let Some(parent) = statement.parent() {
        if matches!(parent.kind_name(), "block" | "module") {
            break;
        }
        statement = parent;
    }
    let mut previous = statement.prev_named_sibling();
    while let Some(node) = previous.filter(|n| n.kind_name() == "comment") {
        previous = node.prev_named_sibling();
    }
    let Some(previous) = previous else {
        return false;
    };
    let mut stack = vec![previous];
    let mut cursor = previous.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "await"
            && let Some(awaited) = node.named_child(0).filter(|n| n.kind_name() == "call")
            && let Some(function) = awaited.field(Field::Function)
            && callee_tail(function, file.text).is_some_and(|tail| names.iter().any(|n| n == tail))
        {
            return true;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether the call's argument text mentions one of `words`.
pub(super) fn mentions_any(file: &FileContext, call: Node, words: &[String]) -> bool {
    !words.is_empty()
        && call.field(Field::Arguments).is_some_and(|arguments| {
            let text = &file.text[arguments.byte_range()];
            words.iter().any(|w| text.contains(w.as_str()))
        })
}

/// Whether one of the `[[match.non-blocking]]` tables for `qualified` holds for `call`: the
/// argument it names (by position or keyword) is one of its values, read from the tree and
/// resolved names (`block=False`, `timeout=0`, `os.WNOHANG | os.WUNTRACED`). An argument
/// unpacked from `*args` / `**kwargs`, or any other expression, is not known: still blocking.
pub(super) fn is_non_blocking(
    file: &FileContext,
    call: Node,
    qualified: &str,
    tables: &[NonBlocking],
) -> bool {
    let Some(arguments) = call.field(Field::Arguments) else {
        return false;
    };
    tables
        .iter()
        .filter(|table| table.calls.contains(qualified))
        .any(|table| {
            match argument(file, arguments, table.position, table.keyword.as_deref()) {
                Some(value) => is_one_of(file, value, &table.values),
                // `psutil.cpu_percent()`: the default; unless `*args` / `**kwargs` may pass it.
                None => table.when_absent && !has_splat(arguments),
            }
        })
}

/// Whether the call unpacks `*args` or `**kwargs`, which may pass any argument.
fn has_splat(arguments: Node) -> bool {
    let mut cursor = arguments.walk();
    arguments
        .named_children(&mut cursor)
        .any(|child| matches!(child.kind_name(), "list_splat" | "dictionary_splat"))
}

/// The argument passed at `position` or as `keyword`, when the call shows it.
fn argument<'t>(
    file: &FileContext,
    arguments: Node<'t>,
    position: Option<usize>,
    keyword: Option<&str>,
) -> Option<Node<'t>> {
    let mut cursor = arguments.walk();
    let mut index = 0;
    for child in arguments.named_children(&mut cursor) {
        match child.kind_name() {
            "keyword_argument" => {
                let name = child.field(Field::Name)?;
                if keyword == Some(&file.text[name.byte_range()]) {
                    return child.field(Field::Value);
                }
            }
            // What `*args` holds is not known: no later position is either.
            "list_splat" => index = usize::MAX,
            "dictionary_splat" | "comment" => {}
            _ => {
                if position == Some(index) {
                    return Some(child);
                }
                index = index.saturating_add(1);
            }
        }
    }
    None
}

fn is_one_of(file: &FileContext, value: Node, values: &[ArgumentValue]) -> bool {
    let text = &file.text[value.byte_range()];
    match value.kind_name() {
        "parenthesized_expression" => value
            .named_child(0)
            .is_some_and(|inner| is_one_of(file, inner, values)),
        "false" | "true" | "none" => values
            .iter()
            .any(|v| matches!(v, ArgumentValue::Constant(c) if c == text)),
        "integer" | "float" => {
            let number = text.replace('_', "").parse::<f64>().ok();
            values
                .iter()
                .any(|v| matches!(v, ArgumentValue::Number(n) if Some(*n) == number))
        }
        // `os.WNOHANG | os.WUNTRACED`: one of the flags.
        "binary_operator" => {
            value
                .field(Field::Operator)
                .is_some_and(|o| &file.text[o.byte_range()] == "|")
                && [Field::Left, Field::Right].into_iter().any(|side| {
                    value
                        .field(side)
                        .is_some_and(|operand| is_one_of(file, operand, values))
                })
        }
        "identifier" | "attribute" => {
            file.index
                .qualified_name(value, file.text)
                .is_some_and(|name| {
                    values
                        .iter()
                        .any(|v| matches!(v, ArgumentValue::Name(n) if *n == name))
                })
        }
        _ => false,
    }
}

/// Whether `callee` is a method of an object made in the calling function itself
/// (`s = requests.Session()`, `with requests.Session() as s`): no other coroutine holds it.
/// What a method returns is as local as the object it was called on: `col =
/// remote.get_collection(...)` of a shared client is not.
pub(super) fn has_local_receiver(file: &FileContext, callee: Node) -> bool {
    local_receiver_at(file, callee, 0)
}

/// How many makers back [`local_receiver_at`] follows.
const MAX_MAKERS: usize = 8;

fn local_receiver_at(file: &FileContext, callee: Node, depth: usize) -> bool {
    if depth > MAX_MAKERS {
        return false;
    }
    let Some(object) = callee.field(Field::Object) else {
        return false;
    };
    if object.kind_name() == "call" {
        // `requests.Session().get(...)`: a fresh object, used once;
        // `driver.find_element(...).click()`: as local as `driver`.
        return fresh_or_local(file, object, depth);
    }
    local_object(file, object, callee.start_byte(), depth)
}

/// Whether `object` (the receiver of a call at `at`) is the calling function's own: a name
/// assigned in it from something fresh or local, or a member of such a name
/// (`client.containers` of `client = docker.from_env()`). A name bound to another name or
/// member is as local as that one (`c = shared_client` is not).
fn local_object(file: &FileContext, object: Node, at: usize, depth: usize) -> bool {
    if depth > MAX_MAKERS {
        return false;
    }
    if object.kind_name() == "attribute" {
        return object
            .field(Field::Object)
            .is_some_and(|inner| local_object(file, inner, at, depth + 1));
    }
    if object.kind_name() != "identifier" {
        return false;
    }
    let name = &file.text[object.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, object.start_byte()) else {
        return false;
    };
    let binding = file.index.binding(id);
    let function = file.index.scope_at(at);
    if binding.kind != BindingKind::Assignment
        || binding.scope != function
        || !matches!(file.index.scope(function).kind, ScopeKind::Function { .. })
    {
        return false;
    }
    let Some(value) = binding.value.as_ref() else {
        return false;
    };
    let root = file.parsed.tree.root_node();
    match crate::semantic::node_at(root, value) {
        Some(value) if value.kind_name() == "call" => fresh_or_local(file, value, depth),
        Some(value) if matches!(value.kind_name(), "identifier" | "attribute") => {
            local_object(file, value, at, depth + 1)
        }
        _ => true,
    }
}

/// Whether the object `call` returns is fresh (a constructor: `Session()`,
/// `requests.Session()`) or made by a method of a local object.
fn fresh_or_local(file: &FileContext, call: Node, depth: usize) -> bool {
    let Some(made) = call.field(Field::Function) else {
        return false;
    };
    if made.kind_name() != "attribute" {
        return made.kind_name() == "identifier";
    }
    let Some(owner) = made.field(Field::Object) else {
        return false;
    };
    match owner.kind_name() {
        "identifier" => {
            let name = &file.text[owner.byte_range()];
            let imported = matches!(
                file.index.resolve_name(name, owner.start_byte()),
                Resolution::Binding(id)
                    if matches!(file.index.binding(id).kind, BindingKind::Import { .. })
            );
            imported || local_receiver_at(file, made, depth + 1)
        }
        "call" | "attribute" => {
            // `webdriver.chrome.webdriver.WebDriver()`: a module path; `self.x.m()`: not local.
            file.index.qualified_name(owner, file.text).is_some()
                || (owner.kind_name() == "call" && local_receiver_at(file, made, depth + 1))
                // `client.containers.get(...)` of a local `client`.
                || (owner.kind_name() == "attribute"
                    && local_object(file, owner, made.start_byte(), depth + 1))
        }
        _ => false,
    }
}
