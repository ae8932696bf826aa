//! Shared helpers for the integration tests.
#![allow(dead_code)]

// Test crates only: it needs `CARGO_BIN_EXE_citebot`, which the examples
// that include this module (`#[path]`) do not have.
#[cfg(test)]
pub mod bot_process;
#[cfg(test)]
pub mod cli;
pub mod fake_bot_api;
pub mod html;
#[path = "../../crates/core/tests/support/paths.rs"]
pub mod paths;
pub mod pdf;
