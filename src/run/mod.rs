//! One run: discover files, analyze them in parallel (one parser per thread, a panic in one
//! file caught and reported), then hand every result, in sorted order, to the one consumer
//! that reports and writes. Returns a [`Summary`]; the exit code is decided from it.
//!
//! The steps, each in its own file: `scan` (the lexical pass over every file), `file` (one
//! file's decode, parse, index and analysis), `rounds` (its fixes, round after round until
//! nothing more applies), `project` (the project phase: summaries, settling, second pass),
//! `cached` (the result cache around the per-file step), `stdin` (a project of one file),
//! `warm` (the project kept for the language server, its buffers settled with it).

mod as_ready;
mod cached;
mod file;
mod labels;
mod process;
mod project;
mod rounds;
mod scan;
mod stdin;
mod warm;
mod wrapped;

pub use file::find;
pub use process::process_source;
pub use rounds::{
    MAX_FIX_ROUNDS, Refinder, keep_in_line_scope, keeps_unused_imports, until_stable,
};
pub use stdin::stdin_outcome as analyze_buffer;
pub use warm::WarmProject;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::codemod::Registry;
use crate::discover::discover;
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::project::{ModuleMap, ProjectCalls, ProjectFile, ProjectLookup, ProjectView};
use crate::report::Reporter;
use crate::report::progress::Progress;
use crate::settings::{Mode, Settings};

use self::as_ready::{AsReady, write_fixed};
use self::file::ProjectRole;
use self::project::analyze_files;
use self::stdin::stdin_outcome;

fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let shown = relative.display().to_string();
    shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown)
}

/// Discover the settings' paths and analyze every file in parallel (a progress bar on a long
/// run, when the settings ask for one). The paths that could not be walked come first, as
/// errors, then every file in sorted order.
pub fn analyze_paths(settings: &Settings, registry: &Registry) -> Vec<FileReport> {
    analyze(settings, registry, false).reports
}

/// A run's analysis: every file's report and, when the project phase ran and was asked to
/// keep it, what each file's calls reach, for the fix rounds of the review.
pub struct Analysis {
    pub reports: Vec<FileReport>,
    project: Option<SettledProject>,
}

/// What the project phase settled: the module map and, per file with any, the calls that
/// reach project coroutines or blocking project functions; the files it was built from (the
/// map's indexes) and the summaries it settled, by file index (`warm.rs` settles them again
/// with an editor's buffer).
struct SettledProject {
    map: ModuleMap,
    calls: HashMap<PathBuf, ProjectCalls>,
    files: Vec<PathBuf>,
    summaries: Vec<(usize, ProjectFile)>,
}

impl Analysis {
    /// The refinder for the fix rounds of the file at `path` whose text was `original`:
    /// with the file's settled project calls, so later rounds find what the first found.
    pub fn refinder<'a>(
        &'a self,
        path: &'a Path,
        original: &'a str,
        line_ending: &'a str,
        settings: &'a Settings,
        registry: &'a Registry,
    ) -> Refinder<'a> {
        let role = self
            .project
            .as_ref()
            .and_then(|project| {
                Some(ProjectRole::Calls(ProjectView {
                    lookup: ProjectLookup::Settled(project.calls.get(path)?),
                    module: project.map.module(path)?,
                    map: &project.map,
                }))
            })
            .unwrap_or(ProjectRole::Alone);
        Refinder {
            path,
            settings,
            registry,
            role,
            original,
            line_ending,
        }
    }
}

/// [`analyze_paths`], keeping what the project phase settled when `keep_project` says so
/// (see [`Analysis::refinder`]).
pub fn analyze(settings: &Settings, registry: &Registry, keep_project: bool) -> Analysis {
    analyze_writing(settings, registry, keep_project, false).0
}

/// [`analyze`]; with `writes`, each file's fixed text is written as soon as its outcome is
/// final (`as_ready.rs`). Per report, whether it was handed over to be written (then its
/// `write_error` is set when the write failed).
fn analyze_writing(
    settings: &Settings,
    registry: &Registry,
    keep_project: bool,
    writes: bool,
) -> (Analysis, Vec<bool>) {
    let mut discovered = discover(
        &settings.paths,
        &settings.exclude,
        settings.forced_excludes.as_ref(),
    );
    if let Some(scope) = &settings.line_scope {
        discovered.files.retain(|path| scope.file(path).is_some());
    }
    let mut reports: Vec<FileReport> = discovered
        .errors
        .iter()
        .map(|error| FileReport {
            display_path: display_path(&error.path),
            path: error.path.clone(),
            outcome: FileOutcome::Error(error.message.clone()),
            write_error: None,
        })
        .collect();
    let progress = Progress::new(discovered.files.len(), settings.progress);
    let mut roots = settings.paths.clone();
    if settings.config.path.is_some() {
        roots.push(settings.config.root.clone());
    }
    // A scope changes with every commit: such runs keep no cache.
    let mut cache = match (&settings.cache_dir, &settings.line_scope) {
        (Some(dir), None) => Cache::open(dir, settings),
        _ => None,
    };
    let mut written = AsReady::new(discovered.files.len(), writes);
    let (outcomes, project) = analyze_files(
        &discovered.files,
        &roots,
        settings,
        registry,
        &progress,
        cache.as_mut(),
        keep_project,
        &written,
    );
    progress.finish();
    let mut handed = vec![false; reports.len()];
    for (i, (path, outcome)) in discovered.files.iter().zip(outcomes).enumerate() {
        let write = written.take(i);
        handed.push(write.is_some());
        reports.push(FileReport {
            display_path: display_path(path),
            path: path.clone(),
            outcome,
            write_error: write.flatten(),
        });
    }
    (Analysis { reports, project }, handed)
}

/// Whether the run reports a rule that needs the project phase.
fn needs_project(settings: &Settings, registry: &Registry) -> bool {
    registry
        .coroutine_codemods()
        .iter()
        .chain(registry.blocking_codemods())
        .any(|&i| {
            let codemod = registry.codemod(i);
            settings
                .selection
                .is_enabled(&codemod.code, codemod.default_enabled)
        })
}

/// Run over the settings' paths (or stdin), reporting through `reporter`.
pub fn run(
    settings: &Settings,
    registry: &Registry,
    reporter: &mut dyn Reporter,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    if settings.read_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        let path = settings
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        // `--force-exclude` with an excluded `--stdin-filename`: passed through untouched.
        let excluded = settings.stdin_filename.as_ref().is_some_and(|name| {
            settings
                .forced_excludes
                .as_ref()
                .is_some_and(|forced| forced.excludes(name))
        });
        let outcome = if excluded {
            FileOutcome::nothing_found()
        } else {
            stdin_outcome(&bytes, &path, settings, registry)
        };
        let report = FileReport {
            display_path: display_path(&path),
            path,
            outcome,
            write_error: None,
        };
        tally(&mut summary, &report);
        reporter.stdin_file(&report, &bytes)?;
        reporter.finish(&summary)?;
        return Ok(summary);
    }
    let writes = matches!(settings.mode, Mode::Fix { write: true, .. });
    let mut output_error = None;
    let (analysis, handed) = analyze_writing(settings, registry, false, writes);
    for (mut report, handed) in analysis.reports.into_iter().zip(handed) {
        // Most files were written as their outcome was ready; the others are written now.
        if writes && !handed {
            report.write_error = write_fixed(&report.path, &report.outcome);
        }
        if report.write_error.is_some()
            && let FileOutcome::Checked { applied, .. } = &mut report.outcome
        {
            // Nothing of this file was written: none of its fixes is applied.
            applied.iter_mut().for_each(|a| *a = false);
        }
        tally(&mut summary, &report);
        report_file(reporter, &report, writes, &mut output_error)?;
    }
    match output_error {
        // The reader went away (`| head`): every file is written, the exit code still tells.
        Some(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(summary),
        Some(err) => return Err(err),
        None => {}
    }
    reporter.finish(&summary)?;
    Ok(summary)
}

/// Hand one report to the reporter. When the run writes files, an output that fails (stdout
/// closed: `fix --write | head`) must not stop the writes half-way: the first error is kept,
/// reporting stops, and the run deals with it once every file is written.
fn report_file(
    reporter: &mut dyn Reporter,
    report: &FileReport,
    writes: bool,
    output_error: &mut Option<std::io::Error>,
) -> std::io::Result<()> {
    if output_error.is_some() {
        return Ok(());
    }
    match reporter.file(report) {
        Err(err) if writes => {
            *output_error = Some(err);
            Ok(())
        }
        result => result,
    }
}

fn tally(summary: &mut Summary, report: &FileReport) {
    match &report.outcome {
        FileOutcome::Error(_) => summary.errors += 1,
        FileOutcome::Checked {
            findings,
            applied,
            rejected,
            ..
        } => {
            summary.files_checked += 1;
            summary.findings += findings.len();
            let fixed = applied.iter().filter(|a| **a).count();
            summary.fixed += fixed;
            if fixed > 0 {
                summary.files_fixed += 1;
            }
            for (finding, done) in findings.iter().zip(applied) {
                // Fixed in a later round (syntax errors read differently): fixable at the level
                // of that round, as `check` says too.
                let own = finding.fix.as_ref().map(|fix| fix.applicability);
                match own.max(finding.later_round) {
                    Some(Applicability::Safe) => summary.safe_fixable += 1,
                    Some(Applicability::Unsafe) => summary.unsafe_fixable += 1,
                    None if *done => summary.safe_fixable += 1,
                    Some(Applicability::DisplayOnly) | None => summary.unfixable += 1,
                }
            }
            if rejected.is_some() || report.write_error.is_some() {
                summary.errors += 1;
            }
        }
    }
}
