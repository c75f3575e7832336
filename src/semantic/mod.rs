//! The per-file semantic index, built once per file in one walk: scopes with their async
//! context, and every name binding (imports with the qualified names they stand for,
//! definitions, parameters, assignments). Rules never walk scopes themselves; they ask this
//! index "is this offset in async context?" and "what does this expression resolve to?".

mod build;
#[cfg(test)]
mod tests;
mod types;

use crate::parse::KindName;
use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use crate::parse::{Field, FieldChild};
pub use build::build_index;
pub use types::node_at;

/// Index of a scope in [`SemanticIndex::scopes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub u32);

/// Index of a binding in [`SemanticIndex::bindings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BindingId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function {
        is_async: bool,
    },
    Lambda,
    /// List, set and dict comprehensions, and generator expressions (`generator: true`).
    Comprehension {
        generator: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    pub parent: Option<ScopeId>,
    /// The bytes whose code runs in this scope (a function's body, not its defaults).
    pub range: Range<usize>,
    /// The function or class name, if any.
    pub name: Option<String>,
    bindings: HashMap<String, Vec<BindingId>>,
    /// Names declared `global` in this scope.
    globals: Vec<String>,
    /// Names declared `nonlocal` in this scope.
    nonlocals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingKind {
    /// `import a.b` (binds `a` to `a`), `import a.b as c` (binds `c` to `a.b`),
    /// `from a import b as c` (binds `c` to `a.b`); relative modules keep their dots.
    Import {
        qualified: String,
        /// The whole import statement.
        statement: Range<usize>,
        /// The `name` or `name as alias` clause inside the statement.
        clause: Range<usize>,
        /// Under `if TYPE_CHECKING:`: visible to type checkers, absent at runtime.
        type_checking_only: bool,
    },
    Function {
        is_async: bool,
    },
    Class,
    Parameter,
    /// Assignment, loop target, `with ... as`, `except ... as`, walrus, ...
    Assignment,
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub kind: BindingKind,
    pub scope: ScopeId,
    /// Where the name is bound (the identifier, or the import clause).
    pub range: Range<usize>,
    /// The value assigned, for `name = value`, `name: T = value` and `with value as name`.
    pub value: Option<Range<usize>>,
    /// The annotation, for `name: T` parameters and assignments.
    pub annotation: Option<Range<usize>>,
}

/// What a name resolves to at a given place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Binding(BindingId),
    /// No binding in any enclosing scope: a builtin (or an undefined name).
    Builtin,
}

/// The semantic facts of one file.
#[derive(Debug, Clone)]
pub struct SemanticIndex {
    scopes: Vec<Scope>,
    bindings: Vec<Binding>,
    /// Scope ids sorted by (range start, longest first, creation order) for `scope_at`.
    scopes_by_start: Vec<ScopeId>,
    /// The string entries of a module-level `__all__`, if it is defined.
    dunder_all: Option<Vec<String>>,
    /// Values assigned to `self.<attribute>` in a class's methods, by (class scope, attribute).
    attribute_values: HashMap<(ScopeId, String), Vec<Range<usize>>>,
    /// The import bindings, in order: what a fix asks of every finding, without a look at
    /// every binding of the file.
    imports: Vec<BindingId>,
    /// Per scope, its bindings in order.
    by_scope: Vec<Vec<BindingId>>,
}

impl SemanticIndex {
    /// `Repo.save` for a method's scope, `outer.<locals>.inner` for a nested function (as
    /// Python's `__qualname__`); `""` for the module.
    pub fn qualname(&self, mut scope: ScopeId) -> String {
        let mut parts = Vec::new();
        let mut inner = true;
        loop {
            let current = self.scope(scope);
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

    pub fn scope(&self, id: ScopeId) -> &Scope {
        &self.scopes[id.0 as usize]
    }

    pub fn binding(&self, id: BindingId) -> &Binding {
        &self.bindings[id.0 as usize]
    }

    pub fn scopes(&self) -> impl Iterator<Item = (ScopeId, &Scope)> {
        self.scopes
            .iter()
            .enumerate()
            .map(|(i, s)| (ScopeId(i as u32), s))
    }

    pub fn bindings(&self) -> impl Iterator<Item = (BindingId, &Binding)> {
        self.bindings
            .iter()
            .enumerate()
            .map(|(i, b)| (BindingId(i as u32), b))
    }

    /// The import bindings (`BindingKind::Import`), in the order of [`Self::bindings`].
    pub fn import_bindings(&self) -> impl Iterator<Item = (BindingId, &Binding)> {
        self.imports.iter().map(|&id| (id, self.binding(id)))
    }

    /// The bindings made in `scope`, in the order of [`Self::bindings`].
    pub fn bindings_of(&self, scope: ScopeId) -> impl Iterator<Item = (BindingId, &Binding)> {
        self.by_scope
            .get(scope.0 as usize)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&id| (id, self.binding(id)))
    }

    /// The bindings of `name` made in `scope`, in order.
    pub fn bindings_named(&self, scope: ScopeId, name: &str) -> &[BindingId] {
        self.scope(scope)
            .bindings
            .get(name)
            .map_or(&[], Vec::as_slice)
    }

    pub fn module_scope(&self) -> ScopeId {
        ScopeId(0)
    }

    pub fn dunder_all(&self) -> Option<&[String]> {
        self.dunder_all.as_deref()
    }

    /// Every binding of `name` made in `scope` itself, in order.
    pub fn bindings_in_scope(&self, scope: ScopeId, name: &str) -> &[BindingId] {
        self.scope(scope)
            .bindings
            .get(name)
            .map_or(&[], Vec::as_slice)
    }

    /// The last binding of `name` made in `scope` itself.
    pub fn binding_in_scope(&self, scope: ScopeId, name: &str) -> Option<BindingId> {
        self.scope(scope).bindings.get(name)?.last().copied()
    }

    /// The innermost scope whose code contains `offset`.
    /// The values assigned to `self.<attribute>` in the methods of `class`.
    pub fn attribute_values(&self, class: ScopeId, attribute: &str) -> &[Range<usize>] {
        self.attribute_values
            .get(&(class, attribute.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    pub fn scope_at(&self, offset: usize) -> ScopeId {
        let after = self
            .scopes_by_start
            .partition_point(|id| self.scope(*id).range.start <= offset);
        if after == 0 {
            return self.module_scope();
        }
        let mut id = self.scopes_by_start[after - 1];
        loop {
            let scope = self.scope(id);
            if scope.range.start <= offset && offset < scope.range.end.max(scope.range.start + 1) {
                return id;
            }
            match scope.parent {
                Some(parent) => id = parent,
                None => return id,
            }
        }
    }

    /// The function (`def` or `async def`) whose body `offset` runs in, looking through
    /// comprehensions only: `None` at module level, in a class body or in a `lambda`.
    pub fn function_at(&self, offset: usize) -> Option<ScopeId> {
        let mut id = self.scope_at(offset);
        loop {
            let scope = self.scope(id);
            match scope.kind {
                ScopeKind::Comprehension { .. } => id = scope.parent?,
                ScopeKind::Function { .. } => return Some(id),
                _ => return None,
            }
        }
    }

    /// The `async def` whose body `offset` runs in, looking through comprehensions only:
    /// a nested `def`, `lambda` or `class` body is not async context.
    pub fn async_function_at(&self, offset: usize) -> Option<ScopeId> {
        self.function_at(offset)
            .filter(|&id| matches!(self.scope(id).kind, ScopeKind::Function { is_async: true }))
    }

    pub fn is_async_context(&self, offset: usize) -> bool {
        self.async_function_at(offset).is_some()
    }

    /// Whether `offset` is inside a generator expression within its function: an `await`
    /// there would turn the generator into an async generator.
    pub fn in_generator_expression(&self, offset: usize) -> bool {
        let mut id = self.scope_at(offset);
        loop {
            let scope = self.scope(id);
            match scope.kind {
                ScopeKind::Comprehension { generator: true } => return true,
                ScopeKind::Comprehension { generator: false } => match scope.parent {
                    Some(parent) => id = parent,
                    None => return false,
                },
                _ => return false,
            }
        }
    }

    /// Resolve `name` as used at `offset`, with Python's scoping rules: class bodies are not
    /// visible from nested functions, `global`/`nonlocal` redirect, and a name bound anywhere
    /// in a function is local to it. In the scope of the use, the latest binding before the
    /// use wins; from an enclosing scope (code that runs later), the scope's last binding.
    pub fn resolve_name(&self, name: &str, offset: usize) -> Resolution {
        let start = self.scope_at(offset);
        let mut id = start;
        let mut same_scope = true;
        loop {
            let scope = self.scope(id);
            let skip = scope.kind == ScopeKind::Class && !same_scope;
            if !skip {
                if scope.globals.iter().any(|g| g == name) {
                    return self.lookup_late(self.module_scope(), name);
                }
                if !scope.nonlocals.iter().any(|n| n == name)
                    && let Some(ids) = scope.bindings.get(name)
                {
                    if same_scope {
                        let before = ids
                            .iter()
                            .rev()
                            .find(|b| self.binding(**b).range.start < offset);
                        return Resolution::Binding(*before.unwrap_or(&ids[0]));
                    }
                    return Resolution::Binding(*ids.last().expect("non-empty binding list"));
                }
            }
            // Comprehensions are transparent for "same scope" purposes: they run inline.
            if !matches!(scope.kind, ScopeKind::Comprehension { .. }) {
                same_scope = false;
            }
            match scope.parent {
                Some(parent) => id = parent,
                None => return Resolution::Builtin,
            }
        }
    }

    fn lookup_late(&self, scope: ScopeId, name: &str) -> Resolution {
        match self.scope(scope).bindings.get(name) {
            Some(ids) => Resolution::Binding(*ids.last().expect("non-empty binding list")),
            None => Resolution::Builtin,
        }
    }

    /// The qualified name an expression stands for, through the imports in scope:
    /// `t.sleep` with `import time as t` is `time.sleep`; `sleep` with `from time import
    /// sleep` is `time.sleep`; an unbound `open` is `builtins.open`. `None` for anything
    /// else (a local variable, a call result, a subscript, ...).
    pub fn qualified_name(&self, node: Node, source: &str) -> Option<String> {
        match node.kind_name() {
            "identifier" => {
                let name = &source[node.byte_range()];
                match self.resolve_name(name, node.start_byte()) {
                    Resolution::Builtin => Some(format!("builtins.{name}")),
                    Resolution::Binding(id) => match &self.binding(id).kind {
                        BindingKind::Import { qualified, .. } => Some(qualified.clone()),
                        _ => None,
                    },
                }
            }
            "attribute" => {
                let object = node.field(Field::Object)?;
                let attribute = node.field(Field::Attribute)?;
                let base = self.qualified_name(object, source)?;
                let base = base.strip_prefix("builtins.").map_or(base.as_str(), |_| "");
                if base.is_empty() {
                    // `open.x` style chains on builtins are not module paths.
                    return None;
                }
                Some(format!("{base}.{}", &source[attribute.byte_range()]))
            }
            "parenthesized_expression" => {
                let inner = node.named_child(0)?;
                self.qualified_name(inner, source)
            }
            _ => None,
        }
    }

    /// The local name under which `module` (e.g. `asyncio`) is reachable at `offset`, if
    /// some `import module [as alias]` makes it so.
    pub fn module_alias_at(&self, module: &str, offset: usize) -> Option<&str> {
        self.import_bindings().find_map(|(id, binding)| {
            let BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } = &binding.kind
            else {
                return None;
            };
            let reachable = qualified == module
                && self.resolve_name(&binding.name, offset) == Resolution::Binding(id);
            reachable.then_some(binding.name.as_str())
        })
    }

    /// Whether any import in the file brings in `module` or one of its submodules.
    pub fn imports_module(&self, module: &str) -> bool {
        self.import_bindings()
            .any(|(_, binding)| match &binding.kind {
                BindingKind::Import { qualified, .. } => {
                    qualified == module
                        || qualified
                            .strip_prefix(module)
                            .is_some_and(|rest| rest.starts_with('.'))
                }
                _ => false,
            })
    }
}
