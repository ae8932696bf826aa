//! The binary, driven the way a user drives it: the JSON contract, batch
//! mode, hostile input, bad corpus files, a stale index and deep links.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::assert::Assert;
use predicates::prelude::*;
use predicates::str::{contains, starts_with};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::cli::{self, citebot};

/// Runs citebot with `args` (plus `--index <index>`), feeding `stdin`.
fn run(args: &[&str], index: &Path, stdin: &str) -> Assert {
    citebot()
        .args(args)
        .arg("--index")
        .arg(index)
        .write_stdin(stdin)
        .assert()
}

/// The standard output of a run that succeeded.
fn stdout(run: Assert) -> String {
    String::from_utf8(run.success().get_output().stdout.clone()).unwrap()
}

/// The JSON lines of a run that succeeded.
fn json_lines(run: Assert) -> Vec<Value> {
    cli::json_lines(run.success().get_output())
}

fn federalist() -> String {
    crate::support::paths::corpus("federalist")
        .display()
        .to_string()
}

/// The shared copy of the sentence-embedding model.
fn shared_model() -> String {
    crate::support::paths::model().display().to_string()
}

/// Checks one `ask --json` object against the contract, key by key.
fn assert_ask_contract(v: &Value) {
    let obj = v.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(v["filters"].is_object(), "{}", v["filters"]);
    assert!(v["query"].is_string());
    assert!(
        v["retrieval"] == "lexical" || v["retrieval"] == "hybrid",
        "{}",
        v["retrieval"]
    );
    let answered = v["answered"].as_bool().unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(answered, !hits.is_empty());
    for (i, hit) in hits.iter().enumerate() {
        let hit = hit.as_object().unwrap();
        let mut keys: Vec<&str> = hit.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "author",
                "date",
                "essay_id",
                "link",
                "paragraph",
                "passage",
                "passage_id",
                "publication",
                "quote",
                "rank",
                "score",
                "title",
                "url"
            ]
        );
        assert_eq!(hit["rank"].as_u64().unwrap(), i as u64 + 1);
        let id = hit["passage_id"].as_str().unwrap();
        assert!(
            id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{id}"
        );
        assert!(hit["paragraph"].as_u64().unwrap() >= 1);
        assert!(hit["score"].is_number());
        for key in ["author", "publication", "date", "url", "link"] {
            assert!(hit[key].is_string() || hit[key].is_null(), "{key}");
        }
        let passage = hit["passage"].as_str().unwrap();
        let quote = hit["quote"].as_str().unwrap();
        let core = quote.trim_start_matches("… ").trim_end_matches(" …");
        assert!(passage.contains(core), "quote is verbatim from the passage");
        if hit["url"].is_null() {
            assert!(hit["link"].is_null(), "no URL means no link");
        }
    }
}

#[test]
fn ask_json_contract_on_the_shipped_corpus() {
    let index = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "ask",
            "--json",
            "Why does China matter to so many countries?",
        ],
        index.path(),
        "",
    );
    let lines = json_lines(out);
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    assert_ask_contract(v);
    assert_eq!(v["query"], "Why does China matter to so many countries?");
    assert_eq!(v["answered"], true);
    let top = &v["hits"][0];
    assert_eq!(top["author"], "Susan Shirk");
    assert_eq!(top["publication"], "TIME");
    let link = top["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://time.com/6222513/china-xi-jinping-diplomacy/#:~:text="),
        "{link}"
    );
}

#[test]
fn plain_output_is_quote_and_citation_without_colour_when_piped() {
    let index = tempfile::tempdir().unwrap();
    let out = run(
        &["ask", "What harmed China's interests, according to Shirk?"],
        index.path(),
        "",
    );
    let text = stdout(out);
    assert!(
        text.contains("cracking down on private businesses"),
        "{text}"
    );
    assert!(
        text.contains(
            "— Susan Shirk, “Don't Give Up on Diplomacy with China,” TIME, October 2022, ¶"
        ),
        "{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no ANSI codes when stdout is not a terminal"
    );
}

#[test]
fn abstains_on_unanswerable_questions() {
    let index = tempfile::tempdir().unwrap();
    let out = run(
        &["ask", "--json"],
        index.path(),
        "How do I bake sourdough bread?\nWhat do emperor penguins eat in winter?\n",
    );
    for v in json_lines(out) {
        assert_ask_contract(&v);
        assert_eq!(v["answered"], false, "{v}");
        assert_eq!(v["hits"], Value::Array(vec![]));
    }
    run(&["ask", "How do I bake sourdough bread?"], index.path(), "")
        .success()
        .stdout(contains(
            "Nothing in the essays matches that closely enough",
        ));
}

/// A question that shares a rare word or two with the essays ("2022",
/// "world") but that they do not answer: words alone answer it (a known
/// limit, docs/quality.md); with the model, citebot abstains.
#[test]
fn the_model_abstains_where_shared_words_mislead() {
    let index = tempfile::tempdir().unwrap();
    let out = citebot()
        .env("CITEBOT_MODEL", shared_model())
        .args(["ask", "--json", "--index"])
        .arg(index.path())
        .arg("Who won the 2022 World Cup?")
        .assert()
        .success();
    let lines = cli::json_lines(out.get_output());
    assert_eq!(lines.len(), 1, "{}", cli::text(&out.get_output().stderr));
    assert_ask_contract(&lines[0]);
    assert_eq!(lines[0]["retrieval"], "hybrid", "{}", lines[0]);
    assert_eq!(lines[0]["answered"], false, "{}", lines[0]);
}

#[test]
fn batch_mode_answers_every_line_in_order() {
    let index = tempfile::tempdir().unwrap();
    let questions = [
        "What is the minimum age of a senator?",
        "",
        "How many moons does Jupiter have?",
        "What should each department of government have of its own?",
    ];
    let out = run(
        &["ask", "--json", "--top", "2", "--corpus", &federalist()],
        index.path(),
        &(questions.join("\n") + "\n"),
    );
    let lines = json_lines(out);
    assert_eq!(lines.len(), questions.len());
    for (q, v) in questions.iter().zip(&lines) {
        assert_ask_contract(v);
        assert_eq!(v["query"], *q);
        assert!(v["hits"].as_array().unwrap().len() <= 2);
    }
    assert_eq!(lines[1]["answered"], false);
    assert_eq!(lines[2]["answered"], false);
    assert!(
        lines[0]["hits"][0]["passage"]
            .as_str()
            .unwrap()
            .contains("thirty years of age")
    );
    assert!(
        lines[3]["hits"][0]["quote"]
            .as_str()
            .unwrap()
            .contains("will of its own")
    );
    assert_eq!(
        lines[3]["hits"][0]["link"],
        Value::Null,
        "Federalist essays have no URL"
    );
}

#[test]
fn hostile_questions_are_just_words() {
    let index = tempfile::tempdir().unwrap();
    let long = "faction ".repeat(1250);
    let questions = [
        "*",
        "title:x",
        "title:[a TO",
        "\"unbalanced quote",
        "<b>unclosed",
        "AND OR NOT ( ) ~2 ^3",
        long.trim(),
        "🙂🙃 faction 🇺🇸",
        "\u{1}\u{7}\u{1b}[31m control \u{7f}",
        "",
    ];
    let out = run(
        &["ask", "--json", "--corpus", &federalist()],
        index.path(),
        &(questions.join("\n") + "\n"),
    );
    let lines = json_lines(out);
    assert_eq!(lines.len(), questions.len());
    for (q, v) in questions.iter().zip(&lines) {
        assert_ask_contract(v);
        assert_eq!(v["query"], *q);
    }
    assert_eq!(lines[0]["answered"], false, "`*` is not a wildcard");
    assert_eq!(
        lines[6]["answered"], true,
        "10,000 characters of one word still search"
    );
}

/// Copies the fixture corpus with bad files into a temp folder.
fn bad_corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("tests/fixtures/bad-corpus").unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn bad_files_are_skipped_with_warnings_naming_file_and_line() {
    let corpus = bad_corpus();
    let index = tempfile::tempdir().unwrap();
    let corpus_arg = corpus.path().to_string_lossy().into_owned();
    let mut out = run(&["index", "--corpus", &corpus_arg], index.path(), "")
        .success()
        .stdout(starts_with("2 essays, 3 passages, index built").and(contains("4 warnings")));
    for expected in [
        "broken-front-matter.md:2: front matter",
        "unknown-key.md:3: front matter: unknown field `authr`",
        "not-utf8.txt:3: not valid UTF-8",
        "empty.txt: empty file",
    ] {
        out = out.stderr(contains(expected));
    }
    let out = run(
        &[
            "ask",
            "--json",
            "--corpus",
            &corpus_arg,
            "What guides ships through fog?",
        ],
        index.path(),
        "",
    );
    let v = &json_lines(out)[0];
    assert_eq!(v["hits"][0]["title"], "A Good Essay");
    assert_eq!(v["hits"][0]["paragraph"], 1);

    run(
        &["index", "--strict", "--corpus", &corpus_arg],
        index.path(),
        "",
    )
    .failure()
    .stderr(contains("--strict").and(contains("unknown-key.md:3")));
}

#[test]
fn each_skipped_file_is_reported_once() {
    let corpus = bad_corpus();
    let index = tempfile::tempdir().unwrap();
    let corpus_arg = corpus.path().to_string_lossy().into_owned();
    let mut out = run(&["index", "--corpus", &corpus_arg], index.path(), "").success();
    for file in [
        "broken-front-matter.md",
        "unknown-key.md",
        "not-utf8.txt",
        "empty.txt",
    ] {
        out = out.stderr(contains(file).count(1));
    }
}

#[test]
fn a_corpus_of_bad_files_says_why_each_was_skipped() {
    let corpus = tempfile::tempdir().unwrap();
    for file in ["unknown-key.md", "empty.txt"] {
        std::fs::copy(
            Path::new("tests/fixtures/bad-corpus").join(file),
            corpus.path().join(file),
        )
        .unwrap();
    }
    let index = tempfile::tempdir().unwrap();
    let corpus_arg = corpus.path().to_string_lossy().into_owned();
    let mut out = run(&["index", "--corpus", &corpus_arg], index.path(), "").failure();
    for expected in [
        "no usable essays (2 files skipped",
        "unknown-key.md:3: front matter: unknown field `authr`",
        "empty.txt: empty file",
    ] {
        out = out.stderr(contains(expected));
    }
}

#[test]
fn a_closed_stdout_ends_batch_mode_quietly() {
    let index = tempfile::tempdir().unwrap();
    // Reads one line and closes the pipe while citebot writes, which
    // assert_cmd (it reads all the output) cannot do: std's Command.
    let mut child = Command::new(env!("CARGO_BIN_EXE_citebot"))
        .env("CITEBOT_MODEL", "off")
        .args(["ask", "--json", "--index"])
        .arg(index.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("citebot runs");
    // Far more answers than a pipe buffers, so citebot is still writing when the reader goes.
    let questions = "Why does China matter to so many countries?\n".repeat(2000);
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(questions.as_bytes());
    });
    // `| head -1`: read one line, then close the pipe.
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(first.starts_with("{\"query\""), "{first}");
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "nothing on stderr"
    );
}

#[test]
fn missing_corpus_is_a_clear_error() {
    let index = tempfile::tempdir().unwrap();
    run(
        &["ask", "--corpus", "/nonexistent/essays", "anything"],
        index.path(),
        "",
    )
    .failure()
    .stderr(contains("/nonexistent/essays"))
    .stderr(contains("panicked").not())
    // The cause once, not once per layer that wraps it; no backtrace.
    .stderr(starts_with("Error: opening corpus"))
    .stderr(contains("No such file or directory").count(1))
    .stderr(contains("backtrace").not());
}

#[test]
fn a_count_of_zero_results_is_refused_by_name() {
    let index = tempfile::tempdir().unwrap();
    run(&["ask", "--top", "0", "China"], index.path(), "")
        .failure()
        .stderr(contains("--top").and(contains("at least 1")));
    citebot()
        .env("CITEBOT_TOP", "0")
        .args(["ask", "--index"])
        .arg(index.path())
        .arg("China")
        .assert()
        .failure()
        .stderr(contains("CITEBOT_TOP: `top` must be at least 1"));
}

#[test]
fn stale_index_is_updated_and_fresh_index_is_reused() {
    let corpus = bad_corpus();
    let index = tempfile::tempdir().unwrap();
    let corpus_arg = corpus.path().to_string_lossy().into_owned();
    let first = stdout(run(&["index", "--corpus", &corpus_arg], index.path(), ""));
    assert!(first.contains("index built"), "{first}");
    let again = stdout(run(&["index", "--corpus", &corpus_arg], index.path(), ""));
    assert!(again.contains("index up to date"), "{again}");

    // Change one essay: the new words are found and only that essay is re-indexed.
    let good = corpus.path().join("good.md");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(
        &good,
        text.replace("steady beam of light", "steady beam of violet light"),
    )
    .unwrap();
    let out = run(
        &["ask", "--json", "--corpus", &corpus_arg, "violet beam"],
        index.path(),
        "",
    );
    let v = &json_lines(out)[0];
    assert!(
        v["hits"][0]["passage"].as_str().unwrap().contains("violet"),
        "{v}"
    );
    std::fs::write(
        corpus.path().join("new.md"),
        "+++\ntitle = \"New\"\n+++\n\nOwls hunt mice at night.\n",
    )
    .unwrap();
    std::fs::remove_file(corpus.path().join("plain.txt")).unwrap();
    let updated = stdout(run(&["index", "--corpus", &corpus_arg], index.path(), ""));
    assert!(
        updated.contains("updated (1 added, 0 changed, 1 removed)"),
        "{updated}"
    );
    let out = run(
        &["ask", "--json", "--corpus", &corpus_arg],
        index.path(),
        "Do owls hunt mice?\nTide tables\n",
    );
    let lines = json_lines(out);
    assert_eq!(lines[0]["hits"][0]["title"], "New");
    assert_eq!(lines[1]["answered"], false, "the removed essay is gone");
}

/// Decodes %XX escapes.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn deep_links_land_on_the_quoted_words() {
    let index = tempfile::tempdir().unwrap();
    let questions = "What harmed China's interests, according to Shirk?\nWhat do Obama and Xi need to know about each other's aims?\nHow does Shirk say China wants to be seen by the world?\n";
    let out = run(&["ask", "--json", "--top", "3"], index.path(), questions);
    let mut checked = 0;
    for v in json_lines(out) {
        for hit in v["hits"].as_array().unwrap() {
            let link = hit["link"].as_str().unwrap();
            let url = hit["url"].as_str().unwrap();
            let (base, fragment) = link.split_once("#:~:text=").unwrap();
            assert_eq!(base, url);
            // Only unreserved characters stay unencoded; `-`, `,` and `&` never appear raw in a term.
            for term in fragment.split(',') {
                assert!(
                    term.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"%._~".contains(&b)),
                    "{term}"
                );
                let words = percent_decode(term);
                assert!(
                    hit["quote"].as_str().unwrap().contains(&words),
                    "{words:?} not in quote"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 3);
}

/// A proptest over the whole binary: any batch of strings gives one valid JSON line each.
fn arbitrary_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,60}",
        "[a-z *:\\[\\]\"()<>&~^-]{0,40}",
        proptest::collection::vec(any::<char>(), 0..30).prop_map(|v| v.into_iter().collect()),
    ]
    .prop_map(|s: String| s.replace(['\n', '\r'], " "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn any_input_gives_valid_json(lines in proptest::collection::vec(arbitrary_line(), 1..40)) {
        let index = index_dir();
        let out = run(&["ask", "--json"], &index, &(lines.join("\n") + "\n"));
        let parsed = json_lines(out);
        prop_assert_eq!(parsed.len(), lines.len());
        for v in &parsed {
            assert_ask_contract(v);
        }
    }

    #[test]
    fn any_input_gives_a_cite_verdict_and_never_places_a_lone_word(
        lines in proptest::collection::vec(arbitrary_line(), 1..40)
    ) {
        let index = cite_index_dir();
        let out = run(&["cite", "--json"], &index, &(lines.join("\n") + "\n"));
        let parsed = json_lines(out);
        prop_assert_eq!(parsed.len(), lines.len());
        for (line, v) in lines.iter().zip(&parsed) {
            prop_assert_eq!(v["query"].as_str(), Some(line.as_str()));
            let verdict = v["verdict"].as_str().unwrap();
            prop_assert!(["exact", "close", "not_found"].contains(&verdict), "{}", v);
            if verdict != "not_found" {
                let quoted = v["quoted"].as_str().unwrap();
                let words = quoted.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
                prop_assert!(words.count() >= 2, "{}", v);
            }
        }
    }
}

/// One index folder shared by the cases of the `ask` proptest (built on first use).
fn index_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_path_buf()
}

/// The same for the `cite` proptest: each test has its own folder.
fn cite_index_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_path_buf()
}

#[test]
fn chat_session_asks_pages_shows_context_and_sources() {
    let index = tempfile::tempdir().unwrap();
    let script = "What should each department of government have of its own?\nmore\ncontext\nsources\ncite Ambition must be made to check ambition\ncite\nquit\n";
    let out = run(
        &["chat", "--top", "1", "--corpus", &federalist()],
        index.path(),
        script,
    );
    let text = stdout(out);
    assert!(text.contains("citebot: 85 essays"), "{text}");
    assert!(text.contains("will of its own"), "{text}");
    assert!(
        text.contains("> 2. “"),
        "`more` shows the next result: {text}"
    );
    assert!(
        text.contains("— James Madison, “The Federalist No. 51"),
        "{text}"
    );
    assert!(
        text.contains("- Alexander Hamilton, “The Federalist No. 1"),
        "sources: {text}"
    );
    assert!(text.contains("“check” → “counteract”"), "cite: {text}");
    assert!(
        text.contains("> Put the quotation after `cite`"),
        "cite alone: {text}"
    );
}

#[test]
fn config_precedence_file_then_environment_then_flags() {
    let index = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("citebot.toml");
    std::fs::write(&config, "top = 1\n").unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    let hits = |extra_env: &[(&str, &str)], extra_args: &[&str]| {
        let out = citebot()
            .args(["--config", &config_arg, "ask", "--json", "--index"])
            .arg(index.path())
            .args(["--corpus", &federalist()])
            .args(extra_args)
            .arg("What should each department of government have of its own?")
            .envs(extra_env.iter().copied())
            .assert()
            .success();
        let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        v["hits"].as_array().unwrap().len()
    };
    assert_eq!(hits(&[], &[]), 1, "the file sets top = 1");
    assert_eq!(
        hits(&[("CITEBOT_TOP", "2")], &[]),
        2,
        "the environment beats the file"
    );
    assert_eq!(
        hits(&[("CITEBOT_TOP", "2")], &["--top", "4"]),
        4,
        "flags beat the environment"
    );

    std::fs::write(&config, "top = 1\ncorpuss = \"x\"\n").unwrap();
    run(&["--config", &config_arg, "ask", "x"], index.path(), "")
        .failure()
        .stderr(contains("unknown key `corpuss`").and(contains("citebot.toml")));
}

#[test]
fn ask_within_by_operators_flags_and_config_with_the_filters_in_json() {
    let index = tempfile::tempdir().unwrap();
    let questions = "Why does a large republic guard against factions? by:madison\n\
                     BY:Hamilton in:\"No. 78\" which branch is least dangerous\n\
                     What is a faction?\n\
                     by:Madisen factions\n\
                     factions after:1900\n";
    let out = run(
        &["ask", "--json", "--corpus", &federalist()],
        index.path(),
        questions,
    );
    let lines = json_lines(out);
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_ask_contract(line);
    }
    assert_eq!(
        lines[0]["query"],
        "Why does a large republic guard against factions? by:madison"
    );
    assert_eq!(
        lines[0]["filters"],
        serde_json::json!({"author": ["madison"], "essays": 29})
    );
    for hit in lines[0]["hits"].as_array().unwrap() {
        assert!(
            hit["author"].as_str().unwrap().contains("James Madison"),
            "{hit}"
        );
    }
    assert_eq!(
        lines[1]["filters"],
        serde_json::json!({"author": ["Hamilton"], "essay": ["No. 78"], "essays": 1})
    );
    assert!(
        lines[1]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["essay_id"] == "federalist-78")
    );
    assert_eq!(lines[2]["filters"], serde_json::json!({}), "unfiltered");
    assert_eq!(lines[3]["answered"], false);
    assert_eq!(
        lines[3]["filters"]["unmatched"],
        "No essay by 'Madisen'. Did you mean James Madison?"
    );
    let dates = lines[4]["filters"]["unmatched"].as_str().unwrap();
    assert!(
        dates.starts_with("No essay dated after 1900. The essays are dated from"),
        "{dates}"
    );

    // Flags, and the config's defaults below them; the question's operators win.
    let out = run(
        &[
            "ask",
            "--json",
            "--corpus",
            &federalist(),
            "--author",
            "John Jay",
            "--until",
            "1787",
        ],
        index.path(),
        "What does Jay say about foreign dangers?\n",
    );
    let v = &json_lines(out)[0];
    assert_eq!(
        v["filters"],
        serde_json::json!({"author": ["John Jay"], "until": "1787", "essays": 4})
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("citebot.toml");
    std::fs::write(&config, "[filters]\nauthor = [\"Madison\"]\n").unwrap();
    let config = config.to_string_lossy().into_owned();
    let out = run(
        &[
            "--config",
            &config,
            "ask",
            "--json",
            "--corpus",
            &federalist(),
        ],
        index.path(),
        "the militia\nthe militia by:hamilton\n",
    );
    let lines = json_lines(out);
    assert_eq!(
        lines[0]["filters"]["author"],
        serde_json::json!(["Madison"])
    );
    assert_eq!(
        lines[1]["filters"]["author"],
        serde_json::json!(["hamilton"])
    );

    // In text, a miss is said plainly.
    run(
        &["ask", "--corpus", &federalist(), "in:walden", "ponds"],
        index.path(),
        "",
    )
    .success()
    .stdout(starts_with("No essay is 'walden'."));
}

#[test]
fn chat_asks_within_follows_up_and_starts_afresh() {
    let index = tempfile::tempdir().unwrap();
    let script = "/author Jay\nWhat dangers come from foreign nations?\nfilters\n\
                  new\nfilters\nwhat about the militia? by:madisen\n/bogus\nquit\n";
    let out = run(
        &["chat", "--top", "2", "--corpus", &federalist()],
        index.path(),
        script,
    );
    let text = stdout(out);
    assert!(text.contains("> Asking within by:Jay."), "{text}");
    let answer = text.split("> Asking within by:Jay.").nth(1).unwrap();
    let cited: Vec<&str> = answer
        .lines()
        .filter(|l| l.trim_start().starts_with("— "))
        .take(2)
        .collect();
    assert_eq!(cited.len(), 2, "{text}");
    assert!(cited.iter().all(|l| l.contains("John Jay")), "{cited:?}");
    assert!(text.contains("> Starting afresh"), "{text}");
    assert!(text.contains("> Asking within all the essays."), "{text}");
    assert!(
        text.contains("No essay by 'madisen'. Did you mean James Madison?"),
        "{text}"
    );
    assert!(text.contains("> Unknown command."), "{text}");
}
