//! Edits and fixes: byte-range `Edit`s grouped into a `Fix` with an applicability, applied to
//! a file in one pass (overlapping fixes skipped), followed by the removal of imports the fixes
//! left unused and a re-parse that refuses any result with new syntax errors. In a run's fix
//! rounds that re-parse leaves out the function bodies no fix changed and no finding is in
//! ([`CheckMask`]): the next round reads only the rest.

mod accepted;
pub mod bound;
pub mod imports;

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use tree_sitter::{Node, Tree};

use crate::masked::blank_bodies;
use crate::parse::{Field, FieldChild, KindName, ParsedFile, parse, parse_skipping};

/// How far a fix can be trusted, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
    /// A line added to the file's header (an import, a module-level definition): several may
    /// be inserted at the same place, imports first, then in text order.
    pub header: Option<HeaderKind>,
}

/// The kinds of header lines, in the order they are stacked at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HeaderKind {
    Import,
    Definition,
    /// The blank lines between a file's first import and its code.
    Separator,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The expression this fix runs in a worker thread and awaits in its place (a call's
    /// `to_thread`, a chain's lambda), while the code around it stays on the event loop: the
    /// analysis merges such hops that would share a line into one (`analyze/hops.rs`).
    pub runs_in_thread: Option<Range<usize>>,
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
            runs_in_thread: None,
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
/// [`apply_edits`], also giving, for each edit in text order, the range it replaced (of
/// `text`) and the range its content took (of the result).
pub fn apply_edits_tracked(text: &str, edits: &[Edit]) -> (String, Vec<Moved>) {
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
        inserted.push(Moved {
            before: edit.range.clone(),
            after: out.len()..out.len() + edit.content.len(),
        });
        out.push_str(&edit.content);
        cursor = edit.range.end;
    }
    out.push_str(&text[cursor..]);
    (out, inserted)
}

/// The names header lines bind (`content`: whole lines): `import a.b` binds `a`,
/// `import a as b` and `from m import a as b` bind `b`, `from m import a` binds `a`, and
/// `NAME = ...` binds `NAME`; any other line, each of its words (comments are skipped).
fn names_bound_by(content: &str) -> Vec<&str> {
    fn bound(part: &str) -> Option<&str> {
        let part = part.trim().trim_matches(|c| c == '(' || c == ')').trim();
        let name = match part.rsplit_once(" as ") {
            Some((_, alias)) => alias.trim(),
            None => part.split('.').next().unwrap_or_default().trim(),
        };
        (!name.is_empty()).then_some(name)
    }
    let mut names = Vec::new();
    let is_word_byte = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for line in content.lines().map(str::trim) {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(modules) = line.strip_prefix("import ") {
            names.extend(modules.split(',').filter_map(bound));
        } else if line.starts_with("from ")
            && let Some((_, imported)) = line.split_once(" import ")
        {
            names.extend(imported.split(',').filter_map(bound));
        } else if let Some((target, _)) = line.split_once('=')
            && !target.trim().is_empty()
            && target.trim().chars().all(is_word_byte)
        {
            names.push(target.trim());
        } else {
            names.extend(
                line.split(|c: char| !is_word_byte(c))
                    .filter(|w| !w.is_empty()),
            );
        }
    }
    names
}

/// Where an edit's range went: `before` in the text edited, `after` in the result.
#[derive(Clone, Debug)]
pub struct Moved {
    pub before: Range<usize>,
    pub after: Range<usize>,
}

/// Where `offset` of a text is once the edits (`moved`, in text order) are applied; an offset
/// inside a replaced range goes to the start of what replaced it (`towards_end`: to its end,
/// and an insertion right at `offset` is taken in).
fn offset_after(offset: usize, moved: &[Moved], towards_end: bool) -> usize {
    let inserted_here = |before: &Range<usize>| before.is_empty() && before.start == offset;
    // The edits wholly before `offset` come first (applied edits do not overlap, so their
    // ends are in order): found by a binary search, not a walk from the start per offset.
    let before_offset =
        moved.partition_point(|m| m.before.end <= offset && !inserted_here(&m.before));
    let at = match before_offset.checked_sub(1).map(|last| &moved[last]) {
        Some(Moved { before, after }) => offset - before.end + after.end,
        None => offset,
    };
    match moved.get(before_offset) {
        Some(Moved { before, after })
            if before.start < offset || inserted_here(before) && towards_end =>
        {
            if towards_end {
                after.end
            } else {
                after.start
            }
        }
        _ => at,
    }
}

/// `ranges` of a text, where they are once the edits (`moved`) are applied, grown to cover
/// what replaced any part of them.
fn ranges_after(ranges: &[Range<usize>], moved: &[Moved]) -> Vec<Range<usize>> {
    ranges
        .iter()
        .map(|range| offset_after(range.start, moved, false)..offset_after(range.end, moved, true))
        .collect()
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
    pub parsed: Option<CheckParse>,
    /// Where each of the mask's finding ranges is in `fixed_text` (grown to cover what
    /// replaced any part of it): the next round knows which of its findings an earlier one had.
    pub findings_after: Vec<Range<usize>>,
}

/// Given a text and ranges of it, the function bodies of the text a parse may leave out,
/// none of them overlapping or touching those ranges.
pub type BodiesLeftOut<'a> = dyn Fn(&str, &[Range<usize>]) -> Vec<Range<usize>> + 'a;

/// Function bodies the parse that checks a fixed text may leave out (see `masked.rs`), when
/// the next round of fixes needs only the code the fixes changed and the findings' code.
pub struct CheckMask<'a> {
    /// The ranges (of the text fixed) of its findings: the bodies holding them stay.
    pub findings: &'a [Range<usize>],
    /// The bodies of a text that may be left out, all of them outside the given ranges.
    pub bodies_left_out: &'a BodiesLeftOut<'a>,
}

/// The parse that checked a fixed text.
#[derive(Clone, Debug)]
pub struct CheckParse {
    pub parsed: ParsedFile,
    /// When function bodies were left out: the fixed text with them blanked, the text the
    /// tree is of (its offsets, lines and columns are the fixed text's). Its syntax errors are
    /// then not all the file's.
    pub masked_text: Option<String>,
    /// The bodies left out (ranges of the fixed text).
    left_out: Vec<Range<usize>>,
}

impl CheckParse {
    /// A parse of all of `text`.
    fn whole(text: &str) -> CheckParse {
        CheckParse {
            parsed: parse(text),
            masked_text: None,
            left_out: Vec::new(),
        }
    }

    /// `text` parsed without the bodies `mask` lets out, except those overlapping or touching
    /// `keep` (ranges of `text`) and those naming any of `new_names` (names the fixes bound:
    /// a call there may resolve now, to an import a fix added).
    fn of(
        text: &str,
        keep: &[Range<usize>],
        new_names: &[&str],
        mask: Option<&CheckMask>,
    ) -> CheckParse {
        let mut left_out = mask.map_or_else(Vec::new, |mask| (mask.bodies_left_out)(text, keep));
        left_out.retain(|body| !mentions_any(&text[body.clone()], new_names));
        match blank_bodies(text, &left_out) {
            Some(masked) => CheckParse {
                parsed: parse_skipping(&masked.text, &masked.skippable),
                masked_text: Some(masked.text),
                left_out,
            },
            None => CheckParse::whole(text),
        }
    }

    /// The text the tree is of.
    pub fn text<'t>(&'t self, fixed: &'t str) -> &'t str {
        self.masked_text.as_deref().unwrap_or(fixed)
    }

    /// Whether a word of `words` is in a body left out (`fixed`: the text parsed).
    fn leaves_out_any(&self, fixed: &str, words: &[&str]) -> bool {
        self.left_out
            .iter()
            .any(|body| mentions_any(&fixed[body.clone()], words))
    }
}

/// Whether `code` has any of `words` in it (comments and strings count: that only keeps
/// more).
fn mentions_any(code: &str, words: &[&str]) -> bool {
    words.iter().any(|word| code.contains(word))
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
    fix_file_masked(text, original_errors, fixes, threshold, keep_imports, None)
}

/// [`fix_file_counting`], the fixed text checked by a parse that leaves out the function
/// bodies `mask` allows (`None`: a whole parse), except those the fixes changed or that hold
/// a finding: the next round of fixes reads only those, and the parse still refuses a fix
/// that breaks the syntax (a parse with errors is made again whole, to count them).
pub fn fix_file_masked(
    text: &str,
    original_errors: Option<usize>,
    fixes: &[Option<&Fix>],
    threshold: Applicability,
    keep_imports: bool,
    mask: Option<&CheckMask>,
) -> FixOutcome {
    let mut order: Vec<usize> = (0..fixes.len()).filter(|i| fixes[*i].is_some()).collect();
    // Fixes that move code to a thread first: the calls inside are then fixed by the move.
    order.sort_by_key(|i| {
        let fix = fixes[*i].expect("filtered");
        (fix.moves.is_none(), fix.range().start, *i)
    });
    let mut applied = vec![false; fixes.len()];
    let mut overlapped = 0;
    let mut accepted = accepted::Accepted::default();
    // The code moved by the accepted fixes ([`Fix::moves`]).
    let mut moved: Vec<&Range<usize>> = Vec::new();
    let mut orphan_candidates: Vec<&str> = Vec::new();
    for i in order {
        let fix = fixes[i].expect("filtered");
        if fix.applicability < threshold || overlaps_itself(fix) {
            continue;
        }
        let conflicts = fix.edits.iter().any(|edit| accepted.conflicts_with(edit));
        // The same block's fix, proposed by another finding in it, is the same fix.
        let moves_again = fix.moves.as_ref().is_some_and(|own| moved.contains(&own));
        let into_moved = !moves_again
            && fix.edits.iter().any(|edit| {
                edit.header.is_none() && moved.iter().any(|range| edit_inside(edit, range))
            });
        let moves_edited = !moves_again
            && fix
                .moves
                .as_ref()
                .is_some_and(|own| accepted.code_inside(own));
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
            accepted.push(edit);
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
            findings_after: Vec::new(),
        };
    }
    let edits: Vec<Edit> = accepted.into_edits();
    let (mut fixed, moved) = apply_edits_tracked(text, &edits);
    let inserted: Vec<Range<usize>> = moved.iter().map(|m| m.after.clone()).collect();
    // What the next round reads: the changed code and the findings' code.
    let mut findings_after = mask.map_or_else(Vec::new, |m| ranges_after(m.findings, &moved));
    let mut keep = match mask {
        Some(_) => findings_after.iter().chain(&inserted).cloned().collect(),
        None => Vec::new(),
    };
    // Names the fixes' header lines bind (`import httpx`): a call naming one may resolve now.
    let new_names: Vec<&str> = edits
        .iter()
        .filter(|edit| edit.header.is_some())
        .flat_map(|edit| names_bound_by(&edit.content))
        .collect();
    let mut checked = CheckParse::of(&fixed, &keep, &new_names, mask);
    if inserts_await_outside_coroutine(&fixed, &checked.parsed.tree, &inserted) {
        return FixOutcome {
            fixed_text: None,
            applied: vec![false; fixes.len()],
            overlapped: 0,
            rejected: Some(
                "a fix would put `await` outside a coroutine; nothing was changed in it".to_owned(),
            ),
            parsed: None,
            findings_after: Vec::new(),
        };
    }
    if !keep_imports && !orphan_candidates.is_empty() {
        // Only an import the fixes orphaned: one the code used before them.
        orphan_candidates = imports::referenced_in(text, &orphan_candidates);
    }
    if !keep_imports && !orphan_candidates.is_empty() {
        // An import is used if its name is read anywhere, left-out bodies included.
        if checked.leaves_out_any(&fixed, &orphan_candidates) {
            checked = CheckParse::whole(&fixed);
        }
        let removals = imports::orphaned_import_removals(
            checked.text(&fixed),
            &checked.parsed,
            &orphan_candidates,
        );
        if !removals.is_empty() {
            let (without, moved) = apply_edits_tracked(&fixed, &removals);
            fixed = without;
            keep = ranges_after(&keep, &moved);
            findings_after = ranges_after(&findings_after, &moved);
            checked = CheckParse::of(&fixed, &keep, &new_names, mask);
        }
    }
    if checked.masked_text.is_some() && checked.parsed.has_errors() {
        checked = CheckParse::whole(&fixed);
    }
    let errors = checked.parsed.error_ranges.len();
    if errors > 0 && errors > original_errors.unwrap_or_else(|| parse(text).error_ranges.len()) {
        return FixOutcome {
            fixed_text: None,
            applied: vec![false; fixes.len()],
            overlapped: 0,
            rejected: Some("the fixed file would not parse; nothing was changed in it".to_owned()),
            parsed: None,
            findings_after: Vec::new(),
        };
    }
    FixOutcome {
        fixed_text: Some(fixed),
        applied,
        rejected: None,
        overlapped,
        parsed: Some(checked),
        findings_after,
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
    fn ranges_follow_the_edits_and_grow_over_what_replaced_them() {
        let text = "abcdefghij";
        let edits = [Edit::replacement(2..4, "WXYZ"), Edit::insertion(6, "--")];
        let (fixed, moved) = apply_edits_tracked(text, &edits);
        assert_eq!(fixed, "abWXYZef--ghij");
        assert_eq!(offset_after(1, &moved, false), 1);
        assert_eq!(offset_after(5, &moved, false), 7);
        // Inside the replaced `cd`: to the start, or the end, of `WXYZ`.
        assert_eq!(ranges_after(std::slice::from_ref(&(3..5)), &moved)[0], 2..7);
        // An insertion where a range starts or ends is taken in.
        assert_eq!(
            ranges_after(std::slice::from_ref(&(6..8)), &moved)[0],
            8..12
        );
        assert_eq!(&fixed[8..12], "--gh");
        assert_eq!(
            ranges_after(std::slice::from_ref(&(0..6)), &moved)[0],
            0..10
        );
        assert_eq!(&fixed[0..10], "abWXYZef--");
    }

    #[test]
    fn the_names_header_lines_bind() {
        assert_eq!(names_bound_by("import asyncio\n"), ["asyncio"]);
        assert_eq!(names_bound_by("import os.path, a as b\r\n"), ["os", "b"]);
        assert_eq!(
            names_bound_by("from anyio.to_thread import (run_sync as rs, other)\n"),
            ["rs", "other"]
        );
        assert_eq!(
            names_bound_by("# One context: made once.\n_CTX = httpx.create()\n"),
            ["_CTX"]
        );
    }

    /// A fix in `a`; `b`'s body is left out of the check parse unless the keep ranges
    /// touch it (`finding_in_b`: `b`'s first statement is a finding's range).
    fn check_with_b_left_out(text: &str, finding_in_b: bool) -> FixOutcome {
        let start = text.find("async def a():\n").unwrap() + "async def a():\n    ".len();
        let call = start..start + "time.sleep(1)".len();
        let mut sleep = fix(vec![Edit::replacement(
            call.clone(),
            "await asyncio.sleep(1)",
        )]);
        sleep.may_orphan = vec!["time".to_owned()];
        let b_body = |fixed: &str, keep: &[Range<usize>]| {
            let start = fixed.find("async def b():\n").unwrap() + "async def b():\n    ".len();
            let body = start..fixed.len();
            let touched = keep
                .iter()
                .any(|k| k.start <= body.end && body.start <= k.end);
            if touched { Vec::new() } else { vec![body] }
        };
        let mut findings = vec![call];
        if finding_in_b {
            let in_b = text.find("async def b():\n").unwrap() + "async def b():\n    ".len();
            findings.push(in_b..in_b + 8);
        }
        let mask = CheckMask {
            findings: &findings,
            bodies_left_out: &b_body,
        };
        fix_file_masked(
            text,
            None,
            &[Some(&sleep)],
            Applicability::Safe,
            false,
            Some(&mask),
        )
    }

    #[test]
    fn the_check_parse_leaves_out_a_body_no_fix_changed() {
        let text = "import asyncio\nimport time\n\nasync def a():\n    time.sleep(1)\n\nasync def b():\n    return [\n        1,\n    ]\n";
        let outcome = check_with_b_left_out(text, false);
        let fixed = outcome.fixed_text.unwrap();
        assert_eq!(
            fixed,
            "import asyncio\n\nasync def a():\n    await asyncio.sleep(1)\n\nasync def b():\n    return [\n        1,\n    ]\n"
        );
        let checked = outcome.parsed.unwrap();
        let masked = checked.masked_text.as_deref().expect("b's body left out");
        assert_eq!(masked.len(), fixed.len());
        assert!(masked.contains("async def b():\n    ...") && !masked.contains("return"));
        assert!(masked.contains("await asyncio.sleep(1)"));
        assert!(!checked.parsed.has_errors());
    }

    #[test]
    fn an_import_read_only_in_a_body_left_out_is_kept() {
        let text = "import asyncio\nimport time\n\nasync def a():\n    time.sleep(1)\n\nasync def b():\n    return time.monotonic()\n";
        let outcome = check_with_b_left_out(text, false);
        let fixed = outcome.fixed_text.unwrap();
        assert!(
            fixed.starts_with("import asyncio\nimport time\n"),
            "{fixed}"
        );
        // The whole text was parsed to see the use.
        assert!(outcome.parsed.unwrap().masked_text.is_none());
    }

    #[test]
    fn a_body_holding_a_finding_stays_in_the_check_parse() {
        let text = "import asyncio\nimport time\n\nasync def a():\n    time.sleep(1)\n\nasync def b():\n    return 1\n";
        let outcome = check_with_b_left_out(text, true);
        assert!(outcome.parsed.unwrap().masked_text.is_none());
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
