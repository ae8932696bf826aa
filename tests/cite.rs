//! `citebot cite`, driven through the binary: verdicts, the verbatim
//! original span, exact differences, citations and the JSON contract, on both
//! the shipped corpus and the Federalist corpus.

use serde_json::{Value, json};

use crate::support::cli;

/// Runs `cite --json` in batch mode (model off) and returns one object per
/// quote, each checked against the contract.
fn cite_batch(corpus: Option<&str>, quotes: &[&str]) -> Vec<Value> {
    let lines = cli::cite_batch(corpus, "off", quotes);
    assert_eq!(lines.len(), quotes.len());
    for (q, v) in quotes.iter().zip(&lines) {
        assert_contract(v);
        assert_eq!(v["query"], *q);
    }
    lines
}

/// Checks the `cite --json` contract, key by key.
fn assert_contract(v: &Value) {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attribution",
            "differences",
            "elided",
            "match",
            "query",
            "quoted",
            "verdict"
        ]
    );
    assert!(v["quoted"].is_string() && v["elided"].is_boolean());
    let verdict = v["verdict"].as_str().unwrap();
    assert!(["exact", "close", "not_found"].contains(&verdict));
    if verdict == "not_found" {
        assert_eq!(v["attribution"], Value::Null);
        assert_eq!(v["match"], Value::Null);
        assert_eq!(v["differences"], json!([]));
        return;
    }
    let m = v["match"].as_object().unwrap();
    let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "author",
            "date",
            "essay_id",
            "link",
            "original",
            "paragraph",
            "passage",
            "passage_id",
            "publication",
            "similarity",
            "title",
            "url"
        ]
    );
    let similarity = m["similarity"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&similarity));
    if verdict == "exact" {
        assert_eq!(similarity, 1.0);
        assert_eq!(v["differences"], json!([]));
    } else {
        assert!(similarity < 1.0);
        assert!(!v["differences"].as_array().unwrap().is_empty());
    }
}

/// What `cite QUOTE` prints on the terminal for the Federalist, words only,
/// with an index folder of its own.
fn cite_text(quote: &str) -> String {
    let index = tempfile::tempdir().unwrap();
    let out = cli::citebot()
        .args([
            "cite",
            "--corpus",
            crate::support::paths::corpus_arg("federalist"),
            "--index",
        ])
        .arg(index.path())
        .arg(quote)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn verdict(v: &Value) -> &str {
    v["verdict"].as_str().unwrap()
}

fn original(v: &Value) -> &str {
    v["match"]["original"].as_str().unwrap()
}

#[test]
fn seed_corpus_verdicts() {
    let quotes = [
        "Xi prefers other countries to be attracted to China, not afraid of it.",
        "XI JINPING’S STRONGMAN LEADERSHIP",
        "xi jinping's strongman leadership",
        "“the one country that can make or break China”",
        "what it most fears - a return to the politics of containment",
        "chairman of everything",
        "The military and police answer only to him. He has purged his Party rivals",
        "Xi wants China to be respected as a world power",
        "\"Relying on military deterrence and sanctions without negotiations will only harden Xi's position\"",
        "China will never negotiate with the United States",
        "Xi Jinping wants to dominate Asia through military force alone",
        "The best pizza topping is pineapple",
    ];
    let r = cite_batch(None, &quotes);

    // Exact: case, quote marks, apostrophes, dashes and whitespace are ignored.
    assert_eq!(verdict(&r[0]), "exact");
    assert_eq!(
        original(&r[0]),
        "Xi prefers other countries to be attracted to China, not afraid of it"
    );
    assert_eq!(r[0]["match"]["paragraph"], 6);
    assert_eq!(r[0]["match"]["author"], "Susan Shirk");
    for v in &r[1..3] {
        assert_eq!(verdict(v), "exact");
        assert_eq!(original(v), "Xi Jinping’s strongman leadership");
        assert_eq!(v["match"]["paragraph"], 2);
    }
    assert_eq!(verdict(&r[3]), "exact");
    assert_eq!(
        original(&r[3]),
        "the one country that can make or break China"
    );
    assert_eq!(verdict(&r[4]), "exact");
    assert_eq!(
        original(&r[4]),
        "what it most fears—a return to the politics of containment"
    );
    // A fragment, and a quote across two sentences.
    assert_eq!(original(&r[5]), "chairman of everything");
    assert_eq!(verdict(&r[6]), "exact");
    assert_eq!(
        original(&r[6]),
        "The military and police answer only to him. He has purged his Party rivals"
    );

    // Misquotes: the original wording and exactly what differs.
    assert_eq!(verdict(&r[7]), "close");
    assert_eq!(
        original(&r[7]),
        "Xi wants China to be respected as a global power"
    );
    assert_eq!(
        r[7]["differences"],
        json!([{"said": "world", "original": "global"}])
    );
    assert_eq!(verdict(&r[8]), "close");
    assert_eq!(
        original(&r[8]),
        "Relying solely on military deterrence and sanctions without negotiations will only harden Xi’s stance"
    );
    assert_eq!(
        r[8]["differences"],
        json!([{"said": "on", "original": "solely on"}, {"said": "position", "original": "stance"}])
    );

    // Invented quotes, on the topic or not, are not found.
    for v in &r[9..] {
        assert_eq!(verdict(v), "not_found", "{v}");
    }

    // The link lands on the original words.
    let link = r[7]["match"]["link"].as_str().unwrap();
    assert_eq!(
        link,
        "https://time.com/6222513/china-xi-jinping-diplomacy/#:~:text=Xi%20wants%20China%20to%20be%20respected%20as%20a%20global%20power"
    );
}

#[test]
fn federalist_verdicts() {
    let quotes = [
        "If men were angels, no government would be necessary.",
        "If all men were angels, no government would be needed",
        "Ambition must be made to check ambition",
        "the accumulation of all powers, legislative, executive, and judiciary, in the same hands",
        "But what is government itself, but the greatest of all reflections on human nature? If men were angels, no government would be necessary.",
        "The price of liberty is eternal vigilance",
        "A government of the people, by the people, for the people",
        "Factions are the natural enemy of every free republic and must be abolished",
    ];
    let r = cite_batch(
        Some(crate::support::paths::corpus_arg("federalist")),
        &quotes,
    );
    assert_eq!(verdict(&r[0]), "exact");
    assert_eq!(
        original(&r[0]),
        "If men were angels, no government would be necessary"
    );
    assert_eq!(r[0]["match"]["essay_id"], "federalist-51");
    assert_eq!(r[0]["match"]["paragraph"], 4);
    assert_eq!(r[0]["match"]["author"], "James Madison");
    assert_eq!(r[0]["match"]["link"], Value::Null, "no URL, no link");

    // The famous misquote of Federalist No. 51.
    assert_eq!(verdict(&r[1]), "close");
    assert_eq!(
        original(&r[1]),
        "If men were angels, no government would be necessary"
    );
    assert_eq!(
        r[1]["differences"],
        json!([{"said": "all men", "original": "men"}, {"said": "needed", "original": "necessary"}])
    );
    assert_eq!(verdict(&r[2]), "close");
    assert_eq!(
        original(&r[2]),
        "Ambition must be made to counteract ambition"
    );
    assert_eq!(
        r[2]["differences"],
        json!([{"said": "check", "original": "counteract"}])
    );

    assert_eq!(verdict(&r[3]), "exact");
    assert_eq!(
        original(&r[3]),
        "The accumulation of all powers, legislative, executive, and judiciary, in the same hands"
    );
    assert_eq!(r[3]["match"]["essay_id"], "federalist-47");
    assert_eq!(verdict(&r[4]), "exact");
    assert!(original(&r[4]).starts_with("But what is government itself"));
    assert!(original(&r[4]).ends_with("no government would be necessary"));
    for v in &r[5..] {
        assert_eq!(verdict(v), "not_found", "{v}");
    }
}

#[test]
fn hostile_quotes_never_panic() {
    let long = "ambition ".repeat(1200);
    let quotes = [
        "",
        "*",
        "title:[a TO",
        "<b>unclosed",
        long.trim(),
        "🙂 🙃",
        "\u{1}\u{1b}[31m",
    ];
    for v in cite_batch(
        Some(crate::support::paths::corpus_arg("federalist")),
        &quotes,
    ) {
        assert_eq!(verdict(&v), "not_found", "{v}");
    }
}

#[test]
fn a_lone_word_is_not_placed_but_a_rare_two_word_phrase_is() {
    let quotes = [
        "the",
        "Ambition",
        "of the",
        "Hamilton said “liberty”",
        "parchment barriers",
    ];
    let r = cite_batch(
        Some(crate::support::paths::corpus_arg("federalist")),
        &quotes,
    );
    for v in &r[..4] {
        assert_eq!(verdict(v), "not_found", "{v}");
    }
    assert_eq!(verdict(&r[4]), "exact", "{}", r[4]);
    assert_eq!(r[4]["match"]["essay_id"], "federalist-48");
    let text = cite_text("Ambition");
    assert!(
        text.contains("❌ Not found: one word, or words like “of the”"),
        "{text}"
    );
}

#[test]
fn terminal_output_shows_verdict_original_differences_and_citation() {
    let text = cite_text("If all men were angels, no government would be needed");
    assert!(text.contains("≈ Close"), "{text}");
    assert!(
        text.contains("Original: “If men were angels, no government would be necessary”"),
        "{text}"
    );
    assert!(text.contains("“all men” → “men”"), "{text}");
    assert!(
        text.contains("James Madison, “The Federalist No. 51"),
        "{text}"
    );
    assert!(text.contains("¶4"), "{text}");
}

#[test]
fn quotations_inside_messages_elisions_and_attribution() {
    let r = cite_batch(
        None,
        &[
            "Romberg wrote that no country has a monopoly on wisdom about how to achieve these goals",
        ],
    );
    assert_eq!(verdict(&r[0]), "close");
    assert_eq!(
        r[0]["quoted"],
        "no country has a monopoly on wisdom about how to achieve these goals"
    );
    assert_eq!(
        original(&r[0]),
        "No country has a monopoly on the wisdom on how to achieve them"
    );
    assert!(
        !r[0]["differences"].to_string().contains("Romberg"),
        "{}",
        r[0]
    );
    assert_eq!(
        r[0]["attribution"],
        json!({"named": "Romberg", "author": "Alan D. Romberg", "correct": true})
    );

    let r = cite_batch(
        Some(crate::support::paths::corpus_arg("federalist")),
        &[
            "By a faction, I understand a number of citizens who are united by some common impulse of passion",
            "the accumulation of all powers … in the same hands … may justly be pronounced the very definition of tyranny",
            "Madison wrote that energy in the executive is a leading character in the definition of good government",
            "If men were angels, no government would be necessary",
        ],
    );
    // An unmarked elision: close, the skipped words as one difference.
    assert_eq!(verdict(&r[0]), "close");
    assert_eq!(r[0]["elided"], true);
    assert_eq!(
        r[0]["differences"][0],
        json!({"said": "citizens who", "original": "citizens, whether amounting to a majority or a minority of the whole, who"})
    );
    // Written elisions, every piece exact.
    assert_eq!(verdict(&r[1]), "exact");
    assert_eq!(r[1]["elided"], true);
    assert!(original(&r[1]).starts_with("The accumulation of all powers, legislative"));
    assert!(original(&r[1]).ends_with("the very definition of tyranny"));
    // A misattribution.
    assert_eq!(verdict(&r[2]), "exact");
    assert_eq!(r[2]["match"]["essay_id"], "federalist-70");
    assert_eq!(
        r[2]["attribution"],
        json!({"named": "Madison", "author": "Alexander Hamilton", "correct": false})
    );
    // No one named, nothing left out.
    assert_eq!(r[3]["attribution"], Value::Null);
    assert_eq!(r[3]["elided"], false);
    assert_eq!(r[3]["quoted"], r[3]["query"]);
}

#[test]
fn terminal_output_shows_the_attribution_in_one_line() {
    let text = cite_text(
        "As Madison said, energy in the executive is a leading character in the definition of good government",
    );
    assert!(text.contains("✅ Exact quote"), "{text}");
    assert!(
        text.contains("\n  Not Madison: Alexander Hamilton, The Federalist No. 70"),
        "{text}"
    );
    assert!(
        text.contains("Checked: “energy in the executive is a leading character"),
        "{text}"
    );
}

/// An unmarked elision written from a corpus: the quote, how its original
/// starts and ends, and the elision differences expected (the words on both
/// sides of each skipped run, against the original from one to the other;
/// "…" marks where a long run is shortened).
struct Elision {
    /// A corpus in `../shared/corpora` by name; `None`: the shipped one.
    corpus: Option<&'static str>,
    quote: &'static str,
    starts: &'static str,
    ends: &'static str,
    differences: &'static [(&'static str, &'static str)],
}

const ELISIONS: &[Elision] = &[
    // The example: two runs left out of one sentence, the second
    // longer than the words quoted after it, and "is" for "may justly be
    // pronounced".
    Elision {
        corpus: Some("federalist"),
        quote: "the accumulation of all powers in the same hands is the very definition of tyranny",
        starts: "The accumulation of all powers, legislative",
        ends: "may justly be pronounced the very definition of tyranny",
        differences: &[
            (
                "powers in",
                "powers, legislative, executive, and judiciary, in",
            ),
            (
                "hands is the",
                "hands, whether of one, a few, or many … appointed, or elective, may justly be pronounced the",
            ),
        ],
    },
    // A whole sentence left out between two others of one paragraph.
    Elision {
        corpus: Some("federalist"),
        quote: "If men were angels, no government would be necessary. In framing a government which is to be administered by men over men, the great difficulty lies in this",
        starts: "If men were angels",
        ends: "the great difficulty lies in this",
        differences: &[(
            "necessary. In",
            "necessary. If angels were to govern men, neither … internal controls on government would be necessary. In",
        )],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "The provision for defense must be made commensurate to the danger of attack.",
        starts: "The provision for defense must in this",
        ends: "commensurate to the danger of attack",
        differences: &[("must be", "must in this, as in all other cases, be")],
    },
    // The shipped seed corpus: a run longer than the quote, across a
    // sentence boundary.
    Elision {
        corpus: None,
        quote: "Xi has made himself chairman of everything. The military and police answer only to him.",
        starts: "Xi has made himself chairman of everything, consolidating",
        ends: "The military and police answer only to him",
        differences: &[(
            "everything. The",
            "everything, consolidating agencies in every sector, from the … and putting them under his personal command. The",
        )],
    },
    // The seeds as plain text.
    Elision {
        corpus: Some("seeds"),
        quote: "Xi wants China to be respected as a global power by virtue of its large and talented population",
        starts: "Xi wants China to be respected as a global power, as well",
        ends: "its large and talented population",
        differences: &[("power by", "power, as well it should be, by")],
    },
    Elision {
        corpus: Some("seeds"),
        quote: "No country has a monopoly on the wisdom on how to achieve them. When those countries are huge, as the United States and China are, the consequences can be enormous.",
        starts: "No country has a monopoly",
        ends: "the consequences can be enormous",
        differences: &[(
            "them. When",
            "them. And in an increasingly interconnected world, it … will rub up against those of another. When",
        )],
    },
    // Emerson, Mill and Thoreau.
    Elision {
        corpus: Some("essays"),
        quote: "A foolish consistency is the hobgoblin of little minds. To be great is to be misunderstood.",
        starts: "A foolish consistency is the hobgoblin of little minds, adored",
        ends: "To be great is to be misunderstood",
        differences: &[(
            "minds. To",
            "minds, adored by little statesmen and philosophers and … and wise spirit that ever took flesh. To",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "the only purpose for which power can be rightfully exercised over any member is to prevent harm to others",
        starts: "the only purpose for which power",
        ends: "is to prevent harm to others",
        differences: &[(
            "member is",
            "member of a civilised community, against his will, is",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "The government itself is equally liable to be abused and perverted before the people can act through it",
        starts: "The government itself, which is only the mode",
        ends: "before the people can act through it",
        differences: &[(
            "itself is",
            "itself, which is only the mode which the people have chosen to execute their will, is",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "Government is at best but an expedient. The standing army is only an arm of the standing government.",
        starts: "Government is at best but an expedient; but most",
        ends: "The standing army is only an arm of the standing government",
        differences: &[(
            "expedient. The",
            "expedient; but most governments are usually, and all … last be brought against a standing government. The",
        )],
    },
];

/// The differences of a cite result, as (said, original) pairs.
fn differences_of(v: &Value) -> Vec<(String, String)> {
    v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let side = |k: &str| d[k].as_str().unwrap().to_string();
            (side("said"), side("original"))
        })
        .collect()
}

/// Unmarked elisions with a short side: one or two words of the quote
/// before the skipped run (its first words, or before a change and a
/// longer run), or its last words alone after it; several skip more words
/// than the quote has on that side.
const SHORT_SIDES: &[Elision] = &[
    Elision {
        corpus: Some("federalist"),
        quote: "the judiciary will always be the least dangerous to the political rights of the Constitution",
        starts: "the judiciary, from the nature of its functions",
        ends: "the political rights of the Constitution",
        differences: &[(
            "judiciary will",
            "judiciary, from the nature of its functions, will",
        )],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "the judiciary will forever be the least dangerous to the political rights of the Constitution",
        starts: "the judiciary, from the nature of its functions",
        ends: "the political rights of the Constitution",
        differences: &[
            (
                "judiciary will",
                "judiciary, from the nature of its functions, will",
            ),
            ("forever", "always"),
        ],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "An insurrection eventually endangers all government",
        starts: "An insurrection, whatever may be",
        ends: "eventually endangers all government",
        differences: &[(
            "insurrection eventually",
            "insurrection, whatever may be its immediate cause, eventually",
        )],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "the moment a cause of difference sprang up, it failed",
        starts: "the moment a cause of difference sprang up, capable",
        ends: "its strength, it failed",
        differences: &[("up, it", "up, capable of trying its strength, it")],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "The public business must go forward.",
        starts: "The public business must, in some way",
        ends: "or other, go forward",
        differences: &[("must go", "must, in some way or other, go")],
    },
    Elision {
        corpus: Some("federalist"),
        quote: "there is no process of a court by which the observance of the laws can be enforced",
        starts: "there is no process of a court",
        ends: "can, in the last resort, be enforced",
        differences: &[("can be", "can, in the last resort, be")],
    },
    Elision {
        corpus: Some("essays"),
        quote: "Prayer that craves a particular commodity is vicious",
        starts: "Prayer that craves a particular commodity, any",
        ends: "all good, is vicious",
        differences: &[(
            "commodity is",
            "commodity, any thing less than all good, is",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "Before the immense possibilities of man all mere experience shrinks away",
        starts: "Before the immense possibilities of man all mere experience, all",
        ends: "spotless and sainted, shrinks away",
        differences: &[(
            "experience shrinks",
            "experience, all past biography, however spotless and sainted, shrinks",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "if any opinion is compelled to silence, that opinion may be true",
        starts: "if any opinion is compelled to silence",
        ends: "for aught we can certainly know, be true",
        differences: &[("may be", "may, for aught we can certainly know, be")],
    },
    Elision {
        corpus: Some("essays"),
        quote: "Her chronicles inform us when her wild animals became extinct",
        starts: "Her chronicles inform us when her wild animals, but",
        ends: "the wild man in her, became extinct",
        differences: &[(
            "animals became",
            "animals, but not when the wild man in her, became",
        )],
    },
    Elision {
        corpus: Some("essays"),
        quote: "The preacher unfolded in the ordinary manner the doctrine of the Last Judgment",
        starts: "The preacher, a man esteemed",
        ends: "the doctrine of the Last Judgment",
        differences: &[(
            "preacher unfolded",
            "preacher, a man esteemed for his orthodoxy, unfolded",
        )],
    },
    Elision {
        corpus: Some("seeds"),
        quote: "Our Ambassador remains unable to meet anyone higher than a Vice Foreign Minister",
        starts: "Our Ambassador in Beijing, veteran diplomat",
        ends: "higher than a Vice Foreign Minister",
        differences: &[(
            "Ambassador remains",
            "Ambassador in Beijing, veteran diplomat Nicholas Burns, remains",
        )],
    },
    Elision {
        corpus: Some("seeds"),
        quote: "Strategic dialogues also are invaluable for exploring areas of convergence and divergence",
        starts: "Strategic dialogues for sharing perspectives",
        ends: "areas of convergence and divergence",
        differences: &[(
            "dialogues also",
            "dialogues for sharing perspectives on foreign policy hotspots … the world, with no scripted talking points, also",
        )],
    },
    Elision {
        corpus: Some("seeds"),
        quote: "Xi wants China to be respected as a global power by virtue of its unique history",
        starts: "Xi wants China to be respected as a global power, as well",
        ends: "centrality in Asia, and unique history",
        differences: &[
            ("power by", "power, as well it should be, by"),
            (
                "its unique",
                "its large and talented population, geographic scale, centrality in Asia, and unique",
            ),
        ],
    },
];

#[test]
fn silently_shortened_quotes_span_the_whole_original() {
    check_elisions(ELISIONS);
}

#[test]
fn a_short_side_of_a_silent_skip_still_spans_the_whole_original() {
    check_elisions(SHORT_SIDES);
}

/// Cites each case, one batch per corpus, and checks its verdict, original
/// and differences.
fn check_elisions(elisions: &[Elision]) {
    let mut corpora: Vec<Option<&str>> = elisions.iter().map(|e| e.corpus).collect();
    corpora.dedup();
    for corpus in corpora {
        let cases: Vec<&Elision> = elisions.iter().filter(|e| e.corpus == corpus).collect();
        let quotes: Vec<&str> = cases.iter().map(|e| e.quote).collect();
        for (case, v) in cases.iter().zip(cite_batch(
            corpus.map(crate::support::paths::corpus_arg),
            &quotes,
        )) {
            assert_eq!(verdict(&v), "close", "{v}");
            assert_eq!(v["elided"], true, "{v}");
            let original = original(&v);
            assert!(
                original.starts_with(case.starts) && original.ends_with(case.ends),
                "{original:?} for {:?}",
                case.quote
            );
            let expected: Vec<(String, String)> = case
                .differences
                .iter()
                .map(|&(s, o)| (s.to_string(), o.to_string()))
                .collect();
            assert_eq!(differences_of(&v), expected, "{}", case.quote);
        }
    }
}

#[test]
fn every_common_attribution_frame_is_read() {
    let attribution = |named: &str, author: &str, correct: bool| json!({"named": named, "author": author, "correct": correct});
    let r = cite_batch(
        None,
        &["As Romberg put it: \"China is a big country and other countries are small countries\""],
    );
    assert_eq!(verdict(&r[0]), "exact", "{}", r[0]);
    assert_eq!(
        r[0]["quoted"],
        "China is a big country and other countries are small countries"
    );
    assert_eq!(
        r[0]["attribution"],
        attribution("Romberg", "Alan D. Romberg", true)
    );

    let essays = [
        "Thoreau: \"That government is best which governs least\"",
        "“That government is best which governs least” — Emerson",
        "In Emerson's words, a foolish consistency is the hobgoblin of little minds",
        "A foolish consistency is the hobgoblin of little minds, as Thoreau put it",
        "As Thoreau put it: \"every citizen must obey the law of the land without question\"",
    ];
    let r = cite_batch(Some(crate::support::paths::corpus_arg("essays")), &essays);
    let thoreau = "Henry David Thoreau";
    let emerson = "Ralph Waldo Emerson";
    assert_eq!(r[0]["attribution"], attribution("Thoreau", thoreau, true));
    assert_eq!(r[1]["attribution"], attribution("Emerson", thoreau, false));
    assert_eq!(r[2]["attribution"], attribution("Emerson", emerson, true));
    assert_eq!(r[3]["attribution"], attribution("Thoreau", emerson, false));
    for v in &r[..4] {
        assert_eq!(verdict(v), "exact", "{v}");
    }
    // An invented claim named after someone stays unplaced and unattributed.
    assert_eq!(verdict(&r[4]), "not_found", "{}", r[4]);
    assert_eq!(r[4]["attribution"], Value::Null);

    let federalist = [
        "In Hamilton's words, energy in the executive is a leading character in the definition of good government",
        "Madison once wrote, \"Ambition must be made to counteract ambition\"",
        "\"Ambition must be made to counteract ambition\" (Hamilton, Federalist 51)",
    ];
    let r = cite_batch(
        Some(crate::support::paths::corpus_arg("federalist")),
        &federalist,
    );
    assert_eq!(
        r[0]["attribution"],
        attribution("Hamilton", "Alexander Hamilton", true)
    );
    assert_eq!(
        r[1]["attribution"],
        attribution("Madison", "James Madison", true)
    );
    assert_eq!(
        r[2]["attribution"],
        attribution("Hamilton", "James Madison", false)
    );
    for v in &r {
        assert_eq!(verdict(v), "exact", "{v}");
    }
    let text = cite_text("\"Ambition must be made to counteract ambition\" — Hamilton");
    assert!(
        text.contains("\n  Not Hamilton: James Madison, The Federalist No. 51"),
        "{text}"
    );
}
