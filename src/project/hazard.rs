//! What the code a fix moves to a worker thread does that the event loop's thread must do:
//! the per-function fact ([`ThreadHazard`], extracted by `analyze/side_effects.rs`) and, for a
//! blocking project function, the first such fact in it or in the project functions it calls
//! (transitively), which decides its fix: none for a loop-bound asyncio API, unsafe for shared
//! state.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Functions;

/// What moved code must not do, by how much it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HazardKind {
    /// It reads or writes a file its module both reads and writes through a shared name: in
    /// worker threads two coroutines interleave their read-modify-write.
    /// (Below `SharedState`: when code does both, the state's caveat is the one shown.)
    SharedFile,
    /// It changes, or reads the whole of (serialising it), state reachable from `self`, `cls`
    /// or a module global: in a worker thread it races with the coroutines using that state.
    SharedState,
    /// It calls a loop-bound asyncio API under a handler that catches the RuntimeError: in
    /// a worker thread nothing crashes, and what it schedules never runs.
    LoopBoundSwallowed,
    /// It calls an asyncio API that needs the running event loop: in a worker thread there is
    /// none.
    LoopBound,
}

/// How a shared file's hazard names the other module's side (`project/shared_files.rs`):
/// its message then says what races already.
pub(super) const ANOTHER_MODULE: &str = "(another module)";

/// How a scratch file's hazard (a fixed path its function writes and deletes again,
/// `analyze/shared_files.rs`) ends: its message says its own remedy.
pub const OWN_FILE_REMEDY: &str = "give each run its own file";

/// How a check-then-act on a fixed path (`analyze/path_race.rs`) says its remedy: its message
/// is whole.
pub const PATH_RACE_REMEDY: &str = "make the act tolerate it";

/// [`ThreadHazard::function`] of the call a fix runs in a worker thread itself.
pub const MOVED_CALL: &str = "<call>";

/// One function's first hazard of a kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadHazard {
    pub kind: HazardKind,
    /// The function whose own body does it (`Jobs._save`); empty for a block a fix moves,
    /// [`MOVED_CALL`] for a call.
    pub function: String,
    /// What it does, after the function's name: "calls `asyncio.create_task` (in an `except`
    /// branch)", "reads `self.jobs` (`json.dump`)", "changes `self.queues`".
    pub what: String,
    /// The function a fix moves, when the hazard is in a function it calls (transitively).
    #[serde(default)]
    pub moved_with: Option<String>,
}

impl ThreadHazard {
    /// Why a fix that moves the code to a worker thread is not offered (loop-bound) or is
    /// unsafe (shared state).
    pub fn reason(&self) -> String {
        let ThreadHazard { what, .. } = self;
        let function = match &self.moved_with {
            _ if self.function.is_empty() => "the moved block".to_owned(),
            _ if self.function == MOVED_CALL => "the call".to_owned(),
            Some(moved) => format!("`{}` (run by `{moved}`)", self.function),
            None => format!("`{}`", self.function),
        };
        match self.kind {
            HazardKind::LoopBound if what.starts_with("makes") => format!(
                "{function} {what}: a worker thread has no event loop, so on those versions, \
                 which the project does not rule out, it would raise RuntimeError"
            ),
            HazardKind::LoopBoundSwallowed => format!(
                "{function} {what}: in a worker thread there is no running event loop; the \
                 handler catches the RuntimeError, so nothing crashes, but what it schedules \
                 silently never runs (a task never started, a callback never called)"
            ),
            // A database's race says its own remedy (analyze/shared_databases.rs).
            HazardKind::SharedFile
                if what.contains(" the database `") || what.contains(" the collection `") =>
            {
                format!("{function} {what}")
            }
            HazardKind::SharedFile
                if what.contains(OWN_FILE_REMEDY) || what.contains(PATH_RACE_REMEDY) =>
            {
                format!("{function} {what}")
            }
            HazardKind::SharedFile if what.contains(ANOTHER_MODULE) => {
                format!("{function} {what}; guard it with a lock or keep it on the event loop")
            }
            HazardKind::SharedFile => format!(
                "{function} {what}: in worker threads two coroutines can interleave and lose \
                 an update, and a reader can see the file half-written; guard it with a lock \
                 or keep it on the event loop"
            ),
            HazardKind::LoopBound => format!(
                "{function} {what}: in a worker thread there is no running event loop, it \
                 would raise RuntimeError"
            ),
            HazardKind::SharedState if what.starts_with("reads") => format!(
                "{function} {what} in a worker thread while coroutines may change it: a \
                 concurrent change raises 'dictionary changed size during iteration' or saves \
                 a mix; guard it with a lock or copy the state before the hop"
            ),
            HazardKind::SharedState => format!(
                "{function} {what} in a worker thread while coroutines may use it: the \
                 change races with them; guard it with a lock or make it on the event loop"
            ),
        }
    }
}

impl Functions<'_> {
    /// The worst hazard of function `id` and the project functions it calls, transitively
    /// (coroutine functions and generators are not run by a call), the first found breadth
    /// first: what moving a call of it to a worker thread would run there.
    pub(super) fn moved_hazard(
        &self,
        id: usize,
        memo: &mut HashMap<usize, Option<ThreadHazard>>,
    ) -> Option<ThreadHazard> {
        if let Some(known) = memo.get(&id) {
            return known.clone();
        }
        let mut seen = vec![id];
        let mut queue = std::collections::VecDeque::from([id]);
        let mut worst: Option<ThreadHazard> = None;
        while let Some(next) = queue.pop_front() {
            let function = self.function(next);
            for hazard in &function.hazards {
                if worst.as_ref().is_none_or(|w| hazard.kind > w.kind) {
                    worst = Some(hazard.clone());
                }
            }
            // A file another module reads or writes (the least of the hazards).
            if worst.is_none() {
                let (file, index) = self.ids[next];
                worst = self
                    .shared_files
                    .hazard(file, index)
                    .or_else(|| self.carried_race(next));
            }
            if worst
                .as_ref()
                .is_some_and(|w| w.kind == HazardKind::LoopBound)
            {
                break;
            }
            let (file, _) = self.ids[next];
            for call in &function.calls {
                let target = &self.files[file].summary.targets[*call as usize];
                if let Some(callee) = self.resolve(target)
                    && !seen.contains(&callee)
                {
                    let summary = self.function(callee);
                    if !summary.is_async && !summary.is_generator {
                        seen.push(callee);
                        queue.push_back(callee);
                    }
                }
            }
        }
        let moved = &self.function(id).qualname;
        if let Some(hazard) = worst.as_mut().filter(|h| &h.function != moved) {
            hazard.moved_with = Some(moved.clone());
        }
        memo.insert(id, worst.clone());
        worst
    }
}
