//! The project phase: a first pass summarizes (and analyzes, speculating on project calls)
//! every file the lexical pass lets through, files called into are summarized on demand in
//! waves, the summaries are settled across files, and the files whose calls reach project
//! coroutines or blocking project functions are finished with the settled calls.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::settle_speculation;
use crate::cache::{
    Cache, Entry, Key as CacheKey, Previous, Shape, calls_key, decode_scan, decode_summary,
    encode_summary, restore_outcome,
};
use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::{
    EvidenceCalls, FileSummary, LexicalProject, LexicalSummary, ModuleMap, ProjectCalls,
    ProjectFile, ProjectLookup, ProjectView, settle,
};
use crate::report::progress::Progress;
use crate::settings::Settings;

use super::cached::{SummaryPass, analyze_files_alone, outcome_entry, replay, summary_key};
use super::file::{Analysed, ProjectRole, analyse_in_project, guarded, process_path, read_file};
use super::rounds::finish;
use super::scan::{LexicalScan, ScanRead, scan_file};
use super::{SettledProject, display_path, needs_project};

/// Analyse every file; with a project rule enabled, the first pass also summarises each
/// file, the summaries are settled across files, and the files with calls reaching project
/// coroutines or blocking project functions get a second pass that reports them.
///
/// `keep_project`: return what the project phase settled (the review's rounds look the
/// calls up); the cache then never replays a whole run, which would skip the settling.
pub(super) fn analyze_files(
    files: &[PathBuf],
    roots: &[PathBuf],
    settings: &Settings,
    registry: &Registry,
    progress: &Progress,
    cache: Option<&mut Cache>,
    keep_project: bool,
) -> (Vec<FileOutcome>, Option<SettledProject>) {
    if !needs_project(settings, registry) {
        return (
            analyze_files_alone(files, settings, registry, progress, cache),
            None,
        );
    }
    let map = ModuleMap::build(roots, files);
    let shape = Shape::of(files, Some(&map));
    let caching = cache.is_some();
    let mut cache = cache;
    let previous = match cache.as_deref_mut() {
        Some(cache) => cache.take_previous(files, &shape),
        None => Previous::none(),
    };
    let role =
        |path: &Path, analyse: bool, left_out| first_pass_role(&map, path, analyse, None, left_out);
    // The lexical pass over every file: the pre-filter's answer, and what the project rules
    // need to know of the file without parsing it (see project/lexical.rs).
    let evidence = EvidenceCalls::new(registry);
    let scan_one = |path: &PathBuf, previous: Option<&Entry>| {
        let module = map.module(path).map(|module| (module, &map));
        // A panic in the scan costs only the scan: the file is then parsed, under the
        // per-file panic guard.
        catch_unwind(AssertUnwindSafe(|| {
            scan_file(
                path, module, settings, registry, &evidence, caching, previous,
            )
        }))
        .unwrap_or(ScanRead {
            content: None,
            stamp: None,
            scan: Some(LexicalScan::Unscanned),
            encoded: None,
        })
    };
    let read: Vec<ScanRead> = files
        .par_iter()
        .enumerate()
        .map(|(i, path)| scan_one(path, previous.get(i)))
        .collect();
    // Nothing changed since the last run: its outcomes are this run's.
    if !keep_project && let Some(outcomes) = replay(files, &read, &previous) {
        files.iter().for_each(|_| progress.advance());
        return (outcomes, None);
    }
    let read: Vec<ScanRead> = files
        .par_iter()
        .zip(read)
        .enumerate()
        .map(|(i, (path, read))| {
            let cached = || {
                let entry = previous.get(i)?;
                let scan = decode_scan(entry.scan.as_deref()?)?;
                Some(match scan {
                    None => LexicalScan::Unscanned,
                    Some((needs_analysis, summary)) => LexicalScan::Scanned {
                        needs_analysis,
                        summary,
                    },
                })
            };
            if read.scan.is_some() {
                return read;
            }
            match cached() {
                Some(scan) => ScanRead {
                    scan: Some(scan),
                    ..read
                },
                // Cannot happen short of a bug: the file is scanned again.
                None => scan_one(path, None),
            }
        })
        .collect();
    let ((contents, stamps), (scans, mut encoded_scans)): ((Vec<_>, Vec<_>), (Vec<_>, Vec<_>)) =
        read.into_iter()
            .map(|read| {
                let scan = read.scan.unwrap_or(LexicalScan::Unscanned);
                ((read.content, read.stamp), (scan, read.encoded))
            })
            .unzip();
    // Files the tokenizer could not follow are parsed and summarised first: their functions
    // count by name in the lexical settling.
    let unscanned: Vec<usize> = (0..files.len())
        .filter(|&i| matches!(scans[i], LexicalScan::Unscanned))
        .collect();
    let mut outcomes: Vec<Option<FileOutcome>> = Vec::new();
    let mut summaries: Vec<Option<FileSummary>> = Vec::new();
    outcomes.resize_with(files.len(), || None);
    summaries.resize_with(files.len(), || None);
    let precise: Vec<(usize, (FileOutcome, Option<FileSummary>))> = unscanned
        .par_iter()
        .map(|&i| {
            let result = process_path(&files[i], settings, registry, role(&files[i], true, &[]));
            progress.advance();
            (i, result)
        })
        .collect();
    let mut from_precise = HashMap::new();
    for (i, (outcome, summary)) in precise {
        outcomes[i] = Some(outcome);
        if let (Some(summary), Some(module)) = (&summary, map.module(&files[i])) {
            from_precise.insert(i, LexicalSummary::from_precise(summary, module));
        }
        summaries[i] = summary;
    }
    let lexical_summaries: Vec<Option<&LexicalSummary>> = scans
        .iter()
        .enumerate()
        .map(|(i, scan)| match scan {
            LexicalScan::Scanned { summary, .. } => summary.as_deref(),
            _ => from_precise.get(&i),
        })
        .collect();
    let lexical = LexicalProject::settle(&lexical_summaries, &map);
    drop(lexical_summaries);
    // The files that may have a finding: parsed, analysed and summarised; those the project
    // rules may need only summarised; the others are done. Each is parsed without the
    // function bodies that cannot matter to the project rules (nor, in a file the pre-filter
    // lets through, to the per-file rules: `keep_bodies_the_file_rules_read`).
    let (project_candidates, left_out): (Vec<bool>, Vec<Vec<Range<usize>>>) = scans
        .par_iter()
        .enumerate()
        .map(|(i, scan)| match scan {
            LexicalScan::Scanned {
                needs_analysis,
                summary: Some(summary),
            } => (
                !needs_analysis && lexical.may_have_findings(i, summary),
                lexical.bodies_left_out(i, summary),
            ),
            _ => (false, Vec::new()),
        })
        .unzip();
    // The lexical summaries are done with: freed in parallel (the main thread alone took
    // about 3 % of a check's wall time to free them).
    let mut scans = scans;
    scans.par_iter_mut().for_each(|scan| {
        if let LexicalScan::Scanned { summary, .. } = scan {
            *summary = None;
        }
    });
    let mut first = Vec::new();
    for (i, scan) in scans.into_iter().enumerate() {
        match scan {
            LexicalScan::Unscanned => {}
            LexicalScan::Done(outcome) => {
                outcomes[i] = Some(outcome);
                progress.advance();
            }
            LexicalScan::Scanned { needs_analysis, .. } => {
                if needs_analysis || project_candidates[i] {
                    first.push((i, needs_analysis));
                } else {
                    outcomes[i] = Some(FileOutcome::nothing_found());
                    progress.advance();
                }
            }
        }
    }
    // The first pass speculates on the project calls (see ProjectLookup::Speculative): a
    // file whose findings depend on them waits for the settling, the others are done.
    // A file whose bytes and left-out bodies are the last run's takes its summary from the
    // cache, and its outcome waits for the settling (`deferred`).
    let cached_summary = |i: usize, pass: SummaryPass| -> Option<Option<FileSummary>> {
        let entry = previous.get(i)?;
        let (key, encoded) = entry.summary.as_ref()?;
        (Some(entry.content) == contents[i] && *key == summary_key(&left_out[i], pass))
            .then(|| decode_summary(encoded))
            .flatten()
    };
    let encode = |i: usize, pass: SummaryPass, summary: Option<&FileSummary>| {
        caching.then(|| (summary_key(&left_out[i], pass), encode_summary(summary)))
    };
    let parsed: Vec<(usize, Result<FirstPass, Option<FileSummary>>)> = first
        .par_iter()
        .map(|&(i, analyse)| {
            if let Some(summary) = cached_summary(i, SummaryPass::First) {
                progress.advance();
                return (i, Err(summary));
            }
            let role = first_pass_role(&map, &files[i], analyse, Some(&lexical), &left_out[i]);
            let mut result = first_pass(&files[i], settings, registry, role);
            if !matches!(result.analysed, Err(FileOutcome::Error(_))) {
                result.encoded = encode(i, SummaryPass::First, result.summary.as_ref());
            }
            progress.advance();
            (i, Ok(result))
        })
        .collect();
    let mut speculated = vec![false; files.len()];
    let mut deferred = vec![false; files.len()];
    let mut encoded_summaries: Vec<Option<(CacheKey, Vec<u8>)>> = vec![None; files.len()];
    let mut waiting: Vec<Option<Analysed>> = Vec::new();
    waiting.resize_with(files.len(), || None);
    for (i, result) in parsed {
        let result = match result {
            Ok(result) => result,
            Err(cached) => {
                deferred[i] = true;
                summaries[i] = cached;
                continue;
            }
        };
        speculated[i] = true;
        summaries[i] = result.summary;
        encoded_summaries[i] = result.encoded;
        match result.analysed {
            Ok(analysed) => waiting[i] = Some(analysed),
            Err(outcome) => outcomes[i] = Some(outcome),
        }
    }

    // Files the summarised ones call into (or through) are summarised in waves, on demand,
    // following only the calls whose target's name may take part in a project finding, and
    // the re-exports (`from .helpers import load` in an `__init__.py`) such a call goes
    // through: a module no coroutine can reach that way is never parsed.
    let mut requested: Vec<bool> = summaries.iter().map(Option::is_some).collect();
    // Per file, the rest of the targets looked up in it (`Repo.save` in `app` for
    // `app.Repo.save`), each followed once through the file's imports.
    let mut wanted: Vec<HashSet<String>> = vec![HashSet::new(); files.len()];
    let mut targets: Vec<String> = summaries
        .iter()
        .flatten()
        .flat_map(|summary| mattering_targets(summary, &lexical))
        .collect();
    loop {
        let mut needed = Vec::new();
        while let Some(target) = targets.pop() {
            let Some((file, rest)) = map.file_defining_rest(&target) else {
                continue;
            };
            if !requested[file] {
                requested[file] = true;
                needed.push(file);
            }
            if !rest.is_empty()
                && wanted[file].insert(rest.to_owned())
                && let Some(summary) = &summaries[file]
            {
                targets.extend(reexported(summary, rest));
            }
        }
        if needed.is_empty() {
            break;
        }
        let summarized: Vec<_> = needed
            .par_iter()
            .map(|&i| {
                if let Some(summary) = cached_summary(i, SummaryPass::OnDemand) {
                    return (summary, None);
                }
                let (outcome, summary) = process_path(
                    &files[i],
                    settings,
                    registry,
                    role(&files[i], false, &left_out[i]),
                );
                let encoded = match outcome {
                    FileOutcome::Error(_) => None,
                    _ => encode(i, SummaryPass::OnDemand, summary.as_ref()),
                };
                (summary, encoded)
            })
            .collect();
        for (&i, (summary, encoded)) in needed.iter().zip(summarized) {
            if encoded.is_some() {
                encoded_summaries[i] = encoded;
            }
            if let Some(summary) = &summary {
                targets.extend(mattering_targets(summary, &lexical));
                for rest in &wanted[i] {
                    targets.extend(reexported(summary, rest));
                }
            }
            summaries[i] = summary;
        }
    }
    let mut owners = Vec::new();
    let project_files: Vec<ProjectFile> = summaries
        .into_iter()
        .enumerate()
        .filter_map(|(i, summary)| {
            let summary = summary?;
            let module = map.module(&files[i])?.clone();
            owners.push(i);
            Some(ProjectFile {
                display_path: display_path(&files[i]),
                module,
                summary,
            })
        })
        .collect();
    let settled = settle(&project_files);
    drop(project_files);
    let mut calls: Vec<Option<ProjectCalls>> = vec![None; files.len()];
    for (&i, file_calls) in owners.iter().zip(settled) {
        calls[i] = file_calls;
    }
    // The waiting files are finished with the settled calls. A file is parsed again only when
    // its first pass did not speculate on all of its project calls: it was only summarised
    // on demand, or the precise settling found a call the lexical pass ruled out.
    // The outcome the cache holds for a file whose bytes and settled project calls are the
    // last run's.
    let reused = |i: usize| -> Option<FileOutcome> {
        let content = contents[i]?;
        let entry = previous.get(i).filter(|e| e.content == content)?;
        let (key, outcome) = entry.outcome.as_ref()?;
        if *key != calls_key(calls[i].as_ref()) {
            return None;
        }
        restore_outcome(outcome, &files[i], content)
    };
    let second: Vec<(usize, FileOutcome)> = waiting
        .into_par_iter()
        .enumerate()
        .filter(|(i, analysed)| analysed.is_some() || calls[*i].is_some() || deferred[*i])
        .filter_map(|(i, analysed)| {
            // Only a module of the project has calls.
            let view = |calls| {
                Some(ProjectView {
                    lookup: ProjectLookup::Settled(calls),
                    module: map.module(&files[i])?,
                    map: &map,
                })
            };
            let file_calls = calls[i].as_ref();
            let foreseen = speculated[i]
                && file_calls.is_none_or(|calls| calls.keys().all(|k| lexical.may_matter(k)));
            if !foreseen {
                let role = match file_calls.and_then(view) {
                    Some(view) => ProjectRole::Calls(view),
                    // Its summary came from the cache: it has no outcome yet.
                    None if deferred[i] => ProjectRole::Alone,
                    None => return None,
                };
                let outcome = reused(i)
                    .unwrap_or_else(|| process_path(&files[i], settings, registry, role).0);
                return Some((i, outcome));
            }
            let mut analysed = analysed?;
            if let Some(outcome) = reused(i) {
                return Some((i, outcome));
            }
            let findings = std::mem::take(&mut analysed.findings);
            analysed.findings = settle_speculation(findings, file_calls, registry);
            if analysed.speculative_only && file_calls.is_none() {
                analysed.findings.clear();
            }
            let round_role = match file_calls.and_then(view) {
                Some(view) => ProjectRole::Calls(view),
                None => ProjectRole::Alone,
            };
            let path = &files[i];
            let outcome = guarded(|| finish(analysed, path, settings, registry, round_role));
            Some((i, outcome.unwrap_or_else(FileOutcome::Error)))
        })
        .collect();
    for (i, outcome) in second {
        outcomes[i] = Some(outcome);
    }
    let outcomes: Vec<FileOutcome> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every file has an outcome after the second pass"))
        .collect();
    if let Some(cache) = cache {
        let mut previous = previous;
        let entries = (0..files.len())
            .map(|i| {
                let mut entry = Entry::new(contents[i]?);
                entry.stamp = stamps[i].and_then(|stamp| stamp.settled(cache.started));
                // What the last run learnt of the same bytes, and this run did not redo.
                let mut last = previous.take(i).filter(|e| e.content == entry.content);
                entry.scan = encoded_scans[i]
                    .take()
                    .or_else(|| last.as_mut().and_then(|e| e.scan.take()));
                entry.summary = encoded_summaries[i]
                    .take()
                    .or_else(|| last.as_mut().and_then(|e| e.summary.take()));
                entry.outcome = outcome_entry(&outcomes[i], entry.content, calls[i].as_ref());
                Some(entry)
            })
            .collect();
        if let Err(message) = cache.save(files, &shape, entries) {
            crate::cache::warn(&message);
        }
    }
    let project = keep_project.then(|| SettledProject {
        calls: files
            .iter()
            .zip(calls)
            .filter_map(|(path, calls)| Some((path.clone(), calls?)))
            .collect(),
        map,
    });
    (outcomes, project)
}

/// The first pass's role for a file: summarised (a module of the project), analysed when
/// `analyse` says so, speculating on its project calls when the lexical pass is settled.
pub(super) fn first_pass_role<'a>(
    map: &'a ModuleMap,
    path: &Path,
    analyse: bool,
    speculate: Option<&'a LexicalProject<'a>>,
    left_out: &'a [Range<usize>],
) -> ProjectRole<'a> {
    match map.module(path) {
        Some(module) => ProjectRole::Summarize {
            module,
            map,
            analyse: Some(analyse),
            speculate,
            left_out,
        },
        None => ProjectRole::Alone,
    }
}

/// What a file's first pass in the project phase gives.
pub(super) struct FirstPass {
    /// Its outcome, or its analysis waiting for the settling.
    pub(super) analysed: Result<Analysed, FileOutcome>,
    pub(super) summary: Option<FileSummary>,
    /// The summary as the cache keeps it, when the run keeps one.
    pub(super) encoded: Option<(CacheKey, Vec<u8>)>,
}

/// Read, analyse (speculating on its project calls) and summarise one file. A file with
/// findings waits for the settling (its findings may depend on it, and so may its fixes);
/// the others are done.
pub(super) fn first_pass(
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> FirstPass {
    let failed = |outcome| FirstPass {
        analysed: Err(outcome),
        summary: None,
        encoded: None,
    };
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => return failed(FileOutcome::Error(message)),
    };
    guarded(|| {
        let (analysed, summary) = analyse_in_project(&bytes, path, settings, registry, role);
        let analysed = match analysed {
            Ok(analysed) if analysed.findings.is_empty() => Err(finish(
                analysed,
                path,
                settings,
                registry,
                role.round_role(),
            )),
            other => other,
        };
        FirstPass {
            analysed,
            summary,
            encoded: None,
        }
    })
    .unwrap_or_else(|message| failed(FileOutcome::Error(message)))
}

/// The targets of a summarised file's calls that may take part in a project finding.
pub(super) fn mattering_targets<'s>(
    summary: &'s FileSummary,
    lexical: &'s LexicalProject,
) -> impl Iterator<Item = String> + 's {
    summary
        .targets
        .iter()
        .filter(|target| lexical.may_matter(target))
        .cloned()
}

/// Where `rest` (a name looked up in the module of `summary`) leads when the module imports
/// its first segment: `app.helpers.Repo.save` for `Repo.save` after `from .helpers import
/// Repo`.
pub(super) fn reexported<'s>(
    summary: &'s FileSummary,
    rest: &'s str,
) -> impl Iterator<Item = String> + 's {
    let (first, after) = rest.split_once('.').unwrap_or((rest, ""));
    summary
        .imports
        .iter()
        .filter(move |(bound, _)| bound == first)
        .map(move |(_, absolute)| {
            if after.is_empty() {
                absolute.clone()
            } else {
                format!("{absolute}.{after}")
            }
        })
}
