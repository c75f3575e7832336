//! Structured mutations of the codemod fixtures (tests/fixtures/codemods/*.py): the input picks
//! a fixture and a list of edits made of whole lines and Python tokens (the ones the codemods
//! care about, plus layout: tabs, CRLF, form feeds, continuation lines, cookies), so most
//! mutants stay close to real code and reach the rewrite strategies, not just the parser.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use unfreeze::config::HttpClient;

#[path = "invariants.rs"]
mod invariants;

/// Text fragments inserted by the mutations.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "=",
    "*",
    "**",
    " ",
    "\n",
    "    ",
    "\t",
    "\r\n",
    "\r",
    "\x0c",
    "\\\n",
    "#",
    "# noqa\n",
    "# noqa: ASYNC251\n",
    "'",
    "\"",
    "'''",
    "\"\"\"",
    "f\"{x}\"",
    "b'x'",
    "\u{feff}",
    "é",
    "# -*- coding: latin-1 -*-\n",
    "await ",
    "async ",
    "async def f():\n    ",
    "async def g(a, *args, **kw):\n    ",
    "def h():\n    ",
    "lambda: ",
    "class C:\n    ",
    "@decorator\n",
    "return ",
    "yield ",
    "if x:\n    ",
    "else:\n    ",
    "elif y:\n    ",
    "for i in x:\n    ",
    "while x:\n    ",
    "try:\n    ",
    "except Exception:\n    ",
    "except requests.RequestException as e:\n    ",
    "finally:\n    ",
    "with ",
    "async with ",
    " as s:\n    ",
    "pass\n",
    "del ",
    "global x\n",
    "nonlocal x\n",
    "match x:\n    case 1:\n        ",
    "x = ",
    "y := ",
    "not ",
    " and ",
    " or ",
    " if c else ",
    "[v for v in w]",
    "(v async for v in w)",
    "import time\n",
    "import time as t\n",
    "from time import sleep\n",
    "from time import sleep as nap\n",
    "import requests\n",
    "import requests as rq\n",
    "from requests import get, Session\n",
    "import asyncio\n",
    "import os\n",
    "import subprocess\n",
    "import urllib.request\n",
    "import socket\n",
    "import shutil\n",
    "import redis\n",
    "import sqlite3\n",
    "import anyio\n",
    "import trio\n",
    "import httpx\n",
    "from __future__ import annotations\n",
    "\"\"\"Docstring.\"\"\"\n",
    "__all__ = ['time']\n",
    "time.sleep(1)",
    "t.sleep(0.5)",
    "sleep(x)",
    "nap(2)",
    "requests.get(url)",
    "requests.post(url, json=data, timeout=5)",
    "rq.get(u, params=p)",
    "get(u)",
    "requests.Session()",
    "session = requests.Session()\n",
    "s.get(u).json()",
    "with requests.Session() as s:\n    ",
    ".raise_for_status()",
    ".status_code",
    ".text",
    "open(p)",
    "open(p).read()",
    "subprocess.run(cmd)",
    "os.path.exists(p)",
    "input()",
    "urllib.request.urlopen(u)",
    "socket.getaddrinfo(h, 80)",
    "shutil.rmtree(p)",
    "redis.Redis().get(k)",
    "sqlite3.connect(db)",
    "asyncio.gather(a(), b())",
    "asyncio.create_task(c())",
    "asyncio.run(main())",
    "coro()",
    "self.fetch()",
    "anyio.sleep(1)",
    "trio.sleep(1)",
];

const LINE_WRAPPERS: &[&str] = &[
    "async def wrapped():\n",
    "def wrapped():\n",
    "class Wrapped:\n",
    "if True:\n",
    "with ctx:\n",
    "try:\n",
    "for item in items:\n",
];

const INDENTS: &[&str] = &["    ", "\t", "  ", " \t", "        "];

#[derive(Arbitrary, Debug)]
enum Mutation {
    InsertToken {
        at: u16,
        token: u8,
    },
    DeleteBytes {
        at: u16,
        len: u8,
    },
    DuplicateLine {
        line: u16,
    },
    DeleteLine {
        line: u16,
    },
    SwapLines {
        first: u16,
        second: u16,
    },
    Indent {
        line: u16,
        indent: u8,
    },
    Dedent {
        line: u16,
    },
    /// Put the line inside a new block (its body indented).
    WrapLine {
        line: u16,
        wrapper: u8,
        indent: u8,
    },
    /// Copy a line of another fixture in.
    GraftLine {
        fixture: u8,
        line: u16,
        at: u16,
    },
    InsertText {
        at: u16,
        text: String,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    fixture: u8,
    init_file: bool,
    httpx2: bool,
    crlf: bool,
    mutations: Vec<Mutation>,
}

fn fixtures() -> &'static [String] {
    static FIXTURES: OnceLock<Vec<String>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/codemods");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("the codemod fixtures are there")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "py"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("a fixture is UTF-8"))
            .collect()
    })
}

fn pick<T: Copy>(items: &[T], index: impl Into<usize>) -> T {
    items[index.into() % items.len()]
}

/// The nearest char boundary at or before `at % (len + 1)`.
fn position(text: &str, at: u16) -> usize {
    let mut at = usize::from(at) % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

fn apply(text: &mut String, mutation: &Mutation) {
    match mutation {
        Mutation::InsertToken { at, token } => {
            let at = position(text, *at);
            text.insert_str(at, pick(TOKENS, *token));
        }
        Mutation::DeleteBytes { at, len } => {
            let start = position(text, *at);
            let mut end = (start + usize::from(*len) % 16).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, "");
        }
        Mutation::InsertText { at, text: inserted } => {
            let at = position(text, *at);
            text.insert_str(at, inserted);
        }
        _ => {
            let mut all = lines(text);
            if all.is_empty() {
                return;
            }
            let count = all.len();
            let line = |n: u16| usize::from(n) % count;
            match mutation {
                Mutation::DuplicateLine { line: n } => {
                    let n = line(*n);
                    all.insert(n, all[n].clone());
                }
                Mutation::DeleteLine { line: n } => {
                    all.remove(line(*n));
                }
                Mutation::SwapLines { first, second } => {
                    let (a, b) = (line(*first), line(*second));
                    all.swap(a, b);
                }
                Mutation::Indent { line: n, indent } => {
                    all[line(*n)].insert_str(0, pick(INDENTS, *indent));
                }
                Mutation::Dedent { line: n } => {
                    let n = line(*n);
                    let trimmed = all[n].trim_start_matches([' ', '\t']).to_owned();
                    all[n] = trimmed;
                }
                Mutation::WrapLine {
                    line: n,
                    wrapper,
                    indent,
                } => {
                    let n = line(*n);
                    let current = all[n].clone();
                    let leading: String = current
                        .chars()
                        .take_while(|c| *c == ' ' || *c == '\t')
                        .collect();
                    all[n] = format!(
                        "{leading}{}{leading}{}{}",
                        pick(LINE_WRAPPERS, *wrapper),
                        pick(INDENTS, *indent),
                        current.trim_start_matches([' ', '\t'])
                    );
                }
                Mutation::GraftLine {
                    fixture,
                    line: source_line,
                    at,
                } => {
                    let other = lines(&fixtures()[usize::from(*fixture) % fixtures().len()]);
                    if !other.is_empty() {
                        let grafted = other[usize::from(*source_line) % other.len()].clone();
                        let at = usize::from(*at) % (all.len() + 1);
                        all.insert(at, grafted);
                    }
                }
                _ => unreachable!("handled above"),
            }
            *text = all.concat();
        }
    }
}

fuzz_target!(|input: Input| {
    let mut text = fixtures()[usize::from(input.fixture) % fixtures().len()].clone();
    for mutation in input.mutations.iter().take(32) {
        apply(&mut text, mutation);
    }
    if input.crlf {
        text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    let name = if input.init_file {
        "__init__.py"
    } else {
        "fuzz.py"
    };
    let client = if input.httpx2 {
        HttpClient::Httpx2
    } else {
        HttpClient::Httpx
    };
    invariants::check(text.as_bytes(), name, client);
});
