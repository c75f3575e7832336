//! Which configuration applies to a run: the file nearest to the checked path, and the
//! project's `requires-python` when no file sets `target-version`. A `pyproject.toml` that is
//! not valid TOML on the way is an error (as in ruff), never a reason to move on to a parent
//! configuration that may say the opposite.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, load, minimum_from_requires_python};

/// What a `pyproject.toml` says that the search needs.
struct PyprojectFacts {
    /// It has a `[tool.unfreeze]` table.
    has_unfreeze: bool,
    /// Its `[project] requires-python`.
    requires_python: Option<String>,
}

/// Read a `pyproject.toml` met on the way up; a file that is not TOML is an error with its
/// line and column.
fn pyproject_facts(path: &Path) -> Result<PyprojectFacts, ConfigError> {
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        message,
    };
    let text = fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        error(format!("not valid TOML: {}", e.to_string().trim_end()))
    })?;
    let has_unfreeze = table
        .get("tool")
        .and_then(|tool| tool.get("unfreeze"))
        .is_some();
    let requires_python = table
        .get("project")
        .and_then(|project| project.get("requires-python"))
        .and_then(|spec| spec.as_str())
        .map(str::to_owned);
    Ok(PyprojectFacts {
        has_unfreeze,
        requires_python,
    })
}

/// The directory a search starts in: `start` itself, or the directory of a file.
fn first_directory(start: &Path) -> Option<PathBuf> {
    let start = fs::canonicalize(start).ok()?;
    if start.is_dir() {
        Some(start)
    } else {
        start.parent().map(Path::to_path_buf)
    }
}

/// What the walk up from a path found.
struct Found {
    /// The nearest configuration file (`unfreeze.toml`, or a `pyproject.toml` with
    /// `[tool.unfreeze]`).
    config: Option<PathBuf>,
    /// The nearest `requires-python`, from the start up to the configuration's directory (or
    /// to the root without one), with the file that says it.
    requires_python: Option<(String, PathBuf)>,
}

fn walk(start: &Path) -> Result<Found, ConfigError> {
    let mut found = Found {
        config: None,
        requires_python: None,
    };
    let Some(first) = first_directory(start) else {
        return Ok(found);
    };
    for dir in first.ancestors() {
        let own = dir.join("unfreeze.toml");
        let pyproject = dir.join("pyproject.toml");
        let facts = if pyproject.is_file() {
            Some(pyproject_facts(&pyproject)?)
        } else {
            None
        };
        if found.requires_python.is_none()
            && let Some(spec) = facts.as_ref().and_then(|f| f.requires_python.clone())
        {
            found.requires_python = Some((spec, pyproject.clone()));
        }
        if own.is_file() {
            found.config = Some(own);
            return Ok(found);
        }
        if facts.is_some_and(|f| f.has_unfreeze) {
            found.config = Some(pyproject);
            return Ok(found);
        }
    }
    Ok(found)
}

/// The configuration file nearest to `start` (a file or directory), if any: in each
/// directory `unfreeze.toml` first, then a `pyproject.toml` with `[tool.unfreeze]`. A
/// `pyproject.toml` on the way that is not valid TOML is an error.
pub fn find_config(start: &Path) -> Result<Option<PathBuf>, ConfigError> {
    walk(start).map(|found| found.config)
}

/// The configuration for a run started at `start`: the nearest file, loaded, else defaults.
/// Without a `target-version`, the target is the lower bound of the nearest
/// `project.requires-python` (between `start` and the configuration's directory, else any
/// above), so a project that says `>=3.8` gets fixes that run on 3.8, with or without a
/// `[tool.unfreeze]` table.
pub fn discover(start: &Path) -> Result<Config, ConfigError> {
    let found = walk(start)?;
    let mut config = match &found.config {
        Some(path) => load(path)?,
        None => Config::default(),
    };
    if !config.target_version_set
        && let Some((spec, _)) = &found.requires_python
    {
        config.target_version = minimum_from_requires_python(spec);
    }
    Ok(config)
}

/// The configuration in the file `path` (`--config`): an `unfreeze.toml` without a
/// `target-version` takes the `requires-python` of the `pyproject.toml` beside it.
pub fn load_named(path: &Path) -> Result<Config, ConfigError> {
    let mut config = load(path)?;
    let beside = path
        .parent()
        .map(|dir| dir.join("pyproject.toml"))
        .filter(|p| p.is_file() && p.file_name() != path.file_name());
    if !config.target_version_set
        && let Some(pyproject) = beside
        && let Some(spec) = pyproject_facts(&pyproject)?.requires_python
    {
        config.target_version = minimum_from_requires_python(&spec);
    }
    Ok(config)
}
