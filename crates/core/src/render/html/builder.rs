//! The builder: [`Html`] escapes every piece of text, closes every tag it
//! opens and counts what the reader will see the way Telegram does (UTF-16
//! code units), trimming text with "…" to stay within a limit.

use crate::text::clean::visible;

/// How far back from a cut a word boundary is looked for, in characters.
const WORD_BOUNDARY_SLACK: usize = 24;

/// Escapes `&`, `<`, `>` and `"` for Telegram HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        c => out.push(c),
    }
}

/// Length in UTF-16 code units, as Telegram counts.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `text` of at most `units` UTF-16 code units, cut at a
/// word boundary when one is near.
pub(crate) fn prefix(text: &str, units: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if used + c.len_utf16() > units {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    let cut = &text[..end];
    if end == text.len() {
        return cut;
    }
    match cut
        .char_indices()
        .rev()
        .take(WORD_BOUNDARY_SLACK)
        .find(|(_, c)| c.is_whitespace())
    {
        Some((space, _)) => cut[..space].trim_end(),
        None => cut,
    }
}

/// An inline tag of Telegram's HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag<'a> {
    /// `<b>`.
    Bold,
    /// `<i>`.
    Italic,
    /// `<s>`.
    Strike,
    /// `<code>`: words to type as they are.
    Code,
    /// `<blockquote>`.
    Quote,
    /// `<blockquote expandable>`: shown collapsed when long.
    ExpandableQuote,
    /// `<a href="…">`, for an `http(s)` URL; other URLs give no link.
    Link(&'a str),
}

/// An open tag: its closing text and where it started.
#[derive(Debug)]
struct Open {
    close: &'static str,
    at: usize,
    len: usize,
}

/// A Telegram HTML text under construction, well-formed by construction and
/// never longer than its limit (in visible UTF-16 code units).
#[derive(Debug)]
pub struct Html {
    out: String,
    open: Vec<Open>,
    len: usize,
    limit: usize,
    trimmed: bool,
}

impl Html {
    /// An empty text that may grow to `limit` visible UTF-16 code units.
    pub fn new(limit: usize) -> Html {
        Html {
            out: String::new(),
            open: Vec::new(),
            len: 0,
            limit,
            trimmed: false,
        }
    }

    /// Visible length so far, in UTF-16 code units.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing visible was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Visible UTF-16 code units still available.
    pub fn remaining(&self) -> usize {
        self.limit - self.len
    }

    /// Appends `text`, escaped. Text beyond the limit is cut (at a word when
    /// possible) and marked with "…"; after a cut, further text is dropped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        if self.trimmed || text.is_empty() {
            return self;
        }
        let whole = utf16_len(text);
        let kept = if whole <= self.remaining() {
            text
        } else {
            self.trimmed = true;
            prefix(text, self.remaining().saturating_sub(1))
        };
        for c in kept.chars() {
            push_escaped(&mut self.out, visible(c));
        }
        self.len += utf16_len(kept);
        if self.trimmed && self.remaining() >= 1 {
            self.out.push('…');
            self.len += 1;
        }
        self
    }

    /// Whether text was cut to fit.
    pub fn is_trimmed(&self) -> bool {
        self.trimmed
    }

    /// Opens `tag`; [`Html::close`] or [`Html::finish`] closes it.
    pub fn open(&mut self, tag: Tag<'_>) -> &mut Self {
        let at = self.out.len();
        let (open, close) = match tag {
            Tag::Bold => ("<b>", "</b>"),
            Tag::Italic => ("<i>", "</i>"),
            Tag::Strike => ("<s>", "</s>"),
            Tag::Code => ("<code>", "</code>"),
            Tag::Quote => ("<blockquote>", "</blockquote>"),
            Tag::ExpandableQuote => ("<blockquote expandable>", "</blockquote>"),
            Tag::Link(url) if is_linkable(url) => {
                self.out.push_str("<a href=\"");
                self.out.push_str(&escape(url));
                ("\">", "</a>")
            }
            Tag::Link(_) => ("", ""),
        };
        self.out.push_str(open);
        self.open.push(Open {
            close,
            at,
            len: self.len,
        });
        self
    }

    /// Closes the innermost open tag; an element left empty is removed.
    pub fn close(&mut self) -> &mut Self {
        if let Some(open) = self.open.pop() {
            if self.len == open.len {
                self.out.truncate(open.at);
            } else {
                self.out.push_str(open.close);
            }
        }
        self
    }

    /// `text` inside `tag`.
    pub fn tagged(&mut self, tag: Tag<'_>, text: &str) -> &mut Self {
        self.open(tag).text(text).close()
    }

    /// Appends another finished text if it fits whole; returns whether it did.
    pub fn append(&mut self, other: Html) -> bool {
        if other.len > self.remaining() {
            return false;
        }
        self.len += other.len;
        self.out.push_str(&other.finish());
        true
    }

    /// The HTML, with every open tag closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Whether `url` may be a link target: `http(s)://` with no spaces or control characters.
pub(crate) fn is_linkable(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}
