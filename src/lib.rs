//! unfreeze: find and fix code that blocks the asyncio event loop.
//!
//! Data flow: settings and codemods are validated first, files are discovered and analyzed in
//! parallel (parse → semantic index → codemod matches → findings with fixes), and one consumer
//! reports, diffs and writes in sorted order.

// Only reporters and the binary print, and they do it through writers, never print!.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod analyze;
pub mod bot;
pub mod budget;
pub mod cache;
pub mod cli;
pub mod codemod;
pub mod config;
pub mod diff;
pub mod discover;
pub mod fix;
pub mod git;
pub mod lexical;
pub mod line_scope;
pub mod masked;
pub mod outcome;
pub mod parse;
pub mod plan;
pub mod project;
pub mod report;
pub mod review;
pub mod run;
pub mod semantic;
pub mod server;
pub mod settings;
pub mod source;
pub mod stdlib_names;
pub mod suppress;
pub mod write;
