//! The time to align a quote word by word with a long passage, the inner
//! step of `cite`: `cargo bench -p citebot-core --bench align`.
//!
//! A 40-word run of Federalist No. 51 (from `../shared`), with two words
//! changed, is aligned against a 1,000-word passage made of that paper's
//! words in a fixed pseudo-random order, with the run spliced into the
//! middle: about the longest alignment a lookup makes per candidate.

use std::hint::black_box;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use citebot_core::align;
use criterion::Criterion;

#[path = "../tests/support/paths.rs"]
mod paths;

fn main() -> Result<()> {
    let file = paths::corpus("federalist").join("federalist-51.md");
    let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
    let paragraph = text
        .split("\n\n")
        .find(|p| p.contains("Ambition must be made to counteract ambition"))
        .with_context(|| format!("{}: the paragraph on ambition", file.display()))?;
    let words: Vec<&str> = paragraph.split_whitespace().collect();
    ensure!(
        words.len() >= 160,
        "the paragraph has {} words",
        words.len()
    );

    let mut passage = String::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for k in 0..1_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        passage.push_str(
            words[(x % words.len() as u64) as usize].trim_end_matches(['.', ',', ';', ':', '?']),
        );
        passage.push_str(if k % 17 == 16 { ". " } else { " " });
    }
    let run = words[120..160].join(" ");
    let middle = passage[passage.len() / 2..]
        .find(' ')
        .map_or(passage.len(), |i| passage.len() / 2 + i);
    let passage = format!("{} {run} {}", &passage[..middle], &passage[middle..]);
    let quote = run
        .replace("necessary", "needed")
        .replace("control", "rule");
    let found = align(&quote, &passage).context("the run is found")?;
    ensure!(
        found.is_close() && !found.exact,
        "the changed run aligns as close, not exact: {found:?}"
    );
    println!(
        "40-word quote vs {}-word passage: similarity {:.3}, {} differences",
        passage.split_whitespace().count(),
        found.similarity,
        found.differences.len()
    );

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion.bench_function("align/40-word quote, 1000-word passage", |b| {
        b.iter(|| align(black_box(&quote), black_box(&passage)))
    });
    criterion.final_summary();
    Ok(())
}
