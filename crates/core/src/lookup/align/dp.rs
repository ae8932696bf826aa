//! The alignment proper: a semi-global dynamic programme over words, and
//! the trimming of its ends (see the module documentation of [`super`]).

use std::ops::Range;

use super::MIN_UNMARKED_ELISION;
use super::words::{Tokens, related_words, same_word};

/// Alignment scores. With at most [`MAX_QUOTE_WORDS`] rows every cell lies in
/// `[GAP·(n+1), EQUAL·n]`, well inside `i16`, which doubles the SIMD width.
type Score = i16;
const SCORE_EQUAL: Score = 4;
const SCORE_RELATED: Score = 2;
const SCORE_SUB: Score = -2;
const SCORE_GAP: Score = -3;
/// The price of skipping a run of at least [`MIN_UNMARKED_ELISION`] passage
/// words at once, whatever its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Jump {
    /// Just under the price of six deletions, so that the
    /// [`MIN_ELISION_SIDE`](super::MIN_ELISION_SIDE) equal words an unmarked
    /// elision needs on each side earn it back against the substitutions
    /// they would otherwise be (3 × 4 − 17 > 3 × −2), and fewer do not.
    Firm,
    /// Just under the price of four deletions, so that a side of
    /// [`MIN_SHORT_ELISION_SIDE`](super::MIN_SHORT_ELISION_SIDE) equal words
    /// earns it back (2 × 4 − 11 > 2 × −2), and one word does not.
    Short,
}

impl Jump {
    fn score(self) -> Score {
        match self {
            Jump::Firm => 6 * SCORE_GAP + 1,
            Jump::Short => 4 * SCORE_GAP + 1,
        }
    }
}

/// Moves recorded in the traceback table.
const DIAG: u8 = 0;
const UP: u8 = 1;
const LEFT: u8 = 2;
const JUMP: u8 = 3;

/// One step of an alignment: quote word index and/or passage word index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
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
    pub(super) fn quote_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(i, _) | Op::Related(i, _) | Op::Sub(i, _) | Op::Ins(i) => Some(i),
            Op::Del(_) => None,
        }
    }

    /// The passage word this op consumes, if any.
    pub(super) fn passage_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(_, j) | Op::Related(_, j) | Op::Sub(_, j) | Op::Del(j) => Some(j),
            Op::Ins(_) => None,
        }
    }

    /// The passage word of an op that pairs a quote word with a passage word.
    pub(super) fn span_word(&self) -> Option<usize> {
        match *self {
            Op::Equal(_, j) | Op::Related(_, j) | Op::Sub(_, j) => Some(j),
            Op::Ins(_) | Op::Del(_) => None,
        }
    }

    /// Equal or related words: the ops that tie the quote to the passage.
    pub(super) fn is_anchor(&self) -> bool {
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
/// or related (nothing can line up). With `jumps`, a run of at least
/// [`MIN_UNMARKED_ELISION`] passage words may also be skipped at once for
/// that [`Jump`]'s price (an unmarked elision, however long); its words are
/// [`Op::Del`]s, and the second value lists the passage words of each jump.
///
/// Row `i`, column `j` holds the best score of aligning the first `i` quote words so
/// that the last passage word consumed is `j - 1` (row 0 is all zeros: free start).
/// Only two score rows are kept, plus one byte per cell recording the move taken;
/// ties prefer diagonal over vertical (insertion) over horizontal (deletion).
pub(super) fn dp_align(
    q: &Tokens,
    p: &Tokens,
    jumps: Option<Jump>,
) -> Option<(Vec<Op>, Vec<Range<usize>>)> {
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
    // Per row, the columns a jump may start from, as (column, score) each
    // time the best score so far strictly rises (a jump starts from the
    // earliest best column); `jump_rows[i]` is where row i's entries begin.
    let mut jump_from: Vec<(usize, Score)> = Vec::new();
    let mut jump_rows = vec![0usize; n + 1];
    let mut before_jumps: Vec<Score> = Vec::new();
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
        jump_rows[i - 1] = jump_from.len();
        if let Some(jump) = jumps {
            let price = jump.score();
            // A jump never follows a jump or a deletion with profit, so the
            // best start is taken from the row before any jump.
            before_jumps.clear();
            before_jumps.extend_from_slice(&cur);
            let mut best = Score::MIN;
            for j in MIN_UNMARKED_ELISION..w {
                let o = j - MIN_UNMARKED_ELISION;
                if before_jumps[o] > best {
                    best = before_jumps[o];
                    jump_from.push((o, best));
                }
                if best + price > cur[j] {
                    cur[j] = best + price;
                    row[j] = JUMP;
                }
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    jump_rows[n] = jump_from.len();
    // `prev` is the last row; the earliest best end wins ties.
    let mut end = 0;
    for j in 1..=m {
        if prev[j] > prev[end] {
            end = j;
        }
    }
    let mut ops = Vec::with_capacity(n + 8);
    let mut jumped = Vec::new();
    let (mut i, mut j) = (n, end);
    while i > 0 {
        match trace[(i - 1) * w + j] {
            JUMP => {
                let row = &jump_from[jump_rows[i - 1]..jump_rows[i]];
                let k = row.partition_point(|&(o, _)| o + MIN_UNMARKED_ELISION <= j);
                let o = row[k - 1].0;
                ops.extend((o..j).rev().map(Op::Del));
                jumped.push(o..j);
                j = o;
            }
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
    jumped.reverse();
    Some((ops, jumped))
}

/// Keeps end-of-quote substitutions within the sentence of the nearest anchor, and drops
/// passage words skipped at the ends. Returns `None` when nothing is anchored.
pub(super) fn trim_ends(ops: &mut Vec<Op>, p: &Tokens) -> Option<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::align::align;

    /// Straightforward reference of `dp_align` (full table, full horizontal chain,
    /// every jump tried).
    fn reference_dp(q: &Tokens, p: &Tokens, jumps: Option<Jump>) -> Vec<Op> {
        let (n, m) = (q.toks.len(), p.toks.len());
        let score = |op: Op| match op {
            Op::Equal(..) => SCORE_EQUAL,
            Op::Related(..) => SCORE_RELATED,
            _ => SCORE_SUB,
        };
        let gap = i32::from(SCORE_GAP);
        let jump = i32::from(jumps.map_or(0, Jump::score));
        let mut h = vec![vec![0i32; m + 1]; n + 1];
        // The best jump into each cell, from the earliest best column.
        let jump_into = |row: &[i32], j: usize| -> Option<(i32, usize)> {
            if jumps.is_none() || j < MIN_UNMARKED_ELISION {
                return None;
            }
            let mut best = (i32::MIN, 0);
            for (o, &v) in row.iter().enumerate().take(j - MIN_UNMARKED_ELISION + 1) {
                if v > best.0 {
                    best = (v, o);
                }
            }
            Some((best.0 + jump, best.1))
        };
        for i in 1..=n {
            h[i][0] = gap * i as i32;
            for j in 1..=m {
                let s = i32::from(score(pair_op(q, i - 1, p, j - 1)));
                h[i][j] = (h[i - 1][j - 1] + s)
                    .max(h[i - 1][j] + gap)
                    .max(h[i][j - 1] + gap);
            }
            let before: Vec<i32> = h[i].clone();
            for (j, cell) in h[i].iter_mut().enumerate().skip(1) {
                if let Some((v, _)) = jump_into(&before, j) {
                    *cell = (*cell).max(v);
                }
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
                if h[i][j] == h[i - 1][j - 1] + i32::from(score(op)) {
                    ops.push(op);
                    i -= 1;
                    j -= 1;
                    continue;
                }
            }
            if j == 0 || h[i][j] == h[i - 1][j] + gap {
                ops.push(Op::Ins(i - 1));
                i -= 1;
            } else if h[i][j] == h[i][j - 1] + gap {
                ops.push(Op::Del(j - 1));
                j -= 1;
            } else {
                // Recompute the row without jumps to find where this one starts.
                let mut before = vec![gap * i as i32; m + 1];
                for k in 1..=m {
                    let s = i32::from(score(pair_op(q, i - 1, p, k - 1)));
                    before[k] = (h[i - 1][k - 1] + s)
                        .max(h[i - 1][k] + gap)
                        .max(before[k - 1] + gap);
                }
                let (_, o) = jump_into(&before, j).expect("a jump");
                ops.extend((o..j).rev().map(Op::Del));
                j = o;
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
            for jumps in [None, Some(Jump::Firm), Some(Jump::Short)] {
                let reference = reference_dp(&qt, &pt, jumps);
                match dp_align(&qt, &pt, jumps) {
                    Some((ops, _)) => {
                        assert_eq!(ops, reference, "{quote:?} vs {passage:?} ({jumps:?})")
                    }
                    None => assert!(!reference.iter().any(Op::is_anchor)),
                }
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
}
