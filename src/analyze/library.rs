//! The async library a file is written for (anyio, trio, or asyncio by default), which
//! decides what the fixes call.

use crate::codemod::AsyncLibrary;
use crate::parse::KindName;
use crate::semantic::BindingKind;

use super::FileContext;

/// The async library a file is written for when it says so: it imports anyio or trio, or it
/// is part of one of those packages itself (relative imports only). `None`: asyncio.
pub(super) fn preferred_library(file: &FileContext) -> Option<AsyncLibrary> {
    // anyio's API works on every backend, so an unconditional `import anyio` decides; trio's
    // only on trio, so trio needs a file that does not use asyncio. An optional import (in a
    // `try`, an `if`, a `with suppress(ImportError)`) decides nothing.
    if imports_unconditionally(file, "anyio") {
        return Some(AsyncLibrary::Anyio);
    }
    if imports_unconditionally(file, "trio") && !file.index.imports_module("asyncio") {
        return Some(AsyncLibrary::Trio);
    }
    // The libraries' own code reaches its thread API through internal modules: no fix there.
    let components: Vec<_> = file.path.components().map(|c| c.as_os_str()).collect();
    if components.iter().any(|c| *c == "anyio" || *c == "trio") {
        return Some(AsyncLibrary::OwnInternals);
    }
    None
}

/// Whether `module` is imported by a statement directly at module level (not in a `try`,
/// `if`, `with` or function).
fn imports_unconditionally(file: &FileContext, module: &str) -> bool {
    let root = file.parsed.tree.root_node();
    file.index
        .import_bindings()
        .any(|(_, binding)| match &binding.kind {
            BindingKind::Import {
                qualified,
                statement,
                type_checking_only: false,
                ..
            } => {
                let imports_it = qualified == module
                    || qualified
                        .strip_prefix(module)
                        .is_some_and(|rest| rest.starts_with('.'));
                imports_it
                    && root
                        .descendant_for_byte_range(statement.start, statement.end)
                        .and_then(|n| {
                            let mut n = n;
                            while !matches!(
                                n.kind_name(),
                                "import_statement" | "import_from_statement"
                            ) {
                                n = n.parent()?;
                            }
                            n.parent()
                        })
                        .is_some_and(|p| p.kind_name() == "module")
            }
            _ => false,
        })
}
