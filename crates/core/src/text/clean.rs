//! Control characters: the one rule for text that is shown to a reader.
//!
//! Corpus paragraphs, terminal output and Telegram messages all pass their
//! text through [`text`] (or, a character at a time, [`visible`]), so that no
//! essay, title or question can drive a terminal or confuse a client.

/// `c`, or a space when it is a control character other than a newline.
pub(crate) fn visible(c: char) -> char {
    if c.is_control() && c != '\n' { ' ' } else { c }
}

/// `text` with every control character other than a newline made a space.
pub(crate) fn text(text: &str) -> String {
    text.chars().map(visible).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_become_spaces_and_newlines_stay() {
        assert_eq!(super::text("a\u{1b}[31mb\tc\nd\u{7f}"), "a [31mb c\nd ");
    }
}
