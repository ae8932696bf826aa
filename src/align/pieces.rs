//! Pieces: a quote aligned in parts, with the original's words between
//! them left out, where the quote says so ("…") or silently (see the module
//! documentation of [`super`], *Elisions*).

use std::ops::Range;

use super::dp::{Op, dp_align, trim_ends};
use super::words::{Tokens, same_word};
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

/// The alignment of a whole quote with no written elisions: the dynamic
/// programme may skip a run of the passage at once, however long, and does
/// so when every such run makes an unmarked elision (at least
/// [`MIN_ELISION_SIDE`] equal words on each side); otherwise it aligns as
/// if it could not, and long deletions and an unaligned end are read as
/// before ([`Chain::single`]). Each elision is then moved to a sentence
/// boundary where equal words on its sides allow it ([`to_boundaries`]).
pub(super) fn whole(q: &Tokens, p: &Tokens) -> Option<Chain> {
    let (mut ops, jumps) = dp_align(q, p, true)?;
    if !jumps.is_empty() {
        trim_ends(&mut ops, p)?;
        let chain = split_long_deletions(ops);
        let elided = |jump: &Range<usize>| {
            chain
                .gaps
                .iter()
                .any(|g| g.words.start <= jump.start && jump.end <= g.words.end)
        };
        if jumps.iter().all(elided) && other_changes(&chain) <= MAX_OTHER_CHANGES {
            return Some(to_boundaries(chain, q, p));
        }
        ops = dp_align(q, p, false)?.0;
    }
    trim_ends(&mut ops, p)?;
    Some(to_boundaries(Chain::single(ops, q, p), q, p))
}

/// A long run of the original is read as left out silently only when the
/// rest of the quote has at most this many changed runs of words: an
/// invented claim made by reversing a sentence and dropping its middle
/// ("nothing appears more well-founded … than continuing …") changes more.
const MAX_OTHER_CHANGES: usize = 2;

/// The runs of changed words of `chain` apart from those next to a gap
/// (which are part of the gap's difference).
fn other_changes(chain: &Chain) -> usize {
    let last = chain.segments.len() - 1;
    let mut count = 0;
    for (k, segment) in chain.segments.iter().enumerate() {
        let ops = &chain.ops[segment.clone()];
        let mut i = 0;
        while i < ops.len() {
            if matches!(ops[i], Op::Equal(..)) {
                i += 1;
                continue;
            }
            let start = i;
            while i < ops.len() && !matches!(ops[i], Op::Equal(..)) {
                i += 1;
            }
            let by_gap = (start == 0 && k > 0) || (i == ops.len() && k < last);
            count += usize::from(!by_gap);
        }
    }
    count
}

/// Moves each unmarked gap of `chain` along the passage, where the equal
/// word on one side of it also stands on the other side (the same words
/// can be read as left out one word earlier or later), to where it starts
/// or ends a sentence; it stays where it is when no position does better.
fn to_boundaries(mut chain: Chain, q: &Tokens, p: &Tokens) -> Chain {
    let boundary = |g: &Range<usize>| {
        usize::from(p.toks[g.start].boundary_before)
            + usize::from(p.toks.get(g.end).is_some_and(|t| t.boundary_before))
    };
    let equal =
        |i: usize, j: usize| q.toks[i].hash == p.toks[j].hash && same_word(q.norm(i), p.norm(j));
    for k in 0..chain.gaps.len() {
        if chain.gaps[k].marked {
            continue;
        }
        // Try every shift, left then right, one word at a time.
        let mut best = (boundary(&chain.gaps[k].words), chain.clone());
        for right in [false, true] {
            let mut c = chain.clone();
            loop {
                let (before, after) = (c.segments[k].clone(), c.segments[k + 1].clone());
                let g = c.gaps[k].words.clone();
                let moved = if right {
                    match c.ops[after.start] {
                        Op::Equal(i, j)
                            if j == g.end
                                && equal(i, g.start)
                                && equal_count(&c.ops[after.start + 1..after.end])
                                    >= MIN_ELISION_SIDE =>
                        {
                            c.ops[after.start] = Op::Equal(i, g.start);
                            c.segments[k].end += 1;
                            c.segments[k + 1].start += 1;
                            true
                        }
                        _ => false,
                    }
                } else {
                    match c.ops[before.end - 1] {
                        Op::Equal(i, j)
                            if j + 1 == g.start
                                && equal(i, g.end - 1)
                                && equal_count(&c.ops[before.start..before.end - 1])
                                    >= MIN_ELISION_SIDE =>
                        {
                            c.ops[before.end - 1] = Op::Equal(i, g.end - 1);
                            c.segments[k].end -= 1;
                            c.segments[k + 1].start -= 1;
                            true
                        }
                        _ => false,
                    }
                };
                if !moved {
                    break;
                }
                c.gaps[k].words = if right {
                    g.start + 1..g.end + 1
                } else {
                    g.start - 1..g.end - 1
                };
                let score = boundary(&c.gaps[k].words);
                if score > best.0 {
                    best = (score, c.clone());
                }
            }
        }
        chain = best.1;
    }
    chain
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
    let (mut ops, _) = dp_align(&qs, &ps, false)?;
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

/// Whether one side of a gap, `ops` from the gap outwards, is firm: a run of
/// at least [`MIN_ELISION_SIDE`] equal words next to the gap, or after one
/// changed word next to it ("hands is | the very definition"). Common words
/// scattered around a changed one ("House should | be") are not.
fn firm<'a>(ops: impl Iterator<Item = &'a Op>) -> bool {
    let (mut run, mut skipped) = (0, false);
    for op in ops {
        if matches!(op, Op::Equal(..)) {
            run += 1;
            if run >= MIN_ELISION_SIDE {
                return true;
            }
        } else if run == 0 && !skipped {
            skipped = true;
        } else {
            return false;
        }
    }
    false
}

/// Splits `ops` at runs of at least [`MIN_UNMARKED_ELISION`] deletions with a
/// firm side on each side ([`firm`]); the deletions become gaps.
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
            && firm(ops[before..s].iter().rev())
            && firm(ops[k..].iter())
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
