//! Citation: who wrote a passage, where, when, which paragraph, and a link
//! that lands on the quoted words.
//!
//! # Deep links that land
//!
//! A link's text fragment (`#:~:text=[prefix-,]start[,end][,-suffix]`) is
//! matched by the browser against the page's visible text, case-insensitively,
//! whole words only, taking the *first* occurrence of the start words and then
//! the first occurrence of the end words after them. [`deep_link`] therefore
//! sees the page the link will meet (the essay's title and its paragraphs,
//! each a block of text, see [`Page`]) and builds the fragment so that its
//! first match is the quote itself:
//!
//! 1. A quote of up to ten words is used whole; a longer one by its first and
//!    last four words.
//! 2. If the start words occur earlier on the page, they are lengthened a word
//!    at a time (up to where the end words begin); if that is not enough, the
//!    words just before the quote in its paragraph are added as a `prefix-,`
//!    term, one at a time, up to [`MAX_CONTEXT_WORDS`].
//! 3. Likewise the end words: lengthened until their first match after the
//!    start is the quote's end, else given a `,-suffix` term.
//! 4. A quote used whole that occurs earlier gets a prefix, else a suffix.
//!
//! When no such fragment exists (the same words, with the same words around
//! them, earlier on the page), the plain fragment is used: it still lands on
//! words identical to the quote.

use std::ops::Range;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::corpus::Essay;

/// Words taken from each end of a long quote for a text fragment.
const FRAGMENT_EDGE_WORDS: usize = 4;
/// Most words of context a `prefix-,` or `,-suffix` term takes.
pub const MAX_CONTEXT_WORDS: usize = 8;

/// Everything a reader needs to find a quote in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The author, if known.
    pub author: Option<String>,
    /// The essay's title.
    pub title: String,
    /// Where it was published, if known.
    pub publication: Option<String>,
    /// When it was published, if known.
    pub date: Option<String>,
    /// Paragraph number, from 1.
    pub paragraph: u32,
    /// The essay's URL with a text fragment on the quoted words; None without a URL.
    pub link: Option<String>,
}

impl Citation {
    /// The citation of `quoted` words from paragraph `paragraph` of `essay`:
    /// the first occurrence of `quoted` in that paragraph.
    pub(crate) fn new(essay: &Essay, paragraph: u32, quoted: &str) -> Citation {
        let text = paragraph_text(essay, paragraph);
        let start = text.find(quoted).unwrap_or(0);
        let span = start..(start + quoted.len()).min(text.len());
        Citation::at(essay, paragraph, span)
    }

    /// The citation of bytes `span` of paragraph `paragraph` (from 1) of `essay`.
    pub(crate) fn at(essay: &Essay, paragraph: u32, span: Range<usize>) -> Citation {
        Citation {
            author: essay.author.clone(),
            title: essay.title.clone(),
            publication: essay.publication.clone(),
            date: essay.date.clone(),
            paragraph,
            link: essay
                .url
                .as_deref()
                .map(|url| deep_link(url, essay, paragraph, span)),
        }
    }

    /// One line: Author, "Title," Publication, Date, ¶N, link.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(author) = &self.author {
            parts.push(author.clone());
        }
        parts.push(format!("\u{201c}{},\u{201d}", self.title));
        parts.extend(self.publication.clone());
        parts.extend(self.date.clone());
        parts.push(format!("¶{}", self.paragraph));
        parts.extend(self.link.clone());
        parts.join(", ").replace(",\u{201d},", ",\u{201d}")
    }
}

/// Paragraph `paragraph` (from 1) of `essay`; empty when there is none.
fn paragraph_text(essay: &Essay, paragraph: u32) -> &str {
    (paragraph as usize)
        .checked_sub(1)
        .and_then(|i| essay.paragraphs.get(i))
        .unwrap_or("")
}

/// `url` with a text fragment (`#:~:text=…`) whose first match on the
/// essay's page is bytes `span` of paragraph `paragraph` (from 1).
///
/// Any existing fragment of the URL is replaced. Short quotes are matched
/// whole; longer ones by their first and last few words, lengthened or given
/// a prefix or suffix term until the browser's first match is the quote
/// itself (see the [module documentation](self)). A span outside the
/// paragraph is clamped to it.
///
/// ```
/// use citebot_core::cite::deep_link;
/// use citebot_core::corpus::parse_essay;
///
/// let essay = parse_essay("e.md", "# An essay\n\n\
///     The ingredients which constitute energy are unity and duration.\n\n\
///     The ingredients which constitute safety are a due dependence on the people."
///     .as_bytes())?;
/// // The first paragraph: its words are their own first match.
/// assert_eq!(
///     deep_link("https://example.org/essay#top", &essay, 1, 0..32),
///     "https://example.org/essay#:~:text=The%20ingredients%20which%20constitute"
/// );
/// // The second begins with the same words: the start is lengthened.
/// let second = &essay.paragraphs[1];
/// assert_eq!(
///     deep_link("https://example.org/essay", &essay, 2, 0..second.len()),
///     "https://example.org/essay#:~:text=The%20ingredients%20which%20constitute%20safety,dependence%20on%20the%20people."
/// );
/// # Ok::<(), citebot_core::corpus::ParseError>(())
/// ```
pub fn deep_link(url: &str, essay: &Essay, paragraph: u32, span: Range<usize>) -> String {
    let base = url.split_once('#').map_or(url, |(b, _)| b);
    let page = Page::of(essay);
    let fragment = text_fragment(&page, paragraph as usize, span);
    if fragment.is_empty() {
        base.to_string()
    } else {
        format!("{base}#:~:text={fragment}")
    }
}

/// The visible text a deep link meets: the essay's title, then its
/// paragraphs, each a block (a match never crosses blocks).
pub struct Page<'a> {
    blocks: Vec<&'a str>,
}

impl<'a> Page<'a> {
    /// The page of `essay`: block 0 is the title, block `n` paragraph `n`.
    pub fn of(essay: &'a Essay) -> Page<'a> {
        let mut blocks = Vec::with_capacity(essay.paragraphs.len() + 1);
        blocks.push(essay.title.as_str());
        blocks.extend(essay.paragraphs.iter());
        Page { blocks }
    }

    /// The blocks, title first.
    pub fn blocks(&self) -> &[&'a str] {
        &self.blocks
    }
}

/// A place on a [`Page`]: a block and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    block: usize,
    at: usize,
}

/// How a search term must sit in the text: whether it must begin and end
/// at a word boundary.
#[derive(Clone, Copy)]
struct Bounds {
    start: bool,
    end: bool,
}

/// Whole words at both ends.
const WHOLE: Bounds = Bounds {
    start: true,
    end: true,
};

/// A whole word at the start only (prefix terms, and terms a suffix follows).
const OPEN_END: Bounds = Bounds {
    start: true,
    end: false,
};

/// The `text=` directive value whose first match on `page` is bytes `span`
/// of block `block`, percent-encoded per the Text Fragments spec.
fn text_fragment(page: &Page, block: usize, span: Range<usize>) -> String {
    let Some(&text) = page.blocks.get(block) else {
        return String::new();
    };
    let span = clamp(text, span);
    let words = word_ranges(text, span);
    let n = words.len();
    if n == 0 {
        return String::new();
    }
    let join = |ws: &[Range<usize>]| {
        ws.iter()
            .map(|w| &text[w.clone()])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let first = Pos {
        block,
        at: words[0].start,
    };
    let last = Pos {
        block,
        at: words[n - 1].end,
    };
    let before = word_ranges(text, 0..words[0].start);
    let after = word_ranges(text, words[n - 1].end..text.len());
    let prefixes =
        (1..=before.len().min(MAX_CONTEXT_WORDS)).map(|k| join(&before[before.len() - k..]));
    let suffixes = (1..=after.len().min(MAX_CONTEXT_WORDS)).map(|k| join(&after[..k]));

    if n <= 2 * FRAGMENT_EDGE_WORDS + 2 {
        let whole = join(&words);
        let directive = if find(page, &whole, first_block(), WHOLE) == Some((first, last)) {
            encode(&whole)
        } else if let Some(prefix) = prefixes
            .clone()
            .find(|p| prefixed(page, p, &whole, true).is_some_and(|m| m == (first, last)))
        {
            format!("{}-,{}", encode(&prefix), encode(&whole))
        } else if let Some(suffix) = suffixes
            .clone()
            .find(|s| suffixed(page, &whole, s) == Some((first, last)))
        {
            format!("{},-{}", encode(&whole), encode(&suffix))
        } else {
            encode(&whole)
        };
        return directive;
    }

    // The start: lengthened, else prefixed, until its first match is the quote's start.
    let at_start = |m: Option<(Pos, Pos)>| m.is_some_and(|(s, _)| s == first);
    let mut start_words = (FRAGMENT_EDGE_WORDS..=n - FRAGMENT_EDGE_WORDS)
        .find(|&k| at_start(find(page, &join(&words[..k]), first_block(), WHOLE)));
    let mut prefix = None;
    if start_words.is_none() {
        let start = join(&words[..FRAGMENT_EDGE_WORDS]);
        prefix = prefixes
            .clone()
            .find(|p| at_start(prefixed(page, p, &start, true)));
        start_words = Some(FRAGMENT_EDGE_WORDS);
    }
    let k = start_words.unwrap_or(FRAGMENT_EDGE_WORDS);
    let start = join(&words[..k]);
    let after_start = Pos {
        block,
        at: words[k - 1].end,
    };
    // The end: its first match after the start must be the quote's end.
    let ends_here = |end: &str| find(page, end, after_start, WHOLE).is_some_and(|(_, e)| e == last);
    let end_words = (FRAGMENT_EDGE_WORDS..=n - k).find(|&k2| ends_here(&join(&words[n - k2..])));
    let (end, suffix) = match end_words {
        Some(k2) => (join(&words[n - k2..]), None),
        None => {
            let end = join(&words[n - FRAGMENT_EDGE_WORDS.min(n - k)..]);
            let suffix = suffixes
                .clone()
                .find(|s| end_then_suffix(page, &end, s, after_start) == Some(last));
            (end, suffix)
        }
    };
    let mut directive = String::new();
    if let Some(p) = prefix {
        directive.push_str(&encode(&p));
        directive.push_str("-,");
    }
    directive.push_str(&encode(&start));
    directive.push(',');
    directive.push_str(&encode(&end));
    if let Some(s) = suffix {
        directive.push_str(",-");
        directive.push_str(&encode(&s));
    }
    directive
}

/// The start of a page.
fn first_block() -> Pos {
    Pos { block: 0, at: 0 }
}

/// `span` within `text`, on char boundaries, without a leading or trailing "…".
fn clamp(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    let mut end = span.end.min(text.len()).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let inner = &text[start..end];
    let trimmed = inner.trim_start_matches(|c: char| c == '…' || c.is_whitespace());
    start += inner.len() - trimmed.len();
    let trimmed = trimmed.trim_end_matches(|c: char| c == '…' || c.is_whitespace());
    end = start + trimmed.len();
    start..end
}

/// Byte ranges of the whitespace-separated words of `text[span]`.
fn word_ranges(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut word = None;
    for (i, c) in text[span.clone()].char_indices() {
        let i = span.start + i;
        match (c.is_whitespace(), word) {
            (true, Some(s)) => {
                out.push(s..i);
                word = None;
            }
            (false, None) => word = Some(i),
            _ => {}
        }
    }
    if let Some(s) = word {
        out.push(s..span.end);
    }
    out
}

/// The first match of `prefix-,term` on `page`: the first occurrence of
/// `prefix` followed, after whitespace, by `term` (which must end at a word
/// boundary when `term_ends_word`). Returns the match of `term`.
fn prefixed(page: &Page, prefix: &str, term: &str, term_ends_word: bool) -> Option<(Pos, Pos)> {
    let mut from = first_block();
    let term_bounds = Bounds {
        start: false,
        end: term_ends_word,
    };
    loop {
        let (s, e) = find(page, prefix, from, OPEN_END)?;
        let text = page.blocks[e.block];
        let rest = text[e.at..].trim_start();
        let (block, at) = if rest.is_empty() && e.block + 1 < page.blocks.len() {
            (e.block + 1, 0)
        } else {
            (e.block, text.len() - rest.len())
        };
        if let Some(m) = match_at(page.blocks[block], at, term, term_bounds) {
            return Some((Pos { block, at }, Pos { block, at: m }));
        }
        from = next_pos(page, s);
    }
}

/// The first match of `term,-suffix` on `page`: the first occurrence of
/// `term` that is followed, after whitespace, by `suffix`.
fn suffixed(page: &Page, term: &str, suffix: &str) -> Option<(Pos, Pos)> {
    let mut from = first_block();
    loop {
        let (s, e) = find(page, term, from, OPEN_END)?;
        if followed_by(page, e, suffix) {
            return Some((s, e));
        }
        from = next_pos(page, s);
    }
}

/// Where the end of `end,-suffix` lands when searched from `from`: the first
/// occurrence of `end` followed, after whitespace, by `suffix`.
fn end_then_suffix(page: &Page, end: &str, suffix: &str, from: Pos) -> Option<Pos> {
    let mut from = from;
    loop {
        let (_, e) = find(page, end, from, OPEN_END)?;
        if followed_by(page, e, suffix) {
            return Some(e);
        }
        from = e;
    }
}

/// True when `suffix` follows position `at` after whitespace, in the same block.
fn followed_by(page: &Page, at: Pos, suffix: &str) -> bool {
    let text = page.blocks[at.block];
    let rest = text[at.at..].trim_start();
    let s = text.len() - rest.len();
    s > at.at
        && match_at(
            text,
            s,
            suffix,
            Bounds {
                start: false,
                end: true,
            },
        )
        .is_some()
}

/// The position one character after `pos` (the next block's start at a block's end).
fn next_pos(page: &Page, pos: Pos) -> Pos {
    let text = page.blocks[pos.block];
    match text[pos.at..].chars().next() {
        Some(c) => Pos {
            block: pos.block,
            at: pos.at + c.len_utf8(),
        },
        None => Pos {
            block: pos.block + 1,
            at: 0,
        },
    }
}

/// The first occurrence of `term` at or after `from` on `page`, within one
/// block, case-insensitive, a space in `term` matching any run of whitespace.
fn find(page: &Page, term: &str, from: Pos, bounds: Bounds) -> Option<(Pos, Pos)> {
    let first = term.chars().next()?;
    for block in from.block..page.blocks.len() {
        let text = page.blocks[block];
        let mut at = if block == from.block { from.at } else { 0 };
        while at <= text.len() {
            let Some(s) = next_candidate(text, at, first) else {
                break;
            };
            if let Some(e) = match_at(text, s, term, bounds) {
                return Some((Pos { block, at: s }, Pos { block, at: e }));
            }
            at = s + text[s..].chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// The first byte offset at or after `at` where a character equal to `first`
/// (ignoring case) starts.
fn next_candidate(text: &str, at: usize, first: char) -> Option<usize> {
    let bytes = text.as_bytes();
    if first.is_ascii() {
        let b = first as u8;
        let (lo, up) = (b.to_ascii_lowercase(), b.to_ascii_uppercase());
        return bytes[at.min(bytes.len())..]
            .iter()
            .position(|&c| c == lo || c == up)
            .map(|i| at + i);
    }
    text[at..]
        .char_indices()
        .find(|&(_, c)| same_char(c, first))
        .map(|(i, _)| at + i)
}

/// Where `term` ends if it matches `text` at byte `at`, bounded as `bounds` says.
fn match_at(text: &str, at: usize, term: &str, bounds: Bounds) -> Option<usize> {
    if !text.is_char_boundary(at) {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut rest = text[at..].chars().peekable();
    let mut end = at;
    for tc in term.chars() {
        if tc.is_whitespace() {
            let mut any = false;
            while let Some(&c) = rest.peek().filter(|c| c.is_whitespace()) {
                end += c.len_utf8();
                rest.next();
                any = true;
            }
            if !any {
                return None;
            }
            continue;
        }
        let c = rest.next()?;
        if !same_char(c, tc) {
            return None;
        }
        end += c.len_utf8();
    }
    if bounds.start && word(text[..at].chars().next_back()) && word(term.chars().next()) {
        return None;
    }
    if bounds.end && word(text[end..].chars().next()) && word(term.chars().next_back()) {
        return None;
    }
    Some(end)
}

/// Equal characters, ignoring case.
fn same_char(a: char, b: char) -> bool {
    a == b
        || if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(&b)
        } else {
            a.to_lowercase().eq(b.to_lowercase())
        }
}

/// What a text directive leaves as it is: ASCII letters, digits and `._~`.
/// Everything else is percent-encoded, in particular `-`, `,` and `&`, which
/// the fragment syntax reserves.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes `text` for a text directive (see [`FRAGMENT`]), as UTF-8.
fn encode(text: &str) -> String {
    utf8_percent_encode(text, FRAGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::corpus::parse_essay;

    /// An essay titled "A title" with these paragraphs.
    fn essay(paragraphs: &[&str]) -> Essay {
        let text = format!("# A title\n\n{}", paragraphs.join("\n\n"));
        parse_essay("e.md", text.as_bytes()).unwrap()
    }

    /// The link to all of paragraph `paragraph`.
    fn whole(essay: &Essay, paragraph: u32) -> String {
        let text = &essay.paragraphs[paragraph as usize - 1];
        deep_link("https://e.com/a", essay, paragraph, 0..text.len())
    }

    /// The link to the first occurrence of `quoted` in paragraph `paragraph`.
    fn link(essay: &Essay, paragraph: u32, quoted: &str) -> String {
        let start = essay.paragraphs[paragraph as usize - 1]
            .find(quoted)
            .unwrap();
        deep_link(
            "https://e.com/a#old",
            essay,
            paragraph,
            start..start + quoted.len(),
        )
    }

    #[test]
    fn short_quote_is_matched_whole() {
        let e = essay(&["It is a well-known, fact & more."]);
        assert_eq!(
            link(&e, 1, "a well-known, fact & more"),
            "https://e.com/a#:~:text=a%20well%2Dknown%2C%20fact%20%26%20more"
        );
    }

    #[test]
    fn long_quote_uses_start_and_end() {
        let e = essay(&["one two three four five six seven eight nine ten eleven twelve"]);
        assert_eq!(
            whole(&e, 1),
            "https://e.com/a#:~:text=one%20two%20three%20four,nine%20ten%20eleven%20twelve"
        );
        // Ellipses and spaces at the ends of the span are not part of the quote.
        let padded = essay(&["… one two three four five six seven eight nine ten eleven twelve …"]);
        assert_eq!(
            whole(&padded, 1),
            "https://e.com/a#:~:text=one%20two%20three%20four,nine%20ten%20eleven%20twelve"
        );
    }

    #[test]
    fn start_words_seen_earlier_are_lengthened() {
        // Federalist 70: ¶3 and ¶4 both begin "The ingredients which constitute".
        let e = essay(&[
            "The ingredients which constitute energy in the Executive are, first, unity; secondly, duration.",
            "The ingredients which constitute safety in the republican sense are, first, a due dependence on the people, secondly, a due responsibility.",
        ]);
        assert_eq!(
            whole(&e, 2),
            "https://e.com/a#:~:text=The%20ingredients%20which%20constitute%20safety,secondly%2C%20a%20due%20responsibility."
        );
    }

    #[test]
    fn case_and_whole_words_decide_what_collides() {
        // "THE PEOPLE" earlier collides (case-insensitive); "thepeople" does not.
        let e = essay(&["THE PEOPLE speak.", "Power rests with the people."]);
        assert_eq!(
            link(&e, 2, "the people"),
            "https://e.com/a#:~:text=with-,the%20people"
        );
        let e = essay(&["Unthe peoples speak.", "Power rests with the people."]);
        assert_eq!(
            link(&e, 2, "the people"),
            "https://e.com/a#:~:text=the%20people"
        );
    }

    #[test]
    fn a_repeated_short_quote_at_a_paragraph_start_gets_a_suffix() {
        let e = essay(&["Liberty. Order.", "Liberty. Justice."]);
        assert_eq!(
            link(&e, 2, "Liberty."),
            "https://e.com/a#:~:text=Liberty.,-Justice."
        );
    }

    #[test]
    fn end_words_seen_between_get_lengthened() {
        let e = essay(&[
            "alpha beta gamma delta one of the people and then epsilon zeta one of the people",
        ]);
        assert_eq!(
            whole(&e, 1),
            "https://e.com/a#:~:text=alpha%20beta%20gamma%20delta,zeta%20one%20of%20the%20people"
        );
    }

    #[test]
    fn unicode_is_utf8_percent_encoded() {
        assert_eq!(encode("Xi’s"), "Xi%E2%80%99s");
    }

    #[test]
    fn only_unreserved_ascii_is_left_as_it_is() {
        for b in 0u8..=0x7f {
            let c = char::from(b).to_string();
            let kept = b.is_ascii_alphanumeric() || b"._~".contains(&b);
            let expected = if kept { c.clone() } else { format!("%{b:02X}") };
            assert_eq!(encode(&c), expected, "{b:#04x}");
        }
    }

    #[test]
    fn citation_line() {
        let c = Citation {
            author: Some("Susan Shirk".into()),
            title: "Don't Give Up".into(),
            publication: Some("TIME".into()),
            date: Some("October 2022".into()),
            paragraph: 5,
            link: None,
        };
        assert_eq!(
            c.line(),
            "Susan Shirk, “Don't Give Up,” TIME, October 2022, ¶5"
        );
    }
}
