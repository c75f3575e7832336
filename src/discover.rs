//! Finding the Python files to check: a parallel walk (the `ignore` crate) that honours
//! `.gitignore` and friends, `--exclude` globs and a list of directories no one wants checked;
//! a path named on the command line is always checked, unless `--force-exclude` asks for the
//! excludes to apply to it too ([`ForcedExcludes`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::{Override, OverrideBuilder};
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

/// The excludes applied to the paths named on the command line too (`--force-exclude`, or
/// `force-exclude = true`): such a path is skipped if it, or a directory it is in, matches
/// one of the default excludes or the patterns, as if `root` (the configuration file's
/// directory, else the working directory) were walked. Callers that pass file names (pre-commit,
/// a CI job's list of changed files) then skip what a walk of the project skips.
#[derive(Clone, Debug)]
pub struct ForcedExcludes {
    root: PathBuf,
    matcher: Override,
}

impl ForcedExcludes {
    /// `excludes` are validated ([`validate_excludes`]).
    pub fn new(root: &Path, excludes: &[String]) -> ForcedExcludes {
        let root = if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        };
        let root = absolute(root);
        ForcedExcludes {
            matcher: exclude_matcher(&root, excludes),
            root,
        }
    }

    /// Whether `path` (a file or directory named on the command line) is excluded.
    pub fn excludes(&self, path: &Path) -> bool {
        let absolute = absolute(path);
        // Outside the root, only the patterns without a `/` can match (a directory's name).
        let relative: PathBuf = match absolute.strip_prefix(&self.root) {
            Ok(relative) => relative.to_path_buf(),
            Err(_) => absolute
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .collect(),
        };
        let is_dir = path.is_dir();
        let mut prefix = PathBuf::new();
        let mut components = relative.components().peekable();
        while let Some(component) = components.next() {
            prefix.push(component);
            let last = components.peek().is_none();
            if self.matcher.matched(&prefix, !last || is_dir).is_ignore() {
                return true;
            }
        }
        false
    }
}

/// `path` with symbolic links resolved, or made absolute when it does not exist.
fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The default excludes and `excludes` as one matcher of paths under `root`.
fn exclude_matcher(root: &Path, excludes: &[String]) -> Override {
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
    overrides.build().expect("patterns are validated")
}

/// Walk `paths` in parallel; with `forced`, a path named in `paths` that it excludes is
/// skipped.
pub fn discover(
    paths: &[PathBuf],
    excludes: &[String],
    forced: Option<&ForcedExcludes>,
) -> Discovered {
    let found = Mutex::new(Discovered::default());
    for root in paths {
        if forced.is_some_and(|forced| forced.excludes(root)) {
            continue;
        }
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
            // Named explicitly: checked whatever its name says (and, unless forced, whatever
            // the excludes say).
            found.lock().unwrap().files.push(root.clone());
            continue;
        }
        let walker = WalkBuilder::new(root)
            .overrides(exclude_matcher(root, excludes))
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
        let found = discover(&[root.to_path_buf()], &["generated".to_owned()], None);
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
        let found = discover(&[script.clone(), missing.clone()], &[], None);
        assert_eq!(found.files, [script]);
        assert_eq!(found.errors[0].path, missing);
        assert_eq!(found.errors[0].message, "no such file or directory");
    }

    #[test]
    fn forced_excludes_skip_named_paths_a_walk_would_skip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "app/migrations/0001.py",
            "app/views.py",
            "gen/api.py",
            "app/gen/kept.py",
            ".venv/lib/x.py",
            "migrations.py",
        ] {
            fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            fs::write(root.join(file), "x = 1\n").unwrap();
        }
        let excludes = [
            "migrations".to_owned(),
            "/gen".to_owned(),
            "*_pb2.py".to_owned(),
        ];
        let forced = ForcedExcludes::new(root, &excludes);
        // A file in an excluded directory, an anchored pattern at the root, a default exclude,
        // a file named like a pattern, and an excluded directory named itself.
        for excluded in [
            "app/migrations/0001.py",
            "gen/api.py",
            ".venv/lib/x.py",
            "app/migrations",
            "app/proto_pb2.py",
        ] {
            assert!(forced.excludes(&root.join(excluded)), "{excluded}");
        }
        // The anchored `/gen` is the root's only; `migrations` is a name, not a prefix.
        for kept in ["app/views.py", "app/gen/kept.py", "migrations.py"] {
            assert!(!forced.excludes(&root.join(kept)), "{kept}");
        }
        let named: Vec<PathBuf> = ["app/migrations/0001.py", "app/views.py", "gen"]
            .iter()
            .map(|p| root.join(p))
            .collect();
        let found = discover(&named, &excludes, Some(&forced));
        assert_eq!(found.files, [root.join("app/views.py")]);
        let found = discover(&named, &excludes, None);
        assert_eq!(
            found.files,
            [
                root.join("app/migrations/0001.py"),
                root.join("app/views.py"),
                root.join("gen/api.py"),
            ],
            "without forcing, named paths are checked"
        );
    }
}
