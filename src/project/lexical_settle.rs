//! The project phase's lexical pass, settled across the project ([`LexicalProject`]): from
//! every file's [`LexicalSummary`] (`lexical_summary.rs`), by name, the synchronous functions
//! that may block and the project's coroutines, followed through calls, aliases and
//! re-exports; then which files may have a finding of the project rules, which bodies a parse
//! may leave out, and which calls the on-demand precise summaries need to follow.

use foldhash::{HashMap, HashSet};

use super::lexical_summary::{Key, LexicalSummary, Scope};

/// The enclosing paths of a dotted path, itself included: `a`, `a.b`, `a.b.c`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('.')
        .map(|(i, _)| &path[..i])
        .chain(std::iter::once(path))
}

impl LexicalSummary {
    /// The names a function of this file is found under: its file's own, and its path in
    /// each module name (with the enclosing paths: a call through `pkg` may reach
    /// `pkg.sub.mod.Repo.save`).
    fn homes<'s>(&'s self, file: usize, name: &'s str, classes: Option<&'s str>) -> Vec<Name<'s>> {
        let mut homes = vec![(Some(file), String::new(), name)];
        if let Some(classes) = classes {
            for module in &self.modules {
                let path = if classes.is_empty() {
                    module.clone()
                } else {
                    format!("{module}.{classes}")
                };
                homes.extend(ancestors(&path).map(|p| (None, p.to_owned(), name)));
            }
        }
        homes
    }
}

/// How many re-exports deep a name is followed (as the module map does).
const MAX_REEXPORT_HOPS: usize = 8;

/// A settled name: a file's own (by index) or under a path, and the name.
type Name<'s> = (Option<usize>, String, &'s str);

/// Finding the module that defines a dotted name ([`super::ModuleMap::file_defining_rest`]).
pub trait ModuleLookup {
    /// The index of the file of the longest prefix of `dotted` that is a module, and the
    /// rest of `dotted` after it.
    fn file_defining_rest<'d>(&self, dotted: &'d str) -> Option<(usize, &'d str)>;
}

impl ModuleLookup for super::ModuleMap {
    fn file_defining_rest<'d>(&self, dotted: &'d str) -> Option<(usize, &'d str)> {
        super::ModuleMap::file_defining_rest(self, dotted)
    }
}

/// What a dotted name may stand for through re-exports, as the precise summaries follow
/// them: `app.load` is also `app.helpers.load` when `app/__init__.py` imports `load` from
/// `.helpers`. The name itself first.
struct Reexports<'l> {
    lookup: &'l (dyn ModuleLookup + Sync),
    /// The bound names and the dotted names they stand for, each stored once, by id.
    names: Vec<std::sync::Arc<str>>,
    ids: HashMap<std::sync::Arc<str>, u32>,
    /// What the names a file's imports bind stand for: `(file, bound)` to dotted names.
    imports: HashMap<(u32, u32), Vec<u32>>,
}

impl<'l> Reexports<'l> {
    /// The import tables of every file (by index in `lookup`; `None` outside the project).
    fn new(summaries: &[Option<&LexicalSummary>], lookup: &'l (dyn ModuleLookup + Sync)) -> Self {
        let mut reexports = Reexports {
            lookup,
            names: Vec::new(),
            ids: HashMap::default(),
            imports: HashMap::default(),
        };
        for (file, summary) in summaries.iter().enumerate() {
            let Some(summary) = summary else {
                continue;
            };
            let names = summary
                .imported_names
                .iter()
                .map(|(module, name, bound)| (bound, format!("{module}.{name}")));
            let modules = summary
                .imported_modules
                .iter()
                .map(|(module, bound)| (bound, module.clone()));
            for (bound, target) in names.chain(modules) {
                let bound = reexports.id(bound);
                let target = reexports.id(&target);
                reexports
                    .imports
                    .entry((file as u32, bound))
                    .or_default()
                    .push(target);
            }
        }
        reexports
    }

    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.names.len() as u32;
        let shared: std::sync::Arc<str> = text.into();
        self.names.push(shared.clone());
        self.ids.insert(shared, id);
        id
    }

    /// What `first` stands for in `file`'s imports.
    fn imported(&self, file: usize, first: &str) -> impl Iterator<Item = &str> {
        self.ids
            .get(first)
            .and_then(|&bound| self.imports.get(&(file as u32, bound)))
            .into_iter()
            .flatten()
            .map(|&target| &*self.names[target as usize])
    }

    fn resolve(&self, target: &str) -> Vec<String> {
        let mut all = vec![target.to_owned()];
        let mut frontier = vec![target.to_owned()];
        for _ in 0..MAX_REEXPORT_HOPS {
            let mut next = Vec::new();
            for target in &frontier {
                let Some((file, rest)) = self.lookup.file_defining_rest(target) else {
                    continue;
                };
                if rest.is_empty() {
                    continue;
                }
                let (first, after) = rest.split_once('.').unwrap_or((rest, ""));
                for imported in self.imported(file, first) {
                    let moved = if after.is_empty() {
                        imported.to_owned()
                    } else {
                        format!("{imported}.{after}")
                    };
                    if !all.contains(&moved) {
                        all.push(moved.clone());
                        next.push(moved);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        all
    }
}

/// Strings stored once, by id: the settled names' paths and names.
#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(text.into(), id);
        id
    }

    fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }
}

/// A settled name, by ids: the file (`NO_FILE` for a path's name), the path (`LOCAL` for a
/// file's own name) and the name.
type NameId = (u32, u32, u32);
const NO_FILE: u32 = u32::MAX;
const LOCAL: u32 = u32::MAX;
/// The path of [`Scope::AnyMethod`]'s names: a method of that name on any class.
const ANY_METHOD: u32 = u32::MAX - 1;

/// What a method runs for its class as a whole: a call of the class runs `__init__`, a
/// `with` on an instance `__enter__` and `__exit__`.
const CLASS_METHODS: [&str; 3] = ["__init__", "__enter__", "__exit__"];

/// The project's names that may matter to its rules, settled across every file.
pub struct LexicalProject<'l> {
    reexports: Reexports<'l>,
    strings: Interner,
    /// Names of synchronous functions that may block, where they can be called from.
    blocking: HashSet<NameId>,
    /// Names of coroutine functions, likewise.
    coroutines: HashSet<NameId>,
    /// The method names codemods match on thread-affine objects (`execute`): such a call
    /// on a name imported from a project module may use a connection made there at import
    /// time, so it may block and may pin its function to the loop's thread.
    affine_methods: HashSet<String>,
}

impl<'l> LexicalProject<'l> {
    /// Settle the summaries (by file index in `lookup`; `None` for a file outside the
    /// project): a synchronous function may block if it may block by itself or calls a name
    /// that may block. Each function is settled once: linear in the calls.
    pub fn settle(
        summaries: &[Option<&LexicalSummary>],
        lookup: &'l (dyn ModuleLookup + Sync),
        affine_methods: HashSet<String>,
    ) -> Self {
        let reexports = Reexports::new(summaries, lookup);
        let mut strings = Interner::default();
        let mut resolved: HashMap<(u32, u32), Vec<NameId>> = HashMap::default();
        let mut callers: HashMap<NameId, Vec<(u32, u32)>> = HashMap::default();
        let mut coroutines: HashSet<NameId> = HashSet::default();
        let mut queue: Vec<(u32, u32)> = Vec::new();
        let homes =
            |strings: &mut Interner,
             summary: &LexicalSummary,
             file: usize,
             name: &str,
             classes: Option<&str>| {
                let mut homes = summary
                    .homes(file, name, classes)
                    .into_iter()
                    .map(|(file, path, name)| match file {
                        Some(file) => (file as u32, LOCAL, strings.id(name)),
                        None => (NO_FILE, strings.id(&path), strings.id(name)),
                    })
                    .collect::<Vec<NameId>>();
                if let Some(classes) = classes.filter(|c| !c.is_empty()) {
                    // A method, found on a receiver of its class (or a subclass).
                    homes.push((NO_FILE, ANY_METHOD, strings.id(name)));
                    // The class itself, called or used in a `with`.
                    if CLASS_METHODS.contains(&name) {
                        let (outer, class) = classes.rsplit_once('.').unwrap_or(("", classes));
                        let outer = (!outer.is_empty()).then_some(outer);
                        let class_homes = summary.homes(file, class, outer.or(Some("")));
                        homes.extend(class_homes.into_iter().map(
                            |(file, path, name)| match file {
                                Some(file) => (file as u32, LOCAL, strings.id(name)),
                                None => (NO_FILE, strings.id(&path), strings.id(name)),
                            },
                        ));
                    }
                }
                homes
            };
        for (file, summary) in summaries.iter().enumerate() {
            let Some(summary) = summary else {
                continue;
            };
            for (index, function) in summary.sync_functions.iter().enumerate() {
                let caller = (file as u32, index as u32);
                let affine_call = function.calls.iter().any(|call| {
                    matches!(call.scope, Scope::Path(_)) && affine_methods.contains(&call.name)
                });
                if function.may_block || affine_call {
                    queue.push(caller);
                    continue;
                }
                for call in &function.calls {
                    let name = strings.id(&call.name);
                    match &call.scope {
                        Scope::Local => callers
                            .entry((file as u32, LOCAL, name))
                            .or_default()
                            .push(caller),
                        Scope::AnyMethod => callers
                            .entry((NO_FILE, ANY_METHOD, name))
                            .or_default()
                            .push(caller),
                        Scope::Path(path) => {
                            let path_id = strings.id(path);
                            let targets = resolved.entry((path_id, name)).or_insert_with(|| {
                                reexports
                                    .resolve(&format!("{path}.{}", call.name))
                                    .iter()
                                    .filter_map(|target| target.rsplit_once('.'))
                                    .map(|(path, name)| {
                                        (NO_FILE, strings.id(path), strings.id(name))
                                    })
                                    .collect()
                            });
                            for &target in targets.iter() {
                                callers.entry(target).or_default().push(caller);
                            }
                        }
                    }
                }
            }
            for (name, classes) in &summary.coroutines {
                coroutines.extend(homes(&mut strings, summary, file, name, classes.as_deref()));
            }
        }
        drop(resolved);
        let mut blocking: HashSet<NameId> = HashSet::default();
        let mut blocked: HashSet<(u32, u32)> = queue.iter().copied().collect();
        while let Some((file, index)) = queue.pop() {
            let summary =
                summaries[file as usize].expect("a blocking function's file has a summary");
            let function = &summary.sync_functions[index as usize];
            let names = homes(
                &mut strings,
                summary,
                file as usize,
                &function.name,
                function.classes.as_deref(),
            );
            for home in names {
                if !blocking.insert(home) {
                    continue;
                }
                for &caller in callers.get(&home).into_iter().flatten() {
                    if blocked.insert(caller) {
                        queue.push(caller);
                    }
                }
            }
        }
        LexicalProject {
            reexports,
            strings,
            blocking,
            coroutines,
            affine_methods,
        }
    }

    /// Whether `dotted` (resolved through re-exports) names something in `set`.
    fn resolves_into(&self, set: &HashSet<NameId>, dotted: &str) -> bool {
        self.reexports
            .resolve(dotted)
            .iter()
            .filter_map(|target| target.rsplit_once('.'))
            .any(|(path, name)| {
                let (Some(path), Some(name)) = (self.strings.get(path), self.strings.get(name))
                else {
                    return false;
                };
                set.contains(&(NO_FILE, path, name))
            })
    }

    fn any_in<'k>(
        &self,
        set: &HashSet<NameId>,
        file: usize,
        keys: impl IntoIterator<Item = &'k Key>,
    ) -> bool {
        keys.into_iter().any(|key| match &key.scope {
            Scope::Local => self
                .strings
                .get(&key.name)
                .is_some_and(|name| set.contains(&(file as u32, LOCAL, name))),
            Scope::Path(path) => self.resolves_into(set, &format!("{path}.{}", key.name)),
            Scope::AnyMethod => self.is_any_method(set, &key.name),
        })
    }

    /// Whether a method named `name` of some project class is in `set`.
    fn is_any_method(&self, set: &HashSet<NameId>, name: &str) -> bool {
        self.strings
            .get(name)
            .is_some_and(|name| set.contains(&(NO_FILE, ANY_METHOD, name)))
    }

    /// Whether the file (by its index in [`Self::settle`]'s summaries) may have a finding of
    /// the project rules: a coroutine calls a name that may block, or may discard a call of a
    /// coroutine's name.
    pub fn may_have_findings(&self, file: usize, summary: &LexicalSummary) -> bool {
        self.any_in(&self.blocking, file, &summary.coroutine_calls)
            || self.any_affine(&summary.coroutine_calls)
            || self.any_in(&self.coroutines, file, &summary.discarded_calls)
    }

    /// The bodies of `file`'s functions a parse may leave out: nothing in them matters
    /// beyond their own calls, none of which may be blocking evidence, reach a function that
    /// may block, or throw away a call of a coroutine. Such a function's precise summary would
    /// say only what its header says (its name, whether it is a coroutine), and no finding
    /// can be in it when the pre-filter found none in the file (or the per-file rules keep
    /// the bodies they may read: [`LexicalSummary::keep_bodies_the_file_rules_read`]).
    ///
    /// With `follow_moved_code` (a fix may move a synchronous function to a worker thread,
    /// and what it runs there decides the fix: `analyze/side_effects.rs`), the bodies of the
    /// module's functions and methods that a kept synchronous body calls, directly or through
    /// one another, are kept too: `_report(e)` called by a helper that blocks may call
    /// `asyncio.create_task` or change a module global, with nothing the scan looks for.
    pub fn bodies_left_out<'s>(
        &self,
        file: usize,
        summary: &'s LexicalSummary,
        follow_moved_code: bool,
    ) -> Vec<std::ops::Range<usize>> {
        let keys = |ids: &'s [u32]| ids.iter().map(|&id| &summary.body_keys[id as usize]);
        let mut left_out: Vec<bool> = summary
            .bodies
            .iter()
            .map(|body| {
                !body.kept
                    && !self.any_in(&self.blocking, file, keys(&body.calls))
                    && !self.any_affine(keys(&body.calls))
                    && !self.any_in(&self.coroutines, file, keys(&body.discarded))
            })
            .collect();
        if follow_moved_code {
            keep_what_kept_sync_bodies_call(&summary.bodies, &mut left_out);
        }
        summary
            .bodies
            .iter()
            .zip(left_out)
            .filter(|(_, left_out)| *left_out)
            .map(|(body, _)| body.range.start as usize..body.range.end as usize)
            .collect()
    }

    /// Whether a call resolved to `target` (an absolute dotted name) may take part in a
    /// project finding: the function may block or is a coroutine.
    pub fn may_matter(&self, target: &str) -> bool {
        // `Class.method` may be a base's, `instance.method` its class's.
        let method = target.rsplit_once('.').map(|(_, method)| method);
        self.resolves_into(&self.blocking, target)
            || self.resolves_into(&self.coroutines, target)
            || method.is_some_and(|m| {
                self.is_any_method(&self.blocking, m) || self.is_any_method(&self.coroutines, m)
            })
            || target.rsplit_once('.').is_some_and(|(object, method)| {
                self.affine_methods.contains(method)
                    && self
                        .reexports
                        .lookup
                        .file_defining_rest(object)
                        .is_some_and(|(_, rest)| !rest.is_empty())
            })
    }

    /// Whether one of `keys` is a method codemods match on thread-affine objects, called on
    /// a name of a project module (`cursor.execute()` after `from db import cursor`).
    fn any_affine<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) -> bool {
        !self.affine_methods.is_empty()
            && keys.into_iter().any(|key| {
                matches!(key.scope, Scope::Path(_)) && self.affine_methods.contains(&key.name)
            })
    }
}

/// Keep (clear `left_out` of) every body whose function a kept synchronous body calls by
/// name, and what those call in turn: by name, so every function or method of that name is
/// kept.
fn keep_what_kept_sync_bodies_call(bodies: &[super::lexical_summary::Body], left_out: &mut [bool]) {
    // The synchronous bodies by their function's name, once: linear in the bodies and calls.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, body) in bodies.iter().enumerate() {
        if !body.is_async {
            by_name.entry(body.name.as_str()).or_default().push(i);
        }
    }
    let mut queue: Vec<usize> = (0..bodies.len())
        .filter(|&i| !left_out[i] && !bodies[i].is_async)
        .collect();
    while let Some(i) = queue.pop() {
        for name in bodies[i].local_calls.iter() {
            // Each name's bodies are kept (and queued) once: `remove` empties its entry.
            for j in by_name.remove(name.as_str()).into_iter().flatten() {
                if left_out[j] {
                    left_out[j] = false;
                    queue.push(j);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codemod::Registry;
    use crate::lexical::LexicalFacts;
    use crate::project::{EvidenceCalls, ModuleInfo};

    /// Module names, by file index.
    struct Modules(Vec<String>);

    impl ModuleLookup for Modules {
        fn file_defining_rest<'d>(&self, dotted: &'d str) -> Option<(usize, &'d str)> {
            let mut end = dotted.len();
            loop {
                if let Some(i) = self.0.iter().position(|m| m == &dotted[..end]) {
                    return Some((i, dotted[end..].trim_start_matches('.')));
                }
                end = dotted[..end].rfind('.')?;
            }
        }
    }

    /// Settle `files`: (module name, text).
    fn project(files: &[(&str, &str)]) -> (LexicalProject<'static>, Vec<LexicalSummary>) {
        project_analyzing(files, &[])
    }

    /// Settle `files`, those at the indices of `analyzed` let through by the pre-filter.
    fn project_analyzing(
        files: &[(&str, &str)],
        analyzed: &[usize],
    ) -> (LexicalProject<'static>, Vec<LexicalSummary>) {
        let registry = Registry::bundled().unwrap();
        let evidence = EvidenceCalls::new(&registry);
        let summaries: Vec<LexicalSummary> = files
            .iter()
            .enumerate()
            .map(|(i, (name, text))| {
                let module = ModuleInfo {
                    name: (*name).to_owned(),
                    // `app` stands for `app/__init__.py`.
                    is_package: !name.contains('.'),
                    names: vec![(*name).to_owned()],
                    siblings: Vec::new(),
                };
                let facts =
                    LexicalFacts::scan_functions(text, registry.interesting_words()).unwrap();
                let mut summary =
                    LexicalSummary::of(&facts, &evidence, &module, &|name| name.starts_with("app"));
                if analyzed.contains(&i) {
                    summary.keep_bodies_the_file_rules_read(&facts, text, &registry);
                }
                summary
            })
            .collect();
        let refs: Vec<Option<&LexicalSummary>> = summaries.iter().map(Some).collect();
        let lookup = Modules(files.iter().map(|(name, _)| (*name).to_owned()).collect());
        let lookup: &'static Modules = Box::leak(Box::new(lookup));
        (
            LexicalProject::settle(&refs, lookup, HashSet::default()),
            summaries,
        )
    }

    fn candidates(project: &LexicalProject, files: &[LexicalSummary]) -> Vec<usize> {
        (0..files.len())
            .filter(|&i| project.may_have_findings(i, &files[i]))
            .collect()
    }

    #[test]
    fn bodies_that_cannot_matter_are_left_out() {
        let helpers = "import time\nfrom .store import flush\n\ndef load(k):\n    time.sleep(1)\n\ndef via(k):\n    return load(k)\n\ndef render(rows):\n    return [str(r) for r in rows]\n\nasync def save(k):\n    flush(k)\n\nasync def kept(k):\n    await flush(k)\n    x = flush(k)\n    return x\n";
        let (project, files) = project(&[
            ("app.helpers", helpers),
            ("app.store", "async def flush(k):\n    return k\n"),
        ]);
        let left_out: Vec<&str> = project
            .bodies_left_out(0, &files[0], false)
            .into_iter()
            .map(|range| &helpers[range])
            .collect();
        // `load` blocks by itself, `via` calls it, `save` throws a coroutine's call away;
        // `render` calls nothing of the project, `kept` awaits its coroutine and keeps the
        // other call's result.
        assert_eq!(
            left_out,
            [
                "return [str(r) for r in rows]\n\n",
                "await flush(k)\n    x = flush(k)\n    return x\n"
            ]
        );
    }

    #[test]
    fn with_moved_code_followed_what_a_blocking_function_calls_stays() {
        let tools = "import asyncio\nimport os\n\ndef _report(e):\n    task = asyncio.create_task(log(e))\n    _tasks.add(task)\n\nclass Repo:\n    def _note(self, e):\n        self.errors.append(e)\n\n    def list(self, d):\n        try:\n            return os.listdir(d)\n        except OSError as e:\n            self._note(e)\n            _report(e)\n\ndef render(rows):\n    return [str(r) for r in rows]\n";
        let (project, files) = project(&[("app.tools", tools)]);
        let left_out = |follow| -> Vec<&str> {
            project
                .bodies_left_out(0, &files[0], follow)
                .into_iter()
                .map(|range| &tools[range])
                .collect()
        };
        // `Repo.list` blocks: `_note` and `_report` run with it in a worker thread when a
        // fix moves it, so their bodies are parsed; `render` is called by nothing that blocks.
        assert_eq!(left_out(true), ["return [str(r) for r in rows]\n"]);
        assert_eq!(left_out(false).len(), 3);
    }

    #[test]
    fn a_file_analyzed_keeps_the_bodies_its_own_rules_may_read() {
        let api = "import asyncio\nimport time\n\nasync def handler(k):\n    time.sleep(1)\n\ndef render(rows):\n    import json\n    return json.dumps(rows)\n\ndef spawn(loop):\n    loop.create_task(work())\n\ndef outer():\n    async def inner():\n        return 1\n    return inner\n\ndef run_it():\n    asyncio.run(main())\n\nclass Box:\n    def __init__(self):\n        self.items = []\n\n    def size(self):\n        return len(self.items)\n";
        let left_out = |files: &[(&str, &str)]| -> Vec<String> {
            let (project, summaries) = project_analyzing(files, &[0]);
            project
                .bodies_left_out(0, &summaries[0], false)
                .into_iter()
                .map(|range| files[0].1[range].to_owned())
                .collect()
        };
        // The coroutine, a call matched anywhere (RUF006), a nested coroutine, a mention of
        // `asyncio` (which may import it) and an attribute's assignment stay; `render` (a
        // local import of another module) and `size` go.
        assert_eq!(
            left_out(&[("app.api", api)]),
            [
                "import json\n    return json.dumps(rows)\n\n",
                "return len(self.items)\n"
            ]
        );
        // Parsed for the project alone, only the blocking coroutine and the assignment of an
        // attribute stay.
        let (project, summaries) = project(&[("app.api", api)]);
        assert_eq!(project.bodies_left_out(0, &summaries[0], false).len(), 5);
        // A file whose code names `requests` may hold a session on `self`, whose fix reads
        // every use of the attribute: every body stays.
        let with_requests = format!("import requests\n{api}");
        assert_eq!(
            left_out(&[("app.api", &with_requests)]),
            Vec::<String>::new()
        );
        // Named only in a comment, it keeps nothing more.
        let commented = format!("# requests\n{api}");
        assert_eq!(left_out(&[("app.api", &commented)]).len(), 2);
    }

    #[test]
    fn a_chain_across_files_makes_the_coroutines_file_a_candidate() {
        let (project, files) = project(&[
            (
                "app.net",
                "import requests\ndef fetch_json(u):\n    return requests.get(u).json()\n",
            ),
            (
                "app.helpers",
                "from .net import fetch_json\ndef load_profile(u):\n    return fetch_json(u)\n",
            ),
            (
                "app.api",
                "from .helpers import load_profile\nasync def handler(u):\n    return load_profile(u)\n",
            ),
            (
                "app.other",
                "from .helpers import load_profile\nasync def other(u):\n    return await load_profile(u)\n",
            ),
            (
                "app.unrelated",
                "async def unrelated(d):\n    return d.get('x')\n",
            ),
            // The same name, elsewhere: not this function.
            (
                "app.elsewhere",
                "from other.helpers import load_profile\nasync def elsewhere(u):\n    load_profile(u)\n",
            ),
        ]);
        assert!(project.may_matter("app.net.fetch_json"));
        assert!(project.may_matter("app.helpers.load_profile"));
        assert!(!project.may_matter("other.helpers.load_profile"));
        assert!(!project.may_matter("app.helpers.unrelated_helper"));
        // Awaited, a method of an unknown object, or another module's function: nothing.
        assert_eq!(candidates(&project, &files), vec![2]);
    }

    #[test]
    fn one_line_bodies_aliases_methods_and_reexports_are_followed() {
        let (project, files) = project(&[
            ("app.a", "import time\ndef nap(): time.sleep(1)\n"),
            (
                "app.b",
                "from .a import nap as rest\nclass Repo:\n    def save(self):\n        rest()\n",
            ),
            (
                "app.c",
                "from .b import Repo\nasync def handler():\n    repo = Repo()\n    repo.save()\n",
            ),
            (
                "app.d",
                "class C:\n    def helper(self):\n        return 1\n    async def run(self):\n        self.helper()\n",
            ),
            (
                "app.e",
                "from app import b\nasync def handler():\n    b.Repo(1, 2).save()\n",
            ),
            (
                "app.f",
                "class D:\n    async def run(self):\n        self.repo.save()\n",
            ),
            // Re-exported by a package, and a module imported under another name.
            (
                "app",
                "from .b import Repo as Store\nimport app.a as naps\n",
            ),
            (
                "app.g",
                "from app import Store\nasync def handler():\n    Store().save()\n",
            ),
            (
                "app.h",
                "import app\nasync def handler():\n    app.naps.nap()\n",
            ),
        ]);
        assert!(project.may_matter("app.a.nap"));
        assert!(project.may_matter("app.b.rest"));
        assert!(project.may_matter("app.b.Repo.save"));
        assert!(project.may_matter("app.Store.save"));
        assert!(project.may_matter("app.naps.nap"));
        // `self.repo.save()`, where no method of the file assigns `self.repo`: the precise
        // analysis does not know its class either.
        assert_eq!(candidates(&project, &files), vec![2, 4, 7, 8]);
    }

    #[test]
    fn a_discarded_call_of_a_coroutine_is_a_candidate() {
        let (project, files) = project(&[
            ("app.audit", "async def save_audit(x):\n    pass\n"),
            (
                "app.a",
                "from .audit import save_audit\nasync def handler(x):\n    save_audit(x)\n",
            ),
            (
                "app.b",
                "from .audit import save_audit\nasync def handler(x):\n    await save_audit(x)\n",
            ),
        ]);
        assert_eq!(candidates(&project, &files), vec![1]);
    }

    #[test]
    fn only_a_result_that_may_be_thrown_away_is_discarded() {
        // As `is_result_discarded` decides: an expression statement (after a one-line body's
        // `:` too), or a local never used again; not a keyword argument, a dict value, a
        // lambda's body, a local used later, an awaited chain.
        let handler = |body: &str| {
            format!("import app.audit\nfrom .audit import save\nasync def handler(x):\n{body}")
        };
        let bodies = [
            "    save(x)\n",
            "    if x: save(x)\n",
            "    task = save(x)\n",
            "    y = app.audit.save(x)\n",
            "    run(target=save(x))\n",
            "    run({'k': save(x)})\n",
            "    run(lambda: save(x))\n",
            "    task = save(x)\n    return task\n",
            "    await app.audit.save(x)\n",
            "    return f'{save(x)}'\n",
        ];
        let mut files = vec![("app.audit", "async def save(x):\n    pass\n".to_owned())];
        files.extend(bodies.iter().map(|body| ("app.h", handler(body))));
        let files: Vec<(&str, &str)> = files.iter().map(|(m, t)| (*m, t.as_str())).collect();
        let (project, summaries) = project(&files);
        assert_eq!(candidates(&project, &summaries), vec![1, 2, 3, 4]);
    }

    #[test]
    fn an_instance_counts_only_where_its_assignment_is_seen() {
        let models = "import time\nclass Repo:\n    def save(self):\n        time.sleep(1)\n";
        let (project, summaries) = project(&[
            ("app.models", models),
            (
                "app.a",
                "from .models import Repo\nasync def handler():\n    repo = Repo()\n    repo.save()\n",
            ),
            (
                "app.b",
                "from .models import Repo\nrepo = Repo()\nasync def handler():\n    repo.save()\n",
            ),
            // Another function's local of the same name: `repo` here is a parameter.
            (
                "app.c",
                "from .models import Repo\ndef other():\n    repo = Repo()\n    return repo\nasync def handler(repo):\n    repo.save()\n",
            ),
            // Annotated with the class: a method of that name on a project class.
            (
                "app.d",
                "from .models import Repo\nasync def handler(repo: Repo):\n    repo.save()\n",
            ),
        ]);
        assert_eq!(candidates(&project, &summaries), vec![1, 2, 4]);
    }

    #[test]
    fn self_calls_a_method_of_the_callers_class() {
        let classes = "import time\nclass A:\n    def slow(self):\n        time.sleep(1)\n    async def handler(self):\n        self.slow()\nclass B:\n    def slow(self):\n        pass\n    async def handler(self):\n        self.slow()\n";
        let (settled, summaries) = project(&[("app.a", classes)]);
        assert_eq!(candidates(&settled, &summaries), vec![0]);
        // Only `B.handler` calls `self.slow()`, and `B.slow` does not block.
        let only_b = classes.replace("        self.slow()\nclass B", "        pass\nclass B");
        let (settled, summaries) = project(&[("app.a", &only_b)]);
        assert!(candidates(&settled, &summaries).is_empty());
        // A class defining no `slow` may inherit `A`'s, in another file.
        let (settled, summaries) = project(&[
            ("app.a", &only_b),
            (
                "app.c",
                "from .a import A\nclass C(A):\n    async def handler(self):\n        self.slow()\n",
            ),
        ]);
        assert_eq!(candidates(&settled, &summaries), vec![1]);
    }

    #[test]
    fn recursion_and_cycles_end() {
        let (project, _) = project(&[
            (
                "app.x",
                "def a():\n    return b()\ndef b():\n    return a()\n",
            ),
            (
                "app.y",
                "import time\ndef c():\n    c()\n    time.sleep(1)\n",
            ),
        ]);
        assert!(!project.may_matter("app.x.a"));
        assert!(project.may_matter("app.y.c"));
    }
}
