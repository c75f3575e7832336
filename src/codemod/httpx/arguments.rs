//! The arguments of one requests call, mapped to httpx (reference §1b): positional →
//! keyword, `allow_redirects` → `follow_redirects`, `data=` with a string or bytes literal →
//! `content=`, timeouts → `httpx.Timeout(..., pool=None)`, `head()` → `follow_redirects=False`,
//! a body on GET / DELETE / HEAD / OPTIONS → `request("GET", ...)`. Edits stay inside the
//! argument list, so its layout and comments are kept. The functions and their positional
//! parameters are the mapping's `methods` table.

use crate::parse::KindName;
use tree_sitter::Node;

use super::HttpxMapping;
use crate::codemod::strategy::site::Site;
use crate::fix::Edit;
use crate::parse::{Field, FieldChild};

/// Who sends the request: a client made for this one call (a top-level `requests.get`), or a
/// client shared by several calls (a `Session` become an `AsyncClient`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    PerCallClient,
    /// A per-call client whose response is streamed (`stream=True` in a `with`).
    PerCallStream,
    SharedClient,
}

/// A keyword argument that moves to the client's construction (`cookies=`, `verify=False`).
pub struct ClientArgument {
    pub name: String,
    pub value: String,
}

/// A requests call with its arguments mapped.
pub struct MappedCall {
    /// Edits inside the call's argument list.
    pub edits: Vec<Edit>,
    /// Arguments that move to the client (only with a per-call client).
    pub client_arguments: Vec<ClientArgument>,
    /// The httpx method to call: the same, or `request` for a body on GET/DELETE/HEAD/OPTIONS.
    pub method: String,
    /// Stated behaviour differences.
    pub caveats: Vec<String>,
    /// The module's helpers the call uses ([`PARAMS_HELPER`], [`FORM_HELPER`]).
    pub helpers: Helpers,
    /// Where the URL argument starts.
    pub url_start: usize,
}

/// Which of the module-level helpers a rewrite uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Helpers {
    /// [`PARAMS_HELPER`]: requests' query string.
    pub params: bool,
    /// [`FORM_HELPER`]: requests' form fields.
    pub form: bool,
    /// [`LINES_HELPER`]: requests' `iter_lines()`.
    pub lines: bool,
}

impl Helpers {
    /// The helpers of `self` not in `added` yet, which are then added.
    pub fn not_yet_in(self, added: &mut Helpers) -> Helpers {
        let new = Helpers {
            params: self.params && !added.params,
            form: self.form && !added.form,
            lines: self.lines && !added.lines,
        };
        added.params |= self.params;
        added.form |= self.form;
        added.lines |= self.lines;
        new
    }
}

/// The module-level helper that builds the form fields requests would send for `data=` where
/// the values are not visible: httpx sends a `None` value as an empty field and renders `True`
/// as `true`; requests leaves `None` out and writes `str(value)`.
pub const FORM_HELPER: &str = "_form_fields";

/// The helper's definition (lines joined with `\n`).
pub const FORM_HELPER_SOURCE: &str = r##"def _form_fields(data):
    # requests' form fields: `None` values left out, other values as `str()` writes them
    # (`True`, where httpx sends `true`); a str, bytes or file body is passed on as it is.
    if not hasattr(data, "items") and not isinstance(data, (list, tuple)):
        return data
    fields = {}
    for key, values in data.items() if hasattr(data, "items") else data:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                value = value.decode() if isinstance(value, bytes) else str(value)
                fields.setdefault(key, []).append(value)
    return fields"##;

/// The module-level helper that splits a streamed body into lines as requests'
/// `iter_lines()` does: from the same chunks, on `bytes.splitlines()` (or `delimiter`), lines
/// as bytes; httpx's `aiter_lines()` decodes them to `str`.
pub const LINES_HELPER: &str = "_iter_lines";

/// The helper's definition (lines joined with `\n`).
pub const LINES_HELPER_SOURCE: &str = r##"async def _iter_lines(chunks, delimiter=None):
    # requests' `iter_lines()`: the same chunks split into lines of bytes, as
    # `bytes.splitlines()` (or `delimiter`) splits them, a line cut by a chunk's end joined.
    pending = None
    async for chunk in chunks:
        if pending is not None:
            chunk = pending + chunk
        lines = chunk.split(delimiter) if delimiter else chunk.splitlines()
        if lines and lines[-1] and chunk and lines[-1][-1] == chunk[-1]:
            pending = lines.pop()
        else:
            pending = None
        for line in lines:
            yield line
    if pending is not None:
        yield pending"##;

/// The module-level helper that builds the URL requests would send for `params=` where the
/// values or the URL's own query are not visible: httpx replaces a query already in the URL,
/// sends `None` values as `a=` and renders `True` as `true`; requests appends to the query,
/// leaves `None` out and writes `str(value)`.
pub const PARAMS_HELPER: &str = "_url_with_params";

/// The helper's definition (lines joined with `\n`; the caller uses the file's line ending).
pub const PARAMS_HELPER_SOURCE: &str = r##"def _url_with_params(url, params):
    # requests' query string: `params` appended to the query the URL already has, `None`
    # values left out, other values as `str()` writes them (`True`, where httpx sends `true`).
    from urllib.parse import urlencode

    if isinstance(params, (str, bytes)):
        query = params.decode() if isinstance(params, bytes) else params
    else:
        pairs = []
        for key, values in params.items() if hasattr(params, "items") else params or ():
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                values = [values]
            pairs += [(key, value) for value in values if value is not None]
        query = urlencode(pairs)
    if not query:
        return url
    url, hash_mark, fragment = str(url).partition("#")
    separator = "" if url.endswith("?") else "&" if "?" in url else "?"
    return f"{url}{separator}{query}{hash_mark}{fragment}""##;

/// A literal whose value the query renders the same in requests and httpx (a string, a
/// number), or `True` / `False` / `None`, which it renders differently.
fn plain_literal(node: Node) -> bool {
    matches!(node.kind_name(), "integer" | "float") || is_literal_string(node)
}

/// Edits that make a `{...}` literal of plain values render as requests does: `True` →
/// `"True"`, `False` → `"False"`, a `None` entry left out; `None` when an entry is not a
/// visible literal key and value.
fn static_params(text: &str, dict: Node) -> Option<Vec<Edit>> {
    let mut edits = Vec::new();
    let mut cursor = dict.walk();
    let pairs: Vec<Node> = dict.named_children(&mut cursor).collect();
    for (i, pair) in pairs.iter().enumerate() {
        if pair.kind_name() == "comment" {
            continue;
        }
        pair.child_by_field_name("key")
            .filter(|k| is_literal_string(*k))?;
        let value = pair.field(Field::Value)?;
        match value.kind_name() {
            "true" => edits.push(Edit::replacement(value.byte_range(), "\"True\"")),
            "false" => edits.push(Edit::replacement(value.byte_range(), "\"False\"")),
            "none" => {
                // The entry and the comma after it (or before it, for the last entry).
                let after = &text[pair.end_byte()..dict.end_byte()];
                let range = match after.find(',') {
                    Some(comma) if after[..comma].trim().is_empty() => {
                        let rest = &after[comma + 1..];
                        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                        pair.start_byte()..pair.end_byte() + comma + 1 + spaces
                    }
                    _ if i == 0 => pair.byte_range(),
                    _ => {
                        let before = &text[dict.start_byte()..pair.start_byte()];
                        dict.start_byte() + before.rfind(',')?..pair.end_byte()
                    }
                };
                if text[range.clone()].contains('#') {
                    return None;
                }
                edits.push(Edit::deletion(range));
            }
            _ if plain_literal(value) => {}
            _ => return None,
        }
    }
    Some(edits)
}

fn is_literal_string(node: Node) -> bool {
    matches!(node.kind_name(), "string" | "concatenated_string") && !has_interpolation(node)
}

fn has_interpolation(node: Node) -> bool {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "interpolation" {
            return true;
        }
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// One argument as passed: its requests parameter name, its value, and the whole argument
/// node (`keyword_argument`, or the bare value when positional).
struct Passed<'t> {
    name: String,
    value: Node<'t>,
    keyword: Option<Node<'t>>,
}

/// Map the arguments of `call`, a requests `method` call, for `sender`; an error when an
/// argument has no faithful httpx equivalent there.
pub fn map_call(
    site: &Site,
    call: Node,
    method: &str,
    sender: Sender,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Result<MappedCall, String> {
    let text = site.text;
    let known = mapping
        .method(method)
        .ok_or("not a requests request method")?;
    let parameters = &known.positional;
    let mut httpx_method = method.to_owned();
    let arguments_node = call
        .field(Field::Arguments)
        .filter(|a| a.kind_name() == "argument_list")
        .ok_or("the call has no argument list")?;
    let mut passed: Vec<Passed> = Vec::new();
    let mut positional = 0;
    let mut cursor = arguments_node.walk();
    for argument in arguments_node.named_children(&mut cursor) {
        match argument.kind_name() {
            "keyword_argument" => {
                let name = argument.field(Field::Name).ok_or("bad keyword")?;
                let value = argument.field(Field::Value).ok_or("bad keyword")?;
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

    let mut edits: Vec<Edit> = Vec::new();
    let mut caveats: Vec<String> = Vec::new();
    let mut client_arguments: Vec<ClientArgument> = Vec::new();
    let mut has_body = false;
    let mut redirects_given = false;
    let mut url = None;
    let mut helpers = Helpers::default();
    let value_text = |node: Node| text[node.byte_range()].to_owned();
    // Rename (or name) an argument: `allow_redirects=` → `follow_redirects=`, `{…}` → `params={…}`.
    let rename = |argument: &Passed, to: &str, edits: &mut Vec<Edit>| match argument.keyword {
        Some(keyword) => {
            let name = keyword.field(Field::Name).expect("a keyword has a name");
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
    let per_call = sender != Sender::SharedClient;
    for argument in &passed {
        let value = argument.value;
        match argument.name.as_str() {
            "method" => {}
            "url" => url = Some(value),
            "params" => {
                let url_is_plain_literal = url.is_some_and(|u: Node| {
                    is_literal_string(u) && !text[u.byte_range()].contains(['?', '#'])
                });
                let visible = (value.kind_name() == "dictionary" && url_is_plain_literal)
                    .then(|| static_params(text, value))
                    .flatten();
                match (visible, url) {
                    // Every value in sight and no query in the URL: the same query once
                    // `True` / `False` are strings and `None` entries are gone.
                    (Some(static_edits), _) => {
                        edits.extend(static_edits);
                        rename(argument, "params", &mut edits);
                    }
                    // Else requests' own query string, built by the module's helper.
                    (None, Some(url)) => {
                        let node = argument.keyword.unwrap_or(value);
                        let after = &text[node.end_byte()..arguments_node.end_byte()];
                        let range = match after.find(',') {
                            Some(comma) if after[..comma].trim().is_empty() => {
                                let rest = &after[comma + 1..];
                                let spaces =
                                    rest.len() - rest.trim_start_matches([' ', '\t']).len();
                                node.start_byte()..node.end_byte() + comma + 1 + spaces
                            }
                            _ => {
                                let before = &text[arguments_node.start_byte()..node.start_byte()];
                                let comma = before.rfind(',').ok_or("`params=` alone")?;
                                arguments_node.start_byte() + comma..node.end_byte()
                            }
                        };
                        if text[range.clone()].contains('#') {
                            return Err("`params=` holds a comment".to_owned());
                        }
                        edits.push(Edit::deletion(range));
                        edits.push(Edit::insertion(
                            url.start_byte(),
                            format!("{PARAMS_HELPER}("),
                        ));
                        edits.push(Edit::insertion(
                            url.end_byte(),
                            format!(", {})", value_text(value)),
                        ));
                        helpers.params = true;
                    }
                    (None, None) => return Err("`params=` before the URL".to_owned()),
                }
            }
            "data" => {
                has_body = true;
                let visible = (value.kind_name() == "dictionary")
                    .then(|| static_params(text, value))
                    .flatten();
                // A str or bytes body (a string, an f-string, `json.dumps(...)`): `content=`.
                let str_body = matches!(value.kind_name(), "string" | "concatenated_string")
                    || (value.kind_name() == "call"
                        && value
                            .field(Field::Function)
                            .and_then(|f| site.index.qualified_name(f, text))
                            .is_some_and(|q| mapping.is_str_body(&q)));
                if str_body {
                    rename(argument, "content", &mut edits);
                } else if let Some(static_edits) = visible {
                    // Every value in sight: the same fields once `True` / `False` are strings
                    // and `None` entries are gone.
                    edits.extend(static_edits);
                    rename(argument, "data", &mut edits);
                } else {
                    // Else requests' own fields, made by the module's helper (a str, bytes or
                    // file body passes through it unchanged, which httpx sends as content).
                    edits.push(Edit::insertion(
                        value.start_byte(),
                        format!("{FORM_HELPER}("),
                    ));
                    edits.push(Edit::insertion(value.end_byte(), ")"));
                    helpers.form = true;
                    rename(argument, "data", &mut edits);
                }
            }
            "json" => {
                has_body = true;
                caveats.push(
                    "`json=`: httpx serialises compactly and without ASCII escapes, so the body \
                     bytes differ (the parsed JSON is the same)"
                        .to_owned(),
                );
                rename(argument, "json", &mut edits);
            }
            "files" => {
                has_body = true;
                caveats.push(
                    "`files=`: files must be opened in binary mode, and part names and content \
                     types can differ"
                        .to_owned(),
                );
                rename(argument, "files", &mut edits);
            }
            "headers" => {
                if value.kind_name() != "dictionary" {
                    caveats.push(
                        "`headers=`: a `None` value removes a header in requests but fails in httpx"
                            .to_owned(),
                    );
                }
                rename(argument, "headers", &mut edits);
            }
            "cookies" if per_call => {
                client_arguments.push(ClientArgument {
                    name: "cookies".into(),
                    value: value_text(value),
                });
                remove(argument, &mut edits)?;
            }
            "cookies" => {
                return Err(
                    "`cookies=` on a session call: httpx drops per-request cookies on redirects, \
                     and moving them to the client would keep them for later calls"
                        .to_owned(),
                );
            }
            "auth" => {
                if value.kind_name() != "tuple" {
                    return Err("`auth=` other than a (user, password) tuple".to_owned());
                }
                rename(argument, "auth", &mut edits);
            }
            "timeout" => {
                rename(argument, "timeout", &mut edits);
                match value.kind_name() {
                    "none" => {}
                    "tuple" if value.named_child_count() == 2 => {
                        let connect = value_text(value.named_child(0).expect("two items"));
                        let read = value_text(value.named_child(1).expect("two items"));
                        edits.push(Edit::replacement(
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
                        edits.push(Edit::insertion(
                            value.start_byte(),
                            format!("{client_module}.Timeout("),
                        ));
                        edits.push(Edit::insertion(value.end_byte(), ", pool=None)"));
                    }
                }
            }
            "allow_redirects" => {
                redirects_given = true;
                rename(argument, "follow_redirects", &mut edits);
            }
            "verify" if per_call && matches!(value.kind_name(), "true" | "false") => {
                if value.kind_name() == "false" {
                    client_arguments.push(ClientArgument {
                        name: "verify".into(),
                        value: "False".into(),
                    });
                }
                remove(argument, &mut edits)?;
            }
            "stream" if value.kind_name() == "false" => remove(argument, &mut edits)?,
            "stream" if value.kind_name() == "true" && sender == Sender::PerCallStream => {
                remove(argument, &mut edits)?
            }
            other if per_call => {
                return Err(format!(
                    "`{other}=` has no faithful httpx equivalent on a per-call client yet"
                ));
            }
            other => {
                return Err(format!(
                    "`{other}=` on a session call has no faithful httpx equivalent (httpx sets it \
                     on the client only)"
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
    if known.no_redirects && !redirects_given {
        edits.push(Edit::insertion(
            last_argument.end_byte(),
            ", follow_redirects=False",
        ));
    }
    // A body on GET/DELETE/HEAD/OPTIONS goes through `request("GET", ...)`, which accepts one.
    if has_body && known.body_through_request {
        edits.push(Edit::insertion(
            url.start_byte(),
            format!("\"{}\", ", method.to_ascii_uppercase()),
        ));
        httpx_method = "request".to_owned();
    }
    Ok(MappedCall {
        edits,
        client_arguments,
        method: httpx_method,
        caveats,
        helpers,
        url_start: url.start_byte(),
    })
}
