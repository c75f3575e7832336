//! The project-wide fact "starts no concurrent work", settled across modules for the
//! single-task recognition (`analyze/entry.rs`). A function starts no concurrent work when
//! its own body starts nothing on the event loop (no `create_task`, runner, server start, no
//! await of something not known to start nothing: [`FunctionSummary::starts_work`], read
//! against the `[single-task]` data) and every project function it calls or awaits starts
//! none either; a name that is none of the project's summarized functions, quiet functions
//! (`quiet_functions`) or quiet module globals (`quiet_globals`: `engine =
//! create_async_engine(...)`, and what is called on them) is a doubt. Recursion settles: a
//! cycle of functions that start nothing themselves starts nothing.
//!
//! A file with a single-task entry point learns, for each project name it calls, whether it
//! starts no work (keyed [`starts_no_work_key`]): its entry coroutine then stays alone past
//! a call or an await of such a function.
//!
//! A test file learns likewise which fixtures of the `conftest.py` files above it start
//! nothing (keyed [`conftest_fixture_key`], the nearest `conftest.py` defining a name
//! deciding), and whether an autouse one there may start work ([`CONFTEST_AUTOUSE_STARTS_WORK`]).

use std::collections::HashMap;

use super::{Construction, FunctionSummary, Functions, ProjectCall, ProjectCalls, ProjectFile};

/// How a file's calls learn that a project name starts no concurrent work.
pub const STARTS_NO_WORK_PREFIX: &str = "\u{0}starts-no-work:";

/// The key of [`ProjectCall::StartsNoWork`] for a call target.
pub fn starts_no_work_key(target: &str) -> String {
    format!("{STARTS_NO_WORK_PREFIX}{target}")
}

/// How a test file learns that a fixture of a `conftest.py` above it starts nothing.
pub fn conftest_fixture_key(name: &str) -> String {
    format!("{STARTS_NO_WORK_PREFIX}conftest-fixture:{name}")
}

/// Present when an autouse fixture of a `conftest.py` above the file may start work.
pub const CONFTEST_AUTOUSE_STARTS_WORK: &str = "\u{0}conftest-autouse-starts-work";

/// Insert, for a file with async tests, the fixtures of the `conftest.py` files in its
/// directory and above that start nothing (the nearest definition of a name wins), and
/// whether an autouse one may start work.
pub(super) fn insert_conftest_fixtures(
    files: &[ProjectFile],
    file: &ProjectFile,
    calls: &mut ProjectCalls,
) {
    if !file.summary.single_task_entry {
        return;
    }
    let directory = |path: &str| {
        std::path::Path::new(path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    };
    let own = directory(&file.display_path);
    // The conftest files above, nearest first.
    let mut above: Vec<(usize, &ProjectFile)> = files
        .iter()
        .filter(|f| !f.summary.conftest_fixtures.is_empty())
        .filter_map(|f| {
            let dir = directory(&f.display_path);
            own.starts_with(&dir).then(|| (dir.components().count(), f))
        })
        .collect();
    above.sort_by_key(|(depth, _)| std::cmp::Reverse(*depth));
    let mut decided: Vec<&str> = Vec::new();
    for (_, conftest) in above {
        for fixture in &conftest.summary.conftest_fixtures {
            if fixture.autouse && !fixture.starts_nothing {
                calls.insert(
                    CONFTEST_AUTOUSE_STARTS_WORK.to_owned(),
                    ProjectCall::StartsNoWork { yields: None },
                );
            }
            if decided.contains(&fixture.name.as_str()) {
                continue;
            }
            decided.push(&fixture.name);
            if fixture.starts_nothing {
                calls.insert(
                    conftest_fixture_key(&fixture.name),
                    ProjectCall::StartsNoWork { yields: None },
                );
            }
        }
    }
}

/// Which project names are quiet leaves: functions that start nothing and call no project
/// function, and module globals made by a quiet library, by absolute name.
struct Leaves<'a> {
    functions: HashMap<String, ()>,
    globals: HashMap<String, ()>,
    classes: HashMap<String, &'a Construction>,
}

impl<'a> Leaves<'a> {
    fn new(files: &'a [ProjectFile]) -> Self {
        let mut functions = HashMap::new();
        let mut globals = HashMap::new();
        let mut classes = HashMap::new();
        for file in files {
            for name in &file.module.names {
                for quiet in &file.summary.quiet_functions {
                    functions.insert(format!("{name}.{quiet}"), ());
                }
                for quiet in &file.summary.quiet_globals {
                    globals.insert(format!("{name}.{quiet}"), ());
                }
                for class in &file.summary.constructions {
                    classes.insert(format!("{name}.{}", class.qualname), class);
                }
            }
        }
        Leaves {
            functions,
            globals,
            classes,
        }
    }

    /// Whether `name` (through re-exports) is a quiet leaf, or a member of a quiet module
    /// global (what is called on it is the quiet library's: `app.db.engine.connect`).
    fn contains(&self, functions: &Functions, name: &str) -> bool {
        functions.resolve_in(name, &self.functions).is_some()
            || functions.resolve_in(name, &self.globals).is_some()
            || name
                .match_indices('.')
                .any(|(dot, _)| functions.resolve_in(&name[..dot], &self.globals).is_some())
    }
}

/// What a call of a project name that is no function depends on.
enum Callee {
    /// A function of the project.
    Function(usize),
    /// A quiet leaf: starts nothing.
    Quiet,
    /// A class: what its construction runs, each a function of the project.
    Class(Vec<usize>),
    /// Not known: a doubt.
    Unknown,
}

fn callee(functions: &Functions, leaves: &Leaves, name: &str) -> Callee {
    if let Some(id) = functions.resolve(name) {
        return Callee::Function(id);
    }
    if leaves.contains(functions, name) {
        return Callee::Quiet;
    }
    let Some(class) = functions.resolve_in(name, &leaves.classes) else {
        return Callee::Unknown;
    };
    if class.doubt {
        return Callee::Unknown;
    }
    let mut runs = Vec::new();
    for method in &class.runs {
        let method = format!("{name}.{method}");
        match functions.resolve(&method) {
            Some(id) => runs.push(id),
            None if leaves.contains(functions, &method) => {}
            None => return Callee::Unknown,
        }
    }
    Callee::Class(runs)
}

/// The settled fact: per function id, whether it starts (or may start) concurrent work.
pub(super) struct Starting<'a> {
    starts: Vec<bool>,
    leaves: Leaves<'a>,
}

/// Settle which project functions start (or may start) concurrent work.
pub(super) fn settle_starting<'a>(functions: &Functions<'a>) -> Starting<'a> {
    let files = functions.files;
    let count = functions.ids.len();
    let leaves = Leaves::new(files);
    let mut starts = vec![false; count];
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut pending = Vec::new();
    for (id, starts_here) in starts.iter_mut().enumerate() {
        let (file, _) = functions.ids[id];
        let function: &FunctionSummary = functions.function(id);
        let mut doubt = function.starts_work.is_some();
        for &target in function.calls.iter().chain(&function.awaits) {
            let name = &files[file].summary.targets[target as usize];
            match callee(functions, &leaves, name) {
                Callee::Function(callee) if callee != id => callers[callee].push(id),
                Callee::Function(_) | Callee::Quiet => {}
                Callee::Class(runs) => {
                    for callee in runs.into_iter().filter(|&callee| callee != id) {
                        callers[callee].push(id);
                    }
                }
                Callee::Unknown => doubt = true,
            }
        }
        if doubt {
            *starts_here = true;
            pending.push(id);
        }
    }
    // Each function rises at most once, from one already rising: linear, cycles included.
    while let Some(callee) = pending.pop() {
        for &caller in &callers[callee] {
            if !starts[caller] {
                starts[caller] = true;
                pending.push(caller);
            }
        }
    }
    Starting { starts, leaves }
}

impl Starting<'_> {
    /// Insert, for a file with a single-task entry point (`entered`: another file runs one
    /// of its coroutines alone, `entered.rs`), the project names its calls reach
    /// that start no concurrent work.
    pub(super) fn insert_quiet_calls(
        &self,
        functions: &Functions,
        file: &ProjectFile,
        entered: bool,
        calls: &mut ProjectCalls,
    ) {
        if !file.summary.single_task_entry && !entered {
            return;
        }
        for target in &file.summary.targets {
            let (quiet, yields) = match callee(functions, &self.leaves, target) {
                Callee::Function(id) => (!self.starts[id], functions.function(id).yields.clone()),
                Callee::Quiet => (true, None),
                Callee::Class(runs) => (runs.iter().all(|&id| !self.starts[id]), None),
                Callee::Unknown => (false, None),
            };
            if quiet {
                calls.insert(
                    starts_no_work_key(target),
                    ProjectCall::StartsNoWork { yields },
                );
            }
        }
    }
}
