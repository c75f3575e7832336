//! The project phase's lexical pass, per file: what a file's scan tells the project rules
//! ([`LexicalSummary`]); `lexical_settle.rs` settles the summaries across the project, which
//! decides which files the project rules need parsed at all.
//!
//! Parsing is most of a run's time, and a project's rules (UNF401 transitive blocking, UNF301
//! un-awaited coroutines across modules) could otherwise need every file with a coroutine
//! parsed, and every module those call into. Before any parse, every file's text goes
//! through the pre-filter's tokenizer ([`LexicalFacts::scan_functions`]), which tells, per
//! function, the names it calls and whether one of its calls may be blocking evidence. From
//! those, settled across the whole project by name (`lexical_settle.rs`), come:
//!
//! - the names of the synchronous functions that **may** block: one whose body may make an
//!   evidence call, or may call, by name, a function that may block (an `import ... as`
//!   alias of such a name may too);
//! - the names of the project's coroutine functions.
//!
//! A file then needs the project's precise analysis only if one of its coroutines calls, not
//! awaited, a name that may block (UNF401), or may discard the result of a call of a
//! coroutine's name (UNF301); and the on-demand summaries follow only calls whose target's
//! name may block or is a coroutine's. Within a file parsed for the project rules alone, the
//! same sets tell which function bodies nothing in can matter: the parse leaves them out
//! ([`super::LexicalProject::bodies_left_out`], `masked.rs`).
//!
//! Everything here over-approximates the precise summaries ([`super::summary`]): names are
//! matched by their last segment whatever the module, a call counts wherever its name can
//! resolve to a project function (an imported name, a name the file defines, `self.x`,
//! `cls.x`, a name assigned a call's result, a longer chain), awaited calls are left out only
//! where the `await` is seen, generators are not told apart, and a file the tokenizer cannot
//! follow is parsed and summarised precisely instead (its functions seed the sets by name). A
//! precise chain `coroutine -> f -> g -> blocking call` is made of names this pass finds
//! blocking, so the precise analysis reaches the same findings on fewer parsed files.
//!
//! It lives in `project/`, after the lexical pre-pass (`crate::lexical`), not in it: it reads
//! the module map (`modules.rs`) and, for a file the scanner cannot follow, the precise
//! summary, and the project's on-demand lookup consults the settled result
//! ([`super::ProjectLookup::Speculative`]). So `project` imports `lexical`'s facts, and
//! `lexical` imports nothing of the project: the arrows run down the data flow.

use foldhash::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use super::modules::{ModuleInfo, absolute_name};
use crate::codemod::{CallWords, Registry};
use crate::lexical::{Imported, LexicalCall, LexicalFacts, LexicalFunction, LexicalReceiver};

/// Where a called name is looked up: the file's own functions, or a module (or class) path
/// and everything under it (`app.models` for `models.save()` after `from app import models`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(super) enum Scope {
    Local,
    Path(String),
    /// A method of that name on any project class: a call on a receiver whose class the
    /// precise pass may know (`self.sdk.quote()`, `client.quote()` with `client: Client`,
    /// a method inherited from a base class).
    AnyMethod,
}

/// A name a call may reach, and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(super) struct Key {
    pub(super) scope: Scope,
    pub(super) name: String,
}

/// One file's lexical summary: owned, small, by name.
/// Serialised in the result cache (`cache.rs`).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct LexicalSummary {
    /// The names the module is importable under (the one relative imports use first).
    pub(super) modules: Vec<String>,
    /// The synchronous functions that may block or call a project function.
    pub(super) sync_functions: Vec<SyncFunction>,
    /// The file's `async def`s: name, and the classes each is a method of (`None`: nested in
    /// a function).
    pub(super) coroutines: Vec<(String, Option<String>)>,
    /// What the calls in coroutines' own bodies may reach (not awaited): UNF401.
    pub(super) coroutine_calls: Vec<Key>,
    /// What the calls in coroutines whose result may be discarded may reach: UNF301.
    pub(super) discarded_calls: Vec<Key>,
    /// `from module import name [as bound]`: `(module, name, bound)`, the module absolute.
    pub(super) imported_names: Vec<(String, String, String)>,
    /// `import module as bound`: `(module, bound)`.
    pub(super) imported_modules: Vec<(String, String)>,
    /// The bodies of its functions in no other function, and what their calls (nested
    /// functions' included) may reach: a parse may leave out those that cannot matter
    /// ([`super::LexicalProject::bodies_left_out`]).
    pub(super) bodies: Vec<Body>,
    /// What the bodies' calls may reach, each once (the bodies refer to them by index).
    pub(super) body_keys: Vec<Key>,
    /// It may run a coroutine it imports from the project on a new loop
    /// (`asyncio.run(main(args))`): summarized for the single-task recognition across
    /// modules (`project/entered.rs`) even when nothing in it can be a finding.
    #[serde(default)]
    pub may_run_entry: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Body {
    pub(super) range: std::ops::Range<u32>,
    /// Always parsed ([`crate::lexical::FunctionBody::pinned`]), or a call in it may be
    /// blocking evidence.
    pub(super) kept: bool,
    /// What its calls may reach (in `body_keys`), awaited ones included: a function that may
    /// block makes it matter.
    pub(super) calls: Box<[u32]>,
    /// What its calls whose result may be thrown away may reach: a coroutine makes it matter
    /// (UNF301; calling a coroutine function does nothing else a finding or a summary
    /// needs).
    pub(super) discarded: Box<[u32]>,
    /// The function's name, and whether it is a coroutine function.
    pub(super) name: String,
    pub(super) is_async: bool,
    /// The names of the module's functions and of its class's methods that it calls
    /// (`helper(...)`, `self.helper(...)`), each once, whatever else is in the body: a fix
    /// that moves this function to a worker thread moves them with it, so what they do
    /// decides the fix ([`super::LexicalProject::bodies_left_out`]).
    pub(super) local_calls: Box<[String]>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SyncFunction {
    pub(super) name: String,
    /// The classes it is a method of, dotted (`""` for a module's function); `None` for a
    /// function nested in another one.
    pub(super) classes: Option<String>,
    /// A call in its body may be blocking evidence.
    pub(super) may_block: bool,
    /// What its calls may reach.
    pub(super) calls: Vec<Key>,
}

/// The evidence calls (the matches that make a synchronous function block, see
/// [`Registry::is_evidence`]), by their last segment.
pub struct EvidenceCalls<'r> {
    by_tail: HashMap<&'r str, Vec<&'r CallWords>>,
    all: Vec<&'r CallWords>,
}

impl<'r> EvidenceCalls<'r> {
    pub fn new(registry: &'r Registry) -> EvidenceCalls<'r> {
        let all: Vec<&CallWords> = registry
            .calls_with_words(|_| true)
            .filter(|call| registry.is_evidence(call.codemod))
            .collect();
        let mut by_tail: HashMap<&str, Vec<&CallWords>> = HashMap::default();
        for &call in &all {
            by_tail.entry(call.tail.as_str()).or_default().push(call);
        }
        EvidenceCalls { by_tail, all }
    }

    /// Whether `call` may be an evidence call.
    fn may_match(&self, facts: &LexicalFacts, call: &LexicalCall) -> bool {
        let named = self
            .by_tail
            .get(call.name)
            .is_some_and(|calls| calls.iter().any(|words| facts.may_be_call_of(call, words)));
        // A plain name bound to an evidence call (`nap = time.sleep`).
        named
            || (call.receiver == LexicalReceiver::Plain
                && facts.is_bound(call.name)
                && self
                    .all
                    .iter()
                    .any(|words| facts.may_be_call_of(call, words)))
    }
}

/// A module name as written in an import (`. helpers`, `app.\\\n net`), without the spaces,
/// made absolute.
fn absolute_module(module: &ModuleInfo, written: &str) -> Option<String> {
    let compact: String = written
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\\')
        .collect();
    absolute_name(module, &compact)
}

/// Builds one file's summary.
struct Summarizer<'f, 't> {
    facts: &'f LexicalFacts<'t>,
    module: &'f ModuleInfo,
    /// Whether an absolute dotted name is in the project (starts with one of its top-level
    /// modules): calls and imports elsewhere cannot reach a project function.
    in_project: &'f dyn Fn(&str) -> bool,
    /// [`Self::project_module`]'s answers: a file's calls go through the same few imports.
    project_modules: std::cell::RefCell<HashMap<&'t str, Option<String>>>,
    /// The file's methods, `(their classes, dotted; the name)`: `self.name()` in a class
    /// defining `name` reaches that method, never a base's.
    own_methods: HashSet<(String, &'t str)>,
}

impl<'t> Summarizer<'_, 't> {
    /// A module name as written in the file, made absolute, if it is the project's.
    fn project_module(&self, written: &'t str) -> Option<String> {
        self.project_modules
            .borrow_mut()
            .entry(written)
            .or_insert_with(|| {
                absolute_module(self.module, written).filter(|name| (self.in_project)(name))
            })
            .clone()
    }

    /// Where a name of the file may lead as the start of a chain (`name.x(...)`): a module or
    /// class an import names, or the file itself (a `def` or `class`). Nothing for a builtin,
    /// a parameter or a local variable.
    fn scopes_of_root(&self, name: &str, scopes: &mut Vec<Scope>) {
        for imported in self.facts.imports.get(name).into_iter().flatten() {
            let path = match imported {
                Imported::Module(path) => self.project_module(path),
                Imported::Name { module, name } => self
                    .project_module(module)
                    .map(|module| format!("{module}.{name}")),
            };
            scopes.extend(path.map(Scope::Path));
        }
        if self.facts.defined.contains(name) {
            scopes.push(Scope::Local);
        }
    }

    /// Whether `name` may stand for an object of a project class, as the precise analysis
    /// resolves receivers: anything but an import from outside the project (`json`,
    /// `from requests import Session`) or, unless `through_modules` (a chain such as
    /// `models.Client().quote()`), a project module (whose functions `Scope::Path` finds).
    fn may_hold_project_object(&self, name: &str, through_modules: bool) -> bool {
        match self.facts.imports.get(name) {
            Some(imports) if !imports.is_empty() => imports.iter().any(|imported| match imported {
                Imported::Module(path) => through_modules && self.project_module(path).is_some(),
                Imported::Name { module, .. } => self.project_module(module).is_some(),
            }),
            _ => true,
        }
    }

    /// Whether `word` may name a project class: a class of the file, or a name or module
    /// imported from the project.
    fn may_name_project_class(&self, word: &str) -> bool {
        self.facts.defined.contains(word)
            || self
                .facts
                .imports
                .get(word)
                .into_iter()
                .flatten()
                .any(|imported| match imported {
                    Imported::Module(path) => self.project_module(path).is_some(),
                    Imported::Name { module, .. } => self.project_module(module).is_some(),
                })
    }

    /// What a call may reach: where its name can resolve to a project function (the
    /// precise summary's `call_target`, widened).
    fn reached(&self, call: &LexicalCall<'t>) -> Vec<Key> {
        let mut keys: Vec<Key> = Vec::new();
        let mut scopes = Vec::new();
        match call.receiver {
            LexicalReceiver::Plain => {
                for imported in self.facts.imports.get(call.name).into_iter().flatten() {
                    if let Imported::Name { module, name } = imported
                        && let Some(module) = self.project_module(module)
                    {
                        keys.push(Key {
                            scope: Scope::Path(module),
                            name: (*name).to_owned(),
                        });
                    }
                }
                if self.facts.defined.contains(call.name) {
                    scopes.push(Scope::Local);
                }
            }
            // A method of the calling method's class, as `call_target` resolves it (no
            // base classes); anywhere in the file from a nested function.
            LexicalReceiver::Name("self" | "cls") => {
                match &self.facts.functions[call.function as usize].classes {
                    Some(classes) if !classes.is_empty() => {
                        let classes = classes.join(".");
                        // Or inherited from a base class, when the class does not define it.
                        if !self.own_methods.contains(&(classes.clone(), call.name)) {
                            scopes.push(Scope::AnyMethod);
                        }
                        scopes.push(Scope::Path(format!("{}.{classes}", self.module.name)));
                    }
                    _ => {
                        scopes.push(Scope::AnyMethod);
                        scopes.push(Scope::Local);
                    }
                }
            }
            LexicalReceiver::Name(receiver) => {
                // An object of a project class, as the precise analysis knows one: a name
                // assigned or annotated with words that may name a project class (a local, a
                // global, a parameter), a name imported from a project module.
                if self.may_hold_project_object(receiver, false)
                    && (self.facts.imports.contains_key(receiver)
                        || self.facts.may_hold_instance(receiver, call.scope, |word| {
                            self.may_name_project_class(word)
                        }))
                {
                    scopes.push(Scope::AnyMethod);
                }
                self.scopes_of_root(receiver, &mut scopes);
                // `repo = Repo()` (or `models.Repo()`) then `repo.save()`.
                for (_, callee) in self
                    .facts
                    .assigned_from_call
                    .get(receiver)
                    .into_iter()
                    .flatten()
                    .filter(|(bound_in, _)| {
                        self.facts.sees_binding(receiver, call.scope, *bound_in)
                    })
                {
                    self.scopes_of_root(callee, &mut scopes);
                }
            }
            // `self.repo.save()`: a method of the class of what `self.repo` holds, when the
            // file assigns `self.repo`.
            // `self.bot.get_cog("Economy").get_balance()`: a method of the object a lookup by
            // name returns (`[[lookup-by-name]]`), which the precise pass may know.
            LexicalReceiver::Expression {
                root: Some("self" | "cls"),
                before,
            } => {
                if before.is_none_or(|attribute| self.facts.is_own_attribute(attribute)) {
                    scopes.push(Scope::AnyMethod);
                }
            }
            LexicalReceiver::Expression { root: None, .. } => {}
            LexicalReceiver::Expression {
                root: Some(root), ..
            } => {
                // `Client().quote()`, `models.Client().quote()`.
                if self.may_hold_project_object(root, true) {
                    scopes.push(Scope::AnyMethod);
                }
                self.scopes_of_root(root, &mut scopes);
            }
        }
        keys.extend(scopes.into_iter().map(|scope| Key {
            scope,
            name: call.name.to_owned(),
        }));
        keys
    }
}

fn sorted_unique<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items.dedup();
    items
}

impl LexicalSummary {
    /// Whether it may run a project coroutine it imports on a new loop
    /// ([`LexicalSummary::may_run_entry`]).
    pub fn may_run_entry(&self) -> bool {
        self.may_run_entry
    }

    /// Whether it is a package's `__init__.py` importing project names: what it re-exports
    /// tells which coroutine an entry file's `from pkg import main` runs.
    pub fn reexports(&self) -> bool {
        !self.imported_names.is_empty()
            && self.modules.first().is_some_and(|m| {
                self.imported_names
                    .iter()
                    .any(|(module, _, _)| module.starts_with(&format!("{m}.")))
            })
    }

    /// Summarise a scan made with [`LexicalFacts::scan_functions`] of `module`, in a
    /// project whose names `in_project` tells.
    pub fn of(
        facts: &LexicalFacts,
        evidence: &EvidenceCalls,
        module: &ModuleInfo,
        in_project: &dyn Fn(&str) -> bool,
    ) -> LexicalSummary {
        let summarizer = Summarizer {
            facts,
            module,
            in_project,
            project_modules: Default::default(),
            own_methods: facts
                .functions
                .iter()
                .filter_map(|f| match &f.classes {
                    Some(classes) if !classes.is_empty() => Some((classes.join("."), f.name)),
                    _ => None,
                })
                .collect(),
        };
        let mut sync: Vec<(bool, Vec<Key>)> = facts
            .functions
            .iter()
            .map(|_| (false, Vec::new()))
            .collect();
        let mut coroutine_calls = Vec::new();
        let mut discarded_calls = Vec::new();
        // Per body: kept, and the keys of its calls and of its discarded calls.
        let facts_bodies = &facts.bodies;
        let mut bodies: Vec<(bool, Vec<Key>, Vec<Key>)> = facts_bodies
            .iter()
            .map(|body| (body.pinned, Vec::new(), Vec::new()))
            .collect();
        let mut body_of: Vec<Option<usize>> = vec![None; facts.functions.len()];
        for (i, body) in facts_bodies.iter().enumerate() {
            body_of[body.function as usize] = Some(i);
        }
        let mut local_calls: Vec<Vec<&str>> = vec![Vec::new(); facts_bodies.len()];
        for call in &facts.function_calls {
            let function = &facts.functions[call.function as usize];
            let local = match call.receiver {
                LexicalReceiver::Plain => facts.defined.contains(call.name),
                LexicalReceiver::Name(receiver) => matches!(receiver, "self" | "cls"),
                _ => false,
            };
            if local && let Some(i) = body_of[function.outermost as usize] {
                local_calls[i].push(call.name);
            }
            // The call counts for its body (awaited or not) unless the body is kept anyway,
            // for a coroutine's calls unless awaited, for a synchronous function's until one
            // of them may block. Its evidence and what it reaches are worked out once.
            let body = body_of[function.outermost as usize].filter(|&i| !bodies[i].0);
            let in_coroutine = !call.awaited && function.is_async;
            let in_sync = !call.awaited && !function.is_async && !sync[call.function as usize].0;
            if body.is_none() && !in_coroutine && !in_sync {
                continue;
            }
            let is_evidence = (body.is_some() || in_sync) && evidence.may_match(facts, call);
            let reached = if in_coroutine || !is_evidence {
                summarizer.reached(call)
            } else {
                Vec::new()
            };
            if let Some(i) = body {
                let (kept, calls, discarded) = &mut bodies[i];
                if is_evidence {
                    *kept = true;
                    *calls = Vec::new();
                    *discarded = Vec::new();
                } else {
                    if call.may_be_discarded {
                        discarded.extend(reached.iter().cloned());
                    }
                    calls.extend(reached.iter().cloned());
                }
            }
            if in_coroutine {
                if call.may_be_discarded {
                    discarded_calls.extend(reached.iter().cloned());
                }
                coroutine_calls.extend(reached);
            } else if in_sync {
                let (may_block, calls) = &mut sync[call.function as usize];
                if is_evidence {
                    *may_block = true;
                } else {
                    calls.extend(reached);
                }
            }
        }
        let classes = |function: &LexicalFunction| function.classes.as_ref().map(|c| c.join("."));
        let sync_functions = facts
            .functions
            .iter()
            .zip(sync)
            .filter(|(function, (may_block, calls))| {
                !function.is_async && (*may_block || !calls.is_empty())
            })
            .map(|(function, (may_block, calls))| SyncFunction {
                name: function.name.to_owned(),
                classes: classes(function),
                may_block,
                calls: if may_block {
                    Vec::new()
                } else {
                    sorted_unique(calls)
                },
            })
            .collect();
        let coroutines = facts
            .functions
            .iter()
            .filter(|f| f.is_async)
            .map(|f| (f.name.to_owned(), classes(f)))
            .collect();
        let mut imported_names = Vec::new();
        let mut imported_modules = Vec::new();
        for (&bound, imports) in &facts.imports {
            for imported in imports {
                match imported {
                    Imported::Name {
                        module: written,
                        name,
                    } => {
                        if let Some(absolute) = summarizer.project_module(written) {
                            imported_names.push((absolute, (*name).to_owned(), bound.to_owned()));
                        }
                    }
                    Imported::Module(written) => {
                        if let Some(absolute) = summarizer.project_module(written)
                            && absolute != bound
                        {
                            imported_modules.push((absolute, bound.to_owned()));
                        }
                    }
                }
            }
        }
        let mut body_keys = Vec::new();
        let mut key_ids: HashMap<Key, u32> = HashMap::default();
        let mut ids = |keys: Vec<Key>| -> Box<[u32]> {
            sorted_unique(keys)
                .into_iter()
                .map(|key| {
                    *key_ids.entry(key).or_insert_with_key(|key| {
                        body_keys.push(key.clone());
                        body_keys.len() as u32 - 1
                    })
                })
                .collect()
        };
        let bodies = facts_bodies
            .iter()
            .zip(bodies)
            .zip(local_calls)
            .map(|((body, (kept, calls, discarded)), local_calls)| {
                let function = &facts.functions[body.function as usize];
                Body {
                    range: body.range.start as u32..body.range.end as u32,
                    kept,
                    calls: ids(calls),
                    discarded: ids(discarded),
                    name: function.name.to_owned(),
                    is_async: function.is_async,
                    local_calls: sorted_unique(local_calls)
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                }
            })
            .collect();
        LexicalSummary {
            modules: module.names.clone(),
            sync_functions,
            coroutines,
            coroutine_calls: sorted_unique(coroutine_calls),
            discarded_calls: sorted_unique(discarded_calls),
            imported_names,
            imported_modules,
            bodies,
            body_keys,
            may_run_entry: false,
        }
    }

    /// Keep the bodies the per-file rules, or their fixes, may read: for a file the
    /// pre-filter lets through, whose parse then serves those rules as well as the project's.
    ///
    /// Outside coroutines only a call matched in any context (`asyncio.create_task`) can be a
    /// finding. Beyond its call's function, an analysis or a fix reads the module's names,
    /// the classes' attributes (bodies assigning one are pinned already), and whether the
    /// file imports `asyncio` anywhere (which decides between asyncio's and trio's API). So
    /// a body is kept when its function is a coroutine, or when its text has `async` (a
    /// nested coroutine, `asyncio`) or the name of a call matched in any context: comments
    /// and strings count, which only keeps more. Every body is kept in a file whose code
    /// names a module fixed file-wide or a word an offload idiom reads file-wide
    /// ([`Registry::words_read_file_wide`]), or when a rule on
    /// coroutine calls counts them outside coroutines. The bodies kept for the project
    /// ([`Body::kept`]) stay kept.
    pub fn keep_bodies_the_file_rules_read(
        &mut self,
        facts: &LexicalFacts,
        text: &str,
        registry: &Registry,
    ) {
        let keep_all = registry
            .words_read_file_wide()
            .iter()
            .any(|module| facts.code_has_word(module))
            || registry
                .coroutine_codemods()
                .iter()
                .any(|&i| !registry.codemod(i).async_only);
        let matched_anywhere: Vec<&str> = registry
            .calls_with_words(|_| true)
            .filter(|call| !call.async_only)
            .map(|call| call.tail.as_str())
            .collect();
        for (body, scanned) in self.bodies.iter_mut().zip(&facts.bodies) {
            if body.kept {
                continue;
            }
            let code = &text[scanned.range.clone()];
            // A framework's startup hook registered in a function (`post_init(f)` in `main`):
            // the single-task recognition reads the registration.
            let registers_hook = || {
                let hooks = &registry.single_task().hooks;
                hooks.iter().any(|hook| code.contains(hook.name.as_str()))
            };
            body.kept = keep_all
                || facts.functions[scanned.function as usize].is_async
                || code.contains("async")
                || matched_anywhere.iter().any(|tail| code.contains(tail))
                || registers_hook();
        }
    }

    /// Keep every body of a file whose code names a single-task entry call or a framework's
    /// startup hook (`asyncio.run`, `run_until_complete`, `lifespan`: the registry's
    /// single-task words), when a codemod spares single-task scripts: the recognition reads
    /// the function holding the entry call, the coroutines it reaches and the helpers they
    /// call first (`analyze/entry.rs`), and so does the file's summary (whether it has an
    /// entry point, what each function starts). A body left out would change its verdict
    /// with the pre-filter's: a file whose direct findings a run fixed is no longer let
    /// through, and its next run would move the calls the first one left.
    pub fn keep_bodies_the_single_task_recognition_reads(
        &mut self,
        facts: &LexicalFacts,
        registry: &Registry,
    ) {
        let spares_single_task = registry.codemods().iter().any(|c| c.unless_single_task);
        self.may_run_entry = spares_single_task
            && !self.imported_names.is_empty()
            && registry.single_task().new_loop_calls.iter().any(|call| {
                // Its module's word and its own: `asyncio` and `run`.
                let first = call.split('.').next().unwrap_or(call);
                let last = call.rsplit('.').next().unwrap_or(call);
                facts.code_has_word(first) && facts.code_has_word(last)
            });
        if spares_single_task
            && registry
                .single_task_words()
                .iter()
                .any(|word| facts.code_has_word(word))
        {
            for body in &mut self.bodies {
                body.kept = true;
            }
        }
    }

    /// A file the tokenizer could not follow, from its precise summary: each function counts
    /// as blocking (whether it blocks by itself or calls anything).
    pub fn from_precise(summary: &super::FileSummary, module: &ModuleInfo) -> LexicalSummary {
        let split = |qualname: &str| -> (String, Option<String>) {
            match qualname.rsplit_once('.') {
                None => (qualname.to_owned(), Some(String::new())),
                Some((_, name)) if qualname.contains("<locals>") => (name.to_owned(), None),
                Some((classes, name)) => (name.to_owned(), Some(classes.to_owned())),
            }
        };
        LexicalSummary {
            modules: module.names.clone(),
            sync_functions: summary
                .functions
                .iter()
                .filter(|f| !f.is_async)
                .map(|f| {
                    let (name, classes) = split(&f.qualname);
                    SyncFunction {
                        name,
                        classes,
                        may_block: true,
                        calls: Vec::new(),
                    }
                })
                .collect(),
            coroutines: summary
                .functions
                .iter()
                .filter(|f| f.is_async)
                .map(|f| split(&f.qualname))
                .collect(),
            coroutine_calls: Vec::new(),
            discarded_calls: Vec::new(),
            imported_names: summary
                .imports
                .iter()
                .filter_map(|(bound, absolute)| {
                    let (module, name) = absolute.rsplit_once('.')?;
                    Some((module.to_owned(), name.to_owned(), bound.clone()))
                })
                .collect(),
            imported_modules: Vec::new(),
            bodies: Vec::new(),
            body_keys: Vec::new(),
            may_run_entry: !summary.entry_runs.is_empty(),
        }
    }
}
