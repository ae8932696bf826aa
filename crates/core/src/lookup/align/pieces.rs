//! Pieces: a quote aligned in parts, with the original's words between
//! them left out, where the quote says so ("…") or silently (see the module
//! documentation of [`super`], *Elisions*).

use std::ops::Range;

use super::dp::{Jump, Op, dp_align, trim_ends};
use super::words::{Tokens, same_word};
use super::{CLOSE_THRESHOLD, MIN_ELISION_SIDE, MIN_SHORT_ELISION_SIDE, MIN_UNMARKED_ELISION};

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
/// so when every such run makes an unmarked elision (see [`Side`]). It
/// first skips at the price a short side earns back ([`Jump::Short`]),
/// then, when that reading has a run that is not an elision or too many
/// other changes, at the price only a firm side of [`MIN_ELISION_SIDE`]
/// words does ([`Jump::Firm`]); otherwise it aligns as if it could not, and
/// long deletions (between firm sides) and an unaligned end are read as
/// before ([`Chain::single`]). Each elision is then moved to a sentence
/// boundary where equal words on its sides allow it ([`to_boundaries`]).
pub(super) fn whole(q: &Tokens, p: &Tokens) -> Option<Chain> {
    let mut ops = None;
    for price in [Jump::Short, Jump::Firm] {
        let (mut jumped, jumps) = dp_align(q, p, Some(price))?;
        if jumps.is_empty() {
            // The same alignment as one without jumps.
            ops = Some(jumped);
            break;
        }
        trim_ends(&mut jumped, p)?;
        let (chain, short) = split_long_deletions(jumped, p, Side::Short);
        let elided = |jump: &Range<usize>| {
            chain
                .gaps
                .iter()
                .any(|g| g.words.start <= jump.start && jump.end <= g.words.end)
        };
        let most = if short {
            MAX_OTHER_CHANGES_BY_SHORT_SIDES
        } else {
            MAX_OTHER_CHANGES
        };
        if jumps.iter().all(elided) && other_changes(&chain) <= most {
            return Some(to_boundaries(chain, q, p));
        }
    }
    let mut ops = match ops {
        Some(ops) => ops,
        None => dp_align(q, p, None)?.0,
    };
    trim_ends(&mut ops, p)?;
    Some(to_boundaries(Chain::single(ops, q, p), q, p))
}

/// A long run of the original is read as left out silently only when the
/// rest of the quote has at most this many changed runs of words: an
/// invented claim made by reversing a sentence and dropping its middle
/// ("nothing appears more well-founded … than continuing …") changes more.
const MAX_OTHER_CHANGES: usize = 2;

/// The same when a gap has a short side, weaker evidence of words left out:
/// "Nothing appears | more well-founded upon close inspection than …
/// excluding him forever" (the original "more plausible at first sight, nor
/// more ill-founded … and then excluding him from it") changes two.
const MAX_OTHER_CHANGES_BY_SHORT_SIDES: usize = 1;

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
        let (chain, _) = split_long_deletions(ops, p, Side::Firm);
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
    let (mut ops, _) = dp_align(&qs, &ps, None)?;
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

/// How well one side of a gap holds it in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// Not a side of an elision: common words scattered around changed ones
    /// ("House should | be"), or two words found again in another sentence.
    Loose,
    /// A short side: [`MIN_ELISION_SIDE`] equal words before a second
    /// changed word, the first of them before a changed one ("more | ill |
    /// founded upon close", "judiciary | will forever be the least"), or,
    /// when the gap stays within one sentence, only equal words, at least
    /// [`MIN_SHORT_ELISION_SIDE`] of them (the quote's first or last words
    /// alone: "the judiciary | will always", "sprang up, | it failed").
    Short,
    /// [`MIN_ELISION_SIDE`] equal words in a row next to the gap, or after
    /// one changed word next to it ("hands is | the very definition").
    Firm,
}

/// How firm one side of a gap is: `ops` from the gap outwards, up to the
/// quote's end or the next gap.
fn side<'a>(ops: impl Iterator<Item = &'a Op>, within_sentence: bool) -> Side {
    let (mut equal, mut changed, mut in_a_row) = (0, 0, true);
    for op in ops {
        if matches!(op, Op::Equal(..)) {
            equal += 1;
            if equal >= MIN_ELISION_SIDE {
                return if in_a_row { Side::Firm } else { Side::Short };
            }
        } else {
            changed += 1;
            // Only a changed word next to the gap keeps the run firm.
            in_a_row &= equal == 0;
            if changed == 2 {
                return Side::Loose;
            }
        }
    }
    if within_sentence && changed == 0 && equal >= MIN_SHORT_ELISION_SIDE {
        Side::Short
    } else {
        Side::Loose
    }
}

/// Splits `ops` at runs of at least [`MIN_UNMARKED_ELISION`] deletions with
/// a side at least `least` on each side ([`side`]); the deletions become
/// gaps. Also says whether a gap has a short side.
fn split_long_deletions(ops: Vec<Op>, p: &Tokens, least: Side) -> (Chain, bool) {
    let mut cuts: Vec<Range<usize>> = Vec::new();
    let mut short = false;
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
        // The side after runs to the next run of deletions long enough to be a gap.
        let after = (k..ops.len())
            .find(|&e| {
                ops[e..]
                    .iter()
                    .take_while(|o| matches!(o, Op::Del(_)))
                    .count()
                    >= MIN_UNMARKED_ELISION
            })
            .unwrap_or(ops.len());
        if k - s < MIN_UNMARKED_ELISION {
            continue;
        }
        let within = within_sentence(&ops[s..k], p);
        let weaker =
            side(ops[before..s].iter().rev(), within).min(side(ops[k..after].iter(), within));
        if weaker >= least {
            cuts.push(s..k);
            short |= weaker == Side::Short;
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
    (out, short)
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

/// Whether the passage words `deleted` (in order) and the words on either
/// side of them lie in one sentence.
fn within_sentence(deleted: &[Op], p: &Tokens) -> bool {
    let mut words = deleted.iter().filter_map(Op::passage_word);
    let Some(first) = words.next() else {
        return true;
    };
    let last = words.next_back().unwrap_or(first);
    (first..=last + 1)
        .filter_map(|k| p.toks.get(k))
        .all(|t| !t.boundary_before)
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
