//! Code actions: a quick fix per finding that has one (an unsafe one labelled so, with its
//! caveat, never preferred), "add `# noqa: CODE`" per finding (the comment
//! `unfreeze fix -i` writes), and "fix all" (`source.fixAll.unfreeze`: the text `unfreeze fix`
//! writes), and "explain rule" per finding (`explain.rs`). Each edit is the one change between
//! the buffer and the fixed text.

use std::ops::Range;
use std::path::Path;

use serde_json::{Value, json};

use super::analysis::{fixed_text, with_one_fix};
use super::diagnostics::diagnostic;
use super::explain::explain_action;
use super::position::Lines;
use super::settings::EditorSettings;
use crate::analyze::{Finding, is_syntax_error};
use crate::codemod::Registry;
use crate::fix::Applicability;
use crate::parse::{ParsedFile, parse};
use crate::review::suppression::{Style, suppression_edit, suppression_line};
use crate::run::WarmProject;
use crate::source::LineIndex;

/// The kind of the "fix all" action.
pub const FIX_ALL_KIND: &str = "source.fixAll.unfreeze";
const FIX_ALL_TITLE: &str = "unfreeze: fix all safe fixes";

/// What the actions of one request are about.
pub struct ActionRequest<'a> {
    pub uri: &'a str,
    pub path: &'a Path,
    pub text: &'a str,
    pub findings: &'a [Finding],
    /// The bytes the editor asks about (the cursor or the selection).
    pub range: Range<usize>,
    /// The kinds the editor asks for (`None`: all).
    pub only: Option<Vec<String>>,
    /// The editor resolves actions' edits (`codeAction/resolve`): "fix all", which analyses
    /// the buffer again, is computed only when chosen, not at every cursor move.
    pub lazy_fix_all: bool,
    /// The editor's settings.
    pub editor: &'a EditorSettings,
}

/// The code actions for `request`.
pub fn code_actions(
    request: &ActionRequest,
    bundled: &Registry,
    project: Option<&mut WarmProject>,
) -> Vec<Value> {
    let wanted = |kind: &str| {
        request.only.as_ref().is_none_or(|only| {
            only.iter()
                .any(|o| kind == o || kind.starts_with(&format!("{o}.")))
        })
    };
    let lines = Lines::new(request.text);
    let mut actions = Vec::new();
    if wanted("quickfix") {
        let touched: Vec<&Finding> = request
            .findings
            .iter()
            .filter(|f| f.range.start <= request.range.end && request.range.start <= f.range.end)
            .collect();
        actions.extend(
            touched
                .iter()
                .filter_map(|finding| quick_fix(request, &lines, finding)),
        );
        // Parsed only when a finding can be silenced here.
        let mut parsed: Option<(ParsedFile, LineIndex)> = None;
        for finding in touched.iter().filter(|f| !is_syntax_error(f)) {
            let (parsed, index) =
                parsed.get_or_insert_with(|| (parse(request.text), LineIndex::new(request.text)));
            if let Some(action) = noqa(request, &lines, parsed, index, finding) {
                actions.push(action);
            }
        }
        actions.extend(
            touched
                .iter()
                .filter(|f| !is_syntax_error(f))
                .map(|finding| explain_action(&lines, finding, request.editor)),
        );
    }
    let any_safe = request.findings.iter().any(|f| {
        f.fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
            || f.later_round == Some(Applicability::Safe)
    });
    if any_safe && wanted(FIX_ALL_KIND) {
        let action = json!({
            "title": FIX_ALL_TITLE,
            "kind": FIX_ALL_KIND,
            "data": {"uri": request.uri},
        });
        if request.lazy_fix_all {
            // The editor asks `codeAction/resolve` for the edit when the action is chosen.
            actions.push(action);
        } else if let Some(action) = resolve_fix_all(
            action,
            request.text,
            request.path,
            request.editor,
            bundled,
            project,
        ) {
            actions.push(action);
        }
    }
    actions
}

/// The "fix all" `action` with its edit (the text `unfreeze fix` writes for `text`, with the
/// editor's settings); `None` when that changes nothing.
pub fn resolve_fix_all(
    mut action: Value,
    text: &str,
    path: &Path,
    editor: &EditorSettings,
    bundled: &Registry,
    project: Option<&mut WarmProject>,
) -> Option<Value> {
    let uri = action["data"]["uri"].as_str()?.to_owned();
    let fixed = fixed_text(text, path, editor, bundled, project)?;
    action["edit"] = edit(&uri, &Lines::new(text), text, &fixed);
    Some(action)
}

fn quick_fix(request: &ActionRequest, lines: &Lines, finding: &Finding) -> Option<Value> {
    let fix = finding.fix.as_ref()?;
    let label = match fix.applicability {
        Applicability::Safe => "fix",
        // Offered too, never preferred, its title saying it is unsafe and how (the editor's
        // explicit choice, as `fix --unsafe-fixes` is on the command line).
        Applicability::Unsafe => "unsafe fix",
        Applicability::DisplayOnly => return None,
    };
    let fixed = with_one_fix(request.text, request.path, finding)?;
    let caveat = match (&fix.caveat, fix.applicability) {
        (Some(caveat), Applicability::Unsafe) => format!(" ({caveat})"),
        _ => String::new(),
    };
    Some(json!({
        "title": format!("{} {label}: {}{caveat}", finding.code, fix.title),
        "kind": "quickfix",
        "isPreferred": fix.applicability == Applicability::Safe,
        "diagnostics": [diagnostic(lines, finding, request.editor)],
        "edit": edit(request.uri, lines, request.text, &fixed),
    }))
}

/// "add `# noqa: CODE`": the suppression comment on a line the analysis reads for the
/// finding, merged into the line's own `# noqa` list (`None` where no comment can go, e.g.
/// the finding's lines end inside a string).
fn noqa(
    request: &ActionRequest,
    lines: &Lines,
    parsed: &ParsedFile,
    index: &LineIndex,
    finding: &Finding,
) -> Option<Value> {
    let line = suppression_line(request.text, parsed, index, &finding.range).ok()?;
    let codes = [finding.code.clone()];
    let style = Style::of(request.text);
    let comment = suppression_edit(request.text, parsed, index, line, &codes, style).ok()?;
    let title = match style {
        Style::Noqa => format!("{}: add `# noqa: {}`", finding.code, finding.code),
        Style::Unfreeze => format!(
            "{}: add `# unfreeze: ignore[{}]`",
            finding.code, finding.code
        ),
    };
    Some(json!({
        "title": title,
        "kind": "quickfix",
        "diagnostics": [diagnostic(lines, finding, request.editor)],
        "edit": {
            "changes": {
                request.uri: [{
                    "range": lines.range(comment.range.start, comment.range.end),
                    "newText": comment.content,
                }],
            }
        },
    }))
}

/// A workspace edit turning `text` into `fixed`: one text edit over what differs.
fn edit(uri: &str, lines: &Lines, text: &str, fixed: &str) -> Value {
    let (start, end, replacement) = difference(text, fixed);
    json!({
        "changes": {
            uri: [{"range": lines.range(start, end), "newText": replacement}],
        }
    })
}

/// The bytes of `old` that differ from `new` (after the common prefix, before the common
/// suffix, at character boundaries) and what replaces them.
fn difference<'n>(old: &str, new: &'n str) -> (usize, usize, &'n str) {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let room = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    (prefix, old.len() - suffix, &new[prefix..new.len() - suffix])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_replaced_gives_the_new_text() {
        for (old, new) in [
            ("abcdef", "abXYef"),
            ("aaa", "aaaa"),
            ("import time\n", "import asyncio\n"),
            ("é1é", "é2é"),
            ("", "x"),
        ] {
            let (start, end, replacement) = difference(old, new);
            let mut applied = old.to_owned();
            applied.replace_range(start..end, replacement);
            assert_eq!(applied, new);
        }
    }
}
