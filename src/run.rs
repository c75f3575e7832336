//! One run: discover files, analyse them in parallel (one parser per thread, a panic in one
//! file caught and reported), then hand every result, in sorted order, to the one consumer
//! that reports and writes. Returns a [`Summary`]; the exit code is decided from it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::Read;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::analyze::{FileContext, Finding, analyze, settle_speculation};
use crate::cache::{
    Cache, Entry, Key as CacheKey, Previous, Shape, Stamp, calls_key, decode_scan, decode_summary,
    encode_outcome, encode_scan, encode_summary, restore_outcome,
};
use crate::codemod::Registry;
use crate::discover::discover;
use crate::fix::{Applicability, CheckMask, fix_file_masked};
use crate::lexical::{
    LexicalFacts, bodies_a_fix_round_leaves_out, may_need_analysis, needs_analysis,
};
use crate::masked::blank_bodies;
use crate::outcome::{FileOutcome, FileReport, FixedFile, Summary};
use crate::parse::{KeyNodes, ParsedFile, parse, parse_skipping};
use crate::project::{
    EvidenceCalls, FileSummary, LexicalProject, LexicalSummary, ModuleInfo, ModuleMap,
    ProjectCalls, ProjectFile, ProjectLookup, ProjectView, settle, summarize,
};
use crate::report::Reporter;
use crate::report::progress::Progress;
use crate::scope::Lines;
use crate::semantic::build_index;
use crate::settings::{Mode, Settings};
use crate::source::{LineIndex, SourceText};
use crate::write::{Fingerprint, write_atomically};

fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let shown = relative.display().to_string();
    shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown)
}

/// How many extra rounds of fixes one file gets (nested fixes need one round per level).
pub const MAX_FIX_ROUNDS: usize = 8;

/// A package's `__init__.py` re-exports what it imports: its imports are never removed.
pub fn keeps_unused_imports(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "__init__.py")
}

/// Parse, index and analyse `text` (the file at `path`), dropping the findings its
/// per-file ignores silence. Also returns how many syntax errors `text` has: a fix must not
/// add any.
pub fn find(
    text: &str,
    line_ending: &str,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> (Vec<Finding>, usize) {
    let (findings, errors, _) = find_in_project(
        text,
        line_ending,
        path,
        settings,
        registry,
        ProjectRole::Alone,
        true,
        None,
    );
    (findings, errors)
}

/// What the project phase asks of one file's pass.
#[derive(Clone, Copy)]
enum ProjectRole<'a> {
    /// No project phase.
    Alone,
    /// First pass: summarise the file's functions, and analyse it when `analyse` says so
    /// (`None`: when the pre-filter, or the word `async`, does).
    Summarize {
        module: &'a ModuleInfo,
        map: &'a ModuleMap,
        analyse: Option<bool>,
        /// Analyse the file's project calls under each outcome (and the file, even when
        /// `analyse` says no), for the settling to choose from.
        speculate: Option<&'a LexicalProject<'a>>,
        /// Function bodies the parse leaves out (byte ranges of the file as read; see
        /// `masked.rs`): only for a file the pre-filter found nothing in.
        left_out: &'a [Range<usize>],
    },
    /// Second pass, for a file with calls reaching project coroutines or blocking functions.
    Calls(ProjectView<'a>),
}

impl ProjectRole<'_> {
    /// What the fix rounds after this pass know of the project's calls: they are looked up
    /// by name, never summarised again.
    fn round_role(self) -> Self {
        match self {
            ProjectRole::Calls(view) => ProjectRole::Calls(view),
            _ => ProjectRole::Alone,
        }
    }
}

/// [`find`], with the part the project phase asks of the file; `analyse: false` only
/// summarises (a file that cannot have a finding). `parsed`: the parse of `text` when one was
/// already made (the check of a fix), so it is not parsed twice.
#[allow(clippy::too_many_arguments)]
fn find_in_project(
    text: &str,
    line_ending: &str,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
    analyse: bool,
    parsed: Option<ParsedFile>,
) -> (Vec<Finding>, usize, Option<crate::project::FileSummary>) {
    let parsed = parsed.unwrap_or_else(|| {
        log_parse(path, text.len(), analyse, role);
        parse(text)
    });
    let index = build_index(&parsed.tree, text);
    let nodes = KeyNodes::of(&parsed.tree);
    let context = FileContext {
        path,
        text,
        line_ending,
        parsed: &parsed,
        nodes: &nodes,
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
        project: match role {
            ProjectRole::Calls(view) => Some(view),
            ProjectRole::Summarize {
                module,
                map,
                speculate: Some(lexical),
                ..
            } if analyse => Some(ProjectView {
                lookup: ProjectLookup::Speculative(lexical),
                module,
                map,
            }),
            _ => None,
        },
    };
    panic_if_asked(path);
    let summary = match role {
        ProjectRole::Summarize { module, map, .. } => Some(summarize(
            &context,
            module,
            map,
            registry,
            &settings.selection,
        )),
        _ => None,
    };
    let mut findings = if analyse {
        analyze(&context, registry, &settings.selection)
    } else {
        Vec::new()
    };
    findings.retain(|finding| !settings.per_file_ignores.ignores(path, &finding.code));
    (findings, parsed.error_ranges.len(), summary)
}

/// Analyse (and in fix mode, fix) one file's bytes.
pub fn process_source(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> FileOutcome {
    process_in_project(bytes, path, settings, registry, ProjectRole::Alone).0
}

/// Analyse one file's bytes, with the part the project phase asks of it.
fn process_in_project(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (FileOutcome, Option<crate::project::FileSummary>) {
    let (analysed, summary) = analyse_in_project(bytes, path, settings, registry, role);
    let outcome = match analysed {
        Ok(analysed) => finish(analysed, path, settings, registry, role.round_role()),
        Err(outcome) => outcome,
    };
    (outcome, summary)
}

/// A file analysed, its fixes not yet made.
struct Analysed {
    source: SourceText,
    findings: Vec<Finding>,
    /// `None` when the parse was masked: its errors are not the file's.
    syntax_errors: Option<usize>,
    fingerprint: Fingerprint,
    /// Analysed only to speculate on its project calls: the pre-filter found nothing for the
    /// per-file rules, so without project calls it has no findings (it is only summarised).
    speculative_only: bool,
}

/// Decode, parse and analyse one file (and summarise it, when the project phase asks);
/// `Err`: the outcome is already known (it could not be decoded, it cannot have a finding).
fn analyse_in_project(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (
    Result<Analysed, FileOutcome>,
    Option<crate::project::FileSummary>,
) {
    let source = match SourceText::decode(bytes) {
        Ok(source) => source,
        Err(err) => return (Err(FileOutcome::Error(err.to_string())), None),
    };
    // A matched call needs its module's and function's names in the text (an alias still
    // imports them by name), and async context needs the word `async`: a file that cannot
    // have a finding is not parsed, unless the project phase needs its functions.
    let may_match = match role {
        ProjectRole::Alone => needs_analysis(&source.text, registry, &settings.selection),
        ProjectRole::Summarize {
            analyse: Some(analyse),
            ..
        } => analyse,
        // Without the project's lexical pass (stdin), any call in a coroutine may reach a
        // project function.
        ProjectRole::Summarize { analyse: None, .. } => {
            source.text.contains("async")
                || needs_analysis(&source.text, registry, &settings.selection)
        }
        ProjectRole::Calls(_) => true,
    };
    // A file the lexical pass found may have project findings is analysed for them now,
    // before the settling, so it need not be parsed again after.
    let speculative_only = !may_match
        && matches!(
            role,
            ProjectRole::Summarize {
                speculate: Some(_),
                ..
            }
        );
    let analyse = may_match || speculative_only;
    // Functions and re-exports (an `__init__.py` of imports only) both matter.
    let summarizing = matches!(role, ProjectRole::Summarize { .. })
        && (source.text.contains("def") || source.text.contains("import"));
    if !analyse && !summarizing {
        return (Err(FileOutcome::nothing_found()), None);
    }
    // The lexical pass's offsets are the bytes': a file decoded into other bytes (a BOM, an
    // encoding) is parsed whole.
    let masked = match role {
        ProjectRole::Summarize { left_out, .. }
            if !left_out.is_empty() && source.text.len() == bytes.len() =>
        {
            blank_bodies(&source.text, left_out)
        }
        _ => None,
    };
    let parsed = masked.as_ref().map(|masked| {
        log_parse(path, masked.text.len(), analyse, role);
        parse_skipping(&masked.text, &masked.skippable)
    });
    let (findings, syntax_errors, summary) = find_in_project(
        masked.as_ref().map_or(&source.text, |masked| &masked.text),
        source.line_ending.as_str(),
        path,
        settings,
        registry,
        role,
        analyse,
        parsed,
    );
    let analysed = Analysed {
        source,
        fingerprint: Fingerprint::of(bytes),
        findings,
        syntax_errors: masked.is_none().then_some(syntax_errors),
        speculative_only,
    };
    (Ok(analysed), summary)
}

/// Make an analysed file's fixes (in fix mode) and its outcome. `round_role`: what the fix
/// rounds know of the project's calls.
fn finish(
    analysed: Analysed,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    round_role: ProjectRole,
) -> FileOutcome {
    let Analysed {
        source,
        mut findings,
        syntax_errors,
        fingerprint,
        ..
    } = analysed;
    keep_in_scope(&mut findings, path, &source.text, &source.text, settings);
    let mut applied = vec![false; findings.len()];
    let mut fixed = None;
    let mut rejected = None;
    if let Some(threshold) = settings.mode.threshold()
        && findings.iter().any(|f| f.fix.is_some())
    {
        let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
        let keep_imports = keeps_unused_imports(path);
        // The rounds below read only what the fixes changed and the findings' code: their
        // parses leave out the other bodies (`lexical::bodies_a_fix_round_leaves_out`).
        let leave_out =
            |text: &str, keep: &[Range<usize>]| bodies_a_fix_round_leaves_out(text, keep, registry);
        let finding_ranges: Vec<Range<usize>> = findings.iter().map(|f| f.range.clone()).collect();
        let mask = CheckMask {
            findings: &finding_ranges,
            bodies_left_out: &leave_out,
        };
        let outcome = fix_file_masked(
            &source.text,
            syntax_errors,
            &fixes,
            threshold,
            keep_imports,
            Some(&mask),
        );
        applied = outcome.applied;
        rejected = outcome.rejected;
        let mut fixed_text = outcome.fixed_text;
        let mut fixed_parse = outcome.parsed;
        // The fixed text is analysed again until nothing more applies, so that one run converges
        // where a second run would change the file again: fixes skipped because they overlapped
        // another (a call nested in a fixed call), calls that resolve only once a fix added an
        // import (`httpx.request` after `import httpx`), and, in a file with syntax errors,
        // calls tree-sitter's error recovery reads differently once the file changed.
        for _ in 0..MAX_FIX_ROUNDS {
            let Some(current) = fixed_text.as_deref() else {
                break;
            };
            let (parsed, masked_text) = match fixed_parse.take() {
                Some(checked) => (Some(checked.parsed), checked.masked_text),
                None => (None, None),
            };
            // A masked parse's errors are not all the text's: counted again if a fix has any.
            let masked = masked_text.is_some();
            let (mut more, round_errors, _) = find_in_project(
                masked_text.as_deref().unwrap_or(current),
                source.line_ending.as_str(),
                path,
                settings,
                registry,
                round_role,
                true,
                parsed,
            );
            keep_in_scope(&mut more, path, &source.text, current, settings);
            let more_fixes: Vec<_> = more.iter().map(|f| f.fix.as_ref()).collect();
            let more_ranges: Vec<Range<usize>> = more.iter().map(|f| f.range.clone()).collect();
            let mask = CheckMask {
                findings: &more_ranges,
                bodies_left_out: &leave_out,
            };
            let round = fix_file_masked(
                current,
                (!masked).then_some(round_errors),
                &more_fixes,
                threshold,
                keep_imports,
                Some(&mask),
            );
            let Some(next) = round.fixed_text else {
                break;
            };
            // Credit the original findings that were left over, rule by rule: the one with the
            // same call text first (it may have had no fix before, next to a syntax error that
            // tree-sitter now reads differently), then one that had a fix (skipped for an
            // overlap), then any (its fix appeared once the text changed: an import added).
            for (finding, done) in more.iter().zip(&round.applied) {
                if !done {
                    continue;
                }
                let call = current.get(finding.range.clone());
                let same_call = |f: &Finding| source.text.get(f.range.clone()) == call;
                if let Some(original) = findings
                    .iter()
                    .zip(applied.iter_mut())
                    .filter(|(f, a)| !**a && f.code == finding.code)
                    .min_by_key(|(f, _)| (!same_call(f), f.fix.is_none()))
                {
                    *original.1 = true;
                }
            }
            fixed_text = Some(next);
            fixed_parse = round.parsed;
        }
        if let Some(text) = fixed_text {
            match source.encode(&text) {
                Some(bytes) => {
                    fixed = Some(Box::new(FixedFile {
                        text,
                        bytes,
                        read_as: fingerprint,
                    }))
                }
                None => {
                    applied.iter_mut().for_each(|a| *a = false);
                    rejected =
                        Some("the fixed text cannot be written in the file's encoding".to_owned());
                }
            }
        }
    }
    let (text, fingerprint) = if findings.is_empty() {
        (String::new(), None)
    } else {
        (source.text, Some(fingerprint))
    };
    FileOutcome::Checked {
        text,
        findings,
        applied,
        fixed,
        rejected,
        fingerprint,
    }
}

/// With a scope (`--since`): keep the findings of `current`, the text of the file at `path`
/// that was `original` before this run's fixes, that are on lines in scope; the lines follow
/// the fixes made so far. Without one, keep them all.
pub fn keep_in_scope(
    findings: &mut Vec<Finding>,
    path: &Path,
    original: &str,
    current: &str,
    settings: &Settings,
) {
    let Some(scope) = &settings.scope else {
        return;
    };
    let lines = scope
        .file(path)
        .cloned()
        .unwrap_or(Lines::Ranges(Vec::new()));
    let lines = if original == current {
        lines
    } else {
        lines.carried(original, current)
    };
    let index = LineIndex::new(current);
    findings.retain(|finding| {
        let first = index.line_of(finding.range.start) + 1;
        let last = index.line_of(finding.range.end) + 1;
        lines.covers(first, last)
    });
}

fn process_path(
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (FileOutcome, Option<crate::project::FileSummary>) {
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => return (FileOutcome::Error(message), None),
    };
    isolate_panics(|| process_in_project(&bytes, path, settings, registry, role))
}

/// A file's bytes, or the message that says why they could not be read.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|err| format!("could not read the file: {err}"))
}

/// A panic while analysing one file becomes that file's error; the run goes on.
fn isolate_panics<T: Default>(work: impl FnOnce() -> (FileOutcome, T)) -> (FileOutcome, T) {
    guarded(work).unwrap_or_else(|message| (FileOutcome::Error(message), T::default()))
}

/// `work`'s result, or, when it panics, the error that reports the panic.
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        format!("internal error while analysing this file (please report it): {message}")
    })
}

/// Test hook for the per-file panic guard (docs/reliability.md): with the environment variable
/// `UNFREEZE_TEST_PANIC_ON=NAME`, analysing a file named `NAME` panics, so the tests can check
/// that the run reports that file and goes on. Read once per process; unset, it does nothing.
fn panic_if_asked(path: &Path) {
    static NAME: OnceLock<Option<OsString>> = OnceLock::new();
    let name = NAME.get_or_init(|| std::env::var_os("UNFREEZE_TEST_PANIC_ON"));
    if let Some(name) = name
        && path.file_name() == Some(name.as_os_str())
    {
        panic!(
            "deliberate panic (UNFREEZE_TEST_PANIC_ON={})",
            name.display()
        );
    }
}

/// Measurement hook for docs/benchmarks.md: with the environment variable
/// `UNFREEZE_DEBUG_PARSED` set, each parse of a file prints a line on stderr (`parsed`, the
/// path, its size in bytes, why it was parsed, and the bytes of the function bodies the parse
/// leaves out), so a change to the pre-filters can be measured in bytes parsed. Read once per
/// process.
#[allow(
    clippy::print_stderr,
    reason = "a developer's measurement hook, off by default"
)]
fn log_parse(path: &Path, bytes: usize, analyse: bool, role: ProjectRole) {
    static ON: OnceLock<bool> = OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("UNFREEZE_DEBUG_PARSED").is_some()) {
        return;
    }
    let why = match role {
        ProjectRole::Alone => "analyse",
        // Analysed only to speculate on its project calls.
        ProjectRole::Summarize {
            analyse: Some(false),
            speculate: Some(_),
            ..
        } => "speculate+summarise",
        ProjectRole::Summarize { .. } if analyse => "analyse+summarise",
        ProjectRole::Summarize { .. } => "summarise",
        ProjectRole::Calls(_) => "project-calls",
    };
    let left_out: usize = match role {
        ProjectRole::Summarize { left_out, .. } => left_out.iter().map(|body| body.len()).sum(),
        _ => 0,
    };
    eprintln!("parsed\t{}\t{bytes}\t{why}\t{left_out}", path.display());
}

/// Discover the settings' paths and analyse every file in parallel (a progress bar on a long
/// run, when the settings ask for one). The paths that could not be walked come first, as
/// errors, then every file in sorted order.
pub fn analyze_paths(settings: &Settings, registry: &Registry) -> Vec<FileReport> {
    let mut discovered = discover(
        &settings.paths,
        &settings.exclude,
        settings.forced_excludes.as_ref(),
    );
    if let Some(scope) = &settings.scope {
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
    let mut cache = match (&settings.cache_dir, &settings.scope) {
        (Some(dir), None) => Cache::open(dir, settings),
        _ => None,
    };
    let outcomes = analyse_files(
        &discovered.files,
        &roots,
        settings,
        registry,
        &progress,
        cache.as_mut(),
    );
    progress.finish();
    reports.extend(
        discovered
            .files
            .iter()
            .zip(outcomes)
            .map(|(path, outcome)| FileReport {
                display_path: display_path(path),
                path: path.clone(),
                outcome,
                write_error: None,
            }),
    );
    reports
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

/// Analyse every file; with a project rule enabled, the first pass also summarises each
/// file, the summaries are settled across files, and the files with calls reaching project
/// coroutines or blocking project functions get a second pass that reports them.
fn analyse_files(
    files: &[PathBuf],
    roots: &[PathBuf],
    settings: &Settings,
    registry: &Registry,
    progress: &Progress,
    cache: Option<&mut Cache>,
) -> Vec<FileOutcome> {
    if !needs_project(settings, registry) {
        return analyse_files_alone(files, settings, registry, progress, cache);
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
    if let Some(outcomes) = replay(files, &read, &previous) {
        files.iter().for_each(|_| progress.advance());
        return outcomes;
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
    outcomes
}

/// Which pass summarised a file: the first one analyses it too, an on-demand one only
/// summarises it (a file without functions or imports then has no summary).
#[derive(Clone, Copy)]
enum SummaryPass {
    First,
    OnDemand,
}

/// The key of a file's cached summary: the bodies its parse left out, and the pass.
fn summary_key(left_out: &[Range<usize>], pass: SummaryPass) -> CacheKey {
    crate::cache::summary_key(left_out, matches!(pass, SummaryPass::OnDemand))
}

/// The last run's outcomes, when it ran over the same files with the same bytes (every scan
/// came from the cache, `read`) and each outcome can be restored.
fn replay(files: &[PathBuf], read: &[ScanRead], previous: &Previous) -> Option<Vec<FileOutcome>> {
    if !previous.covers(files.len()) || read.iter().any(|read| read.scan.is_some()) {
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

/// Analyse every file on its own (no project rule is enabled), reusing the outcome the cache
/// holds for a file whose bytes did not change.
fn analyse_files_alone(
    files: &[PathBuf],
    settings: &Settings,
    registry: &Registry,
    progress: &Progress,
    cache: Option<&mut Cache>,
) -> Vec<FileOutcome> {
    let Some(cache) = cache else {
        return files
            .par_iter()
            .map(|path| {
                let outcome = process_path(path, settings, registry, ProjectRole::Alone).0;
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
                            let outcome = isolate_panics(|| {
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
fn outcome_entry(
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

/// The first pass's role for a file: summarised (a module of the project), analysed when
/// `analyse` says so, speculating on its project calls when the lexical pass is settled.
fn first_pass_role<'a>(
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
struct FirstPass {
    /// Its outcome, or its analysis waiting for the settling.
    analysed: Result<Analysed, FileOutcome>,
    summary: Option<FileSummary>,
    /// The summary as the cache keeps it, when the run keeps one.
    encoded: Option<(CacheKey, Vec<u8>)>,
}

/// Read, analyse (speculating on its project calls) and summarise one file. A file with
/// findings waits for the settling (its findings may depend on it, and so may its fixes);
/// the others are done.
fn first_pass(
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
fn mattering_targets<'s>(
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
fn reexported<'s>(summary: &'s FileSummary, rest: &'s str) -> impl Iterator<Item = String> + 's {
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

/// What the project phase's lexical pass learnt of one file.
enum LexicalScan {
    /// Nothing more to do: the file could not be read or decoded.
    Done(FileOutcome),
    /// The tokenizer could not follow the file: it is parsed.
    Unscanned,
    Scanned {
        /// The pre-filter's answer.
        needs_analysis: bool,
        /// For a module of the project.
        summary: Option<Box<LexicalSummary>>,
    },
}

/// One file's lexical scan as the run read it.
struct ScanRead {
    /// The fingerprint of the file's bytes, when the run keeps a cache.
    content: Option<Fingerprint>,
    /// The file's stamp, taken before its bytes were read.
    stamp: Option<Stamp>,
    /// `None`: the cache holds the scan of these bytes, decoded only if the run needs it.
    scan: Option<LexicalScan>,
    /// The scan as the cache keeps it.
    encoded: Option<Vec<u8>>,
}

/// Read and scan one file, unless `previous` (the cache) holds the scan of its bytes.
fn scan_file(
    path: &Path,
    module: Option<(&ModuleInfo, &ModuleMap)>,
    settings: &Settings,
    registry: &Registry,
    evidence: &EvidenceCalls,
    caching: bool,
    previous: Option<&Entry>,
) -> ScanRead {
    // Taken before the bytes are read: a change in between shows in the next run's stamp.
    let stamp = if caching { Stamp::of(path) } else { None };
    let cached = |content: Option<Fingerprint>| {
        let entry = previous.filter(|entry| entry.scan.is_some())?;
        let unchanged = match content {
            Some(content) => entry.content == content,
            None => entry.unchanged(stamp),
        };
        unchanged.then_some(ScanRead {
            content: Some(entry.content),
            stamp,
            scan: None,
            encoded: None,
        })
    };
    if let Some(read) = cached(None) {
        return read;
    }
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => {
            return ScanRead {
                content: None,
                stamp: None,
                scan: Some(LexicalScan::Done(FileOutcome::Error(message))),
                encoded: None,
            };
        }
    };
    let content = caching.then(|| Fingerprint::of(&bytes));
    if let Some(read) = content.and_then(|content| cached(Some(content))) {
        return read;
    }
    let scan = scan_lexically(&bytes, module, settings, registry, evidence);
    let encoded = match &scan {
        _ if !caching => None,
        LexicalScan::Scanned {
            needs_analysis,
            summary,
        } => Some(encode_scan(Some((*needs_analysis, summary.as_deref())))),
        LexicalScan::Unscanned => Some(encode_scan(None)),
        LexicalScan::Done(_) => None,
    };
    ScanRead {
        content,
        stamp,
        scan: Some(scan),
        encoded,
    }
}

/// Scan one file's bytes: the pre-filter's answer, and, for a module of the project, its
/// lexical summary.
fn scan_lexically(
    bytes: &[u8],
    module: Option<(&ModuleInfo, &ModuleMap)>,
    settings: &Settings,
    registry: &Registry,
    evidence: &EvidenceCalls,
) -> LexicalScan {
    // The scan needs only the text: UTF-8 is read in place (the scanner skips a BOM); other
    // files go through the full decoding (a coding cookie, or the error it reports).
    let decoded;
    let text = match std::str::from_utf8(bytes) {
        Ok(text) if !bytes.contains(&0) => text,
        _ => match SourceText::decode(bytes) {
            Ok(source) => {
                decoded = source.text;
                &decoded
            }
            Err(err) => return LexicalScan::Done(FileOutcome::Error(err.to_string())),
        },
    };
    let Some(facts) = LexicalFacts::scan_functions(text, registry.interesting_words()) else {
        return LexicalScan::Unscanned;
    };
    let needs_analysis = may_need_analysis(text, registry, &settings.selection)
        && facts.needs_analysis(registry, &settings.selection);
    let summary = module.map(|(module, map)| {
        let mut summary =
            LexicalSummary::of(&facts, evidence, module, &|name| map.is_project_name(name));
        if needs_analysis {
            summary.keep_bodies_the_file_rules_read(&facts, text, registry);
        }
        Box::new(summary)
    });
    LexicalScan::Scanned {
        needs_analysis,
        summary,
    }
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
    for mut report in analyze_paths(settings, registry) {
        if let (
            Mode::Fix { write: true, .. },
            FileOutcome::Checked {
                fixed: Some(fixed),
                applied,
                ..
            },
        ) = (settings.mode, &mut report.outcome)
            && let Err(err) = write_atomically(&report.path, &fixed.bytes, fixed.read_as)
        {
            // Nothing of this file was written: none of its fixes is applied.
            report.write_error = Some(err.to_string());
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

/// The source read from stdin, analysed as a project of one file.
fn stdin_outcome(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> FileOutcome {
    let single = || process_in_project(bytes, path, settings, registry, ProjectRole::Alone);
    if !needs_project(settings, registry) {
        return isolate_panics(single).0;
    }
    let module = ModuleInfo {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty() && s != "-")
            .unwrap_or_else(|| "stdin".to_owned()),
        is_package: false,
        names: Vec::new(),
    };
    let module = ModuleInfo {
        names: vec![module.name.clone()],
        ..module
    };
    let map = ModuleMap::default();
    let role = ProjectRole::Summarize {
        module: &module,
        map: &map,
        analyse: None,
        speculate: None,
        left_out: &[],
    };
    let (outcome, summary) =
        isolate_panics(|| process_in_project(bytes, path, settings, registry, role));
    let Some(summary) = summary else {
        return outcome;
    };
    let files = [ProjectFile {
        display_path: display_path(path),
        module,
        summary,
    }];
    let Some(calls) = settle(&files).pop().flatten() else {
        return outcome;
    };
    let [file] = files;
    let role = ProjectRole::Calls(ProjectView {
        lookup: ProjectLookup::Settled(&calls),
        module: &file.module,
        map: &map,
    });
    isolate_panics(|| process_in_project(bytes, path, settings, registry, role)).0
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
                match finding.fix.as_ref().map(|fix| fix.applicability) {
                    Some(Applicability::Safe) => summary.safe_fixable += 1,
                    Some(Applicability::Unsafe) => summary.unsafe_fixable += 1,
                    // Fixed in a later round of the run (syntax errors read differently).
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
