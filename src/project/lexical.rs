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

/// One file's lexical summary: owned, small, by name.
#[derive(Debug, Default, Clone)]
pub struct LexicalSummary {
    /// The synchronous functions that may block or call a project function.
    sync_functions: Vec<SyncFunction>,
    /// The names of the file's `async def`s.
    coroutines: Vec<String>,
    /// What the calls in coroutines' own bodies may reach (not awaited): UNF401.
    coroutine_calls: Vec<String>,
    /// What the calls in coroutines whose result may be discarded may reach: UNF301.
    discarded_calls: Vec<String>,
    /// `import ... as` aliases: `(alias, original)`.
    aliases: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct SyncFunction {
    name: String,
    /// A call in its body may be blocking evidence.
    may_block: bool,
    /// The names of the project functions its calls may reach.
    calls: Vec<String>,
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

/// The names a call may reach in the project: none when its name cannot resolve to a project
/// function (a builtin, a parameter, a method of an unknown object).
fn reached_names<'t>(facts: &LexicalFacts<'t>, call: &LexicalCall<'t>) -> Vec<&'t str> {
    let known = |name: &str| facts.is_imported(name) || facts.defined.contains(name);
    let resolvable = match call.receiver {
        LexicalReceiver::Plain => known(call.name),
        LexicalReceiver::Name(receiver) => {
            matches!(receiver, "self" | "cls")
                || known(receiver)
                || facts.assigned_from_call.contains(receiver)
        }
        LexicalReceiver::Expression(_) => true,
        LexicalReceiver::Other => false,
    };
    if !resolvable {
        return Vec::new();
    }
    let mut names = vec![call.name];
    if call.receiver == LexicalReceiver::Plain {
        names.extend(facts.import_originals(call.name));
    }
    names
}

impl LexicalSummary {
    /// Summarise a scan made with [`LexicalFacts::scan_functions`].
    pub fn of(facts: &LexicalFacts, evidence: &EvidenceCalls) -> LexicalSummary {
        let mut sync: Vec<(bool, HashSet<&str>)> = facts
            .functions
            .iter()
            .map(|_| (false, HashSet::default()))
            .collect();
        let mut coroutine_calls: HashSet<&str> = HashSet::default();
        let mut discarded_calls: HashSet<&str> = HashSet::default();
        for call in &facts.function_calls {
            let function = facts.functions[call.function as usize];
            if call.awaited {
                continue;
            }
            let reached = reached_names(facts, call);
            if function.is_async {
                coroutine_calls.extend(reached.iter().copied());
                if call.may_be_discarded {
                    discarded_calls.extend(reached);
                }
            } else {
                let (may_block, calls) = &mut sync[call.function as usize];
                if !*may_block && evidence.may_match(facts, call) {
                    *may_block = true;
                }
                calls.extend(reached);
            }
        }
        let owned = |names: HashSet<&str>| -> Vec<String> {
            let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
            names.sort_unstable();
            names
        };
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
                calls: if may_block { Vec::new() } else { owned(calls) },
            })
            .collect();
        let coroutines = owned(
            facts
                .functions
                .iter()
                .filter(|f| f.is_async)
                .map(|f| f.name)
                .collect(),
        );
        let aliases = facts
            .import_alias_pairs()
            .map(|(alias, original)| (alias.to_owned(), original.to_owned()))
            .collect();
        LexicalSummary {
            sync_functions,
            coroutines,
            coroutine_calls: owned(coroutine_calls),
            discarded_calls: owned(discarded_calls),
            aliases,
        }
    }

    /// A file the tokenizer could not follow, from its precise summary: each function counts
    /// as blocking if it blocks by itself or calls anything.
    pub fn from_precise(summary: &super::FileSummary) -> LexicalSummary {
        let last = |qualname: &str| qualname.rsplit('.').next().unwrap_or(qualname).to_owned();
        LexicalSummary {
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
            aliases: summary
                .imports
                .iter()
                .map(|(bound, absolute)| (bound.clone(), last(absolute)))
                .collect(),
        }
    }
}

/// The project's names that may matter to its rules, settled across every file.
#[derive(Debug, Default)]
pub struct LexicalProject {
    /// Names of synchronous functions that may block (and aliases of them).
    blocking: HashSet<String>,
    /// Names of coroutine functions (and aliases of them).
    coroutines: HashSet<String>,
}

impl LexicalProject {
    /// Settle the summaries: a name may block if a synchronous function of that name may
    /// block by itself or calls a name that may block, or if an import aliases such a name.
    /// Each name is settled once: linear in the calls.
    pub fn settle<'s>(summaries: impl Iterator<Item = &'s LexicalSummary> + Clone) -> Self {
        let mut callers: HashMap<&str, Vec<&str>> = HashMap::default();
        let mut aliases: HashMap<&str, Vec<&str>> = HashMap::default();
        let mut blocking: HashSet<&str> = HashSet::default();
        let mut coroutines: HashSet<&str> = HashSet::default();
        let mut queue: Vec<&str> = Vec::new();
        for summary in summaries.clone() {
            for function in &summary.sync_functions {
                if function.may_block {
                    if blocking.insert(&function.name) {
                        queue.push(&function.name);
                    }
                } else {
                    for callee in &function.calls {
                        callers.entry(callee).or_default().push(&function.name);
                    }
                }
            }
            for (alias, original) in &summary.aliases {
                aliases.entry(original).or_default().push(alias);
            }
            coroutines.extend(summary.coroutines.iter().map(String::as_str));
        }
        while let Some(name) = queue.pop() {
            let reached = callers.get(name).into_iter().flatten();
            for &next in reached.chain(aliases.get(name).into_iter().flatten()) {
                if blocking.insert(next) {
                    queue.push(next);
                }
            }
        }
        // Coroutines re-exported under another name.
        let mut queue: Vec<&str> = coroutines.iter().copied().collect();
        while let Some(name) = queue.pop() {
            for &alias in aliases.get(name).into_iter().flatten() {
                if coroutines.insert(alias) {
                    queue.push(alias);
                }
            }
        }
        LexicalProject {
            blocking: blocking.into_iter().map(str::to_owned).collect(),
            coroutines: coroutines.into_iter().map(str::to_owned).collect(),
        }
    }

    /// Whether a file with this summary may have a finding of the project rules: a coroutine
    /// calls a name that may block, or may discard a call of a coroutine's name.
    pub fn may_have_findings(&self, summary: &LexicalSummary) -> bool {
        summary
            .coroutine_calls
            .iter()
            .any(|name| self.blocking.contains(name))
            || summary
                .discarded_calls
                .iter()
                .any(|name| self.coroutines.contains(name))
    }

    /// Whether a call resolved to `target` (an absolute dotted name) may take part in a
    /// project finding: the function's name may block or is a coroutine's.
    pub fn may_matter(&self, target: &str) -> bool {
        let name = target.rsplit('.').next().unwrap_or(target);
        self.blocking.contains(name) || self.coroutines.contains(name)
    }

    /// How many names may block, and how many are coroutines' (for the measurements).
    pub fn sizes(&self) -> (usize, usize) {
        (self.blocking.len(), self.coroutines.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str, registry: &Registry) -> LexicalSummary {
        let facts = LexicalFacts::scan_functions(text, registry.interesting_words()).unwrap();
        LexicalSummary::of(&facts, &EvidenceCalls::new(registry))
    }

    fn project(files: &[&str]) -> (LexicalProject, Vec<LexicalSummary>) {
        let registry = Registry::bundled().unwrap();
        let summaries: Vec<LexicalSummary> =
            files.iter().map(|text| summary(text, &registry)).collect();
        (LexicalProject::settle(summaries.iter()), summaries)
    }

    #[test]
    fn a_chain_across_files_makes_the_coroutines_file_a_candidate() {
        let (project, files) = project(&[
            "import requests\ndef fetch_json(u):\n    return requests.get(u).json()\n",
            "from .net import fetch_json\ndef load_profile(u):\n    return fetch_json(u)\n",
            "from .helpers import load_profile\nasync def handler(u):\n    return load_profile(u)\n",
            "from .helpers import load_profile\nasync def other(u):\n    return await load_profile(u)\n",
            "async def unrelated(d):\n    return d.get('x')\n",
        ]);
        assert!(project.blocking.contains("fetch_json"));
        assert!(project.blocking.contains("load_profile"));
        assert!(project.may_have_findings(&files[2]));
        // Awaited, or a method of an unknown object: nothing to find.
        assert!(!project.may_have_findings(&files[3]));
        assert!(!project.may_have_findings(&files[4]));
        assert!(project.may_matter("app.helpers.load_profile"));
        assert!(!project.may_matter("app.helpers.unrelated_helper"));
    }

    #[test]
    fn one_line_bodies_aliases_and_methods_are_followed() {
        let (project, files) = project(&[
            "import time\ndef nap(): time.sleep(1)\n",
            "from .a import nap as rest\nclass Repo:\n    def save(self):\n        rest()\n",
            "from .b import Repo\nasync def handler():\n    repo = Repo()\n    repo.save()\n",
            "class C:\n    def helper(self):\n        return 1\n    async def run(self):\n        self.helper()\n",
        ]);
        assert!(project.blocking.contains("nap"));
        assert!(project.blocking.contains("rest"));
        assert!(project.blocking.contains("save"));
        assert!(project.may_have_findings(&files[2]));
        assert!(!project.may_have_findings(&files[3]));
    }

    #[test]
    fn a_discarded_call_of_a_coroutine_is_a_candidate() {
        let (project, files) = project(&[
            "async def save_audit(x):\n    pass\n",
            "from .audit import save_audit\nasync def handler(x):\n    save_audit(x)\n",
            "from .audit import save_audit\nasync def handler(x):\n    await save_audit(x)\n",
        ]);
        assert!(project.may_have_findings(&files[1]));
        assert!(!project.may_have_findings(&files[2]));
    }

    #[test]
    fn recursion_and_cycles_end() {
        let (project, _) = project(&[
            "def a():\n    return b()\ndef b():\n    return a()\n",
            "import time\ndef c():\n    c()\n    time.sleep(1)\n",
        ]);
        assert!(!project.blocking.contains("a"));
        assert!(project.blocking.contains("c"));
    }
}
