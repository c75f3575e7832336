//! One run: discover files, analyse them in parallel (one parser per thread, a panic in one
//! file caught and reported), then hand every result, in sorted order, to the one consumer
//! that reports and writes. Returns a [`Summary`]; the exit code is decided from it.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::{FileContext, Finding, RuleSelection, analyze};
use crate::codemod::Registry;
use crate::config::{Config, PerFileIgnores};
use crate::discover::discover;
use crate::fix::{Applicability, fix_file};
use crate::parse::parse;
use crate::prefilter::needs_analysis;
use crate::report::Reporter;
use crate::semantic::build_index;
use crate::source::SourceText;
use crate::write::{Fingerprint, write_atomically};

/// What the run does with the fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Report findings.
    Check,
    /// Compute fixes; print diffs (`write: false`) or apply them.
    Fix { write: bool, unsafe_fixes: bool },
}

impl Mode {
    fn threshold(self) -> Option<Applicability> {
        match self {
            Mode::Check => None,
            Mode::Fix {
                unsafe_fixes: true, ..
            } => Some(Applicability::Unsafe),
            Mode::Fix { .. } => Some(Applicability::Safe),
        }
    }
}

/// Validated settings for one run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    pub paths: Vec<PathBuf>,
    /// Read the source from stdin, reported under this name.
    pub stdin_filename: Option<PathBuf>,
    pub read_stdin: bool,
    pub exclude: Vec<String>,
    pub selection: RuleSelection,
    pub per_file_ignores: PerFileIgnores,
    /// The configuration file's settings (target version, HTTP client, ...).
    pub config: Config,
}

/// The fixed version of a file.
#[derive(Clone, Debug)]
pub struct FixedFile {
    pub text: String,
    pub bytes: Vec<u8>,
}

/// What happened to one file.
#[derive(Clone, Debug)]
pub enum FileOutcome {
    /// Analysed. `text` is kept only when there is something to show.
    Checked {
        text: String,
        findings: Vec<Finding>,
        /// In fix mode, for each finding, whether its fix is applied.
        applied: Vec<bool>,
        fixed: Option<FixedFile>,
        /// The fixes were computed but their result did not parse.
        rejected: Option<String>,
        fingerprint: Fingerprint,
    },
    /// Could not be read, decoded or analysed.
    Error(String),
}

#[derive(Clone, Debug)]
pub struct FileReport {
    /// The path as displayed (relative to the working directory where possible).
    pub display_path: String,
    pub path: PathBuf,
    pub outcome: FileOutcome,
    /// Set by the consumer in write mode when the write failed.
    pub write_error: Option<String>,
}

impl FileReport {
    pub fn findings(&self) -> &[Finding] {
        match &self.outcome {
            FileOutcome::Checked { findings, .. } => findings,
            FileOutcome::Error(_) => &[],
        }
    }

    /// The analysed file's text, findings and, per finding, whether its fix is applied.
    pub fn checked(&self) -> Option<(&str, &[Finding], &[bool])> {
        match &self.outcome {
            FileOutcome::Checked {
                text,
                findings,
                applied,
                ..
            } => Some((text, findings, applied)),
            FileOutcome::Error(_) => None,
        }
    }
}

/// Counts for the closing summary and the exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files_checked: usize,
    pub findings: usize,
    /// Findings whose fix is applied (or would be, in diff mode).
    pub fixed: usize,
    pub files_fixed: usize,
    /// Findings with a safe fix.
    pub safe_fixable: usize,
    /// Findings whose fix is unsafe (applied only with `--unsafe-fixes`).
    pub unsafe_fixable: usize,
    /// Findings without an applicable fix (none, or display-only).
    pub unfixable: usize,
    pub errors: usize,
}

/// The process exit status, decided in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing found (check), nothing left to fix (fix).
    Clean = 0,
    /// Findings (check), changes proposed or findings left (fix).
    Findings = 1,
    /// A file or the command line could not be processed.
    Error = 2,
}

impl Summary {
    pub fn exit_status(&self, mode: Mode) -> ExitStatus {
        if self.errors > 0 {
            return ExitStatus::Error;
        }
        let outstanding = match mode {
            Mode::Check => self.findings,
            Mode::Fix { write: false, .. } => self.findings,
            Mode::Fix { write: true, .. } => self.findings - self.fixed,
        };
        if outstanding > 0 {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        }
    }
}

fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let shown = relative.display().to_string();
    shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown)
}

/// How many extra rounds of fixes one file gets (nested fixes need one round per level).
const MAX_FIX_ROUNDS: usize = 8;

/// Analyse (and in fix mode, fix) one file's bytes.
pub fn process_source(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> FileOutcome {
    let source = match SourceText::decode(bytes) {
        Ok(source) => source,
        Err(err) => return FileOutcome::Error(err.to_string()),
    };
    // A file that cannot have a finding is not parsed (see `prefilter`).
    if !needs_analysis(&source.text, registry) {
        return FileOutcome::Checked {
            text: String::new(),
            findings: Vec::new(),
            applied: Vec::new(),
            fixed: None,
            rejected: None,
            fingerprint: Fingerprint::of(bytes),
        };
    }
    let parsed = parse(&source.text);
    let index = build_index(&parsed.tree, &source.text);
    let context = FileContext {
        path,
        text: &source.text,
        line_ending: source.line_ending.as_str(),
        parsed: &parsed,
        index: &index,
        target_version: settings.config.target_version,
        http_client: match settings.config.http_client {
            crate::config::HttpClient::Httpx => "httpx",
            crate::config::HttpClient::Httpx2 => "httpx2",
        },
        unsafe_fixes: matches!(
            settings.mode,
            Mode::Fix {
                unsafe_fixes: true,
                ..
            }
        ),
    };
    let mut findings = analyze(&context, registry, &settings.selection);
    findings.retain(|finding| !settings.per_file_ignores.ignores(path, &finding.code));
    let mut applied = vec![false; findings.len()];
    let mut fixed = None;
    let mut rejected = None;
    if let Some(threshold) = settings.mode.threshold()
        && findings.iter().any(|f| f.fix.is_some())
    {
        let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
        let keep_imports = path.file_name().is_some_and(|n| n == "__init__.py");
        let outcome = fix_file(
            &source.text,
            parsed.error_ranges.len(),
            &fixes,
            threshold,
            keep_imports,
        );
        applied = outcome.applied;
        rejected = outcome.rejected;
        let mut fixed_text = outcome.fixed_text;
        let mut overlapped = outcome.overlapped;
        // Fixes skipped because they overlapped another (a call nested in a fixed call) are
        // proposed again on the fixed text: go round until nothing applies, so that one run
        // converges, as the second run would otherwise change the file again.
        for _ in 0..MAX_FIX_ROUNDS {
            let Some(current) = fixed_text.as_deref().filter(|_| overlapped > 0) else {
                break;
            };
            let reparsed = parse(current);
            let reindexed = build_index(&reparsed.tree, current);
            let round_context = FileContext {
                text: current,
                parsed: &reparsed,
                index: &reindexed,
                ..context
            };
            let more = analyze(&round_context, registry, &settings.selection);
            let more_fixes: Vec<_> = more.iter().map(|f| f.fix.as_ref()).collect();
            let round = fix_file(
                current,
                reparsed.error_ranges.len(),
                &more_fixes,
                threshold,
                keep_imports,
            );
            overlapped = round.overlapped;
            let Some(next) = round.fixed_text else {
                break;
            };
            // Credit the original findings that were left over, rule by rule.
            for (finding, done) in more.iter().zip(&round.applied) {
                if !done {
                    continue;
                }
                if let Some(original) = findings
                    .iter()
                    .zip(applied.iter_mut())
                    .find(|(f, a)| !**a && f.code == finding.code && f.fix.is_some())
                {
                    *original.1 = true;
                }
            }
            fixed_text = Some(next);
        }
        if let Some(text) = fixed_text {
            match source.encode(&text) {
                Some(bytes) => fixed = Some(FixedFile { text, bytes }),
                None => {
                    applied.iter_mut().for_each(|a| *a = false);
                    rejected =
                        Some("the fixed text cannot be written in the file's encoding".to_owned());
                }
            }
        }
    }
    let text = if findings.is_empty() {
        String::new()
    } else {
        source.text
    };
    FileOutcome::Checked {
        text,
        findings,
        applied,
        fixed,
        rejected,
        fingerprint: Fingerprint::of(bytes),
    }
}

fn process_path(path: &Path, settings: &Settings, registry: &Registry) -> FileOutcome {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return FileOutcome::Error(format!("could not read the file: {err}")),
    };
    isolate_panics(|| process_source(&bytes, path, settings, registry))
}

/// A panic while analysing one file becomes that file's error; the run goes on.
fn isolate_panics(work: impl FnOnce() -> FileOutcome) -> FileOutcome {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        FileOutcome::Error(format!(
            "internal error while analysing this file (please report it): {message}"
        ))
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
        let outcome = isolate_panics(|| process_source(&bytes, &path, settings, registry));
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
    let discovered = discover(&settings.paths, &settings.exclude);
    for error in &discovered.errors {
        summary.errors += 1;
        let report = FileReport {
            display_path: display_path(&error.path),
            path: error.path.clone(),
            outcome: FileOutcome::Error(error.message.clone()),
            write_error: None,
        };
        reporter.file(&report)?;
    }
    let reports: Vec<FileReport> = discovered
        .files
        .par_iter()
        .map(|path| FileReport {
            display_path: display_path(path),
            path: path.clone(),
            outcome: process_path(path, settings, registry),
            write_error: None,
        })
        .collect();
    for mut report in reports {
        if let (
            Mode::Fix { write: true, .. },
            FileOutcome::Checked {
                fixed: Some(fixed),
                fingerprint,
                applied,
                ..
            },
        ) = (settings.mode, &mut report.outcome)
            && let Err(err) = write_atomically(&report.path, &fixed.bytes, *fingerprint)
        {
            // Nothing of this file was written: none of its fixes is applied.
            report.write_error = Some(err.to_string());
            applied.iter_mut().for_each(|a| *a = false);
        }
        tally(&mut summary, &report);
        reporter.file(&report)?;
    }
    reporter.finish(&summary)?;
    Ok(summary)
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
            for finding in findings {
                match finding.fix.as_ref().map(|fix| fix.applicability) {
                    Some(Applicability::Safe) => summary.safe_fixable += 1,
                    Some(Applicability::Unsafe) => summary.unsafe_fixable += 1,
                    Some(Applicability::DisplayOnly) | None => summary.unfixable += 1,
                }
            }
            if rejected.is_some() || report.write_error.is_some() {
                summary.errors += 1;
            }
        }
    }
}
