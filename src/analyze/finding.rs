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

/// One hop as shown: in `function` of `path`, the call `call` at `row`:`column` (1-based; the
/// column in characters).
pub struct ShownHop<'a> {
    pub path: &'a str,
    pub row: usize,
    pub column: usize,
    pub function: &'a str,
    pub call: &'a str,
}

impl Finding {
    /// Its chain hop by hop, the finding reported in `path` at `(row, column)`; empty for a
    /// finding without a chain.
    pub fn shown_hops<'a>(
        &'a self,
        path: &'a str,
        (row, column): (usize, usize),
    ) -> Vec<ShownHop<'a>> {
        let Some(chain) = &self.chain else {
            return Vec::new();
        };
        let first = ShownHop {
            path,
            row,
            column,
            function: &chain.function,
            call: &chain.call,
        };
        std::iter::once(first)
            .chain(chain.hops.iter().map(|hop| ShownHop {
                path: &hop.path,
                row: hop.line as usize,
                column: hop.column as usize,
                function: &hop.function,
                call: &hop.call,
            }))
            .collect()
    }
}
