//! Shared helpers for the core's integration tests.

pub mod paths;
