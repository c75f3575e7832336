//! Codemods: loading `codemods/*.toml` (embedded in the binary), compiling and validating them
//! once into [`Codemod`]s, and the registry the analysis queries ("which codemods care about
//! calls to `time.sleep`?"); the rewrite strategies the files name live below.
//!
//! The files: `raw` (the file format), `compile` (raw → [`Codemod`], validated), `model` (the
//! compiled types), `configured` (the user's `blocking-calls`), `idiom` (a project's own
//! offload, `[[offload-idiom]]` and the configuration's `offload`), `registry` (the lookups),
//! `template` (placeholder text), `strategy` (the rewrites, with `offload` and its
//! `helper_name`, `gather` and `httpx` for the larger ones, and `one_hop` for the hops merged
//! across findings).

mod compile;
mod configured;
mod gather;
mod helper_name;
mod httpx;
mod idiom;
mod model;
mod names;
mod offload;
pub mod one_hop;
mod raw;
mod redis_async;
mod registry;
pub mod strategy;
mod template;
mod thread_caveat;

pub use compile::compile;
pub use configured::ConfiguredCall;
pub use httpx::HttpxMapping;
pub use idiom::{KeywordArguments, OffloadIdiom, OffloadShape, configured_offload};
pub use model::{
    AlternativeFix, Codemod, CodemodError, Docs, FileAccessCall, FileAccessKind, FixException,
    MovedCode, ThreadAffine,
};
pub use offload::moved_with_block;
pub use redis_async::StrategyMemo;
pub use registry::{CallWords, ENTRY_WORDS, Registry};
pub use strategy::{AsyncLibrary, Site, Strategy};
pub use template::Template;
pub use thread_caveat::Judged;
