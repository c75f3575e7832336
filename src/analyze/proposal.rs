//! The fix a codemod proposes for a matched call: its alternative fix when the run goes as far
//! as that one's applicability, else its own (lowered by a fix exception for the name), and
//! none where the code around the call has a syntax error, or where the codemod spares the
//! only task of a script (`unless-single-task`, see `entry`); where the fix adds an `await` in a
//! `try` that would swallow the task's cancellation, it re-raises it first (`cancellation`).

use tree_sitter::Node;

use super::FileContext;
use super::cancellation::keep_cancellation;
use super::conditions::has_local_receiver;
use super::entry::{Alone, in_single_task_script};
use super::test_bodies::TestRole;
use super::unit_of_work::UnitOfWork;
use crate::codemod::{Codemod, Registry, Site, Template};
use crate::fix::{Applicability, Fix};
use crate::parse::KindName;

/// Why a call whose statement tree-sitter could not parse has no fix.
pub const SYNTAX_ERROR_REASON: &str = "the code around it has a syntax error";

/// The fix for the call at `site`, or why there is none (`(None, None)`: the codemod has no
/// fix). `unit`: the unit of work on a thread-affine object the codemod's fix moves in place
/// of what its strategy would (`unit_of_work.rs`).
pub(super) fn propose_fix(
    file: &FileContext,
    registry: &Registry,
    codemod: &Codemod,
    site: &Site,
    callee_text: &str,
    unit: Option<&UnitOfWork>,
) -> (Option<Fix>, Option<String>) {
    // Every fix moving work to a worker thread (the codemod's own `to-thread` /
    // `offload-block` fix, and so a moved unit of work, a moved `with` block, a project
    // helper's hop, an idiom's variant) is withheld in single-task code; an alternative that
    // moves nothing to a thread (the httpx migration) is offered as anywhere else.
    let single_task = codemod.single_task_reason.as_ref().and_then(|reason| {
        let alone = in_single_task_script(file, registry, site.call)?;
        Some(match alone {
            Alone::Script => reason.render(|_| callee_text.to_owned()),
            Alone::Hook(hook) => format!(
                "nothing else runs on the event loop yet: {}, so `{callee_text}()` blocks \
                 nothing: moving it to a worker thread would only add a hop",
                registry.single_task().hooks[hook].why
            ),
            Alone::Test(role, (start, end)) => {
                let name = &file.text[start..end];
                let what = match role {
                    TestRole::Test => format!("the body of test `{name}`"),
                    TestRole::Fixture => format!("the async fixture `{name}` before its `yield`"),
                    TestRole::SetUp => format!("the test case's `{name}`"),
                };
                format!(
                    "{what}: nothing else runs on its event loop before it starts other work, \
                     so `{callee_text}()` blocks nothing: moving it to a worker thread would \
                     only add a hop"
                )
            }
        })
    });
    let chosen = match alternative_fix(codemod, site, callee_text, file.unsafe_fixes) {
        Some(fix) => Ok(Some(fix)),
        None => {
            let own = match &single_task {
                Some(reason) => Err(reason.clone()),
                None => primary_fix(file, codemod, site, callee_text, unit)
                    .map(|fix| fix.map(|fix| with_refusal(codemod, site, fix))),
            };
            // Where the codemod's own fix has none (or only a suggestion), its alternative is
            // the fix at any threshold (so `check` says what `fix --unsafe-fixes` does).
            let none = match &own {
                Ok(Some(fix)) => fix.applicability == Applicability::DisplayOnly,
                Ok(None) | Err(_) => true,
            };
            let alternative = none
                .then(|| alternative_fix(codemod, site, callee_text, true))
                .flatten();
            match alternative {
                Some(fix) => Ok(Some(fix)),
                None => own,
            }
        }
    };
    // Every strategy's fix keeps the task's cancellation working where it adds an `await`.
    let chosen = chosen.and_then(|fix| fix.map(|fix| keep_cancellation(site, fix)).transpose());
    match chosen {
        Ok(Some(fix)) if touches_syntax_error(file, &fix, site.call) => {
            (None, Some(SYNTAX_ERROR_REASON.to_owned()))
        }
        Ok(fix) => (fix, None),
        Err(reason) => (None, Some(reason)),
    }
}

/// The codemod's own `fix`, its title saying why its alternative is refused here, where the
/// alternative has a `refused-note` ("not migrated to `redis.asyncio`: `r.pubsub()` (line
/// 12): ..."): whatever the run's threshold, so `check` and `fix` say the same.
fn with_refusal(codemod: &Codemod, site: &Site, mut fix: Fix) -> Fix {
    let Some(alternative) = codemod.alternative.as_ref() else {
        return fix;
    };
    let Some(note) = alternative.refused_note.as_ref() else {
        return fix;
    };
    if let Err(reason) = alternative
        .strategy
        .propose(site, alternative.applicability)
    {
        let note = note.render(|name| match name {
            "reason" => reason.clone(),
            _ => String::new(),
        });
        fix.title = format!("{} ({note})", fix.title);
    }
    fix
}

/// The codemod's alternative fix, when the run goes as far as its applicability and it can
/// make one.
fn alternative_fix(
    codemod: &Codemod,
    site: &Site,
    callee_text: &str,
    unsafe_fixes: bool,
) -> Option<Fix> {
    let alternative = codemod
        .alternative
        .as_ref()
        .filter(|a| unsafe_fixes || a.applicability == Applicability::Safe)?;
    let mut proposal = alternative
        .strategy
        .propose(site, alternative.applicability)
        .ok()?;
    proposal.fix.title = render_title(&alternative.title, &proposal.replacement, site, callee_text);
    Some(proposal.fix)
}

/// The codemod's own fix (`Ok(None)`: it has none), with the applicability and caveat of a
/// fix exception for the call's name, unless the exception spares local receivers and the
/// call's is one.
fn primary_fix(
    file: &FileContext,
    codemod: &Codemod,
    site: &Site,
    callee_text: &str,
    unit: Option<&UnitOfWork>,
) -> Result<Option<Fix>, String> {
    let (Some(strategy), Some(title)) = (&codemod.strategy, &codemod.fix_title) else {
        return Ok(None);
    };
    let exception = codemod
        .fix_exceptions
        .get(site.qualified)
        .filter(|e| !(e.unless_local_receiver && has_local_receiver(file, site.callee)));
    if let Some(exception) = exception.filter(|e| e.no_fix) {
        return Err(exception.reason.clone());
    }
    let mut proposal = match unit {
        Some(unit) => unit.propose(site, codemod.applicability)?,
        None => strategy.propose(site, codemod.applicability)?,
    };
    if let Some(exception) = exception
        && exception.applicability < proposal.fix.applicability
    {
        proposal.fix.applicability = exception.applicability;
        proposal.fix.caveat = Some(exception.reason.clone());
    }
    // What every fix of the codemod changes (`[fix] caveat`), unless the strategy said more.
    if let Some(caveat) = &codemod.fix_caveat
        && proposal.fix.caveat.is_none()
    {
        proposal.fix.caveat = Some(caveat.render(|name| match name {
            "qualified" => site.qualified.to_owned(),
            _ => callee_text.to_owned(),
        }));
    }
    // A strategy may title its fix itself (an offload idiom that is no thread).
    if proposal.fix.title.is_empty() {
        proposal.fix.title = render_title(title, &proposal.replacement, site, callee_text);
    }
    Ok(Some(proposal.fix))
}

fn render_title(title: &Template, replacement: &str, site: &Site, callee_text: &str) -> String {
    title.render(|name| match name {
        "replacement" => replacement.to_owned(),
        "callee" => callee_text.to_owned(),
        "qualified" => site.qualified.to_owned(),
        _ => String::new(),
    })
}

/// Whether the fix or the call touches code tree-sitter could not parse.
fn touches_syntax_error(file: &FileContext, fix: &Fix, call: Node) -> bool {
    fix.edits
        .iter()
        .any(|e| file.parsed.touches_error(&e.range))
        || file.parsed.touches_error(&call.byte_range())
        // Only files with syntax errors need the ancestor walk.
        || (file.parsed.has_errors() && in_broken_statement(file.parsed.tree.root_node(), call))
}

/// Whether the statement holding `node` contains a syntax error (or `node` sits inside an
/// `ERROR` node): a fix there could straddle code tree-sitter only guessed at.
fn in_broken_statement(root: Node, node: Node) -> bool {
    // `Node::parent` costs O(depth) in tree-sitter; a cursor walking down from the root gives
    // every ancestor in O(depth) in all, so deeply nested calls stay linear.
    let mut ancestors = Vec::new();
    let mut cursor = root.walk();
    while cursor.node().id() != node.id() {
        ancestors.push(cursor.node());
        let mut found = false;
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if child.start_byte() <= node.start_byte()
                    && node.end_byte() <= child.end_byte()
                    && !(child.start_byte() == child.end_byte()
                        && node.start_byte() != child.start_byte())
                {
                    found = true;
                    break;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        if !found {
            return false;
        }
    }
    for ancestor in ancestors.iter().rev() {
        if ancestor.is_error() {
            return true;
        }
        let kind = ancestor.kind_name();
        if kind.ends_with("statement") || kind == "block" || kind == "module" {
            return kind != "block" && kind != "module" && ancestor.has_error();
        }
    }
    false
}
