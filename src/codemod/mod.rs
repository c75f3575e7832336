//! Codemods: loading `codemods/*.toml` (embedded in the binary), compiling and validating them
//! once into [`Codemod`]s, and the registry the analysis queries ("which codemods care about
//! calls to `time.sleep`?").

mod gather;
mod httpx;
mod offload;
mod raw;
pub mod strategy;
mod template;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use strategy::{Site, Strategy};
pub use template::Template;

use crate::fix::Applicability;
use raw::RawCodemod;

include!(concat!(env!("OUT_DIR"), "/bundled_codemods.rs"));

/// The user documentation of a codemod, printed by `unfreeze explain`.
#[derive(Clone, Debug)]
pub struct Docs {
    pub what: String,
    pub why: String,
    pub example: String,
    pub use_instead: String,
    pub fix_safety: String,
}

/// A second fix, preferred when the run reaches its applicability (`[alternative-fix]`).
#[derive(Clone, Debug)]
pub struct AlternativeFix {
    pub strategy: Strategy,
    pub title: Template,
    pub applicability: Applicability,
}

/// A lower applicability for some of a codemod's calls (`[[fix.exceptions]]`).
#[derive(Clone, Debug)]
pub struct FixException {
    pub applicability: Applicability,
    pub reason: String,
    /// Not when the receiver is a local object of the calling function.
    pub unless_local_receiver: bool,
    /// Not evidence that a project function calling it blocks (`not-evidence`).
    pub not_evidence: bool,
    /// The finding's message for these calls, when the codemod's would misdescribe them.
    pub message: Option<Template>,
}

/// A compiled, validated codemod.
#[derive(Clone, Debug)]
pub struct Codemod {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub message: Template,
    pub applicability: Applicability,
    pub default_enabled: bool,
    /// Qualified names whose calls are findings.
    pub calls: Vec<String>,
    /// Whether only calls in async context are findings.
    pub async_only: bool,
    /// Whether only calls whose result is discarded are findings.
    pub result_discarded: bool,
    /// A template for the user's `blocking-calls`: it matches nothing by itself.
    pub from_configuration: bool,
    /// Matches calls of the file's own coroutine functions instead of named calls.
    pub project_coroutines: bool,
    /// Matches calls of project functions that block (see `[match] project-blocking`).
    pub project_blocking: bool,
    /// With `project_blocking`: the codes (or prefixes) whose matches are blocking evidence.
    pub evidence: Vec<String>,
    /// Calls returning lazy iterators: findings only where consumed on the spot.
    pub lazy_calls: HashSet<String>,
    /// Exceptions whose handling shows the call does not block (`BlockingIOError`).
    pub unless_caught: Vec<String>,
    /// Words in the arguments that show the call does not block (`AI_NUMERICHOST`).
    pub unless_arguments_mention: Vec<String>,
    /// Awaited readiness waits that, just before the call, show it does not block.
    pub unless_after_await_of: Vec<String>,
    /// Calls whose fix is lowered to an applicability, with the reason.
    pub fix_exceptions: HashMap<String, FixException>,
    pub strategy: Option<Strategy>,
    pub fix_title: Option<Template>,
    /// Tried before `strategy` when the run applies fixes of its applicability.
    pub alternative: Option<AlternativeFix>,
    pub docs: Docs,
    /// The file it was loaded from, for messages.
    pub origin: String,
}

/// A codemod file that could not be loaded; names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodemodError {
    pub origin: String,
    pub message: String,
}

impl fmt::Display for CodemodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for CodemodError {}

/// The modules whose fixes read more of a file than the function of the call: a file whose
/// code names one is parsed with every function body. `requests`: a session kept on `self`
/// (`self.session = requests.Session()`) becomes an `AsyncClient` only if every use of the
/// attribute in the file allows it ([`httpx::SESSION_MODULE`]).
pub const MODULES_FIXED_FILE_WIDE: &[&str] = &[httpx::SESSION_MODULE];

const MESSAGE_PLACEHOLDERS: &[&str] = &["callee", "qualified", "function", "chain", "location"];
const TITLE_PLACEHOLDERS: &[&str] = &["callee", "qualified", "replacement"];

fn is_rule_code(code: &str) -> bool {
    let letters = code.chars().take_while(|c| c.is_ascii_uppercase()).count();
    letters > 0 && code.len() > letters && code[letters..].chars().all(|c| c.is_ascii_digit())
}

/// `a.b.c`, or with object steps: `requests.Session().get`, `sqlite3.connect().cursor().execute`
/// (`()` marks "the object this call returns"; never on the last segment).
fn is_qualified_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    !name.is_empty()
        && parts.iter().enumerate().all(|(i, part)| {
            let identifier = match part.strip_suffix("()") {
                Some(_) if i + 1 == parts.len() => return false,
                Some(stripped) => stripped,
                None => part,
            };
            !identifier.is_empty()
                && !identifier.starts_with(|c: char| c.is_ascii_digit())
                && identifier.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// Deserialise and validate one codemod file.
pub fn compile(origin: &str, text: &str) -> Result<Codemod, CodemodError> {
    let error = |message: String| CodemodError {
        origin: origin.to_owned(),
        message,
    };
    let raw: RawCodemod = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    if !is_rule_code(&raw.code) {
        return Err(error(format!(
            "`code = {:?}` is not a rule code (letters then digits, e.g. ASYNC251)",
            raw.code
        )));
    }
    if raw.matcher.project_blocking == raw.matcher.evidence.is_empty() {
        return Err(error(
            "`[match] evidence` (rule codes whose matches block) goes with `project-blocking = true`"
                .to_owned(),
        ));
    }
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(error(format!("`name = {:?}` must be kebab-case", raw.name)));
    }
    let applicability = Applicability::parse(&raw.applicability).ok_or_else(|| {
        error(format!(
            "`applicability = {:?}`: expected \"safe\", \"unsafe\" or \"display-only\"",
            raw.applicability
        ))
    })?;
    let message = Template::parse(&raw.message, MESSAGE_PLACEHOLDERS)
        .map_err(|e| error(format!("`message`: {e}")))?;
    let mut calls = raw.matcher.calls.clone();
    for methods in &raw.matcher.methods {
        if methods.receivers.is_empty() || methods.names.is_empty() {
            return Err(error(
                "`[[match.methods]]` needs `receivers` and `names`".to_owned(),
            ));
        }
        for receiver in &methods.receivers {
            for name in &methods.names {
                calls.push(format!("{receiver}().{name}"));
            }
        }
    }
    if calls.is_empty()
        && !raw.matcher.from_configuration
        && !raw.matcher.project_coroutines
        && !raw.matcher.project_blocking
    {
        return Err(error(
            "`[match]` needs at least one entry in `calls` or `[[match.methods]]`".to_owned(),
        ));
    }
    for call in &calls {
        if !is_qualified_name(call) {
            return Err(error(format!(
                "`[match] calls`: {call:?} is not a dotted qualified name"
            )));
        }
    }
    let async_only = match raw.matcher.context.as_deref() {
        None | Some("async") => true,
        Some("anywhere") => false,
        Some(other) => {
            return Err(error(format!(
                "`[match] context = {other:?}`: expected \"async\" or \"anywhere\""
            )));
        }
    };
    let mut lazy_calls = HashSet::new();
    for lazy in &raw.matcher.lazy {
        let mut names = lazy.calls.clone();
        for receiver in &lazy.receivers {
            names.extend(lazy.names.iter().map(|name| format!("{receiver}().{name}")));
        }
        for call in names {
            if !calls.contains(&call) {
                return Err(error(format!(
                    "`[[match.lazy]]`: {call:?} is not one of the codemod's calls"
                )));
            }
            lazy_calls.insert(call);
        }
    }
    let mut fix_exceptions = HashMap::new();
    let (strategy, fix_title) = match raw.fix {
        Some(fix) => {
            let strategy = Strategy::compile(&fix.strategy, &fix.replacement)
                .map_err(|e| error(format!("`[fix]`: {e}")))?;
            let title = Template::parse(&fix.title, TITLE_PLACEHOLDERS)
                .map_err(|e| error(format!("`[fix] title`: {e}")))?;
            for exception in &fix.exceptions {
                let level = match Applicability::parse(&exception.applicability) {
                    Some(level @ (Applicability::Unsafe | Applicability::DisplayOnly)) => level,
                    _ => {
                        return Err(error(format!(
                            "`[[fix.exceptions]] applicability = {:?}`: expected \"unsafe\" or \"display-only\"",
                            exception.applicability
                        )));
                    }
                };
                let message = exception
                    .message
                    .as_deref()
                    .map(|message| Template::parse(message, MESSAGE_PLACEHOLDERS))
                    .transpose()
                    .map_err(|e| error(format!("`[[fix.exceptions]] message`: {e}")))?;
                let mut names = exception.calls.clone();
                for methods in &exception.methods {
                    for receiver in &methods.receivers {
                        names.extend(methods.names.iter().map(|n| format!("{receiver}().{n}")));
                    }
                }
                for name in names {
                    if !calls.contains(&name) {
                        return Err(error(format!(
                            "`[[fix.exceptions]]`: {name:?} is not one of the codemod's calls"
                        )));
                    }
                    fix_exceptions.insert(
                        name,
                        FixException {
                            applicability: level,
                            reason: exception.reason.trim().to_owned(),
                            unless_local_receiver: exception.unless_local_receiver,
                            not_evidence: exception.not_evidence,
                            message: message.clone(),
                        },
                    );
                }
            }
            (Some(strategy), Some(title))
        }
        None => (None, None),
    };
    let alternative = match &raw.alternative_fix {
        Some(alternative) => Some(AlternativeFix {
            strategy: Strategy::compile(&alternative.strategy, &Default::default())
                .map_err(|e| error(format!("`[alternative-fix]`: {e}")))?,
            title: Template::parse(&alternative.title, TITLE_PLACEHOLDERS)
                .map_err(|e| error(format!("`[alternative-fix] title`: {e}")))?,
            applicability: Applicability::parse(&alternative.applicability).ok_or_else(|| {
                error(format!(
                    "`[alternative-fix] applicability = {:?}`: expected \"safe\" or \"unsafe\"",
                    alternative.applicability
                ))
            })?,
        }),
        None => None,
    };
    let docs = Docs {
        what: raw.docs.what.trim().to_owned(),
        why: raw.docs.why.trim().to_owned(),
        example: raw.docs.example.trim().to_owned(),
        use_instead: raw.docs.use_instead.trim().to_owned(),
        fix_safety: raw.docs.fix_safety.trim().to_owned(),
    };
    for (field, value) in [
        ("what", &docs.what),
        ("why", &docs.why),
        ("example", &docs.example),
        ("use-instead", &docs.use_instead),
        ("fix-safety", &docs.fix_safety),
    ] {
        if value.is_empty() {
            return Err(error(format!("`[docs] {field}` is empty")));
        }
    }
    Ok(Codemod {
        code: raw.code,
        name: raw.name,
        summary: raw.summary.trim().to_owned(),
        message,
        applicability,
        default_enabled: raw.default_enabled.unwrap_or(true),
        calls,
        async_only,
        result_discarded: raw.matcher.result_discarded,
        from_configuration: raw.matcher.from_configuration,
        project_coroutines: raw.matcher.project_coroutines,
        project_blocking: raw.matcher.project_blocking,
        evidence: raw.matcher.evidence.clone(),
        fix_exceptions,
        lazy_calls,
        unless_caught: raw.matcher.unless_caught.clone(),
        unless_arguments_mention: raw.matcher.unless_arguments_mention.clone(),
        unless_after_await_of: raw.matcher.unless_after_await_of.clone(),
        strategy,
        fix_title,
        alternative,
        docs,
        origin: origin.to_owned(),
    })
}

/// A blocking call declared in the configuration (`[[tool.unfreeze.blocking-calls]]`),
/// validated.
#[derive(Clone, Debug)]
pub struct ConfiguredCall {
    pub call: String,
    pub strategy: Option<Strategy>,
    pub applicability: Applicability,
}

impl ConfiguredCall {
    /// Validate one entry: `call` a qualified name (methods as `pkg.Client().get`), `fix` one
    /// of `to-thread` / `template` / absent, `template` with `{args}`, `{callee}`,
    /// `{receiver}` placeholders, `imports` top-level module names.
    pub fn compile(
        call: &str,
        fix: Option<&str>,
        template: Option<&str>,
        imports: &[String],
        applicability: Option<&str>,
    ) -> Result<ConfiguredCall, String> {
        if !is_qualified_name(call) {
            return Err(format!("`call = {call:?}` is not a dotted qualified name"));
        }
        let strategy = match (fix, template) {
            (None, None) => None,
            (Some("to-thread"), None) => Some(Strategy::ToThread),
            (Some("template") | None, Some(template)) => {
                Some(Strategy::template(template, imports)?)
            }
            (Some("to-thread"), Some(_)) => {
                return Err("`template` goes with `fix = \"template\"`, not `to-thread`".to_owned());
            }
            (Some("template"), None) => {
                return Err("`fix = \"template\"` needs a `template`".to_owned());
            }
            (Some(other), _) => {
                return Err(format!(
                    "`fix = {other:?}`: expected \"to-thread\" or \"template\""
                ));
            }
        };
        let applicability = match applicability {
            None => Applicability::Safe,
            Some(text) => Applicability::parse(text).ok_or_else(|| {
                format!(
                    "`applicability = {text:?}`: expected \"safe\", \"unsafe\" or \"display-only\""
                )
            })?,
        };
        let applicability = if strategy.is_none() {
            Applicability::DisplayOnly
        } else {
            applicability
        };
        Ok(ConfiguredCall {
            call: call.to_owned(),
            strategy,
            applicability,
        })
    }
}

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
/// Builtins need no import, so `builtins.open` needs only `open`.
fn required_words(qualified: &str) -> Vec<String> {
    let qualified = qualified.strip_prefix("builtins.").unwrap_or(qualified);
    qualified
        .split('.')
        .map(|segment| segment.trim_end_matches("()").to_owned())
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
        let template = self
            .codemods
            .iter()
            .find(|c| c.from_configuration)
            .ok_or("no bundled codemod accepts configured blocking calls")?;
        let mut codemods = self.codemods.clone();
        for call in calls {
            let mut codemod = template.clone();
            codemod.calls = vec![call.call.clone()];
            codemod.from_configuration = false;
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
        Ok(Registry::index(codemods))
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
        Registry {
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

    pub fn codemods(&self) -> &[Codemod] {
        &self.codemods
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

    /// Whether some codemod matches a call whose last name segment is `tail`.
    pub fn cares_about_tail(&self, tail: &str) -> bool {
        self.call_tails.contains(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
code = "X100"
name = "x-rule"
summary = "s"
message = "`{callee}` blocks"
applicability = "safe"
[match]
calls = ["time.sleep"]
[fix]
strategy = "await-async-equivalent"
title = "Use `{replacement}`"
[fix.replacement]
asyncio = "asyncio.sleep"
[docs]
what = "w"
why = "y"
example = "e"
use-instead = "u"
fix-safety = "f"
"#;

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
    fn valid_codemod_compiles() {
        let codemod = compile("codemods/x.toml", VALID).unwrap();
        assert_eq!(codemod.code, "X100");
        assert_eq!(codemod.applicability, Applicability::Safe);
    }

    #[test]
    fn unknown_key_names_the_file_and_key() {
        let text = VALID.replace("summary = \"s\"", "summary = \"s\"\nsumary = 1");
        let err = compile("codemods/x.toml", &text).unwrap_err().to_string();
        assert!(err.starts_with("codemods/x.toml: "), "{err}");
        assert!(err.contains("sumary"), "{err}");
    }

    #[test]
    fn invalid_values_are_rejected() {
        for (from, to, expected) in [
            ("code = \"X100\"", "code = \"x1\"", "not a rule code"),
            (
                "applicability = \"safe\"",
                "applicability = \"maybe\"",
                "applicability",
            ),
            (
                "`{callee}` blocks",
                "`{calle}` blocks",
                "unknown placeholder",
            ),
            (
                "calls = [\"time.sleep\"]",
                "calls = [\"time..sleep\"]",
                "qualified name",
            ),
            (
                "strategy = \"await-async-equivalent\"",
                "strategy = \"magic\"",
                "unknown strategy",
            ),
            (
                "asyncio = \"asyncio.sleep\"",
                "trio = \"trio.sleep\"",
                "asyncio",
            ),
            ("why = \"y\"", "why = \"  \"", "[docs] why"),
        ] {
            let text = VALID.replace(from, to);
            assert_ne!(text, VALID, "{from}");
            let err = compile("codemods/x.toml", &text).unwrap_err().to_string();
            assert!(err.contains(expected), "{to}: {err}");
        }
    }

    #[test]
    fn a_fix_exception_may_have_its_own_message() {
        let exception = |message: &str| {
            VALID.replace(
                "[fix.replacement]",
                &format!(
                    "[[fix.exceptions]]\ncalls = [\"time.sleep\"]\napplicability = \"unsafe\"\n\
                     reason = \"r\"\nmessage = \"{message}\"\n[fix.replacement]"
                ),
            )
        };
        let codemod = compile("x.toml", &exception("`{callee}` rarely waits")).unwrap();
        let rendered = codemod.fix_exceptions["time.sleep"]
            .message
            .as_ref()
            .expect("the exception's message")
            .render(|name| {
                if name == "callee" {
                    "t.sleep".into()
                } else {
                    String::new()
                }
            });
        assert_eq!(rendered, "`t.sleep` rarely waits");
        let err = compile("x.toml", &exception("`{calle}` rarely waits"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[[fix.exceptions]] message"), "{err}");
        assert!(err.contains("unknown placeholder"), "{err}");
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let err = Registry::from_files(&[("a.toml", VALID), ("b.toml", VALID)]).unwrap_err();
        assert_eq!(err.origin, "b.toml");
        assert!(err.message.contains("already used by a.toml"));
    }
}
