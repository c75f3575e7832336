//! Which of the project's own offload idioms ([`OffloadIdiom`]) a thread fix uses at a call
//! site, and how it is written there. The first idiom the code around the call shows wins:
//!
//! - a method on an object in scope (`hass.async_add_executor_job`): a parameter of the
//!   coroutine with the idiom's name or annotated with its class, or `self.<attribute>` in a
//!   method of a class that sets or uses that attribute;
//! - a function the file imports (`run_in_threadpool`, a configured helper), by its absolute
//!   name (relative imports resolved);
//! - `run_in_executor` with the executor the class (else the module) already passes to it,
//!   when that executor is one the idiom names (a `ThreadPoolExecutor` made in the class or
//!   the module), on `asyncio.get_running_loop()`.
//!
//! - `async with aiofiles.open(p) as f:` for a `with open(p) as f:` block that only reads or
//!   writes `f`, each call on `f` awaited, where the file imports `aiofiles` (`async_file_block`).
//!
//! Nothing here decides whether there is a fix or how safe it is: only what runs the function.

use tree_sitter::Node;

use super::site::{Site, name_at};
use crate::codemod::{KeywordArguments, OffloadIdiom, OffloadShape};
use crate::fix::Edit;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingId, BindingKind, Resolution, ScopeId, ScopeKind, node_at};

/// How the project's offload is written at one call site.
pub(super) struct ProjectOffload {
    /// What is called: `hass.async_add_executor_job`, `run_in_threadpool`,
    /// `asyncio.get_running_loop().run_in_executor`.
    pub head: String,
    /// The argument written before the function: the executor of `run_in_executor`.
    pub lead: Option<String>,
    pub keywords: KeywordArguments,
    /// The imports the head needs (`asyncio` for `get_running_loop`).
    pub imports: Vec<Edit>,
}

/// The project's offload at `offset` (in a coroutine), if the code there shows one;
/// `methods_only`: only a method on an object in scope (`hass`), in a file written for anyio.
pub(super) fn project_offload(
    site: &Site,
    offset: usize,
    methods_only: bool,
) -> Result<Option<ProjectOffload>, String> {
    let Some(coroutine) = site.index.async_function_at(offset) else {
        return Ok(None);
    };
    for idiom in site.offload_idioms {
        if methods_only && !matches!(idiom.shape, OffloadShape::Method { .. }) {
            continue;
        }
        let found = match &idiom.shape {
            OffloadShape::Method {
                method,
                parameters,
                types,
                attributes,
                requires_import,
            } => {
                let imported = requires_import
                    .as_ref()
                    .is_none_or(|package| site.index.imports_module(package));
                imported
                    .then(|| receiver(site, coroutine, offset, parameters, types, attributes))
                    .flatten()
                    .map(|receiver| offload(idiom, format!("{receiver}.{method}")))
            }
            OffloadShape::Function { functions } => functions
                .iter()
                .find_map(|function| imported_function(site, offset, function))
                .map(|name| offload(idiom, name)),
            OffloadShape::Executor { made_by } => {
                executor_offload(site, coroutine, offset, made_by, idiom)?
            }
            // Not a call that runs a function: `async_file_block` rewrites the block.
            OffloadShape::AsyncFile { .. } => None,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn offload(idiom: &OffloadIdiom, head: String) -> ProjectOffload {
    ProjectOffload {
        head,
        lead: None,
        keywords: idiom.keywords,
        imports: Vec::new(),
    }
}

/// The coroutine's parameters in order.
fn parameters_of<'t>(
    site: &Site<'t>,
    function: ScopeId,
) -> Vec<(BindingId, String, Option<Node<'t>>)> {
    let root = site.tree.root_node();
    let mut parameters: Vec<_> = site
        .index
        .bindings_of(function)
        .filter(|(_, b)| b.kind == BindingKind::Parameter)
        .map(|(id, b)| {
            let annotation = b.annotation.as_ref().and_then(|r| node_at(root, r));
            (id, b.range.start, b.name.clone(), annotation)
        })
        .collect();
    parameters.sort_by_key(|p| p.1);
    parameters
        .into_iter()
        .map(|(id, _, name, annotation)| (id, name, annotation))
        .collect()
}

/// `self` when it is the method's first parameter and still that parameter at `offset`, and
/// the class the method is directly in.
fn self_of(site: &Site, function: ScopeId, offset: usize) -> Option<(String, ScopeId)> {
    let class = site
        .index
        .scope(function)
        .parent
        .filter(|p| site.index.scope(*p).kind == ScopeKind::Class)?;
    let (id, name, _) = parameters_of(site, function).into_iter().next()?;
    (name == "self" && site.index.resolve_name(&name, offset) == Resolution::Binding(id))
        .then_some((name, class))
}

/// The object a method idiom is called on: a parameter named or annotated as the idiom says,
/// else `self.<attribute>` in a class that has it.
fn receiver(
    site: &Site,
    coroutine: ScopeId,
    offset: usize,
    names: &[String],
    types: &[String],
    attributes: &[String],
) -> Option<String> {
    for (id, name, annotation) in parameters_of(site, coroutine) {
        // Named so and not annotated otherwise (`hass: HomeAssistant | None` may be `None`).
        let named = names.contains(&name) && annotation.is_none();
        let typed = annotation
            .and_then(|a| site.index.qualified_name(a, site.text))
            .is_some_and(|q| types.contains(&q));
        if (named || typed)
            && !defaults_to_none(site, id)
            && site.index.resolve_name(&name, offset) == Resolution::Binding(id)
        {
            return Some(name);
        }
    }
    let (this, class) = self_of(site, coroutine, offset)?;
    attributes
        .iter()
        .find(|attribute| class_has_attribute(site, class, attribute))
        .map(|attribute| format!("{this}.{attribute}"))
}

/// Whether the class sets `self.<attribute>` in a method, declares it in its body, or its
/// code already uses `self.<attribute>`.
fn class_has_attribute(site: &Site, class: ScopeId, attribute: &str) -> bool {
    let values = site.index.attribute_values(class, attribute);
    let declared = site
        .index
        .binding_in_scope(class, attribute)
        .map(|id| site.index.binding(id));
    // Set to `None` somewhere: it may be unset when the coroutine runs.
    if values.iter().any(|v| is_none(site, v))
        || declared.is_some_and(|b| b.value.as_ref().is_some_and(|v| is_none(site, v)))
    {
        return false;
    }
    if !values.is_empty() || declared.is_some() {
        return true;
    }
    let Some(body) = site.scope_node(class) else {
        return false;
    };
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "attribute"
            && node
                .field(Field::Attribute)
                .map(|a| &site.text[a.byte_range()])
                == Some(attribute)
            && node.field(Field::Object).is_some_and(|o| {
                o.kind_name() == "identifier" && &site.text[o.byte_range()] == "self"
            })
        {
            return true;
        }
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether the code at `range` is `None`.
fn is_none(site: &Site, range: &std::ops::Range<usize>) -> bool {
    node_at(site.tree.root_node(), range).is_some_and(|n| n.kind_name() == "none")
}

/// Whether the parameter defaults to `None` (`hass=None`).
fn defaults_to_none(site: &Site, parameter: BindingId) -> bool {
    let range = &site.index.binding(parameter).range;
    node_at(site.tree.root_node(), range)
        .and_then(|name| name.parent())
        .filter(|p| {
            matches!(
                p.kind_name(),
                "default_parameter" | "typed_default_parameter"
            )
        })
        .and_then(|p| p.field(Field::Value))
        .is_some_and(|value| value.kind_name() == "none")
}

/// How the file names `function` at `offset` through an import of it
/// (`from starlette.concurrency import run_in_threadpool`) or of its module
/// (`from starlette import concurrency`): `None` when it imports neither.
fn imported_function(site: &Site, offset: usize, function: &str) -> Option<String> {
    let (module, last) = function.rsplit_once('.')?;
    site.index.import_bindings().find_map(|(id, binding)| {
        let BindingKind::Import {
            qualified,
            type_checking_only: false,
            ..
        } = &binding.kind
        else {
            return None;
        };
        let absolute = (site.absolute_import)(qualified)?;
        let name = if absolute == function {
            binding.name.clone()
        } else if absolute == module {
            format!("{}.{last}", binding.name)
        } else {
            return None;
        };
        (site.index.resolve_name(&binding.name, offset) == Resolution::Binding(id)
            && crate::fix::bound::bound_at(site.index, site.tree, id, offset))
        .then_some(name)
    })
}

/// Whether the value at `range` is a call of one of `made_by`.
fn made_by_one_of(site: &Site, range: &std::ops::Range<usize>, made_by: &[String]) -> bool {
    node_at(site.tree.root_node(), range)
        .filter(|v| v.kind_name() == "call")
        .and_then(|v| v.field(Field::Function))
        .and_then(|callee| site.index.qualified_name(callee, site.text))
        .is_some_and(|q| made_by.contains(&q))
}

/// The byte ranges of the file's `<x>.run_in_executor(...)` calls.
fn run_in_executor_calls(site: &Site) -> Vec<std::ops::Range<usize>> {
    let mut calls = Vec::new();
    if !site.text.contains("run_in_executor") {
        return calls;
    }
    let root = site.tree.root_node();
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        stack.extend(node.named_children(&mut cursor));
        let is_run_in_executor = node.kind_name() == "call"
            && node
                .field(Field::Function)
                .filter(|c| c.kind_name() == "attribute")
                .and_then(|c| c.field(Field::Attribute))
                .is_some_and(|a| &site.text[a.byte_range()] == "run_in_executor");
        if is_run_in_executor {
            calls.push(node.byte_range());
        }
    }
    calls
}

/// `<loop>.run_in_executor(<executor>, f)` with the executor the class, else the module,
/// already passes to `run_in_executor`, when it is one `made_by` made there: `self._pool` set
/// in a method of the class (and never to anything else), or a module global. The loop is
/// `asyncio.get_running_loop()`.
fn executor_offload(
    site: &Site,
    coroutine: ScopeId,
    offset: usize,
    made_by: &[String],
    idiom: &OffloadIdiom,
) -> Result<Option<ProjectOffload>, String> {
    // Found once per file: looking for them per finding read the whole file each time.
    let found = site
        .memo
        .run_in_executor
        .get_or_init(|| run_in_executor_calls(site));
    if found.is_empty() {
        return Ok(None);
    }
    let ours = self_of(site, coroutine, offset);
    let root = site.tree.root_node();
    let mut calls: Vec<Node> = found
        .iter()
        .filter_map(|range| node_at(root, range))
        .filter(|node| node.kind_name() == "call")
        .collect();
    // The class's own calls first, each group in source order.
    let in_class = |node: Node| {
        ours.as_ref().is_some_and(|(_, class)| {
            let range = &site.index.scope(*class).range;
            range.start <= node.start_byte() && node.end_byte() <= range.end
        })
    };
    calls.sort_by_key(|call| (!in_class(*call), call.start_byte()));
    for call in calls {
        let Some(executor) = call
            .field(Field::Arguments)
            .and_then(|a| a.named_child(0))
            .filter(|a| a.kind_name() != "keyword_argument")
        else {
            continue;
        };
        // `self.<attribute>` at the existing call, in a method of our class, as our
        // coroutine writes it.
        let self_attribute = |node: Node| -> Option<String> {
            let (this, class) = ours.as_ref()?;
            if node.kind_name() != "attribute" {
                return None;
            }
            let object = node.field(Field::Object)?;
            let function = site.index.function_at(call.start_byte())?;
            let (theirs, their_class) = self_of(site, function, object.start_byte())?;
            if their_class != *class || site.text[object.byte_range()] != theirs {
                return None;
            }
            let attribute = &site.text[node.field(Field::Attribute)?.byte_range()];
            Some(format!("{this}.{attribute}"))
        };
        let executor_text = match executor.kind_name() {
            "identifier" => {
                let name = &site.text[executor.byte_range()];
                let Resolution::Binding(id) = site.index.resolve_name(name, executor.start_byte())
                else {
                    continue;
                };
                let binding = site.index.binding(id);
                let made_here = binding.scope == site.index.module_scope()
                    && binding
                        .value
                        .as_ref()
                        .is_some_and(|v| made_by_one_of(site, v, made_by));
                if !made_here || site.index.resolve_name(name, offset) != Resolution::Binding(id) {
                    continue;
                }
                name.to_owned()
            }
            "attribute" => {
                let Some(text) = self_attribute(executor) else {
                    continue;
                };
                let (_, class) = ours.as_ref().expect("self_attribute needs our class");
                let attribute = text.rsplit('.').next().unwrap_or_default();
                // Every value the class gives it is such an executor (never `None`).
                let values = site.index.attribute_values(*class, attribute);
                let made_here =
                    !values.is_empty() && values.iter().all(|v| made_by_one_of(site, v, made_by));
                if !made_here {
                    continue;
                }
                text
            }
            _ => continue,
        };
        // The loop is always the running one: a loop kept on `self` may be unset (`None`
        // until a `start()`) or another loop when this coroutine runs.
        let (running, imports) = name_at(site, "asyncio", "get_running_loop", offset)?;
        let head = format!("{running}().run_in_executor");
        return Ok(Some(ProjectOffload {
            head,
            lead: Some(executor_text),
            keywords: idiom.keywords,
            imports,
        }));
    }
    Ok(None)
}

/// `async with aiofiles.open(p) as f: data = await f.read()` for `with open(p) as f: data =
/// f.read()`, in a file that imports the idiom's function, where each statement of the block
/// is a call of one of the idiom's methods on `f` (alone, assigned to a name, or returned)
/// whose arguments call nothing and do not name `f`: the edits and the fix's title.
pub(crate) fn async_file_block(site: &Site, with: Node) -> Option<(Vec<Edit>, String)> {
    if site.library.is_some() {
        return None;
    }
    let text = site.text;
    site.offload_idioms.iter().find_map(|idiom| {
        let OffloadShape::AsyncFile {
            functions,
            replaces,
            methods,
            title,
        } = &idiom.shape
        else {
            return None;
        };
        let name = functions
            .iter()
            .find_map(|function| imported_function(site, with.start_byte(), function))?;
        let clause = with
            .named_child(0)
            .filter(|c| c.kind_name() == "with_clause" && c.named_child_count() == 1)?;
        let pattern = clause
            .named_child(0)?
            .field(Field::Value)
            .filter(|v| v.kind_name() == "as_pattern")?;
        let open = pattern.named_child(0).filter(|c| c.kind_name() == "call")?;
        let mut target = pattern.field(Field::Alias)?;
        if target.kind_name() == "as_pattern_target" {
            target = target.named_child(0)?;
        }
        if target.kind_name() != "identifier" {
            return None;
        }
        let file = &text[target.byte_range()];
        let callee = open.field(Field::Function)?;
        site.index
            .qualified_name(callee, text)
            .filter(|q| replaces.contains(q))?;
        let mut edits = vec![
            Edit::insertion(with.start_byte(), "async "),
            Edit::replacement(callee.byte_range(), name.clone()),
        ];
        let body = with.field(Field::Body)?;
        let mut cursor = body.walk();
        for statement in body.named_children(&mut cursor) {
            if statement.kind_name() == "comment" {
                continue;
            }
            let call = file_call(statement, text)?;
            let on_file = call
                .field(Field::Function)
                .filter(|c| c.kind_name() == "attribute")
                .is_some_and(|c| {
                    c.field(Field::Object).is_some_and(|o| {
                        o.kind_name() == "identifier" && &text[o.byte_range()] == file
                    }) && c
                        .field(Field::Attribute)
                        .is_some_and(|m| methods.iter().any(|n| n == &text[m.byte_range()]))
                });
            if !on_file || !plain_arguments(call.field(Field::Arguments)?, text, file) {
                return None;
            }
            edits.push(Edit::insertion(call.start_byte(), "await "));
        }
        let title = title.render(|placeholder| match placeholder {
            "replacement" => name.clone(),
            _ => String::new(),
        });
        Some((edits, title))
    })
}

/// The call a statement of a simple file block makes: `f.write(x)`, `data = f.read()`,
/// `data: str = f.read()`, `return f.read()`.
fn file_call<'t>(statement: Node<'t>, _text: &str) -> Option<Node<'t>> {
    let expression = match statement.kind_name() {
        "expression_statement" | "return_statement" if statement.named_child_count() == 1 => {
            statement.named_child(0)?
        }
        _ => return None,
    };
    let call = match expression.kind_name() {
        "call" => expression,
        "assignment" if statement.kind_name() == "expression_statement" => {
            expression
                .field(Field::Left)
                .filter(|l| l.kind_name() == "identifier")?;
            expression.field(Field::Right)?
        }
        _ => return None,
    };
    (call.kind_name() == "call").then_some(call)
}

/// Whether call arguments only compute from names and literals: no call, lambda, await,
/// yield or walrus, and not the file object itself.
fn plain_arguments(arguments: Node, text: &str, file: &str) -> bool {
    let mut stack = vec![arguments];
    let mut cursor = arguments.walk();
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "call"
            | "lambda"
            | "await"
            | "yield"
            | "named_expression"
            | "generator_expression"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension" => {
                return false;
            }
            "identifier" if &text[node.byte_range()] == file => return false,
            _ => stack.extend(node.named_children(&mut cursor)),
        }
    }
    true
}
