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
use crate::project::{ModuleInfo, ProjectCall, ProjectLookup};
use crate::semantic::{BindingKind, Resolution};

/// The accesses `call` makes to a collection, its callee named `name` by the registry
/// (`pymongo.MongoClient.*.*().find_one`): a read, a write, or both for a method doing both
/// at once; `None` when the call is no collection method the data lists.
pub(super) fn collection_accesses(
    file: &FileContext,
    module: Option<&ModuleInfo>,
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
    let resolved = collection_key(file, module, object, 0)?;
    let key = format!("{KEY_PREFIX}{}", resolved.text);
    let project_key = project_key(module, &resolved);
    let inserts = table.inserts.iter().any(|m| m == method);
    let deletes = table.deletes.iter().any(|m| m == method);
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
    let both = read && write;
    let at = |write: bool| FileAccess {
        range: call.byte_range(),
        function: file.index.function_at(call.start_byte()),
        key: key.clone(),
        shown: shown.clone(),
        write,
        exists: false,
        deletes: write && deletes,
        // The read of a method that also writes, at once (`find_one_and_update`).
        atomic: !write && both,
        line: call.start_position().row as u32 + 1,
        project_key: project_key.clone(),
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

/// The method call `callee` makes on a collection imported from another module
/// (`users_col.find_one` after `from db_config import users_col`), named as the settling found
/// it (`pymongo.MongoClient.*.*().find_one`); `None` for any other call.
pub(super) fn imported_collection_call(file: &FileContext, callee: Node) -> Option<String> {
    let project = file.project?;
    let ProjectLookup::Settled(calls) = project.lookup else {
        return None;
    };
    let name = super::affinity::imported_member_call(file, project.module, project.map, callee)?;
    match calls.get(&name)? {
        ProjectCall::Affine { qualified, .. } => Some(qualified.clone()),
        _ => None,
    }
}

/// A collection's key, and whether it rests on a name only this module gives a meaning
/// (`self.users`, a module global with no value followed, `db[DB_NAME]` with `DB_NAME` its
/// own): then other modules key it with the module's name before it.
struct Key {
    text: String,
    local: bool,
}

/// The collection `node` reaches, resolved through the names bound to it: `db.users`,
/// `db["users"]` and `users` after `users = db.users` all give `MongoClient().db.users` when
/// `db = MongoClient(...).db`; `client[DB_NAME]` gives `MongoClient()[DB_NAME]` for a module
/// global or an imported name (the same value at every call). A parameter (other than
/// `self` / `cls`) is each caller's own: not keyed. An imported name is keyed by its absolute
/// name (`db_config.users_col`), which is not proven to be the collection another module
/// keys by its value: each is its own key.
fn collection_key(
    file: &FileContext,
    module: Option<&ModuleInfo>,
    node: Node,
    depth: usize,
) -> Option<Key> {
    if depth > 8 {
        return None;
    }
    let local = |text: &str| Key {
        text: text.to_owned(),
        local: true,
    };
    match node.kind_name() {
        "identifier" => {
            let name = &file.text[node.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, node.start_byte()) else {
                return Some(local(name));
            };
            let binding = file.index.binding(id);
            match &binding.kind {
                BindingKind::Parameter if matches!(name, "self" | "cls") => Some(local(name)),
                BindingKind::Parameter => None,
                BindingKind::Import { qualified, .. } => Some(imported(module, qualified)),
                _ => match &binding.value {
                    Some(value) => {
                        let root = file.parsed.tree.root_node();
                        let value = crate::semantic::node_at(root, value)?;
                        collection_key(file, module, value, depth + 1)
                    }
                    None => Some(local(name)),
                },
            }
        }
        "attribute" => {
            let object = collection_key(file, module, node.field(Field::Object)?, depth + 1)?;
            let attribute = node.field(Field::Attribute)?;
            Some(Key {
                text: format!("{}.{}", object.text, &file.text[attribute.byte_range()]),
                ..object
            })
        }
        "subscript" => {
            let object = collection_key(file, module, node.field(Field::Value)?, depth + 1)?;
            let index = node.field(Field::Subscript)?;
            let mut cursor = index.walk();
            let content = (index.kind_name() == "string")
                .then(|| {
                    index
                        .named_children(&mut cursor)
                        .find(|p| p.kind_name() == "string_content")
                })
                .flatten();
            if let Some(content) = content {
                return Some(Key {
                    text: format!("{}.{}", object.text, &file.text[content.byte_range()]),
                    ..object
                });
            }
            let name = index_name(file, module, index)?;
            Some(Key {
                text: format!("{}[{}]", object.text, name.text),
                local: object.local || name.local,
            })
        }
        // `MongoClient(uri)`, `client.get_database("shop")`: the call, by what it calls.
        "call" => {
            let function = collection_key(file, module, node.field(Field::Function)?, depth + 1)?;
            Some(Key {
                text: format!("{}()", function.text),
                ..function
            })
        }
        _ => None,
    }
}

/// An imported name, made absolute (`.db.users` in `app.bot` is `app.db.users`).
fn imported(module: Option<&ModuleInfo>, qualified: &str) -> Key {
    let text = module
        .and_then(|module| crate::project::absolute_name(module, qualified))
        .unwrap_or_else(|| qualified.to_owned());
    Key { text, local: false }
}

/// The name a subscript's key is when it is a name with the same value at every call: a
/// module global (`client[DB_NAME]`) or an imported name (`client[config.DB_NAME]`); `None`
/// for a parameter or a local variable, each call's own.
fn index_name(file: &FileContext, module: Option<&ModuleInfo>, index: Node) -> Option<Key> {
    match index.kind_name() {
        "identifier" => {
            let name = &file.text[index.byte_range()];
            let Resolution::Binding(id) = file.index.resolve_name(name, index.start_byte()) else {
                return None;
            };
            let binding = file.index.binding(id);
            match &binding.kind {
                BindingKind::Import { qualified, .. } => Some(imported(module, qualified)),
                BindingKind::Assignment if binding.scope == file.index.module_scope() => {
                    Some(Key {
                        text: name.to_owned(),
                        local: true,
                    })
                }
                _ => None,
            }
        }
        "attribute" => {
            let qualified = file.index.qualified_name(index, file.text)?;
            Some(imported(module, &qualified))
        }
        _ => None,
    }
}

/// The key every module gives the collection keyed `key` here: `key` itself, or with this
/// module's name before it where it rests on a name only this module gives a meaning; none
/// for one reached through `self` / `cls` (each instance's or class's own, followed in the
/// module only).
fn project_key(module: Option<&ModuleInfo>, key: &Key) -> Option<String> {
    let root = key.text.split(['.', '[', '(']).next().unwrap_or_default();
    if matches!(root, "self" | "cls") {
        return None;
    }
    match key.local {
        false => Some(format!("{KEY_PREFIX}{}", key.text)),
        true => Some(format!("{KEY_PREFIX}{}:{}", module?.name, key.text)),
    }
}

/// How a collection another module keys `key` is shown in a message: by its name, the last
/// member (`users` for `collection:pymongo.MongoClient()[DB_NAME].users`, `users_col` for an
/// imported `collection:db_config.users_col`); `None` for a key of no collection.
pub(super) fn shown_carried(key: &str) -> Option<String> {
    let key = key.strip_prefix(KEY_PREFIX)?;
    let key = key.split_once(':').map_or(key, |(_, rest)| rest);
    let last = key.rsplit(['.', '[', ']']).find(|part| !part.is_empty());
    Some(last.unwrap_or(key).to_owned())
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

/// The caveat of a read then a rewrite (or a removal) of one collection in one moved unit,
/// when `read` is made to a collection.
pub(super) fn lost_update(read: &FileAccess, write: &FileAccess) -> Option<String> {
    if let Some(store) = &read.store {
        return Some(format!(
            "reads then changes {} in two calls: in worker threads two calls interleave and \
             one change is lost or fails; {}",
            store.named, store.remedy
        ));
    }
    if write.deletes && read.key.starts_with(KEY_PREFIX) {
        return Some(format!(
            "reads then deletes documents of the collection `{}` in two calls: in worker \
             threads two calls both read a document before either deletes it, and both act \
             on it (a one-time record used twice); do it in one call (`find_one_and_delete`, \
             or `delete_one` and act only when its `deleted_count` is 1)",
            read.shown
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
