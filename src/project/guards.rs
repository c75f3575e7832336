//! Blocking chains that run only under a parameter test (`if markers is None:`): settled with
//! the calls that reach them, so a function blocks unconditionally, only when a parameter of
//! its own is left out (`None`, or falsy), or not at all where every call passes that
//! argument. Each function's state only rises (nothing → guarded → unconditional), so the
//! settling is linear in the calls.

use super::{FunctionSummary, Link, ParamGuard, Passed};

/// How a settled function blocks: through `link`, always (`guard: None`) or only when the
/// argument `guard` names is left out.
#[derive(Clone, Debug)]
pub(super) struct Blocks {
    pub link: Link,
    pub guard: Option<ParamGuard>,
}

/// What one caller gains from a blocking callee.
enum Gain {
    Nothing,
    Guarded(ParamGuard),
    Always,
}

impl Gain {
    fn join(self, other: Gain) -> Gain {
        match (self, other) {
            (Gain::Nothing, g) | (g, Gain::Nothing) => g,
            (Gain::Guarded(a), Gain::Guarded(b)) if a == b => Gain::Guarded(a),
            _ => Gain::Always,
        }
    }

    fn of(guard: Option<&ParamGuard>) -> Gain {
        guard.map_or(Gain::Always, |g| Gain::Guarded(g.clone()))
    }
}

/// Settle from the `roots` (functions blocking by themselves) up through `callers`
/// (`(caller, index of the callee's name in the caller's file's targets)` per callee).
pub(super) fn settle_blocking<'a>(
    function: impl Fn(usize) -> &'a FunctionSummary,
    roots: Vec<(usize, Blocks)>,
    callers: &[Vec<(usize, u32)>],
) -> Vec<Option<Blocks>> {
    let mut states: Vec<Option<Blocks>> = vec![None; callers.len()];
    let mut pending = Vec::new();
    for (id, blocks) in roots {
        states[id] = Some(blocks);
        pending.push(id);
    }
    while let Some(callee) = pending.pop() {
        let callee_guard = states[callee].as_ref().and_then(|s| s.guard.clone());
        for &(caller, target) in &callers[callee] {
            let gain = gain(function(caller), target, callee_guard.as_ref());
            let current = states[caller].as_ref().map(|s| match &s.guard {
                None => Gain::Always,
                Some(g) => Gain::Guarded(g.clone()),
            });
            let joined = match current {
                Some(current) => current.join(gain),
                None => gain,
            };
            let guard = match joined {
                Gain::Nothing => continue,
                Gain::Guarded(g) => Some(g),
                Gain::Always => None,
            };
            let risen = match &states[caller] {
                None => true,
                Some(state) => state.guard.is_some() && state.guard != guard,
            };
            if risen {
                states[caller] = Some(Blocks {
                    link: Link::Via { callee, target },
                    guard,
                });
                pending.push(caller);
            }
        }
    }
    states
}

/// What `caller` gains from its calls of `target`, a callee blocking always
/// (`callee_guard: None`) or only when the argument `callee_guard` names is left out.
fn gain(caller: &FunctionSummary, target: u32, callee_guard: Option<&ParamGuard>) -> Gain {
    let mut sites = caller
        .call_sites
        .iter()
        .filter(|site| site.target == target)
        .peekable();
    if sites.peek().is_none() {
        // Only calls with nothing known of them.
        return Gain::Always;
    }
    sites.fold(Gain::Nothing, |gained, site| {
        let Some(guard) = callee_guard else {
            return gained.join(Gain::of(site.guard.as_ref()));
        };
        let passed = site.args.iter().find(|arg| {
            arg.keyword.as_deref() == Some(guard.name.as_str())
                || (arg.position.is_some() && arg.position == guard.position)
        });
        let this = match passed.map(|arg| &arg.value) {
            Some(Passed::Truthy) => Gain::Nothing,
            Some(Passed::NotNone) if !guard.falsy => Gain::Nothing,
            // The caller's own parameter passed on: the chain runs when that is left out
            // (and the call's own test, when it has one, holds too: either one suffices).
            Some(Passed::Param(own)) => Gain::Guarded(site.guard.clone().unwrap_or(ParamGuard {
                falsy: guard.falsy,
                ..own.clone()
            })),
            _ => Gain::of(site.guard.as_ref()),
        };
        gained.join(this)
    })
}
