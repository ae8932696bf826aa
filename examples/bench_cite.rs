//! Times `cite --json` lookups on the Federalist corpus, in process: the
//! Federalist quotes of the labelled set (`tests/cite_cases.jsonl`: wrapped,
//! elided, paraphrased, misattributed, retyped and invented), each looked up
//! with `Engine::cite` and rendered with `render::json::cite`, as the batch
//! CLI does per line.
//!
//! ```text
//! cargo run --release --example bench_cite [-- --corpus DIR --rounds N --repeat N --model M --index DIR]
//! ```
//!
//! Prints the median and the 90th percentile per lookup over all rounds
//! (each round looks every quote up `--repeat` times, 20 by default, and
//! the time per lookup of a round is its total divided by the lookups), in
//! microseconds. Index opening (and embedding, with `--model`: a model
//! folder or repo id; "off" by default) is not counted; `--index` keeps
//! the index and its vectors for the next run.

use std::time::Instant;

use anyhow::{Context, Result};
use citebot_core::render::json;
use citebot_core::{Engine, EngineOptions};

fn main() -> Result<()> {
    let mut corpus = String::from("../shared/corpora/federalist");
    let mut rounds = 30;
    let mut repeat = 20;
    let mut model = String::from("off");
    let mut kept_index = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--corpus" => corpus = args.next().context("--corpus DIR")?,
            "--rounds" => rounds = args.next().context("--rounds N")?.parse()?,
            "--repeat" => repeat = args.next().context("--repeat N")?.parse()?,
            "--model" => model = args.next().context("--model M")?,
            "--index" => {
                kept_index = Some(std::path::PathBuf::from(
                    args.next().context("--index DIR")?,
                ))
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let quotes: Vec<String> = include_str!("../tests/cite_cases.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["corpus"] == "federalist")
        .filter_map(|v| v["text"].as_str().map(String::from))
        .collect();
    let scratch = tempfile::tempdir()?;
    let (engine, _) = Engine::open(EngineOptions {
        corpus: corpus.into(),
        index: Some(kept_index.unwrap_or_else(|| scratch.path().into())),
        strict: false,
        model,
        hub: Default::default(),
    })?;
    let state = engine.prepare_model(false, &citebot_core::progress::silent);
    println!("retrieval: {:?} ({state:?})", engine.retrieval());
    let per_round = repeat * quotes.len();
    let mut bytes = 0;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..repeat {
            for q in &quotes {
                bytes += json::cite(&engine.cite(q)?).len();
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1e6 / per_round as f64);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "cite --json on {} quotes, {rounds} rounds of {per_round} lookups: median {:.1} µs, p90 {:.1} µs per lookup ({bytes} bytes of JSON)",
        quotes.len(),
        at(0.5),
        at(0.9)
    );
    Ok(())
}
