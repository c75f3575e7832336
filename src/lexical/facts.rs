//! The facts the lexical scan yields about one file ([`LexicalFacts`]: what is called where,
//! what names are bound to, what imports bind; with [`LexicalFacts::scan_functions`], the
//! functions, their bodies and the calls in each), and the questions they answer: may a call
//! of the file be a given matched call, may a name hold an object of a given class, which
//! scope sees which binding. The scan that fills them is `scanner.rs` and `collect.rs`; the
//! decisions read from them are `decide.rs`.

use foldhash::{HashMap, HashSet};

use crate::codemod::CallWords;

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
    /// For `name = f(...)`: the watch on `name` (`scanner::Watch::discards` settles
    /// `may_be_discarded` at the end of the scan).
    pub(super) watch: Option<usize>,
}

/// A call of an attribute, `receiver.name(...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AttributeCall<'t> {
    /// The receiver when it is a name, or a name just before a `)` (`(os.path).exists`).
    pub(super) receiver: Option<&'t str>,
    /// The receiver is a plain name (`name.call(...)`, not `a.name.call(...)`).
    pub(super) simple: bool,
    /// What kind of object a longer chain's receiver may be known as (the semantic index's
    /// object kinds).
    pub(super) chain: ChainReceiver<'t>,
    /// For `name = receiver.f(...)`: the watch on `name` (`scanner::Scanner::watches`); the
    /// result is discarded only if `name` is never used again in the function.
    pub(super) watch: Option<usize>,
    pub(super) in_async: bool,
    /// The scope the call is in ([`LexicalFacts::scope_parents`]).
    pub(super) scope: u32,
    /// It may start a statement or an assignment's value (`asyncio.create_task(...)` alone):
    /// its result may be discarded. Longer chains are assumed to.
    pub(super) may_be_discarded: bool,
}

/// The receiver of a method called on a longer chain, as far as the semantic index can know
/// its object's kind: only through an attribute of `self` or `cls` (what the class's methods
/// assign to it), `.parent` (a path's parent is a path), or what a call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChainReceiver<'t> {
    /// `self.name` or `cls.name`.
    OwnAttribute(&'t str),
    /// `Name.attr`, `Name` a plain name other than `self` / `cls`: a class attribute
    /// (`Baydb.session`), whose kind is its value's in the class body.
    ClassAttribute(&'t str),
    /// An attribute of anything else, other than `parent` (`a.b.get()`, `self.a.b.get()`):
    /// no kind.
    Unknown,
    /// A call's result, a subscript, a `.parent`, or a plain name (see `simple`).
    Other,
}

/// One binding of a name whose object's kind the semantic index may know: the scope it is
/// made in, and the words of its value or annotation (`None`: not known).
pub(super) type TypedBinding<'t> = (u32, Option<Vec<&'t str>>);

/// The scope serial of a module's top level.
pub(super) const MODULE_SCOPE: u32 = u32::MAX;

/// A call of a plain name or of `self.name` / `cls.name` (a call of the file's own function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OwnCall<'t> {
    pub(super) name: &'t str,
    pub(super) in_async: bool,
    /// It starts a statement or an assignment's value: its result may be discarded.
    pub(super) may_be_discarded: bool,
    /// For `name = f(...)`: the watch on `name`, as for [`AttributeCall::watch`].
    pub(super) watch: Option<usize>,
}

/// What the tokenizer-level scan learns of a file (see the module documentation).
#[derive(Debug, Default)]
pub struct LexicalFacts<'t> {
    /// The words of the code (outside comments and plain strings) that some call needs.
    pub(super) code_words: HashSet<&'t str>,
    /// Plain names called anywhere (`name(`).
    pub(super) called_names: HashSet<&'t str>,
    /// Plain names called inside an `async def`.
    pub(super) async_called_names: HashSet<&'t str>,
    /// Attribute calls (`receiver.name(`), by name.
    pub(super) attribute_calls: HashMap<&'t str, Vec<AttributeCall<'t>>>,
    /// Names an import binds with `as`.
    pub(super) import_aliases: HashSet<&'t str>,
    /// Names that may stand for another callable or a module, with the last segment of the
    /// dotted name each binding gives them: `import a.b as name`, `name = a.b`,
    /// `name: T = a.b`, `with a.b as name` (the values the semantic index follows; a call's
    /// result, a walrus or a loop target is never resolved to a callable).
    pub(super) bindings: HashMap<&'t str, Vec<&'t str>>,
    /// What the called names (in coroutines) may stand for ([`Self::reached_by_aliases`]).
    pub(super) aliases_reach: Option<HashSet<&'t str>>,
    pub(super) async_aliases_reach: Option<HashSet<&'t str>>,
    /// Names whose object the semantic index may know the kind of: assigned at a statement
    /// start (`name = ...`, `name: T = ...`), annotated (`name: T`, parameters included), or
    /// bound by `as`. Per binding: the scope it is made in ([`Self::scope_parents`]), and the
    /// names of the value or annotation, the words the kind is made of (`None`: not known,
    /// after `as`).
    pub(super) typed: HashMap<&'t str, Vec<TypedBinding<'t>>>,
    /// Each scope's enclosing scope, by serial ([`MODULE_SCOPE`] for the module).
    pub(super) scope_parents: Vec<u32>,
    /// Attributes assigned on `self` or `cls` (`self.name = ...`, `self.name: T = ...`): the
    /// only ones whose object's kind the semantic index may know.
    pub(super) own_attributes: HashSet<&'t str>,
    /// Names a `global` or `nonlocal` statement binds elsewhere: their bindings are seen
    /// from every scope.
    pub(super) unscoped: HashSet<&'t str>,
    /// Names a `from ... import` binds (aliases included).
    pub(super) from_imported: HashSet<&'t str>,
    /// The file has a `from ... import *`.
    pub(super) star_import: bool,
    /// Names defined by `async def`.
    pub(super) async_defs: HashSet<&'t str>,
    pub(super) own_calls: Vec<OwnCall<'t>>,
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
    /// models.Repo()`), or a member (`db` for `users = db.users` and `orders = db["orders"]`); see
    /// [`Self::sees_binding`].
    pub assigned_from_call: HashMap<&'t str, Vec<(u32, &'t str)>>,
    /// What the names imports bind stand for.
    pub imports: HashMap<&'t str, Vec<Imported<'t>>>,
    /// Names a plain `import` statement spells (`import a.b as c`: `a`, `b`, `c`).
    pub module_imported: HashSet<&'t str>,
}

/// How many assignments deep a name bound to another is followed (`nap = sleep`).
const MAX_ALIAS_DEPTH: usize = 8;

impl<'t> LexicalFacts<'t> {
    /// Whether the code (outside comments and plain strings) has `word`, one of the words
    /// some call of the registry needs ([`crate::codemod::Registry::interesting_words`]).
    pub fn code_has_word(&self, word: &str) -> bool {
        self.code_words.contains(word)
    }

    /// Whether some call in the file may resolve to `call`, in the context it is matched in.
    pub(super) fn may_call(&self, call: &CallWords) -> bool {
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
                            (_, ChainReceiver::ClassAttribute(name)) => {
                                self.may_hold_object_somewhere(name, call)
                            }
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

    /// Whether `self.name = ...` (or `cls.name`) is assigned somewhere in the file.
    pub fn is_own_attribute(&self, name: &str) -> bool {
        self.own_attributes.contains(name)
    }

    /// Whether `receiver`, used in `scope`, may hold an object of a class `is_class` accepts
    /// by one of its names: a binding the scope sees (assigned, annotated, a parameter's
    /// annotation) whose words include one, or whose kind is not known (`with ... as`).
    pub fn may_hold_instance(
        &self,
        receiver: &str,
        scope: u32,
        is_class: impl Fn(&str) -> bool,
    ) -> bool {
        self.typed.get(receiver).is_some_and(|bindings| {
            bindings
                .iter()
                .filter(|(bound_in, _)| self.sees_binding(receiver, scope, *bound_in))
                .any(|(_, kind)| kind.as_ref().is_none_or(|k| k.iter().any(|w| is_class(w))))
        })
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
            .any(|(_, kind)| self.kind_may_be(kind.as_deref(), words))
    }

    /// Whether some binding of `name`, in any scope (a class body's for `Baydb.session`),
    /// may hold an object of the method's class.
    fn may_hold_object_somewhere(&self, name: &str, words: &CallWords) -> bool {
        words.is_method
            && self.typed.get(name).is_some_and(|bindings| {
                bindings
                    .iter()
                    .any(|(_, kind)| self.kind_may_be(kind.as_deref(), words))
            })
    }

    /// Whether a binding whose value or annotation has the words `kind` (`None`: not known)
    /// may hold an object of the method's class.
    fn kind_may_be(&self, kind: Option<&[&str]>, words: &CallWords) -> bool {
        match kind {
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
        }
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
    pub(super) fn reached_by_aliases(&self, names: &HashSet<&'t str>) -> Option<HashSet<&'t str>> {
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
