//! Lookup: where does a quotation come from, and is it quoted right?
//!
//! 1. The quotation is found inside the message, and the person it is
//!    attributed to, if any ([`frame`]).
//! 2. Candidate paragraphs come from one place, [`candidates`]: today the
//!    index (BM25 over the quote's words).
//! 3. Each candidate paragraph is aligned word by word with the quotation
//!    ([`crate::align`]), piece by piece when the quote has written elisions;
//!    when only part of a long message lines up, the clauses around it are
//!    dropped ([`frame::trim`]) and the rest aligned again.
//! 4. The best alignment gets one verdict by the rules of [`verdict`]:
//!    `exact`, `close` (a recognisable misquote, with its differences) or
//!    `not_found`; then the attribution is checked ([`attribution`]).

mod attribution;
mod frame;

use std::collections::HashSet;
use std::ops::Range;

use crate::align::{self, Alignment, Elided};
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
pub const MIN_WORDS_KEPT: f32 = 0.7;

/// A paragraph that may hold the quote, by the ordinal of the passage it was
/// found through.
///
/// Lexical candidates come from BM25; a semantic source (the sentences
/// nearest the quote by embedding) adds its own here, with its score, and
/// [`verdict`] gains the rule that uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Ordinal of the passage the candidate was found through.
    pub ordinal: usize,
}

/// The best match of a quotation: its alignment, the candidate, and the
/// byte range of the quotation (within the quote given to [`best`]) that
/// was aligned.
struct Found {
    alignment: Alignment,
    candidate: Candidate,
    quoted: Range<usize>,
}

/// Looks `message` up in the corpus of `store`, indexed by `index`: the
/// quotation inside it, where it comes from, how faithfully it is quoted,
/// and whether it is attributed to the right person.
pub fn cite(index: &SearchIndex, store: &Store, message: &str) -> Result<CiteResult> {
    let framed = frame::frame(message);
    let quote = &message[framed.quote.clone()];
    let Some(found) = best(index, store, quote)? else {
        return Ok(CiteResult::not_found(message));
    };
    let Some(verdict) = verdict(&quote[found.quoted.clone()], &found.alignment) else {
        return Ok(CiteResult::not_found(message));
    };
    let alignment = found.alignment;
    let ordinal = found.candidate.ordinal;
    let (e, paragraph) = store.paragraph_of(ordinal);
    let essay = store.essay(e);
    let original = store.paragraph(ordinal)[alignment.span.clone()].to_string();
    // The passage (window) the original starts in.
    let holder = store.passage(store.window_at(ordinal, alignment.span.start));
    let start = framed.quote.start + found.quoted.start;
    let quoted = message[start..framed.quote.start + found.quoted.end].to_string();
    Ok(CiteResult {
        query: message.to_string(),
        verdict,
        found: Some(CiteMatch {
            passage: holder,
            source: Source::of(essay),
            citation: Citation::at(essay, paragraph, alignment.span.clone()),
            original,
            similarity: alignment.similarity,
        }),
        differences: if verdict == Verdict::Exact {
            Vec::new()
        } else {
            alignment.differences
        },
        quoted,
        elided: alignment.elided != Elided::No,
        attribution: framed
            .named
            .map(|named| attribution::attribution(&named, essay.author.as_deref())),
    })
}

/// The candidates for `quote`: the paragraphs of the passages BM25 ranks
/// highest for its words, each paragraph once, best first.
pub fn candidates(index: &SearchIndex, store: &Store, quote: &str) -> Result<Vec<Candidate>> {
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
    Ok(top
        .into_iter()
        .filter_map(|(_, addr)| index.passage_of(addr).filter(|&p| p < store.len()))
        .filter(|&ordinal| paragraphs_seen.insert(store.paragraph_of(ordinal)))
        .map(|ordinal| Candidate { ordinal })
        .collect())
}

/// The best alignment of `quote` with a candidate paragraph.
fn best(index: &SearchIndex, store: &Store, quote: &str) -> Result<Option<Found>> {
    let cuts = align::written_elisions(quote);
    let mut best: Option<Found> = None;
    for candidate in candidates(index, store, quote)? {
        let Some(found) = align_with(quote, &cuts, store.paragraph(candidate.ordinal), candidate)
        else {
            continue;
        };
        let better = best.as_ref().is_none_or(|b| {
            let (a, b) = (&found.alignment, &b.alignment);
            a.similarity > b.similarity || (a.similarity == b.similarity && a.matched > b.matched)
        });
        if better {
            best = Some(found);
        }
    }
    Ok(best)
}

/// Aligns `quote` (with written elisions at `cuts`) with one paragraph: in
/// pieces when it has elisions (as a whole when the pieces do not line up
/// in order), then, unless exact, only its clauses that line up: that part
/// is taken when it aligns better and is exact or has at least
/// [`frame::MIN_LONE_CLAUSE_WORDS`] words.
fn align_with(quote: &str, cuts: &[usize], paragraph: &str, candidate: Candidate) -> Option<Found> {
    let whole = 0..quote.len();
    let first = align_elided(quote, cuts, paragraph)?;
    let mut found = Found {
        alignment: first,
        candidate,
        quoted: whole,
    };
    if found.alignment.exact {
        return Some(found);
    }
    if let Some(part) = frame::trim(quote, &found.alignment.anchors) {
        let text = &quote[part.clone()];
        let cuts: Vec<usize> = cuts
            .iter()
            .filter(|&&c| part.contains(&c))
            .map(|&c| c - part.start)
            .collect();
        // A part checked on its own must be exact, or long enough that a
        // near match is not a few common words ("by the people").
        if let Some(a) = align_elided(text, &cuts, paragraph)
            && a.similarity > found.alignment.similarity
            && (a.exact || align::words(text).len() >= frame::MIN_LONE_CLAUSE_WORDS)
        {
            found.alignment = a;
            found.quoted = part;
        }
    }
    Some(found)
}

/// Aligns `quote` in the pieces its written elisions make, or whole.
fn align_elided(quote: &str, cuts: &[usize], paragraph: &str) -> Option<Alignment> {
    if cuts.is_empty() {
        return align::align(quote, paragraph);
    }
    align::align_pieces(quote, cuts, paragraph).or_else(|| align::align(quote, paragraph))
}

/// The verdict on the alignment of `quote`; None when it is not close enough
/// to count. One rule per verdict:
///
/// - **exact**: every word of the quote equals the original's, in order
///   (ignoring case, punctuation, quote marks, dashes and whitespace); with
///   written elisions, every piece, in order, within one paragraph.
/// - **close**: similarity ≥ [`align::CLOSE_THRESHOLD`] (0.6) *and* at least
///   [`MIN_WORDS_KEPT`] (70%) of the quote's words equal to the original's
///   (an unmarked elision counts its gap as one word of the original).
/// - **not found**: anything else.
pub fn verdict(quote: &str, alignment: &Alignment) -> Option<Verdict> {
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
