//! Tests of the aligner through its entry points, on Federalist No. 51 and hostile input.

use super::*;
use crate::answer::Difference;

const FED51_ANGELS: &str = "But what is government itself, but the greatest of all reflections on human nature? If men were angels, no government would be necessary. If angels were to govern men, neither external nor internal controls on government would be necessary. In framing a government which is to be administered by men over men, the great difficulty lies in this: you must first enable the government to control the governed; and in the next place oblige it to control itself.";

const FED51_AMBITION: &str = "Ambition must be made to counteract ambition. The interest of the man must be connected with the constitutional rights of the place.";

/// A longer real paragraph (Federalist No. 51) for the substring and timing tests.
const FED51_PARAGRAPH: &str = "But the great security against a gradual concentration of the several powers in the same department, consists in giving to those who administer each department the necessary constitutional means and personal motives to resist encroachments of the others. The provision for defense must in this, as in all other cases, be made commensurate to the danger of attack. Ambition must be made to counteract ambition. The interest of the man must be connected with the constitutional rights of the place. It may be a reflection on human nature, that such devices should be necessary to control the abuses of government. But what is government itself, but the greatest of all reflections on human nature? If men were angels, no government would be necessary. If angels were to govern men, neither external nor internal controls on government would be necessary. In framing a government which is to be administered by men over men, the great difficulty lies in this: you must first enable the government to control the governed; and in the next place oblige it to control itself. A dependence on the people is, no doubt, the primary control on the government; but experience has taught mankind the necessity of auxiliary precautions.";

fn diff(said: &str, original: &str) -> Difference {
    Difference {
        said: said.to_string(),
        original: original.to_string(),
    }
}

fn check(quote: &str, passage: &str) -> (Alignment, String) {
    let a = align(quote, passage).expect("alignment");
    let span = passage[a.span.clone()].to_string();
    assert!(
        (0.0..=1.0).contains(&a.similarity),
        "similarity out of range: {a:?}"
    );
    (a, span)
}

fn assert_exact(quote: &str, passage: &str, expected_span: &str) {
    let (a, span) = check(quote, passage);
    assert_eq!(span, expected_span, "{a:?}");
    assert!(a.exact, "{a:?}");
    assert_eq!(a.similarity, 1.0);
    assert!(a.differences.is_empty());
    assert_eq!(a.matched, words(quote).len());
}

fn assert_close(quote: &str, passage: &str, expected_span: &str, expected: &[Difference]) -> f32 {
    let (a, span) = check(quote, passage);
    assert_eq!(span, expected_span, "{a:?}");
    assert!(!a.exact, "{a:?}");
    assert_eq!(a.differences, expected, "{a:?}");
    assert!(a.similarity < 1.0);
    assert!(
        a.similarity >= CLOSE_THRESHOLD,
        "similarity {} below threshold for {quote:?}",
        a.similarity
    );
    assert!(a.is_close());
    eprintln!("close {:.3}: {quote}", a.similarity);
    a.similarity
}

fn assert_not_found(quote: &str, passage: &str) -> f32 {
    match align(quote, passage) {
        None => 0.0,
        Some(a) => {
            assert!(!a.exact, "{a:?}");
            assert!(
                a.similarity < CLOSE_THRESHOLD,
                "similarity {} for {quote:?}: {a:?}",
                a.similarity
            );
            assert!(!a.is_close());
            eprintln!("not found {:.3}: {quote}", a.similarity);
            a.similarity
        }
    }
}

#[test]
fn tokenises_words() {
    let w = words("“Don’t” self-inflicted fears—a return… CAFÉ nation's 'tis");
    let norms: Vec<&str> = w.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        norms,
        [
            "don't",
            "self",
            "inflicted",
            "fears",
            "a",
            "return",
            "cafe",
            "nation's",
            "tis"
        ]
    );
    let text = "“Don’t” self-inflicted";
    let w = words(text);
    assert_eq!(&text[w[0].1.clone()], "Don’t");
    assert_eq!(normalize("Self‑inflicted — FEARS"), "self inflicted fears");
    // Decomposed accents fold the same as precomposed ones.
    assert_eq!(normalize("cafe\u{301} Café"), "cafe cafe");
    assert!(words("").is_empty());
    assert!(words("… — “” !!").is_empty());
}

#[test]
fn exact_full_sentence() {
    assert_exact(
        "If men were angels, no government would be necessary.",
        FED51_ANGELS,
        "If men were angels, no government would be necessary",
    );
}

#[test]
fn exact_different_case() {
    assert_exact(
        "AMBITION must be made to counteract ambition",
        FED51_AMBITION,
        "Ambition must be made to counteract ambition",
    );
    assert_exact("if MEN were Angels", FED51_ANGELS, "If men were angels");
}

#[test]
fn exact_curly_and_straight_quotes() {
    let passage = "Beijing has noticed. “Xi Jinping’s strongman leadership,” one analyst wrote, “is the story of the decade.”";
    assert_exact(
        "\"Xi Jinping's strongman leadership\"",
        passage,
        "Xi Jinping’s strongman leadership",
    );
    assert_exact(
        "‘xi jinping‘s strongman leadership, one analyst wrote, is the story’",
        passage,
        "Xi Jinping’s strongman leadership,” one analyst wrote, “is the story",
    );
    // An apostrophe left out is punctuation too.
    assert_exact(
        "Xi Jinpings strongman leadership",
        passage,
        "Xi Jinping’s strongman leadership",
    );
}

#[test]
fn exact_with_dashes() {
    let passage = "Beijing is getting what it most fears—a return to the politics of containment. Nobody wanted that.";
    assert_exact(
        "what it most fears - a return to the politics of containment",
        passage,
        "what it most fears—a return to the politics of containment",
    );
    assert_exact(
        "what it most fears – a return to the politics of containment",
        passage,
        "what it most fears—a return to the politics of containment",
    );
    assert_exact(
        "what it most fears -- a return",
        passage,
        "what it most fears—a return",
    );
    // Hyphenated and spaced compounds are the same words.
    assert_exact(
        "a self inflicted wound",
        "It was a self-inflicted wound.",
        "a self-inflicted wound",
    );
}

#[test]
fn exact_ignores_surrounding_quotes_and_ellipses() {
    assert_exact(
        "“…the greatest of all reflections on human nature...”",
        FED51_ANGELS,
        "the greatest of all reflections on human nature",
    );
    assert_exact(
        "'... If men were angels …'",
        FED51_ANGELS,
        "If men were angels",
    );
}

#[test]
fn exact_fragment() {
    let passage = "Of all the threats to the republic, faction is the most dangerous and the least understood.";
    assert_exact("the most dangerous", passage, "the most dangerous");
    assert_exact("faction", passage, "faction");
}

#[test]
fn short_fragment_with_one_change() {
    let passage = "Of all the threats to the republic, faction is the most dangerous and the least understood.";
    let s = assert_close(
        "faction is the most perilous",
        passage,
        "faction is the most dangerous",
        &[diff("perilous", "dangerous")],
    );
    assert!((s - 0.8).abs() < 1e-6, "{s}");
    let s = assert_close(
        "the most perilous",
        passage,
        "the most dangerous",
        &[diff("perilous", "dangerous")],
    );
    assert!((s - 4.0 / 6.0).abs() < 1e-6, "{s}");
}

#[test]
fn exact_across_sentences() {
    assert_exact(
        "no government would be necessary. If angels were to govern men",
        FED51_ANGELS,
        "no government would be necessary. If angels were to govern men",
    );
    assert_exact(
        "ambition. The interest of the man",
        FED51_AMBITION,
        "ambition. The interest of the man",
    );
}

#[test]
fn span_excludes_trailing_punctuation_but_keeps_internal_apostrophes() {
    let passage = "It was the nation’s. Then: “the nation’s ‘destiny’.”";
    assert_exact("the nation's destiny", passage, "the nation’s ‘destiny");
    let passage = "the dogs’ bowls were empty.";
    // A trailing apostrophe is a quote mark, not part of the word.
    assert_exact("the dogs", passage, "the dogs");
}

#[test]
fn federalist_misquote_all_men_needed() {
    let s = assert_close(
        "If all men were angels, no government would be needed",
        FED51_ANGELS,
        "If men were angels, no government would be necessary",
        &[diff("all men", "men"), diff("needed", "necessary")],
    );
    assert!((s - 16.0 / 19.0).abs() < 1e-6, "{s}");
    let a = align(
        "If all men were angels, no government would be needed",
        FED51_ANGELS,
    )
    .unwrap();
    assert_eq!(a.matched, 8);
}

#[test]
fn federalist_misquote_check_ambition() {
    let s = assert_close(
        "Ambition must be made to check ambition",
        FED51_AMBITION,
        "Ambition must be made to counteract ambition",
        &[diff("check", "counteract")],
    );
    assert!((s - 12.0 / 14.0).abs() < 1e-6, "{s}");
    // The same against the whole paragraph.
    assert_close(
        "\"Ambition must be made to check ambition.\"",
        FED51_PARAGRAPH,
        "Ambition must be made to counteract ambition",
        &[diff("check", "counteract")],
    );
}

#[test]
fn word_substituted() {
    assert_close(
        "you must first enable the government to rule the governed",
        FED51_ANGELS,
        "you must first enable the government to control the governed",
        &[diff("rule", "control")],
    );
}

#[test]
fn word_inserted() {
    assert_close(
        "you must first enable the government to control all the governed",
        FED51_ANGELS,
        "you must first enable the government to control the governed",
        &[diff("all the", "the")],
    );
    // Inserted at the very end: anchored by the preceding word.
    assert_close(
        "you must first enable the government to control the governed people",
        FED51_ANGELS,
        "you must first enable the government to control the governed",
        &[diff("governed people", "governed")],
    );
    // Inserted at the very start: anchored by the following word.
    assert_close(
        "So you must first enable the government to control the governed",
        FED51_ANGELS,
        "you must first enable the government to control the governed",
        &[diff("So you", "you")],
    );
}

#[test]
fn word_dropped() {
    assert_close(
        "If men were angels, government would be necessary",
        FED51_ANGELS,
        "If men were angels, no government would be necessary",
        &[diff("government", "no government")],
    );
    assert_close(
        "the great difficulty lies in this: you must enable the government to control the governed",
        FED51_ANGELS,
        "the great difficulty lies in this: you must first enable the government to control the governed",
        &[diff("enable", "first enable")],
    );
}

#[test]
fn inflection_is_a_difference_with_partial_credit() {
    let (a, span) = check(
        "If men were angels, no governments would be necessary",
        FED51_ANGELS,
    );
    assert_eq!(span, "If men were angels, no government would be necessary");
    assert!(!a.exact);
    assert_eq!(a.differences, [diff("governments", "government")]);
    assert_eq!(a.matched, 8);
    assert!((a.similarity - 17.0 / 18.0).abs() < 1e-6, "{a:?}");
}

#[test]
fn several_changes() {
    let s = assert_close(
        "In framing a government to be run by men over men, the great problem lies in this",
        FED51_ANGELS,
        "In framing a government which is to be administered by men over men, the great difficulty lies in this",
        &[
            diff("to", "which is to"),
            diff("run", "administered"),
            diff("problem", "difficulty"),
        ],
    );
    assert!(s > 0.7 && s < 0.85, "{s}");
}

#[test]
fn adjacent_changes_merge_into_one_difference() {
    assert_close(
        "If men were angels, no state could ever be necessary",
        FED51_ANGELS,
        "If men were angels, no government would be necessary",
        &[diff("state could ever", "government would")],
    );
}

#[test]
fn paraphrase_keeping_most_wording_is_close() {
    let s = assert_close(
        "If angels governed men, neither external nor internal controls on government would be needed",
        FED51_ANGELS,
        "If angels were to govern men, neither external nor internal controls on government would be necessary",
        &[
            diff("governed", "were to govern"),
            diff("needed", "necessary"),
        ],
    );
    assert!(s > 0.75, "{s}");
    let s = assert_close(
        "You must first let the government control the governed, and then oblige it to control itself",
        FED51_ANGELS,
        "you must first enable the government to control the governed; and in the next place oblige it to control itself",
        &[
            diff("let", "enable"),
            diff("control", "to control"),
            diff("then", "in the next place"),
        ],
    );
    assert!(s < 0.85, "{s}");
}

#[test]
fn invented_quotes_on_the_same_topic_score_low() {
    let mut scores = Vec::new();
    for (quote, passage) in [
        (
            "The government must always fear the ambition of men",
            FED51_AMBITION,
        ),
        (
            "The government must always fear the ambition of men",
            FED51_ANGELS,
        ),
        (
            "The government must always fear the ambition of men",
            FED51_PARAGRAPH,
        ),
        (
            "Angels have no need of government, but men need it always",
            FED51_ANGELS,
        ),
        (
            "Power corrupts, and absolute power corrupts absolutely",
            FED51_PARAGRAPH,
        ),
        (
            "Every man's ambition is the enemy of the constitution",
            FED51_PARAGRAPH,
        ),
        ("check ambition", FED51_AMBITION),
    ] {
        scores.push(assert_not_found(quote, passage));
    }
    assert!(scores.iter().all(|&s| s <= 0.5), "{scores:?}");
}

#[test]
fn scattered_common_words_do_not_score_high() {
    // Every quote word occurs in the passage, but far apart and out of order.
    let s = assert_not_found(
        "government the men control necessary angels nature",
        FED51_ANGELS,
    );
    assert!(s < 0.5, "{s}");
}

#[test]
fn attribution_before_the_quote_stays_out_of_the_span() {
    let (a, span) = check("As Madison said, if men were angels", FED51_ANGELS);
    assert_eq!(span, "If men were angels");
    assert_eq!(a.differences, [diff("As Madison said, if", "If")]);
    let (a, span) = check(
        "no government would be necessary, said Madison",
        FED51_ANGELS,
    );
    assert_eq!(span, "no government would be necessary");
    assert_eq!(
        a.differences,
        [diff("necessary, said Madison", "necessary")]
    );
    // Within one sentence the words after the quote are taken as substitutions:
    // "said Madison" lines up with "no government".
    let (a, span) = check("if men were angels, said Madison", FED51_ANGELS);
    assert_eq!(span, "If men were angels, no government");
    assert_eq!(a.differences, [diff("said Madison", "no government")]);
}

#[test]
fn repeated_phrase_takes_the_earliest_best() {
    let passage =
        "the power of the people is the power of the state; the power of the people endures.";
    let (a, span) = check("the power of the people", passage);
    assert!(a.exact);
    assert_eq!(span, "the power of the people");
    assert_eq!(a.span.start, 0);
    // Best alignment beats an earlier, worse one.
    let passage = "the power of the state is the power of the people.";
    let (a, span) = check("the power of the people", passage);
    assert!(a.exact);
    assert_eq!(span, "the power of the people");
    assert_eq!(
        a.span.start,
        passage.find("the power of the people").unwrap()
    );
}

#[test]
fn every_verbatim_word_substring_is_exact() {
    let toks = words(FED51_PARAGRAPH);
    let n = toks.len();
    let mut checked = 0;
    for start in (0..n).step_by(7) {
        for len in [1usize, 2, 3, 5, 8, 13, 21, 40] {
            let end = start + len - 1;
            if end >= n {
                continue;
            }
            let expected = toks[start].1.start..toks[end].1.end;
            let quote = &FED51_PARAGRAPH[expected.clone()];
            let a = align(quote, FED51_PARAGRAPH).expect("alignment");
            assert!(a.exact, "{quote:?}: {a:?}");
            assert_eq!(a.similarity, 1.0);
            assert_eq!(a.matched, len);
            if a.span != expected {
                // Only allowed when the same words occur earlier.
                assert!(a.span.start < expected.start, "{quote:?}: {a:?}");
                assert_eq!(
                    normalize(&FED51_PARAGRAPH[a.span.clone()]),
                    normalize(quote)
                );
            } else {
                assert_eq!(&FED51_PARAGRAPH[a.span.clone()], quote);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn hostile_inputs_do_not_panic() {
    assert_eq!(align("", FED51_ANGELS), None);
    assert_eq!(align("  …!?“”—  ", FED51_ANGELS), None);
    assert_eq!(align("If men were angels", ""), None);
    assert_eq!(align("🙂🙂🙂", FED51_ANGELS), None);
    assert_eq!(align("zebra quokka", FED51_ANGELS), None);
    let a = align("If men 🙂 were\u{0}\u{7} angels\u{1b}", FED51_ANGELS).unwrap();
    assert!(a.exact, "{a:?}");
    assert_eq!(&FED51_ANGELS[a.span], "If men were angels");
    // Emoji and control characters in the passage.
    let passage = "🙂 If\u{0}men\u{200B}were angels 👼🏽, no\tgovernment";
    let a = align("if men were angels no government", passage).unwrap();
    assert!(a.exact);
    assert_eq!(
        &passage[a.span],
        "If\u{0}men\u{200B}were angels 👼🏽, no\tgovernment"
    );
    // Differences collapse control characters and whitespace.
    let a = align("if men were\n\n\u{7}devils no government", passage).unwrap();
    assert_eq!(a.differences, [diff("devils", "angels")]);
    // Enormous quotes.
    let huge = "men ".repeat(2_500);
    assert_eq!(align(&huge, FED51_ANGELS), None);
    let big: String = FED51_PARAGRAPH.chars().cycle().take(1_500).collect();
    let a = align(&big, FED51_PARAGRAPH).unwrap();
    assert!(a.similarity > 0.0);
    let huge_chars = "x".repeat(10_000);
    assert_eq!(align(&huge_chars, FED51_ANGELS), None);
    let a = align(FED51_ANGELS, &huge_chars);
    assert_eq!(a, None);
    // Odd Unicode: combining marks alone, Turkish dotted I, RTL text, lone apostrophes.
    for q in [
        "\u{301}\u{301}",
        "İstanbul",
        "ⅫⅫ ß",
        "שלום עולם",
        "' ’ ‘ ʼ",
        "a'",
        "'a",
        "\u{FEFF}If men",
    ] {
        let _ = align(q, FED51_ANGELS);
        let _ = align(FED51_ANGELS, q);
        let _ = align(q, q);
    }
    let a = align("İstanbul", "Welcome to İSTANBUL.").unwrap();
    assert!(a.exact);
    assert_eq!(&"Welcome to İSTANBUL."[a.span], "İSTANBUL");
}

#[test]
fn quote_longer_than_passage() {
    let (a, span) = check(
        "Ambition must be made to counteract ambition, wrote Madison in 1788",
        "Ambition must be made to counteract ambition.",
    );
    assert_eq!(span, "Ambition must be made to counteract ambition");
    assert!(!a.exact);
    assert_eq!(
        a.differences,
        [diff("ambition, wrote Madison in 1788", "ambition")]
    );
}

#[test]
fn written_elisions_are_found_on_char_boundaries() {
    let quote = "fire — an aliment … which... it [...] expires....";
    let cuts = written_elisions(quote);
    assert_eq!(cuts.len(), 4, "{cuts:?}");
    assert!(cuts.iter().all(|&c| quote.is_char_boundary(c)));
    assert!(written_elisions("a — b – c “d”").is_empty());
}

#[test]
fn written_elisions_align_piece_by_piece() {
    let a = align_pieces(
        "Ambition must be made … the constitutional rights of the place",
        &written_elisions("Ambition must be made … the constitutional rights of the place"),
        FED51_AMBITION,
    )
    .unwrap();
    assert!(a.exact, "{a:?}");
    assert_eq!(a.elided, Elided::Marked);
    assert_eq!(
        &FED51_AMBITION[a.span],
        FED51_AMBITION.trim_end_matches('.')
    );
    // Out of order: the pieces do not line up.
    let quote = "the constitutional rights of the place … Ambition must be made";
    assert!(align_pieces(quote, &written_elisions(quote), FED51_AMBITION).is_none());
}

#[test]
fn an_unmarked_elision_is_one_difference_with_both_neighbours() {
    let passage = "By a faction, I understand a number of citizens, whether amounting to a majority or a minority of the whole, who are united and actuated by some common impulse of passion, or of interest.";
    let a = align(
        "By a faction, I understand a number of citizens who are united by some common impulse of passion",
        passage,
    )
    .unwrap();
    assert!(!a.exact);
    assert_eq!(a.elided, Elided::Unmarked);
    assert!(a.is_close(), "{a:?}");
    assert_eq!(
        a.differences[0],
        diff(
            "citizens who",
            "citizens, whether amounting to a majority or a minority of the whole, who"
        )
    );
}

/// A silently skipped run with a short side: the quote's first or last two
/// words alone, or one or two words before a change and a longer run.
/// Each passage is the sentence as the corpus has it.
#[test]
fn an_unmarked_elision_may_have_a_short_side_within_its_sentence() {
    const FED78: &str = "Whoever attentively considers the different departments of power must perceive, that, in a government in which they are separated from each other, the judiciary, from the nature of its functions, will always be the least dangerous to the political rights of the Constitution; because it will be least in a capacity to annoy or injure them.";
    const FED19: &str = "Whatever efficacy the union may have had in ordinary cases, it appears that the moment a cause of difference sprang up, capable of trying its strength, it failed.";
    const SELF_RELIANCE: &str =
        "Prayer that craves a particular commodity, any thing less than all good, is vicious.";
    const SHIRK: &str = "Strategic dialogues for sharing perspectives on foreign policy hotspots throughout the world, with no scripted talking points, also are invaluable for exploring areas of convergence and divergence; these strategic dialogues also connote respect, which is highly valued by China.";
    const SHIRK_XI: &str = "Xi wants China to be respected as a global power, as well it should be, by virtue of its large and talented population, geographic scale, centrality in Asia, and unique history.";
    let cases: &[(&str, &str, &str, &[Difference])] = &[
        // The quote's first two words alone before the skip.
        (
            "the judiciary will always be the least dangerous to the political rights of the Constitution",
            FED78,
            "the judiciary, from the nature of its functions, will always be the least dangerous to the political rights of the Constitution",
            &[diff(
                "judiciary will",
                "judiciary, from the nature of its functions, will",
            )],
        ),
        // One word after the skip, then a changed word, then a longer run.
        (
            "the judiciary will forever be the least dangerous to the political rights of the Constitution",
            FED78,
            "the judiciary, from the nature of its functions, will always be the least dangerous to the political rights of the Constitution",
            &[
                diff(
                    "judiciary will",
                    "judiciary, from the nature of its functions, will",
                ),
                diff("forever", "always"),
            ],
        ),
        // The quote's last two words alone after the skip.
        (
            "the moment a cause of difference sprang up, it failed",
            FED19,
            "the moment a cause of difference sprang up, capable of trying its strength, it failed",
            &[diff("up, it", "up, capable of trying its strength, it")],
        ),
        (
            "Prayer that craves a particular commodity is vicious",
            SELF_RELIANCE,
            "Prayer that craves a particular commodity, any thing less than all good, is vicious",
            &[diff(
                "commodity is",
                "commodity, any thing less than all good, is",
            )],
        ),
        // A skip seven times longer than the words before it.
        (
            "Strategic dialogues also are invaluable for exploring areas of convergence and divergence",
            SHIRK,
            "Strategic dialogues for sharing perspectives on foreign policy hotspots throughout the world, with no scripted talking points, also are invaluable for exploring areas of convergence and divergence",
            &[diff(
                "dialogues also",
                "dialogues for sharing perspectives on foreign policy hotspots … the world, with no scripted talking points, also",
            )],
        ),
        // Two skips; the second longer than the two words after it.
        (
            "Xi wants China to be respected as a global power by virtue of its unique history",
            SHIRK_XI,
            "Xi wants China to be respected as a global power, as well it should be, by virtue of its large and talented population, geographic scale, centrality in Asia, and unique history",
            &[
                diff("power by", "power, as well it should be, by"),
                diff(
                    "its unique",
                    "its large and talented population, geographic scale, centrality in Asia, and unique",
                ),
            ],
        ),
    ];
    for &(quote, passage, span, expected) in cases {
        assert_close(quote, passage, span, expected);
        let a = align(quote, passage).unwrap();
        assert_eq!(a.elided, Elided::Unmarked, "{quote:?}: {a:?}");
        assert_eq!(
            a.matched,
            words(quote).len() - usize::from(quote.contains("forever"))
        );
    }
}

/// Two words found again in another sentence are not a side of an elision:
/// the quote's own end stays where it is.
#[test]
fn a_short_side_does_not_reach_into_another_sentence() {
    let (a, span) = check(
        "Ambition must be made to counteract the man",
        FED51_AMBITION,
    );
    assert_eq!(a.elided, Elided::No, "{a:?}");
    assert!(!span.contains("the man"), "{span:?}");
    let (a, span) = check("human nature oblige it to control itself", FED51_PARAGRAPH);
    assert_eq!(a.elided, Elided::No, "{a:?}");
    assert!(span.ends_with("oblige it to control itself"), "{span:?}");
    assert!(!span.contains("human nature"), "{span:?}");
}

proptest::proptest! {
    /// Any quote with any elision marks aligns, or not, without panicking, and keeps
    /// its invariants.
    #[test]
    fn any_elided_quote_aligns_within_bounds(q in "[a-zA-Z ,.…\\[\\]—]{0,60}|(men|angels|government|the|\\.\\.\\.|…| ){0,30}") {
        if let Some(a) = align_pieces(&q, &written_elisions(&q), FED51_PARAGRAPH) {
            proptest::prop_assert!((0.0..=1.0).contains(&a.similarity));
            proptest::prop_assert!(a.span.end <= FED51_PARAGRAPH.len());
            proptest::prop_assert_eq!(a.exact, a.differences.is_empty());
        }
    }
}
