//! Reporters: the only code that prints results. One [`Reporter`] is chosen per run; the run
//! hands it every file's report in sorted order, then the summary.

mod github;
mod json;
pub mod progress;
pub mod rules;
mod sarif;
mod statistics;
pub mod summary;
mod text;

use std::io;
use std::path::PathBuf;

pub use github::GithubReporter;
pub use json::JsonReporter;
pub use sarif::SarifReporter;
pub use statistics::StatisticsReporter;
pub use text::TextReporter;

use crate::outcome::{FileReport, Summary};

/// Output formats selectable with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable findings with their source line (and diffs in `fix`).
    Text,
    /// A JSON array of findings with their fixes (see docs/json-format.md).
    Json,
    /// GitHub Actions workflow commands: each finding becomes an annotation on the PR.
    Github,
    /// SARIF 2.1.0 for GitHub code scanning and SARIF viewers, fixes included (docs/sarif.md).
    Sarif,
}

/// The warning for a run whose paths held no Python file (as ruff warns).
pub fn no_python_files(paths: &[PathBuf]) -> String {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "warning: no Python files found under {} (unfreeze checks *.py and *.pyi files that \
         are not excluded)",
        paths.join(", ")
    )
}

pub trait Reporter {
    /// One file's findings, fixes or error.
    fn file(&mut self, report: &FileReport) -> io::Result<()>;
    /// The single file read from stdin; `original` is what was read.
    fn stdin_file(&mut self, report: &FileReport, original: &[u8]) -> io::Result<()>;
    /// After every file.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}
