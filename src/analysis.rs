//! Analysis: turning text into the terms the index stores and queries use.
//!
//! The same analyzer serves indexing, querying and quote marking, so a word
//! matches wherever its stem does. User text only ever passes through here on
//! its way to the index: it is never parsed as query syntax.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, TokenStream,
};

/// Name under which the analyzer is registered with tantivy.
pub const ANALYZER: &str = "citebot_en";

/// Lowercased, English-stemmed words; anything not alphanumeric separates words.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
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
    "re",
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
    fn stop_words_are_stemmed_too() {
        assert!(is_stop("what"));
        assert!(is_stop("doe") || is_stop("does"));
        assert!(!is_stop("faction"));
        assert!(!is_stop("will"));
    }
}
