//! Files as shared state: the files a module both reads and writes through a shared name (a
//! module global, an attribute of `self` / `cls`, a string literal, an imported name, a
//! project function returning the path). On the event loop's thread a coroutine's read,
//! change and rewrite of such a file is atomic with respect to the other coroutines; moved to
//! a worker thread, two of them interleave (an update is lost) and a reader can see the file
//! truncated by a write in progress. Which calls read or write a file is data
//! (`[[moved-code.files]]` in `codemods/UNF401.toml`); a path made fresh (a parameter, a
//! temporary file, a name built from a call) is nobody else's, and stays safe.
//!
//! Project-wide: each access is also keyed the same in every module ([`FileUse::key`]: a
//! literal by its text, a name by its absolute name), for the summary; the settling finds the
//! files other modules read or write (`project/shared_files.rs`), and a file's second pass
//! sees those its coroutines touch ([`ProjectCall::SharedFile`]): moved code racing with
//! another module on such a file is unsafe too, and the message names the other side.

use std::collections::HashMap;

use tree_sitter::Node;

use super::FileContext;
use super::file_access::FileAccess;
use super::suspends::suspends_between;
use crate::codemod::{FileAccessCall, FileAccessKind, MovedCode};

use super::called_accesses::{bind_parameters, carried_accesses, module_calls, through_calls};
use super::shared_databases::{
    between, database_race, database_statements, exclusive, opened_through_helpers, statement_calls,
};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::{
    FileUse, ModuleInfo, OWN_FILE_REMEDY, ProjectCall, ProjectLookup, SHARED_FILE_PREFIX,
    race_message,
};
use crate::semantic::ScopeId;

use super::path_key::{
    ParamAccess, argument, imported_as, is_module_constant, parameter_access, path_key,
};

/// Whether the receiver of `callee` starts from a name bound in a function
/// (`collection = DB.collection`, then `collection.find_one(...)`).
fn through_local_alias(file: &FileContext, callee: Node) -> bool {
    let mut object = callee.field(Field::Object);
    while let Some(node) = object.filter(|n| n.kind_name() == "attribute") {
        object = node.field(Field::Object);
    }
    object
        .filter(|n| n.kind_name() == "identifier")
        .is_some_and(|name| {
            let text = &file.text[name.byte_range()];
            match file.index.resolve_name(text, name.start_byte()) {
                crate::semantic::Resolution::Binding(id) => {
                    file.index.binding(id).scope != file.index.module_scope()
                }
                _ => false,
            }
        })
}

/// What other modules do to a file this one's coroutines read or write, as the settling
/// found: their first reader and in-place writer, each named for a message
/// ("`get_bank_data` in open_acc.py:20").
#[derive(Debug, Clone, Default)]
struct Elsewhere {
    reader: Option<String>,
    writer: Option<String>,
}

/// The file accesses of one file: those to files the module both reads and writes, and
/// every access through a shared name (for the summary and for the files other modules use).
#[derive(Debug, Default)]
pub struct SharedFiles {
    accesses: Vec<FileAccess>,
    all: Vec<FileAccess>,
    elsewhere: HashMap<String, Elsewhere>,
}

impl SharedFiles {
    /// The accesses of `file` to files it both reads and writes.
    /// `module`: the file's module, for the keys every module agrees on.
    pub(super) fn of(
        file: &FileContext,
        moved: &MovedCode,
        module: Option<&ModuleInfo>,
    ) -> SharedFiles {
        if moved.files.is_empty() {
            return SharedFiles::default();
        }
        let root = file.parsed.tree.root_node();
        let mut accesses = Vec::new();
        let mut statements = None;
        let mut through_parameters = Vec::new();
        for &call in &file.nodes.calls {
            let Some(callee) = call.field(Field::Function) else {
                continue;
            };
            // A collection imported from another module (`from db_config import users_col`, or
            // a local alias of one, `collection = DB.collection`): its method as the settling
            // named it (`pymongo.MongoClient.*.*().find_one`).
            let imported = || super::shared_collections::imported_collection_call(file, callee);
            let Some(name) = file
                .index
                .callable_name(callee, root, file.text)
                .or_else(|| through_local_alias(file, callee).then(imported).flatten())
            else {
                continue;
            };
            let collection = |name: &str| {
                super::shared_collections::collection_accesses(
                    file,
                    module,
                    &moved.collections,
                    call,
                    callee,
                    name,
                )
            };
            if let Some(found) =
                collection(&name).or_else(|| imported().and_then(|name| collection(&name)))
            {
                accesses.extend(found);
                continue;
            }
            let Some(ways) = moved.files.get(&name) else {
                continue;
            };
            for way in ways {
                match access_of(file, moved, module, call, callee, way) {
                    Some(Access::Named(access)) if way.access == FileAccessKind::Database => {
                        let by_function = statements
                            .get_or_insert_with(|| statement_calls(file, &way.statements));
                        accesses.extend(database_statements(
                            file,
                            &access,
                            &way.statements,
                            by_function,
                        ));
                        for opened in opened_through_helpers(file, &access) {
                            accesses.extend(database_statements(
                                file,
                                &opened,
                                &way.statements,
                                by_function,
                            ));
                        }
                    }
                    Some(Access::Named(access)) => accesses.push(access),
                    Some(Access::Parameter(access)) => through_parameters.push(access),
                    None => {}
                }
            }
        }
        // A path passed to a method of the class too (`self.save(data, self.path)`).
        accesses.extend(bind_parameters(
            file,
            moved,
            module,
            &module_calls(file, true),
            through_parameters,
        ));
        let calls = module_calls(file, false);
        // What the helpers of other modules it calls read and write, at their calls.
        let carried = carried_accesses(file, moved, &accesses, &calls);
        accesses.extend(carried);
        let through = through_calls(file, moved, &accesses, &calls);
        accesses.extend(through);
        // A test of whether a file is there (`os.path.exists`) reads it only where the module
        // also removes it: a check before the removal, or before a write, that another
        // coroutine's removal or write can now land after.
        let removed: Vec<String> = accesses
            .iter()
            .filter(|a| a.deletes)
            .map(|a| a.key.clone())
            .collect();
        accesses.retain(|a| !a.exists || removed.contains(&a.key));
        let mut kinds: HashMap<&str, (bool, bool)> = HashMap::new();
        for access in &accesses {
            let entry = kinds.entry(&access.key).or_default();
            if access.write {
                entry.1 = true;
            } else {
                entry.0 = true;
            }
        }
        // Read and written; or removed by one function and written by another, or by a
        // clause of the same `if` (a write landing while the removal runs in a worker thread
        // is removed with the file).
        let removed_while_written = |key: &str| {
            accesses.iter().any(|d| {
                d.key == key
                    && d.deletes
                    && accesses.iter().any(|w| {
                        w.key == key
                            && w.write
                            && !w.deletes
                            && (w.function != d.function || exclusive(w, d))
                    })
            })
        };
        let shared: Vec<String> = kinds
            .into_iter()
            .filter(|(key, (read, write))| (*read && *write) || removed_while_written(key))
            .map(|(key, _)| key.to_owned())
            .collect();
        let all = accesses.clone();
        accesses.retain(|a| shared.contains(&a.key));
        let elsewhere = match file.project.map(|p| p.lookup) {
            Some(ProjectLookup::Settled(calls)) => all
                .iter()
                .filter(|a| !a.database)
                .filter_map(|a| {
                    let key = a.project_key.as_ref()?;
                    // Other modules may name the file by the constant they import.
                    std::iter::once(key).chain(&a.alias_keys).find_map(|k| {
                        match calls.get(&format!("{SHARED_FILE_PREFIX}{k}"))? {
                            ProjectCall::SharedFile { reader, writer } => Some((
                                key.clone(),
                                Elsewhere {
                                    reader: reader.clone(),
                                    writer: writer.clone(),
                                },
                            )),
                            _ => None,
                        }
                    })
                })
                .collect(),
            _ => HashMap::new(),
        };
        SharedFiles {
            accesses,
            all,
            elsewhere,
        }
    }

    /// The file's accesses in functions, keyed project-wide, by function: for the summary.
    /// A module constant holding a literal path is keyed twice: by the path, and by the
    /// name other modules import.
    pub(super) fn uses(&self) -> impl Iterator<Item = (ScopeId, FileUse)> + '_ {
        // A test of whether a file is there races only with this module's removal of it.
        self.all.iter().filter(|a| !a.exists).flat_map(|a| {
            let key = a.project_key.as_ref();
            let aliases = a
                .alias_keys
                .iter()
                .filter(move |alias| key.is_some_and(|key| key != *alias));
            key.into_iter().chain(aliases).cloned().filter_map(|key| {
                Some((
                    a.function?,
                    FileUse {
                        key,
                        write: a.write,
                        deletes: a.deletes,
                        atomic: a.atomic,
                        line: a.line,
                        database: a.database,
                        inserts: a.inserts,
                        sql_parameter: a.sql_parameter.clone(),
                    },
                ))
            })
        })
    }

    /// What the code in `range` does to a file another module reads or writes, as the
    /// settling found ([`race_message`]).
    fn elsewhere_in(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        if self.elsewhere.is_empty() {
            return None;
        }
        self.all
            .iter()
            .filter(|a| inside(a) && !a.database)
            .find_map(|a| {
                let other = self.elsewhere.get(a.project_key.as_ref()?)?;
                let shown = format!("`{}`", a.shown);
                let (reader, writer) = (other.reader.clone(), other.writer.clone());
                race_message(&shown, (a.write, a.deletes, a.atomic), reader, writer)
            })
    }

    /// Every access through a shared name, the files and databases of one use too.
    pub(super) fn all(&self) -> &[FileAccess] {
        &self.all
    }

    /// What the code in `range` (of `function`, or a moved block when `None` is given for
    /// it) does to a shared file, for a hazard's message: "reads and rewrites the file
    /// `MATCH_DATES_PATH`", "reads the file `self.path`, which `save` (line 9) writes".
    pub(super) fn hazard_in(
        &self,
        file: &FileContext,
        inside: impl Fn(&FileAccess) -> bool,
    ) -> Option<String> {
        // A scratch file at a fixed path: what its runs do to each other is the hazard,
        // whatever else the same function does to the file.
        if let Some(scratch) = self.fixed_scratch(&inside) {
            return Some(scratch);
        }
        let race = self.race_in(file, &inside);
        let temporary = self.fixed_temporary(&inside);
        match (race, temporary) {
            (Some(race), Some(temporary)) => Some(format!("{race}; it also {temporary}")),
            (race, temporary) => race.or(temporary),
        }
    }

    /// A scratch file at a fixed path (a cookie file written, used, then deleted by the same
    /// function) that the code `inside` picks writes or deletes: every run of the function
    /// uses the one file, so once a write or the delete runs in a worker thread, another
    /// run's write or delete can land while this run still uses the file. A path made per
    /// call (a temporary file, a `uuid4()`, a parameter such as a user's id) is not keyed
    /// here, and stays safe.
    fn fixed_scratch(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        self.all
            .iter()
            .filter(|a| inside(a) && a.write && !a.atomic && !a.database && !a.key.contains('*'))
            .find_map(|moved| {
                let other = self.all.iter().find(|o| {
                    o.function.is_some()
                        && o.function == moved.function
                        && o.key == moved.key
                        && o.write
                        && !o.atomic
                        && o.deletes != moved.deletes
                        && !exclusive(o, moved)
                })?;
                let (does, also) = match moved.deletes {
                    true => ("deletes", "writes"),
                    false => ("writes", "deletes"),
                };
                Some(format!(
                    "{does} the file {}, a fixed path that the same function also {also} (line \
                     {}): every run of the function uses this one file, so while it is written \
                     or deleted in a worker thread another run's write or delete can land in \
                     between, and a run finds no file or a half-written one; {OWN_FILE_REMEDY} \
                     (`tempfile`, a name with `uuid.uuid4()`) or keep it on the event loop",
                    shown_with_key(moved),
                    other.line
                ))
            })
    }

    /// A write through a fixed temporary name then renamed over the file (`path + ".tmp"`,
    /// `os.replace(tmp, path)`) in the code `inside` picks: two such saves running at once
    /// in worker threads write the same temporary file, and the second rename finds it gone.
    fn fixed_temporary(&self, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        let moved: Vec<&FileAccess> = self.all.iter().filter(|a| inside(a)).collect();
        moved
            .iter()
            .filter(|a| a.write && a.atomic)
            .find_map(|whole| {
                let temporary = moved.iter().any(|t| {
                    t.write
                        && !t.atomic
                        && t.range == whole.range
                        && t.key.len() > whole.key.len()
                        && (t.key.starts_with(&whole.key)
                            || t.key.starts_with(&format!("{{{}}}", whole.key)))
                        && !t.key.contains('*')
                });
                temporary.then(|| format!(
                "replaces the file `{}` through a fixed temporary name (`os.replace` of a file \
                 named after it): two saves running at once in worker threads write the same \
                 temporary file, and the second `os.replace` fails with FileNotFoundError (an \
                 atomic replace through a fixed temporary name is still a race between two \
                 writers)",
                whole.shown
            ))
            })
    }

    /// What the code `inside` picks does to a file the module, or another, also reads or
    /// writes.
    fn race_in(&self, file: &FileContext, inside: &impl Fn(&FileAccess) -> bool) -> Option<String> {
        if let Some(race) = database_race(file, &self.accesses, inside) {
            return Some(race);
        }
        let moved: Vec<&FileAccess> = self
            .accesses
            .iter()
            .filter(|a| inside(a) && !a.database)
            .collect();
        let Some(first) = moved.first() else {
            return self.elsewhere_in(inside);
        };
        let same: Vec<&&FileAccess> = moved.iter().filter(|a| a.key == first.key).collect();
        let reads = same.iter().any(|a| !a.write);
        let writes = same.iter().any(|a| a.write);
        let shown = shown_with_key(first);
        if reads && writes {
            let rewrites = match same.iter().filter(|a| a.write).all(|a| a.deletes) {
                true => "deletes",
                false => "rewrites",
            };
            return Some(format!("reads and {rewrites} the file {shown}"));
        }
        // Removed here, written by another function: a write that lands while the removal
        // runs in a worker thread (or between its check and the removal) is removed with it.
        if first.deletes
            && let Some(writer) = self.accesses.iter().find(|w| {
                w.key == first.key
                    && w.write
                    && !w.deletes
                    && (w.function != first.function || exclusive(w, first))
            })
        {
            return Some(format!(
                "deletes the file {shown}, which the module also writes (line {}{}): a write \
                 that lands while the removal waits in a worker thread is deleted with the \
                 file, and the data is lost on disk; keep the check, the removal and the \
                 write in one coroutine on the event loop, or hold an `asyncio.Lock` across \
                 them",
                writer.line,
                named_as(first, writer)
            ));
        }
        let others = || {
            self.accesses
                .iter()
                .filter(|a| a.key == first.key && a.write != first.write)
        };
        // The load and the save of one coroutine, each moved on its own: the change between
        // them no longer runs at once with them (unless the coroutine already suspended
        // between them on every path: that window is not new).
        let new_split = |a: &FileAccess| {
            let (earlier, later) = match a.range.start < first.range.start {
                true => (a, *first),
                false => (*first, a),
            };
            !suspends_between(file, earlier.range.end, later.range.end.saturating_sub(1))
        };
        if let Some(other) = others()
            .find(|a| first.function.is_some() && a.function == first.function && new_split(a))
        {
            // One side in another module, whose own use of the file races too: that race,
            // named by the settling, is said as before (either makes the move unsafe).
            if (first.carried || other.carried)
                && let Some(elsewhere) = self.elsewhere_in(inside)
            {
                return Some(elsewhere);
            }
            let (does, also, load, save) = match first.write {
                true => (verb(first), "read", other, *first),
                false => (
                    "reads",
                    if other.deletes { "deletes" } else { "rewrites" },
                    *first,
                    other,
                ),
            };
            return Some(format!(
                "{does} the file {shown}, which the same function also {also} (line {}{}): a \
                 read-modify-write split by the new `await`s{}, so another task's update of \
                 the file in between is lost",
                other.line,
                named_as(first, other),
                between(load, save)
            ));
        }
        // A use in another module's helper, with no opposite use in the same function: what
        // that helper races with is the settling's to say (its hazard, at the call).
        if first.carried {
            return None;
        }
        // Only read, where every write this module makes replaces the file whole: a reader
        // sees the old contents or the new, so it races only with another module that
        // writes the file in place (the settling finds it).
        let atomic_here = !writes
            && self
                .accesses
                .iter()
                .filter(|a| a.key == first.key && a.write)
                .all(|a| a.atomic);
        if atomic_here {
            return self.elsewhere_in(inside);
        }
        // Another module's use, carried to a call of its helper: that module's own reader or
        // writer, as the settling found it, says more (its function and line).
        let other = match others().find(|a| !a.carried) {
            Some(other) => other,
            None => match self.elsewhere_in(inside) {
                Some(elsewhere) => return Some(elsewhere),
                None => others().next()?,
            },
        };
        let (does, also) = match first.write {
            true => (verb(first), "reads"),
            false => ("reads", verb(other)),
        };
        Some(format!(
            "{does} the file {shown}, which the module also {also} (line {}{})",
            other.line,
            named_as(first, other)
        ))
    }
}

/// The file an access names, for a message: a local name says little, so what it holds is
/// shown too ("`cookie_path` (`{DIR}/cookie.txt`)").
fn shown_with_key(access: &FileAccess) -> String {
    let local = access
        .shown
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_');
    match local && !access.constant && access.shown != access.key {
        true => format!("`{}` (`{}`)", access.shown, access.key),
        false => format!("`{}`", access.shown),
    }
}

/// What a write does to its file, for a message: "writes", or "deletes" (`os.remove`).
fn verb(access: &FileAccess) -> &'static str {
    match access.deletes {
        true => "deletes",
        false => "writes",
    }
}

/// `, as `USER_FILE`` when `other` names the file `first` names differently (two constants
/// holding one path).
fn named_as(first: &FileAccess, other: &FileAccess) -> String {
    match other.shown != first.shown {
        true => format!(", as `{}`", other.shown),
        false => String::new(),
    }
}

/// An access through a shared name, or through a parameter of its function.
enum Access {
    Named(FileAccess),
    Parameter(ParamAccess),
}

/// The access `call` makes in the way `way` describes, when its path is a shared name or
/// starts with a parameter of its function (`path`, `path + ".tmp"`).
fn access_of(
    file: &FileContext,
    moved: &MovedCode,
    module: Option<&ModuleInfo>,
    call: Node,
    callee: Node,
    way: &FileAccessCall,
) -> Option<Access> {
    let path = match &way.path_argument {
        Some((position, keyword)) => argument(file, call, *position, keyword.as_deref())?,
        None => callee.field(Field::Object)?,
    };
    let write = match way.access {
        FileAccessKind::Read | FileAccessKind::Database | FileAccessKind::Exists => false,
        FileAccessKind::Write | FileAccessKind::Delete => true,
        FileAccessKind::Mode => {
            let (position, keyword) = way.mode_argument.as_ref()?;
            match argument(file, call, *position, keyword.as_deref()) {
                None => false,
                Some(mode) if mode.kind_name() == "string" => {
                    let mut cursor = mode.walk();
                    let content: String = mode
                        .named_children(&mut cursor)
                        .filter(|p| p.kind_name() == "string_content")
                        .map(|p| &file.text[p.byte_range()])
                        .collect();
                    content.contains(['w', 'a', 'x', '+'])
                }
                // A mode not written out may write.
                Some(_) => true,
            }
        }
    };
    let (key, named) = path_key(file, moved, None, path, 0)?;
    // A path that starts with a parameter (`path`, `path + ".tmp"`) is the file each caller
    // names.
    let database = way.access == FileAccessKind::Database;
    let deletes = way.access == FileAccessKind::Delete;
    let exists = way.access == FileAccessKind::Exists;
    if let Some(access) = parameter_access(file, path, &key, write, deletes, write && way.atomic) {
        // A database named by the caller is not followed (yet), nor a test of whether a file
        // the caller names is there (only this module's own removals make it race).
        if database || exists {
            return None;
        }
        return Some(Access::Parameter(access));
    }
    if !named {
        return None;
    }
    // A path that starts with a parameter (`path + ".tmp"`) is the caller's: two modules
    // doing the same to their own callers' paths share nothing.
    let project_key = module
        .filter(|_| named)
        .and_then(|module| path_key(file, moved, Some(module), path, 0))
        .map(|(key, _)| key)
        .filter(|key| !key.starts_with('*') && !key.starts_with("{*}"));
    let constant = is_module_constant(file, path);
    let alias_keys = match constant {
        true => imported_as(module, &file.text[path.byte_range()]),
        false => Vec::new(),
    };
    Some(Access::Named(FileAccess {
        alias_keys,
        range: call.byte_range(),
        function: file.index.function_at(call.start_byte()),
        key,
        shown: file.text[path.byte_range()]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        write,
        exists,
        deletes,
        atomic: write && way.atomic,
        line: call.start_position().row as u32 + 1,
        project_key,
        constant,
        database,
        inserts: false,
        via: None,
        carried: false,
        sql_parameter: None,
        branches: super::branches::branches(call),
        store: None,
    }))
}

/// The shared files of `file` (computed once; the summary, made first, gives the module).
pub(super) fn shared_files<'f>(file: &'f FileContext, moved: &MovedCode) -> &'f SharedFiles {
    file.shared_files
        .get_or_init(|| SharedFiles::of(file, moved, file.project.map(|p| p.module)))
}

#[cfg(test)]
mod tests {
    use super::super::test_context::with_context;
    use super::*;
    use crate::codemod::Registry;

    /// The keys of the shared accesses of `source`, with `w` for a write.
    fn shared(source: &str) -> Vec<String> {
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        with_context("app.py", source, None, |file| {
            SharedFiles::of(file, moved, None)
                .accesses
                .iter()
                .map(|a| format!("{}{}", a.key, if a.write { " w" } else { "" }))
                .collect()
        })
    }

    #[test]
    fn a_module_constant_read_and_rewritten_is_shared() {
        let source = "import json\nPATH = 'a.json'\n\ndef load():\n    with open(PATH) as f:\n        return json.load(f)\n\ndef save(d):\n    with open(PATH, mode='w') as f:\n        json.dump(d, f)\n";
        // A constant bound once to a literal is keyed by the path it holds.
        assert_eq!(shared(source), ["a.json", "a.json w"]);
    }

    #[test]
    fn a_self_attribute_and_a_joined_path_are_followed_through_locals() {
        let source = "import os\nclass Store:\n    def load(self, gid):\n        path = os.path.join(self.dir, f'{gid}.json')\n        return open(path).read()\n\n    def save(self, gid, text):\n        with open(os.path.join(self.dir, f'{gid}.json'), 'w') as f:\n            f.write(text)\n";
        assert_eq!(
            shared(source),
            ["Store.dir/{*}.json", "Store.dir/{*}.json w"]
        );
    }

    #[test]
    fn a_path_method_and_a_project_function_name_the_file() {
        let source = "from pathlib import Path\ndef config_path():\n    return 'c.json'\n\ndef load():\n    return Path(config_path()).read_text()\n\ndef save(text):\n    Path(config_path()).write_text(text)\n";
        assert_eq!(shared(source), ["config_path()", "config_path() w"]);
    }

    #[test]
    fn fresh_paths_parameters_and_files_only_read_are_not_shared() {
        let source = "import tempfile, uuid, os\nLOG = 'log.txt'\n\ndef scratch(text, path):\n    fd, tmp = tempfile.mkstemp()\n    with open(tmp, 'w') as f:\n        f.write(text)\n    open(tmp).read()\n    open(f'{uuid.uuid4()}.txt', 'w').write(text)\n    open(f'{uuid.uuid4()}.txt').read()\n    open(path, 'w').write(text)\n    open(path).read()\n    return open(LOG).read()\n";
        assert!(shared(source).is_empty(), "{:?}", shared(source));
    }

    #[test]
    fn every_access_is_keyed_the_same_in_every_module_for_the_summary() {
        // In `app.cog`: a literal by its text, so is a module constant holding one, an
        // imported constant by its absolute name; a parameter's path is nobody's, and so is what an imported
        // function returns (it may make a fresh path).
        let source = "import json\nfrom .config import BANK\nfrom .paths import users_path\nLOG = 'log.txt'\n\nasync def cmd(p):\n    open('mainbank.json', 'w').write('{}')\n    open(BANK).read()\n    open(users_path()).read()\n    open(LOG, 'a').write('x')\n    open(p).read()\n    open(p + '.tmp', 'w').write('')\n";
        let registry = Registry::bundled().unwrap();
        let moved = registry
            .codemods()
            .iter()
            .find_map(|c| c.moved_code.as_ref())
            .unwrap();
        let module = ModuleInfo {
            name: "app.cog".to_owned(),
            is_package: false,
            names: vec!["app.cog".to_owned()],
            siblings: Vec::new(),
        };
        let uses: Vec<String> = with_context("app/cog.py", source, None, |file| {
            SharedFiles::of(file, moved, Some(&module))
                .uses()
                .map(|(_, u)| format!("{}{}", u.key, if u.write { " w" } else { "" }))
                .collect()
        });
        // The module's own constant is keyed by the name other modules import it by, too.
        assert_eq!(
            uses,
            [
                "mainbank.json w",
                "app.config.BANK",
                "log.txt w",
                "app.cog.LOG w"
            ]
        );
    }

    #[test]
    fn a_helper_taking_the_path_reads_and_writes_the_file_each_call_passes() {
        // `load_data(FILE_JOKES)` reads `jokes.json`, and so does `load_jokes()`; a
        // parameter of the coroutine is its caller's file, not shared.
        let source = "import json, os\nFILE_JOKES = 'jokes.json'\n\ndef load_data(name):\n    with open(name) as f:\n        return json.load(f)\n\ndef save_data(name, data):\n    tmp = name + '.tmp'\n    with open(tmp, 'w') as f:\n        json.dump(data, f)\n    os.replace(tmp, name)\n\ndef load_jokes():\n    return load_data(FILE_JOKES)\n\nasync def add(text, mine):\n    data = load_jokes()\n    save_data(FILE_JOKES, data)\n    load_data(mine)\n";
        // `load_jokes()` in `add` reads what `load_jokes` reads, at the call.
        assert_eq!(
            shared(source),
            ["jokes.json", "jokes.json w", "jokes.json"],
            "{source}"
        );
    }

    #[test]
    fn two_constants_holding_one_path_name_one_file() {
        let source = "import json, os\nDATA = 'data'\nUSERS_FILE = 'data/users.json'\nUSER_FILE = os.path.join(DATA, 'users.json')\nOTHER = 'x.json'\nOTHER = 'y.json'\n\ndef load():\n    return open(USERS_FILE).read()\n\ndef save(t):\n    open(USER_FILE, 'w').write(t)\n    open(OTHER, 'w').write(t)\n";
        assert_eq!(shared(source), ["data/users.json", "data/users.json w"]);
    }

    #[test]
    fn a_path_chosen_between_two_constants_is_either_file() {
        let source = "import json\nBAN = 'ban.json'\nMUTE = 'mute.json'\n\ndef load(path):\n    return json.load(open(path))\n\ndef save(path, d):\n    json.dump(d, open(path, 'w'))\n\nasync def clear(ban):\n    file = BAN if ban else MUTE\n    d = load(file)\n    save(file, d)\n";
        assert_eq!(
            shared(source),
            ["ban.json", "mute.json", "ban.json w", "mute.json w"]
        );
    }
}
