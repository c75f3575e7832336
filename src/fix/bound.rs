//! Whether a name a fix writes is bound when the rewritten line runs. A function that imports
//! a module anywhere in its body (`import asyncio` below the call, or in one branch) makes
//! that name local to the whole function, so a fix that writes `asyncio.to_thread(...)` above
//! the import raises `UnboundLocalError`, whatever the module's own imports are. A binding in
//! a function counts only when its statement precedes the use in a block that contains the
//! use: then it ran on every path that reaches the use.

use tree_sitter::Tree;

use crate::parse::KindName;
use crate::semantic::{BindingId, BindingKind, Resolution, ScopeKind, SemanticIndex};

/// Whether binding `id` is bound on every path that reaches `offset`. Module-level (and class
/// body) bindings count as bound: that code has run before the functions it defines are called.
pub fn bound_at(index: &SemanticIndex, tree: &Tree, id: BindingId, offset: usize) -> bool {
    let binding = index.binding(id);
    if !matches!(index.scope(binding.scope).kind, ScopeKind::Function { .. })
        || binding.kind == BindingKind::Parameter
    {
        return true;
    }
    if binding.range.start >= offset {
        return false;
    }
    let Some(node) = tree
        .root_node()
        .descendant_for_byte_range(binding.range.start, binding.range.end)
    else {
        return false;
    };
    // The statement that binds, as a child of the block it runs in.
    let mut statement = node;
    while let Some(parent) = statement.parent() {
        if parent.kind_name() == "block" {
            break;
        }
        statement = parent;
    }
    let Some(block) = statement.parent() else {
        return false;
    };
    block.kind_name() == "block" && statement.end_byte() <= offset && offset < block.end_byte()
}

/// The local name under which `module` (or a submodule, `anyio.to_thread`) is reachable and
/// bound at `offset`, through some `import module [as alias]`.
pub fn module_alias_bound_at(
    index: &SemanticIndex,
    tree: &Tree,
    module: &str,
    offset: usize,
) -> Option<String> {
    index.import_bindings().find_map(|(id, binding)| {
        let BindingKind::Import {
            qualified,
            type_checking_only: false,
            ..
        } = &binding.kind
        else {
            return None;
        };
        let usable = qualified == module
            && index.resolve_name(&binding.name, offset) == Resolution::Binding(id)
            && bound_at(index, tree, id, offset);
        usable.then(|| binding.name.clone())
    })
}

/// Why `name` cannot be written at `offset`, when the function (or an enclosing one) binds it
/// later or only on some paths; `None` when it is bound there or not local to any function.
pub fn unbound_local_reason(
    index: &SemanticIndex,
    tree: &Tree,
    text: &str,
    name: &str,
    offset: usize,
) -> Option<String> {
    let Resolution::Binding(id) = index.resolve_name(name, offset) else {
        return None;
    };
    if bound_at(index, tree, id, offset) {
        return None;
    }
    let binding = index.binding(id);
    let line = text[..binding.range.start].matches('\n').count() + 1;
    Some(format!(
        "the function binds `{name}` itself (line {line}), which makes it a local name that is \
         not yet bound here on every path, so the fix's `{name}` would raise UnboundLocalError; \
         move that binding to the top of the function or the file"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::semantic::build_index;

    fn bound(text: &str, name: &str, marker: &str) -> bool {
        let parsed = parse(text);
        let index = build_index(&parsed.tree, text);
        let offset = text.find(marker).unwrap();
        match index.resolve_name(name, offset) {
            Resolution::Binding(id) => bound_at(&index, &parsed.tree, id, offset),
            Resolution::Builtin => false,
        }
    }

    #[test]
    fn a_local_import_counts_only_when_it_ran_on_every_path() {
        let later = "async def f():\n    USE()\n    import asyncio\n";
        assert!(!bound(later, "asyncio", "USE"));
        let before = "async def f():\n    import asyncio\n    USE()\n";
        assert!(bound(before, "asyncio", "USE"));
        let branch = "async def f(x):\n    if x:\n        import asyncio\n    USE()\n";
        assert!(!bound(branch, "asyncio", "USE"));
        let same_branch = "async def f(x):\n    if x:\n        import asyncio\n        USE()\n";
        assert!(bound(same_branch, "asyncio", "USE"));
        let in_try =
            "async def f():\n    try:\n        import asyncio\n    except E:\n        USE()\n";
        assert!(!bound(in_try, "asyncio", "USE"));
        let module = "import asyncio\nasync def f():\n    USE()\n";
        assert!(bound(module, "asyncio", "USE"));
        let enclosing = "def outer():\n    async def f():\n        USE()\n    import asyncio\n";
        assert!(!bound(enclosing, "asyncio", "USE"));
        let enclosing_before =
            "def outer():\n    import asyncio\n    async def f():\n        USE()\n";
        assert!(bound(enclosing_before, "asyncio", "USE"));
    }
}
