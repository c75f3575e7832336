//! The project phase's lexical pass: which files the project rules need parsed at all.
//!
//! Parsing is most of a run's time, and a project's rules (UNF401 transitive blocking, UNF301
//! un-awaited coroutines across modules) could otherwise need every file with a coroutine
//! parsed, and every module those call into. Before any parse, every file's text goes
//! through the pre-filter's tokenizer ([`LexicalFacts::scan_functions`]), which tells, per
//! function, the names it calls and whether one of its calls may be blocking evidence. From
//! those, settled across the whole project by name (this module), come:
//!
//! - the names of the synchronous functions that **may** block: one whose body may make an
//!   evidence call, or may call, by name, a function that may block (an `import ... as`
//!   alias of such a name may too);
//! - the names of the project's coroutine functions.
//!
//! A file then needs the project's precise analysis only if one of its coroutines calls, not
//! awaited, a name that may block (UNF401), or may discard the result of a call of a
//! coroutine's name (UNF301); and the on-demand summaries follow only calls whose target's
//! name may block or is a coroutine's.
//!
//! Everything here over-approximates the precise summaries ([`super::summary`]): names are
//! matched by their last segment whatever the module, a call counts wherever its name can
//! resolve to a project function (an imported name, a name the file defines, `self.x`,
//! `cls.x`, a name assigned a call's result, a longer chain), awaited calls are left out only
//! where the `await` is seen, generators are not told apart, and a file the tokenizer cannot
//! follow is parsed and summarised precisely instead (its functions seed the sets by name). A
//! precise chain `coroutine -> f -> g -> blocking call` is made of names this pass finds
//! blocking, so the precise analysis reaches the same findings on fewer parsed files.

use foldhash::{HashMap, HashSet};

use crate::codemod::{CallWords, Registry};
use crate::prefilter::{LexicalCall, LexicalFacts, LexicalReceiver};

/// Where a called name is looked up: the file's own functions, a top-level package's, or
/// (a chain whose start the scan did not see) any package the file imports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    Local,
    /// An index in [`LexicalSummary::tops`].
    Top(u32),
    FileTops,
}

/// A name a call may reach, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    scope: Scope,
    name: String,
}

/// One file's lexical summary: owned, small, by name.
#[derive(Debug, Default, Clone)]
pub struct LexicalSummary {
    /// The top-level packages the file's names come from: its own first (`own` of them: a
    /// module importable under several names, the one relative imports use first), then those
    /// it imports from.
    tops: Vec<String>,
    own: u32,
    /// The synchronous functions that may block or call a project function.
    sync_functions: Vec<SyncFunction>,
    /// The names of the file's `async def`s.
    coroutines: Vec<String>,
    /// What the calls in coroutines' own bodies may reach (not awaited): UNF401.
    coroutine_calls: Vec<Key>,
    /// What the calls in coroutines whose result may be discarded may reach: UNF301.
    discarded_calls: Vec<Key>,
    /// `import ... as` aliases: the alias, the original name, and the index in `tops` of
    /// the package it is imported from.
    aliases: Vec<(String, String, u32)>,
}

#[derive(Debug, Clone)]
struct SyncFunction {
    name: String,
    /// A call in its body may be blocking evidence.
    may_block: bool,
    /// What its calls may reach.
    calls: Vec<Key>,
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

/// Builds one file's summary: the file's packages by index.
struct Summarizer<'f, 't> {
    facts: &'f LexicalFacts<'t>,
    tops: Vec<&'t str>,
}

impl<'t> Summarizer<'_, 't> {
    fn top(&mut self, top: &'t str) -> Scope {
        let index = match self.tops.iter().position(|&t| t == top) {
            Some(index) => index,
            None => {
                self.tops.push(top);
                self.tops.len() - 1
            }
        };
        Scope::Top(index as u32)
    }

    /// Where a name of the file may come from: an import's package (a relative import: the
    /// file's own), or the file itself (a `def` or `class`). Nothing for a builtin, a
    /// parameter or a local variable.
    fn scopes_of(&mut self, name: &str, scopes: &mut Vec<Scope>) {
        if let Some(&top) = self.facts.import_tops.get(name) {
            let scope = match top {
                Some(top) => self.top(top),
                None => Scope::Top(0),
            };
            scopes.push(scope);
        }
        if self.facts.defined.contains(name) {
            scopes.push(Scope::Local);
        }
    }

    /// What a call may reach: where its name can resolve to a project function (the
    /// precise summary's `call_target`, widened).
    fn reached(&mut self, call: &LexicalCall<'t>) -> Vec<Key> {
        let mut scopes = Vec::new();
        match call.receiver {
            LexicalReceiver::Plain => self.scopes_of(call.name, &mut scopes),
            LexicalReceiver::Name("self" | "cls") => scopes.push(Scope::Local),
            LexicalReceiver::Name(receiver) => {
                self.scopes_of(receiver, &mut scopes);
                // `repo = Repo()` (or `models.Repo()`) then `repo.save()`.
                let facts = self.facts;
                for callee in facts.assigned_from_call.get(receiver).into_iter().flatten() {
                    self.scopes_of(callee, &mut scopes);
                }
            }
            // `self.repo.save()` is not resolved: nor is a chain on `self`.
            LexicalReceiver::Expression {
                root: Some("self" | "cls"),
                ..
            } => {}
            LexicalReceiver::Expression {
                root: Some(root), ..
            } => self.scopes_of(root, &mut scopes),
            LexicalReceiver::Expression { root: None, .. } => scopes.push(Scope::FileTops),
            LexicalReceiver::Other => {}
        }
        scopes.sort_unstable_by_key(|scope| match scope {
            Scope::Local => 0,
            Scope::Top(i) => 1 + *i,
            Scope::FileTops => u32::MAX,
        });
        scopes.dedup();
        let mut names = vec![call.name];
        if call.receiver == LexicalReceiver::Plain {
            names.extend(self.facts.import_originals(call.name));
        }
        scopes
            .iter()
            .flat_map(|&scope| {
                names.iter().map(move |name| Key {
                    scope,
                    name: (*name).to_owned(),
                })
            })
            .collect()
    }
}

fn sorted_unique<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable();
    items.dedup();
    items
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |scope: &Scope| match scope {
            Scope::Local => (0, 0),
            Scope::Top(i) => (1, *i),
            Scope::FileTops => (2, 0),
        };
        (rank(&self.scope), &self.name).cmp(&(rank(&other.scope), &other.name))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl LexicalSummary {
    /// Summarise a scan made with [`LexicalFacts::scan_functions`] of a module of the
    /// packages `own_tops` (the one relative imports use first).
    pub fn of(facts: &LexicalFacts, evidence: &EvidenceCalls, own_tops: &[&str]) -> LexicalSummary {
        let mut summarizer = Summarizer {
            facts,
            tops: own_tops.to_vec(),
        };
        let mut sync: Vec<(bool, Vec<Key>)> = facts
            .functions
            .iter()
            .map(|_| (false, Vec::new()))
            .collect();
        let mut coroutine_calls = Vec::new();
        let mut discarded_calls = Vec::new();
        for call in &facts.function_calls {
            let function = facts.functions[call.function as usize];
            if call.awaited {
                continue;
            }
            if function.is_async {
                let reached = summarizer.reached(call);
                if call.may_be_discarded {
                    discarded_calls.extend(reached.iter().cloned());
                }
                coroutine_calls.extend(reached);
            } else {
                let (may_block, calls) = &mut sync[call.function as usize];
                if *may_block {
                    continue;
                }
                if evidence.may_match(facts, call) {
                    *may_block = true;
                } else {
                    calls.extend(summarizer.reached(call));
                }
            }
        }
        let sync_functions = facts
            .functions
            .iter()
            .zip(sync)
            .filter(|(function, (may_block, calls))| {
                !function.is_async && (*may_block || !calls.is_empty())
            })
            .map(|(function, (may_block, calls))| SyncFunction {
                name: function.name.to_owned(),
                may_block,
                calls: if may_block {
                    Vec::new()
                } else {
                    sorted_unique(calls)
                },
            })
            .collect();
        let coroutines = sorted_unique(
            facts
                .functions
                .iter()
                .filter(|f| f.is_async)
                .map(|f| f.name.to_owned())
                .collect(),
        );
        let aliases = facts
            .import_alias_pairs()
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(alias, original)| {
                let top = match facts.import_tops.get(alias) {
                    Some(Some(top)) => summarizer.top(top),
                    _ => Scope::Top(0),
                };
                let Scope::Top(top) = top else { unreachable!() };
                (alias.to_owned(), original.to_owned(), top)
            })
            .collect();
        LexicalSummary {
            tops: summarizer.tops.iter().map(|t| (*t).to_owned()).collect(),
            own: own_tops.len() as u32,
            sync_functions,
            coroutines,
            coroutine_calls: sorted_unique(coroutine_calls),
            discarded_calls: sorted_unique(discarded_calls),
            aliases,
        }
    }

    /// A file the tokenizer could not follow, from its precise summary: each function counts
    /// as blocking (whether it blocks by itself or calls anything).
    pub fn from_precise(summary: &super::FileSummary, own_tops: &[&str]) -> LexicalSummary {
        let last = |dotted: &str| dotted.rsplit('.').next().unwrap_or(dotted).to_owned();
        let mut tops: Vec<String> = own_tops.iter().map(|t| (*t).to_owned()).collect();
        let aliases = summary
            .imports
            .iter()
            .map(|(bound, absolute)| {
                let top = absolute.split('.').next().unwrap_or(absolute);
                let index = tops.iter().position(|t| t == top).unwrap_or_else(|| {
                    tops.push(top.to_owned());
                    tops.len() - 1
                });
                (bound.clone(), last(absolute), index as u32)
            })
            .collect();
        LexicalSummary {
            tops,
            own: own_tops.len() as u32,
            sync_functions: summary
                .functions
                .iter()
                .filter(|f| !f.is_async)
                .map(|f| SyncFunction {
                    name: last(&f.qualname),
                    may_block: true,
                    calls: Vec::new(),
                })
                .collect(),
            coroutines: summary
                .functions
                .iter()
                .filter(|f| f.is_async)
                .map(|f| last(&f.qualname))
                .collect(),
            coroutine_calls: Vec::new(),
            discarded_calls: Vec::new(),
            aliases,
        }
    }
}

/// The project's names that may matter to its rules, settled across every file.
#[derive(Debug, Default)]
pub struct LexicalProject {
    /// The top-level packages, by index.
    tops: HashMap<String, u32>,
    /// Names (of a file, or of a package) of synchronous functions that may block, and
    /// aliases of them.
    blocking: HashSet<(Option<usize>, u32, String)>,
    /// Names of coroutine functions, and aliases of them.
    coroutines: HashSet<(Option<usize>, u32, String)>,
}

impl LexicalProject {
    /// Settle the summaries (by file index; `None` for a file outside the project): a name
    /// may block if a synchronous function of that name, where the name is looked up, may
    /// block by itself or calls a name that may block, or if an import aliases such a name.
    /// Each name is settled once: linear in the calls.
    pub fn settle(summaries: &[Option<&LexicalSummary>]) -> Self {
        let mut tops: HashMap<String, u32> = HashMap::default();
        let mut top_ids: Vec<Vec<u32>> = Vec::with_capacity(summaries.len());
        for summary in summaries {
            let ids = summary
                .map(|summary| {
                    summary
                        .tops
                        .iter()
                        .map(|top| {
                            let next = tops.len() as u32;
                            *tops.entry(top.clone()).or_insert(next)
                        })
                        .collect()
                })
                .unwrap_or_default();
            top_ids.push(ids);
        }
        let expand = |file: usize, key: &'_ Key, out: &mut Vec<(Option<usize>, u32)>| {
            let ids = &top_ids[file];
            match key.scope {
                Scope::Local => out.push((Some(file), 0)),
                Scope::Top(i) => out.push((None, ids[i as usize])),
                Scope::FileTops => out.extend(ids.iter().map(|&id| (None, id))),
            }
        };
        type Name<'a> = (Option<usize>, u32, &'a str);
        let mut callers: HashMap<Name, Vec<Name>> = HashMap::default();
        let mut aliases: HashMap<Name, Vec<Name>> = HashMap::default();
        let mut blocking: HashSet<Name> = HashSet::default();
        let mut coroutines: HashSet<Name> = HashSet::default();
        let mut queue: Vec<Name> = Vec::new();
        let mut places = Vec::new();
        for (file, summary) in summaries.iter().enumerate() {
            let Some(summary) = summary else {
                continue;
            };
            let own = &top_ids[file][..summary.own as usize];
            for function in &summary.sync_functions {
                let name = function.name.as_str();
                let defined: Vec<Name> = std::iter::once((Some(file), 0, name))
                    .chain(own.iter().map(|&top| (None, top, name)))
                    .collect();
                if function.may_block {
                    for &key in &defined {
                        if blocking.insert(key) {
                            queue.push(key);
                        }
                    }
                    continue;
                }
                for call in &function.calls {
                    places.clear();
                    expand(file, call, &mut places);
                    for &(local, top) in &places {
                        let callee = (local, top, call.name.as_str());
                        // Reaching either of the function's names reaches the function:
                        // the local one stands for it.
                        callers
                            .entry(callee)
                            .or_default()
                            .extend(defined.iter().copied());
                    }
                }
            }
            for (alias, original, top) in &summary.aliases {
                let from = (None, top_ids[file][*top as usize], original.as_str());
                let to = std::iter::once((Some(file), 0, alias.as_str()))
                    .chain(own.iter().map(|&top| (None, top, alias.as_str())));
                aliases.entry(from).or_default().extend(to);
            }
            for name in &summary.coroutines {
                coroutines.insert((Some(file), 0, name));
                coroutines.extend(own.iter().map(|&top| (None, top, name.as_str())));
            }
        }
        while let Some(name) = queue.pop() {
            let reached = callers.get(&name).into_iter().flatten();
            for &next in reached.chain(aliases.get(&name).into_iter().flatten()) {
                if blocking.insert(next) {
                    queue.push(next);
                }
            }
        }
        // Coroutines re-exported under another name.
        let mut queue: Vec<Name> = coroutines.iter().copied().collect();
        while let Some(name) = queue.pop() {
            for &alias in aliases.get(&name).into_iter().flatten() {
                if coroutines.insert(alias) {
                    queue.push(alias);
                }
            }
        }
        let owned = |names: HashSet<Name>| {
            names
                .into_iter()
                .map(|(file, top, name)| (file, top, name.to_owned()))
                .collect()
        };
        LexicalProject {
            tops,
            blocking: owned(blocking),
            coroutines: owned(coroutines),
        }
    }

    fn any_in(
        &self,
        set: &HashSet<(Option<usize>, u32, String)>,
        file: usize,
        summary: &LexicalSummary,
        keys: &[Key],
    ) -> bool {
        let ids: Vec<Option<u32>> = summary
            .tops
            .iter()
            .map(|top| self.tops.get(top).copied())
            .collect();
        keys.iter().any(|key| {
            let name = key.name.clone();
            match key.scope {
                Scope::Local => set.contains(&(Some(file), 0, name)),
                Scope::Top(i) => ids[i as usize].is_some_and(|id| set.contains(&(None, id, name))),
                Scope::FileTops => ids
                    .iter()
                    .flatten()
                    .any(|&id| set.contains(&(None, id, name.clone()))),
            }
        })
    }

    /// Whether the file (by its index in [`Self::settle`]'s summaries) may have a finding of
    /// the project rules: a coroutine calls a name that may block, or may discard a call of a
    /// coroutine's name.
    pub fn may_have_findings(&self, file: usize, summary: &LexicalSummary) -> bool {
        self.any_in(&self.blocking, file, summary, &summary.coroutine_calls)
            || self.any_in(&self.coroutines, file, summary, &summary.discarded_calls)
    }

    /// Whether a call resolved to `target` (an absolute dotted name) may take part in a
    /// project finding: the function's name may block or is a coroutine's, in its package.
    pub fn may_matter(&self, target: &str) -> bool {
        let top = target.split('.').next().unwrap_or(target);
        let name = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.tops.get(top).is_some_and(|&id| {
            let key = (None, id, name);
            self.blocking.contains(&key) || self.coroutines.contains(&key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settle `files` (all of package `app`).
    fn project(files: &[&str]) -> (LexicalProject, Vec<LexicalSummary>) {
        let registry = Registry::bundled().unwrap();
        let evidence = EvidenceCalls::new(&registry);
        let summaries: Vec<LexicalSummary> = files
            .iter()
            .map(|text| {
                let facts =
                    LexicalFacts::scan_functions(text, registry.interesting_words()).unwrap();
                LexicalSummary::of(&facts, &evidence, &["app"])
            })
            .collect();
        let refs: Vec<Option<&LexicalSummary>> = summaries.iter().map(Some).collect();
        (LexicalProject::settle(&refs), summaries)
    }

    fn candidates(project: &LexicalProject, files: &[LexicalSummary]) -> Vec<usize> {
        (0..files.len())
            .filter(|&i| project.may_have_findings(i, &files[i]))
            .collect()
    }

    #[test]
    fn a_chain_across_files_makes_the_coroutines_file_a_candidate() {
        let (project, files) = project(&[
            "import requests\ndef fetch_json(u):\n    return requests.get(u).json()\n",
            "from .net import fetch_json\ndef load_profile(u):\n    return fetch_json(u)\n",
            "from .helpers import load_profile\nasync def handler(u):\n    return load_profile(u)\n",
            "from .helpers import load_profile\nasync def other(u):\n    return await load_profile(u)\n",
            "async def unrelated(d):\n    return d.get('x')\n",
            // The same name, in another package: not this project's function.
            "from other.helpers import load_profile\nasync def elsewhere(u):\n    load_profile(u)\n",
        ]);
        assert!(project.may_matter("app.net.fetch_json"));
        assert!(project.may_matter("app.helpers.load_profile"));
        assert!(!project.may_matter("other.helpers.load_profile"));
        assert!(!project.may_matter("app.helpers.unrelated_helper"));
        // Awaited, a method of an unknown object, or another package's function: nothing.
        assert_eq!(candidates(&project, &files), vec![2]);
    }

    #[test]
    fn one_line_bodies_aliases_and_methods_are_followed() {
        let (project, files) = project(&[
            "import time\ndef nap(): time.sleep(1)\n",
            "from .a import nap as rest\nclass Repo:\n    def save(self):\n        rest()\n",
            "from .b import Repo\nasync def handler():\n    repo = Repo()\n    repo.save()\n",
            "class C:\n    def helper(self):\n        return 1\n    async def run(self):\n        self.helper()\n",
            "from . import b\nasync def handler():\n    b.Repo().save()\n",
            "class D:\n    async def run(self):\n        self.repo.save()\n",
        ]);
        assert!(project.may_matter("app.a.nap"));
        assert!(project.may_matter("app.b.rest"));
        assert!(project.may_matter("app.b.Repo.save"));
        // `self.repo.save()` is not resolved by the precise analysis either.
        assert_eq!(candidates(&project, &files), vec![2, 4]);
    }

    #[test]
    fn a_discarded_call_of_a_coroutine_is_a_candidate() {
        let (project, files) = project(&[
            "async def save_audit(x):\n    pass\n",
            "from .audit import save_audit\nasync def handler(x):\n    save_audit(x)\n",
            "from .audit import save_audit\nasync def handler(x):\n    await save_audit(x)\n",
        ]);
        assert_eq!(candidates(&project, &files), vec![1]);
    }

    #[test]
    fn recursion_and_cycles_end() {
        let (project, _) = project(&[
            "def a():\n    return b()\ndef b():\n    return a()\n",
            "import time\ndef c():\n    c()\n    time.sleep(1)\n",
        ]);
        assert!(!project.may_matter("app.x.a"));
        assert!(project.may_matter("app.y.c"));
    }
}
