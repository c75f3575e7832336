//! Cross-file facts: the module map, the types of the per-file function summaries (the
//! analysis extracts them), and the fixpoint that settles which project functions block
//! (directly, or through other project functions, with the call chain as evidence) and which
//! are coroutine functions. The result is, per file, the calls in async context that reach
//! such functions; the analysis turns them into findings. Nothing here reads a syntax tree.

mod hazard;
mod lexical_settle;
mod lexical_summary;
mod modules;
mod summary;

use std::collections::HashMap;

pub use hazard::{HazardKind, ThreadHazard};
pub use lexical_settle::LexicalProject;
pub use lexical_summary::{EvidenceCalls, LexicalSummary};
pub use modules::{ModuleInfo, ModuleMap, absolute_name};
pub use summary::{Evidence, FileSummary, FunctionSummary};

/// What a call in async context reaches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ProjectCall {
    /// A coroutine function of the project (not an async generator).
    Coroutine,
    /// A synchronous project function that blocks: `chain` is the path from the callee to
    /// the blocking call (`load_profile -> requests.get`), `location` where that call is;
    /// `hazard`, what moving it to a worker thread would do there that it must not.
    Blocking {
        chain: String,
        location: String,
        hazard: Option<ThreadHazard>,
    },
}

/// What a file's calls in async context reach, by the absolute name they resolve to
/// (`app.profiles.load_profile`). Names, not byte ranges: they stay valid while the fixes
/// rewrite the file round after round.
pub type ProjectCalls = HashMap<String, ProjectCall>;

/// Where the analysis of one file learns what its project calls reach.
#[derive(Clone, Copy)]
pub enum ProjectLookup<'a> {
    /// After the project was settled: the file's calls.
    Settled(&'a ProjectCalls),
    /// In the first pass, before: a call whose target may take part in a project finding (as
    /// the lexical pass widened it) is analyzed under each outcome, for the settling to choose
    /// from (the analysis's speculation), so the file need not be parsed again.
    Speculative(&'a LexicalProject<'a>),
}

/// What the analysis of one file needs from the project phase.
#[derive(Clone, Copy)]
pub struct ProjectView<'a> {
    pub lookup: ProjectLookup<'a>,
    pub module: &'a ModuleInfo,
    pub map: &'a ModuleMap,
}

/// One file going into the project phase.
pub struct ProjectFile {
    /// The path as reported (for the location of blocking calls).
    pub display_path: String,
    pub module: ModuleInfo,
    pub summary: FileSummary,
}

/// How a function blocks.
#[derive(Clone, Debug)]
enum Link {
    Direct(Evidence),
    /// Through a call of another blocking project function.
    Via {
        callee: usize,
    },
}

/// How many re-export hops a name is followed through (also stops re-export cycles).
const MAX_REEXPORT_HOPS: usize = 8;

/// The longest chain shown in a message.
const MAX_CHAIN: usize = 12;

struct Functions<'a> {
    files: &'a [ProjectFile],
    /// `(file, function)` per function id.
    ids: Vec<(usize, usize)>,
    by_name: HashMap<String, usize>,
    reexports: HashMap<String, &'a str>,
}

impl<'a> Functions<'a> {
    fn new(files: &'a [ProjectFile]) -> Self {
        let mut ids = Vec::new();
        let mut by_name = HashMap::new();
        let mut reexports = HashMap::new();
        for (f, file) in files.iter().enumerate() {
            for (i, function) in file.summary.functions.iter().enumerate() {
                let id = ids.len();
                ids.push((f, i));
                for name in &file.module.names {
                    by_name.insert(format!("{name}.{}", function.qualname), id);
                }
            }
            for (bound, target) in &file.summary.imports {
                for name in &file.module.names {
                    reexports.insert(format!("{name}.{bound}"), target.as_str());
                }
            }
        }
        Functions {
            files,
            ids,
            by_name,
            reexports,
        }
    }

    fn function(&self, id: usize) -> &'a FunctionSummary {
        let (f, i) = self.ids[id];
        &self.files[f].summary.functions[i]
    }

    /// The function an absolute name stands for, through re-exports.
    fn resolve(&self, name: &str) -> Option<usize> {
        let mut name = name.to_owned();
        for _ in 0..MAX_REEXPORT_HOPS {
            if let Some(id) = self.by_name.get(&name) {
                return Some(*id);
            }
            // The longest prefix that a module re-exports: `app.load_profile` → the target
            // of `from .helpers import load_profile` in `app/__init__.py`.
            let mut end = name.len();
            let next = loop {
                let prefix = &name[..end];
                if let Some(target) = self.reexports.get(prefix) {
                    let rewritten = format!("{target}{}", &name[end..]);
                    break (rewritten != name).then_some(rewritten);
                }
                match prefix.rfind('.') {
                    Some(dot) => end = dot,
                    None => break None,
                }
            };
            name = next?;
        }
        None
    }
}

/// Settle the project: which functions block and how, then the project calls of each file
/// (in `files` order; `None` for a file without any).
pub fn settle(files: &[ProjectFile]) -> Vec<Option<ProjectCalls>> {
    let functions = Functions::new(files);
    let count = functions.ids.len();
    // Callers of each synchronous function, from synchronous functions (a coroutine that
    // calls a blocking function is a finding, and does not itself block its caller's await).
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut links: Vec<Option<Link>> = vec![None; count];
    let mut pending = Vec::new();
    let blocks_when_called = |f: &FunctionSummary| !f.is_async && !f.is_generator;
    for (id, link) in links.iter_mut().enumerate() {
        let function = functions.function(id);
        if !blocks_when_called(function) {
            continue;
        }
        if let Some(evidence) = &function.direct {
            *link = Some(Link::Direct(evidence.clone()));
            pending.push(id);
        }
        for call in &function.calls {
            let (file, _) = functions.ids[id];
            if let Some(callee) = functions.resolve(&files[file].summary.targets[*call as usize])
                && callee != id
                && blocks_when_called(functions.function(callee))
            {
                callers[callee].push(id);
            }
        }
    }
    // Each function is settled at most once, from an already settled one: the links form a
    // forest rooted at direct evidence, so cycles and recursion terminate, in linear time.
    while let Some(callee) = pending.pop() {
        for &caller in &callers[callee] {
            if links[caller].is_none() {
                links[caller] = Some(Link::Via { callee });
                pending.push(caller);
            }
        }
    }
    let mut hazards = HashMap::new();
    let chain = |mut id: usize| -> (String, String) {
        let mut names = Vec::new();
        loop {
            names.push(functions.function(id).qualname.clone());
            match links[id]
                .as_ref()
                .expect("only settled functions are followed")
            {
                Link::Via { callee } if names.len() < MAX_CHAIN => id = *callee,
                Link::Via { .. } => {
                    names.push("...".to_owned());
                    return (names.join(" -> "), String::new());
                }
                Link::Direct(evidence) => {
                    names.push(evidence.call.clone());
                    let (file, _) = functions.ids[id];
                    let location = format!("{}:{}", files[file].display_path, evidence.line);
                    return (names.join(" -> "), location);
                }
            }
        }
    };
    files
        .iter()
        .map(|file| {
            let mut calls = ProjectCalls::new();
            for function in file.summary.functions.iter().filter(|f| f.is_async) {
                for call in &function.calls {
                    let name = &file.summary.targets[*call as usize];
                    if calls.contains_key(name) {
                        continue;
                    }
                    let Some(callee) = functions.resolve(name) else {
                        continue;
                    };
                    let target = functions.function(callee);
                    // A coroutine matters where its result may be thrown away (UNF301);
                    // a file whose coroutines are all awaited or kept needs no second pass.
                    let found = if target.is_async {
                        (!target.is_generator && function.discarded.contains(call))
                            .then_some(ProjectCall::Coroutine)
                    } else if links[callee].is_some() {
                        let (chain, location) = chain(callee);
                        let hazard = functions.moved_hazard(callee, &mut hazards);
                        Some(ProjectCall::Blocking {
                            chain,
                            location,
                            hazard,
                        })
                    } else {
                        None
                    };
                    if let Some(found) = found {
                        calls.insert(name.clone(), found);
                    }
                }
            }
            (!calls.is_empty()).then_some(calls)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(qualname, is_async, sleeps directly, calls)`.
    type Function<'a> = (&'a str, bool, bool, &'a [&'a str]);

    fn file(name: &str, functions: &[Function], imports: &[(&str, &str)]) -> ProjectFile {
        let mut targets: Vec<String> = Vec::new();
        let functions = functions
            .iter()
            .map(|(qualname, is_async, direct, calls)| {
                let calls: Vec<u32> = calls
                    .iter()
                    .map(|target| {
                        targets.push((*target).to_owned());
                        targets.len() as u32 - 1
                    })
                    .collect();
                FunctionSummary {
                    qualname: (*qualname).to_owned(),
                    is_async: *is_async,
                    is_generator: false,
                    direct: direct.then(|| Evidence {
                        code: "ASYNC251".to_owned(),
                        call: "time.sleep".to_owned(),
                        line: 3,
                    }),
                    // Every call of these summaries is a statement of its own.
                    discarded: calls.clone(),
                    calls,
                    hazards: Vec::new(),
                }
            })
            .collect();
        ProjectFile {
            display_path: format!("{name}.py"),
            module: ModuleInfo {
                name: name.to_owned(),
                is_package: false,
                names: vec![name.to_owned()],
            },
            summary: FileSummary {
                functions,
                targets,
                imports: imports
                    .iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect(),
            },
        }
    }

    #[test]
    fn cycles_settle_and_only_blocking_ones_block() {
        // a <-> b cycle with no blocking call; c <-> d cycle where d sleeps.
        let files = [
            file(
                "m",
                &[
                    ("a", false, false, &["m.b"]),
                    ("b", false, false, &["m.a"]),
                    ("c", false, false, &["m.d"]),
                    ("d", false, true, &["m.c", "m.d"]),
                    ("main", true, false, &["m.a", "m.c", "pkg.e"]),
                ],
                &[],
            ),
            file("pkg", &[], &[("e", "pkg.pkg"), ("f", "m.c")]),
        ];
        let calls = settle(&files);
        let main = calls[0].as_ref().unwrap();
        assert_eq!(main.len(), 1, "{main:?}");
        assert_eq!(
            main["m.c"],
            ProjectCall::Blocking {
                chain: "c -> d -> time.sleep".to_owned(),
                location: "m.py:3".to_owned(),
                hazard: None,
            }
        );
        assert!(calls[1].is_none());
    }

    #[test]
    fn reexport_cycles_resolve_to_nothing() {
        let files = [
            file("p", &[], &[("x", "q.x")]),
            file("q", &[], &[("x", "p.x")]),
            file("m", &[("main", true, false, &["p.x"])], &[]),
        ];
        assert!(settle(&files).iter().all(Option::is_none));
    }
}
