//! Check-then-act on a filesystem path in code a fix moves to a worker thread: a test of a
//! path (`target.exists()`, `os.path.isdir(p)`) and then a call that makes, writes or removes
//! the same path (`target.symlink_to(...)`, `os.mkdir(p)`, `os.remove(p)`). On the event
//! loop's thread two coroutines ran the check and the act one after the other; in worker
//! threads both pass the check and the second act raises (`FileExistsError`,
//! `FileNotFoundError`) or overwrites the first. The calls are data
//! (`[[moved-code.path-races]]` in `codemods/UNF401.toml`). One path: the same name (one
//! binding) or the same key (`path_key.rs`); a path made per call (a parameter, a
//! `tempfile` or `uuid4()` name) is each call's own. An act that tolerates the race (its
//! `exist_ok` / `missing_ok`, a handler of what it raises) stays safe.

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use super::FileContext;
use super::path_key::{argument, path_key};
use crate::codemod::{MovedCode, PathRaceCall, PathRaceRole};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::PATH_RACE_REMEDY;
use crate::semantic::{BindingKind, Resolution, node_at};

/// How many locals a path is followed through for whether it is made per call.
const MAX_DEPTH: usize = 6;

/// One check then act on one fixed path, in one function.
#[derive(Debug, Clone)]
pub struct PathRace {
    /// The check's call and the act's call.
    pub check: Range<usize>,
    pub act: Range<usize>,
    /// What the caveat says of code moving both.
    pub what: String,
    /// What it says of a hop of the check or of the act alone, in a coroutine (`None` when
    /// an `await` already runs between them: the race is the program's own).
    pub split: Option<String>,
}

/// A call taking part in a check-then-act, with its path operand.
struct PathCall<'t> {
    call: Node<'t>,
    path: Node<'t>,
    way: &'t PathRaceCall,
    /// How the call is shown: `.exists()`, `os.mkdir(...)`.
    shown: String,
}

/// The check-then-acts of `file` on fixed paths, in the order of their acts: found once per
/// file (every moved call and block asks).
pub(super) fn path_races<'f>(file: &'f FileContext, moved: &MovedCode) -> &'f [PathRace] {
    file.path_races.get_or_init(|| find_path_races(file, moved))
}

fn find_path_races(file: &FileContext, moved: &MovedCode) -> Vec<PathRace> {
    let races = &moved.path_races;
    if races.calls.is_empty() {
        return Vec::new();
    }
    let root = file.parsed.tree.root_node();
    // The methods' names the table holds: an attribute callee's callable name ends with its
    // attribute (`Path(p).exists` is `pathlib.Path().exists`), so a call of another method
    // is no check and no act, and its callable name (a walk of the tree) is not worked out.
    let methods: HashSet<&str> = races
        .calls
        .keys()
        .filter_map(|q| q.rsplit_once('.').map(|(_, method)| method))
        .collect();
    let mut checks = Vec::new();
    let mut acts = Vec::new();
    for &call in &file.nodes.calls {
        let Some(callee) = call.field(Field::Function) else {
            continue;
        };
        if callee.kind_name() == "attribute"
            && callee
                .field(Field::Attribute)
                .is_some_and(|method| !methods.contains(&file.text[method.byte_range()]))
        {
            continue;
        }
        let Some((qualified, ways)) = file
            .index
            .callable_name(callee, root, file.text)
            .and_then(|q| races.calls.get_key_value(&q))
        else {
            continue;
        };
        for way in ways {
            let path = match &way.path_argument {
                Some((position, keyword)) => argument(file, call, *position, keyword.as_deref()),
                None => callee.field(Field::Object),
            };
            let Some(path) = path else { continue };
            let shown = match way.path_argument {
                Some(_) => format!("{qualified}(...)"),
                None => {
                    let method = qualified.rsplit('.').next().unwrap_or(qualified);
                    format!(".{method}()")
                }
            };
            let entry = PathCall {
                call,
                path,
                way,
                shown,
            };
            match way.role {
                PathRaceRole::Check => checks.push(entry),
                _ if tolerated(file, moved, call, way) => {}
                _ => acts.push(entry),
            }
        }
    }
    let mut found = Vec::new();
    for act in &acts {
        let function = file.index.function_at(act.call.start_byte());
        let Some(check) = checks.iter().find(|c| {
            c.call.end_byte() <= act.call.start_byte()
                && file.index.function_at(c.call.start_byte()) == function
                && same_path(file, moved, c.path, act.path)
        }) else {
            continue;
        };
        if fresh(file, moved, act.path, 0) {
            continue;
        }
        let awaited = awaits_between(file, check.call.end_byte(), act.call.start_byte());
        found.push(PathRace {
            check: check.call.byte_range(),
            act: act.call.byte_range(),
            what: message(file, check, act),
            split: (!awaited).then(|| split_message(file, check, act)),
        });
    }
    found
}

/// The caveat: the path, the check and the act with their lines, what a second act does.
fn message(file: &FileContext, check: &PathCall, act: &PathCall) -> String {
    let line = |n: Node| n.start_position().row + 1;
    let (does, failure) = outcome(act);
    format!(
        "checks the path {} (`{}`, line {}) and then {does} it (`{}`, line {}), a \
         check-then-act on one fixed path: two calls at once in worker threads can both pass \
         the check, and {failure}; {PATH_RACE_REMEDY} (`exist_ok=True`, \
         `missing_ok=True`, `try/except FileExistsError`) or guard it with a lock",
        shown_path(file, act.path),
        check.shown,
        line(check.call),
        act.shown,
        line(act.call),
    )
}

/// The caveat of a hop that moves the check or the act alone: the new `await` splits them.
fn split_message(file: &FileContext, check: &PathCall, act: &PathCall) -> String {
    let line = |n: Node| n.start_position().row + 1;
    let (does, failure) = outcome(act);
    format!(
        "splits a check-then-act on one fixed path: `{}` (line {}) checks {} and `{}` (line \
         {}) {does} it; with the new `await` between them two coroutines can both pass the \
         check, and {failure}; {PATH_RACE_REMEDY} (`exist_ok=True`, `missing_ok=True`, \
         `try/except FileExistsError`) or keep both on the event loop",
        check.shown,
        line(check.call),
        shown_path(file, act.path),
        act.shown,
        line(act.call),
    )
}

/// What the act does, and what a second one does ("the second one's create fails
/// (FileExistsError)").
fn outcome(act: &PathCall) -> (&'static str, String) {
    let (does, failure) = match act.way.role {
        PathRaceRole::Create => ("makes", "the second one's create fails"),
        PathRaceRole::Remove => ("removes", "the second one's removal fails"),
        _ => ("writes", "the second one's write overwrites the first"),
    };
    let raises = act
        .way
        .raises
        .as_deref()
        .map(|r| format!(" ({})", r.rsplit('.').next().unwrap_or(r)))
        .unwrap_or_default();
    (does, format!("{failure}{raises}"))
}

/// Whether an `await` runs in `start..end` (between a check and its act).
pub(super) fn awaits_between(file: &FileContext, start: usize, end: usize) -> bool {
    let Some(around) = file
        .parsed
        .tree
        .root_node()
        .descendant_for_byte_range(start, end)
    else {
        return false;
    };
    let mut stack = vec![around];
    while let Some(node) = stack.pop() {
        if node.end_byte() <= start || node.start_byte() >= end {
            continue;
        }
        if node.kind_name() == "await" && node.start_byte() >= start && node.end_byte() <= end {
            return true;
        }
        stack.extend(node.named_children(&mut node.walk()));
    }
    false
}

/// The path as written, with a local's value: "`target` (`target_root / source.name`)".
fn shown_path(file: &FileContext, path: Node) -> String {
    let written = |n: Node| {
        file.text[n.byte_range()]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let value = (path.kind_name() == "identifier")
        .then(|| local_value(file, path))
        .flatten();
    match value {
        Some(value) => format!("`{}` (`{}`)", written(path), written(value)),
        None => format!("`{}`", written(path)),
    }
}

/// Whether `check` and `act` name one path: one binding of a name, or one key.
fn same_path(file: &FileContext, moved: &MovedCode, check: Node, act: Node) -> bool {
    let text = |n: Node| &file.text[n.byte_range()];
    if check.kind_name() == "identifier" && act.kind_name() == "identifier" {
        let binding = |n: Node| match file.index.resolve_name(text(n), n.start_byte()) {
            Resolution::Binding(id) => Some(id),
            _ => None,
        };
        return text(check) == text(act)
            && binding(check).is_some()
            && binding(check) == binding(act);
    }
    let key = |n: Node| {
        path_key(file, moved, None, n, 0).filter(|(key, named)| *named && !key.contains('*'))
    };
    match (key(check), key(act)) {
        (Some(k), Some(a)) => k == a,
        // A path the keys cannot name (`config.dir_path` from a star import): the same
        // expression, written alike, over names bound alike, is one path.
        _ => same_expression(file, check, act),
    }
}

/// Whether `check` and `act` are one expression written alike whose every name resolves to
/// the same binding (or, unresolved, to nothing) at both places.
fn same_expression(file: &FileContext, check: Node, act: Node) -> bool {
    let squeezed = |n: Node| {
        file.text[n.byte_range()]
            .split_whitespace()
            .collect::<String>()
    };
    if squeezed(check) != squeezed(act) {
        return false;
    }
    let names = |n: Node| {
        let mut found = Vec::new();
        let mut stack = vec![n];
        while let Some(node) = stack.pop() {
            if node.kind_name() == "identifier"
                && node.parent().is_none_or(|p| {
                    p.kind_name() != "attribute"
                        || p.field(Field::Object).is_some_and(|o| o.id() == node.id())
                })
                && node
                    .parent()
                    .is_none_or(|p| p.kind_name() != "keyword_argument")
            {
                let name = &file.text[node.byte_range()];
                found.push(match file.index.resolve_name(name, node.start_byte()) {
                    Resolution::Binding(id) => Some(id),
                    _ => None,
                });
            }
            stack.extend(node.named_children(&mut node.walk()));
        }
        found
    };
    names(check) == names(act)
}

/// Whether the path `expr` is made per call: it is built from a `fresh-path-calls` call
/// (a `tempfile` or `uuid4()` name), through locals. A parameter is not enough: two calls may
/// pass one path (`str(message.chat.id)` for two messages of one chat).
fn fresh(file: &FileContext, moved: &MovedCode, expr: Node, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let root = file.parsed.tree.root_node();
    let mut stack = vec![expr];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "identifier" => {
                let name = &file.text[node.byte_range()];
                let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte())
                else {
                    continue;
                };
                let binding = file.index.binding(id);
                match binding.kind {
                    // A parameter is not each call's own: two handlers of one chat, or two
                    // callers passing one directory, check and act on one path at once.
                    BindingKind::Assignment if binding.scope != file.index.module_scope() => {
                        if let Some(value) = local_value(file, node)
                            && fresh(file, moved, value, depth + 1)
                        {
                            return true;
                        }
                    }
                    _ => {}
                }
            }
            // `source.name`: only the object is a name to follow.
            "attribute" => stack.extend(node.field(Field::Object)),
            "keyword_argument" => stack.extend(node.field(Field::Value)),
            "call" => {
                let fresh_call = node
                    .field(Field::Function)
                    .and_then(|callee| file.index.callable_name(callee, root, file.text))
                    .is_some_and(|q| moved.path_races.is_fresh(&q));
                if fresh_call {
                    return true;
                }
                stack.extend(node.named_children(&mut node.walk()));
            }
            _ => stack.extend(node.named_children(&mut node.walk())),
        }
    }
    false
}

/// What a local name holds: its assigned value, or what its `for` loop iterates.
fn local_value<'t>(file: &FileContext<'t>, name: Node<'t>) -> Option<Node<'t>> {
    let text = &file.text[name.byte_range()];
    let Resolution::Binding(id) = file.index.resolve_name(text, name.start_byte()) else {
        return None;
    };
    let binding = file.index.binding(id);
    if binding.kind != BindingKind::Assignment || binding.scope == file.index.module_scope() {
        return None;
    }
    let root = file.parsed.tree.root_node();
    if let Some(value) = binding.value.as_ref().and_then(|v| node_at(root, v)) {
        return Some(value);
    }
    let mut node = root.descendant_for_byte_range(binding.range.start, binding.range.end)?;
    while let Some(parent) = node.parent() {
        match parent.kind_name() {
            "for_statement" | "for_in_clause" => return parent.field(Field::Right),
            "function_definition" | "lambda" | "class_definition" | "block" => return None,
            _ => node = parent,
        }
    }
    None
}

/// Whether the act tolerates a second call: its `tolerated-by` keyword passed (not as
/// `False`), or a handler around it of what it raises or of `path-race-handlers` (`try` /
/// `except`, `with contextlib.suppress(...)`).
fn tolerated(file: &FileContext, moved: &MovedCode, call: Node, way: &PathRaceCall) -> bool {
    if let Some(keyword) = &way.tolerated_by
        && argument(file, call, usize::MAX, Some(keyword))
            .is_some_and(|v| &file.text[v.byte_range()] != "False")
    {
        return true;
    }
    let catches = |item: Node| {
        file.index.qualified_name(item, file.text).is_some_and(|q| {
            way.raises.as_deref() == Some(q.as_str()) || moved.path_races.handlers.contains(&q)
        })
    };
    let root = file.parsed.tree.root_node();
    let mut current = call;
    while let Some(parent) = current.parent() {
        match parent.kind_name() {
            "function_definition" | "lambda" | "class_definition" => return false,
            "try_statement"
                if parent
                    .field(Field::Body)
                    .is_some_and(|b| b.id() == current.id()) =>
            {
                let mut cursor = parent.walk();
                for clause in parent.named_children(&mut cursor) {
                    if clause.kind_name() != "except_clause" {
                        continue;
                    }
                    match crate::parse::handled_types(clause) {
                        None => return true,
                        Some(handled) if handled.items.iter().any(|i| catches(*i)) => {
                            return true;
                        }
                        Some(_) => {}
                    }
                }
            }
            "with_statement" => {
                let suppressed = parent
                    .named_child(0)
                    .filter(|clause| clause.kind_name() == "with_clause")
                    .is_some_and(|clause| {
                        clause
                            .named_children(&mut clause.walk())
                            .filter_map(|item| item.field(Field::Value))
                            .filter(|value| value.kind_name() == "call")
                            .filter(|value| {
                                value
                                    .field(Field::Function)
                                    .and_then(|f| file.index.callable_name(f, root, file.text))
                                    .is_some_and(|q| q == "contextlib.suppress")
                            })
                            .any(|value| {
                                value.field(Field::Arguments).is_some_and(|arguments| {
                                    arguments.named_children(&mut arguments.walk()).any(catches)
                                })
                            })
                    });
                if suppressed {
                    return true;
                }
            }
            _ => {}
        }
        current = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::test_context::with_context;
    use super::*;
    use crate::codemod::Registry;

    /// The caveats of `source`'s check-then-acts.
    fn races(source: &str) -> Vec<String> {
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        with_context("app.py", source, None, |file| {
            path_races(file, moved)
                .iter()
                .map(|r| r.what.clone())
                .collect()
        })
    }

    #[test]
    fn a_link_made_after_a_check_of_a_fixed_path_races() {
        let source = "from pathlib import Path\nHOME = Path.home() / '.bot'\n\ndef links():\n    root = HOME / 'skills'\n    for source in (HOME / 'src').iterdir():\n        target = root / source.name\n        if target.exists() or target.is_symlink():\n            continue\n        target.symlink_to(source, target_is_directory=True)\n";
        let found = races(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("checks the path `target` (`root / source.name`) (`.exists()`, line 8) and then makes it (`.symlink_to()`, line 10)"),
            "{found:?}"
        );
        assert!(found[0].contains("(FileExistsError)"), "{found:?}");
    }

    #[test]
    fn a_constant_path_checked_by_os_path_then_made_or_removed_races() {
        let source = "import os, shutil\nLOCK = '/tmp/app.lock'\n\ndef take():\n    if not os.path.exists(LOCK):\n        os.mkdir(LOCK)\n\ndef drop():\n    if os.path.isdir(LOCK):\n        shutil.rmtree(LOCK)\n";
        let found = races(source);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`os.mkdir(...)`, line 6"), "{found:?}");
        assert!(found[1].contains("(FileNotFoundError)"), "{found:?}");
    }

    #[test]
    fn a_tolerant_act_or_a_path_made_per_call_is_no_race() {
        // `exist_ok`, `missing_ok`, a handler of what the act raises or of OSError, a
        // `suppress`, a temporary directory, a uuid name.
        let source = "import os, uuid, tempfile, contextlib\nfrom pathlib import Path\nD = Path('/tmp/d')\n\ndef a():\n    if not D.exists():\n        D.mkdir(parents=True, exist_ok=True)\n    if D.exists():\n        D.unlink(missing_ok=True)\n\ndef b():\n    if not D.exists():\n        try:\n            D.mkdir()\n        except FileExistsError:\n            pass\n    if D.exists():\n        with contextlib.suppress(OSError):\n            os.remove(D)\n\ndef c(user):\n    t = Path(tempfile.mkdtemp()) / 'x'\n    if not t.exists():\n        t.mkdir()\n    u = D / f'{uuid.uuid4()}'\n    if not u.exists():\n        u.mkdir()\n    if not D.exists():\n        os.makedirs(D, exist_ok=True)\n";
        assert_eq!(races(source), Vec::<String>::new());
    }

    #[test]
    fn a_path_from_a_parameter_or_an_unresolved_name_races() {
        // Two handlers of one chat pass one path; `config` comes from a star import.
        let source = "import os\nfrom settings import *\n\ndef c(user):\n    p = os.path.join('d', str(user.id))\n    if not os.path.exists(p):\n        os.mkdir(p)\n\ndef d():\n    if not os.path.exists(os.path.join(config.dir, 'x')):\n        os.makedirs(os.path.join(config.dir, 'x'))\n    if os.path.exists(os.path.join(config.dir, 'y')):\n        os.remove(os.path.join(config.dir, 'z'))\n";
        let found = races(source);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`os.mkdir(...)`, line 7"), "{found:?}");
        assert!(
            found[1].contains("`os.makedirs(...)`, line 11"),
            "{found:?}"
        );
    }

    #[test]
    fn an_act_before_its_check_or_on_another_path_is_no_race() {
        let source = "import os\nA = 'a'\nB = 'b'\n\ndef f():\n    os.mkdir(A)\n    if os.path.exists(A):\n        pass\n    if not os.path.exists(B):\n        os.mkdir(A + '/x')\n";
        assert_eq!(races(source), Vec::<String>::new());
    }

    #[test]
    fn the_races_are_found_once_per_file_whatever_asks() {
        // Every moved call and block asks for the file's races: asking again must not walk
        // the file again (a nested blocking call per coroutine made that quadratic).
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        let source = "import os\nLOCK = 'l'\n\ndef take():\n    if not os.path.exists(LOCK):\n        os.mkdir(LOCK)\n";
        with_context("app.py", source, None, |file| {
            assert!(file.path_races.get().is_none());
            let first = path_races(file, moved);
            assert_eq!(first.len(), 1);
            assert!(std::ptr::eq(first, path_races(file, moved)));
        });
    }

    #[test]
    fn a_check_and_act_already_split_by_an_await_is_the_programs_own() {
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        let source = "import os, asyncio\nLOCK = 'l'\n\nasync def a():\n    if not os.path.exists(LOCK):\n        os.mkdir(LOCK)\n\nasync def b():\n    if not os.path.exists(LOCK):\n        await asyncio.sleep(0)\n        os.mkdir(LOCK)\n";
        let split: Vec<bool> = with_context("app.py", source, None, |file| {
            path_races(file, moved)
                .iter()
                .map(|r| r.split.is_some())
                .collect()
        });
        assert_eq!(split, [true, false]);
    }
}
