//! Finding the Python files to check: a parallel walk (the `ignore` crate) that honours
//! `.gitignore` and friends, `--exclude` globs and a list of directories no one wants checked;
//! a path named on the command line is always checked.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

/// Directories skipped everywhere unless named explicitly (the same spirit as ruff's
/// default `exclude`).
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "node_modules",
    "site-packages",
    "venv",
];

/// A path that could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryError {
    pub path: PathBuf,
    pub message: String,
}

/// The files to check (sorted, deduplicated) and the paths that could not be walked.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    pub errors: Vec<DiscoveryError>,
}

pub fn is_python_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "py" || ext == "pyi")
}

/// Validate `--exclude` globs before any file is read.
pub fn validate_excludes(excludes: &[String]) -> Result<(), String> {
    let mut builder = OverrideBuilder::new(".");
    for pattern in excludes {
        builder
            .add(&format!("!{pattern}"))
            .map_err(|e| format!("invalid --exclude pattern `{pattern}`: {e}"))?;
    }
    builder.build().map(|_| ()).map_err(|e| e.to_string())
}

/// Walk `paths` in parallel.
pub fn discover(paths: &[PathBuf], excludes: &[String]) -> Discovered {
    let found = Mutex::new(Discovered::default());
    for root in paths {
        let metadata = match std::fs::metadata(root) {
            Ok(metadata) => metadata,
            Err(err) => {
                let message = if err.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory".to_owned()
                } else {
                    err.to_string()
                };
                found.lock().unwrap().errors.push(DiscoveryError {
                    path: root.clone(),
                    message,
                });
                continue;
            }
        };
        if !metadata.is_dir() {
            // Named explicitly: always checked, whatever its name or the excludes say.
            found.lock().unwrap().files.push(root.clone());
            continue;
        }
        let mut overrides = OverrideBuilder::new(root);
        for pattern in DEFAULT_EXCLUDES
            .iter()
            .map(|p| p.to_string())
            .chain(excludes.iter().cloned())
        {
            overrides
                .add(&format!("!{pattern}"))
                .expect("patterns are validated before discovery");
        }
        let overrides = overrides.build().expect("patterns are validated");
        let walker = WalkBuilder::new(root)
            .overrides(overrides)
            .require_git(false)
            .threads(rayon::current_num_threads())
            .build_parallel();
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                match entry {
                    Ok(entry) => {
                        let is_file = entry.file_type().is_some_and(|t| t.is_file());
                        if is_file && is_python_file(entry.path()) {
                            found.lock().unwrap().files.push(entry.into_path());
                        }
                    }
                    Err(err) => {
                        let path = error_path(&err).unwrap_or_else(|| root.clone());
                        found.lock().unwrap().errors.push(DiscoveryError {
                            path,
                            message: err.to_string(),
                        });
                    }
                }
                WalkState::Continue
            })
        });
    }
    let mut found = found.into_inner().unwrap();
    found.files.sort();
    found.files.dedup();
    found.errors.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_python_files_honouring_gitignore_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("pkg/sub")).unwrap();
        fs::create_dir_all(root.join("venv/lib")).unwrap();
        fs::create_dir_all(root.join("generated")).unwrap();
        for file in [
            "pkg/a.py",
            "pkg/b.pyi",
            "pkg/c.txt",
            "pkg/sub/d.py",
            "venv/lib/e.py",
            "generated/f.py",
            "ignored.py",
        ] {
            fs::write(root.join(file), "x = 1\n").unwrap();
        }
        fs::write(root.join(".gitignore"), "ignored.py\n").unwrap();
        let found = discover(&[root.to_path_buf()], &["generated".to_owned()]);
        let names: Vec<String> = found
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["pkg/a.py", "pkg/b.pyi", "pkg/sub/d.py"]);
        assert!(found.errors.is_empty());
    }

    #[test]
    fn explicit_file_is_always_checked_and_missing_path_reported() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script");
        fs::write(&script, "x = 1\n").unwrap();
        let missing = dir.path().join("missing.py");
        let found = discover(&[script.clone(), missing.clone()], &[]);
        assert_eq!(found.files, [script]);
        assert_eq!(found.errors[0].path, missing);
        assert_eq!(found.errors[0].message, "no such file or directory");
    }
}
