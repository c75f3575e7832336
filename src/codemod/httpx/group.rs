//! One client per coroutine: where a coroutine makes several requests calls that each migrate,
//! they share one `async with httpx.AsyncClient(...) as client:` put around the smallest run of
//! statements (of one block) that holds them all, opened where the first is made, rather than
//! one client block per call. The fix is the same for each of the calls (the fix loop applies
//! it once).
//!
//! requests' module functions make a fresh session per call, so a cookie a response sets is
//! not sent by the next call; a shared client keeps it. Before each call that may follow
//! another on the client, `client.cookies.clear()` keeps requests' behaviour (not in the
//! other branch of an `if` from the earlier calls).
//!
//! A coroutine where one of the calls migrates with arguments of its own client (`cookies=`)
//! or streams its response keeps a client block per call.

use crate::parse::KindName;
use tree_sitter::Node;

use super::handlers::Handlers;
use super::{
    HttpxMapping, PreparedCall, client_block, client_constructor, codes_edits, helper_edits,
    migration_fix, prepare_call, request_method,
};
use crate::codemod::strategy::site::{Proposal, Site, numbered_names, own_lines};
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit};
use crate::parse::{Field, FieldChild};
use crate::semantic::Resolution;
use crate::source::line_start_at;

/// The statement put before a call that may follow another one on the shared client.
const CLEAR_COOKIES: &str = "cookies.clear()";

/// The comment on the first of them, which says why.
const CLEAR_COOKIES_WHY: &str = "  # as requests: no cookie kept from an earlier call";

/// The shared-client fix for the coroutine of `site`, when it makes several requests calls
/// that migrate and the call of `site` is one of them; `None` where each call keeps its own.
pub(super) fn grouped(
    site: &Site,
    applicability: Applicability,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Result<Option<Proposal>, String> {
    let text = site.text;
    let Some(function) = site.index.async_function_at(site.call.start_byte()) else {
        return Ok(None);
    };
    let Some(body) = site.scope_node(function) else {
        return Ok(None);
    };
    // The requests function calls of this coroutine, in text order.
    let mut calls: Vec<(Node, Node, &str)> = Vec::new();
    let mut stack = vec![body];
    let mut cursor = body.walk();
    let mut qualified_names = Vec::new();
    // Comments that silence a finding (`# noqa`, `# unfreeze: ignore`): such a call is left
    // as it is, out of the shared client.
    let mut directives: Vec<usize> = Vec::new();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() == "comment"
            && crate::suppress::parse_directive(&text[node.byte_range()]).is_some()
        {
            directives.push(node.start_byte());
        }
        if node.kind_name() != "call"
            || site.index.async_function_at(node.start_byte()) != Some(function)
        {
            continue;
        }
        if let Some(callee) = node.field(Field::Function)
            && let Some(qualified) = site.index.qualified_name(callee, text)
            && request_method(&qualified, mapping).is_some_and(|m| mapping.method(m).is_some())
        {
            qualified_names.push((node, callee, qualified));
        }
    }
    for (call, callee, qualified) in &qualified_names {
        calls.push((
            *call,
            *callee,
            request_method(qualified, mapping).expect("kept above"),
        ));
    }
    calls.sort_by_key(|(call, _, _)| call.start_byte());
    if calls.len() < 2 || !calls.iter().any(|(c, _, _)| c.id() == site.call.id()) {
        return Ok(None);
    }
    let first_offset = calls[0].0.start_byte();
    let Some(client) = numbered_names("client").find(|name| {
        site.index.bindings_named(function, name).is_empty()
            && calls.iter().all(|(c, _, _)| {
                site.index.resolve_name(name, c.start_byte()) == Resolution::Builtin
            })
    }) else {
        return Ok(None);
    };
    let module_name = reference_module(
        site.index,
        site.tree,
        text,
        site.line_ending,
        client_module,
        first_offset,
    )?
    .name;
    let mut members: Vec<(Node, PreparedCall)> = Vec::new();
    for (call, callee, method) in &calls {
        if let Some(statement) = super::enclosing_statement(*call)
            && let Ok((_, line_end)) = own_lines(site, statement)
        {
            let lines = line_start_at(text, statement.start_byte())..line_end;
            if directives.iter().any(|d| lines.contains(d)) {
                continue;
            }
        }
        if let Ok(prepared) = prepare_call(
            site,
            *call,
            *callee,
            method,
            &client,
            client_module,
            &module_name,
            mapping,
        ) {
            if prepared.streamed || !prepared.client_arguments.is_empty() {
                return Ok(None);
            }
            members.push((*call, prepared));
        }
    }
    if members.len() < 2 || !members.iter().any(|(c, _)| c.id() == site.call.id()) {
        return Ok(None);
    }
    let statements: Vec<Node> = members.iter().map(|(_, p)| p.statement).collect();
    let Some((block, tops)) = smallest_block(&statements) else {
        return Ok(None);
    };
    let first = *tops
        .iter()
        .min_by_key(|t| t.start_byte())
        .expect("two members");
    let last = *tops
        .iter()
        .max_by_key(|t| t.end_byte())
        .expect("two members");

    let mut constructor = client_constructor(site, client_module, first_offset, &[], mapping)?;
    let httpx_name = constructor.module_name.clone();
    let mut edits = std::mem::take(&mut constructor.header_edits);
    let clear = format!("{client}.{CLEAR_COOKIES}");
    let prefixed: Vec<(usize, String)> = statements
        .iter()
        .enumerate()
        .filter(|(i, statement)| may_follow_a_call(**statement, *i, &statements, block))
        .enumerate()
        .map(|(n, (_, statement))| {
            let why = if n == 0 { CLEAR_COOKIES_WHY } else { "" };
            (
                line_start_at(text, statement.start_byte()),
                format!("{clear}{why}"),
            )
        })
        .collect();
    match client_block(site, first, last, &constructor, &client, &prefixed) {
        Ok(block) => edits.extend(block),
        Err(_) => return Ok(None),
    }
    let unit = crate::source::detect_indent(text);
    let mut caveats = mapping.caveats.clone();
    let mut handlers = Handlers::default();
    let mut helpers_added = super::Helpers::default();
    for (call, prepared) in members {
        caveats.extend(prepared.caveats);
        handlers.merge(prepared.handlers);
        let new = prepared.helpers.not_yet_in(&mut helpers_added);
        edits.extend(helper_edits(site, new, call.start_byte())?);
        // Lines an edit adds inside the block are one level deeper too.
        let within = first.start_byte()..last.end_byte();
        edits.extend(prepared.edits.into_iter().map(|mut edit| {
            if edit.header.is_none() && within.contains(&edit.range.start) {
                edit.content = edit.content.replace('\n', &format!("\n{unit}"));
            }
            edit
        }));
    }
    edits.extend(codes_edits(site, body, &httpx_name, mapping));
    edits.extend(handlers.edits(text));
    // An edit two calls share (an import) once; insertions at one place in one edit, so that
    // the same fix proposed by each call is applied once as a whole.
    let mut unique: Vec<Edit> = Vec::new();
    for edit in edits {
        if !unique.contains(&edit) {
            unique.push(edit);
        }
    }
    unique.sort_by_key(|e| (e.range.start, e.range.end));
    let mut edits: Vec<Edit> = Vec::new();
    for edit in unique {
        match edits.last_mut() {
            Some(last)
                if last.range.is_empty()
                    && edit.range == last.range
                    && last.header.is_none()
                    && edit.header.is_none() =>
            {
                last.content.push_str(&edit.content);
            }
            _ => edits.push(edit),
        }
    }
    Ok(Some(migration_fix(
        site,
        applicability,
        edits,
        caveats,
        mapping,
        &httpx_name,
    )))
}

/// The innermost block holding every statement, and for each statement the statement of that
/// block it is in.
fn smallest_block<'t>(statements: &[Node<'t>]) -> Option<(Node<'t>, Vec<Node<'t>>)> {
    let mut candidate = statements[0].parent();
    while let Some(block) = candidate {
        match block.kind_name() {
            "block" => {
                let holds_all = statements.iter().all(|s| {
                    block.start_byte() <= s.start_byte() && s.end_byte() <= block.end_byte()
                });
                if holds_all {
                    let tops = statements
                        .iter()
                        .map(|s| child_in(*s, block))
                        .collect::<Option<Vec<_>>>()?;
                    return Some((block, tops));
                }
            }
            "function_definition" | "lambda" | "class_definition" | "module" => return None,
            _ => {}
        }
        candidate = block.parent();
    }
    None
}

/// The ancestor of `node` (or `node` itself) whose parent is `block`.
fn child_in<'t>(node: Node<'t>, block: Node) -> Option<Node<'t>> {
    let mut current = node;
    loop {
        let parent = current.parent()?;
        if parent.id() == block.id() {
            return Some(current);
        }
        current = parent;
    }
}

/// Whether the call in `statements[index]` may come after another request on the shared
/// client: an earlier call not in another branch of the same `if`, or a loop (inside the
/// block) around it.
fn may_follow_a_call(statement: Node, index: usize, statements: &[Node], block: Node) -> bool {
    let mut current = statement;
    while let Some(parent) = current.parent() {
        if parent.id() == block.id() {
            break;
        }
        if matches!(parent.kind_name(), "for_statement" | "while_statement") {
            return true;
        }
        current = parent;
    }
    statements[..index]
        .iter()
        .any(|earlier| !exclusive_branches(*earlier, statement))
}

/// Whether `a` and `b` are in different branches of one `if` statement.
fn exclusive_branches(a: Node, b: Node) -> bool {
    let mut current = a;
    while let Some(parent) = current.parent() {
        let holds_b = parent.start_byte() <= b.start_byte() && b.end_byte() <= parent.end_byte();
        if holds_b {
            if parent.kind_name() != "if_statement" {
                return false;
            }
            // `current` is the branch of `a`; `b` is in another one unless in the same.
            let same_branch =
                current.start_byte() <= b.start_byte() && b.end_byte() <= current.end_byte();
            return !same_branch && !is_condition(parent, current);
        }
        current = parent;
    }
    false
}

/// Whether `node` is the condition of the `if` statement `statement`.
fn is_condition(statement: Node, node: Node) -> bool {
    statement
        .field(Field::Condition)
        .is_some_and(|c| c.id() == node.id())
}
