//! `keep-task-reference`: a task created and dropped (`asyncio.create_task(c())` as a
//! statement) is kept in a module-level set until it finishes.

use crate::parse::KindName;

use super::site::Proposal;
use super::site::{Site, broken_arguments, free_name, own_lines};
use crate::fix::imports::module_statement_insertion;
use crate::fix::{Applicability, Edit, Fix};
use crate::parse::{Field, FieldChild};
use crate::semantic::Resolution;

/// The module-level set that keeps tasks alive.
const TASK_SET: &str = "_background_tasks";

/// `asyncio.create_task(c())` as a statement →
/// `task = asyncio.create_task(c())` + `_background_tasks.add(task)` +
/// `task.add_done_callback(_background_tasks.discard)`, with `_background_tasks = set()`
/// defined once after the imports. For `t = create_task(c())` with `t` unused, only the two
/// bookkeeping lines are added.
pub(super) fn keep_task_reference(
    site: &Site,
    applicability: Applicability,
) -> Result<Proposal, String> {
    let statement = site.call.parent().ok_or("the call has no statement")?;
    let (task, prefix_edit) = match statement.kind_name() {
        "expression_statement" => {
            let name = free_name(site, "task");
            let prefix = format!("{name} = ");
            // A line `task = ` takes over the file's length gets its arguments on their own.
            let broken = broken_arguments(site, prefix.chars().count());
            (
                name.clone(),
                Some(Edit::insertion(site.call.start_byte(), prefix))
                    .into_iter()
                    .chain(broken)
                    .collect::<Vec<_>>(),
            )
        }
        "assignment" => {
            let target = statement
                .field(Field::Left)
                .ok_or("the assignment has no target")?;
            (site.text[target.byte_range()].to_owned(), Vec::new())
        }
        _ => return Err("the task is not created by a statement of its own".to_owned()),
    };
    let (indent, line_end) = own_lines(site, statement)?;
    // The set: reuse a module-level `_background_tasks`, or define it after the imports.
    let defined_at = match site.index.resolve_name(TASK_SET, site.call.start_byte()) {
        Resolution::Binding(id) if site.index.binding(id).scope == site.index.module_scope() => {
            Some(site.index.binding(id).range.start)
        }
        _ => None,
    };
    // Code that runs while the module is imported sees only a set defined before it.
    if defined_at.is_some_and(|at| at > site.call.start_byte())
        && site.index.function_at(site.call.start_byte()).is_none()
    {
        return Err(format!(
            "this runs while the module is imported, before `{TASK_SET}` is defined"
        ));
    }
    let set_defined = defined_at.is_some();
    let le = site.line_ending;
    let mut edits = Vec::new();
    edits.extend(prefix_edit);
    edits.push(Edit::insertion(
        line_end,
        format!(
            "{le}{indent}{TASK_SET}.add({task}){le}{indent}{task}.add_done_callback({TASK_SET}.discard)"
        ),
    ));
    if !set_defined {
        if site.index.resolve_name(TASK_SET, site.call.start_byte()) != Resolution::Builtin {
            return Err(format!("`{TASK_SET}` means something else here"));
        }
        edits.push(module_statement_insertion(
            site.tree,
            site.text,
            le,
            &format!("{TASK_SET}: set = set()  # tasks kept alive until they finish"),
            site.call.start_byte(),
        )?);
    }
    let fix = Fix::new(applicability, String::new(), edits);
    Ok(Proposal {
        fix,
        replacement: format!("{TASK_SET}.add({task})"),
    })
}
