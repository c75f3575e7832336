//! A project coroutine an entry file runs alone on a new loop: `find_posts.py` does
//! `asyncio.run(main(parse_arguments()))` with `main` imported from `fedifetcher/main.py`
//! ([`FileSummary::entry_runs`](super::FileSummary::entry_runs)). The file defining it is
//! told ([`ProjectCall::EnteredAlone`] keyed [`ENTERED_ALONE_PREFIX`] and the coroutine's
//! absolute name) and treats it as its entry coroutine, as if the entry call were its own
//! (`analyze/entry.rs`). Only when nothing else in the project may run it beside other work:
//! no other file calls it, imports it (but a package's `__init__.py` re-exporting it), or
//! imports its module or a package above it (`import fedifetcher` then
//! `fedifetcher.main.main()`). A doubt keeps the hops.

use super::{Functions, ProjectCall, ProjectCalls, ProjectFile};

/// How an entered-alone key of [`ProjectCalls`] starts: `\0entered-alone:fedifetcher.main.main`.
pub const ENTERED_ALONE_PREFIX: &str = "\u{0}entered-alone:";

/// The key telling a file that an entry file runs its coroutine `function` (absolute name)
/// alone on a new loop.
pub fn entered_alone_key(function: &str) -> String {
    format!("{ENTERED_ALONE_PREFIX}{function}")
}

impl Functions<'_> {
    /// Per file, the qualnames of its module-level coroutines another file runs alone.
    pub(super) fn entered_alone(&self) -> Vec<Vec<String>> {
        let files = self.files;
        let mut entered: Vec<Vec<String>> = vec![Vec::new(); files.len()];
        for (e, entry) in files.iter().enumerate() {
            for target in &entry.summary.entry_runs {
                let Some(id) = self.resolve(target) else {
                    continue;
                };
                let (home, _) = self.ids[id];
                let function = self.function(id);
                if !function.is_async || home == e || function.qualname.contains('.') {
                    continue;
                }
                let mentioned = files
                    .iter()
                    .enumerate()
                    .any(|(f, other)| f != e && f != home && self.may_run(other, id, home));
                if !mentioned && !entered[home].contains(&function.qualname) {
                    entered[home].push(function.qualname.clone());
                }
            }
        }
        entered
    }

    /// Whether `file` may run the coroutine `id` (defined in file `home`): it calls it, or
    /// imports it, its module or a package above it (a package's `__init__.py` may import
    /// them: it re-exports).
    fn may_run(&self, file: &ProjectFile, id: usize, home: usize) -> bool {
        let modules = &self.files[home].module.names;
        let calls = file
            .summary
            .targets
            .iter()
            .any(|t| self.resolve(t) == Some(id));
        let imports = !file.module.is_package
            && file.summary.imports.iter().any(|(_, absolute)| {
                self.resolve(absolute) == Some(id)
                    || modules.iter().any(|m| {
                        m == absolute
                            || m.strip_prefix(absolute.as_str())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
            });
        calls || imports
    }

    /// The entered-alone keys of the file's coroutines.
    pub(super) fn insert_entered_alone(
        &self,
        file: &ProjectFile,
        entered: &[String],
        calls: &mut ProjectCalls,
    ) {
        for module in &file.module.names {
            for qualname in entered {
                calls.insert(
                    entered_alone_key(&format!("{module}.{qualname}")),
                    ProjectCall::EnteredAlone,
                );
            }
        }
    }
}
