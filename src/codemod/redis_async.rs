//! The `redis-asyncio` strategy: a sync redis-py client migrated to redis-py's own asyncio
//! client, where every use of it is a command in a coroutine of the module. The constructor
//! becomes its `redis.asyncio` counterpart (`redis.Redis(...)` → `redis.asyncio.Redis(...)`),
//! each command is awaited, a pipeline's `execute()` is awaited (its queued commands are not;
//! `with r.pipeline() as p:` becomes `async with`), and `for k in r.scan_iter()` becomes
//! `async for`. One fix holds every edit, the same from each finding on the client.
//!
//! No migration when a use is not such a command: the client used from synchronous code
//! (a plain function, module level, a lambda), handed to other code, kept on an attribute, or
//! a method whose object differs (`pubsub()`, `lock()`; `[alternative-fix.redis] refused`).
//! What always differs is stated with the fix (`caveats`). The tables are data in
//! `codemods/UNF102.toml`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use tree_sitter::Node;

use super::raw::RawRedisAsync;
use super::strategy::site::{AwaitShape, Proposal, Site, await_shape};
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingId, BindingKind, Resolution};

/// The compiled `[alternative-fix.redis]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisAsyncMapping {
    constructors: BTreeMap<String, String>,
    /// Per sync constructor, the commands awaited after the migration (the codemod's matched
    /// methods of that client, less the iterators and what is refused).
    commands: BTreeMap<String, BTreeSet<String>>,
    iterators: Vec<String>,
    pipelines: Vec<String>,
    pipeline_awaited: Vec<String>,
    refused: Vec<(Vec<String>, String)>,
    caveat: String,
    max_uses: usize,
}

impl RedisAsyncMapping {
    /// Validated against the codemod's matched calls (`redis.Redis().get`).
    pub fn compile(raw: &RawRedisAsync, calls: &[String]) -> Result<RedisAsyncMapping, String> {
        let refused: Vec<(Vec<String>, String)> = raw
            .refused
            .iter()
            .map(|r| (r.names.clone(), r.reason.trim().to_owned()))
            .collect();
        let mut commands = BTreeMap::new();
        for (sync, target) in &raw.constructors {
            if !target.contains(':') || !sync.contains('.') {
                return Err(format!(
                    "`redis.constructors.{sync:?} = {target:?}`: expected a qualified name = \
                     `module:name` (`\"redis.Redis\" = \"redis.asyncio:Redis\"`)"
                ));
            }
            let prefix = format!("{sync}().");
            let names: BTreeSet<String> = calls
                .iter()
                .filter_map(|c| c.strip_prefix(&prefix))
                .filter(|n| !n.contains('.') && !n.contains('('))
                .filter(|n| !raw.iterators.iter().any(|i| i == n))
                .map(str::to_owned)
                .collect();
            if names.is_empty() {
                return Err(format!(
                    "`redis.constructors.{sync:?}`: the codemod matches no command of it"
                ));
            }
            commands.insert(sync.clone(), names);
        }
        if raw.caveats.is_empty() {
            return Err("`redis.caveats`: state what the migration changes".to_owned());
        }
        Ok(RedisAsyncMapping {
            constructors: raw.constructors.clone(),
            commands,
            iterators: raw.iterators.clone(),
            pipelines: raw.pipelines.clone(),
            pipeline_awaited: raw.pipeline_awaited.clone(),
            refused,
            max_uses: raw.max_uses,
            caveat: raw
                .caveats
                .iter()
                .map(|c| c.trim())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

/// What a file's strategies worked out once for all its findings: the migration of each
/// redis client (by its binding), which every finding on the client shares; the file's
/// `run_in_executor` calls (`strategy/idiom.rs`), found once rather than per finding.
#[derive(Default)]
pub struct StrategyMemo {
    redis: RefCell<HashMap<BindingId, Result<Migration, String>>>,
    pub(crate) run_in_executor: std::cell::OnceCell<Vec<std::ops::Range<usize>>>,
}

/// The edits of one client's migration.
#[derive(Clone)]
struct Migration {
    edits: Vec<Edit>,
    replacement: String,
}

/// The migration of the client the call at `site` uses, or why there is none.
pub fn redis_asyncio(
    site: &Site,
    applicability: Applicability,
    mapping: &RedisAsyncMapping,
) -> Result<Proposal, String> {
    let binding = client_binding(site, mapping)?;
    let known = site.memo.redis.borrow().get(&binding).cloned();
    let migration = match known {
        Some(migration) => migration,
        None => {
            let migration = migrate(site, mapping, binding);
            site.memo
                .redis
                .borrow_mut()
                .insert(binding, migration.clone());
            migration
        }
    }?;
    let mut fix = Fix::new(applicability, String::new(), migration.edits);
    fix.caveat = Some(mapping.caveat.clone());
    Ok(Proposal {
        fix,
        replacement: migration.replacement,
    })
}

/// The whole migration of the client bound at `binding`.
fn migrate(
    site: &Site,
    mapping: &RedisAsyncMapping,
    binding: BindingId,
) -> Result<Migration, String> {
    let text = site.text;
    let (constructor, kind) = client_made(site, mapping, binding)?;
    let name = site.index.binding(binding).name.clone();
    let commands = &mapping.commands[&kind];
    let mut edits = Vec::new();
    let mut pipelines = Vec::new();
    let uses = occurrences(site, &name, binding);
    if uses.len() > mapping.max_uses {
        return Err(format!(
            "the client `{name}` is used in {} places, more than the {} the migration rewrites \
             at once",
            uses.len(),
            mapping.max_uses
        ));
    }
    for node in uses {
        let line = node.start_position().row + 1;
        if !site.index.is_async_context(node.start_byte())
            || site.index.in_generator_expression(node.start_byte())
        {
            return Err(format!(
                "the client `{name}` is also used outside a coroutine (line {line}), where its \
                 commands could not be awaited"
            ));
        }
        let (method, call) = method_call(text, node).ok_or_else(|| {
            format!(
                "`{name}` is used other than by calling its commands (line {line}): what takes \
                 it would get an asyncio client"
            )
        })?;
        if let Some((_, reason)) = mapping.refused.iter().find(|(n, _)| n.contains(&method)) {
            return Err(format!("`{name}.{method}()` (line {line}): {reason}"));
        }
        if mapping.iterators.contains(&method) {
            edits.push(async_for(call, &name, &method, line)?);
        } else if mapping.pipelines.contains(&method) {
            pipelines.push(call);
        } else if commands.contains(&method) {
            edits.extend(awaited(
                call,
                &format!("`{name}.{method}()` (line {line})"),
            )?);
        } else {
            return Err(format!(
                "`{name}.{method}` (line {line}) is not a command the migration knows"
            ));
        }
    }
    for call in pipelines {
        edits.extend(pipeline_edits(site, mapping, &name, call)?);
    }
    // The constructor, through `import redis.asyncio`.
    let (module, path) = mapping.constructors[&kind]
        .split_once(':')
        .expect("validated: module:name");
    let top = module.split('.').next().unwrap_or(module);
    let offset = constructor.start_byte();
    let top_is_module = match site.index.resolve_name(top, offset) {
        Resolution::Builtin => true,
        Resolution::Binding(id) => matches!(
            &site.index.binding(id).kind,
            BindingKind::Import { qualified, .. } if qualified == top || qualified == module
        ),
    };
    if !top_is_module {
        return Err(format!(
            "the name `{top}` means something else here, so `import {module}` cannot be added"
        ));
    }
    if let Resolution::Binding(id) = site.index.resolve_name(top, offset)
        && imported_in_try(site, site.index.binding(id).range.start)
    {
        return Err(format!(
            "`{top}` is imported inside a `try:` (an optional dependency): `import {module}` \
             added at the top would fail where it is not installed"
        ));
    }
    let reference = reference_module(
        site.index,
        site.tree,
        text,
        site.line_ending,
        module,
        offset,
    )?;
    let callee = constructor.field(Field::Function).ok_or("no callee")?;
    edits.push(Edit::replacement(
        callee.byte_range(),
        format!("{}.{path}", reference.name),
    ));
    edits.extend(reference.import);
    Ok(Migration {
        edits,
        replacement: format!("{module}.{path}"),
    })
}

/// Whether the import at `offset` is inside a `try:` statement (an optional import with a
/// fallback), looked up once per migration.
fn imported_in_try(site: &Site, offset: usize) -> bool {
    let mut node = site
        .tree
        .root_node()
        .descendant_for_byte_range(offset, offset);
    while let Some(current) = node {
        if current.kind_name() == "try_statement" {
            return true;
        }
        node = current.parent();
    }
    false
}

/// The binding of the client the call is on (or of the client whose pipeline it is on).
fn client_binding(site: &Site, mapping: &RedisAsyncMapping) -> Result<BindingId, String> {
    let text = site.text;
    let mut object = site
        .callee
        .field(Field::Object)
        .ok_or("the call is not a method")?;
    // `pipe.execute()`: the pipeline's client.
    if object.kind_name() == "identifier"
        && let Some(made) = bound_value(site, object)
        && let Some(inner) = made
            .field(Field::Function)
            .filter(|f| f.kind_name() == "attribute")
            .filter(|f| {
                f.field(Field::Attribute)
                    .is_some_and(|a| mapping.pipelines.iter().any(|p| p == &text[a.byte_range()]))
            })
            .and_then(|f| f.field(Field::Object))
    {
        object = inner;
    }
    if object.kind_name() != "identifier" {
        return Err(
            "the client is not a plain name (an attribute, a call's result): its \
                    other uses cannot be followed"
                .to_owned(),
        );
    }
    let name = &text[object.byte_range()];
    match site.index.resolve_name(name, object.start_byte()) {
        Resolution::Binding(id) => Ok(id),
        Resolution::Builtin => Err("the client's name is not bound here".to_owned()),
    }
}

/// The client bound at `id` (a module global or a local, bound once by a known
/// constructor): the constructor call and its qualified name.
fn client_made<'t>(
    site: &Site<'t>,
    mapping: &RedisAsyncMapping,
    id: BindingId,
) -> Result<(Node<'t>, String), String> {
    let text = site.text;
    let binding = site.index.binding(id);
    let name = &binding.name;
    if binding.kind != BindingKind::Assignment {
        return Err(format!(
            "`{name}` is a parameter or an import: the code that made the client is elsewhere"
        ));
    }
    let bound_once = site
        .index
        .bindings()
        .filter(|(_, b)| b.scope == binding.scope && b.name == binding.name)
        .count()
        == 1;
    if !bound_once {
        return Err(format!(
            "`{name}` is bound more than once, so its uses cannot be told apart"
        ));
    }
    let root = site.tree.root_node();
    let constructor = binding
        .value
        .as_ref()
        .and_then(|v| crate::semantic::node_at(root, v))
        .filter(|v| v.kind_name() == "call")
        .ok_or("the client is not made by a call")?;
    let kind = constructor
        .field(Field::Function)
        .and_then(|callee| site.index.callable_name(callee, root, text))
        .filter(|q| mapping.constructors.contains_key(q))
        .ok_or_else(|| format!("`{name}` is not made by a constructor the migration knows"))?;
    // `cache = redis.Redis(...)` as a statement of its own: not in a `with`, not unpacked.
    let assignment = constructor
        .parent()
        .filter(|p| p.kind_name() == "assignment")
        .filter(|p| {
            p.field(Field::Left)
                .is_some_and(|l| l.kind_name() == "identifier")
        });
    if assignment.is_none() {
        return Err(format!(
            "`{name}` is not assigned its client plainly (`{name} = redis.Redis(...)`)"
        ));
    }
    Ok((constructor, kind))
}

/// The call the identifier `name`'s binding holds (`pipe = cache.pipeline()`).
fn bound_value<'t>(site: &Site<'t>, name: Node) -> Option<Node<'t>> {
    let Resolution::Binding(id) = site
        .index
        .resolve_name(&site.text[name.byte_range()], name.start_byte())
    else {
        return None;
    };
    let binding = site.index.binding(id);
    (binding.kind == BindingKind::Assignment).then_some(())?;
    crate::semantic::node_at(site.tree.root_node(), binding.value.as_ref()?)
        .filter(|v| v.kind_name() == "call")
}

/// Every identifier of the file that names the binding `id` of `name`, but where it is bound.
fn occurrences<'t>(site: &Site<'t>, name: &str, id: BindingId) -> Vec<Node<'t>> {
    let text = site.text;
    let bound_at = site.index.binding(id).range.clone();
    let mut found = Vec::new();
    let root = site.tree.root_node();
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            // An attribute's name and a keyword's are no use of the local.
            "attribute" => stack.extend(node.field(Field::Object)),
            "keyword_argument" => stack.extend(node.field(Field::Value)),
            _ => stack.extend(node.named_children(&mut cursor)),
        }
        if node.kind_name() == "identifier"
            && &text[node.byte_range()] == name
            && node.byte_range() != bound_at
            && site.index.resolve_name(name, node.start_byte()) == Resolution::Binding(id)
        {
            found.push(node);
        }
    }
    found.sort_by_key(|n| n.start_byte());
    found
}

/// `name.method(...)`: the method's name and the call.
fn method_call<'t>(text: &str, node: Node<'t>) -> Option<(String, Node<'t>)> {
    let attribute = node
        .parent()
        .filter(|p| p.kind_name() == "attribute")
        .filter(|p| p.field(Field::Object).is_some_and(|o| o.id() == node.id()))?;
    let call = attribute
        .parent()
        .filter(|c| c.kind_name() == "call")
        .filter(|c| {
            c.field(Field::Function)
                .is_some_and(|f| f.id() == attribute.id())
        })?;
    let method = attribute.field(Field::Attribute)?;
    Some((text[method.byte_range()].to_owned(), call))
}

/// `await call`, parenthesised in a receiver position.
fn awaited(call: Node, what: &str) -> Result<Vec<Edit>, String> {
    Ok(match await_shape(call) {
        AwaitShape::AlreadyAwaited => {
            return Err(format!("{what} is awaited already"));
        }
        AwaitShape::Bare => vec![Edit::insertion(call.start_byte(), "await ")],
        AwaitShape::Parenthesised => vec![
            Edit::insertion(call.start_byte(), "(await "),
            Edit::insertion(call.end_byte(), ")"),
        ],
    })
}

/// `for k in r.scan_iter(...):` → `async for`.
fn async_for(call: Node, name: &str, method: &str, line: usize) -> Result<Edit, String> {
    let statement = call
        .parent()
        .filter(|p| p.kind_name() == "for_statement")
        .filter(|p| p.field(Field::Right).is_some_and(|r| r.id() == call.id()))
        .filter(|p| p.child(0).is_some_and(|c| c.kind_name() == "for"))
        .ok_or_else(|| {
            format!(
                "`{name}.{method}()` (line {line}) is iterated other than by a `for` statement, \
                 which would need `async for`"
            )
        })?;
    Ok(Edit::insertion(statement.start_byte(), "async "))
}

/// A pipeline made by `call`: `p = name.pipeline()` (its awaited methods awaited, its queued
/// commands kept) or `with name.pipeline() as p:` (`async with`).
fn pipeline_edits(
    site: &Site,
    mapping: &RedisAsyncMapping,
    name: &str,
    call: Node,
) -> Result<Vec<Edit>, String> {
    let text = site.text;
    let line = call.start_position().row + 1;
    let refuse = |why: &str| {
        Err(format!(
            "the pipeline of `{name}` (line {line}) {why}, which the migration does not follow"
        ))
    };
    let mut edits = Vec::new();
    let target = match call.parent().map(|p| p.kind_name()) {
        Some("assignment") => call
            .parent()
            .and_then(|a| a.field(Field::Left))
            .filter(|l| l.kind_name() == "identifier"),
        Some("as_pattern") => {
            let with = call
                .parent()
                .and_then(|p| p.parent())
                .filter(|i| i.kind_name() == "with_item")
                .and_then(|i| i.parent())
                .and_then(|c| c.parent())
                .filter(|w| w.kind_name() == "with_statement");
            match with {
                Some(with) if with.child(0).is_some_and(|c| c.kind_name() == "with") => {
                    edits.push(Edit::insertion(with.start_byte(), "async "));
                }
                _ => return refuse("is not made in a plain `with` statement"),
            }
            call.parent()
                .and_then(|p| p.field(Field::Alias))
                .and_then(|a| {
                    if a.kind_name() == "identifier" {
                        Some(a)
                    } else {
                        a.named_child(0).filter(|i| i.kind_name() == "identifier")
                    }
                })
        }
        _ => None,
    };
    let Some(target) = target else {
        return refuse("is not kept in a name");
    };
    let pipe = &text[target.byte_range()];
    let Resolution::Binding(id) = site.index.resolve_name(pipe, target.end_byte()) else {
        return refuse("is not kept in a name");
    };
    for node in occurrences(site, pipe, id) {
        let Some((method, use_call)) = method_call(text, node) else {
            return refuse("is used other than by calling its methods");
        };
        if mapping.pipeline_awaited.contains(&method) {
            edits.extend(awaited(use_call, &format!("`{pipe}.{method}()`"))?);
        } else if let Some((_, reason)) = mapping.refused.iter().find(|(n, _)| n.contains(&method))
        {
            return Err(format!("`{pipe}.{method}()`: {reason}"));
        }
    }
    Ok(edits)
}
