//! One read or write of a file (or one statement on a database) that moved code may race
//! on: what `shared_files` finds and `shared_databases` reads, kept apart from both so neither
//! imports the other.

use std::ops::Range;

use crate::semantic::ScopeId;

/// One call in the file that reads or writes a file named through a shared name.
#[derive(Debug, Clone)]
pub(super) struct FileAccess {
    /// The call's bytes.
    pub range: Range<usize>,
    /// The function it is in.
    pub function: Option<ScopeId>,
    /// What names the file, resolved: `MATCH_DATES_PATH`, `Store.path`, `{config.DIR}/*`.
    pub key: String,
    /// The path as written: `self.data_store_path`.
    pub shown: String,
    pub write: bool,
    /// A read that only tests whether the file is there (`os.path.exists`).
    pub exists: bool,
    /// A write that removes the file (`os.remove`): "deletes" in messages.
    pub deletes: bool,
    /// A write that makes the file appear whole, at once (`os.replace(tmp, path)`); a read of
    /// a collection made by a call that also writes it at once (`find_one_and_update`).
    pub atomic: bool,
    /// 1-based.
    pub line: u32,
    /// The key every module gives the file (`FileUse::key`), when the file is a module.
    pub project_key: Option<String>,
    /// For a module constant (keyed by the path it holds), the keys other modules give it
    /// when they import it (`app.config.CONFIG_PATH`): all name the file.
    pub alias_keys: Vec<String>,
    /// The path is a module constant (keyed by the path it holds: its name is shown).
    pub constant: bool,
    /// A statement run on a database the function opens (`c.execute("SELECT …")`): one
    /// statement is atomic, so only a read followed by a write races.
    pub database: bool,
    /// A database statement that only adds rows (`INSERT`).
    pub inserts: bool,
    /// The call of a project function the access is made through (`load_config`,
    /// `EconomyManager.get_coins`), as written: the access is at that call, in the caller.
    pub via: Option<String>,
    /// Made in another module, carried to the call of its helper (`project/carried.rs`).
    pub carried: bool,
    /// A database statement whose SQL is a parameter of its function: the parameter's
    /// position among a call's positional arguments (`None` when only passed by keyword) and
    /// its name. Each call of the function is classified by the SQL it passes.
    pub sql_parameter: Option<(Option<usize>, String)>,
    /// The exclusive clauses it is in (`if` / `else`, ...), by conditional, outermost first
    /// (`branches::branches`): for database statements only.
    pub branches: Vec<(usize, usize)>,
    /// For a store other than a pymongo collection (`[[moved-code.collections]]` with
    /// `named`): what messages call it and the remedy they give.
    pub store: Option<std::sync::Arc<StoreWords>>,
}

/// What messages say of a store a `[[moved-code.collections]]` table describes.
#[derive(Debug)]
pub(super) struct StoreWords {
    /// "the collections of the client `self.client`".
    pub named: String,
    pub remedy: String,
}
