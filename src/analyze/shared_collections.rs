//! Document collections as shared databases: a pymongo collection (`[[moved-code.collections]]`
//! in `codemods/UNF401.toml`) is keyed by the expression it is reached through, resolved
//! (`db.users`, `db["users"]`, a module global `users = db.users` are one collection), and
//! each call of one of its reading or writing methods is a database access of it, as a sqlite
//! statement is ([`super::shared_databases`]): one call is atomic, a read then a write of the
//! same collection in one moved unit, or in two hops of one coroutine, is a check-then-act.

use tree_sitter::Node;

use super::FileContext;
use super::branches::branches;
use super::file_access::{FileAccess, StoreWords};
use crate::codemod::DocumentCollections;
use crate::parse::{Field, FieldChild, KindName};
use crate::semantic::{BindingKind, Resolution};

/// The accesses `call` makes to a collection, its callee named `name` by the registry
/// (`pymongo.MongoClient.*.*().find_one`): a read, a write, or both for a method doing both
/// at once; `None` when the call is no collection method the data lists.
pub(super) fn collection_accesses(
    file: &FileContext,
    collections: &[DocumentCollections],
    call: Node,
    callee: Node,
    name: &str,
) -> Option<Vec<FileAccess>> {
    let (receiver, method) = name.rsplit_once('.')?;
    let table = collections
        .iter()
        .find(|t| t.receivers.iter().any(|r| r == receiver))?;
    let read = table.reads.iter().any(|m| m == method);
    let write = table.writes.iter().any(|m| m == method);
    if !read && !write {
        return None;
    }
    let object = callee.field(Field::Object)?;
    let key = format!("{KEY_PREFIX}{}", collection_key(file, object, 0)?);
    let inserts = table.inserts.iter().any(|m| m == method);
    let shown = file.text[object.byte_range()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let store = table.named.as_ref().map(|named| {
        std::sync::Arc::new(StoreWords {
            named: named.replace("{}", &shown),
            remedy: table.remedy.clone().unwrap_or_else(|| {
                "do the check and the change in one call, or both in one hop".to_owned()
            }),
        })
    });
    let at = |write: bool| FileAccess {
        range: call.byte_range(),
        function: file.index.function_at(call.start_byte()),
        key: key.clone(),
        shown: shown.clone(),
        write,
        exists: false,
        deletes: false,
        atomic: false,
        line: call.start_position().row as u32 + 1,
        project_key: None,
        alias_keys: Vec::new(),
        constant: false,
        database: true,
        inserts: write && inserts,
        via: None,
        carried: false,
        sql_parameter: None,
        branches: branches(call),
        store: store.clone(),
    };
    let mut found = Vec::new();
    if read {
        found.push(at(false));
    }
    if write {
        found.push(at(true));
    }
    Some(found)
}

/// The collection `node` reaches, resolved through the names bound to it: `db.users`,
/// `db["users"]` and `users` after `users = db.users` all give `MongoClient().db.users` when
/// `db = MongoClient(...).db`. A parameter (other than `self` / `cls`) is each caller's own:
/// not keyed.
fn collection_key(file: &FileContext, node: Node, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match node.kind_name() {
        "identifier" => {
            let name = &file.text[node.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte()) else {
                return Some(name.to_owned());
            };
            let binding = file.index.binding(id);
            match &binding.kind {
                BindingKind::Parameter if matches!(name, "self" | "cls") => Some(name.to_owned()),
                BindingKind::Parameter => None,
                BindingKind::Import { qualified, .. } => Some(qualified.clone()),
                _ => match &binding.value {
                    Some(value) => {
                        let root = file.parsed.tree.root_node();
                        let value = crate::semantic::node_at(root, value)?;
                        collection_key(file, value, depth + 1)
                    }
                    None => Some(name.to_owned()),
                },
            }
        }
        "attribute" => {
            let object = collection_key(file, node.field(Field::Object)?, depth + 1)?;
            let attribute = node.field(Field::Attribute)?;
            Some(format!("{object}.{}", &file.text[attribute.byte_range()]))
        }
        "subscript" => {
            let object = collection_key(file, node.field(Field::Value)?, depth + 1)?;
            let index = node.field(Field::Subscript)?;
            let mut cursor = index.walk();
            let content = (index.kind_name() == "string")
                .then(|| {
                    index
                        .named_children(&mut cursor)
                        .find(|p| p.kind_name() == "string_content")
                })
                .flatten()?;
            Some(format!("{object}.{}", &file.text[content.byte_range()]))
        }
        // `MongoClient(uri)`, `client.get_database("shop")`: the call, by what it calls.
        "call" => {
            let function = collection_key(file, node.field(Field::Function)?, depth + 1)?;
            Some(format!("{function}()"))
        }
        _ => None,
    }
}

/// The prefix of a collection's key.
const KEY_PREFIX: &str = "collection:";

/// The database or collection `access` is made to, for a message: "the database `DB_PATH`",
/// "the collection `users`".
pub(super) fn named(access: &FileAccess) -> String {
    if let Some(store) = &access.store {
        return store.named.clone();
    }
    match access.key.starts_with(KEY_PREFIX) {
        true => format!("the collection `{}`", access.shown),
        false => format!("the database `{}`", access.shown),
    }
}

/// How to keep a check and its act together on what `access` is made to.
pub(super) fn remedy(access: &FileAccess) -> &str {
    if let Some(store) = &access.store {
        return &store.remedy;
    }
    match access.key.starts_with(KEY_PREFIX) {
        true => {
            "do the check and the change in one call (`update_one(..., upsert=True)`, \
             `find_one_and_update`), or both in one hop"
        }
        false => "do the check and the change in one hop, in one transaction",
    }
}

/// The caveat of a read then a rewrite of one collection in one moved unit, when `read` is
/// made to a collection.
pub(super) fn lost_update(read: &FileAccess) -> Option<String> {
    if let Some(store) = &read.store {
        return Some(format!(
            "reads then changes {} in two calls: in worker threads two calls interleave and \
             one change is lost or fails; {}",
            store.named, store.remedy
        ));
    }
    read.key.starts_with(KEY_PREFIX).then(|| {
        format!(
            "reads then rewrites documents of the collection `{}` in two calls: in worker \
             threads two calls interleave and an update is lost; do it in one call \
             (`update_one` with `$inc` / `$set`, `find_one_and_update`)",
            read.shown
        )
    })
}
