//! A project helper moved to a worker thread (UNF401) carries the difference its blocking
//! call's own rule states, where that difference does not depend on how the call is written
//! (`through-helpers` in a `[[fix.exceptions]]` entry): a helper that prompts with `input()`
//! is an unsafe hop with ASYNC250's reason (reviewer M, session 18: maigret's `submit.py`
//! helpers were safe hops; Ctrl+C then took three presses and the process aborted).

mod common;

use common::{findings, fix_write, project};

const PROMPTING: &str = r#"import asyncio


def ask_name():
    return input("name? ")


async def handler():
    return ask_name()


async def ticker():
    await asyncio.sleep(0.1)


async def main():
    print(await asyncio.gather(handler(), ticker()))


asyncio.run(main())
"#;

#[test]
fn a_helper_that_prompts_is_an_unsafe_hop_with_the_prompt_s_reason() {
    let dir = project(&[("main.py", PROMPTING.as_bytes())]);
    let found = findings(dir.path());
    let helper = found
        .iter()
        .find(|f| f["code"] == "UNF401")
        .unwrap_or_else(|| panic!("no UNF401 finding: {found:#?}"));
    let fix = &helper["fix"];
    assert_eq!(fix["applicability"], "unsafe", "{helper:#}");
    let caveat = fix["caveat"].as_str().unwrap();
    assert!(
        caveat.starts_with("it runs `builtins.input`: Ctrl+C no longer interrupts the prompt"),
        "{caveat}"
    );
    // The safe run leaves the prompt where it is.
    fix_write(dir.path(), &[]);
    let kept = std::fs::read_to_string(dir.path().join("main.py")).unwrap();
    assert!(kept.contains("    return ask_name()\n"), "{kept}");
}
