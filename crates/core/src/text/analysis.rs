//! Analysis: turning text into the terms the index stores and queries use.
//!
//! The same analyzer serves indexing, querying and quote marking, so a word
//! matches wherever its stem does. User text only ever passes through here on
//! its way to the index: it is never parsed as query syntax.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use fnv::FnvBuildHasher;
use tantivy::tokenizer::{
    Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenFilter, TokenStream, Tokenizer,
};

/// A hash set for short words: FNV, which beats SipHash on a few bytes and
/// needs no protection from hostile keys here.
pub type FastSet<T> = HashSet<T, FnvBuildHasher>;
/// A hash map for short words (see [`FastSet`]).
pub type FastMap<K, V> = HashMap<K, V, FnvBuildHasher>;

/// Name under which the analyzer is registered with tantivy.
pub const ANALYZER: &str = "citebot_en";

/// Lowercased, English-stemmed words; anything not alphanumeric separates words.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(MemoStemmer)
        .build()
}

/// tantivy's English [`Stemmer`], remembering the stem of each word it has
/// seen: a corpus has a bounded vocabulary, and stemming was a third of the
/// time of indexing. The terms are exactly the stemmer's.
#[derive(Clone, Copy, Debug)]
struct MemoStemmer;

/// Words whose stems a [`MemoStemmer`] keeps before it starts afresh.
const MEMO_CAPACITY: usize = 200_000;

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter {
            inner: tokenizer,
            stemmer: TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build(),
            stems: FastMap::default(),
        }
    }
}

/// The tokenizer a [`MemoStemmer`] makes: each copy (one per indexing
/// thread) has a memo of its own.
#[derive(Clone)]
struct MemoStemmerFilter<T> {
    inner: T,
    /// Stems one word.
    stemmer: TextAnalyzer,
    /// Word → stem.
    stems: FastMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for MemoStemmerFilter<T> {
    type TokenStream<'a> = MemoStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: &mut self.stemmer,
            stems: &mut self.stems,
        }
    }
}

struct MemoStemmerStream<'a, T> {
    tail: T,
    stemmer: &'a mut TextAnalyzer,
    stems: &'a mut FastMap<String, String>,
}

impl<T: TokenStream> TokenStream for MemoStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let mut stream = self.stemmer.token_stream(&token.text);
        let stem = if stream.advance() {
            stream.token().text.clone()
        } else {
            token.text.clone()
        };
        drop(stream);
        if self.stems.len() >= MEMO_CAPACITY {
            self.stems.clear();
        }
        self.stems
            .insert(std::mem::replace(&mut token.text, stem.clone()), stem);
        true
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        self.tail.token_mut()
    }
}

/// One analysed word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The stemmed, lowercased term as the index stores it.
    pub text: String,
    /// Byte range of the word in the analysed text.
    pub offset: Range<usize>,
    /// Position of the word among the text's words.
    pub position: usize,
}

/// Every word of `text`, analysed.
pub fn terms(text: &str) -> Vec<Term> {
    thread_local! {
        static ANALYZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
    }
    ANALYZER.with(|cell| {
        let mut analyzer = cell.borrow_mut();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(Term {
                text: token.text.clone(),
                offset: token.offset_from..token.offset_to,
                position: token.position,
            });
        }
        out
    })
}

/// The words of `text` whose analysed term is in `wanted`, analysed.
///
/// Gives the same terms, offsets and positions as [`terms`], but stems only
/// words that can match: English stemming keeps a word's first letter
/// ("dying" → "die"), so a word whose lowercase initial starts no wanted
/// term is skipped without stemming. This keeps marking quotes cheap.
pub fn matching_terms(text: &str, wanted: &FastSet<&str>) -> Vec<Term> {
    let initials: FastSet<char> = wanted.iter().filter_map(|w| w.chars().next()).collect();
    let mut out = Vec::new();
    let mut head = String::new();
    for (position, (start, end)) in word_spans(text).enumerate() {
        let word = &text[start..end];
        if word.len() >= 40 {
            continue;
        }
        let initial = word.chars().next().expect("words are not empty");
        if !initial.to_lowercase().any(|c| initials.contains(&c)) {
            continue;
        }
        lowercase_into(word, &mut head);
        if let Some(stem) = stem(&head)
            && wanted.contains(stem.as_str())
        {
            out.push(Term {
                text: stem,
                offset: start..end,
                position,
            });
        }
    }
    out
}

/// The words of `text` at the given positions, each with the term it was
/// indexed as: `at` holds (position, term) pairs sorted by position, as the
/// index's postings give them for a text analysed by [`analyzer`].
///
/// Gives the terms, offsets and positions [`terms`] gives for those words,
/// but stems nothing: the index did that when the text was indexed, so only
/// the word boundaries are found again.
pub fn terms_at(text: &str, at: &[(u32, &str)]) -> Vec<Term> {
    let mut out = Vec::with_capacity(at.len());
    let mut next = at.iter().peekable();
    for (position, (start, end)) in word_spans(text).enumerate() {
        let Some(&&(wanted, term)) = next.peek() else {
            break;
        };
        if wanted as usize == position {
            out.push(Term {
                text: term.to_string(),
                offset: start..end,
                position,
            });
            next.next();
        }
    }
    out
}

/// Lowercases `word` into `out` as tantivy's `LowerCaser` does.
fn lowercase_into(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.push_str(word);
        out.make_ascii_lowercase();
    } else {
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// The analysed form of one lowercase word, memoised per thread: a corpus
/// has a bounded vocabulary, and stemming is the costly part of marking.
fn stem(word: &str) -> Option<String> {
    const CAPACITY: usize = 100_000;
    thread_local! {
        static STEMS: std::cell::RefCell<FastMap<String, Option<String>>> =
            std::cell::RefCell::new(FastMap::default());
    }
    STEMS.with(|cell| {
        if let Some(stem) = cell.borrow().get(word) {
            return stem.clone();
        }
        let stem = terms(word).into_iter().next().map(|t| t.text);
        let mut map = cell.borrow_mut();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(word.to_string(), stem.clone());
        stem
    })
}

/// Byte ranges of the runs of alphanumeric characters, as tantivy's
/// `SimpleTokenizer` finds them; ASCII text takes a fast path.
fn word_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let is_word = |at: usize| -> (bool, usize) {
            let b = bytes[at];
            if b.is_ascii() {
                (b.is_ascii_alphanumeric(), 1)
            } else {
                let c = text[at..].chars().next().expect("at a char boundary");
                (c.is_alphanumeric(), c.len_utf8())
            }
        };
        while i < bytes.len() {
            let (word, len) = is_word(i);
            if word {
                break;
            }
            i += len;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() {
            let (word, len) = is_word(i);
            if !word {
                break;
            }
            i += len;
        }
        Some((start, i))
    })
}

/// Words that carry no meaning in a question: articles, auxiliaries,
/// pronouns, common prepositions and the question words themselves.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "nor",
    "but",
    "of",
    "to",
    "in",
    "on",
    "at",
    "by",
    "for",
    "with",
    "from",
    "as",
    "into",
    "about",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "am",
    "do",
    "does",
    "did",
    "doing",
    "done",
    "has",
    "have",
    "had",
    "having",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "there",
    "their",
    "they",
    "them",
    "he",
    "she",
    "his",
    "her",
    "him",
    "we",
    "our",
    "us",
    "you",
    "your",
    "i",
    "me",
    "my",
    "what",
    "why",
    "how",
    "who",
    "whom",
    "whose",
    "which",
    "when",
    "where",
    "whether",
    "if",
    "so",
    "than",
    "then",
    "s",
    "t",
    "d",
    "ll",
    "ve",
    "m",
    "can",
    "could",
    "would",
    "should",
    "shall",
    "may",
    "might",
    "say",
    "said",
    "tell",
    "according",
    "essay",
    "essays",
    "author",
    "any",
    "some",
    "such",
    "very",
    "also",
    "just",
    "e",
    "g",
    "ie",
    "eg",
];

/// True when `stem` is a stemmed stop word.
pub fn is_stop(stem: &str) -> bool {
    static STEMS: OnceLock<HashSet<String>> = OnceLock::new();
    STEMS
        .get_or_init(|| {
            STOP_WORDS
                .iter()
                .flat_map(|w| terms(w).into_iter().map(|t| t.text))
                .collect()
        })
        .contains(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_lowercases_and_keeps_offsets() {
        let text = "Factions, DEPARTMENTS—and governments’ powers";
        let terms = terms(text);
        let stems: Vec<_> = terms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(stems, ["faction", "depart", "and", "govern", "power"]);
        assert_eq!(&text[terms[1].offset.clone()], "DEPARTMENTS");
        assert_eq!(terms[4].position, 4);
    }

    #[test]
    fn query_syntax_is_just_words() {
        let stems: Vec<_> = terms("title:x [a TO * \"unbalanced")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(stems, ["titl", "x", "a", "to", "unbalanc"]);
    }

    #[test]
    fn matching_terms_agree_with_full_analysis() {
        let text = "Many countries’ DEPARTMENTS—and the governments, dying early; ÉLAN Élan 20th";
        let all = terms(text);
        for wanted in [
            vec!["mani", "countri"],
            vec!["depart", "the", "govern"],
            vec!["die", "earli"],
            vec!["élan", "20th"],
        ] {
            let set: FastSet<&str> = wanted.iter().copied().collect();
            let expected: Vec<Term> = all
                .iter()
                .filter(|t| set.contains(t.text.as_str()))
                .cloned()
                .collect();
            assert!(!expected.is_empty());
            assert_eq!(matching_terms(text, &set), expected);
        }
    }

    #[test]
    fn terms_at_positions_agree_with_full_analysis() {
        let text = "Many countries’ DEPARTMENTS—and the governments, dying early; ÉLAN Élan 20th \
                    and a word far too long to be indexed by anyone whatsoever here";
        let all = terms(text);
        for wanted in [
            vec!["mani", "countri"],
            vec!["the", "govern", "élan"],
            vec!["here"],
        ] {
            let expected: Vec<Term> = all
                .iter()
                .filter(|t| wanted.contains(&t.text.as_str()))
                .cloned()
                .collect();
            assert!(!expected.is_empty());
            let at: Vec<(u32, &str)> = expected
                .iter()
                .map(|t| (t.position as u32, t.text.as_str()))
                .collect();
            assert_eq!(terms_at(text, &at), expected);
        }
    }

    #[test]
    fn the_memo_stems_as_the_stemmer_does() {
        let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        let text = "Running runners ran; the governments GOVERN governed ÉLAN élan 20th \
                    dying dies died, running again and again: Factions' faction's";
        let stems = |analyzer: &mut TextAnalyzer| {
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while let Some(token) = stream.next() {
                out.push((token.text.clone(), token.offset_from, token.position));
            }
            out
        };
        let expected = stems(&mut plain);
        let mut memo = analyzer();
        // Twice: the second pass takes every stem from the memo.
        assert_eq!(stems(&mut memo), expected);
        assert_eq!(stems(&mut memo), expected);
    }

    #[test]
    fn stop_words_are_stemmed_too() {
        assert!(is_stop("what"));
        assert!(is_stop("doe") || is_stop("does"));
        assert!(!is_stop("faction"));
        assert!(!is_stop("will"));
    }
}
