//! The CLI snapshot the command tests share (tests/cli_ruff_habits.rs,
//! tests/cli_command_snapshots.rs): a command, its exit code, stdout and stderr, as one
//! insta snapshot under snapshots/.

use super::Output;

/// The command, its exit code, stdout and stderr, as one snapshot named `name`.
pub fn snapshot(name: &str, args: &[&str], out: &Output) {
    let exit = out
        .code
        .map_or("killed by a signal".to_owned(), |code| code.to_string());
    let shown = format!(
        "$ unfreeze {}\n(exit {exit})\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.stdout,
        out.stderr
    );
    insta::with_settings!({
        // Relative to this file, tests/common/.
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, shown);
    });
}
