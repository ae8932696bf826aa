//! Citation: who wrote a passage, where, when, which paragraph, and a link
//! that lands on the quoted words.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::corpus::Essay;

/// Words taken from each end of a long quote for a text fragment.
const FRAGMENT_EDGE_WORDS: usize = 4;

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
    /// The citation of `quoted` words from paragraph `paragraph` of `essay`.
    pub(crate) fn new(essay: &Essay, paragraph: u32, quoted: &str) -> Citation {
        Citation {
            author: essay.author.clone(),
            title: essay.title.clone(),
            publication: essay.publication.clone(),
            date: essay.date.clone(),
            paragraph,
            link: essay.url.as_deref().map(|url| deep_link(url, quoted)),
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

/// `url` with a text fragment (`#:~:text=start,end`) that highlights `quoted`.
///
/// Any existing fragment of the URL is replaced. Short quotes are matched
/// whole; longer ones by their first and last few words.
///
/// ```
/// use citebot::cite::deep_link;
///
/// assert_eq!(
///     deep_link("https://example.org/essay#top", "a will of its own"),
///     "https://example.org/essay#:~:text=a%20will%20of%20its%20own"
/// );
/// assert_eq!(
///     deep_link("https://example.org/e", "Ambition must be made to counteract ambition, and the interest of the man"),
///     "https://example.org/e#:~:text=Ambition%20must%20be%20made,interest%20of%20the%20man"
/// );
/// ```
pub fn deep_link(url: &str, quoted: &str) -> String {
    let base = url.split_once('#').map_or(url, |(b, _)| b);
    let fragment = text_fragment(quoted);
    if fragment.is_empty() {
        base.to_string()
    } else {
        format!("{base}#:~:text={fragment}")
    }
}

/// The `text=` directive value for `quoted`, percent-encoded per the Text Fragments spec.
fn text_fragment(quoted: &str) -> String {
    let quoted = quoted.trim_matches(|c: char| c == '…' || c.is_whitespace());
    let words: Vec<&str> = quoted.split_whitespace().collect();
    if words.is_empty() {
        return String::new();
    }
    if words.len() <= 2 * FRAGMENT_EDGE_WORDS + 2 {
        return encode(&words.join(" "));
    }
    let start = words[..FRAGMENT_EDGE_WORDS].join(" ");
    let end = words[words.len() - FRAGMENT_EDGE_WORDS..].join(" ");
    format!("{},{}", encode(&start), encode(&end))
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

    #[test]
    fn short_quote_is_matched_whole() {
        assert_eq!(
            deep_link("https://e.com/a#old", "a well-known, fact & more"),
            "https://e.com/a#:~:text=a%20well%2Dknown%2C%20fact%20%26%20more"
        );
    }

    #[test]
    fn long_quote_uses_start_and_end() {
        let link = deep_link(
            "https://e.com/a",
            "… one two three four five six seven eight nine ten eleven twelve …",
        );
        assert_eq!(
            link,
            "https://e.com/a#:~:text=one%20two%20three%20four,nine%20ten%20eleven%20twelve"
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
