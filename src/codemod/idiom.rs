//! A project's own way to run a function in a worker thread ([`OffloadIdiom`]), used by the
//! thread fixes in place of `asyncio.to_thread` where the code shows it: Home Assistant's
//! `hass.async_add_executor_job`, starlette's `run_in_threadpool`, the executor a class
//! already hands to `run_in_executor`, or a helper the configuration declares (`offload`).
//! The bundled idioms are data (`[[offload-idiom]]` in `codemods/*.toml`), compiled and
//! validated here; `strategy/idiom.rs` decides which one a call site can use.

use serde::Deserialize;

use super::Template;
use super::names::{is_identifier, is_qualified_name};

/// `[[offload-idiom]]` as written: exactly one of `method`, `functions` and
/// `executor-made-by` says its shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawOffloadIdiom {
    /// For messages and docs: `home-assistant`.
    pub name: String,
    /// `await <receiver>.<method>(f, *args)`: the method of an object in scope.
    pub method: Option<String>,
    /// With `method`: a parameter of the coroutine with one of these names is the receiver...
    #[serde(default)]
    pub receiver_parameters: Vec<String>,
    /// ... or a parameter annotated with one of these classes (qualified names) ...
    #[serde(default)]
    pub receiver_types: Vec<String>,
    /// ... or `self.<attribute>` in a method of a class that sets or uses it.
    #[serde(default)]
    pub receiver_attributes: Vec<String>,
    /// With `method`: the file must import this package (a parameter called `hass` is Home
    /// Assistant's only in Home Assistant code).
    pub requires_import: Option<String>,
    /// `await <function>(f, *args)`: one of these functions, where the file imports it.
    #[serde(default)]
    pub functions: Vec<String>,
    /// `await <loop>.run_in_executor(<executor>, f, *args)`, reusing the executor the class or
    /// module already passes to `run_in_executor`, when one of these made it.
    #[serde(default)]
    pub executor_made_by: Vec<String>,
    /// `async with <async-open>(...) as f:` in place of `with open(...) as f:` (a function
    /// of `async-open` the file imports, for a call of `replaces`), each call of
    /// `awaited-methods` on `f` awaited, where the block does nothing else.
    #[serde(default)]
    pub async_open: Vec<String>,
    /// With `async-open`: the calls it replaces (`builtins.open`).
    #[serde(default)]
    pub replaces: Vec<String>,
    /// With `async-open`: the file object's methods that become awaited (`read`, `write`).
    #[serde(default)]
    pub awaited_methods: Vec<String>,
    /// With `async-open`: the fix's title (`{replacement}`: the function, as the file names
    /// it), in place of the rule's, which speaks of a worker thread.
    pub title: Option<String>,
    /// `pass` (the idiom takes keyword arguments for the function) or `partial` (it does
    /// not: `functools.partial(f, *args, **kwargs)`).
    pub keywords: String,
}

/// How keyword arguments of the moved call reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordArguments {
    /// The idiom passes them on: `run_in_threadpool(f, a, k=v)`.
    Pass,
    /// It takes none: `hass.async_add_executor_job(functools.partial(f, a, k=v))`.
    Partial,
}

/// What runs the function, and how the fix finds it in the code.
#[derive(Clone, Debug)]
pub enum OffloadShape {
    /// `await <receiver>.<method>(f, *args)`.
    Method {
        method: String,
        parameters: Vec<String>,
        types: Vec<String>,
        attributes: Vec<String>,
        requires_import: Option<String>,
    },
    /// `await <function>(f, *args)`, where the file imports one of `functions`.
    Function { functions: Vec<String> },
    /// `await <loop>.run_in_executor(<executor>, f, *args)`, reusing an executor made by one
    /// of `made_by`.
    Executor { made_by: Vec<String> },
    /// `async with <function>(...) as f:` for a `with` block of a call of `replaces` that
    /// only calls `methods` on `f`, each awaited; the file must import one of `functions`.
    AsyncFile {
        functions: Vec<String>,
        replaces: Vec<String>,
        methods: Vec<String>,
        title: Template,
    },
}

/// A compiled, validated offload idiom.
#[derive(Clone, Debug)]
pub struct OffloadIdiom {
    pub name: String,
    pub shape: OffloadShape,
    pub keywords: KeywordArguments,
}

impl OffloadIdiom {
    /// The words whose presence in a file's code makes the idiom read beyond the function of
    /// the call (another method's `self.hass`, a `run_in_executor` call elsewhere): such a
    /// file is parsed with every function body, so that every round and `check` see the same.
    pub fn words_read_file_wide(&self) -> Vec<&str> {
        match &self.shape {
            OffloadShape::Method { attributes, .. } => {
                attributes.iter().map(String::as_str).collect()
            }
            OffloadShape::Executor { .. } => vec!["run_in_executor"],
            OffloadShape::Function { .. } | OffloadShape::AsyncFile { .. } => Vec::new(),
        }
    }
}

/// `pass` or `partial`.
pub(super) fn keyword_arguments(text: &str) -> Result<KeywordArguments, String> {
    match text {
        "pass" => Ok(KeywordArguments::Pass),
        "partial" => Ok(KeywordArguments::Partial),
        other => Err(format!(
            "`keywords = {other:?}`: expected \"pass\" (the idiom passes keyword arguments on) \
             or \"partial\" (it takes none: `functools.partial`)"
        )),
    }
}

/// A helper the configuration declares (`offload = "pkg.mod.helper"`): `await helper(f,
/// *args)`, keyword arguments as `keywords` says.
pub fn configured_offload(function: &str, keywords: &str) -> Result<OffloadIdiom, String> {
    if !is_qualified_name(function) || !function.contains('.') || function.contains("()") {
        return Err(format!(
            "`{function}` is not the qualified name of a module's function (`pkg.mod.helper`)"
        ));
    }
    Ok(OffloadIdiom {
        name: function.to_owned(),
        shape: OffloadShape::Function {
            functions: vec![function.to_owned()],
        },
        keywords: keyword_arguments(keywords)?,
    })
}

/// Validate one `[[offload-idiom]]`.
pub(super) fn compile_offload_idiom(raw: &RawOffloadIdiom) -> Result<OffloadIdiom, String> {
    let context = format!("`[[offload-idiom]]` {:?}", raw.name);
    if raw.name.is_empty() {
        return Err("`[[offload-idiom]]` needs a `name`".to_owned());
    }
    let qualified = |key: &str, names: &[String]| match names
        .iter()
        .find(|n| !is_qualified_name(n) || !n.contains('.') || n.contains("()"))
    {
        Some(bad) => Err(format!(
            "{context}: `{key}` entry {bad:?} is not a qualified name"
        )),
        None => Ok(names.to_vec()),
    };
    let receiver = !raw.receiver_parameters.is_empty()
        || !raw.receiver_types.is_empty()
        || !raw.receiver_attributes.is_empty()
        || raw.requires_import.is_some();
    let async_file = !raw.async_open.is_empty()
        || !raw.replaces.is_empty()
        || !raw.awaited_methods.is_empty()
        || raw.title.is_some();
    if async_file {
        if receiver
            || raw.method.is_some()
            || !raw.functions.is_empty()
            || !raw.executor_made_by.is_empty()
        {
            return Err(format!(
                "{context}: `async-open` goes with `replaces`, `awaited-methods` and `title` only"
            ));
        }
        if raw.replaces.is_empty() || raw.awaited_methods.is_empty() {
            return Err(format!(
                "{context}: `async-open` needs `replaces` and `awaited-methods`"
            ));
        }
        if let Some(bad) = raw.awaited_methods.iter().find(|m| !is_identifier(m)) {
            return Err(format!("{context}: {bad:?} is not a method name"));
        }
        let title = raw
            .title
            .as_deref()
            .ok_or_else(|| format!("{context}: `async-open` needs a `title`"))?;
        let title = Template::parse(title, &["replacement"])
            .map_err(|e| format!("{context}: `title`: {e}"))?;
        if raw.keywords != "pass" {
            return Err(format!(
                "{context}: `async-open` takes the call's arguments as they are: `keywords = \"pass\"`"
            ));
        }
        return Ok(OffloadIdiom {
            name: raw.name.clone(),
            shape: OffloadShape::AsyncFile {
                functions: qualified("async-open", &raw.async_open)?,
                replaces: qualified("replaces", &raw.replaces)?,
                methods: raw.awaited_methods.clone(),
                title,
            },
            keywords: KeywordArguments::Pass,
        });
    }
    let shape = match (
        &raw.method,
        raw.functions.is_empty(),
        raw.executor_made_by.is_empty(),
    ) {
        (Some(method), true, true) => {
            if !is_identifier(method) {
                return Err(format!(
                    "{context}: `method = {method:?}` is not a method name"
                ));
            }
            if let Some(bad) = raw
                .receiver_parameters
                .iter()
                .chain(&raw.receiver_attributes)
                .find(|n| !is_identifier(n))
            {
                return Err(format!("{context}: {bad:?} is not a name"));
            }
            if raw.receiver_parameters.is_empty()
                && raw.receiver_types.is_empty()
                && raw.receiver_attributes.is_empty()
            {
                return Err(format!(
                    "{context}: `method` needs `receiver-parameters`, `receiver-types` or \
                     `receiver-attributes` (where the object is found)"
                ));
            }
            if let Some(package) = raw.requires_import.as_ref().filter(|p| !is_identifier(p)) {
                return Err(format!(
                    "{context}: `requires-import = {package:?}` is not a top-level package"
                ));
            }
            OffloadShape::Method {
                method: method.clone(),
                parameters: raw.receiver_parameters.clone(),
                types: qualified("receiver-types", &raw.receiver_types)?,
                attributes: raw.receiver_attributes.clone(),
                requires_import: raw.requires_import.clone(),
            }
        }
        (None, false, true) if !receiver => OffloadShape::Function {
            functions: qualified("functions", &raw.functions)?,
        },
        (None, true, false) if !receiver => OffloadShape::Executor {
            made_by: qualified("executor-made-by", &raw.executor_made_by)?,
        },
        _ => {
            return Err(format!(
                "{context}: exactly one of `method` (with its `receiver-*` keys), `functions` \
                 and `executor-made-by`"
            ));
        }
    };
    Ok(OffloadIdiom {
        name: raw.name.clone(),
        shape,
        keywords: keyword_arguments(&raw.keywords).map_err(|e| format!("{context}: {e}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Result<OffloadIdiom, String> {
        let raw: RawOffloadIdiom = toml::from_str(text).map_err(|e| e.to_string())?;
        compile_offload_idiom(&raw)
    }

    #[test]
    fn the_three_shapes_compile() {
        let method = compile(
            "name = \"ha\"\nmethod = \"run\"\nreceiver-parameters = [\"hass\"]\n\
             receiver-types = [\"ha.core.Hass\"]\nrequires-import = \"ha\"\nkeywords = \"partial\"",
        )
        .unwrap();
        assert!(matches!(method.shape, OffloadShape::Method { .. }));
        assert_eq!(method.keywords, KeywordArguments::Partial);
        let function = compile(
            "name = \"s\"\nfunctions = [\"starlette.concurrency.run_in_threadpool\"]\nkeywords = \"pass\"",
        )
        .unwrap();
        assert!(matches!(function.shape, OffloadShape::Function { .. }));
        let executor = compile(
            "name = \"e\"\nexecutor-made-by = [\"concurrent.futures.ThreadPoolExecutor\"]\nkeywords = \"partial\"",
        )
        .unwrap();
        assert!(matches!(executor.shape, OffloadShape::Executor { .. }));
        let file = compile(
            "name = \"a\"\nasync-open = [\"aiofiles.open\"]\nreplaces = [\"builtins.open\"]\n\
             awaited-methods = [\"read\"]\ntitle = \"Use `{replacement}`\"\nkeywords = \"pass\"",
        )
        .unwrap();
        assert!(matches!(file.shape, OffloadShape::AsyncFile { .. }));
    }

    #[test]
    fn invalid_idioms_are_rejected_with_the_reason() {
        for (text, expected) in [
            (
                "name = \"x\"\nmethod = \"run\"\nkeywords = \"partial\"",
                "needs `receiver-parameters`",
            ),
            (
                "name = \"x\"\nmethod = \"run\"\nfunctions = [\"a.b\"]\nreceiver-parameters = [\"h\"]\nkeywords = \"pass\"",
                "exactly one of",
            ),
            (
                "name = \"x\"\nfunctions = [\"a.b\"]\nreceiver-parameters = [\"h\"]\nkeywords = \"pass\"",
                "exactly one of",
            ),
            (
                "name = \"x\"\nfunctions = [\"helper\"]\nkeywords = \"pass\"",
                "not a qualified name",
            ),
            (
                "name = \"x\"\nfunctions = [\"a.b\"]\nkeywords = \"maybe\"",
                "expected \"pass\"",
            ),
            (
                "name = \"x\"\nmethod = \"a.b\"\nreceiver-parameters = [\"h\"]\nkeywords = \"pass\"",
                "not a method name",
            ),
            ("name = \"x\"\nkeywords = \"pass\"\ncolour = 1", "colour"),
            (
                "name = \"x\"\nasync-open = [\"a.open\"]\nreplaces = [\"builtins.open\"]\nawaited-methods = [\"read\"]\nkeywords = \"pass\"",
                "needs a `title`",
            ),
            (
                "name = \"x\"\nasync-open = [\"a.open\"]\nkeywords = \"pass\"",
                "needs `replaces` and `awaited-methods`",
            ),
        ] {
            let err = compile(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn a_configured_helper_is_a_function_idiom() {
        let idiom = configured_offload("bot.utils.sync_to_async", "pass").unwrap();
        assert!(matches!(
            &idiom.shape,
            OffloadShape::Function { functions } if functions == &["bot.utils.sync_to_async"]
        ));
        assert!(configured_offload("sync_to_async", "pass").is_err());
        assert!(configured_offload("a.b", "both").is_err());
    }
}
