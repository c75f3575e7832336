//! Raw bytes -> decode -> parse -> analyse -> fix -> re-parse -> second pass.
//! Seeded with tests/fixtures/codemods (see docs/reliability.md for the command).
#![no_main]

use libfuzzer_sys::fuzz_target;
use unfreeze::config::HttpClient;

#[path = "invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check(data, "fuzz.py", HttpClient::Httpx);
});
