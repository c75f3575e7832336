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
    /// How many accepted edits the conflict checks compared so far: the tests count the work.
    #[cfg(test)]
    compared: std::cell::Cell<usize>,
}

impl<'e> Accepted<'e> {
    pub(super) fn is_empty(&self) -> bool {
        self.in_order.is_empty()
    }

    /// Whether `edit` conflicts with an accepted edit ([`Edit::conflicts_with`]).
    pub(super) fn conflicts_with(&self, edit: &Edit) -> bool {
        let (start, end) = (edit.range.start, edit.range.end);
        let compare = |done: &&Edit| {
            #[cfg(test)]
            self.compared.set(self.compared.get() + 1);
            done.conflicts_with(edit)
        };
        // A code edit that conflicts starts at or before `end` and ends at or after `start`.
        let code = self
            .code
            .range(..=(end, usize::MAX))
            .rev()
            .take_while(|((_, done_end), _)| *done_end >= start)
            .flat_map(|(_, done)| done)
            .any(compare);
        if code || edit.header.is_some() {
            return code;
        }
        // A header line conflicts with a code edit only at its place or inside it.
        self.headers
            .range(start..=end)
            .flat_map(|(_, headers)| headers)
            .any(compare)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `i`th of many one-line fixes: `time.sleep(0)` replaced on its own line, and the
    /// import every one of them adds at the top.
    fn edits(count: usize) -> Vec<Edit> {
        let mut edits = vec![Edit::header_insertion(
            0,
            "import asyncio\n",
            super::super::HeaderKind::Import,
        )];
        for i in 0..count {
            let start = 40 + i * 40;
            edits.push(Edit::replacement(
                start..start + 13,
                "await asyncio.sleep(0)",
            ));
        }
        edits
    }

    #[test]
    fn conflict_checks_look_at_neighbours_not_at_every_accepted_edit() {
        let edits = edits(20_000);
        let mut accepted = Accepted::default();
        for edit in &edits {
            assert!(!accepted.conflicts_with(edit));
            accepted.push(edit);
        }
        // Each check compares the edit before it (and the shared import once more): a list of
        // the accepted edits compared 200 million pairs here.
        assert!(
            accepted.compared.get() <= 2 * edits.len(),
            "{}",
            accepted.compared.get()
        );
        assert_eq!(accepted.into_edits().len(), edits.len());
    }

    #[test]
    fn conflicts_are_the_ones_a_look_at_every_edit_finds() {
        let import = Edit::header_insertion(0, "import a\n", super::super::HeaderKind::Import);
        let code = Edit::replacement(10..20, "x");
        let insertion = Edit::insertion(30, "y");
        let mut accepted = Accepted::default();
        for edit in [&import, &code, &insertion] {
            accepted.push(edit);
        }
        let cases = [
            Edit::replacement(15..25, "overlaps"),
            Edit::replacement(5..12, "overlaps"),
            Edit::replacement(20..25, "after"),
            Edit::insertion(15, "inside"),
            Edit::insertion(10, "at the start"),
            Edit::insertion(30, "another at the same place"),
            Edit::insertion(30, "y"),
            Edit::replacement(25..35, "around an insertion"),
            Edit::replacement(0..5, "around a header"),
            Edit::header_insertion(0, "import b\n", super::super::HeaderKind::Import),
            Edit::header_insertion(15, "x = 1\n", super::super::HeaderKind::Definition),
        ];
        for case in &cases {
            let everyone = [&import, &code, &insertion]
                .iter()
                .any(|done| done.conflicts_with(case));
            assert_eq!(accepted.conflicts_with(case), everyone, "{case:?}");
        }
        assert!(accepted.code_inside(&(5..15)));
        assert!(!accepted.code_inside(&(10..30)));
        assert!(accepted.code_inside(&(9..30)));
        assert!(!accepted.code_inside(&(20..30)));
    }
}
