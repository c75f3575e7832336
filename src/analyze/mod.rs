//! One walk per file: each call node is offered to the codemods interested in what it
//! resolves to, and each match in async context becomes a [`Finding`] with its fix. The
//! same tree and index give the file's summary for the project phase ([`summarize`]).

mod affinity;
mod await_order;
mod branches;
mod called_accesses;
mod cancellation;
mod class_state;
mod concurrency;
mod conditions;
mod contained;
mod entry;
mod evidence;
mod file_access;
mod finding;
mod first_suspension;
mod guards;
mod hops;
mod library;
mod module_functions;
mod offer;
mod once_only;
mod parameter_state;
mod path_key;
mod path_race;
mod proposal;
mod receivers;
mod returned;
mod shared_collections;
mod shared_databases;
mod shared_files;
mod side_effects;
mod socket;
mod speculation;
mod startup_hooks;
mod state_mirror;
mod state_split;
mod summary;
mod suppression;
mod suspends;
mod syntax_error;
mod target;
mod test_bodies;
mod unit_of_work;
mod wrappers;

#[cfg(test)]
mod entry_tests;
#[cfg(test)]
mod strategy_tests;
#[cfg(test)]
mod test_bodies_tests;
#[cfg(test)]
mod test_context;

use crate::codemod::Registry;
use crate::parse::{KeyNodes, ParsedFile};
use crate::project::ProjectView;
use crate::semantic::SemanticIndex;
use crate::settings::RuleSelection;

pub use finding::{Chain, Finding};
pub use hops::{may_merge, merge_hops};
pub use proposal::SYNTAX_ERROR_REASON;
pub use side_effects::follows_moved_code;
pub use speculation::{Outcome, Speculation, settle_speculation};
pub use summary::{evidence_code, summarize};
pub use syntax_error::{SYNTAX_ERROR_CODE, is_syntax_error, syntax_errors, with_syntax_errors};

/// The file's context for the analysis.
pub struct FileContext<'a> {
    /// The file's path (or `--stdin-filename`), used to recognise trio's and anyio's own code.
    pub path: &'a std::path::Path,
    pub text: &'a str,
    pub line_ending: &'a str,
    pub parsed: &'a ParsedFile,
    /// The calls and comments of `parsed` (and yields, for the project summary).
    pub nodes: &'a KeyNodes<'a>,
    pub index: &'a SemanticIndex,
    /// The lowest Python version the project supports, when configured or declared.
    pub target_version: Option<(u8, u8)>,
    /// The project's pytest configuration sets `asyncio_mode = "auto"` (pytest-asyncio runs
    /// every `async def test_*` without a mark).
    pub pytest_asyncio_auto: bool,
    /// The client requests calls are rewritten to (`httpx` or `httpx2`), and why.
    pub http_client: &'a crate::codemod::HttpTarget,
    /// The run applies unsafe fixes: a codemod's unsafe alternative fix is preferred.
    pub unsafe_fixes: bool,
    /// The project objects libraries find by name (`[[lookup-by-name]]`: `get_cog`).
    pub name_lookups: &'a [crate::codemod::NameLookup],
    /// The calls in this file that the project phase found reaching project coroutine
    /// functions or blocking project functions.
    pub project: Option<ProjectView<'a>>,
    /// The files the module both reads and writes, found once when moved code is checked.
    pub shared_files: std::cell::OnceCell<shared_files::SharedFiles>,
    /// What a new `await` may split in the file, found once when a fix adds one.
    pub await_hazards: std::cell::OnceCell<await_order::AwaitHazards>,
    /// The longest line a fix may write (`codemod::strategy::site::line_limit`), found once.
    pub line_limit: std::cell::OnceCell<usize>,
    /// The script's entry points and the coroutines that run alone, found once.
    pub single_task: std::cell::OnceCell<entry::SingleTask>,
    /// The file's check-then-acts on fixed paths (`path_race.rs`), found once.
    pub path_races: std::cell::OnceCell<Vec<path_race::PathRace>>,
    /// What the strategies work out once for all the file's findings.
    pub strategy_memo: crate::codemod::StrategyMemo,
}

/// Find every match of an enabled codemod in one file, sorted by position. Their thread hops
/// are merged afterwards ([`merge_hops`]), once the findings the configuration ignores for
/// the file are gone: an ignored call is not moved with the others.
pub fn analyze(file: &FileContext, registry: &Registry, selection: &RuleSelection) -> Vec<Finding> {
    let library = library::preferred_library(file);
    let mut findings = Vec::new();
    for &call in &file.nodes.calls {
        // A file past its time budget stops here (`budget.rs`).
        crate::budget::step();
        offer::offer_call(file, registry, selection, library, call, &mut findings);
    }
    suppression::drop_suppressed(file, &mut findings);
    findings.sort_by(|a, b| (a.range.start, &a.code).cmp(&(b.range.start, &b.code)));
    findings
}
