//! Lookup: where does a quotation come from, and is it quoted right?
//!
//! Candidates come from the index (BM25 over the quote's words); each
//! candidate paragraph is then aligned word by word with the quote
//! ([`crate::align`]). The best alignment gives the verdict: `exact`, `close`
//! (a recognisable misquote, with its differences) or `not_found`.

use std::collections::HashSet;

use crate::align::{self, Alignment, CLOSE_THRESHOLD, Difference};
use crate::analysis::terms;
use crate::cite::Citation;
use crate::engine::{Engine, Source};
use crate::error::Result;
use crate::passage::Passage;
use crate::search;

/// Candidate passages aligned per lookup.
const CANDIDATES: usize = 12;
/// At most this many words of a quote are looked up.
const MAX_QUOTE_TERMS: usize = 64;
/// A misquote must still have this share of its words in the original:
/// a few shared words around an invented claim are not a citation.
const MIN_WORDS_KEPT: f32 = 0.7;

/// How faithfully a quote matches the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The same words, ignoring case, punctuation, quote marks, dashes and whitespace.
    Exact,
    /// A recognisable misquote or close paraphrase.
    Close,
    /// Nothing in the corpus is close enough.
    NotFound,
}

impl Verdict {
    /// The name used in JSON: `exact`, `close` or `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Exact => "exact",
            Verdict::Close => "close",
            Verdict::NotFound => "not_found",
        }
    }
}

/// Where a quote was found.
#[derive(Debug, Clone, PartialEq)]
pub struct CiteMatch {
    /// The passage the original words start in.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The verbatim span of the essay that the quote lines up with.
    pub original: String,
    /// Citation, with a deep link to the original span.
    pub citation: Citation,
    /// Similarity in [0, 1]; 1 for an exact quote.
    pub similarity: f32,
}

/// The answer to a citation check.
#[derive(Debug, Clone, PartialEq)]
pub struct CiteResult {
    /// The quote as given.
    pub query: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The source, unless not found.
    pub found: Option<CiteMatch>,
    /// What the quote changed, in order; empty unless close.
    pub differences: Vec<Difference>,
}

/// Looks `quote` up in the engine's corpus.
pub fn cite(engine: &Engine, quote: &str) -> Result<CiteResult> {
    let not_found = || CiteResult {
        query: quote.to_string(),
        verdict: Verdict::NotFound,
        found: None,
        differences: Vec::new(),
    };
    let index = engine.index();
    let words = terms(quote);
    let mut seen = HashSet::new();
    let distinct = words
        .iter()
        .map(|t| t.text.as_str())
        .filter(|t| seen.insert(*t))
        .take(MAX_QUOTE_TERMS);
    let top = search::bm25_top(index, distinct, CANDIDATES)?;
    if top.is_empty() {
        return Ok(not_found());
    }

    // Align against whole paragraphs, so a quote may cross window boundaries.
    let mut paragraphs_seen = HashSet::new();
    let mut best: Option<(Alignment, Passage)> = None;
    for (_, addr) in top {
        let Some(passage) = index.passage_of(addr).and_then(|p| engine.passage_at(p)) else {
            continue;
        };
        if !paragraphs_seen.insert((passage.essay, passage.paragraph)) {
            continue;
        }
        let Some(alignment) = align::align(quote, engine.paragraph(&passage)) else {
            continue;
        };
        let better = best.as_ref().is_none_or(|(b, _)| {
            alignment.similarity > b.similarity
                || (alignment.similarity == b.similarity && alignment.matched > b.matched)
        });
        if better {
            best = Some((alignment, passage));
        }
    }
    let Some((alignment, passage)) = best else {
        return Ok(not_found());
    };
    let quote_words = align::words(quote).len().max(1);
    let kept = alignment.matched as f32 / quote_words as f32;
    let verdict = if alignment.exact {
        Verdict::Exact
    } else if alignment.similarity >= CLOSE_THRESHOLD && kept >= MIN_WORDS_KEPT {
        Verdict::Close
    } else {
        return Ok(not_found());
    };
    let essay = engine.essay(&passage);
    let paragraph_number = passage.paragraph;
    let original = engine.paragraph(&passage)[alignment.span.clone()].to_string();
    // The passage (window) the original starts in.
    let holder = engine.window_at(&passage, alignment.span.start);
    Ok(CiteResult {
        query: quote.to_string(),
        verdict,
        found: Some(CiteMatch {
            passage: holder,
            source: Source::of(essay),
            citation: Citation::new(essay, paragraph_number, &original),
            original,
            similarity: alignment.similarity,
        }),
        differences: if verdict == Verdict::Exact {
            Vec::new()
        } else {
            alignment.differences
        },
    })
}
