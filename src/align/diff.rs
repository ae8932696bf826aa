//! Differences: the runs of words a misquote changed, both sides verbatim.

use std::ops::Range;

use super::MAX_DIFFERENCE_WORDS;
use super::dp::Op;
use super::pieces::Gap;
use super::words::Tokens;
use crate::model::Difference;

/// The differences of an alignment: maximal runs of non-equal ops, anchored and merged
/// as described in the module documentation.
pub(super) fn differences(
    ops: &[Op],
    quote: &str,
    q: &Tokens,
    passage: &str,
    p: &Tokens,
) -> Vec<Difference> {
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

/// The difference an unmarked elision makes: the quote's words on both sides of the
/// gap, against the original from the word before the gap to the word after it,
/// shortened with "…" past [`MAX_DIFFERENCE_WORDS`] words.
pub(super) fn gap_difference(
    gap: &Gap,
    before: &[Op],
    after: &[Op],
    quote: &str,
    q: &Tokens,
    passage: &str,
    p: &Tokens,
) -> Difference {
    let qa = before.iter().rev().find_map(Op::quote_word);
    let qb = after.iter().find_map(Op::quote_word);
    let said = words_text(quote, q, qa.into_iter().chain(qb));
    let pa = before
        .iter()
        .rev()
        .find_map(Op::passage_word)
        .unwrap_or(gap.words.start);
    let pb = after
        .iter()
        .find_map(Op::passage_word)
        .unwrap_or(gap.words.end.saturating_sub(1));
    let original = if pb + 1 - pa > MAX_DIFFERENCE_WORDS {
        let half = MAX_DIFFERENCE_WORDS / 2;
        format!(
            "{} … {}",
            words_text(passage, p, pa..pa + half),
            words_text(passage, p, pb + 1 - half..pb + 1)
        )
    } else {
        words_text(passage, p, pa..pb + 1)
    };
    Difference { said, original }
}
