//! The decisions the lexical pre-pass makes before any parse: whether a file needs the full
//! analysis at all ([`needs_analysis`]: a substring step, then the scan's facts), and which
//! function bodies the parse checking a fix round's result may leave out
//! ([`bodies_a_fix_round_leaves_out`]). Both read the registry's matched calls and the rule
//! selection; what the text tells is `facts.rs`.

use std::ops::Range;

use super::facts::LexicalFacts;
use crate::codemod::{CallWords, Registry};
use crate::settings::RuleSelection;

/// Whether `text` can have a finding of some codemod in `registry` and so needs the full
/// analysis. `false` means no call in it can be a finding: the file is skipped.
pub fn needs_analysis(text: &str, registry: &Registry, selection: &RuleSelection) -> bool {
    if !may_need_analysis(text, registry, selection) {
        return false;
    }
    // The scan could not follow the file (e.g. a syntax error): analyze it.
    LexicalFacts::scan(text, registry.interesting_words())
        .is_none_or(|facts| facts.needs_analysis(registry, selection))
}

/// The first, substring step of [`needs_analysis`]: a finding in async context needs an
/// `async def` (so does a coroutine of the file), a finding anywhere its call's name. `false`
/// decides most files without a scan.
pub fn may_need_analysis(text: &str, registry: &Registry, selection: &RuleSelection) -> bool {
    text.contains("async")
        || registry
            .calls_with_words(|_| true)
            .filter(|call| !call.async_only && is_enabled(call, registry, selection))
            .any(|call| text.contains(call.tail.as_str()))
}

fn is_enabled(call: &CallWords, registry: &Registry, selection: &RuleSelection) -> bool {
    let codemod = registry.codemod(call.codemod);
    selection.is_enabled(&codemod.code, codemod.default_enabled)
}

impl LexicalFacts<'_> {
    /// The second step of [`needs_analysis`], on the scan of a file that passed the first.
    pub fn needs_analysis(&self, registry: &Registry, selection: &RuleSelection) -> bool {
        let call_may_match = registry
            .calls_with_words(|word| self.code_words.contains(word))
            .filter(|call| is_enabled(call, registry, selection))
            .any(|call| self.may_call(call));
        if call_may_match {
            return true;
        }
        self.code_words.contains("async")
            && registry.coroutine_codemods().iter().any(|&i| {
                let codemod = registry.codemod(i);
                selection.is_enabled(&codemod.code, codemod.default_enabled)
                    && self.own_calls.iter().any(|call| {
                        self.async_defs.contains(call.name)
                            && (call.in_async || !codemod.async_only)
                            && (call.may_be_discarded || !codemod.result_discarded)
                    })
            })
    }
}

/// The function bodies of a fixed text that the parse checking it may leave out, for the
/// next round of fixes (see `fix::CheckMask`): the bodies that overlap or touch none of
/// `keep` (the code the fixes changed, and the findings left in it).
///
/// A round only looks for what the fixes made possible (a call nested in a fixed call,
/// a call the fixes' imports resolve) and for findings whose fixes were skipped; a body the
/// fixes did not change and that holds no finding has none the next round could fix. Every
/// body stays where one body's code decides another's fix: in a file naming a module fixed
/// file-wide (a `requests` session held on `self`), when a rule on coroutine calls counts
/// them outside coroutines, or when a call whose fix spares single-task scripts is named (its
/// fix reads the coroutines the entry point reaches); and so do pinned bodies (an attribute's assignment gives it a
/// kind other bodies read; `yield`, `global`, a suppression comment). Nothing is left out
/// of a text the tokenizer cannot follow.
pub fn bodies_a_fix_round_leaves_out(
    text: &str,
    keep: &[Range<usize>],
    registry: &Registry,
) -> Vec<Range<usize>> {
    if registry
        .coroutine_codemods()
        .iter()
        .any(|&i| !registry.codemod(i).async_only)
    {
        return Vec::new();
    }
    let Some(facts) = LexicalFacts::scan_functions(text, registry.interesting_words()) else {
        return Vec::new();
    };
    if registry
        .words_read_file_wide()
        .iter()
        .any(|module| facts.code_has_word(module))
    {
        return Vec::new();
    }
    // Whether moving a call or a block that reads or writes a file is safe depends on the
    // module's other uses of that file, a helper's use through its parameter among them
    // (`analyze/shared_files.rs`): a body left out would hide them, and a later round would
    // apply the fix that the first round (and `check`) called unsafe.
    if registry
        .codemods()
        .iter()
        .filter_map(|codemod| codemod.moved_code.as_ref())
        .flat_map(|moved| moved.files.keys())
        .any(|call| facts.code_has_word(call.rsplit('.').next().unwrap_or(call)))
    {
        return Vec::new();
    }
    // Whether `input()` gets a fix depends on every coroutine its script's entry point
    // reaches (`analyze/entry.rs`): a body left out would be a doubt, and a later round would
    // move the call that the first round (and `check`) left. Only in a script with an entry
    // point (`asyncio.run`, `run_until_complete`).
    let has_entry = registry
        .single_task_words()
        .iter()
        .any(|word| facts.code_has_word(word));
    if has_entry
        && registry.codemods().iter().any(|codemod| {
            codemod.unless_single_task
                && (codemod.project_blocking
                    || codemod
                        .calls
                        .iter()
                        .any(|call| facts.code_has_word(call.rsplit('.').next().unwrap_or(call))))
        })
    {
        return Vec::new();
    }
    // Whether a kept range touches `body`: the kept ranges sorted by start, each with the
    // furthest end so far, so one binary search answers (not a look at every range per body).
    let mut kept: Vec<(usize, usize)> = keep.iter().map(|k| (k.start, k.end)).collect();
    kept.sort_unstable();
    let mut furthest = 0;
    for range in &mut kept {
        furthest = furthest.max(range.1);
        range.1 = furthest;
    }
    let touches_kept = |body: &Range<usize>| {
        let starting_before = kept.partition_point(|&(start, _)| start <= body.end);
        starting_before > 0 && kept[starting_before - 1].1 >= body.start
    };
    facts
        .bodies
        .iter()
        .filter(|body| !body.pinned && !touches_kept(&body.range))
        .map(|body| body.range.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(text: &str) -> bool {
        needs_analysis(
            text,
            &Registry::bundled().unwrap(),
            &RuleSelection::default(),
        )
    }

    #[test]
    fn a_matched_call_in_an_async_def_needs_analysis() {
        assert!(needs("import time\nasync def f():\n    time.sleep(1)\n"));
        assert!(needs(
            "from time import sleep\nasync def f():\n    sleep(1)\n"
        ));
        assert!(needs("async def f(p):\n    return open(p)\n"));
        assert!(needs("async def f(p): return open(p)\n"));
        assert!(needs(
            "import time\nasync def f():\n    x = f'{time.sleep(1)}'\n"
        ));
        assert!(needs(
            "import time\nasync def f():\n  if x:\n\tpass\n  time.sleep(1)\n"
        ));
    }

    #[test]
    fn an_alias_or_a_bound_name_needs_analysis() {
        assert!(needs(
            "from time import sleep as nap\nasync def f():\n    nap(1)\n"
        ));
        assert!(needs("import time as t\nasync def f():\n    t.sleep(1)\n"));
        assert!(needs(
            "import time\nnap = time.sleep\nasync def f():\n    nap(1)\n"
        ));
        assert!(needs(
            "import os.path\nasync def f(p):\n    (os.path).exists(p)\n"
        ));
    }

    #[test]
    fn files_without_a_possible_finding_are_skipped() {
        // Only in a sync function, in a comment, in a string, or a dict's `get`.
        assert!(!needs(
            "import time\ndef g():\n    time.sleep(1)\nasync def f():\n    pass\n"
        ));
        assert!(!needs(
            "import time\nasync def f():\n    # time.sleep(1)\n    pass\n"
        ));
        assert!(!needs(
            "import time\nasync def f():\n    '''time.sleep(1)'''\n"
        ));
        assert!(!needs(
            "import httpx\nasync def f(d):\n    return d.get('k')\n"
        ));
        assert!(!needs("x = 1\n"));
        // A sync helper nested in a coroutine is not async context...
        assert!(!needs(
            "async def f(p):\n    def read():\n        return open(p)\n    return read\n"
        ));
        assert!(!needs(
            "async def f(p):\n    class A:\n        x = open(p)\n    return A\n"
        ));
    }

    #[test]
    fn a_plain_name_is_a_modules_function_only_when_imported_by_name() {
        // `get` is `requests.get` only through `from requests import get` (or `*`).
        assert!(needs(
            "from requests import get\nasync def f(u):\n    get(u)\n"
        ));
        assert!(needs(
            "from requests import *\nasync def f(u):\n    get(u)\n"
        ));
        assert!(!needs("import requests\nasync def f(u):\n    get(u)\n"));
        // From its own module (`os.path.exists`: a module whose last segment is `path`), not
        // from another one; under another name, it is the function it names.
        assert!(needs(
            "from os.path import exists\nasync def f(p):\n    exists(p)\n"
        ));
        assert!(!needs(
            "from dataclasses import replace\nasync def f(c):\n    replace(c, a=1)\n"
        ));
        assert!(needs(
            "from os import rename as replace\nasync def f(c):\n    replace(c, a=1)\n"
        ));
        // A `def` or `class` header names no call: a method `open` is no call of `open()`.
        assert!(!needs(
            "class A:\n    async def open(self):\n        return 1\n"
        ));
        assert!(needs(
            "class A:\n    async def f(self):\n        open(self)\n"
        ));
        // A method is never called by a plain name.
        assert!(!needs(
            "import requests\nasync def f(u):\n    s = requests.Session\n    close()\n"
        ));
    }

    #[test]
    fn a_bound_name_counts_only_when_it_may_stand_for_the_call() {
        assert!(needs(
            "import requests\nfetch: object = requests.get\nasync def f(u):\n    fetch(u)\n"
        ));
        assert!(needs(
            "import requests\nfetch = requests.get\ng = fetch\nasync def f(u):\n    g(u)\n"
        ));
        assert!(needs(
            "import requests as r\nalias = r\nasync def f(u):\n    alias.get(u)\n"
        ));
        // Names bound to other things do not let the file through.
        assert!(!needs(
            "import requests\nhandler = app.route\nasync def f(u):\n    handler(u)\n"
        ));
        assert!(!needs(
            "import requests\nasync def f(u, data: dict):\n    with lock as held:\n        held(u)\n    data.get(u)\n"
        ));
        // A cycle of names ends.
        assert!(!needs(
            "import requests\na = b\nb = a\nasync def f(u):\n    a(u)\n"
        ));
    }

    #[test]
    fn a_method_on_a_chain_counts_only_on_an_attribute_of_self_a_method_assigns() {
        let class = |init: &str| {
            format!(
                "import httpx\nclass A:\n    def __init__(self):\n{init}\n    async def f(self, u):\n        return self.client.get(u)\n"
            )
        };
        assert!(needs(&class("        self.client = httpx.Client()")));
        assert!(needs(&class("        self.client: httpx.Client = make()")));
        assert!(needs(&class("        a = self.client = httpx.Client()")));
        // Never assigned on `self` (a class attribute gives the index no kind), or another
        // attribute assigned.
        assert!(!needs(&class("        pass")));
        assert!(!needs(&class("        self.other = httpx.Client()")));
        // A deeper chain, or a chain on another name: no kind.
        for call in ["self.a.client.get(u)", "a.client.get(u)", "f().a.get(u)"] {
            let text = format!(
                "import httpx\nclass A:\n    def __init__(self):\n        self.client = httpx.Client()\n    async def f(self, a, u):\n        return {call}\n"
            );
            assert!(!needs(&text), "{call}");
        }
        // A call's result may be known: `make().get()`.
        assert!(needs(
            "import httpx\nasync def f(u):\n    return httpx.Client().get(u)\n"
        ));
    }

    #[test]
    fn a_method_on_a_class_attribute_counts_when_the_class_body_binds_its_kind() {
        let class = |value: &str| {
            format!(
                "import sqlite3\nclass Store:\n    con = {value}\nasync def f():\n    Store.con.commit()\n"
            )
        };
        assert!(needs(&class("sqlite3.connect(\"x.db\")")));
        assert!(!needs(&class("{}")));
        // Not after a longer chain or a call.
        assert!(!needs(
            "import sqlite3\nclass Store:\n    con = sqlite3.connect(\"x\")\nasync def f(a):\n    a.b.con.commit()\n"
        ));
    }

    #[test]
    fn a_method_counts_only_on_a_receiver_whose_kind_may_be_its_class() {
        let kind = "import requests\nKIND = requests.Session\n";
        for (body, through) in [
            ("    s = requests.Session()\n    s.get(u)\n", true),
            ("    s = requests.Session(); s.get(u)\n", true),
            (
                "    s: Optional[requests.Session] = None\n    s.get(u)\n",
                true,
            ),
            ("    s: Final = requests.Session()\n    s.get(u)\n", true),
            (
                "    with requests.Session() as s:\n        s.get(u)\n",
                true,
            ),
            // Through another typed name, or an alias, the kind may still be it.
            ("    s = KIND()\n    t = s\n    t.get(u)\n", true),
            // A dict, another class: not a Session.
            ("    options: Options = {}\n    options.get(u)\n", false),
            ("    options = {}\n    options.get(u)\n", false),
            ("    cache = Cache(); cache.get(u)\n", false),
        ] {
            let text = format!("{kind}async def f(u):\n{body}");
            assert_eq!(needs(&text), through, "{text}");
        }
        // Only the bindings the call's scope sees: not a sibling function's, unless `global`
        // makes it the module's.
        let sibling = "def other(self):\n    options = self.session\n";
        assert!(!needs(&format!(
            "{kind}{sibling}async def f(u):\n    options = {{}}\n    options.get(u)\n"
        )));
        assert!(needs(&format!(
            "{kind}{sibling}class A:\n    async def f(self, u):\n        options.get(u)\n    options = KIND()\n"
        )));
        assert!(needs(&format!(
            "{kind}def setup():\n    global s\n    s = requests.Session()\nasync def f(u):\n    s.get(u)\n"
        )));
        assert!(!needs(&format!(
            "{kind}def setup():\n    s = requests.Session()\nasync def f(u):\n    s.get(u)\n"
        )));
        // A parameter's annotation is its kind.
        assert!(needs(&format!(
            "{kind}async def f(u, s: requests.Session):\n    s.get(u)\n"
        )));
        assert!(!needs(&format!(
            "{kind}async def f(u, s: Options):\n    s.get(u)\n"
        )));
        assert!(needs(
            "from requests import Session as S\nasync def f(u):\n    s = S()\n    s.get(u)\n"
        ));
    }

    #[test]
    fn rules_that_are_not_enabled_let_nothing_through() {
        let registry = Registry::bundled().unwrap();
        // UNF402 (gather) is off by default.
        let gather = "import asyncio\nasync def f(a, b):\n    await asyncio.gather(a, b)\n";
        assert!(!needs_analysis(
            gather,
            &registry,
            &RuleSelection::default()
        ));
        let selected = RuleSelection {
            extend_select: ["UNF402".to_owned()].into_iter().collect(),
            ..RuleSelection::default()
        };
        assert!(needs_analysis(gather, &registry, &selected));
        let ignored = RuleSelection {
            ignore: ["ASYNC251".to_owned()].into_iter().collect(),
            ..RuleSelection::default()
        };
        let sleep = "import time\nasync def f():\n    time.sleep(1)\n";
        assert!(!needs_analysis(sleep, &registry, &ignored));
    }

    #[test]
    fn a_nested_functions_header_runs_in_the_coroutine() {
        // ...but its parameter defaults are evaluated in the coroutine, and so is what
        // follows it.
        assert!(needs(
            "async def f(p):\n    def read(x=open(p)):\n        return x\n    return read\n"
        ));
        assert!(needs(
            "async def f(p):\n    def read():\n        pass\n    return open(p)\n"
        ));
    }

    #[test]
    fn own_coroutines_need_analysis_only_where_a_result_may_be_discarded() {
        let discarded = "async def g():\n    pass\nasync def f():\n    g()\n";
        assert!(needs(discarded));
        assert!(needs(
            "class A:\n    async def g(self):\n        pass\n    async def f(self):\n        self.g()\n"
        ));
        assert!(!needs(
            "async def g():\n    pass\nasync def f():\n    await g()\n"
        ));
    }

    #[test]
    fn a_modules_function_needs_the_module_or_an_import_alias_as_receiver() {
        assert!(needs(
            "import httpx as hx\nasync def f(u):\n    hx.get(u)\n"
        ));
        assert!(needs(
            "from os import path\nasync def f(p):\n    path.exists(p)\n"
        ));
        // `as client` in a `with` is not an import: `client.get` is not `httpx.get`.
        assert!(!needs(
            "import httpx\nasync def f(u):\n    async with httpx.AsyncClient() as client:\n        await client.get(u)\n"
        ));
    }

    #[test]
    fn a_call_matched_only_when_discarded_needs_a_statement_or_assignment() {
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f():\n    t = asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f():\n    loop = asyncio.get_event_loop()\n    loop.create_task(g())\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f(tasks):\n    tasks.append(asyncio.create_task(g()))\n    await asyncio.create_task(g())\n"
        ));
        // A chain through a call is seen whole: what it follows decides.
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.get_running_loop().create_task(g())\n"
        ));
        assert!(needs(
            "import asyncio\ndef f(x):\n    if x: (asyncio).create_task(g())\n"
        ));
        for kept in [
            "    return asyncio.get_running_loop().create_task(g())\n",
            "    run(task=asyncio.create_task(g()))\n",
            "    run({'t': asyncio.get_event_loop().create_task(g())})\n",
            "    run(lambda: asyncio.create_task(g()))\n",
            "    x = 1 + asyncio.create_task(g())\n",
        ] {
            let text = format!("import asyncio\ndef f():\n{kept}");
            assert!(!needs(&text), "{text}");
        }
    }

    #[test]
    fn an_own_coroutine_call_counts_only_where_its_result_may_be_thrown_away() {
        let coroutine = "async def job():\n    pass\n";
        assert!(needs(&format!("{coroutine}async def f():\n    job()\n")));
        assert!(needs(&format!(
            "{coroutine}async def f():\n    j = job()\n"
        )));
        for kept in [
            "    await job()\n",
            "    run(cb=job())\n",
            "    j = job()\n    await j\n",
            "    return [job()]\n",
        ] {
            let text = format!("{coroutine}async def f():\n{kept}");
            assert!(!needs(&text), "{text}");
        }
    }

    #[test]
    fn a_task_assigned_to_a_local_is_discarded_only_if_never_used_again() {
        assert!(needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    return 1\n"
        ));
        // Read afterwards (in a nested function too), or kept on an attribute or at module
        // level: the task is referenced.
        assert!(!needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    await task\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\n    def done():\n        return task\n    return done\n"
        ));
        assert!(!needs(
            "import asyncio\nasync def f(self):\n    self.task = asyncio.create_task(g())\n"
        ));
        assert!(!needs("import asyncio\ntask = asyncio.create_task(g())\n"));
        // The same name read in another function does not keep this one.
        assert!(needs(
            "import asyncio\nasync def f():\n    task = asyncio.create_task(g())\nasync def h(task):\n    await task\n"
        ));
    }

    #[test]
    fn anywhere_codemods_and_unreadable_text_need_analysis() {
        assert!(needs(
            "import asyncio\ndef f():\n    asyncio.create_task(g())\n"
        ));
        assert!(needs(
            "import time\nasync def f():\n    x = 'open\n    time.sleep(1)\n"
        ));
        assert!(needs("import time\nasync def f():\n    x = (1\n"));
    }

    #[test]
    fn a_fix_round_leaves_out_the_bodies_no_fix_changed_unless_pinned_or_requests() {
        let registry = Registry::bundled().unwrap();
        let text = "import time\n\nclass C:\n    def __init__(self):\n        self.n = 1\n\n    async def a(self):\n        time.sleep(1)\n\n    async def b(self):\n        return self.n\n\ndef c():\n    return 2\n";
        let changed = text.find("time.sleep").unwrap();
        let left_out: Vec<&str> = bodies_a_fix_round_leaves_out(
            text,
            std::slice::from_ref(&(changed..changed + 13)),
            &registry,
        )
        .into_iter()
        .map(|body| text[body].trim_end())
        .collect();
        // `__init__` assigns an attribute (pinned), `a` was changed.
        assert_eq!(left_out, ["return self.n", "return 2"]);
        let with_requests = format!("import requests\n{text}");
        assert!(bodies_a_fix_round_leaves_out(&with_requests, &[], &registry).is_empty());
    }
}
