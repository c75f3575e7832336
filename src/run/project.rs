//! The project phase: a first pass summarizes (and analyzes, speculating on project calls)
//! every file the lexical pass lets through, files called into are summarized on demand in
//! waves, the summaries are settled across files, and the files whose calls reach project
//! coroutines or blocking project functions are finished with the settled calls.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::{evidence_code, may_merge, settle_speculation};
use crate::cache::{Cache, Key as CacheKey, Previous, Shape};
use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::{
    FileSummary, LexicalProject, LexicalSummary, ModuleMap, ProjectCall, ProjectCalls, ProjectFile,
    ProjectLookup, ProjectView, settle,
};
use crate::report::progress::Progress;
use crate::settings::Settings;

use super::as_ready::AsReady;
use super::cached::{self, SummaryPass, analyze_files_alone};
use super::file::{Analyzed, ProjectRole, analyze_in_project, guarded, read_file};
use super::process::process_path;
use super::rounds::fixed_outcome;
use super::scan::{LexicalPass, LexicalScan, scan_files};
use super::{SettledProject, display_path, needs_project};

/// Analyze every file; with a project rule enabled, the first pass also summarizes each
/// file, the summaries are settled across files, and the files with calls reaching project
/// coroutines or blocking project functions get a second pass that reports them.
///
/// `keep_project`: return what the project phase settled (the review's rounds look the
/// calls up); the cache then never replays a whole run, which would skip the settling.
///
/// `written`: each file is handed over to be written once its outcome is final and no later
/// pass reads it from disk again. Every pass reads files: the lexical pass and the first pass
/// their own, the waves on demand the files called into (any file without a summary yet),
/// the second pass its own again. So no file is written before the waves on demand are over;
/// then the files the second pass leaves alone are written at once, in parallel, and each
/// file the second pass finishes as soon as it is finished (it reads no other file).
#[allow(clippy::too_many_arguments)]
pub(super) fn analyze_files(
    files: &[PathBuf],
    roots: &[PathBuf],
    settings: &Settings,
    registry: &Registry,
    progress: &Progress,
    cache: Option<&mut Cache>,
    keep_project: bool,
    written: &AsReady,
) -> (Vec<FileOutcome>, Option<SettledProject>) {
    if !needs_project(settings, registry) {
        return (
            analyze_files_alone(files, settings, registry, progress, cache, written),
            None,
        );
    }
    let mut map = ModuleMap::build(roots, files);
    map.drop_siblings_named(|name| registry.matches_library(name));
    let shape = Shape::of(files, Some(&map));
    let caching = cache.is_some();
    let mut cache = cache;
    let previous = match cache.as_deref_mut() {
        Some(cache) => cache.take_previous(files, &shape),
        None => Previous::none(),
    };
    let role = |path: &Path, with_analysis: bool, left_out| {
        first_pass_role(&map, path, with_analysis, None, left_out)
    };
    // The lexical pass over every file: the pre-filter's answer, and what the project rules
    // need to know of the file without parsing it (see project/lexical.rs).
    let read = match scan_files(
        files,
        &map,
        settings,
        registry,
        &previous,
        caching,
        !keep_project,
    ) {
        LexicalPass::Read(read) => read,
        // Nothing changed since the last run: its outcomes are this run's.
        LexicalPass::Replayed(outcomes) => {
            files.iter().for_each(|_| progress.advance());
            return (outcomes, None);
        }
    };
    let ((contents, stamps), (scans, encoded_scans)): ((Vec<_>, Vec<_>), (Vec<_>, Vec<_>)) = read
        .into_iter()
        .map(|read| {
            let scan = read.scan.unwrap_or(LexicalScan::Unscanned);
            ((read.content, read.stamp), (scan, read.encoded))
        })
        .unzip();
    // Files the tokenizer could not follow are parsed and summarized first: their functions
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
    let lexical = LexicalProject::settle(
        &lexical_summaries,
        &map,
        registry
            .thread_affine_methods()
            .map(str::to_owned)
            .collect(),
    );
    drop(lexical_summaries);
    // The files that may have a finding: parsed, analyzed and summarized; those the project
    // rules may need only summarized; the others are done. Each is parsed without the
    // function bodies that cannot matter to the project rules (nor, in a file the pre-filter
    // lets through, to the per-file rules: `keep_bodies_the_file_rules_read`).
    let follow_moved_code = crate::analyze::follows_moved_code(registry, &settings.selection);
    // An entry file running an imported coroutine: the packages' re-exports tell which.
    let entry_runs = scans.iter().any(|scan| {
        matches!(scan, LexicalScan::Scanned { summary: Some(summary), .. } if summary.may_run_entry())
    });
    let (project_candidates, left_out): (Vec<bool>, Vec<Vec<Range<usize>>>) = scans
        .par_iter()
        .enumerate()
        .map(|(i, scan)| match scan {
            LexicalScan::Scanned {
                needs_analysis,
                summary: Some(summary),
            } => (
                // A `conftest.py`: the async tests below it ask which of its fixtures start
                // nothing (`analyze/test_bodies.rs`).
                !needs_analysis
                    && (lexical.may_have_findings(i, summary)
                        || summary.may_run_entry()
                        || (entry_runs && summary.reexports())
                        || is_conftest(&files[i])),
                lexical.bodies_left_out(i, summary, follow_moved_code),
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
    // A file summarized only for the code a fix may move to a worker thread keeps every body.
    let leaves_out = |i: usize, whole: bool| if whole { &[][..] } else { &left_out[i][..] };
    let cached_summary = |i: usize, pass: SummaryPass, whole: bool| {
        cached::summary(previous.get(i), contents[i], leaves_out(i, whole), pass)
    };
    let encode = |i: usize, pass: SummaryPass, whole: bool, summary: Option<&FileSummary>| {
        caching.then(|| cached::encoded_summary(leaves_out(i, whole), pass, summary))
    };
    let parsed: Vec<(usize, Result<FirstPass, Option<FileSummary>>)> = first
        .par_iter()
        .map(|&(i, with_analysis)| {
            if let Some(summary) = cached_summary(i, SummaryPass::First, false) {
                progress.advance();
                return (i, Err(summary));
            }
            let role =
                first_pass_role(&map, &files[i], with_analysis, Some(&lexical), &left_out[i]);
            let mut result = first_pass(&files[i], settings, registry, role);
            if !matches!(result.analyzed, Err(FileOutcome::Error(_))) {
                result.encoded = encode(i, SummaryPass::First, false, result.summary.as_ref());
            }
            progress.advance();
            (i, Ok(result))
        })
        .collect();
    let mut speculated = vec![false; files.len()];
    let mut deferred = vec![false; files.len()];
    let mut encoded_summaries: Vec<Option<(CacheKey, Vec<u8>)>> = vec![None; files.len()];
    let mut waiting: Vec<Option<Analyzed>> = Vec::new();
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
        match result.analyzed {
            Ok(analyzed) => waiting[i] = Some(analyzed),
            Err(outcome) => outcomes[i] = Some(outcome),
        }
    }

    // Files the summarized ones call into (or through) are summarized in waves, on demand.
    let summarize_one = |i: usize, whole: bool| {
        if let Some(summary) = cached_summary(i, SummaryPass::OnDemand, whole) {
            return (summary, None);
        }
        let (outcome, summary) = process_path(
            &files[i],
            settings,
            registry,
            role(&files[i], false, leaves_out(i, whole)),
        );
        let encoded = match outcome {
            FileOutcome::Error(_) => None,
            _ => encode(i, SummaryPass::OnDemand, whole, summary.as_ref()),
        };
        (summary, encoded)
    };
    summarize_on_demand(
        &map,
        &lexical,
        &mut summaries,
        &mut encoded_summaries,
        &summarize_one,
        follow_moved_code,
        (0..files.len()).map(|i| left_out[i].is_empty()).collect(),
    );
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
    let evidence = |qualified: &str| evidence_code(registry, &settings.selection, qualified);
    let mut settled = settle(&project_files, &evidence);
    super::wrapped::admit_wrapped_entries(files, (&project_files, &owners), &mut settled);
    // The server settles them again with an editor's buffer in place of its file's.
    let kept_files = keep_project.then_some(project_files);
    let mut calls: Vec<Option<ProjectCalls>> = vec![None; files.len()];
    for (&i, file_calls) in owners.iter().zip(settled) {
        calls[i] = file_calls;
    }
    // The waiting files are finished with the settled calls. A file is parsed again only when
    // its first pass did not speculate on all of its project calls: it was only summarized
    // on demand, or the precise settling found a call the lexical pass ruled out.
    // The outcome the cache holds for a file whose bytes and settled project calls are the
    // last run's.
    let reused =
        |i: usize| cached::outcome(previous.get(i), &files[i], contents[i], calls[i].as_ref());
    let finishing: Vec<bool> = (0..files.len())
        .map(|i| waiting[i].is_some() || calls[i].is_some() || deferred[i])
        .collect();
    // Nothing reads the files the second pass leaves alone again: written now.
    outcomes.par_iter().enumerate().for_each(|(i, outcome)| {
        if let (false, Some(outcome)) = (finishing[i], outcome) {
            written.finished(i, &files[i], outcome);
        }
    });
    let second: Vec<(usize, FileOutcome)> = waiting
        .into_par_iter()
        .enumerate()
        .filter(|(i, _)| finishing[*i])
        .filter_map(|(i, analyzed)| {
            let file = SettledFile {
                path: &files[i],
                calls: calls[i].as_ref(),
                analyzed,
                speculated: speculated[i],
                deferred: deferred[i],
            };
            let outcome =
                outcome_with_settled_calls(file, &map, &lexical, settings, registry, &|| reused(i));
            // Finished (or left with the first pass's outcome): written at once.
            if let Some(outcome) = outcome.as_ref().or(outcomes[i].as_ref()) {
                written.finished(i, &files[i], outcome);
            }
            Some((i, outcome?))
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
        let learnt = cached::Learnt {
            contents: &contents,
            stamps: &stamps,
            scans: encoded_scans,
            summaries: encoded_summaries,
            outcomes: &outcomes,
            calls: &calls,
        };
        cached::save_project(cache, files, &shape, previous, learnt);
    }
    let project = keep_project.then(|| SettledProject {
        calls: files
            .iter()
            .zip(calls)
            .filter_map(|(path, calls)| Some((path.clone(), calls?)))
            .collect(),
        map,
        files: files.to_vec(),
        summaries: kept_files
            .unwrap_or_default()
            .into_iter()
            .zip(owners)
            .map(|(file, i)| (i, file))
            .collect(),
    });
    (outcomes, project)
}

/// The first pass's role for a file: summarized (a module of the project), analyzed when
/// `with_analysis` says so, speculating on its project calls when the lexical pass is settled.
pub(super) fn first_pass_role<'a>(
    map: &'a ModuleMap,
    path: &Path,
    with_analysis: bool,
    speculate: Option<&'a LexicalProject<'a>>,
    left_out: &'a [Range<usize>],
) -> ProjectRole<'a> {
    match map.module(path) {
        Some(module) => ProjectRole::Summarize {
            module,
            map,
            with_analysis: Some(with_analysis),
            speculate,
            left_out,
        },
        None => ProjectRole::Alone,
    }
}

/// What a file's first pass in the project phase gives.
pub(super) struct FirstPass {
    /// Its outcome, or its analysis waiting for the settling.
    pub(super) analyzed: Result<Analyzed, FileOutcome>,
    pub(super) summary: Option<FileSummary>,
    /// The summary as the cache keeps it, when the run keeps one.
    pub(super) encoded: Option<(CacheKey, Vec<u8>)>,
}

/// Read, analyze (speculating on its project calls) and summarize one file. A file with
/// findings waits for the settling (its findings may depend on it, and so may its fixes);
/// the others are done.
pub(super) fn first_pass(
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> FirstPass {
    let failed = |outcome| FirstPass {
        analyzed: Err(outcome),
        summary: None,
        encoded: None,
    };
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => return failed(FileOutcome::Error(message)),
    };
    guarded(settings.file_timeout, || {
        let (analyzed, summary) = analyze_in_project(&bytes, path, settings, registry, role);
        let analyzed = match analyzed {
            Ok(analyzed) if analyzed.findings.is_empty() => Err(fixed_outcome(
                analyzed,
                path,
                settings,
                registry,
                role.round_role(),
            )),
            other => other,
        };
        FirstPass {
            analyzed,
            summary,
            encoded: None,
        }
    })
    .unwrap_or_else(|message| failed(FileOutcome::Error(message)))
}

/// The targets of a summarized file's calls that may take part in a project finding.
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

/// The summary of one file summarized on demand (from the cache or a parse), and the summary
/// as the cache keeps it when this run made it.
type OnDemand = (Option<FileSummary>, Option<(CacheKey, Vec<u8>)>);

/// Summarize, in waves, the files the summarized ones call into (or through), on demand:
/// following only the calls whose target's name may take part in a project finding, and the
/// re-exports (`from .helpers import load` in an `__init__.py`) such a call goes through, so
/// a module no coroutine can reach that way is never parsed. `summaries` holds the first
/// pass's, and gets the new ones (indexed like the files of `map`).
fn summarize_on_demand(
    map: &ModuleMap,
    lexical: &LexicalProject,
    summaries: &mut [Option<FileSummary>],
    encoded_summaries: &mut [Option<(CacheKey, Vec<u8>)>],
    summarize_one: &(dyn Fn(usize, bool) -> OnDemand + Sync),
    follow_moved_code: bool,
    // Per file, whether its first pass's summary (if any) read every body.
    mut whole: Vec<bool>,
) {
    let lexical = Following {
        lexical,
        moved_code: follow_moved_code,
    };
    let lexical = &lexical;
    let mut requested: Vec<bool> = summaries.iter().map(Option::is_some).collect();
    // Per file, the rest of the targets looked up in it (`Repo.save` in `app` for
    // `app.Repo.save`), each followed once through the file's imports.
    let mut wanted: Vec<HashSet<String>> = vec![HashSet::new(); summaries.len()];
    // Per file, its functions by qualified name, made the first time a name is wanted there:
    // a newly wanted name adds the calls of its functions alone (every summary's other moved
    // code was followed when it came), not a look at every function of the file each time.
    let mut by_qualname: Vec<Option<HashMap<String, Vec<usize>>>> = vec![None; summaries.len()];
    // The targets, each with whether only code a fix may move to a worker thread calls it.
    let mut targets: Vec<(String, bool)> = summaries
        .iter()
        .flatten()
        .flat_map(|summary| followed_targets(summary, lexical, &HashSet::new()))
        .collect();
    // The single-task recognition asks whether each project name a file with an entry point
    // calls starts concurrent work (`project/quiet.rs`), and so of each name those call in
    // turn: the files reached so, and the names, each summarized whole.
    let mut entered: Vec<bool> = vec![false; summaries.len()];
    let mut from_entry: HashSet<String> = HashSet::new();
    // Per file, the names in `wanted` an entry point reached.
    let mut entry_wanted: Vec<HashSet<String>> = vec![HashSet::new(); summaries.len()];
    for summary in summaries.iter().flatten() {
        targets.extend(entry_targets(summary, false, &mut from_entry));
    }
    // Per file requested in this wave, its place in `needed`.
    let mut in_wave: Vec<Option<usize>> = vec![None; summaries.len()];
    loop {
        let mut needed: Vec<(usize, bool)> = Vec::new();
        while let Some((target, moved)) = targets.pop() {
            let Some((file, rest)) = map.file_defining_rest(&target) else {
                continue;
            };
            if !entered[file] && from_entry.contains(&target) {
                entered[file] = true;
                // Summarized before an entry point reached it: its names are followed now,
                // and, when bodies were left out of it (a masked body is a doubt), it is
                // summarized again whole: the verdict must not depend on whether the file
                // had findings of its own (a fix in it would flip it on the next run).
                if let Some(summary) = &summaries[file] {
                    let more = entry_targets(summary, true, &mut from_entry);
                    targets.extend(more);
                    if !whole[file] && in_wave[file].is_none() {
                        in_wave[file] = Some(needed.len());
                        needed.push((file, true));
                    }
                }
            }
            if !requested[file] {
                requested[file] = true;
                in_wave[file] = Some(needed.len());
                needed.push((file, moved));
            } else if moved && let Some(place) = in_wave[file] {
                // Code a fix may move calls it: summarized whole, whichever call came first.
                needed[place].1 = true;
            }
            // A name an entry point reaches, re-exported (`from .client import API` in a
            // package's `__init__.py`): where it leads is reached from that entry point too.
            if !rest.is_empty() && from_entry.contains(&target) {
                entry_wanted[file].insert(rest.to_owned());
            }
            if !rest.is_empty()
                && wanted[file].insert(rest.to_owned())
                && let Some(summary) = &summaries[file]
            {
                let entry = entry_wanted[file].contains(rest);
                for next in reexported(summary, rest) {
                    if entry {
                        from_entry.insert(next.clone());
                    }
                    targets.push((next, moved));
                }
                let named = by_qualname[file].get_or_insert_with(|| functions_by_name(summary));
                targets.extend(wanted_code_targets(summary, lexical, named, rest));
            }
        }
        if needed.is_empty() {
            break;
        }
        for &(i, _) in &needed {
            in_wave[i] = None;
        }
        let summarized: Vec<_> = needed
            .par_iter()
            .map(|&(i, moved)| summarize_one(i, moved))
            .collect();
        for (&(i, moved), (summary, encoded)) in needed.iter().zip(summarized) {
            whole[i] = moved;
            if encoded.is_some() {
                encoded_summaries[i] = encoded;
            }
            if let Some(summary) = &summary {
                targets.extend(followed_targets(summary, lexical, &wanted[i]));
                targets.extend(entry_targets(summary, entered[i], &mut from_entry));
                for rest in &wanted[i] {
                    for next in reexported(summary, rest) {
                        if entry_wanted[i].contains(rest) {
                            from_entry.insert(next.clone());
                        }
                        targets.push((next, moved));
                    }
                }
            }
            summaries[i] = summary;
        }
    }
}

/// The targets of a summary to follow: those that may take part in a project finding, then
/// those only code a fix may move to a worker thread calls (`true`).
/// What [`summarize_on_demand`] follows: the lexical project's names, and with `moved_code`
/// the calls of code a fix may move to a worker thread.
struct Following<'a, 'l> {
    lexical: &'a LexicalProject<'l>,
    moved_code: bool,
}

fn followed_targets(
    summary: &FileSummary,
    lexical: &Following,
    wanted: &HashSet<String>,
) -> Vec<(String, bool)> {
    let moved = moved_code_targets(summary, lexical, wanted);
    mattering_targets(summary, lexical.lexical)
        .map(|t| (t, false))
        .chain(moved)
        .collect()
}

/// The names a file with a single-task entry point, or one such a file's calls reach
/// (`entered`), calls (and the project coroutines an entry file runs): each to be summarized whole, and remembered in `from_entry` so that the
/// file defining it follows its own calls in turn.
fn entry_targets(
    summary: &FileSummary,
    entered: bool,
    from_entry: &mut HashSet<String>,
) -> Vec<(String, bool)> {
    if !summary.single_task_entry && !entered && summary.entry_runs.is_empty() {
        return Vec::new();
    }
    // An entry file running an imported coroutine: that coroutine's file is entered too.
    summary
        .targets
        .iter()
        .chain(&summary.entry_runs)
        .filter(|target| from_entry.insert((*target).clone()))
        .map(|target| (target.clone(), true))
        .collect()
}

/// The targets called by the summary's functions that a fix may move to a worker thread:
/// synchronous functions that may block (by themselves or through a call that may), or that
/// such code calls (`wanted`, the names looked up in the file). What they run there decides
/// the fix (`project/hazard.rs`), so a helper they call is summarized too, whole.
fn moved_code_targets(
    summary: &FileSummary,
    lexical: &Following,
    wanted: &HashSet<String>,
) -> Vec<(String, bool)> {
    let mut targets = Vec::new();
    if !lexical.moved_code {
        return targets;
    }
    let lexical = lexical.lexical;
    for function in &summary.functions {
        let target = |call: &u32| &summary.targets[*call as usize];
        let moved = !function.is_async
            && !function.is_generator
            && (function.direct.is_some()
                || wanted.contains(&function.qualname)
                || function.calls.iter().any(|c| lexical.may_matter(target(c))));
        if moved {
            targets.extend(function.calls.iter().map(|c| (target(c).clone(), true)));
        }
    }
    targets
}

/// A summary's functions by qualified name.
fn functions_by_name(summary: &FileSummary) -> HashMap<String, Vec<usize>> {
    let mut named: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, function) in summary.functions.iter().enumerate() {
        named.entry(function.qualname.clone()).or_default().push(i);
    }
    named
}

/// What [`moved_code_targets`] adds when `rest` joins the names wanted in the file: the calls
/// of its synchronous functions named `rest` (the others' do not change).
fn wanted_code_targets(
    summary: &FileSummary,
    lexical: &Following,
    named: &HashMap<String, Vec<usize>>,
    rest: &str,
) -> Vec<(String, bool)> {
    if !lexical.moved_code {
        return Vec::new();
    }
    named
        .get(rest)
        .into_iter()
        .flatten()
        .map(|&i| &summary.functions[i])
        .filter(|function| !function.is_async && !function.is_generator)
        .flat_map(|function| {
            function
                .calls
                .iter()
                .map(|c| (summary.targets[*c as usize].clone(), true))
        })
        .collect()
}

/// A file waiting for the settling, with what the first pass did with it.
struct SettledFile<'a> {
    path: &'a Path,
    /// What its calls reach, as settled.
    calls: Option<&'a ProjectCalls>,
    /// Its first pass's analysis, when it waits with one.
    analyzed: Option<Analyzed>,
    /// Its first pass speculated on its project calls.
    speculated: bool,
    /// Its summary came from the cache: it has no outcome yet.
    deferred: bool,
}

/// Finish a file with the settled calls: its first pass's findings settled when that pass
/// foresaw every call the settling found (the lexical pass let them through), else a new
/// pass with the calls; `reused`: the outcome the cache holds for these bytes and calls.
/// `None`: the file has nothing to finish.
fn outcome_with_settled_calls(
    file: SettledFile,
    map: &ModuleMap,
    lexical: &LexicalProject,
    settings: &Settings,
    registry: &Registry,
    reused: &dyn Fn() -> Option<FileOutcome>,
) -> Option<FileOutcome> {
    // Only a module of the project has calls.
    let view = |calls| {
        Some(ProjectView {
            lookup: ProjectLookup::Settled(calls),
            module: map.module(file.path)?,
            map,
        })
    };
    let file_calls = file.calls;
    // A call on an imported thread-affine object is never speculated on, nor a `with`
    // block binding what a helper returning one returns, nor a file another module uses,
    // nor what another module's helper reads and writes: they need a pass with the settled
    // calls.
    let foreseen = file.speculated
        && file_calls.is_none_or(|calls| {
            calls.iter().all(|(k, call)| {
                lexical.may_matter(k)
                    && !matches!(
                        call,
                        ProjectCall::Affine { .. }
                            | ProjectCall::SharedFile { .. }
                            | ProjectCall::StartsNoWork { .. }
                            | ProjectCall::Carried { .. }
                            | ProjectCall::Blocking {
                                returned: Some(_),
                                ..
                            }
                            | ProjectCall::Blocking {
                                unless_passed: Some(_),
                                ..
                            }
                    )
            })
        });
    // The speculative pass merges no thread hops (`analyze/hops.rs`): a pass with the
    // settled calls does, where they may merge.
    let merges = file.speculated
        && file
            .analyzed
            .as_ref()
            .is_some_and(|a| may_merge(&a.source.text, &a.findings));
    if !foreseen || merges {
        let role = match file_calls.and_then(view) {
            Some(view) => ProjectRole::Calls(view),
            // Its summary came from the cache: it has no outcome yet.
            None if file.deferred || merges => ProjectRole::Alone,
            None => return None,
        };
        let outcome =
            reused().unwrap_or_else(|| process_path(file.path, settings, registry, role).0);
        return Some(outcome);
    }
    let mut analyzed = file.analyzed?;
    if let Some(outcome) = reused() {
        return Some(outcome);
    }
    let findings = std::mem::take(&mut analyzed.findings);
    analyzed.findings = settle_speculation(findings, file_calls, registry);
    if analyzed.speculative_only && file_calls.is_none() {
        analyzed.findings.clear();
    }
    let round_role = match file_calls.and_then(view) {
        Some(view) => ProjectRole::Calls(view),
        None => ProjectRole::Alone,
    };
    let path = file.path;
    let outcome = guarded(settings.file_timeout, || {
        fixed_outcome(analyzed, path, settings, registry, round_role)
    });
    Some(outcome.unwrap_or_else(FileOutcome::Error))
}

/// Whether a file is a pytest `conftest.py`.
fn is_conftest(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "conftest.py")
}
