//! The findings model: one problem found in a file, with its fix or why there is none.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::Speculation;
use crate::fix::{Applicability, Fix};
use crate::project::Hop;

/// One problem found in a file, with the fix that solves it when there is one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub rule_name: String,
    pub message: String,
    /// The byte range reported (the call).
    pub range: Range<usize>,
    pub fix: Option<Fix>,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
    /// No fix of its own (or one below the run's threshold), yet `fix` at this applicability
    /// fixes it in a later round: once other fixes are applied, the file's syntax errors read
    /// differently and the call gets a fix. `None` for the others.
    #[serde(default)]
    pub later_round: Option<Applicability>,
    /// Made in the project phase's first pass, before the project was settled: the finding
    /// holds only under one outcome of a project call ([`super::settle_speculation`]).
    pub speculation: Option<Box<Speculation>>,
    /// For a call reaching a blocking project function: the chain hop by hop.
    #[serde(default)]
    pub chain: Option<Box<Chain>>,
}

/// A call's chain to a blocking call, hop by hop: its first hop is the finding's own call
/// (in `function`, the call `call`, where the finding is reported), then `hops`, each
/// function's call leading on, the last one the blocking call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The coroutine making the call, as the message names it.
    pub function: String,
    /// The finding's call as written, on one line.
    pub call: String,
    pub hops: Vec<Hop>,
}
