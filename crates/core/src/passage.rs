//! Passages: how an essay divides into the units that are indexed, ranked
//! and quoted.
//!
//! A passage is a paragraph. A paragraph longer than [`MAX_WORDS`] is split
//! into windows of whole sentences, so long 18th-century paragraphs compete
//! with short modern ones on equal terms.
//!
//! The text is kept once, in the [`Essay`]'s paragraphs; a `Layout` records
//! where each passage and sentence lies in it (about 16 bytes a passage and 8
//! a sentence), and the store makes a [`crate::answer::Passage`] from it only
//! when one is handed out.
//!
//! How text splits is part of the product (passage ids name windows), so
//! [`MAX_WORDS`], [`sentences`] and [`count`] are public.

use std::ops::Range;

use crate::codec::{Decoder, Encoder};
use crate::corpus::Essay;

/// Paragraphs with more words than this are split into windows.
pub const MAX_WORDS: usize = 160;

/// How many passages `essay` divides into.
pub fn count(essay: &Essay) -> usize {
    Layout::of(essay).len()
}

/// Where one passage lies in its essay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    paragraph: u32,
    window: u16,
    /// Its sentences, as a range of [`Layout::sentences`].
    first_sentence: u32,
    end_sentence: u32,
}

/// How one essay divides into passages: the passages in reading order, and
/// the byte range of every sentence within the essay's text
/// ([`crate::corpus::Paragraphs::text`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    slots: Vec<Slot>,
    sentences: Vec<(u32, u32)>,
}

impl Layout {
    /// Splits `essay` into passages.
    pub fn of(essay: &Essay) -> Layout {
        let mut layout = Layout::default();
        for (p, paragraph) in essay.paragraphs.iter().enumerate() {
            let base = essay.paragraphs.range(p).expect("in range").start;
            let paragraph_number = (p + 1) as u32;
            let spans = sentences(paragraph);
            let windows = windows(paragraph, &spans);
            let split = windows.len() > 1;
            for (w, window) in windows.into_iter().enumerate() {
                let first_sentence = layout.sentences.len() as u32;
                layout.sentences.extend(
                    spans[window]
                        .iter()
                        .map(|s| ((base + s.start) as u32, (base + s.end) as u32)),
                );
                layout.slots.push(Slot {
                    paragraph: paragraph_number,
                    window: if split { (w + 1) as u16 } else { 0 },
                    first_sentence,
                    end_sentence: layout.sentences.len() as u32,
                });
            }
        }
        layout.slots.shrink_to_fit();
        layout.sentences.shrink_to_fit();
        layout
    }

    /// The number of passages.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Writes this layout for [`Layout::decode`].
    pub fn encode(&self, out: &mut Encoder) {
        out.count(self.slots.len());
        for slot in &self.slots {
            out.u32(slot.paragraph);
            out.u32(u32::from(slot.window));
            out.u32(slot.first_sentence);
            out.u32(slot.end_sentence);
        }
        out.count(self.sentences.len());
        for &(start, end) in &self.sentences {
            out.u32(start);
            out.u32(end);
        }
    }

    /// Reads a layout [`Layout::encode`] wrote for an essay whose text is
    /// `text`; `None` unless every passage has sentences and every sentence
    /// is a slice of `text`.
    pub fn decode(input: &mut Decoder<'_>, text: &str) -> Option<Layout> {
        let n = input.count(16)?;
        let mut slots = Vec::with_capacity(n);
        for _ in 0..n {
            slots.push(Slot {
                paragraph: input.u32()?,
                window: u16::try_from(input.u32()?).ok()?,
                first_sentence: input.u32()?,
                end_sentence: input.u32()?,
            });
        }
        let n = input.count(8)?;
        let mut sentences = Vec::with_capacity(n);
        for _ in 0..n {
            let (start, end) = (input.u32()?, input.u32()?);
            let ok = start <= end
                && text.is_char_boundary(start as usize)
                && text.is_char_boundary(end as usize);
            ok.then_some(())?;
            sentences.push((start, end));
        }
        let spans_ok = slots
            .iter()
            .all(|s| s.first_sentence < s.end_sentence && s.end_sentence as usize <= n);
        spans_ok.then_some(Layout { slots, sentences })
    }

    /// Paragraph number (from 1) and window (0 for a whole paragraph) of passage `i`.
    pub fn position(&self, i: usize) -> (u32, u16) {
        let slot = self.slots[i];
        (slot.paragraph, slot.window)
    }

    /// Byte range within the essay's text ([`crate::corpus::Paragraphs::text`]) of passage `i`.
    pub fn range(&self, i: usize) -> Range<usize> {
        let slot = self.slots[i];
        let first = self.sentences[slot.first_sentence as usize];
        let last = self.sentences[slot.end_sentence as usize - 1];
        first.0 as usize..last.1 as usize
    }

    /// The text of passage `i` of `essay`, which this layout was made from.
    pub fn text<'a>(&self, essay: &'a Essay, i: usize) -> &'a str {
        &essay.paragraphs.text()[self.range(i)]
    }

    /// Index of the passage at (`paragraph`, `window`), if there is one.
    pub fn find(&self, paragraph: u32, window: u16) -> Option<usize> {
        self.slots
            .binary_search_by(|s| (s.paragraph, s.window).cmp(&(paragraph, window)))
            .ok()
    }

    /// Indexes of the passages of paragraph `paragraph`, in order.
    pub fn paragraph(&self, paragraph: u32) -> Range<usize> {
        let start = self.slots.partition_point(|s| s.paragraph < paragraph);
        let end = self.slots.partition_point(|s| s.paragraph <= paragraph);
        start..end
    }

    /// Byte ranges within the essay's text of the sentences of passage `i`.
    pub fn sentences(&self, i: usize) -> impl ExactSizeIterator<Item = Range<usize>> + '_ {
        let slot = self.slots[i];
        self.sentences[slot.first_sentence as usize..slot.end_sentence as usize]
            .iter()
            .map(|&(s, e)| s as usize..e as usize)
    }
}

/// Splits a long paragraph's sentences into consecutive windows of about
/// equal length, none much longer than [`MAX_WORDS`] words.
fn windows(paragraph: &str, spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let counts: Vec<usize> = spans
        .iter()
        .map(|s| paragraph[s.clone()].split_whitespace().count())
        .collect();
    let total: usize = counts.iter().sum();
    if total <= MAX_WORDS || spans.len() < 2 {
        return std::iter::once(0..spans.len()).collect();
    }
    let pieces = total.div_ceil(MAX_WORDS);
    let target = total.div_ceil(pieces);
    let mut out = Vec::new();
    let mut start = 0;
    let mut words = 0;
    for (i, &count) in counts.iter().enumerate() {
        // Close the window before this sentence when adding it would overshoot
        // the target by more than stopping short does; but never between a
        // question and the sentence that answers it.
        let after_question = i > 0 && paragraph[spans[i - 1].clone()].ends_with('?');
        if words > 0
            && !after_question
            && (words >= target
                || (words + count > target && words + count - target > target - words))
        {
            out.push(start..i);
            start = i;
            words = 0;
        }
        words += count;
    }
    out.push(start..spans.len());
    out
}

/// Byte ranges of the sentences of `text`, trimmed of surrounding whitespace.
///
/// A sentence ends at `.`, `?` or `!` (plus closing quotes or brackets) followed
/// by whitespace and a capital, digit or opening quote, unless the period ends
/// an abbreviation or an initial ("U.S.", "Mr.", "D.").
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = skip_space(text, 0);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if matches!(c, '.' | '?' | '!') {
            let mut j = i + 1;
            while j < chars.len()
                && matches!(
                    chars[j].1,
                    '.' | '?' | '!' | '"' | '\'' | '’' | '”' | ')' | ']'
                )
            {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
            let next = (j..chars.len()).find(|&k| !chars[k].1.is_whitespace());
            let had_space = j < chars.len() && chars[j].1.is_whitespace();
            let starts_sentence = next.is_some_and(|k| {
                let n = chars[k].1;
                n.is_uppercase()
                    || n.is_ascii_digit()
                    || matches!(n, '"' | '“' | '‘' | '\'' | '(' | '[')
            });
            if had_space && starts_sentence && !(c == '.' && is_abbreviation(&text[start..pos])) {
                out.push(start..end);
                start = next.map_or(text.len(), |k| chars[k].0);
                i = next.unwrap_or(chars.len());
                continue;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    let rest = text[start..].trim_end();
    if !rest.is_empty() {
        out.push(start..start + rest.len());
    }
    if out.is_empty() {
        out.push(0..text.len());
    }
    out
}

fn skip_space(text: &str, from: usize) -> usize {
    from + (text[from..].len() - text[from..].trim_start().len())
}

/// True when the text before a period ends in an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .next()
        .unwrap_or("");
    if word.is_empty() {
        return false;
    }
    // "D." or "U.S." or "e.g."
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return word.chars().all(char::is_uppercase);
    }
    if word.contains('.') {
        return word.split('.').all(|p| p.chars().count() <= 2);
    }
    const ABBREVIATIONS: &[&str] = &[
        "Mr", "Mrs", "Ms", "Dr", "Prof", "Gen", "Sen", "Rep", "Gov", "Col", "Lt", "Capt", "St",
        "Jr", "Sr", "No", "Nos", "Vol", "vol", "pp", "ch", "Art", "Sec", "Co", "Inc", "Ltd", "vs",
        "Rev", "Hon", "Messrs", "Fig", "cf", "viz", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul",
        "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    ];
    ABBREVIATIONS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_text(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn sentences_split_on_terminal_punctuation() {
        assert_eq!(
            split_text("One two. Three? “Four,” he said! Five"),
            ["One two.", "Three?", "“Four,” he said!", "Five"]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_split() {
        assert_eq!(
            split_text("How should the U.S. react? Alan D. Romberg wrote it. Mr. Smith agreed."),
            [
                "How should the U.S. react?",
                "Alan D. Romberg wrote it.",
                "Mr. Smith agreed."
            ]
        );
        assert_eq!(
            split_text("See No. 81 of the papers. They meet on Nov. 12. Many agree."),
            [
                "See No. 81 of the papers.",
                "They meet on Nov. 12.",
                "Many agree."
            ]
        );
    }

    #[test]
    fn lowercase_after_period_does_not_split() {
        assert_eq!(
            split_text("It is 3.5 percent. and so on"),
            ["It is 3.5 percent. and so on"]
        );
    }

    #[test]
    fn long_paragraphs_become_windows_of_whole_sentences() {
        let sentence = "This sentence has exactly ten words in it, you see. ";
        let paragraph = sentence.repeat(60);
        let paragraph = paragraph.trim();
        let spans = sentences(paragraph);
        assert_eq!(spans.len(), 60);
        let windows = windows(paragraph, &spans);
        assert!(windows.len() >= 3);
        assert_eq!(windows.first().unwrap().start, 0);
        assert_eq!(windows.last().unwrap().end, 60);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
    }

    #[test]
    fn layout_keeps_short_paragraphs_whole_and_windows_long_ones() {
        let long = "This sentence has exactly ten words in it, you see. ".repeat(40);
        let text = format!("+++\ntitle = \"T\"\n+++\n\nShort one. Two.\n\n{long}\n\nLast.\n");
        let essay = crate::corpus::parse_essay("e.md", text.as_bytes()).unwrap();
        let layout = Layout::of(&essay);
        let last = layout.len() - 1;
        assert_eq!(count(&essay), layout.len());
        assert_eq!(layout.position(0), (1, 0));
        assert_eq!(layout.text(&essay, 0), "Short one. Two.");
        assert_eq!(layout.sentences(0).collect::<Vec<_>>(), [0..10, 11..15]);
        assert_eq!(layout.position(1), (2, 1));
        assert_eq!(layout.position(last), (3, 0));
        assert_eq!(layout.text(&essay, last), "Last.");
        let windows = layout.paragraph(2);
        assert!(windows.len() >= 3);
        assert_eq!(layout.paragraph(3), windows.end..windows.end + 1);
        assert_eq!(layout.find(2, 2), Some(2));
        assert_eq!(layout.find(2, 0), None);
        let joined: Vec<&str> = windows.map(|i| layout.text(&essay, i)).collect();
        assert_eq!(joined.join(" "), long.trim());
        let mut saved = Encoder::default();
        layout.encode(&mut saved);
        let text = essay.paragraphs.text();
        let decoded = Layout::decode(&mut Decoder::new(&saved.bytes), text);
        assert_eq!(decoded.as_ref(), Some(&layout));
        assert_eq!(
            Layout::decode(&mut Decoder::new(&saved.bytes), "short"),
            None
        );
        for i in 0..layout.len() {
            let range = layout.range(i);
            for s in layout.sentences(i) {
                assert!(range.start <= s.start && s.end <= range.end);
                assert!(essay.paragraphs.text()[s].ends_with('.'));
            }
        }
    }
}
