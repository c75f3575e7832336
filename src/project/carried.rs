//! The files and databases a call of a project function reaches in another module: each
//! function's own uses ([`FunctionSummary::files`], which already hold what the module's own
//! functions it calls use) joined with those of the project functions it calls, transitively.
//! A coroutine calling `get_balance` and then `set_balance`, imported from another module,
//! then reads the database in one hop and writes it in another, as if the two were its own
//! module's: the analysis puts the carried uses at the call (`analyze/shared_files.rs`),
//! where a check hop and its act hop are seen as in one module.
//!
//! Settled once, in linear time: each function's set only grows, up to [`MAX_CARRIED`] uses.

use std::collections::HashMap;

use super::{FileUse, Functions, HazardKind, ProjectCall, ProjectCalls, ThreadHazard};

/// How a carried-uses key of [`ProjectCalls`] starts: `uses:app.db.get_balance`. No call
/// target (a dotted name) has a colon.
pub const CARRIED_PREFIX: &str = "uses:";

/// The most uses carried per function (each file or database once per kind of use): enough
/// for a check and its act, bounded however the helpers nest.
const MAX_CARRIED: usize = 16;

/// What one use is, for the set: the same file used the same way once.
fn same_use(a: &FileUse, b: &FileUse) -> bool {
    a.key == b.key
        && a.write == b.write
        && a.atomic == b.atomic
        && a.database == b.database
        && a.inserts == b.inserts
        && a.sql_parameter == b.sql_parameter
}

impl Functions<'_> {
    /// The functions with what each carries ([`Functions::carried`]).
    pub(super) fn with_carried(mut self) -> Self {
        self.carried = self.carried_uses();
        self
    }

    /// Per function id, the uses it carries: its own, and those of the synchronous project
    /// functions it calls (a coroutine or a generator is not run by a call), transitively.
    fn carried_uses(&self) -> Vec<Vec<FileUse>> {
        let count = self.ids.len();
        let runs = |id: usize| {
            let function = self.function(id);
            !function.is_async && !function.is_generator
        };
        // Per callee, its callers and the target (of the caller's file) they call it by.
        let mut callers: Vec<Vec<(usize, u32)>> = vec![Vec::new(); count];
        for id in 0..count {
            let (file, _) = self.ids[id];
            for call in &self.function(id).calls {
                if let Some(callee) =
                    self.resolve(&self.files[file].summary.targets[*call as usize])
                    && callee != id
                    && runs(callee)
                {
                    callers[callee].push((id, *call));
                }
            }
        }
        let mut carried: Vec<Vec<FileUse>> = (0..count)
            .map(|id| {
                let mut own: Vec<FileUse> = Vec::new();
                for used in &self.function(id).files {
                    if own.len() < MAX_CARRIED && !own.iter().any(|o| same_use(o, used)) {
                        own.push(used.clone());
                    }
                }
                own
            })
            .collect();
        let mut pending: Vec<usize> = (0..count)
            .filter(|&id| runs(id) && !carried[id].is_empty())
            .collect();
        while let Some(callee) = pending.pop() {
            for &(caller, target) in &callers[callee] {
                let mut grew = false;
                for i in 0..carried[callee].len() {
                    let Some(used) = self.passed_sql(caller, target, &carried[callee][i]) else {
                        continue;
                    };
                    let into = &mut carried[caller];
                    if into.len() < MAX_CARRIED && !into.iter().any(|o| same_use(o, &used)) {
                        into.push(used);
                        grew = true;
                    }
                }
                if grew && runs(caller) {
                    pending.push(caller);
                }
            }
        }
        carried
    }

    /// Per file (in `files` order), the uses carried by the calls its functions make of
    /// project functions in other modules, by [`CARRIED_PREFIX`] and the call's target; only
    /// for a file with a coroutine (a hop is split only there).
    pub(super) fn carried_calls(&self) -> Vec<ProjectCalls> {
        let carried = &self.carried;
        self.files
            .iter()
            .enumerate()
            .map(|(f, file)| {
                let mut found: ProjectCalls = HashMap::new();
                if !file
                    .summary
                    .functions
                    .iter()
                    .any(|function| function.is_async)
                {
                    return found;
                }
                for name in &file.summary.targets {
                    let Some(callee) = self.resolve(name) else {
                        continue;
                    };
                    let function = self.function(callee);
                    if function.is_generator {
                        continue;
                    }
                    // A function of the same file: the analysis follows the calls of its
                    // module-level functions itself, not those of methods (`self.get_balance()`):
                    // their databases are carried too.
                    let uses: Vec<FileUse> = match self.ids[callee].0 == f {
                        true => carried[callee]
                            .iter()
                            .filter(|used| used.database)
                            .cloned()
                            .collect(),
                        false => carried[callee].clone(),
                    };
                    if uses.is_empty() {
                        continue;
                    }
                    found.insert(
                        format!("{CARRIED_PREFIX}{name}"),
                        ProjectCall::Carried {
                            uses,
                            awaited: function.is_async,
                        },
                    );
                }
                found
            })
            .collect()
    }
}

impl Functions<'_> {
    /// A use carried from a callee to `caller`, which calls it by `target`: a statement with
    /// SQL from the callee's parameter is what the caller's calls pass there (a `SELECT`
    /// only reads: its write is dropped, `None`), both a read and a write where a call passes
    /// SQL not written out.
    fn passed_sql(&self, caller: usize, target: u32, used: &FileUse) -> Option<FileUse> {
        let Some((position, name)) = &used.sql_parameter else {
            return Some(used.clone());
        };
        let mut kept: Option<FileUse> = None;
        let mut calls = self
            .function(caller)
            .sql_calls
            .iter()
            .filter(|c| c.target == target)
            .peekable();
        let unknown = FileUse {
            sql_parameter: None,
            ..used.clone()
        };
        if calls.peek().is_none() {
            return Some(unknown);
        }
        for call in calls {
            let passed = call.args.iter().find(|a| {
                a.keyword.as_deref() == Some(name.as_str())
                    || (a.position.is_some() && a.position == *position)
            });
            match passed {
                None => return Some(unknown),
                Some(arg) if arg.read != used.write => {
                    let inserts = used.write && arg.inserts;
                    // A write that rewrites rows wins over one that only adds them.
                    let inserts = kept.as_ref().map_or(inserts, |k| k.inserts && inserts);
                    kept = Some(FileUse {
                        inserts,
                        ..unknown.clone()
                    });
                }
                Some(_) => {}
            }
        }
        kept
    }

    /// Function `id`, moved whole to a worker thread, reads rows of a database and writes
    /// them (not only adds) through the helpers it calls, one of them another module's: the
    /// order of those calls is not in the summary, so the read may be a check and the write
    /// its act, or a read-modify-write, now run at once with other calls.
    pub(super) fn carried_race(&self, id: usize) -> Option<ThreadHazard> {
        let function = self.function(id);
        let carried = self.carried.get(id)?;
        let own = |used: &FileUse| function.files.iter().any(|o| same_use(o, used));
        let write = carried.iter().find(|w| {
            w.database
                && w.write
                && !w.inserts
                && carried
                    .iter()
                    .any(|r| r.database && !r.write && r.key == w.key && (!own(r) || !own(w)))
        })?;
        // A pymongo collection (`collection:` keys, `analyze/shared_collections.rs`).
        let (what, remedy) = match write.key.strip_prefix("collection:") {
            Some(collection) => (
                format!("documents of the collection `{collection}`"),
                "in one call (`update_one` with `$inc` / `$set`, `find_one_and_update`)",
            ),
            None => (
                format!("rows of the database `{}`", write.key),
                "in one statement or in one transaction (`BEGIN IMMEDIATE`)",
            ),
        };
        Some(ThreadHazard {
            kind: HazardKind::SharedFile,
            function: function.qualname.clone(),
            what: format!(
                "reads and writes {what} through the helpers it calls, another module's among \
                 them, in an order not followed across modules: if the read is a check and the \
                 write its act, or the read's value is written back, two calls in worker \
                 threads interleave (double spend, lost update); do it {remedy}"
            ),
            moved_with: None,
        })
    }
}
