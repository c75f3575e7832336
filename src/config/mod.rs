//! Configuration files: `[tool.unfreeze]` in `pyproject.toml`, or `unfreeze.toml`; the one
//! nearest to the checked path wins (`unfreeze.toml` before `pyproject.toml` in the same
//! directory; a `pyproject.toml` without `[tool.unfreeze]` is passed over), as in ruff.
//! Deserialised strictly: an unknown key or a bad value stops the run before any file is read,
//! with the file, the key and the reason.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use crate::codemod::{ConfiguredCall, OffloadIdiom, configured_offload};
use serde::Deserialize;

mod find;
mod pytest;

pub use find::{discover, find_config, load_named};
pub use pytest::asyncio_auto_mode;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<String>>,
    extend_select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    extend_exclude: Option<Vec<String>>,
    force_exclude: Option<bool>,
    per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    target_version: Option<String>,
    http_client: Option<String>,
    blocking_calls: Option<Vec<RawBlockingCall>>,
    cpu_bound_calls: Option<Vec<RawCpuBoundCall>>,
    offload: Option<RawOffload>,
    cache_dir: Option<PathBuf>,
}

/// `offload`: the project's own helper that runs a function in a worker thread,
/// `"pkg.mod.helper"` or `{ function = "pkg.mod.helper", keywords = "pass" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawOffload {
    Function(String),
    Table(RawOffloadTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffloadTable {
    function: String,
    keywords: Option<String>,
}

/// One `[[tool.unfreeze.blocking-calls]]` entry (flake8-async's ASYNC200, with fixes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBlockingCall {
    call: String,
    fix: Option<String>,
    template: Option<String>,
    #[serde(default)]
    imports: Vec<String>,
    applicability: Option<String>,
}

/// One `[[tool.unfreeze.cpu-bound-calls]]` entry (UNF105): whether the call's heavy part runs
/// with the GIL released decides between a worker thread and no fix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCpuBoundCall {
    call: String,
    releases_gil: bool,
}

/// A `pyproject.toml`, read only for the parts unfreeze uses; other tools' keys are ignored.
#[derive(Debug, Default, Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTools>,
    project: Option<PyprojectProject>,
}

#[derive(Debug, Default, Deserialize)]
struct PyprojectTools {
    unfreeze: Option<RawConfig>,
}

#[derive(Debug, Default, Deserialize)]
struct PyprojectProject {
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

/// The HTTP client requests calls are rewritten to: `auto` (the default) follows the
/// project's declared dependencies (`codemod::choose_target`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpClient {
    #[default]
    Auto,
    Httpx,
    Httpx2,
}

/// A validated configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it came from (`None`: no file, defaults).
    pub path: Option<PathBuf>,
    /// The directory relative paths and globs are resolved against.
    pub root: PathBuf,
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// Globs of paths to skip (`exclude` then `extend-exclude`).
    pub exclude: Vec<String>,
    /// Apply `exclude` to the paths named on the command line too (`--force-exclude`).
    pub force_exclude: bool,
    /// (glob, codes): findings of these codes are dropped in matching files.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    /// `(3, 11)` for `py311`; from `target-version`, else `project.requires-python`.
    pub target_version: Option<(u8, u8)>,
    /// `target-version` was given (else the target comes from a `requires-python`).
    pub target_version_set: bool,
    /// The project's pytest configuration sets pytest-asyncio's `asyncio_mode = "auto"`.
    pub pytest_asyncio_auto: bool,
    pub http_client: HttpClient,
    /// The client this run's requests migration writes, and why (resolved from
    /// `http_client` and the project's dependencies when the settings are made).
    pub http_target: crate::codemod::HttpTarget,
    /// Functions the project declares blocking (`blocking-calls`, with the fix to use) or
    /// CPU-bound (`cpu-bound-calls`).
    pub blocking_calls: Vec<ConfiguredCall>,
    /// The project's own offload helper (`offload`), used by thread fixes where the file
    /// imports it.
    pub offload: Vec<OffloadIdiom>,
    /// Where the result cache lives (`cache-dir`, relative to the file's directory).
    pub cache_dir: Option<PathBuf>,
}

/// Invalid configuration: which file, which key, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The search works on absolute paths: show the file as the person would name it.
        let relative = std::env::current_dir()
            .and_then(fs::canonicalize)
            .ok()
            .and_then(|cwd| self.path.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .filter(|path| !path.as_os_str().is_empty());
        write!(
            f,
            "invalid configuration in {}: {}",
            relative.as_deref().unwrap_or(&self.path).display(),
            self.message
        )
    }
}

/// `py311` → (3, 11).
fn parse_target_version(text: &str) -> Option<(u8, u8)> {
    let digits = text.strip_prefix("py3")?;
    let minor: u8 = digits.parse().ok()?;
    (6..=20).contains(&minor).then_some((3, minor))
}

/// The lowest version a `requires-python` specifier allows: `>=3.9`, `>=3.10,<4`, `~=3.11`.
fn minimum_from_requires_python(spec: &str) -> Option<(u8, u8)> {
    spec.split(',').find_map(|part| {
        let part = part.trim();
        // `>3.8` allows 3.8.1: its lower bound is 3.8 too.
        let version = part
            .strip_prefix(">=")
            .or_else(|| part.strip_prefix("~="))
            .or_else(|| part.strip_prefix("=="))
            .or_else(|| part.strip_prefix('>'))?
            .trim();
        let mut numbers = version.split('.');
        let major: u8 = numbers.next()?.trim().parse().ok()?;
        let minor: u8 = numbers
            .next()
            .unwrap_or("0")
            .trim_end_matches('*')
            .parse()
            .ok()?;
        (major == 3).then_some((major, minor))
    })
}

/// Load and validate a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        message,
    };
    let text = fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    // Deserialising the whole file (not a detached table) keeps line numbers and key paths
    // in the error messages.
    let (raw, requires_python) = if is_pyproject {
        let pyproject: Pyproject = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        let raw = pyproject.tool.and_then(|t| t.unfreeze).unwrap_or_default();
        (raw, pyproject.project.and_then(|p| p.requires_python))
    } else {
        let raw: RawConfig = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        (raw, None)
    };
    let target_version = match (&raw.target_version, &requires_python) {
        (Some(text), _) => Some(parse_target_version(text).ok_or_else(|| {
            error(format!(
                "`target-version = {text:?}`: expected a version such as \"py39\" or \"py312\""
            ))
        })?),
        (None, Some(spec)) => minimum_from_requires_python(spec),
        (None, None) => None,
    };
    let http_client = match raw.http_client.as_deref() {
        None | Some("auto") => HttpClient::Auto,
        Some("httpx") => HttpClient::Httpx,
        Some("httpx2") => HttpClient::Httpx2,
        Some(other) => {
            return Err(error(format!(
                "`http-client = {other:?}`: expected \"auto\", \"httpx\" or \"httpx2\""
            )));
        }
    };
    let mut exclude = raw.exclude.unwrap_or_default();
    exclude.extend(raw.extend_exclude.unwrap_or_default());
    for pattern in &exclude {
        Glob::new(pattern).map_err(|e| error(format!("exclude: `{pattern}`: {e}")))?;
    }
    let mut per_file_ignores = Vec::new();
    for (pattern, codes) in raw.per_file_ignores.unwrap_or_default() {
        Glob::new(&pattern).map_err(|e| error(format!("per-file-ignores: `{pattern}`: {e}")))?;
        per_file_ignores.push((pattern, codes));
    }
    let mut blocking_calls = Vec::new();
    for (i, entry) in raw.blocking_calls.unwrap_or_default().iter().enumerate() {
        let call = ConfiguredCall::compile(
            &entry.call,
            entry.fix.as_deref(),
            entry.template.as_deref(),
            &entry.imports,
            entry.applicability.as_deref(),
        )
        .map_err(|e| error(format!("blocking-calls[{i}] ({}): {e}", entry.call)))?;
        blocking_calls.push(call);
    }
    for (i, entry) in raw.cpu_bound_calls.unwrap_or_default().iter().enumerate() {
        let call = ConfiguredCall::compile_cpu_bound(&entry.call, entry.releases_gil)
            .map_err(|e| error(format!("cpu-bound-calls[{i}] ({}): {e}", entry.call)))?;
        blocking_calls.push(call);
    }
    let offload = match &raw.offload {
        None => Vec::new(),
        Some(RawOffload::Function(function)) => vec![configured_offload(function, "partial")],
        Some(RawOffload::Table(table)) => vec![configured_offload(
            &table.function,
            table.keywords.as_deref().unwrap_or("partial"),
        )],
    }
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| error(format!("offload: {e}")))?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Config {
        path: Some(path.to_path_buf()),
        blocking_calls,
        offload,
        cache_dir: raw.cache_dir.map(|dir| root.join(dir)),
        root,
        select: raw.select,
        extend_select: raw.extend_select.unwrap_or_default(),
        ignore: raw.ignore.unwrap_or_default(),
        exclude,
        force_exclude: raw.force_exclude.unwrap_or(false),
        per_file_ignores,
        target_version,
        target_version_set: raw.target_version.is_some(),
        pytest_asyncio_auto: false,
        http_client,
        http_target: Default::default(),
    })
}

/// Per-file ignores compiled for matching.
#[derive(Clone, Debug, Default)]
pub struct PerFileIgnores {
    root: PathBuf,
    entries: Vec<(GlobMatcher, Vec<String>)>,
}

impl PerFileIgnores {
    pub fn new(config: &Config) -> PerFileIgnores {
        let entries = config
            .per_file_ignores
            .iter()
            .map(|(pattern, codes)| {
                let glob = Glob::new(pattern).expect("validated when loaded");
                (glob.compile_matcher(), codes.clone())
            })
            .collect();
        PerFileIgnores {
            root: fs::canonicalize(&config.root).unwrap_or_else(|_| config.root.clone()),
            entries,
        }
    }

    /// Whether findings of `code` are ignored in the file at `path`: the glob is matched
    /// against the path relative to the configuration's directory, and against the file name.
    pub fn ignores(&self, path: &Path, code: &str) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let relative = absolute.strip_prefix(&self.root).unwrap_or(&absolute);
        let name = path.file_name().map(Path::new);
        self.entries.iter().any(|(glob, codes)| {
            let matches = glob.is_match(relative) || name.is_some_and(|n| glob.is_match(n));
            matches
                && codes
                    .iter()
                    .any(|c| c == "ALL" || code.starts_with(c.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn nearest_config_wins_and_plain_pyproject_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "pyproject.toml",
            "[tool.unfreeze]\nignore = [\"ASYNC230\"]\n",
        );
        write(root, "pkg/pyproject.toml", "[project]\nname = \"x\"\n");
        write(root, "pkg/sub/a.py", "x = 1\n");
        let found = find_config(&root.join("pkg/sub/a.py")).unwrap().unwrap();
        assert_eq!(
            found,
            fs::canonicalize(root.join("pyproject.toml")).unwrap()
        );
        write(root, "pkg/unfreeze.toml", "ignore = []\n");
        let found = find_config(&root.join("pkg/sub")).unwrap().unwrap();
        assert_eq!(
            found,
            fs::canonicalize(root.join("pkg/unfreeze.toml")).unwrap()
        );
    }

    #[test]
    fn pyproject_section_is_loaded_with_requires_python_as_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "pyproject.toml",
            "[project]\nrequires-python = \">=3.8, <4\"\n[tool.unfreeze]\nselect = [\"ASYNC\"]\n\
             extend-exclude = [\"gen/*\"]\nforce-exclude = true\nhttp-client = \"httpx2\"\n\
             [tool.unfreeze.per-file-ignores]\n\"tests/*\" = [\"ASYNC251\"]\n",
        );
        let config = load(&path).unwrap();
        assert_eq!(config.select.as_deref(), Some(&["ASYNC".to_owned()][..]));
        assert_eq!(config.exclude, ["gen/*"]);
        assert!(config.force_exclude);
        assert_eq!(config.target_version, Some((3, 8)));
        assert_eq!(config.http_client, HttpClient::Httpx2);
        let ignores = PerFileIgnores::new(&config);
        let test_file = write(dir.path(), "tests/test_a.py", "");
        assert!(ignores.ignores(&test_file, "ASYNC251"));
        assert!(!ignores.ignores(&test_file, "ASYNC230"));
        let app_file = write(dir.path(), "app/a.py", "");
        assert!(!ignores.ignores(&app_file, "ASYNC251"));
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("[tool.unfreeze]\nselct = [\"A\"]\n", "selct"),
            (
                "[tool.unfreeze]\ntarget-version = \"3.11\"\n",
                "target-version",
            ),
            (
                "[tool.unfreeze]\nhttp-client = \"aiohttp\"\n",
                "http-client",
            ),
            ("[tool.unfreeze]\nselect = \"ASYNC\"\n", "select"),
            ("[tool.unfreeze]\nexclude = [\"a[\"]\n", "exclude"),
            ("[tool.unfreeze\n", "pyproject.toml"),
            (
                "[[tool.unfreeze.blocking-calls]]\ncall = \"a..b\"\n",
                "blocking-calls[0]",
            ),
            (
                "[[tool.unfreeze.blocking-calls]]\ncall = \"a.b\"\nfix = \"magic\"\n",
                "expected \"to-thread\" or \"template\"",
            ),
            (
                "[[tool.unfreeze.blocking-calls]]\ncall = \"a.b\"\ntemplate = \"x({argz})\"\n",
                "unknown placeholder `{argz}`",
            ),
            (
                "[tool.unfreeze]\noffload = \"helper\"\n",
                "offload: `helper`",
            ),
            (
                "[tool.unfreeze]\noffload = { function = \"a.b\", keywords = \"all\" }\n",
                "offload: `keywords = \"all\"`",
            ),
            (
                "[[tool.unfreeze.blocking-calls]]\ncall = \"a.b\"\nfix = \"to-thread\"\nimports = [\"a.b\"]\ntemplate = \"x()\"\n",
                "blocking-calls[0]",
            ),
            (
                "[[tool.unfreeze.cpu-bound-calls]]\ncall = \"a.b\"\n",
                "releases-gil",
            ),
            (
                "[[tool.unfreeze.cpu-bound-calls]]\ncall = \"a b\"\nreleases-gil = true\n",
                "cpu-bound-calls[0]",
            ),
        ] {
            let path = write(dir.path(), "pyproject.toml", text);
            let err = load(&path).unwrap_err().to_string();
            assert!(err.contains("pyproject.toml"), "{err}");
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn target_versions_parse() {
        assert_eq!(parse_target_version("py39"), Some((3, 9)));
        assert_eq!(parse_target_version("py312"), Some((3, 12)));
        assert_eq!(parse_target_version("3.12"), None);
        assert_eq!(minimum_from_requires_python(">=3.10"), Some((3, 10)));
        assert_eq!(minimum_from_requires_python("~=3.11.2"), Some((3, 11)));
        assert_eq!(minimum_from_requires_python("<4"), None);
    }
}
