//! Shared state across modules: a coroutine that checks a sqlite balance, or loads a JSON
//! store, through one helper of another module, and pays or saves through another, is a
//! check-then-act (a read-modify-write) split by the hops a fix adds, exactly as when the
//! helpers are the module's own: both hops are unsafe, the caveat naming the database or the
//! file and both helpers. Whatever the import spells (`from utils.economy import get_bank`,
//! `import utils.economy as em`, a method of an instance of an imported class, a helper that
//! calls another module's helper). Proven by running the programs with CPython against a
//! sqlite3 file in a temporary directory: the safe `fix --write` keeps the program's answer
//! (no double spend) while the unsafe fix, applied, spends the coins twice, as its caveat
//! says. Helpers that run one statement per call, with no read before a write across hops,
//! keep their safe fix.
//!
//! `UNFREEZE_CROSS_MODULE_BIN` runs the tests against another build of unfreeze (to show
//! they fail on one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{Run, finding, project, python, test_python};

fn unfreeze(dir: &Path, args: &[&str]) -> Run {
    common::unfreeze_named_by("UNFREEZE_CROSS_MODULE_BIN", dir, args)
}

/// Run `main.py` in `dir` with the test Python: its stdout (it must exit 0).
fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// `unfreeze check [extra] .`: its text output.
fn check(dir: &Path, extra: &[&str]) -> String {
    let output = unfreeze(dir, &["check"]).args(extra).arg(".").output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

/// `unfreeze fix --no-cache --write [extra] .` must succeed.
fn fix_write(dir: &Path, extra: &[&str]) {
    let output = unfreeze(dir, &["fix", "--no-cache", "--write"])
        .args(extra)
        .arg(".")
        .output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
}

/// The helpers: one statement per call, so each call alone is atomic in a worker thread.
/// `get_bank` waits a little after reading, as a slow disk would: two checks in worker threads
/// then both see the balance before either pays (certain, not timed).
const ECONOMY: &str = r#"import sqlite3
import time

DB_PATH = "bank.db"


def create_database():
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, bank INTEGER NOT NULL, wallet INTEGER NOT NULL)")
    conn.execute("DELETE FROM users")
    conn.execute("INSERT INTO users (id, bank, wallet) VALUES (1, 100, 0)")
    conn.commit()
    conn.close()


def get_bank(user_id):
    conn = sqlite3.connect(DB_PATH)
    row = conn.execute("SELECT bank FROM users WHERE id = ?", (user_id,)).fetchone()
    conn.close()
    time.sleep(0.2)
    return row[0]


def get_wallet(user_id):
    conn = sqlite3.connect(DB_PATH)
    row = conn.execute("SELECT wallet FROM users WHERE id = ?", (user_id,)).fetchone()
    conn.close()
    return row[0]


def move_coins(user_id, amount):
    conn = sqlite3.connect(DB_PATH)
    conn.execute("UPDATE users SET bank = bank - ?, wallet = wallet + ? WHERE id = ?", (amount, amount, user_id))
    conn.commit()
    conn.close()
"#;

/// A class of another module whose methods run the same statements.
const ACCOUNTS: &str = r#"from utils.economy import get_bank, move_coins


class Accounts:
    def balance(self, user_id):
        return get_bank(user_id)

    def pay(self, user_id, amount):
        move_coins(user_id, amount)
"#;

/// A helper that calls another module's helper: it carries what that one reads. And one
/// that makes the check and the payment itself through another module's helpers: moved
/// whole, the pair no longer runs at once with other calls.
const SERVICE: &str = r#"from utils import economy


def balance_of(user_id):
    return economy.get_bank(user_id)


def checked_withdraw(user_id, amount):
    if economy.get_bank(user_id) < amount:
        return "refused"
    economy.move_coins(user_id, amount)
    return "ok"
"#;

/// The cog: the GansGit `withdraw`, four ways of naming the helpers.
const BANK_COG: &str = r#"import asyncio

import utils.economy as em
from utils.accounts import Accounts
from utils.economy import get_bank, move_coins
from utils.service import balance_of, checked_withdraw

ACCOUNTS = Accounts()


async def withdraw(user_id, amount):
    if get_bank(user_id) < amount:
        return "refused"
    move_coins(user_id, amount)
    return "ok"


async def withdraw_aliased(user_id, amount):
    if em.get_bank(user_id) < amount:
        return "refused"
    em.move_coins(user_id, amount)
    return "ok"


async def withdraw_method(user_id, amount):
    if ACCOUNTS.balance(user_id) < amount:
        return "refused"
    ACCOUNTS.pay(user_id, amount)
    return "ok"


async def withdraw_service(user_id, amount):
    current = balance_of(user_id)
    if current < amount:
        return "refused"
    em.move_coins(user_id, amount)
    return "ok"


async def withdraw_helper(user_id, amount):
    return checked_withdraw(user_id, amount)
"#;

/// Two `/withdraw 100` at once on a bank of 100, for each way; the total the bank and the
/// wallet hold after each pair. On the event loop the second is refused.
const BANK_MAIN: &str = r#"import asyncio

from cogs.bank import withdraw, withdraw_aliased, withdraw_helper, withdraw_method, withdraw_service
from utils.economy import create_database, get_bank, get_wallet


async def main():
    asyncio.create_task(asyncio.sleep(0))
    for way in (withdraw, withdraw_aliased, withdraw_method, withdraw_service, withdraw_helper):
        create_database()
        answers = await asyncio.gather(way(1, 100), way(1, 100))
        print(way.__name__, sorted(answers), get_bank(1), get_wallet(1))


asyncio.run(main())
"#;

fn bank_project() -> tempfile::TempDir {
    project(&[
        ("main.py", BANK_MAIN.as_bytes()),
        ("cogs/__init__.py", b""),
        ("cogs/bank.py", BANK_COG.as_bytes()),
        ("utils/__init__.py", b""),
        ("utils/economy.py", ECONOMY.as_bytes()),
        ("utils/accounts.py", ACCOUNTS.as_bytes()),
        ("utils/service.py", SERVICE.as_bytes()),
    ])
}

const BANK_BEFORE: &str = "withdraw ['ok', 'refused'] 0 100\n\
                           withdraw_aliased ['ok', 'refused'] 0 100\n\
                           withdraw_method ['ok', 'refused'] 0 100\n\
                           withdraw_service ['ok', 'refused'] 0 100\n\
                           withdraw_helper ['ok', 'refused'] 0 100\n";

#[test]
fn a_check_and_its_payment_through_another_modules_helpers_are_unsafe_on_both_hops() {
    let dir = bank_project();
    assert_eq!(run_main(dir.path()), BANK_BEFORE);
    let report = check(dir.path(), &["--no-cache"]);
    // (check line, act line, check helper, act helper)
    let cases = [
        (12, 14, "get_bank", "move_coins"),
        (19, 21, "em.get_bank", "em.move_coins"),
        (26, 28, "ACCOUNTS.balance", "ACCOUNTS.pay"),
        (33, 36, "balance_of", "em.move_coins"),
    ];
    for (check_line, act_line, checks, acts) in cases {
        let helpers = format!("between `{checks}(...)` and `{acts}(...)`");
        let read = finding(&report, &format!("cogs/bank.py:{check_line}:"));
        // A method of a shared instance also says so first; the check-then-act follows.
        assert!(
            read.contains(
                "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` ("
            ),
            "{read}"
        );
        assert!(
            read.contains(&format!(
                "the call reads the database `bank.db`, which the same function then writes in \
                 another hop (line {act_line}): a check-then-act split by the new `await`s \
                 {helpers}, so another task can change the rows in between (double spend, \
                 duplicate insert); do the check and the change in one hop, in one transaction)"
            )),
            "{read}"
        );
        let write = finding(&report, &format!("cogs/bank.py:{act_line}:"));
        assert!(
            write.contains(
                "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` ("
            ),
            "{write}"
        );
        assert!(
            write.contains(&format!(
                "the call writes the database `bank.db` after the same function read it in \
                 another hop (line {check_line}): a check-then-act split by the new `await`s \
                 {helpers}"
            )),
            "{write}"
        );
    }
    // The helper making both calls, moved whole.
    let helper = finding(&report, "cogs/bank.py:41:12: UNF401");
    assert!(
        helper.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` \
             (`checked_withdraw` reads and writes rows of the database `bank.db` through the \
             helpers it calls, another module's among them"
        ),
        "{helper}"
    );
    assert!(
        !report
            .lines()
            .any(|l| l.starts_with("cogs/bank.py") && l.contains("[*]")),
        "no hop of the cog is a safe fix:\n{report}"
    );
    // The cache keeps what a run without it finds (the summary carries the uses).
    let first = check(dir.path(), &[]);
    let cached = check(dir.path(), &[]);
    assert_eq!(first, report);
    assert_eq!(cached, report);
}

#[test]
fn the_safe_fix_spends_no_coin_twice_and_the_unsafe_one_does_what_its_caveat_says() {
    let dir = bank_project();
    fix_write(dir.path(), &[]);
    assert_eq!(
        run_main(dir.path()),
        BANK_BEFORE,
        "the safe fix spent coins twice"
    );
    let fixed = fs::read_to_string(dir.path().join("cogs/bank.py")).unwrap();
    assert_eq!(fixed, BANK_COG, "a safe fix split a check from its act");

    // With the unsafe fixes the checks run in worker threads, both before either pays: the
    // coins are spent twice, as the caveat says.
    let unsafe_dir = bank_project();
    fix_write(unsafe_dir.path(), &["--unsafe-fixes"]);
    let fixed = fs::read_to_string(unsafe_dir.path().join("cogs/bank.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(get_bank, user_id)"),
        "{fixed}"
    );
    let after = run_main(unsafe_dir.path());
    assert!(
        after.contains("withdraw ['ok', 'ok'] -100 200")
            && after.contains("withdraw_helper ['ok', 'ok'] -100 200"),
        "the unsafe fix did not race:\n{after}"
    );
}

/// A JSON store of another module: a counter loaded in one hop and saved in another.
const STORE: &str = r#"import json
import os

STORE_PATH = "counter.json"


def load():
    if not os.path.exists(STORE_PATH):
        return {"n": 0}
    with open(STORE_PATH) as f:
        return json.load(f)


def save(data):
    with open(STORE_PATH, "w") as f:
        json.dump(data, f)


class JsonStore:
    def __init__(self, path):
        self.path = path

    def load(self):
        with open(self.path) as f:
            return json.load(f)

    def save(self, data):
        with open(self.path, "w") as f:
            json.dump(data, f)
"#;

const COUNTER: &str = r#"import asyncio

import store as st
from store import JsonStore

SCORES = JsonStore("scores.json")


async def bump():
    data = st.load()
    data["n"] += 1
    st.save(data)


async def score(user):
    scores = SCORES.load()
    scores[user] = scores.get(user, 0) + 1
    SCORES.save(scores)


async def main():
    asyncio.create_task(asyncio.sleep(0))
    await asyncio.gather(*(bump() for _ in range(5)))
    print(st.load())


if __name__ == "__main__":
    asyncio.run(main())
"#;

#[test]
fn a_json_store_loaded_and_saved_through_another_modules_helpers_is_a_split_read_modify_write() {
    let dir = project(&[
        ("store.py", STORE.as_bytes()),
        ("main.py", COUNTER.as_bytes()),
    ]);
    assert_eq!(run_main(dir.path()).trim(), "{'n': 5}");
    let report = check(dir.path(), &["--no-cache"]);
    let load = finding(&report, "main.py:10:12: UNF401");
    assert!(
        load.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (the call \
             reads the file `counter.json`, which the same function also rewrites (line 12): a \
             read-modify-write split by the new `await`s between `st.load(...)` and \
             `st.save(...)`, so another task's update of the file in between is lost"
        ),
        "{load}"
    );
    let save = finding(&report, "main.py:12:5: UNF401");
    assert!(
        save.contains(
            "the call writes the file `counter.json`, which the same function also read (line \
             10): a read-modify-write split by the new `await`s between `st.load(...)` and \
             `st.save(...)`"
        ),
        "{save}"
    );
    let method = finding(&report, "main.py:16:14: UNF401");
    assert!(
        method.contains(
            "which the same function also rewrites (line 18): a read-modify-write split by \
             the new `await`s between `SCORES.load(...)` and `SCORES.save(...)`"
        ),
        "{method}"
    );
    // A safe fix leaves both hops on the loop: every increment is kept.
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("    data = st.load()\n    data[\"n\"] += 1\n    st.save(data)\n"),
        "{fixed}"
    );
    fs::remove_file(dir.path().join("counter.json")).unwrap();
    assert_eq!(run_main(dir.path()).trim(), "{'n': 5}");
}

/// Helpers of another module that run one statement per call, with no read before a write
/// across the hops of one coroutine: each hop is atomic, and stays a safe fix.
const LEDGER: &str = r#"import sqlite3

DB_PATH = "ledger.db"
AUDIT_PATH = "audit.db"


def create_database():
    for path in (DB_PATH, AUDIT_PATH):
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE IF NOT EXISTS entries (user INTEGER, amount INTEGER)")
        conn.commit()
        conn.close()


def record(user, amount):
    conn = sqlite3.connect(DB_PATH)
    conn.execute("UPDATE entries SET amount = amount + ? WHERE user = ?", (amount, user))
    conn.commit()
    conn.close()


def add_entry(user, amount):
    conn = sqlite3.connect(DB_PATH)
    conn.execute("INSERT INTO entries (user, amount) VALUES (?, ?)", (user, amount))
    conn.commit()
    conn.close()


def total():
    conn = sqlite3.connect(DB_PATH)
    row = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM entries").fetchone()
    conn.close()
    return row[0]


def audited():
    conn = sqlite3.connect(AUDIT_PATH)
    row = conn.execute("SELECT COUNT(*) FROM entries").fetchone()
    conn.close()
    return row[0]
"#;

const LEDGER_COG: &str = r#"import asyncio

import ledger
from ledger import add_entry, audited, record, total


async def deposit(user, amount):
    add_entry(user, amount)
    record(user, amount)
    return total()


async def report():
    first = total()
    second = total()
    return first, second


async def audit_then_record(user):
    seen = audited()
    record(user, seen)


async def main():
    asyncio.create_task(asyncio.sleep(0))
    ledger.create_database()
    results = await asyncio.gather(*(deposit(u, 1) for u in range(10)))
    await audit_then_record(1)
    print(max(results), await report())


asyncio.run(main())
"#;

#[test]
fn one_statement_per_call_and_no_read_before_a_write_across_hops_stay_safe() {
    let dir = project(&[
        ("ledger.py", LEDGER.as_bytes()),
        ("main.py", LEDGER_COG.as_bytes()),
    ]);
    let before = run_main(dir.path());
    fs::remove_file(dir.path().join("ledger.db")).unwrap();
    fs::remove_file(dir.path().join("audit.db")).unwrap();
    let report = check(dir.path(), &["--no-cache"]);
    // Writes then a read (no check before the act), two reads, and a read of one database
    // before a write of another: every hop keeps its safe fix.
    for location in [
        "main.py:8:5: UNF401 [*]",
        "main.py:9:5: UNF401 [*]",
        "main.py:10:12: UNF401 [*]",
        "main.py:14:13: UNF401 [*]",
        "main.py:15:14: UNF401 [*]",
        "main.py:20:12: UNF401 [*]",
        "main.py:21:5: UNF401 [*]",
    ] {
        let found = finding(&report, location);
        assert!(!found.contains("unsafe fix"), "{found}");
    }
    fix_write(dir.path(), &[]);
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(record, user, amount)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}
