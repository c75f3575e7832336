//! The single-task recognition of a script does not depend on which files of the project had
//! findings: a script reaching a package through its `__init__.py` re-export (`from pkg import
//! API`, the class in `pkg/client.py`) follows the class into its module, and a module first
//! read for its own findings (with bodies left out) is read again whole when the script's
//! entry point reaches it. Before, the verdict of a path check in the script flipped when a
//! fix (`get_event_loop` -> `get_running_loop`) removed the package's own findings, so a
//! second `fix` moved what the first had rightly left (reduced from plagness/Telegram-MCP,
//! scripts/test_media.py).

mod common;

use std::time::Duration;

use common::{project, python, test_python, unfreeze_in};

const INIT: &str = "from .client import API, Progress\n\n__all__ = [\"API\", \"Progress\"]\n";

const CLIENT: &str = "import asyncio\n\nfrom .commands import Registry\n\n\n\
class API:\n    def __init__(self, name):\n        self.name = name\n        self.sent = []\n        \
self.registry = Registry()\n\n    async def __aenter__(self):\n        return self\n\n    \
async def __aexit__(self, *args):\n        await asyncio.sleep(0)\n\n    \
async def send(self, text):\n        await asyncio.sleep(0)\n        self.sent.append(text)\n        \
return len(self.sent)\n\n\n\
class Progress:\n    def __init__(self, api):\n        self.api = api\n\n    \
async def update(self, text):\n        loop = asyncio.get_event_loop()\n        \
await self.api.send(text)\n        return loop.time()\n";

const COMMANDS: &str = "import asyncio\n\n\n\
class Registry:\n    def __init__(self):\n        self.handlers = {}\n\n    \
def register(self, name, handler):\n        self.handlers[name] = handler\n\n\n\
class Poller:\n    def __init__(self, api):\n        self.api = api\n\n    \
async def poll_once(self):\n        loop = asyncio.get_event_loop()\n        \
await self.api.send(\"poll\")\n        return loop.time()\n";

const SCRIPT: &str = "import asyncio\nimport os\nimport sys\n\n\
sys.path.insert(0, os.path.join(os.path.dirname(__file__), \"..\", \"sdk\"))\n\n\
from pkg import API\n\n\n\
async def main(path):\n    async with API(\"bot\") as api:\n        \
count = await api.send(\"hello\")\n        if not os.path.isfile(path):\n            \
print(\"missing\", count)\n            return\n        print(\"found\", count)\n\n\n\
if __name__ == \"__main__\":\n    asyncio.run(main(sys.argv[1]))\n";

const NO_FIX: &str = "no fix: nothing else runs on the event loop in this script, so \
                      `os.path.isfile()` blocks nothing";

#[test]
fn a_fix_in_a_package_the_script_uses_keeps_the_scripts_single_task_verdict() {
    let dir = project(&[
        ("scripts/send.py", SCRIPT.as_bytes()),
        ("sdk/pkg/__init__.py", INIT.as_bytes()),
        ("sdk/pkg/client.py", CLIENT.as_bytes()),
        ("sdk/pkg/commands.py", COMMANDS.as_bytes()),
    ]);
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(
        check
            .stdout
            .contains("scripts/send.py:13:16: ASYNC240 `os.path.isfile`"),
        "{}",
        check.show()
    );
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());

    let write = unfreeze_in(
        dir.path(),
        &["fix", "--write", "--isolated", "--no-cache", "."],
    );
    assert_eq!(write.code, Some(1), "{}", write.show());
    for module in ["sdk/pkg/client.py", "sdk/pkg/commands.py"] {
        let text = std::fs::read_to_string(dir.path().join(module)).unwrap();
        assert!(
            text.contains("loop = asyncio.get_running_loop()"),
            "{module}: {text}"
        );
    }
    let script = std::fs::read_to_string(dir.path().join("scripts/send.py")).unwrap();
    assert_eq!(script, SCRIPT);

    // The second run proposes nothing: the script's verdict did not flip.
    for args in [
        &["fix", "--isolated", "--no-cache", "."][..],
        &["fix", "--unsafe-fixes", "--isolated", "--no-cache", "."][..],
    ] {
        let again = unfreeze_in(dir.path(), args);
        assert!(again.stdout.is_empty(), "{}", again.show());
    }
    let check = unfreeze_in(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    assert!(check.stdout.contains(NO_FIX), "{}", check.show());
    assert!(!check.stdout.contains("[*]"), "{}", check.show());

    // The program, with the package's fixes, runs.
    for (arg, expected) in [("scripts/send.py", "found 1\n"), ("nowhere", "missing 1\n")] {
        let out = python(&test_python())
            .current_dir(dir.path())
            .args(["scripts/send.py", arg])
            .deadline(Duration::from_secs(30))
            .output();
        assert_eq!(out.code, Some(0), "{}", out.show());
        assert_eq!(out.stdout, expected);
    }
}
