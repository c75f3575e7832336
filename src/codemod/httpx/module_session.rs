//! A `requests.Session` shared at module level (`SESSION = requests.Session()`) used by
//! coroutines: their requests go through one `AsyncClient` per event loop, made on first use
//! inside the running loop by a module-level function the fix adds (`_async_session()` for
//! `SESSION`), with the session's own settings carried over: its headers (requests' own
//! User-Agent, Accept and Accept-Encoding with them), its cookie jar (the same jar, so cookies
//! are shared both ways), and an `auth` tuple, `params` or `verify = False` set at module level.
//! The session itself stays for the module's other (synchronous) code.
//!
//! The client is closed where the program has a shutdown point the fix knows: a FastAPI /
//! Starlette `lifespan=` function of the module, after its `yield`; elsewhere the fix says the
//! client stays open until the process exits.
//!
//! Each call is rewritten by its own fix; the functions they add are the same for every call
//! (header lines shared by the fixes). Anything that could make the client differ from the
//! session at the time of a request means no migration: settings changed inside a function
//! (after the client may exist), the session passed to other code, rebound, or given
//! adapters, hooks, proxies or certificates.

use crate::parse::KindName;
use tree_sitter::Node;

use super::arguments::{ClientArgument, Sender, map_call};
use super::handlers::{Handlers, Raiser};
use super::response::response_edits;
use super::{HttpxMapping, await_method_edits, client_constructor, codes_edits, statement_of};
use crate::codemod::strategy::site::{Proposal, Site, imported_head};
use crate::fix::imports::{module_statement_insertion, reference_module};
use crate::fix::{Applicability, Edit, Fix, HeaderKind};
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingId, BindingKind, Resolution};

/// The migration of `call` on the module-level session named by `receiver` (bound by
/// `binding`).
pub(super) fn module_session_client(
    site: &Site,
    applicability: Applicability,
    client_module: &str,
    mapping: &HttpxMapping,
    receiver: Node,
    binding: BindingId,
) -> Result<Proposal, String> {
    let text = site.text;
    let le = site.line_ending;
    let name = &text[receiver.byte_range()];
    let module_scope = site.index.module_scope();
    if site.index.bindings_named(module_scope, name).len() != 1 {
        return Err(format!("`{name}` is assigned more than once in the module"));
    }
    let value = site
        .index
        .binding(binding)
        .value
        .clone()
        .ok_or("the session's value is unknown")?;
    let constructor = crate::semantic::node_at(site.tree.root_node(), &value)
        .filter(|v| v.kind_name() == "call")
        .ok_or("the session is not made by a plain `requests.Session()` call")?;
    let made_by = constructor
        .field(Field::Function)
        .and_then(|f| site.index.qualified_name(f, text));
    let plain = constructor
        .field(Field::Arguments)
        .is_some_and(|a| a.named_child_count() == 0);
    let statement = statement_of(constructor).filter(|s| {
        s.kind_name() == "expression_statement"
            && s.parent().is_some_and(|p| p.kind_name() == "module")
    });
    if !plain || !made_by.is_some_and(|m| mapping.is_session_constructor(&m)) || statement.is_none()
    {
        return Err("the session is not made by a plain `requests.Session()` statement".to_owned());
    }
    let settings = settings(site, name, binding)?;
    let method = site
        .callee
        .field(Field::Attribute)
        .map(|a| &text[a.byte_range()])
        .ok_or("the call has no method")?;
    let function = site
        .index
        .async_function_at(site.call.start_byte())
        .ok_or("the call is not in a coroutine")?;
    if site.index.in_generator_expression(site.call.start_byte()) {
        return Err("the request is made in a generator expression, which cannot await".to_owned());
    }
    let module_name = reference_module(
        site.index,
        site.tree,
        text,
        le,
        client_module,
        site.call.start_byte(),
    )?
    .name;
    let mut caveats: Vec<String> = mapping.shared_session_caveats.clone();
    let mapped = map_call(
        site,
        site.call,
        method,
        Sender::SharedClient,
        client_module,
        mapping,
    )?;
    caveats.extend(mapped.caveats);
    let mut edits = mapped.edits;
    edits.extend(super::helper_edits(
        site,
        mapped.helpers,
        site.call.start_byte(),
    )?);
    let getter = format!(
        "_async_{}",
        name.trim_start_matches('_').to_ascii_lowercase()
    );
    let holder = getter.to_ascii_uppercase();
    let closer = format!("_close{getter}");
    for new in [&getter, &holder, &closer] {
        if site.index.resolve_name(new, site.call.start_byte()) != Resolution::Builtin
            && !defined_by_this_fix(site, &getter)
        {
            return Err(format!("`{new}` means something else here"));
        }
    }
    edits.extend(await_method_edits(
        site.call,
        site.callee.byte_range(),
        &format!("{getter}().{}", mapped.method),
    )?);
    let call_statement = statement_of(site.call).ok_or("the call is outside a statement")?;
    let mut handlers = Handlers::default();
    handlers.around(site, call_statement, Raiser::Request, &module_name, mapping)?;
    edits.extend(response_edits(
        site,
        site.call,
        call_statement,
        &mut caveats,
        &mut handlers,
        &module_name,
        mapping,
    )?);
    if let Some(body) = site.scope_node(function) {
        edits.extend(codes_edits(site, body, &module_name, mapping));
    }
    edits.extend(handlers.edits(text));

    // The functions that make and close the client, once per module (already there after an
    // earlier round: the same names, left as they are).
    if !defined_by_this_fix(site, &getter) {
        let session_at = statement.expect("checked").start_byte();
        let asyncio = reference_module(site.index, site.tree, text, le, "asyncio", session_at)?;
        edits.extend(asyncio.import);
        let mut constructor =
            client_constructor(site, client_module, session_at, &settings, mapping)?;
        edits.extend(std::mem::take(&mut constructor.header_edits));
        let unit = crate::source::detect_indent(text);
        let made = constructor.expression(&format!("{unit}{unit}client = "), "", &unit, "\n");
        let lifespan = lifespan_end(site);
        let mut source = format!(
            "# `{name}`'s requests in coroutines go through one AsyncClient per event loop, made on\n\
             # first use with the session's headers, cookies and auth.\n\
             {holder} = None\n\n\n\
             def {getter}():\n\
             {unit}global {holder}\n\
             {unit}loop = {}.get_running_loop()\n\
             {unit}if {holder} is None or {holder}[0] is not loop:\n\
             {unit}{unit}client = {made}\n\
             {unit}{unit}{holder} = (loop, client)\n\
             {unit}return {holder}[1]",
            asyncio.name
        );
        match &lifespan {
            Some(_) => source.push_str(&format!(
                "\n\n\nasync def {closer}():\n\
                 {unit}global {holder}\n\
                 {unit}if {holder} is not None:\n\
                 {unit}{unit}await {holder}[1].aclose()\n\
                 {unit}{unit}{holder} = None"
            )),
            None => caveats.push(format!(
                "the program has no shutdown point the fix knows (a FastAPI `lifespan`), so the \
                 client `{getter}()` makes is not closed: its connections close when the process \
                 exits"
            )),
        }
        let mut definition = module_statement_insertion(
            site.tree,
            text,
            le,
            &source.replace('\n', le),
            site.call.start_byte(),
        )?;
        definition.header = Some(HeaderKind::Definition);
        edits.push(definition);
        if let Some((at, indent)) = lifespan {
            edits.push(Edit::insertion(
                at,
                format!("{indent}await {closer}()  # closes `{name}`'s AsyncClient{le}"),
            ));
        }
    }
    caveats.push(format!(
        "code in other modules that uses `{name}` keeps the requests session; settings it \
         changes after the first request here do not reach the AsyncClient"
    ));
    let mut seen = Vec::new();
    caveats.retain(|c| {
        let new = !seen.contains(c);
        seen.push(c.clone());
        new
    });
    let mut fix = Fix::new(
        applicability.min(Applicability::Unsafe),
        String::new(),
        edits,
    );
    fix.caveat = Some(caveats.join("; "));
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal {
        fix,
        replacement: format!("{module_name}.AsyncClient"),
    })
}

/// Whether `name` is a module-level function the fix defines (an earlier round added it):
/// one plain `def` at module level.
fn defined_by_this_fix(site: &Site, name: &str) -> bool {
    let scope = site.index.module_scope();
    match site.index.bindings_named(scope, name) {
        [only] => site.index.binding(*only).kind == BindingKind::Function { is_async: false },
        _ => false,
    }
}

/// The client's settings from the session, checking every use of `name` in the file: settings
/// changed only at module level, the session never passed on.
fn settings(site: &Site, name: &str, binding: BindingId) -> Result<Vec<ClientArgument>, String> {
    let text = site.text;
    let root = site.tree.root_node();
    let module_scope = site.index.module_scope();
    let mut arguments = vec![
        ClientArgument {
            name: "headers".to_owned(),
            value: format!("{name}.headers"),
        },
        ClientArgument {
            name: "cookies".to_owned(),
            value: format!("{name}.cookies"),
        },
    ];
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() != "identifier"
            || &text[node.byte_range()] != name
            || node.byte_range() == site.index.binding(binding).range
            || site.index.resolve_name(name, node.start_byte()) != Resolution::Binding(binding)
        {
            continue;
        }
        let attribute = node
            .parent()
            .filter(|p| p.kind_name() == "attribute")
            .filter(|p| p.field(Field::Object).is_some_and(|o| o.id() == node.id()))
            .ok_or_else(|| {
                format!(
                    "`{name}` is passed to other code, which may change it after the AsyncClient \
                     is made"
                )
            })?;
        let attribute_name = attribute
            .field(Field::Attribute)
            .map(|a| &text[a.byte_range()])
            .unwrap_or_default();
        let at_module_level = site.index.scope_at(node.start_byte()) == module_scope;
        let called = attribute
            .parent()
            .filter(|c| c.kind_name() == "call")
            .filter(|c| {
                c.field(Field::Function)
                    .is_some_and(|f| f.id() == attribute.id())
            });
        let assigned = attribute
            .parent()
            .filter(|a| a.kind_name() == "assignment")
            .filter(|a| {
                a.field(Field::Left)
                    .is_some_and(|l| l.id() == attribute.id())
            });
        let changed = assigned.is_some() || is_changed(attribute);
        match attribute_name {
            // Requests (and `close()`): the module's other code keeps its session.
            method if called.is_some() && (site_method(method) || method == "close") => {}
            "headers" | "cookies" | "params" if !changed => {}
            "headers" | "cookies" | "params" | "auth" | "verify" if !at_module_level => {
                return Err(format!(
                    "`{name}.{attribute_name}` is changed inside a function, after the \
                     AsyncClient may have been made"
                ));
            }
            "headers" | "cookies" => {}
            "params" => push_once(&mut arguments, "params", format!("{name}.params")),
            "auth" => {
                let tuple = assigned
                    .and_then(|a| a.field(Field::Right))
                    .is_some_and(|v| v.kind_name() == "tuple");
                if !tuple {
                    return Err(format!("`{name}.auth` other than a (user, password) tuple"));
                }
                push_once(&mut arguments, "auth", format!("{name}.auth"));
            }
            "verify" => {
                let off = assigned
                    .and_then(|a| a.field(Field::Right))
                    .is_some_and(|v| v.kind_name() == "false");
                if !off {
                    return Err(format!(
                        "`{name}.verify` set to other than `False` (a CA bundle path)"
                    ));
                }
                push_once(&mut arguments, "verify", "False".to_owned());
            }
            other => {
                return Err(format!(
                    "`{name}.{other}` has no faithful httpx equivalent on an AsyncClient"
                ));
            }
        }
    }
    Ok(arguments)
}

/// A request method of a session (`get`, ..., `request`).
fn site_method(name: &str) -> bool {
    matches!(
        name,
        "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "request"
    )
}

fn push_once(arguments: &mut Vec<ClientArgument>, name: &str, value: String) {
    if !arguments.iter().any(|a| a.name == name) {
        arguments.push(ClientArgument {
            name: name.to_owned(),
            value,
        });
    }
}

/// Whether the attribute's value is changed in place: `s.headers["X"] = ...`,
/// `s.headers.update(...)`, `del s.headers["X"]`, `s.params |= ...`.
fn is_changed(attribute: Node) -> bool {
    let Some(parent) = attribute.parent() else {
        return false;
    };
    match parent.kind_name() {
        "subscript" => parent.parent().is_some_and(|p| {
            matches!(
                p.kind_name(),
                "assignment" | "augmented_assignment" | "delete_statement"
            )
        }),
        "attribute" => true,
        "augmented_assignment" => true,
        _ => false,
    }
}

/// Where a FastAPI / Starlette `lifespan=` function of the module resumes after its `yield`
/// (a statement of the function's own body): the line after it, and its indentation.
fn lifespan_end(site: &Site) -> Option<(usize, String)> {
    let text = site.text;
    let root = site.tree.root_node();
    let mut stack = vec![root];
    let mut cursor = root.walk();
    let mut names = Vec::new();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() == "keyword_argument"
            && node
                .field(Field::Name)
                .is_some_and(|n| &text[n.byte_range()] == "lifespan")
            && let Some(value) = node
                .field(Field::Value)
                .filter(|v| v.kind_name() == "identifier")
        {
            names.push(&text[value.byte_range()]);
        }
    }
    let mut cursor = root.walk();
    for definition in root.named_children(&mut cursor) {
        let function = match definition.kind_name() {
            "decorated_definition" => definition.child_by_field_name("definition")?,
            _ => definition,
        };
        let is_async = function.child(0).is_some_and(|c| c.kind_name() == "async");
        let named = function
            .field(Field::Name)
            .is_some_and(|n| names.contains(&&text[n.byte_range()]));
        if function.kind_name() != "function_definition" || !is_async || !named {
            continue;
        }
        let body = function.field(Field::Body)?;
        let mut body_cursor = body.walk();
        let yielded = body.named_children(&mut body_cursor).find(|s| {
            s.kind_name() == "expression_statement"
                && s.named_child(0).is_some_and(|e| e.kind_name() == "yield")
        })?;
        let line_start = crate::source::line_start_at(text, yielded.start_byte());
        let indent = text[line_start..yielded.start_byte()].to_owned();
        let rest = &text[yielded.end_byte()..];
        let after = yielded.end_byte() + rest.find('\n').map_or(rest.len(), |i| i + 1);
        return Some((after, indent));
    }
    None
}
