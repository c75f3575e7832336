//! Codemods: loading `codemods/*.toml` (embedded in the binary), compiling and validating them
//! once into [`Codemod`]s, and the registry the analysis queries ("which codemods care about
//! calls to `time.sleep`?"); the rewrite strategies the files name live below.
//!
//! The files: `raw` (the file format), `compile` (raw → [`Codemod`], validated; `file_access`:
//! one `[[moved-code.files]]` table), `model` (the
//! compiled types), `configured` (the user's `blocking-calls`), `idiom` (a project's own
//! offload, `[[offload-idiom]]` and the configuration's `offload`), `registry` (the lookups),
//! `template` (placeholder text), `non_blocking` (the arguments with which a matched call
//! returns at once), `single_task` (what the single-task recognition knows,
//! `[single-task]`), `strategy` (the rewrites, with `offload` and its
//! `helper_name`, `gather` and `httpx` for the larger ones, and `one_hop` for the hops merged
//! across findings).

mod compile;
mod configured;
mod file_access;
mod gather;
mod helper_name;
pub use helper_name::check_then_act_base;
mod httpx;
mod idiom;
mod lookup;
mod model;
mod names;
mod non_blocking;
mod offload;
pub mod one_hop;
mod path_race;
pub use path_race::{PathRaceCall, PathRaceRole, PathRaces};
mod raw;
mod redis_async;
mod registry;
mod single_task;
pub mod strategy;
mod sure_binding;
mod template;
mod thread_caveat;

pub use compile::compile;
pub use configured::ConfiguredCall;
pub use httpx::{Declared, HttpTarget, HttpxMapping, choose_target};
pub use idiom::{KeywordArguments, OffloadIdiom, OffloadShape, configured_offload};
pub use lookup::NameLookup;
pub use model::{
    AlternativeFix, Codemod, CodemodError, DatabaseStatements, Docs, DocumentCollections,
    FileAccessCall, FileAccessKind, FixException, MovedCode, ThreadAffine, ThreadSafe,
};
pub use non_blocking::{ArgumentValue, NonBlocking};
pub use offload::moved_with_block;
pub use redis_async::StrategyMemo;
pub use registry::{CallWords, Registry};
pub use single_task::{HookRegistration, SingleTaskData, StartupHook, TestRunners, under};
pub use strategy::{AsyncLibrary, Site, Strategy};
pub use template::Template;
pub use thread_caveat::Judged;
