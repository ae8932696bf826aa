//! How citebot's costs grow with its corpus: `cargo bench --bench scale`.
//!
//! For every size in `CITEBOT_BENCH_SIZES` (default `1k,10k`; any of `1k`,
//! `10k`, `100k`, `1M` or a number), two child processes, so that memory
//! figures are each job's own:
//!
//! - **build**: generates the corpus with `examples/support/generator.rs`
//!   (kept in `target/citebot-bench/`, or `CITEBOT_BENCH_DIR`, for the next
//!   run), builds its index from scratch (build rate in passages per second,
//!   over the whole of `Engine::open`: reading, splitting and indexing), and
//!   compares the index's size on disk with the raw text's;
//! - **serve**: opens the built index as a restarted server would (time to
//!   open, resident memory), asks every benchmark question through
//!   `Engine::ask(q, 3)` for several rounds (p50 and p99 latency), then
//!   reloads with nothing changed, and with one essay changed, added and
//!   removed, checking each change is searchable at once.
//!
//! The parent prints a Markdown table and writes `results.json` beside the
//! corpora; then Criterion measures `ask` and a no-change `reload` at every
//! size (Criterion's usual arguments, such as a filter, apply).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use citebot_core::{Engine, EngineOptions};
use criterion::Criterion;
use serde::{Deserialize, Serialize};

#[path = "../examples/support/generator.rs"]
mod generator;
#[path = "../examples/support/measure.rs"]
mod measure;

use measure::Memory;

/// What a child process building the index of one size reports.
#[derive(Debug, Serialize, Deserialize)]
struct Build {
    size: String,
    passages: usize,
    essays: usize,
    vocabulary: usize,
    text_mib: f64,
    index_mib: f64,
    build_seconds: f64,
    build_rate: f64,
    build_peak_mib: f64,
}

/// What a child process serving the built index of one size reports.
#[derive(Debug, Serialize, Deserialize)]
struct Serve {
    open_seconds: f64,
    queries: usize,
    p50_us: f64,
    p99_us: f64,
    mean_us: f64,
    serve_anon_mib: f64,
    serve_peak_mib: f64,
    reload_unchanged_ms: f64,
    reload_changed_ms: f64,
    reload_added_ms: f64,
    reload_removed_ms: f64,
}

/// One size's figures.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    #[serde(flatten)]
    build: Build,
    #[serde(flatten)]
    serve: Serve,
}

fn main() -> Result<()> {
    if let Ok(job) = std::env::var("CITEBOT_BENCH_CHILD") {
        let row = match job.split_once(':') {
            Some(("build", size)) => serde_json::to_string(&build(size)?)?,
            Some(("serve", size)) => serde_json::to_string(&serve(size)?)?,
            _ => bail!("unknown job {job:?}"),
        };
        println!("ROW {row}");
        return Ok(());
    }
    let sizes = std::env::var("CITEBOT_BENCH_SIZES").unwrap_or_else(|_| "1k,10k".into());
    let sizes: Vec<&str> = sizes.split(',').map(str::trim).collect();
    let mut rows = Vec::new();
    for size in &sizes {
        eprintln!("scale: {size} passages: generating and building…");
        let build = serde_json::from_str(&child("build", size)?)?;
        eprintln!("scale: {size} passages: serving…");
        let serve = serde_json::from_str(&child("serve", size)?)?;
        rows.push(Row { build, serve });
    }
    print_table(&rows);
    std::fs::write(
        bench_dir().join("results.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    for size in &sizes {
        let (corpus, index) = paths(size);
        let (engine, _) = Engine::open(options(&corpus, &index))?;
        let queries = measure::queries(&corpus)?;
        let mut next = queries.iter().cycle();
        criterion.bench_function(&format!("ask/{size}"), |b| {
            b.iter(|| engine.ask(next.next().expect("cycles"), measure::LIMIT))
        });
        criterion.bench_function(&format!("reload_unchanged/{size}"), |b| {
            b.iter(|| engine.reload().expect("reloads"))
        });
    }
    criterion.final_summary();
    Ok(())
}

/// Runs `job` for `size` in a fresh process (so that its memory figures are
/// its own) and returns the JSON it reports.
fn child(job: &str, size: &str) -> Result<String> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .env("CITEBOT_BENCH_CHILD", format!("{job}:{size}"))
        .stderr(std::process::Stdio::inherit())
        .output()?;
    ensure!(output.status.success(), "{job} {size} failed");
    let stdout = String::from_utf8(output.stdout)?;
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("ROW "))
        .map(str::to_string)
        .context("the child printed no row")
}

fn bench_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CITEBOT_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    // target/release/deps/scale-… → target/citebot-bench
    let exe = std::env::current_exe().expect("an executable path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("inside target/")
        .to_path_buf();
    target.join("citebot-bench")
}

fn paths(size: &str) -> (PathBuf, PathBuf) {
    let dir = bench_dir();
    (
        dir.join(format!("corpus-{size}")),
        dir.join(format!("index-{size}")),
    )
}

fn options(corpus: &Path, index: &Path) -> EngineOptions {
    EngineOptions {
        corpus: corpus.to_path_buf(),
        index: Some(index.to_path_buf()),
        strict: true,
        model: "off".into(),
        hub: Default::default(),
    }
}

/// Generates the corpus if needed and builds its index from scratch.
fn build(size: &str) -> Result<Build> {
    let (corpus, index) = paths(size);
    let manifest = generator::ensure(&generator::Args::new(
        generator::parse_count(size)?,
        corpus.clone(),
    ))?;
    if index.exists() {
        std::fs::remove_dir_all(&index)?;
    }
    Memory::reset_peak();
    let started = Instant::now();
    let (_engine, report) = Engine::open(options(&corpus, &index))?;
    let build_seconds = started.elapsed().as_secs_f64();
    ensure!(report.sync.rebuilt, "the index was not built from scratch");
    Ok(Build {
        size: size.to_string(),
        passages: report.passages,
        essays: report.essays,
        vocabulary: manifest.vocabulary,
        text_mib: manifest.text_bytes as f64 / 1048576.0,
        index_mib: measure::dir_size(&index) as f64 / 1048576.0,
        build_seconds,
        build_rate: report.passages as f64 / build_seconds,
        build_peak_mib: Memory::now().peak,
    })
}

/// Opens the built index as a restarted server would, asks the questions,
/// and times reloads.
fn serve(size: &str) -> Result<Serve> {
    let (corpus, index) = paths(size);
    let started = Instant::now();
    let (engine, report) = Engine::open(options(&corpus, &index))?;
    let open_seconds = started.elapsed().as_secs_f64();
    ensure!(
        report.sync.unchanged(),
        "opening an up-to-date index wrote to it"
    );

    let queries = measure::queries(&corpus)?;
    let rounds = (2000 / queries.len()).clamp(3, 10);
    measure::time_round(&engine, &queries)?;
    let mut micros = Vec::new();
    for _ in 0..rounds {
        micros.extend(measure::time_round(&engine, &queries)?);
    }
    let memory = Memory::now();

    let (engine, unchanged) = engine.reload()?;
    ensure!(
        unchanged.sync.unchanged(),
        "nothing changed, yet the index did"
    );
    let (changed, added, removed) = incremental(engine, &corpus, &index)?;
    Ok(Serve {
        open_seconds,
        queries: queries.len(),
        p50_us: measure::percentile(&micros, 50.0),
        p99_us: measure::percentile(&micros, 99.0),
        mean_us: micros.iter().sum::<f64>() / micros.len() as f64,
        serve_anon_mib: memory.anon,
        serve_peak_mib: memory.peak,
        reload_unchanged_ms: unchanged.seconds * 1e3,
        reload_changed_ms: changed,
        reload_added_ms: added,
        reload_removed_ms: removed,
    })
}

/// Changes one essay, adds one and removes it again, checking each is
/// searchable at once; milliseconds per reload. The corpus is left as it was.
fn incremental(engine: Engine, corpus: &Path, index: &Path) -> Result<(f64, f64, f64)> {
    let sources = engine.sources();
    let victim = engine
        .passage(&format!("{}_1", sources[sources.len() / 2].id))
        .context("an essay to change")?;
    let file = corpus.join(
        engine
            .essay_file(&victim.source.id)
            .context("the essay's file")?,
    );
    let added_file = corpus.join("zz-bench-added.md");
    let original = std::fs::read_to_string(&file)?;
    let result = (|| {
        let word = "zyxwquelchbench";
        std::fs::write(&file, format!("{original}\nA {word} sentence was added.\n"))?;
        let (engine, report) = engine.reload()?;
        check(&engine, &report, word, (0, 1, 0))?;
        let changed = report.seconds * 1e3;

        let word = "qwxzaddedbench";
        std::fs::write(
            &added_file,
            format!("+++\ntitle = \"Added\"\n+++\n\nThe {word} sentence is new.\n"),
        )?;
        let (engine, report) = engine.reload()?;
        check(&engine, &report, word, (1, 0, 0))?;
        let added = report.seconds * 1e3;

        std::fs::remove_file(&added_file)?;
        let (engine, report) = engine.reload()?;
        check_counts(&report, (0, 0, 1))?;
        ensure!(
            !engine.ask(&format!("{word} sentence"), 3)?.answered,
            "a removed essay is still found"
        );
        Ok((changed, added, report.seconds * 1e3))
    })();
    // Leave the corpus, and its index, as they were for the next run.
    std::fs::write(&file, original)?;
    let _ = std::fs::remove_file(&added_file);
    Engine::open(options(corpus, index))?;
    result
}

fn check(
    engine: &Engine,
    report: &citebot_core::OpenReport,
    word: &str,
    counts: (usize, usize, usize),
) -> Result<()> {
    check_counts(report, counts)?;
    let answer = engine.ask(&format!("{word} sentence"), 3)?;
    ensure!(
        answer
            .hits
            .first()
            .is_some_and(|h| h.passage.text.contains(word)),
        "{word} is not found right after the reload"
    );
    Ok(())
}

fn check_counts(
    report: &citebot_core::OpenReport,
    (added, changed, removed): (usize, usize, usize),
) -> Result<()> {
    let s = &report.sync;
    if (s.added, s.changed, s.removed) != (added, changed, removed) || s.rebuilt {
        bail!("unexpected re-indexing: {s:?}");
    }
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| passages | essays | vocabulary | build (passages/s) | index / text | open | query p50 | query p99 | RSS anon (serving) | peak RSS build / serve | reload: none / change / add / remove |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for Row { build: b, serve: s } in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} / {:.1} MiB = {:.2}× | {:.2} s | {:.0} µs | {:.0} µs | {:.0} MiB | {:.0} / {:.0} MiB | {:.0} / {:.0} / {:.0} / {:.0} ms |",
            b.passages,
            b.essays,
            b.vocabulary,
            b.build_rate,
            b.index_mib,
            b.text_mib,
            b.index_mib / b.text_mib,
            s.open_seconds,
            s.p50_us,
            s.p99_us,
            s.serve_anon_mib,
            b.build_peak_mib,
            s.serve_peak_mib,
            s.reload_unchanged_ms,
            s.reload_changed_ms,
            s.reload_added_ms,
            s.reload_removed_ms,
        );
    }
    println!();
}
