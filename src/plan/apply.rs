//! `unfreeze apply PLAN`: every file of the plan is checked first (still the bytes that were
//! planned?), then the files that match are written atomically; the others are refused by name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{Plan, PlannedFile};
use crate::outcome::ExitStatus;
use crate::write::{Fingerprint, write_atomically};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan written by `unfreeze fix --plan PLAN`.
    pub plan: PathBuf,
    /// Only check that every planned file is unchanged; write nothing.
    #[arg(long)]
    pub check: bool,
    /// Write nothing unless every planned file can be applied.
    #[arg(long)]
    pub all_or_nothing: bool,
}

/// A planned file that was not applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub path: String,
    pub reason: String,
}

/// What `apply` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Written (or, with `check`, would be).
    pub applied: Vec<String>,
    /// Already had the fixed content: nothing to do.
    pub already_applied: Vec<String>,
    /// Changed or removed since the plan was made.
    pub refused: Vec<Refusal>,
    /// Could not be read or written, or the plan's content is damaged.
    pub errors: Vec<Refusal>,
}

impl ApplyOutcome {
    /// 0: everything applied; 1: some files refused because they changed; 2: an error.
    pub fn exit_status(&self) -> ExitStatus {
        if !self.errors.is_empty() {
            ExitStatus::Error
        } else if !self.refused.is_empty() {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        }
    }
}

/// What one planned file needs.
enum Verdict {
    Write {
        bytes: Vec<u8>,
        current: Fingerprint,
    },
    AlreadyApplied,
    Refused(String),
    Error(String),
}

fn verify(file: &PlannedFile, path: &Path) -> Verdict {
    let Some(fixed) = &file.fixed else {
        return Verdict::AlreadyApplied;
    };
    let bytes = match fixed.bytes() {
        Ok(bytes) => bytes,
        Err(message) => return Verdict::Error(message),
    };
    let current = match std::fs::read(path) {
        Ok(current) => current,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let hint = if Path::new(&file.path).is_relative() {
                " (relative paths are resolved against the working directory: run `apply` \
                 where the plan was made)"
            } else {
                ""
            };
            return Verdict::Refused(format!("no longer exists{hint}"));
        }
        Err(err) => return Verdict::Error(format!("could not read the file: {err}")),
    };
    let fingerprint = Fingerprint::of(&current);
    let hash = fingerprint.sha256_hex();
    if hash == file.sha256 {
        Verdict::Write {
            bytes,
            current: fingerprint,
        }
    } else if hash == fixed.sha256 {
        Verdict::AlreadyApplied
    } else {
        Verdict::Refused("changed since the plan was made (its sha256 differs)".to_owned())
    }
}

/// Apply `plan`, resolving relative paths against `base`. Every file is verified before any
/// is written; with `all_or_nothing` a single refusal writes nothing; with `check_only`
/// nothing is written at all.
pub fn apply_plan(
    plan: &Plan,
    base: &Path,
    check_only: bool,
    all_or_nothing: bool,
) -> ApplyOutcome {
    let mut outcome = ApplyOutcome::default();
    let mut writes = Vec::new();
    for file in plan.fixed_files() {
        let path = base.join(&file.local_path);
        match verify(file, &path) {
            Verdict::Write { bytes, current } => writes.push((file, path, bytes, current)),
            Verdict::AlreadyApplied => outcome.already_applied.push(file.path.clone()),
            Verdict::Refused(reason) => outcome.refused.push(Refusal {
                path: file.path.clone(),
                reason,
            }),
            Verdict::Error(reason) => outcome.errors.push(Refusal {
                path: file.path.clone(),
                reason,
            }),
        }
    }
    let blocked = all_or_nothing && !(outcome.refused.is_empty() && outcome.errors.is_empty());
    for (file, path, bytes, current) in writes {
        if blocked {
            outcome.refused.push(Refusal {
                path: file.path.clone(),
                reason: "not written: another file of the plan was refused (--all-or-nothing)"
                    .to_owned(),
            });
            continue;
        }
        if check_only {
            outcome.applied.push(file.path.clone());
            continue;
        }
        match write_atomically(&path, &bytes, current) {
            Ok(()) => outcome.applied.push(file.path.clone()),
            Err(crate::write::WriteError::Changed) => outcome.refused.push(Refusal {
                path: file.path.clone(),
                reason: "changed while the plan was being applied".to_owned(),
            }),
            Err(err) => outcome.errors.push(Refusal {
                path: file.path.clone(),
                reason: err.to_string(),
            }),
        }
    }
    outcome
}

/// The `apply` command: read the plan, apply it in the working directory, say what happened.
pub fn execute_apply(
    args: &ApplyArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let plan = match Plan::read(&args.plan) {
        Ok(plan) => plan,
        Err(message) => {
            writeln!(err, "error: {message}")?;
            return Ok(ExitStatus::Error);
        }
    };
    let outcome = apply_plan(&plan, Path::new("."), args.check, args.all_or_nothing);
    let verb = if args.check { "would apply" } else { "applied" };
    for path in &outcome.applied {
        writeln!(out, "{verb}: {path}")?;
    }
    for path in &outcome.already_applied {
        writeln!(out, "already applied: {path}")?;
    }
    for refusal in &outcome.refused {
        writeln!(err, "refused: {}: {}", refusal.path, refusal.reason)?;
    }
    for error in &outcome.errors {
        writeln!(err, "error: {}: {}", error.path, error.reason)?;
    }
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    writeln!(
        err,
        "{} {} {}; {} refused; {} already applied; {} errors",
        if args.check { "Would apply" } else { "Applied" },
        outcome.applied.len(),
        files(outcome.applied.len()),
        outcome.refused.len(),
        outcome.already_applied.len(),
        outcome.errors.len(),
    )?;
    Ok(outcome.exit_status())
}
