//! The project kept warm for the language server (`unfreeze server`, docs/editors.md): what a
//! `check` of a workspace root settled, with every summary it settled, so that an editor's
//! buffer is analysed with the project. The buffer's own summary (from its text, every body
//! kept, as `stdin.rs` summarises) takes the place of its file's saved one, is settled with
//! the other files' summaries, and the buffer's findings are computed with those settled
//! calls: a call typed in the buffer to another module's blocking helper is reported before
//! the buffer is saved.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::analyze::evidence_code;
use crate::codemod::Registry;
use crate::outcome::FileOutcome;
use crate::project::{FileSummary, ModuleMap, ProjectFile, ProjectLookup, ProjectView, settle};
use crate::settings::Settings;

use super::file::{ProjectRole, isolate_panics};
use super::process::{process_in_project, process_path};
use super::project::reexported;
use super::stdin::stdin_outcome;
use super::{analyze, display_path, needs_project};

/// A workspace root's project, as the project phase of `check` settled it.
pub struct WarmProject {
    map: ModuleMap,
    /// The files the map was built from (its indexes).
    files: Vec<PathBuf>,
    /// The settled summaries (and those summarised later for a buffer's calls).
    summaries: Vec<ProjectFile>,
    /// Per file index, the place of its summary in `summaries`.
    slots: HashMap<usize, usize>,
    /// Files a buffer's calls led to that had no summary: each read and summarised once.
    tried: HashSet<usize>,
}

impl WarmProject {
    /// Run the project phase over the settings' paths, as `check` runs it (the result cache
    /// included), and keep what it settled; `None` when no project rule is enabled.
    pub fn build(settings: &Settings, registry: &Registry) -> Option<WarmProject> {
        let project = analyze(settings, registry, true).project?;
        let mut slots = HashMap::new();
        let mut summaries = Vec::with_capacity(project.summaries.len());
        for (i, file) in project.summaries {
            slots.insert(i, summaries.len());
            summaries.push(file);
        }
        Some(WarmProject {
            map: project.map,
            files: project.files,
            summaries,
            slots,
            tried: HashSet::new(),
        })
    }

    /// How many files the project has.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the project has no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether the file at `path` is a module of the project.
    pub fn contains(&self, path: &Path) -> bool {
        self.map.module(path).is_some()
    }

    /// The outcome of `bytes` (an editor's buffer of the file at `path`) analysed with the
    /// project; a file outside it is analysed alone (as `check --stdin-filename` does).
    pub fn buffer_outcome(
        &mut self,
        bytes: &[u8],
        path: &Path,
        settings: &Settings,
        registry: &Registry,
    ) -> FileOutcome {
        let index = self.files.iter().position(|file| file == path);
        let (Some(index), Some(module), true) = (
            index,
            self.map.module(path).cloned(),
            needs_project(settings, registry),
        ) else {
            return stdin_outcome(bytes, path, settings, registry);
        };
        let role = ProjectRole::Summarize {
            module: &module,
            map: &self.map,
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
        self.summarise_called(&summary, index, settings, registry);
        let buffer = ProjectFile {
            display_path: display_path(path),
            module: module.clone(),
            summary,
        };
        // The buffer's summary in place of the saved file's, for this settling only.
        let (slot, saved) = match self.slots.get(&index) {
            Some(&slot) => (
                slot,
                Some(std::mem::replace(&mut self.summaries[slot], buffer)),
            ),
            None => {
                self.summaries.push(buffer);
                (self.summaries.len() - 1, None)
            }
        };
        let evidence = |qualified: &str| evidence_code(registry, &settings.selection, qualified);
        let mut calls = [settle(&self.summaries, &evidence).swap_remove(slot)];
        // A coroutine method the buffer's wrapper runs, named in no other saved file.
        super::wrapped::admit_wrapped_entries(
            &self.files,
            (std::slice::from_ref(&self.summaries[slot]), &[index]),
            &mut calls,
        );
        let [calls] = calls;
        match saved {
            Some(saved) => self.summaries[slot] = saved,
            None => {
                self.summaries.pop();
            }
        }
        let Some(calls) = calls else {
            return outcome;
        };
        let role = ProjectRole::Calls(ProjectView {
            lookup: ProjectLookup::Settled(&calls),
            module: &module,
            map: &self.map,
        });
        isolate_panics(settings.file_timeout, || {
            process_in_project(bytes, path, settings, registry, role)
        })
        .0
    }

    /// Summarise, from disk, the files the buffer's calls lead to (directly, through a
    /// re-export, or through the calls of a file summarised so) that the project phase left
    /// unsummarised: nothing of the saved project called into them.
    fn summarise_called(
        &mut self,
        summary: &FileSummary,
        own: usize,
        settings: &Settings,
        registry: &Registry,
    ) {
        let mut targets: Vec<String> = summary.targets.clone();
        let mut wanted: HashSet<(usize, String)> = HashSet::new();
        while let Some(target) = targets.pop() {
            let Some((file, rest)) = self.map.file_defining_rest(&target) else {
                continue;
            };
            if file == own {
                continue;
            }
            if !self.slots.contains_key(&file) && self.tried.insert(file) {
                let path = &self.files[file];
                let Some(module) = self.map.module(path) else {
                    continue;
                };
                let role = ProjectRole::Summarize {
                    module,
                    map: &self.map,
                    with_analysis: Some(false),
                    speculate: None,
                    left_out: &[],
                };
                if let (_, Some(summary)) = process_path(path, settings, registry, role) {
                    targets.extend(summary.targets.iter().cloned());
                    self.slots.insert(file, self.summaries.len());
                    self.summaries.push(ProjectFile {
                        display_path: display_path(path),
                        module: module.clone(),
                        summary,
                    });
                }
            }
            if !rest.is_empty()
                && wanted.insert((file, rest.to_owned()))
                && let Some(&slot) = self.slots.get(&file)
            {
                targets.extend(reexported(&self.summaries[slot].summary, rest));
            }
        }
    }
}
