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
use super::branches::{branches, exclusive_branches};
use super::file_access::FileAccess;
use super::path_key::{argument, parameter_position};
use super::shared_collections::{named, remedy};
use super::state_split::is_checked;
use super::suspends::{suspends_before, suspends_between};
use crate::codemod::{DatabaseStatements, FileAccessKind, MovedCode};
use crate::parse::{Field, FieldChild, KindName};
use crate::project::SqlArg;
use crate::semantic::{BindingKind, Resolution, ScopeId, ScopeKind};

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
/// other literal, and both for SQL not written out. SQL passed in by a parameter of the
/// function (`def fetch_all(sql, values=None)`) is both here, marked with the parameter: each
/// call is then classified by the SQL its caller passes ([`bind_statement`]).
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
        let sql = sql_argument(call);
        let (read, write, inserts, sql_parameter) =
            match sql.map(|sql| passed(file, statements, sql)) {
                Some(Sql::Word { read, inserts }) => (read, !read, inserts, None),
                Some(Sql::Parameter(position, name)) => (true, true, false, Some((position, name))),
                _ => (true, true, false, None),
            };
        let at = |write: bool| FileAccess {
            inserts: write && inserts,
            range: call.byte_range(),
            line: call.start_position().row as u32 + 1,
            write,
            atomic: false,
            database: true,
            alias_keys: Vec::new(),
            branches: branches(call),
            sql_parameter: sql_parameter.clone(),
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

/// How statements read or write a database (`[[moved-code.files]]` with `access =
/// "database"`), if the moved code lists one.
pub(super) fn statements_of(moved: &MovedCode) -> Option<&DatabaseStatements> {
    moved
        .files
        .values()
        .flatten()
        .find(|way| way.access == FileAccessKind::Database)
        .map(|way| &way.statements)
}

/// The arguments of `call` whose first SQL word is known, for the summary: a helper taking its
/// SQL from a parameter runs what they say.
pub(super) fn sql_arguments(
    file: &FileContext,
    statements: &DatabaseStatements,
    call: Node,
) -> Vec<SqlArg> {
    let mut found = Vec::new();
    let Some(arguments) = call.field(Field::Arguments) else {
        return found;
    };
    let mut position = Some(0usize);
    let mut cursor = arguments.walk();
    for argument in arguments.named_children(&mut cursor) {
        let (keyword, value) = match argument.kind_name() {
            "keyword_argument" => (
                argument
                    .field(Field::Name)
                    .map(|n| file.text[n.byte_range()].to_owned()),
                argument.field(Field::Value),
            ),
            "list_splat" | "dictionary_splat" => {
                position = None;
                continue;
            }
            "comment" => continue,
            _ => (None, Some(argument)),
        };
        let this = position.filter(|_| keyword.is_none());
        if keyword.is_none() {
            position = position.map(|p| p + 1);
        }
        if let Some(value) = value
            && let Sql::Word { read, inserts } = passed(file, statements, value)
        {
            found.push(SqlArg {
                position: this,
                keyword,
                read,
                inserts,
            });
        }
    }
    found
}

/// The SQL argument of a statement call: its first argument.
fn sql_argument(call: Node) -> Option<Node> {
    let arguments = call.field(Field::Arguments)?;
    let mut cursor = arguments.walk();
    arguments
        .named_children(&mut cursor)
        .find(|a| a.kind_name() != "comment")
}

/// What a statement's SQL is known to be.
enum Sql {
    /// Written out (a literal, an f-string's leading text, a local holding one): whether it
    /// only reads, or only adds rows.
    Word {
        read: bool,
        inserts: bool,
    },
    /// A parameter of the function it is in, passed on unchanged: its 0-based position among
    /// the arguments a call passes by position (`None` for `self`), and its name.
    Parameter(Option<usize>, String),
    Unknown,
}

/// What the SQL `sql` is: its first word, or the parameter it comes from.
fn passed(file: &FileContext, statements: &DatabaseStatements, sql: Node) -> Sql {
    if let Some((word, rewrites)) = first_word(file, sql) {
        let read = statements.reads.contains(&word);
        return Sql::Word {
            read,
            inserts: !read && !rewrites && statements.inserts.contains(&word),
        };
    }
    if sql.kind_name() == "identifier"
        && let Resolution::Binding(id) = file
            .index
            .resolve_name(&file.text[sql.byte_range()], sql.start_byte())
        && let binding = file.index.binding(id)
        && binding.kind == BindingKind::Parameter
    {
        return Sql::Parameter(
            call_position(file, binding.scope, &binding.range),
            binding.name.clone(),
        );
    }
    Sql::Unknown
}

/// The position among a call's positional arguments of the parameter bound at `range`: a
/// method's first parameter (`self`, `cls`) is not passed, a `@staticmethod`'s is.
fn call_position(
    file: &FileContext,
    function: ScopeId,
    range: &std::ops::Range<usize>,
) -> Option<usize> {
    let position = parameter_position(file, range)?;
    let scope = file.index.scope(function);
    let in_class = scope
        .parent
        .is_some_and(|p| file.index.scope(p).kind == ScopeKind::Class);
    if !in_class {
        return Some(position);
    }
    let root = file.parsed.tree.root_node();
    let definition = root
        .descendant_for_byte_range(range.start, range.end)
        .and_then(|mut node| {
            while node.kind_name() != "function_definition" {
                node = node.parent()?;
            }
            Some(node)
        })?;
    let is_static = definition
        .parent()
        .filter(|p| p.kind_name() == "decorated_definition")
        .is_some_and(|decorated| {
            let mut cursor = decorated.walk();
            decorated
                .named_children(&mut cursor)
                .filter(|d| d.kind_name() == "decorator")
                .filter_map(|d| d.named_child(0))
                .any(|d| {
                    d.kind_name() == "identifier"
                        && &file.text[d.byte_range()] == "staticmethod"
                        && file.index.resolve_name("staticmethod", d.start_byte())
                            == Resolution::Builtin
                })
        });
    match is_static {
        true => Some(position),
        false => position.checked_sub(1),
    }
}

/// A statement made through a call of the function that runs it (`fetch_all("SELECT …")`),
/// its SQL from the function's parameter, as the SQL the call passes makes it: kept as a read
/// when the call passes a `SELECT`, dropped when it passes a write, both kept (and passed on
/// as the caller's own parameter) when the caller passes its own parameter or something not
/// written out. `access` is already placed at the call, in the caller.
pub(super) fn bind_statement(
    file: &FileContext,
    statements: &DatabaseStatements,
    call: Node,
    mut access: FileAccess,
) -> Option<FileAccess> {
    let Some((position, name)) = access.sql_parameter.take() else {
        return Some(access);
    };
    let passed = match argument(file, call, position.unwrap_or(usize::MAX), Some(&name)) {
        Some(sql) => passed(file, statements, sql),
        None => Sql::Unknown,
    };
    match passed {
        Sql::Word { read, inserts } => {
            if access.write == read {
                return None;
            }
            access.inserts = access.write && inserts;
        }
        Sql::Parameter(position, name) => access.sql_parameter = Some((position, name)),
        Sql::Unknown => {}
    }
    Some(access)
}

/// The first word of the statement's SQL, upper-cased, when it is a literal or a local
/// holding one (an f-string's leading text counts: `f"UPDATE users SET {col} = …"`, and so
/// does the first string of a concatenation: `"SELECT " + col + " FROM …"`), and
/// whether it may rewrite rows where its first word says it adds them (`INSERT OR REPLACE`).
fn first_word(file: &FileContext, sql: Node) -> Option<(String, bool)> {
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
        // Its leading text: `"SELECT " + column + " FROM …"`, `"SELECT …" "FROM …"`.
        "binary_operator"
            if sql
                .field(Field::Operator)
                .is_some_and(|o| &file.text[o.byte_range()] == "+") =>
        {
            return first_word(file, sql.field(Field::Left)?);
        }
        "concatenated_string" | "parenthesized_expression" => {
            return first_word(file, sql.named_child(0)?);
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

/// Two accesses in exclusive clauses of one conditional: never both run in one call.
pub(super) fn exclusive(a: &FileAccess, b: &FileAccess) -> bool {
    exclusive_branches(&a.branches, &b.branches)
}

/// What the code `inside` picks does to a shared database: reads rows and then writes them
/// in a later statement (lost update), or reads it in one hop of a coroutine that writes it
/// in a later one, or writes it after an earlier hop read it (check-then-act).
pub(super) fn database_race(
    file: &FileContext,
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
        if let Some(write) = moved.iter().find(|w| {
            w.write
                && !w.inserts
                && !both_at_once(accesses, read, w)
                && w.key == read.key
                && w.range.start > read.range.start
                && !exclusive(read, w)
        }) {
            if let Some(lost) = super::shared_collections::lost_update(read, write) {
                return Some(lost);
            }
            return Some(format!(
                "reads then rewrites rows of the database `{}` in two statements: in worker \
                 threads two calls interleave and an update is lost; do it in one statement \
                 (`UPDATE … SET coins = coins + ?`) or in one transaction (`BEGIN IMMEDIATE`)",
                read.shown
            ));
        }
    }
    // Two hops of one coroutine: the check and the act no longer run at once — unless the
    // coroutine already suspended between them on every path (the hop opens no new window).
    let split = |a: &FileAccess, b: &FileAccess| {
        let (first, second) = match a.range.start < b.range.start {
            true => (a, b),
            false => (b, a),
        };
        a.key == b.key
            && a.function.is_some()
            && a.function == b.function
            && !inside(b)
            && !suspends_between(file, first.range.end, second.range.end.saturating_sub(1))
    };
    for access in &moved {
        let other = accesses.iter().find(|o| {
            o.database
                && split(access, o)
                && !exclusive(access, o)
                && match access.write {
                    false => !both_at_once(accesses, access, o),
                    true => !both_at_once(accesses, o, access),
                }
                && match access.write {
                    false => o.write && o.range.start > access.range.start,
                    true => !o.write && o.range.start < access.range.start,
                }
        });
        if let Some(other) = other {
            let did = match access.write {
                false => format!(
                    "reads {}, which the same function then writes in another hop (line {})",
                    named(access),
                    other.line
                ),
                true => format!(
                    "writes {} after the same function read it in another hop (line {})",
                    named(access),
                    other.line
                ),
            };
            let (check, act) = match access.write {
                false => (*access, other),
                true => (other, *access),
            };
            let outcome = match access.store {
                Some(_) => "it in between (both see it missing, both act)",
                None => "the rows in between (double spend, duplicate insert)",
            };
            return Some(format!(
                "{did}: a check-then-act split by the new `await`s{}, so another task can \
                 change {outcome}; {}",
                between(check, act),
                remedy(access)
            ));
        }
    }
    None
}

/// Whether `read` and `write` are made by two calls that each read and write at once
/// (`find_one_and_update` with `$inc`, twice): the first call's read is no check of the
/// second's write, each is whole on the server.
fn both_at_once(accesses: &[FileAccess], read: &FileAccess, write: &FileAccess) -> bool {
    read.atomic
        && !read.write
        && accesses
            .iter()
            .any(|a| a.atomic && !a.write && a.key == write.key && a.range == write.range)
}

/// Whether the coroutine `function` suspends on every path from its start to the access.
fn suspends_before_in(file: &FileContext, function: ScopeId, access: &FileAccess) -> bool {
    let range = &file.index.scope(function).range;
    let root = file.parsed.tree.root_node();
    root.descendant_for_byte_range(range.start, range.end)
        .and_then(|n| {
            let mut node = n;
            while node.kind_name() != "function_definition" {
                node = node.parent()?;
            }
            node.field(Field::Body)
        })
        .is_some_and(|body| suspends_before(file, body, access.range.end.saturating_sub(1)))
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

/// A database access moved to a worker thread in a coroutine whose caller in this file acts
/// on it around the `await` of that coroutine: a read (`balance = await self.get_balance(u)`)
/// whose caller then writes the database, or a write (`await self.add_coins(u, -cost)`) whose
/// caller read it before (the check): the read or the write now runs in the thread during an
/// `await`, so the check and the act no longer run at once (double spend). Callers in other
/// modules are not followed here.
pub(super) fn caller_acts(
    file: &FileContext,
    accesses: &[FileAccess],
    call: Node,
) -> Option<String> {
    let function = file.index.async_function_at(call.start_byte())?;
    let range = call.byte_range();
    let moved: Vec<&FileAccess> = accesses
        .iter()
        .filter(|a| a.database && a.range == range)
        .collect();
    if moved.is_empty() {
        return None;
    }
    let name = file.index.scope(function).name.clone()?;
    let line_of = |node: Node| node.start_position().row + 1;
    let root = file.parsed.tree.root_node();
    let checked = |access: &FileAccess| {
        crate::semantic::node_at(root, &access.range).is_some_and(|n| is_checked(file.text, n))
    };
    // A write moved here whose own coroutine checked the database before, through another
    // coroutine of this file (`if await self.exists(name): return`, then the create).
    if let Some((read, checking)) = checked_through(file, accesses, &moved, function, call) {
        let helper = file.text[checking.field(Field::Function)?.byte_range()].to_owned();
        let then = format!(
            "which `{name}` checked before it (line {}, through `{helper}`)",
            line_of(checking)
        );
        return Some(split_by_caller("writes", read, &then));
    }
    for &awaiting in &file.nodes.calls {
        if awaiting.parent().is_none_or(|p| p.kind_name() != "await")
            || !calls_function(file, awaiting, function)
        {
            continue;
        }
        let Some(caller) = file.index.function_at(awaiting.start_byte()) else {
            continue;
        };
        let awaited_checked = is_checked(file.text, awaiting);
        let at = branches(awaiting);
        let other = accesses.iter().find_map(|o| {
            if !o.database
                || o.function != Some(caller)
                || exclusive_branches(&o.branches, &at)
                || runs_elsewhere(file, o)
            {
                return None;
            }
            let after = o.range.start >= awaiting.end_byte();
            let before = o.range.end <= awaiting.start_byte();
            moved.iter().find_map(|m| {
                // A read moved here is a check when the caller tests what it returns; a
                // read of the caller's before a write moved here, when the caller tests it.
                let paired = m.key == o.key
                    && ((!m.write && o.write && after && awaited_checked)
                        || (m.write && !m.inserts && !o.write && before && checked(o)));
                // Unless the caller already suspends between its check and the await, or
                // this coroutine before its act: that window is not new.
                let already = m.write
                    && (suspends_between(file, o.range.end, awaiting.start_byte())
                        || suspends_before_in(file, function, m));
                (paired && !already).then_some((*m, o))
            })
        });
        // A write moved here (an insert too: a checked read then an insert is the duplicate
        // insert) whose caller checked the database before awaiting it through another
        // coroutine of this file (`if not await user_exists(u): await create_user(u)`).
        if let Some((read, checking)) = checked_through(file, accesses, &moved, caller, awaiting)
            && !suspends_between(file, checking.end_byte(), awaiting.start_byte())
            && !moved.iter().any(|m| suspends_before_in(file, function, m))
        {
            let caller_name = file.index.scope(caller).name.clone().unwrap_or_default();
            let helper = file.text[checking.field(Field::Function)?.byte_range()].to_owned();
            let then = format!(
                "which `{caller_name}` checked (line {}, through `{helper}`) before awaiting \
                 `{name}` (line {})",
                line_of(checking),
                line_of(awaiting)
            );
            return Some(split_by_caller("writes", read, &then));
        }
        if let Some((moved, other)) = other {
            let caller_name = file.index.scope(caller).name.clone().unwrap_or_default();
            let (does, then) = match moved.write {
                false => (
                    "reads",
                    format!(
                        "which `{caller_name}` writes (line {}) after awaiting `{name}` (line {})",
                        other.line,
                        line_of(awaiting)
                    ),
                ),
                true => (
                    "writes",
                    format!(
                        "which `{caller_name}` read (line {}) before awaiting `{name}` (line {})",
                        other.line,
                        line_of(awaiting)
                    ),
                ),
            };
            return Some(split_by_caller(does, other, &then));
        }
    }
    // Callers in other modules, as the settling found them.
    let project = file.project?;
    let crate::project::ProjectLookup::Settled(calls) = project.lookup else {
        return None;
    };
    let absolute = format!("{}.{}", project.module.name, file.index.qualname(function));
    let Some(crate::project::ProjectCall::CallerActs(acts)) =
        calls.get(&crate::project::caller_acts_key(&absolute))
    else {
        return None;
    };
    moved.iter().find_map(|m| {
        // A write this coroutine makes only after it suspended on every path: the caller's
        // check was already apart from it.
        if m.write && suspends_before_in(file, function, m) {
            return None;
        }
        let act = acts.iter().find(|a| {
            Some(&a.key) == m.project_key.as_ref()
                && a.writes_after != m.write
                && !(m.write && m.inserts)
        })?;
        let (does, then) = match m.write {
            false => (
                "reads",
                format!("which {} writes after awaiting `{name}`", act.caller),
            ),
            true => (
                "writes",
                format!("which {} read before awaiting `{name}`", act.caller),
            ),
        };
        Some(split_by_caller(does, m, &then))
    })
}

/// Whether `access` is made through a call of one of the file's coroutines that is not
/// awaited there (`asyncio.gather(*(deposit(u) for u in users))`): its work runs in the
/// gather or task, not in this flow.
fn runs_elsewhere(file: &FileContext, access: &FileAccess) -> bool {
    let root = file.parsed.tree.root_node();
    crate::semantic::node_at(root, &access.range)
        .filter(|call| call.kind_name() == "call")
        .filter(|call| call.parent().is_none_or(|p| p.kind_name() != "await"))
        .and_then(|call| call.field(Field::Function))
        .is_some_and(|callee| super::target::project_coroutine(file, callee).is_some())
}

/// The caveat of a check and its act split across a coroutine and its caller.
fn split_by_caller(does: &str, access: &FileAccess, then: &str) -> String {
    let outcome = match access.store {
        Some(_) => "it between the check and the act (both callers see it missing, both act)",
        None => "the rows between the check and the act (double spend)",
    };
    format!(
        "{does} {}, {then}: a check-then-act split by the new `await`, so another task can \
         change or read {outcome}; {}",
        named(access),
        remedy(access)
    )
}

/// A read of the database a write in `moved` writes, made by a coroutine of this file that
/// `caller` awaits before `awaiting` and whose result it tests (a check), with that awaited
/// call: the check and the act the write's thread hop now splits.
fn checked_through<'a, 't>(
    file: &FileContext<'t>,
    accesses: &'a [FileAccess],
    moved: &[&FileAccess],
    caller: ScopeId,
    awaiting: Node<'t>,
) -> Option<(&'a FileAccess, Node<'t>)> {
    let at = branches(awaiting);
    accesses.iter().find_map(|read| {
        let helper = read.function?;
        if !read.database
            || read.write
            || !matches!(
                file.index.scope(helper).kind,
                crate::semantic::ScopeKind::Function { is_async: true }
            )
            || !moved.iter().any(|m| m.write && m.key == read.key)
        {
            return None;
        }
        file.nodes
            .calls
            .iter()
            .find(|earlier| {
                earlier.end_byte() <= awaiting.start_byte()
                    && earlier.parent().is_some_and(|p| p.kind_name() == "await")
                    && file.index.function_at(earlier.start_byte()) == Some(caller)
                    && is_checked(file.text, **earlier)
                    && !exclusive_branches(&branches(**earlier), &at)
                    && calls_function(file, **earlier, helper)
            })
            .map(|earlier| (read, *earlier))
    })
}

/// Whether `call` calls the function `function` of this file: by its name where it is a
/// module function, by `self.name` / `cls.name` in a method of its class.
fn calls_function(file: &FileContext, call: Node, function: ScopeId) -> bool {
    let index = file.index;
    let scope = index.scope(function);
    let (Some(name), Some(parent)) = (scope.name.as_deref(), scope.parent) else {
        return false;
    };
    let Some(callee) = call.field(Field::Function) else {
        return false;
    };
    match callee.kind_name() {
        "identifier" => {
            &file.text[callee.byte_range()] == name
                && index.scope(parent).kind == ScopeKind::Module
                && matches!(
                    index.resolve_name(name, callee.start_byte()),
                    Resolution::Binding(id) if index.binding(id).scope == parent
                )
        }
        "attribute" => {
            let (Some(object), Some(attribute)) =
                (callee.field(Field::Object), callee.field(Field::Attribute))
            else {
                return false;
            };
            &file.text[attribute.byte_range()] == name
                && index.scope(parent).kind == ScopeKind::Class
                && object.kind_name() == "identifier"
                && matches!(&file.text[object.byte_range()], "self" | "cls")
                && super::receivers::enclosing_class(file, callee.start_byte()) == Some(parent)
        }
        _ => false,
    }
}

/// The database `opened` opens, as the functions of this file that call the module function
/// opening it get it: `def create_connection(): return psycopg2.connect(DSN)` opens it for
/// each caller (`conn = create_connection()`, then `conn.cursor().execute(…)`), whose own
/// statements are then accesses of it.
pub(super) fn opened_through_helpers(file: &FileContext, opened: &FileAccess) -> Vec<FileAccess> {
    let Some(function) = opened.function else {
        return Vec::new();
    };
    let root = file.parsed.tree.root_node();
    let Some(definition) = crate::semantic::node_at(root, &file.index.scope(function).range) else {
        return Vec::new();
    };
    if !returns_call(file, definition, opened) {
        return Vec::new();
    }
    file.nodes
        .calls
        .iter()
        .filter(|&&call| calls_function(file, call, function))
        .filter_map(|call| file.index.function_at(call.start_byte()))
        .filter(|&caller| caller != function)
        .map(|caller| FileAccess {
            function: Some(caller),
            ..opened.clone()
        })
        .collect()
}

/// Whether a `return` in `node` (not in a nested function) gives the call at `opened`: the
/// call itself, or a name bound to it.
fn returns_call(file: &FileContext, node: Node, opened: &FileAccess) -> bool {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).any(|child| match child.kind_name() {
        "function_definition" | "class_definition" | "lambda" => false,
        "return_statement" => child.named_child(0).is_some_and(|value| {
            value.byte_range() == opened.range
                || (value.kind_name() == "identifier"
                    && matches!(
                        file.index.resolve_name(&file.text[value.byte_range()], value.start_byte()),
                        Resolution::Binding(id) if file.index.binding(id).value.as_ref() == Some(&opened.range)
                    ))
        }),
        _ => returns_call(file, child, opened),
    })
}
