//! The response of a rewritten call, when bound to a local name: the attributes that differ
//! between requests and httpx are rewritten (`.ok` → `not r.is_error`, `.url` →
//! `str(r.url)`, `.reason` → `.reason_phrase`, `.is_redirect` → `.has_redirect_location`,
//! `.next` → `.next_request`, `if r:` → `if not r.is_error:`, `r.raise_for_status()` →
//! `if r.is_error: r.raise_for_status()`), those with a stated difference add a caveat, and
//! those without an equivalent refuse the fix (reference §4). Which attributes are the same,
//! renamed or stated is the mapping's `response` table.

use crate::parse::KindName;
use tree_sitter::Node;

use super::HttpxMapping;
use super::handlers::{Handlers, Raiser};
use super::mapping::ResponseAttribute;
use crate::codemod::strategy::site::Site;
use crate::fix::Edit;
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingKind, Resolution, ScopeKind};

/// Edits for the uses of the response when the statement binds it to a local name; an error
/// when a use has no faithful httpx equivalent.
pub fn response_edits<'t>(
    site: &Site<'t>,
    call: Node<'t>,
    statement: Node<'t>,
    caveats: &mut Vec<String>,
    handlers: &mut Handlers<'t>,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Result<Vec<Edit>, String> {
    let text = site.text;
    // `r = requests.get(...)` (or an annotated assignment).
    let assignment = statement
        .named_child(0)
        .filter(|a| a.kind_name() == "assignment")
        .filter(|a| a.field(Field::Right).is_some_and(|r| r.id() == call.id()));
    let direct_parent = call.parent();
    let mut edits = Vec::new();
    let Some(assignment) = assignment else {
        // The response is used in place: `requests.get(u).json()`, or returned, or dropped.
        if let Some(parent) = direct_parent
            && parent.kind_name() == "attribute"
        {
            let attribute = parent.field(Field::Attribute).ok_or("attribute")?;
            let name = &text[attribute.byte_range()];
            // Invalid JSON caught around the call: the widened clause catches httpx's error.
            let caught = name == "json"
                && handlers.around(site, parent, Raiser::Json, client_module, mapping)?;
            if !caught {
                check_attribute(name, false, mapping, caveats)?;
            }
        } else if statement.kind_name() == "return_statement" {
            caveats.push(
                "the response is returned: its callers see an httpx response (`.ok`, `.url`, \
                 `.reason` and `.text` differ)"
                    .to_owned(),
            );
        }
        return Ok(edits);
    };
    let target = assignment
        .field(Field::Left)
        .filter(|l| l.kind_name() == "identifier")
        .ok_or("the response is unpacked or stored on an object")?;
    let name = &text[target.byte_range()];
    let function = site.index.scope_at(call.start_byte());
    if !matches!(site.index.scope(function).kind, ScopeKind::Function { .. }) {
        return Err("the response is bound outside a function".to_owned());
    }
    let Resolution::Binding(binding) = site.index.resolve_name(name, target.end_byte() + 1) else {
        return Err("the response's name cannot be followed".to_owned());
    };
    let body = site
        .tree
        .root_node()
        .descendant_for_byte_range(
            site.index.scope(function).range.start,
            site.index.scope(function).range.end,
        )
        .ok_or("no function body")?;
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() != "identifier"
            || &text[node.byte_range()] != name
            || node.start_byte() <= target.start_byte()
            || site.index.resolve_name(name, node.start_byte()) != Resolution::Binding(binding)
        {
            continue;
        }
        let Some(parent) = node.parent() else {
            continue;
        };
        let is_object = parent.kind_name() == "attribute"
            && parent
                .field(Field::Object)
                .is_some_and(|o| o.id() == node.id());
        if is_object {
            let attribute = parent.field(Field::Attribute).ok_or("attribute")?;
            let attr = &text[attribute.byte_range()];
            match attr {
                "ok" => match parent.parent().filter(|p| p.kind_name() == "not_operator") {
                    // `not r.ok` → `r.is_error`
                    Some(negation) => edits.push(Edit::replacement(
                        negation.byte_range(),
                        format!("{name}.is_error"),
                    )),
                    None => edits.push(Edit::replacement(
                        parent.byte_range(),
                        format!("(not {name}.is_error)"),
                    )),
                },
                "url" => edits.push(Edit::replacement(
                    parent.byte_range(),
                    format!("str({name}.url)"),
                )),
                "raise_for_status" => {
                    let call = parent.parent().filter(|c| c.kind_name() == "call");
                    let statement = call
                        .and_then(|c| c.parent())
                        .filter(|s| s.kind_name() == "expression_statement");
                    match statement {
                        // httpx raises for 1xx and 3xx too: only call it on an error.
                        Some(statement) => {
                            edits.push(Edit::insertion(
                                statement.start_byte(),
                                guard_prefix(site, statement, &format!("if {name}.is_error:")),
                            ));
                            handlers.around(
                                site,
                                statement,
                                Raiser::Request,
                                client_module,
                                mapping,
                            )?;
                        }
                        None => {
                            return Err(
                                "`raise_for_status()` is used as a value; httpx raises for 3xx too"
                                    .to_owned(),
                            );
                        }
                    }
                }
                other => {
                    // Invalid JSON caught around the call: the widened clause catches httpx's
                    // error, so nothing differs there.
                    if other == "json"
                        && handlers.around(site, parent, Raiser::Json, client_module, mapping)?
                    {
                        continue;
                    }
                    if let Some(renamed) = check_attribute(other, true, mapping, caveats)? {
                        edits.push(Edit::replacement(attribute.byte_range(), renamed));
                    }
                }
            }
            continue;
        }
        match parent.kind_name() {
            // `if r:` / `while r:`: requests' truth value is `.ok`; an httpx response is
            // always true.
            "if_statement"
            | "while_statement"
            | "elif_clause"
            | "conditional_expression"
            | "boolean_operator"
            | "not_operator" => {
                edits.push(Edit::replacement(
                    node.byte_range(),
                    format!("(not {name}.is_error)"),
                ));
            }
            "argument_list" => edits.extend(passed_to(site, parent, node, None, caveats, mapping)?),
            "keyword_argument"
                if parent
                    .parent()
                    .is_some_and(|a| a.kind_name() == "argument_list") =>
            {
                let keyword = parent.field(Field::Name).map(|n| &text[n.byte_range()]);
                let arguments = parent.parent().expect("checked");
                edits.extend(passed_to(site, arguments, node, keyword, caveats, mapping)?);
            }
            _ => caveats.push(format!(
                "the response `{name}` is passed on: code that receives it sees an httpx response"
            )),
        }
    }
    Ok(edits)
}

/// The response `argument` is passed to a call (by position in `arguments`, or as `keyword`):
/// into a function of this file, its parameter's uses are followed and adapted where that
/// works for a requests response too (`p.url` → `str(p.url)`), attributes that behave the same
/// pass, anything else means no fix; a builtin (`print(r)`) or a method of another object
/// (`results.append(r)`) keeps a stated difference; an imported function (another module of
/// the project, maybe) or a method of the class (`self._summary(r)`) means no fix, with the
/// reason.
fn passed_to(
    site: &Site,
    arguments: Node,
    argument: Node,
    keyword: Option<&str>,
    caveats: &mut Vec<String>,
    mapping: &HttpxMapping,
) -> Result<Vec<Edit>, String> {
    let text = site.text;
    let response = &text[argument.byte_range()];
    let call = arguments
        .parent()
        .filter(|c| c.kind_name() == "call")
        .ok_or("the response is passed on")?;
    let callee = call
        .field(Field::Function)
        .ok_or("the call has no callee")?;
    let callee_text = &text[callee.byte_range()];
    let passed_on = |caveats: &mut Vec<String>| {
        caveats.push(format!(
            "the response `{response}` is passed to `{callee_text}`, which sees an httpx response"
        ));
        Ok(Vec::new())
    };
    let cannot_follow = |why: &str| {
        Err(format!(
            "the response `{response}` is passed to `{callee_text}`, {why}: it would get an \
             httpx response (`.url` an `httpx.URL`, no `.ok` or `.reason`)"
        ))
    };
    if callee.kind_name() == "attribute" {
        // A module's function (`helpers.summary(r)`) may be the project's; a method of an
        // object (`results.append(r)`, `log.info(r)`) is the object's business.
        let object = callee.field(Field::Object).ok_or("attribute")?;
        let imported = object.kind_name() == "identifier"
            && matches!(
                site.index.resolve_name(&text[object.byte_range()], object.start_byte()),
                Resolution::Binding(id)
                    if matches!(site.index.binding(id).kind, BindingKind::Import { .. })
            );
        // `self._summary(r)`: a method of the project's own class, which may read what differs.
        let own_method = object.kind_name() == "identifier"
            && matches!(&text[object.byte_range()], "self" | "cls");
        return if imported {
            cannot_follow("a function of another module, which this fix does not follow")
        } else if own_method {
            cannot_follow("a method of the class, which this fix does not follow")
        } else {
            passed_on(caveats)
        };
    }
    if callee.kind_name() != "identifier" {
        return cannot_follow("which this fix cannot follow");
    }
    let binding = match site.index.resolve_name(callee_text, callee.start_byte()) {
        Resolution::Builtin => return passed_on(caveats),
        Resolution::Binding(id) => site.index.binding(id),
    };
    if !matches!(binding.kind, BindingKind::Function { .. }) {
        return cannot_follow("a function of another module, which this fix does not follow");
    }
    let definition = site
        .tree
        .root_node()
        .descendant_for_byte_range(binding.range.start, binding.range.end)
        .and_then(|name| name.parent())
        .filter(|d| d.kind_name() == "function_definition")
        .ok_or("the function's definition is not found")?;
    // The parameter the response lands in.
    let parameters = definition
        .field(Field::Parameters)
        .ok_or("the function has no parameters")?;
    let mut cursor = parameters.walk();
    let mut names: Vec<(String, bool)> = Vec::new();
    for parameter in parameters.named_children(&mut cursor) {
        let (name, positional) = match parameter.kind_name() {
            "identifier" => (Some(parameter), true),
            "default_parameter" | "typed_default_parameter" => (parameter.field(Field::Name), true),
            "typed_parameter" => (parameter.named_child(0), true),
            _ => (None, false),
        };
        match name.filter(|n| n.kind_name() == "identifier") {
            Some(name) if positional => names.push((text[name.byte_range()].to_owned(), true)),
            _ => names.push((String::new(), false)),
        }
    }
    let parameter = match keyword {
        Some(keyword) => names
            .iter()
            .find(|(n, _)| n == keyword)
            .map(|(n, _)| n.clone()),
        None => {
            let mut cursor = arguments.walk();
            let position = arguments
                .named_children(&mut cursor)
                .filter(|a| a.kind_name() != "comment")
                .position(|a| a.id() == argument.id());
            position.and_then(|p| {
                names
                    .iter()
                    .take(p + 1)
                    .all(|(_, positional)| *positional)
                    .then(|| names.get(p).map(|(n, _)| n.clone()))
                    .flatten()
            })
        }
    }
    .filter(|n| !n.is_empty())
    .ok_or_else(|| {
        format!(
            "the response `{response}` lands in a parameter of `{callee_text}` this fix cannot name"
        )
    })?;
    let body = definition.field(Field::Body).ok_or("no body")?;
    let Resolution::Binding(own) = site.index.resolve_name(&parameter, body.start_byte()) else {
        return cannot_follow("whose parameter cannot be followed");
    };
    let mut edits = Vec::new();
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() != "identifier"
            || text[node.byte_range()] != parameter
            || site.index.resolve_name(&parameter, node.start_byte()) != Resolution::Binding(own)
        {
            continue;
        }
        let attribute = node
            .parent()
            .filter(|p| p.kind_name() == "attribute")
            .filter(|p| p.field(Field::Object).is_some_and(|o| o.id() == node.id()));
        let Some(attribute) = attribute else {
            return cannot_follow(&format!(
                "which passes `{parameter}` on or tests it, which this fix does not follow"
            ));
        };
        let name = attribute.field(Field::Attribute).ok_or("attribute")?;
        match &text[name.byte_range()] {
            // `str()` of requests' `.url` is the same string: right for both callers.
            "url" => edits.push(Edit::replacement(
                attribute.byte_range(),
                format!("str({parameter}.url)"),
            )),
            other => match mapping.response_attribute(other, false) {
                ResponseAttribute::Same => {}
                ResponseAttribute::Caveat(caveat) => caveats.push(caveat.to_owned()),
                _ => {
                    return cannot_follow(&format!(
                        "which reads `{parameter}.{other}`, where requests and httpx differ"
                    ));
                }
            },
        }
    }
    Ok(edits)
}

/// What goes before `statement` to put it under `header` (`if r.is_error:`): a line of its
/// own with the statement indented one unit deeper, or, when the statement does not start its
/// line (`x = 1; r.raise_for_status()`), the header on the same line.
fn guard_prefix(site: &Site, statement: Node, header: &str) -> String {
    let text = site.text;
    let line_start = crate::source::line_start_at(text, statement.start_byte());
    let indent = &text[line_start..statement.start_byte()];
    let single_line = !text[statement.byte_range()].contains(['\n', '\r']);
    if single_line && indent.chars().all(|c| c == ' ' || c == '\t') {
        let unit = crate::source::detect_indent(text);
        format!("{header}{}{indent}{unit}", site.line_ending)
    } else {
        format!("{header} ")
    }
}

/// Attributes that behave the same pass; those with a stated difference add a caveat; those
/// without an equivalent refuse the fix. A renamed attribute counts only where the fix renames
/// it (`bound`: on the name the response is bound to).
fn check_attribute<'m>(
    attribute: &str,
    bound: bool,
    mapping: &'m HttpxMapping,
    caveats: &mut Vec<String>,
) -> Result<Option<&'m str>, String> {
    match mapping.response_attribute(attribute, bound) {
        ResponseAttribute::Same => Ok(None),
        ResponseAttribute::Caveat(caveat) => {
            caveats.push(caveat.to_owned());
            Ok(None)
        }
        ResponseAttribute::Renamed(renamed) => Ok(Some(renamed)),
        ResponseAttribute::Unknown => Err(format!(
            "the response's `.{attribute}` has no faithful httpx equivalent"
        )),
    }
}
