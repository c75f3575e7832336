//! The file and database accesses a call makes through the function it calls, seen at the
//! call, in the caller: a module function's own accesses (`cfg = load_config()` reads what
//! `load_config` reads), the file its parameter names where the call passes a path
//! (`load_data(FILE_JOKES)`), and another module's helper's, as the settling carried them
//! ([`ProjectCall::Carried`]). [`super::shared_files`] then sees a coroutine's load and save
//! hops of one file, or its check and act on one database, though helpers make them.

use std::collections::HashMap;

use tree_sitter::Node;

use super::FileContext;
use super::file_access::FileAccess;
use crate::codemod::MovedCode;

use super::branches::branches;
use super::shared_databases::{bind_statement, statements_of};
use super::target::call_target;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{CARRIED_PREFIX, ModuleInfo, ProjectCall, ProjectLookup, ProjectView};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind};

use super::path_key::{
    MAX_DEPTH, ParamAccess, argument, imported_as, is_module_constant, parameter_access, path_key,
    substitute,
};

/// The callee of `call` as written, on one line: `load_config`, `EconomyManager.get_coins`.
fn callee_text(file: &FileContext, call: Node) -> String {
    let callee = call.field(Field::Function).unwrap_or(call);
    file.text[callee.byte_range()]
        .split_whitespace()
        .collect::<String>()
}

/// The accesses the file's calls of other modules' functions (and the databases of its own
/// methods') make through them, as the settling carried them ([`ProjectCall::Carried`]), at
/// each call, in the caller: a file or a database this module also names (`local`'s project
/// keys) keeps this module's key.
pub(super) fn carried_accesses(
    file: &FileContext,
    moved: &MovedCode,
    local: &[FileAccess],
    module_calls: &[(Node, ScopeId)],
) -> Vec<FileAccess> {
    let Some(ProjectView {
        lookup: ProjectLookup::Settled(calls),
        module,
        map,
    }) = file.project
    else {
        return Vec::new();
    };
    if !calls.keys().any(|k| k.starts_with(CARRIED_PREFIX)) {
        return Vec::new();
    }
    let local_keys: HashMap<&str, &str> = local
        .iter()
        .filter_map(|a| Some((a.project_key.as_deref()?, a.key.as_str())))
        .collect();
    let followed: std::collections::HashSet<usize> =
        module_calls.iter().map(|(call, _)| call.id()).collect();
    let mut found = Vec::new();
    for &call in &file.nodes.calls {
        // The calls of the module's own functions are followed by `through_calls`.
        if followed.contains(&call.id()) {
            continue;
        }
        let awaits = call.parent().is_some_and(|p| p.kind_name() == "await");
        let Some(target) = call
            .field(Field::Function)
            .and_then(|callee| call_target(file, module, map, callee))
        else {
            continue;
        };
        // A coroutine reads and writes where it is awaited; a synchronous function where
        // it is called.
        let Some(ProjectCall::Carried { uses, awaited }) =
            calls.get(&format!("{CARRIED_PREFIX}{target}"))
        else {
            continue;
        };
        if *awaited != awaits {
            continue;
        }
        let function = file.index.function_at(call.start_byte());
        let line = call.start_position().row as u32 + 1;
        let via = callee_text(file, call);
        for used in uses {
            let access = FileAccess {
                range: call.byte_range(),
                function,
                key: local_keys
                    .get(used.key.as_str())
                    .map_or_else(|| used.key.clone(), |k| (*k).to_owned()),
                shown: super::shared_collections::shown_carried(&used.key)
                    .unwrap_or_else(|| used.key.clone()),
                write: used.write,
                exists: false,
                deletes: used.deletes,
                atomic: used.atomic,
                line,
                project_key: Some(used.key.clone()),
                alias_keys: Vec::new(),
                constant: true,
                database: used.database,
                inserts: used.inserts,
                via: Some(via.clone()),
                carried: true,
                sql_parameter: used.sql_parameter.clone(),
                branches: match used.database {
                    true => branches(call),
                    false => Vec::new(),
                },
                store: None,
            };
            found.extend(bind(file, moved, call, access));
        }
    }
    found
}

/// A database statement made through `call` (`access`, placed at it), its SQL passed by the
/// call ([`bind_statement`]); any other access as it is.
fn bind(
    file: &FileContext,
    moved: &MovedCode,
    call: Node,
    access: FileAccess,
) -> Option<FileAccess> {
    if access.sql_parameter.is_none() {
        return Some(access);
    }
    let statements = statements_of(moved)?;
    bind_statement(file, statements, call, access)
}

/// The calls in the file of its own module-level functions (a name defined twice is left
/// out), each with the function it calls; with `methods`, also the calls `self.name(...)` of
/// a method of the caller's class.
pub(super) fn module_calls<'t>(file: &FileContext<'t>, methods: bool) -> Vec<(Node<'t>, ScopeId)> {
    let index = file.index;
    let module_scope = index.module_scope();
    // The module's functions by name (a name defined twice is left out).
    let mut functions: HashMap<&str, Option<ScopeId>> = HashMap::new();
    for (id, scope) in index.scopes() {
        if matches!(scope.kind, ScopeKind::Function { .. })
            && scope.parent == Some(module_scope)
            && let Some(name) = scope.name.as_deref()
        {
            functions
                .entry(name)
                .and_modify(|f| *f = None)
                .or_insert(Some(id));
        }
    }
    file.nodes
        .calls
        .iter()
        .filter_map(|&call| {
            let callee = call.field(Field::Function)?;
            if callee.kind_name() == "attribute" {
                return own_method(file, callee)
                    .filter(|_| methods)
                    .map(|method| (call, method));
            }
            if callee.kind_name() != "identifier" {
                return None;
            }
            let name = &file.text[callee.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, callee.start_byte()) else {
                return None;
            };
            let binding = index.binding(id);
            if binding.scope != module_scope
                || !matches!(binding.kind, BindingKind::Function { .. })
            {
                return None;
            }
            Some((call, (*functions.get(name)?)?))
        })
        .collect()
}

/// The method `self.name` / `cls.name` calls in a method of its class: the class's own
/// method so named (one definition), not one of a base or an instance attribute.
fn own_method(file: &FileContext, callee: Node) -> Option<ScopeId> {
    let index = file.index;
    let object = callee.field(Field::Object)?;
    let attribute = callee.field(Field::Attribute)?;
    if object.kind_name() != "identifier"
        || !matches!(&file.text[object.byte_range()], "self" | "cls")
    {
        return None;
    }
    let Resolution::Binding(id) =
        index.resolve_name(&file.text[object.byte_range()], object.start_byte())
    else {
        return None;
    };
    let binding = index.binding(id);
    if binding.kind != BindingKind::Parameter
        || Some(binding.scope) != index.function_at(object.start_byte())
    {
        return None;
    }
    let class = super::receivers::enclosing_class(file, callee.start_byte())?;
    let name = &file.text[attribute.byte_range()];
    let mut methods = index.scopes().filter(|(_, scope)| {
        scope.parent == Some(class)
            && matches!(scope.kind, ScopeKind::Function { .. })
            && scope.name.as_deref() == Some(name)
    });
    let (method, _) = methods.next()?;
    methods.next().is_none().then_some(method)
}

/// Whether the method `method` is a `@staticmethod` (no `self` passed).
fn is_static(file: &FileContext, method: ScopeId) -> bool {
    let root = file.parsed.tree.root_node();
    let Some(definition) = crate::semantic::node_at(root, &file.index.scope(method).range) else {
        return false;
    };
    let Some(decorated) = definition
        .parent()
        .filter(|p| p.kind_name() == "decorated_definition")
    else {
        return false;
    };
    let mut cursor = decorated.walk();
    decorated
        .named_children(&mut cursor)
        .filter(|d| d.kind_name() == "decorator")
        .filter_map(|d| d.named_child(0))
        .any(|d| {
            d.kind_name() == "identifier"
                && &file.text[d.byte_range()] == "staticmethod"
                && file.index.resolve_name("staticmethod", d.start_byte()) == Resolution::Builtin
        })
}

/// The accesses a call of one of the module's functions makes through that function's body
/// (`cfg = load_config()` reads what `load_config` reads), at the call, in the caller: a
/// coroutine's load and save hops of one file are then both seen in it.
pub(super) fn through_calls(
    file: &FileContext,
    moved: &MovedCode,
    accesses: &[FileAccess],
    calls: &[(Node, ScopeId)],
) -> Vec<FileAccess> {
    let mut by_function: HashMap<ScopeId, Vec<FileAccess>> = HashMap::new();
    for access in accesses {
        if let Some(function) = access.function {
            by_function
                .entry(function)
                .or_default()
                .push(access.clone());
        }
    }
    let mut found = Vec::new();
    let mut seen: std::collections::HashSet<(usize, String, bool)> = accesses
        .iter()
        .map(|a| (a.range.start, a.key.clone(), a.write))
        .collect();
    for _ in 0..MAX_DEPTH {
        let mut next: HashMap<ScopeId, Vec<FileAccess>> = HashMap::new();
        for &(call, target) in calls {
            let Some(uses) = by_function.get(&target) else {
                continue;
            };
            let caller = file.index.function_at(call.start_byte());
            for used in uses {
                let access = FileAccess {
                    range: call.byte_range(),
                    function: caller,
                    line: call.start_position().row as u32 + 1,
                    via: Some(callee_text(file, call)),
                    branches: match used.database {
                        true => branches(call),
                        false => Vec::new(),
                    },
                    ..used.clone()
                };
                let Some(access) = bind(file, moved, call, access) else {
                    continue;
                };
                if !seen.insert((call.start_byte(), access.key.clone(), access.write)) {
                    continue;
                }
                if let Some(function) = access.function {
                    next.entry(function).or_default().push(access.clone());
                }
                found.push(access);
            }
        }
        if next.is_empty() {
            break;
        }
        by_function = next;
    }
    found
}

/// The accesses the file's calls of its own module-level functions make through their
/// parameters: `load_data(FILE_JOKES)` reads the file `FILE_JOKES` when `load_data(path)`
/// opens `path`. A call passing on its own parameter (`return load_json(path, [])`) makes
/// its function access that file too, and its callers bind it in turn (a few levels).
pub(super) fn bind_parameters(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    calls: &[(Node, ScopeId)],
    found: Vec<ParamAccess>,
) -> Vec<FileAccess> {
    let mut bound = Vec::new();
    if found.is_empty() {
        return bound;
    }
    let index = file.index;
    let mut seen: std::collections::HashSet<ParamAccess> = found.iter().cloned().collect();
    let mut pending = found;
    for _ in 0..MAX_DEPTH {
        if pending.is_empty() {
            break;
        }
        let mut by_function: HashMap<ScopeId, Vec<&ParamAccess>> = HashMap::new();
        for access in &pending {
            by_function.entry(access.function).or_default().push(access);
        }
        let mut next = Vec::new();
        for &(call, target) in calls {
            let Some(uses) = by_function.get(&target) else {
                continue;
            };
            // `self.save(data, path)` passes `self` first: the parameters after it.
            let shift = usize::from(
                call.field(Field::Function)
                    .is_some_and(|c| c.kind_name() == "attribute")
                    && !is_static(file, target),
            );
            for access in uses {
                let Some(position) = access.position.checked_sub(shift) else {
                    continue;
                };
                let Some(passed) = argument(file, call, position, Some(&access.name)) else {
                    continue;
                };
                for argument in alternatives(file, passed, 0) {
                    let Some((key, named)) = path_key(file, moved, None, argument, 0) else {
                        continue;
                    };
                    let pattern = substitute(&access.pattern, &key);
                    if !named || key.starts_with('*') || key.starts_with("{*}") {
                        if let Some(passed) = parameter_access(
                            file,
                            argument,
                            &pattern,
                            access.write,
                            access.deletes,
                            access.atomic,
                        ) && seen.insert(passed.clone())
                        {
                            next.push(passed);
                        }
                        continue;
                    }
                    let project_key = module
                        .and_then(|module| path_key(file, moved, Some(module), argument, 0))
                        .map(|(key, _)| substitute(&access.pattern, &key))
                        .filter(|key| !key.starts_with('*') && !key.starts_with("{*}"));
                    let written: String = file.text[argument.byte_range()]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let constant = is_module_constant(file, argument);
                    let alias_keys = match constant && access.pattern == "*" {
                        true => imported_as(module, &file.text[argument.byte_range()]),
                        false => Vec::new(),
                    };
                    bound.push(FileAccess {
                        alias_keys,
                        range: call.byte_range(),
                        function: index.function_at(call.start_byte()),
                        key: pattern,
                        shown: substitute(&access.pattern, &written),
                        write: access.write,
                        exists: false,
                        deletes: access.deletes,
                        atomic: access.atomic,
                        line: call.start_position().row as u32 + 1,
                        project_key,
                        constant,
                        database: false,
                        inserts: false,
                        via: Some(callee_text(file, call)),
                        carried: false,
                        sql_parameter: None,
                        branches: branches(call),
                        store: None,
                    });
                }
            }
        }
        pending = next;
    }
    bound
}

/// The paths an argument may be: both sides of `BAN_FILE if ban else MUTE_FILE`, also
/// through a local holding it; else the argument itself.
fn alternatives<'t>(file: &FileContext<'t>, expr: Node<'t>, depth: usize) -> Vec<Node<'t>> {
    if depth <= MAX_DEPTH {
        match expr.kind_name() {
            "conditional_expression" => {
                let mut cursor = expr.walk();
                let parts: Vec<Node> = expr
                    .named_children(&mut cursor)
                    .filter(|p| p.kind_name() != "comment")
                    .collect();
                if let [body, _, otherwise] = parts[..] {
                    let mut found = alternatives(file, body, depth + 1);
                    found.extend(alternatives(file, otherwise, depth + 1));
                    return found;
                }
            }
            "identifier" => {
                let name = &file.text[expr.byte_range()];
                if let Resolution::Binding(id) = file.index.resolve_name(name, expr.start_byte())
                    && let binding = file.index.binding(id)
                    && binding.kind == BindingKind::Assignment
                    && binding.scope != file.index.module_scope()
                    && let Some(value) = binding
                        .value
                        .as_ref()
                        .and_then(|v| crate::semantic::node_at(file.parsed.tree.root_node(), v))
                    && value.kind_name() == "conditional_expression"
                {
                    return alternatives(file, value, depth + 1);
                }
            }
            _ => {}
        }
    }
    vec![expr]
}
