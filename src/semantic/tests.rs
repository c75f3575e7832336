//! Unit tests of the semantic index: aliases, shadowing and async context.

use super::*;
use crate::parse::parse;

/// The qualified name of the expression `expr` at its `nth` (0-based) occurrence in `source`.
fn qualified_nth(source: &str, expr: &str, nth: usize) -> Option<String> {
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    let start = source
        .match_indices(expr)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{expr}` #{nth} not in source"))
        .0;
    let node = parsed
        .tree
        .root_node()
        .descendant_for_byte_range(start, start + expr.len())
        .unwrap();
    assert_eq!(&source[node.byte_range()], expr, "node for `{expr}`");
    index.qualified_name(node, source)
}

fn qualified(source: &str, expr: &str) -> Option<String> {
    qualified_nth(source, expr, 0)
}

fn is_async_at(source: &str, marker: &str) -> bool {
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    index.is_async_context(source.find(marker).expect("marker in source"))
}

#[test]
fn import_styles_resolve_to_qualified_names() {
    let source = "import time\nimport time as t\nfrom time import sleep\nfrom time import sleep as nap\nimport os.path\nimport os.path as osp\nfrom os import path\n\
                  time.sleep; t.sleep; sleep; nap; os.path.exists; osp.exists; path.join\n";
    assert_eq!(
        qualified(source, "time.sleep").as_deref(),
        Some("time.sleep")
    );
    assert_eq!(qualified(source, "t.sleep").as_deref(), Some("time.sleep"));
    assert_eq!(
        qualified_nth(source, "sleep", 4).as_deref(),
        Some("time.sleep")
    );
    assert_eq!(
        qualified_nth(source, "nap", 1).as_deref(),
        Some("time.sleep")
    );
    assert_eq!(
        qualified(source, "os.path.exists").as_deref(),
        Some("os.path.exists")
    );
    assert_eq!(
        qualified(source, "osp.exists").as_deref(),
        Some("os.path.exists")
    );
    assert_eq!(
        qualified(source, "path.join").as_deref(),
        Some("os.path.join")
    );
}

#[test]
fn relative_imports_keep_their_dots() {
    let source = "from . import helpers\nfrom ..pkg import tool as t\nhelpers.run; t.go\n";
    assert_eq!(
        qualified(source, "helpers.run").as_deref(),
        Some(".helpers.run")
    );
    assert_eq!(qualified(source, "t.go").as_deref(), Some("..pkg.tool.go"));
}

#[test]
fn unbound_names_are_builtins() {
    assert_eq!(
        qualified("open\n", "open").as_deref(),
        Some("builtins.open")
    );
    let shadowed = "def open(p):\n    pass\nopen\n";
    assert_eq!(qualified_nth(shadowed, "open", 1), None);
}

#[test]
fn parameters_and_local_definitions_shadow_imports() {
    let source = "import time\nfrom time import sleep\n\
                  async def a(time):\n    time.sleep(1)\n\
                  async def b():\n    def sleep(x):\n        pass\n    sleep(1)\n\
                  async def c():\n    sleep = print\n    sleep(1)\n\
                  async def d():\n    time.sleep(1)\n";
    assert_eq!(
        qualified_nth(source, "time.sleep", 0),
        None,
        "parameter `time`"
    );
    assert_eq!(qualified_nth(source, "sleep", 3), None, "local def sleep");
    assert_eq!(
        qualified_nth(source, "sleep", 5),
        None,
        "local sleep = print"
    );
    assert_eq!(
        qualified_nth(source, "time.sleep", 1).as_deref(),
        Some("time.sleep")
    );
}

#[test]
fn function_local_imports_and_imports_below_use() {
    let source = "async def a():\n    import time as clock\n    clock.sleep(1)\n\
                  async def b():\n    later.sleep(1)\n\
                  import time as later\n";
    assert_eq!(
        qualified(source, "clock.sleep").as_deref(),
        Some("time.sleep")
    );
    assert_eq!(
        qualified(source, "later.sleep").as_deref(),
        Some("time.sleep")
    );
}

#[test]
fn local_import_does_not_leak_to_other_functions() {
    let source = "def a():\n    import time as clock\n\
                  async def b():\n    clock.sleep(1)\n";
    assert_eq!(qualified_nth(source, "clock.sleep", 0), None);
}

#[test]
fn class_scope_is_not_visible_from_methods() {
    let source =
        "import time\nclass A:\n    time = None\n    async def m(self):\n        time.sleep(1)\n";
    assert_eq!(
        qualified(source, "time.sleep").as_deref(),
        Some("time.sleep")
    );
}

#[test]
fn global_declaration_reaches_module_binding() {
    let source =
        "time = None\nasync def a():\n    global time\n    import time\n    time.sleep(1)\n";
    assert_eq!(
        qualified(source, "time.sleep").as_deref(),
        Some("time.sleep")
    );
}

#[test]
fn comprehension_variables_shadow() {
    let source = "import time\nasync def a(xs):\n    [time.sleep(1) for time in xs]\n";
    assert_eq!(qualified(source, "time.sleep"), None);
}

#[test]
fn async_context_follows_ruff_semantics() {
    let source = "\
async def outer(d=default_marker()):
    body_marker()
    [comp_marker(x) for x in y]
    (gen_marker(x) for x in y)
    f = lambda: lambda_marker()
    def inner():
        inner_marker()
    class K:
        class_marker()
    @decorator_marker()
    def decorated(p=param_default_marker()):
        pass
def sync():
    sync_marker()
module_marker()
";
    assert!(is_async_at(source, "body_marker"));
    assert!(is_async_at(source, "comp_marker"));
    assert!(is_async_at(source, "gen_marker"));
    assert!(
        is_async_at(source, "decorator_marker"),
        "decorators run in the enclosing scope"
    );
    assert!(
        is_async_at(source, "param_default_marker"),
        "defaults run in the enclosing scope"
    );
    assert!(
        !is_async_at(source, "default_marker"),
        "outer's own default runs at module level"
    );
    assert!(!is_async_at(source, "lambda_marker"));
    assert!(!is_async_at(source, "inner_marker"));
    assert!(!is_async_at(source, "class_marker"));
    assert!(!is_async_at(source, "sync_marker"));
    assert!(!is_async_at(source, "module_marker"));
}

#[test]
fn generator_expressions_are_detected() {
    let source = "async def f(xs):\n    [a() for x in xs]\n    (b() for x in xs)\n    [c() for x in (d() for y in xs)]\n";
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    assert!(!index.in_generator_expression(source.find("a()").unwrap()));
    assert!(index.in_generator_expression(source.find("b()").unwrap()));
    assert!(!index.in_generator_expression(source.find("c()").unwrap()));
    assert!(index.in_generator_expression(source.find("d()").unwrap()));
}

#[test]
fn dunder_all_is_collected() {
    let source = "__all__ = ['a', \"b\"]\n__all__ += ('c',)\n__all__.extend(['d'])\n";
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    assert_eq!(index.dunder_all().unwrap(), ["a", "b", "c", "d"]);
}

#[test]
fn module_alias_is_found_only_where_reachable() {
    let source = "import asyncio as aio\ndef f(aio):\n    here()\nthere()\n";
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    assert_eq!(
        index.module_alias_at("asyncio", source.find("there").unwrap()),
        Some("aio")
    );
    assert_eq!(
        index.module_alias_at("asyncio", source.find("here").unwrap()),
        None
    );
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 10_000;
    let source = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let parsed = parse(&source);
    let index = build_index(&parsed.tree, &source);
    assert!(!index.is_async_context(depth));
}

#[test]
fn type_checking_imports_are_not_reused_at_runtime() {
    let source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import asyncio\nasync def f():\n    here()\n";
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    assert_eq!(
        index.module_alias_at("asyncio", source.find("here").unwrap()),
        None
    );
}

#[test]
fn match_capture_patterns_bind_names() {
    let source = "\
async def handle(message):
    match message:
        case {\"open\": open}:
            open()
        case [input, *rest]:
            input()
        case str() as sleep:
            sleep()
        case Point(x=exists):
            exists()
        case os.path:
            print()
";
    assert_eq!(qualified_nth(source, "open", 1), None);
    assert_eq!(qualified_nth(source, "input", 1), None);
    assert_eq!(qualified_nth(source, "sleep", 1), None);
    assert_eq!(qualified_nth(source, "exists", 1), None);
    assert_eq!(
        qualified(source, "print").as_deref(),
        Some("builtins.print")
    );
}

#[test]
fn del_makes_a_name_local() {
    let source = "async def f():\n    del input\n    input('x')\n";
    assert_eq!(qualified_nth(source, "input", 1), None);
}

/// The callable name of the callee of the `nth` call whose text starts with `call`.
fn callable(source: &str, callee: &str, nth: usize) -> Option<String> {
    let parsed = parse(source);
    let index = build_index(&parsed.tree, source);
    let start = source
        .match_indices(callee)
        .nth(nth)
        .expect("callee in source")
        .0;
    let node = parsed
        .tree
        .root_node()
        .descendant_for_byte_range(start, start + callee.len())
        .unwrap();
    assert_eq!(&source[node.byte_range()], callee);
    index.callable_name(node, parsed.tree.root_node(), source)
}

#[test]
fn objects_are_named_after_what_made_them() {
    let source = "\
import requests
import sqlite3
from pathlib import Path
from typing import Optional

class Client:
    def __init__(self):
        self.session = requests.Session()

    async def fetch(self, url):
        return self.session.get(url)

async def handler(p: Path, q: Optional[Path], r: 'Path | None', url):
    s = requests.Session()
    s.get(url)
    with requests.session() as t:
        t.post(url)
    conn = sqlite3.connect(':memory:')
    conn.cursor().execute('select 1')
    p.exists()
    q.exists()
    Path(url).read_text()
    (p / 'x' / 'y').unlink()
    p.resolve().parent.mkdir()
    fetch = requests.get
    fetch(url)
    s = object()
    s.get(url)
";
    assert_eq!(
        callable(source, "self.session.get", 0).as_deref(),
        Some("requests.Session().get")
    );
    assert_eq!(
        callable(source, "s.get", 0).as_deref(),
        Some("requests.Session().get")
    );
    assert_eq!(
        callable(source, "t.post", 0).as_deref(),
        Some("requests.session().post")
    );
    assert_eq!(
        callable(source, "conn.cursor().execute", 0).as_deref(),
        Some("sqlite3.connect().cursor().execute")
    );
    assert_eq!(
        callable(source, "p.exists", 0).as_deref(),
        Some("pathlib.Path().exists")
    );
    assert_eq!(
        callable(source, "q.exists", 0).as_deref(),
        Some("pathlib.Path().exists")
    );
    assert_eq!(
        callable(source, "Path(url).read_text", 0).as_deref(),
        Some("pathlib.Path().read_text")
    );
    assert_eq!(
        callable(source, "(p / 'x' / 'y').unlink", 0).as_deref(),
        Some("pathlib.Path().unlink")
    );
    assert_eq!(
        callable(source, "p.resolve().parent.mkdir", 0).as_deref(),
        Some("pathlib.Path().mkdir")
    );
    assert_eq!(
        callable(source, "fetch", 2).as_deref(),
        Some("requests.get")
    );
    assert_eq!(
        callable(source, "s.get", 2).as_deref(),
        Some("builtins.object().get"),
        "rebound to something else"
    );
}

#[test]
fn self_attribute_with_conflicting_values_is_unknown() {
    let source = "\
import httpx
class C:
    def __init__(self, sync):
        self.client = httpx.Client()
    def reset(self):
        self.client = httpx.AsyncClient()
    async def go(self):
        self.client.get('x')
";
    assert_eq!(callable(source, "self.client.get", 0), None);
}

#[test]
fn members_of_known_objects_and_called_instances_are_named() {
    let source = "\
from pymongo import MongoClient
from sqlalchemy.orm import sessionmaker

client = MongoClient()
users = client['bot'].users

class Repo:
    def __init__(self):
        self.db = client.shop

    async def order(self):
        self.db['orders'].find_one({})

SessionLocal = sessionmaker()

async def handler(plain):
    users.find_one({})
    SessionLocal().commit()
    plain.members.find_one({})
";
    assert_eq!(
        callable(source, "users.find_one", 0).as_deref(),
        Some("pymongo.MongoClient.*.*().find_one")
    );
    assert_eq!(
        callable(source, "self.db['orders'].find_one", 0).as_deref(),
        Some("pymongo.MongoClient.*.*().find_one")
    );
    assert_eq!(
        callable(source, "SessionLocal().commit", 0).as_deref(),
        Some("sqlalchemy.orm.sessionmaker().__call__().commit")
    );
    // A member of an object of no known kind stays unknown.
    assert_eq!(callable(source, "plain.members.find_one", 0), None);
}

#[test]
fn an_import_wins_over_its_fallback_in_an_except_import_error_handler() {
    let source = "try:\n    import redis\nexcept ImportError:\n    redis = None\n\
                  try:\n    from pymongo import MongoClient\nexcept (ImportError, OSError):\n    class MongoClient:\n        pass\n\
                  try:\n    import ujson as json\nexcept ImportError:\n    import json\n\
                  redis.Redis; MongoClient; json.loads\n\
                  async def f():\n    redis.Redis\n";
    assert_eq!(
        qualified(source, "redis.Redis").as_deref(),
        Some("redis.Redis")
    );
    assert_eq!(
        qualified_nth(source, "redis.Redis", 1).as_deref(),
        Some("redis.Redis")
    );
    assert_eq!(
        qualified_nth(source, "MongoClient", 2).as_deref(),
        Some("pymongo.MongoClient")
    );
    // A fallback that is itself an import is what runs without the first: the last wins.
    assert_eq!(
        qualified(source, "json.loads").as_deref(),
        Some("json.loads")
    );
    // Outside such a handler, a rebinding still shadows the import.
    let rebound = "import redis\nredis = None\nredis.Redis\n";
    assert_eq!(qualified(rebound, "redis.Redis"), None);
}

#[test]
fn a_generic_annotation_names_its_class() {
    let source = "\
import queue
from concurrent.futures import Future
from typing import Union

async def handler(q: queue.Queue[int], f: Future[str], u: Union[queue.Queue, int]):
    q.get()
    f.result()
    u.get()
";
    assert_eq!(
        callable(source, "q.get", 0).as_deref(),
        Some("queue.Queue().get")
    );
    assert_eq!(
        callable(source, "f.result", 0).as_deref(),
        Some("concurrent.futures.Future().result")
    );
    assert_eq!(callable(source, "u.get", 0), None);
}
