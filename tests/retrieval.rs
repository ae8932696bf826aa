//! Retrieval quality on the dev sets, computed as `../shared/eval/score.py`
//! computes it: a guard against regressions in ranking, quoting and abstention.
//!
//! The floors are the figures reached when this test was written; raise them
//! when the method improves, never lower them to make a change pass.

use std::path::Path;

use citebot::{Engine, EngineOptions};

struct Scores {
    hit1: f64,
    hit3: f64,
    quote1: f64,
    abstained: usize,
    unanswerable: usize,
}

/// Folds case, whitespace, curly quotes and dashes, like score.py's `norm`.
fn norm(s: &str) -> String {
    let s = s
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace(['\u{2014}', '\u{2013}'], "-")
        .replace('\u{a0}', " ")
        .replace('\u{2026}', "...");
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn score(questions: &str, corpus: &str) -> Scores {
    let index = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(EngineOptions {
        corpus: corpus.into(),
        index: Some(index.path().to_path_buf()),
        strict: true,
    })
    .unwrap();
    let text = std::fs::read_to_string(questions).unwrap();
    let (mut n, mut hit1, mut hit3, mut quote1) = (0, 0, 0, 0);
    let (mut unanswerable, mut abstained) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        let answer = engine.ask(q["q"].as_str().unwrap(), 10).unwrap();
        let wants: Vec<String> = match &q["expect"] {
            serde_json::Value::Null => {
                unanswerable += 1;
                if !answer.answered && answer.hits.is_empty() {
                    abstained += 1;
                }
                continue;
            }
            serde_json::Value::String(s) => vec![norm(s)],
            serde_json::Value::Array(a) => a.iter().map(|s| norm(s.as_str().unwrap())).collect(),
            other => panic!("unexpected expect {other}"),
        };
        n += 1;
        let has = |text: &str| wants.iter().any(|w| norm(text).contains(w.as_str()));
        let rank = answer.hits.iter().position(|h| has(&h.passage.text));
        hit1 += usize::from(rank == Some(0));
        hit3 += usize::from(rank.is_some_and(|r| r < 3));
        quote1 += usize::from(answer.hits.first().is_some_and(|h| has(&h.quote_text())));
    }
    let n = n as f64;
    Scores {
        hit1: hit1 as f64 / n,
        hit3: hit3 as f64 / n,
        quote1: quote1 as f64 / n,
        abstained,
        unanswerable,
    }
}

fn shared(path: &str) -> String {
    let p = Path::new("../shared").join(path);
    assert!(
        p.exists(),
        "{} is missing: ../shared must sit beside the repo",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

#[test]
fn seeds_dev_set() {
    let s = score(&shared("eval/seeds-dev.jsonl"), "corpus");
    assert!(s.hit1 >= 1.0, "hit@1 {}", s.hit1);
    assert!(s.hit3 >= 1.0, "hit@3 {}", s.hit3);
    assert!(s.quote1 >= 1.0, "quote@1 {}", s.quote1);
    assert_eq!(
        s.abstained, s.unanswerable,
        "every unanswerable question abstains"
    );
}

#[test]
fn federalist_dev_set() {
    let s = score(
        &shared("eval/federalist-dev.jsonl"),
        &shared("corpora/federalist"),
    );
    assert!(s.hit1 >= 0.9, "hit@1 {}", s.hit1);
    assert!(s.hit3 >= 0.9, "hit@3 {}", s.hit3);
    assert!(s.quote1 >= 0.9, "quote@1 {}", s.quote1);
    assert_eq!(
        s.abstained, s.unanswerable,
        "every unanswerable question abstains"
    );
}
