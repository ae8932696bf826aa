//! Word-level alignment of a quotation against a candidate passage (the `cite` feature).
//!
//! People quote essays word for word, from memory, or not at all. [`align`] lines a
//! quote up with the best-matching stretch of one passage and reports how faithful the
//! quote is. Everything here is pure `std` and allocation-light (a handful of buffers
//! per call, no per-word allocation).
//!
//! # Words
//!
//! Text is split into words by [`words`]: a word is a run of alphanumeric characters
//! (plus combining marks and soft hyphens inside it). An apostrophe (`'`, `’`, `‘`, `ʼ`)
//! belongs to a word only when it sits *between* two alphanumeric characters
//! (`nation’s`, `don't`); leading and trailing apostrophes are quote marks. Everything
//! else separates words: whitespace, punctuation, quote marks, ellipses, hyphens and
//! dashes (so `self-inflicted` and `self inflicted` tokenise the same, and so do
//! `fears—a return` and `fears - a return`), emoji and control characters.
//! Normalised words are lower-cased (Unicode), with Latin-1 accents folded (`é` → `e`),
//! combining marks dropped and every apostrophe style written as `'`. Two words are
//! *equal* when their normalised forms are equal once apostrophes are ignored (`its` =
//! `it's`, `nations` = `nation’s`): the difference is punctuation only.
//!
//! # Alignment
//!
//! A semi-global dynamic programme (global over the quote, local over the passage)
//! scores word pairs: equal `+4`, *related* (same stem: a common prefix of at least 4
//! characters and at most 3 differing trailing characters on each side, e.g.
//! `government`/`governments`, `govern`/`governed`) `+2`, substitution `-2`, a quote word
//! with no counterpart (insertion) `-3`, a passage word skipped inside the span
//! (deletion) `-3`. A match pays for skipping at most one passage word, so scattered
//! common words across a long passage are not chained together. Ties prefer the
//! earliest end in the passage (so a phrase that occurs twice aligns with its first
//! occurrence) and, along the path, substitution over insertion over deletion.
//!
//! Unmatched words at either end of the quote are paired with neighbouring passage words
//! (substitutions) only within the same sentence: if that would pull passage words from
//! across a sentence boundary (`.`, `!`, `?`, `;`, `:`) into the span, those quote words
//! become insertions instead. So "If all men were angels, no government would be
//! needed" aligns `needed` with `necessary`, but an attribution such as "As Madison said,
//! if men were angels" does not drag the end of the previous sentence into the span.
//!
//! # Result conventions
//!
//! * **Span**: from the first byte of the first passage word that the quote lines up
//!   with (matched or substituted) to the last byte of the last such word. Word-internal
//!   apostrophes are part of a word (`nation’s`), but nothing outside the word is
//!   included: no surrounding quote marks, no trailing `.`/`,`/`?` and no closing
//!   quote or apostrophe after the word. A fragment of a sentence gives just that
//!   fragment; a quote across sentences gives a span across them.
//! * **Differences**: maximal runs of adjacent non-equal words (substitutions,
//!   insertions, deletions, related-but-different words), in order. Each side is the
//!   verbatim text from the first to the last word of the run (internal punctuation
//!   kept, runs of whitespace/control characters collapsed to one space). A pure
//!   insertion or deletion is *anchored*: the run is extended by the following unchanged
//!   word (or, at the very end, the preceding one) so neither side is empty, e.g.
//!   `{said: "all men", original: "men"}`. Runs that would share an anchor word are merged.
//!   Differences of case, punctuation, quote style, dashes or whitespace are not
//!   differences.
//! * **Similarity**: Dice-style `2·M / (Q + S)` where `Q` is the number of quote words,
//!   `S` the number of passage words in the span, and `M` the number of equal word pairs
//!   plus half a point for every related pair. `1.0` exactly when the quote is exact;
//!   a span much longer than the quote (gaps in the original) or quote words with no
//!   counterpart pull it down.
//!
//! # Elisions
//!
//! * **Written** ([`align_pieces`]): a quote cut at "…", "...", "[…]" or "[...]" is
//!   aligned piece by piece, each piece after the previous one in the passage. The
//!   passage words between pieces are neither differences nor counted in the
//!   similarity; if every piece is exact, the alignment is exact, with
//!   [`Elided::Marked`].
//! * **Unmarked**: a run of at least [`MIN_UNMARKED_ELISION`] passage words skipped
//!   between two matched parts of a quote. Each side, read from the gap to the
//!   quote's end or the next gap, is *firm* (at least [`MIN_ELISION_SIDE`] equal
//!   words in a row next to the gap, or after one changed word next to it) or
//!   *short*: [`MIN_ELISION_SIDE`] equal words before a second changed word
//!   (`"judiciary | will forever be the least"`), or, when the skipped run and its
//!   neighbours lie in one sentence, only equal words, at least
//!   [`MIN_SHORT_ELISION_SIDE`] (the quote's first or last words alone: `"the
//!   judiciary | will always be"`, `"sprang up, | it failed"`). The dynamic
//!   programme may skip such a run at once, however long and across sentence
//!   boundaries within the passage, for a fixed price: first the one two equal
//!   words earn back, then, if that reading does not hold, the one only three do.
//!   It keeps a reading when every run it skips is an elision and the rest of the
//!   quote has at most two other changed runs (one, when a side is short), and
//!   otherwise aligns as if it could not (a run of deletions between firm sides,
//!   or the end of the quote aligned again after or before the rest, may still
//!   make one). An elision that
//!   could equally stand one word earlier or later is moved to a sentence boundary.
//!   The gap is one difference, reaching the equal words on both sides and taking in
//!   any changed words next to it (`"citizens who"` → `"citizens, whether … whole,
//!   who"`; `"hands is the"` → `"hands, whether of one … may justly be pronounced
//!   the"`), shortened with "…" past [`MAX_DIFFERENCE_WORDS`] words; its words count
//!   as one word of the span in the similarity. Never exact: [`Elided::Unmarked`].

use std::ops::Range;

use crate::answer::Difference;

mod diff;
mod dp;
mod pieces;
#[cfg(test)]
mod tests;
mod words;

use diff::differences;
use dp::Op;
use pieces::{Chain, chain, elisions};
use words::Tokens;

/// Similarity at or above which a non-exact alignment counts as a recognisable misquote ("close").
///
/// Chosen from the test cases below (similarities as measured): the Federalist 51
/// misquotes score 0.84 ("If all men were angels, … needed") and 0.86 ("Ambition must be
/// made to check ambition"); one word substituted, inserted or dropped in a sentence
/// 0.90–0.97; several changes in one sentence 0.74–0.83; paraphrases that keep most of
/// the wording 0.78–0.83; one word changed in a short fragment 0.67–0.80. Invented quotes
/// on the same topic that share a few common words score 0.14–0.47, common words
/// scattered across a paragraph 0.43, and a two-word quote with only one word right 0.50.
/// 0.6 sits between the two groups with a margin of about 0.07–0.1 on each side. Loose
/// paraphrases land near it (e.g. "If men were angels there would be no need for
/// government" scores exactly 0.60), which is where the line between "close" and
/// "not found" belongs.
pub const CLOSE_THRESHOLD: f32 = 0.6;

/// Quotes with more words than this are not aligned ([`align`] returns `None`): nobody quotes
/// a whole page from memory, and it bounds the cost of one alignment.
pub const MAX_QUOTE_WORDS: usize = 300;

/// Passages with more words than this are not aligned ([`align`] returns `None`); this bounds
/// the alignment table at `MAX_QUOTE_WORDS × MAX_PASSAGE_WORDS` bytes.
pub const MAX_PASSAGE_WORDS: usize = 20_000;

/// A run of at least this many skipped passage words between matched parts of a quote is
/// an unmarked elision.
pub const MIN_UNMARKED_ELISION: usize = 4;

/// Each side of an unmarked elision holds at least this many equal words
/// (before a second changed word), unless it is short ([`MIN_SHORT_ELISION_SIDE`]).
pub const MIN_ELISION_SIDE: usize = 3;

/// A side of an unmarked elision within one sentence may hold only this
/// many words, all equal: the quote's first or last words, or the words
/// between two elisions.
pub const MIN_SHORT_ELISION_SIDE: usize = 2;

/// An elided run of the original longer than this many words is shortened with "…" in
/// its difference.
pub const MAX_DIFFERENCE_WORDS: usize = 16;

/// Whether, and how, a quote leaves words of the original out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elided {
    /// Nothing left out.
    No,
    /// Left out where the quote says so ("…").
    Marked,
    /// Left out silently (a long run of the original skipped).
    Unmarked,
}

/// How a quote lines up with a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// Byte range of the aligned original words in the passage.
    pub span: Range<usize>,
    /// Similarity in [0, 1]; 1.0 means the same words.
    pub similarity: f32,
    /// True when every word matches (ignoring case, punctuation, quotes, dashes, whitespace).
    pub exact: bool,
    /// Word-level differences, in order; empty when `exact`.
    pub differences: Vec<Difference>,
    /// Number of quote words that matched a passage word (equal words only; related
    /// inflections such as `government`/`governments` are not counted).
    pub matched: usize,
    /// Byte ranges in the quote of the words equal or related to a passage word.
    pub anchors: Vec<Range<usize>>,
    /// Whether the quote leaves words of the original out.
    pub elided: Elided,
}

impl Alignment {
    /// True when the quote is exact or similar enough to be a recognisable misquote.
    pub fn is_close(&self) -> bool {
        self.exact || self.similarity >= CLOSE_THRESHOLD
    }
}

/// The words of `text` as normalised tokens with their byte ranges (used by callers for candidate filtering).
///
/// The normalised form is lower-cased, accent-folded, with apostrophes written as `'`;
/// each range is the verbatim word in `text` (always on `char` boundaries).
pub fn words(text: &str) -> Vec<(String, Range<usize>)> {
    let toks = Tokens::new(text);
    toks.toks
        .iter()
        .map(|t| (toks.buf[t.norm.clone()].to_string(), t.span.clone()))
        .collect()
}

/// Normalises one word or phrase the way [`words`] does, joining the words with single spaces.
#[cfg(test)]
pub fn normalize(text: &str) -> String {
    let toks = Tokens::new(text);
    let mut out = String::with_capacity(toks.buf.len() + toks.toks.len());
    for (k, t) in toks.toks.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(&toks.buf[t.norm.clone()]);
    }
    out
}

/// Byte offsets in `quote` of its written elisions ("…", "...", "[…]", "[...]")
/// that have words on both sides.
pub fn written_elisions(quote: &str) -> Vec<usize> {
    elisions(quote)
}

/// Aligns `quote` against `passage`; None when nothing lines up (no shared word).
///
/// Also `None` when either text has no words, or when the quote has more than
/// [`MAX_QUOTE_WORDS`] words or the passage more than [`MAX_PASSAGE_WORDS`] words.
/// Unmarked elisions are recognised (see the module documentation); written ones are
/// read as punctuation, see [`align_pieces`].
pub fn align(quote: &str, passage: &str) -> Option<Alignment> {
    align_pieces(quote, &[], passage)
}

/// Aligns `quote`, cut at byte offsets `cuts` (written elisions, ascending), against
/// `passage`: each piece in order, later pieces after earlier ones. None when a piece
/// does not line up after the one before it; with no cuts, the same as [`align`].
pub fn align_pieces(quote: &str, cuts: &[usize], passage: &str) -> Option<Alignment> {
    let q = Tokens::with_limit(quote, MAX_QUOTE_WORDS + 1);
    if q.toks.is_empty() || q.toks.len() > MAX_QUOTE_WORDS {
        return None;
    }
    let p = Tokens::with_limit(passage, MAX_PASSAGE_WORDS + 1);
    if p.toks.is_empty() || p.toks.len() > MAX_PASSAGE_WORDS {
        return None;
    }
    let bounds = piece_bounds(&q, cuts);
    let chain = if bounds.len() > 2 {
        chain(&q, &bounds, &p)?
    } else {
        pieces::whole(&q, &p)?
    };
    Some(finish(&chain, quote, &q, passage, &p))
}

/// Token indices where the pieces cut at `cuts` start, plus the number of words; a
/// cut with no word on one side is dropped.
fn piece_bounds(q: &Tokens, cuts: &[usize]) -> Vec<usize> {
    let mut bounds = vec![0];
    for &cut in cuts {
        let k = q.toks.partition_point(|t| t.span.start < cut);
        if k > *bounds.last().unwrap_or(&0) && k < q.toks.len() {
            bounds.push(k);
        }
    }
    bounds.push(q.toks.len());
    bounds
}

/// The alignment a chain of aligned pieces makes.
fn finish(chain: &Chain, quote: &str, q: &Tokens, passage: &str, p: &Tokens) -> Alignment {
    let ops = &chain.ops;
    let first = ops.iter().find_map(Op::span_word).unwrap_or(0);
    let last = ops.iter().rev().find_map(Op::span_word).unwrap_or(first);
    let span = p.toks[first].span.start..p.toks[last].span.end;

    let equal = ops.iter().filter(|o| matches!(o, Op::Equal(..))).count();
    let related = ops.iter().filter(|o| matches!(o, Op::Related(..))).count();
    let unmarked = chain.gaps.iter().filter(|g| !g.marked).count();
    let exact = unmarked == 0 && ops.iter().all(|o| matches!(o, Op::Equal(..)));
    let quote_words = q.toks.len();
    let gap_words: usize = chain.gaps.iter().map(|g| g.words.len()).sum();
    let span_words = (last - first + 1).saturating_sub(gap_words) + unmarked;
    let similarity = if exact {
        1.0
    } else {
        let m = equal as f32 + 0.5 * related as f32;
        (2.0 * m / (quote_words + span_words) as f32).clamp(0.0, 1.0)
    };
    let diffs = if exact {
        Vec::new()
    } else {
        differences(chain, quote, q, passage, p)
    };
    let anchors = ops
        .iter()
        .filter(|o| o.is_anchor())
        .filter_map(Op::quote_word)
        .map(|i| q.toks[i].span.clone())
        .collect();
    let elided = if unmarked > 0 {
        Elided::Unmarked
    } else if chain.gaps.is_empty() {
        Elided::No
    } else {
        Elided::Marked
    };
    Alignment {
        span,
        similarity,
        exact,
        differences: diffs,
        matched: equal,
        anchors,
        elided,
    }
}
