//! The edits a file's fix pass has accepted so far, kept sorted so that whether a new edit
//! conflicts with one of them is a look at its neighbours, not at every edit accepted before
//! (a file of many findings made that quadratic).

use std::collections::{BTreeMap, HashSet};
use std::ops::{Bound, Range};

use super::Edit;

/// Accepted edits: in the order they were accepted, and by place. Two accepted edits never
/// conflict unless both are header lines, so the others, sorted by `(start, end)`, also have
/// their ends in order: the edits that may touch a range are the few just before its end.
#[derive(Default)]
pub(super) struct Accepted<'e> {
    in_order: Vec<&'e Edit>,
    seen: HashSet<&'e Edit>,
    /// The edits that are not header lines, by `(start, end)` (only insertions of one fix at
    /// one place share both).
    code: BTreeMap<(usize, usize), Vec<&'e Edit>>,
    /// The header lines, by place.
    headers: BTreeMap<usize, Vec<&'e Edit>>,
}

impl<'e> Accepted<'e> {
    pub(super) fn is_empty(&self) -> bool {
        self.in_order.is_empty()
    }

    /// Whether `edit` conflicts with an accepted edit ([`Edit::conflicts_with`]).
    pub(super) fn conflicts_with(&self, edit: &Edit) -> bool {
        let (start, end) = (edit.range.start, edit.range.end);
        // A code edit that conflicts starts at or before `end` and ends at or after `start`.
        let code = self
            .code
            .range(..=(end, usize::MAX))
            .rev()
            .take_while(|((_, done_end), _)| *done_end >= start)
            .flat_map(|(_, done)| done)
            .any(|done| done.conflicts_with(edit));
        if code || edit.header.is_some() {
            return code;
        }
        // A header line conflicts with a code edit only at its place or inside it.
        self.headers
            .range(start..=end)
            .flat_map(|(_, headers)| headers)
            .any(|done| done.conflicts_with(edit))
    }

    /// Whether a code edit accepted so far starts inside `range` (not at its ends).
    pub(super) fn code_inside(&self, range: &Range<usize>) -> bool {
        self.code
            .range((
                Bound::Excluded((range.start, usize::MAX)),
                Bound::Excluded((range.end, 0)),
            ))
            .next()
            .is_some()
    }

    /// Accept `edit` (once: an edit shared by several fixes, an import, is applied once).
    pub(super) fn push(&mut self, edit: &'e Edit) {
        if !self.seen.insert(edit) {
            return;
        }
        self.in_order.push(edit);
        match edit.header {
            Some(_) => self.headers.entry(edit.range.start).or_default().push(edit),
            None => self
                .code
                .entry((edit.range.start, edit.range.end))
                .or_default()
                .push(edit),
        }
    }

    /// The accepted edits, in the order they were accepted.
    pub(super) fn into_edits(self) -> Vec<Edit> {
        self.in_order.into_iter().cloned().collect()
    }
}
