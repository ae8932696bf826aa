//! Deep links land on the quote: every sentence of every Federalist paper,
//! linked with `deep_link`, is matched the way the Text Fragments spec
//! matches (`#:~:text=[prefix-,]start[,end][,-suffix]`, case-insensitive,
//! whole words, first match) against the page the link meets (the essay's
//! title, then its paragraphs, one block each), and must highlight exactly
//! that sentence. The simulation here is written from the spec, apart from
//! the library's own search.
//!
//! `cargo test --release --test cite_links -- --nocapture` prints the
//! collision counts: the links as they were built before (first and last
//! four words, or the whole quote up to ten words) and now.

use std::fs;
use std::ops::Range;

use citebot_core::cite::deep_link;
use citebot_core::corpus::{Essay, parse_essay};
use citebot_core::passage::sentences;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use proptest::prelude::*;

fn federalist() -> Vec<Essay> {
    let mut files: Vec<_> = fs::read_dir(crate::support::paths::corpus("federalist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            parse_essay(&name, &fs::read(p).unwrap()).unwrap()
        })
        .collect()
}

/// A block of the page as the browser searches it: lower-cased characters,
/// whitespace runs collapsed to one space, and for each byte of the source
/// text the index of its character here.
struct Block {
    chars: Vec<char>,
    at: Vec<usize>,
}

impl Block {
    fn new(text: &str) -> Block {
        let mut chars = Vec::new();
        let mut at = vec![0; text.len() + 1];
        let mut space = false;
        for (i, c) in text.char_indices() {
            let here = i..i + c.len_utf8();
            if c.is_whitespace() && space {
                at[here].fill(chars.len() - 1);
                continue;
            }
            at[here].fill(chars.len());
            space = c.is_whitespace();
            if space {
                chars.push(' ');
            } else {
                chars.extend(c.to_lowercase());
            }
        }
        at[text.len()] = chars.len();
        Block { chars, at }
    }
}

fn normalise(term: &str) -> Vec<char> {
    Block::new(term.trim()).chars
}

type Pos = (usize, usize);

fn word(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric())
}

/// The spec's "find a string in range": first match of `term` at or after
/// `from`, within one block.
fn find(
    page: &[Block],
    term: &[char],
    from: Pos,
    start_b: bool,
    end_b: bool,
) -> Option<(Pos, Pos)> {
    for (b, block) in page.iter().enumerate().skip(from.0) {
        let s = if b == from.0 { from.1 } else { 0 };
        let len = block.chars.len();
        if term.len() > len {
            continue;
        }
        for i in s..=len - term.len() {
            if block.chars[i..i + term.len()] != *term {
                continue;
            }
            if start_b && i > 0 && word(block.chars.get(i - 1)) && word(term.first()) {
                continue;
            }
            let e = i + term.len();
            if end_b && word(block.chars.get(e)) && word(term.last()) {
                continue;
            }
            return Some(((b, i), (b, e)));
        }
    }
    None
}

/// The first non-space position at or after `pos` (into the next block at a block's end).
fn skip_space(page: &[Block], pos: Pos) -> Pos {
    let (mut b, mut i) = pos;
    loop {
        while i < page[b].chars.len() && page[b].chars[i] == ' ' {
            i += 1;
        }
        if i < page[b].chars.len() || b + 1 == page.len() {
            return (b, i);
        }
        b += 1;
        i = 0;
    }
}

/// The range a text directive highlights on `page`, per the spec's "find a
/// range from a text directive".
fn highlight(page: &[Block], directive: &str) -> Option<(Pos, Pos)> {
    let mut parts: Vec<String> = directive
        .split(',')
        .map(|p| percent_decode_str(p).decode_utf8().unwrap().to_string())
        .collect();
    let raw: Vec<&str> = directive.split(',').collect();
    let prefix = raw[0].ends_with('-').then(|| {
        let p = parts.remove(0);
        normalise(p.trim_end_matches('-'))
    });
    let suffix = raw[raw.len() - 1]
        .starts_with('-')
        .then(|| normalise(parts.pop().unwrap().trim_start_matches('-')));
    let start = normalise(&parts[0]);
    let end = parts.get(1).map(|e| normalise(e));
    let must_end = end.is_some() || suffix.is_none();
    let mut from = (0, 0);
    loop {
        let m = if let Some(prefix) = &prefix {
            let (ps, pe) = find(page, prefix, from, true, false)?;
            from = (ps.0, ps.1 + 1);
            let at = skip_space(page, pe);
            let m = find(page, &start, at, false, must_end)?;
            if m.0 != at {
                continue;
            }
            m
        } else {
            let m = find(page, &start, from, true, must_end)?;
            from = (m.0.0, m.0.1 + 1);
            m
        };
        let (range_start, mut range_end) = m;
        loop {
            if let Some(end) = &end {
                range_end = find(page, end, range_end, true, suffix.is_none())?.1;
            }
            let Some(suffix) = &suffix else {
                return Some((range_start, range_end));
            };
            let at = skip_space(page, range_end);
            let s = find(page, suffix, at, false, true)?;
            if s.0 == at {
                return Some((range_start, range_end));
            }
            if end.is_none() {
                break;
            }
        }
    }
}

fn page(essay: &Essay) -> Vec<Block> {
    std::iter::once(essay.title.as_str())
        .chain(essay.paragraphs.iter())
        .map(Block::new)
        .collect()
}

/// What a text directive leaves unencoded: ASCII letters, digits and `._~`.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'~');

/// The fragment as `deep_link` built it before it saw the page.
fn old_directive(quoted: &str) -> String {
    let words: Vec<&str> = quoted.split_whitespace().collect();
    let e = |w: &[&str]| utf8_percent_encode(&w.join(" "), FRAGMENT).to_string();
    if words.len() <= 10 {
        return e(&words);
    }
    format!("{},{}", e(&words[..4]), e(&words[words.len() - 4..]))
}

/// True when `got` highlights the same characters as `want`, elsewhere.
fn same_text(page: &[Block], got: Option<(Pos, Pos)>, want: (Pos, Pos)) -> bool {
    got.is_some_and(|(a, b)| {
        a.0 == b.0 && page[a.0].chars[a.1..b.1] == page[want.0.0].chars[want.0.1..want.1.1]
    })
}

/// Where quote `span` of paragraph `p` (from 1) is on the page.
fn expected(page: &[Block], p: usize, text: &str, span: &Range<usize>) -> (Pos, Pos) {
    let s = text[span.clone()].trim();
    let start = span.start + (text[span.clone()].len() - text[span.clone()].trim_start().len());
    ((p, page[p].at[start]), (p, page[p].at[start + s.len()]))
}

/// Counts over every sentence: quotes, old collisions, new collisions, and
/// the new ones that land on the very same words elsewhere (text the corpus
/// repeats with the same context, which no fragment can tell apart).
fn count(essays: &[Essay]) -> (usize, usize, usize, usize, Vec<String>) {
    let (mut n, mut old, mut new, mut repeated) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for essay in essays {
        let page = page(essay);
        for (k, text) in essay.paragraphs.iter().enumerate() {
            for span in sentences(text) {
                if text[span.clone()].trim().is_empty() {
                    continue;
                }
                n += 1;
                let want = expected(&page, k + 1, text, &span);
                let before = old_directive(&text[span.clone()]);
                if highlight(&page, &before) != Some(want) {
                    old += 1;
                }
                let link = deep_link("https://e.org/", essay, k as u32 + 1, span.clone());
                let directive = link.split_once("#:~:text=").unwrap().1;
                let got = highlight(&page, directive);
                if got != Some(want) && same_text(&page, got, want) {
                    repeated += 1;
                } else if got != Some(want) {
                    new += 1;
                    misses.push(format!(
                        "{} ¶{}: {directive} got {:?} want {want:?}",
                        essay.title,
                        k + 1,
                        highlight(&page, directive)
                    ));
                }
            }
        }
    }
    (n, old, new, repeated, misses)
}

#[test]
fn every_federalist_sentence_link_lands_on_its_sentence() {
    let essays = federalist();
    let (n, old, new, repeated, misses) = count(&essays);
    eprintln!(
        "deep links over {n} Federalist sentences: {old} collisions before ({:.2}%), {new} now \
         ({repeated} more land on the same words repeated earlier with the same context)",
        100.0 * old as f64 / n as f64
    );
    assert!(n > 5000, "{n}");
    assert!(old > 0, "the simulation should see the known collisions");
    assert_eq!(new, 0, "{misses:#?}");
}

#[test]
fn the_federalist_70_link_of_the_issue_lands_in_paragraph_4() {
    let essays = federalist();
    let essay = essays
        .iter()
        .find(|e| e.title.starts_with("The Federalist No. 70:"))
        .unwrap();
    let text = &essay.paragraphs[3];
    let span = sentences(text)[0].clone();
    assert!(text[span.clone()].starts_with("The ingredients which constitute"));
    let page = page(essay);
    let want = expected(&page, 4, text, &span);
    assert_ne!(
        highlight(&page, &old_directive(&text[span.clone()])),
        Some(want)
    );
    let link = deep_link("https://e.org/", essay, 4, span);
    assert_eq!(
        highlight(&page, link.split_once("#:~:text=").unwrap().1),
        Some(want),
        "{link}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any run of whole words of any paragraph lands on itself, or on the
    /// same words (ignoring case) when the page holds them with the same
    /// context, which no fragment can tell apart.
    #[test]
    fn any_run_of_words_lands_on_itself(e in 0usize..85, p in 0usize..400, s in 0usize..400, len in 1usize..40) {
        let essays = federalist_cached();
        let essay = &essays[e % essays.len()];
        let k = p % essay.paragraphs.len();
        let text = &essay.paragraphs[k];
        let words: Vec<Range<usize>> = text
            .split_whitespace()
            .map(|w| {
                let start = w.as_ptr() as usize - text.as_ptr() as usize;
                start..start + w.len()
            })
            .collect();
        let s = s % words.len();
        let e_word = (s + len).min(words.len()) - 1;
        let span = words[s].start..words[e_word].end;
        let page = page(essay);
        let want = expected(&page, k + 1, text, &span);
        let link = deep_link("https://e.org/", essay, k as u32 + 1, span.clone());
        let got = highlight(&page, link.split_once("#:~:text=").unwrap().1);
        prop_assert!(got == Some(want) || same_text(&page, got, want), "{} ¶{}: {:?} → {}", essay.id, k + 1, &text[span], link);
    }
}

fn federalist_cached() -> &'static [Essay] {
    static ESSAYS: std::sync::OnceLock<Vec<Essay>> = std::sync::OnceLock::new();
    ESSAYS.get_or_init(federalist)
}
