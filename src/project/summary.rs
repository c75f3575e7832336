//! One file's summary for the project phase: its functions (coroutine? generator? the first
//! call in them that blocks by itself) and the calls they make to project functions, by
//! resolved name. Small owned data only, so no syntax tree outlives the per-file pass; the
//! analysis extracts it from the tree and index it already built (`analyze/summary.rs`).

use serde::{Deserialize, Serialize};

use super::ThreadHazard;

/// A call that blocks by itself: the rule that says so and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub code: String,
    /// What the call resolved to: `requests.get`.
    pub call: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters (0 when unknown).
    #[serde(default)]
    pub column: u32,
    /// The call as written, on one line ([`super::chain::call_text`]).
    #[serde(default)]
    pub text: String,
}

/// Where a function first calls one of its targets (its index in [`FileSummary::targets`]),
/// for a blocking chain shown hop by hop: 1-based line, 1-based column in characters, and the
/// call as written, on one line ([`super::chain::call_text`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallAt {
    pub target: u32,
    pub line: u32,
    pub column: u32,
    pub text: String,
}

/// A use, in a function's body, of an object bound to the thread that made it (a sqlite3
/// connection or cursor), which the function did not make itself: moved to a worker thread,
/// the function would use it from the wrong thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affinity {
    /// The object, named for a message: "the sqlite3 cursor `cursor`, a module global".
    pub object: String,
    /// Why it cannot move (the family's `why`).
    pub why: String,
    /// What the user can do (the family's `remedy`).
    pub remedy: String,
    /// 1-based line of the use.
    pub line: u32,
}

/// A part of what a function returns that holds a thread-affine object: run in a worker
/// thread, the function would make that object there and hand it back to its caller's thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffineReturn {
    /// Which part of the returned value: `None` the whole of it, `Some(i)` element `i` of a
    /// returned tuple (`return conn, cursor`).
    pub position: Option<u32>,
    pub object: ReturnedObject,
}

/// Where a returned thread-affine object comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnedObject {
    /// The function made it: its object kind (`sqlite3.connect().cursor`), how a message
    /// names it (`sqlite3 cursor`), the family's `why` and `returned-remedy`, and the 1-based
    /// line of the expression that made it.
    Made {
        kind: String,
        label: String,
        why: String,
        remedy: String,
        line: u32,
    },
    /// What a project function it calls returned (its index in [`FileSummary::targets`]), or
    /// element `position` of it (`conn, cursor = create_conn()` then `return cursor`).
    Call { target: u32, position: Option<u32> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSummary {
    /// `load_profile`, `Repo.save`, `outer.inner`.
    pub qualname: String,
    pub is_async: bool,
    /// It yields: calling it only makes a generator, which runs nothing yet.
    pub is_generator: bool,
    /// The first call in its body that blocks by itself.
    pub direct: Option<Evidence>,
    /// The first use in its body of a thread-affine object it did not make itself.
    pub affinity: Option<Affinity>,
    /// What the calls in its own body (not in nested functions) may reach, as indexes in
    /// [`FileSummary::targets`] (each name once): absolute dotted names such as
    /// `app.helpers.load_profile`, `app.models.Repo.save` (through `self`). Awaited calls are
    /// left out (awaiting a call of a synchronous function awaits what it returns).
    pub calls: Vec<u32>,
    /// Method calls on names imported from project modules (`cursor.execute(...)` after
    /// `from db import cursor`), `(index in targets, 1-based line)`, the first of each: the
    /// settling finds those on a thread-affine module global of another module. In a
    /// coroutine, also those on a local holding what a project function returned
    /// (`cursor.execute(...)` after `conn, cursor = create_conn()`, the target
    /// `db.create_conn()[1].execute`): the settling finds those on a thread-affine object
    /// that function made.
    pub imported_receivers: Vec<(u32, u32)>,
    /// The parts of its return value holding a thread-affine object (a synchronous
    /// function's, each part once).
    #[serde(default)]
    pub returns: Vec<AffineReturn>,
    /// The calls among `calls` whose result may be thrown away (a statement of its own, or
    /// assigned to a local nothing reads): a coroutine called so is never awaited (UNF301).
    pub discarded: Vec<u32>,
    /// What its own body does that a worker thread must not: at most one per kind
    /// (`hazard.rs`).
    #[serde(default)]
    pub hazards: Vec<ThreadHazard>,
    /// The parameter test `direct` runs under (`if markers is None:`): when every caller
    /// passes that argument, it never runs.
    #[serde(default)]
    pub direct_guard: Option<ParamGuard>,
    /// The calls of targets in `calls` made under a parameter test or passing an argument
    /// whose value is known: when one call of a target is here, all of its calls are.
    #[serde(default)]
    pub call_sites: Vec<GuardedSite>,
    /// The files and databases its own body reads or writes through a shared name (and
    /// through the module's own functions it calls), keyed project-wide ([`FileUse::key`]):
    /// the settling finds moved code racing with another module on a file, and carries them
    /// to the calls of other modules (`project/carried.rs`).
    #[serde(default)]
    pub files: Vec<FileUse>,
    /// The 1-based line of the first thing in its own body that starts, or may start,
    /// concurrent work on the event loop (`create_task`, a runner, an await of something not
    /// known to start nothing, a body left out of the parse): the single-task recognition.
    #[serde(default)]
    pub starts_work: Option<u32>,
    /// The project functions its own body awaits (indexes in [`FileSummary::targets`]):
    /// with `calls`, what decides whether it starts concurrent work through them.
    #[serde(default)]
    pub awaits: Vec<u32>,
    /// An `@contextlib.asynccontextmanager` coroutine's: the kind of object every one of its
    /// `yield`s yields (`httpx.AsyncClient` for `async with httpx.AsyncClient() as c: yield
    /// c`), when they all yield one known kind: what `async with f() as x` binds to `x`, for
    /// the single-task recognition (an await of `x.get()` is a quiet library's).
    #[serde(default)]
    pub yields: Option<String>,
    /// Its calls of project targets passing SQL whose first word
    /// is known: each call of such a target once, with none for a call passing none. A
    /// statement the callee runs with SQL from its parameter is then what these calls pass,
    /// when carried to this function (`project/carried.rs`).
    #[serde(default)]
    pub sql_calls: Vec<SqlCall>,
    /// Where it first calls each target of `calls` and `imported_receivers`, sorted by
    /// target: the hops of a blocking chain through it.
    #[serde(default)]
    pub call_at: Vec<CallAt>,
    /// For a coroutine: the line of its first call of each target, `(target, line)`, sorted
    /// by target (`project/caller_acts.rs` orders a check and its act around an await).
    #[serde(default)]
    pub call_lines: Vec<(u32, u32)>,
    /// For a coroutine: the targets whose result it tests (`if await f(u) < x:`, or a name
    /// assigned from it that a later condition reads): its checks.
    #[serde(default)]
    pub checked: Vec<u32>,
    /// What of its blocking runs only on its first call (`analyze/once_only.rs`): a cached
    /// function, or work behind a lazily set module global or class attribute.
    #[serde(default)]
    pub once: Option<OnceOnly>,
}

/// A synchronous function's blocking work that runs only the first time it is called: the
/// settling tells a coroutine calling it that the call blocks once, not every time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnceOnly {
    /// How it keeps its result, for a message: "cached by `functools.lru_cache`", "it keeps
    /// its result in the module global `_settings`".
    pub why: String,
    /// Its whole body runs once (a cached function taking no parameters).
    pub whole: bool,
    /// Every blocking call of its own body runs only behind the guard.
    pub direct: bool,
    /// The project targets (indexes in [`FileSummary::targets`]) it calls only behind the
    /// guard.
    pub calls: Vec<u32>,
}

impl FunctionSummary {
    /// Where it first calls `target`, when recorded.
    /// The line of the first call of `target`: a coroutine's from `call_lines`, another's
    /// from `call_at`.
    pub fn call_line(&self, target: u32) -> Option<u32> {
        if let Ok(i) = self.call_lines.binary_search_by_key(&target, |(t, _)| *t) {
            return Some(self.call_lines[i].1);
        }
        self.call_at(target).map(|at| at.line)
    }

    pub fn call_at(&self, target: u32) -> Option<&CallAt> {
        let i = self
            .call_at
            .binary_search_by_key(&target, |at| at.target)
            .ok()?;
        Some(&self.call_at[i])
    }
}

/// One call of a project target and the arguments it passes whose first SQL word is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlCall {
    pub target: u32,
    pub args: Vec<SqlArg>,
}

/// An argument whose first SQL word is known (`"SELECT …"`, an f-string's leading text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlArg {
    /// Its 0-based position among the arguments passed by position; `None` for a keyword.
    pub position: Option<usize>,
    pub keyword: Option<String>,
    /// A statement that only reads (`SELECT`).
    pub read: bool,
    /// A statement that only adds rows (`INSERT`).
    pub inserts: bool,
}

/// A read or a write of a file named through a shared name (a string literal, a module
/// global, an attribute of `self` / `cls`, a project function returning the path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUse {
    /// The path, keyed the same in every module: a literal by its text (`mainbank.json`:
    /// relative paths assume one working directory), a name by its absolute name
    /// (`app.config.DATA_PATH`, `app.store.Store.path`, `app.paths.data_file()`).
    pub key: String,
    pub write: bool,
    /// A write that removes the file (`os.remove`): "deletes" in messages.
    #[serde(default)]
    pub deletes: bool,
    /// A write that makes the file appear whole, at once (`os.replace(tmp, path)`); a read of
    /// a collection made by a call that also writes it at once (`find_one_and_update`).
    pub atomic: bool,
    /// 1-based.
    pub line: u32,
    /// A statement on a sqlite database opened through the name (`key` names the database):
    /// one statement is atomic, only a read followed by a write races.
    #[serde(default)]
    pub database: bool,
    /// A database statement that only adds rows (`INSERT`).
    #[serde(default)]
    pub inserts: bool,
    /// A database statement whose SQL is a parameter of the function: its position among a
    /// call's positional arguments and its name. A call in another module is classified by
    /// the SQL it passes; carried further up, it is both a read and a write.
    #[serde(default)]
    pub sql_parameter: Option<(Option<usize>, String)>,
}

/// A test of one of a function's own parameters (never rebound outside the code it guards)
/// that code runs under: `if name is None:` (`falsy: false`), `if not name:`,
/// `name or load()` (`falsy: true`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamGuard {
    pub name: String,
    /// Its 0-based position among the arguments a call passes by position; `None` for a
    /// keyword-only parameter or a method's (matched by keyword only).
    pub position: Option<u32>,
    /// The code runs when the parameter is falsy, not only when it is `None`.
    pub falsy: bool,
}

/// What an argument of a call is known to be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Passed {
    /// Never `None`: a literal, a function, a name only ever bound to such a value.
    NotNone,
    /// Truthy as well (a non-empty literal, a function, ...).
    Truthy,
    /// The calling function's own parameter, passed on unchanged.
    Param(ParamGuard),
}

/// One argument of a call whose value is known, by keyword or by position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedArg {
    pub keyword: Option<String>,
    pub position: Option<u32>,
    pub value: Passed,
}

/// A call of a project function (its index in [`FileSummary::targets`]) with what the
/// settling needs to tell whether a guarded chain of the callee runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardedSite {
    pub target: u32,
    /// The caller's own parameter test the call runs under.
    pub guard: Option<ParamGuard>,
    pub args: Vec<PassedArg>,
}

/// A module-level name holding a thread-affine object made at import time, which other
/// modules may import (`cursor = con.cursor()`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffineGlobal {
    pub name: String,
    /// Its object kind: `sqlite3.connect().cursor`.
    pub kind: String,
    /// How a message names it: `sqlite3 cursor`.
    pub label: String,
    pub why: String,
    pub remedy: String,
    /// 1-based line of its assignment.
    pub line: u32,
    /// Not thread-affine: an object a codemod follows through imports (a pymongo collection,
    /// `followed-through-imports`), which may move to a worker thread; `label`, `why` and
    /// `remedy` are empty.
    #[serde(default)]
    pub shareable: bool,
    /// Of a shareable global, the thread-affine objects its methods make
    /// (`driver.session()` of a thread-safe neo4j driver): a call on one of them is pinned.
    #[serde(default)]
    pub affine_members: Vec<AffineMember>,
}

/// A thread-affine object a method of a shareable module global makes: its kind
/// (`neo4j.GraphDatabase.driver().session`) and what its family says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffineMember {
    pub kind: String,
    pub label: String,
    pub why: String,
    pub remedy: String,
}

/// What calling one of a file's classes runs, for the single-task recognition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Construction {
    /// `CLIOutput`, `Outer.Inner`.
    pub qualname: String,
    /// Its own methods a call runs (`__init__`, `__post_init__`), by name.
    pub runs: Vec<String>,
    /// Its construction may start work whatever its methods do: a base of the project or
    /// one that runs a bot or server, a metaclass, its own `__new__`.
    pub doubt: bool,
}

/// Serialised in the result cache (`cache.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub functions: Vec<FunctionSummary>,
    /// The names the file's calls resolve to, each once.
    pub targets: Vec<String>,
    /// Module-level imports of project names, `(bound name, absolute name)`: what the module
    /// re-exports (`from .helpers import load_profile` in `app/__init__.py`).
    pub imports: Vec<(String, String)>,
    /// Its module globals holding thread-affine objects.
    pub affine_globals: Vec<AffineGlobal>,
    /// Its synchronous functions left out of `functions` that start no concurrent work: a
    /// body that was read, calling no project function and nothing that starts work.
    #[serde(default)]
    pub quiet_functions: Vec<String>,
    /// Its module globals made by a library whose awaits start no task (`[single-task]
    /// quiet-libraries`: `engine = create_async_engine(...)`).
    #[serde(default)]
    pub quiet_globals: Vec<String>,
    /// Its classes, with what calling one runs: the single-task recognition follows a
    /// construction (`CLIOutput(format=f)`) into the class's own `__init__`.
    #[serde(default)]
    pub constructions: Vec<Construction>,
    /// It runs a coroutine as the main task of a new loop (`asyncio.run(main())`): the
    /// settling tells it which of its project calls start no concurrent work.
    #[serde(default)]
    pub single_task_entry: bool,
    /// The project coroutines, by absolute name, its entry calls run alone on a new loop:
    /// `asyncio.run(main(args))` with `main` imported and mentioned nowhere else in the file
    /// (`project/entered.rs` tells the file defining it).
    #[serde(default)]
    pub entry_runs: Vec<String>,
    /// Its classes' coroutine methods a synchronous method of the same class runs on a new
    /// loop (`asyncio.run(self.fetch_async())`), by qualname (`Fetcher.fetch_async`), that
    /// the file mentions nowhere else: the run admits each as an entry coroutine when no other
    /// file of the project mentions its name (`ProjectCall::EnteredAlone`).
    #[serde(default)]
    pub wrapped_entries: Vec<String>,
    /// Its classes, `(qualname, the absolute names of the project bases)`: the project phase
    /// follows a class's call to its `__init__` and a method to the base defining it.
    #[serde(default)]
    pub classes: Vec<(String, Vec<String>)>,
    /// Its module-level instances, `(name, the absolute name of what made it)`
    /// (`sdk = CarrierSDK()`): a method called on one imported elsewhere is its class's.
    #[serde(default)]
    pub instances: Vec<(String, String)>,
    /// Its classes that keep nothing of their own, by qualname (`analyze/class_state.rs`):
    /// a method of an instance of one, with project bases keeping nothing too, shares
    /// nothing through the instance.
    #[serde(default)]
    pub stateless_classes: Vec<String>,
    /// Its classes a library finds by name (`[[lookup-by-name]]`: a discord.py cog),
    /// `(lookup, name, qualname)`; the name `*` when not written out.
    #[serde(default)]
    pub named_classes: Vec<(String, String, String)>,
    /// For a `conftest.py`: the fixtures it defines, by the name tests take them as
    /// (`analyze/test_bodies.rs`); tests in its directory and below see them.
    #[serde(default)]
    pub conftest_fixtures: Vec<ConftestFixture>,
}

/// A fixture a `conftest.py` defines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConftestFixture {
    pub name: String,
    /// It starts nothing on the test's loop before its `yield` (a synchronous fixture, or an
    /// async one awaiting only quiet libraries and taking only such fixtures).
    pub starts_nothing: bool,
    /// `autouse=True`: it runs before every test below it.
    pub autouse: bool,
}
