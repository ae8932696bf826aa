//! The operators inside a question: `key:value` at the start of a word,
//! the value quoted when it has spaces (`in:"On Liberty"`, straight or
//! curly quotes), keys in any case. Text that only looks like one (a key
//! this parser does not know, `by:` with nothing after it) stays in the
//! question.

/// One operator found in a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// `by:` or `author:`.
    Author(String),
    /// `in:` or `essay:`.
    Essay(String),
    /// `tag:`.
    Tag(String),
    /// `since:` (the date included).
    Since(String),
    /// `after:` (the date left out).
    After(String),
    /// `until:` (the date included).
    Until(String),
    /// `before:` (the date left out).
    Before(String),
}

impl Operator {
    fn new(key: &str, value: String) -> Option<Operator> {
        Some(match key.to_lowercase().as_str() {
            "by" | "author" => Operator::Author(value),
            "in" | "essay" => Operator::Essay(value),
            "tag" => Operator::Tag(value),
            "since" => Operator::Since(value),
            "after" => Operator::After(value),
            "until" => Operator::Until(value),
            "before" => Operator::Before(value),
            _ => return None,
        })
    }
}

/// The operators in `text`, in order, and the text without them: the
/// remaining words joined by single spaces, or `text` itself, untouched,
/// when it holds no operator.
pub fn operators(text: &str) -> (Vec<Operator>, String) {
    let mut found = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let Some(start) = rest.find(|c: char| !c.is_whitespace()) else {
            break;
        };
        let word_at = at + start;
        let word = &text[word_at..];
        match operator_at(word) {
            Some((op, len)) => {
                found.push(op);
                at = word_at + len;
            }
            None => {
                let len = word.find(char::is_whitespace).unwrap_or(word.len());
                kept.push(&word[..len]);
                at = word_at + len;
            }
        }
    }
    if found.is_empty() {
        return (found, text.to_string());
    }
    (found, kept.join(" "))
}

/// The operator `word` starts with, and how many bytes it takes.
fn operator_at(word: &str) -> Option<(Operator, usize)> {
    let colon = word.find(':')?;
    let key = &word[..colon];
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let after = &word[colon + 1..];
    let (value, len) = match after.chars().next() {
        Some(q @ ('"' | '“' | '”' | '«')) => {
            let close: &[char] = match q {
                '«' => &['»'],
                _ => &['"', '”', '“'],
            };
            let inner = &after[q.len_utf8()..];
            match inner.find(close) {
                Some(end) => {
                    let closing = inner[end..].chars().next().map_or(0, char::len_utf8);
                    (&inner[..end], q.len_utf8() + end + closing)
                }
                // An unclosed quote runs to the end of the text.
                None => (inner, after.len()),
            }
        }
        _ => {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], end)
        }
    };
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() {
        return None;
    }
    let op = Operator::new(key, value)?;
    Some((op, colon + 1 + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_in_any_case_values_quoted_or_not() {
        let (ops, rest) = operators("BY:Madison In:“Federalist 10” Tag:liberty after:1840 Why?");
        assert_eq!(
            ops,
            [
                Operator::Author("Madison".into()),
                Operator::Essay("Federalist 10".into()),
                Operator::Tag("liberty".into()),
                Operator::After("1840".into()),
            ]
        );
        assert_eq!(rest, "Why?");
        let (ops, rest) = operators("what did by:\"John Stuart Mill\" say");
        assert_eq!(ops, [Operator::Author("John Stuart Mill".into())]);
        assert_eq!(rest, "what did say");
    }

    #[test]
    fn look_alikes_stay_in_the_question() {
        for text in [
            "note: see http://example.com and in: the end",
            "by: nobody",
            "x:y is not ours",
            "ratio 3:1",
            "",
        ] {
            let (ops, rest) = operators(text);
            assert!(ops.is_empty(), "{text}: {ops:?}");
            assert_eq!(rest, text);
        }
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        let (ops, rest) = operators("standing armies in:\"On Liberty");
        assert_eq!(ops, [Operator::Essay("On Liberty".into())]);
        assert_eq!(rest, "standing armies");
    }

    /// A word that is not an operator: no colon.
    fn plain_word() -> impl Strategy<Value = String> {
        "[^:\\s\"“”«»]{1,8}"
    }

    fn op() -> impl Strategy<Value = (String, Operator)> {
        let key = prop::sample::select(vec![
            "by", "In", "tag", "BEFORE", "after", "since", "until", "author", "essay",
        ]);
        (key, prop::collection::vec(plain_word(), 1..3)).prop_map(|(key, words)| {
            let value = words.join(" ");
            let text = if words.len() > 1 {
                format!("{key}:\"{value}\"")
            } else {
                format!("{key}:{value}")
            };
            (text, Operator::new(key, value).unwrap())
        })
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panicking(text in "\\PC{0,80}") {
            let (ops, rest) = operators(&text);
            if ops.is_empty() {
                prop_assert_eq!(rest, text);
            } else {
                prop_assert!(rest.len() < text.len());
            }
        }

        #[test]
        fn removing_operators_leaves_the_question(
            words in prop::collection::vec(plain_word(), 0..8),
            ops in prop::collection::vec((op(), 0usize..8), 0..4),
        ) {
            let mut pieces: Vec<String> = words.clone();
            for ((text, _), at) in ops.iter().rev() {
                pieces.insert((*at).min(pieces.len()), text.clone());
            }
            let (found, rest) = operators(&pieces.join("  "));
            let want: Vec<Operator> = {
                // In text order: the inserted ones, as they ended up.
                let mut placed: Vec<Operator> = Vec::new();
                for piece in &pieces {
                    if let Some((_, op)) = ops.iter().map(|(o, _)| o).find(|(t, _)| t == piece) {
                        placed.push(op.clone());
                    }
                }
                placed
            };
            prop_assert_eq!(found, want);
            if ops.is_empty() {
                prop_assert_eq!(rest, words.join("  "));
            } else {
                prop_assert_eq!(rest, words.join(" "));
            }
        }
    }
}
