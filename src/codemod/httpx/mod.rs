//! The `httpx-client` strategy: a top-level `requests.<method>(...)` call in a statement of its
//! own becomes `await client.<method>(...)` inside `async with httpx.AsyncClient(...) as
//! client:`, following shared/reference/requests-to-httpx.md row by row:
//!
//! - the client restores requests' defaults (redirects followed, up to 30, no timeout) and
//!   shares one SSL context per module, so no client loads the CA bundle on the event loop;
//! - arguments: positional → keyword, `allow_redirects` → `follow_redirects`, `data=` with a
//!   string or bytes literal → `content=`, timeouts → `httpx.Timeout(..., pool=None)`,
//!   `head()` → `follow_redirects=False`, a body on GET / DELETE / HEAD / OPTIONS →
//!   `client.request("GET", ...)`, `cookies=` → the per-call client;
//! - the response, when bound to a local name: `.ok` → `not r.is_error`, `.url` →
//!   `str(r.url)`, `.reason` → `.reason_phrase`, `.is_redirect` → `.has_redirect_location`,
//!   `.next` → `.next_request`, `if r:` → `if not r.is_error:`, `r.raise_for_status()` →
//!   `if r.is_error: r.raise_for_status()`;
//! - `except requests.exceptions.X` around the call also catches the httpx equivalents;
//! - several such calls in one coroutine share one client (`group`).
//!
//! Everything the reference marks COND becomes a stated caveat; NO rows (streams, hooks,
//! proxies, certificates, custom auth, `iter_content`, ...) mean no fix. The fix is always
//! unsafe: exceptions that leave the function change type for its callers.
//!
//! The tables (request functions and their positional parameters, session constructors,
//! requests' client defaults, exceptions, status codes, response attributes) are data: the
//! codemod file's `[alternative-fix.httpx]`, compiled into an [`HttpxMapping`] (`mapping`).

use crate::parse::KindName;
use tree_sitter::Node;

mod arguments;
mod group;
mod handlers;
mod mapping;
mod module_session;
mod response;
mod session;
mod stream;
mod target;

use arguments::{
    ClientArgument, FORM_HELPER, FORM_HELPER_SOURCE, Helpers, LINES_HELPER, LINES_HELPER_SOURCE,
    PARAMS_HELPER, PARAMS_HELPER_SOURCE, Sender, map_call,
};
use handlers::{Handlers, Raiser};
pub use mapping::HttpxMapping;
use response::response_edits;
use session::session_client;
pub use target::{Declared, HttpTarget, choose as choose_target};

use super::strategy::site::{
    AwaitShape, Proposal, Site, await_shape, free_name, imported_head, own_lines,
};
use crate::fix::imports::{module_statement_insertion, reference_module};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::Resolution;
use crate::source::line_start_at;

/// The module-level SSL context every rewritten client shares.
const SSL_CONTEXT: &str = "_HTTPX_SSL_CONTEXT";

/// The module-level dict of requests' client defaults (and the SSL context).
const REQUESTS_DEFAULTS: &str = "_REQUESTS_DEFAULTS";

/// The statement (a direct child of a block or the module) that holds `node`, whatever the
/// statement: `None` across a function, lambda or class boundary.
fn statement_of(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "block" | "module" => return Some(current),
            "lambda" | "function_definition" | "class_definition" => return None,
            _ => current = parent,
        }
    }
    None
}

/// `requests.codes.ok` → `httpx.codes.OK` (and `requests.codes["ok"]`) everywhere in
/// `function`, so that the rewrite does not keep `requests` imported for its status codes.
fn codes_edits(
    site: &Site,
    function: Node,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Vec<Edit> {
    let text = site.text;
    let mut edits = Vec::new();
    let mut stack = vec![function];
    let mut cursor = function.walk();
    while let Some(node) = stack.pop() {
        let name = match node.kind_name() {
            "attribute" => site
                .index
                .qualified_name(node, text)
                .as_deref()
                .and_then(|q| mapping.code_name(q).map(str::to_owned))
                .filter(|n| !n.contains('.')),
            "subscript" => {
                let value = node.field(Field::Value);
                let is_codes = value
                    .and_then(|v| site.index.qualified_name(v, text))
                    .is_some_and(|q| mapping.is_codes_object(&q));
                let key = node
                    .field(Field::Subscript)
                    .filter(|k| k.kind_name() == "string" && !k.has_error());
                match (is_codes, key) {
                    (true, Some(key)) => {
                        let raw = &text[key.byte_range()];
                        let inner = raw
                            .strip_prefix('"')
                            .and_then(|r| r.strip_suffix('"'))
                            .or_else(|| raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')));
                        inner
                            .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                            .map(str::to_owned)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match name.and_then(|n| mapping.httpx_code(&n, client_module)) {
            Some(replacement) => edits.push(Edit::replacement(node.byte_range(), replacement)),
            None => stack.extend(node.named_children(&mut cursor)),
        }
    }
    edits
}

/// The statement (a direct child of a block or the module) that holds `node`, with the path
/// checked: no lambda, comprehension or nested function between them.
fn enclosing_statement(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "block" | "module" => return Some(current),
            "lambda"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression"
            | "function_definition"
            | "class_definition" => return None,
            kind if kind.ends_with("_statement")
                && kind != "expression_statement"
                && kind != "return_statement" =>
            {
                // `if requests.get(...):`, `with requests.get(...) as r:`, `for ... in ...`:
                // a compound statement cannot be wrapped without wrapping its body.
                return None;
            }
            _ => current = parent,
        }
    }
    None
}

/// The migration of the matched requests call (or of its session) to the run's client; the
/// fix's note starts with which client and why (and the dependency to add, when the project
/// does not declare it).
pub fn httpx_client(
    site: &Site,
    applicability: Applicability,
    mapping: &HttpxMapping,
) -> Result<Proposal, String> {
    let target = site.http_client;
    let mut proposal = migrate(site, applicability, &target.module, mapping)?;
    let note = target.note();
    proposal.fix.caveat = Some(match proposal.fix.caveat.take() {
        Some(caveat) if !caveat.is_empty() => format!("{note}; {caveat}"),
        _ => note,
    });
    Ok(proposal)
}

fn migrate(
    site: &Site,
    applicability: Applicability,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Result<Proposal, String> {
    if site.library.is_some() {
        return Err("the file is written for trio or anyio".to_owned());
    }
    if mapping.session_method(site.qualified).is_some() {
        return session_client(site, applicability, client_module, mapping);
    }
    let method = request_method(site.qualified, mapping)
        .ok_or("only requests' functions and sessions are rewritten to httpx")?;
    // Several requests calls in the coroutine share one client, in one fix the same for each.
    if let Some(grouped) = group::grouped(site, applicability, client_module, mapping)? {
        return Ok(grouped);
    }
    let offset = site.call.start_byte();
    let module_name = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        client_module,
        offset,
    )?
    .name;
    let client = free_name(site, "client");
    let prepared = prepare_call(
        site,
        site.call,
        site.callee,
        method,
        &client,
        client_module,
        &module_name,
        mapping,
    )?;
    let statement = prepared.statement;
    let mut caveats: Vec<String> = mapping.caveats.clone();
    caveats.extend(prepared.caveats);
    let mut call_edits = prepared.edits;
    call_edits.extend(helper_edits(site, prepared.helpers, offset)?);
    let mut constructor = client_constructor(
        site,
        client_module,
        offset,
        &prepared.client_arguments,
        mapping,
    )?;
    let httpx_name = constructor.module_name.clone();
    let mut edits = std::mem::take(&mut constructor.header_edits);
    edits.extend(client_block(
        site,
        statement,
        statement,
        &constructor,
        &client,
        &[],
    )?);
    edits.extend(call_edits);
    if let Some(function) = site.index.async_function_at(site.call.start_byte())
        && let Some(body) = site.scope_node(function)
    {
        edits.extend(codes_edits(site, body, &httpx_name, mapping));
    }
    edits.extend(prepared.handlers.edits(site.text));
    Ok(migration_fix(
        site,
        applicability,
        edits,
        caveats,
        mapping,
        &httpx_name,
    ))
}

/// `get` for `requests.get`: the request function a qualified name names, if any.
fn request_method<'q>(qualified: &'q str, mapping: &HttpxMapping) -> Option<&'q str> {
    qualified
        .strip_prefix(mapping.module.as_str())
        .and_then(|m| m.strip_prefix('.'))
        .filter(|m| !m.contains('.'))
}

/// The fix of a migration: unsafe at most, its caveats said once each, `requests` (and the
/// name the call used) removed from the imports where nothing else uses them.
fn migration_fix(
    site: &Site,
    applicability: Applicability,
    edits: Vec<Edit>,
    mut caveats: Vec<String>,
    mapping: &HttpxMapping,
    httpx_name: &str,
) -> Proposal {
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
    fix.may_orphan.push(mapping.module.clone());
    // `from requests import get`: the name the call used.
    fix.may_orphan.extend(imported_head(site));
    Proposal {
        fix,
        replacement: format!("{httpx_name}.AsyncClient"),
    }
}

/// One requests call migrated to `await <client>.<method>(...)` (or `<client>.stream(...)`),
/// before a client block is put around it: its statement, the edits of its arguments and of
/// its response's uses, the `except` clauses to widen, what it states.
struct PreparedCall<'t> {
    /// The statement the call is in (the `with` of a streamed response).
    statement: Node<'t>,
    streamed: bool,
    edits: Vec<Edit>,
    handlers: Handlers<'t>,
    caveats: Vec<String>,
    /// Arguments that go to the client (`cookies=`).
    client_arguments: Vec<ClientArgument>,
    helpers: Helpers,
}

#[allow(clippy::too_many_arguments)]
fn prepare_call<'t>(
    site: &Site<'t>,
    call: Node<'t>,
    callee: Node<'t>,
    method: &str,
    client: &str,
    client_module: &str,
    module_name: &str,
    mapping: &HttpxMapping,
) -> Result<PreparedCall<'t>, String> {
    let streamed = stream::streamed_with(call);
    let statement = match streamed {
        Some((with, _)) => with,
        None => enclosing_statement(call)
            .ok_or("the call is not in a statement of its own (a condition, a `with` item, a lambda, a comprehension)")?,
    };
    let text = site.text;
    own_lines(site, statement)?;
    // One requests call per statement: a second one would share the client (and its cookies).
    let mut requests_calls = 0;
    let mut cursor = statement.walk();
    let mut stack = vec![statement];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "call"
            && let Some(function) = node.field(Field::Function)
            && site.index.qualified_name(function, text).is_some_and(|q| {
                q.strip_prefix(mapping.module.as_str())
                    .is_some_and(|m| m.starts_with('.'))
            })
        {
            requests_calls += 1;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    if requests_calls > 1 {
        return Err("the statement makes several requests calls".to_owned());
    }
    let mapped = map_call(
        site,
        call,
        method,
        match streamed {
            Some(_) => Sender::PerCallStream,
            None => Sender::PerCallClient,
        },
        client_module,
        mapping,
    )?;
    let mut caveats = mapped.caveats;
    let mut edits = mapped.edits;
    match streamed {
        // `client.stream("GET", url, ...)`, entered by the `with` made `async with`.
        Some(_) => {
            edits.push(Edit::replacement(
                callee.byte_range(),
                format!("{client}.stream"),
            ));
            if mapped.method != "request" {
                edits.push(Edit::insertion(
                    mapped.url_start,
                    format!("\"{}\", ", method.to_ascii_uppercase()),
                ));
            }
        }
        None => edits.extend(await_method_edits(
            call,
            callee.byte_range(),
            &format!("{client}.{}", mapped.method),
        )?),
    }
    // The response: rewrite what differs on the local name bound to it, and widen the
    // `except` clauses around the request and around the response's raising methods.
    let mut handlers = Handlers::default();
    handlers.around(site, statement, Raiser::Request, module_name, mapping)?;
    let mut helpers = mapped.helpers;
    edits.extend(match streamed {
        Some((with, target)) => {
            let (stream_edits, lines) = stream::stream_edits(site, with, target, mapping)?;
            helpers.lines = lines;
            stream_edits
        }
        None => response_edits(
            site,
            call,
            statement,
            &mut caveats,
            &mut handlers,
            module_name,
            mapping,
        )?,
    });
    Ok(PreparedCall {
        statement,
        streamed: streamed.is_some(),
        edits,
        handlers,
        caveats,
        client_arguments: mapped.client_arguments,
        helpers,
    })
}

/// `async with <constructor> as <client>:` put around the statements `first` to `last` (of one
/// block): the line inserted before them, with the edits that indent them one level deeper
/// (lines inside strings left alone). `prefixed`: lines (by their start) that get a statement
/// of their own before them, at their new indentation.
fn client_block(
    site: &Site,
    first: Node,
    last: Node,
    constructor: &ClientConstructor,
    client: &str,
    prefixed: &[(usize, String)],
) -> Result<Vec<Edit>, String> {
    let text = site.text;
    let le = site.line_ending;
    let (indent, _) = own_lines(site, first)?;
    own_lines(site, last)?;
    let first_line = line_start_at(text, first.start_byte());
    let end = last.end_byte();
    let unit = crate::source::detect_indent(text);
    let mut string_ranges = Vec::new();
    let root = site.tree.root_node();
    let mut stack = vec![
        root.descendant_for_byte_range(first.start_byte(), end)
            .unwrap_or(root),
    ];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        if node.end_byte() <= first.start_byte() || node.start_byte() >= end {
            continue;
        }
        if node.kind_name() == "string" {
            string_ranges.push(node.byte_range());
        } else {
            stack.extend(node.named_children(&mut cursor));
        }
    }
    let head = format!("{indent}async with ");
    let tail = format!(" as {client}:");
    let header = format!(
        "{head}{}{tail}{le}",
        constructor.expression(&head, &tail, &unit, le)
    );
    let mut edits = Vec::new();
    let mut line = first_line;
    while line < end {
        let inside_string = string_ranges.iter().any(|r| r.start < line && line < r.end);
        let blank = text[line..].starts_with(['\n', '\r']);
        let before = prefixed
            .iter()
            .filter(|(at, _)| *at == line)
            .map(|(_, statement)| {
                let own = &text[line..];
                let own_indent = &own[..own.len() - own.trim_start_matches([' ', '\t']).len()];
                format!("{own_indent}{unit}{statement}{le}")
            })
            .collect::<String>();
        // The client's line comes first, in the same insertion as the first line's indent.
        let opening = if line == first_line {
            header.as_str()
        } else {
            ""
        };
        if !inside_string && !blank {
            edits.push(Edit::insertion(line, format!("{opening}{before}{unit}")));
        }
        match text[line..end].find('\n') {
            Some(newline) => line += newline + 1,
            None => break,
        }
    }
    Ok(edits)
}

/// An `AsyncClient(...)` expression that keeps requests' defaults, and the header lines it
/// needs.
pub struct ClientConstructor {
    /// `follow_redirects=True`, ...
    arguments: Vec<String>,
    /// How the client module is referred to at the place (`httpx`, or an alias).
    pub module_name: String,
    /// The import of the client module and the shared SSL context, when missing.
    pub header_edits: Vec<Edit>,
}

/// Lines longer than this get the client's arguments one per line.
const MAX_LINE: usize = 88;

impl ClientConstructor {
    /// `httpx.AsyncClient(...)` for a line that starts with `line_start` (its indentation and
    /// any code before the expression) and continues with `line_end` after it: on that line
    /// when it fits, else one argument per line, indented one `unit` deeper.
    pub fn expression(&self, line_start: &str, line_end: &str, unit: &str, le: &str) -> String {
        let callee = format!("{}.AsyncClient", self.module_name);
        let one_line = format!("{callee}({})", self.arguments.join(", "));
        let width =
            line_start.chars().count() + one_line.chars().count() + line_end.chars().count();
        if width <= MAX_LINE {
            return one_line;
        }
        let indent: String = line_start
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let mut out = format!("{callee}({le}");
        for argument in &self.arguments {
            out.push_str(&format!("{indent}{unit}{argument},{le}"));
        }
        out.push_str(&format!("{indent})"));
        out
    }
}

/// The client that replaces requests' per-call session or a `Session` (reference §8.1):
/// redirects followed (up to 30, as requests), no timeout, and the module's one SSL context,
/// so that building the client does not load the CA bundle on the event loop.
pub fn client_constructor(
    site: &Site,
    client_module: &str,
    offset: usize,
    extra: &[ClientArgument],
    mapping: &HttpxMapping,
) -> Result<ClientConstructor, String> {
    let text = site.text;
    let le = site.line_ending;
    let module = reference_module(site.index, site.tree, text, le, client_module, offset)?;
    let module_name = module.name.clone();
    let mut header_edits: Vec<Edit> = module.import.into_iter().collect();
    let defaults_text = mapping
        .client_defaults
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .chain([format!("verify={SSL_CONTEXT}")])
        .collect::<Vec<_>>()
        .join(", ");
    let module_global = |name: &str| match site.index.resolve_name(name, offset) {
        Resolution::Builtin => Ok(false),
        Resolution::Binding(id) if site.index.binding(id).scope == site.index.module_scope() => {
            Ok(true)
        }
        Resolution::Binding(_) => Err(format!("`{name}` means something else here")),
    };
    let overridden = extra
        .iter()
        .any(|a| a.name == "verify" || mapping.client_defaults.iter().any(|(n, _)| *n == a.name));
    // requests' defaults written once per module, `AsyncClient(**_REQUESTS_DEFAULTS)`, where
    // the call changes none of them (and the module has both globals, or neither yet).
    match (
        module_global(SSL_CONTEXT)?,
        module_global(REQUESTS_DEFAULTS)?,
    ) {
        (false, false) => {
            header_edits.push(module_statement_insertion(
                site.tree,
                text,
                le,
                &format!(
                    "# requests' defaults for every client: redirects followed (up to 30), no timeout, and\n\
                     # one SSL context (loading the CA bundle takes milliseconds: once, at import).\n\
                     {SSL_CONTEXT} = {module_name}.create_ssl_context()\n\
                     {REQUESTS_DEFAULTS} = dict(\n    {defaults_text}\n)"
                )
                .replace('\n', le),
                offset,
            )?);
            if !overridden {
                let mut arguments = vec![format!("**{REQUESTS_DEFAULTS}")];
                arguments.extend(extra.iter().map(|a| format!("{}={}", a.name, a.value)));
                return Ok(ClientConstructor {
                    arguments,
                    module_name,
                    header_edits,
                });
            }
        }
        (true, true) if !overridden => {
            let mut arguments = vec![format!("**{REQUESTS_DEFAULTS}")];
            arguments.extend(extra.iter().map(|a| format!("{}={}", a.name, a.value)));
            return Ok(ClientConstructor {
                arguments,
                module_name,
                header_edits,
            });
        }
        (false, true) => {
            return Err(format!(
                "`{REQUESTS_DEFAULTS}` is defined without `{SSL_CONTEXT}`"
            ));
        }
        _ => {}
    }
    // requests' defaults, unless the code sets the same argument.
    let mut arguments: Vec<String> = mapping
        .client_defaults
        .iter()
        .filter(|(name, _)| !extra.iter().any(|a| a.name == *name))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if !extra.iter().any(|a| a.name == "verify") {
        // The module's SSL context exists, or the header above adds it.
        arguments.push(format!("verify={SSL_CONTEXT}"));
    }
    arguments.extend(extra.iter().map(|a| format!("{}={}", a.name, a.value)));
    Ok(ClientConstructor {
        arguments,
        module_name,
        header_edits,
    })
}

/// The definitions of the module's helpers in `helpers` ([`PARAMS_HELPER`], [`FORM_HELPER`])
/// the file does not have yet; an error when a name means something else there.
pub fn helper_edits(site: &Site, helpers: Helpers, offset: usize) -> Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    for (wanted, name, source) in [
        (helpers.params, PARAMS_HELPER, PARAMS_HELPER_SOURCE),
        (helpers.form, FORM_HELPER, FORM_HELPER_SOURCE),
        (helpers.lines, LINES_HELPER, LINES_HELPER_SOURCE),
    ] {
        if !wanted {
            continue;
        }
        match site.index.resolve_name(name, offset) {
            Resolution::Builtin => edits.push(module_statement_insertion(
                site.tree,
                site.text,
                site.line_ending,
                &source.replace('\n', site.line_ending),
                offset,
            )?),
            Resolution::Binding(id)
                if site.index.binding(id).scope == site.index.module_scope() => {}
            Resolution::Binding(_) => return Err(format!("`{name}` means something else here")),
        }
    }
    Ok(edits)
}

/// Edits that turn the call `call`, whose callee spans `callee`, into an awaited call of
/// `method` (`client.get`): `(await client.get(...)).json()` in a receiver position.
pub fn await_method_edits(
    call: Node,
    callee: std::ops::Range<usize>,
    method: &str,
) -> Result<Vec<Edit>, String> {
    Ok(match await_shape(call) {
        AwaitShape::Parenthesised => vec![
            Edit::replacement(callee, format!("(await {method}")),
            Edit::insertion(call.end_byte(), ")"),
        ],
        AwaitShape::AlreadyAwaited => return Err("the call is already awaited".to_owned()),
        AwaitShape::Bare => vec![Edit::replacement(callee, format!("await {method}"))],
    })
}
