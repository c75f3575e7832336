//! The fixes a plan claims, made again: the run of `fix --plan` repeated with the plan's
//! recorded options on the files as they are now, after checking that this unfreeze and the
//! project's configuration are the ones the plan was made with.

use std::path::PathBuf;

use super::settings::{ConfigurationRecord, PlanSettings};
use super::{Plan, PlanRecorder};
use crate::cli::{self, ColorChoice, CommonArgs};
use crate::codemod::Registry;
use crate::report::Format;
use crate::run::run;
use crate::settings::Mode;

/// This unfreeze's version, which must be the plan's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Refuse a plan made by another unfreeze version.
pub fn same_version(made_by: &str) -> Result<(), String> {
    if made_by != VERSION {
        return Err(format!(
            "the plan was made by unfreeze {made_by}, this is unfreeze {VERSION}: its fixes may \
             differ, so the plan cannot be checked; make the plan again with unfreeze {VERSION}"
        ));
    }
    Ok(())
}

/// The command-line options the plan records, as `fix` would have parsed them.
fn common_args(settings: &PlanSettings) -> CommonArgs {
    CommonArgs {
        paths: settings.paths.iter().map(PathBuf::from).collect(),
        stdin_filename: None,
        exclude: settings.exclude.clone(),
        force_exclude: settings.force_exclude == Some(true),
        no_force_exclude: settings.force_exclude == Some(false),
        select: settings.select.clone(),
        extend_select: settings.extend_select.clone(),
        ignore: settings.ignore.clone(),
        format: Format::Text,
        config: settings.config.as_ref().map(PathBuf::from),
        isolated: settings.isolated,
        statistics: false,
        exit_zero: false,
        color: ColorChoice::Never,
        quiet: true,
        since: settings.since.clone(),
        no_cache: true,
        cache_dir: None,
        file_timeout: None,
    }
}

/// What differs between the configuration the plan records and the one found here.
fn configuration_difference(
    planned: &Option<ConfigurationRecord>,
    here: &Option<ConfigurationRecord>,
) -> Option<String> {
    match (planned, here) {
        (None, None) => None,
        (Some(planned), Some(here)) if planned == here => None,
        (Some(planned), Some(here)) if planned.path == here.path => Some(format!(
            "the configuration file {} is not the one the plan was made with (its sha256 is \
             {} here, {} in the plan)",
            here.path, here.sha256, planned.sha256
        )),
        (Some(planned), Some(here)) => Some(format!(
            "the plan was made with the configuration file {}, here the configuration is {}",
            planned.path, here.path
        )),
        (Some(planned), None) => Some(format!(
            "the plan was made with the configuration file {}, and there is none here",
            planned.path
        )),
        (None, Some(here)) => Some(format!(
            "the plan was made without a configuration file, and here there is {}",
            here.path
        )),
    }
}

/// The plan `fix --plan` makes now, with the plan's options, in the working directory.
pub fn rederive(plan: &Plan, registry: &Registry) -> Result<Plan, String> {
    let mode = Mode::Fix {
        write: false,
        unsafe_fixes: plan.unsafe_fixes,
    };
    let settings = cli::settings(&common_args(&plan.settings), mode, registry)
        .map_err(|message| format!("the plan's settings: {message}"))?;
    let here = ConfigurationRecord::of(&settings.config)?;
    if let Some(difference) = configuration_difference(&plan.settings.configuration, &here) {
        return Err(format!(
            "{difference}: the fixes may differ, so the plan cannot be checked; make the plan \
             again with this configuration"
        ));
    }
    let registry = registry
        .with_configured_calls(&settings.config.blocking_calls)
        .map(|registry| registry.with_offload(&settings.config.offload))?;
    let mut recorder = PlanRecorder::new(Plan::new(plan.unsafe_fixes), None);
    run(&settings, &registry, &mut recorder)
        .map_err(|err| format!("could not make the plan's fixes again: {err}"))?;
    Ok(recorder.plan)
}
