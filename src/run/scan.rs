//! The lexical pass of the project phase over one file: the pre-filter's answer and, for a
//! module of the project, its lexical summary, read from the cache when its bytes did not
//! change.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{Entry, Previous, Stamp, decode_scan, encode_scan};
use crate::codemod::Registry;
use crate::lexical::{LexicalFacts, may_need_analysis};
use crate::outcome::FileOutcome;
use crate::project::{EvidenceCalls, LexicalSummary, ModuleInfo, ModuleMap};
use crate::settings::Settings;
use crate::source::SourceText;
use crate::write::Fingerprint;

use super::cached::replay;
use super::file::read_file;

/// What the project phase's lexical pass learnt of one file.
pub(super) enum LexicalScan {
    /// Nothing more to do: the file could not be read or decoded.
    Done(FileOutcome),
    /// The tokenizer could not follow the file: it is parsed.
    Unscanned,
    Scanned {
        /// The pre-filter's answer.
        needs_analysis: bool,
        /// For a module of the project.
        summary: Option<Box<LexicalSummary>>,
    },
}

/// One file's lexical scan as the run read it.
pub(super) struct ScanRead {
    /// The fingerprint of the file's bytes, when the run keeps a cache.
    pub(super) content: Option<Fingerprint>,
    /// The file's stamp, taken before its bytes were read.
    pub(super) stamp: Option<Stamp>,
    /// `None`: the cache holds the scan of these bytes, decoded only if the run needs it.
    pub(super) scan: Option<LexicalScan>,
    /// The scan as the cache keeps it.
    pub(super) encoded: Option<Vec<u8>>,
}

/// Read and scan one file, unless `previous` (the cache) holds the scan of its bytes.
pub(super) fn scan_file(
    path: &Path,
    module: Option<(&ModuleInfo, &ModuleMap)>,
    settings: &Settings,
    registry: &Registry,
    evidence: &EvidenceCalls,
    caching: bool,
    previous: Option<&Entry>,
) -> ScanRead {
    // Taken before the bytes are read: a change in between shows in the next run's stamp.
    let stamp = if caching { Stamp::of(path) } else { None };
    let cached = |content: Option<Fingerprint>| {
        let entry = previous.filter(|entry| entry.scan.is_some())?;
        let unchanged = match content {
            Some(content) => entry.content == content,
            None => entry.unchanged(stamp),
        };
        unchanged.then_some(ScanRead {
            content: Some(entry.content),
            stamp,
            scan: None,
            encoded: None,
        })
    };
    if let Some(read) = cached(None) {
        return read;
    }
    let bytes = match read_file(path) {
        Ok(bytes) => bytes,
        Err(message) => {
            return ScanRead {
                content: None,
                stamp: None,
                scan: Some(LexicalScan::Done(FileOutcome::Error(message))),
                encoded: None,
            };
        }
    };
    let content = caching.then(|| Fingerprint::of(&bytes));
    if let Some(read) = content.and_then(|content| cached(Some(content))) {
        return read;
    }
    let scan = scan_lexically(&bytes, module, settings, registry, evidence);
    let encoded = match &scan {
        _ if !caching => None,
        LexicalScan::Scanned {
            needs_analysis,
            summary,
        } => Some(encode_scan(Some((*needs_analysis, summary.as_deref())))),
        LexicalScan::Unscanned => Some(encode_scan(None)),
        LexicalScan::Done(_) => None,
    };
    ScanRead {
        content,
        stamp,
        scan: Some(scan),
        encoded,
    }
}

/// Scan one file's bytes: the pre-filter's answer, and, for a module of the project, its
/// lexical summary.
pub(super) fn scan_lexically(
    bytes: &[u8],
    module: Option<(&ModuleInfo, &ModuleMap)>,
    settings: &Settings,
    registry: &Registry,
    evidence: &EvidenceCalls,
) -> LexicalScan {
    // The scan needs only the text: UTF-8 is read in place (the scanner skips a BOM); other
    // files go through the full decoding (a coding cookie, or the error it reports).
    let decoded;
    let text = match std::str::from_utf8(bytes) {
        Ok(text) if !bytes.contains(&0) => text,
        _ => match SourceText::decode(bytes) {
            Ok(source) => {
                decoded = source.text;
                &decoded
            }
            Err(err) => return LexicalScan::Done(FileOutcome::Error(err.to_string())),
        },
    };
    let Some(facts) = LexicalFacts::scan_functions(text, registry.interesting_words()) else {
        return LexicalScan::Unscanned;
    };
    let needs_analysis = may_need_analysis(text, registry, &settings.selection)
        && facts.needs_analysis(registry, &settings.selection);
    let summary = module.map(|(module, map)| {
        let mut summary =
            LexicalSummary::of(&facts, evidence, module, &|name| map.is_project_name(name));
        // A project finding's fix may use an offload idiom read across the file too.
        let idiom_read_file_wide = || {
            registry
                .offload_words_read_file_wide()
                .iter()
                .any(|word| facts.code_has_word(word))
        };
        if needs_analysis || idiom_read_file_wide() {
            summary.keep_bodies_the_file_rules_read(&facts, text, registry);
        }
        summary.keep_bodies_the_single_task_recognition_reads(&facts, registry);
        Box::new(summary)
    });
    LexicalScan::Scanned {
        needs_analysis,
        summary,
    }
}

/// The lexical pass over every file, or the last run's outcomes.
pub(super) enum LexicalPass {
    /// Every file's scan read (from its bytes, or from the cache).
    Read(Vec<ScanRead>),
    /// Nothing changed since the last run (same files, same bytes): its outcomes.
    Replayed(Vec<FileOutcome>),
}

/// Scan every file (in parallel; a scan the cache holds for the same bytes is reused), or,
/// when `replayable` and nothing changed since the last run, replay its outcomes. A panic in
/// the scan costs only the scan: the file is then parsed, under the per-file panic guard.
pub(super) fn scan_files(
    files: &[PathBuf],
    map: &ModuleMap,
    settings: &Settings,
    registry: &Registry,
    previous: &Previous,
    caching: bool,
    replayable: bool,
) -> LexicalPass {
    let evidence = EvidenceCalls::new(registry);
    let scan_one = |path: &PathBuf, previous: Option<&Entry>| {
        let module = map.module(path).map(|module| (module, map));
        // A panic in the scan costs only the scan: the file is then parsed, under the
        // per-file panic guard.
        catch_unwind(AssertUnwindSafe(|| {
            scan_file(
                path, module, settings, registry, &evidence, caching, previous,
            )
        }))
        .unwrap_or(ScanRead {
            content: None,
            stamp: None,
            scan: Some(LexicalScan::Unscanned),
            encoded: None,
        })
    };
    let read: Vec<ScanRead> = files
        .par_iter()
        .enumerate()
        .map(|(i, path)| scan_one(path, previous.get(i)))
        .collect();
    // Nothing changed since the last run: its outcomes are this run's.
    if replayable
        && read.iter().all(|read| read.scan.is_none())
        && let Some(outcomes) = replay(files, previous)
    {
        return LexicalPass::Replayed(outcomes);
    }
    let read: Vec<ScanRead> = files
        .par_iter()
        .zip(read)
        .enumerate()
        .map(|(i, (path, read))| {
            let cached = || {
                let entry = previous.get(i)?;
                let scan = decode_scan(entry.scan.as_deref()?)?;
                Some(match scan {
                    None => LexicalScan::Unscanned,
                    Some((needs_analysis, summary)) => LexicalScan::Scanned {
                        needs_analysis,
                        summary,
                    },
                })
            };
            if read.scan.is_some() {
                return read;
            }
            match cached() {
                Some(scan) => ScanRead {
                    scan: Some(scan),
                    ..read
                },
                // Cannot happen short of a bug: the file is scanned again.
                None => scan_one(path, None),
            }
        })
        .collect();
    LexicalPass::Read(read)
}
