//! citebot's binary: parse the command line, load config, start tracing, dispatch.

#![deny(clippy::undocumented_unsafe_blocks)]

mod cli;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use citebot_core::config::Config;

fn main() -> ExitCode {
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", cli::error_report(&error));
            ExitCode::FAILURE
        }
    }
}

fn start() -> Result<()> {
    let args = cli::Cli::parse();

    // Config layers, lowest first: .env, config file, environment (all read by
    // `Config::load`, the one place that reads them), then flags.
    let (mut config, secrets) =
        Config::load(args.config.as_deref()).context("loading configuration")?;
    args.command.apply_flags(&mut config);

    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .with_context(|| format!("log filter {:?}", config.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    cli::run(args.command, config, secrets)
}
