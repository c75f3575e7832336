//! The pre-filter: whether a file needs the full analysis (parse, semantic index, codemod
//! matching) or cannot have a finding and is skipped. Parsing dominates the run time, and most
//! files of a real project, even an async one, call nothing a codemod matches in async
//! context: a cheap scan of the text decides, and only the files it lets through are parsed.
//!
//! The scan is conservative: it answers "skip" only when no call in the file can be a finding,
//! and "analyse" whenever it is unsure (a string left open, an unbalanced bracket, a stray
//! backslash). It works in two steps:
//!
//! 1. the matched calls of the rules the run reports whose words all occur in the text (an
//!    import spells the module, the call or the import the function), and whether `async`
//!    occurs at all;
//! 2. a tokenizer-level scan ([`LexicalFacts`]) outside comments and plain strings (f-string
//!    expressions are code): which names are called (`name(` / `.name(`), which of those calls
//!    are inside an `async def` (by indentation, with the parser's rule for tabs; a nested
//!    `def` counts as inside, which only lets more through), what names are bound to (the
//!    dotted names the semantic index follows: `import a.b as name`, `name = a.b`,
//!    `name: T = a.b`, `with a.b as name`), which names a `from ... import` binds, and which
//!    calls of a name or `self.name` / `cls.name` start a statement or an assignment's value
//!    (where a coroutine's result can be discarded).
//!
//! A call is a finding only if the name before its `(` is the matched call's last segment (an
//! attribute call on the module or a name bound to it, a builtin, a function `from m import`ed
//! by name) or a name bound to it (an alias, through up to eight assignments); a call of the
//! file's own coroutine only if an `async def` defines the name. A method (`requests.Session()
//! .get`) counts on a longer chain (`self.session.get`), or on a name the semantic index may
//! know the kind of (assigned at a statement start, annotated, or bound by `as`; not a bare
//! parameter or a loop variable), and then only if a binding the call's scope sees may give
//! it the method's class (`LexicalFacts::may_hold_object`). Where a call's result may
//! be thrown away is read as `is_result_discarded` decides it: a statement, a one-line body,
//! a local never used again.
//!
//! With [`LexicalFacts::scan_functions`], the same scan also records each function and the
//! calls in it, for the project phase's lexical pass (`project/lexical.rs`), which decides
//! from them which files the project rules need parsed.

use std::ops::Range;

use foldhash::{HashMap, HashSet};

use crate::codemod::{CallWords, Registry};
use crate::settings::RuleSelection;

/// Whether `text` can have a finding of some codemod in `registry` and so needs the full
/// analysis. `false` means no call in it can be a finding: the file is skipped.
pub fn needs_analysis(text: &str, registry: &Registry, selection: &RuleSelection) -> bool {
    if !may_need_analysis(text, registry, selection) {
        return false;
    }
    // The scan could not follow the file (e.g. a syntax error): analyse it.
    LexicalFacts::scan(text, registry.interesting_words())
        .is_none_or(|facts| facts.needs_analysis(registry, selection))
}

/// The first, substring step of [`needs_analysis`]: a finding in async context needs an
/// `async def` (so does a coroutine of the file), a finding anywhere its call's name. `false`
/// decides most files without a scan.
pub fn may_need_analysis(text: &str, registry: &Registry, selection: &RuleSelection) -> bool {
    text.contains("async")
        || registry
            .calls_with_words(|_| true)
            .filter(|call| !call.async_only && is_enabled(call, registry, selection))
            .any(|call| text.contains(call.tail.as_str()))
}

fn is_enabled(call: &CallWords, registry: &Registry, selection: &RuleSelection) -> bool {
    let codemod = registry.codemod(call.codemod);
    selection.is_enabled(&codemod.code, codemod.default_enabled)
}

impl LexicalFacts<'_> {
    /// The second step of [`needs_analysis`], on the scan of a file that passed the first.
    pub fn needs_analysis(&self, registry: &Registry, selection: &RuleSelection) -> bool {
        let call_may_match = registry
            .calls_with_words(|word| self.code_words.contains(word))
            .filter(|call| is_enabled(call, registry, selection))
            .any(|call| self.may_call(call));
        if call_may_match {
            return true;
        }
        self.code_words.contains("async")
            && registry.coroutine_codemods().iter().any(|&i| {
                let codemod = registry.codemod(i);
                selection.is_enabled(&codemod.code, codemod.default_enabled)
                    && self.own_calls.iter().any(|call| {
                        self.async_defs.contains(call.name)
                            && (call.in_async || !codemod.async_only)
                            && (call.may_be_discarded || !codemod.result_discarded)
                    })
            })
    }
}

/// How many assignments deep a name bound to another is followed (`nap = sleep`).
const MAX_ALIAS_DEPTH: usize = 8;

impl<'t> LexicalFacts<'t> {
    /// Whether the code (outside comments and plain strings) has `word`, one of the words
    /// some call of the registry needs ([`Registry::interesting_words`]).
    pub fn code_has_word(&self, word: &str) -> bool {
        self.code_words.contains(word)
    }

    /// Whether some call in the file may resolve to `call`, in the context it is matched in.
    fn may_call(&self, call: &CallWords) -> bool {
        let names = if call.async_only {
            &self.async_called_names
        } else {
            &self.called_names
        };
        let tail = call.tail.as_str();
        let attribute_call = self.attribute_calls.get(tail).is_some_and(|calls| {
            calls.iter().any(|attribute| {
                (attribute.in_async || !call.async_only)
                    && (attribute.may_be_discarded || !call.result_discarded)
                    && match (&call.module, attribute.receiver) {
                        // A module's function: called on the module's name, on the alias an
                        // import gave it, or on a name bound to it.
                        (Some(module), Some(receiver)) => self.may_be_module(receiver, module),
                        (Some(_), None) => false,
                        // A method: called on an object the semantic index may know the kind
                        // of; a builtin only on `builtins`.
                        (None, receiver) => match (receiver, attribute.chain) {
                            (Some(receiver), _) if attribute.simple => {
                                self.may_hold_object(receiver, attribute.scope, call)
                            }
                            (_, ChainReceiver::Unknown) => false,
                            (_, ChainReceiver::OwnAttribute(name)) => {
                                call.is_method && self.own_attributes.contains(name)
                            }
                            (_, ChainReceiver::Other) => call.is_method,
                        },
                    }
            })
        });
        // A plain name: a builtin's own name, a module's function imported by name from its
        // module (`from time import sleep`, not `from dataclasses import replace` for
        // `os.replace`), or a star import; never a method.
        let plain_call = names.contains(tail)
            && match &call.module {
                Some(module) => self.star_import || self.imports_from(tail, module),
                None => !call.is_method,
            };
        // Or a name bound to the call: `nap = time.sleep`, `from time import sleep as nap`.
        let reached = if call.async_only {
            &self.async_aliases_reach
        } else {
            &self.aliases_reach
        };
        let alias_call = reached
            .as_ref()
            .is_none_or(|reached| reached.contains(tail));
        plain_call || attribute_call || alias_call
    }

    /// Whether `call` (one of [`Self::function_calls`]) may be a call of `words`, in any
    /// context (the project phase's evidence that a synchronous function blocks).
    pub fn may_be_call_of(&self, call: &LexicalCall, words: &CallWords) -> bool {
        let tail = words.tail.as_str();
        if !words
            .words
            .iter()
            .all(|word| word == "async" || self.code_words.contains(word.as_str()))
        {
            return false;
        }
        match call.receiver {
            LexicalReceiver::Plain => {
                (call.name == tail
                    && match &words.module {
                        Some(_) => self.star_import || self.from_imported.contains(tail),
                        None => !words.is_method,
                    })
                    || self.may_stand_for(call.name, tail)
            }
            _ if call.name != tail => false,
            LexicalReceiver::Name(receiver) => match &words.module {
                Some(module) => self.may_be_module(receiver, module),
                None => self.may_hold_object(receiver, call.scope, words),
            },
            LexicalReceiver::Expression {
                before: Some(receiver),
                ..
            } => match &words.module {
                Some(module) => self.may_be_module(receiver, module),
                None => words.is_method,
            },
            LexicalReceiver::Expression { before: None, .. } => words.is_method,
        }
    }

    /// Whether `receiver.f(...)`, made in `scope`, may be a call of `words` with `module`
    /// `None`: a builtin called on `builtins`, or a method of an object the semantic index may
    /// know the kind of (a name assigned, annotated, or bound by `with ... as`; not a bare
    /// parameter, a loop variable, `self`). Only the bindings the call's scope sees count (its
    /// own, its enclosing scopes', the module's), and a binding's words must name the method's
    /// class or module (`s = requests.Session()`, `c: httpx.Client`), or may stand for another
    /// object or class (a typed or bound name, an import alias, `self`).
    fn may_hold_object(&self, receiver: &str, scope: u32, words: &CallWords) -> bool {
        if !words.is_method {
            return words.is_builtin && receiver == "builtins";
        }
        if matches!(receiver, "self" | "cls") {
            return false;
        }
        let Some(bindings) = self.typed.get(receiver) else {
            return false;
        };
        bindings
            .iter()
            .filter(|(bound_in, _)| self.sees_binding(receiver, scope, *bound_in))
            .any(|(_, kind)| match kind {
                None => true,
                Some(kind) => {
                    // The value's first name may hold the object itself (`t = s`,
                    // `s = self.session`); any name may be an alias of the class.
                    kind.first().is_some_and(|&first| {
                        matches!(first, "self" | "cls") || self.typed.contains_key(first)
                    }) || kind.iter().any(|&word| {
                        words.words.iter().any(|w| w == word)
                            || self.is_bound(word)
                            || self.import_aliases.contains(word)
                    })
                }
            })
    }

    /// Whether code in scope `scope` sees a binding of `name` made in scope `bound_in`: that
    /// scope or one enclosing it, or anywhere for a `global` or `nonlocal` name.
    pub fn sees_binding(&self, name: &str, scope: u32, bound_in: u32) -> bool {
        self.unscoped.contains(name) || self.sees(scope, bound_in)
    }

    /// Whether code in scope `scope` sees the bindings of scope `bound_in`: it is that scope
    /// or encloses it.
    fn sees(&self, mut scope: u32, bound_in: u32) -> bool {
        loop {
            if scope == bound_in {
                return true;
            }
            if scope == MODULE_SCOPE {
                return false;
            }
            scope = self
                .scope_parents
                .get(scope as usize)
                .copied()
                .unwrap_or(MODULE_SCOPE);
        }
    }

    /// Whether `receiver` may be `module`: its name, the alias an import gave it, or a name
    /// bound to it.
    fn may_be_module(&self, receiver: &str, module: &str) -> bool {
        receiver == module
            || self.import_aliases.contains(receiver)
            || self.may_stand_for(receiver, module)
    }

    /// Whether `from ... import name` binds `name` from a module whose last segment is
    /// `module` (`from os.path import exists` for `path`).
    fn imports_from(&self, name: &str, module: &str) -> bool {
        self.imports.get(name).is_some_and(|imports| {
            imports.iter().any(|imported| match imported {
                Imported::Name {
                    module: written,
                    name: original,
                } => *original == name && written.rsplit('.').next().map(str::trim) == Some(module),
                Imported::Module(_) => false,
            })
        })
    }

    /// Whether `name` is bound by an import (any form).
    pub fn is_imported(&self, name: &str) -> bool {
        self.from_imported.contains(name)
            || self.module_imported.contains(name)
            || self.import_aliases.contains(name)
    }

    /// Whether an import alias, an assignment or a `with` binds `name` to a dotted name.
    pub fn is_bound(&self, name: &str) -> bool {
        self.bindings.contains_key(name)
    }

    /// What an import alias stands for (`sleep` for `nap` after `from time import sleep as
    /// nap`); nothing for another name.
    pub fn import_originals(&self, name: &str) -> impl Iterator<Item = &'t str> + '_ {
        self.import_aliases
            .contains(name)
            .then(|| self.bindings.get(name))
            .flatten()
            .into_iter()
            .flatten()
            .copied()
    }

    /// The names an import binds with `as`, with what they stand for: `(alias, original)`.
    pub fn import_alias_pairs(&self) -> impl Iterator<Item = (&'t str, &'t str)> + '_ {
        self.import_aliases.iter().flat_map(|&alias| {
            self.bindings
                .get(alias)
                .into_iter()
                .flatten()
                .map(move |&original| (alias, original))
        })
    }

    /// What the called names may stand for: the last segments of the dotted names each is
    /// bound to, through assignments and import aliases (a chain longer than
    /// [`MAX_ALIAS_DEPTH`] may stand for anything: `None`).
    fn reached_by_aliases(&self, names: &HashSet<&'t str>) -> Option<HashSet<&'t str>> {
        let mut reached: HashSet<&str> = HashSet::default();
        let mut current: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| self.bindings.contains_key(name))
            .collect();
        for _ in 0..MAX_ALIAS_DEPTH {
            let mut next = Vec::new();
            for name in current {
                for &value in self.bindings.get(name).into_iter().flatten() {
                    if reached.insert(value) {
                        next.push(value);
                    }
                }
            }
            if next.is_empty() {
                return Some(reached);
            }
            current = next;
        }
        None
    }

    /// Whether `name` may be bound, through assignments and import aliases, to something whose
    /// last segment is `target`.
    fn may_stand_for(&self, name: &'t str, target: &str) -> bool {
        let names = HashSet::from_iter([name]);
        self.reached_by_aliases(&names)
            .is_none_or(|reached| reached.contains(target))
    }
}

/// A function definition, as the scan sees it (with [`LexicalFacts::scan_functions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexicalFunction<'t> {
    pub name: &'t str,
    pub is_async: bool,
    /// The classes it is a method of, outermost first (empty for a module's function);
    /// `None` for a function nested in another one (only its own file can call it).
    pub classes: Option<Vec<&'t str>>,
    /// The outermost function it is in (itself if it is in none), by index: whose body, if
    /// left out of a parse ([`LexicalFacts::bodies`]), takes this function's with it.
    pub outermost: u32,
}

/// The body of a function in no other function (a module's function or a method), as the
/// scan sees it: what a parse may leave out when nothing in it matters (`run.rs`, masked
/// parsing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionBody {
    /// The function, by index in [`LexicalFacts::functions`].
    pub function: u32,
    /// From its first statement to the start of the next line outside it (blank and
    /// comment lines after it included), or the end of the text.
    pub range: std::ops::Range<usize>,
    /// Something in it matters beyond its own calls, so it is always parsed: a `yield` (the
    /// function is a generator), a `global` or `nonlocal` statement (it binds names of the
    /// module), an assignment to an attribute (`self.client = ...` gives the attribute a kind
    /// other methods see), or a suppression comment (`noqa`, `unfreeze:`).
    pub pinned: bool,
}

/// What opened a scope of the scan (with [`LexicalFacts::scan_functions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeOwner<'t> {
    Function(u32),
    Class(&'t str),
    Unknown,
}

/// What a call in a function is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexicalReceiver<'t> {
    /// `name(...)`.
    Plain,
    /// `receiver.name(...)`.
    Name(&'t str),
    /// A longer chain or a call's result: `a.b.name(...)`, `f(...).name(...)`, `x[0].name()`.
    Expression {
        /// The name just before the `.` (`b`), or before a `)` there.
        before: Option<&'t str>,
        /// The first name of the chain: `a` in `a.b.name(`, `Repo` in `Repo(x).name(`; `None`
        /// for a chain on a literal or a subscript.
        root: Option<&'t str>,
    },
}

/// What a name an import binds stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported<'t> {
    /// A module: `import a.b as name` (`a.b`), `import a.b` (`a`).
    Module(&'t str),
    /// A name in a module: `from module import name [as ...]`, the module as written
    /// (`.helpers`, possibly with spaces).
    Name { module: &'t str, name: &'t str },
}

/// A call in a function's body or header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexicalCall<'t> {
    /// The index of the function in [`LexicalFacts::functions`].
    pub function: u32,
    /// The name before `(`.
    pub name: &'t str,
    pub receiver: LexicalReceiver<'t>,
    /// Right after `await` (only seen for a name or `receiver.name`).
    pub awaited: bool,
    /// It may start a statement or an assignment's value.
    pub may_be_discarded: bool,
    /// The scope it is in ([`LexicalFacts::scope_parents`]).
    pub scope: u32,
    /// For `name = f(...)`: the watch on `name` ([`Watch::discards`] settles
    /// `may_be_discarded` at the end of the scan).
    watch: Option<usize>,
}

/// A local assigned a call's result, and how often its name occurs after, in its function.
#[derive(Debug, Clone, Copy)]
struct Watch<'t> {
    name: &'t str,
    /// The scope (`Scanner::scope_serials`) the assignment is in.
    serial: u32,
    /// That scope is a function's (a module's or a class's local is never discarded).
    in_function: bool,
    uses: u32,
}

impl Watch<'_> {
    /// The call assigned to the local is thrown away: the local, in a function, is never
    /// used again.
    fn discards(&self) -> bool {
        self.in_function && self.uses == 0
    }
}

/// A call of an attribute, `receiver.name(...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AttributeCall<'t> {
    /// The receiver when it is a name, or a name just before a `)` (`(os.path).exists`).
    receiver: Option<&'t str>,
    /// The receiver is a plain name (`name.call(...)`, not `a.name.call(...)`).
    simple: bool,
    /// What kind of object a longer chain's receiver may be known as (the semantic index's
    /// object kinds).
    chain: ChainReceiver<'t>,
    /// For `name = receiver.f(...)`: the watch on `name` ([`Scanner::watches`]); the result
    /// is discarded only if `name` is never used again in the function.
    watch: Option<usize>,
    in_async: bool,
    /// The scope the call is in ([`LexicalFacts::scope_parents`]).
    scope: u32,
    /// It may start a statement or an assignment's value (`asyncio.create_task(...)` alone):
    /// its result may be discarded. Longer chains are assumed to.
    may_be_discarded: bool,
}

/// The receiver of a method called on a longer chain, as far as the semantic index can know
/// its object's kind: only through an attribute of `self` or `cls` (what the class's methods
/// assign to it), `.parent` (a path's parent is a path), or what a call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChainReceiver<'t> {
    /// `self.name` or `cls.name`.
    OwnAttribute(&'t str),
    /// An attribute of anything else, other than `parent` (`a.b.get()`, `self.a.b.get()`):
    /// no kind.
    Unknown,
    /// A call's result, a subscript, a `.parent`, or a plain name (see `simple`).
    Other,
}

/// One binding of a name whose object's kind the semantic index may know: the scope it is
/// made in, and the words of its value or annotation (`None`: not known).
type TypedBinding<'t> = (u32, Option<Vec<&'t str>>);

/// The scope serial of a module's top level.
const MODULE_SCOPE: u32 = u32::MAX;

/// Hard keywords: never a callee (`if (...)`, `else (...)`). `print`, `exec`, `async` and
/// `await` are left out, as tree-sitter-python can read them as names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// A call of a plain name or of `self.name` / `cls.name` (a call of the file's own function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OwnCall<'t> {
    name: &'t str,
    in_async: bool,
    /// It starts a statement or an assignment's value: its result may be discarded.
    may_be_discarded: bool,
    /// For `name = f(...)`: the watch on `name`, as for [`AttributeCall::watch`].
    watch: Option<usize>,
}

/// What the scan sees of a call's result.
#[derive(Debug, Clone, Copy)]
struct CallResult {
    /// Right after `await`.
    awaited: bool,
    /// It may be thrown away (for an assignment, until its watch counts a use).
    may_be_discarded: bool,
    /// For `name = f(...)`: the watch on `name`.
    watch: Option<usize>,
}

/// What the tokenizer-level scan learns of a file (see the module documentation).
#[derive(Debug, Default)]
pub struct LexicalFacts<'t> {
    /// The words of the code (outside comments and plain strings) that some call needs.
    code_words: HashSet<&'t str>,
    /// Plain names called anywhere (`name(`).
    called_names: HashSet<&'t str>,
    /// Plain names called inside an `async def`.
    async_called_names: HashSet<&'t str>,
    /// Attribute calls (`receiver.name(`), by name.
    attribute_calls: HashMap<&'t str, Vec<AttributeCall<'t>>>,
    /// Names an import binds with `as`.
    import_aliases: HashSet<&'t str>,
    /// Names that may stand for another callable or a module, with the last segment of the
    /// dotted name each binding gives them: `import a.b as name`, `name = a.b`,
    /// `name: T = a.b`, `with a.b as name` (the values the semantic index follows; a call's
    /// result, a walrus or a loop target is never resolved to a callable).
    bindings: HashMap<&'t str, Vec<&'t str>>,
    /// What the called names (in coroutines) may stand for ([`Self::reached_by_aliases`]).
    aliases_reach: Option<HashSet<&'t str>>,
    async_aliases_reach: Option<HashSet<&'t str>>,
    /// Names whose object the semantic index may know the kind of: assigned at a statement
    /// start (`name = ...`, `name: T = ...`), annotated (`name: T`, parameters included), or
    /// bound by `as`. Per binding: the scope it is made in ([`Self::scope_parents`]), and the
    /// names of the value or annotation, the words the kind is made of (`None`: not known,
    /// after `as`).
    typed: HashMap<&'t str, Vec<TypedBinding<'t>>>,
    /// Each scope's enclosing scope, by serial ([`MODULE_SCOPE`] for the module).
    scope_parents: Vec<u32>,
    /// Attributes assigned on `self` or `cls` (`self.name = ...`, `self.name: T = ...`): the
    /// only ones whose object's kind the semantic index may know.
    own_attributes: HashSet<&'t str>,
    /// Names a `global` or `nonlocal` statement binds elsewhere: their bindings are seen
    /// from every scope.
    unscoped: HashSet<&'t str>,
    /// Names a `from ... import` binds (aliases included).
    from_imported: HashSet<&'t str>,
    /// The file has a `from ... import *`.
    star_import: bool,
    /// Names defined by `async def`.
    async_defs: HashSet<&'t str>,
    own_calls: Vec<OwnCall<'t>>,
    /// With [`LexicalFacts::scan_functions`]: the functions, in order of definition.
    pub functions: Vec<LexicalFunction<'t>>,
    /// With [`LexicalFacts::scan_functions`]: the calls in each function.
    pub function_calls: Vec<LexicalCall<'t>>,
    /// With [`LexicalFacts::scan_functions`]: the bodies of the functions in no other
    /// function, in order.
    pub bodies: Vec<FunctionBody>,
    /// Names a `def` or `class` statement binds.
    pub defined: HashSet<&'t str>,
    /// Names assigned a call's result, with the scope of the assignment and the first name of
    /// the callee (`repo` and `Repo` for `repo = Repo()`, `models` for `repo =
    /// models.Repo()`); see [`Self::sees_binding`].
    pub assigned_from_call: HashMap<&'t str, Vec<(u32, &'t str)>>,
    /// What the names imports bind stand for.
    pub imports: HashMap<&'t str, Vec<Imported<'t>>>,
    /// Names a plain `import` statement spells (`import a.b as c`: `a`, `b`, `c`).
    pub module_imported: HashSet<&'t str>,
}

/// A token, as far as the scan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'t> {
    /// The start of a logical line (a virtual token).
    LineStart,
    Name(&'t str),
    Dot,
    OpenParen,
    CloseParen,
    /// A single `=` (an assignment or a keyword argument).
    Assign,
    /// `:=`
    Walrus,
    Colon,
    Semicolon,
    Other,
}

/// Where the scanner is: plain code, or the expression of an f-string's replacement field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Code,
    /// Ends at the `}` that closes the field (a `:` or `!` at its top level starts the format
    /// spec, which is literal text with nested fields).
    FieldExpression,
}

/// How many of the last tokens the scanner keeps (it looks back at most six; a power of two
/// makes the ring's index a mask).
const RECENT: usize = 8;

struct Scanner<'t, 'w> {
    text: &'t str,
    /// The words worth keeping in `code_words`.
    interesting: &'w HashSet<String>,
    bytes: &'t [u8],
    pos: usize,
    /// The last [`RECENT`] tokens, a ring: the newest at `newest % RECENT`
    /// ([`Scanner::recent`] reads them).
    recent: [Token<'t>; RECENT],
    newest: usize,
    /// The indentation of the current logical line.
    line_indent: usize,
    /// The enclosing `def` and `class` statements: their line's indentation, and whether the
    /// statement is an `async def`.
    scopes: Vec<(usize, bool)>,
    /// For each entry of `scopes`: a serial number, and whether a `def` opened it.
    scope_serials: Vec<(u32, bool)>,
    next_serial: u32,
    /// The pending scope (`pending_scope`) is a `def`'s.
    pending_is_def: bool,
    /// Locals assigned a call's result, whose later uses are counted; the indexes of those
    /// whose scope is still open.
    watches: Vec<Watch<'t>>,
    open_watches: Vec<usize>,
    /// With [`LexicalFacts::scan_functions`]: the function (in `facts.functions`) of each
    /// entry of `scopes`, `None` for a class body.
    scope_owners: Vec<ScopeOwner<'t>>,
    /// The function whose header (or one-line body) the current logical line is.
    header_function: Option<u32>,
    /// The function or class of `pending_scope`.
    pending_function: Option<u32>,
    /// A function in no other function whose header was seen, and its header line's
    /// indentation: its body starts at the next line indented more.
    pending_body: Option<(u32, usize)>,
    /// The body being scanned (in `facts.bodies`), and its function's indentation.
    open_body: Option<(usize, usize)>,
    /// A `.` outside brackets on the current logical line (an `=` after it assigns to an
    /// attribute).
    line_has_dot: bool,
    pending_class: Option<&'t str>,
    /// Collect functions and their calls (the project phase's lexical summaries).
    collect_functions: bool,
    /// Where the current statement is, if it is an import.
    import: Option<ImportPart>,
    /// Where the import's module starts: after `from`, or at the first name of an `import`'s
    /// dotted name; and where that dotted name ends so far.
    import_start: usize,
    import_end: usize,
    /// A `from` import's module, as written (`.helpers`, `app . net`).
    from_module: &'t str,
    /// The first name of the chain the last name token belongs to: `a` in `a.b.c`, `Repo`
    /// in `Repo(x).save` (`None`: a chain on a literal, a subscript, ...).
    chain_root: Option<&'t str>,
    /// The token before the chain the last name token belongs to, when the chain is only
    /// names and dots (`=` in `x = a.b.c`); `None` after a `)`.
    chain_before: Option<Token<'t>>,
    /// Brackets open around the current token (a replacement field counts as one).
    nesting: u32,
    /// The bindings whose kind's words are being collected: name, index in its bindings,
    /// and the bracket depth the capture started at.
    kind_captures: Vec<(&'t str, usize, u32)>,
    /// In a `global` or `nonlocal` statement.
    in_global: bool,
    /// For each open `(`: the chain root of the callee before it, and what the expression it
    /// belongs to follows.
    parens: Vec<(Option<&'t str>, Option<Token<'t>>)>,
    /// The same for the last `)` closed.
    closed: (Option<&'t str>, Option<Token<'t>>),
    /// A `def` or `class` whose body starts on the next line (its header, parameter defaults
    /// included, runs in the enclosing scope).
    pending_scope: Option<usize>,
    /// `name = ` at a statement start: the name, whether the value so far is a complete
    /// dotted name (`Some(true)`), a dotted name waiting for its next segment (`Some(false)`),
    /// and the value's last name.
    assignment: Option<PendingAssignment<'t>>,
    /// `name:` at a statement start: an annotated assignment's target, if a value follows.
    annotated: Option<&'t str>,
    facts: LexicalFacts<'t>,
}

/// `target = ` at a statement start, while its value is scanned.
#[derive(Debug, Clone, Copy)]
struct PendingAssignment<'t> {
    target: &'t str,
    /// The value so far is a complete dotted name (`Some(true)`), a dotted name waiting for
    /// its next segment (`Some(false)`), or nothing yet (`None`).
    dotted: Option<bool>,
    /// The value's first and last names.
    first: &'t str,
    last: &'t str,
}

impl<'t> PendingAssignment<'t> {
    fn new(target: &'t str) -> Self {
        PendingAssignment {
            target,
            dotted: None,
            first: target,
            last: target,
        }
    }
}

/// Where an import statement's scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportPart {
    /// `import a.b as c`.
    Plain,
    /// `from a.b` (before its `import`).
    FromModule,
    /// The names after `from a.b import`.
    FromNames,
}

/// A form feed resets the indentation, a tab counts 8: tree-sitter-python's rule, since the
/// parser decides which lines are inside a function.
fn indentation(line: &[u8]) -> (usize, usize) {
    let mut width = 0;
    let mut len = 0;
    for &b in line {
        match b {
            b' ' => width += 1,
            b'\t' => width += 8,
            b'\x0c' => width = 0,
            _ => break,
        }
        len += 1;
    }
    (width, len)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// The bytes a name is made of, by value (a table: the scanner asks for every byte of every
/// name).
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80;
        b += 1;
    }
    table
};

fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

impl<'t> LexicalFacts<'t> {
    /// Scan `text`; `None` when the scan cannot follow it (an unterminated string, unbalanced
    /// brackets, a stray backslash).
    pub fn scan(text: &'t str, interesting: &HashSet<String>) -> Option<LexicalFacts<'t>> {
        Self::scan_with(text, interesting, false)
    }

    /// [`Self::scan`], also collecting the functions and the calls in each
    /// ([`Self::functions`], [`Self::function_calls`]) for the project phase.
    pub fn scan_functions(
        text: &'t str,
        interesting: &HashSet<String>,
    ) -> Option<LexicalFacts<'t>> {
        Self::scan_with(text, interesting, true)
    }

    fn scan_with(
        text: &'t str,
        interesting: &HashSet<String>,
        collect_functions: bool,
    ) -> Option<LexicalFacts<'t>> {
        let mut scanner = Scanner {
            text,
            interesting,
            bytes: text.as_bytes(),
            pos: 0,
            recent: [Token::LineStart; RECENT],
            newest: 0,
            line_indent: 0,
            scopes: Vec::new(),
            scope_serials: Vec::new(),
            next_serial: 0,
            pending_is_def: false,
            watches: Vec::new(),
            open_watches: Vec::new(),
            scope_owners: Vec::new(),
            pending_class: None,
            header_function: None,
            pending_function: None,
            pending_body: None,
            open_body: None,
            line_has_dot: false,
            collect_functions,
            pending_scope: None,
            import: None,
            import_start: 0,
            import_end: 0,
            from_module: "",
            chain_root: None,
            parens: Vec::new(),
            closed: (None, None),
            chain_before: None,
            nesting: 0,
            kind_captures: Vec::new(),
            in_global: false,
            annotated: None,
            assignment: None,
            facts: LexicalFacts::default(),
        };
        if text.starts_with('\u{feff}') {
            scanner.pos = '\u{feff}'.len_utf8();
        }
        scanner.start_line();
        scanner.code(Mode::Code)?;
        scanner.end_assignment();
        let watches = scanner.watches;
        let mut facts = scanner.facts;
        // A call assigned to a local is discarded if the local is never used again.
        let settle = |watch: Option<usize>, discarded: &mut bool| {
            if let Some(watch) = watch {
                *discarded = watches[watch].discards();
            }
        };
        for call in &mut facts.own_calls {
            settle(call.watch, &mut call.may_be_discarded);
        }
        for call in &mut facts.function_calls {
            settle(call.watch, &mut call.may_be_discarded);
        }
        for call in facts.attribute_calls.values_mut().flatten() {
            settle(call.watch, &mut call.may_be_discarded);
        }
        facts.aliases_reach = facts.reached_by_aliases(&facts.called_names);
        facts.async_aliases_reach = facts.reached_by_aliases(&facts.async_called_names);
        Some(facts)
    }
}

impl<'t> Scanner<'t, '_> {
    /// The token `back` tokens before the newest (`recent(0)`: the newest), `back` < 6.
    fn recent(&self, back: usize) -> Token<'t> {
        self.recent[self.newest.wrapping_sub(back) % RECENT]
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// Inside an `async def` and not in a nested `def` or `class` body (a nested function on
    /// its header's line, or a lambda, counts as inside: that only lets more through).
    fn in_async(&self) -> bool {
        self.scopes.last().is_some_and(|&(_, is_async)| is_async)
    }

    /// At the start of a physical line in code at bracket depth 0: skip blank and
    /// comment-only lines, measure the next logical line's indentation, leave the `async def`
    /// bodies it is not inside.
    fn start_line(&mut self) {
        loop {
            let (width, len) = indentation(&self.bytes[self.pos..]);
            let after = self.pos + len;
            match self.bytes.get(after) {
                None => {
                    self.pos = after;
                    return;
                }
                Some(b'\n') => self.pos = after + 1,
                Some(b'\r') => {
                    self.pos = after + 1;
                    if self.peek(0) == b'\n' {
                        self.pos += 1;
                    }
                }
                Some(b'#') => {
                    self.pos = after;
                    self.skip_comment();
                }
                Some(_) => {
                    let line_start = self.pos;
                    self.pos = after;
                    self.line_indent = width;
                    self.follow_bodies(line_start, width);
                    while self.scopes.last().is_some_and(|&(i, _)| i >= width) {
                        self.scopes.pop();
                        if let Some((serial, _)) = self.scope_serials.pop() {
                            self.close_watches(serial);
                        }
                        self.scope_owners.pop();
                    }
                    let owner = match (self.pending_function.take(), self.pending_class.take()) {
                        (Some(function), _) => ScopeOwner::Function(function),
                        (None, Some(class)) => ScopeOwner::Class(class),
                        (None, None) => ScopeOwner::Unknown,
                    };
                    self.header_function = None;
                    if let Some(indent) = self.pending_scope.take()
                        && width > indent
                    {
                        self.scopes.push((indent, false));
                        self.open_scope(self.pending_is_def);
                        self.scope_owners.push(owner);
                    }
                    self.end_assignment();
                    self.push(Token::LineStart);
                    return;
                }
            }
        }
    }

    fn skip_comment(&mut self) {
        let start = self.pos;
        self.pos = memchr::memchr2(b'\n', b'\r', &self.bytes[start..])
            .map_or(self.bytes.len(), |len| start + len);
        if self.open_body.is_some() {
            let comment = &self.text[start..self.pos];
            if comment.contains("noqa") || comment.contains("NOQA") || comment.contains("unfreeze")
            {
                self.pin_body();
            }
        }
    }

    /// At a logical line starting at `line_start`, indented `width`: the open body ends
    /// before it if it is not indented more than its function; a pending body starts on it
    /// if it is (otherwise the function's body was on its header's line).
    fn follow_bodies(&mut self, line_start: usize, width: usize) {
        if let Some((index, indent)) = self.open_body
            && width <= indent
        {
            self.facts.bodies[index].range.end = line_start;
            self.open_body = None;
        }
        if let Some((function, indent)) = self.pending_body.take()
            && width > indent
        {
            self.open_body = Some((self.facts.bodies.len(), indent));
            self.facts.bodies.push(FunctionBody {
                function,
                range: self.pos..self.bytes.len(),
                pinned: false,
            });
        }
    }

    fn pin_body(&mut self) {
        if let Some((index, _)) = self.open_body {
            self.facts.bodies[index].pinned = true;
        }
    }

    /// The value of a pending `name = ...` is over: a complete dotted name binds `name`.
    fn end_assignment(&mut self) {
        if let Some(assignment) = self.assignment.take()
            && assignment.dotted == Some(true)
        {
            self.bind(assignment.target, assignment.last);
        }
    }

    fn bind(&mut self, name: &'t str, value: &'t str) {
        self.facts.bindings.entry(name).or_default().push(value);
    }

    fn open_scope(&mut self, is_def: bool) {
        let parent = self.current_scope();
        self.facts.scope_parents.push(parent);
        self.scope_serials.push((self.next_serial, is_def));
        self.next_serial += 1;
    }

    /// The innermost open scope's serial ([`MODULE_SCOPE`] at the top level).
    fn current_scope(&self) -> u32 {
        self.scope_serials
            .last()
            .map_or(MODULE_SCOPE, |&(serial, _)| serial)
    }

    fn close_watches(&mut self, serial: u32) {
        let watches = &self.watches;
        self.open_watches.retain(|&i| watches[i].serial != serial);
    }

    /// `name` occurs: a use of the watched locals of that name.
    /// Collect the names after this point, to the end of the logical line, as the words of
    /// `name`'s kind (over-collecting only keeps more receivers).
    /// A capture ends at the end of the line, and for a parameter's annotation or a
    /// statement's value, at a `,` or `=` at its own bracket depth, or its closing bracket.
    fn capture_kind(&mut self, name: &'t str) {
        let scope = self.current_scope();
        let bindings = self.facts.typed.entry(name).or_default();
        bindings.push((scope, Some(Vec::new())));
        let binding = bindings.len() - 1;
        self.kind_captures.push((name, binding, self.nesting));
    }

    /// Add `name` to the kinds being captured, or end the captures the token ends.
    fn continue_captures(&mut self, token: Token<'t>) {
        if self.kind_captures.is_empty() {
            return;
        }
        let ends_at_depth = token == Token::Assign
            || (token == Token::Other && self.bytes.get(self.pos.wrapping_sub(1)) == Some(&b','));
        let nesting = self.nesting;
        self.kind_captures
            .retain(|&(_, _, depth)| !(nesting < depth || (ends_at_depth && nesting == depth)));
        if let Token::Name(word) = token {
            for &(name, binding, _) in &self.kind_captures {
                if let Some((_, Some(kind))) = self
                    .facts
                    .typed
                    .get_mut(name)
                    .and_then(|bindings| bindings.get_mut(binding))
                {
                    kind.push(word);
                }
            }
        }
    }

    /// Count the later uses of `target`, a local just assigned a call's result.
    fn watch(&mut self, target: &'t str) -> usize {
        let (serial, in_function) = self
            .scope_serials
            .last()
            .map_or((u32::MAX, false), |&(serial, is_def)| (serial, is_def));
        self.watches.push(Watch {
            name: target,
            serial,
            in_function,
            uses: 0,
        });
        if in_function {
            self.open_watches.push(self.watches.len() - 1);
        }
        self.watches.len() - 1
    }

    fn count_use(&mut self, name: &str) {
        for &i in &self.open_watches {
            let watch = &mut self.watches[i];
            if watch.name == name {
                watch.uses += 1;
            }
        }
    }

    fn import(&mut self, name: &'t str, imported: Imported<'t>) {
        self.facts.imports.entry(name).or_default().push(imported);
    }

    /// Follow the chain a token continues or starts (`chain_root`).
    fn track_chain(&mut self, token: Token<'t>) {
        match token {
            Token::Name(name) if self.recent(0) != Token::Dot => {
                self.chain_root = Some(name);
                self.chain_before = Some(self.recent(0));
            }
            Token::Dot => match self.recent(0) {
                Token::CloseParen => {
                    (self.chain_root, self.chain_before) = self.closed;
                }
                Token::Name(_) => {}
                _ => {
                    self.chain_root = None;
                    self.chain_before = None;
                }
            },
            Token::OpenParen => {
                // A call continues its callee's chain; a grouping `(` starts an expression.
                let (root, before) = match self.recent(0) {
                    Token::Name(_) => (self.chain_root, self.chain_before),
                    Token::CloseParen => (None, self.chain_before),
                    before => (None, Some(before)),
                };
                self.parens.push((root, before));
            }
            Token::CloseParen => self.closed = self.parens.pop().unwrap_or((None, None)),
            _ => {}
        }
    }

    fn push(&mut self, token: Token<'t>) {
        if matches!(token, Token::LineStart | Token::Semicolon) {
            self.kind_captures.clear();
            self.in_global = false;
            self.line_has_dot = false;
        } else {
            self.continue_captures(token);
        }
        if self.open_body.is_some() {
            match token {
                Token::Name("yield" | "global" | "nonlocal") => self.pin_body(),
                Token::Dot if self.nesting == 0 => self.line_has_dot = true,
                Token::Assign if self.nesting == 0 && self.line_has_dot => self.pin_body(),
                _ => {}
            }
        }
        // `self.name = ...` (or `cls.`; in a chain of assignments too), `self.name: T = ...`.
        // (The token is tested first: this runs for every token of every file.)
        if (token == Token::Assign
            || token == Token::Colon
                && matches!(self.recent(3), Token::LineStart | Token::Semicolon))
            && self.nesting == 0
            && let (Token::Name(name), Token::Dot, Token::Name("self" | "cls")) =
                (self.recent(0), self.recent(1), self.recent(2))
            && self.recent(3) != Token::Dot
        {
            self.facts.own_attributes.insert(name);
        }
        if let Token::Name(name) = token {
            if self.in_global {
                self.facts.unscoped.insert(name);
            } else if matches!(name, "global" | "nonlocal")
                && matches!(
                    self.recent(0),
                    Token::LineStart | Token::Semicolon | Token::Colon
                )
            {
                self.in_global = true;
            }
        }
        if let Token::Name(name) = token
            && !self.open_watches.is_empty()
        {
            self.count_use(name);
        }
        self.track_chain(token);
        // `name = a.b(`: `name` holds what a call returned.
        let assigned_from_call = match (token, self.assignment) {
            (Token::OpenParen, Some(assignment)) if assignment.dotted == Some(true) => {
                Some((assignment.target, assignment.first))
            }
            _ => None,
        };
        self.track_assignment(token);
        match token {
            Token::Name(name) => {
                if self.interesting.contains(name) {
                    self.facts.code_words.insert(name);
                }
                if let Token::Name("as") = self.recent(0) {
                    let scope = self.current_scope();
                    self.facts
                        .typed
                        .entry(name)
                        .or_default()
                        .push((scope, None));
                    // An import's or a `with`'s dotted name (an `except`'s class too,
                    // harmlessly); a call's result is not followed.
                    if let Token::Name(value) = self.recent(1) {
                        self.bind(name, value);
                    }
                    if self.import.is_some() {
                        self.facts.import_aliases.insert(name);
                    }
                }
                if matches!(self.recent(0), Token::LineStart | Token::Semicolon) {
                    match name {
                        "import" => self.import = Some(ImportPart::Plain),
                        "from" => {
                            self.import = Some(ImportPart::FromModule);
                            self.import_start = self.pos;
                        }
                        _ => {}
                    }
                } else if name == "import" && self.import == Some(ImportPart::FromModule) {
                    self.import = Some(ImportPart::FromNames);
                    // (`get`: a broken statement may leave the bounds out of order.)
                    let end = self.pos - name.len();
                    self.from_module = self.text.get(self.import_start..end).unwrap_or("");
                } else if self.import == Some(ImportPart::FromNames) {
                    self.facts.from_imported.insert(name);
                    if name != "as" {
                        let original = match (self.recent(0), self.recent(1)) {
                            (Token::Name("as"), Token::Name(original)) => original,
                            _ => name,
                        };
                        self.import(
                            name,
                            Imported::Name {
                                module: self.from_module,
                                name: original,
                            },
                        );
                    }
                } else if self.import == Some(ImportPart::Plain) && name != "as" {
                    self.facts.module_imported.insert(name);
                    if self.recent(0) == Token::Name("as") {
                        let path = self
                            .text
                            .get(self.import_start..self.import_end)
                            .unwrap_or("");
                        self.import(name, Imported::Module(path));
                    } else if self.recent(0) == Token::Dot {
                        self.import_end = self.pos;
                    } else {
                        // `import a.b`: `a` is bound.
                        self.import_start = self.pos - name.len();
                        self.import_end = self.pos;
                        self.import(name, Imported::Module(name));
                    }
                }
                if let (Token::Name("def"), Token::Name("async")) = (self.recent(0), self.recent(1))
                {
                    self.facts.async_defs.insert(name);
                }
                if self.collect_functions {
                    self.start_function(name);
                }
                if name == "def" && self.recent(0) == Token::Name("async") {
                    // Its header line counts as inside, harmlessly.
                    self.scopes.push((self.line_indent, true));
                    self.open_scope(true);
                    self.scope_owners.push(ScopeOwner::Unknown);
                } else if matches!(name, "def" | "class") {
                    self.pending_scope = Some(self.line_indent);
                    self.pending_is_def = name == "def";
                    self.pending_function = None;
                    self.pending_class = None;
                }
            }
            Token::LineStart | Token::Semicolon => self.import = None,
            // `from m import *` (the only other token there is a `,`).
            Token::Other
                if self.import == Some(ImportPart::FromNames)
                    && self.bytes.get(self.pos.wrapping_sub(1)) == Some(&b'*') =>
            {
                self.facts.star_import = true;
            }
            Token::OpenParen => self.record_call(assigned_from_call),
            Token::Colon => {
                // `name: T = value` (and, harmlessly, `lambda x: ...`).
                if let (Token::Name(name), Token::LineStart | Token::Semicolon) =
                    (self.recent(0), self.recent(1))
                {
                    self.annotated = Some(name);
                }
                // An annotated name at a statement start, or a parameter (a dict key or a
                // slice bound too, harmlessly); not a header's name (`class A:`, `-> T:`).
                if let Token::Name(name) = self.recent(0)
                    && (self.nesting > 0
                        || matches!(self.recent(1), Token::LineStart | Token::Semicolon))
                {
                    self.capture_kind(name);
                }
            }
            _ => {}
        }
        self.newest = self.newest.wrapping_add(1);
        self.recent[self.newest % RECENT] = token;
    }

    /// The name after `def` (or `class`): a function (or class) of the file.
    fn start_function(&mut self, name: &'t str) {
        match self.recent(0) {
            Token::Name("class") => {
                self.facts.defined.insert(name);
                self.pending_class = Some(name);
            }
            Token::Name("def") => {
                self.facts.defined.insert(name);
                let id = self.facts.functions.len() as u32;
                let is_async = self.recent(1) == Token::Name("async");
                // An `async def`'s own scope is already open.
                let enclosing = match is_async {
                    true => &self.scope_owners[..self.scope_owners.len().saturating_sub(1)],
                    false => &self.scope_owners[..],
                };
                let mut classes = Vec::new();
                let mut nested = false;
                for owner in enclosing.iter().rev() {
                    match owner {
                        ScopeOwner::Class(class) => classes.push(*class),
                        ScopeOwner::Function(_) | ScopeOwner::Unknown => {
                            nested = true;
                            break;
                        }
                    }
                }
                classes.reverse();
                let outermost = enclosing
                    .iter()
                    .find_map(|owner| match owner {
                        ScopeOwner::Function(f) => {
                            Some(self.facts.functions[*f as usize].outermost)
                        }
                        _ => None,
                    })
                    .unwrap_or(id);
                self.facts.functions.push(LexicalFunction {
                    name,
                    is_async,
                    classes: (!nested).then_some(classes),
                    outermost,
                });
                if !nested {
                    self.pending_body = Some((id, self.line_indent));
                }
                if is_async {
                    if let Some(owner) = self.scope_owners.last_mut() {
                        *owner = ScopeOwner::Function(id);
                    }
                } else {
                    self.pending_function = Some(id);
                }
                self.header_function = Some(id);
            }
            _ => {}
        }
    }

    /// Follow `name = a.b.c` at a statement start (chains `x = y = a.b` included).
    fn track_assignment(&mut self, token: Token<'t>) {
        match token {
            Token::Assign => {
                self.end_assignment();
                if let (Token::Name(name), Token::LineStart | Token::Semicolon | Token::Assign) =
                    (self.recent(0), self.recent(1))
                {
                    self.assignment = Some(PendingAssignment::new(name));
                    self.capture_kind(name);
                } else if let Some(name) = self.annotated.take() {
                    // `name: T = value`: the value's kind first, then the annotation's.
                    self.assignment = Some(PendingAssignment::new(name));
                    self.capture_kind(name);
                }
            }
            Token::LineStart | Token::Semicolon => {
                self.end_assignment();
                self.annotated = None;
            }
            Token::Name(value) => {
                if let Some(assignment) = &mut self.assignment {
                    match assignment.dotted {
                        None => {
                            assignment.dotted = Some(true);
                            assignment.first = value;
                            assignment.last = value;
                        }
                        Some(false) => {
                            assignment.dotted = Some(true);
                            assignment.last = value;
                        }
                        Some(true) => self.assignment = None,
                    }
                }
            }
            Token::Dot => {
                if let Some(assignment) = &mut self.assignment {
                    match assignment.dotted {
                        Some(true) => assignment.dotted = Some(false),
                        _ => self.assignment = None,
                    }
                }
            }
            _ => self.assignment = None,
        }
    }

    /// An `(` after a name: a call (or a definition's parameters, harmlessly).
    fn record_call(&mut self, assigned_from_call: Option<(&'t str, &'t str)>) {
        let Token::Name(name) = self.recent(0) else {
            return;
        };
        // A keyword, or the name a `def` or `class` header defines, is no call.
        if KEYWORDS.contains(&name) || matches!(self.recent(1), Token::Name("def" | "class")) {
            return;
        }
        let in_async = self.in_async();
        // What the call's whole expression follows (`None`: not known).
        let before = if self.recent(1) == Token::Dot {
            match (self.recent(2), self.recent(3)) {
                (Token::Name(_), Token::Dot) | (Token::CloseParen, _) => self.chain_before,
                (Token::Name(_), before) => Some(before),
                _ => None,
            }
        } else {
            Some(self.recent(1))
        };
        // Its result may be discarded (`is_result_discarded`) only as an expression statement,
        // or assigned to a local never used again (the scan counts the local's later
        // occurrences): after a statement start or a one-line body's `:` outside brackets, or
        // a statement's first `=`. A keyword argument's `=`, a dict value's or a lambda's `:`,
        // an operator, `return` keep it.
        let nested = self.nesting > 0;
        let watch = match (before, assigned_from_call) {
            (Some(Token::Assign), Some((target, _))) if !nested => Some(self.watch(target)),
            _ => None,
        };
        let result = CallResult {
            awaited: before == Some(Token::Name("await")),
            may_be_discarded: match before {
                None | Some(Token::LineStart | Token::Semicolon) => true,
                Some(Token::Colon) => !nested,
                Some(Token::Assign) => watch.is_some(),
                Some(_) => false,
            },
            watch,
        };
        if self.collect_functions {
            self.record_function_call(name, assigned_from_call, result);
        }
        if self.recent(1) == Token::Dot {
            let receiver = match (self.recent(2), self.recent(3)) {
                (Token::Name(receiver), _) | (Token::CloseParen, Token::Name(receiver)) => {
                    Some(receiver)
                }
                _ => None,
            };
            let scope = self.current_scope();
            let simple = matches!(self.recent(2), Token::Name(_)) && self.recent(3) != Token::Dot;
            let chain = match (self.recent(2), self.recent(3), self.recent(4)) {
                (Token::Name("parent"), ..) => ChainReceiver::Other,
                (Token::Name(name), Token::Dot, Token::Name("self" | "cls"))
                    if self.recent(5) != Token::Dot =>
                {
                    ChainReceiver::OwnAttribute(name)
                }
                (Token::Name(_), Token::Dot, _) => ChainReceiver::Unknown,
                _ => ChainReceiver::Other,
            };
            let is_own = matches!(self.recent(2), Token::Name("self" | "cls"));
            let facts = &mut self.facts;
            facts
                .attribute_calls
                .entry(name)
                .or_default()
                .push(AttributeCall {
                    receiver,
                    simple,
                    chain,
                    in_async,
                    scope,
                    may_be_discarded: result.may_be_discarded,
                    watch,
                });
            if is_own {
                facts.own_calls.push(OwnCall {
                    name,
                    in_async,
                    may_be_discarded: result.may_be_discarded,
                    watch,
                });
            }
        } else {
            let facts = &mut self.facts;
            facts.called_names.insert(name);
            if in_async {
                facts.async_called_names.insert(name);
            }
            facts.own_calls.push(OwnCall {
                name,
                in_async,
                may_be_discarded: result.may_be_discarded,
                watch,
            });
        }
    }

    /// Attribute the call of `name` (at `recent(0)`) to the function whose body (or header)
    /// it is in.
    fn record_function_call(
        &mut self,
        name: &'t str,
        assigned_from_call: Option<(&'t str, &'t str)>,
        result: CallResult,
    ) {
        if let Some((target, callee)) = assigned_from_call {
            let scope = self.current_scope();
            self.facts
                .assigned_from_call
                .entry(target)
                .or_default()
                .push((scope, callee));
        }
        let innermost = match self.scope_owners.last() {
            Some(ScopeOwner::Function(function)) => Some(*function),
            _ => None,
        };
        if innermost.is_none() && self.header_function.is_none() {
            return;
        }
        let expression = |before| LexicalReceiver::Expression {
            before,
            root: self.chain_root,
        };
        let receiver = if self.recent(1) == Token::Dot {
            match (self.recent(2), self.recent(3)) {
                (Token::Name(receiver), Token::Dot) => expression(Some(receiver)),
                (Token::Name(receiver), _) => LexicalReceiver::Name(receiver),
                (Token::CloseParen, Token::Name(receiver)) => expression(Some(receiver)),
                _ => expression(None),
            }
        } else {
            LexicalReceiver::Plain
        };
        for function in [
            innermost,
            self.header_function.filter(|&h| Some(h) != innermost),
        ]
        .into_iter()
        .flatten()
        {
            self.facts.function_calls.push(LexicalCall {
                function,
                name,
                receiver,
                awaited: result.awaited,
                may_be_discarded: result.may_be_discarded,
                scope: self.current_scope(),
                watch: result.watch,
            });
        }
    }

    /// Scan code until the end of the text (`Mode::Code`) or the `}` closing a replacement
    /// field (`Mode::FieldExpression`). `None`: the scan cannot follow the text.
    fn code(&mut self, mode: Mode) -> Option<()> {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\n' | b'\r' => {
                    self.pos += 1;
                    if b == b'\r' && self.peek(0) == b'\n' {
                        self.pos += 1;
                    }
                    if depth == 0 && mode == Mode::Code {
                        self.start_line();
                    }
                }
                b'#' => self.skip_comment(),
                b'\\' => match (self.peek(1), self.peek(2)) {
                    (b'\n', _) => self.pos += 2,
                    (b'\r', b'\n') => self.pos += 3,
                    (b'\r', _) => self.pos += 2,
                    _ => return None,
                },
                b'\'' | b'"' => self.string(false)?,
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1;
                    self.push(if b == b'(' {
                        Token::OpenParen
                    } else {
                        Token::Other
                    });
                    self.nesting += 1;
                }
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        if mode == Mode::FieldExpression && b == b'}' {
                            self.pos += 1;
                            return Some(());
                        }
                        return None;
                    }
                    depth -= 1;
                    self.pos += 1;
                    self.nesting -= 1;
                    self.push(if b == b')' {
                        Token::CloseParen
                    } else {
                        Token::Other
                    });
                }
                b'.' => {
                    if self.peek(1).is_ascii_digit() {
                        self.number();
                    } else if self.peek(1) == b'.' && self.peek(2) == b'.' {
                        self.pos += 3;
                        self.push(Token::Other);
                    } else {
                        self.pos += 1;
                        self.push(Token::Dot);
                    }
                }
                b':' => {
                    if self.peek(1) == b'=' {
                        self.pos += 2;
                        self.push(Token::Walrus);
                    } else if mode == Mode::FieldExpression && depth == 0 {
                        self.pos += 1;
                        return self.format_spec();
                    } else {
                        self.pos += 1;
                        self.push(Token::Colon);
                    }
                }
                b'!' if mode == Mode::FieldExpression && depth == 0 && self.peek(1) != b'=' => {
                    self.pos += 1;
                    return self.format_spec();
                }
                b'=' => {
                    if self.peek(1) == b'=' {
                        self.pos += 2;
                        self.push(Token::Other);
                    } else {
                        self.pos += 1;
                        self.push(Token::Assign);
                    }
                }
                b';' => {
                    self.pos += 1;
                    self.push(Token::Semicolon);
                }
                b'0'..=b'9' => self.number(),
                _ if is_name_start(b) => self.name()?,
                _ => {
                    // An operator: `**=`, `//=`, `>>=`, `->`, `!=`, ... never a single `=`.
                    self.pos += 1;
                    if matches!(b, b'*' | b'/' | b'<' | b'>') && self.peek(0) == b {
                        self.pos += 1;
                    }
                    if matches!(self.peek(0), b'=' | b'>') && b != b'=' {
                        self.pos += 1;
                    }
                    self.push(Token::Other);
                }
            }
        }
        (mode == Mode::Code && depth == 0).then_some(())
    }

    /// A number (an exponent's sign is scanned as an operator, harmlessly).
    fn number(&mut self) {
        self.pos += 1;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|&b| is_name_byte(b) || b == b'.')
        {
            self.pos += 1;
        }
        self.push(Token::Other);
    }

    /// A name, or a string's prefix (`rb"..."`, `f'...'`).
    fn name(&mut self) -> Option<()> {
        let start = self.pos;
        self.pos += self.bytes[start..]
            .iter()
            .position(|&b| !is_name_byte(b))
            .unwrap_or(self.bytes.len() - start);
        let word = &self.text[start..self.pos];
        if matches!(self.peek(0), b'\'' | b'"')
            && word.len() <= 2
            && word.bytes().all(|c| b"rRbBuUfFtT".contains(&c))
        {
            let formatted = word.bytes().any(|c| b"fFtT".contains(&c));
            return self.string(formatted);
        }
        self.push(Token::Name(word));
        Some(())
    }

    /// A string at its opening quote; an f-string's (or t-string's) fields are scanned as
    /// code.
    fn string(&mut self, formatted: bool) -> Option<()> {
        let quote = self.bytes[self.pos];
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        self.pos += if triple { 3 } else { 1 };
        loop {
            if triple {
                // Most string bytes are in docstrings: jump to the next byte that matters.
                let field = if formatted { b'{' } else { quote };
                self.pos += memchr::memchr3(quote, b'\\', field, self.bytes.get(self.pos..)?)?;
            }
            let b = *self.bytes.get(self.pos)?;
            match b {
                b'\\' => {
                    // An escape (in raw strings too, a backslash keeps the quote in); before
                    // a brace, the brace still opens or closes a field.
                    let next = self.peek(1);
                    self.pos += if formatted && matches!(next, b'{' | b'}') {
                        1
                    } else if next == b'\r' && self.peek(2) == b'\n' {
                        3
                    } else {
                        2
                    };
                }
                b'\n' | b'\r' if !triple => return None,
                _ if b == quote => {
                    if !triple {
                        self.pos += 1;
                        break;
                    }
                    if self.peek(1) == quote && self.peek(2) == quote {
                        self.pos += 3;
                        break;
                    }
                    self.pos += 1;
                }
                b'{' if formatted => {
                    if self.peek(1) == b'{' {
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        self.nesting += 1;
                        self.code(Mode::FieldExpression)?;
                        self.nesting -= 1;
                    }
                }
                _ => self.pos += 1,
            }
        }
        self.push(Token::Other);
        Some(())
    }

    /// A replacement field's conversion and format spec, up to and including its closing
    /// `}`: literal text with nested fields.
    fn format_spec(&mut self) -> Option<()> {
        loop {
            match *self.bytes.get(self.pos)? {
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                b'{' => {
                    self.pos += 1;
                    self.nesting += 1;
                    self.code(Mode::FieldExpression)?;
                    self.nesting -= 1;
                }
                b'\'' | b'"' | b'\n' | b'\r' => return None,
                _ => self.pos += 1,
            }
        }
    }
}

/// The function bodies of a fixed text that the parse checking it may leave out, for the
/// next round of fixes (see `fix::CheckMask`): the bodies that overlap or touch none of
/// `keep` (the code the fixes changed, and the findings left in it).
///
/// A round only looks for what the fixes made possible (a call nested in a fixed call,
/// a call the fixes' imports resolve) and for findings whose fixes were skipped; a body the
/// fixes did not change and that holds no finding has none the next round could fix. Every
/// body stays where one body's code decides another's fix: in a file naming a module fixed
/// file-wide (a `requests` session held on `self`), or when a rule on coroutine calls counts
/// them outside coroutines; and so do pinned bodies (an attribute's assignment gives it a
/// kind other bodies read; `yield`, `global`, a suppression comment). Nothing is left out
/// of a text the tokenizer cannot follow.
pub fn bodies_a_fix_round_leaves_out(
    text: &str,
    keep: &[Range<usize>],
    registry: &Registry,
) -> Vec<Range<usize>> {
    if registry
        .coroutine_codemods()
        .iter()
        .any(|&i| !registry.codemod(i).async_only)
    {
        return Vec::new();
    }
    let Some(facts) = LexicalFacts::scan_functions(text, registry.interesting_words()) else {
        return Vec::new();
    };
    if registry
        .modules_fixed_file_wide()
        .iter()
        .any(|module| facts.code_has_word(module))
    {
        return Vec::new();
    }
    facts
        .bodies
        .iter()
        .filter(|body| {
            !body.pinned
                && !keep
                    .iter()
                    .any(|k| k.start <= body.range.end && body.range.start <= k.end)
        })
        .map(|body| body.range.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(text: &str) -> bool {
        needs_analysis(
            text,
            &Registry::bundled().unwrap(),
            &RuleSelection::default(),
        )
    }

    #[test]
    fn a_matched_call_in_an_async_def_needs_analysis() {
        assert!(needs("import time\nasync def f():\n    time.sleep(1)\n"));
        assert!(needs(
            "from time import sleep\nasync def f():\n    sleep(1)\n"
        ));
        assert!(needs("async def f(p):\n    return open(p)\n"));
        assert!(needs("async def f(p): return open(p)\n"));
        assert!(needs(
            "import time\nasync def f():\n    x = f'{time.sleep(1)}'\n"
        ));
        assert!(needs(
            "import time\nasync def f():\n  if x:\n\tpass\n  time.sleep(1)\n"
        ));
    }

    #[test]
    fn an_alias_or_a_bound_name_needs_analysis() {
        assert!(needs(
            "from time import sleep as nap\nasync def f():\n    nap(1)\n"
        ));
        assert!(needs("import time as t\nasync def f():\n    t.sleep(1)\n"));
        assert!(needs(
            "import time\nnap = time.sleep\nasync def f():\n    nap(1)\n"
        ));
        assert!(needs(
            "import os.path\nasync def f(p):\n    (os.path).exists(p)\n"
        ));
    }

    #[test]
    fn files_without_a_possible_finding_are_skipped() {
        // Only in a sync function, in a comment, in a string, or a dict's `get`.
        assert!(!needs(
            "import time\ndef g():\n    time.sleep(1)\nasync def f():\n    pass\n"
        ));
        assert!(!needs(
            "import time\nasync def f():\n    # time.sleep(1)\n    pass\n"
        ));
        assert!(!needs(
            "import time\nasync def f():\n    '''time.sleep(1)'''\n"
        ));
        assert!(!needs(
            "import httpx\nasync def f(d):\n    return d.get('k')\n"
        ));
        assert!(!needs("x = 1\n"));
        // A sync helper nested in a coroutine is not async context...
        assert!(!needs(
            "async def f(p):\n    def read():\n        return open(p)\n    return read\n"
        ));
        assert!(!needs(
            "async def f(p):\n    class A:\n        x = open(p)\n    return A\n"
        ));
    }

    #[test]
    fn a_plain_name_is_a_modules_function_only_when_imported_by_name() {
        // `get` is `requests.get` only through `from requests import get` (or `*`).
        assert!(needs(
            "from requests import get\nasync def f(u):\n    get(u)\n"
        ));
        assert!(needs(
            "from requests import *\nasync def f(u):\n    get(u)\n"
        ));
        assert!(!needs("import requests\nasync def f(u):\n    get(u)\n"));
        // From its own module (`os.path.exists`: a module whose last segment is `path`), not
        // from another one; under another name, it is the function it names.
        assert!(needs(
            "from os.path import exists\nasync def f(p):\n    exists(p)\n"
        ));
        assert!(!needs(
            "from dataclasses import replace\nasync def f(c):\n    replace(c, a=1)\n"
        ));
        assert!(needs(
            "from os import rename as replace\nasync def f(c):\n    replace(c, a=1)\n"
        ));
        // A `def` or `class` header names no call: a method `open` is no call of `open()`.
        assert!(!needs(
            "class A:\n    async def open(self):\n        return 1\n"
        ));
        assert!(needs(
            "class A:\n    async def f(self):\n        open(self)\n"
        ));
        // A method is never called by a plain name.
        assert!(!needs(
            "import requests\nasync def f(u):\n    s = requests.Session\n    close()\n"
        ));
    }

    #[test]
    fn a_bound_name_counts_only_when_it_may_stand_for_the_call() {
        assert!(needs(
            "import requests\nfetch: object = requests.get\nasync def f(u):\n    fetch(u)\n"
        ));
        assert!(needs(
            "import requests\nfetch = requests.get\ng = fetch\nasync def f(u):\n    g(u)\n"
        ));
        assert!(needs(
            "import requests as r\nalias = r\nasync def f(u):\n    alias.get(u)\n"
        ));
        // Names bound to other things do not let the file through.
        assert!(!needs(
            "import requests\nhandler = app.route\nasync def f(u):\n    handler(u)\n"
        ));
        assert!(!needs(
            "import requests\nasync def f(u, data: dict):\n    with lock as held:\n        held(u)\n    data.get(u)\n"
        ));
        // A cycle of names ends.
        assert!(!needs(
            "import requests\na = b\nb = a\nasync def f(u):\n    a(u)\n"
        ));
    }

    #[test]
    fn a_method_on_a_chain_counts_only_on_an_attribute_of_self_a_method_assigns() {
        let class = |init: &str| {
            format!(
                "import httpx\nclass A:\n    def __init__(self):\n{init}\n    async def f(self, u):\n        return self.client.get(u)\n"
            )
        };
        assert!(needs(&class("        self.client = httpx.Client()")));
        assert!(needs(&class("        self.client: httpx.Client = make()")));
        assert!(needs(&class("        a = self.client = httpx.Client()")));
        // Never assigned on `self` (a class attribute gives the index no kind), or another
        // attribute assigned.
        assert!(!needs(&class("        pass")));
        assert!(!needs(&class("        self.other = httpx.Client()")));
        // A deeper chain, or a chain on another name: no kind.
        for call in ["self.a.client.get(u)", "a.client.get(u)", "f().a.get(u)"] {
            let text = format!(
                "import httpx\nclass A:\n    def __init__(self):\n        self.client = httpx.Client()\n    async def f(self, a, u):\n        return {call}\n"
            );
            assert!(!needs(&text), "{call}");
        }
        // A call's result may be known: `make().get()`.
        assert!(needs(
            "import httpx\nasync def f(u):\n    return httpx.Client().get(u)\n"
        ));
    }

    #[test]
    fn a_method_counts_only_on_a_receiver_whose_kind_may_be_its_class() {
        let kind = "import requests\nKIND = requests.Session\n";
        for (body, through) in [
            ("    s = requests.Session()\n    s.get(u)\n", true),
            ("    s = requests.Session(); s.get(u)\n", true),
            (
                "    s: Optional[requests.Session] = None\n    s.get(u)\n",
                true,
            ),
            ("    s: Final = requests.Session()\n    s.get(u)\n", true),
            (
                "    with requests.Session() as s:\n        s.get(u)\n",
                true,
            ),
            // Through another typed name, or an alias, the kind may still be it.
            ("    s = KIND()\n    t = s\n    t.get(u)\n", true),
            // A dict, another class: not a Session.
            ("    options: Options = {}\n    options.get(u)\n", false),
            ("    options = {}\n    options.get(u)\n", false),
            ("    cache = Cache(); cache.get(u)\n", false),
        ] {
            let text = format!("{kind}async def f(u):\n{body}");
            assert_eq!(needs(&text), through, "{text}");
        }
        // Only the bindings the call's scope sees: not a sibling function's, unless `global`
        // makes it the module's.
        let sibling = "def other(self):\n    options = self.session\n";
        assert!(!needs(&format!(
            "{kind}{sibling}async def f(u):\n    options = {{}}\n    options.get(u)\n"
        )));
        assert!(needs(&format!(
            "{kind}{sibling}class A:\n    async def f(self, u):\n        options.get(u)\n    options = KIND()\n"
        )));
        assert!(needs(&format!(
            "{kind}def setup():\n    global s\n    s = requests.Session()\nasync def f(u):\n    s.get(u)\n"
        )));
        assert!(!needs(&format!(
            "{kind}def setup():\n    s = requests.Session()\nasync def f(u):\n    s.get(u)\n"
        )));
        // A parameter's annotation is its kind.
        assert!(needs(&format!(
            "{kind}async def f(u, s: requests.Session):\n    s.get(u)\n"
        )));
        assert!(!needs(&format!(
            "{kind}async def f(u, s: Options):\n    s.get(u)\n"
        )));
        assert!(needs(
            "from requests import Session as S\nasync def f(u):\n    s = S()\n    s.get(u)\n"
        ));
    }

    #[test]
    fn rules_that_are_not_enabled_let_nothing_through() {
        let registry = Registry::bundled().unwrap();
        // UNF402 (gather) is off by default.
        let gather = "import asyncio\nasync def f(a, b):\n    await asyncio.gather(a, b)\n";
        assert!(!needs_analysis(
            gather,
            &registry,
            &RuleSelection::default()
        ));
        let selected = RuleSelection {
            extend_select: ["UNF402".to_owned()].into_iter().collect(),
            ..RuleSelection::default()
        };
        assert!(needs_analysis(gather, &registry, &selected));
        let ignored = RuleSelection {
            ignore: ["ASYNC251".to_owned()].into_iter().collect(),
            ..RuleSelection::default()
        };
        let sleep = "import time\nasync def f():\n    time.sleep(1)\n";
        assert!(!needs_analysis(sleep, &registry, &ignored));
    }

    #[test]
    fn a_nested_functions_header_runs_in_the_coroutine() {
        // ...but its parameter defaults are evaluated in the coroutine, and so is what
        // follows it.
        assert!(needs(
            "async def f(p):\n    def read(x=open(p)):\n        return x\n    return read\n"
        ));
        assert!(needs(
            "async def f(p):\n    def read():\n        pass\n    return open(p)\n"
        ));
    }

    #[test]
    fn own_coroutines_need_analysis_only_where_a_result_may_be_discarded() {
        let discarded = "async def g():\n    pass\nasync def f():\n    g()\n";
        assert!(needs(discarded));
        assert!(needs(
            "class A:\n    async def g(self):\n        pass\n    async def f(self):\n        self.g()\n"
        ));
        assert!(!needs(
            "async def g():\n    pass\nasync def f():\n    await g()\n"
        ));
    }

    #[test]
    fn a_modules_function_needs_the_module_or_an_import_alias_as_receiver() {
        assert!(needs(
            "import httpx as hx\nasync def f(u):\n    hx.get(u)\n"
        ));
        assert!(needs(
            "from os import path\nasync def f(p):\n    path.exists(p)\n"
        ));
        // `as client` in a `with` is not an import: `client.get` is not `httpx.get`.
        assert!(!needs(
            "import httpx\nasync def f(u):\n    async with httpx.AsyncClient() as client:\n        await client.get(u)\n"
        ));
    }

    #[test]
    fn a_call_matched_only_when_discarded_needs_a_statement_or_assignment() {
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f():\n    t = asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f():\n    loop = asyncio.get_event_loop()\n    loop.create_task(g())\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f(tasks):\n    tasks.append(asyncio.create_task(g()))\n    await asyncio.create_task(g())\n"
        ));
        // A chain through a call is seen whole: what it follows decides.
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.get_running_loop().create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f(x):\n    if x: (asyncio).create_task(g())\n"
        ));
        for kept in [
            "    return asyncio.get_running_loop().create_task(g())\n",
            "    run(task=asyncio.create_task(g()))\n",
            "    run({'t': asyncio.get_event_loop().create_task(g())})\n",
            "    run(lambda: asyncio.create_task(g()))\n",
            "    x = 1 + asyncio.create_task(g())\n",
        ] {
            let text = format!("import asyncio\ndef f():\n{kept}");
            assert!(!needs(&text), "{text}");
        }
    }

    #[test]
    fn an_own_coroutine_call_counts_only_where_its_result_may_be_thrown_away() {
        let coroutine = "async def job():\n    pass\n";
        assert!(needs(&format!("{coroutine}async def f():\n    job()\n")));
        assert!(needs(&format!(
            "{coroutine}async def f():\n    j = job()\n"
        )));
        for kept in [
            "    await job()\n",
            "    run(cb=job())\n",
            "    j = job()\n    await j\n",
            "    return [job()]\n",
        ] {
            let text = format!("{coroutine}async def f():\n{kept}");
            assert!(!needs(&text), "{text}");
        }
    }

    #[test]
    fn a_task_assigned_to_a_local_is_discarded_only_if_never_used_again() {
        assert!(needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    return 1\n"
        ));
        // Read afterwards (in a nested function too), or kept on an attribute or at module
        // level: the task is referenced.
        assert!(!needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    await task\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    def done():\n        return task\n    return done\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f(self):\n    self.task = asyncio.create_task(g())\n"
        ));
        assert!(!needs("import asyncio\ntask = asyncio.create_task(g())\n"));
        // The same name read in another function does not keep this one.
        assert!(needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\nasync def h(task):\n    await task\n"
        ));
    }

    #[test]
    fn broken_imports_do_not_stop_the_scan() {
        // `import as y` after a `from` import: the recorded bounds are out of order.
        let text =
            "from e import f\nimport as y\nfrom . import\nimport\nasync def g():\n    pass\n";
        let registry = Registry::bundled().unwrap();
        let facts = LexicalFacts::scan_functions(text, registry.interesting_words());
        assert!(facts.is_some());
    }

    /// The bodies the scan records: (function name, body text, pinned).
    fn bodies(text: &str) -> Vec<(String, String, bool)> {
        let registry = Registry::bundled().unwrap();
        let facts = LexicalFacts::scan_functions(text, registry.interesting_words()).unwrap();
        facts
            .bodies
            .iter()
            .map(|body| {
                (
                    facts.functions[body.function as usize].name.to_owned(),
                    text[body.range.clone()].to_owned(),
                    body.pinned,
                )
            })
            .collect()
    }

    #[test]
    fn bodies_of_functions_in_no_other_function_and_what_pins_them() {
        let text = "import os\n\n@cache\ndef load(path,\n         mode='r'):\n    def inner():\n        return 1\n    return open(path, mode)\n\n# between\n\nclass Repo:\n    async def save(self):\n        self.saved = True\n\n    def rows(self):\n        yield 1\n    def one_line(self): return 2\n    def flagged(self):\n        x = 1  # noqa: ASYNC230\n\ndef last():\n    global state\n    state = os.getcwd()";
        let found = bodies(text);
        let expect =
            |name: &str, body: &str, pinned: bool| (name.to_owned(), body.to_owned(), pinned);
        assert_eq!(
            found,
            vec![
                // From the first statement to the next line outside it, the comment and
                // blank lines between included; a nested function is part of it.
                expect(
                    "load",
                    "def inner():\n        return 1\n    return open(path, mode)\n\n# between\n\n",
                    false
                ),
                // An attribute assignment, a `yield`, a suppression comment, a `global`.
                expect("save", "self.saved = True\n\n", true),
                expect("rows", "yield 1\n", true),
                expect("flagged", "x = 1  # noqa: ASYNC230\n\n", true),
                expect("last", "global state\n    state = os.getcwd()", true),
            ]
        );
        // A keyword argument, a comparison or a value read from an attribute pins nothing.
        let plain = bodies("def f(a):\n    g(x=a.b)\n    return a.c == 1\n");
        assert_eq!(
            plain,
            vec![expect("f", "g(x=a.b)\n    return a.c == 1\n", false)]
        );
    }

    #[test]
    fn anywhere_codemods_and_unreadable_text_need_analysis() {
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import time\nasync def f():\n    x = 'open\n    time.sleep(1)\n"
        ));
        assert!(needs("import time\nasync def f():\n    x = (1\n"));
    }

    #[test]
    fn a_fix_round_leaves_out_the_bodies_no_fix_changed_unless_pinned_or_requests() {
        let registry = Registry::bundled().unwrap();
        let text = "import time\n\nclass C:\n    def __init__(self):\n        self.n = 1\n\n    async def a(self):\n        time.sleep(1)\n\n    async def b(self):\n        return self.n\n\ndef c():\n    return 2\n";
        let changed = text.find("time.sleep").unwrap();
        let left_out: Vec<&str> = bodies_a_fix_round_leaves_out(
            text,
            std::slice::from_ref(&(changed..changed + 13)),
            &registry,
        )
        .into_iter()
        .map(|body| text[body].trim_end())
        .collect();
        // `__init__` assigns an attribute (pinned), `a` was changed.
        assert_eq!(left_out, ["return self.n", "return 2"]);
        let with_requests = format!("import requests\n{text}");
        assert!(bodies_a_fix_round_leaves_out(&with_requests, &[], &registry).is_empty());
    }
}
