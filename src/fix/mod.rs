//! Edits and fixes: byte-range `Edit`s grouped into a `Fix` with an applicability, applied to
//! a file in one pass (overlapping fixes skipped), followed by the removal of imports the fixes
//! left unused and a re-parse that refuses any result with new syntax errors.

pub mod imports;

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use tree_sitter::{Node, Tree};

use crate::parse::{Field, FieldChild, KindName, ParsedFile, parse};

/// How far a fix can be trusted, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Shown as a suggestion, never applied.
    DisplayOnly,
    /// Changes behaviour in a known, stated way: applied only with `--unsafe-fixes`.
    Unsafe,
    /// Keeps behaviour: applied by `fix --write`.
    Safe,
}

impl Applicability {
    pub fn parse(text: &str) -> Option<Applicability> {
        match text {
            "safe" => Some(Applicability::Safe),
            "unsafe" => Some(Applicability::Unsafe),
            "display-only" => Some(Applicability::DisplayOnly),
            _ => None,
        }
    }
}

impl fmt::Display for Applicability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
            Applicability::DisplayOnly => "display-only",
        })
    }
}

/// Replace the bytes `range` with `content` (an insertion when the range is empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
    /// A line added to the file's header (an import, a module-level definition): several may
    /// be inserted at the same place, imports first, then in text order.
    pub header: Option<HeaderKind>,
}

/// The kinds of header lines, in the order they are stacked at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeaderKind {
    Import,
    Definition,
}

impl Edit {
    pub fn insertion(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            range: at..at,
            content: content.into(),
            header: None,
        }
    }

    /// An insertion of header lines (imports, module-level definitions) that may share its
    /// place with other header insertions.
    pub fn header_insertion(at: usize, content: impl Into<String>, kind: HeaderKind) -> Edit {
        Edit {
            range: at..at,
            content: content.into(),
            header: Some(kind),
        }
    }

    pub fn replacement(range: Range<usize>, content: impl Into<String>) -> Edit {
        Edit {
            range,
            content: content.into(),
            header: None,
        }
    }

    pub fn deletion(range: Range<usize>) -> Edit {
        Edit {
            range,
            content: String::new(),
            header: None,
        }
    }

    /// Two edits conflict when they overlap, or insert different text at the same place
    /// (header lines excepted).
    fn conflicts_with(&self, other: &Edit) -> bool {
        if self == other || (self.header.is_some() && other.header.is_some()) {
            return false;
        }
        if self.range.is_empty() && other.range.is_empty() {
            return self.range.start == other.range.start;
        }
        self.range.start < other.range.end && other.range.start < self.range.end
            || (self.range.is_empty()
                && other.range.start < self.range.start
                && self.range.start < other.range.end)
            || (other.range.is_empty()
                && self.range.start < other.range.start
                && other.range.start < self.range.end)
    }
}

/// A set of edits that must be applied together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, e.g. "Replace with `await asyncio.sleep(...)`".
    pub title: String,
    /// Sorted by start; edits shared with another fix (an import) are applied once.
    pub edits: Vec<Edit>,
    /// Why the fix is not safe, when it is not.
    pub caveat: Option<String>,
    /// Names whose import this fix may leave unused (removed afterwards if so).
    pub may_orphan: Vec<String>,
    /// The code this fix moves into a function run in a worker thread (a `with` block): no
    /// other fix may edit inside it. Their edits would land in that synchronous function, and
    /// the `await` they add is a syntax error there; in the thread the calls may block.
    pub moves: Option<Range<usize>>,
}

impl Fix {
    pub fn new(applicability: Applicability, title: String, mut edits: Vec<Edit>) -> Fix {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        Fix {
            applicability,
            title,
            edits,
            caveat: None,
            may_orphan: Vec::new(),
            moves: None,
        }
    }

    pub fn range(&self) -> Range<usize> {
        let start = self.edits.iter().map(|e| e.range.start).min().unwrap_or(0);
        let end = self.edits.iter().map(|e| e.range.end).max().unwrap_or(0);
        start..end
    }
}

/// Apply `edits` (sorted, non-overlapping) to `text`.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    apply_edits_tracked(text, edits).0
}

/// [`apply_edits`], also giving where each edit's new text is in the result.
fn apply_edits_tracked(text: &str, edits: &[Edit]) -> (String, Vec<Range<usize>>) {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by(|a, b| {
        (a.range.start, a.range.end)
            .cmp(&(b.range.start, b.range.end))
            .then_with(|| match (a.header, b.header) {
                (Some(x), Some(y)) => (x, &a.content).cmp(&(y, &b.content)),
                // Header lines go before code inserted at the same place (`task = ...`).
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    let mut out = String::with_capacity(text.len() + 64);
    let mut inserted = Vec::with_capacity(sorted.len());
    let mut cursor = 0;
    for edit in sorted {
        out.push_str(&text[cursor..edit.range.start]);
        inserted.push(out.len()..out.len() + edit.content.len());
        out.push_str(&edit.content);
        cursor = edit.range.end;
    }
    out.push_str(&text[cursor..]);
    (out, inserted)
}

/// Whether an `await` in the text the edits inserted (`inserted`, ranges of `fixed`) is
/// outside a coroutine: in a synchronous function's, a lambda's or a class's body, or at the
/// top level. Python refuses that, but tree-sitter's grammar parses `await` anywhere, so the
/// parse does not count it as an error.
fn inserts_await_outside_coroutine(fixed: &str, tree: &Tree, inserted: &[Range<usize>]) -> bool {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    inserted.iter().any(|range| {
        fixed[range.clone()].match_indices("await").any(|(at, _)| {
            let start = range.start + at;
            let end = start + "await".len();
            let bytes = fixed.as_bytes();
            if start > 0 && is_word_byte(bytes[start - 1])
                || bytes.get(end).is_some_and(|&b| is_word_byte(b))
            {
                return false;
            }
            tree.root_node()
                .descendant_for_byte_range(start, end)
                .is_some_and(|keyword| keyword.kind_name() == "await" && !in_coroutine(keyword))
        })
    })
}

/// Whether `node` runs in a coroutine's body (not in a nested function, lambda or class body).
fn in_coroutine(node: Node) -> bool {
    let mut child = node;
    while let Some(parent) = child.parent() {
        let in_body = || {
            parent
                .field(Field::Body)
                .is_some_and(|b| b.id() == child.id())
        };
        match parent.kind_name() {
            "function_definition" if in_body() => {
                return parent.child(0).is_some_and(|c| c.kind_name() == "async");
            }
            "lambda" | "class_definition" if in_body() => return false,
            _ => {}
        }
        child = parent;
    }
    false
}

/// Why a fix was not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// It overlaps a fix applied before it; a second run will propose it again.
    Overlap,
    /// Its applicability is below what the run applies.
    NotApplicable(Applicability),
}

/// A fix whose own edits overlap cannot be applied (a strategy bug): it is skipped, never
/// applied half-way.
fn overlaps_itself(fix: &Fix) -> bool {
    let overlapping = fix.edits.windows(2).any(|pair| {
        let (a, b) = (&pair[0], &pair[1]);
        a.range.end > b.range.start && !(a.range.is_empty() && b.range.is_empty())
    });
    debug_assert!(!overlapping, "a fix with overlapping edits: {fix:?}");
    overlapping
}

/// Whether `edit` changes or inserts text strictly inside `range`.
fn edit_inside(edit: &Edit, range: &Range<usize>) -> bool {
    range.start < edit.range.start && edit.range.start < range.end
}

/// The result of fixing one file.
#[derive(Clone, Debug)]
pub struct FixOutcome {
    /// The new text, when at least one fix applied and the result re-parsed cleanly.
    pub fixed_text: Option<String>,
    /// For each input fix, whether it was applied.
    pub applied: Vec<bool>,
    /// Set when the fixes were undone because the result did not parse.
    pub rejected: Option<String>,
    /// How many fixes were skipped because they overlapped an applied one (another round on
    /// the fixed text may apply them).
    pub overlapped: usize,
    /// The parse of `fixed_text` made to check it, for the next analysis of that text.
    pub parsed: Option<ParsedFile>,
}

/// Apply every fix whose applicability reaches `threshold`, in source order, skipping a fix
/// that overlaps one already applied; then drop imports the fixes left unused; then re-parse
/// and give up on the whole file if that introduced a syntax error.
pub fn fix_file(
    text: &str,
    original_errors: usize,
    fixes: &[Option<&Fix>],
    threshold: Applicability,
    keep_imports: bool,
) -> FixOutcome {
    fix_file_counting(text, Some(original_errors), fixes, threshold, keep_imports)
}

/// [`fix_file`] for a text whose syntax errors were not counted (`None`: its analysis read a
/// masked parse, see `masked.rs`): they are counted, by parsing `text`, only if the fixed text
/// has any.
pub fn fix_file_counting(
    text: &str,
    original_errors: Option<usize>,
    fixes: &[Option<&Fix>],
    threshold: Applicability,
    keep_imports: bool,
) -> FixOutcome {
    let mut order: Vec<usize> = (0..fixes.len()).filter(|i| fixes[*i].is_some()).collect();
    // Fixes that move code to a thread first: the calls inside are then fixed by the move.
    order.sort_by_key(|i| {
        let fix = fixes[*i].expect("filtered");
        (fix.moves.is_none(), fix.range().start, *i)
    });
    let mut applied = vec![false; fixes.len()];
    let mut overlapped = 0;
    let mut accepted: Vec<&Edit> = Vec::new();
    // The code moved by the accepted fixes ([`Fix::moves`]).
    let mut moved: Vec<&Range<usize>> = Vec::new();
    let mut orphan_candidates: Vec<&str> = Vec::new();
    for i in order {
        let fix = fixes[i].expect("filtered");
        if fix.applicability < threshold || overlaps_itself(fix) {
            continue;
        }
        let conflicts = fix
            .edits
            .iter()
            .any(|edit| accepted.iter().any(|done| done.conflicts_with(edit)));
        // The same block's fix, proposed by another finding in it, is the same fix.
        let moves_again = fix.moves.as_ref().is_some_and(|own| moved.contains(&own));
        let into_moved = !moves_again
            && fix.edits.iter().any(|edit| {
                edit.header.is_none() && moved.iter().any(|range| edit_inside(edit, range))
            });
        let moves_edited = !moves_again
            && fix.moves.as_ref().is_some_and(|own| {
                accepted
                    .iter()
                    .any(|done| done.header.is_none() && edit_inside(done, own))
            });
        if into_moved {
            // Its call now runs in the worker thread: the move fixed it.
            applied[i] = true;
            continue;
        }
        if conflicts || moves_edited {
            overlapped += 1;
            continue;
        }
        for edit in &fix.edits {
            if !accepted.contains(&edit) {
                accepted.push(edit);
            }
        }
        if let Some(own) = &fix.moves
            && !moves_again
        {
            moved.push(own);
        }
        orphan_candidates.extend(fix.may_orphan.iter().map(String::as_str));
        applied[i] = true;
    }
    if accepted.is_empty() {
        return FixOutcome {
            fixed_text: None,
            applied,
            rejected: None,
            overlapped,
            parsed: None,
        };
    }
    let edits: Vec<Edit> = accepted.into_iter().cloned().collect();
    let (mut fixed, inserted) = apply_edits_tracked(text, &edits);
    let mut parsed = parse(&fixed);
    if inserts_await_outside_coroutine(&fixed, &parsed.tree, &inserted) {
        return FixOutcome {
            fixed_text: None,
            applied: vec![false; fixes.len()],
            overlapped: 0,
            rejected: Some(
                "a fix would put `await` outside a coroutine; nothing was changed in it".to_owned(),
            ),
            parsed: None,
        };
    }
    if !keep_imports && !orphan_candidates.is_empty() {
        let removals = imports::orphaned_import_removals(&fixed, &parsed, &orphan_candidates);
        if !removals.is_empty() {
            fixed = apply_edits(&fixed, &removals);
            parsed = parse(&fixed);
        }
    }
    let errors = parsed.error_ranges.len();
    if errors > 0 && errors > original_errors.unwrap_or_else(|| parse(text).error_ranges.len()) {
        return FixOutcome {
            fixed_text: None,
            applied: vec![false; fixes.len()],
            overlapped: 0,
            rejected: Some("the fixed file would not parse; nothing was changed in it".to_owned()),
            parsed: None,
        };
    }
    FixOutcome {
        fixed_text: Some(fixed),
        applied,
        rejected: None,
        overlapped,
        parsed: Some(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix::new(Applicability::Safe, "t".into(), edits)
    }

    #[test]
    fn edits_apply_in_order() {
        let text = "abcdef";
        let out = apply_edits(
            text,
            &[
                Edit::replacement(4..5, "E"),
                Edit::insertion(0, ">"),
                Edit::deletion(1..2),
            ],
        );
        assert_eq!(out, ">acdEf");
    }

    #[test]
    fn a_fix_putting_await_outside_a_coroutine_is_refused() {
        let text = "async def f():\n    def g(x=h()):\n        h()\n    h()\n    k = lambda: h()\n\n\nclass A:\n    h()\n";
        let at = |needle: &str, nth: usize| text.match_indices(needle).nth(nth).unwrap().0;
        let awaiting = |at: usize| fix(vec![Edit::insertion(at, "await ")]);
        // In the coroutine's body, and in a nested function's default (evaluated there).
        for at in [at("h()", 2), at("h()", 0)] {
            let outcome = fix_file(text, 0, &[Some(&awaiting(at))], Applicability::Safe, true);
            assert!(outcome.rejected.is_none(), "{:?}", outcome.fixed_text);
            assert!(outcome.fixed_text.unwrap().contains("await h()"));
        }
        // A synchronous function's body, a lambda's, a class's.
        for at in [at("h()", 1), at("h()", 3), at("h()", 4)] {
            let outcome = fix_file(text, 0, &[Some(&awaiting(at))], Applicability::Safe, true);
            assert!(outcome.fixed_text.is_none(), "at {at}");
            assert_eq!(outcome.applied, [false]);
            assert!(outcome.rejected.unwrap().contains("outside a coroutine"));
        }
        // `awaited` is a name, not the keyword.
        let named = fix(vec![Edit::insertion(at("h()", 1), "awaited or ")]);
        let outcome = fix_file(text, 0, &[Some(&named)], Applicability::Safe, true);
        assert!(outcome.rejected.is_none());
    }

    #[test]
    fn a_fix_inside_code_another_fix_moves_to_a_thread_is_fixed_by_the_move() {
        let text = "async def f():\n    with a():\n        b()\n";
        let block = text.find("with").unwrap()..text.len() - 1;
        let mut moving = fix(vec![
            Edit::insertion(text.find("    with").unwrap(), "    def s():\n    "),
            Edit::insertion(text.find("        b").unwrap(), "    "),
            Edit::insertion(text.len(), "    await to_thread(s)\n"),
        ]);
        moving.moves = Some(block);
        // Its import's line comes first in the file.
        let inner = fix(vec![
            Edit::header_insertion(0, "import x\n", HeaderKind::Import),
            Edit::insertion(text.find("b()").unwrap(), "await "),
        ]);
        let expected = "async def f():\n    def s():\n        with a():\n            b()\n    await to_thread(s)\n";
        // In any order, the inner fix is not applied inside the moved code, yet counts as
        // applied; the same move proposed twice is one.
        for fixes in [
            vec![Some(&moving), Some(&inner), Some(&moving)],
            vec![Some(&inner), Some(&moving)],
        ] {
            let outcome = fix_file(text, 0, &fixes, Applicability::Safe, true);
            assert_eq!(outcome.fixed_text.as_deref(), Some(expected));
            assert!(outcome.applied.iter().all(|&a| a), "{:?}", outcome.applied);
            assert_eq!(outcome.overlapped, 0);
        }
    }

    #[test]
    fn overlapping_fix_is_skipped_and_shared_edits_applied_once() {
        let text = "x = 1\ny = 2\n";
        let import = Edit::insertion(0, "import a\n");
        let first = fix(vec![import.clone(), Edit::replacement(4..5, "10")]);
        let second = fix(vec![import.clone(), Edit::replacement(10..11, "20")]);
        let overlapping = fix(vec![Edit::replacement(4..5, "99")]);
        let outcome = fix_file(
            text,
            0,
            &[Some(&first), Some(&overlapping), Some(&second)],
            Applicability::Safe,
            true,
        );
        assert_eq!(outcome.fixed_text.unwrap(), "import a\nx = 10\ny = 20\n");
        assert_eq!(outcome.applied, vec![true, false, true]);
    }

    #[test]
    fn unsafe_fix_needs_the_unsafe_threshold() {
        let mut unsafe_fix = fix(vec![Edit::replacement(0..1, "y")]);
        unsafe_fix.applicability = Applicability::Unsafe;
        let safe_only = fix_file(
            "x = 1\n",
            0,
            &[Some(&unsafe_fix)],
            Applicability::Safe,
            true,
        );
        assert!(safe_only.fixed_text.is_none());
        let with_unsafe = fix_file(
            "x = 1\n",
            0,
            &[Some(&unsafe_fix)],
            Applicability::Unsafe,
            true,
        );
        assert_eq!(with_unsafe.fixed_text.unwrap(), "y = 1\n");
    }

    #[test]
    fn a_fix_that_breaks_syntax_is_rejected() {
        let broken = fix(vec![Edit::replacement(0..5, "x = (")]);
        let outcome = fix_file("x = 1\n", 0, &[Some(&broken)], Applicability::Safe, true);
        assert!(outcome.fixed_text.is_none());
        assert!(outcome.rejected.is_some());
        assert_eq!(outcome.applied, vec![false]);
    }

    #[test]
    fn errors_not_counted_before_are_counted_in_the_text_when_the_fix_has_any() {
        // The file's own syntax error (`def g(:`) is still there after the fix: with the
        // count unknown, the file is parsed to count it, and the fix stands.
        let text = "x = 1\ndef g(:\n    pass\n";
        let rename = fix(vec![Edit::replacement(0..1, "y")]);
        let counted = fix_file_counting(text, None, &[Some(&rename)], Applicability::Safe, true);
        assert_eq!(counted.fixed_text.unwrap(), "y = 1\ndef g(:\n    pass\n");
        // Counted as none, the same fix would be rejected.
        let wrong = fix_file_counting(text, Some(0), &[Some(&rename)], Applicability::Safe, true);
        assert!(wrong.rejected.is_some());
        // A fix that adds an error is rejected either way.
        let text = "x = 1\n\n\nclass A:\n    pass\n\n\ndef g(:\n    pass\n";
        let broken = fix(vec![Edit::replacement(0..5, "x = )")]);
        let outcome = fix_file_counting(text, None, &[Some(&broken)], Applicability::Safe, true);
        assert!(outcome.rejected.is_some());
    }

    #[test]
    fn insertions_at_the_same_place_conflict_unless_identical() {
        let a = Edit::insertion(3, "a");
        assert!(a.conflicts_with(&Edit::insertion(3, "b")));
        assert!(!a.conflicts_with(&Edit::insertion(3, "a")));
        assert!(a.conflicts_with(&Edit::replacement(2..4, "z")));
        assert!(!a.conflicts_with(&Edit::replacement(3..4, "z")));
    }
}
