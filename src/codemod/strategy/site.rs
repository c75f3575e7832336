//! What a strategy sees of one matched call ([`Site`]) and the helpers the strategies share:
//! how `await` fits where the call is, how the file names a module's function (and the import
//! that needs), free local names, a statement's own lines, a call's argument text.

use crate::parse::KindName;

use tree_sitter::{Node, Tree};

use crate::fix::bound::module_alias_bound_at;
use crate::fix::imports::reference_module;
use crate::fix::{Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::{BindingKind, Resolution, ScopeId, SemanticIndex};

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
    /// The async library the file is written for, when it is not asyncio.
    pub library: Option<AsyncLibrary>,
    /// The lowest Python version the project supports, when known (`(3, 8)`).
    pub target_version: Option<(u8, u8)>,
    /// The client requests calls are rewritten to (`httpx` or `httpx2`), and why.
    pub http_client: &'a crate::codemod::HttpTarget,
    /// The qualified names the codemod matches (its `calls`, methods as `X().name`).
    pub codemod_calls: &'a [String],
    /// The call makes a lazy iterator without I/O, iterated on the spot: the fix moves the
    /// iteration with it (`[[match.lazy]] consumed-in-thread`).
    pub consumed_in_thread: bool,
    /// The project's own ways to run a function in a worker thread, in order of preference
    /// (`Registry::offload_idioms`).
    pub offload_idioms: &'a [crate::codemod::OffloadIdiom],
    /// The calls moved code may make with no thread caveat (`Registry::thread_safe`).
    pub thread_safe: &'a crate::codemod::ThreadSafe,
    /// An import's qualified name made absolute (`..utils.run` → `bot.utils.run`), `None` for
    /// a relative one when the file's module is not known.
    pub absolute_import: &'a dyn Fn(&str) -> Option<String>,
    /// What the file's strategies worked out once for all its findings.
    pub memo: &'a crate::codemod::StrategyMemo,
    /// The file's [`line_limit`], found once per file (every fix that may break a line asks).
    pub line_limit: &'a std::cell::OnceCell<usize>,
}

impl<'a> Site<'a> {
    /// The node that spans `scope`'s code (a function's body).
    pub fn scope_node(&self, scope: ScopeId) -> Option<Node<'a>> {
        let range = &self.index.scope(scope).range;
        self.tree
            .root_node()
            .descendant_for_byte_range(range.start, range.end)
    }
}

/// A fix before the codemod's title is rendered.
pub struct Proposal {
    pub fix: Fix,
    /// The replacement as written, e.g. `aio.sleep`, for the title.
    pub replacement: String,
}

/// An async library other than asyncio that a file is written for (`Site::library`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncLibrary {
    Anyio,
    Trio,
    /// The file is inside anyio's or trio's own package: their internal APIs are the fix.
    OwnInternals,
}

impl AsyncLibrary {
    /// The module a fix imports its functions from; `None` inside the libraries' own code.
    pub fn module(self) -> Option<&'static str> {
        match self {
            AsyncLibrary::Anyio => Some("anyio"),
            AsyncLibrary::Trio => Some("trio"),
            AsyncLibrary::OwnInternals => None,
        }
    }
}

/// How `await` must be written in front of the call at `call`.
pub(crate) enum AwaitShape {
    /// The call is already awaited (`await time.sleep(1)`, a bug in itself).
    AlreadyAwaited,
    /// `await f()` as is.
    Bare,
    /// The call is a receiver or callee: `(await f()).x`, `(await f())[0]`, `(await f())()`.
    Parenthesised,
}

pub(crate) fn await_shape(call: Node) -> AwaitShape {
    let Some(parent) = call.parent() else {
        return AwaitShape::Bare;
    };
    let is_field = |field: Field| {
        parent
            .field(field)
            .is_some_and(|child| child.id() == call.id())
    };
    match parent.kind_name() {
        "await" => AwaitShape::AlreadyAwaited,
        "attribute" if is_field(Field::Object) => AwaitShape::Parenthesised,
        "subscript" if is_field(Field::Value) => AwaitShape::Parenthesised,
        "call" if is_field(Field::Function) => AwaitShape::Parenthesised,
        _ => AwaitShape::Bare,
    }
}

/// How the fix names `module.function` and the import it needs: through the module as the
/// callee names it (`aio.sleep` for `aio.get_event_loop`), else as [`name_at`] the call.
pub(super) fn target_function(
    site: &Site,
    module: &str,
    function: &str,
) -> Result<(String, Vec<Edit>), String> {
    match callee_module_alias(site, module) {
        Some(alias) => Ok((format!("{alias}.{function}"), Vec::new())),
        None => name_at(site, module, function, site.call.start_byte()),
    }
}

/// How the file at `offset` names `module.path` (`anyio` and `to_thread.run_sync`), and the
/// import that needs: by a name it imports already ([`imported_as`]), else through the
/// module, imported if needed.
pub(super) fn name_at(
    site: &Site,
    module: &str,
    path: &str,
    offset: usize,
) -> Result<(String, Vec<Edit>), String> {
    if let Some(name) = imported_as(site, &format!("{module}.{path}"), offset) {
        return Ok((name, Vec::new()));
    }
    let reference = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        module,
        offset,
    )?;
    Ok((format!("{}.{path}", reference.name), reference.import))
}

/// `aio` when the callee is `aio.something` and `aio` is `module` imported under that name.
fn callee_module_alias(site: &Site, module: &str) -> Option<String> {
    let object = site.callee.field(Field::Object)?;
    if object.kind_name() != "identifier" {
        return None;
    }
    let name = &site.text[object.byte_range()];
    match site.index.resolve_name(name, object.start_byte()) {
        Resolution::Binding(id) => match &site.index.binding(id).kind {
            BindingKind::Import {
                qualified,
                type_checking_only: false,
                ..
            } if qualified == module => Some(name.to_owned()),
            _ => None,
        },
        Resolution::Builtin => None,
    }
}

/// The local name a callee's import binds (`time` for `time.sleep` after `import time`,
/// `sleep` after `from time import sleep`), which the fix may leave unused.
pub(crate) fn imported_head(site: &Site) -> Option<String> {
    let mut head = site.callee;
    while head.kind_name() == "attribute" {
        head = head.field(Field::Object)?;
    }
    if head.kind_name() != "identifier" {
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

/// A local name that nothing in scope uses yet: `base`, `base_1`, ...
pub(crate) fn free_name(site: &Site, base: &str) -> String {
    let offset = site.call.start_byte();
    numbered_names(base)
        // Unbound in every enclosing scope: the new local shadows nothing.
        .find(|name| site.index.resolve_name(name, offset) == Resolution::Builtin)
        .expect("some name is free")
}

/// `base`, `base_1`, `base_2`, ...: candidates for a new name.
pub(crate) fn numbered_names(base: &str) -> impl Iterator<Item = String> + '_ {
    (0..).map(move |i| {
        if i == 0 {
            base.to_owned()
        } else {
            format!("{base}_{i}")
        }
    })
}

/// The indentation of `statement` and the end of its last line (before a trailing comment's
/// line ending), when the statement has its lines to itself.
pub(crate) fn own_lines<'t>(site: &Site<'t>, statement: Node) -> Result<(&'t str, usize), String> {
    let line_start = crate::source::line_start_at(site.text, statement.start_byte());
    let indent = &site.text[line_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return Err("the statement shares its line with other code".to_owned());
    }
    let rest = &site.text[statement.end_byte()..];
    let line_end = statement.end_byte() + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let after = &site.text[statement.end_byte()..line_end];
    if !(after.trim().is_empty() || after.trim_start().starts_with('#')) {
        return Err("the statement shares its line with other code".to_owned());
    }
    Ok((indent, line_end))
}

/// The text between a call's parentheses, and whether it passes keyword arguments.
pub(super) fn call_arguments<'t>(site: &Site<'t>) -> Option<(String, bool)> {
    let arguments = site.call.field(Field::Arguments)?;
    if arguments.kind_name() == "generator_expression" {
        // `f(x for x in y)`: the generator needs its own parentheses once it is not alone.
        return Some((site.text[arguments.byte_range()].to_owned(), false));
    }
    let inner = &site.text[arguments.start_byte() + 1..arguments.end_byte() - 1];
    let mut cursor = arguments.walk();
    let has_keywords = arguments
        .named_children(&mut cursor)
        .any(|a| matches!(a.kind_name(), "keyword_argument" | "dictionary_splat"));
    Some((inner.to_owned(), has_keywords))
}

/// The call's argument text (`arguments`, as [`call_arguments`] gives it) with the
/// continuation lines that were aligned under it (`f(a,\n  b)`: `b` under `a`) moved by as
/// many columns as the arguments moved in `rewritten`, the call's new text; `None` when
/// nothing needs to move (one line, arguments on their own lines, a hanging indent, tabs).
/// Lines inside a multi-line string are never touched.
pub(crate) fn realigned_arguments(site: &Site, rewritten: &str, arguments: &str) -> Option<String> {
    let node = site.call.field(Field::Arguments)?;
    if node.kind_name() != "argument_list"
        || !arguments.contains('\n')
        || arguments.starts_with(['\n', '\r'])
    {
        return None;
    }
    let inner = node.start_byte() + 1;
    let columns = |text: &str| text.chars().count();
    let old_column = columns(&site.text[crate::source::line_start_at(site.text, inner)..inner]);
    let old_at = columns(&site.text[site.call.start_byte()..inner]);
    let new_at = columns(&rewritten[..rewritten.rfind(arguments)?]);
    let shift = new_at.checked_sub(old_at).filter(|s| *s > 0)?;
    let mut strings = Vec::new();
    let mut stack = vec![node];
    let mut cursor = node.walk();
    while let Some(n) = stack.pop() {
        if n.kind_name() == "string" {
            strings.push(n.byte_range());
        } else {
            stack.extend(n.named_children(&mut cursor));
        }
    }
    let pad = " ".repeat(shift);
    let mut out = String::with_capacity(arguments.len() + pad.len() * 4);
    let mut moved = false;
    for (i, line) in arguments.split_inclusive('\n').enumerate() {
        let start = inner
            + arguments
                .split_inclusive('\n')
                .take(i)
                .map(str::len)
                .sum::<usize>();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let aligned = i > 0
            && indent >= old_column
            && !line.trim().is_empty()
            && !line[indent..].starts_with('\t')
            && !strings.iter().any(|r| r.start < start && start < r.end);
        if aligned {
            out.push_str(&pad);
            moved = true;
        }
        out.push_str(line);
    }
    moved.then_some(out)
}

/// The longest line a fix writes where the rewrite makes a line longer: the file's own
/// longest line, between 88 (ruff's and black's default) and 120 characters.
pub(crate) fn line_limit(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(88, 120)
}

/// `expression`, a call of `runner` replacing the one-line call `site.call`, broken after the
/// runner's parenthesis when the rewritten line (`rewritten` in place of the call) would be
/// over the file's [`line_limit`] and the original line was not:
/// `await asyncio.to_thread(\n    f, a, k=v\n)`. `None` when no break is needed, or one
/// break is not enough, or the call is not the whole statement or its value.
pub(crate) fn broken_call(
    site: &Site,
    rewritten: &str,
    expression: &str,
    runner: &str,
) -> Option<String> {
    let text = site.text;
    let start = crate::source::line_start_at(text, site.call.start_byte());
    let rest = &text[site.call.end_byte()..];
    let end = site.call.end_byte() + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let original = &text[start..end];
    if original.contains('\n') || rewritten.contains('\n') || !whole_value(site.call) {
        return None;
    }
    let limit = *site.line_limit.get_or_init(|| line_limit(text));
    let columns = |s: &str| s.chars().count();
    let before = &text[start..site.call.start_byte()];
    // A trailing comment is no reason to break the code.
    let after = Some(&text[site.call.end_byte()..end])
        .filter(|a| !a.trim_start().starts_with('#'))
        .unwrap_or("");
    let code = columns(before) + columns(&text[site.call.byte_range()]) + columns(after);
    if code > limit || columns(before) + columns(rewritten) + columns(after) <= limit {
        return None;
    }
    let inner = expression
        .strip_prefix(runner)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let indent = &before[..before.len() - before.trim_start_matches([' ', '\t']).len()];
    let inner_indent = format!("{indent}{}", crate::source::detect_indent(text));
    if columns(&inner_indent) + columns(inner) > limit {
        return None;
    }
    let le = site.line_ending;
    Some(format!("{runner}({le}{inner_indent}{inner}{le}{indent})"))
}

/// Whether `call` is the whole of a simple statement or of its value (`f(x)`, `y = f(x)`,
/// `return f(x)`): a break inside it reads like the project's own code (not inside a
/// comprehension, an operand or a string's interpolation).
fn whole_value(call: Node) -> bool {
    let Some(parent) = call.parent() else {
        return false;
    };
    let statement = match parent.kind_name() {
        "expression_statement" | "return_statement" => parent,
        "assignment" | "augmented_assignment"
            if parent
                .field(Field::Right)
                .is_some_and(|r| r.id() == call.id()) =>
        {
            match parent.parent() {
                Some(p) if p.kind_name() == "expression_statement" => p,
                _ => return false,
            }
        }
        _ => return false,
    };
    statement
        .parent()
        .is_some_and(|b| matches!(b.kind_name(), "block" | "module"))
}

/// An edit breaking the one-line call `site.call`'s arguments onto a line of their own
/// (`f(\n    a, b\n)`) when a fix adds `added` columns in front of it on its line and that
/// takes a line that was within the file's [`line_limit`] over it; `None` otherwise, or when
/// one break is not enough, or the call is not the whole statement or its value.
pub(crate) fn broken_arguments(site: &Site, added: usize) -> Option<Edit> {
    let text = site.text;
    let arguments = site
        .call
        .field(Field::Arguments)
        .filter(|a| a.kind_name() == "argument_list" && a.named_child_count() > 0)?;
    let start = crate::source::line_start_at(text, site.call.start_byte());
    let rest = &text[site.call.end_byte()..];
    let end = site.call.end_byte() + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let original = &text[start..end];
    let limit = *site.line_limit.get_or_init(|| line_limit(text));
    // A trailing comment is no reason to break the code.
    let after = &text[site.call.end_byte()..end];
    let comment = if after.trim_start().starts_with('#') {
        after.chars().count()
    } else {
        0
    };
    let columns = original.chars().count() - comment;
    if original.contains('\n')
        || !whole_value(site.call)
        || columns > limit
        || columns + added <= limit
    {
        return None;
    }
    let inner = text[arguments.start_byte() + 1..arguments.end_byte() - 1].trim();
    let line = &text[start..];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let inner_indent = format!("{indent}{}", crate::source::detect_indent(text));
    if inner_indent.chars().count() + inner.chars().count() > limit {
        return None;
    }
    let le = site.line_ending;
    Some(Edit::replacement(
        arguments.byte_range(),
        format!("({le}{inner_indent}{inner}{le}{indent})"),
    ))
}

/// Why a strategy has no fix in a file written for `library`.
pub(super) fn library_error(library: AsyncLibrary) -> String {
    match library.module() {
        None => {
            "inside anyio's or trio's own package, their internal APIs are the right fix".to_owned()
        }
        Some(module) => format!("no `{module}` equivalent is known for this call"),
    }
}

/// How the file at `offset` names `qualified` (a module's attribute, `anyio.to_thread.run_sync`)
/// through an import of it or of a module it is in other than the top one:
/// `from anyio.to_thread import run_sync` gives `run_sync`, `from anyio import to_thread`
/// gives `to_thread.run_sync`. The top module is left to `reference_module`.
fn imported_as(site: &Site, qualified: &str, offset: usize) -> Option<String> {
    let mut prefix = qualified;
    let mut rest = String::new();
    while let Some((parent, last)) = prefix.rsplit_once('.') {
        if let Some(name) = module_alias_bound_at(site.index, site.tree, prefix, offset) {
            return Some(format!("{name}{rest}"));
        }
        rest = format!(".{last}{rest}");
        prefix = parent;
    }
    None
}
