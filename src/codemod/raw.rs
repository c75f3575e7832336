//! The codemod file format as written in `codemods/*.toml`, deserialised strictly: an unknown
//! key is an error that names the file. Validation happens in `compile`, once.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodemod {
    /// Rule code, e.g. `ASYNC251`; shared with ruff / flake8-async where the rule is the same.
    pub code: String,
    /// Kebab-case rule name, e.g. `blocking-sleep`.
    pub name: String,
    /// One line for `unfreeze rules`.
    pub summary: String,
    /// The finding's message; placeholders: `{callee}`, `{qualified}`, `{function}`.
    pub message: String,
    /// `safe`, `unsafe` or `display-only`: the applicability of the fix when nothing about
    /// the site lowers it.
    pub applicability: String,
    /// Whether the rule runs without being selected (`default-enabled = false`: an opt-in
    /// rule, reported only when `select` / `extend-select` names it). Defaults to true.
    #[serde(default, rename = "default-enabled")]
    pub default_enabled: Option<bool>,
    /// Modules whose fixes read more of a file than the function of the call (a `requests`
    /// session kept on `self` is followed through the whole file): a file whose code names
    /// one is parsed with every function body. Each must be the module of one of the calls.
    #[serde(default, rename = "fixed-file-wide")]
    pub fixed_file_wide: Vec<String>,
    #[serde(rename = "match")]
    pub matcher: RawMatch,
    pub fix: Option<RawFix>,
    /// Why a finding of a codemod without `[fix]` has none, as the finding states it
    /// (placeholders: `{callee}`, `{qualified}`, `{function}`). Required exactly when `[fix]`
    /// is absent: every finding without a fix says why.
    #[serde(default, rename = "no-fix-reason")]
    pub no_fix_reason: Option<String>,
    /// A fix preferred over `[fix]` when the run applies fixes of this applicability
    /// (`--unsafe-fixes`), e.g. the httpx rewrite over the to-thread fix for requests.
    #[serde(rename = "alternative-fix")]
    pub alternative_fix: Option<RawAlternativeFix>,
    /// Objects that must stay on the thread that made them (`[[thread-affine]]`): code using
    /// one it did not make is never moved to a worker thread.
    #[serde(default, rename = "thread-affine")]
    pub thread_affine: Vec<RawThreadAffine>,
    /// What code moved to a worker thread must not do (`[moved-code]`, with
    /// `project-blocking`).
    #[serde(default, rename = "moved-code")]
    pub moved_code: Option<RawMovedCode>,
    /// A project's own ways to run a function in a worker thread (`[[offload-idiom]]`),
    /// used by every thread fix in place of `asyncio.to_thread` where the code shows one.
    #[serde(default, rename = "offload-idiom")]
    pub offload_idioms: Vec<super::idiom::RawOffloadIdiom>,
    /// Project objects a library finds by name (`[[lookup-by-name]]`: discord.py's
    /// `get_cog`).
    #[serde(default, rename = "lookup-by-name")]
    pub name_lookups: Vec<super::lookup::RawNameLookup>,
    /// What the single-task recognition knows of libraries and frameworks (`[single-task]`).
    #[serde(default, rename = "single-task")]
    pub single_task: Option<super::single_task::RawSingleTask>,
    pub docs: RawDocs,
}

/// `[[thread-affine]]`: a family of objects bound to the thread that made them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawThreadAffine {
    /// What makes one (qualified names): `sqlite3.connect`, or an annotation's class.
    pub made_by: Vec<String>,
    /// How a message names what `made-by` makes: `sqlite3 connection`.
    pub object: String,
    /// Methods of such an object that return another one bound to the same thread
    /// (`cursor`, and `execute`, which returns a cursor).
    #[serde(default)]
    pub derived: Vec<String>,
    /// How a message names what `derived` returns: `sqlite3 cursor`.
    pub derived_object: Option<String>,
    /// `keyword=value`: a constructor call with this argument makes an object that may be
    /// used from any thread (`check_same_thread=False`).
    pub shareable_with: Option<String>,
    /// Why such an object cannot move to a worker thread, for the reason shown.
    pub why: String,
    /// What the user can do instead, for the reason shown.
    pub remedy: String,
    /// What the user can do instead when a function that makes such an object and returns
    /// it would run in a worker thread (the object would come back to the caller's thread);
    /// `remedy` when absent.
    pub returned_remedy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawMatch {
    /// Qualified names of functions whose calls are findings.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Where a call is a finding: `async` (inside async context, the default) or `anywhere`.
    pub context: Option<String>,
    /// Only calls whose result is thrown away (the call is a whole expression statement).
    #[serde(default)]
    pub result_discarded: bool,
    /// Method calls on objects made by `receivers` (`requests.Session`, `sqlite3.connect`):
    /// each `receiver` × `name` pair matches like `calls = ["requests.Session().get"]`.
    #[serde(default)]
    pub methods: Vec<RawMethods>,
    /// Calls (among `calls` and `methods`) that return a lazy iterator: the I/O happens while
    /// iterating, so they are findings only where the iterator is consumed on the spot
    /// (`for x in path.glob(...)`, `list(path.iterdir())`).
    #[serde(default)]
    pub lazy: Vec<RawLazy>,
    /// Not a finding inside a `try` whose `except` catches one of these exceptions (qualified,
    /// e.g. `builtins.BlockingIOError`: the code knows the call does not block).
    #[serde(default)]
    pub unless_caught: Vec<String>,
    /// Not a finding when the call's argument text contains one of these words
    /// (e.g. `AI_NUMERICHOST`: a numeric address needs no DNS lookup). With
    /// `project-blocking`, it applies to the evidence calls (`WNOHANG`: no wait).
    #[serde(default)]
    pub unless_arguments_mention: Vec<String>,
    /// `[[match.non-blocking]]`: the arguments with which a call returns at once
    /// (`block=False`, `timeout=0`, `os.WNOHANG`): no finding, no evidence.
    #[serde(default)]
    pub non_blocking: Vec<RawNonBlocking>,
    /// Not a finding right after a statement that awaits one of these functions (by last
    /// name: `wait_readable`): the code waited for the socket to be ready.
    #[serde(default)]
    pub unless_after_await_of: Vec<String>,
    /// Match calls of the project's coroutine functions (`async def` in the module or imported
    /// from another module of the project, async methods called through `self`) instead of
    /// named calls.
    #[serde(default)]
    pub project_coroutines: bool,
    /// Match calls, in async context, of the project's synchronous functions that block,
    /// directly or through other project functions (settled across files).
    #[serde(default)]
    pub project_blocking: bool,
    /// With `project-blocking`: the rule codes (or prefixes, `ASYNC2`) whose matches make a
    /// synchronous function block.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Method calls on a module global of another project module whose object a method of
    /// this codemod is matched on (`users = client.bot.users` in `db.py`, then `from db import
    /// users` and `users.find_one(...)`) are followed across modules, like thread-affine ones.
    #[serde(default)]
    pub followed_through_imports: bool,
    /// The configuration table whose calls this codemod also matches, each with the fix
    /// its entry asks for (`blocking-calls`, `cpu-bound-calls`).
    pub from_configuration: Option<String>,
}

/// Lazy calls: plain functions (`calls`) and/or methods (`receivers` × `names`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub struct RawLazy {
    #[serde(default)]
    pub calls: Vec<String>,
    /// Making the iterator does no I/O (pymongo's `find`): the to-thread fix moves the
    /// consumer with it (`list(coll.find(q))` → `await asyncio.to_thread(list, coll.find(q))`).
    #[serde(default)]
    pub consumed_in_thread: bool,
    #[serde(default)]
    pub receivers: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMethods {
    /// What makes the object: a class or a function (`requests.Session`, `sqlite3.connect`,
    /// or a method of another object, `sqlite3.connect().cursor`).
    pub receivers: Vec<String>,
    /// The method names.
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFix {
    /// The Rust-implemented rewrite: `await-async-equivalent`.
    pub strategy: String,
    /// The fix's title; placeholders: `{replacement}`, `{callee}`, `{qualified}`.
    pub title: String,
    /// For `await-async-equivalent`: the async function to call, per async library
    /// (`asyncio` required; `trio`, `anyio` used in files that import those).
    #[serde(default)]
    pub replacement: BTreeMap<String, String>,
    /// Calls for which the fix is less trustworthy than the codemod's applicability.
    #[serde(default)]
    pub exceptions: Vec<RawFixException>,
    /// For `httpx-client`: the requests → httpx mapping it follows.
    pub httpx: Option<RawHttpxMapping>,
    /// No fix in a coroutine that runs as the only task of a script (`asyncio.run(main())`,
    /// nothing else started): moving the call to a worker thread frees nobody there. On by
    /// default for the strategies that move work to a worker thread (`to-thread`,
    /// `offload-block`); `false` opts a codemod out; `true` with another strategy is an error.
    #[serde(rename = "unless-single-task")]
    pub unless_single_task: Option<bool>,
    /// The reason said there (`{callee}`), when not the usual "nothing else runs on the event
    /// loop in this script".
    #[serde(rename = "single-task-reason")]
    pub single_task_reason: Option<String>,
    /// What every fix of the codemod changes, said with it (`{callee}`, `{qualified}`): for a
    /// fix whose point is a change of behaviour (an `unsafe` codemod's).
    pub caveat: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlternativeFix {
    pub strategy: String,
    pub title: String,
    /// `unsafe` (or `safe`): when the run applies this level, this fix is tried first.
    pub applicability: String,
    /// For `httpx-client`: the requests → httpx mapping it follows.
    pub httpx: Option<RawHttpxMapping>,
    /// For `redis-asyncio`: what the migration to redis-py's asyncio client changes.
    pub redis: Option<RawRedisAsync>,
    /// Where this fix is refused, what the codemod's own fix adds to its title, with
    /// `{reason}` (why there is no migration).
    #[serde(rename = "refused-note")]
    pub refused_note: Option<String>,
}

/// `[alternative-fix.redis]`: the migration of a sync redis-py client to `redis.asyncio`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRedisAsync {
    /// Each sync constructor and its asyncio counterpart (`redis.Redis` → `redis.asyncio.Redis`).
    pub constructors: std::collections::BTreeMap<String, String>,
    /// Methods that return an async iterator there: `for` becomes `async for`.
    pub iterators: Vec<String>,
    /// Methods that make a pipeline, whose commands are queued, not awaited.
    pub pipelines: Vec<String>,
    /// The pipeline's methods that are awaited (`execute`).
    pub pipeline_awaited: Vec<String>,
    /// Methods whose objects differ in ways the migration does not follow: no migration.
    pub refused: Vec<RawRedisRefused>,
    /// What differs after the migration, whatever the code; stated with the fix.
    pub caveats: Vec<String>,
    /// The most uses of one client the migration rewrites: every finding on the client carries
    /// the whole migration, so a client used in more places keeps the per-command fix.
    pub max_uses: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRedisRefused {
    pub names: Vec<String>,
    pub reason: String,
}

/// `[[fix.exceptions]]`: these calls get a lower applicability, with the reason shown.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawFixException {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub methods: Vec<RawMethods>,
    /// `unsafe`, `display-only`, or `none` (no fix: the reason is shown instead); `safe` with a
    /// `message`: the fix as it is, only the finding's message differs.
    pub applicability: String,
    /// The behaviour difference, shown with the fix (with `none`: why there is none).
    pub reason: String,
    /// The finding's message for these calls, in place of the codemod's `message` (same
    /// placeholders): for calls the general message would misdescribe.
    #[serde(default)]
    pub message: Option<String>,
    /// The exception does not apply when the receiver is a local of the calling function
    /// (`s = requests.Session()` or `with ... as s` in it): no other coroutine can share it.
    #[serde(default)]
    pub unless_local_receiver: bool,
    /// These calls rarely wait: still findings of their own, but not evidence that a project
    /// function calling them blocks (UNF401).
    #[serde(default)]
    pub not_evidence: bool,
    /// The difference holds as well where a project helper running the call moves to a
    /// worker thread (UNF401): the helper's hop is unsafe for the same reason.
    #[serde(default)]
    pub through_helpers: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDocs {
    pub what: String,
    pub why: String,
    pub example: String,
    pub use_instead: String,
    pub fix_safety: String,
}

/// `[alternative-fix.httpx]` (or `[fix.httpx]`): the tables the `httpx-client` strategy
/// follows to rewrite requests calls and sessions (shared/reference/requests-to-httpx.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHttpxMapping {
    /// The module whose functions (`methods`) are rewritten: `requests`.
    pub module: String,
    /// What makes a session (`requests.Session`): a session's requests are rewritten as one
    /// `AsyncClient`.
    pub session_constructors: Vec<String>,
    /// What every rewrite changes, whatever the call; stated with each fix.
    pub caveats: Vec<String>,
    /// What a module-level session's rewrite changes (its headers, requests' User-Agent with
    /// them, are carried to the client): stated instead of `caveats`.
    #[serde(rename = "shared-session-caveats", default)]
    pub shared_session_caveats: Vec<String>,
    /// The client's arguments that restore requests' defaults, `name=value`, unless the code
    /// sets the same argument.
    pub client_defaults: Vec<String>,
    /// Session attributes httpx takes only when the client is made (`verify`): set before the
    /// first request, they move into the construction.
    pub construction_only: Vec<String>,
    /// The objects that hold the status codes (`requests.codes`).
    pub codes_objects: Vec<String>,
    /// The modules exceptions are named through, the first that names one wins
    /// (`requests.exceptions` before `requests`).
    pub exception_modules: Vec<String>,
    /// The module's request functions (and a session's methods of the same name).
    pub methods: BTreeMap<String, RawHttpxMethod>,
    /// requests exception → the httpx exceptions an `except` of it also catches.
    pub exceptions: BTreeMap<String, Vec<String>>,
    /// The response's attributes.
    pub response: RawHttpxResponse,
    /// Every lower-case name of `requests.codes`: its value, and the httpx member with that
    /// value (none: the integer is written).
    pub codes: BTreeMap<String, RawStatusCode>,
    /// The clients the rewrite can target, preferred first when the project declares none.
    pub clients: Vec<RawClientPackage>,
    /// The exceptions (named in `exception-modules`) that `.json()` raises for invalid JSON.
    pub json_exceptions: Vec<String>,
    /// Functions that return a str or bytes body: `data=` of their result becomes `content=`.
    #[serde(default)]
    pub str_bodies: Vec<String>,
}

/// `{ module = "httpx2", package = "httpx2", requires-python = "3.11" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawClientPackage {
    pub module: String,
    pub package: String,
    /// The lowest Python its current releases support, `"3.11"`.
    pub requires_python: String,
}

/// One request function: `get = { positional = ["url", "params"] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHttpxMethod {
    /// Its positional parameters, after which every argument is a keyword.
    pub positional: Vec<String>,
    /// httpx's function of that name takes no body: a call with one goes through
    /// `request("GET", ...)`.
    #[serde(default)]
    pub body_through_request: bool,
    /// requests does not follow redirects here unless asked (`head`): the call gets
    /// `follow_redirects=False`.
    #[serde(default)]
    pub no_redirects: bool,
}

/// The response's attributes: the same, renamed, or with a stated difference; any other
/// refuses the fix. (`ok`, `url` and `raise_for_status()` are rewritten by the strategy.)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHttpxResponse {
    pub same: Vec<String>,
    /// requests name → httpx name (`reason = "reason_phrase"`).
    pub renamed: BTreeMap<String, String>,
    pub caveats: Vec<RawAttributeCaveat>,
}

/// Attributes that work with a stated difference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttributeCaveat {
    pub attributes: Vec<String>,
    pub caveat: String,
}

/// `ok = { value = 200, member = "OK" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatusCode {
    pub value: u16,
    pub member: Option<String>,
}

/// `[moved-code]`: the calls that make a moved function unfit for a worker thread.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawMovedCode {
    /// Qualified asyncio functions and classes that need the thread's running event loop.
    pub loop_bound_calls: Vec<String>,
    /// Method names that schedule on an event loop (`loop.call_soon`, `tg.create_task`).
    pub loop_bound_methods: Vec<String>,
    /// Prefixes of method names that run only on the event loop's thread, whatever the
    /// receiver (Home Assistant's `async_` convention: `hass.async_create_task`).
    #[serde(default)]
    pub loop_bound_method_prefixes: Vec<String>,
    /// Methods that change the object they are called on (`append`, `update`, ...).
    pub mutating_methods: Vec<String>,
    /// Qualified functions that read the whole of their first argument (`json.dump`).
    pub serialisers: Vec<String>,
    /// Qualified classes of thread locks: a change made inside `with <one of them>:` is
    /// guarded (`threading.Lock`).
    #[serde(default)]
    pub thread_locks: Vec<String>,
    /// Process-wide state a coroutine may swap for a while (`sys.stdout`, `os.environ`):
    /// a new `await` between the swap and its restore lets other coroutines run with it.
    #[serde(default)]
    pub process_state: Vec<String>,
    /// Context managers that swap it for their block (`contextlib.redirect_stdout`).
    #[serde(default)]
    pub process_state_swaps: Vec<String>,
    /// Calls that change the process's working directory for good (`os.chdir`): later thread
    /// hops of the coroutine, and moved code making one, race with the other tasks.
    #[serde(default)]
    pub process_state_changes: Vec<String>,
    /// Method names that change a working directory whatever the receiver, when the receiver
    /// resolves to nothing known (`os` reached through a star import): `chdir`.
    #[serde(default)]
    pub process_state_change_methods: Vec<String>,
    /// Of `loop-bound-calls`, the constructors that bind to a loop only when first used from
    /// `binds-on-first-use-since` (a Python version, `"3.10"`); below it they look up the
    /// thread's event loop when made.
    #[serde(default)]
    pub binds_on_first_use: Vec<String>,
    pub binds_on_first_use_since: Option<String>,
    /// Exceptions whose handler around a loop-bound call swallows its RuntimeError.
    #[serde(default)]
    pub swallowed_by: Vec<String>,
    /// Qualified functions that make a path of their arguments (`os.path.join`).
    #[serde(default)]
    pub path_builders: Vec<String>,
    /// Qualified functions that run their first argument, called with the rest, in a worker
    /// thread (`asyncio.to_thread`): awaited, they give what the call would.
    #[serde(default)]
    pub thread_hops: Vec<String>,
    /// Qualified decorators that cache a function's result (`functools.lru_cache`): one
    /// taking no parameters blocks only on its first call.
    #[serde(default)]
    pub cache_decorators: Vec<String>,
    /// Qualified types whose values nothing can change (`builtins.str`, `pathlib.Path`): a
    /// parameter so annotated is no state shared with the caller.
    #[serde(default)]
    pub immutable_types: Vec<String>,
    /// Methods that only read the object they are called on (`get`, `keys`): called on what
    /// a parameter reaches, they share nothing that changes.
    #[serde(default)]
    pub reading_methods: Vec<String>,
    /// Prefixes of the names of methods that only read (`get_`, `is_`).
    #[serde(default)]
    pub reading_method_prefixes: Vec<String>,
    /// `[[moved-code.files]]`: calls that read or write a file.
    #[serde(default)]
    pub files: Vec<RawFileAccess>,
    /// `[[moved-code.collections]]`: document collections and their reading and writing methods.
    #[serde(default)]
    pub collections: Vec<super::DocumentCollections>,
    /// `[[moved-code.path-races]]`: calls that check a path or make, write or remove it.
    #[serde(default)]
    pub path_races: Vec<RawPathRace>,
    /// Handlers (qualified) around an act that tolerate any second call (`builtins.OSError`).
    #[serde(default)]
    pub path_race_handlers: Vec<String>,
    /// Qualified calls (or module prefixes ending in `.`) whose result differs per call: a
    /// path built from one is each call's own (`tempfile.`, `uuid.uuid4`).
    #[serde(default)]
    pub fresh_path_calls: Vec<String>,
    /// Qualified functions that only compute, or only touch the objects they are given:
    /// moved code calling them needs no thread caveat (`json.loads`, `datetime.datetime.now`).
    #[serde(default)]
    pub thread_safe_calls: Vec<String>,
    /// Builtins that only compute (`len`, `sorted`).
    #[serde(default)]
    pub pure_builtins: Vec<String>,
    /// Methods of `str` that only compute, on a string literal or a name bound only to
    /// string literals (`strip`, `encode`).
    #[serde(default)]
    pub str_methods: Vec<String>,
    /// Test-case classes (`unittest.TestCase`) whose assertion methods, called on `self` in a
    /// class deriving from one, need no thread caveat.
    #[serde(default)]
    pub test_case_bases: Vec<String>,
    /// Those assertion methods (`assertEqual`): they compare their arguments and raise.
    #[serde(default)]
    pub test_case_methods: Vec<String>,
}

/// `[[moved-code.files]]`: calls that read or write the file one of their operands names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawFileAccess {
    /// Qualified names; a path method as `pathlib.Path().write_text`.
    pub calls: Vec<String>,
    /// `read`, `write`, `delete` (removes the file), `exists` (tests whether it is there),
    /// or `mode` (the open mode decides: `w`, `a`, `x` or `+` writes).
    pub access: String,
    /// Where the path is: an argument's position (and its keyword), or the receiver.
    pub path_argument: Option<usize>,
    pub path_keyword: Option<String>,
    #[serde(default)]
    pub path_receiver: bool,
    /// With `access = "mode"`: the mode argument's position and keyword (default `"r"`).
    pub mode_argument: Option<usize>,
    pub mode_keyword: Option<String>,
    /// With `access = "write"`: the file appears whole, at once (`os.replace(tmp, path)`): a
    /// reader never sees it half-written.
    #[serde(default)]
    pub atomic: bool,
    /// With `access = "database"`: the methods that run a statement, and the first words of
    /// statements that only read.
    #[serde(default)]
    pub statement_methods: Vec<String>,
    #[serde(default)]
    pub read_statements: Vec<String>,
    #[serde(default)]
    pub insert_statements: Vec<String>,
}

/// `[[match.non-blocking]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNonBlocking {
    /// Functions (qualified names) among the codemod's calls.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Methods (`receivers` × `names`) among the codemod's methods.
    #[serde(default)]
    pub methods: Vec<RawMethods>,
    /// The argument's position (0: the first argument after the receiver).
    pub position: Option<usize>,
    /// The argument's keyword.
    pub keyword: Option<String>,
    /// The values that make the call return at once: `False`, `True`, `None`, a number
    /// (`0`: equal to `0.0` too) or a qualified name (`os.WNOHANG`, also found as one flag of
    /// `a | b`).
    pub values: Vec<String>,
    /// The call also returns at once when the argument is not passed (and no `*args` /
    /// `**kwargs` may pass it): `psutil.cpu_percent()`, whose `interval` defaults to `None`.
    #[serde(default, rename = "when-absent")]
    pub when_absent: bool,
}

/// The raw `[[moved-code.path-races]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPathRace {
    /// Qualified names; a path method as `pathlib.Path().mkdir`.
    pub calls: Vec<String>,
    /// `check`, `create`, `remove` or `write`.
    pub role: String,
    pub path_argument: Option<usize>,
    pub path_keyword: Option<String>,
    #[serde(default)]
    pub path_receiver: bool,
    pub tolerated_by: Option<String>,
    pub raises: Option<String>,
}
