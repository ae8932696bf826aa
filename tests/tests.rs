//! The `citebot` package's integration tests: one test binary, one module
//! per area. They drive the built program the way a user would (the CLI,
//! and `citebot serve` against the strict fake Bot API server in
//! `support::fake_bot_api`) and assert on its real output; `bot` hands
//! updates to the bot in process, its replies going to the same server.
//! `../shared` is found by `support::paths`, which honours `CITEBOT_SHARED`.

mod support;

mod add;
mod bot;
mod cite;
mod cite_eval;
mod cli;
mod fake_bot_api;
mod model;
mod telegram_e2e;
mod telegram_resilience;
