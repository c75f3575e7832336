//! Functions that block only on their first call (`FunctionSummary::once`: a cached function,
//! a lazy getter), and the functions blocking only through them: the blocking settled a
//! second time without what runs only once, so a function blocking in the first settling and
//! not in this one blocks once, at start-up, not on every call. A coroutine's call of one
//! keeps its finding (it does block, the first time) but gets no thread hop: a hop on every
//! later call would cost a thread round trip for what is by then a lookup.

use super::guards::{self, Blocks};
use super::{Functions, Link, MAX_CHAIN, OnceOnly};

/// Which functions block on every call, when some function of the project blocks only once.
pub(super) struct OnceSettled {
    always: Option<Vec<bool>>,
}

impl OnceSettled {
    /// Settle the blocking again from `roots` and `calls_to` (as `guards::settle_blocking`
    /// takes them), leaving out what runs only on a function's first call.
    pub(super) fn new(
        functions: &Functions,
        roots: &[(usize, Blocks)],
        calls_to: &[Vec<(usize, u32)>],
    ) -> Self {
        let once = |id: usize| functions.function(id).once.as_ref();
        if !(0..calls_to.len()).any(|id| once(id).is_some()) {
            return OnceSettled { always: None };
        }
        let roots = roots
            .iter()
            .filter(|(id, blocks)| {
                // A use of an imported thread-affine object is no call of its own body.
                let own = matches!(&blocks.link, Link::Direct(evidence)
                    if functions.function(*id).direct.as_ref() == Some(evidence));
                once(*id).is_none_or(|o| !(o.whole || (o.direct && own)))
            })
            .cloned()
            .collect();
        let calls_to: Vec<Vec<(usize, u32)>> = calls_to
            .iter()
            .map(|callers| {
                callers
                    .iter()
                    .filter(|(caller, target)| {
                        once(*caller).is_none_or(|o| !o.whole && !o.calls.contains(target))
                    })
                    .copied()
                    .collect()
            })
            .collect();
        let settled = guards::settle_blocking(|id| functions.function(id), roots, &calls_to);
        OnceSettled {
            always: Some(settled.iter().map(Option::is_some).collect()),
        }
    }

    /// For a blocking function (`links`: the first settling's), why a call of it gets no
    /// thread hop when it blocks only on its first call, or only through such a function.
    pub(super) fn reason(
        &self,
        functions: &Functions,
        links: &[Option<&Link>],
        callee: usize,
    ) -> Option<String> {
        if self.always.as_ref()?[callee] {
            return None;
        }
        let mut names = Vec::new();
        let mut id = callee;
        while names.len() < MAX_CHAIN {
            let function = functions.function(id);
            names.push(function.qualname.clone());
            let link = links[id]?;
            if let Some(once) = &function.once {
                let here = once.whole
                    || match link {
                        Link::Direct(_) => once.direct,
                        Link::Via { target, .. } => once.calls.contains(target),
                    };
                if here {
                    return Some(message(&names, once));
                }
            }
            match link {
                Link::Via { callee, .. } => id = *callee,
                Link::Direct(_) => break,
            }
        }
        Some(format!(
            "`{}()` blocks only on its first call (what it calls keeps its result): call it \
             once at start-up instead of moving every later call to a worker thread",
            names[0]
        ))
    }
}

fn message(names: &[String], once: &OnceOnly) -> String {
    let why = &once.why;
    match names {
        [only] => format!(
            "`{only}()` blocks only on its first call ({why}): call it once at start-up \
             instead of moving every later call to a worker thread"
        ),
        [first, .., last] => format!(
            "`{first}()` blocks only through `{last}()`, which blocks only on its first call \
             ({why}): call it once at start-up instead of moving every later call to a worker \
             thread"
        ),
        [] => String::new(),
    }
}
