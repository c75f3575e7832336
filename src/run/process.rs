//! One file, start to end: read, analyzed (the per-file step, `file`) and, in fix mode,
//! fixed round after round (`rounds`), a panic becoming the file's error.

use std::path::Path;

use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::FileSummary;
use crate::settings::Settings;

use super::file::{ProjectRole, analyze_in_project, isolate_panics, read_file};
use super::rounds::fixed_outcome;

/// Analyze (and in fix mode, fix) one file's bytes.
pub fn process_source(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> FileOutcome {
    process_in_project(bytes, path, settings, registry, ProjectRole::Alone).0
}

/// Analyze one file's bytes, with the part the project phase asks of it.
pub(super) fn process_in_project(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (FileOutcome, Option<FileSummary>) {
    let (analyzed, summary) = analyze_in_project(bytes, path, settings, registry, role);
    let outcome = match analyzed {
        Ok(analyzed) => fixed_outcome(analyzed, path, settings, registry, role.round_role()),
        Err(outcome) => outcome,
    };
    (outcome, summary)
}

pub(super) fn process_path(
    path: &Path,
    settings: &Settings,
    registry: &Registry,
    role: ProjectRole,
) -> (FileOutcome, Option<FileSummary>) {
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => return (FileOutcome::Error(message), None),
    };
    isolate_panics(settings.file_timeout, || {
        process_in_project(&bytes, path, settings, registry, role)
    })
}
