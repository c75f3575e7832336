//! Issue 20 (reviewer L, session 17, shaonianzhentan/cloud_music media_player.py:781): a
//! method whose moved code reaches Home Assistant's `hass.async_create_task` (or any method
//! named `async_...`, Home Assistant's mark of a method that runs only on the event loop's
//! thread: `loop-bound-method-prefixes` in UNF401.toml) gets no thread hop: since 2024.5 Home
//! Assistant raises RuntimeError when it is called from another thread. The program below
//! keeps that check in a stand-in `hass`; it runs before and after `fix --write`, and the
//! method that only sleeps still moves.

mod common;

use common::{project, python, test_python, unfreeze};

const APP: &str = r#"import asyncio
import threading
import time


class Services:
    async def async_call(self, domain, service, data):
        return (domain, service, data)


class Hass:
    """Home Assistant's thread check, as in homeassistant/core.py (2024.5+)."""

    def __init__(self, loop):
        self.loop = loop
        self.loop_thread_id = threading.get_ident()
        self.services = Services()

    def async_create_task(self, target):
        if self.loop_thread_id != threading.get_ident():
            target.close()
            raise RuntimeError("hass.async_create_task called from a thread other than the event loop")
        return self.loop.create_task(target)


class MediaPlayer:
    def __init__(self, hass):
        self._hass = hass

    def call_service(self, domain, service, data):
        self._hass.async_create_task(self._hass.services.async_call(domain, service, data))

    def update_entity(self):
        time.sleep(0.01)
        self.call_service("homeassistant", "update_entity", {"entity_id": "media_player.x"})

    def pause(self):
        time.sleep(0.01)

    async def load_songlist(self):
        self.update_entity()

    async def refresh(self):
        self.pause()


async def main():
    ticker = asyncio.create_task(asyncio.sleep(0.05))
    player = MediaPlayer(Hass(asyncio.get_running_loop()))
    await player.load_songlist()
    await player.refresh()
    await ticker
    print("ok")


asyncio.run(main())
"#;

#[test]
fn code_reaching_an_async_method_of_hass_stays_on_the_loop() {
    let dir = project(&[("app.py", APP.as_bytes())]);
    let report = unfreeze(dir.path(), &["check", "--no-cache", "app.py"])
        .output()
        .stdout;
    assert!(
        report.contains("calls `.async_create_task(...)`: in a worker thread"),
        "{report}"
    );
    assert!(report.contains("UNF401 [*] `self.pause(...)`"), "{report}");
    assert!(
        !report.contains("UNF401 [*] `self.update_entity(...)`"),
        "{report}"
    );
    let before = python(&test_python())
        .current_dir(dir.path())
        .arg("app.py")
        .output();
    assert_eq!(before.code, Some(0), "{}", before.show());
    let output = unfreeze(dir.path(), &["fix", "--no-cache", "--write", "app.py"]).output();
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.show());
    let fixed = std::fs::read_to_string(dir.path().join("app.py")).unwrap();
    assert!(
        fixed.contains("await asyncio.to_thread(self.pause)"),
        "{fixed}"
    );
    assert!(fixed.contains("        self.update_entity()\n"), "{fixed}");
    let after = python(&test_python())
        .current_dir(dir.path())
        .arg("app.py")
        .output();
    assert_eq!(after.code, Some(0), "{}", after.show());
    assert_eq!(after.stdout, "ok\n");
}
