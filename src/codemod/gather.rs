//! The `asyncio.gather` rewrites: gather with `return_exceptions=True` and then raise the
//! first failure (so every member completes, and no error is silently returned as a value),
//! or, from Python 3.11, an `asyncio.TaskGroup` where the gather's shape allows.

use crate::parse::KindName;
use tree_sitter::Node;

use super::strategy::site::{Proposal, Site, free_name, own_lines};
use crate::fix::imports::reference_module;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::Resolution;
use crate::source::detect_indent;

/// The statement an awaited call is the value of, and how: `await gather(...)` alone,
/// `x = await gather(...)`, `return await gather(...)`.
enum Shape<'t> {
    Discarded {
        statement: Node<'t>,
    },
    Assigned {
        statement: Node<'t>,
        target: Node<'t>,
    },
    Returned {
        statement: Node<'t>,
    },
}

fn shape<'t>(call: Node<'t>) -> Result<Shape<'t>, String> {
    let awaited = call
        .parent()
        .filter(|p| p.kind_name() == "await")
        .ok_or("the gather is not awaited where it is made; check its results by hand")?;
    let parent = awaited.parent().ok_or("the gather is not in a statement")?;
    match parent.kind_name() {
        "expression_statement" if parent.named_child_count() == 1 => {
            Ok(Shape::Discarded { statement: parent })
        }
        "assignment"
            if parent
                .field(Field::Right)
                .is_some_and(|r| r.id() == awaited.id()) =>
        {
            let statement = parent
                .parent()
                .filter(|s| s.kind_name() == "expression_statement" && s.named_child_count() == 1)
                .ok_or("the gather's assignment is not a statement of its own")?;
            let target = parent
                .field(Field::Left)
                .ok_or("the assignment has no target")?;
            Ok(Shape::Assigned { statement, target })
        }
        "return_statement" => Ok(Shape::Returned { statement: parent }),
        _ => Err(
            "the gather's result is used inside an expression; check its results by hand"
                .to_owned(),
        ),
    }
}

/// `results` → `results`; `a, *rest` → `(a, *rest)`: the results to check, when the target is
/// made of plain names.
fn checked_sequence(site: &Site, target: Node) -> Option<String> {
    let text = &site.text[target.byte_range()];
    if target.kind_name() == "identifier" {
        return Some(text.to_owned());
    }
    let mut pending = vec![target];
    while let Some(node) = pending.pop() {
        match node.kind_name() {
            "identifier" => {}
            "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern" => {
                let mut cursor = node.walk();
                pending.extend(node.named_children(&mut cursor));
            }
            _ => return None,
        }
    }
    Some(format!("({text})"))
}

/// The gather's arguments (comments excluded).
fn arguments<'t>(site: &Site<'t>) -> Result<(Node<'t>, Vec<Node<'t>>), String> {
    let arguments = site
        .call
        .field(Field::Arguments)
        .filter(|a| a.kind_name() == "argument_list")
        .ok_or("the gather has no argument list")?;
    let mut cursor = arguments.walk();
    let items = arguments
        .named_children(&mut cursor)
        .filter(|a| a.kind_name() != "comment")
        .collect();
    Ok((arguments, items))
}

fn is_builtin(site: &Site, name: &str) -> bool {
    site.index.resolve_name(name, site.call.start_byte()) == Resolution::Builtin
}

/// `await gather(a(), b())` → `await gather(a(), b(), return_exceptions=True)`, then every
/// result checked and the first failure raised: as a loop over the awaited gather when its
/// result is discarded; after the assignment when it is assigned; through a new local before
/// a `return`.
pub fn surface_errors(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    let shape = shape(site.call)?;
    let (arguments, items) = arguments(site)?;
    if items.iter().any(|a| a.kind_name() == "dictionary_splat") {
        return Err("`**` arguments may already pass `return_exceptions`".to_owned());
    }
    if !is_builtin(site, "isinstance") || !is_builtin(site, "BaseException") {
        return Err("`isinstance` or `BaseException` means something else here".to_owned());
    }
    let le = site.line_ending;
    let flag = match items.last() {
        None => Edit::insertion(arguments.start_byte() + 1, "return_exceptions=True"),
        Some(last) => match last.next_sibling().filter(|n| n.kind_name() == ",") {
            // A trailing comma: one argument per line keeps that layout.
            Some(comma)
                if site.text[comma.end_byte()..arguments.end_byte()].contains(['\n', '\r']) =>
            {
                let line_start = site.text[..last.start_byte()]
                    .rfind(['\n', '\r'])
                    .map_or(0, |i| i + 1);
                let indent: String = site.text[line_start..]
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                Edit::insertion(
                    comma.end_byte(),
                    format!("{le}{indent}return_exceptions=True,"),
                )
            }
            Some(comma) => Edit::insertion(comma.end_byte(), " return_exceptions=True"),
            None => Edit::insertion(last.end_byte(), ", return_exceptions=True"),
        },
    };
    let unit = detect_indent(site.text);
    let outcome = free_name(site, "outcome");
    let check = |indent: &str, sequence: &str| {
        format!(
            "{indent}for {outcome} in {sequence}:{le}{indent}{unit}if isinstance({outcome}, BaseException):{le}{indent}{unit}{unit}raise {outcome}"
        )
    };
    let mut edits = vec![flag];
    match shape {
        Shape::Discarded { statement } => {
            let (indent, line_end) = own_lines(site, statement)?;
            // `for outcome in await gather(...):` with the check as its body.
            edits.push(Edit::insertion(
                statement.start_byte(),
                format!("for {outcome} in "),
            ));
            edits.push(Edit::insertion(statement.end_byte(), ":"));
            edits.push(Edit::insertion(
                line_end,
                format!(
                    "{le}{indent}{unit}if isinstance({outcome}, BaseException):{le}{indent}{unit}{unit}raise {outcome}"
                ),
            ));
        }
        Shape::Assigned { statement, target } => {
            let (indent, line_end) = own_lines(site, statement)?;
            let sequence = checked_sequence(site, target)
                .ok_or("the results are assigned to something other than names")?;
            edits.push(Edit::insertion(
                line_end,
                format!("{le}{}", check(indent, &sequence)),
            ));
        }
        Shape::Returned { statement } => {
            let (indent, line_end) = own_lines(site, statement)?;
            let results = free_name(site, "results");
            let keyword = statement.child(0).ok_or("empty return")?;
            edits.push(Edit::replacement(
                keyword.byte_range(),
                format!("{results} ="),
            ));
            edits.push(Edit::insertion(
                line_end,
                format!(
                    "{le}{}{le}{indent}return {results}",
                    check(indent, &results)
                ),
            ));
        }
    }
    let fix = Fix::new(applicability, String::new(), edits);
    Ok(Proposal {
        fix,
        replacement: "return_exceptions=True".to_owned(),
    })
}

/// Calls that return a future or task rather than a coroutine: `TaskGroup.create_task` takes
/// coroutines only.
const FUTURE_MAKERS: &[&str] = &[
    "create_task",
    "ensure_future",
    "run_in_executor",
    "gather",
    "shield",
    "wrap_future",
    "run_coroutine_threadsafe",
];

/// `await asyncio.gather(a(), b())` as a statement, Python 3.11+ →
/// `async with asyncio.TaskGroup() as task_group:` + `task_group.create_task(a())` per member.
pub fn task_group(site: &Site, applicability: Applicability) -> Result<Proposal, String> {
    if site.target_version.is_none_or(|v| v < (3, 11)) {
        return Err("`asyncio.TaskGroup` needs Python 3.11 (`target-version`)".to_owned());
    }
    if site.library.is_some() {
        return Err("the file is written for another async library".to_owned());
    }
    let Shape::Discarded { statement } = shape(site.call)? else {
        return Err("a TaskGroup replaces only a gather whose result is discarded".to_owned());
    };
    let (arguments, items) = arguments(site)?;
    let mut cursor = arguments.walk();
    if items.is_empty()
        || arguments
            .named_children(&mut cursor)
            .any(|a| a.kind_name() == "comment")
    {
        return Err("the gather has no members, or comments between them".to_owned());
    }
    for item in &items {
        let callee = (item.kind_name() == "call")
            .then(|| item.field(Field::Function))
            .flatten()
            .ok_or("a member is not a coroutine call")?;
        let tail = match callee.kind_name() {
            "attribute" => callee
                .field(Field::Attribute)
                .map(|a| &site.text[a.byte_range()]),
            "identifier" => Some(&site.text[callee.byte_range()]),
            _ => None,
        };
        if tail.is_some_and(|t| FUTURE_MAKERS.contains(&t)) {
            return Err("a member is a task or future, not a coroutine".to_owned());
        }
    }
    let (indent, line_end) = own_lines(site, statement)?;
    let asyncio = reference_module(
        site.index,
        site.tree,
        site.text,
        site.line_ending,
        "asyncio",
        site.call.start_byte(),
    )?;
    let group = free_name(site, "task_group");
    let le = site.line_ending;
    let unit = detect_indent(site.text);
    let body: String = items
        .iter()
        .map(|item| {
            format!(
                "{le}{indent}{unit}{group}.create_task({})",
                &site.text[item.byte_range()]
            )
        })
        .collect();
    let replacement = format!("{}.TaskGroup", asyncio.name);
    let mut edits = vec![
        Edit::replacement(
            statement.byte_range(),
            format!("async with {replacement}() as {group}:"),
        ),
        Edit::insertion(line_end, body),
    ];
    edits.extend(asyncio.import);
    Ok(Proposal {
        fix: Fix::new(applicability, String::new(), edits),
        replacement,
    })
}
