//! The name of the function the `offload-block` strategy extracts from a `with` block: what
//! the block does, as a reviewer would name it (`_read_config`, `_write_state`,
//! `_send_message`), read from the resource's call (an `open` mode), the method the block
//! calls on the resource, the names it returns and the data it writes. The caller makes the
//! name unique in the coroutine (`offload.rs`).

use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{Resolution, SemanticIndex};
use tree_sitter::Node;

/// The name of the nested function running `if <check>: <act>` (`statement`) in one worker
/// thread, said from its action and its negation: `_remove_if_exists`,
/// `_makedirs_unless_exists` (the check itself negated, also inside `a and not b`), and for an
/// `if` with an `else`, both actions (`_copytree_or_copy2`). The action is the last call of a
/// branch that is not itself the check of a nested `if`. `None` when a call has no plain name.
pub fn check_then_act_base(
    text: &str,
    statement: Node,
    check: Node,
    acts: &[Node],
) -> Option<String> {
    let word = |call: Node| {
        let callee = call.field(Field::Function)?;
        let name = match callee.kind_name() {
            "attribute" => callee.field(Field::Attribute)?,
            _ => callee,
        };
        Some(
            text[name.byte_range()]
                .trim_start_matches('_')
                .to_ascii_lowercase(),
        )
    };
    let mut negated = false;
    let mut node = check;
    while let Some(parent) = node.parent() {
        match parent.kind_name() {
            "not_operator" => negated = !negated,
            "parenthesized_expression" => {}
            _ => break,
        }
        node = parent;
    }
    // A call that is the condition (or in it) of a nested `if` checks; it does not act.
    let checks_nested_if = |call: Node| {
        let mut node = call;
        while let Some(parent) = node.parent() {
            if parent.id() == statement.id() {
                return false;
            }
            if matches!(
                parent.kind_name(),
                "if_statement" | "elif_clause" | "while_statement"
            ) && parent.field(Field::Condition).is_some_and(|c| {
                c.start_byte() <= call.start_byte() && call.end_byte() <= c.end_byte()
            }) {
                return true;
            }
            node = parent;
        }
        false
    };
    let within = |branch: Option<Node>| {
        let branch = branch?;
        let inside =
            |a: &&Node| branch.start_byte() <= a.start_byte() && a.end_byte() <= branch.end_byte();
        acts.iter()
            .rfind(|a| inside(a) && !checks_nested_if(**a))
            .or_else(|| acts.iter().rfind(inside))
            .copied()
    };
    let consequence = within(statement.field(Field::Consequence));
    let alternative = within(statement.child_by_field_name("alternative"));
    let checked = word(check)?;
    let connective = if negated { "unless" } else { "if" };
    Some(match (consequence, alternative) {
        (Some(then), Some(otherwise)) => {
            let (then, otherwise) = (word(then)?, word(otherwise)?);
            if then == otherwise {
                format!("_{then}_if_{checked}_or_not")
            } else {
                format!("_{then}_or_{otherwise}")
            }
        }
        (Some(act), None) | (None, Some(act)) => format!("_{}_{connective}_{checked}", word(act)?),
        (None, None) => format!("_{}_{connective}_{checked}", word(*acts.first()?)?),
    })
}

/// The last segments of the callables that open a file, whose mode says what the block does.
const OPENERS: &[&str] = &["open", "open_code"];

/// Nouns that say nothing about the data: a block writing `path` is writing "a file".
const VAGUE_NOUNS: &[&str] = &[
    "path",
    "file",
    "filepath",
    "file_path",
    "filename",
    "file_name",
    "fname",
    "name",
    "fp",
    "fh",
    "fd",
    "out",
    "tmp",
    "temp",
    "data_file",
];

/// Suffixes a noun loses: `config_path` names the config.
const PATH_SUFFIXES: &[&str] = &[
    "_file_path",
    "_filepath",
    "_file_name",
    "_filename",
    "_fname",
    "_path",
    "_name",
    "_directory",
    "_dir",
    "_folder",
];

/// What the block does, and to what: `_read_config` (no leading underscore trimmed later).
pub(super) struct HelperFacts<'a, 't> {
    pub text: &'a str,
    pub index: &'a SemanticIndex,
    /// The `with` statement.
    pub with: Node<'t>,
    /// The names the `with` binds with `as`.
    pub targets: &'a [Node<'t>],
    /// The names the block binds and the coroutine reads afterwards.
    pub returned: &'a [String],
    /// The block's last statement, when it is a `return`.
    pub last_return: Option<Node<'t>>,
}

/// `_verb_noun` for the block, e.g. `_read_config`, `_write_payload`, `_send_message`.
pub(super) fn helper_base(facts: &HelperFacts) -> String {
    let resource = resource_call(facts);
    let mode = resource.and_then(|call| open_mode(facts, call));
    let class = resource.and_then(|call| callee_last(facts.text, call));
    let temporary = resource
        .and_then(|call| call.field(Field::Function))
        .and_then(|callee| facts.index.qualified_name(callee, facts.text))
        .is_some_and(|q| q.starts_with("tempfile."));
    // The verb, and the noun when nothing better names the object.
    let (verb, fallback) = match (mode, temporary, target_method(facts), class) {
        (Some(mode), ..) => (mode.to_owned(), Some("file".to_owned())),
        (None, true, ..) => ("make_temp".to_owned(), Some("file".to_owned())),
        (None, false, Some((method, target)), _) => (
            identifier(&method),
            target.map(|t| noun(&t)).filter(|t| t.len() > 2),
        ),
        // `with s.get(url) as r:` does a `get`; `with SMTP(host) as s:` uses an SMTP.
        (None, false, None, Some(callee)) if callee.starts_with(|c: char| c.is_lowercase()) => {
            (identifier(&callee), None)
        }
        (None, false, None, callee) => ("use".to_owned(), callee.map(|c| identifier(&c))),
    };
    let verb = if verb.is_empty() {
        "use".to_owned()
    } else {
        verb
    };
    let writes = matches!(mode, Some("write" | "append" | "update"));
    let returned = facts.returned.iter().map(|n| identifier(n));
    let from_return = facts
        .last_return
        .and_then(|r| r.named_child(0))
        .and_then(|e| expression_noun(facts.text, e));
    let data = writes.then(|| written_data(facts)).flatten();
    let path = mode
        .is_some()
        .then(|| resource.and_then(|call| path_noun(facts, call)))
        .flatten();
    let noun = returned
        .chain(from_return)
        .chain(data)
        .chain(path)
        .map(|n| noun(&n))
        .find(|n| n.len() > 2 && !VAGUE_NOUNS.contains(&n.as_str()) && *n != verb);
    match noun.or(fallback.filter(|f| !f.is_empty())) {
        Some(noun) => format!("_{verb}_{noun}"),
        None => format!("_{verb}"),
    }
}

/// The first item's resource call: `open(p, "w")` in `with open(p, "w") as f:`.
fn resource_call<'t>(facts: &HelperFacts<'_, 't>) -> Option<Node<'t>> {
    let clause = facts
        .with
        .named_child(0)
        .filter(|c| c.kind_name() == "with_clause")?;
    let item = clause.named_child(0)?;
    let mut value = item.field(Field::Value)?;
    if value.kind_name() == "as_pattern" {
        value = value.named_child(0)?;
    }
    (value.kind_name() == "call").then_some(value)
}

/// The callee's last segment: `open` for `gzip.open`, `SMTP` for `smtplib.SMTP`.
fn callee_last(text: &str, call: Node) -> Option<String> {
    let callee = call.field(Field::Function)?;
    let name = match callee.kind_name() {
        "identifier" => callee,
        "attribute" => callee.field(Field::Attribute)?,
        _ => return None,
    };
    Some(text[name.byte_range()].to_owned())
}

/// `read`, `write`, `append` or `update` for a call that opens a file with a literal mode
/// (none: `read`); `None` for any other call, or a mode the text does not spell.
fn open_mode(facts: &HelperFacts, call: Node) -> Option<&'static str> {
    let text = facts.text;
    let last = callee_last(text, call)?;
    if !OPENERS.contains(&last.as_str()) {
        return None;
    }
    let callee = call.field(Field::Function)?;
    // `open(p, mode)` takes the mode second; `path.open(mode)` first.
    let is_method = callee.kind_name() == "attribute"
        && facts
            .index
            .qualified_name(callee, text)
            .is_none_or(|q| !q.ends_with(".open") || q.starts_with("pathlib."));
    let position = if is_method { 0 } else { 1 };
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let children: Vec<Node> = arguments.named_children(&mut cursor).collect();
    let keyword = children.iter().find_map(|a| {
        (a.kind_name() == "keyword_argument"
            && a.field(Field::Name)
                .is_some_and(|n| &text[n.byte_range()] == "mode"))
        .then(|| a.field(Field::Value))
        .flatten()
    });
    let positional = children
        .iter()
        .filter(|a| !matches!(a.kind_name(), "keyword_argument" | "comment"))
        .nth(position)
        .copied();
    let mode = match keyword.or(positional) {
        None => return Some("read"),
        Some(m) if m.kind_name() == "string" => string_value(text, m)?,
        Some(_) => return None,
    };
    Some(if mode.contains('+') {
        "update"
    } else if mode.contains('w') || mode.contains('x') {
        "write"
    } else if mode.contains('a') {
        "append"
    } else {
        "read"
    })
}

/// The text of a plain string literal (no interpolation).
fn string_value(text: &str, string: Node) -> Option<String> {
    let mut cursor = string.walk();
    let mut value = String::new();
    for child in string.named_children(&mut cursor) {
        match child.kind_name() {
            "string_start" | "string_end" => {}
            "string_content" => value.push_str(&text[child.byte_range()]),
            _ => return None,
        }
    }
    Some(value)
}

/// Whether `node` is (an attribute or call chain on) one of the `with` targets.
fn on_target(facts: &HelperFacts, node: Node) -> bool {
    let mut root = node;
    loop {
        match root.kind_name() {
            "attribute" => root = root.field(Field::Object).unwrap_or(root),
            "call" => root = root.field(Field::Function).unwrap_or(root),
            _ => break,
        }
        if matches!(root.kind_name(), "identifier") {
            break;
        }
    }
    root.kind_name() == "identifier"
        && facts
            .targets
            .iter()
            .any(|t| facts.text[t.byte_range()] == facts.text[root.byte_range()])
}

/// The calls in the block's body, in source order (not inside nested functions).
fn body_calls<'t>(facts: &HelperFacts<'_, 't>) -> Vec<Node<'t>> {
    let mut calls = Vec::new();
    let Some(body) = facts.with.field(Field::Body) else {
        return calls;
    };
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        if matches!(
            node.kind_name(),
            "function_definition" | "class_definition" | "lambda"
        ) {
            continue;
        }
        if node.kind_name() == "call" {
            calls.push(node);
        }
        stack.extend(node.named_children(&mut cursor));
    }
    calls.sort_by_key(|call| (call.start_byte(), call.end_byte()));
    calls
}

/// The method the block calls on a `with` target with the most arguments (the first of
/// those): `sendmail` in `smtp.ehlo(); smtp.sendmail(a, b, m); smtp.quit()`, `read` in
/// `proc.stdout.read()`; and the target, when the call takes no argument (`proc.wait()`).
fn target_method(facts: &HelperFacts) -> Option<(String, Option<String>)> {
    let mut best: Option<(usize, String, Option<String>)> = None;
    for call in body_calls(facts) {
        let Some(callee) = call.field(Field::Function) else {
            continue;
        };
        let Some(object) = callee.field(Field::Object) else {
            continue;
        };
        // A method of the resource or of one of its attributes (`proc.stdout.read`), not of
        // what a call returned (`.strip()` in `proc.stdout.read().strip()`).
        let mut root = object;
        while root.kind_name() == "attribute" {
            root = root.field(Field::Object).unwrap_or(root);
            if root.kind_name() != "attribute" {
                break;
            }
        }
        if callee.kind_name() != "attribute"
            || root.kind_name() != "identifier"
            || !on_target(facts, object)
        {
            continue;
        }
        let Some(name) = callee.field(Field::Attribute) else {
            continue;
        };
        let count = call
            .field(Field::Arguments)
            .map_or(0, |a| a.named_child_count());
        if best.as_ref().is_none_or(|(most, ..)| count > *most) {
            let target = (count == 0)
                .then(|| expression_noun(facts.text, object))
                .flatten();
            best = Some((count, facts.text[name.byte_range()].to_owned(), target));
        }
    }
    best.map(|(_, method, target)| (method, target))
}

/// What the block writes: the first argument of `f.write(x)`, or of a call that is given the
/// file (`json.dump(payload, f)`), when it names something.
fn written_data(facts: &HelperFacts) -> Option<String> {
    body_calls(facts).into_iter().find_map(|call| {
        let callee = call.field(Field::Function)?;
        let arguments = call.field(Field::Arguments)?;
        let mut cursor = arguments.walk();
        let positional: Vec<Node> = arguments
            .named_children(&mut cursor)
            .filter(|a| !matches!(a.kind_name(), "keyword_argument" | "comment"))
            .collect();
        let method_on_file = callee.kind_name() == "attribute"
            && callee
                .field(Field::Object)
                .is_some_and(|o| on_target(facts, o));
        let given_the_file = positional.iter().any(|a| on_target(facts, *a));
        if !method_on_file && !given_the_file {
            return None;
        }
        positional
            .into_iter()
            .filter(|a| !on_target(facts, *a) && a.kind_name() != "string")
            .find_map(|a| expression_noun(facts.text, a))
    })
}

/// A noun for an expression: a name, an attribute's name (`self.state` → `state`), the
/// stem of a string literal's file name (`"config.json"` → `config`).
fn expression_noun(text: &str, node: Node) -> Option<String> {
    match node.kind_name() {
        "identifier" => Some(text[node.byte_range()].to_owned()),
        "attribute" => {
            let attribute = &text[node.field(Field::Attribute)?.byte_range()];
            // `temp_config.name`: the object names the file better.
            if matches!(attribute, "name" | "path") {
                return node
                    .field(Field::Object)
                    .and_then(|o| expression_noun(text, o))
                    .or_else(|| Some(attribute.to_owned()));
            }
            Some(attribute.to_owned())
        }
        "string" => {
            let value = string_value(text, node)?;
            let file = value.rsplit(['/', '\\']).next()?;
            Some(file.split('.').next().unwrap_or(file).to_owned())
        }
        "parenthesized_expression" => expression_noun(text, node.named_child(0)?),
        _ => None,
    }
}

/// A noun for the file a call opens: its path argument (`self.config_path` → `config`),
/// through `os.path.join(...)`, `Path(...)` and `base / "name.json"` (the last part).
fn path_noun(facts: &HelperFacts, call: Node) -> Option<String> {
    let callee = call.field(Field::Function)?;
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let first = arguments
        .named_children(&mut cursor)
        .find(|a| !matches!(a.kind_name(), "keyword_argument" | "comment"));
    // `path.open()`: the object is the path.
    let path = match (callee.kind_name(), first) {
        ("attribute", _) if is_path_method(facts, callee) => callee.field(Field::Object)?,
        (_, Some(first)) => first,
        _ => return None,
    };
    path_part(facts.text, path).or_else(|| {
        // `path = os.path.join(root, SNAPSHOT_NAME)` before the block names the file.
        let assigned = (path.kind_name() == "identifier")
            .then(|| assigned_before(facts.text, facts.with, &facts.text[path.byte_range()]))
            .flatten()?;
        path_part(facts.text, assigned)
    })
}

/// The value of the last plain assignment `name = value` before `statement`, in the blocks
/// around it up to the function.
fn assigned_before<'t>(text: &str, statement: Node<'t>, name: &str) -> Option<Node<'t>> {
    let mut current = statement;
    while let Some(parent) = current.parent() {
        if matches!(parent.kind_name(), "function_definition" | "module") {
            return None;
        }
        if parent.kind_name() == "block" {
            let mut cursor = parent.walk();
            let before: Vec<Node> = parent
                .named_children(&mut cursor)
                .take_while(|c| c.id() != current.id())
                .collect();
            let found = before.into_iter().rev().find_map(|c| {
                let assignment = c.named_child(0).filter(|a| {
                    c.kind_name() == "expression_statement" && a.kind_name() == "assignment"
                })?;
                let left = assignment.field(Field::Left)?;
                (left.kind_name() == "identifier" && &text[left.byte_range()] == name)
                    .then(|| assignment.field(Field::Right))
                    .flatten()
            });
            if found.is_some() {
                return found;
            }
        }
        current = parent;
    }
    None
}

/// Whether `callee` is `<path>.open` (a method of the object), not `gzip.open`.
fn is_path_method(facts: &HelperFacts, callee: Node) -> bool {
    let Some(object) = callee.field(Field::Object) else {
        return false;
    };
    match object.kind_name() {
        "identifier" => match facts
            .index
            .resolve_name(&facts.text[object.byte_range()], object.start_byte())
        {
            Resolution::Binding(id) => !matches!(
                facts.index.binding(id).kind,
                crate::semantic::BindingKind::Import { .. }
            ),
            Resolution::Builtin => false,
        },
        _ => true,
    }
}

/// The informative part of a path expression, last parts first.
fn path_part(text: &str, node: Node) -> Option<String> {
    let useful = |n: &String| {
        let n = noun(n);
        n.len() > 2 && !VAGUE_NOUNS.contains(&n.as_str())
    };
    match node.kind_name() {
        "call" => {
            let arguments = node.field(Field::Arguments)?;
            let mut cursor = arguments.walk();
            let parts: Vec<Node> = arguments
                .named_children(&mut cursor)
                .filter(|a| !matches!(a.kind_name(), "keyword_argument" | "comment"))
                .collect();
            parts
                .into_iter()
                .rev()
                .filter_map(|p| path_part(text, p))
                .find(useful)
        }
        "binary_operator" => [node.field(Field::Right), node.field(Field::Left)]
            .into_iter()
            .flatten()
            .filter_map(|p| path_part(text, p))
            .find(useful),
        _ => expression_noun(text, node).filter(useful),
    }
}

/// `name` as a lowercase snake-case identifier part: ASCII letters, digits and single
/// underscores, none at the ends.
fn identifier(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return String::new();
    }
    out.chars()
        .take(32)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned()
}

/// A noun from a name: snake case, without a path suffix (`config_path` → `config`).
fn noun(name: &str) -> String {
    let name = identifier(name);
    PATH_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).filter(|s| !s.is_empty()))
        .map_or(name.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_snake_case() {
        assert_eq!(identifier("SMTP"), "smtp");
        assert_eq!(identifier("sendMessage"), "send_message");
        assert_eq!(identifier("__state__"), "state");
        assert_eq!(identifier("2fa"), "");
        assert_eq!(identifier("設定"), "");
        assert_eq!(noun("config_path"), "config");
        assert_eq!(noun("_path"), "path");
    }
}
