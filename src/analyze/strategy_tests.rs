//! The `to-thread` strategy driven through the whole analysis of a file: a test codemod's
//! matches in a Python source become fixes, applied, and the fixed text is compared.

use super::analyze;
use super::test_context::with_context;
use crate::codemod::Registry;
use crate::fix::{Applicability, fix_file};
use crate::settings::RuleSelection;

const TO_THREAD: &str = r#"
code = "X200"
name = "x-thread"
summary = "s"
message = "`{callee}` blocks"
applicability = "safe"
[match]
calls = ["subprocess.run", "builtins.input", "os.path.exists"]
[[match.methods]]
receivers = ["requests.Session"]
names = ["get"]
[fix]
strategy = "to-thread"
title = "Run it with `{replacement}`"
[docs]
what = "w"
why = "y"
example = "e"
use-instead = "u"
fix-safety = "f"
"#;

fn fixed(source: &str, target_version: Option<(u8, u8)>) -> String {
    let registry = Registry::from_files(&[("x.toml", TO_THREAD)]).unwrap();
    let findings = with_context("app.py", source, target_version, |file| {
        analyze(file, &registry, &RuleSelection::default())
    });
    let fixes: Vec<_> = findings.iter().map(|f| f.fix.as_ref()).collect();
    fix_file(source, 0, &fixes, Applicability::Safe, false)
        .fixed_text
        .unwrap_or_else(|| source.to_owned())
}

#[test]
fn calls_move_to_a_thread_keeping_arguments_and_receivers() {
    let source = "import subprocess\nimport requests\n\nasync def f(s: requests.Session, cmd):\n    subprocess.run(cmd, check=True)  # keep\n    name = input().strip()\n    s.get(\n        'u',  # the url\n        timeout=3,\n    )\n";
    assert_eq!(
        fixed(source, None),
        "import asyncio\nimport subprocess\nimport requests\n\nasync def f(s: requests.Session, cmd):\n    await asyncio.to_thread(subprocess.run, cmd, check=True)  # keep\n    name = (await asyncio.to_thread(input)).strip()\n    await asyncio.to_thread(\n        s.get,\n        'u',  # the url\n        timeout=3,\n    )\n"
    );
}

#[test]
fn generator_argument_keeps_its_parentheses() {
    let source = "import os\nasync def f(ps):\n    os.path.exists(p for p in ps)\n";
    assert_eq!(
        fixed(source, None),
        "import asyncio\nimport os\nasync def f(ps):\n    await asyncio.to_thread(os.path.exists, (p for p in ps))\n"
    );
}

#[test]
fn below_python_3_9_uses_run_in_executor_and_partial() {
    let source =
        "import subprocess\nasync def f(cmd):\n    subprocess.run(cmd, check=True)\n    input()\n";
    assert_eq!(
        fixed(source, Some((3, 8))),
        "import asyncio\nimport functools\nimport subprocess\nasync def f(cmd):\n    await asyncio.get_running_loop().run_in_executor(\n        None, functools.partial(subprocess.run, cmd, check=True)\n    )\n    await asyncio.get_running_loop().run_in_executor(None, input)\n"
    );
}

#[test]
fn trio_and_anyio_use_their_thread_api_with_partial_for_keywords() {
    let source = "import subprocess\nimport trio\nasync def f(cmd):\n    subprocess.run(cmd)\n    subprocess.run(cmd, check=True)\n";
    assert_eq!(
        fixed(source, None),
        "import functools\nimport subprocess\nimport trio\nasync def f(cmd):\n    await trio.to_thread.run_sync(subprocess.run, cmd)\n    await trio.to_thread.run_sync(functools.partial(subprocess.run, cmd, check=True))\n"
    );
    let source = "import anyio\nimport os\nasync def f(p):\n    return os.path.exists(p)\n";
    assert_eq!(
        fixed(source, None),
        "import anyio\nimport os\nasync def f(p):\n    return await anyio.to_thread.run_sync(os.path.exists, p)\n"
    );
}

#[test]
fn a_thread_function_or_partial_imported_by_name_is_used_as_it_is() {
    let source = "from anyio.to_thread import run_sync\nimport os\nasync def f(p):\n    return os.path.exists(p)\n";
    assert_eq!(
        fixed(source, None),
        "from anyio.to_thread import run_sync\nimport os\nasync def f(p):\n    return await run_sync(os.path.exists, p)\n"
    );
    let source = "from anyio import to_thread as threads\nfrom functools import partial\nimport subprocess\nasync def f(cmd):\n    subprocess.run(cmd, check=True)\n";
    assert_eq!(
        fixed(source, None),
        "from anyio import to_thread as threads\nfrom functools import partial\nimport subprocess\nasync def f(cmd):\n    await threads.run_sync(partial(subprocess.run, cmd, check=True))\n"
    );
    let source =
        "from asyncio import to_thread\nimport os\nasync def f(p):\n    os.path.exists(p)\n";
    assert_eq!(
        fixed(source, None),
        "from asyncio import to_thread\nimport os\nasync def f(p):\n    await to_thread(os.path.exists, p)\n"
    );
    // Shadowed where the call is: the module's name, imported.
    let source = "from asyncio import to_thread\nimport os\nasync def f(p, to_thread):\n    os.path.exists(p)\n";
    assert_eq!(
        fixed(source, None),
        "from asyncio import to_thread\nimport asyncio\nimport os\nasync def f(p, to_thread):\n    await asyncio.to_thread(os.path.exists, p)\n"
    );
}

#[test]
fn a_call_moved_inside_a_try_that_swallows_cancellation_re_raises_it_first() {
    // Before Python 3.8, `CancelledError` was an `Exception`: `except Exception` swallows it.
    let source = "import subprocess\n\nasync def f(cmd):\n    try:\n        subprocess.run(cmd)\n    except Exception:\n        pass\n";
    assert_eq!(
        fixed(source, Some((3, 7))),
        "import asyncio\nimport functools\nimport subprocess\n\nasync def f(cmd):\n    try:\n        await asyncio.get_running_loop().run_in_executor(\n            None, functools.partial(subprocess.run, cmd)\n        )\n    except asyncio.CancelledError:\n        raise\n    except Exception:\n        pass\n"
    );
    // From 3.8 it is a `BaseException`, and nothing is added.
    assert!(!fixed(source, Some((3, 8))).contains("CancelledError"));
    // A name `asyncio` that is not the module: no fix.
    let shadowed = "import subprocess\n\nasync def f(cmd, asyncio):\n    try:\n        subprocess.run(cmd)\n    except:\n        pass\n";
    assert_eq!(fixed(shadowed, None), shadowed);
}

#[test]
fn except_a_comma_b_names_both_types() {
    // Python 3.14's unparenthesised form.
    let source = "import subprocess\n\nasync def f(cmd):\n    try:\n        subprocess.run(cmd)\n    except ValueError, BaseException:\n        pass\n";
    assert!(fixed(source, None).contains(
        "\n    except asyncio.CancelledError:\n        raise\n    except ValueError, BaseException:\n"
    ));
}

#[test]
fn only_lines_aligned_under_the_arguments_move() {
    // Aligned under `[`: moves; a hanging indent and a multi-line string's lines do not.
    let source = "import subprocess\nasync def f(cmd):\n    subprocess.run([cmd,\n                    'x'])\n    subprocess.run(cmd,\n        check=True)\n    subprocess.run(['sh', '-c', '''echo a\n                    b'''],\n                   check=True)\n";
    assert_eq!(
        fixed(source, None),
        "import asyncio\nimport subprocess\nasync def f(cmd):\n    await asyncio.to_thread(subprocess.run, [cmd,\n                                             'x'])\n    await asyncio.to_thread(subprocess.run, cmd,\n        check=True)\n    await asyncio.to_thread(subprocess.run, ['sh', '-c', '''echo a\n                    b'''],\n                                            check=True)\n"
    );
}

#[test]
fn a_line_the_rewrite_takes_over_the_limit_breaks_unless_it_was_over_already() {
    let long_argument = "a".repeat(50);
    let source = format!(
        "import subprocess\nasync def f(cmd):\n    x = subprocess.run(cmd, '{long_argument}')\n    y = f'{{subprocess.run(cmd, \"{long_argument}\")}}'\n"
    );
    assert_eq!(
        fixed(&source, None),
        format!(
            "import asyncio\nimport subprocess\nasync def f(cmd):\n    x = await asyncio.to_thread(\n        subprocess.run, cmd, '{long_argument}'\n    )\n    y = f'{{await asyncio.to_thread(subprocess.run, cmd, \"{long_argument}\")}}'\n"
        )
    );
}
