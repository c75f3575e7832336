//! `unfreeze apply PLAN`: the plan is untrusted. Every file of it is checked first (inside
//! the root? still the bytes that were planned? the content unfreeze makes again from them?),
//! then the files that pass are written atomically; the others are refused by name.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use super::confine::{Confined, Root};
use super::rederive::{rederive, same_version};
use super::{Plan, PlannedFile};
use crate::cli::ApplyArgs;
use crate::codemod::Registry;
use crate::outcome::ExitStatus;
use crate::write::{Fingerprint, WriteError, write_atomically};

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
    /// Not what unfreeze would write, or not inside the root: the plan cannot be trusted.
    pub untrusted: Vec<Refusal>,
    /// Could not be read or written, or the plan's content is damaged.
    pub errors: Vec<Refusal>,
    /// Why the whole plan was refused (another unfreeze version or configuration, settings
    /// naming a path outside the root): nothing was written.
    pub plan_refused: Option<String>,
}

impl ApplyOutcome {
    /// 0: everything applied; 1: some files refused because they changed; 2: an error, or a
    /// file the plan cannot be trusted with.
    pub fn exit_status(&self) -> ExitStatus {
        if self.plan_refused.is_some() || !self.errors.is_empty() || !self.untrusted.is_empty() {
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

/// One planned file that passed every check, to be written.
struct Checked<'a> {
    file: &'a PlannedFile,
    confined: Confined,
    bytes: Vec<u8>,
    current: Fingerprint,
}

/// The checks of one planned file, in order: inside the root and named once; its content
/// intact; its current bytes the planned ones; the plan's entry the one unfreeze makes now.
fn check_untrusted<'a>(
    file: &'a PlannedFile,
    confined: Confined,
    fresh: &HashMap<&str, &PlannedFile>,
) -> Result<Option<Checked<'a>>, (bool, String)> {
    let untrusted = |reason: String| (true, reason);
    let fixed = file.fixed.as_ref().expect("only fixed files are checked");
    let bytes = fixed.bytes().map_err(untrusted)?;
    let current = match std::fs::symlink_metadata(&confined.target) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(untrusted("is not a regular file".to_owned()));
        }
        Ok(_) => std::fs::read(&confined.target),
        Err(err) => Err(err),
    };
    let current = match current {
        Ok(current) => current,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err((
                false,
                "no longer exists (relative paths are resolved against the working directory: \
                 run `apply` where the plan was made)"
                    .to_owned(),
            ));
        }
        Err(err) => return Err((true, format!("could not read the file: {err}"))),
    };
    let fingerprint = Fingerprint::of(&current);
    let hash = fingerprint.sha256_hex();
    if hash == fixed.sha256 {
        return Ok(None);
    }
    if hash != file.sha256 {
        return Err((
            false,
            "changed since the plan was made (its sha256 differs)".to_owned(),
        ));
    }
    let not_ours = |what: &str| {
        untrusted(format!(
            "{what} is not what unfreeze {} makes from the file's current bytes with the \
             plan's settings (was the plan edited? if other files of the project changed since \
             the plan was made, make the plan again)",
            super::rederive::VERSION
        ))
    };
    let Some(made) = fresh.get(file.path.as_str()) else {
        return Err(not_ours("the plan's entry for this file"));
    };
    let Some(made_fixed) = &made.fixed else {
        return Err(not_ours("the plan's fixed content"));
    };
    if made_fixed.bytes().ok().as_deref() != Some(bytes.as_slice()) {
        return Err(not_ours("the plan's fixed content"));
    }
    if made_fixed.diff != fixed.diff {
        return Err(not_ours("the plan's diff"));
    }
    if made.findings != file.findings || made.rejected != file.rejected {
        return Err(not_ours("the plan's list of findings"));
    }
    Ok(Some(Checked {
        file,
        confined,
        bytes,
        current: fingerprint,
    }))
}

/// Apply an untrusted plan read from a file: every path confined to `root`, every file's
/// content made again and compared, before anything is written.
pub fn apply_untrusted(
    plan: &Plan,
    root: &Root,
    registry: &Registry,
    check_only: bool,
    all_or_nothing: bool,
) -> ApplyOutcome {
    let mut outcome = ApplyOutcome::default();
    if let Err(message) = same_version(&plan.unfreeze_version) {
        outcome.plan_refused = Some(message);
        return outcome;
    }
    let refuse = |list: &mut Vec<Refusal>, path: &str, reason: String| {
        list.push(Refusal {
            path: path.to_owned(),
            reason,
        })
    };
    // Every path first: the ones it would write, then the ones the run reads.
    let mut confined = Vec::new();
    let mut seen = HashSet::new();
    for file in plan.fixed_files() {
        match root.confine(&file.path) {
            Ok(place) if !seen.insert(place.target.clone()) => refuse(
                &mut outcome.untrusted,
                &file.path,
                "names a file another entry of the plan names too".to_owned(),
            ),
            Ok(place) => confined.push((file, place)),
            Err(reason) => refuse(&mut outcome.untrusted, &file.path, reason),
        }
    }
    let settings = &plan.settings;
    for path in settings.paths.iter().chain(&settings.config) {
        if let Err(reason) = root.resolve(path) {
            outcome.plan_refused =
                Some(format!("the plan's settings name `{path}`, which {reason}"));
            return outcome;
        }
    }
    let made = match rederive(plan, registry) {
        Ok(made) => made,
        Err(message) => {
            outcome.plan_refused = Some(message);
            return outcome;
        }
    };
    let fresh: HashMap<&str, &PlannedFile> =
        made.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut writes = Vec::new();
    for (file, place) in confined {
        match check_untrusted(file, place, &fresh) {
            Ok(Some(checked)) => writes.push(checked),
            Ok(None) => outcome.already_applied.push(file.path.clone()),
            Err((true, reason)) => refuse(&mut outcome.untrusted, &file.path, reason),
            Err((false, reason)) => refuse(&mut outcome.refused, &file.path, reason),
        }
    }
    let blocked = all_or_nothing
        && !(outcome.refused.is_empty()
            && outcome.untrusted.is_empty()
            && outcome.errors.is_empty());
    for checked in writes {
        let path = &checked.file.path;
        if blocked {
            refuse(
                &mut outcome.refused,
                path,
                "not written: another file of the plan was refused (--all-or-nothing)".to_owned(),
            );
        } else if check_only {
            outcome.applied.push(path.clone());
        } else {
            match root.write(&checked.confined, &checked.bytes, checked.current) {
                Ok(()) => outcome.applied.push(path.clone()),
                Err(WriteError::Changed) => refuse(
                    &mut outcome.refused,
                    path,
                    "changed while the plan was being applied".to_owned(),
                ),
                Err(err) => refuse(&mut outcome.errors, path, err.to_string()),
            }
        }
    }
    outcome
}

/// The `apply` command: read the plan, check it and apply it in the working directory, say
/// what happened.
pub fn execute_apply(
    args: &ApplyArgs,
    registry: &Registry,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let checked = Plan::read(&args.plan).and_then(|plan| {
        let root = Root::new(args.root.as_deref())?;
        Ok(apply_untrusted(
            &plan,
            &root,
            registry,
            args.check,
            args.all_or_nothing,
        ))
    });
    let outcome = match checked {
        Ok(outcome) => outcome,
        Err(message) => ApplyOutcome {
            plan_refused: Some(message),
            ..ApplyOutcome::default()
        },
    };
    if let Some(message) = &outcome.plan_refused {
        for refusal in &outcome.untrusted {
            writeln!(err, "refused: {}: {}", refusal.path, refusal.reason)?;
        }
        writeln!(err, "error: {message}")?;
        writeln!(err, "Nothing written.")?;
        return Ok(ExitStatus::Error);
    }
    let verb = if args.check { "would apply" } else { "applied" };
    for path in &outcome.applied {
        writeln!(out, "{verb}: {path}")?;
    }
    for path in &outcome.already_applied {
        writeln!(out, "already applied: {path}")?;
    }
    for refusal in outcome.untrusted.iter().chain(&outcome.refused) {
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
        outcome.refused.len() + outcome.untrusted.len(),
        outcome.already_applied.len(),
        outcome.errors.len(),
    )?;
    Ok(outcome.exit_status())
}
