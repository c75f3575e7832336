//! The result model of a run: what happened to each file (its findings, its fixed text, or
//! an error) and the counts that decide the exit code. Produced by the run loop (or the cache),
//! read by the reporters, the review, the plan and the bot.

use std::path::PathBuf;

use crate::analyze::Finding;
use crate::settings::Mode;
use crate::write::Fingerprint;

/// The fixed version of a file.
#[derive(Clone, Debug)]
pub struct FixedFile {
    pub text: String,
    pub bytes: Vec<u8>,
    /// What the file looked like when it was read: it is written only if it still does.
    pub read_as: Fingerprint,
}

/// What happened to one file.
#[derive(Clone, Debug)]
pub enum FileOutcome {
    /// Analyzed. `text` is kept only when there is something to show.
    Checked {
        text: String,
        findings: Vec<Finding>,
        /// In fix mode, for each finding, whether its fix is applied.
        applied: Vec<bool>,
        fixed: Option<Box<FixedFile>>,
        /// The fixes were computed but their result did not parse (or they were stopped at the
        /// file's time budget: `over_budget`).
        rejected: Option<String>,
        /// The fixes were stopped at the file's time budget (`--file-timeout`): an outcome of
        /// this run's timing, never cached.
        over_budget: bool,
        /// What the file looked like when read: only for a file with findings, the only files
        /// reviewed or planned (hashing every skipped file cost more than a hundredth of a
        /// run).
        fingerprint: Option<Fingerprint>,
    },
    /// Could not be read, decoded or analyzed.
    Error(String),
}

impl FileOutcome {
    /// A file without findings: nothing to show or write.
    pub fn nothing_found() -> FileOutcome {
        FileOutcome::Checked {
            text: String::new(),
            findings: Vec::new(),
            applied: Vec::new(),
            fixed: None,
            rejected: None,
            over_budget: false,
            fingerprint: None,
        }
    }
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

    /// The analyzed file's text, findings and, per finding, whether its fix is applied.
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
