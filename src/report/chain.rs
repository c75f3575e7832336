//! A finding's chain to a blocking call as the reporters show it, hop by hop: the finding's
//! own call first (where it is reported), then each function's call leading on, the last one
//! the blocking call.

use crate::analyze::Finding;

/// One hop as shown: in `function` of `path`, the call `call` at `row`:`column` (1-based; the
/// column in characters).
pub struct ShownHop<'a> {
    pub path: &'a str,
    pub row: usize,
    pub column: usize,
    pub function: &'a str,
    pub call: &'a str,
}

/// The hops of `finding`, reported in `path` at `(row, column)`; empty for a finding without
/// a chain.
pub fn shown_hops<'a>(
    finding: &'a Finding,
    path: &'a str,
    (row, column): (usize, usize),
) -> Vec<ShownHop<'a>> {
    let Some(chain) = &finding.chain else {
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
