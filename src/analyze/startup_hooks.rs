//! Framework startup hooks (`[[single-task.hook]]` in `codemods/*.toml`): coroutines a
//! framework runs before anything else on its loop — FastAPI's `lifespan` up to its `yield`
//! (the server finishes it before serving a request), a `@app.on_event("startup")` handler,
//! python-telegram-bot's `post_init` (run before polling starts), discord.py's `setup_hook`
//! (run at login, before the gateway connects). `entry` counts a call in one as single-task
//! while nothing before it in the hook suspended on anything but a quiet library or started
//! work, as it does for the coroutine of `asyncio.run(main())`.
//!
//! Conservative: a hook registered with a plain name of a module-level `async def` (bound
//! once, mentioned nowhere but where it is registered: no other code runs it later), or a
//! method of that name in a class whose base the data names.

use std::collections::HashSet;

use tree_sitter::Node;

use super::FileContext;
use super::module_functions::{
    first_child_is_async, is_masked, module_function, only_mentioned_where_allowed,
};
use crate::codemod::{HookRegistration, SingleTaskData, StartupHook, under};
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// Every startup hook of the file, as its `def` and the index of its `[[single-task.hook]]`.
pub(super) fn startup_hooks<'t>(
    file: &FileContext<'t>,
    data: &SingleTaskData,
) -> Vec<(Node<'t>, usize)> {
    if data.hooks.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (i, hook) in data.hooks.iter().enumerate() {
        match hook.registration {
            HookRegistration::Method => {
                found.extend(hook_methods(file, hook).into_iter().map(|d| (d, i)));
            }
            _ => {
                for &call in &file.nodes.calls {
                    if let Some(definition) = registered_by_call(file, hook, call) {
                        found.push((definition, i));
                    }
                }
            }
        }
    }
    found.retain(|(definition, _)| {
        first_child_is_async(*definition)
            && definition
                .field(Field::Body)
                .is_some_and(|body| !is_masked(file, body))
    });
    found
}

/// The hook `call` registers, as its `def`: `FastAPI(lifespan=f)`, `builder.post_init(f)`,
/// `@app.on_event("startup")` above `async def f`.
fn registered_by_call<'t>(
    file: &FileContext<'t>,
    hook: &StartupHook,
    call: Node<'t>,
) -> Option<Node<'t>> {
    let root = file.parsed.tree.root_node();
    let callee = call.field(Field::Function)?;
    let arguments = call.field(Field::Arguments)?;
    let named = |text: &str| callee_last(file, callee) == Some(text);
    let (name, value) = match hook.registration {
        HookRegistration::Argument => {
            let name = file.index.callable_name(callee, root, file.text)?;
            let value = keyword_argument(file, arguments, &hook.name)?;
            (name, value)
        }
        HookRegistration::BuilderCall if named(&hook.name) => {
            let name = file.index.callable_name(callee, root, file.text)?;
            let value = arguments.named_child(0)?;
            let prefix = name.strip_suffix(&hook.name)?;
            return hook
                .calls
                .iter()
                .any(|maker| under(prefix.trim_end_matches('.'), maker))
                .then(|| registered_function(file, value))
                .flatten();
        }
        HookRegistration::Decorator => {
            let decorator = call.parent().filter(|p| p.kind_name() == "decorator")?;
            let name = file.index.callable_name(callee, root, file.text)?;
            let first = arguments.named_child(0)?;
            let wanted = hook.first_argument.as_deref()?;
            if first.kind_name() != "string" || string_content(file, first)? != wanted {
                return None;
            }
            let definition = decorator
                .parent()
                .filter(|p| p.kind_name() == "decorated_definition")?
                .child_by_field_name("definition")?;
            let def_name = definition.field(Field::Name)?;
            return (hook.calls.contains(&name)
                && definition.kind_name() == "function_definition"
                && only_mentioned_where_allowed(file, &[definition], &HashSet::new()))
            .then_some(definition)
            .filter(|_| def_name.kind_name() == "identifier");
        }
        _ => return None,
    };
    hook.calls
        .contains(&name)
        .then(|| registered_function(file, value))
        .flatten()
}

/// The module's `async def` a plain name passed at registration names, when nothing else in
/// the file mentions it.
fn registered_function<'t>(file: &FileContext<'t>, value: Node<'t>) -> Option<Node<'t>> {
    let definition = module_function(file, value, true)?;
    let allowed: HashSet<usize> = HashSet::from([value.id()]);
    only_mentioned_where_allowed(file, &[definition], &allowed).then_some(definition)
}

/// `async def <hook.name>(self)` in each class of the file whose base is one of the hook's
/// classes; none when the file also calls it itself (`await self.setup_hook()` in `on_ready`:
/// then it runs among the events), or mentions it in any other way (`x.setup_hook`).
fn hook_methods<'t>(file: &FileContext<'t>, hook: &StartupHook) -> Vec<Node<'t>> {
    let mut found = Vec::new();
    let mut stack = vec![file.parsed.tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind_name() == "attribute"
            && node
                .field(Field::Attribute)
                .is_some_and(|a| file.text[a.byte_range()] == hook.name)
        {
            return Vec::new();
        }
        if node.kind_name() == "class_definition" {
            let derives = node.field(Field::Superclasses).is_some_and(|bases| {
                bases.named_children(&mut bases.walk()).any(|base| {
                    file.index
                        .qualified_name(base, file.text)
                        .is_some_and(|name| hook.calls.contains(&name))
                })
            });
            if derives && let Some(body) = node.field(Field::Body) {
                for statement in body.named_children(&mut body.walk()) {
                    let definition = match statement.kind_name() {
                        "function_definition" => statement,
                        _ => continue,
                    };
                    if definition
                        .field(Field::Name)
                        .is_some_and(|n| file.text[n.byte_range()] == hook.name)
                    {
                        found.push(definition);
                    }
                }
            }
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    found
}

/// Whether `node` awaits (or is the awaited call of) a call on a request/response client the framework hands the hook
/// through its first parameter (`[[single-task.hook]] quiet-parameter-members`): `await
/// application.bot.set_my_commands(...)` in python-telegram-bot's `post_init(application)`.
pub(super) fn awaits_through_parameter(
    file: &FileContext,
    hook: &StartupHook,
    definition: Node,
    node: Node,
) -> bool {
    // The await, or its call (which the runner names would count as starting work).
    let call = match node.kind_name() {
        "await" => node.named_child(0),
        "call" => node
            .parent()
            .filter(|p| p.kind_name() == "await")
            .map(|_| node),
        _ => None,
    };
    let Some(call) = call.filter(|_| !hook.quiet_parameter_members.is_empty()) else {
        return false;
    };
    let Some(parameter) = definition
        .field(Field::Parameters)
        .and_then(|p| p.named_child(0))
        .and_then(|p| match p.kind_name() {
            "identifier" => Some(p),
            "typed_parameter" => p.named_child(0).filter(|n| n.kind_name() == "identifier"),
            _ => None,
        })
    else {
        return false;
    };
    let parameter = &file.text[parameter.byte_range()];
    // `<parameter>.<member>.<method>(...)`, the parameter not rebound in the hook.
    let Some(callee) = Some(call)
        .filter(|c| c.kind_name() == "call")
        .and_then(|c| c.field(Field::Function))
        .filter(|c| c.kind_name() == "attribute")
    else {
        return false;
    };
    let Some(member) = callee
        .field(Field::Object)
        .filter(|o| o.kind_name() == "attribute")
    else {
        return false;
    };
    let (Some(object), Some(name)) = (member.field(Field::Object), member.field(Field::Attribute))
    else {
        return false;
    };
    object.kind_name() == "identifier"
        && &file.text[object.byte_range()] == parameter
        && matches!(
            file.index.resolve_name(parameter, object.start_byte()),
            Resolution::Binding(id) if file.index.binding(id).kind == BindingKind::Parameter
                && file.index.bindings_named(file.index.binding(id).scope, parameter).len() == 1
        )
        && hook
            .quiet_parameter_members
            .iter()
            .any(|m| *m == file.text[name.byte_range()])
}

/// The value of the keyword argument `name=` in an argument list.
fn keyword_argument<'t>(
    file: &FileContext<'t>,
    arguments: Node<'t>,
    name: &str,
) -> Option<Node<'t>> {
    arguments
        .named_children(&mut arguments.walk())
        .filter(|a| a.kind_name() == "keyword_argument")
        .find(|a| {
            a.field(Field::Name)
                .is_some_and(|n| &file.text[n.byte_range()] == name)
        })?
        .field(Field::Value)
}

/// The last name of a callee: `post_init` of `builder.token(t).post_init`.
fn callee_last<'t>(file: &FileContext<'t>, callee: Node) -> Option<&'t str> {
    match callee.kind_name() {
        "attribute" => callee
            .field(Field::Attribute)
            .map(|a| &file.text[a.byte_range()]),
        "identifier" => Some(&file.text[callee.byte_range()]),
        _ => None,
    }
}

/// The text of a plain string literal (no interpolation, no implicit concatenation).
fn string_content<'t>(file: &FileContext<'t>, string: Node) -> Option<&'t str> {
    let mut content = None;
    for child in string.named_children(&mut string.walk()) {
        match child.kind_name() {
            "string_start" | "string_end" => {}
            "string_content" if content.is_none() => content = Some(&file.text[child.byte_range()]),
            _ => return None,
        }
    }
    Some(content.unwrap_or(""))
}
