//! Times questions through `Engine::ask`, for `scripts/compare_bm25s.py`.
//!
//! ```text
//! cargo run --release --example bench_ask -- --corpus /tmp/c10k [--index DIR]
//!     [--queries FILE.jsonl] [--dump passages.jsonl] [--serve | --rounds N]
//!     [--filter 'by:NAME after:2010']
//! ```
//!
//! Opens (building if needed) the index of a corpus made by `gen_corpus`
//! (or of any corpus, given `--queries`: a file of `{"q": ...}` lines),
//! then:
//!
//! - `--dump FILE` writes every passage as a JSON line `{"id", "text"}`, so
//!   that another engine can index exactly the same passages;
//! - `--serve` prints one JSON line `{"queries": [...], "passages": N,
//!   "open_seconds": S}` and then, for every `round` line read on stdin, asks
//!   every question once (search, quote, citation and the JSON text, as
//!   `citebot ask --json` does) and prints the microseconds each took as a
//!   JSON array; `memory` prints `{"rss_anon_mib", "peak_mib"}`. A driver can so interleave rounds with another engine's, and
//!   compare the two in the same moments of a noisy machine;
//! - otherwise it runs `--rounds` rounds (default 5) and prints p50, p99
//!   and the mean in microseconds.
//!
//! `--filter TEXT` adds TEXT (operators such as `by:NAME`, `in:"TITLE"`,
//! `after:YEAR`) to every question, to time filtered questions against
//! the same questions unfiltered.
//!
//! Load time is never counted in the per-question figures.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use citebot_core::{Engine, EngineOptions};

#[path = "support/measure.rs"]
#[allow(dead_code)] // shared with benches/scale.rs, which uses all of it
mod measure;

fn main() -> Result<()> {
    let mut corpus = None;
    let mut index = None;
    let mut dump = None;
    let mut questions = None;
    let mut serve = false;
    let mut filter = None;
    let mut rounds = 5;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value()?)),
            "--index" => index = Some(PathBuf::from(value()?)),
            "--dump" => dump = Some(PathBuf::from(value()?)),
            "--queries" => questions = Some(PathBuf::from(value()?)),
            "--rounds" => rounds = value()?.parse()?,
            "--serve" => serve = true,
            "--filter" => filter = Some(value()?),
            _ => bail!(
                "usage: bench_ask --corpus DIR [--index DIR] [--queries FILE] [--dump FILE] [--serve | --rounds N] [--filter TEXT]"
            ),
        }
    }
    let corpus = corpus.context("--corpus DIR is required")?;
    let index = index.unwrap_or_else(|| corpus.with_extension("index"));
    let started = Instant::now();
    let (engine, report) = Engine::open(EngineOptions {
        corpus: corpus.clone(),
        index: Some(index),
        strict: false,
        model: "off".into(),
        hub: Default::default(),
    })?;
    let open_seconds = started.elapsed().as_secs_f64();
    let mut queries = match questions {
        Some(file) => measure::queries_of(&[file])?,
        None => measure::queries(&corpus)?,
    };
    if let Some(filter) = &filter {
        for q in &mut queries {
            q.push(' ');
            q.push_str(filter);
        }
    }

    if let Some(path) = dump {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for passage in engine.passages() {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "id": passage.id, "text": passage.text }),
            )?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }

    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    if serve {
        let hello = serde_json::json!({
            "queries": queries,
            "passages": report.passages,
            "open_seconds": open_seconds,
        });
        writeln!(stdout, "{hello}")?;
        stdout.flush()?;
        for line in std::io::stdin().lock().lines() {
            match line?.trim() {
                "round" => {
                    let micros = measure::time_round(&engine, &queries)?;
                    writeln!(stdout, "{}", serde_json::to_string(&micros)?)?;
                    stdout.flush()?;
                }
                "memory" => {
                    let memory = measure::Memory::now();
                    let figures = serde_json::json!({
                        "rss_anon_mib": memory.anon,
                        "peak_mib": memory.peak,
                    });
                    writeln!(stdout, "{figures}")?;
                    stdout.flush()?;
                }
                "quit" => break,
                other => bail!("unknown command {other:?}"),
            }
        }
        return Ok(());
    }

    let mut all = Vec::new();
    measure::time_round(&engine, &queries)?;
    for _ in 0..rounds {
        all.extend(measure::time_round(&engine, &queries)?);
    }
    let summary = serde_json::json!({
        "passages": report.passages,
        "open_seconds": open_seconds,
        "queries": queries.len(),
        "p50_us": measure::percentile(&all, 50.0),
        "p99_us": measure::percentile(&all, 99.0),
        "mean_us": all.iter().sum::<f64>() / all.len() as f64,
        "rss_anon_mib": measure::Memory::now().anon,
    });
    writeln!(stdout, "{summary}")?;
    Ok(())
}
