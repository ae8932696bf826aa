//! Measuring helpers shared by `examples/bench_ask.rs` and `benches/scale.rs`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use citebot_core::Engine;

/// Hits asked for per question, as `citebot ask` does by default.
pub const LIMIT: usize = 3;

/// The benchmark questions for a generated corpus: its `.queries.jsonl`,
/// then the Federalist development questions.
pub fn queries(corpus: &Path) -> Result<Vec<String>> {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/federalist-dev.jsonl");
    queries_of(&[corpus.join(".queries.jsonl"), dev])
}

/// The questions (`{"q": ...}` lines) of `files`, in order.
pub fn queries_of(files: &[std::path::PathBuf]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line)?;
            out.push(value["q"].as_str().context("a question")?.to_string());
        }
    }
    Ok(out)
}

/// Asks every question once through the full path of `citebot ask --json`
/// (search, re-ranking, quote, citation, the JSON text); microseconds per question.
pub fn time_round(engine: &Engine, queries: &[String]) -> Result<Vec<f64>> {
    queries
        .iter()
        .map(|q| {
            let started = Instant::now();
            // As `citebot ask` does: operators in the question are filters.
            let answer = engine.ask_text(q, LIMIT, &citebot_core::Ask::default())?;
            std::hint::black_box(citebot_core::render::json::answer(&answer));
            Ok(started.elapsed().as_secs_f64() * 1e6)
        })
        .collect()
}

/// The `p`-th percentile (0–100) of `values`, by nearest rank.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Memory figures of this process, in MiB, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Peak resident set (VmHWM): heap plus the touched pages of mapped files.
    pub peak: f64,
    /// Resident anonymous memory now (RssAnon): the heap, without mapped files.
    pub anon: f64,
}

impl Memory {
    /// Reads the figures; zeros where `/proc` is not available.
    pub fn now() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        Memory {
            peak: field("VmHWM:"),
            anon: field("RssAnon:"),
        }
    }

    /// Resets the peak to the current resident set (Linux ≥ 4.0).
    pub fn reset_peak() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

/// Total size of the files below `dir`, in bytes.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => dir_size(&entry.path()),
            _ => entry.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
