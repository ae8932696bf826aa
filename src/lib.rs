//! The `citebot` package: the transports over the engine in `citebot-core`.
//!
//! The binary (`main.rs`, with the command line in `cli.rs`) parses flags,
//! loads config and dispatches; this library holds what the tests drive in
//! process as well: the Telegram bot ([`telegram`]). Both reach the engine
//! only through its façade (`citebot_core::Engine`: `open`, `ask`, `cite`,
//! `passage`, `sources`, `reload`), its nouns, `config` and `render`.

#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod telegram;
