//! A stand-in for pymongo that the check-then-act tests put on `PYTHONPATH`:
//! `MongoClient(uri)["db"]["col"]` (or attributes) is a collection shared by every client,
//! each call a 30 ms round trip, then atomic under one lock, as on a server (`find_one`,
//! `find`, `count_documents`, `insert_one`, `replace_one`, `update_one` and
//! `find_one_and_update` applying `$set` / `$inc` with `upsert`, `delete_one`, `delete_many`).

use std::fs;
use std::path::Path;

use super::{python, test_python};

/// The `pymongo/__init__.py` of the stand-in.
pub const FAKE_PYMONGO: &str = r#"import copy
import threading
import time

_stores = {}
_lock = threading.Lock()


def _match(doc, query):
    return all(doc.get(k) == v for k, v in query.items())


def _apply(doc, change):
    for k, v in change.get("$set", {}).items():
        doc[k] = v
    for k, v in change.get("$inc", {}).items():
        doc[k] = doc.get(k, 0) + v


class Collection:
    def __init__(self, name):
        self.docs = _stores.setdefault(name, [])

    def find_one(self, query):
        time.sleep(0.03)
        with _lock:
            for doc in self.docs:
                if _match(doc, query):
                    return copy.deepcopy(doc)
        return None

    def find(self, query):
        time.sleep(0.03)
        with _lock:
            return [copy.deepcopy(d) for d in self.docs if _match(d, query)]

    def count_documents(self, query):
        time.sleep(0.03)
        with _lock:
            return len([d for d in self.docs if _match(d, query)])

    def insert_one(self, doc):
        time.sleep(0.03)
        with _lock:
            self.docs.append(dict(doc))

    def update_one(self, query, change, upsert=False):
        time.sleep(0.03)
        with _lock:
            for doc in self.docs:
                if _match(doc, query):
                    _apply(doc, change)
                    return
            if upsert:
                doc = dict(query)
                _apply(doc, change)
                self.docs.append(doc)

    def find_one_and_update(self, query, change, upsert=False):
        time.sleep(0.03)
        with _lock:
            for doc in self.docs:
                if _match(doc, query):
                    before = copy.deepcopy(doc)
                    _apply(doc, change)
                    return before
            if upsert:
                doc = dict(query)
                _apply(doc, change)
                self.docs.append(doc)
        return None

    def delete_one(self, query):
        time.sleep(0.03)
        with _lock:
            for i, doc in enumerate(self.docs):
                if _match(doc, query):
                    del self.docs[i]
                    return

    def replace_one(self, query, doc):
        time.sleep(0.03)
        with _lock:
            for i, d in enumerate(self.docs):
                if _match(d, query):
                    self.docs[i] = dict(doc)
                    return

    def delete_many(self, query):
        time.sleep(0.03)
        with _lock:
            self.docs[:] = [d for d in self.docs if not _match(d, query)]


class Database:
    def __init__(self, name):
        self.name = name

    def __getitem__(self, name):
        return Collection(self.name + "." + name)

    __getattr__ = __getitem__


class MongoClient:
    def __init__(self, uri=None):
        pass

    def __getitem__(self, name):
        return Database(name)

    __getattr__ = __getitem__
"#;

/// A temporary directory holding the stand-in as the package `pymongo`.
pub fn fake_pymongo() -> tempfile::TempDir {
    let fake = tempfile::tempdir().unwrap();
    fs::create_dir(fake.path().join("pymongo")).unwrap();
    fs::write(fake.path().join("pymongo/__init__.py"), FAKE_PYMONGO).unwrap();
    fake
}

/// Run `main.py` in `dir` with the stand-in in `fake` on `PYTHONPATH`: its stdout (it must
/// exit 0).
pub fn run_main(dir: &Path, fake: &Path) -> String {
    let output = python(&test_python())
        .current_dir(dir)
        .env("PYTHONPATH", fake)
        .arg("main.py")
        .output();
    assert_eq!(output.code, Some(0), "{}", output.show());
    output.stdout
}
