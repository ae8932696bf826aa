//! Incremental updates: after an essay is changed, added or removed, a
//! reloaded engine answers exactly as one built afresh would, having
//! re-indexed only the essay concerned.

use std::path::{Path, PathBuf};

use citebot_core::{Engine, EngineOptions, OpenReport};

/// Questions whose words the edits below touch, and some they do not.
const QUESTIONS: &[&str] = &[
    "What is the origin of faction in the nature of man?",
    "What are the mischiefs of faction?",
    "Can people choose a good government by reflection rather than by accident?",
    "How does a zanzibarite quorum work?",
    "What do the people fear from a standing army?",
    "Why is union a safeguard against foreign danger?",
    "What is said about commerce and the navy?",
];

/// A temporary copy of the first essays of the Federalist.
fn corpus(essays: usize) -> tempfile::TempDir {
    let source = crate::support::paths::corpus("federalist");
    assert!(source.exists(), "{} is missing", source.display());
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files.iter().take(essays) {
        std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    }
    dir
}

fn open(corpus: &Path, index: &Path) -> (Engine, OpenReport) {
    Engine::open(EngineOptions {
        corpus: corpus.to_path_buf(),
        index: Some(index.to_path_buf()),
        strict: true,
        model: "off".into(),
        hub: Default::default(),
    })
    .unwrap()
}

/// Every question's hits, as passage ids and scores.
fn answers(engine: &Engine) -> Vec<Vec<(String, f32)>> {
    QUESTIONS
        .iter()
        .map(|q| {
            let answer = engine.ask(q, 10).unwrap();
            answer
                .hits
                .iter()
                .map(|h| (h.passage.id.clone(), h.score))
                .collect()
        })
        .collect()
}

/// The engine answers as one opened on a fresh index of the same corpus.
fn assert_like_fresh_build(engine: &Engine, corpus: &Path) {
    let index = tempfile::tempdir().unwrap();
    let (fresh, report) = open(corpus, index.path());
    assert!(report.sync.rebuilt);
    assert_eq!(answers(engine), answers(&fresh));
    assert_eq!(engine.sources(), fresh.sources());
    assert!(engine.passages().eq(fresh.passages()));
}

/// The number of passages of the essay in `file`.
fn passages_of_file(engine: &Engine, file: &str) -> usize {
    let sources = engine.sources();
    engine
        .passages()
        .filter(|p| engine.essay_file(&sources[p.essay].id) == Some(Path::new(file)))
        .count()
}

/// The sync re-indexed exactly the essays concerned: `passages` passages.
/// Passages of other essays may be written again (`passages_rewritten`) to
/// drop deleted documents from a small index, but no essay is counted as
/// changed unless it did.
fn assert_sync(
    report: &OpenReport,
    (added, changed, removed): (usize, usize, usize),
    passages: usize,
) {
    let sync = &report.sync;
    assert!(!sync.rebuilt, "{sync:?}");
    assert_eq!(
        (sync.added, sync.changed, sync.removed),
        (added, changed, removed),
        "{sync:?}"
    );
    assert_eq!(
        sync.passages_written - sync.passages_rewritten,
        passages,
        "{sync:?}"
    );
}

#[test]
fn reload_matches_a_fresh_build_and_reindexes_only_what_changed() {
    let corpus = corpus(12);
    let dir = corpus.path();
    let index = tempfile::tempdir().unwrap();
    let (engine, report) = open(dir, index.path());
    assert!(report.sync.rebuilt);

    let (engine, report) = engine.reload().unwrap();
    assert!(report.sync.unchanged());
    assert_eq!(report.sync.passages_written, 0);

    // Change: a new paragraph in No. 10.
    let file = dir.join("federalist-10.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\nA zanzibarite quorum of factions met.\n"),
    )
    .unwrap();
    let (engine, report) = engine.reload().unwrap();
    let passages = passages_of_file(&engine, "federalist-10.md");
    assert_sync(&report, (0, 1, 0), passages);
    let answer = engine.ask("zanzibarite quorum", 3).unwrap();
    assert!(answer.hits[0].passage.text.contains("zanzibarite"));
    assert_like_fresh_build(&engine, dir);

    // Add: a new essay.
    std::fs::write(
        dir.join("federalist-99.md"),
        "+++\ntitle = \"On Quorums\"\nauthor = \"Publius\"\n+++\n\n\
         A zanzibarite quorum is a faction of the whole.\n\n\
         The navy and commerce need a quorum too.\n",
    )
    .unwrap();
    let (engine, report) = engine.reload().unwrap();
    assert_sync(&report, (1, 0, 0), 2);
    assert!(engine.passage("federalist-99_2").is_some());
    assert_like_fresh_build(&engine, dir);

    // Remove: an essay goes.
    std::fs::remove_file(dir.join("federalist-04.md")).unwrap();
    let (engine, report) = engine.reload().unwrap();
    assert_sync(&report, (0, 0, 1), 0);
    assert!(engine.passage("federalist-04_1").is_none());
    assert_like_fresh_build(&engine, dir);
}

#[test]
fn a_same_size_edit_with_the_old_mtime_is_noticed() {
    let corpus = corpus(3);
    let dir = corpus.path();
    let index = tempfile::tempdir().unwrap();
    let file = dir.join("federalist-02.md");
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    let (engine, _) = open(dir, index.path());

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Providence"));
    std::fs::write(&file, text.replacen("Providence", "Qzovidence", 1)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let (engine, report) = engine.reload().unwrap();
    assert_sync(
        &report,
        (0, 1, 0),
        passages_of_file(&engine, "federalist-02.md"),
    );
    assert!(engine.ask("Qzovidence", 3).unwrap().answered);
    assert_like_fresh_build(&engine, dir);
}

/// Sets every file of `dir` to have been modified an hour ago, so that a
/// start trusts their stamps (files modified within a second are read
/// again whatever their stamps say).
fn settle(dir: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        file.set_modified(past).unwrap();
    }
}

/// The file beside the index that holds the store, so that a start parses no essay.
const SAVED_STORE: &str = "store.bin";

/// Something done to a file.
type Harm = dyn Fn(&Path);

/// Flips one byte in every `step` bytes of `file` from `from` on, up to `to`.
fn damage(file: &Path, from: usize, to: usize, step: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    let to = to.min(bytes.len());
    for at in (from..to).step_by(step) {
        bytes[at] ^= 0x5a;
    }
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn a_stale_or_damaged_saved_store_never_changes_an_answer() {
    let corpus = corpus(6);
    let dir = corpus.path();
    settle(dir);
    let index = tempfile::tempdir().unwrap();
    let saved = index.path().join(SAVED_STORE);
    let (_, report) = open(dir, index.path());
    assert!(report.sync.rebuilt);
    assert!(saved.exists(), "the store is saved beside the index");

    // A start with nothing changed takes the essays from the saved store.
    let (engine, report) = open(dir, index.path());
    assert!(report.sync.unchanged(), "{:?}", report.sync);
    assert_like_fresh_build(&engine, dir);
    drop(engine);
    let before_edit = std::fs::read(&saved).unwrap();

    // Stale: an essay edited while no engine ran, its size and mtime kept.
    let file = dir.join("federalist-03.md");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("dangers"));
    std::fs::write(&file, text.replacen("dangers", "dzngers", 1)).unwrap();
    settle(dir);
    let (engine, report) = open(dir, index.path());
    assert_sync(
        &report,
        (0, 1, 0),
        passages_of_file(&engine, "federalist-03.md"),
    );
    assert!(engine.ask("dzngers", 3).unwrap().answered);
    assert_like_fresh_build(&engine, dir);
    drop(engine);

    // Stale: the saved store from before the edit, beside an index made after it.
    std::fs::write(&saved, &before_edit).unwrap();
    let (engine, report) = open(dir, index.path());
    assert!(report.sync.unchanged(), "{:?}", report.sync);
    assert!(engine.ask("dzngers", 3).unwrap().answered);
    assert_like_fresh_build(&engine, dir);
    drop(engine);

    // Damaged: its records (read when an essay is first used), its
    // directory and header (read at start), cut short, or not one at all.
    let (_, _) = open(dir, index.path());
    let len = std::fs::metadata(&saved).unwrap().len() as usize;
    let records = move |file: &Path| damage(file, 64, len / 2, 997);
    let directory = move |file: &Path| damage(file, len - 100, len, 7);
    let header = |file: &Path| damage(file, 9, 10, 1);
    let cut = |file: &Path| {
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(file, &bytes[..bytes.len() / 3]).unwrap();
    };
    let garbage = |file: &Path| std::fs::write(file, b"not a saved store").unwrap();
    let harms: [(&str, &Harm); 5] = [
        ("records", &records),
        ("directory", &directory),
        ("header", &header),
        ("cut", &cut),
        ("garbage", &garbage),
    ];
    for (what, harm) in harms {
        // Each starts from a sound saved store of the corpus as it is.
        drop(open(dir, index.path()));
        assert!(saved.exists(), "{what}");
        harm(&saved);
        let (engine, report) = open(dir, index.path());
        assert!(report.sync.unchanged(), "{what}: {:?}", report.sync);
        assert!(engine.ask("dzngers", 3).unwrap().answered, "{what}");
        assert_like_fresh_build(&engine, dir);
        // A damaged record is found when its essay is used, and the file
        // dropped for the next start to rewrite; any other damage is found at
        // start, and the file rewritten at once.
        assert_eq!(saved.exists(), what != "records", "{what}");
    }

    // The index's one-line summary of what it holds, gone or wrong: the
    // start compares every essay's digest instead, and rewrites it.
    let summary = index.path().join("citebot.sum");
    for wrong in [None, Some("2 160 6 0000000000000000")] {
        match wrong {
            None => std::fs::remove_file(&summary).unwrap(),
            Some(text) => std::fs::write(&summary, text).unwrap(),
        }
        let (engine, report) = open(dir, index.path());
        assert!(report.sync.unchanged(), "{:?}", report.sync);
        assert_like_fresh_build(&engine, dir);
        assert_ne!(std::fs::read_to_string(&summary).ok().as_deref(), wrong);
    }
}

/// Two engines opening one new index folder at once (two processes, say
/// `citebot serve` and a batch `ask`) both succeed: the second waits while
/// the first builds, then finds the index up to date.
#[test]
fn two_engines_opening_one_new_index_at_once_both_succeed() {
    let corpus = corpus(6);
    let index = tempfile::tempdir().unwrap();
    let dir = index.path().join("shared");
    let results: Vec<_> = std::thread::scope(|scope| {
        let opens: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| open(corpus.path(), &dir)))
            .collect();
        opens.into_iter().map(|o| o.join().unwrap()).collect()
    });
    let rebuilt = results.iter().filter(|(_, r)| r.sync.rebuilt).count();
    assert_eq!(rebuilt, 1, "one builds, the others reuse it");
    for (engine, _) in &results {
        assert_like_fresh_build(engine, corpus.path());
    }
}
