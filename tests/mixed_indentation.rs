//! Issue 20 (reviewer K, session 17, BobDotCom/BobDotBot main.py:348): a file that mixes tabs
//! and spaces must still compile after a fix re-indents lines. One more unit of indentation
//! goes before a line's own indentation when the unit is a tab and after it when the unit is
//! spaces, so that Python measures every moved line at the same distance whatever the tab
//! size; the lines the fix writes (`return prefixes` in the helper) are indented the same way.
//! Each program runs with the test Python before and after `fix --write --unsafe-fixes`, and
//! a second run proposes nothing.

mod common;

use common::{project, python, test_python, unfreeze};

/// Two spaces are the file's unit; one coroutine is indented with tabs, and one `with` body
/// with a tab then two spaces.
const SPACES_UNIT: &str = "import asyncio\nimport json\n\n\nasync def on_guild_remove(guild):\n  with open(\"prefixes.json\", \"r\") as f:\n    prefixes = json.load(f)\n  prefixes.pop(str(guild))\n  with open(\"prefixes.json\", \"w\") as f:\n\t  json.dump(prefixes, f, indent=4)\n  return prefixes\n\n\nasync def beat():\n\tawait asyncio.sleep(0.01)\n\n\nasync def main():\n\tt = asyncio.create_task(beat())\n\twith open(\"prefixes.json\", \"w\") as f:\n\t\tjson.dump({\"1\": [\"b.\"], \"2\": [\"c.\"]}, f)\n\tprint(await on_guild_remove(1))\n\tawait t\n\n\nasyncio.run(main())\n";

/// A tab is the file's unit; one coroutine is indented with two spaces (BobDotBot's
/// `on_guild_remove`).
const TAB_UNIT: &str = "import asyncio\nimport json\n\n\nasync def beat():\n\tawait asyncio.sleep(0.01)\n\n\nasync def on_guild_remove(guild):\n  with open(\"prefixes.json\", \"r\") as f:\n    prefixes = json.load(f)\n  prefixes.pop(str(guild))\n  with open(\"prefixes.json\", \"w\") as f:\n\t  json.dump(prefixes, f, indent=4)\n  return prefixes\n\n\nasync def main():\n\tt = asyncio.create_task(beat())\n\twith open(\"prefixes.json\", \"w\") as f:\n\t\tjson.dump({\"1\": [\"b.\"], \"2\": [\"c.\"]}, f)\n\tprint(await on_guild_remove(1))\n\tawait t\n\n\nasyncio.run(main())\n";

#[test]
fn moved_blocks_in_a_file_mixing_tabs_and_spaces_still_compile_and_run() {
    for source in [SPACES_UNIT, TAB_UNIT] {
        let dir = project(&[("app.py", source.as_bytes())]);
        let before = python(&test_python())
            .current_dir(dir.path())
            .arg("app.py")
            .output();
        assert_eq!(before.code, Some(0), "{}", before.show());
        let output = unfreeze(
            dir.path(),
            &["fix", "--no-cache", "--write", "--unsafe-fixes", "app.py"],
        )
        .output();
        assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
        let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
        assert!(
            fixed.contains("await asyncio.to_thread(_write_prefixes)"),
            "{fixed}"
        );
        let after = python(&test_python())
            .current_dir(dir.path())
            .arg("app.py")
            .output();
        assert_eq!(after.code, Some(0), "{}\n{fixed}", after.show());
        assert_eq!(after.stdout, before.stdout);
        let again = unfreeze(
            dir.path(),
            &["fix", "--no-cache", "--unsafe-fixes", "app.py"],
        )
        .output();
        assert!(!again.stdout.contains("+++"), "{}", again.show());
    }
}
