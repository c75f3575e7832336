//! The one pytest setting the analysis needs: pytest-asyncio's `asyncio_mode = "auto"`, or
//! anyio's plugin's `anyio_mode = "auto"` (anyio 4: every `async def test_*` runs on the test's
//! loop without a mark), read from the pytest
//! configuration pytest itself would use: the nearest of `pytest.ini` (`[pytest]`),
//! `pyproject.toml` (`[tool.pytest.ini_options]`), `tox.ini` (`[pytest]`) and `setup.cfg`
//! (`[tool:pytest]`) walking up from the checked path. A file that cannot be read says "not
//! auto": the tests then count as unmarked, as without the setting.

use std::fs;
use std::path::Path;

/// The settings whose `auto` runs every async test without a mark: pytest-asyncio's and
/// anyio's plugin's.
const AUTO_MODES: [&str; 2] = ["asyncio_mode", "anyio_mode"];

/// Whether the pytest configuration that applies to `start` sets `asyncio_mode = auto` (or
/// `anyio_mode = auto`).
pub fn asyncio_auto_mode(start: &Path) -> bool {
    let Ok(start) = fs::canonicalize(start) else {
        return false;
    };
    let first = if start.is_dir() {
        start.as_path()
    } else {
        match start.parent() {
            Some(parent) => parent,
            None => return false,
        }
    };
    for dir in first.ancestors() {
        if let Some(auto) = pytest_setting(dir) {
            return auto;
        }
    }
    false
}

/// In one directory: `Some(auto)` when a pytest configuration file is there, in pytest's order.
fn pytest_setting(dir: &Path) -> Option<bool> {
    let ini = |name: &str, section: &str, always: bool| -> Option<bool> {
        let text = fs::read_to_string(dir.join(name)).ok()?;
        let auto = AUTO_MODES
            .iter()
            .any(|key| ini_value(&text, section, key).as_deref() == Some("auto"));
        (always || ini_has_section(&text, section)).then_some(auto)
    };
    if let Some(auto) = ini("pytest.ini", "pytest", true) {
        return Some(auto);
    }
    if let Ok(text) = fs::read_to_string(dir.join("pyproject.toml"))
        && let Ok(table) = text.parse::<toml::Table>()
        && let Some(options) = table
            .get("tool")
            .and_then(|t| t.get("pytest"))
            .and_then(|p| p.get("ini_options"))
    {
        return Some(
            AUTO_MODES
                .iter()
                .any(|key| options.get(*key).and_then(|m| m.as_str()) == Some("auto")),
        );
    }
    ini("tox.ini", "pytest", false).or_else(|| ini("setup.cfg", "tool:pytest", false))
}

fn ini_has_section(text: &str, section: &str) -> bool {
    text.lines()
        .any(|line| line.trim() == format!("[{section}]"))
}

/// The value of `key` in `[section]` of an INI text.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((name, value)) = line.split_once(['=', ':'])
            && name.trim() == key
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_pytest_configuration_decides() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("pkg/tests")).unwrap();
        let test = root.join("pkg/tests/test_a.py");
        fs::write(&test, "").unwrap();
        assert!(!asyncio_auto_mode(&test));
        fs::write(
            root.join("pyproject.toml"),
            "[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n",
        )
        .unwrap();
        assert!(asyncio_auto_mode(&test));
        // A nearer setup.cfg with a pytest section and no setting wins.
        fs::write(
            root.join("pkg/setup.cfg"),
            "[tool:pytest]\ntestpaths = tests\n",
        )
        .unwrap();
        assert!(!asyncio_auto_mode(&test));
        fs::write(
            root.join("pkg/setup.cfg"),
            "[tool:pytest]\nasyncio_mode = auto\n",
        )
        .unwrap();
        assert!(asyncio_auto_mode(&test));
        // A setup.cfg without one is passed over; pytest.ini always counts.
        fs::write(root.join("pkg/setup.cfg"), "[metadata]\nname = x\n").unwrap();
        assert!(asyncio_auto_mode(&test));
        fs::write(root.join("pkg/tests/pytest.ini"), "[pytest]\n").unwrap();
        assert!(!asyncio_auto_mode(&test));
        // anyio's plugin (anyio 4) has its own auto mode.
        fs::write(
            root.join("pkg/tests/pytest.ini"),
            "[pytest]\nanyio_mode = auto\n",
        )
        .unwrap();
        assert!(asyncio_auto_mode(&test));
        fs::remove_file(root.join("pkg/tests/pytest.ini")).unwrap();
        fs::remove_file(root.join("pkg/setup.cfg")).unwrap();
        fs::write(
            root.join("pyproject.toml"),
            "[tool.pytest.ini_options]\nanyio_mode = \"auto\"\n",
        )
        .unwrap();
        assert!(asyncio_auto_mode(&test));
    }
}
