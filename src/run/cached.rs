//! The result cache around the per-file step: a file whose bytes did not change gets the
//! last run's outcome, summary or scan (see `cache.rs`), and what this run learnt is saved.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{
    Cache, Entry, Key as CacheKey, Previous, Shape, Stamp, calls_key, decode_summary,
    encode_outcome, encode_summary, restore_outcome,
};
use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::{FileSummary, ProjectCalls};
use crate::report::progress::Progress;
use crate::settings::Settings;
use crate::write::Fingerprint;

use super::as_ready::AsReady;
use super::file::{ProjectRole, isolate_panics, read_file};
use super::process::{process_in_project, process_path};

/// Which pass summarized a file: the first one analyses it too, an on-demand one only
/// summarizes it (a file without functions or imports then has no summary).
#[derive(Clone, Copy)]
pub(super) enum SummaryPass {
    First,
    OnDemand,
}

/// The key of a file's cached summary: the bodies its parse left out, and the pass.
pub(super) fn summary_key(left_out: &[Range<usize>], pass: SummaryPass) -> CacheKey {
    crate::cache::summary_key(left_out, matches!(pass, SummaryPass::OnDemand))
}

/// The last run's outcomes, when it ran over the same files with the same bytes (the caller
/// found every file's scan in the cache) and each outcome can be restored.
pub(super) fn replay(files: &[PathBuf], previous: &Previous) -> Option<Vec<FileOutcome>> {
    if !previous.covers(files.len()) {
        return None;
    }
    files
        .par_iter()
        .enumerate()
        .map(|(i, path)| {
            let entry = previous.get(i)?;
            let (_, outcome) = entry.outcome.as_ref()?;
            restore_outcome(outcome, path, entry.content)
        })
        .collect()
}

/// Analyze every file on its own (no project rule is enabled), reusing the outcome the cache
/// holds for a file whose bytes did not change.
pub(super) fn analyze_files_alone(
    files: &[PathBuf],
    settings: &Settings,
    registry: &Registry,
    progress: &Progress,
    cache: Option<&mut Cache>,
    written: &AsReady,
) -> Vec<FileOutcome> {
    // Each file is read once: written as soon as it is done.
    let Some(cache) = cache else {
        return files
            .par_iter()
            .enumerate()
            .map(|(i, path)| {
                let outcome = process_path(path, settings, registry, ProjectRole::Alone).0;
                written.finished(i, path, &outcome);
                progress.advance();
                outcome
            })
            .collect();
    };
    let shape = Shape::of(files, None);
    let previous = cache.take_previous(files, &shape);
    let no_calls = calls_key(None);
    // Per file: its outcome, its bytes' fingerprint and stamp, and whether the outcome came
    // from the cache.
    type FileResult = (FileOutcome, Option<(Fingerprint, Option<Stamp>)>, bool);
    let results: Vec<FileResult> = files
        .par_iter()
        .enumerate()
        .map(|(i, path)| {
            // Taken before the bytes are read: a change in between shows in the next run.
            let stamp = Stamp::of(path);
            let reused = |unchanged: &dyn Fn(&Entry) -> bool| {
                let entry = previous.get(i).filter(|entry| unchanged(entry))?;
                let (_, outcome) = entry.outcome.as_ref().filter(|(c, _)| *c == no_calls)?;
                let outcome = restore_outcome(outcome, path, entry.content)?;
                Some((outcome, Some((entry.content, stamp)), true))
            };
            if let Some(result) = reused(&|entry| entry.unchanged(stamp)) {
                written.finished(i, path, &result.0);
                progress.advance();
                return result;
            }
            let result = match read_file(path) {
                Err(message) => (FileOutcome::Error(message), None, false),
                Ok(bytes) => {
                    let content = Fingerprint::of(&bytes);
                    match reused(&|entry| entry.content == content) {
                        Some(result) => result,
                        None => {
                            let outcome = isolate_panics(settings.file_timeout, || {
                                process_in_project(
                                    &bytes,
                                    path,
                                    settings,
                                    registry,
                                    ProjectRole::Alone,
                                )
                            })
                            .0;
                            (outcome, Some((content, stamp)), false)
                        }
                    }
                }
            };
            written.finished(i, path, &result.0);
            progress.advance();
            result
        })
        .collect();
    let unchanged = previous.covers(files.len()) && results.iter().all(|result| result.2);
    let entries = results
        .iter()
        .map(|(outcome, read, _)| {
            let (content, stamp) = (*read)?;
            let mut entry = Entry::new(content);
            entry.stamp = stamp.and_then(|stamp| stamp.settled(cache.started));
            entry.outcome = outcome_entry(outcome, entry.content, None);
            Some(entry)
        })
        .collect();
    if !unchanged && let Err(message) = cache.save(files, &shape, entries) {
        crate::cache::warn(&message);
    }
    results.into_iter().map(|result| result.0).collect()
}

/// The cache entry for a file's outcome, made from the bytes `content` with the project
/// calls `calls`: none for an error, nor for an outcome made from other bytes (the file
/// changed during the run).
pub(super) fn outcome_entry(
    outcome: &FileOutcome,
    content: Fingerprint,
    calls: Option<&ProjectCalls>,
) -> Option<(CacheKey, Vec<u8>)> {
    if let FileOutcome::Checked {
        fingerprint: Some(read_as),
        ..
    } = outcome
        && *read_as != content
    {
        return None;
    }
    Some((calls_key(calls), encode_outcome(outcome)?))
}

/// The summary the cache holds for a file whose bytes (`content`) and left-out bodies are the
/// last run's (`entry`), for the same pass; `Some(None)`: the file has no summary.
pub(super) fn summary(
    entry: Option<&Entry>,
    content: Option<Fingerprint>,
    left_out: &[Range<usize>],
    pass: SummaryPass,
) -> Option<Option<FileSummary>> {
    let entry = entry?;
    let (key, encoded) = entry.summary.as_ref()?;
    (Some(entry.content) == content && *key == summary_key(left_out, pass))
        .then(|| decode_summary(encoded))
        .flatten()
}

/// A file's summary as the cache keeps it.
pub(super) fn encoded_summary(
    left_out: &[Range<usize>],
    pass: SummaryPass,
    summary: Option<&FileSummary>,
) -> (CacheKey, Vec<u8>) {
    (summary_key(left_out, pass), encode_summary(summary))
}

/// The outcome the cache holds for the file at `path` whose bytes (`content`) and settled
/// project calls are the last run's (`entry`).
pub(super) fn outcome(
    entry: Option<&Entry>,
    path: &Path,
    content: Option<Fingerprint>,
    calls: Option<&ProjectCalls>,
) -> Option<FileOutcome> {
    let content = content?;
    let entry = entry.filter(|e| e.content == content)?;
    let (key, outcome) = entry.outcome.as_ref()?;
    if *key != calls_key(calls) {
        return None;
    }
    restore_outcome(outcome, path, content)
}

/// What a project run learnt of each file, for the cache to keep.
pub(super) struct Learnt<'a> {
    /// The fingerprints of the files' bytes (`None`: not read).
    pub(super) contents: &'a [Option<Fingerprint>],
    pub(super) stamps: &'a [Option<Stamp>],
    /// Scans and summaries this run made, as the cache keeps them.
    pub(super) scans: Vec<Option<Vec<u8>>>,
    pub(super) summaries: Vec<Option<(CacheKey, Vec<u8>)>>,
    pub(super) outcomes: &'a [FileOutcome],
    pub(super) calls: &'a [Option<ProjectCalls>],
}

/// Save what a project run learnt, with what the last run learnt of the same bytes and this
/// run did not redo; a failure to save is a warning.
pub(super) fn save_project(
    cache: &mut Cache,
    files: &[PathBuf],
    shape: &Shape,
    mut previous: Previous,
    learnt: Learnt,
) {
    let Learnt {
        contents,
        stamps,
        mut scans,
        mut summaries,
        outcomes,
        calls,
    } = learnt;
    let entries = (0..files.len())
        .map(|i| {
            let mut entry = Entry::new(contents[i]?);
            entry.stamp = stamps[i].and_then(|stamp| stamp.settled(cache.started));
            let mut last = previous.take(i).filter(|e| e.content == entry.content);
            entry.scan = scans[i]
                .take()
                .or_else(|| last.as_mut().and_then(|e| e.scan.take()));
            entry.summary = summaries[i]
                .take()
                .or_else(|| last.as_mut().and_then(|e| e.summary.take()));
            entry.outcome = outcome_entry(&outcomes[i], entry.content, calls[i].as_ref());
            Some(entry)
        })
        .collect();
    if let Err(message) = cache.save(files, shape, entries) {
        crate::cache::warn(&message);
    }
}
