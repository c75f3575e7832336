//! What a plan records of the run that made it (the options of `fix --plan` and the project
//! configuration it read), so that `apply` can make the same fixes again and compare; and the
//! limits and shape checks a plan file must pass before anything in it is used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Plan, sha256_hex};
use crate::cli::CommonArgs;
use crate::config::Config;

/// The largest plan file `apply` reads.
pub const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;
/// The most files (and command-line paths) a plan may name.
const MAX_FILES: usize = 100_000;
/// The most findings one planned file may carry.
const MAX_FINDINGS: usize = 1_000_000;
/// The longest path a plan may name, in bytes.
const MAX_PATH_BYTES: usize = 4096;

/// The options of `fix --plan` that decide the fixes, as given, and the configuration file
/// the run read. `apply` runs the same fixes with them and the plan's `unsafe_fixes`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlanSettings {
    /// The files and directories given, relative to the working directory.
    pub paths: Vec<String>,
    /// `--select`.
    pub select: Option<Vec<String>>,
    /// `--extend-select`.
    #[serde(default)]
    pub extend_select: Vec<String>,
    /// `--ignore`.
    pub ignore: Vec<String>,
    /// `--exclude`.
    pub exclude: Vec<String>,
    /// `--force-exclude` (`true`), `--no-force-exclude` (`false`), or neither.
    pub force_exclude: Option<bool>,
    /// `--isolated`: no configuration file.
    pub isolated: bool,
    /// `--config PATH`, relative to the working directory.
    pub config: Option<String>,
    /// `--since REV`.
    pub since: Option<String>,
    /// The configuration file the run read (found, or `--config`), or `null`.
    pub configuration: Option<ConfigurationRecord>,
}

/// A configuration file: where, relative to the working directory, and its bytes' SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationRecord {
    pub path: String,
    pub sha256: String,
}

impl ConfigurationRecord {
    /// The configuration file `config` came from, as seen from the working directory.
    pub fn of(config: &Config) -> Result<Option<ConfigurationRecord>, String> {
        let Some(path) = &config.path else {
            return Ok(None);
        };
        let bytes = std::fs::read(path)
            .map_err(|err| format!("could not read {}: {err}", path.display()))?;
        Ok(Some(ConfigurationRecord {
            path: from_working_directory(path),
            sha256: sha256_hex(&bytes),
        }))
    }
}

impl PlanSettings {
    /// The settings of a `fix --plan` run with these options and configuration.
    pub fn record(common: &CommonArgs, config: &Config) -> Result<PlanSettings, String> {
        let force_exclude = if common.force_exclude {
            Some(true)
        } else if common.no_force_exclude {
            Some(false)
        } else {
            None
        };
        Ok(PlanSettings {
            paths: common
                .paths
                .iter()
                .map(|path| from_working_directory(path))
                .collect(),
            select: common.select.clone(),
            extend_select: common.extend_select.clone(),
            ignore: common.ignore.clone(),
            exclude: common.exclude.clone(),
            force_exclude,
            isolated: common.isolated,
            config: common.config.as_deref().map(from_working_directory),
            since: common.since.clone(),
            configuration: ConfigurationRecord::of(config)?,
        })
    }
}

/// `path` relative to the working directory (with `..` where it is above it), so that a plan
/// made in one clone names the same files in another; as given when that cannot be said.
fn from_working_directory(path: &Path) -> String {
    let relative = (|| {
        if path.is_relative() {
            return Some(path.to_path_buf());
        }
        let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
        let path = path.canonicalize().ok()?;
        let common = cwd
            .ancestors()
            .find(|ancestor| path.starts_with(ancestor))?;
        let mut relative = PathBuf::new();
        for _ in cwd.strip_prefix(common).ok()?.components() {
            relative.push("..");
        }
        relative.push(path.strip_prefix(common).ok()?);
        Some(if relative.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            relative
        })
    })();
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// A lowercase hex SHA-256.
fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_path(field: &str, path: &str) -> Result<(), String> {
    if path.is_empty() || path.contains('\0') {
        return Err(format!("{field} is not a path"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!(
            "{field} is {} bytes long (at most {MAX_PATH_BYTES})",
            path.len()
        ));
    }
    Ok(())
}

fn check_count(field: &str, count: usize, most: usize) -> Result<(), String> {
    if count > most {
        return Err(format!("{field} has {count} entries (at most {most})"));
    }
    Ok(())
}

/// The checks serde cannot make: sizes, hashes, known values, paths that are paths.
pub fn validate(plan: &Plan) -> Result<(), String> {
    let settings = &plan.settings;
    check_count("settings.paths", settings.paths.len(), MAX_FILES)?;
    if settings.paths.is_empty() {
        return Err("settings.paths is empty".to_owned());
    }
    for (i, path) in settings.paths.iter().enumerate() {
        check_path(&format!("settings.paths[{i}]"), path)?;
    }
    if let Some(config) = &settings.config {
        check_path("settings.config", config)?;
    }
    if let Some(record) = &settings.configuration {
        check_path("settings.configuration.path", &record.path)?;
        if !is_sha256(&record.sha256) {
            return Err(
                "settings.configuration.sha256 is not a SHA-256 (64 lowercase hex digits)".into(),
            );
        }
    }
    if let Some(rev) = &settings.since
        && (rev.is_empty() || rev.starts_with('-') || rev.contains('\0'))
    {
        return Err(format!("settings.since `{rev}` is not a revision"));
    }
    check_count("files", plan.files.len(), MAX_FILES)?;
    for (i, file) in plan.files.iter().enumerate() {
        check_path(&format!("files[{i}].path"), &file.path)?;
        if !is_sha256(&file.sha256) {
            return Err(format!(
                "files[{i}].sha256 is not a SHA-256 (64 lowercase hex digits)"
            ));
        }
        if let Some(fixed) = &file.fixed {
            if !is_sha256(&fixed.sha256) {
                return Err(format!(
                    "files[{i}].fixed.sha256 is not a SHA-256 (64 lowercase hex digits)"
                ));
            }
            if !matches!(fixed.encoding.as_str(), "utf-8" | "base64") {
                return Err(format!(
                    "files[{i}].fixed.encoding `{}` is neither `utf-8` nor `base64`",
                    fixed.encoding
                ));
            }
        }
        check_count(
            &format!("files[{i}].findings"),
            file.findings.len(),
            MAX_FINDINGS,
        )?;
        for (j, finding) in file.findings.iter().enumerate() {
            if let Some(applicability) = &finding.applicability
                && !matches!(applicability.as_str(), "safe" | "unsafe" | "display-only")
            {
                return Err(format!(
                    "files[{i}].findings[{j}].applicability `{applicability}` is not one of \
                     `safe`, `unsafe`, `display-only`"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_of_64_digits() {
        assert!(is_sha256(&sha256_hex(b"x")));
        assert!(!is_sha256(&sha256_hex(b"x").to_uppercase()));
        assert!(!is_sha256("abc"));
    }
}
