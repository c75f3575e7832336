//! The result cache (src/cache.rs, docs/cache.md): a run with the cache prints what a run
//! without it prints, after every kind of edit between runs, and parses only what changed.

mod common;

use std::fs;
use std::path::Path;

use common::{Output, unfreeze, write_files};

/// Run the binary in `dir` with the parse log on; `(output, the paths parsed)`.
fn run(dir: &Path, args: &[&str]) -> (Output, Vec<String>) {
    let mut output = unfreeze(dir, args)
        .args(["--isolated", "--color=never"])
        .env("UNFREEZE_DEBUG_PARSED", "1")
        .output();
    let mut parsed: Vec<String> = output
        .take_parse_log()
        .iter()
        .filter_map(|entry| entry.split('\t').next())
        .map(|path| path.trim_start_matches("./").to_owned())
        .collect();
    parsed.sort();
    parsed.dedup();
    (output, parsed)
}

/// The commands compared: findings as JSON, and the fixes' diff.
const COMMANDS: [&[&str]; 3] = [
    &["check", "--format", "json", "."],
    &["fix", "."],
    &["fix", "--unsafe-fixes", "."],
];

/// Every command, with the cache (kept in `dir`) and without, prints the same; returns the
/// files the cached `check` parsed.
fn assert_cache_agrees(dir: &Path, step: &str) -> Vec<String> {
    let mut parsed_by_check = Vec::new();
    for command in COMMANDS {
        let (cached, parsed) = run(dir, command);
        let without: Vec<&str> = command.iter().copied().chain(["--no-cache"]).collect();
        let (fresh, _) = run(dir, &without);
        assert_eq!(
            (cached.code, &cached.stdout),
            (fresh.code, &fresh.stdout),
            "{step}: `{}` with the cache differs from without\n{}\n--- without the cache\n{}",
            command.join(" "),
            cached.show(),
            fresh.show()
        );
        assert!(
            cached.stderr.is_empty() || cached.stderr == fresh.stderr,
            "{step}: {}",
            cached.show()
        );
        if command[0] == "check" {
            parsed_by_check = parsed;
        }
    }
    parsed_by_check
}

const HELPERS: &[u8] = b"import time


def load(key):
    return key


async def fetch(key):
    return key
";

const API: &[u8] = b"import time

from app.helpers import fetch, load


async def handler(key):
    load(key)
    fetch(key)
    time.sleep(1)
    return key
";

/// `HELPERS` with `load` making the call `call` first.
fn helpers_calling(call: &str) -> String {
    String::from_utf8(HELPERS.to_vec()).unwrap().replace(
        "    return key\n\n\nasync",
        &format!("    {call}\n    return key\n\n\nasync"),
    )
}

fn service() -> tempfile::TempDir {
    common::project(&[
        ("app/__init__.py", b""),
        ("app/helpers.py", HELPERS),
        ("app/api.py", API),
        (
            "app/other.py",
            b"import time\n\n\nasync def ping():\n    time.sleep(0.5)\n    return 1\n",
        ),
    ])
}

#[test]
fn every_kind_of_edit_between_runs_gives_what_a_run_without_the_cache_gives() {
    let dir = service();
    let root = dir.path();
    let first = assert_cache_agrees(root, "first run");
    assert!(first.contains(&"app/api.py".to_owned()), "{first:?}");

    let unchanged = assert_cache_agrees(root, "nothing changed");
    assert_eq!(
        unchanged,
        Vec::<String>::new(),
        "an unchanged project is not parsed"
    );

    // A helper starts to block: the coroutine calling it gets UNF401, though it did not change.
    let blocking = helpers_calling("time.sleep(1)");
    write_files(root, &[("app/helpers.py", blocking.as_bytes())]);
    assert_cache_agrees(root, "a helper made blocking");
    let (check, _) = run(root, &["check", "."]);
    assert!(check.stdout.contains("UNF401"), "{}", check.show());

    // A coroutine renamed: the call to the old name is no longer a dropped coroutine.
    let renamed = blocking.replace("async def fetch(", "async def fetch_all(");
    write_files(root, &[("app/helpers.py", renamed.as_bytes())]);
    assert_cache_agrees(root, "a coroutine renamed");

    // A file deleted, a file added (the project's shape changes).
    fs::remove_file(root.join("app/other.py")).unwrap();
    assert_cache_agrees(root, "a file deleted");
    write_files(
        root,
        &[(
            "app/extra.py",
            b"import requests\n\nfrom app.helpers import load\n\n\nasync def get(url):\n    load(url)\n    return requests.get(url).text\n",
        )],
    );
    assert_cache_agrees(root, "a file added");

    // A syntax error, then the file as it was at first (an older cache entry's bytes).
    write_files(
        root,
        &[("app/api.py", b"async def handler(:\n    time.sleep(1)\n")],
    );
    assert_cache_agrees(root, "a syntax error");
    write_files(root, &[("app/api.py", API), ("app/helpers.py", HELPERS)]);
    assert_cache_agrees(root, "the first contents back");
}

#[test]
fn only_the_changed_file_and_the_files_its_change_reaches_are_parsed_again() {
    let dir = service();
    let root = dir.path();
    let args = ["check", "."];
    run(root, &args);
    // A file nothing calls into: only it is parsed again.
    write_files(
        root,
        &[(
            "app/other.py",
            b"import time\n\n\nasync def ping():\n    time.sleep(2)\n    return 2\n",
        )],
    );
    let (output, parsed) = run(root, &args);
    assert_eq!(parsed, ["app/other.py"], "{}", output.show());
    // The helper starts to block: it is summarised again, and the coroutine calling it is
    // analysed again with what its call now reaches.
    let blocking = helpers_calling("time.sleep(1)");
    write_files(root, &[("app/helpers.py", blocking.as_bytes())]);
    let (output, parsed) = run(root, &args);
    assert_eq!(
        parsed,
        ["app/api.py", "app/helpers.py"],
        "{}",
        output.show()
    );
    assert!(output.stdout.contains("UNF401"), "{}", output.show());
}

#[test]
fn the_cache_lives_next_to_the_configuration_and_git_ignores_it() {
    let dir = service();
    let root = dir.path();
    let (output, _) = run(root, &["check", "."]);
    assert_eq!(output.code, Some(1), "{}", output.show());
    let cache = root.join(".unfreeze_cache");
    assert_eq!(
        fs::read_to_string(cache.join(".gitignore")).unwrap(),
        "# Made by unfreeze: its result cache.\n*\n"
    );
    assert!(
        fs::read_to_string(cache.join("CACHEDIR.TAG"))
            .unwrap()
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55")
    );
    // `--no-cache` neither reads nor writes it.
    fs::remove_dir_all(&cache).unwrap();
    let (output, _) = run(root, &["check", "--no-cache", "."]);
    assert_eq!(output.code, Some(1), "{}", output.show());
    assert!(!cache.exists());
    // With a configuration file (found, not `--isolated`), next to it.
    write_files(root, &[("unfreeze.toml", b"ignore = [\"RUF006\"]\n")]);
    let nested = root.join("app");
    let output = unfreeze(&nested, &["check", "."]).output();
    assert_eq!(output.code, Some(1));
    assert!(cache.join("CACHEDIR.TAG").exists());
    assert!(!nested.join(".unfreeze_cache").exists());
    // `cache-dir` in the configuration, relative to it; `UNFREEZE_CACHE_DIR` wins over it.
    write_files(
        root,
        &[(
            "unfreeze.toml",
            b"ignore = [\"RUF006\"]\ncache-dir = \"build/uf\"\n",
        )],
    );
    let output = unfreeze(&nested, &["check", "."]).output();
    assert_eq!(output.code, Some(1));
    assert!(root.join("build/uf/CACHEDIR.TAG").exists());
    let output = unfreeze(&nested, &["check", "."])
        .env("UNFREEZE_CACHE_DIR", root.join("from-env"))
        .output();
    assert_eq!(output.code, Some(1));
    assert!(root.join("from-env/CACHEDIR.TAG").exists());
}

/// The one cache file in `dir`'s default cache directory.
fn cache_file(dir: &Path) -> std::path::PathBuf {
    let files: Vec<_> = fs::read_dir(dir.join(".unfreeze_cache"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "bin"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn a_damaged_cache_is_ignored_and_replaced() {
    let dir = service();
    let root = dir.path();
    let (first, _) = run(root, &["check", "."]);
    let file = cache_file(root);
    let bytes = fs::read(&file).unwrap();
    for damaged in [
        b"not a cache".to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
        Vec::new(),
    ] {
        fs::write(&file, &damaged).unwrap();
        let (again, parsed) = run(root, &["check", "."]);
        assert_eq!((again.code, &again.stdout), (first.code, &first.stdout));
        assert!(again.stderr.is_empty(), "{}", again.show());
        assert!(!parsed.is_empty(), "a damaged cache is not used");
        let (replaced, parsed) = run(root, &["check", "."]);
        assert_eq!(replaced.stdout, first.stdout);
        assert_eq!(parsed, Vec::<String>::new(), "the cache was written anew");
    }
}

#[test]
fn a_cache_that_cannot_be_written_is_a_warning_and_the_run_goes_on() {
    let dir = service();
    let root = dir.path();
    write_files(root, &[("not-a-directory", b"")]);
    let (without, _) = run(root, &["check", "--no-cache", "."]);
    let (output, _) = run(
        root,
        &["check", "--cache-dir", "not-a-directory/cache", "."],
    );
    assert_eq!(
        (output.code, &output.stdout),
        (without.code, &without.stdout)
    );
    assert!(
        output
            .stderr
            .starts_with("warning: the result cache was not written: not-a-directory/cache"),
        "{}",
        output.show()
    );
}

#[test]
fn fix_write_from_a_warm_cache_writes_what_a_run_without_it_writes() {
    let cached = service();
    let fresh = service();
    // The diff run fills the cache; `--write` then takes its fixed texts from it.
    run(cached.path(), &["fix", "."]);
    let (with_cache, parsed) = run(cached.path(), &["fix", "--write", "."]);
    assert_eq!(parsed, Vec::<String>::new(), "{}", with_cache.show());
    let (without, _) = run(fresh.path(), &["fix", "--write", "--no-cache", "."]);
    assert_eq!(
        (with_cache.code, &with_cache.stdout),
        (without.code, &without.stdout)
    );
    for file in ["app/api.py", "app/helpers.py", "app/other.py"] {
        assert_eq!(
            fs::read_to_string(cached.path().join(file)).unwrap(),
            fs::read_to_string(fresh.path().join(file)).unwrap(),
            "{file}"
        );
    }
    // The written files are new bytes: the next run analyses them, and finds what is left.
    let (next, parsed) = run(cached.path(), &["check", "."]);
    let (next_fresh, _) = run(fresh.path(), &["check", "--no-cache", "."]);
    assert_eq!(next.stdout, next_fresh.stdout);
    assert!(parsed.contains(&"app/api.py".to_owned()), "{parsed:?}");
}

#[test]
fn without_the_project_rules_the_cache_holds_each_file_s_outcome() {
    let dir = service();
    let root = dir.path();
    let args = ["check", "--ignore", "UNF301,UNF401", "."];
    let (first, parsed) = run(root, &args);
    assert!(!parsed.is_empty());
    let (second, parsed) = run(root, &args);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(parsed, Vec::<String>::new());
    write_files(
        root,
        &[(
            "app/api.py",
            b"import time\n\n\nasync def f():\n    time.sleep(3)\n",
        )],
    );
    let (third, parsed) = run(root, &args);
    let (fresh, _) = run(
        root,
        &["check", "--ignore", "UNF301,UNF401", "--no-cache", "."],
    );
    assert_eq!(third.stdout, fresh.stdout);
    assert_eq!(parsed, ["app/api.py"]);
}

/// Set the modification time of the file `path`, or of every file under it, to
/// `seconds_ago`.
fn age(path: &Path, seconds_ago: u64) {
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            age(&entry.unwrap().path(), seconds_ago);
        }
        return;
    }
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago);
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(when).unwrap();
}

#[test]
fn files_modified_well_before_a_run_are_known_by_length_and_time() {
    // Files written just before a run are hashed again by the next one (their stamp is too
    // recent to trust); these are an hour old, so the second run reads none of them.
    let dir = service();
    let root = dir.path();
    // `sleeq` is no function of `time`: `load` does not block yet.
    write_files(
        root,
        &[(
            "app/helpers.py",
            helpers_calling("time.sleeq(1)").as_bytes(),
        )],
    );
    age(root, 3600);
    assert_cache_agrees(root, "old files");
    assert_eq!(assert_cache_agrees(root, "unchanged"), Vec::<String>::new());
    // The same length, another time: read, hashed and summarised again, and the coroutine
    // calling `load` (unchanged, with no stamp change) gets UNF401.
    write_files(
        root,
        &[(
            "app/helpers.py",
            helpers_calling("time.sleep(1)").as_bytes(),
        )],
    );
    age(&root.join("app/helpers.py"), 1800);
    let parsed = assert_cache_agrees(root, "the same length");
    assert_eq!(parsed, ["app/api.py", "app/helpers.py"]);
    let (check, _) = run(root, &["check", "."]);
    assert!(check.stdout.contains("UNF401"), "{}", check.show());
}

#[test]
fn cache_files_unused_for_a_month_are_removed() {
    let dir = service();
    let root = dir.path();
    run(root, &["check", "."]);
    let current = cache_file(root);
    let cache = root.join(".unfreeze_cache");
    // Another settings' file, used 40 days ago and 10 days ago, and a killed run's
    // temporary file two days old.
    write_files(
        &cache,
        &[
            ("0000000000000000.bin", b"old"),
            ("1111111111111111.bin", b"recent"),
            (".2222222222222222.bin.99.tmp", b"killed"),
        ],
    );
    age(&cache.join("0000000000000000.bin"), 40 * 24 * 3600);
    age(&cache.join("1111111111111111.bin"), 10 * 24 * 3600);
    age(&cache.join(".2222222222222222.bin.99.tmp"), 2 * 24 * 3600);
    age(&current, 40 * 24 * 3600);
    // A run that writes its cache prunes; its own file is never removed.
    write_files(
        root,
        &[("app/other.py", b"async def ping():\n    return 3\n")],
    );
    run(root, &["check", "."]);
    let mut names: Vec<String> = fs::read_dir(&cache)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let current = current.file_name().unwrap().to_string_lossy().into_owned();
    let mut expected = vec![
        ".gitignore".to_owned(),
        "1111111111111111.bin".to_owned(),
        "CACHEDIR.TAG".to_owned(),
        current,
    ];
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn a_module_added_or_removed_keeps_the_other_files_results_a_new_top_level_one_does_not() {
    let dir = service();
    let root = dir.path();
    let args = ["check", "."];
    run(root, &args);
    // A module added to the package: only it is parsed (nothing calls into it).
    write_files(
        root,
        &[(
            "app/extra.py",
            b"import time\n\n\nasync def poll():\n    time.sleep(5)\n",
        )],
    );
    assert_eq!(
        assert_cache_agrees(root, "a module added"),
        ["app/extra.py"]
    );
    // Removed again: nothing is parsed, and its finding is gone.
    fs::remove_file(root.join("app/extra.py")).unwrap();
    assert_eq!(
        assert_cache_agrees(root, "a module removed"),
        Vec::<String>::new()
    );
    let (check, _) = run(root, &args);
    assert!(!check.stdout.contains("extra.py"), "{}", check.show());
    // A helper module that the coroutines' calls now reach: `api.py` is analysed again.
    write_files(
        root,
        &[
            ("app/helpers.py", HELPERS),
            (
                "app/api.py",
                b"from app.slow import load\n\n\nasync def handler(key):\n    return load(key)\n",
            ),
        ],
    );
    assert_cache_agrees(root, "api.py calls a module that does not exist yet");
    write_files(
        root,
        &[(
            "app/slow.py",
            b"import time\n\n\ndef load(key):\n    time.sleep(1)\n    return key\n",
        )],
    );
    let parsed = assert_cache_agrees(root, "the module it calls added");
    assert_eq!(parsed, ["app/api.py", "app/slow.py"]);
    // A new top-level module changes what names are the project's: every file is read anew.
    write_files(root, &[("tool.py", b"def main():\n    return 0\n")]);
    let parsed = assert_cache_agrees(root, "a top-level module added");
    assert!(parsed.contains(&"app/api.py".to_owned()), "{parsed:?}");
}
