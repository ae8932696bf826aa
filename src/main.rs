//! citebot's binary: parse the command line, load config, start tracing, dispatch.

mod cli;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use clap::Parser;

use citebot::config::Config;

fn main() -> Result<()> {
    let args = cli::Cli::parse();

    // Config layers, lowest first: .env, config file, environment, flags.
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let dotenv = read_dotenv()?;
    for (key, value) in &dotenv {
        if !env.contains_key(key) {
            // SAFETY: still single-threaded; nothing else reads the environment yet.
            unsafe { std::env::set_var(key, value) };
        }
    }
    let mut config =
        Config::load(args.config.as_deref(), &dotenv, &env).context("loading configuration")?;
    args.command.apply_flags(&mut config);

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log))
        .with_context(|| format!("log filter {:?}", config.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    cli::run(args.command, config)
}

/// The variables of `./.env`, if the file exists; it never overrides the environment.
fn read_dotenv() -> Result<BTreeMap<String, String>> {
    match dotenvy::from_path_iter(".env") {
        Ok(iter) => iter
            .map(|item| item.context(".env"))
            .collect::<Result<BTreeMap<_, _>>>(),
        Err(e) if e.not_found() => Ok(BTreeMap::new()),
        Err(e) => Err(e).context(".env"),
    }
}
