//! Rewrite strategies: the Rust that codemod files name in `[fix] strategy`. Each turns a
//! matched site into a [`Fix`]; the data file chooses the strategy and its parameters.

use std::collections::BTreeMap;

use tree_sitter::{Node, Tree};

use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::{BindingKind, Resolution, SemanticIndex};

/// Everything a strategy may look at for one matched call.
pub struct Site<'a> {
    pub text: &'a str,
    pub line_ending: &'a str,
    pub tree: &'a Tree,
    pub index: &'a SemanticIndex,
    pub call: Node<'a>,
    pub callee: Node<'a>,
    /// What the callee resolved to, e.g. `time.sleep`.
    pub qualified: &'a str,
    /// `anyio` or `trio` when the file is written for that library; `None` for asyncio.
    pub library: Option<&'static str>,
}

/// An async library a replacement can target.
const LIBRARIES: &[&str] = &["asyncio", "trio", "anyio"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Call the async equivalent and await it: `time.sleep(x)` → `await asyncio.sleep(x)`.
    /// Files importing anyio (first) or trio get that library's equivalent when one is given.
    AwaitAsyncEquivalent {
        asyncio: String,
        trio: Option<String>,
        anyio: Option<String>,
    },
}

/// A fix before the codemod's title is rendered.
pub struct Proposal {
    pub fix: Fix,
    /// The replacement as written, e.g. `aio.sleep`, for the title.
    pub replacement: String,
}

impl Strategy {
    pub fn compile(name: &str, replacement: &BTreeMap<String, String>) -> Result<Strategy, String> {
        match name {
            "await-async-equivalent" => {
                for (library, target) in replacement {
                    if !LIBRARIES.contains(&library.as_str()) {
                        return Err(format!(
                            "`replacement.{library}`: unknown library (expected one of {})",
                            LIBRARIES.join(", ")
                        ));
                    }
                    let module = target.split('.').next().unwrap_or("");
                    if module != library || !target.contains('.') {
                        return Err(format!(
                            "`replacement.{library} = {target:?}` must be a function of `{library}`"
                        ));
                    }
                }
                let asyncio = replacement.get("asyncio").cloned().ok_or_else(|| {
                    "strategy `await-async-equivalent` needs `replacement.asyncio`".to_owned()
                })?;
                Ok(Strategy::AwaitAsyncEquivalent {
                    asyncio,
                    trio: replacement.get("trio").cloned(),
                    anyio: replacement.get("anyio").cloned(),
                })
            }
            other => Err(format!(
                "unknown strategy `{other}` (known: await-async-equivalent)"
            )),
        }
    }

    /// Build the fix for `site`, or say why there is none.
    pub fn propose(&self, site: &Site, applicability: Applicability) -> Result<Proposal, String> {
        match self {
            Strategy::AwaitAsyncEquivalent {
                asyncio,
                trio,
                anyio,
            } => {
                let target = match (site.library, anyio, trio) {
                    (Some("anyio"), Some(anyio), _) => anyio,
                    (Some("trio"), _, Some(trio)) => trio,
                    (Some(library), _, _) => {
                        return Err(format!("no `{library}` equivalent is known for this call"));
                    }
                    _ => asyncio,
                };
                await_async_equivalent(site, target, applicability)
            }
        }
    }
}

/// How `await` must be written in front of the call at `call`.
enum AwaitShape {
    /// The call is already awaited (`await time.sleep(1)`, a bug in itself).
    AlreadyAwaited,
    /// `await f()` as is.
    Bare,
    /// The call is a receiver or callee: `(await f()).x`, `(await f())[0]`, `(await f())()`.
    Parenthesised,
}

fn await_shape(call: Node) -> AwaitShape {
    let Some(parent) = call.parent() else {
        return AwaitShape::Bare;
    };
    let is_field = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|child| child.id() == call.id())
    };
    match parent.kind() {
        "await" => AwaitShape::AlreadyAwaited,
        "attribute" if is_field("object") => AwaitShape::Parenthesised,
        "subscript" if is_field("value") => AwaitShape::Parenthesised,
        "call" if is_field("function") => AwaitShape::Parenthesised,
        _ => AwaitShape::Bare,
    }
}

/// The local name a callee's import binds (`time` for `time.sleep` after `import time`,
/// `sleep` after `from time import sleep`), which the fix may leave unused.
fn imported_head(site: &Site) -> Option<String> {
    let mut head = site.callee;
    while head.kind() == "attribute" {
        head = head.child_by_field_name("object")?;
    }
    if head.kind() != "identifier" {
        return None;
    }
    let name = &site.text[head.byte_range()];
    match site.index.resolve_name(name, head.start_byte()) {
        Resolution::Binding(id)
            if matches!(site.index.binding(id).kind, BindingKind::Import { .. }) =>
        {
            Some(name.to_owned())
        }
        _ => None,
    }
}

fn first_argument_is_negative_literal(site: &Site) -> bool {
    let Some(arguments) = site.call.child_by_field_name("arguments") else {
        return false;
    };
    arguments.named_child(0).is_some_and(|arg| {
        arg.kind() == "unary_operator"
            && site.text[arg.byte_range()].trim_start().starts_with('-')
            && arg
                .named_child(0)
                .is_some_and(|n| matches!(n.kind(), "integer" | "float"))
    })
}

fn await_async_equivalent(
    site: &Site,
    target: &str,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let (module, function) = target
        .split_once('.')
        .expect("validated when the codemod was compiled");
    let module_ref = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        module,
        site.call.start_byte(),
    )?;
    let replacement = format!("{}.{function}", module_ref.name);
    let mut edits = Vec::new();
    match await_shape(site.call) {
        AwaitShape::AlreadyAwaited => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                replacement.clone(),
            ));
        }
        AwaitShape::Bare => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("await {replacement}"),
            ));
        }
        AwaitShape::Parenthesised => {
            edits.push(Edit::replacement(
                site.callee.byte_range(),
                format!("(await {replacement}"),
            ));
            edits.push(Edit::insertion(site.call.end_byte(), ")"));
        }
    }
    edits.extend(module_ref.import);
    let mut fix = Fix::new(applicability, String::new(), edits);
    if site.index.in_generator_expression(site.call.start_byte()) {
        fix.applicability = Applicability::DisplayOnly;
        fix.caveat = Some(
            "inside a generator expression, `await` would turn it into an async generator; \
             rewrite the loop by hand"
                .to_owned(),
        );
    } else if first_argument_is_negative_literal(site) {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(format!(
            "a negative delay raises `ValueError` in `{}` but returns at once in `{replacement}`",
            site.qualified
        ));
    }
    fix.may_orphan.extend(imported_head(site));
    Ok(Proposal { fix, replacement })
}
