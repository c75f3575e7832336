//! sqlite databases as shared state, proven by running the programs with CPython against
//! sqlite3 files in a temporary directory: a helper that reads a row and writes the changed
//! value in a second statement (`add_coins`) is an unsafe fix, and a safe `fix --write` keeps
//! the total the original reaches; a coroutine that checks in one hop and pays in another is
//! unsafe on both hops; helpers that run one statement per call stay safe, and their fixed
//! program prints what the original prints.

mod common;

use std::fs;
use std::path::Path;

use common::{project, python, test_python, unfreeze};

fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

fn check(dir: &Path) -> String {
    unfreeze(dir, &["check", "--no-cache", "."]).output().stdout
}

fn fix_write(dir: &Path) {
    let output = unfreeze(dir, &["fix", "--no-cache", "--write", "."]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
}

/// The GansGit `EconomyManager.add_coins` shape: each call opens its own connection, reads the
/// row, and writes `current + amount`.
const ADD_COINS: &str = r#"import asyncio
import sqlite3

DB_PATH = "economy.db"


def create_database():
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, coins INTEGER NOT NULL)")
    conn.execute("INSERT OR IGNORE INTO users (id, coins) VALUES (1, 0)")
    conn.commit()
    conn.close()


def total():
    conn = sqlite3.connect(DB_PATH)
    cursor = conn.cursor()
    cursor.execute("SELECT coins FROM users WHERE id = 1")
    row = cursor.fetchone()
    conn.close()
    return row[0]


def add_coins(user_id, amount):
    conn = sqlite3.connect(DB_PATH)
    cursor = conn.cursor()
    cursor.execute("SELECT coins FROM users WHERE id = ?", (user_id,))
    current = cursor.fetchone()[0]
    cursor.execute("UPDATE users SET coins = ? WHERE id = ?", (current + amount, user_id))
    conn.commit()
    conn.close()


async def work(user_id):
    add_coins(user_id, 1)


async def main():
    await asyncio.gather(*(work(1) for _ in range(200)))


create_database()
asyncio.run(main())
print(total())
"#;

#[test]
fn read_then_write_helper_is_unsafe_and_the_safe_fix_keeps_every_update() {
    let dir = project(&[("main.py", ADD_COINS.as_bytes())]);
    assert_eq!(run_main(dir.path()).trim(), "200");
    fs::remove_file(dir.path().join("economy.db")).unwrap();
    let found = check(dir.path());
    assert!(
        found.contains(
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (`add_coins` \
             reads then rewrites rows of the database `DB_PATH` in two statements"
        ),
        "{found}"
    );
    assert!(found.contains("BEGIN IMMEDIATE"), "{found}");
    fix_write(dir.path());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(fixed.contains("    add_coins(user_id, 1)\n"), "{fixed}");
    assert_eq!(run_main(dir.path()).trim(), "200");
}

/// The GansGit `withdraw` shape: check the balance, then pay, in two helpers.
const CHECK_THEN_PAY: &str = r#"import asyncio
import sqlite3

DB_PATH = "bank.db"


def create_database():
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, bank INTEGER NOT NULL, wallet INTEGER NOT NULL)")
    conn.execute("INSERT INTO users (id, bank, wallet) VALUES (1, 100, 0)")
    conn.commit()
    conn.close()


def get_bank(user_id):
    conn = sqlite3.connect(DB_PATH)
    row = conn.execute("SELECT bank FROM users WHERE id = ?", (user_id,)).fetchone()
    conn.close()
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


async def withdraw(user_id, amount):
    if get_bank(user_id) < amount:
        return "refused"
    move_coins(user_id, amount)
    return "ok"


async def main():
    return await asyncio.gather(withdraw(1, 100), withdraw(1, 100))


create_database()
print(asyncio.run(main()), get_bank(1), get_wallet(1))
"#;

#[test]
fn check_in_one_hop_then_pay_in_another_is_unsafe_on_both() {
    let dir = project(&[("main.py", CHECK_THEN_PAY.as_bytes())]);
    let before = run_main(dir.path());
    assert_eq!(before.trim(), "['ok', 'refused'] 0 100");
    fs::remove_file(dir.path().join("bank.db")).unwrap();
    let found = check(dir.path());
    assert!(
        found.contains(
            "reads the database `DB_PATH`, which the same function then writes in another hop \
             (line 39): a check-then-act split by the new `await`s"
        ),
        "{found}"
    );
    assert!(
        found.contains(
            "writes the database `DB_PATH` after the same function read it in another hop \
             (line 37)"
        ),
        "{found}"
    );
    fix_write(dir.path());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("    if get_bank(user_id) < amount:\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains("    move_coins(user_id, amount)\n"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}

/// The Nyles99/betvsbet_bot shape: one statement per call, a UNIQUE constraint keeps the
/// rows apart; each call is atomic in a worker thread too. `register` reads, then only
/// inserts (its IntegrityError handled): no update to lose.
const ONE_STATEMENT: &str = r#"import asyncio
import sqlite3

DB_PATH = "bets.db"


def create_database():
    conn = sqlite3.connect(DB_PATH)
    conn.execute("CREATE TABLE bets (user INTEGER, game INTEGER, amount INTEGER, UNIQUE(user, game))")
    conn.execute("CREATE TABLE players (user INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()


def add_bet(user, game, amount):
    conn = sqlite3.connect(DB_PATH)
    conn.execute("INSERT OR IGNORE INTO bets (user, game, amount) VALUES (?, ?, ?)", (user, game, amount))
    conn.commit()
    conn.close()


def register(user):
    conn = sqlite3.connect(DB_PATH)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT user FROM players WHERE user = ?", (user,))
        if cursor.fetchone():
            return False
        cursor.execute("INSERT INTO players (user) VALUES (?)", (user,))
        conn.commit()
        return True
    except sqlite3.IntegrityError:
        return False
    finally:
        conn.close()


def count_bets():
    conn = sqlite3.connect(DB_PATH)
    row = conn.execute("SELECT COUNT(*), SUM(amount) FROM bets").fetchone()
    conn.close()
    return row


async def join(user):
    return register(user)


async def bet(user, game):
    add_bet(user, game, 10)


async def report():
    return count_bets()


async def main():
    joined = await asyncio.gather(*(join(u % 20) for u in range(100)))
    print(joined.count(True))
    await asyncio.gather(*(bet(u % 20, u % 7) for u in range(300)))
    return await report()


create_database()
print(asyncio.run(main()))
"#;

#[test]
fn one_statement_per_call_helpers_stay_safe_and_the_fix_keeps_the_output() {
    let dir = project(&[("main.py", ONE_STATEMENT.as_bytes())]);
    let before = run_main(dir.path());
    fs::remove_file(dir.path().join("bets.db")).unwrap();
    let found = check(dir.path());
    assert!(!found.contains("unsafe fix"), "{found}");
    assert!(!found.contains("the database"), "{found}");
    fix_write(dir.path());
    let fixed = fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(add_bet, user, game, 10)"),
        "{fixed}"
    );
    assert!(fixed.contains("asyncio.to_thread(count_bets)"), "{fixed}");
    assert!(
        fixed.contains("await asyncio.to_thread(register, user)"),
        "{fixed}"
    );
    assert_eq!(run_main(dir.path()), before);
}
