//! Rewrite strategies: the Rust that codemod files name in `[fix] strategy`. Each turns a
//! matched site into a [`Fix`](crate::fix::Fix); the data file chooses the strategy and its
//! parameters. This file names the strategies, compiles them from a codemod file's `[fix]`
//! and sends each site to its family: the async equivalent or another function
//! (`equivalent`), a worker thread (`to_thread`, and the `offload` module for whole blocks),
//! a kept task reference (`task_reference`), a user's template (`template_call`), `gather`
//! and `httpx` (their own modules); `site` holds what they share.

use std::collections::BTreeMap;
use std::sync::Arc;

mod equivalent;
pub(crate) mod idiom;
pub(crate) mod site;
mod task_reference;
mod template_call;
pub(crate) mod thread_call;
mod to_thread;

pub use site::{AsyncLibrary, Proposal, Site};

use super::Template;
use super::httpx::HttpxMapping;
use super::raw::RawHttpxMapping;
use crate::fix::{Applicability, Edit, Fix};
use site::library_error;

/// An async library a replacement can target.
const LIBRARIES: &[&str] = &["asyncio", "trio", "anyio"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Call the async equivalent and await it: `time.sleep(x)` → `await asyncio.sleep(x)`.
    /// Files importing anyio (first) or trio get that library's equivalent when one is given.
    AwaitAsyncEquivalent {
        asyncio: String,
        trio: Option<String>,
        anyio: Option<String>,
    },
    /// Call another function of the same library instead, not awaited:
    /// `asyncio.get_event_loop()` → `asyncio.get_running_loop()`.
    ReplaceFunction { asyncio: String },
    /// Keep a strong reference to a task until it is done: a module-level set, and a
    /// done-callback that discards the task from it.
    KeepTaskReference,
    /// Await the call: `save(x)` → `await save(x)`.
    AddAwait,
    /// `fut.result()` on a `concurrent.futures.Future` → `await asyncio.wrap_future(fut)`: the
    /// future awaited on the event loop, no thread.
    AwaitWrappedFuture,
    /// `await asyncio.gather(...)` with `return_exceptions=True`, then the first failure
    /// raised once every member is done (see the `gather` module).
    GatherSurfaceErrors,
    /// `await asyncio.gather(a(), b())` → an `asyncio.TaskGroup` (Python 3.11+).
    GatherTaskGroup,
    /// `requests.get(...)` → `await client.get(...)` in `async with httpx.AsyncClient(...)`
    /// (see the `httpx` module).
    HttpxClient(Arc<HttpxMapping>),
    /// A sync redis-py client migrated to `redis.asyncio`: its constructor, every command
    /// awaited (see the `redis_async` module).
    RedisAsyncio(Arc<crate::codemod::redis_async::RedisAsyncMapping>),
    /// Run the blocking call in a worker thread and await it:
    /// `f(a, k=v)` → `await asyncio.to_thread(f, a, k=v)`; `trio.to_thread.run_sync` /
    /// `anyio.to_thread.run_sync` in files written for those (with `functools.partial` for
    /// keyword arguments, which `run_sync` does not take); `run_in_executor` with
    /// `functools.partial` below Python 3.9, which has no `asyncio.to_thread`.
    ToThread,
    /// Move the blocking resource's whole use to a worker thread: a `with` block into a
    /// nested function run by `to_thread`, a chained call into a lambda (see the `offload`
    /// module).
    OffloadBlock,
    /// A user's replacement template (`blocking-calls` in the configuration), awaited:
    /// `legacy.fetch(u)` with `template = "legacy_async.fetch({args})"` →
    /// `await legacy_async.fetch(u)`; `imports` are added when missing.
    Template {
        template: Template,
        imports: Vec<String>,
    },
}

/// A strategy that takes no `replacement` table.
fn without_replacement(
    name: &str,
    replacement: &BTreeMap<String, String>,
    strategy: Strategy,
) -> Result<Strategy, String> {
    if replacement.is_empty() {
        Ok(strategy)
    } else {
        Err(format!("strategy `{name}` takes no `replacement`"))
    }
}

/// Placeholders of a user template.
const TEMPLATE_PLACEHOLDERS: &[&str] = &["args", "callee", "receiver"];

impl Strategy {
    /// A `Template` strategy from configuration text.
    pub fn template(template: &str, imports: &[String]) -> Result<Strategy, String> {
        let template = Template::parse(template, TEMPLATE_PLACEHOLDERS)
            .map_err(|e| format!("`template`: {e}"))?;
        for module in imports {
            let valid = !module.is_empty()
                && !module.contains('.')
                && module.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`imports`: {module:?} must be a top-level module name (e.g. \"mylib\")"
                ));
            }
        }
        Ok(Strategy::Template {
            template,
            imports: imports.to_vec(),
        })
    }

    /// The strategy `name` with its parameters from the codemod file: `replacement`, the
    /// `httpx` mapping (checked against the codemod's `calls`).
    pub fn compile(
        name: &str,
        replacement: &BTreeMap<String, String>,
        httpx: Option<&RawHttpxMapping>,
        redis: Option<&crate::codemod::raw::RawRedisAsync>,
        calls: &[String],
    ) -> Result<Strategy, String> {
        let strategy = match name {
            "await-async-equivalent" => {
                for (library, target) in replacement {
                    if !LIBRARIES.contains(&library.as_str()) {
                        return Err(format!(
                            "`replacement.{library}`: unknown library (expected one of {})",
                            LIBRARIES.join(", ")
                        ));
                    }
                    let module = target.split('.').next().unwrap_or("");
                    if module != library || !target.contains('.') {
                        return Err(format!(
                            "`replacement.{library} = {target:?}` must be a function of `{library}`"
                        ));
                    }
                }
                let asyncio = replacement.get("asyncio").cloned().ok_or_else(|| {
                    "strategy `await-async-equivalent` needs `replacement.asyncio`".to_owned()
                })?;
                Ok(Strategy::AwaitAsyncEquivalent {
                    asyncio,
                    trio: replacement.get("trio").cloned(),
                    anyio: replacement.get("anyio").cloned(),
                })
            }
            "replace-function" => {
                let asyncio = replacement
                    .get("asyncio")
                    .filter(|t| t.starts_with("asyncio.") && replacement.len() == 1)
                    .ok_or("strategy `replace-function` needs exactly `replacement.asyncio`, a function of `asyncio`")?;
                Ok(Strategy::ReplaceFunction {
                    asyncio: asyncio.clone(),
                })
            }
            "add-await" => without_replacement(name, replacement, Strategy::AddAwait),
            "await-wrapped-future" => {
                without_replacement(name, replacement, Strategy::AwaitWrappedFuture)
            }
            "gather-surface-errors" => {
                without_replacement(name, replacement, Strategy::GatherSurfaceErrors)
            }
            "gather-task-group" => {
                without_replacement(name, replacement, Strategy::GatherTaskGroup)
            }
            "keep-task-reference" => {
                without_replacement(name, replacement, Strategy::KeepTaskReference)
            }
            "httpx-client" => {
                let mapping = httpx.ok_or(
                    "strategy `httpx-client` needs its `httpx` table (the requests → httpx mapping)",
                )?;
                let mapping = HttpxMapping::compile(mapping, calls)?;
                without_replacement(name, replacement, Strategy::HttpxClient(Arc::new(mapping)))
            }
            "redis-asyncio" => {
                let mapping = redis.ok_or(
                    "strategy `redis-asyncio` needs its `redis` table (what the migration changes)",
                )?;
                let mapping =
                    crate::codemod::redis_async::RedisAsyncMapping::compile(mapping, calls)?;
                without_replacement(name, replacement, Strategy::RedisAsyncio(Arc::new(mapping)))
            }
            "to-thread" => without_replacement(name, replacement, Strategy::ToThread),
            "offload-block" => without_replacement(name, replacement, Strategy::OffloadBlock),
            other => Err(format!(
                "unknown strategy `{other}` (known: await-async-equivalent, replace-function, keep-task-reference, add-await, await-wrapped-future, httpx-client, redis-asyncio, to-thread, offload-block, gather-surface-errors, gather-task-group)"
            )),
        }?;
        if httpx.is_some() && !matches!(strategy, Strategy::HttpxClient(_)) {
            return Err(format!("strategy `{name}` takes no `httpx` table"));
        }
        if redis.is_some() && !matches!(strategy, Strategy::RedisAsyncio(_)) {
            return Err(format!("strategy `{name}` takes no `redis` table"));
        }
        Ok(strategy)
    }

    /// Build the fix for `site`, or say why there is none.
    pub fn propose(&self, site: &Site, applicability: Applicability) -> Result<Proposal, String> {
        match self {
            Strategy::AwaitAsyncEquivalent {
                asyncio,
                trio,
                anyio,
            } => {
                let target = match (site.library, anyio, trio) {
                    (Some(AsyncLibrary::Anyio), Some(anyio), _) => anyio,
                    (Some(AsyncLibrary::Trio), _, Some(trio)) => trio,
                    (Some(library), _, _) => {
                        return Err(library_error(library));
                    }
                    _ => asyncio,
                };
                equivalent::await_async_equivalent(site, target, applicability)
            }
            Strategy::ToThread => to_thread::to_thread(site, applicability),
            Strategy::OffloadBlock => crate::codemod::offload::offload_block(site, applicability),
            Strategy::HttpxClient(mapping) => {
                crate::codemod::httpx::httpx_client(site, applicability, mapping)
            }
            Strategy::RedisAsyncio(mapping) => {
                crate::codemod::redis_async::redis_asyncio(site, applicability, mapping)
            }
            Strategy::ReplaceFunction { asyncio } => {
                equivalent::replace_function(site, asyncio, applicability)
            }
            Strategy::KeepTaskReference => task_reference::keep_task_reference(site, applicability),
            Strategy::AwaitWrappedFuture => equivalent::await_wrapped_future(site, applicability),
            Strategy::GatherSurfaceErrors => {
                crate::codemod::gather::surface_errors(site, applicability)
            }
            Strategy::GatherTaskGroup => crate::codemod::gather::task_group(site, applicability),
            Strategy::AddAwait => Ok(Proposal {
                fix: Fix::new(
                    applicability,
                    String::new(),
                    vec![Edit::insertion(site.call.start_byte(), "await ")],
                ),
                replacement: format!("await {}(...)", &site.text[site.callee.byte_range()]),
            }),
            Strategy::Template { template, imports } => {
                template_call::apply_template(site, template, imports, applicability)
            }
        }
    }
}
