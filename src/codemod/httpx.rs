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
//! - `except requests.exceptions.X` around the call also catches the httpx equivalents.
//!
//! Everything the reference marks COND becomes a stated caveat; NO rows (streams, hooks,
//! proxies, certificates, custom auth, `iter_content`, ...) mean no fix. The fix is always
//! unsafe: exceptions that leave the function change type for its callers.

use tree_sitter::Node;

use super::strategy::{AwaitShape, Proposal, Site, await_shape};
use crate::fix::imports::{module_statement_insertion, reference_module};
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::handlers_around;
use crate::semantic::{Resolution, ScopeKind};

/// The module-level SSL context every rewritten client shares.
const SSL_CONTEXT: &str = "_HTTPX_SSL_CONTEXT";

/// Positional parameters of each requests function, after which every argument is a keyword.
fn positional_parameters(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "get" => &["url", "params"],
        "options" | "head" | "delete" => &["url"],
        "post" => &["url", "data", "json"],
        "put" | "patch" => &["url", "data"],
        "request" => &[
            "method",
            "url",
            "params",
            "data",
            "headers",
            "cookies",
            "files",
            "auth",
            "timeout",
            "allow_redirects",
            "proxies",
            "hooks",
            "stream",
            "verify",
            "cert",
            "json",
        ],
        _ => return None,
    })
}

/// httpx exceptions that correspond to a requests exception (reference §5b / §8.7).
fn httpx_exceptions(requests_name: &str) -> Option<&'static [&'static str]> {
    Some(match requests_name {
        "HTTPError" => &["HTTPStatusError"],
        "Timeout" => &["TimeoutException"],
        "ConnectTimeout" => &["ConnectTimeout"],
        "ReadTimeout" => &["ReadTimeout"],
        "ConnectionError" => &[
            "NetworkError",
            "RemoteProtocolError",
            "ProxyError",
            "ConnectTimeout",
        ],
        "RequestException" => &["HTTPError", "InvalidURL", "StreamConsumed"],
        "TooManyRedirects" => &["TooManyRedirects"],
        "MissingSchema" | "InvalidSchema" => &["UnsupportedProtocol"],
        "InvalidURL" => &["UnsupportedProtocol", "InvalidURL"],
        "ChunkedEncodingError" => &["RemoteProtocolError"],
        "ContentDecodingError" => &["DecodingError"],
        _ => return None,
    })
}

/// One keyword argument of the rewritten call.
struct Argument {
    name: String,
    value: String,
}

fn is_literal_string(node: Node) -> bool {
    matches!(node.kind(), "string" | "concatenated_string") && !has_interpolation(node)
}

fn has_interpolation(node: Node) -> bool {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "interpolation" {
            return true;
        }
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// The statement (a direct child of a block or the module) that holds `node`, with the path
/// checked: no lambda, comprehension or nested function between them.
fn enclosing_statement(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind() {
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

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// A local name unused in every enclosing scope: `client`, `client_1`, ...
fn free_name(site: &Site, base: &str) -> String {
    let offset = site.call.start_byte();
    (0..)
        .map(|i| {
            if i == 0 {
                base.to_owned()
            } else {
                format!("{base}_{i}")
            }
        })
        .find(|name| site.index.resolve_name(name, offset) == Resolution::Builtin)
        .expect("some name is free")
}

pub fn httpx_client(
    site: &Site,
    applicability: Applicability,
    client_module: &str,
) -> Result<Proposal, String> {
    let method = site
        .qualified
        .strip_prefix("requests.")
        .filter(|m| !m.contains('.'))
        .ok_or("only the top-level requests functions are rewritten to httpx so far")?;
    let parameters = positional_parameters(method).ok_or("not a requests request function")?;
    if site.library.is_some() {
        return Err("the file is written for trio or anyio".to_owned());
    }
    let statement = enclosing_statement(site.call)
        .ok_or("the call is not in a statement of its own (a condition, a `with` item, a lambda, a comprehension)")?;
    let text = site.text;
    let le = site.line_ending;
    let first_line = line_start(text, statement.start_byte());
    let indent = &text[first_line..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the statement shares its line with other code".to_owned());
    }
    let rest = &text[statement.end_byte()..];
    let last_line_end = statement.end_byte() + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let after = text[statement.end_byte()..last_line_end].trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err("the statement shares its line with other code".to_owned());
    }
    // One requests call per statement: a second one would share the client (and its cookies).
    let mut requests_calls = 0;
    let mut cursor = statement.walk();
    let mut stack = vec![statement];
    while let Some(node) = stack.pop() {
        if node.kind() == "call"
            && let Some(function) = node.child_by_field_name("function")
            && site
                .index
                .qualified_name(function, text)
                .is_some_and(|q| q.starts_with("requests."))
        {
            requests_calls += 1;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    if requests_calls > 1 {
        return Err("the statement makes several requests calls".to_owned());
    }

    let mut caveats: Vec<String> = vec![
        "requests exceptions that leave the function become httpx exceptions for its callers"
            .to_owned(),
        "the User-Agent header becomes python-httpx, and `.netrc` credentials and \
         `REQUESTS_CA_BUNDLE` are not read"
            .to_owned(),
    ];
    let arguments_node = site
        .call
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
        .ok_or("the call has no argument list")?;
    // Each argument: its requests parameter name, its value, and the whole argument node
    // (`keyword_argument`, or the bare value when positional).
    struct Passed<'t> {
        name: String,
        value: Node<'t>,
        keyword: Option<Node<'t>>,
    }
    let mut passed: Vec<Passed> = Vec::new();
    let mut positional = 0;
    let mut cursor = arguments_node.walk();
    for argument in arguments_node.named_children(&mut cursor) {
        match argument.kind() {
            "keyword_argument" => {
                let name = argument.child_by_field_name("name").ok_or("bad keyword")?;
                let value = argument.child_by_field_name("value").ok_or("bad keyword")?;
                passed.push(Passed {
                    name: text[name.byte_range()].to_owned(),
                    value,
                    keyword: Some(argument),
                });
            }
            "list_splat" | "dictionary_splat" => {
                return Err("`*args` / `**kwargs` hide which arguments are passed".to_owned());
            }
            "comment" => {}
            _ => {
                let name = parameters
                    .get(positional)
                    .ok_or("more positional arguments than requests accepts")?;
                positional += 1;
                passed.push(Passed {
                    name: name.to_string(),
                    value: argument,
                    keyword: None,
                });
            }
        }
    }

    // Edits inside the argument list keep its layout and comments.
    let mut call_edits: Vec<Edit> = Vec::new();
    let mut client_arguments: Vec<Argument> = Vec::new();
    let mut has_body = false;
    let mut redirects_given = false;
    let mut url = None;
    let value_text = |node: Node| text[node.byte_range()].to_owned();
    // Rename (or name) an argument: `allow_redirects=` → `follow_redirects=`, `{…}` → `params={…}`.
    let rename = |argument: &Passed, to: &str, edits: &mut Vec<Edit>| match argument.keyword {
        Some(keyword) => {
            let name = keyword
                .child_by_field_name("name")
                .expect("a keyword has a name");
            if &text[name.byte_range()] != to {
                edits.push(Edit::replacement(name.byte_range(), to));
            }
        }
        None => edits.push(Edit::insertion(
            argument.value.start_byte(),
            format!("{to}="),
        )),
    };
    // Remove an argument from the call (it moves to the client): the argument and the comma
    // after it (or before it, when it is the last).
    let remove = |argument: &Passed, edits: &mut Vec<Edit>| -> Result<(), String> {
        let node = argument.keyword.unwrap_or(argument.value);
        let after = &text[node.end_byte()..arguments_node.end_byte()];
        let range = match after.find(',') {
            Some(comma) if after[..comma].trim().is_empty() => {
                let rest = &after[comma + 1..];
                let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                node.start_byte()..node.end_byte() + comma + 1 + spaces
            }
            _ => {
                let before = &text[arguments_node.start_byte()..node.start_byte()];
                let comma = before.rfind(',').ok_or("cannot remove the only argument")?;
                arguments_node.start_byte() + comma..node.end_byte()
            }
        };
        if text[range.clone()].contains(['\n', '\r', '#']) {
            return Err("an argument to move spans lines or holds a comment".to_owned());
        }
        edits.push(Edit::deletion(range));
        Ok(())
    };
    for argument in &passed {
        let value = argument.value;
        match argument.name.as_str() {
            "method" => {}
            "url" => url = Some(value),
            "params" => {
                let url_is_plain_literal = url.is_some_and(|u: Node| {
                    is_literal_string(u) && !text[u.byte_range()].contains('?')
                });
                if !(value.kind() == "dictionary" && url_is_plain_literal) {
                    caveats.push(
                        "`params=`: httpx replaces a query string already in the URL and sends \
                         `None` values and `True`/`False` differently"
                            .to_owned(),
                    );
                }
                rename(argument, "params", &mut call_edits);
            }
            "data" => {
                has_body = true;
                if is_literal_string(value) {
                    rename(argument, "content", &mut call_edits);
                } else {
                    caveats.push(if value.kind() == "dictionary" {
                        "`data=`: httpx sends `None` form values as empty strings".to_owned()
                    } else {
                        "`data=`: a str or bytes value must become `content=` in httpx, and a \
                         list of pairs or a file is not accepted"
                            .to_owned()
                    });
                    rename(argument, "data", &mut call_edits);
                }
            }
            "json" => {
                has_body = true;
                caveats.push(
                    "`json=`: httpx serialises compactly and without ASCII escapes, so the body \
                     bytes differ (the parsed JSON is the same)"
                        .to_owned(),
                );
                rename(argument, "json", &mut call_edits);
            }
            "files" => {
                has_body = true;
                caveats.push(
                    "`files=`: files must be opened in binary mode, and part names and content \
                     types can differ"
                        .to_owned(),
                );
                rename(argument, "files", &mut call_edits);
            }
            "headers" => {
                if value.kind() != "dictionary" {
                    caveats.push(
                        "`headers=`: a `None` value removes a header in requests but fails in httpx"
                            .to_owned(),
                    );
                }
                rename(argument, "headers", &mut call_edits);
            }
            "cookies" => {
                client_arguments.push(Argument {
                    name: "cookies".into(),
                    value: value_text(value),
                });
                remove(argument, &mut call_edits)?;
            }
            "auth" => {
                if value.kind() != "tuple" {
                    return Err("`auth=` other than a (user, password) tuple".to_owned());
                }
                rename(argument, "auth", &mut call_edits);
            }
            "timeout" => {
                rename(argument, "timeout", &mut call_edits);
                match value.kind() {
                    "none" => {}
                    "tuple" if value.named_child_count() == 2 => {
                        let connect = value_text(value.named_child(0).expect("two items"));
                        let read = value_text(value.named_child(1).expect("two items"));
                        call_edits.push(Edit::replacement(
                            value.byte_range(),
                            format!(
                                "{client_module}.Timeout(connect={connect}, read={read}, write={connect}, pool=None)"
                            ),
                        ));
                    }
                    kind => {
                        if !matches!(kind, "integer" | "float") {
                            caveats.push(
                                "`timeout=`: a (connect, read) tuple in a variable is read differently by httpx"
                                    .to_owned(),
                            );
                        }
                        call_edits.push(Edit::insertion(
                            value.start_byte(),
                            format!("{client_module}.Timeout("),
                        ));
                        call_edits.push(Edit::insertion(value.end_byte(), ", pool=None)"));
                    }
                }
            }
            "allow_redirects" => {
                redirects_given = true;
                rename(argument, "follow_redirects", &mut call_edits);
            }
            "verify" if matches!(value.kind(), "true" | "false") => {
                if value.kind() == "false" {
                    client_arguments.push(Argument {
                        name: "verify".into(),
                        value: "False".into(),
                    });
                }
                remove(argument, &mut call_edits)?;
            }
            "stream" if value.kind() == "false" => remove(argument, &mut call_edits)?,
            other => {
                return Err(format!(
                    "`{other}=` has no faithful httpx equivalent on a per-call client yet"
                ));
            }
        }
    }
    let url = url.ok_or("the call passes no URL")?;
    let last_argument = passed
        .iter()
        .map(|a| a.keyword.unwrap_or(a.value))
        .max_by_key(|n| n.end_byte())
        .ok_or("the call passes no arguments")?;
    if method == "head" && !redirects_given {
        call_edits.push(Edit::insertion(
            last_argument.end_byte(),
            ", follow_redirects=False",
        ));
    }

    // Imports and the shared SSL context.
    let offset = site.call.start_byte();
    let module = reference_module(site.index, site.tree, text, le, client_module, offset)?;
    let httpx_name = module.name.clone();
    let mut edits: Vec<Edit> = module.import.into_iter().collect();
    let verify_given = client_arguments.iter().any(|a| a.name == "verify");
    if !verify_given {
        match site.index.resolve_name(SSL_CONTEXT, offset) {
            Resolution::Builtin => edits.push(module_statement_insertion(
                site.tree,
                text,
                le,
                &format!(
                    "# One SSL context for every client: loading the CA bundle takes milliseconds.\n{SSL_CONTEXT} = {httpx_name}.create_ssl_context()"
                )
                .replace('\n', le),
            )),
            Resolution::Binding(id)
                if site.index.binding(id).scope == site.index.module_scope() => {}
            Resolution::Binding(_) => {
                return Err(format!("`{SSL_CONTEXT}` means something else here"));
            }
        }
        client_arguments.insert(
            0,
            Argument {
                name: "verify".into(),
                value: SSL_CONTEXT.into(),
            },
        );
    }
    let client = free_name(site, "client");

    // The callee: `requests.get` → `await client.get`; a body on GET/DELETE/HEAD/OPTIONS goes
    // through `client.request("GET", ...)`, which accepts one.
    let client_method = if has_body && matches!(method, "get" | "delete" | "head" | "options") {
        call_edits.push(Edit::insertion(
            url.start_byte(),
            format!("\"{}\", ", method.to_ascii_uppercase()),
        ));
        "request"
    } else {
        method
    };
    match await_shape(site.call) {
        AwaitShape::Parenthesised => {
            call_edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("(await {client}.{client_method}"),
            ));
            call_edits.push(Edit::insertion(site.call.end_byte(), ")"));
        }
        AwaitShape::AlreadyAwaited => return Err("the call is already awaited".to_owned()),
        AwaitShape::Bare => call_edits.push(Edit::replacement(
            site.callee.byte_range(),
            format!("await {client}.{client_method}"),
        )),
    }

    // The response: rewrite what differs on the local name bound to it.
    let response_edits = response_edits(site, statement, &mut caveats)?;

    // Re-indent the statement under `async with`, leaving lines inside strings alone.
    let unit = crate::source::detect_indent(text);
    let mut string_ranges = Vec::new();
    let mut cursor = statement.walk();
    let mut stack = vec![statement];
    while let Some(node) = stack.pop() {
        if node.kind() == "string" {
            string_ranges.push(node.byte_range());
        } else {
            stack.extend(node.named_children(&mut cursor));
        }
    }
    let mut defaults = vec![
        "follow_redirects=True".to_owned(),
        "timeout=None".to_owned(),
        "max_redirects=30".to_owned(),
    ];
    defaults.extend(
        client_arguments
            .iter()
            .map(|a| format!("{}={}", a.name, a.value)),
    );
    edits.push(Edit::insertion(
        first_line,
        format!(
            "{indent}async with {httpx_name}.AsyncClient({}) as {client}:{le}",
            defaults.join(", ")
        ),
    ));
    let mut line = first_line;
    while line < statement.end_byte() {
        let inside_string = string_ranges.iter().any(|r| r.start < line && line < r.end);
        let blank = text[line..].starts_with(['\n', '\r']);
        if !inside_string && !blank {
            edits.push(Edit::insertion(line, unit.clone()));
        }
        match text[line..statement.end_byte()].find('\n') {
            Some(newline) => line += newline + 1,
            None => break,
        }
    }
    edits.extend(call_edits);
    edits.extend(response_edits);
    edits.extend(except_clause_edits(site, statement, &httpx_name));
    caveats.dedup();
    let mut fix = Fix::new(
        applicability.min(Applicability::Unsafe),
        String::new(),
        edits,
    );
    fix.caveat = Some(caveats.join("; "));
    fix.may_orphan.push("requests".to_owned());
    Ok(Proposal {
        fix,
        replacement: format!("{httpx_name}.AsyncClient"),
    })
}

/// Edits for the uses of the response when the statement binds it to a local name; an error
/// when a use has no faithful httpx equivalent.
fn response_edits(
    site: &Site,
    statement: Node,
    caveats: &mut Vec<String>,
) -> Result<Vec<Edit>, String> {
    let text = site.text;
    // `r = requests.get(...)` (or an annotated assignment).
    let assignment = statement
        .named_child(0)
        .filter(|a| a.kind() == "assignment")
        .filter(|a| {
            a.child_by_field_name("right")
                .is_some_and(|r| r.id() == site.call.id())
        });
    let direct_parent = site.call.parent();
    let mut edits = Vec::new();
    let Some(assignment) = assignment else {
        // The response is used in place: `requests.get(u).json()`, or returned, or dropped.
        if let Some(parent) = direct_parent
            && parent.kind() == "attribute"
        {
            let attribute = parent.child_by_field_name("attribute").ok_or("attribute")?;
            check_attribute(&text[attribute.byte_range()], caveats)?;
        } else if statement.kind() == "return_statement" {
            caveats.push(
                "the response is returned: its callers see an httpx response (`.ok`, `.url`, \
                 `.reason` and `.text` differ)"
                    .to_owned(),
            );
        }
        return Ok(edits);
    };
    let target = assignment
        .child_by_field_name("left")
        .filter(|l| l.kind() == "identifier")
        .ok_or("the response is unpacked or stored on an object")?;
    let name = &text[target.byte_range()];
    let function = site.index.scope_at(site.call.start_byte());
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
        if node.kind() != "identifier"
            || &text[node.byte_range()] != name
            || node.start_byte() <= target.start_byte()
            || site.index.resolve_name(name, node.start_byte()) != Resolution::Binding(binding)
        {
            continue;
        }
        let Some(parent) = node.parent() else {
            continue;
        };
        let is_object = parent.kind() == "attribute"
            && parent
                .child_by_field_name("object")
                .is_some_and(|o| o.id() == node.id());
        if is_object {
            let attribute = parent.child_by_field_name("attribute").ok_or("attribute")?;
            let attr = &text[attribute.byte_range()];
            match attr {
                "ok" => match parent.parent().filter(|p| p.kind() == "not_operator") {
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
                "reason" => edits.push(Edit::replacement(attribute.byte_range(), "reason_phrase")),
                "is_redirect" => edits.push(Edit::replacement(
                    attribute.byte_range(),
                    "has_redirect_location",
                )),
                "next" => edits.push(Edit::replacement(attribute.byte_range(), "next_request")),
                "raise_for_status" => {
                    let call = parent.parent().filter(|c| c.kind() == "call");
                    let statement = call
                        .and_then(|c| c.parent())
                        .filter(|s| s.kind() == "expression_statement");
                    match statement {
                        Some(statement) => edits.push(Edit::insertion(
                            statement.start_byte(),
                            format!("if {name}.is_error: "),
                        )),
                        None => {
                            return Err(
                                "`raise_for_status()` is used as a value; httpx raises for 3xx too"
                                    .to_owned(),
                            );
                        }
                    }
                }
                other => check_attribute(other, caveats)?,
            }
            continue;
        }
        match parent.kind() {
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
            _ => caveats.push(format!(
                "the response `{name}` is passed on: code that receives it sees an httpx response"
            )),
        }
    }
    Ok(edits)
}

/// Attributes that behave the same pass; those with a stated difference add a caveat; those
/// without an equivalent refuse the fix.
fn check_attribute(attribute: &str, caveats: &mut Vec<String>) -> Result<(), String> {
    match attribute {
        "status_code" | "headers" | "content" | "history" | "links" | "request" => Ok(()),
        "json" => {
            caveats.push(
                "`.json()`: invalid JSON raises `json.JSONDecodeError`, which is not a requests \
                 (or httpx) exception"
                    .to_owned(),
            );
            Ok(())
        }
        "elapsed" => {
            caveats.push(
                "`.elapsed` runs until the body is read in httpx, until the headers in requests"
                    .to_owned(),
            );
            Ok(())
        }
        "text" | "encoding" => {
            caveats.push(
                "`.text`: without a charset in the response, requests decodes as ISO-8859-1 and \
                 httpx as UTF-8"
                    .to_owned(),
            );
            Ok(())
        }
        "cookies" => {
            caveats.push("`.cookies` is an `httpx.Cookies`, not a `RequestsCookieJar`".to_owned());
            Ok(())
        }
        other => Err(format!(
            "the response's `.{other}` has no faithful httpx equivalent"
        )),
    }
}

/// Edits that make `except requests...X` clauses around `statement` also catch the httpx
/// equivalents (the union keeps every other requests call in the `try` covered too).
pub fn except_clause_edits(site: &Site, statement: Node, client_module: &str) -> Vec<Edit> {
    let text = site.text;
    let mut edits = Vec::new();
    for handler in handlers_around(statement) {
        let mut added: Vec<String> = Vec::new();
        for item in &handler.items {
            let Some(qualified) = site.index.qualified_name(*item, text) else {
                continue;
            };
            let short = qualified
                .strip_prefix("requests.exceptions.")
                .or_else(|| qualified.strip_prefix("requests."));
            for e in short.and_then(httpx_exceptions).unwrap_or_default() {
                let name = format!("{client_module}.{e}");
                if !added.contains(&name) {
                    added.push(name);
                }
            }
        }
        if added.is_empty() {
            continue;
        }
        let existing: Vec<&str> = handler
            .items
            .iter()
            .map(|i| &text[i.byte_range()])
            .collect();
        edits.push(Edit::replacement(
            handler.expression.byte_range(),
            format!("({}, {})", existing.join(", "), added.join(", ")),
        ));
    }
    edits
}
