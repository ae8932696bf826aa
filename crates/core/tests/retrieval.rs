//! Retrieval quality on the dev sets, computed as `../shared/eval/score.py`
//! computes it: a guard against regressions in ranking, quoting and abstention.
//!
//! The check is on aggregate counts, not a list of questions that must pass:
//! each test records the figures measured when it was set, and allows
//! [`SLACK`] (one) question of the set to slip: to fall from rank 1, lose
//! its quote, or stop abstaining. Each figure may fall by one, and the
//! questions that miss anything may grow by one, so a second question that
//! slips fails the test, whichever figure it slips on. The dev sets are a
//! sample for measuring, not a list to tune to.
//!
//! Record the new figures when the method improves; never lower them to make
//! a change pass. (They were lowered once, on 2026-12-07, when plain BM25
//! over paragraphs with fusion replaced the hand-fitted features: the dev
//! sets lost two to four questions, and the held-out batches, SciFact and
//! the refusal of answerable questions gained far more; docs/quality.md.)
//!
//! Each set is scored twice: lexically (`model = "off"`) and hybrid, with the
//! shared copy of all-MiniLM-L6-v2 in `../shared/models` (each hybrid test
//! embeds its corpus once, into its own index folder).

use citebot_core::answer::{ModelState, Retrieval};
use citebot_core::{Engine, EngineOptions};

/// Questions of a set that may slip without failing its test.
const SLACK: usize = 1;

/// Counts of questions, as score.py reports them divided by `answerable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scores {
    /// Answerable questions.
    answerable: usize,
    /// Answerable questions with an expected passage at rank 1.
    hit1: usize,
    /// … within the top 3.
    hit3: usize,
    /// … whose top quote holds the expected words.
    quote1: usize,
    /// Unanswerable questions.
    unanswerable: usize,
    /// Unanswerable questions with no hits.
    abstained: usize,
    /// Questions that miss any of the above: not at rank 1, without the
    /// expected words in the top quote, or not abstained.
    missed: usize,
}

impl Scores {
    /// Fails unless these figures are within [`SLACK`] questions of the `measured` ones.
    fn assert_near(&self, measured: Scores) {
        assert_eq!(
            (self.answerable, self.unanswerable),
            (measured.answerable, measured.unanswerable),
            "the question set changed: measure again"
        );
        let figures = [
            ("hit@1", self.hit1, measured.hit1),
            ("hit@3", self.hit3, measured.hit3),
            ("quote@1", self.quote1, measured.quote1),
            ("abstained", self.abstained, measured.abstained),
        ];
        for (name, got, was) in figures {
            assert!(
                got + SLACK >= was,
                "{name}: {got}, more than {SLACK} below the {was} measured; {self:?}"
            );
        }
        assert!(
            self.missed <= measured.missed + SLACK,
            "{} questions miss, more than {SLACK} over the {} measured; {self:?}",
            self.missed,
            measured.missed
        );
    }
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

/// The model setting of each mode.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Lexical,
    Hybrid,
}

/// An engine over `corpus` in `mode`, its index in a temporary folder
/// (returned, to live as long as the engine), the model ready in hybrid mode.
fn open(corpus: &str, mode: Mode) -> (Engine, tempfile::TempDir) {
    let index = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(EngineOptions {
        model: match mode {
            Mode::Lexical => "off".into(),
            Mode::Hybrid => shared("models/all-MiniLM-L6-v2"),
        },
        ..EngineOptions {
            index: Some(index.path().to_path_buf()),
            strict: true,
            ..EngineOptions::new(corpus)
        }
    })
    .unwrap();
    let state = engine.prepare_model(false, &citebot_core::progress::silent);
    assert!(
        (mode == Mode::Hybrid) == matches!(state, ModelState::Ready { .. }),
        "{state:?}"
    );
    (engine, index)
}

fn score(questions: &str, corpus: &str, mode: Mode) -> Scores {
    let (engine, _index) = open(corpus, mode);
    let expected = match mode {
        Mode::Lexical => Retrieval::Lexical,
        Mode::Hybrid => Retrieval::Hybrid,
    };
    assert_eq!(engine.retrieval(), expected);
    let text = std::fs::read_to_string(questions).unwrap();
    let (mut n, mut hit1, mut hit3, mut quote1) = (0, 0, 0, 0);
    let (mut unanswerable, mut abstained, mut missed) = (0, 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        let answer = engine.ask(q["q"].as_str().unwrap(), 10).unwrap();
        assert_eq!(answer.retrieval, expected);
        let wants: Vec<String> = match &q["expect"] {
            serde_json::Value::Null => {
                unanswerable += 1;
                if !answer.answered && answer.hits.is_empty() {
                    abstained += 1;
                } else {
                    missed += 1;
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
        let quoted = answer.hits.first().is_some_and(|h| has(&h.quote_text()));
        hit1 += usize::from(rank == Some(0));
        hit3 += usize::from(rank.is_some_and(|r| r < 3));
        quote1 += usize::from(quoted);
        missed += usize::from(rank != Some(0) || !quoted);
    }
    Scores {
        answerable: n,
        hit1,
        hit3,
        quote1,
        unanswerable,
        abstained,
        missed,
    }
}

fn shared(path: &str) -> String {
    let p = crate::support::paths::shared().join(path);
    assert!(
        p.exists(),
        "{} is missing: ../shared must sit beside the repo",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

#[test]
fn seeds_dev_set_lexical() {
    let s = score(
        &shared("eval/seeds-dev.jsonl"),
        crate::support::paths::shipped_corpus().to_str().unwrap(),
        Mode::Lexical,
    );
    s.assert_near(Scores {
        answerable: 17,
        hit1: 17,
        hit3: 17,
        quote1: 17,
        unanswerable: 3,
        abstained: 1,
        missed: 2,
    });
}

#[test]
fn federalist_dev_set_lexical() {
    let s = score(
        &shared("eval/federalist-dev.jsonl"),
        &shared("corpora/federalist"),
        Mode::Lexical,
    );
    s.assert_near(Scores {
        answerable: 20,
        hit1: 16,
        hit3: 18,
        quote1: 16,
        unanswerable: 3,
        abstained: 1,
        missed: 6,
    });
}

#[test]
fn seeds_dev_set_hybrid() {
    let s = score(
        &shared("eval/seeds-dev.jsonl"),
        crate::support::paths::shipped_corpus().to_str().unwrap(),
        Mode::Hybrid,
    );
    s.assert_near(Scores {
        answerable: 17,
        hit1: 16,
        hit3: 17,
        quote1: 16,
        unanswerable: 3,
        abstained: 3,
        missed: 1,
    });
}

#[test]
fn federalist_dev_set_hybrid() {
    let s = score(
        &shared("eval/federalist-dev.jsonl"),
        &shared("corpora/federalist"),
        Mode::Hybrid,
    );
    s.assert_near(Scores {
        answerable: 20,
        hit1: 18,
        hit3: 19,
        quote1: 18,
        unanswerable: 3,
        abstained: 3,
        missed: 2,
    });
}

/// With the model, a long paragraph's hit shows the window closest to the
/// question by meaning, not the one that repeats its words: in
/// `fixtures/windows`, the paragraph's first window praises the harvest at
/// length and its second says why it failed. Without the model the words
/// decide, and the first window is shown.
#[test]
fn a_long_paragraph_shows_its_window_closest_in_meaning() {
    let corpus = crate::support::paths::repo().join("crates/core/tests/fixtures/windows");
    for (mode, window) in [(Mode::Hybrid, 2), (Mode::Lexical, 1)] {
        let (engine, _index) = open(corpus.to_str().unwrap(), mode);
        let answer = engine
            .ask("Why did the harvest fail that year?", 3)
            .unwrap();
        let hit = answer.hits.first().expect("an answer");
        assert_eq!(
            (hit.passage.paragraph, hit.passage.window),
            (1, window),
            "{mode:?}: {}",
            hit.passage.text
        );
        if mode == Mode::Hybrid {
            assert!(
                hit.passage.text.contains("no rain fell"),
                "{}",
                hit.passage.text
            );
        }
    }
}
