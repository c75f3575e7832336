//! Databases as shared state: a sqlite database opened through a shared name
//! (`sqlite3.connect(DB_PATH)`) is keyed like a file ([`super::shared_files`]), and each
//! statement the opening function runs on it (`c.execute("SELECT …")`) is an access of it, a
//! read or a write as its SQL says (`[[moved-code.files]]` with `access = "database"` in
//! `codemods/UNF401.toml`). sqlite locks the database for one statement, so a function that
//! runs one statement per call stays safe in a worker thread; what races is a read followed
//! by a write: in one moved unit (lost update), or in two hops of one coroutine
//! (check-then-act).

use std::collections::HashMap;

use tree_sitter::Node;

use super::FileContext;
use super::file_access::FileAccess;
use crate::codemod::DatabaseStatements;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{Resolution, ScopeId};

/// The calls of a statement method (`execute`, whatever the receiver), by the function they
/// are in: made once per file.
pub(super) fn statement_calls<'t>(
    file: &FileContext<'t>,
    statements: &DatabaseStatements,
) -> HashMap<ScopeId, Vec<Node<'t>>> {
    let mut by_function: HashMap<ScopeId, Vec<Node<'t>>> = HashMap::new();
    for &call in &file.nodes.calls {
        let Some(callee) = call.field(Field::Function) else {
            continue;
        };
        if callee.kind_name() != "attribute" {
            continue;
        }
        let Some(method) = callee.field(Field::Attribute) else {
            continue;
        };
        if !statements
            .methods
            .iter()
            .any(|m| *m == file.text[method.byte_range()])
        {
            continue;
        }
        if let Some(function) = file.index.function_at(call.start_byte()) {
            by_function.entry(function).or_default().push(call);
        }
    }
    by_function
}

/// The accesses the statements of the function that opens the database `opened` make: a
/// read for a statement whose literal SQL starts with a read word (`SELECT`), a write for any
/// other literal, and both for SQL not written out.
pub(super) fn database_statements(
    file: &FileContext,
    opened: &FileAccess,
    statements: &DatabaseStatements,
    by_function: &HashMap<ScopeId, Vec<Node>>,
) -> Vec<FileAccess> {
    let Some(calls) = opened.function.and_then(|f| by_function.get(&f)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for &call in calls {
        let (read, write, inserts) = match first_word(file, call) {
            Some((word, rewrites)) => {
                let read = statements.reads.contains(&word);
                (read, !read, !rewrites && statements.inserts.contains(&word))
            }
            None => (true, true, false),
        };
        let at = |write: bool| FileAccess {
            inserts: write && inserts,
            range: call.byte_range(),
            line: call.start_position().row as u32 + 1,
            write,
            atomic: false,
            database: true,
            alias_keys: Vec::new(),
            ..opened.clone()
        };
        if read {
            found.push(at(false));
        }
        if write {
            found.push(at(true));
        }
    }
    found
}

/// The first word of the statement's SQL, upper-cased, when it is a literal or a local
/// holding one (an f-string's leading text counts: `f"UPDATE users SET {col} = …"`), and
/// whether it may rewrite rows where its first word says it adds them (`INSERT OR REPLACE`).
fn first_word(file: &FileContext, call: Node) -> Option<(String, bool)> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    let sql = arguments
        .named_children(&mut cursor)
        .find(|a| a.kind_name() != "comment")?;
    // A local holding the SQL (`qry = f"""SELECT …"""`, `cursor.execute(qry)`).
    let sql = match sql.kind_name() {
        "identifier" => {
            let Resolution::Binding(id) = file
                .index
                .resolve_name(&file.text[sql.byte_range()], sql.start_byte())
            else {
                return None;
            };
            let value = file.index.binding(id).value.clone()?;
            file.parsed
                .tree
                .root_node()
                .descendant_for_byte_range(value.start, value.end)?
        }
        _ => sql,
    };
    if sql.kind_name() != "string" {
        return None;
    }
    let mut cursor = sql.walk();
    let content = sql
        .named_children(&mut cursor)
        .find(|p| p.kind_name() == "string_content")?;
    let text = file.text[content.byte_range()].to_ascii_uppercase();
    let word: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    // `INSERT OR REPLACE`, an upsert: rewrites rows, not only adds them.
    let rewrites = text.contains("REPLACE") || text.contains("ON CONFLICT");
    (!word.is_empty()).then_some((word, rewrites))
}

/// What the code `inside` picks does to a shared database: reads rows and then writes them
/// in a later statement (lost update), or reads it in one hop of a coroutine that writes it
/// in a later one, or writes it after an earlier hop read it (check-then-act).
pub(super) fn database_race(
    accesses: &[FileAccess],
    inside: &impl Fn(&FileAccess) -> bool,
) -> Option<String> {
    let moved: Vec<&FileAccess> = accesses
        .iter()
        .filter(|a| a.database && inside(a))
        .collect();
    for read in moved.iter().filter(|a| !a.write) {
        // A later INSERT only adds rows: no update is lost (a duplicate the schema allows,
        // or an IntegrityError the code handles, is the check-then-act case below).
        if moved
            .iter()
            .any(|w| w.write && !w.inserts && w.key == read.key && w.range.start > read.range.start)
        {
            return Some(format!(
                "reads then rewrites rows of the database `{}` in two statements: in worker \
                 threads two calls interleave and an update is lost; do it in one statement \
                 (`UPDATE … SET coins = coins + ?`) or in one transaction (`BEGIN IMMEDIATE`)",
                read.shown
            ));
        }
    }
    // Two hops of one coroutine: the check and the act no longer run at once.
    let split = |a: &FileAccess, b: &FileAccess| {
        a.key == b.key && a.function.is_some() && a.function == b.function && !inside(b)
    };
    for access in &moved {
        let other = accesses.iter().find(|o| {
            o.database
                && split(access, o)
                && match access.write {
                    false => o.write && o.range.start > access.range.start,
                    true => !o.write && o.range.start < access.range.start,
                }
        });
        if let Some(other) = other {
            let did = match access.write {
                false => format!(
                    "reads the database `{}`, which the same function then writes in another \
                     hop (line {})",
                    access.shown, other.line
                ),
                true => format!(
                    "writes the database `{}` after the same function read it in another hop \
                     (line {})",
                    access.shown, other.line
                ),
            };
            let (check, act) = match access.write {
                false => (*access, other),
                true => (other, *access),
            };
            return Some(format!(
                "{did}: a check-then-act split by the new `await`s{}, so another task can \
                 change the rows in between (double spend, duplicate insert); do the check and \
                 the change in one hop, in one transaction",
                between(check, act)
            ));
        }
    }
    None
}

/// The helpers a check and its act are made through, for a message: " between
/// `get_coins(...)` and `remove_coins(...)`", " (through `load_config(...)`)" when only one
/// side is a call of a helper; nothing when neither is.
pub(super) fn between(check: &FileAccess, act: &FileAccess) -> String {
    match (&check.via, &act.via) {
        (Some(check), Some(act)) if check != act => {
            format!(" between `{check}(...)` and `{act}(...)`")
        }
        (Some(via), _) | (None, Some(via)) => format!(" (through `{via}(...)`)"),
        (None, None) => String::new(),
    }
}
