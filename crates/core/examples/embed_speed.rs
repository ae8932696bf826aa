//! How fast the sentence-embedding model runs, through the engine:
//!
//! ```text
//! cargo run --release -p citebot-core --example embed_speed [-- --corpus DIR] [--index DIR] [--asks N]
//! ```
//!
//! Opens a corpus (default: the shared Federalist papers) with the shared
//! all-MiniLM-L6-v2 and a fresh index in a temporary folder (or `--index`,
//! kept), then:
//!
//! - embeds every passage that has no vector (`Engine::prepare_model`) and
//!   prints the tokens per second the model reached (batches of many rows:
//!   `gemm`); with `--index` of an earlier run, there is nothing to embed;
//! - asks `--asks` questions (default 200), hybrid, and prints p50 and p99
//!   of `Engine::ask`, whose cost is mostly embedding the question (one
//!   short text: the 8-bit kernel of `bert.rs`), and the same questions
//!   lexically, for the difference.
//!
//! One run is one measurement: run it a few times, on a quiet machine.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use citebot_core::answer::ModelState;
use citebot_core::progress::Progress;
use citebot_core::{Engine, EngineOptions};

#[path = "../tests/support/paths.rs"]
mod paths;

const QUESTIONS: [&str; 4] = [
    "How does Madison define a faction?",
    "Why is the legislative department the most dangerous?",
    "What security do the people have against ambition?",
    "Should the judges hold their offices during good behaviour?",
];

fn main() -> Result<()> {
    let mut corpus = paths::corpus("federalist");
    let mut asks = 200usize;
    let mut kept = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--corpus" => corpus = PathBuf::from(value()?),
            "--asks" => asks = value()?.parse().context("--asks")?,
            "--index" => kept = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other:?}"),
        }
    }
    ensure!(asks > 0, "--asks must be at least 1");
    let temporary = tempfile::tempdir()?;
    let index = kept.unwrap_or_else(|| temporary.path().into());
    let options = |model: String| EngineOptions {
        corpus: corpus.clone(),
        index: Some(index.clone()),
        strict: false,
        model,
        hub: Default::default(),
    };

    let (engine, _) = Engine::open(options(paths::model().display().to_string()))?;
    let last = Cell::new((0u64, 0f64, 0usize));
    let state = engine.prepare_model(false, &|step| {
        if let Progress::Embed {
            tokens,
            seconds,
            done,
            ..
        } = step
        {
            last.set((tokens, seconds, done));
        }
    });
    ensure!(
        matches!(state, ModelState::Ready { .. }),
        "the model is not ready: {state:?}"
    );
    match last.get() {
        (0, ..) => println!("embedding: nothing to embed (the index has every vector)"),
        (tokens, seconds, passages) => println!(
            "embedding: {passages} passages, {tokens} tokens in {seconds:.2} s = {:.0} tokens/s",
            tokens as f64 / seconds.max(1e-9)
        ),
    }

    let hybrid = latencies(&engine, asks)?;
    let (lexical, _) = Engine::open(options("off".into()))?;
    let words = latencies(&lexical, asks)?;
    for (name, times) in [("hybrid", &hybrid), ("lexical", &words)] {
        println!(
            "ask, {name}: p50 {:.0} µs, p99 {:.0} µs ({asks} questions)",
            percentile(times, 0.5),
            percentile(times, 0.99)
        );
    }
    Ok(())
}

/// Microseconds per `ask` of `asks` questions, sorted.
fn latencies(engine: &Engine, asks: usize) -> Result<Vec<f64>> {
    // One of each first, so that nothing is timed cold.
    for q in QUESTIONS {
        engine.ask(q, 3)?;
    }
    let mut times = Vec::with_capacity(asks);
    for q in QUESTIONS.iter().cycle().take(asks) {
        let start = Instant::now();
        std::hint::black_box(engine.ask(q, 3)?);
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// The value at fraction `p` of sorted `times`.
fn percentile(times: &[f64], p: f64) -> f64 {
    times[((times.len() - 1) as f64 * p).round() as usize]
}
