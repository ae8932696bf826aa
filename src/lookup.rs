//! Lookup: where does a quotation come from, and is it quoted right?
//!
//! Candidates come from the index (BM25 over the quote's words); each
//! candidate paragraph is then aligned word by word with the quote
//! ([`crate::align`]). The best alignment gives the verdict: `exact`, `close`
//! (a recognisable misquote, with its differences) or `not_found`.

use std::collections::HashSet;

use crate::align::{self, Alignment};
use crate::analysis::terms;
use crate::cite::Citation;
use crate::error::Result;
use crate::index::SearchIndex;
use crate::model::{CiteMatch, CiteResult, Source, Verdict};
use crate::search;
use crate::store::Store;

/// Candidate passages aligned per lookup.
const CANDIDATES: usize = 12;
/// At most this many words of a quote are looked up.
const MAX_QUOTE_TERMS: usize = 64;
/// A misquote must still have this share of its words in the original:
/// a few shared words around an invented claim are not a citation.
const MIN_WORDS_KEPT: f32 = 0.7;

/// Looks `quote` up in the corpus of `store`, indexed by `index`.
pub fn cite(index: &SearchIndex, store: &Store, quote: &str) -> Result<CiteResult> {
    let Some((alignment, ordinal)) = best_alignment(index, store, quote)? else {
        return Ok(CiteResult::not_found(quote));
    };
    let Some(verdict) = verdict(quote, &alignment) else {
        return Ok(CiteResult::not_found(quote));
    };
    let (e, paragraph) = store.paragraph_of(ordinal);
    let essay = store.essay(e);
    let original = store.paragraph(ordinal)[alignment.span.clone()].to_string();
    // The passage (window) the original starts in.
    let holder = store.passage(store.window_at(ordinal, alignment.span.start));
    Ok(CiteResult {
        query: quote.to_string(),
        verdict,
        found: Some(CiteMatch {
            passage: holder,
            source: Source::of(essay),
            citation: Citation::new(essay, paragraph, &original),
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

/// The best alignment of `quote` with a candidate paragraph, and the
/// ordinal of the candidate passage it was found through.
fn best_alignment(
    index: &SearchIndex,
    store: &Store,
    quote: &str,
) -> Result<Option<(Alignment, usize)>> {
    let words = terms(quote);
    let mut seen = HashSet::new();
    let distinct = words
        .iter()
        .map(|t| t.text.as_str())
        .filter(|t| seen.insert(*t))
        .take(MAX_QUOTE_TERMS);
    let top = search::bm25_top(index, distinct, CANDIDATES)?;

    // Align against whole paragraphs, so a quote may cross window boundaries.
    let mut paragraphs_seen = HashSet::new();
    let mut best: Option<(Alignment, usize)> = None;
    for (_, addr) in top {
        let Some(ordinal) = index.passage_of(addr).filter(|&p| p < store.len()) else {
            continue;
        };
        if !paragraphs_seen.insert(store.paragraph_of(ordinal)) {
            continue;
        }
        let Some(alignment) = align::align(quote, store.paragraph(ordinal)) else {
            continue;
        };
        let better = best.as_ref().is_none_or(|(b, _)| {
            alignment.similarity > b.similarity
                || (alignment.similarity == b.similarity && alignment.matched > b.matched)
        });
        if better {
            best = Some((alignment, ordinal));
        }
    }
    Ok(best)
}

/// The verdict on an alignment; None when it is not close enough to count.
fn verdict(quote: &str, alignment: &Alignment) -> Option<Verdict> {
    let quote_words = align::words(quote).len().max(1);
    let kept = alignment.matched as f32 / quote_words as f32;
    if alignment.exact {
        Some(Verdict::Exact)
    } else if alignment.is_close() && kept >= MIN_WORDS_KEPT {
        Some(Verdict::Close)
    } else {
        None
    }
}
