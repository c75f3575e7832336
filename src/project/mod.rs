//! Cross-file facts: the module map, the types of the per-file function summaries (the
//! analysis extracts them), and the fixpoint that settles which project functions block
//! (directly, or through other project functions, with the call chain as evidence) and which
//! are coroutine functions. The result is, per file, the calls in async context that reach
//! such functions; the analysis turns them into findings. Nothing here reads a syntax tree.

mod caller_acts;
mod carried;
mod chain;
mod entered;
mod guards;
mod hazard;
mod lexical_settle;
mod lexical_summary;
mod modules;
mod named;
mod once;
mod quiet;
mod returned;
mod shared_files;
mod stateless;
mod summary;

use std::collections::HashMap;

pub use caller_acts::{CallerAct, caller_acts_key};
pub use carried::CARRIED_PREFIX;
pub use chain::{Hop, call_text};
pub use entered::{ENTERED_ALONE_PREFIX, entered_alone_key};
pub use hazard::{HazardKind, MOVED_CALL, OWN_FILE_REMEDY, PATH_RACE_REMEDY, ThreadHazard};
pub use lexical_settle::LexicalProject;
pub use lexical_summary::{EvidenceCalls, LexicalSummary};
pub use modules::{ModuleInfo, ModuleMap, absolute_name};
pub use named::LOOKUP_PREFIX;
pub use quiet::{
    CONFTEST_AUTOUSE_STARTS_WORK, STARTS_NO_WORK_PREFIX, conftest_fixture_key, starts_no_work_key,
};
pub use shared_files::{SHARED_FILE_PREFIX, race_message};
pub use stateless::{KEEPS_NOTHING_PREFIX, keeps_nothing_key};
pub use summary::{
    AffineGlobal, AffineMember, AffineReturn, Affinity, CallAt, ConftestFixture, Construction,
    Evidence, FileSummary, FileUse, FunctionSummary, GuardedSite, OnceOnly, ParamGuard, Passed,
    PassedArg, ReturnedObject, SqlArg, SqlCall,
};

/// What a call in async context reaches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ProjectCall {
    /// A coroutine function of the project (not an async generator).
    Coroutine,
    /// A synchronous project function that blocks: `chain` is the path from the callee to
    /// the blocking call (`load_profile -> requests.get`), `location` where that call is.
    /// `pinned`: why it must not move to a worker thread (it, or a function it calls, uses a
    /// thread-affine object it did not make), so the finding has no fix; `returned`: why a
    /// call whose result the coroutine keeps must not (it returns a thread-affine object it
    /// makes); `hazard`, what moving it to a worker thread would do there that it must not.
    Blocking {
        chain: String,
        location: String,
        /// The chain hop by hop, from the callee's call leading on to the blocking call.
        hops: Vec<Hop>,
        pinned: Option<String>,
        returned: Option<String>,
        hazard: Option<ThreadHazard>,
        /// The chain runs only when the call leaves this argument out (or passes `None`, or
        /// a falsy value for a test of falsiness): a call passing it blocks nothing.
        unless_passed: Option<ParamGuard>,
    },
    /// A method of a thread-affine object imported from another module (`cursor.execute`
    /// after `from db import cursor`), or returned to the coroutine by a project function
    /// (after `conn, cursor = create_conn()`): `qualified` is the call as the codemods name it
    /// (`sqlite3.connect().cursor().execute`), `pinned` why it stays on the loop's thread.
    /// `pinned` is `None` for an object that may move (a pymongo collection imported from
    /// another module: `followed-through-imports`).
    Affine {
        qualified: String,
        pinned: Option<String>,
        /// The object is one a method of a thread-safe module global makes
        /// (`driver.session()`): `pinned` holds where the receiver is a module global; on
        /// one the coroutine makes itself, this reason instead, and none in the `with` block
        /// that makes it (which moves whole).
        member: Option<String>,
        /// Its helper may run in a worker thread (`Functions::maker_moves`).
        maker_moves: bool,
    },
    /// Not a call: a file the file's coroutines read or write through a shared name, which
    /// another module reads or writes too (keyed [`SHARED_FILE_PREFIX`] and the file's key):
    /// that module's first reader and in-place writer, named for a message ("`get_bank_data`
    /// in open_acc.py:20"). A block or a call moving a use of it to a worker thread races
    /// with them (`project/shared_files.rs`).
    SharedFile {
        reader: Option<String>,
        writer: Option<String>,
    },
    /// Not a call: a project name (keyed [`STARTS_NO_WORK_PREFIX`] and the name) that starts
    /// no concurrent work on the event loop, nor does anything it calls or awaits, told to a
    /// file with a single-task entry point (`project/quiet.rs`). `yields`: for an
    /// `@asynccontextmanager`, the kind of object it yields (what `async with f() as x`
    /// binds), when known ([`FunctionSummary::yields`]).
    StartsNoWork { yields: Option<String> },
    /// Not a call: what a call of a synchronous project function of another module reads and
    /// writes (keyed [`CARRIED_PREFIX`] and the call's target), through that function and
    /// those it calls: the analysis sees those uses at the call, as it sees those of the
    /// module's own functions (`project/carried.rs`).
    /// `awaited`: the callee is a coroutine, whose uses are made where a call of it is
    /// awaited (its blocking statements become hops of their own under a fix).
    Carried { uses: Vec<FileUse>, awaited: bool },
    /// Not a call: a receiver (keyed [`KEEPS_NOTHING_PREFIX`] and its name) whose class and
    /// project bases keep nothing of their own (`project/stateless.rs`).
    KeepsNothing,
    /// Not a call: the callers of a coroutine (keyed `caller_acts::CALLER_ACTS_PREFIX` and its
    /// name) that act around its await on a database it reads or writes
    /// (`project/caller_acts.rs`).
    CallerActs(Vec<CallerAct>),
    /// Not a call: a coroutine of the file (keyed [`ENTERED_ALONE_PREFIX`] and its absolute
    /// name) that another file runs alone on a new loop (`project/entered.rs`).
    EnteredAlone,
}

/// What a file's calls in async context reach, by the absolute name they resolve to
/// (`app.profiles.load_profile`). Names, not byte ranges: they stay valid while the fixes
/// rewrite the file round after round.
pub type ProjectCalls = HashMap<String, ProjectCall>;

/// Where the analysis of one file learns what its project calls reach.
#[derive(Clone, Copy)]
pub enum ProjectLookup<'a> {
    /// After the project was settled: the file's calls.
    Settled(&'a ProjectCalls),
    /// In the first pass, before: a call whose target may take part in a project finding (as
    /// the lexical pass widened it) is analyzed under each outcome, for the settling to choose
    /// from (the analysis's speculation), so the file need not be parsed again.
    Speculative(&'a LexicalProject<'a>),
}

/// What the analysis of one file needs from the project phase.
#[derive(Clone, Copy)]
pub struct ProjectView<'a> {
    pub lookup: ProjectLookup<'a>,
    pub module: &'a ModuleInfo,
    pub map: &'a ModuleMap,
}

/// One file going into the project phase.
pub struct ProjectFile {
    /// The path as reported (for the location of blocking calls).
    pub display_path: String,
    pub module: ModuleInfo,
    pub summary: FileSummary,
}

/// How a function blocks.
#[derive(Clone, Debug)]
pub(crate) enum Link {
    Direct(Evidence),
    /// Through a call of another blocking project function (`target`, its name in the
    /// caller's file's targets).
    Via {
        callee: usize,
        target: u32,
    },
}

/// How many re-export hops a name is followed through (also stops re-export cycles).
const MAX_REEXPORT_HOPS: usize = 8;

/// The longest chain shown in a message.
const MAX_CHAIN: usize = 12;

struct Functions<'a> {
    files: &'a [ProjectFile],
    /// `(file, function)` per function id.
    ids: Vec<(usize, usize)>,
    by_name: HashMap<String, usize>,
    reexports: HashMap<String, &'a str>,
    /// Every class by absolute name, to its bases' absolute names.
    classes: HashMap<String, &'a [String]>,
    /// Every module-level instance by absolute name, to what made it.
    instances: HashMap<String, &'a str>,
    /// Every class keeping nothing of its own, by absolute name (`stateless.rs`).
    stateless: HashMap<String, ()>,
    /// The classes libraries find by name (`named.rs`).
    named: named::NamedClasses,
    /// The files the functions read and write, across modules.
    shared_files: shared_files::ProjectFiles<'a>,
    /// Per function id, the files and databases it and the functions it calls use
    /// (`carried.rs`).
    carried: Vec<Vec<FileUse>>,
}

impl<'a> Functions<'a> {
    fn new(files: &'a [ProjectFile]) -> Self {
        let mut ids = Vec::new();
        let mut by_name = HashMap::new();
        let mut reexports = HashMap::new();
        let mut classes = HashMap::new();
        let mut instances = HashMap::new();
        for (f, file) in files.iter().enumerate() {
            for (i, function) in file.summary.functions.iter().enumerate() {
                let id = ids.len();
                ids.push((f, i));
                for name in &file.module.names {
                    by_name.insert(format!("{name}.{}", function.qualname), id);
                }
            }
            for (bound, target) in &file.summary.imports {
                for name in &file.module.names {
                    reexports.insert(format!("{name}.{bound}"), target.as_str());
                }
            }
            for name in &file.module.names {
                for (class, bases) in &file.summary.classes {
                    classes.insert(format!("{name}.{class}"), bases.as_slice());
                }
                for (instance, made) in &file.summary.instances {
                    instances.insert(format!("{name}.{instance}"), made.as_str());
                }
            }
        }
        Functions {
            files,
            ids,
            by_name,
            reexports,
            classes,
            instances,
            stateless: stateless::stateless_classes(files),
            named: named::named_classes(files),
            shared_files: shared_files::ProjectFiles::new(files),
            carried: Vec::new(),
        }
        .with_carried()
    }

    fn function(&self, id: usize) -> &'a FunctionSummary {
        let (f, i) = self.ids[id];
        &self.files[f].summary.functions[i]
    }

    /// The function an absolute name stands for, through re-exports; a class stands for its
    /// `__init__`, `Class.method` for the method on the class or the first base defining it
    /// (depth first, left to right: Python's MRO for classes without a diamond), and
    /// `instance.method` for the method of the instance's class.
    fn resolve(&self, name: &str) -> Option<usize> {
        self.resolve_at(name, 0)
    }

    fn resolve_at(&self, name: &str, depth: usize) -> Option<usize> {
        if name.starts_with(LOOKUP_PREFIX) {
            return self.resolve_at(&named::resolve_named(&self.named, name)?, depth + 1);
        }
        if let Some(found) = self.resolve_in(name, &self.by_name) {
            return Some(found);
        }
        if depth > MAX_REEXPORT_HOPS {
            return None;
        }
        if self.resolve_in(name, &self.classes).is_some() {
            return self.resolve_at(&format!("{name}.__init__"), depth + 1);
        }
        let (owner, member) = name.rsplit_once('.')?;
        if let Some(made) = self.resolve_in(owner, &self.instances) {
            return self.resolve_at(&format!("{made}.{member}"), depth + 1);
        }
        let bases = self.resolve_in(owner, &self.classes)?;
        // `object`'s own methods (`__init__` included) run nothing of the project.
        bases
            .iter()
            .find_map(|base| self.resolve_at(&format!("{base}.{member}"), depth + 1))
    }

    /// What an absolute name stands for in `table`, through re-exports.
    fn resolve_in<T: Copy>(&self, name: &str, table: &HashMap<String, T>) -> Option<T> {
        let mut name = name.to_owned();
        for _ in 0..MAX_REEXPORT_HOPS {
            if let Some(found) = table.get(&name) {
                return Some(*found);
            }
            // The longest prefix that a module re-exports: `app.load_profile` → the target
            // of `from .helpers import load_profile` in `app/__init__.py`.
            let mut end = name.len();
            let next = loop {
                let prefix = &name[..end];
                if let Some(target) = self.reexports.get(prefix) {
                    let rewritten = format!("{target}{}", &name[end..]);
                    break (rewritten != name).then_some(rewritten);
                }
                match prefix.rfind('.') {
                    Some(dot) => end = dot,
                    None => break None,
                }
            };
            name = next?;
        }
        None
    }
}

/// A method call on a thread-affine object the function did not make: a module global
/// imported from another module, or (in a coroutine) what a project function returned.
struct ImportedUse<'a> {
    source: UseSource<'a>,
    /// The call as the codemods name it: `sqlite3.connect().cursor().execute`.
    qualified: String,
    /// The code of the blocking rule matching it, when one does.
    evidence: Option<String>,
    /// The call's target (in its file's `targets`) and line.
    target: u32,
    line: u32,
}

/// Where the object an [`ImportedUse`] calls a method of was made.
enum UseSource<'a> {
    /// A module global made at import time in `home` (the module, as reported).
    Global {
        global: &'a AffineGlobal,
        home: &'a str,
    },
    /// A thread-affine object a method of a shareable module global makes
    /// (`session = driver.session()` of an imported thread-safe driver).
    Member {
        global: &'a AffineGlobal,
        home: &'a str,
        member: &'a AffineMember,
    },
    /// What project function `callee` returned.
    Returned {
        callee: usize,
        returned: returned::Returned<'a>,
    },
}

/// The thread-affine module globals of the project, by absolute name: `(file, global)`.
fn affine_globals(files: &[ProjectFile]) -> HashMap<String, (usize, usize)> {
    let mut globals = HashMap::new();
    for (f, file) in files.iter().enumerate() {
        for (g, global) in file.summary.affine_globals.iter().enumerate() {
            for name in &file.module.names {
                globals.insert(format!("{name}.{}", global.name), (f, g));
            }
        }
    }
    globals
}

/// What the thread-affine objects of the project are: module globals, and what functions
/// return.
struct AffineObjects<'a> {
    globals: HashMap<String, (usize, usize)>,
    returned: Vec<Vec<returned::Returned<'a>>>,
}

/// The call `target` (in `file`'s targets) at `line`, when it is a method of a thread-affine
/// module global of another module, or of what a project function returned.
fn imported_use<'a>(
    functions: &Functions<'a>,
    objects: &AffineObjects<'a>,
    file: usize,
    (target, line): (u32, u32),
    evidence: &dyn Fn(&str) -> Option<String>,
) -> Option<ImportedUse<'a>> {
    let files = functions.files;
    let (object, method) = files[file].summary.targets[target as usize].rsplit_once('.')?;
    let global = |(f, g): (usize, usize)| {
        let global = &files[f].summary.affine_globals[g];
        let home = files[f].display_path.as_str();
        UseSource::Global { global, home }
    };
    let (source, kind) = match functions.resolve_in(object, &objects.globals) {
        Some((f, g)) => {
            let kind = files[f].summary.affine_globals[g].kind.clone();
            (global((f, g)), kind)
        }
        None => match functions.returned_receiver(object, &objects.returned) {
            Some((callee, returned, derived)) => {
                let kind = returned::derived_kind(&returned, derived);
                (UseSource::Returned { callee, returned }, kind)
            }
            None => {
                // A member of a global: `db.db.users` is a member of the database `db.db`.
                let (found, kind) = member_of_global(functions, &objects.globals, object)?;
                let qualified = format!("{kind}().{method}");
                let evidence = evidence(&qualified)?;
                let (f, g) = found;
                let owner = &files[f].summary.affine_globals[g];
                let member = owner.affine_members.iter().find(|m| {
                    kind == m.kind
                        || kind
                            .strip_prefix(m.kind.as_str())
                            .is_some_and(|rest| rest.starts_with("()."))
                });
                let source = match member {
                    Some(member) => UseSource::Member {
                        global: owner,
                        home: files[f].display_path.as_str(),
                        member,
                    },
                    None => global(found),
                };
                return Some(ImportedUse {
                    source,
                    evidence: Some(evidence),
                    qualified,
                    target,
                    line,
                });
            }
        },
    };
    let qualified = format!("{kind}().{method}");
    Some(ImportedUse {
        source,
        evidence: evidence(&qualified),
        qualified,
        target,
        line,
    })
}

/// How many members past a module global [`member_of_global`] peels off.
const MAX_MEMBERS: usize = 4;

/// The module global a member chain starts from, and the chain's object kind as the
/// semantic index names a member of a known object: an attribute or a subscript adds `.*`
/// (`db.db.users`, `db.db[]` of a pymongo database `pymongo.MongoClient.*` are collections,
/// `pymongo.MongoClient.*.*`), a method call `().name` (`db.conn.cursor()` of a sqlite3
/// connection is `sqlite3.connect().cursor`). The chain is named by the analysis
/// (`analyze/affinity.rs`, `imported_receiver`).
fn member_of_global(
    functions: &Functions,
    globals: &HashMap<String, (usize, usize)>,
    object: &str,
) -> Option<((usize, usize), String)> {
    let mut rest = object;
    let mut members: Vec<String> = Vec::new();
    for _ in 0..MAX_MEMBERS {
        if let Some(stripped) = rest.strip_suffix("()") {
            let (base, name) = stripped.rsplit_once('.')?;
            members.push(format!("().{name}"));
            rest = base;
        } else if let Some(stripped) = rest.strip_suffix(']') {
            rest = &stripped[..stripped.rfind('[')?];
            members.push(".*".to_owned());
        } else {
            let (base, _) = rest.rsplit_once('.')?;
            members.push(".*".to_owned());
            rest = base;
        }
        if let Some((f, g)) = functions.resolve_in(rest, globals) {
            let global = &functions.files[f].summary.affine_globals[g];
            let mut kind = global.kind.clone();
            kind.extend(members.iter().rev().map(String::as_str));
            return Some(((f, g), kind));
        }
    }
    None
}

/// The affinity of an imported use, as a function's own would say it (a synchronous
/// function's uses are of module globals).
fn imported_affinity(used: &ImportedUse) -> Option<Affinity> {
    if let UseSource::Member {
        global,
        home,
        member,
    } = used.source
    {
        return Some(Affinity {
            object: format!(
                "the {} made at import time from `{}` of {home}",
                member.label, global.name
            ),
            why: member.why.clone(),
            remedy: member.remedy.clone(),
            line: used.line,
        });
    }
    let UseSource::Global { global, home } = used.source else {
        return None;
    };
    if global.shareable {
        return None;
    }
    Some(Affinity {
        object: format!(
            "the {} `{}`, made at import time in {home}",
            global.label, global.name
        ),
        why: global.why.clone(),
        remedy: global.remedy.clone(),
        line: used.line,
    })
}

/// Settle the project: which functions block and how, then the project calls of each file
/// (in `files` order; `None` for a file without any). `evidence`: the code of the blocking
/// rule matching a call so named (`sqlite3.connect().cursor().execute`), for the calls on
/// thread-affine objects imported from another module.
pub fn settle(
    files: &[ProjectFile],
    evidence: &dyn Fn(&str) -> Option<String>,
) -> Vec<Option<ProjectCalls>> {
    let functions = Functions::new(files);
    let count = functions.ids.len();
    let objects = AffineObjects {
        globals: affine_globals(files),
        returned: functions.returned_objects(),
    };
    // Per function, its first call on a thread-affine module global of another module.
    let imported: Vec<Option<ImportedUse>> = (0..count)
        .map(|id| {
            let (file, _) = functions.ids[id];
            functions
                .function(id)
                .imported_receivers
                .iter()
                .find_map(|&used| imported_use(&functions, &objects, file, used, evidence))
        })
        .collect();
    let imported_affinities: Vec<Option<Affinity>> = imported
        .iter()
        .map(|used| used.as_ref().and_then(imported_affinity))
        .collect();
    // Callers of each synchronous function, from synchronous functions (a coroutine that
    // calls a blocking function is a finding, and does not itself block its caller's await),
    // with the callee's name in the caller's targets.
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut calls_to: Vec<Vec<(usize, u32)>> = vec![Vec::new(); count];
    let mut roots = Vec::new();
    let blocks_when_called = |f: &FunctionSummary| !f.is_async && !f.is_generator;
    for (id, imported) in imported.iter().enumerate() {
        let function = functions.function(id);
        if !blocks_when_called(function) {
            continue;
        }
        let from_import = imported.as_ref().and_then(|used| {
            let at = function.call_at(used.target);
            Some(Evidence {
                code: used.evidence.clone()?,
                call: used.qualified.clone(),
                line: used.line,
                column: at.map_or(0, |at| at.column),
                text: at.map(|at| at.text.clone()).unwrap_or_default(),
            })
        });
        // A call on an imported thread-affine object blocks whatever the arguments.
        let direct = match (&function.direct, from_import) {
            (Some(direct), _) if function.direct_guard.is_none() => Some((direct.clone(), None)),
            (_, Some(from_import)) => Some((from_import, None)),
            (Some(direct), None) => Some((direct.clone(), function.direct_guard.clone())),
            (None, None) => None,
        };
        if let Some((evidence, guard)) = direct {
            let link = Link::Direct(evidence);
            roots.push((id, guards::Blocks { link, guard }));
        }
        for call in &function.calls {
            let (file, _) = functions.ids[id];
            if let Some(callee) = functions.resolve(&files[file].summary.targets[*call as usize])
                && callee != id
                && blocks_when_called(functions.function(callee))
            {
                callers[callee].push(id);
                calls_to[callee].push((id, *call));
            }
        }
    }
    // Each function's state only rises, from an already settled one: cycles and recursion
    // terminate, in linear time.
    let once = once::OnceSettled::new(&functions, &roots, &calls_to);
    let blocking = guards::settle_blocking(|id| functions.function(id), roots, &calls_to);
    let links: Vec<Option<&Link>> = blocking
        .iter()
        .map(|b| b.as_ref().map(|b| &b.link))
        .collect();
    // The same for thread affinity: a function calling one that uses a thread-affine object
    // it did not make cannot move to a worker thread either.
    let mut pins: Vec<Option<Pin>> = vec![None; count];
    let mut pending = Vec::new();
    for (id, pin) in pins.iter_mut().enumerate() {
        let function = functions.function(id);
        if blocks_when_called(function)
            && let Some(affinity) = function
                .affinity
                .as_ref()
                .or(imported_affinities[id].as_ref())
        {
            *pin = Some(Pin::Uses(affinity));
            pending.push(id);
        }
    }
    settle_links(&callers, &mut pins, pending, |callee| Pin::Via { callee });
    let pinned = |mut id: usize| -> Option<String> {
        let mut names = Vec::new();
        loop {
            names.push(functions.function(id).qualname.clone());
            match pins[id].as_ref()? {
                Pin::Via { callee } if names.len() < MAX_CHAIN => id = *callee,
                Pin::Via { .. } => return None,
                Pin::Uses(affinity) => {
                    let (file, _) = functions.ids[id];
                    let location = format!("{}:{}", files[file].display_path, affinity.line);
                    return Some(pinned_reason(&names, affinity, &location));
                }
            }
        }
    };
    let starting = quiet::settle_starting(&functions);
    let mut hazards = HashMap::new();
    let mut carried = functions.carried_calls().into_iter();
    let acting = functions.callers_acting();
    let entered = functions.entered_alone();
    files
        .iter()
        .enumerate()
        .map(|(f, file)| {
            let mut calls = functions.shared_files.coroutine_files(f, &file.summary);
            let entered = &entered[f];
            starting.insert_quiet_calls(&functions, file, !entered.is_empty(), &mut calls);
            functions.insert_entered_alone(file, entered, &mut calls);
            quiet::insert_conftest_fixtures(files, file, &mut calls);
            calls.extend(carried.next().unwrap_or_default());
            functions.insert_stateless(file, &mut calls);
            functions.insert_caller_acts(f, file, &acting, &mut calls);
            // A coroutine's own calls on imported thread-affine objects, and on those
            // project functions returned to it.
            let coroutine_uses = file
                .summary
                .functions
                .iter()
                .filter(|function| function.is_async)
                .flat_map(|function| &function.imported_receivers)
                .filter_map(|&used| imported_use(&functions, &objects, f, used, evidence));
            for used in coroutine_uses {
                let pinned = match &used.source {
                    UseSource::Global { global, .. } if global.shareable => None,
                    UseSource::Global { global, home } => Some(format!(
                        "`{}` is the {} made at import time in {home}, so the call is not \
                         moved to a worker thread: {}. Instead: {}",
                        global.name, global.label, global.why, global.remedy
                    )),
                    UseSource::Member {
                        global,
                        home,
                        member,
                    } => Some(format!(
                        "the call is on the {} made at import time from `{}` of {home}, so it \
                         is not moved to a worker thread: {}. Instead: {}",
                        member.label, global.name, member.why, member.remedy
                    )),
                    UseSource::Returned { callee, returned } => {
                        Some(functions.returned_use_reason(*callee, returned))
                    }
                };
                let maker_moves = functions.maker_moves(&used.source, &mut hazards);
                calls.insert(
                    file.summary.targets[used.target as usize].clone(),
                    ProjectCall::Affine {
                        qualified: used.qualified.clone(),
                        maker_moves,
                        pinned,
                        member: match used.source {
                            UseSource::Member {
                                global,
                                home,
                                member,
                            } => Some(format!(
                                "the call is on a {} the coroutine makes from `{}` of {home}, \
                                 which a call moved on its own would use from another thread: \
                                 {}. Instead: {}",
                                member.label, global.name, member.why, member.remedy
                            )),
                            _ => None,
                        },
                    },
                );
            }
            for function in file.summary.functions.iter().filter(|f| f.is_async) {
                for call in &function.calls {
                    let name = &file.summary.targets[*call as usize];
                    if calls.contains_key(name) {
                        continue;
                    }
                    let Some(callee) = functions.resolve(name) else {
                        continue;
                    };
                    let target = functions.function(callee);
                    // A coroutine matters where its result may be thrown away (UNF301);
                    // a file whose coroutines are all awaited or kept needs no second pass.
                    let found = if target.is_async {
                        (!target.is_generator && function.discarded.contains(call))
                            .then_some(ProjectCall::Coroutine)
                    } else if links[callee].is_some() {
                        let (chain, location, hops) =
                            chain::chain(&functions, files, &links, callee);
                        let hazard = functions.moved_hazard(callee, &mut hazards);
                        let unless_passed = blocking[callee].as_ref().and_then(|b| b.guard.clone());
                        Some(ProjectCall::Blocking {
                            chain,
                            location,
                            hops,
                            pinned: pinned(callee).or(once.reason(&functions, &links, callee)),
                            returned: functions.returned_reason(callee, &objects.returned[callee]),
                            hazard,
                            unless_passed,
                        })
                    } else {
                        None
                    };
                    if let Some(found) = found {
                        calls.insert(name.clone(), found);
                    }
                }
            }
            (!calls.is_empty()).then_some(calls)
        })
        .collect()
}

/// Why a function pinned to the event loop's thread gets no fix: `names` from the called
/// function to the one using the object.
fn pinned_reason(names: &[String], affinity: &Affinity, location: &str) -> String {
    let who = match names {
        [only] => format!("`{only}`"),
        [first, .., last] => format!("`{first}` (through `{last}`)"),
        [] => String::new(),
    };
    format!(
        "{who} uses {} ({location}), so it is not moved to a worker thread: {}. Instead: {}",
        affinity.object, affinity.why, affinity.remedy
    )
}

/// Why a function cannot move to a worker thread.
#[derive(Clone, Debug)]
enum Pin<'a> {
    /// It uses a thread-affine object it did not make.
    Uses(&'a Affinity),
    /// It calls a function that cannot move.
    Via { callee: usize },
}

/// Settle `links` from the `pending` roots up through `callers`: each function at most once,
/// from an already settled one, so cycles and recursion terminate, in linear time.
fn settle_links<T>(
    callers: &[Vec<usize>],
    links: &mut [Option<T>],
    mut pending: Vec<usize>,
    via: impl Fn(usize) -> T,
) {
    while let Some(callee) = pending.pop() {
        for &caller in &callers[callee] {
            if links[caller].is_none() {
                links[caller] = Some(via(callee));
                pending.push(caller);
            }
        }
    }
}

#[cfg(test)]
mod settle_tests;
