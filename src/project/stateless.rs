//! Which receivers keep nothing: a module-level instance (or a class, for `self.repo` holding
//! one; or the object a library finds by name, `named.rs`) whose class and every project base keep nothing of their own
//! (`analyze/class_state.rs`). A method called on one, moved to a worker thread, shares
//! nothing with the coroutines on the loop through the object; told to each file as
//! [`ProjectCall::KeepsNothing`] keyed [`KEEPS_NOTHING_PREFIX`] and the receiver's name.

use std::collections::{HashMap, HashSet};

use super::{Functions, MAX_REEXPORT_HOPS, ProjectCall, ProjectCalls, ProjectFile};

/// How a keeps-nothing key of [`ProjectCalls`] starts: `\0keeps-nothing:app.cog.ACCOUNTS`.
pub const KEEPS_NOTHING_PREFIX: &str = "\u{0}keeps-nothing:";

/// The key saying the receiver `owner` (the absolute name a call's target has before its
/// method) keeps nothing.
pub fn keeps_nothing_key(owner: &str) -> String {
    format!("{KEEPS_NOTHING_PREFIX}{owner}")
}

/// Every class keeping nothing of its own, by absolute name.
pub(super) fn stateless_classes(files: &[ProjectFile]) -> HashMap<String, ()> {
    let mut found = HashMap::new();
    for file in files {
        for name in &file.module.names {
            for class in &file.summary.stateless_classes {
                found.insert(format!("{name}.{class}"), ());
            }
        }
    }
    found
}

impl Functions<'_> {
    /// Whether the class `class` and every project base of it keep nothing.
    fn class_keeps_nothing(&self, class: &str, depth: usize) -> bool {
        if depth > MAX_REEXPORT_HOPS || self.resolve_in(class, &self.stateless).is_none() {
            return false;
        }
        self.resolve_in(class, &self.classes).is_some_and(|bases| {
            bases
                .iter()
                .all(|base| self.class_keeps_nothing(base, depth + 1))
        })
    }

    /// The keeps-nothing keys of a file's call targets: a receiver that is a module-level
    /// instance, or a class, keeping nothing.
    pub(super) fn insert_stateless(&self, file: &ProjectFile, calls: &mut ProjectCalls) {
        let mut seen = HashSet::new();
        for target in &file.summary.targets {
            let Some((owner, _)) = target.rsplit_once('.') else {
                continue;
            };
            if !seen.insert(owner) {
                continue;
            }
            let named = super::named::resolve_named(&self.named, owner);
            let class = match (self.resolve_in(owner, &self.instances), &named) {
                (Some(made), _) => made,
                (None, Some(looked_up)) => looked_up.as_str(),
                (None, None) => owner,
            };
            if self.class_keeps_nothing(class, 0) {
                calls.insert(keeps_nothing_key(owner), ProjectCall::KeepsNothing);
            }
        }
    }
}
