//! Coroutine methods a synchronous wrapper runs on a new loop (`asyncio.run(self.fetch_async())`,
//! [`FileSummary::wrapped_entries`]): the file's analysis checked that the file mentions
//! each nowhere else; here the run checks every other file of the project, as text: a
//! coroutine method that no other file names at all (no call, no callback, no `getattr`
//! string; a comment naming it counts too) cannot be awaited or scheduled beside other work,
//! so it is an entry coroutine of its own file (`ProjectCall::EnteredAlone`, read by
//! `analyze/entry.rs`). The files read are the run's and every Python file under the
//! directory the file's top package is imported from (a run on one file still sees its
//! neighbours). A file that cannot be read is a doubt.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::discover::discover;
use crate::project::{ProjectCall, ProjectCalls, ProjectFile, entered_alone_key};

/// Inserts the entered-alone key of each wrapped entry no other file mentions into its
/// file's settled calls (`settled[k]`, `project_files[k]`'s, whose path is `files[owners[k]]`).
/// Every other file of the run is read.
pub(super) fn admit_wrapped_entries(
    files: &[PathBuf],
    (project_files, owners): (&[ProjectFile], &[usize]),
    settled: &mut [Option<ProjectCalls>],
) {
    // (index in `project_files`, module names, qualname, method name)
    let wanted: Vec<(usize, &[String], &str, &str)> = project_files
        .iter()
        .enumerate()
        .flat_map(|(k, file)| {
            file.summary.wrapped_entries.iter().map(move |qualname| {
                let name = qualname.rsplit('.').next().unwrap_or(qualname);
                (k, &file.module.names[..], qualname.as_str(), name)
            })
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    // The run's files, and every Python file under the directory each home file's top
    // package is imported from (a run on one file still sees the modules beside it).
    let mut roots: Vec<PathBuf> = wanted
        .iter()
        .filter_map(|&(k, ..)| import_root(&files[owners[k]]))
        .collect();
    roots.sort();
    roots.dedup();
    // One spelling per file (`pkg/a.py` named, `./pkg/a.py` walked).
    let canonical = |path: &PathBuf| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
    let mut read: Vec<PathBuf> = files.iter().map(canonical).collect();
    read.extend(discover(&roots, &[], None).files.iter().map(canonical));
    read.sort();
    read.dedup();
    let homes: Vec<usize> = wanted
        .iter()
        .map(|&(k, ..)| {
            let home = canonical(&files[owners[k]]);
            read.iter()
                .position(|path| *path == home)
                .unwrap_or(usize::MAX)
        })
        .collect();
    // Per file, which of the names it mentions (all of them when it cannot be read).
    let mentions: Vec<Vec<bool>> = read
        .par_iter()
        .map(|path| match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                wanted
                    .iter()
                    .map(|&(_, _, _, name)| mentions_word(&text, name))
                    .collect()
            }
            Err(_) => vec![true; wanted.len()],
        })
        .collect();
    for (w, &(k, modules, qualname, _)) in wanted.iter().enumerate() {
        let elsewhere = mentions
            .iter()
            .enumerate()
            .any(|(f, found)| f != homes[w] && found[w]);
        if elsewhere {
            continue;
        }
        let file_calls = settled[k].get_or_insert_with(ProjectCalls::default);
        for module in modules {
            file_calls.insert(
                entered_alone_key(&format!("{module}.{qualname}")),
                ProjectCall::EnteredAlone,
            );
        }
    }
}

/// The directory a file's top package is imported from: its own directory, or the parent of
/// the outermost directory holding an `__init__.py` above it.
fn import_root(path: &Path) -> Option<PathBuf> {
    let mut dir = path.parent()?.to_path_buf();
    while dir.join("__init__.py").is_file() {
        match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => dir = parent.to_path_buf(),
            _ => return Some(PathBuf::from(".")),
        }
    }
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    Some(dir)
}

/// Whether `name` occurs in `text` as a whole word (not inside a longer identifier).
fn mentions_word(text: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_word)
            && !text[at + name.len()..].chars().next().is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::mentions_word;

    #[test]
    fn a_word_is_not_part_of_a_longer_name() {
        assert!(mentions_word("await f.fetch_async()", "fetch_async"));
        assert!(mentions_word("getattr(f, \"fetch_async\")", "fetch_async"));
        assert!(!mentions_word("f.fetch_async_all()", "fetch_async"));
        assert!(!mentions_word("f.do_fetch_async()", "fetch_async"));
    }
}
