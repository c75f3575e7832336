//! The neo4j driver, Selenium, huggingface_hub and chromadb in coroutines (issue 22). The
//! programs run against stand-ins of the libraries that the tests write themselves, outside
//! the project (on `PYTHONPATH`): each round trip sleeps, records whether it ran on the event
//! loop's thread, and an object that is not thread-safe raises when a thread other than its
//! maker's uses it, as the real driver's state would break.

mod common;

use std::fs;

use common::services::{assert_contains, check, fix_write, run_main};
use common::{project, write_files};

/// A stand-in of the neo4j driver's synchronous API: a thread-safe `Driver`, sessions bound
/// to the thread that made them (the real ones are "not thread safe"), results read through
/// their session, explicit transactions.
const NEO4J_STUB: &str = r#"import threading
import time

LOOP_CALLS = []
CREATED = []


def _trip(name):
    if threading.current_thread() is threading.main_thread():
        LOOP_CALLS.append(name)
    time.sleep(0.05)


class Result:
    def __init__(self, session, rows):
        self._session = session
        self._rows = rows

    def __iter__(self):
        self._session._check()
        return iter(self._rows)

    def data(self):
        self._session._check()
        return list(self._rows)

    def single(self):
        self._session._check()
        return self._rows[0]


class Transaction:
    def __init__(self, session):
        self._session = session
        self._pending = []

    def run(self, query, **parameters):
        self._session._check()
        _trip("tx.run")
        self._pending.append(parameters.get("name"))

    def commit(self):
        self._session._check()
        _trip("tx.commit")
        CREATED.extend(self._pending)


class Session:
    def __init__(self):
        self._thread = threading.get_ident()

    def _check(self):
        if threading.get_ident() != self._thread:
            raise RuntimeError("neo4j session used from a thread other than its maker's")

    def run(self, query, **parameters):
        self._check()
        _trip("session.run")
        return Result(self, [{"name": "ada"}, {"name": "grace"}])

    def begin_transaction(self):
        self._check()
        _trip("begin_transaction")
        return Transaction(self)

    def close(self):
        self._check()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Driver:
    def session(self, **config):
        return Session()

    def verify_connectivity(self):
        _trip("verify_connectivity")

    def execute_query(self, query, **parameters):
        _trip("execute_query")
        return [{"one": 1}], None, ["one"]


class GraphDatabase:
    @staticmethod
    def driver(uri, auth=None):
        return Driver()
"#;

const NEO4J_DB: &str = r#"from neo4j import GraphDatabase

driver = GraphDatabase.driver("neo4j://127.0.0.1:7687", auth=("neo4j", "secret"))
"#;

const NEO4J_HANDLERS: &str = r#"import neo4j
from neo4j import Driver

from db import driver

shared = driver.session()


class People:
    def __init__(self, driver: Driver):
        self.driver = driver

    async def names(self):
        with self.driver.session(database="neo4j") as session:
            result = session.run("MATCH (p:Person) RETURN p.name AS name")
            return [record["name"] for record in result]


async def check(d: neo4j.Driver):
    d.verify_connectivity()
    records, summary, keys = d.execute_query("RETURN 1 AS one")
    return records


async def made_and_closed(d: Driver):
    session = d.session()
    rows = session.run("MATCH (p) RETURN p").data()
    session.close()
    return rows


async def made_from_the_import():
    session = driver.session()
    rows = session.run("MATCH (p) RETURN p").data()
    session.close()
    return rows


async def explicit_transaction(name):
    with driver.session() as session:
        tx = session.begin_transaction()
        tx.run("CREATE (:Person {name: $name})", name=name)
        tx.commit()


async def module_session():
    return shared.run("RETURN 1").single()
"#;

const NEO4J_MAIN: &str = r#"import asyncio

import neo4j

import handlers
from db import driver


async def main():
    print(await handlers.People(driver).names())
    print(await handlers.check(driver))
    print(await handlers.made_and_closed(driver))
    print(await handlers.made_from_the_import())
    await handlers.explicit_transaction("alan")
    print(neo4j.CREATED)
    print(await handlers.module_session())
    print("on the loop:", neo4j.LOOP_CALLS)


asyncio.run(main())
"#;

/// neo4j: the driver is thread-safe (its own calls move one by one, through an annotated
/// `neo4j.Driver` too), a session is not: a `with driver.session()` block, a session made
/// and closed in the coroutine, and an explicit transaction in it move as one unit, and a
/// session made at import time from an imported driver stays on the loop's thread (moved
/// call by call, the stand-in raises as the real session's state would break).
#[test]
fn neo4j_sessions_move_as_units_and_a_module_session_of_an_imported_driver_stays() {
    let site = tempfile::tempdir().unwrap();
    write_files(site.path(), &[("neo4j/__init__.py", NEO4J_STUB.as_bytes())]);
    let dir = project(&[
        ("db.py", NEO4J_DB.as_bytes()),
        ("handlers.py", NEO4J_HANDLERS.as_bytes()),
        ("main.py", NEO4J_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "handlers.py:15:22: UNF101 [*] `session.run`",
            "handlers.py:20:5: UNF106 [*] `d.verify_connectivity`",
            "handlers.py:21:30: UNF106 [*] `d.execute_query`",
            "handlers.py:27:12: UNF101 [*] `session.run`",
            "handlers.py:28:5: UNF101 [*] `session.close`",
            "handlers.py:34:12: UNF101 `session.run`",
            "no fix: the call is on a neo4j session the coroutine makes from `driver` of db.py, \
             which a call moved on its own would use from another thread",
            "handlers.py:41:14: UNF101 [*] `session.begin_transaction`",
            "handlers.py:47:12: UNF101 `shared.run`",
            "no fix: the call is on the neo4j session made at import time from `driver` of \
             db.py, so it is not moved to a worker thread: a neo4j session is not thread-safe",
        ],
    );
    let before = run_main(dir.path(), site.path());
    assert!(
        before.ends_with(
            "on the loop: ['session.run', 'verify_connectivity', 'execute_query', \
             'session.run', 'session.run', 'begin_transaction', 'tx.run', 'tx.commit', \
             'session.run']\n"
        ),
        "{before}"
    );
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    let results = |out: &str| out.lines().take(6).collect::<Vec<_>>().join("\n");
    assert_eq!(results(&after), results(&before), "{}", fixed.show());
    // Only the calls on sessions the fixes cannot move whole are left on the loop's thread:
    // one made from the imported driver outside a `with` block, and the module-level one.
    assert!(
        after.ends_with("on the loop: ['session.run', 'session.run']\n"),
        "{after}\n{}",
        fixed.show()
    );
    let handlers = fs::read_to_string(dir.path().join("handlers.py")).unwrap();
    assert!(
        handlers.contains("return shared.run(\"RETURN 1\").single()"),
        "{handlers}"
    );
}

/// A stand-in of Selenium's driver: each command is a round trip that records whether it ran
/// on the event loop's thread, and raises when another command of the same driver is under
/// way (a driver is not thread-safe: two at once would interleave).
const SELENIUM_WEBDRIVER_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


class _Driver:
    def __init__(self):
        self._busy = threading.Lock()
        self.url = None
        self._trip("start")

    def _trip(self, name):
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("two commands of one driver at once")
        try:
            if threading.current_thread() is threading.main_thread():
                LOOP_CALLS.append(name)
            time.sleep(0.05)
        finally:
            self._busy.release()

    def get(self, url):
        self._trip("get")
        self.url = url

    def find_element(self, by, value):
        self._trip("find_element")
        return _Element(self, value)

    def quit(self):
        self._trip("quit")


class _Element:
    def __init__(self, driver, value):
        self._driver = driver
        self.value = value

    def get_attribute(self, name):
        self._driver._trip("get_attribute")
        return f"{self._driver.url}#{self.value}.{name}"


class Chrome(_Driver):
    pass


class Firefox(_Driver):
    pass
"#;

const SELENIUM_APP: &str = r#"from selenium import webdriver


async def title_of(url):
    driver = webdriver.Chrome()
    driver.get(url)
    label = driver.find_element("id", "title").get_attribute("text")
    driver.quit()
    return label


class Browser:
    def __init__(self):
        self.driver = webdriver.Firefox()

    async def visit(self, url):
        self.driver.get(url)
        return self.driver.find_element("id", "title").get_attribute("text")
"#;

const SELENIUM_MAIN: &str = r#"import asyncio

from selenium import webdriver

from app import Browser, title_of


async def main():
    print(await asyncio.gather(title_of("http://a"), title_of("http://b")))
    browser = Browser()
    print(await asyncio.gather(browser.visit("http://c"), browser.visit("http://d")))
    print("on the loop:", webdriver.LOOP_CALLS)


asyncio.run(main())
"#;

/// Selenium: a coroutine's own driver moves call by call (safe: its calls never overlap, two
/// coroutines each with their own driver run at once); a driver kept on `self` gets an unsafe
/// fix with the reason, left out of `fix --write`: moved, two coroutines' commands on it would
/// run at once (the stand-in raises, as the real driver's state would mix).
#[test]
fn a_coroutines_own_selenium_driver_moves_call_by_call_and_a_shared_one_is_unsafe() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[
            ("selenium/__init__.py", b""),
            (
                "selenium/webdriver/__init__.py",
                SELENIUM_WEBDRIVER_STUB.as_bytes(),
            ),
        ],
    );
    let dir = project(&[
        ("app.py", SELENIUM_APP.as_bytes()),
        ("main.py", SELENIUM_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app.py:5:14: UNF106 [*] `webdriver.Chrome`",
            "app.py:6:5: UNF106 [*] `driver.get`",
            "app.py:7:13: UNF106 [*] `driver.find_element(\"id\", \"title\").get_attribute`",
            "app.py:8:5: UNF106 [*] `driver.quit`",
            "app.py:17:9: UNF106 `self.driver.get`",
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (the Selenium \
             driver is shared (kept on `self`, in a module global, or passed in), and a driver \
             is not thread-safe",
        ],
    );
    let before = run_main(dir.path(), site.path());
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    let results = |out: &str| out.lines().take(2).collect::<Vec<_>>().join("\n");
    assert_eq!(results(&after), results(&before), "{}", fixed.show());
    assert_eq!(
        results(&after),
        "['http://a#title.text', 'http://b#title.text']\n\
         ['http://c#title.text', 'http://d#title.text']"
    );
    // Before: every command on the loop's thread. After: only the shared driver's (its fix
    // is unsafe, not applied) and its construction in the synchronous `__init__`.
    assert!(
        before.contains("'start', 'get', 'find_element'"),
        "{before}"
    );
    assert!(
        after.ends_with(
            "on the loop: ['start', 'get', 'find_element', 'get_attribute', 'get', \
             'find_element', 'get_attribute']\n"
        ),
        "{after}\n{}",
        fixed.show()
    );
    let app = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(app.contains("        self.driver.get(url)\n"), "{app}");
}

/// A stand-in of huggingface_hub: downloads and Hub calls sleep and record whether they ran on
/// the event loop's thread; `list_models` is a generator requesting a page per item, as the
/// real one pages while iterated.
const HF_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


def _trip(name):
    if threading.current_thread() is threading.main_thread():
        LOOP_CALLS.append(name)
    time.sleep(0.05)


def hf_hub_download(repo_id, filename, **kwargs):
    _trip("hf_hub_download")
    return f"/cache/{repo_id}/{filename}"


def list_models(search=None, limit=None):
    for i in range(3):
        _trip("list_models page")
        yield f"{search}-{i}"


class HfApi:
    def upload_file(self, path_or_fileobj, path_in_repo, repo_id):
        _trip("upload_file")
        return f"{repo_id}/{path_in_repo}"

    def list_models(self, author=None):
        return list_models(search=author)
"#;

const HF_APP: &str = r#"from huggingface_hub import HfApi, hf_hub_download, list_models

api = HfApi()


async def fetch(repo):
    return hf_hub_download(repo_id=repo, filename="config.json")


async def publish(repo):
    return api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.bin", repo_id=repo)


async def search(query):
    names = [name for name in list_models(search=query)]
    mine = list(api.list_models(author=query))
    return names, mine
"#;

const HF_MAIN: &str = r#"import asyncio

import huggingface_hub

from app import fetch, publish, search


async def main():
    print(await asyncio.gather(fetch("a/b"), publish("a/b")))
    print(await search("bert"))
    print("on the loop:", huggingface_hub.LOOP_CALLS)


asyncio.run(main())
"#;

/// huggingface_hub: downloads, uploads and Hub calls move to a worker thread (the library's
/// HTTP client is shared by its own download threads); a generator's pages are read in the
/// same hop (`to_thread(list, list_models(...))`), so none is requested from the loop's thread.
#[test]
fn huggingface_hub_downloads_uploads_and_listed_pages_leave_the_loop() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[("huggingface_hub/__init__.py", HF_STUB.as_bytes())],
    );
    let dir = project(&[
        ("app.py", HF_APP.as_bytes()),
        ("main.py", HF_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app.py:7:12: UNF106 [*] `hf_hub_download`",
            "app.py:11:12: UNF106 [*] `api.upload_file`",
            "app.py:15:31: UNF106 [*] `list_models`",
            "app.py:16:17: UNF106 [*] `api.list_models`",
        ],
    );
    let before = run_main(dir.path(), site.path());
    assert!(before.contains("'list_models page'"), "{before}");
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    let results = |out: &str| out.lines().take(2).collect::<Vec<_>>().join("\n");
    assert_eq!(results(&after), results(&before), "{}", fixed.show());
    assert!(
        after.ends_with("on the loop: []\n"),
        "{after}\n{}",
        fixed.show()
    );
    let app = fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        app.contains("await asyncio.to_thread(list, list_models(search=query))"),
        "{app}"
    );
}

/// A stand-in of chromadb: a local client's collections lock internally (as chromadb's do);
/// an `HttpClient`'s collections send through one connection that raises when two threads use
/// it at once. Each call sleeps and records whether it ran on the event loop's thread.
const CHROMA_STUB: &str = r#"import threading
import time

LOOP_CALLS = []


def _trip(name):
    if threading.current_thread() is threading.main_thread():
        LOOP_CALLS.append(name)
    time.sleep(0.05)


class _Collection:
    def __init__(self, name, guard):
        self.name = name
        self._guard = guard
        self._docs = {}

    def add(self, ids, documents):
        with self._guard():
            _trip("add")
            self._docs.update(zip(ids, documents))

    def count(self):
        with self._guard():
            _trip("count")
            return len(self._docs)

    def query(self, query_texts, n_results=10):
        with self._guard():
            _trip("query")
            return sorted(d for d in self._docs.values() if query_texts[0] in d)[:n_results]


class _Connection:
    def __init__(self):
        self._busy = threading.Lock()

    def __call__(self):
        connection = self

        class _Use:
            def __enter__(self):
                if not connection._busy.acquire(blocking=False):
                    raise RuntimeError("one httpx client used from two threads at once")

            def __exit__(self, *exc):
                connection._busy.release()

        return _Use()


class _Client:
    def __init__(self, guard):
        self._guard = guard
        self._collections = {}

    def get_or_create_collection(self, name):
        _trip("get_or_create_collection")
        return self._collections.setdefault(name, _Collection(name, self._guard))

    def get_collection(self, name):
        _trip("get_collection")
        return self._collections.setdefault(name, _Collection(name, self._guard))


def PersistentClient(path):
    return _Client(threading.RLock)


def HttpClient(host, port):
    return _Client(_Connection())
"#;

const CHROMA_APP: &str = r#"import chromadb

client = chromadb.PersistentClient(path="./chroma")
notes = client.get_or_create_collection("notes")
remote = chromadb.HttpClient(host="127.0.0.1", port=8000)


async def remember(note_id, text):
    notes.add(ids=[note_id], documents=[text])
    return notes.count()


async def recall(word):
    return notes.query(query_texts=[word])


async def ask_remote(word):
    docs = remote.get_collection("docs")
    docs.add(ids=[word], documents=[f"about {word}"])
    return docs.query(query_texts=[word])
"#;

const CHROMA_MAIN: &str = r#"import asyncio

import chromadb

from app import ask_remote, recall, remember


async def main():
    counts = [await remember("1", "red apple"), await remember("2", "green apple")]
    print(counts)
    print(await recall("apple"))
    print(await asyncio.gather(ask_remote("pear"), ask_remote("plum")))
    print("on the loop:", chromadb.LOOP_CALLS)


asyncio.run(main())
"#;

/// chromadb: a local client's collection calls move to a worker thread (safe: it locks
/// internally); an `HttpClient`'s, including a collection the coroutine got from the shared
/// client, are unsafe fixes, left out of `fix --write` (moved, two coroutines would use its one
/// connection from two threads at once: the stand-in raises).
#[test]
fn chromadb_local_collections_move_and_a_shared_http_clients_stay() {
    let site = tempfile::tempdir().unwrap();
    write_files(
        site.path(),
        &[("chromadb/__init__.py", CHROMA_STUB.as_bytes())],
    );
    let dir = project(&[
        ("app.py", CHROMA_APP.as_bytes()),
        ("main.py", CHROMA_MAIN.as_bytes()),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app.py:9:5: UNF106 [*] `notes.add`",
            "app.py:10:12: UNF106 [*] `notes.count`",
            "app.py:14:12: UNF106 [*] `notes.query`",
            "app.py:18:12: UNF106 `remote.get_collection`",
            "app.py:19:5: UNF106 `docs.add`",
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (a chromadb \
             `HttpClient` (and its collections) sends every call through one `httpx.Client`",
        ],
    );
    let before = run_main(dir.path(), site.path());
    let fixed = fix_write(dir.path());
    let after = run_main(dir.path(), site.path());
    let results = |out: &str| out.lines().take(3).collect::<Vec<_>>().join("\n");
    assert_eq!(results(&after), results(&before), "{}", fixed.show());
    assert_eq!(
        results(&after),
        "[1, 2]\n['green apple', 'red apple']\n[['about pear'], ['about plum']]"
    );
    assert!(
        after.ends_with(
            "on the loop: ['get_or_create_collection', 'get_collection', 'add', 'query', \
             'get_collection', 'add', 'query']\n"
        ),
        "{after}\n{}",
        fixed.show()
    );
}

/// botocore paginators and waiters held in a local name, of a client made in the module or
/// imported from another: found where the pages are read (`for page in p.paginate(...)`) and
/// where the waiter waits.
#[test]
fn paginators_and_waiters_held_in_locals_are_found_with_an_imported_client_too() {
    let dir = project(&[
        ("aws.py", b"import boto3\n\ns3 = boto3.client(\"s3\")\n"),
        (
            "app.py",
            br#"import boto3
from aws import s3

local_s3 = boto3.client("s3")


async def keys_local(bucket):
    p = local_s3.get_paginator("list_objects_v2")
    return [page for page in p.paginate(Bucket=bucket)]


async def keys_imported(bucket):
    paginator = s3.get_paginator("list_objects_v2")
    out = []
    for page in paginator.paginate(Bucket=bucket):
        out.extend(page.get("Contents", []))
    return out


async def wait_for(bucket):
    waiter = s3.get_waiter("bucket_exists")
    waiter.wait(Bucket=bucket)
"#,
        ),
    ]);
    let output = check(dir.path());
    assert_contains(
        &output,
        &[
            "app.py:9:30: UNF106 [*] `p.paginate`",
            "app.py:15:17: UNF106 `paginator.paginate`",
            "unsafe fix: Run it in a worker thread: `await asyncio.to_thread(...)` (the loop now \
             runs over a list of every item",
            "app.py:22:5: UNF106 [*] `waiter.wait`",
        ],
    );
}
