//! A coroutine's database read or write whose callers in other modules act around its await:
//! `balance = await economy.get_balance(u)` then an `UPDATE` (the caller writes after
//! awaiting the read), or a balance check then `await economy.add_winnings(u, -cost)` (the
//! caller read before awaiting the write). Moved to a worker thread, the read or the write
//! runs during an `await`, and the caller's check and act no longer run at once (double
//! spend). Told to the coroutine's file as [`ProjectCall::CallerActs`] keyed
//! [`CALLER_ACTS_PREFIX`] and the coroutine's absolute name. Ordered by line: a read before
//! the await's line, a write after it (branches are not told apart).

use std::collections::HashMap;

use super::{Functions, ProjectCall, ProjectCalls, ProjectFile};

/// How a caller-acts key of [`ProjectCalls`] starts: `\0caller-acts:cogs.economy.Economy.addWinnings`.
pub const CALLER_ACTS_PREFIX: &str = "\u{0}caller-acts:";

/// The key of what the callers of the coroutine `function` (its absolute name) do around it.
pub fn caller_acts_key(function: &str) -> String {
    format!("{CALLER_ACTS_PREFIX}{function}")
}

/// One caller acting around the await of a coroutine on a database it reads or writes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CallerAct {
    /// The database, keyed project-wide.
    pub key: String,
    /// The caller writes it after the await (else: it read it before).
    pub writes_after: bool,
    /// The caller and where it does it: "`buy` (cogs/crypto.py:14)".
    pub caller: String,
}

impl Functions<'_> {
    /// Per coroutine id, its callers acting around its await.
    pub(super) fn callers_acting(&self) -> HashMap<usize, Vec<CallerAct>> {
        let mut found: HashMap<usize, Vec<CallerAct>> = HashMap::new();
        for caller in 0..self.ids.len() {
            let function = self.function(caller);
            if function.awaits.is_empty() {
                continue;
            }
            let (file, _) = self.ids[caller];
            let targets = &self.files[file].summary.targets;
            // The caller's database uses by line: its own (tested or not is not known: not
            // a check), and those of what it calls (a check where it tests the result).
            let mut positioned: Vec<(u32, &super::FileUse, bool)> = function
                .files
                .iter()
                .filter(|u| u.database)
                .map(|u| (u.line, u, false))
                .collect();
            for &call in function.calls.iter().chain(&function.awaits) {
                let (Some(callee), Some(line)) = (
                    self.resolve(&targets[call as usize]),
                    function.call_line(call),
                ) else {
                    continue;
                };
                // A coroutine called but not awaited here runs elsewhere (in a gather, a task).
                if self.function(callee).is_async && !function.awaits.contains(&call) {
                    continue;
                }
                let checked = function.checked.contains(&call);
                if let Some(uses) = self.carried.get(callee) {
                    positioned.extend(
                        uses.iter()
                            .filter(|u| u.database)
                            .map(|u| (line, u, checked)),
                    );
                }
            }
            for &awaited in &function.awaits {
                let (Some(callee), Some(at_line)) = (
                    self.resolve(&targets[awaited as usize]),
                    function.call_line(awaited),
                ) else {
                    continue;
                };
                if callee == caller || !self.function(callee).is_async {
                    continue;
                }
                let Some(uses) = self.carried.get(callee) else {
                    continue;
                };
                for used in uses.iter().filter(|u| u.database) {
                    let tested = function.checked.contains(&awaited);
                    let acted = positioned.iter().find(|(line, other, checked)| {
                        other.key == used.key
                            && match used.write {
                                // The callee writes: the caller checked before the await.
                                true => {
                                    !used.inserts && !other.write && *checked && *line < at_line
                                }
                                // The callee reads, the caller tests it and writes after.
                                false => tested && other.write && !other.inserts && *line > at_line,
                            }
                    });
                    if let Some((line, _, _)) = acted {
                        let act = CallerAct {
                            key: used.key.clone(),
                            writes_after: !used.write,
                            caller: format!(
                                "`{}` ({}:{line})",
                                function.qualname, self.files[file].display_path
                            ),
                        };
                        let entry = found.entry(callee).or_default();
                        if !entry
                            .iter()
                            .any(|e| e.key == act.key && e.writes_after == act.writes_after)
                        {
                            entry.push(act);
                        }
                    }
                }
            }
        }
        found
    }

    /// The caller-acts keys of the file's coroutines.
    pub(super) fn insert_caller_acts(
        &self,
        f: usize,
        file: &ProjectFile,
        acting: &HashMap<usize, Vec<CallerAct>>,
        calls: &mut ProjectCalls,
    ) {
        let Some(module) = file.module.names.first() else {
            return;
        };
        for (&id, acts) in acting {
            let (of, i) = self.ids[id];
            if of != f {
                continue;
            }
            let name = format!("{module}.{}", file.summary.functions[i].qualname);
            calls.insert(
                caller_acts_key(&name),
                ProjectCall::CallerActs(acts.clone()),
            );
        }
    }
}
