//! The per-file step: decode one file's bytes, parse them (whole or masked), index and
//! analyze them, with the part the project phase asks of the file (its summary, its
//! speculation, its settled calls); a panic in one file becomes that file's error.

use std::ffi::OsString;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use crate::analyze::{
    FileContext, Finding, analyze, merge_hops, summarize, syntax_errors as syntax_error_findings,
};
use crate::budget::Exceeded;
use crate::codemod::Registry;
use crate::lexical::needs_analysis;
use crate::masked::blank_bodies;
use crate::outcome::FileOutcome;
use crate::parse::{KeyNodes, ParsedFile, parse, parse_skipping};
use crate::project::{LexicalProject, ModuleInfo, ModuleMap, ProjectLookup, ProjectView};
use crate::semantic::build_index;
use crate::settings::{Mode, Settings};
use crate::source::SourceText;
use crate::write::Fingerprint;

/// Parse, index and analyze `text` (the file at `path`), dropping the findings its
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
pub(super) enum ProjectRole<'a> {
    /// No project phase.
    Alone,
    /// First pass: summarize the file's functions, and analyze it when `with_analysis` says so
    /// (`None`: when the pre-filter, or the word `async`, does).
    Summarize {
        module: &'a ModuleInfo,
        map: &'a ModuleMap,
        with_analysis: Option<bool>,
        /// Analyze the file's project calls under each outcome (and the file, even when
        /// `with_analysis` says no), for the settling to choose from.
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
    /// by name, never summarized again.
    pub(super) fn round_role(self) -> Self {
        match self {
            ProjectRole::Calls(view) => ProjectRole::Calls(view),
            _ => ProjectRole::Alone,
        }
    }
}

/// [`find`], with the part the project phase asks of the file; `with_analysis: false` only
/// summarizes (a file that cannot have a finding). `parsed`: the parse of `text` when one was
/// already made (the check of a fix), so it is not parsed twice.
#[allow(clippy::too_many_arguments)]
pub(super) fn find_in_project(
    text: &str,
    line_ending: &str,
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
    with_analysis: bool,
    parsed: Option<ParsedFile>,
) -> (Vec<Finding>, usize, Option<crate::project::FileSummary>) {
    let parsed = parsed.unwrap_or_else(|| {
        log_parse(path, text.len(), with_analysis, role);
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
        pytest_asyncio_auto: settings.config.pytest_asyncio_auto,
        http_client: &settings.config.http_target,
        unsafe_fixes: matches!(
            settings.mode,
            Mode::Fix {
                unsafe_fixes: true,
                ..
            }
        ),
        name_lookups: registry.name_lookups(),
        project: match role {
            ProjectRole::Calls(view) => Some(view),
            ProjectRole::Summarize {
                module,
                map,
                speculate: Some(lexical),
                ..
            } if with_analysis => Some(ProjectView {
                lookup: ProjectLookup::Speculative(lexical),
                module,
                map,
            }),
            _ => None,
        },
        shared_files: Default::default(),
        await_hazards: Default::default(),
        line_limit: Default::default(),
        single_task: Default::default(),
        path_races: Default::default(),
        strategy_memo: Default::default(),
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
    let mut findings = if with_analysis {
        analyze(&context, registry, &settings.selection)
    } else {
        Vec::new()
    };
    findings.retain(|finding| !settings.per_file_ignores.ignores(path, &finding.code));
    merge_hops(&context, registry, &mut findings);
    (findings, parsed.error_ranges.len(), summary)
}

/// A file analyzed, its fixes not yet made.
pub(super) struct Analyzed {
    pub(super) source: SourceText,
    pub(super) findings: Vec<Finding>,
    /// `None` when the parse was masked: its errors are not the file's.
    pub(super) syntax_errors: Option<usize>,
    /// The file's syntax errors, as findings (`analyze/syntax_error.rs`): only for a file
    /// analyzed, and always counted on a parse of the whole file.
    pub(super) syntax_findings: Vec<Finding>,
    pub(super) fingerprint: Fingerprint,
    /// Analyzed only to speculate on its project calls: the pre-filter found nothing for the
    /// per-file rules, so without project calls it has no findings (it is only summarized).
    pub(super) speculative_only: bool,
}

/// Decode, parse and analyze one file (and summarize it, when the project phase asks);
/// `Err`: the outcome is already known (it could not be decoded, it cannot have a finding).
pub(super) fn analyze_in_project(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (
    Result<Analyzed, FileOutcome>,
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
            with_analysis: Some(with_analysis),
            ..
        } => with_analysis,
        // Without the project's lexical pass (stdin), any call in a coroutine may reach a
        // project function.
        ProjectRole::Summarize {
            with_analysis: None,
            ..
        } => {
            source.text.contains("async")
                || needs_analysis(&source.text, registry, &settings.selection)
        }
        ProjectRole::Calls(_) => true,
    };
    // A file the lexical pass found may have project findings is analyzed for them now,
    // before the settling, so it need not be parsed again after.
    let speculative_only = !may_match
        && matches!(
            role,
            ProjectRole::Summarize {
                speculate: Some(_),
                ..
            }
        );
    let with_analysis = may_match || speculative_only;
    // Functions and re-exports (an `__init__.py` of imports only) both matter.
    let summarizing = matches!(role, ProjectRole::Summarize { .. })
        && (source.text.contains("def") || source.text.contains("import"));
    if !with_analysis && !summarizing {
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
        log_parse(path, masked.text.len(), with_analysis, role);
        parse_skipping(&masked.text, &masked.skippable)
    });
    let (findings, syntax_errors, summary) = find_in_project(
        masked.as_ref().map_or(&source.text, |masked| &masked.text),
        source.line_ending.as_str(),
        path,
        settings,
        registry,
        role,
        with_analysis,
        parsed,
    );
    // Described on a parse of the whole file (a masked parse's errors may be the
    // blanking's); only a file with an error pays for this second parse.
    let syntax_findings = if with_analysis && syntax_errors > 0 {
        syntax_error_findings(&parse(&source.text), &source.text)
    } else {
        Vec::new()
    };
    let analyzed = Analyzed {
        source,
        fingerprint: Fingerprint::of(bytes),
        findings,
        syntax_errors: masked.is_none().then_some(syntax_errors),
        syntax_findings,
        speculative_only,
    };
    (Ok(analyzed), summary)
}

/// A file's bytes, or the message that says why they could not be read.
pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|err| format!("could not read the file: {err}"))
}

/// A panic while analyzing one file becomes that file's error, and so does a spent time
/// budget (`budget`, see `budget.rs`); the run goes on.
pub(super) fn isolate_panics<T: Default>(
    budget: Option<Duration>,
    work: impl FnOnce() -> (FileOutcome, T),
) -> (FileOutcome, T) {
    guarded(budget, work).unwrap_or_else(|message| (FileOutcome::Error(message), T::default()))
}

/// `work`'s result (one pass over one file, within its time `budget`), or, when it panics or
/// its budget is spent, the error that says so.
pub(super) fn guarded<T>(budget: Option<Duration>, work: impl FnOnce() -> T) -> Result<T, String> {
    let result = catch_unwind(AssertUnwindSafe(|| crate::budget::within(budget, work)));
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(Exceeded)) => Err(skipped(budget, "analysing")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(format!(
                "internal error while analysing this file (please report it): {message}"
            ))
        }
    }
}

/// Why a file was skipped when `doing` it spent its time budget.
pub(super) fn skipped(budget: Option<Duration>, doing: &str) -> String {
    let budget = budget.map(crate::budget::shown).unwrap_or_default();
    format!(
        "skipped: {doing} this file took longer than its time budget (--file-timeout {budget}); \
         nothing of it was written"
    )
}

/// Test hook for the per-file panic guard (docs/reliability.md): with the environment variable
/// `UNFREEZE_TEST_PANIC_ON=NAME`, analyzing a file named `NAME` panics, so the tests can check
/// that the run reports that file and goes on. Read once per process; unset, it does nothing.
pub(super) fn panic_if_asked(path: &Path) {
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
pub(super) fn log_parse(path: &Path, bytes: usize, with_analysis: bool, role: ProjectRole) {
    static ON: OnceLock<bool> = OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("UNFREEZE_DEBUG_PARSED").is_some()) {
        return;
    }
    let why = match role {
        ProjectRole::Alone => "analyse",
        // Analyzed only to speculate on its project calls.
        ProjectRole::Summarize {
            with_analysis: Some(false),
            speculate: Some(_),
            ..
        } => "speculate+summarise",
        ProjectRole::Summarize { .. } if with_analysis => "analyse+summarise",
        ProjectRole::Summarize { .. } => "summarise",
        ProjectRole::Calls(_) => "project-calls",
    };
    let left_out: usize = match role {
        ProjectRole::Summarize { left_out, .. } => left_out.iter().map(|body| body.len()).sum(),
        _ => 0,
    };
    eprintln!("parsed\t{}\t{bytes}\t{why}\t{left_out}", path.display());
}
