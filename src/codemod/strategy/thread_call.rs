//! The expression that runs a call in a worker thread, as the project's own idiom (`idiom`),
//! the file's async library and the Python version allow: shared by the `to-thread` strategy
//! and the `offload` module.

use super::idiom::project_offload;
use super::site::{AsyncLibrary, Site, library_error, name_at};
use crate::codemod::KeywordArguments;
use crate::fix::Edit;
use crate::fix::imports::reference_module;

/// `head` + `(callee, args)`, keeping the arguments' text (comments, line breaks) as written.
fn call_with(head: &str, callee: &str, arguments: &str) -> String {
    if arguments.trim().is_empty() {
        format!("{head}({callee}{arguments})")
    } else if arguments.starts_with(['\n', '\r']) {
        // The arguments start on their own line: so does the callee, indented as the first
        // of them (`to_thread(\n    f,\n    a,\n)`).
        let rest = arguments.trim_start_matches(['\n', '\r']);
        let newline = if arguments.starts_with("\r\n") {
            "\r\n"
        } else {
            &arguments[..1]
        };
        let indent = &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()];
        format!("{head}({newline}{indent}{callee},{arguments})")
    } else {
        format!("{head}({callee}, {arguments})")
    }
}

/// The expression that runs `callee(arguments)` in a worker thread at `offset`, the name of
/// what runs it (for titles), and the imports it needs: the project's own offload where the
/// code shows one (`hass.async_add_executor_job(f, a)`, see `idiom`); else `asyncio.to_thread(f, a, k=v)`;
/// `trio.to_thread.run_sync` / `anyio.to_thread.run_sync` in files written for those (with
/// `functools.partial` for keyword arguments, which `run_sync` does not take);
/// `run_in_executor` with `functools.partial` below Python 3.9, which has no `to_thread`.
pub(crate) fn thread_call(
    site: &Site,
    offset: usize,
    callee: &str,
    arguments: &str,
    has_keywords: bool,
) -> Result<(String, String, Vec<Edit>), String> {
    if let Some(library @ AsyncLibrary::OwnInternals) = site.library {
        return Err(library_error(library));
    }
    let mut imports = Vec::new();
    // What runs it, as the file can name it (`run_sync` when it imports that already).
    let named = |imports: &mut Vec<Edit>, module: &str, path: &str| -> Result<String, String> {
        let (name, import) = name_at(site, module, path, offset)?;
        imports.extend(import);
        Ok(name)
    };
    // The project's own offload, where the code shows one (asyncio projects only: anyio's
    // and trio's own calls are their idiom). But for a file importing anyio, an object in
    // scope that offloads (`hass`: Home Assistant runs on asyncio) wins: it is what the
    // code around the call already uses.
    let methods_only = match site.library {
        None => Some(false),
        Some(AsyncLibrary::Anyio) => Some(true),
        Some(_) => None,
    };
    if let Some(methods_only) = methods_only
        && let Some(offload) = project_offload(site, offset, methods_only)?
    {
        imports.extend(offload.imports);
        let lead = offload.lead.map(|l| format!("{l}, ")).unwrap_or_default();
        let expression = if has_keywords && offload.keywords == KeywordArguments::Partial {
            let partial = named(&mut imports, "functools", "partial")?;
            format!(
                "{}({lead}{})",
                offload.head,
                call_with(&partial, callee, arguments)
            )
        } else {
            call_with(&offload.head, &format!("{lead}{callee}"), arguments)
        };
        return Ok((expression, offload.head, imports));
    }
    let module = site.library.and_then(AsyncLibrary::module);
    let (expression, replacement) = match (module, site.target_version) {
        (Some(library), _) => {
            let run_sync = named(&mut imports, library, "to_thread.run_sync")?;
            let expression = if has_keywords {
                let partial = named(&mut imports, "functools", "partial")?;
                format!("{run_sync}({})", call_with(&partial, callee, arguments))
            } else {
                call_with(&run_sync, callee, arguments)
            };
            (expression, run_sync)
        }
        (None, Some((3, minor))) if minor < 9 => {
            let asyncio = reference_module(
                site.index,
                site.tree,
                site.text,
                site.line_ending,
                "asyncio",
                offset,
            )?;
            imports.extend(asyncio.import);
            let executor = format!("{}.get_running_loop().run_in_executor", asyncio.name);
            let expression = if arguments.trim().is_empty() {
                format!("{executor}(None, {callee})")
            } else {
                let partial = named(&mut imports, "functools", "partial")?;
                format!(
                    "{executor}(None, {})",
                    call_with(&partial, callee, arguments)
                )
            };
            (expression, executor)
        }
        (None, _) => {
            let to_thread = named(&mut imports, "asyncio", "to_thread")?;
            (call_with(&to_thread, callee, arguments), to_thread)
        }
    };
    Ok((expression, replacement, imports))
}

#[cfg(test)]
mod tests {
    use super::call_with;

    #[test]
    fn arguments_on_their_own_lines_get_the_callee_on_its_own_line() {
        assert_eq!(
            call_with("run", "f", "\n    a,\n    b,\n"),
            "run(\n    f,\n    a,\n    b,\n)"
        );
        assert_eq!(
            call_with("run", "f", "\r\n\r\n\ta\r\n"),
            "run(\r\n\tf,\r\n\r\n\ta\r\n)"
        );
        assert_eq!(call_with("run", "f", "a, b"), "run(f, a, b)");
        assert_eq!(call_with("run", "f", ""), "run(f)");
    }
}
