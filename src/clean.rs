//! Control characters: the one rule for text that is shown to a reader.
//!
//! Corpus paragraphs, terminal output and Telegram messages all pass their
//! text through [`visible`], so that no essay, title or question can drive a
//! terminal or confuse a client.

/// `c`, or a space when it is a control character other than a newline.
pub(crate) fn visible(c: char) -> char {
    if c.is_control() && c != '\n' { ' ' } else { c }
}
