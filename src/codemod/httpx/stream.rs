//! A streamed response: `with requests.get(url, stream=True) as r:` whose body reads the body
//! with `for chunk in r.iter_content(n):` becomes `async with client.stream("GET", url) as r:`
//! with `async for chunk in r.aiter_bytes(n):` (requests' chunks are `n` bytes, the last one
//! shorter, as httpx's `aiter_bytes(n)`; `iter_content()` reads one byte at a time, so it
//! becomes `aiter_bytes(1)`). `for line in r.iter_lines(...)` becomes `async for line in
//! _iter_lines(r.aiter_bytes(n))`: the module's helper splits the same chunks as requests does
//! (lines of bytes, not httpx's decoded `aiter_lines()`). The response must stay inside the
//! `with`: a use after it, in a nested function, or of the body as a whole (`.content`,
//! `.text`, `.json()`, which an unread httpx stream refuses) means no fix.

use tree_sitter::Node;

use super::HttpxMapping;
use super::arguments::LINES_HELPER;
use super::mapping::ResponseAttribute;
use crate::codemod::strategy::site::Site;
use crate::fix::Edit;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::Resolution;

/// `with <call> as r:` around `call`: the `with` statement and the name `r`.
pub fn streamed_with<'t>(call: Node<'t>) -> Option<(Node<'t>, Node<'t>)> {
    let pattern = call.parent().filter(|p| p.kind_name() == "as_pattern")?;
    let item = pattern.parent().filter(|i| i.kind_name() == "with_item")?;
    let clause = item.parent().filter(|c| c.kind_name() == "with_clause")?;
    let statement = clause
        .parent()
        .filter(|s| s.kind_name() == "with_statement")?;
    if clause.named_child_count() != 1 || statement.child(0)?.kind_name() == "async" {
        return None;
    }
    let target = pattern
        .child_by_field_name("alias")
        .and_then(|a| a.named_child(0).or(Some(a)))
        .filter(|t| t.kind_name() == "identifier")?;
    Some((statement, target))
}

/// Edits for the uses of the streamed response `target` bound by `statement`, and whether
/// they use the module's [`LINES_HELPER`].
pub fn stream_edits(
    site: &Site,
    statement: Node,
    target: Node,
    mapping: &HttpxMapping,
) -> Result<(Vec<Edit>, bool), String> {
    let text = site.text;
    let name = &text[target.byte_range()];
    let Resolution::Binding(binding) = site.index.resolve_name(name, target.end_byte()) else {
        return Err("the streamed response's name cannot be followed".to_owned());
    };
    let body = statement
        .field(Field::Body)
        .ok_or("the `with` has no body")?;
    let function = site.index.scope_at(statement.start_byte());
    let scope = site
        .scope_node(function)
        .ok_or("the function's body is not found")?;
    let mut edits = vec![Edit::insertion(statement.start_byte(), "async ")];
    let mut read = false;
    let mut lines = false;
    let mut stack = vec![scope];
    let mut cursor = scope.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() != "identifier"
            || &text[node.byte_range()] != name
            || node.id() == target.id()
            || site.index.resolve_name(name, node.start_byte()) != Resolution::Binding(binding)
        {
            continue;
        }
        let inside = body.start_byte() <= node.start_byte() && node.end_byte() <= body.end_byte();
        if site.index.scope_at(node.start_byte()) != function {
            return Err(format!(
                "the streamed response `{name}` is used in a nested function"
            ));
        }
        let attribute = node
            .parent()
            .filter(|p| p.kind_name() == "attribute")
            .filter(|p| p.field(Field::Object).is_some_and(|o| o.id() == node.id()))
            .ok_or_else(|| format!("the streamed response `{name}` is passed on"))?;
        let attr_name = attribute.field(Field::Attribute).ok_or("attribute")?;
        let attr = &text[attr_name.byte_range()];
        // After the `with`, the stream is closed: only what does not read the body.
        if !inside && !matches!(attr, "status_code" | "headers" | "history" | "request") {
            return Err(format!(
                "the streamed response's `.{attr}` is used after its `with` block, where an httpx \
                 stream is closed"
            ));
        }
        match attr {
            "iter_content" => {
                let call = attribute
                    .parent()
                    .filter(|c| c.kind_name() == "call")
                    .ok_or("`iter_content` is not called")?;
                let arguments = call.field(Field::Arguments).ok_or("no arguments")?;
                let loop_statement = call
                    .parent()
                    .filter(|f| f.kind_name() == "for_statement")
                    .filter(|f| f.field(Field::Right).is_some_and(|r| r.id() == call.id()))
                    .ok_or("`iter_content()` is not the iterable of a `for` loop")?;
                if loop_statement
                    .child(0)
                    .is_some_and(|c| c.kind_name() == "async")
                {
                    return Err("the loop is already `async for`".to_owned());
                }
                let mut c = arguments.walk();
                let passed: Vec<Node> = arguments
                    .named_children(&mut c)
                    .filter(|a| a.kind_name() != "comment")
                    .collect();
                let chunk = match passed.as_slice() {
                    [] => Some("(1)".to_owned()),
                    [one] if one.kind_name() != "keyword_argument" => None,
                    [one]
                        if one
                            .field(Field::Name)
                            .is_some_and(|n| &text[n.byte_range()] == "chunk_size") =>
                    {
                        None
                    }
                    _ => {
                        return Err(
                            "`iter_content()` with `decode_unicode` has no byte-for-byte httpx \
                             equivalent"
                                .to_owned(),
                        );
                    }
                };
                if passed.len() == 1 && text[passed[0].byte_range()].ends_with("None") {
                    // `iter_content(None)`: the data as it arrives, as `aiter_bytes()`.
                    edits.push(Edit::replacement(arguments.byte_range(), "()"));
                } else if let Some(chunk) = chunk {
                    edits.push(Edit::replacement(arguments.byte_range(), chunk));
                }
                edits.push(Edit::replacement(attr_name.byte_range(), "aiter_bytes"));
                edits.push(Edit::insertion(loop_statement.start_byte(), "async "));
                read = true;
            }
            "iter_lines" => {
                let call = attribute
                    .parent()
                    .filter(|c| c.kind_name() == "call")
                    .ok_or("`iter_lines` is not called")?;
                let loop_statement = call
                    .parent()
                    .filter(|f| f.kind_name() == "for_statement")
                    .filter(|f| f.field(Field::Right).is_some_and(|r| r.id() == call.id()))
                    .ok_or("`iter_lines()` is not the iterable of a `for` loop")?;
                if loop_statement
                    .child(0)
                    .is_some_and(|c| c.kind_name() == "async")
                {
                    return Err("the loop is already `async for`".to_owned());
                }
                let (chunk, delimiter) = iter_lines_arguments(text, call)?;
                let delimiter = delimiter.map_or(String::new(), |d| format!(", {d}"));
                edits.push(Edit::replacement(
                    call.byte_range(),
                    format!("{LINES_HELPER}({name}.aiter_bytes({chunk}){delimiter})"),
                ));
                edits.push(Edit::insertion(loop_statement.start_byte(), "async "));
                read = true;
                lines = true;
            }
            "url" => edits.push(Edit::replacement(
                attribute.byte_range(),
                format!("str({name}.url)"),
            )),
            "raise_for_status" => {
                // httpx raises for 1xx and 3xx too: only call it on an error.
                let statement = attribute
                    .parent()
                    .and_then(|c| c.parent())
                    .filter(|s| s.kind_name() == "expression_statement")
                    .ok_or("`raise_for_status()` is used as a value")?;
                let line = crate::source::line_start_at(text, statement.start_byte());
                let indent = &text[line..statement.start_byte()];
                if !indent.chars().all(|c| c == ' ' || c == '\t') {
                    return Err("`raise_for_status()` shares its line".to_owned());
                }
                let unit = crate::source::detect_indent(text);
                // One unit for the guard, one for the client's `async with` around it all.
                edits.push(Edit::insertion(
                    statement.start_byte(),
                    format!(
                        "if {name}.is_error:{}{indent}{unit}{unit}",
                        site.line_ending
                    ),
                ));
            }
            other => match mapping.response_attribute(other, true) {
                ResponseAttribute::Same if !matches!(other, "content" | "json" | "text") => {}
                _ => {
                    return Err(format!(
                        "the streamed response's `.{other}` has no faithful httpx stream \
                         equivalent"
                    ));
                }
            },
        }
    }
    if !read {
        return Err(
            "the streamed body is not read with `iter_content()` or `iter_lines()`".to_owned(),
        );
    }
    Ok((edits, lines))
}

/// requests' `iter_lines(chunk_size=512, decode_unicode=False, delimiter=None)`: the chunk
/// size and the delimiter as written; `decode_unicode` (other than `False`) has no byte-for-byte
/// equivalent.
fn iter_lines_arguments(text: &str, call: Node) -> Result<(String, Option<String>), String> {
    let arguments = call.field(Field::Arguments).ok_or("no arguments")?;
    let mut cursor = arguments.walk();
    let mut chunk = "512".to_owned();
    let mut delimiter = None;
    let mut position = 0;
    for argument in arguments.named_children(&mut cursor) {
        let (name, value) = match argument.kind_name() {
            "comment" => continue,
            "keyword_argument" => (
                argument
                    .field(Field::Name)
                    .map(|n| &text[n.byte_range()])
                    .unwrap_or_default(),
                argument.field(Field::Value).ok_or("bad keyword")?,
            ),
            "list_splat" | "dictionary_splat" => {
                return Err("`iter_lines(*args)` hides its arguments".to_owned());
            }
            _ => {
                position += 1;
                let name = match position {
                    1 => "chunk_size",
                    2 => "decode_unicode",
                    _ => "delimiter",
                };
                (name, argument)
            }
        };
        let value_text = text[value.byte_range()].to_owned();
        match name {
            "chunk_size" if value.kind_name() != "none" => chunk = value_text,
            "chunk_size" => chunk = String::new(),
            "decode_unicode" if value.kind_name() == "false" => {}
            "delimiter" if value.kind_name() == "none" => {}
            "delimiter" => delimiter = Some(value_text),
            _ => {
                return Err(
                    "`iter_lines()` with `decode_unicode` has no byte-for-byte httpx equivalent"
                        .to_owned(),
                );
            }
        }
    }
    Ok((chunk, delimiter))
}
