//! Files as state shared across modules: the project-wide view of the files the summarized
//! functions read and write through shared names ([`FileUse`], keyed the same in every
//! module). Moved code (a project function a fix runs in a worker thread, or a block or a call
//! a coroutine moves there) that writes a file another module reads or writes, or reads a file
//! another module writes in place, races with that module: on the event loop's thread the two
//! never interleave, in a worker thread a reader can see the file half-written and two writers
//! can corrupt it. Built once, in one pass over the summaries; each question is answered from
//! the first two modules of each kind of use, so it costs the same however many modules use a
//! file.

use std::collections::HashMap;

use super::hazard::ANOTHER_MODULE;
use super::{FileSummary, FileUse, HazardKind, ProjectCall, ProjectFile, ThreadHazard};

/// How a file key of [`super::ProjectCalls`] starts: `file:mainbank.json`. No call target
/// (a dotted name) has a colon.
pub const SHARED_FILE_PREFIX: &str = "file:";

/// One use of a file: `(file, function, use)` indexes.
type Site = (usize, usize, usize);

/// The first uses of a file by each kind, from two different modules at most (enough to find
/// one that is not the asking module's).
#[derive(Default)]
struct Sides {
    readers: Vec<Site>,
    writers: Vec<Site>,
}

impl Sides {
    fn add(list: &mut Vec<Site>, site: Site) {
        if list.len() < 2 && list.iter().all(|s| s.0 != site.0) {
            list.push(site);
        }
    }
}

/// The files the project's summarized functions read and write, by key.
pub(super) struct ProjectFiles<'a> {
    files: &'a [ProjectFile],
    by_key: HashMap<&'a str, Sides>,
}

impl<'a> ProjectFiles<'a> {
    pub(super) fn new(files: &'a [ProjectFile]) -> Self {
        let mut by_key: HashMap<&str, Sides> = HashMap::new();
        for (f, file) in files.iter().enumerate() {
            for (i, function) in file.summary.functions.iter().enumerate() {
                // A database's statements race only as a read then a write (`carried.rs`).
                for (u, used) in function
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| !u.database)
                {
                    let sides = by_key.entry(used.key.as_str()).or_default();
                    match (used.write, used.atomic) {
                        (false, _) => Sides::add(&mut sides.readers, (f, i, u)),
                        (true, false) => Sides::add(&mut sides.writers, (f, i, u)),
                        // A file replaced whole: a reader sees the old or the new contents.
                        (true, true) => {}
                    }
                }
            }
        }
        ProjectFiles { files, by_key }
    }

    /// "`get_bank_data` in open_acc.py:20" for a use.
    fn named(&self, (f, i, u): Site) -> String {
        let file = &self.files[f];
        let function = &file.summary.functions[i];
        format!(
            "`{}` in {}:{}",
            function.qualname, file.display_path, function.files[u].line
        )
    }

    /// Another module's first reader and in-place writer of `key` than module `file`.
    fn elsewhere(&self, key: &str, file: usize) -> (Option<String>, Option<String>) {
        let Some(sides) = self.by_key.get(key) else {
            return (None, None);
        };
        let first = |list: &[Site]| list.iter().find(|s| s.0 != file).map(|&s| self.named(s));
        (first(&sides.readers), first(&sides.writers))
    }

    /// What a use in module `file` races with in another module, for a message
    /// ([`race_message`]).
    fn race(&self, file: usize, used: &FileUse) -> Option<String> {
        let (reader, writer) = self.elsewhere(&used.key, file);
        let shown = format!("`{}`", used.key);
        race_message(
            &shown,
            (used.write, used.deletes, used.atomic),
            reader,
            writer,
        )
    }

    /// The first race with another module of function `function` of module `file`, moved to
    /// a worker thread.
    pub(super) fn hazard(&self, file: usize, function: usize) -> Option<ThreadHazard> {
        let summary = &self.files[file].summary.functions[function];
        summary
            .files
            .iter()
            .filter(|used| !used.database)
            .find_map(|used| self.race(file, used))
            .map(|what| ThreadHazard {
                kind: HazardKind::SharedFile,
                function: summary.qualname.clone(),
                what,
                moved_with: None,
            })
    }

    /// For module `file`'s second pass: the files its coroutines read or write that another
    /// module races with, by `file:` key, with that module's first reader and in-place
    /// writer (the analysis decides which side a moved block or call races with).
    pub(super) fn coroutine_files(
        &self,
        file: usize,
        summary: &FileSummary,
    ) -> HashMap<String, ProjectCall> {
        let mut found = HashMap::new();
        for function in summary.functions.iter().filter(|f| f.is_async) {
            for used in function.files.iter().filter(|used| !used.database) {
                let key = format!("{SHARED_FILE_PREFIX}{}", used.key);
                if found.contains_key(&key) || self.race(file, used).is_none() {
                    continue;
                }
                let (reader, writer) = self.elsewhere(&used.key, file);
                found.insert(key, ProjectCall::SharedFile { reader, writer });
            }
        }
        found
    }
}

/// What a read or a write (`write`, replacing the file whole: `atomic`, removing it:
/// `deletes`) of the file `shown` in a worker thread races with, given another module's first
/// `reader` and in-place `writer`: "writes the file `mainbank.json`, which `get_bank_data` in
/// open_acc.py:20 (another module) reads: ...". An in-place write or a delete races with any
/// reader or writer, a read with an in-place writer, a write replacing the file whole with none.
pub fn race_message(
    shown: &str,
    (write, deletes, atomic): (bool, bool, bool),
    reader: Option<String>,
    writer: Option<String>,
) -> Option<String> {
    match (write, atomic, reader, writer) {
        (true, true, ..) => None,
        (true, false, Some(reader), _) if deletes => Some(format!(
            "deletes the file {shown}, which {reader} {ANOTHER_MODULE} reads: on the event \
             loop's thread the two never interleave, but while this delete runs in a worker \
             thread that read can find the file gone"
        )),
        (true, false, None, Some(writer)) if deletes => Some(format!(
            "deletes the file {shown}, which {writer} {ANOTHER_MODULE} writes: on the event \
             loop's thread the two never interleave, but while this delete runs in a worker \
             thread it can remove the file that writer is still writing"
        )),
        (true, false, Some(reader), _) => Some(format!(
            "writes the file {shown}, which {reader} {ANOTHER_MODULE} reads: on the event \
             loop's thread the two never interleave, but while this write runs in a worker \
             thread that read can see the file half-written"
        )),
        (true, false, None, Some(writer)) => Some(format!(
            "writes the file {shown}, which {writer} {ANOTHER_MODULE} writes too: in worker \
             threads the two writes can interleave and leave the file corrupted"
        )),
        (false, _, _, Some(writer)) => Some(format!(
            "reads the file {shown}, which {writer} {ANOTHER_MODULE} writes: in a worker \
             thread this read can see the file half-written"
        )),
        _ => None,
    }
}
