//! Session 16, issue 20: races a safe fix made that the last review proved.
//!
//! 1. A check of shared state in memory and its act, split by the `await` a fix adds: a lazy
//!    module global (`global _client; if _client is None: ... _client = AsyncClient(...)`,
//!    mmornati/hass-mcp app/core/client.py:39), `if key not in self.entries:` then
//!    `self.entries[key] = ...`, `if not self._ready:` then `self._ready = True`, a class
//!    attribute. The fix is unsafe, the caveat naming the state and both lines. A write before
//!    the read, and a read after the last write, are no check-then-act: those fixes stay safe.
//! 2. A method of a module-level instance whose class keeps nothing (no attribute written on
//!    `self`, no class attribute that can change, project bases only) carries no "whatever it
//!    keeps must be safe from two threads" caveat; one that keeps something, or has a library
//!    base, still does.
//!
//! Proven by running the programs with the test Python: five concurrent callers
//! (`asyncio.gather`) make one client before and after the safe `fix --write`; with the unsafe
//! fixes applied they make five, as the caveat says.
//!
//! `UNFREEZE_TEST_BIN` runs the tests against another build of unfreeze (to show they fail on
//! one without the change).

mod common;

use std::fs;
use std::path::Path;

use common::{finding, fix_write, project, python, test_python, unfreeze};

/// Run `main.py` in `dir` with the test Python: its stdout (it must exit 0).
fn run_main(dir: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

/// `unfreeze check --no-cache .`: its text output.
fn check(dir: &Path) -> String {
    let output = unfreeze(dir, &["check", "--no-cache", "."]).output();
    assert_eq!(output.code, Some(1), "{}", output.show());
    output.stdout
}

const CONFIG: &str = r#"import os


def get_ssl_verify_value():
    return os.path.isfile("/etc/ssl/certs/ca-certificates.crt")
"#;

/// The hass-mcp client, and the same check-then-act on an instance and a class.
const CLIENT: &str = r#"from app.config import get_ssl_verify_value

created = []
loads = []
started = []
made = []


class AsyncClient:
    def __init__(self, verify):
        created.append(self)


_client = None


async def get_client():
    global _client
    if _client is None:
        ssl_verify = get_ssl_verify_value()
        _client = AsyncClient(verify=ssl_verify)
    return _client


class Cache:
    def __init__(self):
        self.entries = {}
        self._ready = False

    async def get(self, key):
        if key not in self.entries:
            value = get_ssl_verify_value()
            loads.append(key)
            self.entries[key] = value
        return self.entries[key]

    async def start(self):
        if not self._ready:
            get_ssl_verify_value()
            started.append(1)
            self._ready = True


class Registry:
    loaded = None

    async def load(self):
        if Registry.loaded is None:
            value = get_ssl_verify_value()
            made.append(value)
            Registry.loaded = value
        return Registry.loaded


_counter = 0


async def write_first():
    global _counter
    _counter = 0
    value = get_ssl_verify_value()
    return (value, _counter)


_cached = None


async def read_after_last_write():
    global _cached
    if _cached is None:
        _cached = "ready"
    value = get_ssl_verify_value()
    return (_cached, value)
"#;

/// Module instances of classes that keep nothing, keep something, or have a library base.
const STORE: &str = r#"import collections
import os


class Paths:
    """Keeps nothing: a constant class attribute, methods that only read."""

    ROOT = "/"

    def exists(self, name):
        return os.path.exists(os.path.join(self.ROOT, name))


class CheckedPaths(Paths):
    def exists(self, name):
        return os.path.isdir(os.path.join(self.ROOT, name))


class Counter:
    def __init__(self):
        self.hits = 0

    def exists(self, name):
        return os.path.exists(name)


class Mapping(collections.UserDict):
    def exists(self, name):
        return os.path.exists(name)


PATHS = Paths()
CHECKED = CheckedPaths()
COUNTER = Counter()
MAPPING = Mapping()
"#;

const PROBE: &str = r#"from app.store import CHECKED, COUNTER, MAPPING, PATHS, Paths

LOCAL = Paths()


async def probe(name):
    a = PATHS.exists(name)
    b = CHECKED.exists(name)
    c = LOCAL.exists(name)
    d = COUNTER.exists(name)
    e = MAPPING.exists(name)
    return (a, b, c, d, e)
"#;

const MAIN: &str = r#"import asyncio

from app import client as c
from app.probe import probe


async def main():
    asyncio.create_task(asyncio.sleep(0))
    clients = await asyncio.gather(*[c.get_client() for _ in range(5)])
    print("clients", len(c.created), len({id(x) for x in clients}))
    cache = c.Cache()
    await asyncio.gather(*[cache.get("k") for _ in range(5)])
    print("loads", len(c.loads))
    await asyncio.gather(*[cache.start() for _ in range(5)])
    print("starts", len(c.started))
    registry = c.Registry()
    await asyncio.gather(*[registry.load() for _ in range(5)])
    print("made", len(c.made))
    print(await c.write_first(), await c.read_after_last_write())
    print(await probe("/tmp"))


asyncio.run(main())
"#;

fn races_project() -> tempfile::TempDir {
    project(&[
        ("main.py", MAIN.as_bytes()),
        ("app/__init__.py", b""),
        ("app/config.py", CONFIG.as_bytes()),
        ("app/client.py", CLIENT.as_bytes()),
        ("app/store.py", STORE.as_bytes()),
        ("app/probe.py", PROBE.as_bytes()),
    ])
}

/// What the program prints on the event loop alone: one client, one load, one start.
fn before() -> String {
    let tmp = std::path::Path::new("/tmp").exists();
    let ssl = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").is_file();
    let py = |b: bool| if b { "True" } else { "False" };
    format!(
        "clients 1 1\nloads 1\nstarts 1\nmade 1\n({ssl}, 0) ('ready', {ssl})\n\
         ({tmp}, {tmp}, {tmp}, {tmp}, {tmp})\n",
        ssl = py(ssl),
        tmp = py(tmp)
    )
}

#[test]
fn a_check_of_shared_state_split_from_its_act_by_the_new_await_is_unsafe_and_named() {
    let dir = races_project();
    assert_eq!(run_main(dir.path()), before());
    let report = check(dir.path());
    // (location, the state as the caveat names it, check line, act line, act)
    let cases = [
        (
            "app/client.py:20:22:",
            "`_client`, a module global",
            19,
            21,
            "assignment",
        ),
        (
            "app/client.py:32:21:",
            "`self.entries`, kept on the instance",
            31,
            34,
            "change",
        ),
        (
            "app/client.py:39:13:",
            "`self._ready`, kept on the instance",
            38,
            41,
            "assignment",
        ),
        (
            "app/client.py:49:21:",
            "`Registry.loaded`, a class attribute",
            48,
            51,
            "assignment",
        ),
    ];
    for (location, state, check_line, act_line, act) in cases {
        let found = finding(&report, location);
        assert!(
            found.contains("= unsafe fix: Run it in a worker thread"),
            "{found}"
        );
        assert!(
            found.contains(&format!(
                "check-then-act on {state}: its check (line {check_line}) and its {act} \
                 (line {act_line}) are split by the new `await`, so concurrent callers all \
                 pass the check before any of them acts"
            )),
            "{found}"
        );
    }
    // A write before the read, a read after the last write: no check-then-act.
    for location in ["app/client.py:61:13:", "app/client.py:72:13:"] {
        let found = finding(&report, location);
        assert!(
            found.contains("= fix: Run it in a worker thread"),
            "{found}"
        );
        assert!(!found.contains("check-then-act"), "{found}");
    }
}

#[test]
fn the_safe_fix_makes_one_client_and_the_unsafe_one_makes_five_as_its_caveat_says() {
    let dir = races_project();
    fix_write(dir.path(), &[]);
    assert_eq!(run_main(dir.path()), before(), "the safe fix split a check");
    let fixed = fs::read_to_string(dir.path().join("app/client.py")).unwrap();
    // The hops that split no check are applied; the lazy global's is not.
    assert!(
        fixed.contains(
            "value = await asyncio.to_thread(get_ssl_verify_value)\n    return (value, _counter)"
        ),
        "{fixed}"
    );
    assert!(
        fixed.contains("        ssl_verify = get_ssl_verify_value()\n"),
        "{fixed}"
    );

    let unsafe_dir = races_project();
    fix_write(unsafe_dir.path(), &["--unsafe-fixes"]);
    let after = run_main(unsafe_dir.path());
    assert!(
        after.starts_with("clients 5 5\nloads 5\nstarts 5\nmade 5\n"),
        "{after}"
    );
}

#[test]
fn a_module_instance_of_a_class_that_keeps_nothing_carries_no_shared_object_caveat() {
    let dir = races_project();
    let report = check(dir.path());
    let shared = "which the coroutines on the event loop share: whatever it keeps";
    // `Paths` keeps nothing; `CheckedPaths` neither (its base is a project class keeping
    // nothing); a local instance of it too.
    for location in [
        "app/probe.py:7:9:",
        "app/probe.py:8:9:",
        "app/probe.py:9:9:",
    ] {
        let found = finding(&report, location);
        assert!(
            found.contains("= fix: Run it in a worker thread"),
            "{found}"
        );
        assert!(!found.contains(shared), "{found}");
    }
    // `Counter` keeps `self.hits`; `Mapping`'s base is a library class: unknown.
    for location in ["app/probe.py:10:9:", "app/probe.py:11:9:"] {
        let found = finding(&report, location);
        assert!(found.contains("= unsafe fix"), "{found}");
        assert!(found.contains(shared), "{found}");
    }
    // The safe fix moves the three calls and the program answers the same.
    fix_write(dir.path(), &[]);
    assert_eq!(run_main(dir.path()), before());
    let fixed = fs::read_to_string(dir.path().join("app/probe.py")).unwrap();
    assert!(
        fixed.contains("a = await asyncio.to_thread(PATHS.exists, name)"),
        "{fixed}"
    );
    assert!(fixed.contains("d = COUNTER.exists(name)"), "{fixed}");
}

// ---------------------------------------------------------------------------------------
// A check through a cog looked up by name (discrdapp/economy-bot cogs/crypto.py:507).

/// A stand-in for nextcord, outside the project (on `PYTHONPATH`): `get_cog(name)` returns
/// the cog whose `qualified_name` is `name`, the class name unless the class passes `name=`.
const NEXTCORD_COMMANDS: &str = r#"class CogMeta(type):
    def __new__(mcs, *args, **kwargs):
        name, bases, attrs = args
        cls = super().__new__(mcs, name, bases, attrs)
        cls.__cog_name__ = kwargs.get("name", name)
        return cls

    def __init__(cls, *args, **kwargs):
        super().__init__(*args)


class Cog(metaclass=CogMeta):
    @property
    def qualified_name(self):
        return self.__cog_name__


class Bot:
    def __init__(self):
        self._cogs = {}

    def add_cog(self, cog):
        self._cogs[cog.qualified_name] = cog

    def get_cog(self, name):
        return self._cogs.get(name)
"#;

/// economy-bot's `DB` helper: a connection per call.
/// A read takes a round trip's time (as a database server's would), so that two checks moved
/// to worker threads surely both run before either payment: the race the caveat states is
/// then seen on every run, not only on a loaded machine.
const DB: &str = r#"import sqlite3
import time

DB_PATH = "bank.db"


class DB:
    @staticmethod
    def fetchOne(sql, values):
        conn = sqlite3.connect(DB_PATH)
        row = conn.execute(sql, values).fetchone()
        conn.close()
        time.sleep(0.05)
        return row

    @staticmethod
    def update(sql, values):
        conn = sqlite3.connect(DB_PATH)
        conn.execute(sql, values)
        conn.commit()
        conn.close()
"#;

const ECONOMY_COG: &str = r#"from nextcord.ext import commands

from db import DB


class Economy(commands.Cog):
    def __init__(self, bot):
        self.bot: commands.Bot = bot

    async def getBalance(self, user_id):
        return DB.fetchOne("SELECT Credits FROM Economy WHERE DiscordID = ?;", [user_id])[0]

    async def addWinnings(self, user_id, amount):
        DB.update("UPDATE Economy SET Credits = Credits + ? WHERE DiscordID = ?;", [amount, user_id])

    async def subtractBet(self, user_id, amount):
        balance = await self.getBalance(user_id)
        if amount <= balance:
            DB.update("UPDATE Economy SET Credits = Credits - ? WHERE DiscordID = ?;", [amount, user_id])
            return True
        return False


class Levels(commands.Cog, name="XP"):
    def __init__(self, bot):
        self.bot: commands.Bot = bot

    def level(self, user_id):
        return DB.fetchOne("SELECT Level FROM Levels WHERE DiscordID = ?;", [user_id])[0]
"#;

const CRYPTO_COG: &str = r#"from nextcord.ext import commands

from db import DB


class Crypto(commands.Cog):
    def __init__(self, bot):
        self.bot: commands.Bot = bot

    def AddCrypto(self, user_id, amount):
        DB.update("UPDATE Crypto SET Quantity = Quantity + ? WHERE DiscordID = ?;", [amount, user_id])

    async def buy(self, user_id, cost):
        balance = await self.bot.get_cog("Economy").getBalance(user_id)
        if balance < cost:
            return False
        self.AddCrypto(user_id, 1)
        await self.bot.get_cog("Economy").addWinnings(user_id, -cost)
        return True

    async def level(self, user_id):
        return self.bot.get_cog("XP").level(user_id)

    async def not_a_cog_name(self, user_id):
        return self.bot.get_cog("Levels")
"#;

const BOT_MAIN: &str = r#"import asyncio
import os
import sqlite3

from nextcord.ext import commands

import db
from cogs.crypto import Crypto
from cogs.economy import Economy, Levels


def setup():
    if os.path.exists(db.DB_PATH):
        os.remove(db.DB_PATH)
    c = sqlite3.connect(db.DB_PATH)
    c.execute("CREATE TABLE Economy(DiscordID, Credits)")
    c.execute("CREATE TABLE Crypto(DiscordID, Quantity)")
    c.execute("CREATE TABLE Levels(DiscordID, Level)")
    c.execute("INSERT INTO Economy VALUES(1, 1000)")
    c.execute("INSERT INTO Crypto VALUES(1, 0)")
    c.execute("INSERT INTO Levels VALUES(1, 7)")
    c.commit()
    c.close()


def balance():
    return db.DB.fetchOne("SELECT Credits FROM Economy WHERE DiscordID = ?;", [1])[0]


async def main():
    asyncio.create_task(asyncio.sleep(0))
    bot = commands.Bot()
    for cog in (Economy(bot), Crypto(bot), Levels(bot)):
        bot.add_cog(cog)
    setup()
    # A /crypto buy and a game's bet at once, on a balance that pays for one.
    answers = await asyncio.gather(
        bot.get_cog("Crypto").buy(1, 1000), bot.get_cog("Economy").subtractBet(1, 1000)
    )
    print("buy and bet", answers, balance())
    setup()
    answers = await asyncio.gather(*[bot.get_cog("Economy").subtractBet(1, 600) for _ in range(2)])
    print("two bets", answers, balance())
    print("level", await bot.get_cog("Crypto").level(1))


asyncio.run(main())
"#;

const BOT_BEFORE: &str = "buy and bet [True, False] 0\ntwo bets [True, False] 400\nlevel 7\n";

/// The bot project, and the stand-in for nextcord in a directory of its own.
fn bot_project() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = project(&[
        ("main.py", BOT_MAIN.as_bytes()),
        ("db.py", DB.as_bytes()),
        ("cogs/__init__.py", b""),
        ("cogs/economy.py", ECONOMY_COG.as_bytes()),
        ("cogs/crypto.py", CRYPTO_COG.as_bytes()),
    ]);
    let library = project(&[
        ("nextcord/__init__.py", b""),
        ("nextcord/ext/__init__.py", b""),
        ("nextcord/ext/commands.py", NEXTCORD_COMMANDS.as_bytes()),
    ]);
    (dir, library)
}

fn run_bot(dir: &Path, library: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .env("PYTHONPATH", library)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}

#[test]
fn a_check_through_a_cog_looked_up_by_name_makes_the_hop_before_the_payment_unsafe() {
    let (dir, library) = bot_project();
    assert_eq!(run_bot(dir.path(), library.path()), BOT_BEFORE);
    let report = check(dir.path());
    // crypto.py:507: the hop between the balance check (through `get_cog("Economy")`) and
    // the payment.
    let hop = finding(&report, "cogs/crypto.py:17:9: UNF401");
    assert!(hop.contains("= unsafe fix"), "{hop}");
    assert!(
        hop.contains(
            "the call writes the database `bank.db` after the same function read it in another \
             hop (line 14): a check-then-act split by the new `await`s between \
             `self.bot.get_cog(\"Economy\").getBalance(...)` and `self.AddCrypto(...)`"
        ),
        "{hop}"
    );
    // The check hopped inside `getBalance`, whose caller `subtractBet` pays after awaiting it.
    let check_hop = finding(&report, "cogs/economy.py:11:16: UNF401");
    assert!(check_hop.contains("= unsafe fix"), "{check_hop}");
    assert!(
        check_hop.contains(
            "reads the database `bank.db`, which `subtractBet` writes (line 19) after awaiting \
             `getBalance` (line 17): a check-then-act split by the new `await`"
        ),
        "{check_hop}"
    );
    // `get_cog("XP")` is the cog that passes `name="XP"`; its method blocks, and runs on the
    // one cog object the bot keeps.
    let level = finding(&report, "cogs/crypto.py:22:16: UNF401");
    assert!(
        level.contains("crypto.py:22:16: UNF401 `self.bot.get_cog(\"XP\").level(...)` blocks"),
        "{level}"
    );
    assert!(
        level.contains("the one object the library keeps for that name (discord-cog)"),
        "{level}"
    );
    // `get_cog("Levels")` names no cog (the class passes `name=`): nothing followed.
    assert!(!report.contains("cogs/crypto.py:25:"), "{report}");
}

#[test]
fn through_a_cog_the_safe_fix_spends_no_coin_twice_and_the_unsafe_one_does() {
    let (dir, library) = bot_project();
    fix_write(dir.path(), &[]);
    assert_eq!(
        run_bot(dir.path(), library.path()),
        BOT_BEFORE,
        "the safe fix spent coins twice"
    );
    let fixed = fs::read_to_string(dir.path().join("cogs/crypto.py")).unwrap();
    assert!(
        fixed.contains("        self.AddCrypto(user_id, 1)\n"),
        "the hop between the check and the payment was applied:\n{fixed}"
    );

    let unsafe_dir = bot_project();
    fix_write(unsafe_dir.0.path(), &["--unsafe-fixes"]);
    let after = run_bot(unsafe_dir.0.path(), unsafe_dir.1.path());
    assert!(
        after.starts_with("buy and bet [True, True] -1000\ntwo bets [True, True] -200\n"),
        "{after}"
    );
}
