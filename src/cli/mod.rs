//! The command line: clap definitions, and their validation into run [`Settings`] before any
//! file is read.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::codemod::Registry;
use crate::codemod::{Declared, HttpTarget, choose_target};
use crate::config::{Config, HttpClient, PerFileIgnores, asyncio_auto_mode, discover, load_named};
use crate::discover::{ForcedExcludes, validate_excludes};
use crate::git::Git;
use crate::line_scope::{LineScope, changed_since};
use crate::report::Format;
use crate::settings::{Mode, RuleSelection, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "unfreeze",
    version,
    about = "Find and fix code that blocks the asyncio event loop.",
    long_about = "Find and fix code that blocks the asyncio event loop: blocking calls inside \
                  `async def` are rewritten to their async equivalents, with a diff shown \
                  before anything is written."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report blocking calls in async code. Exit status: 0 none, 1 found, 2 error.
    Check(CheckArgs),
    /// Show the fixes as a unified diff, apply them with --write, or review them one at a
    /// time with -i.
    ///
    /// Exit status: 0 nothing to fix, 1 fixes proposed or findings left, 2 error.
    Fix(FixArgs),
    /// Apply a plan written by `fix --plan`, to the files that have not changed since. A plan
    /// is untrusted: every path must stay inside the root, and every file's content must be
    /// what this unfreeze writes from the file's current bytes with the plan's settings.
    ///
    /// Exit status: 0 every file applied, 1 some files refused (changed or removed since the
    /// plan was made; the others are applied), 2 error (unreadable or invalid plan, another
    /// unfreeze version or other settings, a path outside the root, content unfreeze would not
    /// write, a write failed).
    Apply(ApplyArgs),
    /// In a git repository: fix on a new branch, commit, write the pull-request body, push and
    /// open the pull request (docs/bot.md).
    ///
    /// Exit status: 0 done or nothing to fix, 2 error.
    Bot(BotArgs),
    /// List the rules: code, name, the fix's applicability, `opt-in` for a rule that runs
    /// only when selected (`--extend-select CODE`), summary.
    Rules,
    /// Run the language server (LSP over stdin and stdout) for editors: the findings as
    /// diagnostics while you type, their fixes as quick fixes (docs/editors.md).
    Server,
    /// Print a rule's documentation (also `unfreeze rule CODE`, as in ruff).
    #[command(visible_alias = "rule")]
    Explain {
        /// A rule code (ASYNC251) or name (blocking-sleep).
        code: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or directories to check; `-` reads the source from stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The path to report for source read from stdin.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Glob patterns of files and directories to skip (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip the files and directories named on the command line that the excludes match too
    /// (for pre-commit and other callers that pass file names).
    #[arg(long, overrides_with = "no_force_exclude")]
    pub force_exclude: bool,
    /// Check every file named on the command line, whatever `force-exclude` says.
    #[arg(long, overrides_with = "force_exclude")]
    pub no_force_exclude: bool,
    /// Only these rule codes or prefixes (comma-separated), e.g. ASYNC251 or ASYNC; replaces
    /// the configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Option<Vec<String>>,
    /// Add these rule codes or prefixes to the selection (comma-separated), e.g. an opt-in
    /// rule: `--extend-select UNF402`.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub extend_select: Vec<String>,
    /// Skip these rule codes or prefixes (comma-separated); added to the configuration's
    /// `ignore`.
    #[arg(
        long,
        visible_alias = "extend-ignore",
        value_delimiter = ',',
        value_name = "CODES"
    )]
    pub ignore: Vec<String>,
    /// Output format (`--output-format` as in ruff; the formats are unfreeze's own, see
    /// docs/json-format.md).
    #[arg(long, visible_alias = "output-format", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Use this configuration file instead of the nearest `unfreeze.toml` / `pyproject.toml`.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
    /// Print a count per rule instead of each finding (with --fix: of the findings left).
    #[arg(long)]
    pub statistics: bool,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// When to color the output (NO_COLOR is honoured in `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only findings, diffs and errors: no progress bar, no closing summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Only the files and lines changed since this git revision (`git diff REV`).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Analyze every file anew: neither read nor write the result cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Keep the result cache in this directory (also `UNFREEZE_CACHE_DIR` or `cache-dir` in
    /// the configuration; default: `.unfreeze_cache` next to the configuration file, else in
    /// the working directory).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Stop working on a file after this many seconds (`0.5` allowed): it is reported as
    /// skipped (with its findings if its analysis was done), nothing of it is written, and
    /// the other files go on. Default, or 0: no limit.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub file_timeout: Option<std::time::Duration>,
}

/// A time in seconds, as `--file-timeout` takes it: `0` means no limit.
fn parse_seconds(value: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number of seconds (e.g. 10 or 0.5)"))?;
    std::time::Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("`{value}` is not a number of seconds (e.g. 10 or 0.5)"))
}

/// The bot reads files and writes Markdown: the output and stdin options of `check` / `fix`
/// are hidden (and refused when given).
#[derive(Debug, Args)]
#[command(
    mut_arg("paths", |a| a.help("Files or directories to fix")),
    mut_arg("format", |a| a.hide(true)),
    mut_arg("color", |a| a.hide(true)),
    mut_arg("statistics", |a| a.hide(true)),
    mut_arg("exit_zero", |a| a.hide(true)),
    mut_arg("stdin_filename", |a| a.hide(true))
)]
pub struct BotArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also apply fixes that change behaviour in a stated way (listed in the body).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// The branch to create [default: unfreeze/fixes-<short HEAD hash>].
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Run even with uncommitted changes (the fixed files are committed whole).
    #[arg(long)]
    pub allow_dirty: bool,
    /// Write the pull-request body to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub pr_body: Option<PathBuf>,
    /// Push the branch to this remote.
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,
    /// Open the pull request with the GitHub CLI (`gh pr create`); needs --push.
    #[arg(long, requires = "push")]
    pub open_pr: bool,
    /// The pull request's base branch [default: the branch the bot started from].
    #[arg(long, value_name = "BRANCH", requires = "open_pr")]
    pub base: Option<String>,
    /// Where rule documentation lives: links are `<URL><CODE>.md`.
    #[arg(long, value_name = "URL")]
    pub docs_url: Option<String>,
}

/// `check`, with ruff's spellings of the fix modes: `--fix` is `fix --write`, `--diff` is
/// `fix`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan written by `unfreeze fix --plan PLAN`.
    pub plan: PathBuf,
    /// Only check that every planned file is unchanged; write nothing.
    #[arg(long)]
    pub check: bool,
    /// Write nothing unless every planned file can be applied.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Write only inside this directory [default: the directory of the project's configuration
    /// file found from the working directory, else the working directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Apply the fixes, as `unfreeze fix --write` does (exit status as `fix --write`).
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Print the fixes as a unified diff and write nothing, as `unfreeze fix` does (exit
    /// status as `fix`: 1 when there is a finding).
    #[arg(long, conflicts_with = "statistics")]
    pub diff: bool,
    /// With --fix or --diff: the unsafe fixes too (`check` alone lists every fix with its
    /// applicability already).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// With --fix: list the fixes applied, per file and rule (`check` alone shows each
    /// finding's fix already).
    #[arg(long)]
    pub show_fixes: bool,
    /// With --fix: exit 1 when a file was changed.
    #[arg(long, requires = "fix")]
    pub exit_non_zero_on_fix: bool,
}

/// `fix` prints diffs or the findings left: `--statistics` is `check`'s (`check --fix
/// --statistics` counts what is left after fixing), hidden here and refused.
#[derive(Debug, Args)]
#[command(mut_arg("statistics", |a| a.hide(true)))]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Write the fixes to the files instead of printing a diff.
    #[arg(long)]
    pub write: bool,
    /// Also apply fixes that change behaviour in a stated way.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Review the fixes one at a time in the terminal and write the accepted ones.
    #[arg(long, short, conflicts_with_all = ["write", "statistics", "plan"])]
    pub interactive: bool,
    /// For tests: read the review's keys from this file (`-`: stdin) instead of the
    /// terminal (see docs/interactive.md).
    #[arg(long, hide = true, value_name = "FILE", requires = "interactive")]
    pub review_script: Option<PathBuf>,
    /// Record the fixes, with a hash of each file, in this plan file for `unfreeze apply`.
    #[arg(long, value_name = "PLAN", conflicts_with = "write")]
    pub plan: Option<PathBuf>,
    /// With --write: exit 1 when a file was changed (as formatters do in pre-commit hooks).
    #[arg(long, requires = "write")]
    pub exit_non_zero_on_fix: bool,
    /// With --write: list the fixes applied, per file and rule.
    #[arg(long, requires = "write")]
    pub show_fixes: bool,
}

/// What a `check` or `fix` run does, whichever spelling asked for it.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub common: &'a CommonArgs,
    pub mode: Mode,
    pub plan: Option<&'a PathBuf>,
    pub exit_non_zero_on_fix: bool,
    pub show_fixes: bool,
}

impl Command {
    /// The run a `check` or `fix` command asks for; `None` for the other commands.
    pub fn run_request(&self) -> Option<RunRequest<'_>> {
        match self {
            Command::Check(args) => Some(RunRequest {
                common: &args.common,
                mode: if args.fix || args.diff {
                    Mode::Fix {
                        write: args.fix,
                        unsafe_fixes: args.unsafe_fixes,
                    }
                } else {
                    Mode::Check
                },
                plan: None,
                exit_non_zero_on_fix: args.exit_non_zero_on_fix,
                show_fixes: args.show_fixes && args.fix,
            }),
            Command::Fix(args) => Some(RunRequest {
                common: &args.common,
                mode: Mode::Fix {
                    write: args.write,
                    unsafe_fixes: args.unsafe_fixes,
                },
                plan: args.plan.as_ref(),
                exit_non_zero_on_fix: args.exit_non_zero_on_fix,
                show_fixes: args.show_fixes,
            }),
            _ => None,
        }
    }
}

/// The command that applies what a diff run showed: `unfreeze fix --write` (or ruff's
/// spelling, `check --fix`, when the run was `check --diff`) with the options that decide
/// which fixes the run made: `--unsafe-fixes`, the rule selection, the configuration, the
/// excludes and the paths.
pub fn apply_command(command: &Command) -> String {
    let (common, unsafe_fixes, mut words) = match command {
        Command::Check(args) => (&args.common, args.unsafe_fixes, vec!["check", "--fix"]),
        Command::Fix(args) => (&args.common, args.unsafe_fixes, vec!["fix", "--write"]),
        _ => return "unfreeze fix --write".to_owned(),
    };
    if unsafe_fixes {
        words.push("--unsafe-fixes");
    }
    let mut words: Vec<String> = words.into_iter().map(str::to_owned).collect();
    let option = |name: &str, values: &[String]| {
        (!values.is_empty()).then(|| format!("{name} {}", shell_word(&values.join(","))))
    };
    words.extend(option(
        "--select",
        common.select.as_deref().unwrap_or_default(),
    ));
    words.extend(option("--extend-select", &common.extend_select));
    words.extend(option("--ignore", &common.ignore));
    for pattern in &common.exclude {
        words.extend(option("--exclude", std::slice::from_ref(pattern)));
    }
    if let Some(path) = &common.config {
        words.extend(option("--config", &[path.display().to_string()]));
    }
    if common.isolated {
        words.push("--isolated".to_owned());
    }
    if common.force_exclude {
        words.push("--force-exclude".to_owned());
    }
    if let Some(rev) = &common.since {
        words.extend(option("--since", std::slice::from_ref(rev)));
    }
    if common.paths.iter().any(|p| p.as_os_str() != ".") {
        words.extend(
            common
                .paths
                .iter()
                .map(|p| shell_word(&p.display().to_string())),
        );
    }
    format!("unfreeze {}", words.join(" "))
}

/// `arg` as a shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Rule codes (or prefixes) from the command line or a configuration file, checked against
/// the registry; `origin` names where they came from for the error message.
fn rule_codes(
    codes: &[String],
    origin: &str,
    registry: &Registry,
) -> Result<HashSet<String>, String> {
    let mut set = HashSet::new();
    for code in codes {
        let code = code.trim().to_ascii_uppercase();
        if code.is_empty() {
            continue;
        }
        let known = code == "ALL"
            || registry
                .codemods()
                .iter()
                .any(|c| c.code.starts_with(&code));
        if !known {
            return Err(format!(
                "{origin}: unknown rule code `{code}` (see `unfreeze rules`)"
            ));
        }
        set.insert(code);
    }
    Ok(set)
}

/// The configuration for this run: `--config`, else the file nearest to the first path
/// (or to `--stdin-filename`, or the working directory), else defaults. `--isolated`: none.
fn load_config(common: &CommonArgs) -> Result<Config, String> {
    if common.isolated {
        return Ok(Config::default());
    }
    let start = match common.paths.first() {
        Some(path) if path.as_os_str() != "-" => path.clone(),
        _ => common
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let start = if start.exists() {
        start
    } else {
        PathBuf::from(".")
    };
    let config = match &common.config {
        Some(path) => load_named(path),
        None => discover(&start),
    };
    let mut config = config.map_err(|e| e.to_string())?;
    // pytest finds its own configuration from the tests, whichever file configures unfreeze.
    config.pytest_asyncio_auto = asyncio_auto_mode(&start);
    Ok(config)
}

/// The client the requests migration writes: forced by `http-client`, else the one the
/// project around the configuration file (or the first path) declares.
fn http_target(common: &CommonArgs, config: &Config, registry: &Registry) -> HttpTarget {
    let start = match (&config.path, common.paths.first()) {
        (Some(_), _) => config.root.clone(),
        (None, Some(path)) if path.as_os_str() != "-" => path.clone(),
        _ => common
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let forced = match config.http_client {
        HttpClient::Auto => None,
        HttpClient::Httpx => Some("httpx"),
        HttpClient::Httpx2 => Some("httpx2"),
    };
    let clients = registry
        .httpx_mapping()
        .map(|m| m.clients.as_slice())
        .unwrap_or_default();
    choose_target(
        forced,
        &Declared::around(&start),
        config.target_version,
        clients,
    )
}

/// The lines changed since `rev` in the git work tree around the working directory.
fn since(rev: &str) -> Result<LineScope, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("--since: {e}"))?;
    let git = Git::discover(&cwd).map_err(|e| format!("--since: {e}"))?;
    changed_since(&git, rev)
}

/// Turn parsed arguments and the configuration file into settings, rejecting unknown rule
/// codes and bad globs before any file is read. The command line wins over the file:
/// `--select` replaces `select`; `--ignore` and `--exclude` add to the file's lists.
pub fn settings(common: &CommonArgs, mode: Mode, registry: &Registry) -> Result<Settings, String> {
    let mut config = load_config(common)?;
    config.http_target = http_target(common, &config, registry);
    let origin = |key: &str| match &config.path {
        Some(path) => format!("invalid configuration in {}: {key}", path.display()),
        None => key.to_owned(),
    };
    let select = match (&common.select, &config.select) {
        (Some(codes), _) => Some(rule_codes(codes, "--select", registry)?),
        (None, Some(codes)) => Some(rule_codes(codes, &origin("select"), registry)?),
        (None, None) => None,
    };
    let mut extend_select = rule_codes(&config.extend_select, &origin("extend-select"), registry)?;
    extend_select.extend(rule_codes(
        &common.extend_select,
        "--extend-select",
        registry,
    )?);
    let mut ignore = rule_codes(&config.ignore, &origin("ignore"), registry)?;
    ignore.extend(rule_codes(&common.ignore, "--ignore", registry)?);
    for (pattern, codes) in &config.per_file_ignores {
        rule_codes(
            codes,
            &origin(&format!("per-file-ignores `{pattern}`")),
            registry,
        )?;
    }
    validate_excludes(&common.exclude)?;
    let mut exclude = config.exclude.clone();
    exclude.extend(common.exclude.iter().cloned());
    let read_stdin = common.paths.iter().any(|p| p.as_os_str() == "-");
    if read_stdin && common.paths.len() > 1 {
        return Err("`-` (stdin) cannot be combined with other paths".to_owned());
    }
    if common.stdin_filename.is_some() && !read_stdin {
        return Err("--stdin-filename needs `-` as the path".to_owned());
    }
    let scope = match &common.since {
        Some(_) if read_stdin => return Err("--since needs files, not stdin".to_owned()),
        Some(rev) => Some(Arc::new(since(rev)?)),
        None => None,
    };
    let force_exclude = if common.force_exclude {
        true
    } else if common.no_force_exclude {
        false
    } else {
        config.force_exclude
    };
    // Relative to the configuration file, as its patterns are; else to the working directory.
    let forced_excludes = force_exclude.then(|| {
        let root = match &config.path {
            Some(_) => config.root.clone(),
            None => PathBuf::from("."),
        };
        ForcedExcludes::new(&root, &exclude)
    });
    let cache_dir =
        (!common.no_cache && !read_stdin && scope.is_none()).then(|| cache_dir(common, &config));
    Ok(Settings {
        mode,
        paths: common.paths.clone(),
        stdin_filename: common.stdin_filename.clone(),
        read_stdin,
        exclude,
        forced_excludes,
        selection: RuleSelection {
            select,
            extend_select,
            ignore,
        },
        per_file_ignores: PerFileIgnores::new(&config),
        config,
        progress: !common.quiet,
        cache_dir,
        line_scope: scope,
        file_timeout: common.file_timeout.filter(|budget| !budget.is_zero()),
    })
}

/// Where the result cache lives: `--cache-dir`, else `UNFREEZE_CACHE_DIR`, else the
/// configuration's `cache-dir`, else `.unfreeze_cache` next to the configuration file, else
/// in the working directory.
fn cache_dir(common: &CommonArgs, config: &Config) -> PathBuf {
    if let Some(dir) = &common.cache_dir {
        return dir.clone();
    }
    if let Some(dir) = std::env::var_os("UNFREEZE_CACHE_DIR").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = &config.cache_dir {
        return dir.clone();
    }
    match &config.path {
        Some(_) => config.root.join(crate::cache::DIR_NAME),
        None => PathBuf::from(crate::cache::DIR_NAME),
    }
}
