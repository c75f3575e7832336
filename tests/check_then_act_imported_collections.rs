//! Session 17, issue 20 (reviewer K, Narayanpurohit/Advance-file-store): pymongo
//! check-then-act where the collection, or the helpers checking and changing it, belong to
//! another module.
//!
//! (a) `from db_config import users_col`, then `find_one` and `update_one` of it in one
//!     coroutine (a toggle: og_plugins/settings.py:121/125): the imported collection is keyed
//!     by its absolute name (`db_config.users_col`), so its two hops are a check-then-act.
//! (b) `if not user_exists(u): add_user(u)`, both sync helpers of another module reading and
//!     inserting into `users_col` (og_plugins/start.py:13/14, plugins/start.py:24/25): the
//!     collections the helpers use are carried to their calls, as files and databases are.
//! (c) `use_slug(slug)`, a helper that finds then deletes (the one-time verification link of
//!     plugins/verification.py:10), moved whole: two threads run it at once.
//!
//! The collection is reached as `mongo_client[DB_NAME]["users"]` with `DB_NAME` from
//! `os.getenv` (the app's shape): a subscript by a module global is keyed by its name.
//! A collection call alone in its coroutine (a `find_one`; an `$inc` upsert) and two
//! helpers each making one `find_one_and_update` stay safe.
//!
//! Proven by running the program with the test Python against a pymongo stand-in on
//! `PYTHONPATH` (each call atomic on the "server" under a lock, a 30 ms round trip): two
//! toggles at once leave the flag as it was, two `/start` of one user make one document and
//! two redemptions of one link answer "verified" once — before the fix and after the safe
//! `fix --write`; with `--unsafe-fixes` one toggle is lost, the user is inserted twice and
//! the link is redeemed twice, as the caveats say.
//!
//! `UNFREEZE_TEST_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without the change).

mod common;

use std::fs;

use common::fake_pymongo::{fake_pymongo, run_main};
use common::{finding, fix_write, project, unfreeze};

/// db_config.py / database.py of the app, cut down: the collections and the sync helpers.
const DB_CONFIG: &str = r#"import os

from pymongo import MongoClient

mongo_client = MongoClient("mongodb://127.0.0.1:27017")
DB_NAME = os.getenv("UNF_DB_NAME", "clone_maker")
db = mongo_client[DB_NAME]
users_col = db["users"]
slugs_col = db["slugs"]
stats_col = db["stats"]


def user_exists(user_id):
    return users_col.find_one({"USER_ID": user_id}) is not None


def add_user(user_id):
    if user_exists(user_id):
        return
    users_col.insert_one({"USER_ID": user_id, "FLAG": False})


def use_slug(slug):
    record = slugs_col.find_one({"slug": slug})
    if not record:
        return None
    slugs_col.delete_one({"slug": slug})
    return record


def increment_sent():
    return stats_col.find_one_and_update({"_id": "stats"}, {"$inc": {"sent": 1}}, upsert=True)


def increment_files():
    return stats_col.find_one_and_update({"_id": "stats"}, {"$inc": {"files": 1}}, upsert=True)
"#;

/// og_plugins/settings.py: the toggle, a lone read and a lone `$inc` upsert.
const SETTINGS: &str = r#"from db_config import users_col


async def toggle(user_id):
    user = users_col.find_one({"USER_ID": user_id}) or {}
    new_value = not bool(user.get("FLAG", False))
    users_col.update_one({"USER_ID": user_id}, {"$set": {"FLAG": new_value}})
    return new_value


async def lookup(user_id):
    return users_col.find_one({"USER_ID": user_id})


async def visit(user_id):
    users_col.update_one({"USER_ID": user_id}, {"$inc": {"VISITS": 1}}, upsert=True)
"#;

/// og_plugins/start.py and plugins/start.py: check through one helper, insert through another.
const START: &str = r#"from db_config import add_user, user_exists


async def start(user_id):
    if not user_exists(user_id):
        add_user(user_id)
        return "welcome"
    return "welcome back"
"#;

/// plugins/verification.py: the one-time link.
const VERIFICATION: &str = r#"from db_config import use_slug


async def verify(slug):
    record = use_slug(slug)
    return "verified" if record else "invalid"
"#;

/// plugins/start.py:73/74: two atomic `$inc` counters through helpers.
const STATS: &str = r#"from db_config import increment_files, increment_sent


async def sent():
    increment_sent()
    increment_files()
"#;

/// Two updates of one user at once, for each shape, as pyrogram's workers run them.
const MAIN: &str = r#"import asyncio

from pymongo import MongoClient

import settings
import start
import stats
import verification


async def main():
    db = MongoClient("mongodb://127.0.0.1:27017")["clone_maker"]
    db["users"].insert_one({"USER_ID": 1, "FLAG": False})
    await asyncio.gather(settings.toggle(1), settings.toggle(1))
    print("flag after two toggles", db["users"].find_one({"USER_ID": 1})["FLAG"])
    await asyncio.gather(start.start(2), start.start(2))
    print("documents of user 2", db["users"].count_documents({"USER_ID": 2}))
    db["slugs"].insert_one({"slug": "x"})
    answers = await asyncio.gather(verification.verify("x"), verification.verify("x"))
    print("one-time link", sorted(answers))
    await asyncio.gather(settings.visit(3), settings.visit(3))
    await asyncio.gather(stats.sent(), stats.sent())
    print("visits", (await settings.lookup(3))["VISITS"])
    print("stats", db["stats"].find_one({"_id": "stats"}))


asyncio.run(main())
"#;

fn app() -> tempfile::TempDir {
    project(&[
        ("db_config.py", DB_CONFIG.as_bytes()),
        ("settings.py", SETTINGS.as_bytes()),
        ("start.py", START.as_bytes()),
        ("verification.py", VERIFICATION.as_bytes()),
        ("stats.py", STATS.as_bytes()),
        ("main.py", MAIN.as_bytes()),
    ])
}

const BEFORE: &str = "flag after two toggles False\n\
                      documents of user 2 1\n\
                      one-time link ['invalid', 'verified']\n\
                      visits 2\n\
                      stats {'_id': 'stats', 'sent': 2, 'files': 2}";

#[test]
fn check_then_act_through_another_modules_collection_and_helpers_is_unsafe() {
    let dir = app();
    let check = unfreeze(dir.path(), &["check", "--no-cache", "."]).output();
    let report = &check.stdout;

    // (a) the imported collection: both hops of the toggle.
    let read = finding(report, "settings.py:5:12: UNF106");
    assert!(
        read.contains("unsafe fix")
            && read.contains("check-then-act")
            && read.contains("the collection `users_col`")
            && read.contains("(line 7)"),
        "{read}"
    );
    let write = finding(report, "settings.py:7:5: UNF106");
    assert!(
        write.contains("unsafe fix") && write.contains("(line 5)"),
        "{write}"
    );
    // (b) the check and the insert through another module's helpers.
    for (at, line) in [("start.py:5:12: UNF401", 6), ("start.py:6:9: UNF401", 5)] {
        let hop = finding(report, at);
        assert!(
            hop.contains("unsafe fix")
                && hop.contains("the collection `users`")
                && hop.contains("between `user_exists(...)` and `add_user(...)`")
                && hop.contains(&format!("(line {line})")),
            "{hop}"
        );
    }
    // (c) the helper that finds then deletes, moved whole.
    let unit = finding(report, "verification.py:5:14: UNF401");
    assert!(
        unit.contains("unsafe fix")
            && unit.contains("`use_slug`")
            && unit.contains("the collection `slugs_col`"),
        "{unit}"
    );
    // Alone in their coroutines, or each whole on the server: safe.
    for single in [
        "settings.py:12:12: UNF106 [*]",
        "settings.py:16:5: UNF106 [*]",
        "stats.py:5:5: UNF401 [*]",
        "stats.py:6:5: UNF401 [*]",
    ] {
        assert!(!finding(report, single).contains("unsafe"), "{report}");
    }
}

#[test]
fn the_safe_fix_keeps_each_check_with_its_act_and_the_unsafe_one_races() {
    let fake = fake_pymongo();
    let original = app();
    assert_eq!(run_main(original.path(), fake.path()).trim(), BEFORE);

    let safe = app();
    fix_write(safe.path(), &[]);
    let read = |name: &str| fs::read_to_string(safe.path().join(name)).unwrap();
    assert_eq!(
        read("start.py"),
        START,
        "the check and the insert stay on the loop"
    );
    assert_eq!(read("verification.py"), VERIFICATION);
    let settings = read("settings.py");
    assert!(
        settings.contains("user = users_col.find_one(")
            && settings.contains("    users_col.update_one({\"USER_ID\": user_id}, {\"$set\"")
            && settings.contains("asyncio.to_thread(users_col.find_one, {\"USER_ID\": user_id})")
            && settings.contains("asyncio.to_thread(\n        users_col.update_one"),
        "{settings}"
    );
    let stats = read("stats.py");
    assert!(
        stats.contains("await asyncio.to_thread(increment_sent)")
            && stats.contains("await asyncio.to_thread(increment_files)"),
        "{stats}"
    );
    assert_eq!(run_main(safe.path(), fake.path()).trim(), BEFORE);

    // The unsafe fixes split each check from its act: the caveats are true.
    let unsafe_dir = app();
    fix_write(unsafe_dir.path(), &["--unsafe-fixes"]);
    assert_eq!(
        run_main(unsafe_dir.path(), fake.path()).trim(),
        "flag after two toggles True\n\
         documents of user 2 2\n\
         one-time link ['verified', 'verified']\n\
         visits 2\n\
         stats {'_id': 'stats', 'sent': 2, 'files': 2}"
    );
}
