//! Generates a synthetic corpus of N passages for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_corpus -- --passages 100000 --out /tmp/c100k
//! ```
//!
//! Essays are real files in citebot's format (`+++` TOML front matter, then
//! paragraphs separated by blank lines), made of runs of consecutive
//! sentences of the Federalist essays (`../shared/corpora/federalist`), each
//! paragraph at most `citebot_core::passage::MAX_WORDS` (160) words so that one paragraph is one passage.
//!
//! So that the vocabulary keeps growing with the corpus, as it does in real
//! text (Heaps' law, V ∝ n^β), a share of the words is replaced by word forms
//! minted by a Pitman–Yor process: its word frequencies follow Zipf's law and
//! its number of distinct words grows as a power of the number of draws. Each
//! essay also has a few topic words of its own, which makes words bursty.
//!
//! The output is deterministic for a given `--seed`. Beside the essays, in
//! files the corpus loader skips (their names start with a dot), it writes
//! `.queries.jsonl` (natural questions built from the corpus's words) and
//! `.manifest.json` (what was generated, including the real passage count and
//! the vocabulary size). A folder already holding the same generation is
//! left as it is.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

#[path = "support/generator.rs"]
mod generator;

use generator::Args;

fn main() -> Result<()> {
    let args = parse_args()?;
    let manifest = generator::ensure(&args)?;
    println!("{}", serde_json::to_string_pretty(&manifest)?);
    Ok(())
}

fn parse_args() -> Result<Args> {
    let mut args = Args::new(10_000, PathBuf::new());
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--passages" => args.passages = generator::parse_count(&value()?)?,
            "--out" => args.out = PathBuf::from(value()?),
            "--source" => args.source = PathBuf::from(value()?),
            "--seed" => args.seed = value()?.parse()?,
            "--queries" => args.queries = value()?.parse()?,
            _ => bail!(
                "usage: gen_corpus --passages N[k|M] --out DIR [--source DIR] [--seed S] [--queries N]"
            ),
        }
    }
    if args.out.as_os_str().is_empty() {
        bail!("--out DIR is required");
    }
    Ok(args)
}
