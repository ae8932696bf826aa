//! Frames: the quotation inside a message, and who the message says wrote it.
//!
//! People rarely send a quote on its own: "Romberg wrote that …", "As
//! Hamilton said, …", "“…” — Madison", "… (Hamilton, Federalist 70)". [`frame`]
//! finds the quotation by these rules, in order, and the person named:
//!
//! 1. **Quote marks.** The longest stretch in “…”, "…", «…» or ‘…’ with at
//!    least [`MIN_QUOTED_WORDS`] words is the quotation; a name is looked for
//!    in the words outside it.
//! 2. **Attribution words before the quote**: `[as|like] NAME [adverb] VERB
//!    [it] [that]`, `according to|in the words of|to quote|quoting NAME`,
//!    `NAME:` or `NAME —`, possibly after an opening clause that ends in a
//!    comma ("In Federalist 10, Madison wrote that …"); and, with no name,
//!    `I|we|someone|they … VERB that` ("I read somewhere that …").
//! 3. **Attribution words after it**: `— NAME …`, `(NAME …)`, or a last
//!    clause `, [as] NAME VERB` / `, VERB NAME`.
//!
//! VERB is a word of saying or writing ([`SAYING`]); NAME is a run of one to
//! four capitalised words, without titles ("Mr.", "President") and never a
//! pronoun or "Federalist". What is left is the quotation. When the matched
//! words of the corpus cover only part of it, [`trim`] drops the clauses at
//! its ends that do not line up (commentary such as ", which is still true").

use std::ops::Range;

use crate::lookup::align;

/// A stretch in quote marks is the quotation when it has at least this many words.
pub const MIN_QUOTED_WORDS: usize = 3;

/// Words of saying and writing that attribute a quote ("Madison wrote …").
pub const SAYING: &[&str] = &[
    "said",
    "says",
    "say",
    "wrote",
    "writes",
    "write",
    "argued",
    "argues",
    "noted",
    "notes",
    "observed",
    "observes",
    "claimed",
    "claims",
    "warned",
    "warns",
    "declared",
    "declares",
    "insisted",
    "insists",
    "stated",
    "states",
    "explained",
    "explains",
    "put",
    "remarked",
    "asserted",
    "asserts",
    "believed",
    "believes",
    "thought",
    "thinks",
    "told",
    "tells",
    "reminded",
    "reminds",
    "quipped",
    "famously",
    "concluded",
    "concludes",
    "maintained",
    "maintains",
    "suggested",
    "suggests",
    "pointed",
    "cautioned",
    "puts",
    "saying",
    "writing",
    "called",
    "calls",
    "admitted",
    "admits",
    "acknowledged",
    "acknowledges",
    "conceded",
    "concedes",
    "added",
    "adds",
    "replied",
    "answered",
    "predicted",
    "predicts",
    "urged",
    "urges",
    "contended",
    "contends",
    "reasoned",
    "described",
    "describes",
];

/// Words a quote may be heard or read with when no one is named ("I read that …").
const HEARD: &[&str] = &[
    "read", "heard", "remember", "recall", "learned", "saw", "think", "believe",
];

/// Adverbs that may sit between a name and its verb ("Madison once wrote").
const ADVERBS: &[&str] = &[
    "once",
    "famously",
    "rightly",
    "wisely",
    "memorably",
    "also",
    "himself",
    "herself",
    "correctly",
    "really",
    "actually",
    "supposedly",
    "apparently",
    "allegedly",
    "even",
    "then",
    "later",
    "first",
    "best",
    "clearly",
];

/// Titles dropped from a name.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "professor",
    "president",
    "justice",
    "judge",
    "senator",
    "general",
    "sir",
    "saint",
    "st",
];

/// Capitalised words that are not names.
const NOT_NAMES: &[&str] = &[
    "i",
    "we",
    "you",
    "he",
    "she",
    "it",
    "they",
    "the",
    "this",
    "that",
    "someone",
    "somebody",
    "everyone",
    "everybody",
    "people",
    "federalist",
    "publius",
    "quoting",
    "according",
    "per",
    "as",
    "in",
    "and",
    "but",
    "so",
    "no",
    "if",
    "a",
    "an",
    "what",
    "who",
    "one",
    "there",
    "my",
    "our",
    "his",
    "her",
    "their",
    // Words that open a message before a colon without naming anyone.
    "remember",
    "note",
    "quote",
    "fact",
    "reminder",
    "truth",
    "lesson",
    "update",
    "edit",
    "psa",
    "important",
    "warning",
    "also",
    "again",
    "today",
    "listen",
    "look",
    "see",
    "read",
    "source",
    "tldr",
    "nb",
    "ps",
    "re",
    "fyi",
    "hot",
    "take",
    "great",
    "line",
    "favourite",
    "favorite",
];

/// The quotation found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed {
    /// Byte range of the quotation in the message.
    pub quote: Range<usize>,
    /// The person the message names as its author, as written.
    pub named: Option<String>,
}

/// One word of a message: its normalised form and its verbatim byte range.
struct Word {
    norm: String,
    span: Range<usize>,
}

/// The quotation in `message` and the person it is attributed to (see the
/// module documentation).
pub fn frame(message: &str) -> Framed {
    let words: Vec<Word> = align::words(message)
        .into_iter()
        .map(|(norm, span)| Word { norm, span })
        .collect();
    let whole = Framed {
        quote: trimmed(message, 0..message.len()),
        named: None,
    };
    if words.is_empty() {
        return whole;
    }
    if let Some(inside) = quoted_stretch(message) {
        let named = name_outside(message, &words, &inside);
        return Framed {
            quote: inside,
            named,
        };
    }
    let mut start = 0;
    let mut end = words.len();
    let mut named = None;
    if let Some((k, name)) = leading(message, &words) {
        start = k;
        named = name;
    }
    if let Some((k, name)) = trailing(message, &words[start..]) {
        end = start + k;
        named = named.or(name);
    }
    if start >= end {
        return whole;
    }
    Framed {
        quote: trimmed(message, words[start].span.start..words[end - 1].span.end),
        named,
    }
}

/// `range` of `text` without surrounding whitespace, quote marks, ellipses or
/// end punctuation before the first word and after the last.
fn trimmed(text: &str, range: Range<usize>) -> Range<usize> {
    let words = align::words(&text[range.clone()]);
    match (words.first(), words.last()) {
        (Some(a), Some(b)) => range.start + a.1.start..range.start + b.1.end,
        _ => range,
    }
}

/// Opening and closing quote marks.
const QUOTE_PAIRS: &[(char, char)] = &[('“', '”'), ('"', '"'), ('«', '»'), ('„', '“'), ('‘', '’')];

/// The longest stretch of `message` in quote marks with at least
/// [`MIN_QUOTED_WORDS`] words, when it leaves words outside.
fn quoted_stretch(message: &str) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    for &(open, close) in QUOTE_PAIRS {
        let mut from = 0;
        while let Some(o) = message[from..].find(open).map(|i| from + i) {
            let inner = o + open.len_utf8();
            // ‘ and ’ double as apostrophes: an opening one follows a non-letter,
            // a closing one is not followed by a letter.
            if open == '‘'
                && message[..o]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric)
            {
                from = inner;
                continue;
            }
            let Some(c) = find_close(message, inner, close) else {
                break;
            };
            let words = align::words(&message[inner..c]).len();
            if words >= MIN_QUOTED_WORDS && best.as_ref().is_none_or(|b| c - inner > b.len()) {
                best = Some(inner..c);
            }
            from = c + close.len_utf8();
        }
    }
    let best = best?;
    let outside =
        align::words(&message[..best.start]).len() + align::words(&message[best.end..]).len();
    (outside > 0).then(|| trimmed(message, best))
}

/// The closing quote mark `close` at or after `from` (a ’ followed by a letter is an apostrophe).
fn find_close(message: &str, from: usize, close: char) -> Option<usize> {
    let mut at = from;
    while let Some(c) = message[at..].find(close).map(|i| at + i) {
        let after = message[c + close.len_utf8()..].chars().next();
        if close == '’' && after.is_some_and(char::is_alphanumeric) {
            at = c + close.len_utf8();
            continue;
        }
        return Some(c);
    }
    None
}

/// True when word `w` starts with a capital letter in `message` (and is not
/// written all in capitals, as titles and shouting are).
fn capitalised(message: &str, w: &Word) -> bool {
    let text = &message[w.span.clone()];
    text.chars().next().is_some_and(char::is_uppercase)
        && (text.chars().count() == 1 || text.chars().any(char::is_lowercase))
}

/// The name starting at word `k`: up to four capitalised words (titles skipped),
/// as (the index after it, the name as written).
fn name_at(message: &str, words: &[Word], k: usize) -> Option<(usize, String)> {
    let mut i = k;
    while i < words.len()
        && TITLES.contains(&words[i].norm.as_str())
        && capitalised(message, &words[i])
    {
        i += 1;
    }
    let start = i;
    while i < words.len()
        && i - start < 4
        && capitalised(message, &words[i])
        && !NOT_NAMES.contains(&words[i].norm.as_str())
        && !SAYING.contains(&words[i].norm.as_str())
        && (i == start
            || message[words[i - 1].span.end..words[i].span.start]
                .chars()
                .all(|c| c.is_whitespace() || c == '.'))
    {
        i += 1;
    }
    // A possessive ends the name ("Madison's words").
    (i > start).then(|| {
        let text = &message[words[start].span.start..words[i - 1].span.end];
        let text = text.trim_end_matches("'s").trim_end_matches("’s");
        (i, text.to_string())
    })
}

/// The index after a saying verb at `k`, skipping adverbs before it and "it"
/// ("put it") and "that" after it, unless punctuation comes first ("wrote,
/// That government …" quotes "That").
fn saying_at(message: &str, words: &[Word], k: usize) -> Option<usize> {
    let mut i = k;
    while i < words.len() && ADVERBS.contains(&words[i].norm.as_str()) {
        i += 1;
    }
    if i >= words.len() || !SAYING.contains(&words[i].norm.as_str()) {
        return None;
    }
    i += 1;
    while i < words.len()
        && matches!(words[i].norm.as_str(), "it" | "that" | "us" | "best" | "so")
        && !between(message, words, i - 1, i, &[',', ':', '—', '–', '"', '“'])
    {
        i += 1;
    }
    Some(i)
}

/// `NAME's words` (or phrase) starting at word `k`: the index after it and the name.
fn possessive_words(message: &str, words: &[Word], k: usize) -> Option<(usize, String)> {
    let (after, name) = name_at(message, words, k)?;
    let last = &message[words[after - 1].span.clone()];
    let possessive = last.ends_with("'s") || last.ends_with("’s");
    let noun = words.get(after).map(|w| w.norm.as_str());
    (possessive && matches!(noun, Some("words" | "phrase" | "view"))).then_some((after + 1, name))
}

/// True when the text between words `a` and `b` of `message` holds one of `chars`.
fn between(message: &str, words: &[Word], a: usize, b: usize, chars: &[char]) -> bool {
    let from = words[a].span.end;
    let to = words.get(b).map_or(message.len(), |w| w.span.start);
    message[from..to].contains(chars)
}

/// Attribution words at the start: the index of the quote's first word and the name.
fn leading(message: &str, words: &[Word]) -> Option<(usize, Option<String>)> {
    let try_at = |k: usize| -> Option<(usize, Option<String>)> {
        let w = |i: usize| words.get(i).map_or("", |w| w.norm.as_str());
        // according to NAME, / in the words of NAME, / to quote NAME, / quoting NAME,
        let intro = match (w(k), w(k + 1), w(k + 2), w(k + 3)) {
            ("according", "to", ..) | ("to", "quote", ..) => Some(k + 2),
            ("in", "the", "words", "of") => Some(k + 4),
            ("quoting", ..) => Some(k + 1),
            _ => None,
        };
        if let Some(i) = intro
            && let Some((after, name)) = name_at(message, words, i)
            && after < words.len()
        {
            return Some((after, Some(name)));
        }
        // in NAME's words
        if w(k) == "in"
            && let Some((after, name)) = possessive_words(message, words, k + 1)
            && after < words.len()
        {
            return Some((after, Some(name)));
        }
        // [as|like] NAME [adverb] VERB [it] [that]
        let (as_like, i) = match w(k) {
            "as" | "like" => (true, k + 1),
            _ => (false, k),
        };
        if let Some((after_name, name)) = name_at(message, words, i) {
            if let Some(after) = saying_at(message, words, after_name).filter(|&a| a < words.len())
            {
                return Some((after, Some(name)));
            }
            // NAME: … or NAME — …
            if !as_like
                && after_name < words.len()
                && between(message, words, after_name - 1, after_name, &[':', '—', '–'])
            {
                return Some((after_name, Some(name)));
            }
        }
        // I read somewhere that … / someone said that …
        if matches!(
            w(k),
            "i" | "we" | "someone" | "somebody" | "they" | "people" | "everyone"
        ) {
            let end = (k + 6).min(words.len());
            let verb = (k + 1..end).find(|&i| SAYING.contains(&w(i)) || HEARD.contains(&w(i)))?;
            let that = (verb + 1..(verb + 3).min(words.len())).find(|&i| w(i) == "that")?;
            return (that + 1 < words.len()).then_some((that + 1, None));
        }
        None
    };
    if let Some(found) = try_at(0) {
        return Some(found);
    }
    // After an opening clause: "In Federalist 10, Madison wrote that …".
    let comma = (0..words.len().min(8)).find(|&i| between(message, words, i, i + 1, &[',']))?;
    try_at(comma + 1)
}

/// Attribution words at the end: the number of the quote's words and the name.
fn trailing(message: &str, words: &[Word]) -> Option<(usize, Option<String>)> {
    let n = words.len();
    // — NAME … or (NAME …) at the end, at most ten words.
    for k in (n.saturating_sub(10).max(1)..n).rev() {
        let gap = &message[words[k - 1].span.end..words[k].span.start];
        let dash = gap.contains(['—', '–']) || gap.contains(" - ") || gap.contains("--");
        if (dash || gap.contains('('))
            && let Some((after, name)) = name_at(message, words, k)
            && (after == n || between(message, words, after - 1, after, &[',', ')', ';']))
        {
            return Some((k, Some(name)));
        }
    }
    // , [as] NAME [adverb] VERB  or  , VERB NAME  as the last clause.
    let comma = (n.saturating_sub(6).max(1)..n)
        .rev()
        .find(|&k| between(message, words, k - 1, k, &[',', ';']))?;
    let w = |i: usize| words.get(i).map_or("", |w| w.norm.as_str());
    let k = if w(comma) == "as" { comma + 1 } else { comma };
    if let Some((after_name, name)) = name_at(message, words, k)
        && saying_at(message, words, after_name).is_some_and(|a| a >= n)
    {
        return Some((comma, Some(name)));
    }
    if SAYING.contains(&w(k))
        && let Some((after, name)) = name_at(message, words, k + 1)
        && after == n
    {
        return Some((comma, Some(name)));
    }
    None
}

/// A name in the words around a quoted stretch: NAME VERB, VERB NAME,
/// according to NAME, — NAME or (NAME.
fn name_outside(message: &str, words: &[Word], inside: &Range<usize>) -> Option<String> {
    let outside: Vec<usize> = (0..words.len())
        .filter(|&i| !(inside.start..inside.end).contains(&words[i].span.start))
        .collect();
    let before: Vec<Word> = outside
        .iter()
        .filter(|&&i| words[i].span.start < inside.start)
        .map(|&i| Word {
            norm: words[i].norm.clone(),
            span: words[i].span.clone(),
        })
        .collect();
    let after: Vec<Word> = outside
        .iter()
        .filter(|&&i| words[i].span.start >= inside.end)
        .map(|&i| Word {
            norm: words[i].norm.clone(),
            span: words[i].span.clone(),
        })
        .collect();
    for k in 0..before.len() {
        // Not the second word of a name.
        let starts = k == 0 || name_at(message, &before, k - 1).is_none();
        if let Some((after_name, name)) = name_at(message, &before, k)
            && starts
        {
            // NAME [adverb] VERB, or NAME: / NAME — right before the quote.
            let last = &before[after_name - 1];
            let colon = after_name == before.len()
                && message[last.span.end..inside.start].contains([':', '—', '–']);
            if saying_at(message, &before, after_name).is_some() || colon {
                return Some(name);
            }
        }
        let w = before[k].norm.as_str();
        if (SAYING.contains(&w) || w == "to" || w == "of" || w == "quoting")
            && let Some((_, name)) = name_at(message, &before, k + 1)
        {
            return Some(name);
        }
        if w == "in"
            && let Some((_, name)) = possessive_words(message, &before, k + 1)
        {
            return Some(name);
        }
    }
    // After it: NAME first (— NAME, (NAME, …), NAME wrote), or after
    // as|like|per|by or a word of saying (as NAME put it, wrote NAME).
    for k in 0..after.len() {
        let w = after[k].norm.as_str();
        let linking = matches!(w, "as" | "like" | "per" | "by");
        let at = if k == 0 && !SAYING.contains(&w) && !linking {
            k
        } else if SAYING.contains(&w) || (k == 0 && linking) {
            k + 1
        } else {
            continue;
        };
        if let Some((_, name)) = name_at(message, &after, at) {
            return Some(name);
        }
    }
    None
}

/// A part of a message of at least this many words may be checked on its own
/// when it is at least a third of the message (otherwise at least half).
pub const MIN_LONE_CLAUSE_WORDS: usize = 7;

/// The part of `quote` worth matching when only part of it lines up with the
/// original (`anchors`: byte ranges of its words that do): the clauses from
/// the first to the last in which at least half the words line up, and
/// without the unmatched words that open the first of them when those are
/// words of saying or hearing ("people forget that …"). None when that is the whole
/// quote, or fewer than four words, or under half of its words (a third, for
/// a part of at least [`MIN_LONE_CLAUSE_WORDS`] words).
pub fn trim(quote: &str, anchors: &[Range<usize>]) -> Option<Range<usize>> {
    let words = align::words(quote);
    let n = words.len();
    if n < 4 || anchors.is_empty() {
        return None;
    }
    let anchored: Vec<bool> = words
        .iter()
        .map(|(_, r)| anchors.iter().any(|a| a.start == r.start))
        .collect();
    // Clauses: runs of words with no clause punctuation between them.
    let mut clauses: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    for k in 1..=n {
        let cut = k == n || quote[words[k - 1].1.end..words[k].1.start].contains(CLAUSE_MARKS);
        if cut {
            clauses.push(start..k);
            start = k;
        }
    }
    let good = |c: &Range<usize>| 2 * anchored[c.clone()].iter().filter(|&&a| a).count() >= c.len();
    let first = clauses.iter().position(good)?;
    let last = clauses.iter().rposition(good)?;
    let mut a = clauses[first].start;
    let b = clauses[last].end;
    // Within the first clause, unmatched words before the quote go only when
    // they are words of saying or hearing ("… I think that …").
    let lead = anchored[a..b].iter().take_while(|&&x| !x).count();
    let cue = words[a..a + lead]
        .iter()
        .any(|(w, _)| SAYING.contains(&w.as_str()) || HEARD.contains(&w.as_str()) || w == "that");
    if lead >= 2 && cue {
        a += lead;
    }
    let kept = b - a;
    let enough = 2 * kept >= n || (kept >= MIN_LONE_CLAUSE_WORDS && 3 * kept >= n);
    if (a == 0 && b == n) || kept < 4 || !enough {
        return None;
    }
    Some(words[a].1.start..words[b - 1].1.end)
}

/// Punctuation that separates clauses of a message.
const CLAUSE_MARKS: &[char] = &[
    ',', ';', ':', '.', '!', '?', '(', ')', '[', ']', '—', '–', '"', '“', '”', '«', '»',
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any message frames to a range on char boundaries, and trimming
        /// with any of its words as anchors stays inside it.
        #[test]
        fn any_message_frames_within_bounds(m in "[A-Za-z“”\"‘’'—–,:;.…()\\[\\] ]{0,80}|\\PC{0,40}", every in 1usize..4) {
            let f = frame(&m);
            prop_assert!(f.quote.start <= f.quote.end && f.quote.end <= m.len());
            prop_assert!(m.is_char_boundary(f.quote.start) && m.is_char_boundary(f.quote.end));
            let anchors: Vec<_> = align::words(&m).into_iter().step_by(every).map(|w| w.1).collect();
            if let Some(r) = trim(&m, &anchors) {
                prop_assert!(r.start < r.end && r.end <= m.len());
            }
        }
    }

    fn quote_and_name(message: &str) -> (&str, Option<String>) {
        let f = frame(message);
        (&message[f.quote], f.named)
    }

    #[test]
    fn attribution_words_are_not_the_quote() {
        let cases = [
            (
                "Romberg wrote that no country has a monopoly on wisdom",
                "no country has a monopoly on wisdom",
                Some("Romberg"),
            ),
            (
                "As Hamilton said, energy in the executive is a leading character",
                "energy in the executive is a leading character",
                Some("Hamilton"),
            ),
            (
                "As Madison put it: ambition must be made to counteract ambition.",
                "ambition must be made to counteract ambition",
                Some("Madison"),
            ),
            (
                "According to Susan Shirk, Xi is the chairman of everything",
                "Xi is the chairman of everything",
                Some("Susan Shirk"),
            ),
            (
                "In Federalist 10, Madison wrote that the causes of faction are sown in the nature of man",
                "the causes of faction are sown in the nature of man",
                Some("Madison"),
            ),
            (
                "Madison: if men were angels, no government would be necessary",
                "if men were angels, no government would be necessary",
                Some("Madison"),
            ),
            (
                "If men were angels, no government would be necessary. — James Madison, Federalist 51",
                "If men were angels, no government would be necessary",
                Some("James Madison"),
            ),
            (
                "If men were angels, no government would be necessary (Hamilton, Federalist 51)",
                "If men were angels, no government would be necessary",
                Some("Hamilton"),
            ),
            (
                "ambition must be made to counteract ambition, as Jay wrote.",
                "ambition must be made to counteract ambition",
                Some("Jay"),
            ),
            (
                "Madison called the accumulation of all powers in the same hands the very definition of tyranny",
                "the accumulation of all powers in the same hands the very definition of tyranny",
                Some("Madison"),
            ),
            (
                "Hamilton admits that the judiciary is the weakest of the three departments of power",
                "the judiciary is the weakest of the three departments of power",
                Some("Hamilton"),
            ),
            (
                "I read somewhere that ambition must be made to counteract ambition",
                "ambition must be made to counteract ambition",
                None,
            ),
            (
                "Hamilton famously wrote “energy in the executive is a leading character” in No. 70",
                "energy in the executive is a leading character",
                Some("Hamilton"),
            ),
            (
                "If men were angels, no government would be necessary",
                "If men were angels, no government would be necessary",
                None,
            ),
            (
                "“If men were angels, no government would be necessary.”",
                "If men were angels, no government would be necessary",
                None,
            ),
            (
                "The people are the only legitimate fountain of power",
                "The people are the only legitimate fountain of power",
                None,
            ),
        ];
        for (message, quote, name) in cases {
            let (q, n) = quote_and_name(message);
            assert_eq!(q, quote, "{message}");
            assert_eq!(n.as_deref(), name, "{message}");
        }
    }

    #[test]
    fn every_common_frame_in_any_order() {
        let q = "That government is best which governs least";
        let messages = [
            "As Thoreau put it: \"That government is best which governs least\"",
            "Thoreau: \"That government is best which governs least\"",
            "Thoreau: That government is best which governs least",
            "Thoreau — “That government is best which governs least”",
            "In Thoreau's words, That government is best which governs least",
            "In Thoreau’s words, “That government is best which governs least.”",
            "In the words of Thoreau, “That government is best which governs least”",
            "Thoreau once wrote, That government is best which governs least",
            "Thoreau once wrote, “That government is best which governs least”",
            "As Thoreau said, That government is best which governs least",
            "Quoting Thoreau: “That government is best which governs least”",
            "“That government is best which governs least” (Thoreau, Civil Disobedience)",
            "That government is best which governs least (Thoreau, Civil Disobedience)",
            "“That government is best which governs least” — Thoreau",
            "That government is best which governs least — Thoreau",
            "“That government is best which governs least,” Thoreau wrote.",
            "“That government is best which governs least,” wrote Thoreau.",
            "“That government is best which governs least,” as Thoreau put it",
            "That government is best which governs least, as Thoreau put it",
            "That government is best which governs least, as Thoreau wrote.",
        ];
        for message in messages {
            let (quote, name) = quote_and_name(message);
            assert_eq!(quote, q, "{message}");
            assert_eq!(name.as_deref(), Some("Thoreau"), "{message}");
        }
        // Words that open a message are not names.
        for message in [
            "Remember: “That government is best which governs least”",
            "Honestly, “That government is best which governs least”",
            "“That government is best which governs least” and I agree",
        ] {
            assert_eq!(quote_and_name(message), (q, None), "{message}");
        }
    }

    #[test]
    fn hostile_messages_never_panic() {
        for m in [
            "",
            "“",
            "” “",
            "As",
            "as Madison said",
            "— Madison",
            "(",
            "‘tis",
            "Madison:",
            "\"\"\"",
            "according to",
        ] {
            let f = frame(m);
            assert!(
                f.quote.start <= f.quote.end && f.quote.end <= m.len(),
                "{m:?}"
            );
        }
    }

    #[test]
    fn trim_drops_commentary_clauses() {
        let quote =
            "Ambition must be made to counteract ambition, which is why we still need courts";
        let anchors: Vec<_> = align::words(quote)[..7]
            .iter()
            .map(|w| w.1.clone())
            .collect();
        assert_eq!(
            trim(quote, &anchors).map(|r| &quote[r]),
            Some("Ambition must be made to counteract ambition")
        );
        // Too little of the message lines up: no trimming.
        let anchors: Vec<_> = align::words(quote)[..2]
            .iter()
            .map(|w| w.1.clone())
            .collect();
        assert_eq!(trim(quote, &anchors), None);
    }
}
