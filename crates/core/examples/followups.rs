//! Scores the follow-up set (`eval/followups.jsonl`): each first question
//! is asked, then its follow-up, without context and with the first
//! answer as context (its shown passages, as a bot's answer carries them
//! in its buttons). Prints hit@1 and hit@3 of the follow-ups per corpus
//! and overall.
//!
//! ```text
//! cargo run --release --example followups -- off
//! cargo run --release --example followups -- ../shared/models/all-MiniLM-L6-v2
//! cargo run --release --example followups -- off 0.1,0.05,0.3 0.2,0.1,0
//! ```
//!
//! The first argument is the model (`off` or a folder); each further one
//! is a set of weights `essay,author,text` to score (the defaults without).

use std::path::Path;

use anyhow::{Context, Result};
use citebot_core::{Ask, Engine, EngineOptions, FollowUp, FollowWeights};

/// Hits shown per answer, as in a private chat.
const SHOWN: usize = 3;

fn corpus_of(name: &str) -> &'static str {
    match name {
        "seeds" => "corpus",
        "federalist" => "../shared/corpora/federalist",
        "essays" => "../shared/corpora/essays",
        other => panic!("unknown corpus {other}"),
    }
}

fn norm(text: &str) -> String {
    let text = text
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2014}', '\u{2013}'], "-");
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The rank (from 1) of the first hit holding one of `expect`'s phrases.
fn rank(answer: &citebot_core::Answer, expect: &serde_json::Value) -> Option<usize> {
    let wants: Vec<String> = match expect {
        serde_json::Value::String(s) => vec![norm(s)],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).map(norm).collect(),
        _ => return None,
    };
    answer
        .hits
        .iter()
        .position(|h| wants.iter().any(|w| norm(&h.passage.text).contains(w)))
        .map(|r| r + 1)
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: usize,
    hit1: usize,
    hit3: usize,
}

impl Tally {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        self.hit1 += usize::from(rank == Some(1));
        self.hit3 += usize::from(rank.is_some_and(|r| r <= 3));
    }
    fn show(&self) -> String {
        format!(
            "hit@1={:.3} hit@3={:.3} (n={})",
            self.hit1 as f64 / self.n.max(1) as f64,
            self.hit3 as f64 / self.n.max(1) as f64,
            self.n
        )
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args.first().cloned().unwrap_or_else(|| "off".into());
    let mut variants: Vec<FollowWeights> = args[1.min(args.len())..]
        .iter()
        .map(|a| {
            let w: Vec<f32> = a.split(',').map(|x| x.parse().expect("a weight")).collect();
            FollowWeights {
                essay: w[0],
                author: w[1],
                text: w[2],
            }
        })
        .collect();
    if variants.is_empty() {
        variants.push(FollowWeights::default());
    }
    // The workspace root: this example lives in crates/core.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("eval/followups.jsonl"))?;
    let pairs: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut first_right = 0;
    let mut plain = Tally::default();
    let mut with = vec![Tally::default(); variants.len()];
    for corpus in ["seeds", "federalist", "essays"] {
        let index = tempfile::tempdir()?;
        let (engine, _) = Engine::open(EngineOptions {
            index: Some(index.path().to_path_buf()),
            model: model.clone(),
            ..EngineOptions::new(root.join(corpus_of(corpus)))
        })
        .with_context(|| format!("opening {corpus}"))?;
        engine.prepare_model(false, &citebot_core::progress::silent);
        let (mut p, mut w) = (Tally::default(), vec![Tally::default(); variants.len()]);
        for pair in pairs.iter().filter(|p| p["corpus"] == corpus) {
            let first = engine.ask(pair["first"].as_str().context("first")?, SHOWN)?;
            first_right += usize::from(rank(&first, &pair["first_expect"]) == Some(1));
            let question = pair["q"].as_str().context("q")?;
            let alone = engine.ask(question, 10)?;
            p.add(rank(&alone, &pair["expect"]));
            let context = FollowUp {
                passages: first.hits.iter().map(|h| h.passage.id.clone()).collect(),
                excerpt: None,
            };
            for (i, weights) in variants.iter().enumerate() {
                let ask = Ask {
                    context: Some(context.clone()),
                    weights: *weights,
                    ..Ask::default()
                };
                let followed = engine.ask_with(question, 10, &ask)?;
                let r = rank(&followed, &pair["expect"]);
                w[i].add(r);
                if r != Some(1) && variants.len() == 1 {
                    println!("  {corpus}: rank {r:?} with context: {question}");
                }
            }
        }
        println!(
            "{corpus} ({}): without context {}",
            engine.retrieval().name(),
            p.show()
        );
        for (i, weights) in variants.iter().enumerate() {
            println!("  with context {weights:?}: {}", w[i].show());
            with[i].n += w[i].n;
            with[i].hit1 += w[i].hit1;
            with[i].hit3 += w[i].hit3;
        }
        plain.n += p.n;
        plain.hit1 += p.hit1;
        plain.hit3 += p.hit3;
    }
    println!(
        "all: first questions right at rank 1: {first_right}/{}",
        plain.n
    );
    println!("all: without context {}", plain.show());
    for (i, weights) in variants.iter().enumerate() {
        println!("all: with context {weights:?}: {}", with[i].show());
    }
    Ok(())
}
