//! The requests → httpx mapping as the codemod file gives it (`[alternative-fix.httpx]`),
//! validated once into [`HttpxMapping`], and the lookups the rewrite makes: a function's
//! positional parameters, the httpx exceptions for a requests one, a status code's member,
//! what a response attribute becomes, whether a call is a session's.

use std::collections::BTreeMap;

use super::target::{ClientPackage, lowest_python};
use crate::codemod::raw::{RawHttpxMapping, RawHttpxResponse};

/// The response attributes the strategy rewrites itself (`.ok` → `not r.is_error`, `.url` →
/// `str(r.url)`, `r.raise_for_status()` guarded): not data.
pub const REWRITTEN_ATTRIBUTES: &[&str] = &["ok", "url", "raise_for_status"];

/// The compiled mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpxMapping {
    /// The module whose calls are rewritten (`requests`).
    pub module: String,
    session_constructors: Vec<String>,
    /// What every rewrite changes.
    pub caveats: Vec<String>,
    /// What a module-level session's rewrite changes, instead.
    pub shared_session_caveats: Vec<String>,
    /// `(name, value)` of the client arguments that restore requests' defaults.
    pub client_defaults: Vec<(String, String)>,
    construction_only: Vec<String>,
    codes_objects: Vec<String>,
    exception_modules: Vec<String>,
    methods: BTreeMap<String, Method>,
    exceptions: BTreeMap<String, Vec<String>>,
    response: ResponseMapping,
    codes: BTreeMap<String, StatusCode>,
    /// The clients the rewrite can target, preferred first.
    pub clients: Vec<ClientPackage>,
    json_exceptions: Vec<String>,
    str_bodies: Vec<String>,
}

/// The response's attributes that work: the same, renamed, or with a stated difference.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ResponseMapping {
    same: Vec<String>,
    renamed: BTreeMap<String, String>,
    caveats: BTreeMap<String, String>,
}

/// One request function of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// Its positional parameters.
    pub positional: Vec<String>,
    /// A body goes through `request("GET", ...)`.
    pub body_through_request: bool,
    /// Redirects are not followed unless asked.
    pub no_redirects: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct StatusCode {
    value: u16,
    member: Option<String>,
}

/// What a response attribute becomes in httpx.
pub enum ResponseAttribute<'m> {
    /// It behaves the same.
    Same,
    /// It works, with this stated difference.
    Caveat(&'m str),
    /// httpx calls it this.
    Renamed(&'m str),
    /// No faithful equivalent: no fix.
    Unknown,
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `a.b.c`, each segment an identifier.
fn is_dotted(name: &str) -> bool {
    name.split('.').all(is_identifier)
}

/// An error unless `items` has entries, each an identifier.
fn identifiers(field: &str, items: &[String]) -> Result<(), String> {
    if items.is_empty() {
        return Err(format!("`httpx.{field}` is empty"));
    }
    match items.iter().find(|item| !is_identifier(item)) {
        Some(item) => Err(format!("`httpx.{field}`: {item:?} is not an identifier")),
        None => Ok(()),
    }
}

/// An error unless `items` has entries, each `module` or dotted below it.
fn in_module(field: &str, items: &[String], module: &str) -> Result<(), String> {
    if items.is_empty() {
        return Err(format!("`httpx.{field}` is empty"));
    }
    for item in items {
        let below = item == module || item.starts_with(&format!("{module}."));
        if !is_dotted(item) || !below {
            return Err(format!(
                "`httpx.{field}`: {item:?} is not a dotted name in `{module}`"
            ));
        }
    }
    Ok(())
}

impl HttpxMapping {
    /// Validate the mapping against the codemod's `calls`: every request function and every
    /// session's methods must be matched by the codemod.
    pub fn compile(raw: &RawHttpxMapping, calls: &[String]) -> Result<HttpxMapping, String> {
        let module = raw.module.as_str();
        if !is_identifier(module) {
            return Err(format!(
                "`httpx.module = {module:?}` must be a top-level module name"
            ));
        }
        in_module("session-constructors", &raw.session_constructors, module)?;
        for constructor in &raw.session_constructors {
            let prefix = format!("{constructor}().");
            if !calls.iter().any(|call| call.starts_with(&prefix)) {
                return Err(format!(
                    "`httpx.session-constructors`: no method of {constructor:?} is one of the codemod's calls"
                ));
            }
        }
        if raw.caveats.is_empty() || raw.caveats.iter().any(|c| c.trim().is_empty()) {
            return Err("`httpx.caveats` needs entries, none empty".to_owned());
        }
        if raw
            .shared_session_caveats
            .iter()
            .any(|c| c.trim().is_empty())
        {
            return Err("`httpx.shared-session-caveats` has an empty entry".to_owned());
        }
        if raw.client_defaults.is_empty() {
            return Err("`httpx.client-defaults` is empty".to_owned());
        }
        let mut client_defaults = Vec::new();
        for default in &raw.client_defaults {
            match default.split_once('=') {
                Some((name, value)) if is_identifier(name) && !value.is_empty() => {
                    client_defaults.push((name.to_owned(), value.to_owned()));
                }
                _ => {
                    return Err(format!(
                        "`httpx.client-defaults`: {default:?} is not `name=value`"
                    ));
                }
            }
        }
        identifiers("construction-only", &raw.construction_only)?;
        in_module("codes-objects", &raw.codes_objects, module)?;
        in_module("exception-modules", &raw.exception_modules, module)?;
        let methods = compile_methods(raw, calls)?;
        if raw.exceptions.is_empty() {
            return Err("`httpx.exceptions` is empty".to_owned());
        }
        for (name, httpx) in &raw.exceptions {
            if !is_identifier(name) {
                return Err(format!("`httpx.exceptions`: {name:?} is not an identifier"));
            }
            identifiers(&format!("exceptions.{name}"), httpx)?;
        }
        let response = compile_response(&raw.response)?;
        if raw.codes.is_empty() {
            return Err("`httpx.codes` is empty".to_owned());
        }
        let mut codes = BTreeMap::new();
        for (name, code) in &raw.codes {
            if !is_identifier(name) || *name != name.to_ascii_lowercase() {
                return Err(format!(
                    "`httpx.codes`: {name:?} is not a lower-case identifier"
                ));
            }
            if let Some(member) = &code.member
                && (!is_identifier(member) || *member != member.to_ascii_uppercase())
            {
                return Err(format!(
                    "`httpx.codes.{name}`: member {member:?} is not an upper-case identifier"
                ));
            }
            codes.insert(
                name.clone(),
                StatusCode {
                    value: code.value,
                    member: code.member.clone(),
                },
            );
        }
        let mut clients = Vec::new();
        for client in &raw.clients {
            if !is_identifier(&client.module) || client.package.trim().is_empty() {
                return Err(format!(
                    "`httpx.clients`: {:?} is not a module",
                    client.module
                ));
            }
            let requires_python = lowest_python(&format!(">={}", client.requires_python))
                .ok_or_else(|| {
                    format!(
                        "`httpx.clients.{}`: requires-python {:?} is not `3.N`",
                        client.module, client.requires_python
                    )
                })?;
            clients.push(ClientPackage {
                module: client.module.clone(),
                package: client.package.clone(),
                requires_python,
            });
        }
        if clients.is_empty() {
            return Err("`httpx.clients` is empty".to_owned());
        }
        identifiers("json-exceptions", &raw.json_exceptions)?;
        Ok(HttpxMapping {
            clients,
            json_exceptions: raw.json_exceptions.clone(),
            str_bodies: raw.str_bodies.clone(),
            module: module.to_owned(),
            session_constructors: raw.session_constructors.clone(),
            caveats: raw.caveats.clone(),
            shared_session_caveats: raw.shared_session_caveats.clone(),
            client_defaults,
            construction_only: raw.construction_only.clone(),
            codes_objects: raw.codes_objects.clone(),
            exception_modules: raw.exception_modules.clone(),
            methods,
            exceptions: raw.exceptions.clone(),
            response,
            codes,
        })
    }

    /// The request function `method` of the module (or a session's method of that name).
    pub fn method(&self, method: &str) -> Option<&Method> {
        self.methods.get(method)
    }

    /// Whether `qualified` names what makes a session (`requests.Session`).
    pub fn is_session_constructor(&self, qualified: &str) -> bool {
        self.session_constructors.iter().any(|c| c == qualified)
    }

    /// The method of a session call: `requests.Session().get` → `get`.
    pub fn session_method<'q>(&self, qualified: &'q str) -> Option<&'q str> {
        let (class, method) = qualified.split_once("().")?;
        (self.is_session_constructor(class) && !method.contains('.')).then_some(method)
    }

    /// Whether httpx takes the session attribute only when the client is made.
    pub fn is_construction_only(&self, attribute: &str) -> bool {
        self.construction_only.iter().any(|a| a == attribute)
    }

    /// The httpx exceptions an `except` of the requests exception `qualified` also catches.
    pub fn httpx_exceptions(&self, qualified: &str) -> &[String] {
        self.exception_modules
            .iter()
            .find_map(|module| qualified.strip_prefix(module.as_str())?.strip_prefix('.'))
            .and_then(|short| self.exceptions.get(short))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether `qualified` names a function that returns a str or bytes body (`json.dumps`).
    pub fn is_str_body(&self, qualified: &str) -> bool {
        self.str_bodies.iter().any(|f| f == qualified)
    }

    /// Whether `qualified` names an exception requests raises for invalid JSON in `.json()`.
    pub fn is_json_error(&self, qualified: &str) -> bool {
        self.exception_modules
            .iter()
            .find_map(|module| qualified.strip_prefix(module.as_str())?.strip_prefix('.'))
            .is_some_and(|short| self.json_exceptions.iter().any(|e| e == short))
    }

    /// The code name in `qualified` when it is an attribute of the status codes
    /// (`requests.codes.ok` → `ok`).
    pub fn code_name<'q>(&self, qualified: &'q str) -> Option<&'q str> {
        self.codes_objects
            .iter()
            .find_map(|object| qualified.strip_prefix(object.as_str())?.strip_prefix('.'))
    }

    /// Whether `qualified` is an object holding the status codes (`requests.codes`).
    pub fn is_codes_object(&self, qualified: &str) -> bool {
        self.codes_objects.iter().any(|o| o == qualified)
    }

    /// What `requests.codes.<name>` becomes: `httpx.codes.OK`, or `122` where httpx has no
    /// member with the value; `None` for a name requests does not define.
    pub fn httpx_code(&self, name: &str, client_module: &str) -> Option<String> {
        let lower = if name == name.to_ascii_uppercase() {
            name.to_ascii_lowercase()
        } else if name == name.to_ascii_lowercase() {
            name.to_owned()
        } else {
            return None;
        };
        let code = self.codes.get(&lower)?;
        Some(match &code.member {
            Some(member) => format!("{client_module}.codes.{member}"),
            None => code.value.to_string(),
        })
    }

    /// What the response's `attribute` becomes, for a response bound to a name (`renamed`
    /// counts) or used in place (it does not: the fix cannot rename it there).
    pub fn response_attribute(&self, attribute: &str, bound: bool) -> ResponseAttribute<'_> {
        let response = &self.response;
        if bound && let Some(renamed) = response.renamed.get(attribute) {
            return ResponseAttribute::Renamed(renamed);
        }
        if response.same.iter().any(|s| s == attribute) {
            return ResponseAttribute::Same;
        }
        match response.caveats.get(attribute) {
            Some(caveat) => ResponseAttribute::Caveat(caveat),
            None => ResponseAttribute::Unknown,
        }
    }
}

/// `httpx.methods`: each a function of the module the codemod matches.
fn compile_methods(
    raw: &RawHttpxMapping,
    calls: &[String],
) -> Result<BTreeMap<String, Method>, String> {
    if raw.methods.is_empty() {
        return Err("`httpx.methods` is empty".to_owned());
    }
    let mut methods = BTreeMap::new();
    for (name, method) in &raw.methods {
        let qualified = format!("{}.{name}", raw.module);
        if !is_identifier(name) || !calls.contains(&qualified) {
            return Err(format!(
                "`httpx.methods`: {qualified:?} is not one of the codemod's calls"
            ));
        }
        identifiers(&format!("methods.{name}.positional"), &method.positional)?;
        methods.insert(
            name.clone(),
            Method {
                positional: method.positional.clone(),
                body_through_request: method.body_through_request,
                no_redirects: method.no_redirects,
            },
        );
    }
    Ok(methods)
}

/// `httpx.response`: `same`, `renamed` and `caveats`, each attribute in one of them and none
/// that the strategy rewrites itself.
fn compile_response(raw: &RawHttpxResponse) -> Result<ResponseMapping, String> {
    identifiers("response.same", &raw.same)?;
    let mut caveats = BTreeMap::new();
    if raw.caveats.is_empty() {
        return Err("`httpx.response.caveats` is empty".to_owned());
    }
    for entry in &raw.caveats {
        identifiers("response.caveats.attributes", &entry.attributes)?;
        if entry.caveat.trim().is_empty() {
            return Err("`httpx.response.caveats`: a caveat is empty".to_owned());
        }
        for attribute in &entry.attributes {
            caveats.insert(attribute.clone(), entry.caveat.clone());
        }
    }
    if raw.renamed.is_empty() {
        return Err("`httpx.response.renamed` is empty".to_owned());
    }
    for (from, to) in &raw.renamed {
        if !is_identifier(from) || !is_identifier(to) {
            return Err(format!(
                "`httpx.response.renamed`: {from:?} = {to:?} is not identifier = identifier"
            ));
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    let named = raw
        .same
        .iter()
        .chain(raw.renamed.keys())
        .chain(raw.caveats.iter().flat_map(|c| &c.attributes));
    for attribute in named {
        if REWRITTEN_ATTRIBUTES.contains(&attribute.as_str()) {
            return Err(format!(
                "`httpx.response`: `{attribute}` is rewritten by the strategy itself"
            ));
        }
        if seen.contains(&attribute.as_str()) {
            return Err(format!(
                "`httpx.response`: `{attribute}` is listed more than once"
            ));
        }
        seen.push(attribute);
    }
    Ok(ResponseMapping {
        same: raw.same.clone(),
        renamed: raw.renamed.clone(),
        caveats,
    })
}

#[cfg(test)]
mod tests {
    use crate::codemod::{Strategy, compile};

    const ASYNC210: &str = include_str!("../../../codemods/ASYNC210.toml");

    /// The mapping of the bundled codemod that rewrites requests to httpx.
    fn bundled() -> super::HttpxMapping {
        let codemod = compile("codemods/ASYNC210.toml", ASYNC210).unwrap();
        match codemod.alternative.map(|a| a.strategy) {
            Some(Strategy::HttpxClient(mapping)) => (*mapping).clone(),
            other => panic!("ASYNC210's alternative fix is {other:?}"),
        }
    }

    #[test]
    fn names_map_to_members_of_the_same_value() {
        let mapping = bundled();
        let httpx_code = |name: &str, module: &str| mapping.httpx_code(name, module);
        assert_eq!(httpx_code("ok", "httpx").as_deref(), Some("httpx.codes.OK"));
        assert_eq!(httpx_code("OK", "httpx").as_deref(), Some("httpx.codes.OK"));
        assert_eq!(
            httpx_code("not_found", "httpx2").as_deref(),
            Some("httpx2.codes.NOT_FOUND")
        );
        // The value traps of reference §6.
        assert_eq!(
            httpx_code("request_uri_too_long", "httpx").as_deref(),
            Some("122")
        );
        assert_eq!(
            httpx_code("uri_too_long", "httpx").as_deref(),
            Some("httpx.codes.REQUEST_URI_TOO_LONG")
        );
        assert_eq!(
            httpx_code("precondition", "httpx").as_deref(),
            Some("httpx.codes.PRECONDITION_REQUIRED")
        );
        assert_eq!(httpx_code("retry_with", "httpx").as_deref(), Some("449"));
        assert_eq!(httpx_code("Ok", "httpx"), None);
        assert_eq!(httpx_code("missing", "httpx"), None);
    }

    #[test]
    fn every_session_constructor_is_in_the_session_module() {
        let mapping = bundled();
        for name in &mapping.session_constructors {
            assert!(name.starts_with(&format!("{}.", mapping.module)), "{name}");
        }
    }

    #[test]
    fn exceptions_are_named_through_the_first_module_that_names_them() {
        let mapping = bundled();
        assert_eq!(
            mapping.httpx_exceptions("requests.exceptions.Timeout"),
            ["TimeoutException"]
        );
        assert_eq!(
            mapping.httpx_exceptions("requests.Timeout"),
            ["TimeoutException"]
        );
        assert!(
            mapping
                .httpx_exceptions("requests.exceptions.Other")
                .is_empty()
        );
        assert!(mapping.httpx_exceptions("requestsX.Timeout").is_empty());
    }

    #[test]
    fn invalid_mapping_data_is_rejected_when_the_codemod_compiles() {
        for (from, to, expected) in [
            (
                "module = \"requests\"",
                "module = \"requests\"\nmodul = 1",
                "modul",
            ),
            (
                "use_proxy = { value = 305",
                "use_proxy = { value = \"305\"",
                "invalid type",
            ),
            (
                "construction-only = [\"verify\", \"trust_env\", \"max_redirects\"]",
                "construction-only = []",
                "`httpx.construction-only` is empty",
            ),
            (
                "session-constructors = [",
                "session-constructors = [\"other.Session\",",
                "not a dotted name in `requests`",
            ),
            (
                "session-constructors = [",
                "session-constructors = [\"requests.sessions.Other\",",
                "no method of \"requests.sessions.Other\"",
            ),
            (
                "patch = { positional = [\"url\", \"data\"] }",
                "patch = { positional = [\"url\", \"data\"] }\ntrace = { positional = [\"url\"] }",
                "\"requests.trace\" is not one of the codemod's calls",
            ),
            (
                "same = [\"status_code\",",
                "same = [\"ok\", \"status_code\",",
                "`ok` is rewritten by the strategy itself",
            ),
            (
                "same = [\"status_code\",",
                "same = [\"reason\", \"status_code\",",
                "`reason` is listed more than once",
            ),
            (
                "ok = { value = 200, member = \"OK\" }",
                "ok = { value = 200, member = \"Ok\" }",
                "not an upper-case identifier",
            ),
            (
                "fixed-file-wide = [\"requests\"]",
                "fixed-file-wide = [\"sqlite3\"]",
                "`fixed-file-wide`: \"sqlite3\" is not the module",
            ),
            (
                "strategy = \"httpx-client\"",
                "strategy = \"to-thread\"",
                "strategy `to-thread` takes no `httpx` table",
            ),
        ] {
            let text = ASYNC210.replace(from, to);
            assert_ne!(text, ASYNC210, "{from}");
            let err = compile("codemods/ASYNC210.toml", &text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("codemods/ASYNC210.toml: "), "{err}");
            assert!(err.contains(expected), "{to}: {err}");
        }
        let start = ASYNC210.find("\n[alternative-fix.httpx]").unwrap();
        let end = ASYNC210.find("\n[alternative-fix.httpx.methods]").unwrap();
        let without = format!("{}{}", &ASYNC210[..start], &ASYNC210[end..]);
        let err = compile("x.toml", &without).unwrap_err().to_string();
        assert!(err.contains("missing field `module`"), "{err}");
    }
}
