//! The result cache: a run over files that did not change since the last run reuses what that
//! run learnt of them, and parses only what changed (docs/cache.md).
//!
//! One cache file per combination of settings (the executable, the working directory, the
//! command's mode, the rule selection, the configuration and the paths), in the cache
//! directory (`.unfreeze_cache` next to the configuration file, else in the working
//! directory). It holds, per file, the file's length and SHA-256 and what was learnt from
//! those bytes:
//!
//! - the lexical scan (the pre-filter's answer and the lexical summary, `run.rs`);
//! - the summary of its functions, with the digest of the bodies its parse left out;
//! - its outcome (findings, the fixed text), with the digest of the settled project calls it
//!   was analyzed with.
//!
//! Why reuse is sound: everything a file's outcome depends on besides its bytes is in a key.
//! The settings and the project's top-level modules key the whole cache file: another
//! setting, or a new top-level module, and nothing is reused. Each file's results are also
//! keyed by its own module names ([`Shape`]). A summary depends on the bytes and on the
//! bodies its parse leaves out (decided by the lexical project, recomputed on every run from
//! the scans). An outcome depends on the bytes and on what the file's project calls reach
//! once the project is settled ([`calls_key`]): a helper in another file that starts to
//! block changes that, and the file is analyzed again. The run recomputes the settling
//! itself on every run (from the summaries, cached or new), so only the parses are saved.

use std::io::BufWriter;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analyze::Finding;
use crate::outcome::{FileOutcome, FixedFile};
use crate::project::{FileSummary, LexicalSummary, ModuleMap, ProjectCalls};
use crate::settings::{Mode, Settings};
use crate::source::SourceText;
use crate::write::Fingerprint;

/// The cache directory's name, made next to the configuration file (else in the working
/// directory) unless `--cache-dir` or `UNFREEZE_CACHE_DIR` names another.
pub const DIR_NAME: &str = ".unfreeze_cache";

/// Bumped whenever what is stored changes shape.
const FORMAT: u32 = 11;

/// A SHA-256 digest.
pub type Key = [u8; 32];

/// The cache file's content.
#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    settings: Key,
    /// The project's top-level module names ([`Shape`]).
    tops: Key,
    /// The files, in order ([`Shape`]).
    files: Key,
    paths: Vec<PathBuf>,
    /// One per path.
    entries: Vec<Option<Entry>>,
}

/// What the last run learnt of one file's bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub content: Fingerprint,
    /// The file's module names ([`Shape`]).
    module: Key,
    /// The file's length and modification time when it had `content`, if it was modified
    /// well before that run started: the next run then takes the bytes for unchanged
    /// without reading them while both are the same ([`Stamp`]).
    pub stamp: Option<Stamp>,
    /// The lexical scan ([`encode_scan`]).
    pub scan: Option<Vec<u8>>,
    /// The summary of a parse leaving out the bodies whose digest is the key
    /// ([`encode_summary`]).
    pub summary: Option<(Key, Vec<u8>)>,
    /// The outcome ([`encode_outcome`]), and the digest of the project calls it was analyzed
    /// with.
    pub outcome: Option<(Key, Vec<u8>)>,
}

impl Entry {
    pub fn new(content: Fingerprint) -> Entry {
        Entry {
            content,
            module: [0; 32],
            stamp: None,
            scan: None,
            summary: None,
            outcome: None,
        }
    }

    /// The file's bytes are still `content` by its stamp: its length and modification time
    /// are the ones recorded with them.
    pub fn unchanged(&self, stamp: Option<Stamp>) -> bool {
        self.stamp.is_some() && self.stamp == stamp
    }
}

/// A file's length and modification time, as `make` and git compare them; its bytes are
/// read and hashed whenever either differs from what the cache recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    len: u64,
    modified_ns: u128,
}

impl Stamp {
    pub fn of(path: &Path) -> Option<Stamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(Stamp {
            len: metadata.len(),
            modified_ns: modified.as_nanos(),
        })
    }

    /// The stamp, if it can be trusted in a later run: the file was last modified at least
    /// two seconds before `started`. A file modified later could change again within the
    /// same tick of a coarse clock and keep its length and time ("racily clean", in git's
    /// words); such a file is read and hashed next time.
    pub fn settled(self, started: SystemTime) -> Option<Stamp> {
        let started = started.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        (self.modified_ns + 2_000_000_000 <= started).then_some(self)
    }
}

/// A file's outcome as the cache keeps it ([`CachedOutcome`]); `None` for an error: a file
/// that could not be read or analyzed is tried again.
pub fn encode_outcome(outcome: &FileOutcome) -> Option<Vec<u8>> {
    Some(compressed(&CachedOutcome::of(outcome)?))
}

/// The outcome the cache keeps ([`encode_outcome`]), for the file at `path` whose bytes were
/// `content`; `None` when it cannot be restored (see [`CachedOutcome::restore`]).
pub fn restore_outcome(encoded: &[u8], path: &Path, content: Fingerprint) -> Option<FileOutcome> {
    decompressed::<CachedOutcome>(encoded)?.restore(path, content)
}

/// A file's outcome without what the file's bytes give back (its text, the fixed bytes).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CachedOutcome {
    findings: Vec<Finding>,
    applied: Vec<bool>,
    fixed_text: Option<String>,
    rejected: Option<String>,
}

impl CachedOutcome {
    fn of(outcome: &FileOutcome) -> Option<CachedOutcome> {
        match outcome {
            FileOutcome::Checked {
                findings,
                applied,
                fixed,
                rejected,
                over_budget: false,
                ..
            } => Some(CachedOutcome {
                findings: findings.clone(),
                applied: applied.clone(),
                fixed_text: fixed.as_ref().map(|fixed| fixed.text.clone()),
                rejected: rejected.clone(),
            }),
            // An error, or fixes stopped at the time budget: this run's, not the bytes'.
            FileOutcome::Checked { .. } | FileOutcome::Error(_) => None,
        }
    }

    /// The outcome again, for the file at `path` whose bytes were `content`. A file with
    /// findings is read again for its text; `None` when its bytes are no longer `content`.
    fn restore(self, path: &Path, content: Fingerprint) -> Option<FileOutcome> {
        if self.findings.is_empty() && self.fixed_text.is_none() {
            return Some(FileOutcome::Checked {
                text: String::new(),
                findings: Vec::new(),
                applied: self.applied,
                fixed: None,
                rejected: self.rejected,
                over_budget: false,
                fingerprint: None,
            });
        }
        let bytes = std::fs::read(path).ok()?;
        let read_as = Fingerprint::of(&bytes);
        if read_as != content {
            return None;
        }
        let source = SourceText::decode(&bytes).ok()?;
        let fixed = match self.fixed_text {
            Some(text) => Some(Box::new(FixedFile {
                bytes: source.encode(&text)?,
                text,
                read_as,
            })),
            None => None,
        };
        Some(FileOutcome::Checked {
            text: source.text,
            findings: self.findings,
            applied: self.applied,
            fixed,
            rejected: self.rejected,
            over_budget: false,
            fingerprint: Some(read_as),
        })
    }
}

/// What the last run learnt of each file, by the file's index in this run.
pub struct Previous {
    entries: Vec<Option<Entry>>,
    /// The last run was over the same files.
    same_files: bool,
}

impl Previous {
    pub fn get(&self, file: usize) -> Option<&Entry> {
        self.entries.get(file)?.as_ref()
    }

    /// The entry of `file`, taken out (to be saved again).
    pub fn take(&mut self, file: usize) -> Option<Entry> {
        self.entries.get_mut(file)?.take()
    }

    /// The last run was over the same `files` files, and holds an entry for each.
    pub fn covers(&self, files: usize) -> bool {
        self.same_files && self.entries.len() == files && self.entries.iter().all(Option::is_some)
    }

    pub fn none() -> Previous {
        Previous {
            entries: Vec::new(),
            same_files: false,
        }
    }
}

/// What of the project's shape a file's results depend on. Names resolve through the file's
/// own module names (relative imports) and through the project's top-level modules (whether
/// a name is the project's: `ModuleMap::is_project_name`); nothing else of the module map
/// reaches a scan, a summary or an outcome (the lexical project and the settling are made
/// anew every run). So a file added to or removed from a package keeps every other file's
/// results; a new top-level module drops them all.
pub struct Shape {
    tops: Key,
    files: Key,
    /// Per file, the digest of its module names.
    modules: Vec<Key>,
}

impl Shape {
    /// `map`: `None` without the project rules (nothing resolves through the project).
    pub fn of(files: &[PathBuf], map: Option<&ModuleMap>) -> Shape {
        let tops = digest(&map.map(ModuleMap::tops));
        let files_key = digest(&files);
        let modules = files
            .iter()
            .map(|path| digest(&format!("{:?}", map.and_then(|map| map.module(path)))))
            .collect();
        Shape {
            tops,
            files: files_key,
            modules,
        }
    }
}

/// One settings' cache file, and what it held when the run started.
pub struct Cache {
    file: PathBuf,
    settings: Key,
    previous: Option<Stored>,
    /// When the run started (see [`Stamp::settled`]).
    pub started: SystemTime,
}

impl Cache {
    /// The cache for `settings` in `dir`. A missing, unreadable or outdated cache file holds
    /// nothing; `None` when the settings cannot be keyed (the executable cannot be read).
    pub fn open(dir: &Path, settings: &Settings) -> Option<Cache> {
        let started = SystemTime::now();
        // Named by the settings alone: a new build of unfreeze replaces its predecessor's file
        // instead of adding one.
        let described = describe(settings);
        let file = dir.join(format!(
            "{}.bin",
            &Fingerprint::of(described.as_bytes()).sha256_hex()[..16]
        ));
        let key = settings_key(&described)?;
        let previous = std::fs::read(&file)
            .ok()
            .and_then(|bytes| postcard::from_bytes::<Stored>(&bytes).ok())
            .filter(|stored| stored.format == FORMAT && stored.settings == key);
        Some(Cache {
            file,
            settings: key,
            previous,
            started,
        })
    }

    /// What the last run learnt of each of `files` (the project's `shape`), in their order:
    /// nothing if the project's top-level modules changed, and for each file only what was
    /// learnt under the same module names.
    pub fn take_previous(&mut self, files: &[PathBuf], shape: &Shape) -> Previous {
        let Some(stored) = self
            .previous
            .take()
            .filter(|stored| stored.tops == shape.tops)
        else {
            return Previous::none();
        };
        let same_files = stored.files == shape.files && stored.paths.len() == files.len();
        let mut entries = if same_files {
            stored.entries
        } else {
            let mut by_path: std::collections::HashMap<PathBuf, Entry> = stored
                .paths
                .into_iter()
                .zip(stored.entries)
                .filter_map(|(path, entry)| Some((path, entry?)))
                .collect();
            files.iter().map(|path| by_path.remove(path)).collect()
        };
        for (entry, module) in entries.iter_mut().zip(&shape.modules) {
            if entry.as_ref().is_some_and(|entry| entry.module != *module) {
                *entry = None;
            }
        }
        Previous {
            entries,
            same_files,
        }
    }

    /// Replace the cache file with `files`, atomically (a temporary file renamed over it): a
    /// run that stops half-way leaves the last complete cache. `Err`: why it could not be
    /// written (the run goes on without).
    /// `entries`: one per file of `files` (the project's `shape`), in their order.
    pub fn save(
        &self,
        files: &[PathBuf],
        shape: &Shape,
        mut entries: Vec<Option<Entry>>,
    ) -> Result<(), String> {
        for (entry, module) in entries.iter_mut().zip(&shape.modules) {
            if let Some(entry) = entry {
                entry.module = *module;
            }
        }
        let stored = Stored {
            format: FORMAT,
            settings: self.settings,
            tops: shape.tops,
            files: shape.files,
            paths: files.to_vec(),
            entries,
        };
        let dir = self.file.parent().unwrap_or(Path::new("."));
        make_cache_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        let temporary = dir.join(format!(
            ".{}.{}.tmp",
            self.file.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let written = std::fs::File::create(&temporary)
            .map_err(|err| err.to_string())
            .and_then(|file| {
                let out = postcard::to_io(&stored, BufWriter::new(file))
                    .map_err(|err| err.to_string())?;
                out.into_inner().map_err(|err| err.to_string())?;
                Ok(())
            })
            .and_then(|()| std::fs::rename(&temporary, &self.file).map_err(|e| e.to_string()));
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(format!("{}: {err}", self.file.display()));
        }
        prune(dir, &self.file);
        Ok(())
    }
}

/// How long a cache file no run used is kept.
const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Remove the cache files of `dir` no run has written for [`UNUSED_FOR`] (settings no longer
/// used), and temporary files of runs killed while saving, older than a day; never `kept`.
fn prune(dir: &Path, kept: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let limit = if name.starts_with('.') && name.ends_with(".tmp") {
            Duration::from_secs(24 * 3600)
        } else if name.ends_with(".bin") {
            UNUSED_FOR
        } else {
            continue;
        };
        let age = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        if path != kept && age.is_some_and(|age| age > limit) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Create the cache directory, marked as one (`CACHEDIR.TAG`, for backup tools) and ignored
/// by git (a `.gitignore` of `*`).
fn make_cache_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tag = dir.join("CACHEDIR.TAG");
    if !tag.exists() {
        std::fs::write(
            tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n\
             # This file is a cache directory tag created by unfreeze.\n\
             # For information about cache directory tags see https://bford.info/cachedir/\n",
        )?;
    }
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(ignore, "# Made by unfreeze: its result cache.\n*\n")?;
    }
    Ok(())
}

/// The settings' key: their description ([`describe`]) and the executable's own digest (its
/// rules, codemods and code).
fn settings_key(described: &str) -> Option<Key> {
    let mut hasher = Sha256::new();
    hasher.update(executable_digest()?);
    hasher.update(FORMAT.to_le_bytes());
    hasher.update(described.as_bytes());
    Some(hasher.finalize().into())
}

/// Everything in the settings that a file's outcome may depend on.
fn describe(settings: &Settings) -> String {
    let mode = match settings.mode {
        Mode::Check => "check",
        Mode::Fix {
            unsafe_fixes: true, ..
        } => "fix --unsafe-fixes",
        Mode::Fix { .. } => "fix",
    };
    let sorted = |set: &std::collections::HashSet<String>| {
        let mut codes: Vec<&String> = set.iter().collect();
        codes.sort();
        format!("{codes:?}")
    };
    let selection = &settings.selection;
    format!(
        "{mode}\n{:?}\n{:?}\n{}\n{}\n{:?}\n{:?}\n{:?}\n{}\n",
        std::env::current_dir().ok(),
        selection.select.as_ref().map(sorted),
        sorted(&selection.extend_select),
        sorted(&selection.ignore),
        settings.config,
        settings.paths,
        settings.exclude,
        settings.forced_excludes.is_some(),
    )
}

/// The running executable's SHA-256, computed once: a rebuilt unfreeze may analyze
/// differently, whatever its version says.
fn executable_digest() -> Option<Key> {
    static DIGEST: OnceLock<Option<Key>> = OnceLock::new();
    *DIGEST.get_or_init(|| {
        let bytes = std::fs::read(std::env::current_exe().ok()?).ok()?;
        Some(Sha256::digest(bytes).into())
    })
}

/// What a file's project calls reach once the project is settled, by name, in a stable
/// order.
pub fn calls_key(calls: Option<&ProjectCalls>) -> Key {
    let sorted: Option<Vec<_>> = calls.map(|calls| {
        let mut sorted: Vec<_> = calls.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted
    });
    digest(&sorted)
}

/// The key of a file's cached summary: the function bodies its parse left out, and whether
/// only an on-demand pass made it (that pass makes no summary of a file without functions
/// or imports).
pub fn summary_key(left_out: &[Range<usize>], on_demand: bool) -> Key {
    digest(&(on_demand, left_out))
}

fn digest<T: Serialize>(value: &T) -> Key {
    let bytes = postcard::to_stdvec(value).expect("serialising to memory cannot fail");
    Sha256::digest(bytes).into()
}

/// A file's lexical scan as the cache holds it: `None` when the tokenizer could not follow
/// the file, else the pre-filter's answer and the lexical summary.
pub fn encode_scan(scan: Option<(bool, Option<&LexicalSummary>)>) -> Vec<u8> {
    compressed(&scan)
}

/// The cached scan ([`encode_scan`]); `None` when it cannot be read back.
pub type DecodedScan = Option<(bool, Option<Box<LexicalSummary>>)>;

pub fn decode_scan(bytes: &[u8]) -> Option<DecodedScan> {
    decompressed(bytes)
}

pub fn encode_summary(summary: Option<&FileSummary>) -> Vec<u8> {
    compressed(&summary)
}

/// The cached summary ([`encode_summary`]); `None` when it cannot be read back.
pub fn decode_summary(bytes: &[u8]) -> Option<Option<FileSummary>> {
    decompressed(bytes)
}

/// Serialised and compressed (LZ4): the summaries repeat their module paths, and the cache
/// holds one scan per file of the project, in memory through the run and on disk.
fn compressed<T: Serialize>(value: &T) -> Vec<u8> {
    let bytes = postcard::to_stdvec(value).expect("serialising to memory cannot fail");
    let mut compressed = lz4_flex::compress_prepend_size(&bytes);
    // Made with room for the worst case: the scans are kept through the run.
    compressed.shrink_to_fit();
    compressed
}

fn decompressed<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let bytes = lz4_flex::decompress_size_prepended(bytes).ok()?;
    postcard::from_bytes(&bytes).ok()
}

/// A cache that cannot be written is not an error of the run: one warning on stderr.
#[allow(
    clippy::print_stderr,
    reason = "a warning that does not belong to any file's report"
)]
pub fn warn(message: &str) {
    eprintln!("warning: the result cache was not written: {message}");
}
