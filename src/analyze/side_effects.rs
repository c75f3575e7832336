//! What a synchronous function's own body does that a worker thread must not, for the project
//! summary ([`ThreadHazard`]): it calls an asyncio API that needs the running event loop
//! (`asyncio.create_task`, `asyncio.get_event_loop()`, `loop.call_soon`, making an
//! `asyncio.Queue`), or it changes or serialises state reachable from `self`, `cls` or a module
//! global (an assignment to an attribute or item of it, `del`, `global`, a mutating method
//! such as `append` / `update`, `json.dump(self.jobs, f)`), or changes what one of its
//! parameters reaches (`parameter_state.rs`). The lists are the `[moved-code]`
//! of the codemod that moves project functions (`codemods/UNF401.toml`); the project phase
//! follows the facts through the calls (`project/hazard.rs`) and the fix is lowered
//! ([`apply_hazard`]).

use std::collections::HashMap;

use tree_sitter::Node;

use super::FileContext;
use super::parameter_state;
use super::shared_files::{SharedFiles, shared_files};
use crate::codemod::{MovedCode, Registry};
use crate::fix::{Applicability, Fix};
use crate::parse::{Field, FieldChild, KindName, walk_tree};
use crate::project::{FunctionSummary, HazardKind, ModuleInfo, ThreadHazard};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind};
use crate::settings::RuleSelection;

/// The `[moved-code]` lists of an enabled codemod, if any.
pub(super) fn moved_code<'r>(
    registry: &'r Registry,
    selection: &RuleSelection,
) -> Option<&'r MovedCode> {
    registry
        .codemods()
        .iter()
        .filter(|c| selection.is_enabled(&c.code, c.default_enabled))
        .find_map(|c| c.moved_code.as_ref())
}

/// Whether the run follows the code a fix moves to a worker thread (a codemod with
/// `[moved-code]` is enabled): the project phase then summarizes what that code calls.
pub fn follows_moved_code(registry: &Registry, selection: &RuleSelection) -> bool {
    moved_code(registry, selection).is_some()
}

/// Record, in each synchronous function of `functions` (by scope in `by_scope`), the first
/// hazard of each kind its own body has.
pub(super) fn record_hazards(
    file: &FileContext,
    moved: &MovedCode,
    functions: &mut [FunctionSummary],
    by_scope: &HashMap<ScopeId, usize>,
) {
    let index = file.index;
    let mut record = |node: Node, kind: HazardKind, what: String| {
        let Some(&f) = index
            .function_at(node.start_byte())
            .and_then(|s| by_scope.get(&s))
        else {
            return;
        };
        let function = &mut functions[f];
        if function.is_async || function.hazards.iter().any(|h| h.kind == kind) {
            return;
        }
        if matches!(kind, HazardKind::SharedState | HazardKind::SharedFile)
            && under_a_thread_lock(file, moved, node)
        {
            return;
        }
        function.hazards.push(ThreadHazard {
            kind,
            function: function.qualname.clone(),
            what,
            moved_with: None,
        });
    };
    for &call in &file.nodes.calls {
        if let Some((kind, what)) = call_hazard(file, moved, call) {
            record(call, kind, what);
        }
    }
    // A check then an act on one fixed path (`path_race.rs`), at the act.
    let root = file.parsed.tree.root_node();
    for race in super::path_race::path_races(file, moved) {
        if let Some(act) = root.descendant_for_byte_range(race.act.start, race.act.end) {
            record(act, HazardKind::SharedFile, race.what.clone());
        }
    }
    let shared = shared_files(file, moved);
    for (&scope, _) in by_scope.iter() {
        if let Some(what) = shared.hazard_in(file, |a| a.function == Some(scope)) {
            let function = index.scope(scope);
            // Recorded at the function's first byte: `record` finds the function from there.
            let start = function.range.start;
            if let Some(node) = file
                .parsed
                .tree
                .root_node()
                .descendant_for_byte_range(start, start)
            {
                record(node, HazardKind::SharedFile, what);
            }
        }
    }
    walk_tree(&file.parsed.tree, |cursor| {
        let node = cursor.node();
        if let Some(what) = iteration_hazard(file, node) {
            record(node, HazardKind::SharedState, what);
        }
        let targets: Vec<Node> = match node.kind_name() {
            "assignment" | "augmented_assignment" => node.field(Field::Left).into_iter().collect(),
            "delete_statement" => node.named_children(&mut node.walk()).collect(),
            "global_statement" => {
                // A declaration changes nothing: the function's own writes of the name do
                // (`global lock` and `lock.acquire()` only reads it).
                for name in node.named_children(&mut node.walk()) {
                    let name = &file.text[name.byte_range()];
                    for write in global_writes(file, node, name) {
                        let what = format!("changes the module global `{name}`");
                        record(write, HazardKind::SharedState, what);
                    }
                }
                return false;
            }
            _ => return true,
        };
        for target in targets.into_iter().flat_map(flatten_targets) {
            if !matches!(target.kind_name(), "attribute" | "subscript") {
                continue;
            }
            if sets_own_attribute_in_init(file, target) {
                continue;
            }
            if let Some(state) = shared_state(file, target) {
                record(node, HazardKind::SharedState, format!("changes `{state}`"));
            } else if let Some(object) = parameter_state::assigned(file, moved, target) {
                record(node, HazardKind::SharedState, passed_in(&object, None));
            }
        }
        true
    });
}

/// Where the function of `declaration` (a `global` statement) rebinds or deletes `name`, in
/// order: none when it only reads it.
fn global_writes<'t>(file: &FileContext<'t>, declaration: Node<'t>, name: &str) -> Vec<Node<'t>> {
    let index = file.index;
    let Some(function) = index.function_at(declaration.start_byte()) else {
        return Vec::new();
    };
    let range = index.scope(function).range.clone();
    let root = file.parsed.tree.root_node();
    let mut writes: Vec<Node> = index
        .bindings_named(index.module_scope(), name)
        .iter()
        .map(|&id| index.binding(id))
        .filter(|b| range.start <= b.range.start && b.range.end <= range.end)
        .filter_map(|b| root.descendant_for_byte_range(b.range.start, b.range.end))
        .collect();
    let mut stack: Vec<Node> = root
        .descendant_for_byte_range(range.start, range.end)
        .into_iter()
        .collect();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "delete_statement" {
            writes.extend(
                node.named_children(&mut node.walk())
                    .flat_map(flatten_targets)
                    .filter(|t| {
                        t.kind_name() == "identifier" && &file.text[t.byte_range()] == name
                    }),
            );
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    writes.sort_by_key(|w| w.start_byte());
    writes
}

/// What a call does that a worker thread must not: a loop-bound asyncio API, or a change or
/// a serialisation of shared state.
fn call_hazard(file: &FileContext, moved: &MovedCode, call: Node) -> Option<(HazardKind, String)> {
    let callee = call.field(Field::Function)?;
    if call.parent().is_some_and(|p| p.kind_name() == "await") {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let qualified = file.index.callable_name(callee, root, file.text);
    let method = (callee.kind_name() == "attribute")
        .then(|| callee.field(Field::Attribute))
        .flatten()
        .map(|a| &file.text[a.byte_range()]);
    if let Some(api) = loop_bound(moved, qualified.as_deref(), method) {
        if let Some((made_on_first_use, since)) = &moved.binds_on_first_use
            && made_on_first_use.contains(&api)
        {
            if file.target_version.is_none_or(|v| v < *since) {
                let (major, minor) = since;
                let what = format!(
                    "makes `{api}()` (bound to a loop when made below Python {major}.{minor})"
                );
                return Some((HazardKind::LoopBound, what));
            }
        } else if let Some(handler) = swallowing_handler(file, moved, call) {
            let what = format!("calls `{api}` inside `try/{handler}`");
            return Some((HazardKind::LoopBoundSwallowed, what));
        } else {
            let branch = if in_except_branch(call) {
                " (in an `except` branch)"
            } else {
                ""
            };
            return Some((HazardKind::LoopBound, format!("calls `{api}`{branch}")));
        }
    }
    if let Some(change) = super::await_order::changes_directory(file, moved, call) {
        let what = format!("changes the process's working directory (`{change}(...)`)");
        return Some((HazardKind::SharedState, what));
    }
    if let Some(method) = method.filter(|m| moved.mutating_methods.contains(*m))
        && let Some(state) = callee
            .field(Field::Object)
            .and_then(|o| shared_state(file, o))
    {
        let what = format!("changes `{state}` (`.{method}(...)`)");
        return Some((HazardKind::SharedState, what));
    }
    if let Some((object, call)) = parameter_state::called(file, moved, callee) {
        return Some((HazardKind::SharedState, passed_in(&object, Some(&call))));
    }
    let serialiser = qualified.filter(|q| moved.serialisers.contains(q))?;
    let state = first_argument(call).and_then(|a| shared_state(file, a))?;
    Some((
        HazardKind::SharedState,
        format!("reads `{state}` (`{serialiser}`)"),
    ))
}

/// The worst hazard of the code a fix moves to a worker thread as a block (`fix.moves`, the
/// `offload-block` strategy): what the calls in it do (the strategy itself already makes a
/// store into an object the block did not make unsafe). For a fix that runs the call itself
/// in a worker thread (`moved_call`, the `to-thread` strategy), what it does to a shared file.
pub(super) fn moved_block_hazard(
    file: &FileContext,
    registry: &Registry,
    fix: &Fix,
    moved_call: Option<Node>,
) -> Option<ThreadHazard> {
    let moved = registry
        .codemods()
        .iter()
        .find_map(|c| c.moved_code.as_ref())?;
    let Some(range) = fix.moves.clone() else {
        let what = moved_call_file_hazard(file, registry, moved_call?)?;
        return Some(ThreadHazard {
            kind: HazardKind::SharedFile,
            function: crate::project::MOVED_CALL.to_owned(),
            what,
            moved_with: None,
        });
    };
    let inside = |r: std::ops::Range<usize>| range.start <= r.start && r.end <= range.end;
    let mut iterations = Vec::new();
    if let Some(block) = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(range.start, range.end)
    {
        walk_tree_from(block, |node| {
            if inside(node.byte_range())
                && let Some(what) = iteration_hazard(file, node)
            {
                iterations.push((HazardKind::SharedState, what));
            }
        });
    }
    let shared = shared_files(file, moved)
        .hazard_in(file, |a| inside(a.range.clone()))
        .map(|what| (HazardKind::SharedFile, what));
    let path_race = super::path_race::path_races(file, moved)
        .iter()
        .find(|race| inside(race.check.clone()) && inside(race.act.clone()))
        .map(|race| (HazardKind::SharedFile, race.what.clone()));
    file.nodes
        .calls
        .iter()
        .filter(|c| inside(c.byte_range()))
        .filter_map(|&c| call_hazard(file, moved, c))
        .chain(iterations)
        .chain(shared)
        .chain(path_race)
        .reduce(|worst, next| if next.0 > worst.0 { next } else { worst })
        .map(|(kind, what)| ThreadHazard {
            kind,
            function: String::new(),
            what,
            moved_with: None,
        })
}

/// What a call moved to a worker thread as it is (`await asyncio.to_thread(f, ...)`) does to
/// a shared file there, at this call (the file its arguments name, and the other uses of that
/// file in the same function).
pub(super) fn moved_call_file_hazard(
    file: &FileContext,
    registry: &Registry,
    call: Node,
) -> Option<String> {
    let moved = registry
        .codemods()
        .iter()
        .find_map(|c| c.moved_code.as_ref())?;
    let shared = shared_files(file, moved);
    let range = call.byte_range();
    shared
        .hazard_in(file, |a| a.range == range)
        .or_else(|| super::shared_databases::caller_acts(file, shared.all(), call))
        .or_else(|| {
            // The check or the act of a check-then-act on a path, hopped alone.
            super::path_race::path_races(file, moved)
                .iter()
                .filter(|race| race.check == range || race.act == range)
                .find_map(|race| race.split.clone())
        })
}

/// What moved code does to an object its caller passed in: "calls
/// `ctx.bot.reload_extension(...)`, which may change `ctx.bot`, an object ...".
fn passed_in(object: &str, call: Option<&str>) -> String {
    let call = call.map_or_else(String::new, |call| {
        format!("calls `{call}(...)`, which may change `{object}`")
    });
    let changes = if call.is_empty() {
        format!("changes `{object}`")
    } else {
        call
    };
    format!(
        "{changes}, an object passed in by its caller that the event loop's other tasks may \
         use too,"
    )
}

/// The loop-bound asyncio API a call reaches: a listed function or class, a method of an
/// object one of them made (`asyncio.get_event_loop().create_task`), or a listed method name
/// on any receiver (`self.loop.call_soon`).
fn loop_bound(moved: &MovedCode, qualified: Option<&str>, method: Option<&str>) -> Option<String> {
    if let Some(qualified) = qualified {
        let maker = qualified.split_once("().").map_or(qualified, |(m, _)| m);
        if moved.loop_bound_calls.contains(maker) {
            return Some(qualified.to_owned());
        }
    }
    let method = method.filter(|m| {
        moved.loop_bound_methods.contains(*m)
            || moved
                .loop_bound_method_prefixes
                .iter()
                .any(|prefix| m.starts_with(prefix.as_str()))
    })?;
    Some(format!(".{method}(...)"))
}

/// The names a target list binds or changes: `a, self.b[k] = ...` → `a`, `self.b[k]`.
fn flatten_targets(node: Node) -> Vec<Node> {
    match node.kind_name() {
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "expression_list"
        | "tuple"
        | "list"
        | "parenthesized_expression"
        | "list_splat_pattern" => node
            .named_children(&mut node.walk())
            .flat_map(flatten_targets)
            .collect(),
        _ => vec![node],
    }
}

/// The first positional argument of a call.
fn first_argument(call: Node) -> Option<Node> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let first = arguments.named_children(&mut cursor).next()?;
    (!matches!(
        first.kind_name(),
        "keyword_argument" | "list_splat" | "dictionary_splat" | "comment"
    ))
    .then_some(first)
}

/// The shared state an attribute / item chain reaches, as written: `self.jobs` for
/// `self.jobs[k]` (`self` or `cls`, a method's parameter), `JOBS` for `JOBS[k]` (a module
/// global the module assigns). `None` for locals, arguments and `self` itself.
fn shared_state(file: &FileContext, expression: Node) -> Option<String> {
    let mut node = expression;
    let mut above: Option<Node> = None;
    loop {
        match node.kind_name() {
            "attribute" => {
                above = Some(node);
                node = node.field(Field::Object)?;
            }
            "subscript" => {
                above = Some(node);
                node = node.field(Field::Value)?;
            }
            "identifier" => break,
            _ => return None,
        }
    }
    let name = &file.text[node.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    let written = |n: Node| {
        file.text[n.byte_range()]
            .split_whitespace()
            .collect::<String>()
    };
    match binding.kind {
        BindingKind::Parameter if name == "self" || name == "cls" => {
            above.filter(|a| a.kind_name() == "attribute").map(written)
        }
        BindingKind::Assignment if binding.scope == file.index.module_scope() => {
            Some(name.to_owned())
        }
        _ => None,
    }
}

/// Whether `target` is `self.x` set in an `__init__` (a method of a class): reached through a
/// construction, it sets an attribute of the object being made, which no coroutine can see
/// yet. (`self.x[k] = v` or `self.x.append(v)` may change an object passed in, and stay.)
fn sets_own_attribute_in_init(file: &FileContext, target: Node) -> bool {
    if target.kind_name() != "attribute" {
        return false;
    }
    let Some(object) = target
        .field(Field::Object)
        .filter(|o| o.kind_name() == "identifier")
    else {
        return false;
    };
    let index = file.index;
    let Resolution::Binding(id) =
        index.resolve_name(&file.text[object.byte_range()], object.start_byte())
    else {
        return false;
    };
    let binding = index.binding(id);
    let function = index.scope(binding.scope);
    binding.kind == BindingKind::Parameter
        && binding.name == "self"
        && function.name.as_deref() == Some("__init__")
        && function
            .parent
            .is_some_and(|class| index.scope(class).kind == ScopeKind::Class)
}

/// Record, in each function of `functions` (by scope in `by_scope`), the files its own body
/// reads or writes through a shared name, keyed the same in every module.
pub(super) fn record_file_uses(
    file: &FileContext,
    moved: &MovedCode,
    module: &ModuleInfo,
    functions: &mut [FunctionSummary],
    by_scope: &HashMap<ScopeId, usize>,
) {
    let shared = file
        .shared_files
        .get_or_init(|| SharedFiles::of(file, moved, Some(module)));
    for (scope, used) in shared.uses() {
        if let Some(&f) = by_scope.get(&scope) {
            functions[f].files.push(used);
        }
    }
}

/// A `for` loop or a comprehension iterating state reachable from `self`, `cls` or a module
/// global (`for k, v in self.pending.items()`): in a worker thread, a coroutine changing it
/// meanwhile breaks the iteration.
fn iteration_hazard(file: &FileContext, node: Node) -> Option<String> {
    if !matches!(node.kind_name(), "for_statement" | "for_in_clause") {
        return None;
    }
    let mut iterated = node.field(Field::Right)?;
    // `self.x.items()`, `.values()`, `.keys()`: views iterated lazily over the same state.
    if iterated.kind_name() == "call"
        && let Some(callee) = iterated.field(Field::Function)
        && callee.kind_name() == "attribute"
        && callee
            .field(Field::Attribute)
            .is_some_and(|a| matches!(&file.text[a.byte_range()], "items" | "values" | "keys"))
        && iterated
            .field(Field::Arguments)
            .is_some_and(|a| a.named_child_count() == 0)
    {
        iterated = callee.field(Field::Object)?;
    }
    if !matches!(
        iterated.kind_name(),
        "attribute" | "subscript" | "identifier"
    ) || is_module_constant(file, iterated)
    {
        return None;
    }
    let state = shared_state(file, iterated).or_else(|| {
        // A bare module global (`for job in JOBS`).
        (iterated.kind_name() == "identifier").then_some(())?;
        let name = &file.text[iterated.byte_range()];
        let Resolution::Binding(id) = file.index.resolve_name(name, iterated.start_byte()) else {
            return None;
        };
        let binding = file.index.binding(id);
        (binding.kind == BindingKind::Assignment && binding.scope == file.index.module_scope())
            .then(|| name.to_owned())
    })?;
    Some(format!("reads `{state}` (iterates it)"))
}

/// Whether `expression` names a module global bound once, to an immutable literal
/// (`MARKERS = ("Thinking...", "Catching up on")`): nothing can change it while it is read.
fn is_module_constant(file: &FileContext, expression: Node) -> bool {
    if expression.kind_name() != "identifier" {
        return false;
    }
    let name = &file.text[expression.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(name, expression.start_byte()) else {
        return false;
    };
    let binding = file.index.binding(id);
    let module = file.index.module_scope();
    let bound_once = binding.scope == module && file.index.bindings_named(module, name).len() == 1;
    bound_once
        && binding
            .value
            .as_ref()
            .and_then(|value| crate::semantic::node_at(file.parsed.tree.root_node(), value))
            .is_some_and(is_immutable_literal)
}

/// A literal nothing can change: a string, a number, `True`/`False`/`None`, or a tuple of those.
fn is_immutable_literal(node: Node) -> bool {
    match node.kind_name() {
        "string" | "concatenated_string" | "integer" | "float" | "true" | "false" | "none" => true,
        "tuple" | "parenthesized_expression" => node
            .named_children(&mut node.walk())
            .filter(|c| c.kind_name() != "comment")
            .all(is_immutable_literal),
        _ => false,
    }
}

/// The handler (`except Exception`) of a `try` around `call`, in its function, that
/// catches the RuntimeError a loop-bound call raises in a worker thread.
fn swallowing_handler(file: &FileContext, moved: &MovedCode, call: Node) -> Option<String> {
    let mut current = call;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "function_definition" | "lambda" | "class_definition" => return None,
            "try_statement"
                if parent
                    .field(Field::Body)
                    .is_some_and(|b| b.id() == current.id()) =>
            {
                let mut cursor = parent.walk();
                for clause in parent.named_children(&mut cursor) {
                    if clause.kind_name() != "except_clause" {
                        continue;
                    }
                    let Some(handled) = crate::parse::handled_types(clause) else {
                        return Some("except:".to_owned());
                    };
                    if let Some(item) = handled.items.iter().find(|item| {
                        file.index
                            .qualified_name(**item, file.text)
                            .is_some_and(|q| moved.swallowed_by.contains(&q))
                    }) {
                        return Some(format!("except {}", &file.text[item.byte_range()]));
                    }
                }
            }
            _ => {}
        }
        current = parent;
    }
    None
}

/// Call `visit` on `node` and every node below it.
fn walk_tree_from(node: Node, mut visit: impl FnMut(Node)) {
    let mut stack = vec![node];
    let mut cursor = node.walk();
    while let Some(next) = stack.pop() {
        visit(next);
        stack.extend(next.named_children(&mut cursor));
    }
}

/// Whether `node` runs inside `with lock:` in its function, where `lock` is a thread lock of
/// `[moved-code] thread-locks` (`self._lock`, assigned `threading.Lock()` in `__init__`).
fn under_a_thread_lock(file: &FileContext, moved: &MovedCode, node: Node) -> bool {
    let root = file.parsed.tree.root_node();
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "function_definition" | "lambda" | "class_definition" => return false,
            "with_statement" if !is_async_with(parent) => {
                let locked = parent
                    .named_child(0)
                    .filter(|clause| clause.kind_name() == "with_clause")
                    .is_some_and(|clause| {
                        clause
                            .named_children(&mut clause.walk())
                            .filter_map(|item| item.field(Field::Value))
                            .any(|value| {
                                file.index
                                    .object_kind(value, root, file.text)
                                    .is_some_and(|kind| moved.thread_locks.contains(&kind))
                            })
                    });
                if locked {
                    return true;
                }
            }
            "try_statement" if acquired_around(file, moved, parent, current) => return true,
            _ => {}
        }
        current = parent;
    }
    false
}

/// Whether `child` of `try_statement` runs with a thread lock held by the pattern
/// `lock.acquire()` / `try: ...` / `finally: lock.release()` (OF-Scraper's cache): the
/// statement before the `try` acquires the lock its `finally` releases.
fn acquired_around(
    file: &FileContext,
    moved: &MovedCode,
    try_statement: Node,
    child: Node,
) -> bool {
    if child.kind_name() == "finally_clause" {
        return false;
    }
    let lock_call = |statement: Node, method: &str| -> Option<String> {
        let call = statement
            .named_child(0)
            .filter(|_| statement.kind_name() == "expression_statement")?;
        let callee = call
            .field(Field::Function)
            .filter(|_| call.kind_name() == "call")?;
        let object = callee
            .field(Field::Object)
            .filter(|_| callee.kind_name() == "attribute")?;
        let name = callee.field(Field::Attribute)?;
        let root = file.parsed.tree.root_node();
        let is_lock = file
            .index
            .object_kind(object, root, file.text)
            .is_some_and(|kind| moved.thread_locks.contains(&kind));
        (is_lock && &file.text[name.byte_range()] == method)
            .then(|| file.text[object.byte_range()].to_owned())
    };
    let Some(acquired) = try_statement
        .prev_named_sibling()
        .and_then(|s| lock_call(s, "acquire"))
    else {
        return false;
    };
    let mut cursor = try_statement.walk();
    try_statement
        .named_children(&mut cursor)
        .filter(|c| c.kind_name() == "finally_clause")
        .flat_map(|f| {
            let mut cursor = f.walk();
            f.named_children(&mut cursor).collect::<Vec<_>>()
        })
        .flat_map(|block| {
            let mut cursor = block.walk();
            block.named_children(&mut cursor).collect::<Vec<_>>()
        })
        .filter_map(|statement| lock_call(statement, "release"))
        .any(|released| released == acquired)
}

fn is_async_with(with: Node) -> bool {
    with.child(0).is_some_and(|first| first.kind() == "async")
}

/// Whether the call runs in an `except` branch of its function.
fn in_except_branch(call: Node) -> bool {
    let mut current = call;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "except_clause" | "except_group_clause" => return true,
            "function_definition" | "lambda" | "class_definition" => return false,
            _ => current = parent,
        }
    }
    false
}

/// Lower the fix of a call that moves a project function to a worker thread by what the moved
/// code does there: no fix for a loop-bound asyncio API (the reason says which and where), an
/// unsafe fix for shared state (the caveat says what may happen).
pub(super) fn apply_hazard(
    hazard: Option<&ThreadHazard>,
    fix: &mut Option<Fix>,
    no_fix_reason: &mut Option<String>,
) {
    let Some(hazard) = hazard else {
        return;
    };
    match hazard.kind {
        HazardKind::LoopBound => {
            if fix.take().is_some() {
                *no_fix_reason = Some(hazard.reason());
            }
        }
        HazardKind::SharedState | HazardKind::SharedFile | HazardKind::LoopBoundSwallowed => {
            if let Some(fix) = fix {
                fix.applicability = fix.applicability.min(Applicability::Unsafe);
                fix.caveat = Some(match fix.caveat.take() {
                    Some(caveat) => format!("{}; {caveat}", hazard.reason()),
                    None => hazard.reason(),
                });
            }
        }
    }
}
