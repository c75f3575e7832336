//! The SARIF reporter (`--format sarif`): one SARIF 2.1.0 log with one run, for GitHub code
//! scanning and other SARIF viewers. Like the JSON reporter it is written from its own wire
//! structs, so an internal refactor never changes the output. Documented in docs/sarif.md; a
//! test validates real output against the official SARIF 2.1.0 schema (tests/sarif.rs).
//!
//! Choices that SARIF leaves to the producer:
//! - Every finding is reported at level `error`: each one is a call that stalls every coroutine
//!   of the process while it runs (a defect, not a style remark), `check` exits 1 on it, and
//!   `--format github` reports it as an `::error` annotation; SARIF's default would be
//!   `warning`.
//! - Columns count Unicode code points (`columnKind`), as unfreeze's `LineIndex` does, and lines
//!   end at `\r\n`, `\n` or a lone `\r` (`newlineSequences`), as `LineIndex` splits them.
//! - File errors (unreadable, undecodable files; fixes whose result did not parse; failed
//!   writes) are recorded in the log as `invocations[0].toolExecutionNotifications`, with
//!   `executionSuccessful: false`, and are also printed on stderr so that a person who
//!   redirected the log to a file still sees why the exit status is 2.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::Reporter;
use super::rules::{explain, fix_label};
use crate::analyze::Finding;
use crate::codemod::Registry;
use crate::fix::Applicability;
use crate::outcome::{FileOutcome, FileReport, Summary};
use crate::source::LineIndex;

/// The schema's own `id`: the OASIS 2.1.0 schema with errata 01.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base that relative artifact URIs are resolved against: the directory unfreeze ran in.
const SRCROOT: &str = "%SRCROOT%";
/// See the module documentation.
const LEVEL: &str = "error";

#[derive(Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    column_kind: &'static str,
    newline_sequences: [&'static str; 3],
    results: &'a [WireResult],
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: &'a [Rule],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    enabled: bool,
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    /// The rule's fix as `unfreeze rules` shows it: `safe`, `unsafe`, `display-only` (its
    /// default applicability), `configured` or `no fix`.
    fix: String,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tool_execution_notifications: &'a [Notification],
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: [Location; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireResult {
    rule_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    /// For a call reaching a blocking project function: its chain, one thread flow with a
    /// location per hop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<WireFix>,
    #[serde(skip_serializing_if = "ResultProperties::is_empty")]
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    /// The fix's applicability: `safe`, `unsafe` or `display-only`; absent without a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    applicability: Option<&'static str>,
    /// Whether this run applied (`fix --write`) or would apply (`fix`) the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix_applied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caveat: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_fix_reason: Option<String>,
}

impl ResultProperties {
    fn is_empty(&self) -> bool {
        self.applicability.is_none()
            && self.fix_applied.is_none()
            && self.caveat.is_none()
            && self.no_fix_reason.is_none()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    thread_flows: [ThreadFlow; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

/// One hop: the call, in the function making it, at its depth in the chain.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation {
    location: HopLocation,
    nesting_level: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HopLocation {
    physical_location: HopPhysicalLocation,
    message: Text,
    logical_locations: [LogicalLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HopPhysicalLocation {
    artifact_location: ArtifactLocation,
    region: HopRegion,
}

/// Where a hop's call starts (1-based line and column, in code points).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HopRegion {
    start_line: usize,
    /// Left out when not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

/// A finding's chain as SARIF code flows (none for a finding without a chain).
fn code_flows(finding: &Finding, path: &str, found: (usize, usize)) -> Vec<CodeFlow> {
    let locations: Vec<ThreadFlowLocation> = finding
        .shown_hops(path, found)
        .into_iter()
        .enumerate()
        .map(|(depth, hop)| ThreadFlowLocation {
            location: HopLocation {
                physical_location: HopPhysicalLocation {
                    artifact_location: artifact_location(hop.path),
                    region: HopRegion {
                        start_line: hop.row,
                        start_column: (hop.column > 0).then_some(hop.column),
                    },
                },
                message: Text {
                    text: hop.call.to_owned(),
                },
                logical_locations: [LogicalLocation {
                    fully_qualified_name: hop.function.to_owned(),
                    kind: "function",
                }],
            },
            nesting_level: depth,
        })
        .collect();
    if locations.is_empty() {
        return Vec::new();
    }
    vec![CodeFlow {
        thread_flows: [ThreadFlow { locations }],
    }]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// A text region: 1-based lines and columns (code points); the end column is exclusive, and
/// an empty region (start = end) is an insertion point.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireFix {
    description: Text,
    artifact_changes: [ArtifactChange; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

pub struct SarifReporter<W: Write, E: Write> {
    out: W,
    err: E,
    rules: Vec<Rule>,
    rule_index: HashMap<String, usize>,
    results: Vec<WireResult>,
    notifications: Vec<Notification>,
}

impl<W: Write, E: Write> SarifReporter<W, E> {
    /// `registry`: the rules listed in the log (every codemod, enabled or not).
    pub fn new(out: W, err: E, registry: &Registry) -> Self {
        let rules: Vec<Rule> = registry
            .codemods()
            .iter()
            .map(|codemod| Rule {
                id: codemod.code.clone(),
                name: codemod.name.clone(),
                short_description: Text {
                    text: codemod.summary.clone(),
                },
                full_description: Text {
                    text: codemod.docs.what.clone(),
                },
                help: Help {
                    text: format!(
                        "{}\n\nUse instead:\n\n{}",
                        codemod.docs.why, codemod.docs.use_instead
                    ),
                    markdown: explain(codemod),
                },
                default_configuration: Configuration {
                    enabled: codemod.default_enabled,
                    level: LEVEL,
                },
                properties: RuleProperties {
                    fix: fix_label(codemod),
                },
            })
            .collect();
        let rule_index = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| (rule.id.clone(), i))
            .collect();
        SarifReporter {
            out,
            err,
            rules,
            rule_index,
            results: Vec::new(),
            notifications: Vec::new(),
        }
    }

    fn error(&mut self, artifact: &ArtifactLocation, display_path: &str, message: &str) {
        self.notifications.push(Notification {
            level: "error",
            message: Text {
                text: message.to_owned(),
            },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: artifact.clone(),
                    region: None,
                },
            }],
        });
        // Best effort: the notification in the log is the record.
        let _ = writeln!(self.err, "error: {display_path}: {message}");
    }
}

fn applicability(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    }
}

fn region(index: &LineIndex, text: &str, start: usize, end: usize) -> Region {
    let (start_line, start_column) = index.location(text, start);
    let (end_line, end_column) = index.location(text, end);
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters and `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The artifact location of a displayed path: relative paths (the usual case: the path
/// relative to the working directory) become relative URIs against `%SRCROOT%`, absolute
/// paths become `file://` URIs.
fn artifact_location(display_path: &str) -> ArtifactLocation {
    let slashed = if std::path::MAIN_SEPARATOR == '/' {
        display_path.to_owned()
    } else {
        display_path.replace(std::path::MAIN_SEPARATOR, "/")
    };
    if !Path::new(display_path).is_absolute() {
        return ArtifactLocation {
            uri: encode_path(&slashed),
            uri_base_id: Some(SRCROOT),
        };
    }
    // `C:/dir/file.py` -> `file:///C:/dir/file.py` (the drive's colon is kept).
    let bytes = slashed.as_bytes();
    let uri = if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        format!("file:///{}:{}", &slashed[..1], encode_path(&slashed[2..]))
    } else {
        format!("file://{}", encode_path(&slashed))
    };
    ArtifactLocation {
        uri,
        uri_base_id: None,
    }
}

impl<W: Write, E: Write> Reporter for SarifReporter<W, E> {
    fn file(&mut self, report: &FileReport) -> io::Result<()> {
        let artifact = artifact_location(&report.display_path);
        let (text, findings, applied) = match &report.outcome {
            FileOutcome::Error(message) => {
                self.error(&artifact, &report.display_path, message);
                return Ok(());
            }
            FileOutcome::Checked {
                text,
                findings,
                applied,
                rejected,
                ..
            } => {
                if let Some(reason) = rejected.as_ref().or(report.write_error.as_ref()) {
                    self.error(&artifact, &report.display_path, reason);
                }
                (text, findings, applied)
            }
        };
        if findings.is_empty() {
            return Ok(());
        }
        let index = LineIndex::new(text);
        for (finding, applied) in findings.iter().zip(applied) {
            let fixes = match &finding.fix {
                Some(fix) if !fix.edits.is_empty() => vec![WireFix {
                    description: Text {
                        text: fix.title.clone(),
                    },
                    artifact_changes: [ArtifactChange {
                        artifact_location: artifact.clone(),
                        // SARIF applies replacements in array order while every region is
                        // in the original file's coordinates: from the end backwards, no
                        // replacement moves the text of the ones after it.
                        replacements: fix
                            .edits
                            .iter()
                            .rev()
                            .map(|edit| Replacement {
                                deleted_region: region(
                                    &index,
                                    text,
                                    edit.range.start,
                                    edit.range.end,
                                ),
                                inserted_content: Text {
                                    text: edit.content.clone(),
                                },
                            })
                            .collect(),
                    }],
                }],
                _ => Vec::new(),
            };
            let fix = finding.fix.as_ref();
            self.results.push(WireResult {
                rule_id: finding.code.clone(),
                rule_index: self.rule_index.get(&finding.code).copied(),
                level: LEVEL,
                message: Text {
                    text: finding.message.clone(),
                },
                locations: [Location {
                    physical_location: PhysicalLocation {
                        artifact_location: artifact.clone(),
                        region: Some(region(&index, text, finding.range.start, finding.range.end)),
                    },
                }],
                code_flows: code_flows(
                    finding,
                    &report.display_path,
                    index.location(text, finding.range.start),
                ),
                fixes,
                properties: ResultProperties {
                    applicability: fix.map(|fix| applicability(fix.applicability)),
                    fix_applied: fix.map(|_| *applied),
                    caveat: fix.and_then(|fix| fix.caveat.clone()),
                    no_fix_reason: finding.no_fix_reason.clone(),
                },
            });
        }
        Ok(())
    }

    fn stdin_file(&mut self, report: &FileReport, _original: &[u8]) -> io::Result<()> {
        self.file(report)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let log = SarifLog {
            schema: SCHEMA,
            version: "2.1.0",
            runs: [Run {
                tool: Tool {
                    driver: Driver {
                        name: "unfreeze",
                        version: env!("CARGO_PKG_VERSION"),
                        semantic_version: env!("CARGO_PKG_VERSION"),
                        rules: &self.rules,
                    },
                },
                invocations: [Invocation {
                    execution_successful: summary.errors == 0 && self.notifications.is_empty(),
                    tool_execution_notifications: &self.notifications,
                }],
                column_kind: "unicodeCodePoints",
                newline_sequences: ["\r\n", "\n", "\r"],
                results: &self.results,
            }],
        };
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_encoded_relative_uris() {
        let location = artifact_location("src/my app/ünï.py");
        assert_eq!(location.uri, "src/my%20app/%C3%BCn%C3%AF.py");
        assert_eq!(location.uri_base_id, Some(SRCROOT));
        // A colon in the first segment would read as a URI scheme.
        assert_eq!(artifact_location("a:b.py").uri, "a%3Ab.py");
        assert_eq!(artifact_location("50%#?.py").uri, "50%25%23%3F.py");
    }

    #[cfg(unix)]
    #[test]
    fn absolute_paths_are_file_uris() {
        let location = artifact_location("/tmp/x y/a.py");
        assert_eq!(location.uri, "file:///tmp/x%20y/a.py");
        assert_eq!(location.uri_base_id, None);
    }

    #[cfg(windows)]
    #[test]
    fn absolute_windows_paths_are_file_uris() {
        let location = artifact_location(r"C:\src\a b.py");
        assert_eq!(location.uri, "file:///C:/src/a%20b.py");
        assert_eq!(location.uri_base_id, None);
    }
}
