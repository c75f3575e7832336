//! A compiled codemod ([`Codemod`]): what a `codemods/*.toml` file means once `compile` has
//! validated it, and the error that names a file that does not compile.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::{Strategy, Template};
use crate::fix::Applicability;

/// The user documentation of a codemod, printed by `unfreeze explain`.
#[derive(Clone, Debug)]
pub struct Docs {
    pub what: String,
    pub why: String,
    pub example: String,
    pub use_instead: String,
    pub fix_safety: String,
}

/// A second fix, preferred when the run reaches its applicability (`[alternative-fix]`).
#[derive(Clone, Debug)]
pub struct AlternativeFix {
    pub strategy: Strategy,
    pub title: Template,
    pub applicability: Applicability,
    /// Where it is refused, what the codemod's own fix says of it (`{reason}`).
    pub refused_note: Option<Template>,
}

/// A lower applicability for some of a codemod's calls (`[[fix.exceptions]]`).
#[derive(Clone, Debug)]
pub struct FixException {
    pub applicability: Applicability,
    /// No fix at all (`applicability = "none"`): `reason` says why, and what to do instead.
    pub no_fix: bool,
    pub reason: String,
    /// Not when the receiver is a local object of the calling function.
    pub unless_local_receiver: bool,
    /// Not evidence that a project function calling it blocks (`not-evidence`).
    pub not_evidence: bool,
    /// A UNF401 hop of a helper running the call is unsafe for the same reason
    /// (`through-helpers`).
    pub through_helpers: bool,
    /// The finding's message for these calls, when the codemod's would misdescribe them.
    pub message: Option<Template>,
}

/// A family of objects bound to the thread that made them (`[[thread-affine]]`).
#[derive(Clone, Debug)]
pub struct ThreadAffine {
    /// What makes one: `sqlite3.connect`.
    pub made_by: Vec<String>,
    /// The object kinds of the family (as `SemanticIndex::object_kind` names them) and how a
    /// message names each: `sqlite3.connect` is a `sqlite3 connection`,
    /// `sqlite3.connect().cursor` a `sqlite3 cursor`.
    pub kinds: Vec<(String, String)>,
    /// `(keyword, value)`: a constructor call with it makes a shareable object.
    pub shareable_with: Option<(String, String)>,
    pub why: String,
    pub remedy: String,
    /// The remedy for a function that makes such an object and returns it
    /// (`returned-remedy`, else `remedy`).
    pub returned_remedy: String,
}

/// A compiled, validated codemod.
#[derive(Clone, Debug)]
pub struct Codemod {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub message: Template,
    pub applicability: Applicability,
    pub default_enabled: bool,
    /// Qualified names whose calls are findings.
    pub calls: Vec<String>,
    /// Modules whose fixes read more of a file than the function of the call: a file whose
    /// code names one is parsed with every function body (`fixed-file-wide`).
    pub fixed_file_wide: Vec<String>,
    /// Whether only calls in async context are findings.
    pub async_only: bool,
    /// Whether only calls whose result is discarded are findings.
    pub result_discarded: bool,
    /// A template for the calls of this configuration table (`blocking-calls`,
    /// `cpu-bound-calls`): each becomes a copy of this codemod with that call.
    pub from_configuration: Option<String>,
    /// Matches calls of the file's own coroutine functions instead of named calls.
    pub project_coroutines: bool,
    /// Its methods are followed on module globals imported from another project module
    /// (`[match] followed-through-imports`).
    pub followed_through_imports: bool,
    /// Matches calls of project functions that block (see `[match] project-blocking`).
    pub project_blocking: bool,
    /// With `project_blocking`: the codes (or prefixes) whose matches are blocking evidence.
    pub evidence: Vec<String>,
    /// Calls returning lazy iterators: findings only where consumed on the spot.
    pub lazy_calls: HashSet<String>,
    /// Of `lazy_calls`, those whose to-thread fix moves the consumer with the call
    /// (`await asyncio.to_thread(list, coll.find(q))`): making the iterator does no I/O.
    pub consumed_in_thread: HashSet<String>,
    /// Exceptions whose handling shows the call does not block (`BlockingIOError`).
    pub unless_caught: Vec<String>,
    /// Words in the arguments that show the call does not block (`AI_NUMERICHOST`).
    pub unless_arguments_mention: Vec<String>,
    /// Arguments with which a call returns at once (`[[match.non-blocking]]`).
    pub non_blocking: Vec<super::NonBlocking>,
    /// Awaited readiness waits that, just before the call, show it does not block.
    pub unless_after_await_of: Vec<String>,
    /// No fix in a coroutine that runs as the only task of a script (`unless-single-task`).
    pub unless_single_task: bool,
    /// The reason said there (`single-task-reason`, or the usual one).
    pub single_task_reason: Option<Template>,
    /// Calls whose fix is lowered to an applicability, with the reason.
    pub fix_exceptions: HashMap<String, FixException>,
    pub strategy: Option<Strategy>,
    pub fix_title: Option<Template>,
    /// What every fix of the codemod changes (`[fix] caveat`), said with it.
    pub fix_caveat: Option<Template>,
    /// Why a finding of a codemod without `[fix]` has none (`no-fix-reason`).
    pub no_fix_reason: Option<Template>,
    /// Tried before `strategy` when the run applies fixes of its applicability.
    pub alternative: Option<AlternativeFix>,
    /// Objects that must stay on the thread that made them (`[[thread-affine]]`).
    pub thread_affine: Vec<ThreadAffine>,
    /// What code a fix moves to a worker thread must not do (`[moved-code]`).
    pub moved_code: Option<MovedCode>,
    /// A project's own ways to run a function in a worker thread (`[[offload-idiom]]`).
    pub offload_idioms: Vec<super::OffloadIdiom>,
    /// Project objects a library finds by name (`[[lookup-by-name]]`).
    pub name_lookups: Vec<super::NameLookup>,
    /// What the single-task recognition knows of libraries and frameworks (`[single-task]`).
    pub single_task: Option<super::SingleTaskData>,
    pub docs: Docs,
    /// The file it was loaded from, for messages.
    pub origin: String,
}

/// A codemod file that could not be loaded; names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodemodError {
    pub origin: String,
    pub message: String,
}

impl fmt::Display for CodemodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for CodemodError {}

/// `[moved-code]` of a codemod file: the calls that make code unfit to move to a worker
/// thread (read by `analyze/side_effects.rs`).
#[derive(Debug, Clone, Default)]
pub struct MovedCode {
    pub loop_bound_calls: HashSet<String>,
    pub loop_bound_methods: HashSet<String>,
    /// Prefixes of method names bound to the event loop's thread (`async_`).
    pub loop_bound_method_prefixes: Vec<String>,
    pub mutating_methods: HashSet<String>,
    pub serialisers: HashSet<String>,
    pub thread_locks: HashSet<String>,
    pub process_state: HashSet<String>,
    pub process_state_swaps: HashSet<String>,
    /// Calls changing the working directory (`os.chdir`), and method names doing so on an
    /// unknown receiver (`chdir`).
    pub process_state_changes: HashSet<String>,
    pub process_state_change_methods: HashSet<String>,
    /// Of `loop_bound_calls`, the constructors that need no loop when made from this Python
    /// version on (they bind to the loop that first uses them).
    pub binds_on_first_use: Option<(HashSet<String>, (u8, u8))>,
    /// Exceptions (qualified) whose handler swallows the RuntimeError of a loop-bound call.
    pub swallowed_by: Vec<String>,
    /// Functions that make a path of their arguments (`os.path.join`, `pathlib.Path`).
    pub path_builders: HashSet<String>,
    /// Functions running their first argument in a worker thread (`asyncio.to_thread`):
    /// `await asyncio.to_thread(f, a)` is the value of `f(a)`.
    pub thread_hops: HashSet<String>,
    /// Decorators that cache a function's result (`functools.lru_cache`, `functools.cache`).
    pub cache_decorators: HashSet<String>,
    /// Types whose values nothing can change: a parameter so annotated shares no state.
    pub immutable_types: HashSet<String>,
    /// Methods that only read the object they are called on.
    pub reading_methods: HashSet<String>,
    /// Prefixes of the names of methods that only read (`get_area_names`).
    pub reading_method_prefixes: Vec<String>,
    /// The calls that read or write a file, by qualified name.
    pub files: HashMap<String, Vec<FileAccessCall>>,
    /// Document collections (pymongo): which methods read and write one.
    pub collections: Vec<DocumentCollections>,
    /// Check-then-act on a path: the calls, the tolerating handlers, the fresh-path calls.
    pub path_races: super::path_race::PathRaces,
    /// What moved code may call with no thread caveat.
    pub thread_safe: ThreadSafe,
}

/// Calls known safe in a worker thread while other coroutines run (`[moved-code]
/// thread-safe-calls`, `pure-builtins`, `str-methods`).
#[derive(Debug, Clone, Default)]
pub struct ThreadSafe {
    /// Qualified functions and constructors that only compute or touch their arguments.
    pub calls: HashSet<String>,
    /// Builtins (by name, resolved to the builtin) that only compute.
    pub builtins: HashSet<String>,
    /// `str` methods that only compute, on a value known to be a string.
    pub str_methods: HashSet<String>,
    /// Test-case classes whose `test_case_methods`, called on `self`, only compare and raise.
    pub test_case_bases: HashSet<String>,
    pub test_case_methods: HashSet<String>,
}

/// Whether a call reads or writes the file it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAccessKind {
    Read,
    Write,
    /// Removes the file (`os.remove`): a write for the races, named "deletes" in messages.
    Delete,
    /// Tests whether the file is there (`os.path.exists`): a read for the races, of a file
    /// the module also removes (a check before its removal, or before a write).
    Exists,
    /// The open mode decides.
    Mode,
    /// A database the call opens: its statements (`execute` on what it returns, in the same
    /// function) read or write it, as their SQL says.
    Database,
}

/// How the statements run on a database read or write it (`[[moved-code.files]]` with
/// `access = "database"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatabaseStatements {
    /// Methods that run a statement: `execute`, `executemany`.
    pub methods: Vec<String>,
    /// The first word of a statement that only reads (`SELECT`); any other, or SQL not
    /// written out as a literal, may write.
    pub reads: Vec<String>,
    /// The first word of a statement that only adds rows (`INSERT`, unless it replaces).
    pub inserts: Vec<String>,
}

/// One way a call accesses a file (`[[moved-code.files]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAccessCall {
    pub access: FileAccessKind,
    /// The path operand: `None` for the receiver (`path.write_text`).
    pub path_argument: Option<(usize, Option<String>)>,
    pub mode_argument: Option<(usize, Option<String>)>,
    /// A write that makes the file appear whole, at once (`os.replace(tmp, path)`).
    pub atomic: bool,
    /// With [`FileAccessKind::Database`].
    pub statements: DatabaseStatements,
}

/// `[[moved-code.collections]]`: a kind of document collection (a pymongo `Collection`),
/// each one keyed by the expression it is reached through, and which of its methods read or
/// write it. One call is atomic; a read then a write of one collection races like a database's.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocumentCollections {
    /// What a collection's method is called on, as `Registry` names it
    /// (`pymongo.MongoClient.*.*()`): the callee's name without its method.
    pub receivers: Vec<String>,
    /// Methods that read it (`find_one`).
    pub reads: Vec<String>,
    /// Methods that write it (`replace_one`); one in both lists reads and writes in one call.
    pub writes: Vec<String>,
    /// Of `writes`, those that only add documents (`insert_one`).
    #[serde(default)]
    pub inserts: Vec<String>,
    /// Of `writes`, those that remove documents (`delete_one`): a read then one of them in
    /// one moved unit is a record used twice, not an update lost, in messages.
    #[serde(default)]
    pub deletes: Vec<String>,
    /// What a message calls it, with `{}` for the expression it is reached through ("the
    /// collections of the client `{}`"); a pymongo collection's words when absent.
    #[serde(default)]
    pub named: Option<String>,
    /// How to keep a check and its act together on it, for a message; a pymongo
    /// collection's one-call remedy when absent.
    #[serde(default)]
    pub remedy: Option<String>,
}

impl DocumentCollections {
    /// The tables, validated: each names receivers and methods, and only writes insert.
    pub fn checked(tables: &[DocumentCollections]) -> Result<Vec<DocumentCollections>, String> {
        for table in tables {
            if table.receivers.is_empty() || table.reads.is_empty() || table.writes.is_empty() {
                return Err(
                    "`[[moved-code.collections]]` needs `receivers`, `reads` and `writes`"
                        .to_owned(),
                );
            }
            if table
                .named
                .as_ref()
                .is_some_and(|n| n.matches("{}").count() != 1)
            {
                return Err(
                    "`[[moved-code.collections]] named` needs one `{}` (the expression)".to_owned(),
                );
            }
            for (list, names) in [("inserts", &table.inserts), ("deletes", &table.deletes)] {
                if let Some(name) = names.iter().find(|i| !table.writes.contains(i)) {
                    return Err(format!(
                        "`[[moved-code.collections]] {list}`: {name:?} is not in `writes`"
                    ));
                }
            }
        }
        Ok(tables.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::DocumentCollections;

    #[test]
    fn collection_deletes_and_inserts_must_be_writes() {
        let table = |deletes: &[&str]| DocumentCollections {
            receivers: vec!["pymongo.MongoClient.*.*()".to_owned()],
            reads: vec!["find_one".to_owned()],
            writes: vec!["delete_one".to_owned()],
            deletes: deletes.iter().map(|d| (*d).to_owned()).collect(),
            ..DocumentCollections::default()
        };
        assert!(DocumentCollections::checked(&[table(&["delete_one"])]).is_ok());
        let error = DocumentCollections::checked(&[table(&["delete_many"])]).unwrap_err();
        assert!(
            error.contains("deletes") && error.contains("delete_many"),
            "{error}"
        );
    }
}
