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

use std::collections::HashMap;

use super::{FunctionSummary, Functions, ProjectCall, ProjectCalls, ProjectFile};

/// How a file's calls learn that a project name starts no concurrent work.
pub const STARTS_NO_WORK_PREFIX: &str = "\u{0}starts-no-work:";

/// The key of [`ProjectCall::StartsNoWork`] for a call target.
pub fn starts_no_work_key(target: &str) -> String {
    format!("{STARTS_NO_WORK_PREFIX}{target}")
}

/// Which project names are quiet leaves: functions that start nothing and call no project
/// function, and module globals made by a quiet library, by absolute name.
struct Leaves {
    functions: HashMap<String, ()>,
    globals: HashMap<String, ()>,
}

impl Leaves {
    fn new(files: &[ProjectFile]) -> Self {
        let mut functions = HashMap::new();
        let mut globals = HashMap::new();
        for file in files {
            for name in &file.module.names {
                for quiet in &file.summary.quiet_functions {
                    functions.insert(format!("{name}.{quiet}"), ());
                }
                for quiet in &file.summary.quiet_globals {
                    globals.insert(format!("{name}.{quiet}"), ());
                }
            }
        }
        Leaves { functions, globals }
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

/// The settled fact: per function id, whether it starts (or may start) concurrent work.
pub(super) struct Starting {
    starts: Vec<bool>,
    leaves: Leaves,
}

/// Settle which project functions start (or may start) concurrent work.
pub(super) fn settle_starting(functions: &Functions) -> Starting {
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
            match functions.resolve(name) {
                Some(callee) if callee != id => callers[callee].push(id),
                Some(_) => {}
                None => doubt |= !leaves.contains(functions, name),
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

impl Starting {
    /// Insert, for a file with a single-task entry point, the project names its calls reach
    /// that start no concurrent work.
    pub(super) fn insert_quiet_calls(
        &self,
        functions: &Functions,
        file: &ProjectFile,
        calls: &mut ProjectCalls,
    ) {
        if !file.summary.single_task_entry {
            return;
        }
        for target in &file.summary.targets {
            let quiet = match functions.resolve(target) {
                Some(id) => !self.starts[id],
                None => self.leaves.contains(functions, target),
            };
            if quiet {
                calls.insert(starts_no_work_key(target), ProjectCall::StartsNoWork);
            }
        }
    }
}
