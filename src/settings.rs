//! What one run is asked to do, validated: the mode, the paths, the rule selection and the
//! configuration. Built by `cli` (from arguments and configuration files), read by every step
//! after it; depends on nothing above the configuration.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Config, PerFileIgnores};
use crate::discover::ForcedExcludes;
use crate::fix::Applicability;
use crate::line_scope::LineScope;

/// What the run does with the fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Report findings.
    Check,
    /// Compute fixes; print diffs (`write: false`) or apply them.
    Fix { write: bool, unsafe_fixes: bool },
}

impl Mode {
    pub fn threshold(self) -> Option<Applicability> {
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
    /// `--force-exclude`: the excludes apply to the paths named on the command line too.
    pub forced_excludes: Option<ForcedExcludes>,
    pub selection: RuleSelection,
    pub per_file_ignores: PerFileIgnores,
    /// The configuration file's settings (target version, HTTP client, ...).
    pub config: Config,
    /// Draw a progress bar on stderr during a long analysis (when it is a terminal).
    pub progress: bool,
    /// Only these files and lines (`bot --since`); `None`: everything found.
    pub line_scope: Option<Arc<LineScope>>,
    /// The result cache's directory (`cache.rs`); `None`: no cache (`--no-cache`). Not used
    /// with a scope, nor for stdin.
    pub cache_dir: Option<PathBuf>,
    /// The time budget of one pass over one file (`--file-timeout`, `budget.rs`); `None`: none.
    pub file_timeout: Option<std::time::Duration>,
}

/// Which rule codes a run reports.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// `None`: every rule enabled by default.
    pub select: Option<HashSet<String>>,
    /// Added to the selection (`extend-select`).
    pub extend_select: HashSet<String>,
    pub ignore: HashSet<String>,
}

impl RuleSelection {
    pub fn is_enabled(&self, code: &str, default_enabled: bool) -> bool {
        let selected = match &self.select {
            Some(select) => select.iter().any(|s| matches_code(s, code)),
            None => default_enabled,
        } || self.extend_select.iter().any(|s| matches_code(s, code));
        selected && !self.is_ignored(code)
    }

    /// The code is ignored (`ignore`), whatever the selection says.
    pub fn is_ignored(&self, code: &str) -> bool {
        self.ignore.iter().any(|s| matches_code(s, code))
    }
}

/// `ASYNC` selects `ASYNC251`; `ASYNC2` selects `ASYNC251`; `ALL` selects everything.
fn matches_code(selector: &str, code: &str) -> bool {
    selector == "ALL" || code.starts_with(selector)
}
