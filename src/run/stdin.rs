//! The source read from stdin, analyzed as a project of one file.

use std::path::Path;

use crate::analyze::evidence_code;
use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::{ModuleInfo, ModuleMap, ProjectFile, ProjectLookup, ProjectView, settle};
use crate::settings::Settings;

use super::file::{ProjectRole, isolate_panics};
use super::process::process_in_project;
use super::{display_path, needs_project};

/// The source read from stdin (or an editor's buffer), analyzed as a project of one file.
pub fn stdin_outcome(
    bytes: &[u8],
    path: &Path,
    settings: &Settings,
    registry: &Registry,
) -> FileOutcome {
    let single = || process_in_project(bytes, path, settings, registry, ProjectRole::Alone);
    if !needs_project(settings, registry) {
        return isolate_panics(settings.file_timeout, single).0;
    }
    let module = ModuleInfo {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty() && s != "-")
            .unwrap_or_else(|| "stdin".to_owned()),
        is_package: false,
        names: Vec::new(),
        siblings: Vec::new(),
    };
    let module = ModuleInfo {
        names: vec![module.name.clone()],
        ..module
    };
    let map = ModuleMap::default();
    let role = ProjectRole::Summarize {
        module: &module,
        map: &map,
        with_analysis: None,
        speculate: None,
        left_out: &[],
    };
    let (outcome, summary) = isolate_panics(settings.file_timeout, || {
        process_in_project(bytes, path, settings, registry, role)
    });
    let Some(summary) = summary else {
        return outcome;
    };
    let files = [ProjectFile {
        display_path: display_path(path),
        module,
        summary,
    }];
    let evidence = |qualified: &str| evidence_code(registry, &settings.selection, qualified);
    let Some(calls) = settle(&files, &evidence).pop().flatten() else {
        return outcome;
    };
    let [file] = files;
    let role = ProjectRole::Calls(ProjectView {
        lookup: ProjectLookup::Settled(&calls),
        module: &file.module,
        map: &map,
    });
    isolate_panics(settings.file_timeout, || {
        process_in_project(bytes, path, settings, registry, role)
    })
    .0
}
