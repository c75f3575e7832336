//! The registry of compiled codemods: the bundled files compiled once (codes and names
//! unique), the user's configured calls added, and the lookups the analysis and the lexical
//! pre-pass make ("which codemods care about calls to `time.sleep`?", "could this file's text
//! call anything matched?").

use std::collections::{HashMap, HashSet};

use super::compile::{TITLE_PLACEHOLDERS, compile};
use super::{
    Codemod, CodemodError, ConfiguredCall, FixException, HttpxMapping, OffloadIdiom,
    SingleTaskData, Strategy, Template, ThreadAffine, ThreadSafe,
};
use crate::fix::Applicability;

include!(concat!(env!("OUT_DIR"), "/bundled_codemods.rs"));

/// Every compiled codemod, indexed for the analysis.
#[derive(Debug, Clone)]
pub struct Registry {
    codemods: Vec<Codemod>,
    by_call: HashMap<String, Vec<usize>>,
    /// The last segment of every matched call (`sleep`), a cheap pre-filter before name
    /// resolution.
    call_tails: HashSet<String>,
    /// For each matched call, the words a file must contain for a call to resolve to it.
    call_words: Vec<CallWords>,
    /// Every word in `call_words`.
    interesting_words: foldhash::HashSet<String>,
    /// Codemods (by index) that match calls of the file's own coroutine functions.
    coroutine_codemods: Vec<usize>,
    /// Codemods (by index) that match calls of project functions that block.
    blocking_codemods: Vec<usize>,
    /// Codemods (by index) whose matches make a synchronous function block.
    evidence_codemods: HashSet<usize>,
    /// Every codemod's `fixed-file-wide` modules, once each.
    modules_fixed_file_wide: Vec<String>,
    /// Those modules and the words the offload idioms read file-wide (`hass` of
    /// `self.hass`, `run_in_executor`): a file whose code has one is parsed whole.
    words_read_file_wide: Vec<String>,
    /// The words the offload idioms read file-wide, alone.
    idiom_words: Vec<String>,
    /// Every thread-affine object kind: `(codemod, family)` and how a message names it.
    thread_affine: HashMap<String, (usize, usize, String)>,
    /// The names of the matched methods of thread-affine objects (`execute`, `fetchone`), and
    /// of the objects of codemods followed through imports (`find_one`).
    thread_affine_methods: HashSet<String>,
    /// The object kinds whose methods a codemod follows through imports
    /// (`followed-through-imports`): `pymongo.MongoClient.*.*`.
    imported_kinds: HashSet<String>,
    /// The offload idioms a thread fix may use, the configuration's first, then every
    /// codemod's `[[offload-idiom]]` in order: the first a call site can use wins.
    offload_idioms: Vec<OffloadIdiom>,
    /// Every codemod's `[[lookup-by-name]]`.
    name_lookups: Vec<super::NameLookup>,
    /// Every codemod's `[single-task]`, merged: what the single-task recognition knows.
    single_task: SingleTaskData,
    /// The words of its entry calls and hooks (`run`, `lifespan`).
    single_task_words: Vec<String>,
    /// What moved code may call with no thread caveat: every `[moved-code]`'s lists.
    thread_safe: ThreadSafe,
}

/// What the pre-filters know of one matched call.
#[derive(Debug, Clone)]
pub struct CallWords {
    /// The words a file must contain for a call in it to resolve to this one (see
    /// [`required_words`]), `async` included when only async context counts.
    pub words: Vec<String>,
    /// The call's last segment (`sleep` in `time.sleep`), the name written before `(`
    /// unless the callee is an alias.
    pub tail: String,
    /// Only calls in async context are findings.
    pub async_only: bool,
    /// Only calls whose result is discarded are findings.
    pub result_discarded: bool,
    /// For a module's function (`os.path.exists`, not a method `Client().get` nor a builtin):
    /// the segment before the last (`path`), the name an attribute call is made on unless
    /// the module is imported under an alias.
    pub module: Option<String>,
    /// A method of an object (`requests.Session().get`): a plain name before `(` is never
    /// this call, unless it is bound to it.
    pub is_method: bool,
    /// A builtin (`builtins.open`): called by its plain name, or on `builtins`.
    pub is_builtin: bool,
    /// The codemod (by index) that matches the call.
    pub codemod: usize,
}

/// The words a file must contain for some call in it to resolve to `qualified`: every dotted
/// segment, because the import that brings the name in spells the module and the call or the
/// import spells the function (`import os.path as p; p.exists` has `os`, `path`, `exists`).
/// Builtins need no import, so `builtins.open` needs only `open`. A member of any name (`*`
/// in `pymongo.MongoClient.*().find_one`) needs no word.
fn required_words(qualified: &str) -> Vec<String> {
    let qualified = qualified.strip_prefix("builtins.").unwrap_or(qualified);
    qualified
        .split('.')
        .map(|segment| segment.trim_end_matches("()").to_owned())
        .filter(|word| word != "*")
        .collect()
}

/// The identifier-like words of `text` that are in `wanted`.
fn words_in<'t>(text: &'t str, wanted: &foldhash::HashSet<String>) -> foldhash::HashSet<&'t str> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut found = foldhash::HashSet::default();
    let mut i = 0;
    while i < bytes.len() {
        if is_word(bytes[i]) {
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            if wanted.contains(word) {
                found.insert(word);
            }
        } else {
            i += 1;
        }
    }
    found
}

impl Registry {
    /// The codemods bundled in the binary.
    pub fn bundled() -> Result<Registry, CodemodError> {
        Registry::from_files(BUNDLED_CODEMODS)
    }

    /// Compile `(origin, contents)` pairs; codes and names must be unique.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Registry, CodemodError> {
        let mut codemods: Vec<Codemod> = Vec::new();
        for (origin, text) in files {
            let codemod = compile(origin, text)?;
            if let Some(existing) = codemods
                .iter()
                .find(|c| c.code == codemod.code || c.name == codemod.name)
            {
                return Err(CodemodError {
                    origin: origin.to_string(),
                    message: format!(
                        "code `{}` / name `{}` is already used by {}",
                        codemod.code, codemod.name, existing.origin
                    ),
                });
            }
            codemods.push(codemod);
        }
        codemods.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Registry::index(codemods))
    }

    /// This registry plus one codemod per blocking call the user declared, each a copy of the
    /// bundled `from-configuration` codemod with the call and the fix it asks for.
    pub fn with_configured_calls(&self, calls: &[ConfiguredCall]) -> Result<Registry, String> {
        if calls.is_empty() {
            return Ok(self.clone());
        }
        let mut codemods = self.codemods.clone();
        for call in calls {
            let template = self
                .codemods
                .iter()
                .find(|c| c.from_configuration.as_deref() == Some(call.table))
                .ok_or_else(|| format!("no bundled codemod accepts configured {}", call.table))?;
            let mut codemod = template.clone();
            codemod.calls = vec![call.call.clone()];
            codemod.from_configuration = None;
            codemod.fixed_file_wide = Vec::new();
            codemod.lazy_calls = Default::default();
            codemod.fix_exceptions = Default::default();
            if let Some(reason) = &call.no_fix_reason {
                codemod.fix_exceptions.insert(
                    call.call.clone(),
                    FixException {
                        applicability: Applicability::DisplayOnly,
                        no_fix: true,
                        reason: reason.clone(),
                        unless_local_receiver: false,
                        not_evidence: false,
                        through_helpers: false,
                        message: None,
                    },
                );
            }
            codemod.applicability = call.applicability;
            codemod.strategy = call.strategy.clone();
            codemod.fix_title = call.strategy.as_ref().map(|strategy| {
                let title = match strategy {
                    Strategy::ToThread => "Run it in a worker thread: `await {replacement}(...)`",
                    _ => "Replace with `await {replacement}`",
                };
                Template::parse(title, TITLE_PLACEHOLDERS).expect("a valid built-in title")
            });
            codemods.push(codemod);
        }
        let mut registry = Registry::index(codemods);
        // The configuration's offload helpers, if already added, stay first.
        registry.offload_idioms = self.offload_idioms.clone();
        Ok(registry)
    }

    fn index(codemods: Vec<Codemod>) -> Registry {
        let mut by_call: HashMap<String, Vec<usize>> = HashMap::new();
        let mut call_tails = HashSet::new();
        let mut call_words = Vec::new();
        for (i, codemod) in codemods.iter().enumerate() {
            for call in &codemod.calls {
                by_call.entry(call.clone()).or_default().push(i);
                let tail = call.rsplit('.').next().unwrap_or(call).to_owned();
                call_tails.insert(tail.clone());
                let mut words = required_words(call);
                if codemod.async_only {
                    // Async context needs an `async def` in the file.
                    words.push("async".to_owned());
                }
                let segments: Vec<&str> = call.split('.').collect();
                let module =
                    (segments.len() >= 2 && segments[0] != "builtins" && !call.contains("()"))
                        .then(|| segments[segments.len() - 2].to_owned());
                call_words.push(CallWords {
                    words,
                    tail,
                    async_only: codemod.async_only,
                    result_discarded: codemod.result_discarded,
                    module,
                    is_method: call.contains("()"),
                    is_builtin: call.starts_with("builtins."),
                    codemod: i,
                });
            }
        }
        let mut interesting_words: foldhash::HashSet<String> = call_words
            .iter()
            .flat_map(|c| c.words.iter().cloned())
            .collect();
        let coroutine_codemods: Vec<usize> = codemods
            .iter()
            .enumerate()
            .filter(|(_, c)| c.project_coroutines)
            .map(|(i, _)| i)
            .collect();
        let blocking_codemods: Vec<usize> = codemods
            .iter()
            .enumerate()
            .filter(|(_, c)| c.project_blocking)
            .map(|(i, _)| i)
            .collect();
        if !coroutine_codemods.is_empty() || !blocking_codemods.is_empty() {
            interesting_words.insert("async".to_owned());
        }
        let mut single_task = SingleTaskData::default();
        for data in codemods.iter().filter_map(|c| c.single_task.as_ref()) {
            single_task.extend(data);
        }
        let single_task_words = single_task.words();
        // A script's entry point (`asyncio.run(main())`) or a framework's startup hook: fixes
        // that spare single-task code read every coroutine it reaches (`lexical::decide`).
        if codemods.iter().any(|c| c.unless_single_task) {
            interesting_words.extend(single_task_words.iter().cloned());
            // The module word of a new loop's entry call (`anyio` of `anyio.run(main)`): the
            // project pre-filter asks whether an entry file may run an imported coroutine.
            interesting_words.extend(
                single_task
                    .new_loop_calls
                    .iter()
                    .map(|call| call.split('.').next().unwrap_or(call).to_owned()),
            );
        }
        let evidence_codemods = codemods
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                blocking_codemods.iter().any(|&b| {
                    codemods[b]
                        .evidence
                        .iter()
                        .any(|selector| c.code.starts_with(selector.as_str()))
                })
            })
            .map(|(i, _)| i)
            .collect();
        let mut modules_fixed_file_wide: Vec<String> = Vec::new();
        for module in codemods.iter().flat_map(|c| &c.fixed_file_wide) {
            if !modules_fixed_file_wide.contains(module) {
                modules_fixed_file_wide.push(module.clone());
            }
        }
        let mut thread_affine = HashMap::new();
        for (c, codemod) in codemods.iter().enumerate() {
            for (f, family) in codemod.thread_affine.iter().enumerate() {
                for (kind, object) in &family.kinds {
                    thread_affine
                        .entry(kind.clone())
                        .or_insert((c, f, object.clone()));
                }
            }
        }
        let offload_idioms: Vec<OffloadIdiom> = codemods
            .iter()
            .flat_map(|c| c.offload_idioms.iter().cloned())
            .collect();
        let name_lookups = codemods
            .iter()
            .flat_map(|c| c.name_lookups.iter().cloned())
            .collect();
        let mut idiom_words: Vec<String> = Vec::new();
        for word in offload_idioms.iter().flat_map(|i| i.words_read_file_wide()) {
            if !idiom_words.iter().any(|w| w == word) {
                idiom_words.push(word.to_owned());
            }
            interesting_words.insert(word.to_owned());
        }
        let mut words_read_file_wide = modules_fixed_file_wide.clone();
        words_read_file_wide.extend(idiom_words.iter().cloned());
        let imported_kinds: HashSet<String> = codemods
            .iter()
            .filter(|c| c.followed_through_imports)
            .flat_map(|c| &c.calls)
            .filter_map(|call| Some(call.rsplit_once("().")?.0.to_owned()))
            .collect();
        let thread_affine_methods = by_call
            .keys()
            .filter_map(|call| call.rsplit_once("()."))
            .filter(|(kind, _)| {
                thread_affine.contains_key(*kind)
                    || imported_kinds.contains(*kind)
                    // A chain of one: `session.query(X).filter_by(...).update(...)`.
                    || thread_affine.keys().any(|affine| {
                        kind.strip_prefix(affine.as_str())
                            .is_some_and(|rest| rest.starts_with("()."))
                    })
            })
            .map(|(_, method)| method.to_owned())
            .collect();
        let mut thread_safe = ThreadSafe::default();
        for moved in codemods.iter().filter_map(|c| c.moved_code.as_ref()) {
            thread_safe
                .calls
                .extend(moved.thread_safe.calls.iter().cloned());
            thread_safe
                .builtins
                .extend(moved.thread_safe.builtins.iter().cloned());
            thread_safe
                .str_methods
                .extend(moved.thread_safe.str_methods.iter().cloned());
            thread_safe
                .test_case_bases
                .extend(moved.thread_safe.test_case_bases.iter().cloned());
            thread_safe
                .test_case_methods
                .extend(moved.thread_safe.test_case_methods.iter().cloned());
        }
        Registry {
            single_task,
            single_task_words,
            thread_safe,
            offload_idioms,
            name_lookups,
            words_read_file_wide,
            idiom_words,
            thread_affine,
            thread_affine_methods,
            imported_kinds,
            modules_fixed_file_wide,
            coroutine_codemods,
            blocking_codemods,
            evidence_codemods,
            codemods,
            by_call,
            call_tails,
            call_words,
            interesting_words,
        }
    }

    /// This registry with the offload helpers the configuration declares (`offload`), tried
    /// before the bundled idioms.
    pub fn with_offload(mut self, configured: &[OffloadIdiom]) -> Registry {
        let mut idioms = configured.to_vec();
        idioms.append(&mut self.offload_idioms);
        self.offload_idioms = idioms;
        self
    }

    /// What the single-task recognition knows of libraries and frameworks (`[single-task]`).
    pub fn single_task(&self) -> &SingleTaskData {
        &self.single_task
    }

    /// The words of the entry calls and startup hooks the single-task recognition reads:
    /// a file with one keeps every body (`lexical::decide`).
    pub fn single_task_words(&self) -> &[String] {
        &self.single_task_words
    }

    /// The calls moved code may make with no thread caveat.
    pub fn thread_safe(&self) -> &ThreadSafe {
        &self.thread_safe
    }

    /// The offload idioms a thread fix may use, in order of preference.
    pub fn offload_idioms(&self) -> &[OffloadIdiom] {
        &self.offload_idioms
    }

    /// The thread-affine family an object of `kind` belongs to (`sqlite3.connect().cursor`),
    /// and how a message names it (`sqlite3 cursor`).
    pub fn thread_affine(&self, kind: &str) -> Option<(&ThreadAffine, &str)> {
        let (c, f, object) = self.thread_affine.get(kind)?;
        Some((&self.codemods[*c].thread_affine[*f], object.as_str()))
    }

    /// The thread-affine kinds a method of an object of `kind` makes (`kind().session`),
    /// with their family and label.
    pub fn thread_affine_made_from<'s>(
        &'s self,
        kind: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s ThreadAffine, &'s str)> + 's {
        self.thread_affine.keys().filter_map(move |made| {
            let method = made.strip_prefix(kind)?.strip_prefix("().")?;
            if !method.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return None;
            }
            let (family, label) = self.thread_affine(made)?;
            Some((made.as_str(), family, label))
        })
    }

    /// Whether a codemod follows the methods of objects of `kind` kept in module globals
    /// imported from another module (`followed-through-imports`).
    pub fn follows_imported(&self, kind: &str) -> bool {
        self.imported_kinds.contains(kind)
    }

    /// Whether a codemod matches a method of that name on a thread-affine object (or on an
    /// object followed through imports).
    pub fn is_thread_affine_method(&self, name: &str) -> bool {
        self.thread_affine_methods.contains(name)
    }

    /// The names of the methods codemods match on thread-affine objects.
    pub fn thread_affine_methods(&self) -> impl Iterator<Item = &str> {
        self.thread_affine_methods.iter().map(String::as_str)
    }

    pub fn codemods(&self) -> &[Codemod] {
        &self.codemods
    }

    /// Whether a top-level module name is one whose calls some codemod matches (`redis`,
    /// `sqlite3`, `pymongo`): a library the catalogue knows.
    pub fn matches_library(&self, top: &str) -> bool {
        self.by_call
            .keys()
            .any(|call| call.split('.').next() == Some(top))
    }

    /// The requests → httpx mapping of the codemod whose fix migrates requests, if any.
    pub fn httpx_mapping(&self) -> Option<&HttpxMapping> {
        self.codemods.iter().find_map(|c| {
            let alternative = c.alternative.as_ref().map(|a| &a.strategy);
            match alternative.or(c.strategy.as_ref()) {
                Some(Strategy::HttpxClient(mapping)) => Some(mapping.as_ref()),
                _ => None,
            }
        })
    }

    pub fn get(&self, code: &str) -> Option<&Codemod> {
        self.codemods
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code) || c.name == code)
    }

    /// Codemods (by index) that match calls of the file's own coroutine functions.
    pub fn coroutine_codemods(&self) -> &[usize] {
        &self.coroutine_codemods
    }

    /// Codemods (by index) that match calls of project functions that block.
    pub fn blocking_codemods(&self) -> &[usize] {
        &self.blocking_codemods
    }

    /// Whether the matches of the codemod at `index` make a synchronous function block.
    pub fn is_evidence(&self, index: usize) -> bool {
        self.evidence_codemods.contains(&index)
    }

    /// Whether some codemod needs the project phase (cross-file summaries).
    pub fn needs_project(&self) -> bool {
        !self.coroutine_codemods.is_empty() || !self.blocking_codemods.is_empty()
    }

    /// The project objects libraries find by name (`[[lookup-by-name]]`).
    pub fn name_lookups(&self) -> &[super::NameLookup] {
        &self.name_lookups
    }

    /// Codemods (by index) that match calls to `qualified`.
    pub fn for_call(&self, qualified: &str) -> &[usize] {
        self.by_call.get(qualified).map_or(&[], Vec::as_slice)
    }

    pub fn codemod(&self, index: usize) -> &Codemod {
        &self.codemods[index]
    }

    /// Whether some call in `text` could resolve to a matched name: a cheap pre-filter (one
    /// scan of the bytes) that spares parsing files that cannot have a finding.
    pub fn may_match(&self, text: &str) -> bool {
        let (has_async, mut calls) = self.possible_calls(text);
        (self.needs_project() && has_async) || calls.next().is_some()
    }

    /// One scan of the bytes: whether the word `async` occurs, and the matched calls whose
    /// words all occur (the calls some call in `text` could resolve to).
    pub fn possible_calls<'r>(&'r self, text: &str) -> (bool, impl Iterator<Item = &'r CallWords>) {
        let found = words_in(text, &self.interesting_words);
        let has_async = found.contains("async");
        let possible: Vec<&CallWords> = self.calls_with_words(|w| found.contains(w)).collect();
        (has_async, possible.into_iter())
    }

    /// The matched calls whose words all satisfy `has_word`.
    pub fn calls_with_words(
        &self,
        has_word: impl Fn(&str) -> bool,
    ) -> impl Iterator<Item = &CallWords> {
        self.call_words
            .iter()
            .filter(move |call| call.words.iter().all(|w| has_word(w)))
    }

    /// Every word some [`CallWords`] needs (`async` included when needed).
    pub fn interesting_words(&self) -> &foldhash::HashSet<String> {
        &self.interesting_words
    }

    /// The modules whose fixes read more of a file than the function of the call (a
    /// `requests` session kept on `self` becomes an `AsyncClient` only if every use of the
    /// attribute in the file allows it): a file whose code names one is parsed with every
    /// function body.
    pub fn modules_fixed_file_wide(&self) -> &[String] {
        &self.modules_fixed_file_wide
    }

    /// The words that make a file's fixes read more of it than the function of the call:
    /// the modules fixed file-wide, and the words the offload idioms read file-wide
    /// ([`OffloadIdiom::words_read_file_wide`]). A file whose code has one is parsed whole.
    pub fn words_read_file_wide(&self) -> &[String] {
        &self.words_read_file_wide
    }

    /// The words the offload idioms read file-wide: a file whose code has one is parsed
    /// whole even when only the project rules may have findings in it (their fixes use the
    /// idiom too).
    pub fn offload_words_read_file_wide(&self) -> &[String] {
        &self.idiom_words
    }

    /// Whether some codemod matches a call whose last name segment is `tail`.
    pub fn cares_about_tail(&self, tail: &str) -> bool {
        self.call_tails.contains(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codemod::compile::tests::VALID;

    #[test]
    fn bundled_codemods_compile() {
        let registry = Registry::bundled().unwrap();
        assert!(registry.get("ASYNC251").is_some());
        assert!(registry.get("blocking-sleep").is_some());
    }

    #[test]
    fn pre_filter_needs_every_segment_as_a_word() {
        let registry = Registry::from_files(&[("x.toml", VALID)]).unwrap();
        assert!(registry.may_match("import time as t\nasync def f(): t.sleep(1)\n"));
        assert!(registry.may_match("from time import sleep\nasync def f(): pass\n"));
        assert!(
            !registry.may_match("import time\nt.sleep(1)\n"),
            "async context needs `async`"
        );
        assert!(!registry.may_match("import time\nasync def f(): time.time()\n"));
        assert!(!registry.may_match("async def f(): timed.sleeping\n"));
        let builtin = VALID.replace("time.sleep", "builtins.open");
        let registry = Registry::from_files(&[("x.toml", &builtin)]).unwrap();
        assert!(registry.may_match("async def f(): open(p)\n"));
        assert!(!registry.may_match("async def f(): await reopen(p)\n"));
        let anywhere = VALID.replace(
            "calls = [\"time.sleep\"]",
            "calls = [\"time.sleep\"]\ncontext = \"anywhere\"",
        );
        let registry = Registry::from_files(&[("x.toml", &anywhere)]).unwrap();
        assert!(registry.may_match("import time\ntime.sleep(1)\n"));
    }

    #[test]
    fn configured_cpu_bound_calls_copy_unf105_with_or_without_a_fix() {
        let registry = Registry::bundled().unwrap();
        let calls = [
            ConfiguredCall::compile_cpu_bound("imaging.render", true).unwrap(),
            ConfiguredCall::compile_cpu_bound("reports.Builder().build", false).unwrap(),
            ConfiguredCall::compile("legacy.db.query", Some("to-thread"), None, &[], None).unwrap(),
        ];
        let registry = registry.with_configured_calls(&calls).unwrap();
        let codemod = |call: &str| {
            let found = registry.for_call(call);
            assert_eq!(found.len(), 1, "{call}");
            registry.codemod(found[0])
        };
        let render = codemod("imaging.render");
        assert_eq!(render.code, "UNF105");
        assert_eq!(render.calls, ["imaging.render"]);
        assert!(render.fix_exceptions.is_empty() && render.strategy.is_some());
        let build = codemod("reports.Builder().build");
        assert_eq!(build.code, "UNF105");
        let exception = &build.fix_exceptions["reports.Builder().build"];
        assert!(exception.no_fix && exception.reason.contains("ProcessPoolExecutor"));
        assert_eq!(codemod("legacy.db.query").code, "ASYNC200");
        // The bundled UNF105 still matches its own calls, once.
        assert_eq!(codemod("hashlib.pbkdf2_hmac").code, "UNF105");
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let err = Registry::from_files(&[("a.toml", VALID), ("b.toml", VALID)]).unwrap_err();
        assert_eq!(err.origin, "b.toml");
        assert!(err.message.contains("already used by a.toml"));
    }
}
