//! Results written as they are ready (`fix --write`): a file whose outcome is final is
//! written by the parallel pass that finished it, so a slow or huge file never keeps the
//! others from being written. Only once nothing later in the run reads the file again: the
//! passes of the project phase read files from disk (`run/project.rs` says where it writes).
//! The reporter still gets every file, in sorted order, after the run; a file no pass wrote
//! (a run replayed from the cache) is written then, as before.

use std::path::Path;
use std::sync::OnceLock;

use crate::outcome::FileOutcome;
use crate::write::write_atomically;

/// The writes made during the analysis, one slot per discovered file.
pub(super) struct AsReady {
    writes: bool,
    /// Per file, once it was handed over: the write's error, if it failed.
    done: Vec<OnceLock<Option<String>>>,
}

impl AsReady {
    /// `writes`: the run writes the fixed files (`fix --write`); else nothing is written.
    pub(super) fn new(files: usize, writes: bool) -> AsReady {
        let mut done = Vec::new();
        if writes {
            done.resize_with(files, OnceLock::new);
        }
        AsReady { writes, done }
    }

    /// The outcome of the file `i` (at `path`) is final and nothing later in the run reads
    /// the file: its fixed text, if any, is written now. A second call for the same file
    /// does nothing.
    pub(super) fn finished(&self, i: usize, path: &Path, outcome: &FileOutcome) {
        if self.writes {
            self.done[i].get_or_init(|| write_fixed(path, outcome));
        }
    }

    /// Whether the file `i` was handed over, and then the write's error, if it failed.
    pub(super) fn take(&mut self, i: usize) -> Option<Option<String>> {
        self.done.get_mut(i)?.take()
    }
}

/// Write a file's fixed text, if its outcome has one; the error, if the write failed.
pub(super) fn write_fixed(path: &Path, outcome: &FileOutcome) -> Option<String> {
    let FileOutcome::Checked {
        fixed: Some(fixed), ..
    } = outcome
    else {
        return None;
    };
    write_atomically(path, &fixed.bytes, fixed.read_as)
        .err()
        .map(|err| err.to_string())
}
