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

use std::ops::Range;

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

/// One word-level difference between the quote and the original, both sides verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What the quote says (verbatim words from the quote).
    pub said: String,
    /// What the passage says (verbatim words from the passage).
    pub original: String,
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

/// Aligns `quote` against `passage`; None when nothing lines up (no shared word).
///
/// Also `None` when either text has no words, or when the quote has more than
/// [`MAX_QUOTE_WORDS`] words or the passage more than [`MAX_PASSAGE_WORDS`] words.
pub fn align(quote: &str, passage: &str) -> Option<Alignment> {
    let q = Tokens::with_limit(quote, MAX_QUOTE_WORDS + 1);
    if q.toks.is_empty() || q.toks.len() > MAX_QUOTE_WORDS {
        return None;
    }
    let p = Tokens::with_limit(passage, MAX_PASSAGE_WORDS + 1);
    if p.toks.is_empty() || p.toks.len() > MAX_PASSAGE_WORDS {
        return None;
    }
    let mut ops = dp_align(&q, &p)?;
    trim_ends(&mut ops, &p)?;

    let first = ops.iter().find_map(Op::span_word)?;
    let last = ops.iter().rev().find_map(Op::span_word)?;
    let span = p.toks[first].span.start..p.toks[last].span.end;

    let equal = ops.iter().filter(|o| matches!(o, Op::Equal(..))).count();
    let related = ops.iter().filter(|o| matches!(o, Op::Related(..))).count();
    let exact = ops.iter().all(|o| matches!(o, Op::Equal(..)));
    let quote_words = q.toks.len();
    let span_words = last - first + 1;
    let similarity = if exact {
        1.0
    } else {
        let m = equal as f32 + 0.5 * related as f32;
        (2.0 * m / (quote_words + span_words) as f32).clamp(0.0, 1.0)
    };
    let differences = if exact {
        Vec::new()
    } else {
        differences(&ops, quote, &q, passage, &p)
    };
    Some(Alignment {
        span,
        similarity,
        exact,
        differences,
        matched: equal,
    })
}

// ---------------------------------------------------------------------------
// Tokenising

/// One word: its verbatim byte range, its normalised form (a range into `Tokens::buf`),
/// a hash and a 4-byte prefix key of the apostrophe-free normalised form.
struct Tok {
    span: Range<usize>,
    norm: Range<usize>,
    hash: u64,
    /// First four bytes of the apostrophe-free normalised form, or 0 when shorter.
    key: u32,
    /// A sentence boundary (`.`, `!`, `?`, `;`, `:`) lies between the previous word and this one.
    boundary_before: bool,
}

/// The words of one text; all normalised forms share one buffer.
struct Tokens {
    buf: String,
    toks: Vec<Tok>,
}

impl Tokens {
    /// Tokenises all of `text`.
    fn new(text: &str) -> Tokens {
        Tokens::with_limit(text, usize::MAX)
    }

    /// Tokenises at most `limit` words (stops early on huge inputs).
    fn with_limit(text: &str, limit: usize) -> Tokens {
        let bytes = text.as_bytes();
        let mut buf = String::with_capacity(text.len().min(limit.saturating_mul(8)));
        let mut toks = Vec::with_capacity((text.len() / 5 + 1).min(limit));
        let mut boundary = false;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            // Between words: skip separators, noting sentence ends.
            if b.is_ascii() {
                if !b.is_ascii_alphanumeric() {
                    boundary |= matches!(b, b'.' | b'!' | b'?' | b';' | b':');
                    i += 1;
                    continue;
                }
            } else {
                let Some(c) = char_at(text, i) else { break };
                if !c.is_alphanumeric() {
                    boundary |= is_sentence_end(c);
                    i += c.len_utf8();
                    continue;
                }
            }
            // A word: alphanumerics, combining marks, and apostrophes between alphanumerics.
            let start = i;
            let ns = buf.len();
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii_alphanumeric() {
                    buf.push(char::from(b.to_ascii_lowercase()));
                    i += 1;
                    continue;
                }
                if b.is_ascii() && b != b'\'' {
                    break;
                }
                let Some(d) = char_at(text, i) else { break };
                if d.is_alphanumeric() {
                    push_norm(&mut buf, d);
                } else if is_mark(d) || is_ignorable(d) {
                    // Part of the word, dropped from the normalised form.
                } else if is_apostrophe(d)
                    && i > start
                    && char_at(text, i + d.len_utf8()).is_some_and(char::is_alphanumeric)
                {
                    buf.push('\'');
                } else {
                    break;
                }
                i += d.len_utf8();
            }
            if buf.len() == ns {
                continue;
            }
            let (hash, key) = hash_and_key(&buf[ns..]);
            toks.push(Tok {
                span: start..i,
                norm: ns..buf.len(),
                hash,
                key,
                boundary_before: boundary,
            });
            boundary = false;
            if toks.len() >= limit {
                break;
            }
        }
        Tokens { buf, toks }
    }

    /// The normalised form of word `k`.
    fn norm(&self, k: usize) -> &str {
        &self.buf[self.toks[k].norm.clone()]
    }
}

/// The character starting at byte `i` (which must be a char boundary or the end).
#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        None => None,
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        Some(_) => text.get(i..)?.chars().next(),
    }
}

/// Apostrophe styles treated as one: straight, curly (both), modifier letter, fullwidth.
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}')
}

/// Combining marks: part of the word they follow, dropped when normalising.
fn is_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Invisible characters that may sit inside a word: soft hyphen, zero-width (non-)joiner.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200C}' | '\u{200D}')
}

/// Punctuation that ends a sentence or clause, for keeping end substitutions in one sentence.
fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | ';' | ':' | '\u{3002}' | '\u{FF01}' | '\u{FF1F}' | '\u{FF1B}'
    )
}

/// Appends the normalised form of a non-ASCII alphanumeric character.
fn push_norm(buf: &mut String, c: char) {
    for l in c.to_lowercase() {
        if !is_mark(l) && !is_ignorable(l) {
            buf.push(fold_accent(l));
        }
    }
}

/// Folds the common Latin-1 accented lower-case letters to their base letter.
fn fold_accent(c: char) -> char {
    match c {
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// Hash and 4-byte prefix key of a normalised word, ignoring apostrophes. The bytes are
/// packed eight at a time and mixed once per eight (equality is always confirmed by
/// [`same_word`], so the hash only has to be fast and well spread).
fn hash_and_key(norm: &str) -> (u64, u32) {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64| {
        let h = h.wrapping_mul(K);
        h ^ (h >> 29)
    };
    let mut hash: u64 = 0;
    let mut chunk: u64 = 0;
    let mut key: u32 = 0;
    let mut n = 0usize;
    for b in norm.bytes() {
        if b == b'\'' {
            continue;
        }
        chunk = (chunk << 8) | u64::from(b);
        if n < 4 {
            key = (key << 8) | u32::from(b);
        }
        n += 1;
        if n.is_multiple_of(8) {
            hash = mix(hash ^ chunk);
            chunk = 0;
        }
    }
    hash = mix(mix(hash ^ chunk) ^ n as u64);
    (hash, if n >= 4 { key } else { 0 })
}

/// Equal normalised words, ignoring apostrophes (`its` = `it's`).
fn same_word(a: &str, b: &str) -> bool {
    a == b
        || a.bytes()
            .filter(|&c| c != b'\'')
            .eq(b.bytes().filter(|&c| c != b'\''))
}

/// Same stem: at least 4 common leading characters, at most 3 differing trailing
/// characters on each side (`government`/`governments`, `fears`/`feared`).
fn related_words(a: &str, b: &str) -> bool {
    let mut ac = a.chars().filter(|&c| c != '\'');
    let mut bc = b.chars().filter(|&c| c != '\'');
    let mut common = 0;
    let (mut ra, mut rb) = loop {
        match (ac.next(), bc.next()) {
            (Some(x), Some(y)) if x == y => common += 1,
            (x, y) => break (usize::from(x.is_some()), usize::from(y.is_some())),
        }
    };
    if common < 4 {
        return false;
    }
    ra += ac.take(4).count();
    rb += bc.take(4).count();
    ra <= 3 && rb <= 3 && ra + rb > 0
}

// ---------------------------------------------------------------------------
// Alignment

/// Alignment scores. With at most [`MAX_QUOTE_WORDS`] rows every cell lies in
/// `[GAP·(n+1), EQUAL·n]`, well inside `i16`, which doubles the SIMD width.
type Score = i16;
const SCORE_EQUAL: Score = 4;
const SCORE_RELATED: Score = 2;
const SCORE_SUB: Score = -2;
const SCORE_GAP: Score = -3;

/// Moves recorded in the traceback table.
const DIAG: u8 = 0;
const UP: u8 = 1;
const LEFT: u8 = 2;

/// One step of an alignment: quote word index and/or passage word index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Equal words.
    Equal(usize, usize),
    /// Same stem, different form.
    Related(usize, usize),
    /// Different words in the same position.
    Sub(usize, usize),
    /// A quote word with no counterpart in the passage.
    Ins(usize),
    /// A passage word the quote skips.
    Del(usize),
}

impl Op {
    /// The quote word this op consumes, if any.
    fn quote_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(i, _) | Op::Related(i, _) | Op::Sub(i, _) | Op::Ins(i) => Some(i),
            Op::Del(_) => None,
        }
    }

    /// The passage word this op consumes, if any.
    fn passage_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(_, j) | Op::Related(_, j) | Op::Sub(_, j) | Op::Del(j) => Some(j),
            Op::Ins(_) => None,
        }
    }

    /// The passage word of an op that pairs a quote word with a passage word.
    fn span_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(_, j) | Op::Related(_, j) | Op::Sub(_, j) => Some(j),
            Op::Ins(_) | Op::Del(_) => None,
        }
    }

    /// Equal or related words: the ops that tie the quote to the passage.
    fn is_anchor(&self) -> bool {
        matches!(self, Op::Equal(..) | Op::Related(..))
    }
}

/// Classifies the pairing of quote word `i` with passage word `j`.
fn pair_op(q: &Tokens, i: usize, p: &Tokens, j: usize) -> Op {
    let (a, b) = (&q.toks[i], &p.toks[j]);
    if a.hash == b.hash && same_word(q.norm(i), p.norm(j)) {
        Op::Equal(i, j)
    } else if a.hash != b.hash
        && a.key != 0
        && a.key == b.key
        && related_words(q.norm(i), p.norm(j))
    {
        Op::Related(i, j)
    } else {
        Op::Sub(i, j)
    }
}

/// Non-substitution word pairs `(quote word, passage word, score)`, sorted by quote word
/// then passage word. Found by binary search of the passage words' hashes and prefix
/// keys among the quote's, so the cost is `O(m log n)` plus the hits.
fn pair_hits(q: &Tokens, p: &Tokens) -> Vec<(usize, usize, Score)> {
    let mut by_hash: Vec<(u64, usize)> = q
        .toks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.hash, i))
        .collect();
    by_hash.sort_unstable();
    let mut by_key: Vec<(u32, usize)> = q
        .toks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.key != 0)
        .map(|(i, t)| (t.key, i))
        .collect();
    by_key.sort_unstable();
    let mut hits = Vec::new();
    for (j, t) in p.toks.iter().enumerate() {
        let from = by_hash.partition_point(|&(h, _)| h < t.hash);
        for &(_, i) in by_hash[from..].iter().take_while(|&&(h, _)| h == t.hash) {
            if same_word(q.norm(i), p.norm(j)) {
                hits.push((i, j, SCORE_EQUAL));
            }
        }
        if t.key == 0 {
            continue;
        }
        let from = by_key.partition_point(|&(k, _)| k < t.key);
        for &(_, i) in by_key[from..].iter().take_while(|&&(k, _)| k == t.key) {
            if q.toks[i].hash != t.hash && related_words(q.norm(i), p.norm(j)) {
                hits.push((i, j, SCORE_RELATED));
            }
        }
    }
    // Stable counting sort by quote word (passage words are already ascending).
    let mut starts = vec![0usize; q.toks.len() + 1];
    for h in &hits {
        starts[h.0 + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut sorted = vec![(0, 0, 0); hits.len()];
    for h in hits {
        sorted[starts[h.0]] = h;
        starts[h.0] += 1;
    }
    sorted
}

/// Semi-global alignment: every quote word is aligned, the passage has free ends.
/// Returns the operations in quote/passage order, or `None` when no word pair is equal
/// or related (nothing can line up).
///
/// Row `i`, column `j` holds the best score of aligning the first `i` quote words so
/// that the last passage word consumed is `j - 1` (row 0 is all zeros: free start).
/// Only two score rows are kept, plus one byte per cell recording the move taken;
/// ties prefer diagonal over vertical (insertion) over horizontal (deletion).
fn dp_align(q: &Tokens, p: &Tokens) -> Option<Vec<Op>> {
    let n = q.toks.len();
    let m = p.toks.len();
    let w = m + 1;
    let hits = pair_hits(q, p);
    if hits.is_empty() {
        return None;
    }
    let mut next_hit = 0;
    let mut scores = vec![SCORE_SUB; w];
    let mut prev: Vec<Score> = vec![0; w];
    let mut cur: Vec<Score> = vec![0; w];
    let mut trace = vec![0u8; n * w];
    for i in 1..=n {
        // scores[j] is the score of pairing quote word i-1 with passage word j-1.
        let row_hits = hits[next_hit..].iter().take_while(|t| t.0 == i - 1).count();
        let row_hits = &hits[next_hit..next_hit + row_hits];
        next_hit += row_hits.len();
        for &(_, j, s) in row_hits {
            scores[j + 1] = s;
        }
        // Diagonal and vertical moves do not depend on this row: compute them first
        // (vectorisable). A horizontal move (deletion) can only win strictly right after
        // a cell reached by a word hit: after a vertical move it loses by 3 or more to
        // the diagonal, and after a substitution it at best ties (rows never drop by
        // more than 3 per column). So the serial chain of deletions only runs from hits.
        for ((c, (&diag, &up)), &s) in cur[1..]
            .iter_mut()
            .zip(prev.iter().zip(&prev[1..]))
            .zip(&scores[1..])
        {
            *c = (diag + s).max(up + SCORE_GAP);
        }
        cur[0] = SCORE_GAP * i as Score;
        for &(_, jh, _) in row_hits {
            let mut j = jh + 2;
            while j < w && cur[j - 1] + SCORE_GAP > cur[j] {
                cur[j] = cur[j - 1] + SCORE_GAP;
                j += 1;
            }
        }
        let row = &mut trace[(i - 1) * w..i * w];
        row[0] = UP;
        for ((d, &c), ((&diag, &up), &s)) in row[1..]
            .iter_mut()
            .zip(&cur[1..])
            .zip(prev.iter().zip(&prev[1..]).zip(&scores[1..]))
        {
            let not_diag = u8::from(c != diag + s);
            let not_up = u8::from(c != up + SCORE_GAP);
            *d = not_diag * (1 + not_up);
        }
        for &(_, j, _) in row_hits {
            scores[j + 1] = SCORE_SUB;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // `prev` is the last row; the earliest best end wins ties.
    let mut end = 0;
    for j in 1..=m {
        if prev[j] > prev[end] {
            end = j;
        }
    }
    let mut ops = Vec::with_capacity(n + 8);
    let (mut i, mut j) = (n, end);
    while i > 0 {
        match trace[(i - 1) * w + j] {
            DIAG if j > 0 => {
                ops.push(pair_op(q, i - 1, p, j - 1));
                i -= 1;
                j -= 1;
            }
            LEFT if j > 0 => {
                ops.push(Op::Del(j - 1));
                j -= 1;
            }
            _ => {
                ops.push(Op::Ins(i - 1));
                i -= 1;
            }
        }
    }
    ops.reverse();
    Some(ops)
}

/// Keeps end-of-quote substitutions within the sentence of the nearest anchor, and drops
/// passage words skipped at the ends. Returns `None` when nothing is anchored.
fn trim_ends(ops: &mut Vec<Op>, p: &Tokens) -> Option<()> {
    // Leading run: ops before the first anchor.
    let first = ops.iter().position(Op::is_anchor)?;
    let b = ops[first].passage_word()?;
    if let Some(s) = ops[..first].iter().filter_map(Op::passage_word).min()
        && let Some(k) = (s + 1..=b).rev().find(|&k| p.toks[k].boundary_before)
    {
        cut_passage_words(ops, 0..first, |j| j < k);
    }
    // Trailing run: ops after the last anchor.
    let last = ops.iter().rposition(Op::is_anchor)?;
    let e = ops[last].passage_word()?;
    if let Some(t) = ops[last + 1..].iter().filter_map(Op::passage_word).max()
        && let Some(k) = (e + 1..=t).find(|&k| p.toks[k].boundary_before)
    {
        cut_passage_words(ops, last + 1..ops.len(), |j| j >= k);
    }
    // Passage words skipped outside the paired words are not part of the span.
    let lo = ops.iter().position(|o| o.span_word().is_some())?;
    let hi = ops.iter().rposition(|o| o.span_word().is_some())?;
    let mut k = 0;
    ops.retain(|o| {
        let keep = !(matches!(o, Op::Del(_)) && (k < lo || k > hi));
        k += 1;
        keep
    });
    Some(())
}

/// Within `range` of `ops`, turns substitutions of cut passage words into insertions and
/// removes deletions of cut passage words.
fn cut_passage_words(ops: &mut Vec<Op>, range: Range<usize>, cut: impl Fn(usize) -> bool) {
    let mut k = 0;
    ops.retain_mut(|o| {
        let inside = range.contains(&k);
        k += 1;
        if !inside {
            return true;
        }
        match *o {
            Op::Sub(i, j) if cut(j) => {
                *o = Op::Ins(i);
                true
            }
            Op::Del(j) => !cut(j),
            _ => true,
        }
    });
}

// ---------------------------------------------------------------------------
// Differences

/// The differences of an alignment: maximal runs of non-equal ops, anchored and merged
/// as described in the module documentation.
fn differences(ops: &[Op], quote: &str, q: &Tokens, passage: &str, p: &Tokens) -> Vec<Difference> {
    // Maximal runs of non-equal ops, each anchored if one side is empty.
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut k = 0;
    while k < ops.len() {
        if matches!(ops[k], Op::Equal(..)) {
            k += 1;
            continue;
        }
        let s = k;
        while k < ops.len() && !matches!(ops[k], Op::Equal(..)) {
            k += 1;
        }
        let mut run = s..k;
        let has_q = ops[run.clone()].iter().any(|o| o.quote_word().is_some());
        let has_p = ops[run.clone()].iter().any(|o| o.passage_word().is_some());
        if !(has_q && has_p) {
            if k < ops.len() {
                run.end += 1;
            } else if s > 0 {
                run.start -= 1;
            }
        }
        match runs.last_mut() {
            Some(prev) if run.start < prev.end => prev.end = prev.end.max(run.end),
            _ => runs.push(run),
        }
    }
    runs.into_iter()
        .map(|run| {
            let ops = &ops[run];
            Difference {
                said: words_text(quote, q, ops.iter().filter_map(Op::quote_word)),
                original: words_text(passage, p, ops.iter().filter_map(Op::passage_word)),
            }
        })
        .collect()
}

/// Verbatim text from the first to the last of the given (ascending) words, with runs of
/// whitespace and control characters collapsed to one space.
fn words_text(
    text: &str,
    toks: &Tokens,
    mut idx: impl DoubleEndedIterator<Item = usize>,
) -> String {
    let Some(a) = idx.next() else {
        return String::new();
    };
    let b = idx.next_back().unwrap_or(a);
    let slice = &text[toks.toks[a].span.start..toks.toks[b].span.end];
    let mut out = String::with_capacity(slice.len());
    let mut space = false;
    for c in slice.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn assert_close(
        quote: &str,
        passage: &str,
        expected_span: &str,
        expected: &[Difference],
    ) -> f32 {
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

    /// Straightforward O(n·m) reference of `dp_align` (full table, full horizontal chain).
    fn reference_dp(q: &Tokens, p: &Tokens) -> Vec<Op> {
        let (n, m) = (q.toks.len(), p.toks.len());
        let mut h = vec![vec![0i32; m + 1]; n + 1];
        for i in 1..=n {
            h[i][0] = i32::from(SCORE_GAP) * i as i32;
            for j in 1..=m {
                let s = match pair_op(q, i - 1, p, j - 1) {
                    Op::Equal(..) => SCORE_EQUAL,
                    Op::Related(..) => SCORE_RELATED,
                    _ => SCORE_SUB,
                };
                let gap = i32::from(SCORE_GAP);
                h[i][j] = (h[i - 1][j - 1] + i32::from(s))
                    .max(h[i - 1][j] + gap)
                    .max(h[i][j - 1] + gap);
            }
        }
        let mut end = 0;
        for j in 1..=m {
            if h[n][j] > h[n][end] {
                end = j;
            }
        }
        let (mut i, mut j) = (n, end);
        let mut ops = Vec::new();
        while i > 0 {
            if j > 0 {
                let op = pair_op(q, i - 1, p, j - 1);
                let s = match op {
                    Op::Equal(..) => SCORE_EQUAL,
                    Op::Related(..) => SCORE_RELATED,
                    _ => SCORE_SUB,
                };
                if h[i][j] == h[i - 1][j - 1] + i32::from(s) {
                    ops.push(op);
                    i -= 1;
                    j -= 1;
                    continue;
                }
            }
            if j == 0 || h[i][j] == h[i - 1][j] + i32::from(SCORE_GAP) {
                ops.push(Op::Ins(i - 1));
                i -= 1;
            } else {
                ops.push(Op::Del(j - 1));
                j -= 1;
            }
        }
        ops.reverse();
        ops
    }

    #[test]
    fn fast_dp_matches_reference_dp() {
        let vocab = [
            "the",
            "of",
            "men",
            "angels",
            "government",
            "governments",
            "governed",
            "control",
            "ambition",
            "ambitions",
            "necessary",
            "a",
            "to",
            "be",
            "is",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |k: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % k as u64) as usize
        };
        for round in 0..400 {
            let m = 1 + next(60);
            let passage: Vec<&str> = (0..m).map(|_| vocab[next(vocab.len())]).collect();
            let passage = passage.join(if round % 3 == 0 { ". " } else { " " });
            let n = 1 + next(15);
            let quote: Vec<&str> = if round % 2 == 0 {
                (0..n).map(|_| vocab[next(vocab.len())]).collect()
            } else {
                // A mutated slice of the passage.
                let pw: Vec<&str> = passage
                    .split([' ', '.'])
                    .filter(|w| !w.is_empty())
                    .collect();
                let s = next(pw.len());
                pw[s..(s + n).min(pw.len())]
                    .iter()
                    .map(|&w| {
                        if next(4) == 0 {
                            vocab[next(vocab.len())]
                        } else {
                            w
                        }
                    })
                    .collect()
            };
            let quote = quote.join(" ");
            let (qt, pt) = (Tokens::new(&quote), Tokens::new(&passage));
            let reference = reference_dp(&qt, &pt);
            match dp_align(&qt, &pt) {
                Some(ops) => assert_eq!(ops, reference, "{quote:?} vs {passage:?}"),
                None => assert!(!reference.iter().any(Op::is_anchor)),
            }
            // And the public entry point never panics and keeps its invariants.
            if let Some(a) = align(&quote, &passage) {
                assert!((0.0..=1.0).contains(&a.similarity));
                assert!(
                    passage.is_char_boundary(a.span.start) && passage.is_char_boundary(a.span.end)
                );
                assert_eq!(a.exact, a.differences.is_empty());
            }
        }
    }

    /// Prints the time per alignment of a 40-word quote against a 1,000-word passage.
    /// Run with `cargo test --release -- --ignored --nocapture timing`.
    #[test]
    #[ignore]
    fn timing() {
        let vocab = words(FED51_PARAGRAPH);
        let mut passage = String::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for k in 0..1_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (_, r) = &vocab[(x % vocab.len() as u64) as usize];
            passage.push_str(&FED51_PARAGRAPH[r.clone()]);
            passage.push_str(if k % 17 == 16 { ". " } else { " " });
        }
        // 40 words from a real sentence run, spliced into the middle, with two changes.
        let toks = words(FED51_PARAGRAPH);
        let quote_src = &FED51_PARAGRAPH[toks[120].1.start..toks[159].1.end];
        let mid = passage.len() / 2;
        let mid = (mid..passage.len())
            .find(|&i| passage.as_bytes()[i] == b' ')
            .unwrap();
        let passage = format!("{} {} {}", &passage[..mid], quote_src, &passage[mid..]);
        let quote = quote_src
            .replace("necessary", "needed")
            .replace("control", "rule");
        assert_eq!(words(&quote).len(), 40);
        let pw = words(&passage).len();
        // Best of several batches, to keep other load on the machine out of the figure.
        let iters = 200;
        let mut per = std::time::Duration::MAX;
        let mut sim = 0.0;
        for _ in 0..20 {
            let start = std::time::Instant::now();
            for _ in 0..iters {
                let a =
                    align(std::hint::black_box(&quote), std::hint::black_box(&passage)).unwrap();
                sim += a.similarity;
            }
            per = per.min(start.elapsed() / iters);
        }
        let iters = 20 * iters;
        let a = align(&quote, &passage).unwrap();
        println!(
            "align: 40-word quote vs {pw}-word passage: {per:?} per alignment (similarity {:.3}, mean {:.3}, {} differences)",
            a.similarity,
            sim / iters as f32,
            a.differences.len()
        );
    }
}
