//! Speculation for the project phase: in the first pass, before the project is settled, a
//! call that may reach a project coroutine or blocking function is analyzed once per outcome;
//! the settling keeps the findings of the outcome that holds.

use serde::{Deserialize, Serialize};

use super::Finding;
use super::receivers::{ReachFacts, apply_reach, leaf_exception};
use super::side_effects::apply_hazard;
use crate::codemod::Registry;
use crate::project::{ProjectCall, ProjectCalls, keeps_nothing_key};

/// The outcome of the project phase a call was analyzed under, before the project was
/// settled: a call whose target may reach a project coroutine or blocking function is analyzed
/// once per outcome, and only the findings of the settled one are kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Speculation {
    /// The absolute name the call resolves to (a key of [`crate::project::ProjectCalls`]).
    pub target: String,
    pub outcome: Outcome,
}

/// What a project call may turn out to reach.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Neither: the call is matched as any other.
    Neither,
    /// A project coroutine function.
    Coroutine,
    /// A blocking project function. The message is rendered once the chain is known, from
    /// what the call gave it.
    Blocking {
        codemod: usize,
        callee: String,
        qualified: String,
        function: String,
        /// The call's result is kept (not a statement of its own, nor assigned to a name
        /// nothing reads): a function returning a thread-affine object gets no fix.
        #[serde(default)]
        result_kept: bool,
        /// What of the call decides its fix when the chain goes through a class (a
        /// constructor, a method of a shared object): decided with the settled chain, as a
        /// pass with the settled calls decides it (`receivers::reach_fix`).
        #[serde(default)]
        reach: Option<Box<ReachFacts>>,
    },
}

/// Keep the findings of a speculative first pass that hold under what the project phase
/// settled for the file (`calls`; `None`: no project call reaches anything), with their
/// messages rendered, in their order.
pub fn settle_speculation(
    findings: Vec<Finding>,
    calls: Option<&ProjectCalls>,
    registry: &Registry,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            let Some(speculation) = finding.speculation.take() else {
                return Some(finding);
            };
            let settled = calls.and_then(|calls| calls.get(&speculation.target));
            match (speculation.outcome, settled) {
                (Outcome::Neither, None) | (Outcome::Coroutine, Some(ProjectCall::Coroutine)) => {
                    Some(finding)
                }
                (
                    Outcome::Blocking {
                        codemod,
                        callee,
                        qualified,
                        function,
                        result_kept,
                        reach,
                    },
                    Some(ProjectCall::Blocking {
                        chain,
                        location,
                        hops,
                        pinned,
                        returned,
                        hazard,
                        unless_passed: None,
                    }),
                ) => {
                    let rule = registry.codemod(codemod);
                    let returned = returned.as_ref().filter(|_| result_kept);
                    if let Some(reason) = pinned.as_ref().or(returned) {
                        finding.fix = None;
                        finding.no_fix_reason = Some(reason.clone());
                    } else if rule.moved_code.is_some() {
                        apply_hazard(
                            hazard.as_ref(),
                            &mut finding.fix,
                            &mut finding.no_fix_reason,
                        );
                    }
                    let first_hop = chain.split(" -> ").next().unwrap_or_default();
                    // A receiver whose class keeps nothing shares nothing through itself.
                    let keeps_nothing =
                        speculation
                            .target
                            .rsplit_once('.')
                            .is_some_and(|(class, _)| {
                                calls.is_some_and(|c| c.contains_key(&keeps_nothing_key(class)))
                            });
                    if let Some(reach) =
                        reach.and_then(|r| r.decide(first_hop, false, keeps_nothing))
                    {
                        apply_reach(&reach, &mut finding.fix, &mut finding.no_fix_reason);
                    }
                    if let Some(reach) = leaf_exception(registry, chain) {
                        apply_reach(&reach, &mut finding.fix, &mut finding.no_fix_reason);
                    }
                    if let Some(shown) = &mut finding.chain {
                        shown.hops.clone_from(hops);
                    }
                    finding.message = rule.message.render(|name| match name {
                        "callee" => callee.clone(),
                        "qualified" => qualified.clone(),
                        "function" => function.clone(),
                        "chain" => chain.clone(),
                        "location" => location.clone(),
                        _ => String::new(),
                    });
                    Some(finding)
                }
                _ => None,
            }
        })
        .collect()
}

/// The speculation a finding of codemod `codemod` was made under: the call's `target`
/// assumed to reach `project_call`. For a blocking project function, what renders its message
/// once the chain is known.
pub(super) fn speculation_for(
    target: &str,
    project_call: Option<&ProjectCall>,
    codemod: usize,
    (callee, qualified, function): (&str, &str, &str),
    result_kept: bool,
    reach: Option<ReachFacts>,
) -> Box<Speculation> {
    let outcome = match project_call {
        // Calls on imported thread-affine objects are never speculated on.
        None
        | Some(
            ProjectCall::Affine { .. }
            | ProjectCall::SharedFile { .. }
            | ProjectCall::StartsNoWork { .. }
            | ProjectCall::EnteredAlone
            | ProjectCall::KeepsNothing
            | ProjectCall::CallerActs(_)
            | ProjectCall::Carried { .. },
        ) => Outcome::Neither,
        Some(ProjectCall::Coroutine) => Outcome::Coroutine,
        Some(ProjectCall::Blocking { .. }) => Outcome::Blocking {
            codemod,
            callee: callee.to_owned(),
            qualified: qualified.to_owned(),
            function: function.to_owned(),
            result_kept,
            reach: reach.map(Box::new),
        },
    };
    Box::new(Speculation {
        target: target.to_owned(),
        outcome,
    })
}
