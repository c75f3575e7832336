//! The module map: which dotted module name each discovered file is imported as.
//!
//! A file gets the name its package chain gives it (walking up while the directory holds an
//! `__init__.py`), and the name its path gives relative to each project root (the directories
//! on the command line, and the configuration's directory), with a leading `src` directory
//! dropped (the `src/` layout). The second form is what makes namespace packages (directories
//! without `__init__.py`) importable under their full dotted name.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How one file is imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The name relative imports are resolved against.
    pub name: String,
    /// `__init__.py`: `from . import x` is relative to the module itself.
    pub is_package: bool,
    /// Every name the file is importable under (`name` first).
    pub names: Vec<String>,
    /// The modules beside the file in its directory that a bare `import x` names when the
    /// directory is run as a script (`sys.path[0]`): `("database", "bot.database")` for
    /// `bot/bot.py` next to `bot/database.py`, sorted. Only names no module of the project
    /// has as its absolute name, and none of the standard library's.
    pub siblings: Vec<(String, String)>,
}

/// Every discovered file's module names, and the top-level names the project defines.
#[derive(Debug, Default)]
pub struct ModuleMap {
    modules: HashMap<PathBuf, ModuleInfo>,
    /// Every module name, to the index of its file in the files the map was built from.
    by_name: HashMap<String, usize>,
    tops: HashSet<String>,
}

fn is_identifier(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with(|c: char| c.is_ascii_digit())
        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `a/b/c.py` → `["a", "b", "c"]`; `a/b/__init__.py` → `["a", "b"]`; `None` when a part is
/// not an identifier (`my-scripts/x.py` cannot be imported).
fn dotted_parts(relative: &Path) -> Option<Vec<String>> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last
        .strip_suffix(".py")
        .or_else(|| last.strip_suffix(".pyi"))?;
    if stem != "__init__" {
        parts.push(stem.to_owned());
    }
    (!parts.is_empty() && parts.iter().all(|p| is_identifier(p))).then_some(parts)
}

/// The name of a file no import can name: its path relative to the first root holding it
/// (else its stem), components joined by dots, the `.py` dropped (`scripts.my-bot`). Never a
/// valid dotted module name, so it cannot collide with one an import resolves to.
fn unimportable_name(path: &Path, roots: &[PathBuf]) -> Option<String> {
    let relative = roots
        .iter()
        .find_map(|root| path.strip_prefix(root).ok())
        .unwrap_or_else(|| Path::new(path.file_name().unwrap_or_default()));
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last
        .strip_suffix(".py")
        .or_else(|| last.strip_suffix(".pyi"))?;
    if stem != "__init__" {
        parts.push(stem.to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

impl ModuleMap {
    /// Name every file of `files`, found under `roots`.
    pub fn build(roots: &[PathBuf], files: &[PathBuf]) -> ModuleMap {
        // The working directory once (`std::path::absolute` asks for it at every call).
        let cwd = std::env::current_dir().ok();
        // `std::path::absolute` spells a path one way (no trailing or doubled separator), so
        // roots and paths can be compared by their bytes.
        let absolute = |p: &Path| -> PathBuf {
            match &cwd {
                Some(cwd) if p.is_relative() => std::path::absolute(cwd.join(p)),
                _ => std::path::absolute(p),
            }
            .unwrap_or_else(|_| p.to_path_buf())
        };
        let roots: Vec<PathBuf> = roots
            .iter()
            .filter(|r| r.is_dir())
            .map(|r| absolute(r))
            .collect();
        let mut has_init: HashMap<PathBuf, bool> = HashMap::new();
        let mut is_package_dir = |dir: &Path| -> bool {
            *has_init
                .entry(dir.to_path_buf())
                .or_insert_with(|| dir.join("__init__.py").is_file())
        };
        let mut map = ModuleMap::default();
        // Per directory, the bare name and the module name of each importable module in it
        // (a file's stem, a package directory's name); per file, its directory.
        let mut in_directory: HashMap<PathBuf, Vec<(String, String)>> = HashMap::new();
        let mut directories: HashMap<PathBuf, PathBuf> = HashMap::new();
        for (index, file) in files.iter().enumerate() {
            let path = absolute(file);
            let Some(parent) = path.parent() else {
                continue;
            };
            let mut names = Vec::new();
            // The package chain: up while the directory holds an `__init__.py`.
            let mut top = parent.to_path_buf();
            while is_package_dir(&top)
                && let Some(up) = top.parent()
            {
                top = up.to_path_buf();
            }
            // Through namespace directories too, up to the highest regular package above
            // them: `pkg/sub/mod.py` with `pkg/__init__.py` but no `pkg/sub/__init__.py` is
            // `pkg.sub.mod`, as Python imports it.
            let mut bridged = None;
            let mut dir = top.as_path();
            while dir
                .file_name()
                .is_some_and(|n| is_identifier(&n.to_string_lossy()))
            {
                if is_package_dir(dir) {
                    bridged = dir.parent().map(Path::to_path_buf);
                }
                let Some(up) = dir.parent() else { break };
                dir = up;
            }
            if let Some(bridged) = &bridged
                && let Some(parts) = path.strip_prefix(bridged).ok().and_then(dotted_parts)
            {
                names.push(parts.join("."));
            }
            if let Some(parts) = path.strip_prefix(&top).ok().and_then(dotted_parts)
                && !names.contains(&parts.join("."))
            {
                names.push(parts.join("."));
            }
            // Top-level namespace packages (`llama_index/core/...`, `google/cloud/...`):
            // also the names through up to two identifier directories above, within the
            // roots, as a distribution installed into site-packages is imported.
            let mut above = bridged.clone().unwrap_or_else(|| top.clone());
            for _ in 0..2 {
                let is_root = roots
                    .iter()
                    .any(|root| root.as_os_str() == above.as_os_str());
                if is_root
                    || !above
                        .file_name()
                        .is_some_and(|n| is_identifier(&n.to_string_lossy()))
                {
                    break;
                }
                let Some(up) = above.parent() else { break };
                above = up.to_path_buf();
                if let Some(parts) = path.strip_prefix(&above).ok().and_then(dotted_parts)
                    && !names.contains(&parts.join("."))
                {
                    names.push(parts.join("."));
                }
            }
            // Relative to each root, with and without a leading `src` (a root that is not a
            // prefix of the path's bytes is not one of its components: skipped before the
            // slower comparison by components).
            for root in &roots {
                if !path
                    .as_os_str()
                    .as_encoded_bytes()
                    .starts_with(root.as_os_str().as_encoded_bytes())
                {
                    continue;
                }
                let Some(parts) = path.strip_prefix(root).ok().and_then(dotted_parts) else {
                    continue;
                };
                let joined = parts.join(".");
                if !names.contains(&joined) {
                    names.push(joined);
                }
                if parts.len() > 1 && parts[0] == "src" {
                    let joined = parts[1..].join(".");
                    if !names.contains(&joined) {
                        names.push(joined);
                    }
                }
            }
            let importable = !names.is_empty();
            if !importable {
                // Not importable (`013_x.py`, `my-bot.py`, `my-scripts/x.py`): no import can
                // name it, but its own functions are still followed and it may import the
                // project's modules. Its name is its path (relative to its root, else its
                // stem), which is not an identifier, so no import resolves to it.
                let Some(name) = unimportable_name(&path, &roots) else {
                    continue;
                };
                names.push(name);
            }
            // Relative imports are resolved within the package chain when there is one; in a
            // namespace package, within the root-relative name without `src`.
            if !is_package_dir(parent)
                && bridged.is_none()
                && let Some(best) = names.iter().skip(1).max_by_key(|n| n.len()).cloned()
                && !best.starts_with("src.")
            {
                names.retain(|n| *n != best);
                names.insert(0, best);
            }
            for name in &names {
                if importable {
                    map.tops
                        .insert(name.split('.').next().unwrap_or(name).to_owned());
                }
                map.by_name.entry(name.clone()).or_insert(index);
            }
            let is_package = path.file_stem().is_some_and(|s| s == "__init__");
            if importable {
                in_directory
                    .entry(parent.to_path_buf())
                    .or_default()
                    .push((bare_name(&path), names[0].clone()));
                if is_package && let Some(up) = parent.parent() {
                    in_directory
                        .entry(up.to_path_buf())
                        .or_default()
                        .push((bare_name(parent), names[0].clone()));
                }
            }
            directories.insert(file.clone(), parent.to_path_buf());
            map.modules.insert(
                file.clone(),
                ModuleInfo {
                    name: names[0].clone(),
                    is_package,
                    names,
                    siblings: Vec::new(),
                },
            );
        }
        // A script's directory is the first entry of `sys.path`: `import database` in
        // `bot/bot.py`, run as `python bot/bot.py`, is `bot/database.py`, though `bot/` has an
        // `__init__.py` or sits in a package. Resolved so only where no module of the project
        // has that absolute name (`database.py` at a root wins) and the name is not the
        // standard library's.
        for (file, directory) in &directories {
            let Some(beside) = in_directory.get(directory) else {
                continue;
            };
            let mut siblings: Vec<(String, String)> = beside
                .iter()
                .filter(|(bare, full)| {
                    is_identifier(bare)
                        && bare != full
                        && !map.by_name.contains_key(bare)
                        && !crate::stdlib_names::is_stdlib(bare)
                })
                .cloned()
                .collect();
            if siblings.is_empty() {
                continue;
            }
            // Only the names the file imports: a module added beside it that it does not
            // import changes nothing of it (its cached results stay).
            let imported = std::fs::read(file)
                .map(|bytes| bare_imports(&String::from_utf8_lossy(&bytes)))
                .unwrap_or_default();
            siblings.retain(|(bare, _)| imported.contains(bare.as_str()));
            if siblings.is_empty() {
                continue;
            }
            siblings.sort();
            siblings.dedup_by(|a, b| a.0 == b.0);
            if let Some(module) = map.modules.get_mut(file) {
                module.siblings = siblings;
            }
        }
        map
    }

    /// Drop the script siblings named like a library (`is_library`: a name the codemods
    /// match, `redis` for `app/redis.py`): such a file wraps the library more often than it
    /// stands in for it.
    pub fn drop_siblings_named(&mut self, is_library: impl Fn(&str) -> bool) {
        for module in self.modules.values_mut() {
            module.siblings.retain(|(bare, _)| !is_library(bare));
        }
    }

    /// The module a discovered file is, as the path was discovered.
    pub fn module(&self, path: &Path) -> Option<&ModuleInfo> {
        self.modules.get(path)
    }

    /// The index (in the files the map was built from) of the module that defines `dotted`:
    /// the file of its longest prefix that is a module (`app.api.handler` → `app/api.py`).
    pub fn file_defining(&self, dotted: &str) -> Option<usize> {
        let mut end = dotted.len();
        loop {
            if let Some(index) = self.by_name.get(&dotted[..end]) {
                return Some(*index);
            }
            end = dotted[..end].rfind('.')?;
        }
    }

    /// [`Self::file_defining`], with the rest of `dotted` after that module's name
    /// (`handler` for `app.api.handler`; empty for the module itself).
    pub fn file_defining_rest<'d>(&self, dotted: &'d str) -> Option<(usize, &'d str)> {
        let mut end = dotted.len();
        loop {
            if let Some(index) = self.by_name.get(&dotted[..end]) {
                let rest = dotted[end..].trim_start_matches('.');
                return Some((*index, rest));
            }
            end = dotted[..end].rfind('.')?;
        }
    }

    /// The project's top-level module names, sorted: all that [`Self::is_project_name`]
    /// answers from (the result cache keys on them).
    pub fn tops(&self) -> Vec<&str> {
        let mut tops: Vec<&str> = self.tops.iter().map(String::as_str).collect();
        tops.sort_unstable();
        tops
    }

    /// Whether a dotted name starts with one of the project's top-level modules.
    pub fn is_project_name(&self, dotted: &str) -> bool {
        self.tops
            .contains(dotted.split('.').next().unwrap_or(dotted))
    }
}

/// The first names of the modules a file's import statements name without a leading dot
/// (`import database`, `import a.b as c`, `from database import db`: `database`, `a`), on any
/// line, indented or not: which of a script's siblings the file may import.
fn bare_imports(text: &str) -> HashSet<String> {
    let first = |module: &str| -> Option<String> {
        let module = module.trim();
        let name = module.split(['.', ' ']).next()?;
        is_identifier(name).then(|| name.to_owned())
    };
    let mut found = HashSet::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("import ") {
            let rest = rest.split('#').next().unwrap_or(rest);
            found.extend(rest.split(',').filter_map(first));
        } else if let Some(rest) = line.strip_prefix("from ")
            && let Some((module, _)) = rest.split_once(" import")
        {
            found.extend(first(module));
        }
    }
    found
}

/// A file's or package directory's name as a bare import spells it (`database` for
/// `bot/database.py`, `helpers` for `bot/helpers`).
fn bare_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.strip_suffix(".py")
        .or_else(|| name.strip_suffix(".pyi"))
        .unwrap_or(&name)
        .to_owned()
}

/// An import's qualified name made absolute: `.helpers.load` in module `app.api` is
/// `app.helpers.load`; in package `app` (its `__init__.py`) it is `app.helpers.load` too; a
/// bare name of a script's sibling (`database.db` in `bot/bot.py`, [`ModuleInfo::siblings`])
/// is the sibling's (`bot.database.db`). `None` when the dots climb above the top of the
/// package.
pub fn absolute_name(module: &ModuleInfo, qualified: &str) -> Option<String> {
    let rest = qualified.trim_start_matches('.');
    let dots = qualified.len() - rest.len();
    if dots == 0 {
        let (first, tail) = match qualified.split_once('.') {
            Some((first, tail)) => (first, Some(tail)),
            None => (qualified, None),
        };
        if let Some((_, full)) = module.siblings.iter().find(|(bare, _)| bare == first) {
            return Some(match tail {
                Some(tail) => format!("{full}.{tail}"),
                None => full.clone(),
            });
        }
        return Some(qualified.to_owned());
    }
    let mut parts: Vec<&str> = module.name.split('.').collect();
    if !module.is_package {
        parts.pop();
    }
    for _ in 1..dots {
        parts.pop()?;
    }
    if parts.is_empty() {
        return None;
    }
    let base = parts.join(".");
    Some(if rest.is_empty() {
        base
    } else {
        format!("{base}.{rest}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn packages_src_layouts_and_namespace_packages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "src/app/__init__.py",
            "src/app/api.py",
            "src/app/sub/__init__.py",
            "src/app/sub/db.py",
            "ns/part/mod.py",
            "script.py",
            "my-tools/x.py",
        ] {
            write(root, file);
        }
        let files: Vec<PathBuf> = [
            "src/app/__init__.py",
            "src/app/api.py",
            "src/app/sub/db.py",
            "ns/part/mod.py",
            "script.py",
            "my-tools/x.py",
        ]
        .iter()
        .map(|f| root.join(f))
        .collect();
        let map = ModuleMap::build(&[root.to_path_buf()], &files);
        let name = |f: &str| map.module(&root.join(f)).map(|m| m.name.clone());
        assert_eq!(name("src/app/__init__.py").as_deref(), Some("app"));
        assert!(
            map.module(&root.join("src/app/__init__.py"))
                .unwrap()
                .is_package
        );
        assert_eq!(name("src/app/api.py").as_deref(), Some("app.api"));
        assert_eq!(name("src/app/sub/db.py").as_deref(), Some("app.sub.db"));
        assert_eq!(name("ns/part/mod.py").as_deref(), Some("ns.part.mod"));
        assert_eq!(name("script.py").as_deref(), Some("script"));
        assert_eq!(name("my-tools/x.py").as_deref(), Some("x"));
        assert!(map.is_project_name("app.api.handler"));
        assert!(!map.is_project_name("requests.get"));
        assert_eq!(map.file_defining("app.api.Handler.get"), Some(1));
        assert_eq!(map.file_defining("ns.part.mod"), Some(3));
        assert_eq!(map.file_defining("requests.get"), None);
    }

    #[test]
    fn a_scripts_siblings_resolve_by_their_bare_names_unless_taken() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = [
            "bot/__init__.py",
            "bot/bot.py",
            "bot/database.py",
            "bot/config.py",
            "bot/json.py",
            "bot/redis.py",
            "bot/helpers/__init__.py",
            "config.py",
        ];
        for file in paths {
            write(root, file);
        }
        std::fs::write(
            root.join("bot/bot.py"),
            "import json, redis\nimport helpers\nfrom database import db\n\ndef f():\n    import config\n",
        )
        .unwrap();
        let files: Vec<PathBuf> = paths.iter().map(|f| root.join(f)).collect();
        let mut map = ModuleMap::build(&[root.to_path_buf()], &files);
        map.drop_siblings_named(|name| name == "redis");
        let bot = map.module(&root.join("bot/bot.py")).unwrap().clone();
        let resolve = |q: &str| absolute_name(&bot, q);
        // `bot/database.py` beside the script; a package directory beside it too.
        assert_eq!(resolve("database.db").as_deref(), Some("bot.database.db"));
        assert_eq!(resolve("database").as_deref(), Some("bot.database"));
        assert_eq!(resolve("helpers.f").as_deref(), Some("bot.helpers.f"));
        // `config.py` at the root is the module `config`; the standard library's `json` and a
        // library the catalogue knows stay theirs.
        assert_eq!(resolve("config.KEY").as_deref(), Some("config.KEY"));
        assert_eq!(resolve("json.loads").as_deref(), Some("json.loads"));
        assert_eq!(resolve("redis.Redis").as_deref(), Some("redis.Redis"));
        // A file in another directory does not see them.
        let top = map.module(&root.join("config.py")).unwrap();
        assert_eq!(
            absolute_name(top, "database.db").as_deref(),
            Some("database.db")
        );
        assert!(!map.is_project_name("database.db"));
        // A sibling the file does not import is not among its siblings (a module added
        // beside it leaves its cache key alone).
        let database = map.module(&root.join("bot/database.py")).unwrap();
        assert!(database.siblings.is_empty(), "{:?}", database.siblings);
    }

    #[test]
    fn bare_imports_are_the_first_names_of_absolute_imports() {
        let found = bare_imports(
            "import os.path as p, database  # x\nfrom store import con\nfrom . import y\n    from helpers.io import f\nx = 'import no'\n",
        );
        let mut found: Vec<&str> = found.iter().map(String::as_str).collect();
        found.sort_unstable();
        assert_eq!(found, ["database", "helpers", "os", "store"]);
    }

    #[test]
    fn a_root_spelled_with_a_trailing_or_doubled_separator_names_the_same_modules() {
        // `a.b.c.mod` comes only from the root (the walk up a namespace package stops two
        // directories above the module).
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a/b/c/mod.py");
        let files = vec![root.join("a/b/c/mod.py")];
        let names = |root: PathBuf| {
            ModuleMap::build(&[root], &files)
                .module(&files[0])
                .unwrap()
                .names
                .clone()
        };
        let plain = names(root.to_path_buf());
        assert!(plain.contains(&"a.b.c.mod".to_owned()), "{plain:?}");
        let spelled = PathBuf::from(format!("{}//", root.display()));
        assert_eq!(names(spelled), plain);
    }

    #[test]
    fn namespace_directories_inside_a_regular_package_keep_the_package_name() {
        // `lib-1.0` is not an identifier, so the root gives no name: only the walk up
        // through `secrets` (no `__init__.py`) to `lib` (a package) does.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "lib-1.0/lib/__init__.py",
            "lib-1.0/lib/secrets/main.py",
            "lib-1.0/lib/ns/sub/__init__.py",
            "lib-1.0/lib/ns/sub/deep.py",
            "lib-1.0/loose/tool.py",
        ];
        for file in files {
            write(root, file);
        }
        let paths: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
        let map = ModuleMap::build(&[root.to_path_buf()], &paths);
        let info = |f: &str| map.module(&root.join(f)).unwrap().clone();
        assert_eq!(info("lib-1.0/lib/secrets/main.py").name, "lib.secrets.main");
        assert!(
            info("lib-1.0/lib/secrets/main.py")
                .names
                .contains(&"main".to_owned())
        );
        assert_eq!(info("lib-1.0/lib/ns/sub/deep.py").name, "lib.ns.sub.deep");
        // A top-level namespace package is importable through it, and relative imports in it
        // resolve against that name.
        assert_eq!(info("lib-1.0/loose/tool.py").name, "loose.tool");
        assert!(
            info("lib-1.0/loose/tool.py")
                .names
                .contains(&"tool".to_owned())
        );
        assert_eq!(map.file_defining("lib.secrets.main.get_secret"), Some(1));
        let relative = absolute_name(&info("lib-1.0/lib/secrets/main.py"), "..utils");
        assert_eq!(relative.as_deref(), Some("lib.utils"));
    }

    #[test]
    fn relative_imports_climb_from_the_module_or_the_package() {
        let module = ModuleInfo {
            name: "app.sub.db".into(),
            is_package: false,
            names: vec![],
            siblings: Vec::new(),
        };
        assert_eq!(
            absolute_name(&module, ".models.User").as_deref(),
            Some("app.sub.models.User")
        );
        assert_eq!(
            absolute_name(&module, "..api.handler").as_deref(),
            Some("app.api.handler")
        );
        assert_eq!(absolute_name(&module, "....x"), None);
        let package = ModuleInfo {
            name: "app".into(),
            is_package: true,
            names: vec![],
            siblings: Vec::new(),
        };
        assert_eq!(
            absolute_name(&package, ".api.handler").as_deref(),
            Some("app.api.handler")
        );
        assert_eq!(
            absolute_name(&package, "os.path").as_deref(),
            Some("os.path")
        );
    }
}
