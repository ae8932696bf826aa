//! Follow-ups through the engine: the answer replied to counts as
//! evidence (its essay, its author), and only adds.

use std::path::Path;

use citebot_core::{Ask, Engine, EngineOptions, FollowUp};

/// A corpus of two essays holding the same paragraph: the earlier one
/// wins a tie, unless a follow-up's context is the other.
fn corpus(dir: &Path) {
    let essay = |file: &str, title: &str, author: &str, paragraphs: &[&str]| {
        let body = paragraphs.join("\n\n");
        std::fs::write(
            dir.join(file),
            format!("+++\ntitle = \"{title}\"\nauthor = \"{author}\"\n+++\n\n{body}\n"),
        )
        .unwrap();
    };
    let same = "A tax on imported goods was raised by the council in the spring.";
    essay(
        "a.md",
        "Alpha",
        "Ann Archer",
        &[same, "The mills by the river ground corn for the town."],
    );
    essay(
        "b.md",
        "Beta",
        "Bob Baker",
        &["The harbour held many ships from distant ports.", same],
    );
    essay(
        "c.md",
        "Gamma",
        "Bob Baker",
        &["Lighthouses warn the ships at night.", same],
    );
}

fn open(dir: &Path) -> (tempfile::TempDir, Engine) {
    let index = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(EngineOptions {
        index: Some(index.path().to_path_buf()),
        strict: true,
        ..EngineOptions::new(dir)
    })
    .unwrap();
    (index, engine)
}

fn top(engine: &Engine, question: &str, context: Option<FollowUp>) -> String {
    let ask = Ask {
        context,
        ..Ask::default()
    };
    let answer = engine.ask_with(question, 3, &ask).unwrap();
    assert!(answer.answered, "{question}");
    answer.hits[0].passage.id.clone()
}

#[test]
fn the_answer_replied_to_decides_between_equal_passages() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let (_index, engine) = open(dir.path());
    let question = "And who raised the tax on imported goods?";
    let alone = top(&engine, question, None);
    assert!(
        alone.starts_with("a_"),
        "a tie goes to the earlier essay: {alone}"
    );
    let ships = top(
        &engine,
        "Which harbour held ships from distant ports?",
        None,
    );
    assert!(ships.starts_with("b_"), "{ships}");
    let context = FollowUp {
        passages: vec![ships.clone()],
        excerpt: None,
    };
    let followed = top(&engine, question, Some(context));
    assert!(
        followed.starts_with("b_"),
        "the same essay counts: {followed}"
    );
    // The words of the answer the reader quoted are the context, wherever they are.
    let quoted = FollowUp {
        passages: vec!["a_1".into()],
        excerpt: Some("warn the ships at  night".into()),
    };
    assert!(top(&engine, question, Some(quoted)).starts_with("c_"));
    // Quoted words no passage holds (the citation line): the answer's first passage.
    let citation = FollowUp {
        passages: vec![ships.clone()],
        excerpt: Some("— Bob Baker, Beta, ¶1".into()),
    };
    assert!(top(&engine, question, Some(citation)).starts_with("b_"));
    // The same author's other essay counts, less than the essay itself.
    let lighthouse = FollowUp {
        passages: vec![top(&engine, "What warns ships at night?", None)],
        excerpt: None,
    };
    assert!(top(&engine, question, Some(lighthouse)).starts_with("c_"));
}

#[test]
fn context_only_adds_a_question_that_stands_alone_is_answered_alone() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let (_index, engine) = open(dir.path());
    let context = FollowUp {
        passages: vec![top(
            &engine,
            "Which harbour held ships from distant ports?",
            None,
        )],
        excerpt: None,
    };
    let mills = top(
        &engine,
        "What did the mills by the river grind?",
        Some(context.clone()),
    );
    assert!(mills.starts_with("a_"), "{mills}");
    // Nothing the corpus answers is made up by the context.
    let ask = Ask {
        context: Some(context),
        ..Ask::default()
    };
    let answer = engine
        .ask_with("What do penguins eat in winter?", 3, &ask)
        .unwrap();
    assert!(!answer.answered && answer.hits.is_empty());
}
