//! Which async client the requests migration writes (`http-client = "auto"`, the default):
//! the one the project already depends on, read from the files that declare its dependencies
//! (pyproject.toml's `[project]` dependencies, optional dependencies and dependency groups,
//! Poetry's tables, `requirements*.txt`, setup.cfg, Pipfile, and the lock files uv.lock,
//! poetry.lock and pdm.lock); when it names none of them, the first client of the mapping's
//! `clients` list whose current releases support the project's lowest Python. The choice and
//! its reason are said once in the run summary and in each migration fix's note, with the
//! dependency to add when the project does not declare the client.

use std::path::{Path, PathBuf};

/// The files of a project directory that declare dependencies, in the order they are read.
const DECLARING_FILES: &[&str] = &[
    "pyproject.toml",
    "setup.cfg",
    "Pipfile",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
];

/// One client the migration can target (`[[alternative-fix.httpx.clients]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPackage {
    /// The module the rewrite imports (`httpx2`).
    pub module: String,
    /// Its distribution name on PyPI.
    pub package: String,
    /// The lowest Python its current releases support (`(3, 11)`).
    pub requires_python: (u8, u8),
}

/// The client requests calls are rewritten to in this run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTarget {
    /// `httpx` or `httpx2`.
    pub module: String,
    /// Why it was chosen, for the run summary: "the project declares httpx2 (pyproject.toml)".
    pub reason: String,
    /// The project declares the client: `None`, or the file that does.
    pub declared_in: Option<String>,
}

impl Default for HttpTarget {
    fn default() -> Self {
        HttpTarget {
            module: "httpx".to_owned(),
            reason: String::new(),
            declared_in: None,
        }
    }
}

impl HttpTarget {
    /// The sentence each migration fix carries: which client, why, and the dependency to add
    /// when the project does not declare it.
    pub fn note(&self) -> String {
        let mut note = format!("rewritten to {}: {}", self.module, self.reason);
        if self.declared_in.is_none() {
            note.push_str(&format!(
                "; add `{}` to the project's dependencies, or the rewritten module fails at \
                 import (ModuleNotFoundError)",
                self.module
            ));
        }
        note
    }

    /// The run summary's line.
    pub fn summary(&self) -> String {
        let mut line = format!("requests migrates to {}: {}.", self.module, self.reason);
        if self.declared_in.is_none() {
            line.push_str(&format!(
                " The project does not declare `{}`: add it to its dependencies.",
                self.module
            ));
        }
        line
    }
}

/// The dependency names a project declares, each with the file that declares it.
#[derive(Clone, Debug, Default)]
pub struct Declared {
    /// (normalised name, file name), in reading order.
    names: Vec<(String, String)>,
    /// `[project] requires-python`'s lowest version, when a pyproject.toml gives one.
    pub requires_python: Option<(u8, u8)>,
    /// The directory they were read from.
    pub root: Option<PathBuf>,
}

impl Declared {
    /// The file that declares `package`, if one does.
    pub fn declares(&self, package: &str) -> Option<&str> {
        let wanted = normalise(package);
        self.names
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, file)| file.as_str())
    }

    /// The dependencies declared in the project around `start`: the nearest directory at or
    /// above it that holds a declaring file, not above a repository root (`.git`).
    pub fn around(start: &Path) -> Declared {
        let Ok(start) = std::fs::canonicalize(start) else {
            return Declared::default();
        };
        let first = if start.is_dir() {
            start.as_path()
        } else {
            match start.parent() {
                Some(parent) => parent,
                None => return Declared::default(),
            }
        };
        for dir in first.ancestors() {
            let files = declaring_files(dir);
            if !files.is_empty() {
                let mut declared = Declared {
                    root: Some(dir.to_path_buf()),
                    ..Declared::default()
                };
                for (name, path) in files {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        declared.read(&name, &text);
                    }
                }
                return declared;
            }
            if dir.join(".git").exists() {
                break;
            }
        }
        Declared::default()
    }

    /// Add what the file `name`, whose text is `text`, declares.
    pub fn read(&mut self, name: &str, text: &str) {
        let mut add = |dependency: &str| {
            if let Some(package) = requirement_name(dependency) {
                self.names.push((package, name.to_owned()));
            }
        };
        if name.ends_with(".txt") {
            for line in text.lines() {
                let line = line.split(" #").next().unwrap_or("").trim();
                if !line.starts_with(['-', '#']) {
                    add(line);
                }
            }
            return;
        }
        if name == "setup.cfg" {
            // `install_requires =` and `[options.extras_require]` values, one per line.
            let mut in_list = false;
            let mut in_extras = false;
            for line in text.lines() {
                let trimmed = line.trim();
                if trimmed.starts_with('[') {
                    in_extras = trimmed == "[options.extras_require]";
                    in_list = false;
                    continue;
                }
                let continued = line.starts_with([' ', '\t']);
                if !continued {
                    in_list = false;
                    if let Some((key, value)) = trimmed.split_once('=') {
                        in_list = in_extras || key.trim() == "install_requires";
                        if in_list {
                            value.split(';').next().into_iter().for_each(&mut add);
                        }
                    }
                } else if in_list && !trimmed.starts_with('#') {
                    add(trimmed);
                }
            }
            return;
        }
        let Ok(value) = text.parse::<toml::Table>() else {
            return;
        };
        let strings = |value: Option<&toml::Value>| -> Vec<String> {
            value
                .and_then(toml::Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let keys = |value: Option<&toml::Value>| -> Vec<String> {
            value
                .and_then(toml::Value::as_table)
                .map(|table| table.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut found: Vec<String> = Vec::new();
        match name {
            "pyproject.toml" => {
                if let Some(project) = value.get("project") {
                    found.extend(strings(project.get("dependencies")));
                    if let Some(optional) = project
                        .get("optional-dependencies")
                        .and_then(toml::Value::as_table)
                    {
                        for group in optional.values() {
                            found.extend(strings(Some(group)));
                        }
                    }
                    self.requires_python = project
                        .get("requires-python")
                        .and_then(toml::Value::as_str)
                        .and_then(lowest_python);
                }
                if let Some(groups) = value
                    .get("dependency-groups")
                    .and_then(toml::Value::as_table)
                {
                    for group in groups.values() {
                        found.extend(strings(Some(group)));
                    }
                }
                if let Some(poetry) = value.get("tool").and_then(|t| t.get("poetry")) {
                    found.extend(keys(poetry.get("dependencies")));
                    found.extend(keys(poetry.get("dev-dependencies")));
                    if let Some(groups) = poetry.get("group").and_then(toml::Value::as_table) {
                        for group in groups.values() {
                            found.extend(keys(group.get("dependencies")));
                        }
                    }
                }
            }
            "Pipfile" => {
                found.extend(keys(value.get("packages")));
                found.extend(keys(value.get("dev-packages")));
            }
            // uv.lock, poetry.lock, pdm.lock: `[[package]] name = "..."`.
            _ => {
                if let Some(packages) = value.get("package").and_then(toml::Value::as_array) {
                    found.extend(packages.iter().filter_map(|p| {
                        p.get("name")
                            .and_then(toml::Value::as_str)
                            .map(str::to_owned)
                    }));
                }
            }
        }
        for dependency in &found {
            add(dependency);
        }
    }
}

/// The declaring files directly in `dir`: the fixed names, then `requirements*.txt` (sorted).
fn declaring_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = DECLARING_FILES
        .iter()
        .map(|name| (name.to_string(), dir.join(name)))
        .filter(|(_, path)| path.is_file())
        .collect();
    let mut requirements: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name.starts_with("requirements") && name.ends_with(".txt") && entry.path().is_file())
                .then(|| (name, entry.path()))
        })
        .collect();
    requirements.sort();
    files.extend(requirements);
    files
}

/// A distribution name normalised as PyPI does (PEP 503): lower case, runs of `-_.` → `-`.
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The distribution a requirement names (`httpx[http2]>=0.27; python_version>"3.8"` →
/// `httpx`), normalised; `None` for what names none (a URL, an option, a blank line).
fn requirement_name(requirement: &str) -> Option<String> {
    let requirement = requirement.trim();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .then(|| normalise(name))
}

/// The lowest Python a `requires-python` specifier allows (`>=3.9`, `~=3.11`, `>=3.10,<4`).
pub fn lowest_python(spec: &str) -> Option<(u8, u8)> {
    spec.split(',').find_map(|part| {
        let part = part.trim();
        let version = part
            .strip_prefix(">=")
            .or_else(|| part.strip_prefix("~="))
            .or_else(|| part.strip_prefix("=="))?
            .trim();
        let mut numbers = version.split('.');
        let major: u8 = numbers.next()?.trim().parse().ok()?;
        let minor: u8 = numbers.next().unwrap_or("0").trim().parse().ok()?;
        Some((major, minor))
    })
}

/// The client for a run: `forced` (`http-client = "httpx"` / `"httpx2"`) when given, else the
/// first of `clients` the project declares, else the first whose current releases support
/// `target_version` (the configured one, else the project's `requires-python`; unknown: the
/// first client).
pub fn choose(
    forced: Option<&str>,
    declared: &Declared,
    target_version: Option<(u8, u8)>,
    clients: &[ClientPackage],
) -> HttpTarget {
    let module_of = |client: &ClientPackage| client.module.clone();
    let declared_in =
        |client: &ClientPackage| declared.declares(&client.package).map(str::to_owned);
    if let Some(forced) = forced
        && let Some(client) = clients.iter().find(|c| c.module == forced)
    {
        return HttpTarget {
            module: module_of(client),
            reason: "`http-client` in the configuration says so".to_owned(),
            declared_in: declared_in(client),
        };
    }
    if let Some((client, file)) = clients
        .iter()
        .find_map(|c| declared_in(c).map(|file| (c, file)))
    {
        return HttpTarget {
            module: module_of(client),
            reason: format!("the project depends on `{}` ({file})", client.package),
            declared_in: Some(file),
        };
    }
    let python = target_version.or(declared.requires_python);
    let version = |(major, minor): (u8, u8)| format!("{major}.{minor}");
    let (client, reason) = match python {
        None => (
            clients.first(),
            "the project declares no async HTTP client and no lowest Python version".to_owned(),
        ),
        Some(python) => {
            let fits = clients.iter().find(|c| c.requires_python <= python);
            let skipped: Vec<String> = clients
                .iter()
                .take_while(|c| c.requires_python > python)
                .map(|c| {
                    format!(
                        "`{}` needs Python {}",
                        c.package,
                        version(c.requires_python)
                    )
                })
                .collect();
            let mut reason = format!(
                "the project declares no async HTTP client; its lowest Python is {}",
                version(python)
            );
            if !skipped.is_empty() {
                reason.push_str(&format!(" and {}", skipped.join(", ")));
            }
            (fits.or(clients.last()), reason)
        }
    };
    match client {
        Some(client) => HttpTarget {
            module: module_of(client),
            reason,
            declared_in: None,
        },
        None => HttpTarget::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Vec<ClientPackage> {
        vec![
            ClientPackage {
                module: "httpx2".into(),
                package: "httpx2".into(),
                requires_python: (3, 11),
            },
            ClientPackage {
                module: "httpx".into(),
                package: "httpx".into(),
                requires_python: (3, 8),
            },
        ]
    }

    fn declared(files: &[(&str, &str)]) -> Declared {
        let mut declared = Declared::default();
        for (name, text) in files {
            declared.read(name, text);
        }
        declared
    }

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(
            requirement_name("HTTPX[http2]>=0.27; python_version > '3.8'").as_deref(),
            Some("httpx")
        );
        assert_eq!(
            requirement_name("Flask_Login==1").as_deref(),
            Some("flask-login")
        );
        assert_eq!(requirement_name("-r base.txt"), None);
    }

    #[test]
    fn each_declaring_file_is_read() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "pyproject.toml",
                "[project]\ndependencies = [\"httpx>=0.27\"]\n",
                "httpx",
            ),
            (
                "pyproject.toml",
                "[project.optional-dependencies]\nnet = [\"httpx2\"]\n",
                "httpx2",
            ),
            (
                "pyproject.toml",
                "[dependency-groups]\ndev = [\"httpx\"]\n",
                "httpx",
            ),
            (
                "pyproject.toml",
                "[tool.poetry.dependencies]\npython = \"^3.12\"\nhttpx2 = \"^2\"\n",
                "httpx2",
            ),
            (
                "pyproject.toml",
                "[tool.poetry.group.test.dependencies]\nhttpx = \"*\"\n",
                "httpx",
            ),
            (
                "requirements.txt",
                "# pinned\nrequests==2.32\nhttpx==0.28.1  # ok\n",
                "httpx",
            ),
            (
                "setup.cfg",
                "[options]\ninstall_requires =\n    requests\n    httpx2>=2\n",
                "httpx2",
            ),
            (
                "setup.cfg",
                "[options.extras_require]\nasync = httpx\n",
                "httpx",
            ),
            ("Pipfile", "[packages]\nhttpx = \"*\"\n", "httpx"),
            (
                "uv.lock",
                "version = 1\n[[package]]\nname = \"httpx2\"\nversion = \"2.17.0\"\n",
                "httpx2",
            ),
            (
                "poetry.lock",
                "[[package]]\nname = \"httpx\"\nversion = \"0.28.1\"\n",
                "httpx",
            ),
        ];
        for (file, text, package) in cases {
            let found = declared(&[(file, text)]);
            assert_eq!(found.declares(package), Some(*file), "{file}: {text}");
        }
    }

    #[test]
    fn the_declared_client_wins_then_the_python_version_decides() {
        let target = choose(
            None,
            &declared(&[("requirements.txt", "httpx\n")]),
            Some((3, 12)),
            &clients(),
        );
        assert_eq!(target.module, "httpx");
        assert_eq!(target.declared_in.as_deref(), Some("requirements.txt"));
        let both = declared(&[("requirements.txt", "httpx\nhttpx2\n")]);
        assert_eq!(choose(None, &both, None, &clients()).module, "httpx2");
        let none = Declared::default();
        let target = choose(None, &none, Some((3, 12)), &clients());
        assert_eq!(target.module, "httpx2");
        assert!(target.note().contains("add `httpx2`"), "{}", target.note());
        let old = choose(None, &none, Some((3, 9)), &clients());
        assert_eq!(old.module, "httpx");
        assert!(
            old.reason.contains("`httpx2` needs Python 3.11"),
            "{}",
            old.reason
        );
        let from_pyproject = declared(&[(
            "pyproject.toml",
            "[project]\nrequires-python = \">=3.10\"\n",
        )]);
        assert_eq!(
            choose(None, &from_pyproject, None, &clients()).module,
            "httpx"
        );
        let forced = choose(Some("httpx"), &both, None, &clients());
        assert_eq!(forced.module, "httpx");
        assert!(forced.declared_in.is_some());
    }
}
