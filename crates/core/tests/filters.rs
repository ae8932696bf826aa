//! Filters: a question asked within an author, an essay or dates answers
//! exactly as the same question on a corpus holding only those essays, by
//! words and with the model; a filter that matches nothing says so, with
//! the nearest names.

use std::path::{Path, PathBuf};

use citebot_core::filter::{Filters, Miss};
use citebot_core::{Answer, Ask, Engine, EngineOptions};

fn shared(path: &str) -> PathBuf {
    let p = crate::support::paths::shared().join(path);
    assert!(
        p.exists(),
        "{} is missing: ../shared must sit beside the repo",
        p.display()
    );
    p
}

/// An engine over `corpus` in its own index folder; hybrid when `model`.
fn open(corpus: &Path, model: bool) -> (tempfile::TempDir, Engine) {
    let index = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(EngineOptions {
        index: Some(index.path().to_path_buf()),
        strict: true,
        model: if model {
            shared("models/all-MiniLM-L6-v2")
                .to_string_lossy()
                .into_owned()
        } else {
            "off".into()
        },
        ..EngineOptions::new(corpus)
    })
    .unwrap();
    engine.prepare_model(false, &citebot_core::progress::silent);
    (index, engine)
}

/// A corpus folder holding copies of the essays of `corpus` whose file `keep` accepts.
fn subset(corpus: &Path, keep: impl Fn(&str) -> bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(corpus).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if keep(&text) {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// Fails unless the two answers rank the same passages with the same
/// scores (to float tolerance) and abstain alike.
fn assert_same(question: &str, filtered: &Answer, alone: &Answer) {
    assert_eq!(filtered.answered, alone.answered, "{question}");
    let ids = |a: &Answer| {
        a.hits
            .iter()
            .map(|h| h.passage.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(filtered), ids(alone), "{question}");
    for (f, a) in filtered.hits.iter().zip(&alone.hits) {
        assert!(
            (f.score - a.score).abs() < 1e-4,
            "{question}: {} against {}",
            f.score,
            a.score
        );
        assert_eq!(f.quote_text(), a.quote_text(), "{question}");
    }
}

const QUESTIONS: &[&str] = &[
    "What are the causes of faction?",
    "Is a standing army dangerous to liberty?",
    "How should the powers of government be separated?",
    "Why does a large republic guard against factions better than a small one?",
    "What is the harm principle?",
    "Should a man trust himself?",
    "What do penguins eat in Antarctica?",
    "the",
];

#[test]
fn an_author_filter_answers_as_a_corpus_of_that_author_alone() {
    let corpus = shared("corpora/federalist");
    let (_a, full) = open(&corpus, false);
    let madison = subset(&corpus, |text| text.contains("author = \"James Madison"));
    let (_b, alone) = open(madison.path(), false);
    let ask = Ask {
        filters: Filters {
            authors: vec!["madison".into()],
            ..Filters::default()
        },
        ..Ask::default()
    };
    for question in QUESTIONS {
        let filtered = full.ask_with(question, 10, &ask).unwrap();
        assert_eq!(filtered.filters.essays, 29, "{:?}", filtered.filters);
        assert!(
            filtered
                .hits
                .iter()
                .all(|h| h.source.author.as_deref().unwrap().contains("Madison"))
        );
        assert_same(question, &filtered, &alone.ask(question, 10).unwrap());
    }
}

#[test]
fn a_date_and_essay_filter_answers_as_a_corpus_of_those_essays_alone() {
    let corpus = shared("corpora/federalist");
    let (_a, full) = open(&corpus, false);
    // Written before 1788: October to December 1787.
    let early = subset(&corpus, |text| text.contains(", 1787\""));
    let (_b, alone) = open(early.path(), false);
    for question in QUESTIONS {
        let filtered = full
            .ask_text(&format!("{question} before:1788"), 10, &Ask::default())
            .unwrap();
        assert_same(question, &filtered, &alone.ask(question, 10).unwrap());
    }
    let ten = subset(&corpus, |text| text.contains("The Federalist No. 10:"));
    let (_c, alone) = open(ten.path(), false);
    for question in QUESTIONS {
        let filtered = full
            .ask_text(
                &format!("in:\"federalist 10\" {question}"),
                5,
                &Ask::default(),
            )
            .unwrap();
        assert_eq!(filtered.filters.essays, 1);
        assert_same(question, &filtered, &alone.ask(question, 5).unwrap());
    }
}

#[test]
fn with_the_model_a_filter_answers_as_a_corpus_of_those_essays_alone() {
    let corpus = shared("corpora/essays");
    let (_a, full) = open(&corpus, true);
    assert_eq!(full.retrieval(), citebot_core::answer::Retrieval::Hybrid);
    let mill = subset(&corpus, |text| {
        text.contains("author = \"John Stuart Mill\"")
    });
    let (_b, alone) = open(mill.path(), true);
    for question in QUESTIONS {
        let filtered = full
            .ask_text(
                &format!("by:\"J. S. Mill\" {question}"),
                10,
                &Ask::default(),
            )
            .unwrap();
        assert_eq!(filtered.filters.essays, 5);
        assert_same(question, &filtered, &alone.ask(question, 10).unwrap());
    }
}

#[test]
fn a_filter_that_matches_nothing_says_so_with_the_nearest_name() {
    let (_a, full) = open(&shared("corpora/federalist"), false);
    let answer = full
        .ask_text("by:Madisen factions", 3, &Ask::default())
        .unwrap();
    assert!(!answer.answered && answer.hits.is_empty());
    assert_eq!(answer.query, "by:Madisen factions");
    match answer.filters.miss {
        Some(Miss::Author { named, nearest }) => {
            assert_eq!(named, "Madisen");
            assert_eq!(nearest[0], "James Madison");
        }
        other => panic!("{other:?}"),
    }
    let answer = full
        .ask_text("by:jay in:\"federalist 10\" factions", 3, &Ask::default())
        .unwrap();
    assert!(
        matches!(answer.filters.miss, Some(Miss::Together { .. })),
        "{:?}",
        answer.filters
    );
    let answer = full
        .ask_text("factions after:1900", 3, &Ask::default())
        .unwrap();
    assert!(
        matches!(answer.filters.miss, Some(Miss::Dates { .. })),
        "{:?}",
        answer.filters
    );
}
