//! The `unfreeze` binary: parse arguments, run the library, map the outcome to an exit code.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use unfreeze::bot::execute_bot;
use unfreeze::cli::{self, Cli, ColorChoice, Command, CommonArgs};
use unfreeze::codemod::Registry;
use unfreeze::outcome::ExitStatus;
use unfreeze::plan::{Plan, PlanRecorder, PlanSettings, execute_apply};
use unfreeze::report::no_python_files;
use unfreeze::report::rules::{explain, rules_legend, rules_table};
use unfreeze::report::{
    Format, GithubReporter, JsonReporter, Reporter, SarifReporter, StatisticsReporter, TextReporter,
};
use unfreeze::review::{Prompt, ScriptedPrompt, TerminalPrompt, review};
use unfreeze::run::run;
use unfreeze::server::Ending;
use unfreeze::settings::{Mode, Settings};

/// mimalloc for every allocation, Rust's and tree-sitter's (see [`allocate_trees_with_mimalloc`]):
/// glibc's malloc and free were about an eighth of a run's time (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Point tree-sitter's C library at mimalloc too. Called first thing in `main`, before any
/// tree is made, so every tree is allocated and freed by the same allocator.
fn allocate_trees_with_mimalloc() {
    use libmimalloc_sys::{mi_calloc, mi_free, mi_malloc, mi_realloc};
    let allocator = tree_sitter::Allocator {
        malloc: mi_malloc,
        calloc: mi_calloc,
        realloc: mi_realloc,
        free: mi_free,
    };
    // SAFETY: no tree-sitter object exists yet, and the four functions are one allocator's.
    unsafe { tree_sitter::set_allocator(Some(allocator)) };
}

/// No transparent huge pages for this process. mimalloc asks the kernel for them, and the kernel
/// then zeroes two megabytes at the first touch of any byte in them: a tenth of a run's time went
/// to that zeroing, and 40 MB to memory never used (docs/benchmarks.md). The flag is read at
/// page-fault time, so it also covers the arena mimalloc reserved before `main`.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    without_transparent_huge_pages();
    allocate_trees_with_mimalloc();
    let cli = Cli::parse();
    match execute(cli) {
        Ok(status) => ExitCode::from(status as u8),
        // A closed pipe (`unfreeze check | head`) is not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {err}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}

fn usage_error(message: &str) -> io::Result<ExitStatus> {
    writeln!(io::stderr(), "error: {message}")?;
    Ok(ExitStatus::Error)
}

fn configure_color(choice: ColorChoice) {
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    };
    colored::control::set_override(enabled);
}

fn execute(cli: Cli) -> io::Result<ExitStatus> {
    let registry = match Registry::bundled() {
        Ok(registry) => registry,
        Err(err) => return usage_error(&format!("bundled codemod is invalid: {err}")),
    };
    match &cli.command {
        Command::Rules => {
            io::stdout().write_all(rules_table(&registry).as_bytes())?;
            if let Some(legend) = rules_legend(&registry) {
                eprintln!("{legend}");
            }
            return Ok(ExitStatus::Clean);
        }
        Command::Explain { code } => {
            return match registry.get(code) {
                Some(codemod) => {
                    io::stdout().write_all(explain(codemod).as_bytes())?;
                    Ok(ExitStatus::Clean)
                }
                None => usage_error(&format!("unknown rule `{code}` (see `unfreeze rules`)")),
            };
        }
        Command::Apply(args) => {
            return execute_apply(args, &registry, &mut io::stdout().lock(), &mut io::stderr());
        }
        Command::Bot(args) => {
            configure_color(ColorChoice::Never);
            return execute_bot(args, &registry, &mut io::stdout().lock(), &mut io::stderr());
        }
        Command::Server => {
            let ending = unfreeze::server::serve(
                io::BufReader::new(io::stdin()),
                io::stdout().lock(),
                &registry,
            )?;
            // The protocol's exit code: 0 after `shutdown`, 1 without it.
            return Ok(match ending {
                Ending::Clean => ExitStatus::Clean,
                Ending::Abrupt => ExitStatus::Findings,
            });
        }
        Command::Check(_) | Command::Fix(_) => {}
    }
    let request = cli.command.run_request().expect("check or fix");
    let (common, mode) = (request.common, request.mode);
    configure_color(common.color);
    let settings = match cli::settings(common, mode, &registry) {
        Ok(settings) => settings,
        Err(message) => return usage_error(&message),
    };
    let registry = match registry.with_configured_calls(&settings.config.blocking_calls) {
        Ok(registry) => registry.with_offload(&settings.config.offload),
        Err(message) => return usage_error(&message),
    };
    if let Command::Fix(args) = &cli.command
        && args.interactive
    {
        return match review_fixes(args, common, &settings, &registry)? {
            ExitStatus::Findings if common.exit_zero => Ok(ExitStatus::Clean),
            status => Ok(status),
        };
    }
    if common.statistics && matches!(cli.command, Command::Fix(_)) {
        return usage_error(
            "--statistics is only for `unfreeze check` (`unfreeze check --fix --statistics` \
             counts the findings left after fixing)",
        );
    }
    let stdout = io::stdout().lock();
    let stderr = io::stderr();
    let out = io::BufWriter::new(stdout);
    let mut reporter: Box<dyn Reporter> = match common.format {
        _ if common.statistics => {
            Box::new(StatisticsReporter::new(out, stderr, common.format, mode))
        }
        Format::Text => Box::new(
            TextReporter::new(out, stderr, mode)
                .quiet(common.quiet)
                .show_fixes(request.show_fixes)
                .apply_command(cli::apply_command(&cli.command))
                .http_target(&settings.config.http_target),
        ),
        Format::Json => Box::new(JsonReporter::new(out, stderr)),
        Format::Github => Box::new(GithubReporter::new(out)),
        Format::Sarif => Box::new(SarifReporter::new(out, stderr, &registry)),
    };
    let summary = match request.plan {
        Some(_) if settings.read_stdin => return usage_error("--plan needs files, not stdin"),
        Some(path) => {
            let mut plan = Plan::new(matches!(
                mode,
                Mode::Fix {
                    unsafe_fixes: true,
                    ..
                }
            ));
            plan.settings = match PlanSettings::record(common, &settings.config) {
                Ok(recorded) => recorded,
                Err(message) => return usage_error(&message),
            };
            let mut recorder = PlanRecorder::new(plan, Some(reporter.as_mut()));
            let summary = run(&settings, &registry, &mut recorder)?;
            if let Err(err) = recorder.plan.write(path) {
                return usage_error(&format!(
                    "could not write the plan {}: {err}",
                    path.display()
                ));
            }
            summary
        }
        None => run(&settings, &registry, reporter.as_mut())?,
    };
    drop(reporter);
    // With `--since`, no file changed is not a missing Python file.
    let scoped = settings.read_stdin || settings.line_scope.is_some();
    if summary.files_checked == 0 && summary.errors == 0 && !scoped {
        writeln!(io::stderr(), "{}", no_python_files(&settings.paths))?;
    }
    let fixed_files = request.exit_non_zero_on_fix && summary.files_fixed > 0;
    match summary.exit_status(mode) {
        ExitStatus::Clean if fixed_files => Ok(ExitStatus::Findings),
        ExitStatus::Findings if common.exit_zero => Ok(ExitStatus::Clean),
        status => Ok(status),
    }
}

/// `unfreeze fix -i`: the review needs a terminal to ask in (or, for tests, a script of keys).
fn review_fixes(
    args: &cli::FixArgs,
    common: &CommonArgs,
    settings: &Settings,
    registry: &Registry,
) -> io::Result<ExitStatus> {
    if settings.read_stdin {
        return usage_error("`fix -i` reviews files: it cannot read the source from stdin");
    }
    if common.format != Format::Text {
        return usage_error(
            "`fix -i` shows its proposals as text: --format cannot be used with it",
        );
    }
    let mut prompt: Box<dyn Prompt> = match &args.review_script {
        Some(path) if path.as_os_str() == "-" => Box::new(ScriptedPrompt::new(io::stdin())),
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => Box::new(ScriptedPrompt::new(file)),
            Err(err) => {
                return usage_error(&format!("--review-script {}: {err}", path.display()));
            }
        },
        None if io::stdin().is_terminal() && io::stdout().is_terminal() => {
            Box::new(TerminalPrompt::new())
        }
        None => {
            return usage_error(
                "`fix -i` asks about each fix in a terminal, and stdin or stdout is not one; \
                 use `unfreeze fix` to print the diff or `unfreeze fix --write` to apply the fixes",
            );
        }
    };
    let mut out = io::stdout().lock();
    let mut err = io::stderr();
    let summary = review(
        settings,
        registry,
        prompt.as_mut(),
        &mut out,
        &mut err,
        common.quiet,
    )?;
    Ok(summary.exit_status(Mode::Fix {
        write: true,
        unsafe_fixes: false,
    }))
}
