//! A `requests.Session` held in a local name of a coroutine becomes an `httpx.AsyncClient`
//! (reference §3):
//!
//! - `with requests.Session() as s:` → `async with httpx.AsyncClient(...) as s:`;
//! - `s = requests.Session()` → `s = httpx.AsyncClient(...)`, and `s.close()` →
//!   `await s.aclose()`;
//! - every request on it is awaited, with its arguments mapped as for a top-level call;
//! - `s.verify = ...`, `s.trust_env = ...` and `s.max_redirects = ...` set before the first
//!   request move into the client's construction, where httpx takes them;
//! - `s.headers`, `s.cookies`, `s.auth` (a tuple) and `s.params` (assigned) keep working.
//!
//! The whole session is rewritten by one fix, the same for each of its calls, so that the
//! calls are never half awaited. Anything else done with the session (passing it on, custom
//! adapters, hooks, proxies, per-request cookies) means no fix.
//!
//! A session kept on `self` is followed through every use of its attribute in the file
//! (`attribute_holder`), so the codemod file lists `requests` in `fixed-file-wide`: a file
//! whose code names it is parsed with every function body.

use crate::parse::KindName;
use tree_sitter::Node;

use super::arguments::{ClientArgument, Sender, map_call};
use super::handlers::{Handlers, Raiser};
use super::response::response_edits;
use super::{HttpxMapping, await_method_edits, client_constructor, codes_edits, statement_of};
use crate::codemod::strategy::site::{Proposal, Site, imported_head};
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, node_at};
use crate::source::line_start_at;

/// Where the session was made.
#[derive(Clone, Copy)]
enum Origin<'t> {
    /// `with requests.Session() as s:`: the `with` statement.
    With(Node<'t>),
    /// `s = requests.Session()`.
    Assignment,
}

pub fn session_client(
    site: &Site,
    applicability: Applicability,
    client_module: &str,
    mapping: &HttpxMapping,
) -> Result<Proposal, String> {
    let text = site.text;
    let receiver = site
        .callee
        .field(Field::Object)
        .ok_or("the call has no receiver")?;
    // A session shared at module level: one client per event loop, made on first use.
    if receiver.kind_name() == "identifier"
        && let Resolution::Binding(binding) = site
            .index
            .resolve_name(&text[receiver.byte_range()], receiver.start_byte())
        && site.index.binding(binding).scope == site.index.module_scope()
    {
        return super::module_session::module_session_client(
            site,
            applicability,
            client_module,
            mapping,
            receiver,
            binding,
        );
    }
    let mut holder = match receiver.kind_name() {
        "identifier" => local_holder(site, receiver, mapping)?,
        "attribute" => attribute_holder(site, receiver, mapping)?,
        _ => return Err("the session is not held in a name or an attribute of `self`".to_owned()),
    };
    let name = text[receiver.byte_range()].to_owned();
    let name = name.as_str();
    let constructor = holder.constructor;
    let origin = holder.origin;
    let uses = std::mem::take(&mut holder.uses);
    let constructor_offset = constructor.start_byte();
    let mut edits: Vec<Edit> = Vec::new();
    let mut caveats: Vec<String> = mapping.caveats.clone();
    let mut helpers_added = super::Helpers::default();
    let mut handlers = Handlers::default();
    let mut moved: Vec<ClientArgument> = Vec::new();
    let mut moved_statements: Vec<Node> = Vec::new();
    let mut requests: Vec<Node> = Vec::new();
    // How the client module is spelled here (`httpx`, or its alias); the client itself is
    // built once its moved settings are known.
    let client_name = reference_module(
        site.index,
        site.tree,
        text,
        site.line_ending,
        client_module,
        constructor_offset,
    )?
    .name;
    for use_node in &uses {
        let offset = use_node.start_byte();
        if holder.local.is_some() && !holder.can_await(site, offset) {
            return Err(format!(
                "the session `{name}` is used in a nested function, lambda or generator, which \
                 cannot await"
            ));
        }
        if holder.local.is_some() && offset < constructor_offset {
            return Err(format!("`{name}` is used before the session is made"));
        }
        let attribute = use_node
            .parent()
            .filter(|p| p.kind_name() == "attribute")
            .filter(|p| {
                p.field(Field::Object)
                    .is_some_and(|o| o.id() == use_node.id())
            })
            .ok_or_else(|| {
                format!(
                    "the session `{name}` is passed on: code that receives it expects a \
                     `requests.Session`"
                )
            })?;
        let attribute_name_node = attribute.field(Field::Attribute).ok_or("attribute")?;
        let attribute_name = &text[attribute_name_node.byte_range()];
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
        match (attribute_name, called, assigned) {
            (method, Some(call), _) if mapping.method(method).is_some() => {
                if !holder.can_await(site, call.start_byte()) {
                    return Err(format!(
                        "`{name}` sends a request outside a coroutine of its class, which cannot \
                         await"
                    ));
                }
                let mapped = map_call(
                    site,
                    call,
                    attribute_name,
                    Sender::SharedClient,
                    &client_name,
                    mapping,
                )?;
                caveats.extend(mapped.caveats);
                edits.extend(mapped.edits);
                let new = mapped.helpers.not_yet_in(&mut helpers_added);
                edits.extend(super::helper_edits(site, new, call.start_byte())?);
                edits.extend(await_method_edits(
                    call,
                    attribute.byte_range(),
                    &format!("{name}.{}", mapped.method),
                )?);
                let statement = statement_of(call).ok_or("the call is outside a statement")?;
                if has_ancestor_before(call, statement, "with_item") {
                    return Err(
                        "the response is used as a context manager, which an httpx response is not"
                            .to_owned(),
                    );
                }
                handlers.around(site, statement, Raiser::Request, &client_name, mapping)?;
                edits.extend(response_edits(
                    site,
                    call,
                    statement,
                    &mut caveats,
                    &mut handlers,
                    &client_name,
                    mapping,
                )?);
                requests.push(call);
            }
            ("close", Some(call), _) => {
                if !holder.can_await(site, call.start_byte()) {
                    return Err(format!(
                        "`{name}` is closed outside a coroutine of its class, where `aclose()` \
                         cannot be awaited"
                    ));
                }
                let arguments = call.field(Field::Arguments);
                if arguments.is_some_and(|a| a.named_child_count() > 0) {
                    return Err("`close()` with arguments".to_owned());
                }
                edits.extend(await_method_edits(
                    call,
                    attribute.byte_range(),
                    &format!("{name}.aclose"),
                )?);
                caveats.push(format!(
                    "a closed `AsyncClient` refuses new requests, while a closed `Session` still \
                     sends them: `{name}` must not be used after `aclose()`"
                ));
            }
            (attribute_name, None, Some(assignment))
                if mapping.is_construction_only(attribute_name) =>
            {
                let value = assignment
                    .field(Field::Right)
                    .ok_or("assignment without a value")?;
                let statement = assignment.parent().ok_or("assignment")?;
                movable_to_construction(site, value, constructor, statement, &origin)?;
                moved.push(ClientArgument {
                    name: attribute_name.to_owned(),
                    value: text[value.byte_range()].to_owned(),
                });
                moved_statements.push(statement);
            }
            ("headers", None, Some(_)) => caveats.push(format!(
                "`{name}.headers = ...`: requests then sends only these headers, httpx adds its \
                 defaults (Accept, Accept-Encoding, Connection, User-Agent) back"
            )),
            ("headers" | "cookies", _, _) => {}
            ("auth", None, Some(assignment)) => {
                let tuple = assignment
                    .field(Field::Right)
                    .is_some_and(|v| v.kind_name() == "tuple");
                if !tuple {
                    return Err(format!("`{name}.auth` other than a (user, password) tuple"));
                }
            }
            ("params", None, Some(_)) => {}
            (other, _, _) => {
                return Err(format!(
                    "`{name}.{other}` has no faithful httpx equivalent on an AsyncClient"
                ));
            }
        }
    }
    if requests.is_empty() {
        return Err(format!("the session `{name}` sends no request"));
    }
    if holder.local.is_some()
        && let Some(first_request) = requests.iter().map(|r| r.start_byte()).min()
        && moved_statements
            .iter()
            .any(|s| s.start_byte() > first_request)
    {
        return Err(format!(
            "`{name}` is reconfigured after its first request; httpx takes that setting only \
             when the client is made"
        ));
    }
    for statement in &moved_statements {
        edits.push(Edit::deletion(whole_lines(text, *statement)?));
    }

    let mut constructed =
        client_constructor(site, client_module, constructor_offset, &moved, mapping)?;
    edits.extend(std::mem::take(&mut constructed.header_edits));
    // The line as it will read: `    async with <client> as s:` / `    s = <client>`.
    let line_start = line_start_at(text, constructor.start_byte());
    let rest = &text[constructor.end_byte()..];
    let line_end = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
    let mut before = text[line_start..constructor.start_byte()].to_owned();
    if let Origin::With(statement) = origin {
        edits.push(Edit::insertion(statement.start_byte(), "async "));
        if let Some(at) = statement.start_byte().checked_sub(line_start) {
            before.insert_str(at, "async ");
        }
    }
    let unit = crate::source::detect_indent(text);
    edits.push(Edit::replacement(
        constructor.byte_range(),
        constructed.expression(&before, line_end, &unit, site.line_ending),
    ));
    // Status codes in every coroutine that now uses the client.
    let mut functions: Vec<Node> = Vec::new();
    for request in &requests {
        if let Some(function) = site.index.async_function_at(request.start_byte())
            && let Some(node) = site.scope_node(function)
            && !functions.iter().any(|f| f.id() == node.id())
        {
            functions.push(node);
        }
    }
    for function in functions {
        edits.extend(codes_edits(site, function, &client_name, mapping));
    }
    if holder.local.is_none() {
        caveats.push(format!(
            "code outside this file that uses `{}` now gets an `AsyncClient`, whose calls must be \
             awaited",
            name.split_once('.')
                .map_or(name, |(_, attribute)| attribute)
        ));
    }
    edits.extend(handlers.edits(text));
    edits.sort_by(|a, b| {
        (a.range.start, a.range.end, &a.content).cmp(&(b.range.start, b.range.end, &b.content))
    });
    edits.dedup();
    let mut fix = Fix::new(
        applicability.min(Applicability::Unsafe),
        String::new(),
        edits,
    );
    let mut seen = Vec::new();
    caveats.retain(|c| {
        let new = !seen.contains(c);
        seen.push(c.clone());
        new
    });
    fix.caveat = Some(caveats.join("; "));
    fix.may_orphan.push(mapping.module.clone());
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal {
        fix,
        replacement: format!("{client_name}.AsyncClient"),
    })
}

/// Where the session lives, what made it, and every place its holder is read.
struct Holder<'t> {
    constructor: Node<'t>,
    origin: Origin<'t>,
    /// The receiver nodes (the name, or `self.<attribute>`) of every use, in text order.
    uses: Vec<Node<'t>>,
    /// The coroutine that holds a local session; `None` for a session on `self`.
    local: Option<ScopeId>,
    /// The class whose instances hold the session in an attribute.
    class: Option<ScopeId>,
}

impl Holder<'_> {
    /// Whether code at `offset` can await the session: directly in the coroutine that holds
    /// it, or in a coroutine method of its class, and not in a generator expression.
    fn can_await(&self, site: &Site, offset: usize) -> bool {
        let Some(function) = site.index.async_function_at(offset) else {
            return false;
        };
        if site.index.in_generator_expression(offset) {
            return false;
        }
        match (self.local, self.class) {
            (Some(local), _) => function == local,
            (None, Some(class)) => site.index.scope(function).parent == Some(class),
            _ => false,
        }
    }
}

/// What made a session, and how: `with requests.Session() as s` or `... = requests.Session()`.
fn session_origin<'t>(
    site: &Site<'t>,
    constructor: Node<'t>,
    mapping: &HttpxMapping,
) -> Result<Origin<'t>, String> {
    let made_by = constructor
        .field(Field::Function)
        .and_then(|f| site.index.qualified_name(f, site.text));
    let plain = constructor
        .field(Field::Arguments)
        .is_some_and(|a| a.named_child_count() == 0);
    if !plain || !made_by.is_some_and(|m| mapping.is_session_constructor(&m)) {
        return Err("the session is not made by a plain `requests.Session()` call".to_owned());
    }
    match constructor.parent().map(|p| (p.kind_name(), p)) {
        Some(("as_pattern", pattern)) => {
            let item = pattern.parent().filter(|i| i.kind_name() == "with_item");
            let clause = item.and_then(|i| i.parent());
            let statement = clause.and_then(|c| c.parent());
            match (clause, statement) {
                (Some(clause), Some(statement))
                    if clause.named_child_count() == 1
                        && statement.kind_name() == "with_statement" =>
                {
                    Ok(Origin::With(statement))
                }
                _ => Err("the session shares its `with` with other items".to_owned()),
            }
        }
        Some(("assignment", assignment))
            if assignment
                .parent()
                .is_some_and(|p| p.kind_name() == "expression_statement") =>
        {
            Ok(Origin::Assignment)
        }
        _ => Err("the session is made inside a larger expression".to_owned()),
    }
}

/// A session held in a local name of the coroutine.
fn local_holder<'t>(
    site: &Site<'t>,
    receiver: Node<'t>,
    mapping: &HttpxMapping,
) -> Result<Holder<'t>, String> {
    let text = site.text;
    let name = &text[receiver.byte_range()];
    let function = site
        .index
        .async_function_at(site.call.start_byte())
        .ok_or("the call is not in a coroutine")?;
    let Resolution::Binding(binding_id) = site.index.resolve_name(name, receiver.start_byte())
    else {
        return Err(format!("`{name}` cannot be followed to its session"));
    };
    let binding = site.index.binding(binding_id);
    if binding.scope != function || binding.kind != BindingKind::Assignment {
        return Err(format!(
            "the session `{name}` is not made in this coroutine (it may be shared with other code)"
        ));
    }
    let rebound = site.index.bindings_named(function, name).len();
    if rebound != 1 {
        return Err(format!(
            "`{name}` is assigned more than once in the coroutine"
        ));
    }
    let value_range = binding
        .value
        .clone()
        .ok_or("the session's value is unknown")?;
    let constructor = node_at(site.tree.root_node(), &value_range)
        .filter(|v| v.kind_name() == "call")
        .ok_or("the session is not made by a plain `requests.Session()` call")?;
    let origin = session_origin(site, constructor, mapping)?;
    let function_node = site.scope_node(function).ok_or("no function body")?;
    let mut uses = Vec::new();
    let mut stack = vec![function_node];
    let mut cursor = function_node.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        if node.kind_name() == "identifier"
            && &text[node.byte_range()] == name
            && node.byte_range() != binding.range
            && site.index.resolve_name(name, node.start_byte()) == Resolution::Binding(binding_id)
        {
            uses.push(node);
        }
    }
    uses.sort_by_key(|n| n.start_byte());
    Ok(Holder {
        constructor,
        origin,
        uses,
        local: Some(function),
        class: None,
    })
}

/// A session kept on `self` (`self.session = requests.Session()` in a method): every use of
/// the attribute in the file must be on `self` in a method of the class.
fn attribute_holder<'t>(
    site: &Site<'t>,
    receiver: Node<'t>,
    mapping: &HttpxMapping,
) -> Result<Holder<'t>, String> {
    let text = site.text;
    let object = receiver
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier" && &text[o.byte_range()] == "self")
        .ok_or("the session is held by an object other than `self`")?;
    let attribute = &text[receiver
        .field(Field::Attribute)
        .ok_or("attribute")?
        .byte_range()];
    let class = method_class(site, object.start_byte())
        .ok_or("`self` is not the instance of a class here")?;
    let values: Vec<Node> = site
        .index
        .attribute_values(class, attribute)
        .iter()
        .filter_map(|range| node_at(site.tree.root_node(), range))
        .filter(|v| v.kind_name() != "none")
        .collect();
    let [constructor] = values.as_slice() else {
        return Err(format!(
            "`self.{attribute}` is assigned more than one value in its class"
        ));
    };
    let constructor = *constructor;
    if constructor.kind_name() != "call" {
        return Err("the session is not made by a plain `requests.Session()` call".to_owned());
    }
    let origin = session_origin(site, constructor, mapping)?;
    let assigned_target = constructor
        .parent()
        .and_then(|a| a.field(Field::Left))
        .map(|l| l.byte_range());
    let root = site.tree.root_node();
    let mut uses = Vec::new();
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        let named = node
            .field(Field::Attribute)
            .is_some_and(|a| &text[a.byte_range()] == attribute);
        if node.kind_name() != "attribute" || !named {
            continue;
        }
        // `requests.session`: an attribute of a module, not of an object.
        if site.index.qualified_name(node, text).is_some() {
            continue;
        }
        let on_self = node
            .field(Field::Object)
            .filter(|o| o.kind_name() == "identifier" && &text[o.byte_range()] == "self");
        let Some(on_self) = on_self else {
            return Err(format!(
                "`.{attribute}` is also used on other objects in this file, which would get an \
                 AsyncClient"
            ));
        };
        match method_class(site, on_self.start_byte()) {
            Some(other) if other == class => {}
            // Another class's own `self.<attribute>`, unless it derives from this one.
            Some(other) if !derives_from(site, other, class) => continue,
            _ => {
                return Err(format!(
                    "`self.{attribute}` is used outside the class that made the session"
                ));
            }
        }
        if Some(node.byte_range()) == assigned_target {
            continue;
        }
        // `self.session = None` (after closing it) stays as it is.
        let set_to_none = node
            .parent()
            .filter(|p| p.kind_name() == "assignment")
            .filter(|p| p.field(Field::Left).is_some_and(|l| l.id() == node.id()))
            .and_then(|p| p.field(Field::Right))
            .is_some_and(|r| r.kind_name() == "none");
        if !set_to_none {
            uses.push(node);
        }
    }
    uses.sort_by_key(|n| n.start_byte());
    Ok(Holder {
        constructor,
        origin,
        uses,
        local: None,
        class: Some(class),
    })
}

/// Whether the class `other` may derive from `class`: its bases name it (or name anything
/// that is not a plain name, which could be it).
fn derives_from(site: &Site, other: ScopeId, class: ScopeId) -> bool {
    let Some(class_name) = site.index.scope(class).name.as_deref() else {
        return true;
    };
    let Some(definition) = site
        .scope_node(other)
        .and_then(|body| body.parent())
        .filter(|d| d.kind_name() == "class_definition")
    else {
        return true;
    };
    let Some(bases) = definition.field(Field::Superclasses) else {
        return false;
    };
    let mut cursor = bases.walk();
    bases
        .named_children(&mut cursor)
        .any(|base| base.kind_name() != "identifier" || &site.text[base.byte_range()] == class_name)
}

/// The class whose method's code is at `offset` (through comprehensions, not nested
/// functions).
fn method_class(site: &Site, offset: usize) -> Option<ScopeId> {
    let mut scope = site.index.scope_at(offset);
    loop {
        let current = site.index.scope(scope);
        match current.kind {
            ScopeKind::Function { .. } => break,
            ScopeKind::Comprehension { .. } => scope = current.parent?,
            _ => return None,
        }
    }
    let class = site.index.scope(scope).parent?;
    (site.index.scope(class).kind == ScopeKind::Class).then_some(class)
}

/// Whether a `kind` node lies between `node` and its ancestor `until`.
fn has_ancestor_before(node: Node, until: Node, kind: &str) -> bool {
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.id() == until.id() {
            return false;
        }
        if parent.kind_name() == kind {
            return true;
        }
        current = parent;
    }
    false
}

/// `s.verify = value` can move into the client's construction when it is a statement of its
/// own in the block that makes the session (or the `with` body), and `value` means the same
/// where the session is made.
fn movable_to_construction(
    site: &Site,
    value: Node,
    constructor: Node,
    statement: Node,
    origin: &Origin,
) -> Result<(), String> {
    let text = site.text;
    let block = statement.parent();
    let right_block = match origin {
        Origin::With(with) => with
            .field(Field::Body)
            .is_some_and(|body| block.is_some_and(|b| b.id() == body.id())),
        Origin::Assignment => {
            let made_in = constructor
                .parent()
                .and_then(|assignment| assignment.parent())
                .and_then(|statement| statement.parent());
            made_in.is_some_and(|m| block.is_some_and(|b| b.id() == m.id()))
        }
    };
    if !right_block || statement.kind_name() != "expression_statement" {
        return Err(
            "a session setting is changed conditionally; httpx takes it only when the client \
             is made"
                .to_owned(),
        );
    }
    let mut stack = vec![value];
    let mut cursor = value.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "identifier" => {
                let name = &text[node.byte_range()];
                let here = site.index.resolve_name(name, node.start_byte());
                let there = site.index.resolve_name(name, constructor.start_byte());
                let bound_before = match here {
                    Resolution::Binding(id) => {
                        site.index.binding(id).range.end <= constructor.start_byte()
                            || site.index.binding(id).scope == site.index.module_scope()
                    }
                    Resolution::Builtin => true,
                };
                if here != there || !bound_before {
                    return Err(format!(
                        "`{name}` in a session setting is not known yet where the client is made"
                    ));
                }
            }
            "call" | "await" | "lambda" | "named_expression" => {
                return Err("a session setting is computed by a call".to_owned());
            }
            _ => stack.extend(node.named_children(&mut cursor)),
        }
    }
    Ok(())
}

/// The lines `statement` occupies, with their line break, when it has them to itself.
fn whole_lines(text: &str, statement: Node) -> Result<std::ops::Range<usize>, String> {
    let start = line_start_at(text, statement.start_byte());
    if !text[start..statement.start_byte()]
        .chars()
        .all(|c| c == ' ' || c == '\t')
    {
        return Err("a session setting shares its line with other code".to_owned());
    }
    let rest = &text[statement.end_byte()..];
    let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    if !rest[..line_end].trim().is_empty() {
        return Err("a session setting shares its line with other code or a comment".to_owned());
    }
    Ok(start..statement.end_byte() + line_end)
}
