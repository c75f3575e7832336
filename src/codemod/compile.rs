//! Compiling one codemod file: the raw TOML ([`RawCodemod`]) deserialised strictly, then
//! validated once, step by step (header, matched calls, fix, alternative fix, docs), into a
//! [`Codemod`]. Every error names the file; nothing downstream re-validates.

use std::collections::{HashMap, HashSet};

use super::names::{is_identifier, is_qualified_name};
use super::raw::{RawAlternativeFix, RawCodemod, RawDocs, RawFix, RawMatch, RawThreadAffine};
use super::{
    AlternativeFix, Codemod, CodemodError, Docs, FixException, Strategy, Template, ThreadAffine,
};
use crate::fix::Applicability;

const MESSAGE_PLACEHOLDERS: &[&str] = &["callee", "qualified", "function", "chain", "location"];
pub(super) const TITLE_PLACEHOLDERS: &[&str] = &["callee", "qualified", "replacement"];

fn is_rule_code(code: &str) -> bool {
    let letters = code.chars().take_while(|c| c.is_ascii_uppercase()).count();
    letters > 0 && code.len() > letters && code[letters..].chars().all(|c| c.is_ascii_digit())
}

/// Deserialise and validate one codemod file.
pub fn compile(origin: &str, text: &str) -> Result<Codemod, CodemodError> {
    let error = |message: String| CodemodError {
        origin: origin.to_owned(),
        message,
    };
    let raw: RawCodemod = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    check_header(&raw).map_err(error)?;
    if let Some(table) = &raw.matcher.from_configuration
        && !super::configured::CONFIGURED_TABLES.contains(&table.as_str())
    {
        return Err(error(format!(
            "`[match] from-configuration = {table:?}`: expected one of {:?}",
            super::configured::CONFIGURED_TABLES
        )));
    }
    let applicability = Applicability::parse(&raw.applicability).ok_or_else(|| {
        error(format!(
            "`applicability = {:?}`: expected \"safe\", \"unsafe\" or \"display-only\"",
            raw.applicability
        ))
    })?;
    let message = Template::parse(&raw.message, MESSAGE_PLACEHOLDERS)
        .map_err(|e| error(format!("`message`: {e}")))?;
    let calls = matched_calls(&raw.matcher).map_err(error)?;
    let async_only = async_only(&raw.matcher).map_err(error)?;
    let (lazy_calls, consumed_in_thread) = lazy_calls(&raw.matcher, &calls).map_err(error)?;
    let non_blocking = super::non_blocking::compile_non_blocking(&raw.matcher.non_blocking, &calls)
        .map_err(error)?;
    check_fixed_file_wide(&raw.fixed_file_wide, &calls).map_err(error)?;
    let fix = compile_fix(raw.fix.as_ref(), &calls).map_err(error)?;
    let no_fix_reason =
        compile_no_fix_reason(raw.no_fix_reason.as_deref(), raw.fix.is_some()).map_err(error)?;
    let alternative = raw
        .alternative_fix
        .as_ref()
        .map(|alternative| compile_alternative(alternative, &calls))
        .transpose()
        .map_err(error)?;
    let thread_affine = raw
        .thread_affine
        .iter()
        .map(compile_thread_affine)
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    let offload_idioms = raw
        .offload_idioms
        .iter()
        .map(super::idiom::compile_offload_idiom)
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    let name_lookups = super::lookup::compile_all(&raw.name_lookups).map_err(error)?;
    let single_task = raw
        .single_task
        .as_ref()
        .map(super::single_task::compile_single_task)
        .transpose()
        .map_err(error)?;
    let docs = compile_docs(&raw.docs).map_err(error)?;
    let moved_code = raw
        .moved_code
        .as_ref()
        .map(|moved| compile_moved_code(moved, raw.matcher.project_blocking))
        .transpose()
        .map_err(error)?;
    Ok(Codemod {
        code: raw.code,
        name: raw.name,
        summary: raw.summary.trim().to_owned(),
        message,
        applicability,
        default_enabled: raw.default_enabled.unwrap_or(true),
        calls,
        fixed_file_wide: raw.fixed_file_wide,
        async_only,
        result_discarded: raw.matcher.result_discarded,
        from_configuration: raw.matcher.from_configuration.clone(),
        project_coroutines: raw.matcher.project_coroutines,
        project_blocking: raw.matcher.project_blocking,
        followed_through_imports: raw.matcher.followed_through_imports,
        evidence: raw.matcher.evidence.clone(),
        fix_exceptions: fix.exceptions,
        unless_single_task: fix.unless_single_task,
        single_task_reason: fix.single_task_reason,
        lazy_calls,
        consumed_in_thread,
        unless_caught: raw.matcher.unless_caught.clone(),
        unless_arguments_mention: raw.matcher.unless_arguments_mention.clone(),
        non_blocking,
        unless_after_await_of: raw.matcher.unless_after_await_of.clone(),
        strategy: fix.strategy,
        fix_title: fix.title,
        fix_caveat: fix.caveat,
        no_fix_reason,
        alternative,
        thread_affine,
        moved_code,
        offload_idioms,
        name_lookups,
        single_task,
        docs,
        origin: origin.to_owned(),
    })
}

/// One `[[thread-affine]]` family: its constructors and derived methods as object kinds (a
/// derived object's own derived ones too: `con.cursor().execute(...)` returns a cursor), the
/// `keyword=value` that makes it shareable, and non-empty texts.
fn compile_thread_affine(raw: &RawThreadAffine) -> Result<ThreadAffine, String> {
    let context = "`[[thread-affine]]`";
    if raw.made_by.is_empty() {
        return Err(format!("{context} needs `made-by`"));
    }
    if let Some(bad) = raw.made_by.iter().find(|m| !is_qualified_name(m)) {
        return Err(format!(
            "{context}: `made-by` entry {bad:?} is not a qualified name"
        ));
    }
    if let Some(bad) = raw.derived.iter().find(|d| !is_identifier(d)) {
        return Err(format!(
            "{context}: `derived` entry {bad:?} is not a method name"
        ));
    }
    let derived_object = match (&raw.derived_object, raw.derived.is_empty()) {
        (Some(object), false) => object.clone(),
        (None, true) => String::new(),
        _ => return Err(format!("{context}: `derived-object` goes with `derived`")),
    };
    let shareable_with = raw
        .shareable_with
        .as_ref()
        .map(|s| match s.split_once('=') {
            Some((keyword, value)) if is_identifier(keyword.trim()) && !value.trim().is_empty() => {
                Ok((keyword.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(format!(
                "{context}: `shareable-with = {s:?}` is not `keyword=value`"
            )),
        })
        .transpose()?;
    let returned_remedy = raw.returned_remedy.as_ref().unwrap_or(&raw.remedy);
    for (field, text) in [
        ("object", &raw.object),
        ("why", &raw.why),
        ("remedy", &raw.remedy),
        ("returned-remedy", returned_remedy),
    ] {
        if text.trim().is_empty() {
            return Err(format!("{context}: `{field}` is empty"));
        }
    }
    let mut kinds: Vec<(String, String)> = raw
        .made_by
        .iter()
        .map(|m| (m.clone(), raw.object.clone()))
        .collect();
    for made in &raw.made_by {
        for first in &raw.derived {
            let once = format!("{made}().{first}");
            for second in &raw.derived {
                kinds.push((format!("{once}().{second}"), derived_object.clone()));
            }
            kinds.push((once, derived_object.clone()));
        }
    }
    Ok(ThreadAffine {
        made_by: raw.made_by.clone(),
        kinds,
        shareable_with,
        why: raw.why.trim().to_owned(),
        remedy: raw.remedy.trim().to_owned(),
        returned_remedy: returned_remedy.trim().to_owned(),
    })
}

/// The rule code, the kebab-case name, and `evidence` going with `project-blocking`.
fn check_header(raw: &RawCodemod) -> Result<(), String> {
    if !is_rule_code(&raw.code) {
        return Err(format!(
            "`code = {:?}` is not a rule code (letters then digits, e.g. ASYNC251)",
            raw.code
        ));
    }
    if raw.matcher.project_blocking == raw.matcher.evidence.is_empty() {
        return Err(
            "`[match] evidence` (rule codes whose matches block) goes with `project-blocking = true`"
                .to_owned(),
        );
    }
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!("`name = {:?}` must be kebab-case", raw.name));
    }
    Ok(())
}

/// Every qualified name the codemod matches: `calls`, then each `receiver().name` of
/// `[[match.methods]]`; at least one unless the codemod matches project functions or the
/// configuration's calls.
fn matched_calls(matcher: &RawMatch) -> Result<Vec<String>, String> {
    let mut calls = matcher.calls.clone();
    for methods in &matcher.methods {
        if methods.receivers.is_empty() || methods.names.is_empty() {
            return Err("`[[match.methods]]` needs `receivers` and `names`".to_owned());
        }
        for receiver in &methods.receivers {
            for name in &methods.names {
                calls.push(format!("{receiver}().{name}"));
            }
        }
    }
    if calls.is_empty()
        && matcher.from_configuration.is_none()
        && !matcher.project_coroutines
        && !matcher.project_blocking
    {
        return Err(
            "`[match]` needs at least one entry in `calls` or `[[match.methods]]`".to_owned(),
        );
    }
    for call in &calls {
        if !is_qualified_name(call) {
            return Err(format!(
                "`[match] calls`: {call:?} is not a dotted qualified name"
            ));
        }
    }
    Ok(calls)
}

/// `[match] context`: whether only calls in async context are findings.
fn async_only(matcher: &RawMatch) -> Result<bool, String> {
    match matcher.context.as_deref() {
        None | Some("async") => Ok(true),
        Some("anywhere") => Ok(false),
        Some(other) => Err(format!(
            "`[match] context = {other:?}`: expected \"async\" or \"anywhere\""
        )),
    }
}

/// `[[match.lazy]]`: the codemod's calls that return lazy iterators, and those of them whose
/// fix moves the consumer (`consumed-in-thread`).
type LazyCalls = (HashSet<String>, HashSet<String>);

fn lazy_calls(matcher: &RawMatch, calls: &[String]) -> Result<LazyCalls, String> {
    let mut lazy_calls = HashSet::new();
    let mut consumed_in_thread = HashSet::new();
    for lazy in &matcher.lazy {
        let mut names = lazy.calls.clone();
        for receiver in &lazy.receivers {
            names.extend(lazy.names.iter().map(|name| format!("{receiver}().{name}")));
        }
        for call in names {
            if !calls.contains(&call) {
                return Err(format!(
                    "`[[match.lazy]]`: {call:?} is not one of the codemod's calls"
                ));
            }
            if lazy.consumed_in_thread {
                consumed_in_thread.insert(call.clone());
            }
            lazy_calls.insert(call);
        }
    }
    Ok((lazy_calls, consumed_in_thread))
}

/// `fixed-file-wide`: each the module of one of the codemod's calls.
fn check_fixed_file_wide(modules: &[String], calls: &[String]) -> Result<(), String> {
    for module in modules {
        let prefix = format!("{module}.");
        if !is_qualified_name(module)
            || module.contains("()")
            || !calls.iter().any(|call| call.starts_with(&prefix))
        {
            return Err(format!(
                "`fixed-file-wide`: {module:?} is not the module of one of the codemod's calls"
            ));
        }
    }
    Ok(())
}

/// `no-fix-reason`: required exactly when the codemod has no `[fix]`, so that every finding
/// without a fix says why.
fn compile_no_fix_reason(reason: Option<&str>, has_fix: bool) -> Result<Option<Template>, String> {
    match (reason, has_fix) {
        (Some(_), true) => {
            Err("`no-fix-reason` is for a codemod without `[fix]` (its fix states its own reasons)".to_owned())
        }
        (None, false) => Err(
            "a codemod without `[fix]` needs `no-fix-reason`: its findings must say why they have no fix"
                .to_owned(),
        ),
        (None, true) => Ok(None),
        (Some(text), false) if text.trim().is_empty() => {
            Err("`no-fix-reason` is empty".to_owned())
        }
        (Some(text), false) => Template::parse(text.trim(), MESSAGE_PLACEHOLDERS)
            .map(Some)
            .map_err(|e| format!("`no-fix-reason`: {e}")),
    }
}

/// A compiled `[fix]`: nothing when the codemod has none.
#[derive(Default)]
struct CompiledFix {
    strategy: Option<Strategy>,
    title: Option<Template>,
    exceptions: HashMap<String, FixException>,
    unless_single_task: bool,
    single_task_reason: Option<Template>,
    caveat: Option<Template>,
}

/// Why a call that blocks nobody has no fix (`unless-single-task`), unless the codemod says.
const SINGLE_TASK_REASON: &str = "nothing else runs on the event loop in this script, so \
     `{callee}()` blocks nothing: moving it to a worker thread would only add a hop";

/// `[fix]`: its strategy, its title, and `[[fix.exceptions]]` by call.
fn compile_fix(fix: Option<&RawFix>, calls: &[String]) -> Result<CompiledFix, String> {
    let Some(fix) = fix else {
        return Ok(CompiledFix::default());
    };
    let strategy = Strategy::compile(
        &fix.strategy,
        &fix.replacement,
        fix.httpx.as_ref(),
        None,
        calls,
    )
    .map_err(|e| format!("`[fix]`: {e}"))?;
    let title = Template::parse(&fix.title, TITLE_PLACEHOLDERS)
        .map_err(|e| format!("`[fix] title`: {e}"))?;
    // Every fix that moves work to a worker thread spares single-task code unless the codemod
    // opts out: a hop there blocks nobody less, and Ctrl+C waits for the thread at exit.
    let moves_to_a_thread = matches!(strategy, Strategy::ToThread | Strategy::OffloadBlock);
    if fix.unless_single_task == Some(true) && !moves_to_a_thread {
        return Err(
            "`[fix] unless-single-task` goes with `strategy = \"to-thread\"` or `\"offload-block\"` (a call moved to a worker thread)"
                .to_owned(),
        );
    }
    let unless_single_task = fix.unless_single_task.unwrap_or(moves_to_a_thread);
    if fix.single_task_reason.is_some() && !unless_single_task {
        return Err("`[fix] single-task-reason` goes with `unless-single-task = true`".to_owned());
    }
    let single_task_reason = unless_single_task
        .then(|| {
            let text = fix
                .single_task_reason
                .as_deref()
                .unwrap_or(SINGLE_TASK_REASON);
            Template::parse(text, &["callee"])
                .map_err(|e| format!("`[fix] single-task-reason`: {e}"))
        })
        .transpose()?;
    let caveat = fix
        .caveat
        .as_deref()
        .map(|text| Template::parse(text.trim(), &["callee", "qualified"]))
        .transpose()
        .map_err(|e| format!("`[fix] caveat`: {e}"))?;
    let mut exceptions = HashMap::new();
    for exception in &fix.exceptions {
        // `none`: no fix at all for these calls, the reason stated instead.
        let (level, no_fix) = match (
            exception.applicability.as_str(),
            Applicability::parse(&exception.applicability),
        ) {
            ("none", _) => (Applicability::DisplayOnly, true),
            (_, Some(level @ (Applicability::Unsafe | Applicability::DisplayOnly))) => {
                (level, false)
            }
            // The fix as it is; only the finding's message differs.
            (_, Some(level @ Applicability::Safe)) if exception.message.is_some() => (level, false),
            _ => {
                return Err(format!(
                    "`[[fix.exceptions]] applicability = {:?}`: expected \"unsafe\", \"display-only\" or \"none\" (\"safe\" only with a `message`)",
                    exception.applicability
                ));
            }
        };
        let message = exception
            .message
            .as_deref()
            .map(|message| Template::parse(message, MESSAGE_PLACEHOLDERS))
            .transpose()
            .map_err(|e| format!("`[[fix.exceptions]] message`: {e}"))?;
        let mut names = exception.calls.clone();
        for methods in &exception.methods {
            for receiver in &methods.receivers {
                names.extend(methods.names.iter().map(|n| format!("{receiver}().{n}")));
            }
        }
        for name in names {
            if !calls.contains(&name) {
                return Err(format!(
                    "`[[fix.exceptions]]`: {name:?} is not one of the codemod's calls"
                ));
            }
            exceptions.insert(
                name,
                FixException {
                    applicability: level,
                    no_fix,
                    reason: exception.reason.trim().to_owned(),
                    unless_local_receiver: exception.unless_local_receiver,
                    not_evidence: exception.not_evidence,
                    through_helpers: exception.through_helpers,
                    message: message.clone(),
                },
            );
        }
    }
    Ok(CompiledFix {
        strategy: Some(strategy),
        title: Some(title),
        exceptions,
        unless_single_task,
        single_task_reason,
        caveat,
    })
}

/// `[alternative-fix]`: a strategy, its title and the applicability it is preferred at.
fn compile_alternative(
    alternative: &RawAlternativeFix,
    calls: &[String],
) -> Result<AlternativeFix, String> {
    Ok(AlternativeFix {
        strategy: Strategy::compile(
            &alternative.strategy,
            &Default::default(),
            alternative.httpx.as_ref(),
            alternative.redis.as_ref(),
            calls,
        )
        .map_err(|e| format!("`[alternative-fix]`: {e}"))?,
        title: Template::parse(&alternative.title, TITLE_PLACEHOLDERS)
            .map_err(|e| format!("`[alternative-fix] title`: {e}"))?,
        applicability: Applicability::parse(&alternative.applicability).ok_or_else(|| {
            format!(
                "`[alternative-fix] applicability = {:?}`: expected \"safe\" or \"unsafe\"",
                alternative.applicability
            )
        })?,
        refused_note: alternative
            .refused_note
            .as_deref()
            .map(|note| Template::parse(note, &["reason"]))
            .transpose()
            .map_err(|e| format!("`[alternative-fix] refused-note`: {e}"))?,
    })
}

/// `[docs]`, trimmed; every part is required.
fn compile_docs(raw: &RawDocs) -> Result<Docs, String> {
    let docs = Docs {
        what: raw.what.trim().to_owned(),
        why: raw.why.trim().to_owned(),
        example: raw.example.trim().to_owned(),
        use_instead: raw.use_instead.trim().to_owned(),
        fix_safety: raw.fix_safety.trim().to_owned(),
    };
    for (field, value) in [
        ("what", &docs.what),
        ("why", &docs.why),
        ("example", &docs.example),
        ("use-instead", &docs.use_instead),
        ("fix-safety", &docs.fix_safety),
    ] {
        if value.is_empty() {
            return Err(format!("`[docs] {field}` is empty"));
        }
    }
    Ok(docs)
}

/// `[moved-code]`: only with `project-blocking`; qualified names dotted, method names plain.
fn compile_moved_code(
    raw: &super::raw::RawMovedCode,
    project_blocking: bool,
) -> Result<super::MovedCode, String> {
    if !project_blocking {
        return Err("`[moved-code]` needs `[match] project-blocking = true`".to_owned());
    }
    let qualified = |key: &str, names: &[String]| match names
        .iter()
        .find(|n| !n.contains('.') || n.contains(' '))
    {
        Some(name) => Err(format!(
            "`[moved-code] {key}`: {name:?} is not a qualified name (`asyncio.create_task`)"
        )),
        None => Ok(names.iter().cloned().collect()),
    };
    let plain = |key: &str, names: &[String]| match names
        .iter()
        .find(|n| n.is_empty() || !n.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        Some(name) => Err(format!(
            "`[moved-code] {key}`: {name:?} is not a method name (`call_soon`)"
        )),
        None => Ok(names.iter().cloned().collect()),
    };
    let loop_bound_calls: HashSet<String> = qualified("loop-bound-calls", &raw.loop_bound_calls)?;
    let binds_on_first_use = match (&raw.binds_on_first_use_since, &raw.binds_on_first_use[..]) {
        (None, []) => None,
        (Some(since), names) if !names.is_empty() => {
            let version = since
                .split_once('.')
                .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
                .ok_or_else(|| {
                    format!("`[moved-code] binds-on-first-use-since`: {since:?} is not `3.10`")
                })?;
            if let Some(name) = names.iter().find(|n| !loop_bound_calls.contains(*n)) {
                return Err(format!(
                    "`[moved-code] binds-on-first-use`: {name:?} is not in `loop-bound-calls`"
                ));
            }
            Some((names.iter().cloned().collect(), version))
        }
        _ => {
            return Err(
                "`[moved-code] binds-on-first-use` and `binds-on-first-use-since` \
                        go together"
                    .to_owned(),
            );
        }
    };
    let mut files: HashMap<String, Vec<super::FileAccessCall>> = HashMap::new();
    for table in &raw.files {
        let access = super::file_access::compile(table)?;
        for call in qualified("files", &table.calls)? {
            files.entry(call).or_default().push(access.clone());
        }
    }
    let thread_safe_calls: HashSet<String> =
        qualified("thread-safe-calls", &raw.thread_safe_calls)?;
    if let Some(call) = thread_safe_calls
        .iter()
        .find(|c| loop_bound_calls.contains(*c) || files.contains_key(*c))
    {
        return Err(format!(
            "`[moved-code] thread-safe-calls`: {call:?} is also a loop-bound call or a file access"
        ));
    }
    Ok(super::MovedCode {
        loop_bound_calls,
        loop_bound_methods: plain("loop-bound-methods", &raw.loop_bound_methods)?,
        loop_bound_method_prefixes: plain(
            "loop-bound-method-prefixes",
            &raw.loop_bound_method_prefixes,
        )?
        .into_iter()
        .collect(),
        mutating_methods: plain("mutating-methods", &raw.mutating_methods)?,
        serialisers: qualified("serialisers", &raw.serialisers)?,
        thread_locks: qualified("thread-locks", &raw.thread_locks)?,
        process_state: qualified("process-state", &raw.process_state)?,
        process_state_swaps: qualified("process-state-swaps", &raw.process_state_swaps)?,
        process_state_changes: qualified("process-state-changes", &raw.process_state_changes)?,
        process_state_change_methods: plain(
            "process-state-change-methods",
            &raw.process_state_change_methods,
        )?,
        binds_on_first_use,
        path_builders: qualified("path-builders", &raw.path_builders)?,
        thread_hops: qualified("thread-hops", &raw.thread_hops)?,
        cache_decorators: qualified("cache-decorators", &raw.cache_decorators)?,
        immutable_types: qualified("immutable-types", &raw.immutable_types)?,
        reading_methods: plain("reading-methods", &raw.reading_methods)?,
        reading_method_prefixes: plain("reading-method-prefixes", &raw.reading_method_prefixes)?
            .into_iter()
            .collect(),
        swallowed_by: qualified("swallowed-by", &raw.swallowed_by)?
            .into_iter()
            .collect(),
        files,
        collections: super::DocumentCollections::checked(&raw.collections)?,
        path_races: super::path_race::compile(raw)?,
        thread_safe: super::ThreadSafe {
            calls: thread_safe_calls,
            builtins: plain("pure-builtins", &raw.pure_builtins)?,
            str_methods: plain("str-methods", &raw.str_methods)?,
            test_case_bases: qualified("test-case-bases", &raw.test_case_bases)?,
            test_case_methods: plain("test-case-methods", &raw.test_case_methods)?,
        },
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::codemod) const VALID: &str = r#"
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
    fn valid_codemod_compiles() {
        let codemod = compile("codemods/x.toml", VALID).unwrap();
        assert_eq!(codemod.code, "X100");
        assert_eq!(codemod.applicability, Applicability::Safe);
    }

    #[test]
    fn unless_single_task_goes_with_a_thread_move() {
        let text = VALID
            .replace(
                "strategy = \"await-async-equivalent\"",
                "strategy = \"to-thread\"\nunless-single-task = true",
            )
            .replace("[fix.replacement]\nasyncio = \"asyncio.sleep\"\n", "");
        assert!(compile("x.toml", &text).unwrap().unless_single_task);
        assert!(!compile("x.toml", VALID).unwrap().unless_single_task);
        // On by default for a thread move; `false` opts out (and then takes no reason).
        let default = text.replace("unless-single-task = true", "");
        assert!(compile("x.toml", &default).unwrap().unless_single_task);
        let opted_out = text.replace("unless-single-task = true", "unless-single-task = false");
        let codemod = compile("x.toml", &opted_out).unwrap();
        assert!(!codemod.unless_single_task && codemod.single_task_reason.is_none());
        let reason = opted_out.replace(
            "unless-single-task = false",
            "unless-single-task = false\nsingle-task-reason = \"r\"",
        );
        assert!(compile("x.toml", &reason).is_err());
    }

    #[test]
    fn a_codemod_without_a_fix_states_why_exactly_then() {
        let no_fix = VALID
            .replace("applicability = \"safe\"", "applicability = \"display-only\"")
            .replace(
                "[fix]\nstrategy = \"await-async-equivalent\"\ntitle = \"Use `{replacement}`\"\n[fix.replacement]\nasyncio = \"asyncio.sleep\"\n",
                "",
            );
        let err = compile("x.toml", &no_fix).unwrap_err().to_string();
        assert!(err.contains("needs `no-fix-reason`"), "{err}");
        let reasoned = no_fix.replace("[match]", "no-fix-reason = \"`{callee}` why\"\n[match]");
        let codemod = compile("x.toml", &reasoned).unwrap();
        assert!(codemod.no_fix_reason.is_some());
        let both = VALID.replace("[match]", "no-fix-reason = \"why\"\n[match]");
        let err = compile("x.toml", &both).unwrap_err().to_string();
        assert!(err.contains("without `[fix]`"), "{err}");
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
            (
                "title = \"Use `{replacement}`\"",
                "title = \"Use `{replacement}`\"\nunless-single-task = true",
                "`[fix] unless-single-task` goes with `strategy = \"to-thread\"`",
            ),
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
    fn a_fix_exception_may_take_the_fix_away() {
        let exception = |level: &str| {
            VALID.replace(
                "[fix.replacement]",
                &format!(
                    "[[fix.exceptions]]\ncalls = [\"time.sleep\"]\napplicability = \"{level}\"\n\
                     reason = \"it holds the GIL\"\n[fix.replacement]"
                ),
            )
        };
        let codemod = compile("x.toml", &exception("none")).unwrap();
        let none = &codemod.fix_exceptions["time.sleep"];
        assert!(none.no_fix);
        assert_eq!(none.reason, "it holds the GIL");
        let codemod = compile("x.toml", &exception("display-only")).unwrap();
        assert!(!codemod.fix_exceptions["time.sleep"].no_fix);
        let err = compile("x.toml", &exception("never"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"none\""), "{err}");
    }

    #[test]
    fn from_configuration_names_a_known_table() {
        let with = |table: &str| {
            VALID.replace(
                "calls = [\"time.sleep\"]",
                &format!("calls = [\"time.sleep\"]\nfrom-configuration = \"{table}\""),
            )
        };
        let codemod = compile("x.toml", &with("cpu-bound-calls")).unwrap();
        assert_eq!(
            codemod.from_configuration.as_deref(),
            Some("cpu-bound-calls")
        );
        let err = compile("x.toml", &with("slow-calls"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("from-configuration"), "{err}");
    }

    #[test]
    fn thread_affine_families_compile_to_kinds_and_are_validated() {
        let family =
            |body: &str| VALID.replace("[docs]", &format!("[[thread-affine]]\n{body}\n[docs]"));
        let good = "made-by = [\"db.connect\"]\nobject = \"db connection\"\nderived = [\"cursor\"]\n\
                    derived-object = \"db cursor\"\nshareable-with = \"threads=True\"\n\
                    why = \"w\"\nremedy = \"r\"";
        let codemod = compile("x.toml", &family(good)).unwrap();
        let affine = &codemod.thread_affine[0];
        assert_eq!(
            affine.kinds,
            [
                ("db.connect".to_owned(), "db connection".to_owned()),
                (
                    "db.connect().cursor().cursor".to_owned(),
                    "db cursor".to_owned()
                ),
                ("db.connect().cursor".to_owned(), "db cursor".to_owned()),
            ]
        );
        assert_eq!(
            affine.shareable_with,
            Some(("threads".to_owned(), "True".to_owned()))
        );
        for (from, to, expected) in [
            (
                "[\"db.connect\"]",
                "[\"db..connect\"]",
                "not a qualified name",
            ),
            ("[\"cursor\"]", "[\"cur sor\"]", "not a method name"),
            (
                "derived-object = \"db cursor\"\n",
                "",
                "`derived-object` goes with `derived`",
            ),
            ("\"threads=True\"", "\"threads\"", "not `keyword=value`"),
            ("remedy = \"r\"", "remedy = \" \"", "`remedy` is empty"),
        ] {
            let text = family(&good.replace(from, to));
            let err = compile("x.toml", &text).unwrap_err().to_string();
            assert!(
                err.contains("[[thread-affine]]") && err.contains(expected),
                "{to}: {err}"
            );
        }
    }
}
