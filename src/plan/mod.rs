//! Plans: the fixes of a run recorded in a versioned JSON file (`fix --plan`), with a SHA-256
//! of every file as it was read, and applied later (`apply`) only to the files that still have
//! those bytes, so that what is applied is exactly what was previewed (docs/plan-format.md).
//! A plan read back is untrusted input: `apply` confines its paths to one root (`confine`) and
//! writes a file only when its content is what unfreeze makes again (`rederive`).

mod apply;
mod confine;
#[cfg(target_os = "linux")]
mod dir_handle;
mod rederive;
mod settings;

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::analyze::Finding;
use crate::diff::unified_diff;
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::report::Reporter;
use crate::source::LineIndex;
use crate::write::Fingerprint;

pub use apply::{ApplyOutcome, Refusal, apply_plan, execute_apply};
pub use confine::{Confined, Root};
pub use settings::{ConfigurationRecord, MAX_PLAN_BYTES, PlanSettings};

/// The value of `format` in every plan file.
pub const PLAN_FORMAT: &str = "unfreeze-plan";
/// The plan format's version; `apply` refuses any other.
pub const PLAN_VERSION: u32 = 1;

/// A whole plan, as written to disk.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    /// The unfreeze version that made the plan.
    pub unfreeze_version: String,
    /// Whether unsafe fixes were included (`fix --plan --unsafe-fixes`).
    pub unsafe_fixes: bool,
    /// The options and configuration the fixes were made with.
    pub settings: PlanSettings,
    /// Files with findings, sorted by path.
    pub files: Vec<PlannedFile>,
}

/// One file of a plan.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedFile {
    /// The path as given on the command line (relative to the working directory where the plan
    /// was made, when inside it); `apply` resolves it against its own working directory.
    pub path: String,
    /// SHA-256 (lowercase hex) of the file's bytes when the plan was made.
    pub sha256: String,
    /// The fixed file, when at least one fix applies to it.
    pub fixed: Option<FixedContent>,
    pub findings: Vec<PlannedFinding>,
    /// Why this file has no fixed content although fixes were selected (the result did not
    /// parse, or could not be encoded).
    pub rejected: Option<String>,
    /// Where the file was read (not part of the file format).
    #[serde(skip)]
    pub local_path: PathBuf,
}

/// The fixed bytes of a file, and the diff that previews them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FixedContent {
    /// SHA-256 of the fixed bytes, so a plan edited by hand is refused.
    pub sha256: String,
    /// `utf-8`: `content` is the file itself; `base64`: the bytes in base64 (files in another
    /// encoding, such as Latin-1 with a coding cookie).
    pub encoding: String,
    pub content: String,
    /// The unified diff from the original to the fixed file (`a/` `b/` headers).
    pub diff: String,
}

impl FixedContent {
    fn new(bytes: &[u8], diff: String) -> FixedContent {
        let (encoding, content) = match std::str::from_utf8(bytes) {
            Ok(text) => ("utf-8", text.to_owned()),
            Err(_) => ("base64", BASE64.encode(bytes)),
        };
        FixedContent {
            sha256: sha256_hex(bytes),
            encoding: encoding.to_owned(),
            content,
            diff,
        }
    }

    /// The fixed bytes, checked against their hash.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        let bytes = match self.encoding.as_str() {
            "utf-8" => self.content.clone().into_bytes(),
            "base64" => BASE64
                .decode(&self.content)
                .map_err(|err| format!("the fixed content is not valid base64: {err}"))?,
            other => return Err(format!("unknown content encoding `{other}`")),
        };
        if sha256_hex(&bytes) != self.sha256 {
            return Err(
                "the fixed content does not match its sha256 (was the plan edited?)".into(),
            );
        }
        Ok(bytes)
    }
}

/// A 1-based row and column (in characters).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub row: usize,
    pub column: usize,
}

/// One finding of a planned file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedFinding {
    pub code: String,
    pub name: String,
    pub message: String,
    pub location: Location,
    pub end_location: Location,
    /// `safe`, `unsafe` or `display-only`; `null` when the rule has no fix here.
    pub applicability: Option<String>,
    /// What the fix does.
    pub fix_title: Option<String>,
    /// The stated behaviour difference of an unsafe fix, or why a fix is display-only.
    pub caveat: Option<String>,
    /// Whether the fixed content includes this finding's fix.
    pub applied: bool,
    /// Why there is no fix, when there is none.
    pub no_fix_reason: Option<String>,
    /// For a call reaching a blocking project function: the chain hop by hop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<PlannedHop>,
}

/// One hop of a finding's chain: in `function` of `filename`, the call `call` at `location`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedHop {
    pub filename: String,
    pub location: Location,
    pub function: String,
    pub call: String,
}

impl PlannedFinding {
    /// Why a finding that is not applied needs a human, in a sentence.
    pub fn needs_human_reason(&self) -> String {
        match self.applicability.as_deref() {
            Some("unsafe") => format!(
                "unsafe fix not applied{}",
                self.caveat
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            ),
            Some("display-only") => format!(
                "suggestion only ({}){}",
                self.fix_title.as_deref().unwrap_or("no automatic fix"),
                self.caveat
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            ),
            Some(_) => "the fix overlapped another one or its result did not parse; run \
                        unfreeze again after this change"
                .to_owned(),
            None => self
                .no_fix_reason
                .clone()
                .unwrap_or_else(|| "no automatic fix for this call".to_owned()),
        }
    }
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Fingerprint::of(bytes).sha256_hex()
}

impl Plan {
    pub fn new(unsafe_fixes: bool) -> Plan {
        Plan {
            format: PLAN_FORMAT.to_owned(),
            version: PLAN_VERSION,
            unfreeze_version: env!("CARGO_PKG_VERSION").to_owned(),
            unsafe_fixes,
            settings: PlanSettings::default(),
            files: Vec::new(),
        }
    }

    /// Record one file's report (files without findings are left out).
    pub fn record(&mut self, report: &FileReport) {
        let FileOutcome::Checked {
            text,
            findings,
            applied,
            fixed,
            rejected,
            fingerprint,
            ..
        } = &report.outcome
        else {
            return;
        };
        let Some(fingerprint) = fingerprint else {
            // No findings.
            return;
        };
        let index = LineIndex::new(text);
        self.files.push(PlannedFile {
            path: report.display_path.clone(),
            sha256: fingerprint.sha256_hex(),
            fixed: fixed.as_ref().map(|fixed| {
                FixedContent::new(
                    &fixed.bytes,
                    unified_diff(&report.display_path, text, &fixed.text),
                )
            }),
            findings: findings
                .iter()
                .zip(applied)
                .map(|(finding, applied)| {
                    planned_finding(finding, *applied, (&report.display_path, text), &index)
                })
                .collect(),
            rejected: rejected.clone(),
            local_path: report.path.clone(),
        });
    }

    /// Read and validate a plan file: its size, its format and version, its shape (unknown
    /// fields and wrong types are refused), its hashes and values.
    pub fn read(path: &Path) -> Result<Plan, String> {
        use std::io::Read;
        let could_not =
            |err: io::Error| format!("could not read the plan {}: {err}", path.display());
        let file = std::fs::File::open(path).map_err(could_not)?;
        let too_large = || {
            format!(
                "the plan {} is larger than {} MiB, the most `apply` reads",
                path.display(),
                MAX_PLAN_BYTES / (1024 * 1024)
            )
        };
        if file.metadata().map_err(could_not)?.len() > MAX_PLAN_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        file.take(MAX_PLAN_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(could_not)?;
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(too_large());
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("the plan {} is not UTF-8", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|err| format!("{} is not JSON: {err}", path.display()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(PLAN_FORMAT) {
            return Err(format!(
                "{} is not an unfreeze plan (no \"format\": \"{PLAN_FORMAT}\")",
                path.display()
            ));
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(PLAN_VERSION) => {}
            other => {
                return Err(format!(
                    "{}: plan version {} is not supported by unfreeze {} (it reads version \
                     {PLAN_VERSION})",
                    path.display(),
                    other.map_or("(missing)".to_owned(), |v| v.to_string()),
                    env!("CARGO_PKG_VERSION"),
                ));
            }
        }
        // Another unfreeze's plan is refused as such, before its fields are read.
        if let Some(made_by) = value.get("unfreeze_version").and_then(|v| v.as_str()) {
            rederive::same_version(made_by)?;
        }
        let no_settings = value.get("settings").is_none();
        drop(value);
        let mut plan: Plan = serde_json::from_str(&text).map_err(|err| {
            let hint = if no_settings {
                " (plans record their settings since this version: make the plan again)"
            } else {
                ""
            };
            format!("{}: invalid plan: {err}{hint}", path.display())
        })?;
        settings::validate(&plan)
            .map_err(|err| format!("{}: invalid plan: {err}", path.display()))?;
        for file in &mut plan.files {
            file.local_path = PathBuf::from(&file.path);
        }
        Ok(plan)
    }

    /// Write the plan as pretty JSON, atomically enough for a new file (temp + rename).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let mut json = serde_json::to_string_pretty(self)?;
        json.push('\n');
        let temporary = path.with_file_name(format!(
            ".{}.unfreeze-{}.tmp",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    /// The files with fixed content.
    pub fn fixed_files(&self) -> impl Iterator<Item = &PlannedFile> {
        self.files.iter().filter(|file| file.fixed.is_some())
    }
}

fn planned_finding(
    finding: &Finding,
    applied: bool,
    (path, text): (&str, &str),
    index: &LineIndex,
) -> PlannedFinding {
    let location = |offset: usize| {
        let (row, column) = index.location(text, offset);
        Location { row, column }
    };
    PlannedFinding {
        code: finding.code.clone(),
        name: finding.rule_name.clone(),
        message: finding.message.clone(),
        location: location(finding.range.start),
        end_location: location(finding.range.end),
        applicability: finding
            .fix
            .as_ref()
            .map(|fix| fix.applicability.to_string()),
        fix_title: finding.fix.as_ref().map(|fix| fix.title.clone()),
        caveat: finding
            .fix
            .as_ref()
            .and_then(|fix| match fix.applicability {
                Applicability::Safe => None,
                _ => fix.caveat.clone(),
            }),
        applied,
        no_fix_reason: finding.no_fix_reason.clone(),
        chain: finding
            .shown_hops(path, index.location(text, finding.range.start))
            .into_iter()
            .map(|hop| PlannedHop {
                filename: hop.path.to_owned(),
                location: Location {
                    row: hop.row,
                    column: hop.column,
                },
                function: hop.function.to_owned(),
                call: hop.call.to_owned(),
            })
            .collect(),
    }
}

/// A reporter that records every file into a [`Plan`] and passes it on to another reporter
/// (the diff printer of `fix --plan`, or nothing for the bot).
pub struct PlanRecorder<'a> {
    pub plan: Plan,
    inner: Option<&'a mut dyn Reporter>,
    /// File errors, kept for the bot's "needs a human" list: (path, message).
    pub errors: Vec<(String, String)>,
}

impl<'a> PlanRecorder<'a> {
    pub fn new(plan: Plan, inner: Option<&'a mut dyn Reporter>) -> PlanRecorder<'a> {
        PlanRecorder {
            plan,
            inner,
            errors: Vec::new(),
        }
    }
}

impl Reporter for PlanRecorder<'_> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        self.plan.record(report);
        match &report.outcome {
            FileOutcome::Error(message) => {
                self.errors
                    .push((report.display_path.clone(), message.clone()));
            }
            FileOutcome::Checked { rejected, .. } => {
                if let Some(reason) = rejected.as_ref().or(report.write_error.as_ref()) {
                    self.errors
                        .push((report.display_path.clone(), reason.clone()));
                }
            }
        }
        match &mut self.inner {
            Some(inner) => inner.file(report),
            None => Ok(()),
        }
    }

    fn stdin_file(&mut self, report: &FileReport, original: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.stdin_file(report, original),
            None => Ok(()),
        }
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.finish(summary),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn non_utf8_content_round_trips_through_base64() {
        let bytes = b"# -*- coding: latin-1 -*-\nx = '\xe9'\n";
        let fixed = FixedContent::new(bytes, String::new());
        assert_eq!(fixed.encoding, "base64");
        assert_eq!(fixed.bytes().unwrap(), bytes);
        let utf8 = FixedContent::new("x = 'é'\n".as_bytes(), String::new());
        assert_eq!(utf8.encoding, "utf-8");
        assert_eq!(utf8.content, "x = 'é'\n");
    }

    #[test]
    fn edited_content_is_refused() {
        let mut fixed = FixedContent::new(b"x = 1\n", String::new());
        fixed.content = "x = 2\n".to_owned();
        assert!(fixed.bytes().unwrap_err().contains("sha256"));
    }
}
