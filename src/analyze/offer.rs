//! Offering one call to the codemods: what the call reaches (a qualified name, one of the
//! file's own coroutine functions, a project function), which codemods' conditions hold for
//! it, and the finding each of those makes, with its message and fix.

use std::cell::OnceCell;

use tree_sitter::Node;

use super::affinity::{foreign_affine_use_in_block, imported_receiver};
use super::await_order::{keep_process_state, keep_read_modify_write, keep_state_check};
use super::conditions::{
    callee_tail, caught_by, follows_await_of, is_consumed_in_place, is_non_blocking,
    is_result_discarded, mentions_any,
};
use super::finding::Chain;
use super::guards::passes;
use super::proposal::propose_fix;
use super::receivers::{
    Names, ReachFacts, apply_reach, is_with_item, leaf_exception, reach_facts, reach_fix,
    with_targets,
};
use super::returned::{affine_leaving_block, block_keeps_resource, returned_receiver};
use super::side_effects::{apply_hazard, moved_block_hazard, moved_call_file_hazard};
use super::speculation::speculation_for;
use super::target::{call_target, project_coroutine};
use super::unit_of_work::{AffineCall, affine_call, helper_unit};
use super::{FileContext, Finding};
use crate::codemod::{AsyncLibrary, Codemod, Registry, Site, Strategy, Template, moved_with_block};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    HazardKind, Hop, ProjectCall, ProjectLookup, ThreadHazard, call_text, keeps_nothing_key,
};
use crate::semantic::{ScopeId, ScopeKind, SemanticIndex};
use crate::settings::RuleSelection;

/// Offer `call` to the codemods that want what it reaches. In the project phase's first pass,
/// a call whose target may matter to the project is offered once per outcome it may have.
pub(super) fn offer_call(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    library: Option<AsyncLibrary>,
    call: Node,
    findings: &mut Vec<Finding>,
) {
    let Some(callee) = call.field(Field::Function) else {
        return;
    };
    let Some(tail) = callee_tail(callee, file.text) else {
        return;
    };
    // A call of one of the file's own coroutine functions goes to the codemods that want those.
    let coroutine = if registry.coroutine_codemods().is_empty() {
        None
    } else {
        project_coroutine(file, callee)
    };
    let offer = |project_call: Option<&ProjectCall>,
                 speculation: Option<&str>,
                 findings: &mut Vec<Finding>| {
        let site = CallSite {
            call,
            callee,
            tail,
            coroutine: coroutine.clone(),
            project_call,
            speculation,
        };
        offer_to_codemods(file, registry, selection, library, site, findings);
    };
    let Some(project) = file.project.filter(|_| coroutine.is_none()) else {
        return offer(None, None, findings);
    };
    let target = || call_target(file, project.module, project.map, callee);
    let through_with = std::cell::Cell::new(false);
    match project.lookup {
        ProjectLookup::Settled(calls) => {
            let project_call = if calls.is_empty() {
                None
            } else {
                // A method of an object a project function returned to the coroutine is
                // named by that function (`db.create_conn()[1].execute`); one on a member of
                // an imported object by the chain (`db.db[].find_one`).
                target()
                    .and_then(|t| {
                        // `with Client() as c:` runs `__enter__` and `__exit__` too: when
                        // they block, moving the constructor alone would not help.
                        let entered = is_with_item(call)
                            .then(|| with_targets(&t).iter().find_map(|w| calls.get(w)))
                            .flatten()
                            .filter(|c| matches!(c, ProjectCall::Blocking { .. }));
                        through_with.set(entered.is_some());
                        entered.or_else(|| calls.get(&t))
                    })
                    .or_else(|| {
                        let name =
                            returned_receiver(file, registry, project.module, project.map, callee)?;
                        calls.get(&name)
                    })
                    .or_else(|| {
                        let name =
                            imported_receiver(file, registry, project.module, project.map, callee)?;
                        calls.get(&name)
                    })
            };
            // A chain that runs only when an argument is left out: this call passes it.
            let project_call = project_call.filter(|reached| match reached {
                ProjectCall::Blocking {
                    unless_passed: Some(guard),
                    ..
                } => !passes(file, call, guard),
                _ => true,
            });
            let before = findings.len();
            offer(project_call, None, findings);
            if let Some(ProjectCall::Blocking { chain, .. }) = project_call {
                let names = Names {
                    file,
                    module: project.module,
                    map: project.map,
                };
                let first_hop = chain.split(" -> ").next().unwrap_or_default();
                // A receiver whose class keeps nothing shares nothing through itself.
                let keeps_nothing = target()
                    .and_then(|t| Some(keeps_nothing_key(t.rsplit_once('.')?.0)))
                    .is_some_and(|key| calls.contains_key(&key));
                let with = through_with.get();
                if let Some(reach) = reach_fix(&names, call, callee, first_hop, with, keeps_nothing)
                {
                    for finding in &mut findings[before..] {
                        apply_reach(&reach, &mut finding.fix, &mut finding.no_fix_reason);
                    }
                }
                if let Some(reach) = leaf_exception(registry, chain) {
                    for finding in &mut findings[before..] {
                        apply_reach(&reach, &mut finding.fix, &mut finding.no_fix_reason);
                    }
                }
            }
        }
        ProjectLookup::Speculative(lexical) => match target().filter(|t| lexical.may_matter(t)) {
            Some(target) => {
                let blocking = ProjectCall::Blocking {
                    chain: String::new(),
                    location: String::new(),
                    hops: Vec::new(),
                    pinned: None,
                    returned: None,
                    hazard: None,
                    unless_passed: None,
                };
                offer(None, Some(&target), findings);
                offer(Some(&ProjectCall::Coroutine), Some(&target), findings);
                offer(Some(&blocking), Some(&target), findings);
            }
            None => offer(None, None, findings),
        },
    }
}

/// A call offered to the codemods, with what the project phase says of it.
struct CallSite<'t, 'p> {
    call: Node<'t>,
    callee: Node<'t>,
    tail: &'t str,
    /// The file's own coroutine function it calls.
    coroutine: Option<String>,
    project_call: Option<&'p ProjectCall>,
    /// In a speculative first pass, the target the project call was assumed for.
    speculation: Option<&'p str>,
}

/// What a call reaches, and the codemods that may match it.
struct Reached<'r, 'p> {
    /// The qualified name; for a coroutine or a project function, the callee as written.
    qualified: String,
    codemods: &'r [usize],
    /// For a blocking project function: the chain to the blocking call, and where that is.
    chain: &'p str,
    location: &'p str,
    /// For a blocking project function: the chain hop by hop, from the callee's call on.
    hops: Option<&'p [Hop]>,
    /// Why the call's target must stay on the event loop's thread: no fix, this reason.
    pinned: Option<&'p str>,
    /// For a blocking project function returning a thread-affine object it makes: why a
    /// call whose result is kept gets no fix.
    returned: Option<&'p str>,
    /// For a blocking project function: what moving it to a worker thread would do there.
    hazard: Option<&'p ThreadHazard>,
    /// For a call on an object a project helper made and handed to a `for` / `with`
    /// statement: the helper may run in a worker thread (`ProjectCall::Affine::maker_moves`).
    maker_moves: bool,
}

/// Add the finding of every codemod that matches the call.
fn offer_to_codemods(
    file: &FileContext,
    registry: &Registry,
    selection: &RuleSelection,
    library: Option<AsyncLibrary>,
    site: CallSite,
    findings: &mut Vec<Finding>,
) {
    let Some(reached) = what_the_call_reaches(file, registry, &site) else {
        return;
    };
    let facts = CallFacts::of(file, &site, &reached.qualified);
    for &i in reached.codemods {
        let codemod = registry.codemod(i);
        if codemod_applies(file, selection, codemod, &site, &reached, &facts) {
            let mut finding = make_finding(file, registry, library, &site, &reached, &facts, i);
            // A block moved to a worker thread: what its calls do there.
            let moved_call =
                matches!(codemod.strategy, Some(Strategy::ToThread)).then_some(site.call);
            let hazard = finding
                .fix
                .as_ref()
                .and_then(|fix| moved_block_hazard(file, registry, fix, moved_call));
            apply_hazard(
                hazard.as_ref(),
                &mut finding.fix,
                &mut finding.no_fix_reason,
            );
            findings.push(finding);
        }
    }
}

/// What the call reaches and the codemods wanting that; `None` when no codemod may match.
fn what_the_call_reaches<'r, 'p>(
    file: &FileContext,
    registry: &'r Registry,
    site: &CallSite<'_, 'p>,
) -> Option<Reached<'r, 'p>> {
    let written = || file.text[site.callee.byte_range()].to_owned();
    let mut chain = ("", "");
    let mut hops = None;
    let mut pinned = None;
    let mut returned = None;
    let mut hazard = None;
    let mut maker_moves = false;
    let (qualified, codemods) = match (&site.coroutine, site.project_call) {
        (Some(name), _) => (name.clone(), registry.coroutine_codemods()),
        (None, Some(ProjectCall::Coroutine)) => (written(), registry.coroutine_codemods()),
        (
            None,
            Some(ProjectCall::Blocking {
                chain: c,
                location,
                hops: all_hops,
                pinned: p,
                returned: r,
                hazard: h,
                ..
            }),
        ) => {
            if is_awaited(site.call) {
                // Awaiting a synchronous function's call awaits what it returns.
                return None;
            }
            chain = (c.as_str(), location.as_str());
            hops = Some(all_hops.as_slice());
            pinned = p.as_deref();
            returned = r.as_deref();
            hazard = h.as_ref();
            (written(), registry.blocking_codemods())
        }
        (
            None,
            Some(ProjectCall::Affine {
                qualified,
                pinned: p,
                member,
                maker_moves: moves,
            }),
        ) => {
            maker_moves = *moves;
            // `session = driver.session()` in the coroutine itself: the reason says so; in
            // the `with` block that makes it, the block moves whole.
            pinned = match (member, local_receiver(file, site.callee)) {
                (Some(_), Some(true)) => None,
                (Some(local), Some(false)) => Some(local.as_str()),
                _ => p.as_deref(),
            };
            (qualified.clone(), registry.for_call(qualified))
        }
        (
            None,
            None
            | Some(
                ProjectCall::SharedFile { .. }
                | ProjectCall::StartsNoWork { .. }
                | ProjectCall::EnteredAlone
                | ProjectCall::KeepsNothing
                | ProjectCall::CallerActs(_)
                | ProjectCall::Carried { .. },
            ),
        ) => {
            // A plain name can be an alias (`from time import sleep as nap`): only an
            // attribute's last segment is the real function name, so only attributes are
            // pre-filtered.
            if site.callee.kind_name() == "attribute" && !registry.cares_about_tail(site.tail) {
                return None;
            }
            let root = file.parsed.tree.root_node();
            let qualified = file.index.callable_name(site.callee, root, file.text)?;
            let codemods = registry.for_call(&qualified);
            (qualified, codemods)
        }
    };
    (!codemods.is_empty()).then_some(Reached {
        qualified,
        codemods,
        chain: chain.0,
        location: chain.1,
        hops,
        pinned,
        returned,
        hazard,
        maker_moves,
    })
}

/// Whether the receiver of `callee` (`session` of `session.run`, followed through its
/// members and calls) is a name bound in a function, not a module global: `Some(true)` for
/// the target of a `with ... as` of it.
fn local_receiver(file: &FileContext, callee: Node) -> Option<bool> {
    let mut node = callee;
    loop {
        node = match node.kind_name() {
            "attribute" => node.field(Field::Object),
            "call" => node.field(Field::Function),
            "subscript" => node.field(Field::Value),
            "parenthesized_expression" => node.named_child(0),
            _ => None,
        }
        .unwrap_or(node);
        if node.kind_name() == "identifier" {
            break;
        }
        if !matches!(
            node.kind_name(),
            "attribute" | "call" | "subscript" | "parenthesized_expression"
        ) {
            return None;
        }
    }
    let name = &file.text[node.byte_range()];
    let crate::semantic::Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte())
    else {
        return None;
    };
    let binding = file.index.binding(id);
    if !matches!(
        file.index.scope(binding.scope).kind,
        ScopeKind::Function { .. }
    ) {
        return None;
    }
    let root = file.parsed.tree.root_node();
    let mut at = root.descendant_for_byte_range(binding.range.start, binding.range.end);
    while let Some(node) = at {
        match node.kind_name() {
            "with_item" => return Some(true),
            "block" | "function_definition" | "expression_statement" => break,
            _ => at = node.parent(),
        }
    }
    Some(false)
}

/// For a call speculated to reach a blocking project function: what of it decides its fix
/// when the settled chain goes through a class.
fn speculated_reach(file: &FileContext, site: &CallSite) -> Option<ReachFacts> {
    let project = file.project?;
    matches!(site.project_call, Some(ProjectCall::Blocking { .. })).then(|| {
        let names = Names {
            file,
            module: project.module,
            map: project.map,
        };
        reach_facts(&names, site.call, site.callee)
    })
}

fn is_awaited(call: Node) -> bool {
    call.parent().is_some_and(|p| p.kind_name() == "await")
}

/// What the codemods' conditions and messages read of one call; the facts that walk the tree
/// around it are computed only when a codemod asks, at most once.
struct CallFacts {
    async_function: Option<ScopeId>,
    /// The name of the function the call is in, for messages.
    function_name: String,
    /// The callee on one line, single spaces, none around dots and brackets:
    /// `Path(a or b).exists`.
    callee_text: String,
    /// `await obj.method()` on an object believed synchronous: the belief (an annotation, an
    /// assignment) is wrong, since the result is awaitable; not a blocking call.
    awaited_method: bool,
    result_discarded: OnceCell<bool>,
    consumed_in_place: OnceCell<bool>,
}

impl CallFacts {
    fn of(file: &FileContext, site: &CallSite, qualified: &str) -> CallFacts {
        let offset = site.call.start_byte();
        let async_function = file.index.async_function_at(offset);
        let function_name = match async_function {
            Some(function) => file.index.scope(function).name.clone().unwrap_or_default(),
            None => enclosing_function_name(file.index, offset),
        };
        let callee_text = file.text[site.callee.byte_range()]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" .", ".")
            .replace(". ", ".")
            .replace("( ", "(")
            .replace(" )", ")");
        CallFacts {
            async_function,
            function_name,
            callee_text,
            awaited_method: qualified.contains("().") && is_awaited(site.call),
            result_discarded: OnceCell::new(),
            consumed_in_place: OnceCell::new(),
        }
    }

    fn result_discarded(&self, file: &FileContext, call: Node) -> bool {
        *self
            .result_discarded
            .get_or_init(|| is_result_discarded(file, call))
    }

    fn consumed_in_place(&self, file: &FileContext, call: Node) -> bool {
        *self
            .consumed_in_place
            .get_or_init(|| is_consumed_in_place(file, call))
    }
}

/// The name of the innermost function around `offset`, or `<module>`.
fn enclosing_function_name(index: &SemanticIndex, offset: usize) -> String {
    let mut id = index.scope_at(offset);
    loop {
        let scope = index.scope(id);
        match scope.kind {
            ScopeKind::Function { .. } => return scope.name.clone().unwrap_or_default(),
            ScopeKind::Lambda => return "<lambda>".to_owned(),
            ScopeKind::Class => return scope.name.clone().unwrap_or_default(),
            ScopeKind::Module => return "<module>".to_owned(),
            ScopeKind::Comprehension { .. } => match scope.parent {
                Some(parent) => id = parent,
                None => return "<module>".to_owned(),
            },
        }
    }
}

/// Whether `codemod` matches the call: the run enables it, the call is in the context it asks
/// for, and none of its exceptions applies.
fn codemod_applies(
    file: &FileContext,
    selection: &RuleSelection,
    codemod: &Codemod,
    site: &CallSite,
    reached: &Reached,
    facts: &CallFacts,
) -> bool {
    let call = site.call;
    !(!selection.is_enabled(&codemod.code, codemod.default_enabled)
        || (codemod.async_only && facts.async_function.is_none())
        || (codemod.result_discarded && !facts.result_discarded(file, call))
        || (codemod.lazy_calls.contains(&reached.qualified)
            && !facts.consumed_in_place(file, call))
        || (facts.awaited_method && codemod.async_only)
        || caught_by(file, call, &codemod.unless_caught)
        || mentions_any(file, call, &codemod.unless_arguments_mention)
        || is_non_blocking(file, call, &reached.qualified, &codemod.non_blocking)
        || follows_await_of(file, call, &codemod.unless_after_await_of))
}

/// The finding codemod number `i` of the registry makes of the call.
fn make_finding(
    file: &FileContext,
    registry: &Registry,
    library: Option<AsyncLibrary>,
    site: &CallSite,
    reached: &Reached,
    facts: &CallFacts,
    i: usize,
) -> Finding {
    let codemod = registry.codemod(i);
    let absolute_import = |qualified: &str| match file.project {
        Some(project) => crate::project::absolute_name(project.module, qualified),
        None => (!qualified.starts_with('.')).then(|| qualified.to_owned()),
    };
    let fix_site = Site {
        text: file.text,
        line_ending: file.line_ending,
        tree: &file.parsed.tree,
        index: file.index,
        call: site.call,
        callee: site.callee,
        qualified: &reached.qualified,
        library,
        target_version: file.target_version,
        http_client: file.http_client,
        codemod_calls: &codemod.calls,
        consumed_in_thread: codemod.consumed_in_thread.contains(&reached.qualified),
        offload_idioms: registry.offload_idioms(),
        thread_safe: registry.thread_safe(),
        absolute_import: &absolute_import,
        memo: &file.strategy_memo,
        line_limit: &file.line_limit,
    };
    // A kept result of a helper returning a thread-affine object it makes: moved to a
    // worker thread, the helper would hand that object back to the loop's thread (unless
    // the fix moves the whole `with` block using it, and nothing it made leaves the block).
    let result_kept = !facts.result_discarded(file, site.call)
        && !facts.async_function.is_some_and(|function| {
            moved_with_block(&fix_site)
                .is_some_and(|block| block_keeps_resource(file, function, block, site.call))
        });
    let returned = reached.returned.filter(|_| result_kept);
    let per_call = matches!(codemod.strategy, Some(Strategy::ToThread))
        .then(|| per_call_affinity(registry, &reached.qualified, &facts.callee_text))
        .flatten();
    // A block-moving fix of a call on a thread-affine object moves the whole unit of work
    // (make, use, close) or nothing.
    let affine = match (&codemod.strategy, facts.async_function) {
        (Some(Strategy::OffloadBlock), Some(function)) if moved_with_block(&fix_site).is_none() => {
            affine_call(file, registry, function, site.call)
        }
        _ => None,
    };
    // An object a project helper made and returned or yielded to a `for` / `with` statement
    // of the coroutine (`for conn in get_connection():`): that statement is the unit.
    let helper = match (&codemod.strategy, facts.async_function, reached.pinned) {
        (Some(Strategy::OffloadBlock), Some(function), Some(_)) => {
            helper_unit(file, function, site.callee, reached.maker_moves)
        }
        _ => None,
    };
    let pinned = reached.pinned.filter(|_| helper.is_none());
    let (unit, unit_reason) = match affine {
        _ if helper.is_some() => (helper, None),
        Some(AffineCall::Unit(unit)) => (Some(*unit), None),
        Some(AffineCall::Foreign) => (
            None,
            per_call_affinity(registry, &reached.qualified, &facts.callee_text),
        ),
        Some(AffineCall::Refused(reason)) => (None, Some(reason)),
        Some(AffineCall::Chain) | None => (None, None),
    };
    let (fix, no_fix_reason) = match pinned
        .map(str::to_owned)
        .or(per_call)
        .or(returned.map(str::to_owned))
        .or(unit_reason)
    {
        Some(reason) => (None, Some(reason)),
        None => match propose_fix(
            file,
            registry,
            codemod,
            &fix_site,
            &facts.callee_text,
            unit.as_ref(),
        ) {
            (Some(fix), reason) => match block_pinned(file, registry, &fix_site, facts) {
                Some(pinned) => (None, Some(pinned)),
                None => (Some(fix), reason),
            },
            unfixed => unfixed,
        },
    };
    // The statement could not move whole: the object's own reason stands.
    let no_fix_reason = match (&fix, pinned, reached.pinned) {
        (None, None, Some(object)) => Some(object.to_owned()),
        _ => no_fix_reason,
    };
    let (mut fix, mut no_fix_reason) = (fix, no_fix_reason);
    if codemod.moved_code.is_some() {
        // What the moved call does to a shared file is said at the call (`moved_block_hazard`),
        // with the file its arguments name: not twice.
        let at_call = || {
            matches!(codemod.strategy, Some(Strategy::ToThread))
                && moved_call_file_hazard(file, registry, site.call).is_some()
        };
        let hazard = reached
            .hazard
            .filter(|h| h.kind != HazardKind::SharedFile || !at_call());
        apply_hazard(hazard, &mut fix, &mut no_fix_reason);
    }
    // A new `await` inside a read-modify-write of shared state, or while the coroutine has
    // swapped process-wide state, is unsafe.
    let mut fix = fix.map(|fix| keep_read_modify_write(file, registry, site.call, fix));
    if let Some(fix) = &mut fix {
        keep_process_state(file, registry, site.call, fix);
        keep_state_check(file, registry, site.call, fix);
    }
    // A codemod without a fix states why, like every other finding without one.
    let no_fix_reason = match (&fix, no_fix_reason, &codemod.no_fix_reason) {
        (None, None, Some(reason)) => Some(render_with(reason, reached, facts)),
        (_, reason, _) => reason,
    };
    let speculation = site.speculation.map(|target| {
        speculation_for(
            target,
            site.project_call,
            i,
            (&facts.callee_text, &reached.qualified, &facts.function_name),
            result_kept,
            speculated_reach(file, site),
        )
    });
    Finding {
        code: codemod.code.clone(),
        rule_name: codemod.name.clone(),
        message: render_message(codemod, reached, facts),
        range: site.call.byte_range(),
        fix,
        no_fix_reason,
        later_round: None,
        speculation,
        chain: reached.hops.map(|hops| {
            Box::new(Chain {
                function: facts.function_name.clone(),
                call: call_text(&file.text[site.call.byte_range()]),
                hops: hops.to_vec(),
            })
        }),
    }
}

/// Why one call, moved to a worker thread on its own, would break a thread-affine object: it
/// makes one (`webdriver.Chrome()`: the driver would be made in the worker and used on the
/// loop's thread), or it is a method of one (`driver.get(url)`). The whole unit of work
/// (make, use, close) moves as one function instead (UNF401 moves such a helper).
fn per_call_affinity(registry: &Registry, qualified: &str, callee: &str) -> Option<String> {
    let (kind, made_here) = match qualified.rsplit_once("().") {
        Some((kind, _)) if registry.thread_affine(kind).is_some() => (kind, false),
        _ => (qualified, true),
    };
    let (family, label) = registry.thread_affine(kind)?;
    let what = if made_here {
        format!(
            "`{callee}` makes a {label}, which would be made in a worker thread and used on the event loop's"
        )
    } else {
        format!(
            "`{callee}` is a call on a {label}, which one call moved on its own would use from another thread"
        )
    };
    Some(format!(
        "{what}: {}. Instead: {}",
        family.why, family.remedy
    ))
}

/// Why the `with` block a fix would move to a worker thread must stay on the event loop's
/// thread: it uses a thread-affine object it did not make (a connection made before it).
fn block_pinned(
    file: &FileContext,
    registry: &Registry,
    site: &Site,
    facts: &CallFacts,
) -> Option<String> {
    let function = facts.async_function?;
    let block = moved_with_block(site)?;
    if let Some(affinity) = foreign_affine_use_in_block(file, registry, function, block) {
        return Some(format!(
            "the `with` block uses {} (line {}), so it is not moved to a worker thread: {}. \
             Instead: {}",
            affinity.object, affinity.line, affinity.why, affinity.remedy
        ));
    }
    // What the block makes and the coroutine reads after it would come back to the loop's
    // thread: a thread-affine object, or the result of a helper returning one.
    let returned_reason = |call: Node| -> Option<String> {
        let project = file.project?;
        let ProjectLookup::Settled(calls) = project.lookup else {
            return None;
        };
        let callee = call.field(Field::Function)?;
        let target = call_target(file, project.module, project.map, callee)?;
        match calls.get(&target)? {
            ProjectCall::Blocking { returned, .. } => returned.clone(),
            _ => None,
        }
    };
    affine_leaving_block(file, registry, function, block, &returned_reason)
}

/// The codemod's message for the call (a fix exception for its name may bring its own).
fn render_message(codemod: &Codemod, reached: &Reached, facts: &CallFacts) -> String {
    let template = codemod
        .fix_exceptions
        .get(&reached.qualified)
        .and_then(|exception| exception.message.as_ref())
        .unwrap_or(&codemod.message);
    render_with(template, reached, facts)
}

/// A message-like template with the call's placeholders filled in.
fn render_with(template: &Template, reached: &Reached, facts: &CallFacts) -> String {
    template.render(|name| match name {
        "callee" => facts.callee_text.clone(),
        "qualified" => reached.qualified.clone(),
        "function" => facts.function_name.clone(),
        "chain" => reached.chain.to_owned(),
        "location" => reached.location.to_owned(),
        _ => String::new(),
    })
}
