//! The extraction of one file's [`FileSummary`] for the project phase, from the tree and
//! index the per-file pass already built: each function (coroutine? generator? the first call
//! in it that blocks by itself, as the codemods decide) and the project names its calls reach.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::FileContext;
use super::affinity::{affine_globals, foreign_affine_use, imported_receiver};
use super::conditions::is_result_discarded;
use super::evidence::blocking_evidence;
use super::guards::site_facts;
use super::returned::{affine_returns, returned_receiver, stored_affine};
use super::target::call_target;
use crate::codemod::Registry;
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    CallAt, Evidence, FileSummary, FunctionSummary, GuardedSite, ModuleInfo, ModuleMap, SqlCall,
    absolute_name, call_text,
};
use crate::semantic::{BindingKind, ScopeId, ScopeKind};
use crate::settings::RuleSelection;

/// The [`FileSummary`] of one parsed file, for the project phase.
pub fn summarize(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    registry: &Registry,
    selection: &RuleSelection,
) -> FileSummary {
    let index = file.index;
    let mut functions = Vec::new();
    let mut targets = Targets::default();
    let mut by_scope: HashMap<ScopeId, usize> = HashMap::new();
    // The calls of project functions made with nothing known of them: `(function, target)`.
    let mut plain_calls: HashSet<(usize, u32)> = HashSet::new();
    for (id, scope) in index.scopes() {
        // A file past its time budget stops here too (`budget.rs`).
        crate::budget::step();
        if let ScopeKind::Function { is_async } = scope.kind {
            by_scope.insert(id, functions.len());
            functions.push(FunctionSummary {
                qualname: index.qualname(id),
                is_async,
                is_generator: false,
                direct: None,
                affinity: None,
                calls: Vec::new(),
                imported_receivers: Vec::new(),
                returns: Vec::new(),
                discarded: Vec::new(),
                hazards: Vec::new(),
                direct_guard: None,
                call_sites: Vec::new(),
                files: Vec::new(),
                starts_work: None,
                yields: None,
                awaits: Vec::new(),
                sql_calls: Vec::new(),
                call_at: Vec::new(),
                call_lines: Vec::new(),
                checked: Vec::new(),
                once: None,
            });
        }
    }
    if !functions.is_empty() {
        for node in &file.nodes.yields {
            if let Some(f) = index
                .function_at(node.start_byte())
                .and_then(|s| by_scope.get(&s))
            {
                functions[*f].is_generator = true;
            }
        }
        super::concurrency::record_yields(file, &mut functions, &by_scope);
        for &node in &file.nodes.calls {
            let Some(scope) = index.function_at(node.start_byte()) else {
                continue;
            };
            if let Some(&f) = by_scope.get(&scope) {
                if functions[f].affinity.is_none() && !functions[f].is_async {
                    functions[f].affinity = foreign_affine_use(file, registry, scope, node)
                        .or_else(|| stored_affine(file, registry, scope, node));
                }
                let plain = summarize_call(
                    file,
                    module,
                    map,
                    registry,
                    selection,
                    (scope, node),
                    &mut functions[f],
                    &mut targets,
                );
                if let Some(target) = plain {
                    plain_calls.insert((f, target));
                }
            }
        }
    }
    // What synchronous functions return that holds a thread-affine object; and what a
    // generator yields, which `for conn in get_connection():` and, under
    // `@contextmanager`, `with get_conn() as conn:` bind (the `yield` keyword is a node of
    // kind `yield` too: only the expression counts).
    let yields = file.nodes.yields.iter().filter(|node| node.is_named());
    for &statement in file.nodes.returns.iter().chain(yields) {
        let Some(scope) = index.function_at(statement.start_byte()) else {
            continue;
        };
        if let Some(&f) = by_scope.get(&scope)
            && !functions[f].is_async
        {
            let found = affine_returns(
                file,
                registry,
                (module, map),
                scope,
                statement,
                &mut |name| targets.id(name),
            );
            let returns = &mut functions[f].returns;
            for part in found {
                if !returns.contains(&part) {
                    returns.push(part);
                }
            }
        }
    }
    if !functions.is_empty() {
        super::concurrency::record_concurrency(
            file,
            registry,
            (module, map),
            &mut functions,
            &by_scope,
            &mut |name| targets.id(name),
        );
    }
    if let Some(moved) = super::side_effects::moved_code(registry, selection)
        && !functions.is_empty()
    {
        super::side_effects::record_file_uses(file, moved, module, &mut functions, &by_scope);
        super::side_effects::record_hazards(file, moved, &mut functions, &by_scope);
        super::once_only::record_once(
            file,
            (registry, selection, moved),
            (module, map),
            &mut functions,
            &by_scope,
            &mut |name| targets.id(name),
        );
    }
    let imports = index
        .bindings()
        .filter(|(_, b)| b.scope == index.module_scope())
        .filter_map(|(_, b)| match &b.kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } => {
                let absolute = absolute_name(module, qualified)?;
                map.is_project_name(&absolute)
                    .then(|| (b.name.clone(), absolute))
            }
            _ => None,
        })
        .collect();
    // A target called both with and without known facts: every call of it is recorded.
    for (f, function) in functions.iter_mut().enumerate() {
        let mut guarded: Vec<u32> = function.call_sites.iter().map(|s| s.target).collect();
        guarded.sort_unstable();
        guarded.dedup();
        for target in guarded {
            if plain_calls.contains(&(f, target)) {
                function.call_sites.push(GuardedSite {
                    target,
                    guard: None,
                    args: Vec::new(),
                });
            }
        }
    }
    // Only what the project phase can use is kept: a synchronous function that neither blocks
    // nor calls a project function nor uses a thread-affine object cannot block nor pin a
    // caller to its thread, like an unknown one. One that blocks by itself keeps its calls: a
    // callee may use such an object, or do what moved code must not (its hazards); a function
    // with a hazard may be called by moved code.
    // One that starts no concurrent work either is a quiet leaf for the single-task
    // recognition (`project/quiet.rs`).
    let mut quiet_functions = Vec::new();
    functions.retain(|f| {
        let kept = f.is_async
            || f.direct.is_some()
            || f.affinity.is_some()
            || !f.calls.is_empty()
            || !f.imported_receivers.is_empty()
            || !f.returns.is_empty()
            || !f.hazards.is_empty()
            || !f.files.is_empty();
        if !kept && f.starts_work.is_none() {
            quiet_functions.push(f.qualname.clone());
        }
        kept
    });
    for function in &mut functions {
        // Only the targets some call passes SQL to say anything.
        let passing: HashSet<u32> = function
            .sql_calls
            .iter()
            .filter(|c| !c.args.is_empty())
            .map(|c| c.target)
            .collect();
        function.sql_calls.retain(|c| passing.contains(&c.target));
        function.calls.sort_unstable();
        function.calls.dedup();
        function.calls.shrink_to_fit();
        function.discarded.sort_unstable();
        function.discarded.dedup();
        function.discarded.shrink_to_fit();
        function.awaits.sort_unstable();
        function.awaits.dedup();
        // The first call of each target (the calls were recorded in source order).
        function.call_at.sort_by_key(|at| at.target);
        function.call_at.dedup_by_key(|at| at.target);
        function.call_at.shrink_to_fit();
        function.call_lines.sort_by_key(|(target, _)| *target);
        function.call_lines.dedup_by_key(|(target, _)| *target);
        function.call_lines.shrink_to_fit();
    }
    functions.shrink_to_fit();
    let facts = super::class_state::class_facts(&super::receivers::Names { file, module, map });
    FileSummary {
        functions,
        targets: targets.names,
        imports,
        affine_globals: affine_globals(file, registry),
        quiet_functions,
        quiet_globals: super::concurrency::quiet_globals(file, registry),
        constructions: super::concurrency::constructions(file, registry, (module, map)),
        single_task_entry: super::entry::has_single_task_entry(file, registry),
        entry_runs: super::entry::entry_runs(file, registry, module, map),
        wrapped_entries: super::entry::wrapped_entries(file, registry),
        classes: facts.classes,
        instances: facts.instances,
        stateless_classes: facts.stateless,
        named_classes: facts.named,
        conftest_fixtures: super::test_bodies::conftest_fixtures(file, registry.single_task()),
    }
}

/// The file's call targets, each stored once.
#[derive(Default)]
struct Targets {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Targets {
    fn id(&mut self, name: String) -> u32 {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }
}

/// Record one call of a function; the target of a call of a project function made with
/// nothing known of it (no parameter test, no known argument), for the settling.
#[allow(clippy::too_many_arguments)]
fn summarize_call(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    registry: &Registry,
    selection: &RuleSelection,
    (scope, call): (ScopeId, Node),
    function: &mut FunctionSummary,
    targets: &mut Targets,
) -> Option<u32> {
    let line = call.start_position().row as u32 + 1;
    let awaited = call.parent().is_some_and(|p| p.kind_name() == "await");
    // Until an unguarded blocking call is found, a guarded one may be replaced by it.
    if (function.direct.is_none() || function.direct_guard.is_some())
        && !function.is_async
        && let Some((code, qualified)) = blocking_evidence(file, registry, selection, call)
    {
        let (guard, _) = site_facts(file, scope, call);
        let at = call_at(file, u32::MAX, call);
        let evidence = Evidence {
            code,
            call: qualified,
            line,
            column: at.column,
            text: at.text,
        };
        match (&function.direct, guard) {
            (None, guard) => {
                function.direct = Some(evidence);
                function.direct_guard = guard;
            }
            // Guarded by another test, or by none: it blocks unless both are passed; the
            // one guard recorded cannot say so.
            (Some(_), Some(guard)) if function.direct_guard.as_ref() == Some(&guard) => {}
            (Some(_), Some(_)) => function.direct_guard = None,
            (Some(_), None) => {
                function.direct = Some(evidence);
                function.direct_guard = None;
            }
        }
    }
    let callee = call.field(Field::Function)?;
    // A coroutine's calls on what a project function returned to it (in a synchronous
    // function, such an object was made on the same thread: no matter).
    let receiver = || {
        imported_receiver(file, registry, module, map, callee).or_else(|| {
            function
                .is_async
                .then(|| returned_receiver(file, registry, module, map, callee))
                .flatten()
        })
    };
    if !awaited && let Some(target) = receiver() {
        let id = targets.id(target);
        if !function.imported_receivers.iter().any(|(t, _)| *t == id) {
            function.imported_receivers.push((id, line));
            record_call_at(file, function, id, call);
        }
    }
    let target = call_target(file, module, map, callee)?;
    if awaited {
        // Named for the settling: a coroutine's databases are carried to where it is awaited
        // (`project/carried.rs`), and ordered around the checks and acts of the caller
        // (`project/caller_acts.rs`).
        let id = targets.id(target);
        if function.is_async {
            function
                .call_lines
                .push((id, call.start_position().row as u32 + 1));
            if super::state_split::is_checked(file.text, call) {
                function.checked.push(id);
            }
        }
        return None;
    }
    if super::receivers::is_with_item(call) {
        // `with Client() as c:` runs the class's `__enter__` and `__exit__` too.
        for entered in super::receivers::with_targets(&target) {
            let id = targets.id(entered);
            function.calls.push(id);
            record_call_at(file, function, id, call);
        }
    }
    let id = targets.id(target);
    function.calls.push(id);
    record_call_at(file, function, id, call);
    if let Some(statements) = super::side_effects::moved_code(registry, selection)
        .and_then(super::shared_databases::statements_of)
    {
        function.sql_calls.push(SqlCall {
            target: id,
            args: super::shared_databases::sql_arguments(file, statements, call),
        });
    }
    if function.is_async {
        if is_result_discarded(file, call) {
            function.discarded.push(id);
        }
        return None;
    }
    match site_facts(file, scope, call) {
        (None, args) if args.is_empty() => Some(id),
        (guard, args) => {
            function.call_sites.push(GuardedSite {
                target: id,
                guard,
                args,
            });
            None
        }
    }
}

/// Where a synchronous function calls `target` (the hops of a chain through a coroutine
/// start at the finding).
fn record_call_at(file: &FileContext, function: &mut FunctionSummary, target: u32, call: Node) {
    if !function.is_async {
        function.call_at.push(call_at(file, target, call));
    } else {
        function
            .call_lines
            .push((target, call.start_position().row as u32 + 1));
        if super::state_split::is_checked(file.text, call) {
            function.checked.push(target);
        }
    }
}

/// Where `call`, a call of `target`, is, and its text, for the hops of a blocking chain.
fn call_at(file: &FileContext, target: u32, call: Node) -> CallAt {
    let start = call.start_byte();
    let line_start = start - call.start_position().column;
    CallAt {
        target,
        line: call.start_position().row as u32 + 1,
        column: file.text[line_start..start].chars().count() as u32 + 1,
        text: call_text(&file.text[call.byte_range()]),
    }
}

/// The code of the codemod counting as blocking evidence that matches a call named
/// `qualified` wherever it is (for calls the settling names: a method of a thread-affine
/// object imported from another module).
pub fn evidence_code(
    registry: &Registry,
    selection: &RuleSelection,
    qualified: &str,
) -> Option<String> {
    registry.for_call(qualified).iter().find_map(|&i| {
        let codemod = registry.codemod(i);
        let excluded = !registry.is_evidence(i)
            || codemod
                .fix_exceptions
                .get(qualified)
                .is_some_and(|exception| exception.not_evidence)
            || selection.is_ignored(&codemod.code);
        (!excluded).then(|| codemod.code.clone())
    })
}
