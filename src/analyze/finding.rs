//! The findings model: one problem found in a file, with its fix or why there is none.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::Speculation;
use crate::fix::{Applicability, Fix};

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
}
