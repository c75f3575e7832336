//! One open buffer analysed as `unfreeze check --stdin-filename PATH -` would analyse it:
//! the same configuration (the `pyproject.toml` / `unfreeze.toml` nearest the file), the same
//! findings and fixes, and the fixed text `unfreeze fix` would write; with the project of its
//! workspace root when that is ready (`run/warm.rs`).

use std::path::Path;

use clap::Parser;

use super::settings::EditorSettings;
use crate::analyze::Finding;
use crate::cli::{self, Cli};
use crate::codemod::Registry;
use crate::fix::{Applicability, fix_file};
use crate::outcome::FileOutcome;
use crate::run::{WarmProject, analyze_buffer, keeps_unused_imports};
use crate::settings::{Mode, Settings};

/// What the analysis of a buffer found.
pub struct BufferFindings {
    pub findings: Vec<Finding>,
    /// Why the buffer could not be analysed (a bad configuration, bytes it cannot decode).
    pub error: Option<String>,
}

/// The settings and registry a run on `path` gets from its configuration and the editor's
/// settings (`flags`, as `check` takes them), in `mode`.
fn settings_for(
    path: &Path,
    mode: Mode,
    bundled: &Registry,
    flags: &[String],
) -> Result<(Settings, Registry), String> {
    let path = path.to_string_lossy();
    let args = [
        "--no-cache",
        "--quiet",
        "--stdin-filename",
        path.as_ref(),
        "-",
    ];
    settings_of(&args, flags, mode, bundled)
}

/// The settings and registry `unfreeze check ROOT` runs with (its configuration, its result
/// cache, the editor's `flags`): those of the project phase kept for the workspace root
/// `root`.
pub fn project_settings(
    root: &Path,
    bundled: &Registry,
    flags: &[String],
) -> Result<(Settings, Registry), String> {
    let root = root.to_string_lossy();
    settings_of(&["--quiet", root.as_ref()], flags, Mode::Check, bundled)
}

/// The settings and registry of `unfreeze check` with `flags` then `args`, in `mode`.
fn settings_of(
    args: &[&str],
    flags: &[String],
    mode: Mode,
    bundled: &Registry,
) -> Result<(Settings, Registry), String> {
    let args = ["unfreeze", "check"]
        .into_iter()
        .chain(flags.iter().map(String::as_str))
        .chain(args.iter().copied());
    let cli = Cli::try_parse_from(args).map_err(|err| err.to_string())?;
    let request = cli
        .command
        .run_request()
        .ok_or_else(|| "not a check".to_owned())?;
    let mut settings = cli::settings(request.common, mode, bundled)?;
    settings.progress = false;
    let registry = bundled
        .with_configured_calls(&settings.config.blocking_calls)?
        .with_offload(&settings.config.offload);
    Ok((settings, registry))
}

/// The outcome of `text` (the buffer of the file at `path`) in `mode`, with the project of
/// its workspace root when it is ready.
fn outcome(
    text: &str,
    path: &Path,
    mode: Mode,
    bundled: &Registry,
    flags: &[String],
    project: Option<&mut WarmProject>,
) -> Result<FileOutcome, String> {
    let (settings, registry) = settings_for(path, mode, bundled, flags)?;
    Ok(match project {
        Some(project) => project.buffer_outcome(text.as_bytes(), path, &settings, &registry),
        None => analyze_buffer(text.as_bytes(), path, &settings, &registry),
    })
}

/// The findings of `text`, each with its fix as `unfreeze check` shows it, with the editor's
/// settings (`unsafeFixes`: a codemod's unsafe alternative fix is preferred, as
/// `fix --unsafe-fixes` does); `project`: the project of the buffer's workspace root, when
/// it is ready.
pub fn findings(
    text: &str,
    path: &Path,
    editor: &EditorSettings,
    bundled: &Registry,
    project: Option<&mut WarmProject>,
) -> BufferFindings {
    let mode = if editor.unsafe_fixes {
        // The findings of a diff run with unsafe fixes: the fixes `--unsafe-fixes` makes.
        Mode::Fix {
            write: false,
            unsafe_fixes: true,
        }
    } else {
        Mode::Check
    };
    match outcome(text, path, mode, bundled, &editor.args(), project) {
        Ok(FileOutcome::Checked { findings, .. }) => BufferFindings {
            findings,
            error: None,
        },
        Ok(FileOutcome::Error(message)) | Err(message) => BufferFindings {
            findings: Vec::new(),
            error: Some(message),
        },
    }
}

/// The text `unfreeze fix` writes for `text` (safe fixes only), with the editor's settings,
/// when it changes it.
pub fn fixed_text(
    text: &str,
    path: &Path,
    editor: &EditorSettings,
    bundled: &Registry,
    project: Option<&mut WarmProject>,
) -> Option<String> {
    let mode = Mode::Fix {
        write: false,
        unsafe_fixes: false,
    };
    match outcome(text, path, mode, bundled, &editor.args(), project).ok()? {
        FileOutcome::Checked {
            fixed: Some(fixed), ..
        } => Some(fixed.text),
        _ => None,
    }
}

/// `text` with only `finding`'s fix applied (and the imports it leaves unused removed, as
/// `fix` does), when it applies.
pub fn with_one_fix(text: &str, path: &Path, finding: &Finding) -> Option<String> {
    let fix = finding.fix.as_ref()?;
    if fix.applicability == Applicability::DisplayOnly {
        return None;
    }
    let outcome = fix_file(
        text,
        0,
        &[Some(fix)],
        fix.applicability,
        keeps_unused_imports(path),
    );
    outcome.fixed_text
}
