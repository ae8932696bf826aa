//! Pieces: a quote aligned in parts, with the original's words between
//! them left out, where the quote says so ("…") or silently (see the module
//! documentation of [`super`], *Elisions*).

use std::ops::Range;

use super::dp::{Op, dp_align, trim_ends};
use super::words::Tokens;
use super::{CLOSE_THRESHOLD, MIN_ELISION_SIDE, MIN_UNMARKED_ELISION};

/// Passage words an alignment leaves out between two of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gap {
    /// The passage words left out.
    pub(super) words: Range<usize>,
    /// The quote says so ("…").
    pub(super) marked: bool,
}

/// An alignment in parts: the ops of all parts in order, the op range of each
/// part, and the gap after each part but the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chain {
    pub(super) ops: Vec<Op>,
    pub(super) segments: Vec<Range<usize>>,
    pub(super) gaps: Vec<Gap>,
}

impl Chain {
    /// One alignment, split where it silently skips a long run of the passage.
    pub(super) fn single(ops: Vec<Op>, q: &Tokens, p: &Tokens) -> Chain {
        let chain = split_long_deletions(ops);
        if chain.gaps.is_empty() {
            realign_unaligned_end(&chain.ops, q, p).unwrap_or(chain)
        } else {
            chain
        }
    }
}

/// The aligned pieces of a quote cut at token indices `bounds` (first 0, last
/// the word count): each piece after the one before; None when one does not
/// line up.
pub(super) fn chain(q: &Tokens, bounds: &[usize], p: &Tokens) -> Option<Chain> {
    let mut out = Chain {
        ops: Vec::new(),
        segments: Vec::new(),
        gaps: Vec::new(),
    };
    let mut from = 0;
    for piece in bounds.windows(2) {
        if from >= p.toks.len() {
            return None;
        }
        let ops = align_piece(q, piece[0]..piece[1], p, from..p.toks.len())?;
        let first = ops.iter().find_map(Op::span_word)?;
        let last = ops.iter().rev().find_map(Op::span_word)?;
        if !out.segments.is_empty() {
            out.gaps.push(Gap {
                words: from..first,
                marked: true,
            });
        }
        let start = out.ops.len();
        out.ops.extend(ops);
        out.segments.push(start..out.ops.len());
        from = last + 1;
    }
    Some(out)
}

/// Byte offsets of the written elisions of `quote` ("…", "...", "[…]", "[...]").
pub(super) fn elisions(quote: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut dots = 0;
    for (i, c) in quote.char_indices() {
        if c == '…' {
            out.push(i);
        }
        dots = if c == '.' { dots + 1 } else { 0 };
        if dots == 3 {
            out.push(i - 2);
        }
    }
    out
}

/// Aligns quote words `qr` against passage words `pr`; the ops are numbered
/// as in the whole quote and passage.
fn align_piece(q: &Tokens, qr: Range<usize>, p: &Tokens, pr: Range<usize>) -> Option<Vec<Op>> {
    let (qs, ps) = (q.slice(qr.clone()), p.slice(pr.clone()));
    let mut ops = dp_align(&qs, &ps)?;
    trim_ends(&mut ops, &ps)?;
    let (di, dj) = (qr.start, pr.start);
    Some(
        ops.into_iter()
            .map(|op| match op {
                Op::Equal(i, j) => Op::Equal(i + di, j + dj),
                Op::Related(i, j) => Op::Related(i + di, j + dj),
                Op::Sub(i, j) => Op::Sub(i + di, j + dj),
                Op::Ins(i) => Op::Ins(i + di),
                Op::Del(j) => Op::Del(j + dj),
            })
            .collect(),
    )
}

/// Equal words among `ops`.
fn equal_count(ops: &[Op]) -> usize {
    ops.iter().filter(|o| matches!(o, Op::Equal(..))).count()
}

/// Splits `ops` at runs of at least [`MIN_UNMARKED_ELISION`] deletions with at
/// least [`MIN_ELISION_SIDE`] equal words on each side; the deletions become gaps.
fn split_long_deletions(ops: Vec<Op>) -> Chain {
    let mut cuts: Vec<Range<usize>> = Vec::new();
    let mut k = 0;
    while k < ops.len() {
        if !matches!(ops[k], Op::Del(_)) {
            k += 1;
            continue;
        }
        let s = k;
        while k < ops.len() && matches!(ops[k], Op::Del(_)) {
            k += 1;
        }
        let before = cuts.last().map_or(0, |c| c.end);
        if k - s >= MIN_UNMARKED_ELISION
            && equal_count(&ops[before..s]) >= MIN_ELISION_SIDE
            && equal_count(&ops[k..]) >= MIN_ELISION_SIDE
        {
            cuts.push(s..k);
        }
    }
    let mut out = Chain {
        ops: Vec::with_capacity(ops.len()),
        segments: Vec::new(),
        gaps: Vec::new(),
    };
    let mut at = 0;
    for cut in cuts {
        let start = out.ops.len();
        out.ops.extend_from_slice(&ops[at..cut.start]);
        out.segments.push(start..out.ops.len());
        let words = |o: &Op| o.passage_word();
        let first = ops[cut.clone()].iter().find_map(words).unwrap_or(0);
        let last = ops[cut.clone()]
            .iter()
            .rev()
            .find_map(words)
            .unwrap_or(first);
        out.gaps.push(Gap {
            words: first..last + 1,
            marked: false,
        });
        at = cut.end;
    }
    let start = out.ops.len();
    out.ops.extend_from_slice(&ops[at..]);
    out.segments.push(start..out.ops.len());
    out
}

/// When the alignment leaves at least [`MIN_ELISION_SIDE`] words at one end of
/// the quote without a counterpart, aligns them again in the passage after (or
/// before) the rest; a good enough match there, past a gap of at least
/// [`MIN_UNMARKED_ELISION`] words, makes an unmarked elision.
fn realign_unaligned_end(ops: &[Op], q: &Tokens, p: &Tokens) -> Option<Chain> {
    let unaligned = |o: &&Op| matches!(o, Op::Ins(_));
    let tail = ops.iter().rev().take_while(unaligned).count();
    let head = ops.iter().take_while(unaligned).count();
    let first = ops.iter().find_map(Op::span_word)?;
    let last = ops.iter().rev().find_map(Op::span_word)?;
    let good = |piece: &[Op], words: usize| {
        let equal = equal_count(piece);
        let span = piece.iter().filter_map(Op::passage_word).count();
        equal >= MIN_ELISION_SIDE && 2.0 * equal as f32 / (words + span) as f32 >= CLOSE_THRESHOLD
    };
    if tail >= MIN_ELISION_SIDE && equal_count(ops) >= MIN_ELISION_SIDE {
        let body = &ops[..ops.len() - tail];
        let n = q.toks.len();
        let from = last + 1 + MIN_UNMARKED_ELISION;
        if from < p.toks.len() {
            let piece = align_piece(q, n - tail..n, p, last + 1..p.toks.len())?;
            let start = piece.iter().find_map(Op::span_word)?;
            if start >= from && good(&piece, tail) {
                return Some(joined(body, &piece, last + 1..start));
            }
        }
    }
    if head >= MIN_ELISION_SIDE
        && equal_count(ops) >= MIN_ELISION_SIDE
        && first > MIN_UNMARKED_ELISION
    {
        let body = &ops[head..];
        let piece = align_piece(q, 0..head, p, 0..first)?;
        let end = piece.iter().rev().find_map(Op::span_word)?;
        if end + MIN_UNMARKED_ELISION < first && good(&piece, head) {
            return Some(joined(&piece, body, end + 1..first));
        }
    }
    None
}

/// Two parts with an unmarked gap between them.
fn joined(a: &[Op], b: &[Op], gap: Range<usize>) -> Chain {
    let mut ops = a.to_vec();
    ops.extend_from_slice(b);
    Chain {
        segments: vec![0..a.len(), a.len()..ops.len()],
        gaps: vec![Gap {
            words: gap,
            marked: false,
        }],
        ops,
    }
}
