//! One file's summary for the project phase, extracted from the tree and index the per-file
//! pass already built: its functions (coroutine? generator? the first call in them that
//! blocks by itself) and the calls they make to project functions, by resolved name. Small
//! owned data only: no syntax tree outlives the per-file pass.

use crate::parse::KindName;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use tree_sitter::Node;

use super::modules::{ModuleInfo, ModuleMap, absolute_name};
use crate::analyze::{FileContext, blocking_evidence, is_result_discarded};
use crate::codemod::Registry;
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind, SemanticIndex};
use crate::settings::RuleSelection;

/// A call that blocks by itself: the rule that says so and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub code: String,
    /// What the call resolved to: `requests.get`.
    pub call: String,
    /// 1-based.
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSummary {
    /// `load_profile`, `Repo.save`, `outer.inner`.
    pub qualname: String,
    pub is_async: bool,
    /// It yields: calling it only makes a generator, which runs nothing yet.
    pub is_generator: bool,
    /// The first call in its body that blocks by itself.
    pub direct: Option<Evidence>,
    /// What the calls in its own body (not in nested functions) may reach, as indexes in
    /// [`FileSummary::targets`] (each name once): absolute dotted names such as
    /// `app.helpers.load_profile`, `app.models.Repo.save` (through `self`). Awaited calls are
    /// left out (awaiting a call of a synchronous function awaits what it returns).
    pub calls: Vec<u32>,
    /// The calls among `calls` whose result may be thrown away (a statement of its own, or
    /// assigned to a local nothing reads): a coroutine called so is never awaited (UNF301).
    pub discarded: Vec<u32>,
}

/// Serialised in the result cache (`cache.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub functions: Vec<FunctionSummary>,
    /// The names the file's calls resolve to, each once.
    pub targets: Vec<String>,
    /// Module-level imports of project names, `(bound name, absolute name)`: what the module
    /// re-exports (`from .helpers import load_profile` in `app/__init__.py`).
    pub imports: Vec<(String, String)>,
}

/// `Repo.save` for a method's scope, `outer.<locals>.inner` for a nested function (as
/// Python's `__qualname__`); `""` for the module.
fn qualname(index: &SemanticIndex, mut scope: ScopeId) -> String {
    let mut parts = Vec::new();
    let mut inner = true;
    loop {
        let current = index.scope(scope);
        if let (ScopeKind::Function { .. } | ScopeKind::Class, Some(name)) =
            (current.kind, &current.name)
        {
            if !inner && matches!(current.kind, ScopeKind::Function { .. }) {
                parts.push("<locals>");
            }
            parts.push(name.as_str());
            inner = false;
        }
        match current.parent {
            Some(parent) => scope = parent,
            None => break,
        }
    }
    parts.reverse();
    parts.join(".")
}

/// The dotted prefix of the names bound in `scope`: `Repo` in a class body,
/// `outer.<locals>` in a function.
fn member_prefix(index: &SemanticIndex, scope: ScopeId) -> String {
    let path = qualname(index, scope);
    if matches!(index.scope(scope).kind, ScopeKind::Function { .. }) {
        format!("{path}.<locals>")
    } else {
        path
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The function whose own body runs the code at `offset` (through comprehensions).
fn owning_function(index: &SemanticIndex, offset: usize) -> Option<ScopeId> {
    let mut id = index.scope_at(offset);
    loop {
        let scope = index.scope(id);
        match scope.kind {
            ScopeKind::Comprehension { .. } => id = scope.parent?,
            ScopeKind::Function { .. } => return Some(id),
            _ => return None,
        }
    }
}

/// The absolute name `callee` stands for, when it can be a project function.
pub(crate) fn call_target(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    callee: Node,
) -> Option<String> {
    let index = file.index;
    let text = file.text;
    let project = |name: String| map.is_project_name(&name).then_some(name);
    let local = |id| -> Option<String> {
        let binding = index.binding(id);
        match &binding.kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } => project(absolute_name(module, qualified)?),
            BindingKind::Function { .. } | BindingKind::Class => Some(join(
                &module.name,
                &join(&member_prefix(index, binding.scope), &binding.name),
            )),
            _ => None,
        }
    };
    // A method of an instance made by calling a class: `Class.method` when the call's callee
    // is a class of the project (a function's result has no methods in the project map).
    let instance_method = |construction: Node, attribute: &str| -> Option<String> {
        let class = construction.field(Field::Function)?;
        let base = match class.kind_name() {
            "identifier" => match index.resolve_name(&text[class.byte_range()], class.start_byte())
            {
                Resolution::Binding(id) => local(id)?,
                Resolution::Builtin => return None,
            },
            _ => project(absolute_name(module, &index.qualified_name(class, text)?)?)?,
        };
        Some(join(&base, attribute))
    };
    match callee.kind_name() {
        "identifier" => {
            let name = &text[callee.byte_range()];
            let Resolution::Binding(id) = index.resolve_name(name, callee.start_byte()) else {
                return None;
            };
            // A class call runs `__init__`, which this phase does not follow.
            (index.binding(id).kind != BindingKind::Class)
                .then(|| local(id))
                .flatten()
        }
        "attribute" => {
            let object = callee.field(Field::Object)?;
            let attribute = &text[callee.field(Field::Attribute)?.byte_range()];
            if object.kind_name() == "identifier" {
                let name = &text[object.byte_range()];
                if matches!(name, "self" | "cls") {
                    // A method of the class around the calling method.
                    let mut scope = index.scope_at(callee.start_byte());
                    while matches!(
                        index.scope(scope).kind,
                        ScopeKind::Comprehension { .. } | ScopeKind::Lambda
                    ) {
                        scope = index.scope(scope).parent?;
                    }
                    let class = index.scope(scope).parent?;
                    if index.scope(class).kind != ScopeKind::Class {
                        return None;
                    }
                    return Some(join(
                        &join(&module.name, &qualname(index, class)),
                        attribute,
                    ));
                }
                let Resolution::Binding(id) = index.resolve_name(name, object.start_byte()) else {
                    return None;
                };
                let binding = index.binding(id);
                if binding.kind == BindingKind::Assignment {
                    // `helper = Invoicer()` then `helper.render(...)`.
                    let value = binding.value.as_ref()?;
                    let value = file
                        .parsed
                        .tree
                        .root_node()
                        .descendant_for_byte_range(value.start, value.end)
                        .filter(|v| v.byte_range() == *value && v.kind_name() == "call")?;
                    return instance_method(value, attribute);
                }
                // `Repo.load(...)` on a class of the file, `helpers.load(...)` on an
                // imported module.
                return local(id).map(|base| join(&base, attribute));
            }
            if object.kind_name() == "call" {
                // `Invoicer().render(...)`.
                return instance_method(object, attribute);
            }
            let qualified = index.qualified_name(callee, text)?;
            project(absolute_name(module, &qualified)?)
        }
        _ => None,
    }
}

/// Summarise one parsed file.
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
    for (id, scope) in index.scopes() {
        if let ScopeKind::Function { is_async } = scope.kind {
            by_scope.insert(id, functions.len());
            functions.push(FunctionSummary {
                qualname: qualname(index, id),
                is_async,
                is_generator: false,
                direct: None,
                calls: Vec::new(),
                discarded: Vec::new(),
            });
        }
    }
    if !functions.is_empty() {
        for node in &file.nodes.yields {
            if let Some(f) =
                owning_function(index, node.start_byte()).and_then(|s| by_scope.get(&s))
            {
                functions[*f].is_generator = true;
            }
        }
        for &node in &file.nodes.calls {
            if let Some(&f) =
                owning_function(index, node.start_byte()).and_then(|s| by_scope.get(&s))
            {
                summarize_call(
                    file,
                    module,
                    map,
                    registry,
                    selection,
                    node,
                    &mut functions[f],
                    &mut targets,
                );
            }
        }
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
    // Only what the project phase can use is kept: a synchronous function that neither blocks
    // nor calls a project function cannot block, like an unknown one; one that blocks by
    // itself needs no calls to settle.
    functions.retain(|f| f.is_async || f.direct.is_some() || !f.calls.is_empty());
    for function in &mut functions {
        if function.direct.is_some() {
            function.calls = Vec::new();
        }
        function.calls.sort_unstable();
        function.calls.dedup();
        function.calls.shrink_to_fit();
        function.discarded.sort_unstable();
        function.discarded.dedup();
        function.discarded.shrink_to_fit();
    }
    functions.shrink_to_fit();
    FileSummary {
        functions,
        targets: targets.names,
        imports,
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

#[allow(clippy::too_many_arguments)]
fn summarize_call(
    file: &FileContext,
    module: &ModuleInfo,
    map: &ModuleMap,
    registry: &Registry,
    selection: &RuleSelection,
    call: Node,
    function: &mut FunctionSummary,
    targets: &mut Targets,
) {
    let line = call.start_position().row as u32 + 1;
    let awaited = call.parent().is_some_and(|p| p.kind_name() == "await");
    if function.direct.is_none()
        && !function.is_async
        && let Some((code, qualified)) = blocking_evidence(file, registry, selection, call)
    {
        function.direct = Some(Evidence {
            code,
            call: qualified,
            line,
        });
    }
    let Some(callee) = call.field(Field::Function) else {
        return;
    };
    if !awaited && let Some(target) = call_target(file, module, map, callee) {
        let id = targets.id(target);
        function.calls.push(id);
        if function.is_async && is_result_discarded(file, call) {
            function.discarded.push(id);
        }
    }
}
