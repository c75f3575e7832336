//! One file's summary for the project phase: its functions (coroutine? generator? the first
//! call in them that blocks by itself) and the calls they make to project functions, by
//! resolved name. Small owned data only, so no syntax tree outlives the per-file pass; the
//! analysis extracts it from the tree and index it already built (`analyze/summary.rs`).

use serde::{Deserialize, Serialize};

use super::ThreadHazard;

/// A call that blocks by itself: the rule that says so and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub code: String,
    /// What the call resolved to: `requests.get`.
    pub call: String,
    /// 1-based.
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSummary {
    /// `load_profile`, `Repo.save`, `outer.inner`.
    pub qualname: String,
    pub is_async: bool,
    /// It yields: calling it only makes a generator, which runs nothing yet.
    pub is_generator: bool,
    /// The first call in its body that blocks by itself.
    pub direct: Option<Evidence>,
    /// What the calls in its own body (not in nested functions) may reach, as indexes in
    /// [`FileSummary::targets`] (each name once): absolute dotted names such as
    /// `app.helpers.load_profile`, `app.models.Repo.save` (through `self`). Awaited calls are
    /// left out (awaiting a call of a synchronous function awaits what it returns).
    pub calls: Vec<u32>,
    /// The calls among `calls` whose result may be thrown away (a statement of its own, or
    /// assigned to a local nothing reads): a coroutine called so is never awaited (UNF301).
    pub discarded: Vec<u32>,
    /// What its own body does that a worker thread must not: at most one per kind
    /// (`hazard.rs`).
    #[serde(default)]
    pub hazards: Vec<ThreadHazard>,
}

/// Serialised in the result cache (`cache.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub functions: Vec<FunctionSummary>,
    /// The names the file's calls resolve to, each once.
    pub targets: Vec<String>,
    /// Module-level imports of project names, `(bound name, absolute name)`: what the module
    /// re-exports (`from .helpers import load_profile` in `app/__init__.py`).
    pub imports: Vec<(String, String)>,
}
