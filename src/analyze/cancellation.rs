//! Cancellation kept working: a fix that adds an `await` (or an `async with` / `async for`)
//! inside a `try` whose handler catches `BaseException` (a bare `except:`, `except
//! BaseException`, a tuple naming it) and does not re-raise would let that handler swallow the
//! task's cancellation (`asyncio.timeout()`, `task.cancel()`, shutdown) arriving during the new
//! await. The same fix then adds `except asyncio.CancelledError: raise` as the first handler of
//! every such `try` between the await and its function. A handler that names the cancellation
//! itself (`except asyncio.CancelledError:` with no `raise`) is the user's own choice: the fix
//! stays as it is, unsafe, with the difference stated.

use std::collections::BTreeSet;

use tree_sitter::Node;

use crate::codemod::{AsyncLibrary, Site};
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix, Moved, apply_edits_tracked};
use crate::parse::{Field, FieldChild, KindName, handled_types, parse};
use crate::source::{detect_indent, line_start_at};

/// The fix, made to keep cancellation working where it adds an await inside a `try` that
/// would swallow it; `Err` when that cannot be written here.
pub(super) fn keep_cancellation(site: &Site, mut fix: Fix) -> Result<Fix, String> {
    if !adds_await(site.text, &fix) {
        return Ok(fix);
    }
    if let Some(difference) = cleanup_under_level_triggered_cancellation(site) {
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        fix.caveat = Some(match fix.caveat.take() {
            Some(caveat) => format!("{caveat}; {difference}"),
            None => difference,
        });
    }
    let Some(function) = site.index.async_function_at(site.call.start_byte()) else {
        return Ok(fix);
    };
    let Some(body) = site.scope_node(function) else {
        return Ok(fix);
    };
    // Most functions have no `try` that swallows cancellation: no parse of the fixed text.
    if !has_swallowing_try(site, body) {
        return Ok(fix);
    }
    let mut clauses = BTreeSet::new();
    let mut explicit = None;
    for try_statement in trys_around_new_awaits(site, &fix, body) {
        match catches_cancellation_first(site, try_statement) {
            Handling::Propagates => {}
            Handling::Swallows(first_clause) => {
                clauses.insert(first_clause);
            }
            Handling::HandlesExplicitly(clause) => {
                explicit.get_or_insert(clause);
            }
        }
    }
    if let Some(clause) = explicit {
        let line = site.text[..clause].matches('\n').count() + 1;
        fix.applicability = fix.applicability.min(Applicability::Unsafe);
        let difference = format!(
            "the `except` on line {line} catches the task's cancellation and does not re-raise \
             it: cancelled during the new `await` (`asyncio.timeout()`, `task.cancel()`, \
             shutdown), the coroutine runs that handler and goes on instead of stopping"
        );
        fix.caveat = Some(match fix.caveat.take() {
            Some(caveat) => format!("{caveat}; {difference}"),
            None => difference,
        });
    }
    if clauses.is_empty() {
        return Ok(fix);
    }
    let (exception, import) = cancelled_exception(site, *clauses.first().expect("not empty"))?;
    let unit = detect_indent(site.text);
    let le = site.line_ending;
    for clause in clauses {
        let line = line_start_at(site.text, clause);
        let indent = &site.text[line..clause];
        if !indent.chars().all(|c| c == ' ' || c == '\t') {
            return Err("the `except` around it shares its line with other code".to_owned());
        }
        let clause_text = |extra: &str| {
            format!("{extra}{indent}except {exception}:{le}{extra}{indent}{unit}raise{le}{extra}")
        };
        // The fix indents the `try` one level deeper (a client block around it): the new
        // clause goes with it, in the same insertion.
        let deeper = fix.edits.iter_mut().find(|e| {
            e.header.is_none() && e.range == (line..line) && {
                let last = e.content.rsplit('\n').next().unwrap_or("");
                !last.is_empty() && last.chars().all(|c| c == ' ' || c == '\t')
            }
        });
        match deeper {
            Some(edit) => {
                let extra = edit.content.rsplit('\n').next().unwrap_or("").to_owned();
                let kept = edit.content[..edit.content.len() - extra.len()].to_owned();
                edit.content = format!("{kept}{}", clause_text(&extra));
            }
            None => fix.edits.push(Edit::insertion(
                line,
                format!("{indent}except {exception}:{le}{indent}{unit}raise{le}"),
            )),
        }
    }
    for edit in import {
        if !fix.edits.contains(&edit) {
            fix.edits.push(edit);
        }
    }
    fix.edits.sort_by_key(|e| (e.range.start, e.range.end));
    Ok(fix)
}

/// What a new `await` in clean-up code changes in a file written for anyio or trio, whose
/// cancellation is level-triggered: a `finally`, or a handler that catches the cancellation,
/// runs because the scope was cancelled, and any `await` in it raises the cancellation again
/// at once (asyncio delivers it once: an `await` there works). The clean-up the call does, and
/// what follows it in the clause, would no longer run.
fn cleanup_under_level_triggered_cancellation(site: &Site) -> Option<String> {
    let library = match site.library {
        Some(AsyncLibrary::Anyio) => "anyio",
        Some(AsyncLibrary::Trio) => "trio",
        _ => return None,
    };
    let mut node = site.call;
    let clause = loop {
        node = node.parent()?;
        match node.kind_name() {
            "function_definition" | "lambda" | "class_definition" => return None,
            "finally_clause" => break "the `finally`",
            "except_clause" if !matches!(catches(site, node), Catches::Nothing) => {
                break "the `except` that catches the cancellation";
            }
            _ => {}
        }
    };
    let line = site.text[..node.start_byte()].matches('\n').count() + 1;
    Some(format!(
        "this file runs on {library}, whose cancellation is level-triggered: when {clause} \
         (line {line}) runs because the task's scope was cancelled, the new `await` raises the \
         cancellation again at once, so this clean-up and what follows it in the clause no \
         longer run; keep the call synchronous there, or shield it (`with \
         {library}.CancelScope(shield=True):`)"
    ))
}

/// How a `try` treats a cancellation raised in its body.
enum Handling {
    /// No handler catches it, or the first that does re-raises it.
    Propagates,
    /// The first handler catching it catches every `BaseException` and does not re-raise
    /// (the offset: the `try`'s first `except` clause, where the new clause goes).
    Swallows(usize),
    /// The first handler catching it names the cancellation and does not re-raise (its
    /// offset).
    HandlesExplicitly(usize),
}

/// What an `except` clause catches of a cancellation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Catches {
    Nothing,
    /// Every `BaseException`, the cancellation among them.
    Everything,
    /// The cancellation by its name.
    Cancellation,
}

/// Exceptions that are the task's cancellation, by qualified name.
const CANCELLATION: &[&str] = &[
    "asyncio.CancelledError",
    "asyncio.exceptions.CancelledError",
    "trio.Cancelled",
];

fn catches(site: &Site, clause: Node) -> Catches {
    let Some(handled) = handled_types(clause) else {
        // A bare `except:`.
        return Catches::Everything;
    };
    let exception_before_3_8 = site.target_version.is_some_and(|v| v < (3, 8));
    handled
        .items
        .iter()
        .map(|item| {
            let (node, called) = match item.kind_name() {
                "call" => match item.field(Field::Function) {
                    Some(function) => (function, true),
                    None => return Catches::Nothing,
                },
                _ => (*item, false),
            };
            match site.index.qualified_name(node, site.text).as_deref() {
                Some("anyio.get_cancelled_exc_class") if called => Catches::Cancellation,
                Some(name) if !called && CANCELLATION.contains(&name) => Catches::Cancellation,
                Some("builtins.BaseException") if !called => Catches::Everything,
                // `CancelledError` was an `Exception` before Python 3.8.
                Some("builtins.Exception") if !called && exception_before_3_8 => {
                    Catches::Everything
                }
                _ => Catches::Nothing,
            }
        })
        .max()
        .unwrap_or(Catches::Nothing)
}

/// Whether the handler's own block raises (not under an `if`): the exception, or another,
/// leaves the handler whatever happens.
fn reraises(clause: Node) -> bool {
    let mut cursor = clause.walk();
    let Some(block) = clause
        .named_children(&mut cursor)
        .find(|c| c.kind_name() == "block")
    else {
        return false;
    };
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .any(|statement| statement.kind_name() == "raise_statement")
}

/// Whether `clause` is an `except*` clause (of an exception group).
fn is_star(clause: Node) -> bool {
    let mut cursor = clause.walk();
    clause.children(&mut cursor).any(|c| c.kind_name() == "*")
}

fn catches_cancellation_first(site: &Site, try_statement: Node) -> Handling {
    let mut cursor = try_statement.walk();
    let clauses: Vec<Node> = try_statement
        .named_children(&mut cursor)
        .filter(|c| c.kind_name() == "except_clause")
        .collect();
    for clause in &clauses {
        match catches(site, *clause) {
            Catches::Nothing => continue,
            _ if reraises(*clause) => return Handling::Propagates,
            // No plain `except` may join `except*` clauses: nothing to write.
            Catches::Everything if is_star(*clause) => {
                return Handling::HandlesExplicitly(clause.start_byte());
            }
            Catches::Everything => return Handling::Swallows(clauses[0].start_byte()),
            Catches::Cancellation => return Handling::HandlesExplicitly(clause.start_byte()),
        }
    }
    Handling::Propagates
}

/// Whether `body` (a function's) holds a `try` whose handlers may swallow a cancellation.
fn has_swallowing_try(site: &Site, body: Node) -> bool {
    if !site.text[body.byte_range()].contains("except") {
        return false;
    }
    let mut stack = vec![body];
    let mut cursor = body.walk();
    while let Some(node) = stack.pop() {
        if node.kind_name() == "try_statement"
            && !matches!(catches_cancellation_first(site, node), Handling::Propagates)
        {
            return true;
        }
        // Nested functions are not this coroutine's code.
        if node.id() == body.id()
            || !matches!(
                node.kind_name(),
                "function_definition" | "lambda" | "class_definition"
            )
        {
            stack.extend(node.named_children(&mut cursor));
        }
    }
    false
}

/// Whether the fix's edits write more `await`s, `async with`s and `async for`s than the code
/// they replace had.
pub(super) fn adds_await(text: &str, fix: &Fix) -> bool {
    fix.edits.iter().any(|edit| {
        edit.header.is_none()
            && await_keywords(&edit.content).count()
                > await_keywords(&text[edit.range.clone()]).count()
    })
}

/// Where `code` has the word `await` or `async` (as a word: not `awaited`).
fn await_keywords(code: &str) -> impl Iterator<Item = usize> + '_ {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = code.as_bytes();
    ["await", "async"].into_iter().flat_map(move |word| {
        code.match_indices(word).filter_map(move |(at, _)| {
            let end = at + word.len();
            let bounded = (at == 0 || !is_word_byte(bytes[at - 1]))
                && bytes.get(end).is_none_or(|&b| !is_word_byte(b));
            bounded.then_some(at)
        })
    })
}

/// The `try` statements of the original tree whose body holds an `await` the fix writes
/// (within the await's function `body`): found in the parse of the function as fixed, then
/// mapped back. Only the function is parsed (from its `def`, whose own line then starts at
/// column 0 and its body stays indented deeper), so a file with many fixes costs each one its
/// function's size, not the file's.
fn trys_around_new_awaits<'a>(site: &Site<'a>, fix: &Fix, body: Node<'a>) -> Vec<Node<'a>> {
    let Some(function) = enclosing_definition(body) else {
        return Vec::new();
    };
    let range = function.byte_range();
    let edits: Vec<Edit> = fix
        .edits
        .iter()
        .filter(|e| e.header.is_none() && range.start <= e.range.start && e.range.end <= range.end)
        .map(|e| Edit {
            range: e.range.start - range.start..e.range.end - range.start,
            content: e.content.clone(),
            header: None,
        })
        .collect();
    let (fixed, moved) = apply_edits_tracked(&site.text[range.clone()], &edits);
    let parsed = parse(&fixed);
    let root = parsed.tree.root_node();
    let mut starts = Vec::new();
    for written in &moved {
        for at in await_keywords(&fixed[written.after.clone()]) {
            let start = written.after.start + at;
            let Some(keyword) = root
                .descendant_for_byte_range(start, start + "await".len())
                .filter(|k| matches!(k.kind_name(), "await" | "async"))
            else {
                continue;
            };
            let mut child = keyword;
            while let Some(parent) = child.parent() {
                if matches!(
                    parent.kind_name(),
                    "function_definition" | "lambda" | "class_definition"
                ) {
                    break;
                }
                if parent.kind_name() == "try_statement"
                    && parent
                        .field(Field::Body)
                        .is_some_and(|b| b.id() == child.id())
                    && let Some(original) = original_offset(parent.start_byte(), &moved)
                    && !starts.contains(&(range.start + original))
                {
                    starts.push(range.start + original);
                }
                child = parent;
            }
        }
    }
    let original_root = site.tree.root_node();
    starts
        .into_iter()
        .filter_map(|start| {
            original_root
                .descendant_for_byte_range(start, start + "try".len())?
                .parent()
                .filter(|p| p.kind_name() == "try_statement" && p.start_byte() == start)
        })
        .collect()
}

/// The `def` whose body `body` is.
fn enclosing_definition(body: Node) -> Option<Node> {
    let mut node = body;
    loop {
        if node.kind_name() == "function_definition" {
            return Some(node);
        }
        node = node.parent()?;
    }
}

/// Where `offset` of the fixed text was in the text fixed (`moved`: the edits, in text
/// order); `None` inside text an edit wrote.
fn original_offset(offset: usize, moved: &[Moved]) -> Option<usize> {
    let mut original = offset;
    for Moved { before, after } in moved {
        if offset >= after.end {
            original = offset - after.end + before.end;
        } else if offset >= after.start {
            return None;
        } else {
            break;
        }
    }
    Some(original)
}

/// The cancellation exception as the file names it (`asyncio.CancelledError`, or through
/// the file's alias), with the import that needs.
fn cancelled_exception(site: &Site, offset: usize) -> Result<(String, Vec<Edit>), String> {
    let (module, suffix) = match site.library {
        None => ("asyncio", ".CancelledError"),
        Some(AsyncLibrary::Trio) => ("trio", ".Cancelled"),
        Some(AsyncLibrary::Anyio) => ("anyio", ".get_cancelled_exc_class()"),
        Some(AsyncLibrary::OwnInternals) => {
            return Err(
                "the `try` around it would swallow the task's cancellation, and inside the \
                 library's own code there is no clause to write for it"
                    .to_owned(),
            );
        }
    };
    let reference = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        module,
        offset,
    )
    .map_err(|e| format!("the `try` around it would swallow the task's cancellation, and {e}"))?;
    Ok((format!("{}{suffix}", reference.name), reference.import))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn await_keywords_are_words() {
        let code = "await f(awaited) async with x: asyncio.run(async_) # await";
        assert_eq!(await_keywords(code).count(), 3);
    }

    #[test]
    fn a_fix_adds_an_await_when_its_text_has_more_than_the_code_it_replaces() {
        let text = "await time.sleep(1)\nx()\n";
        let replace = |range, content: &str| {
            Fix::new(
                Applicability::Safe,
                String::new(),
                vec![Edit::replacement(range, content)],
            )
        };
        assert!(adds_await(text, &replace(20..23, "await x()")));
        // An `await` kept, not added.
        assert!(!adds_await(text, &replace(0..19, "await asyncio.sleep(1)")));
        // An import is no code.
        let mut header = replace(20..20, "");
        header.edits = vec![Edit::header_insertion(
            0,
            "import await_lib\n",
            crate::fix::HeaderKind::Import,
        )];
        assert!(!adds_await(text, &header));
    }

    #[test]
    fn offsets_of_the_fixed_text_map_back_outside_what_the_edits_wrote() {
        let text = "abcdefghij";
        let edits = [Edit::replacement(2..4, "WXYZ"), Edit::insertion(6, "--")];
        let (fixed, moved) = apply_edits_tracked(text, &edits);
        assert_eq!(fixed, "abWXYZef--ghij");
        assert_eq!(original_offset(1, &moved), Some(1));
        assert_eq!(original_offset(3, &moved), None);
        assert_eq!(original_offset(6, &moved), Some(4));
        assert_eq!(original_offset(8, &moved), None);
        assert_eq!(original_offset(10, &moved), Some(6));
        assert_eq!(original_offset(13, &moved), Some(9));
    }
}
