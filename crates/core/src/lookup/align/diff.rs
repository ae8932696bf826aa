//! Differences: the runs of words a misquote changed, both sides verbatim.

use std::ops::Range;

use super::MAX_DIFFERENCE_WORDS;
use super::dp::Op;
use super::pieces::Chain;
use super::words::Tokens;
use crate::answer::Difference;

/// One step of a chain, for differences: an op, an unmarked gap (a
/// difference) or a marked one (where differences stop).
#[derive(Clone, Copy, PartialEq)]
enum Item {
    Op(Op),
    Gap,
    Mark,
}

/// The differences of a chain of aligned parts: maximal runs of non-equal
/// ops, anchored and merged as described in the module documentation. An
/// unmarked gap is part of the run around it, which then reaches the equal
/// words on both sides of it, and its original is shortened with "…" past
/// [`MAX_DIFFERENCE_WORDS`] words.
pub(super) fn differences(
    chain: &Chain,
    quote: &str,
    q: &Tokens,
    passage: &str,
    p: &Tokens,
) -> Vec<Difference> {
    let mut items = Vec::with_capacity(chain.ops.len() + chain.gaps.len());
    for (k, segment) in chain.segments.iter().enumerate() {
        items.extend(chain.ops[segment.clone()].iter().map(|&o| Item::Op(o)));
        if let Some(gap) = chain.gaps.get(k) {
            items.push(if gap.marked { Item::Mark } else { Item::Gap });
        }
    }
    let equal = |item: &Item| matches!(item, Item::Op(Op::Equal(..)));
    let changed = |item: &Item| !equal(item) && *item != Item::Mark;
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut k = 0;
    while k < items.len() {
        if !changed(&items[k]) {
            k += 1;
            continue;
        }
        let s = k;
        while k < items.len() && changed(&items[k]) {
            k += 1;
        }
        let mut run = s..k;
        let ops = || {
            items[s..k].iter().filter_map(|i| match i {
                Item::Op(o) => Some(o),
                _ => None,
            })
        };
        let has_q = ops().any(|o| o.quote_word().is_some());
        let has_p = ops().any(|o| o.passage_word().is_some());
        let gap = items[s..k].contains(&Item::Gap);
        let after = k < items.len() && equal(&items[k]);
        let before = s > 0 && equal(&items[s - 1]);
        if gap {
            run.start -= usize::from(before);
            run.end += usize::from(after);
        } else if !(has_q && has_p) {
            if after {
                run.end += 1;
            } else if before {
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
            let items = &items[run];
            let ops = || {
                items.iter().filter_map(|i| match i {
                    Item::Op(o) => Some(*o),
                    _ => None,
                })
            };
            let said = words_text(quote, q, ops().filter_map(|o| o.quote_word()));
            let mut words = ops().filter_map(|o| o.passage_word());
            let original = match (words.next(), words.next_back()) {
                (Some(a), Some(b))
                    if items.contains(&Item::Gap) && b + 1 - a > MAX_DIFFERENCE_WORDS =>
                {
                    let half = MAX_DIFFERENCE_WORDS / 2;
                    format!(
                        "{} … {}",
                        words_text(passage, p, a..a + half),
                        words_text(passage, p, b + 1 - half..b + 1)
                    )
                }
                (Some(a), b) => words_text(passage, p, a..b.unwrap_or(a) + 1),
                (None, _) => String::new(),
            };
            Difference { said, original }
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
