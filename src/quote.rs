//! Quote: the one to three sentences of a passage that best answer a question.

use std::ops::Range;

use crate::analysis::{FastSet, matching_terms};
use crate::search::AnalyzedQuery;

/// Longest quote, in words, before a sentence is trimmed with "…".
const MAX_QUOTE_WORDS: usize = 120;
/// Most sentences in a quote.
const MAX_SENTENCES: usize = 3;

/// An excerpt of a passage: a verbatim span plus the words to mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Byte range of the excerpt within the passage text.
    pub span: Range<usize>,
    /// Text was left out before the excerpt.
    pub leading: bool,
    /// Text was left out after the excerpt.
    pub trailing: bool,
    /// Byte ranges (within the passage) of the words that matched the question.
    pub marks: Vec<Range<usize>>,
}

impl Quote {
    /// The excerpt as plain text, with "…" where the passage was trimmed.
    pub fn text(&self, passage: &str) -> String {
        let mut out = String::new();
        if self.leading {
            out.push_str("… ");
        }
        out.push_str(&passage[self.span.clone()]);
        if self.trailing {
            out.push_str(" …");
        }
        out
    }

    /// The excerpt as pieces of passage text, each flagged when it is a marked word.
    pub fn pieces<'a>(&self, passage: &'a str) -> Vec<(&'a str, bool)> {
        let mut out = Vec::new();
        let mut at = self.span.start;
        for mark in &self.marks {
            if mark.start > at {
                out.push((&passage[at..mark.start], false));
            }
            out.push((&passage[mark.clone()], true));
            at = mark.end;
        }
        if at < self.span.end {
            out.push((&passage[at..self.span.end], false));
        }
        out
    }
}

/// Picks the excerpt of `text` (with sentence spans `sentences`) that best answers `query`.
pub fn select(text: &str, sentences: &[Range<usize>], query: &AnalyzedQuery) -> Quote {
    let wanted: FastSet<&str> = query.terms.iter().map(|t| t.text.as_str()).collect();
    let words = matching_terms(text, &wanted);
    let sentence_of = |offset: usize| {
        sentences
            .iter()
            .position(|s| offset < s.end)
            .unwrap_or(sentences.len().saturating_sub(1))
    };
    // Matched content terms per sentence, and adjacent query pairs seen in order.
    let mut matched: Vec<Vec<(usize, f32)>> = vec![Vec::new(); sentences.len()];
    let mut phrases = vec![0usize; sentences.len()];
    let pairs: FastSet<(&str, &str)> = query
        .sequence
        .windows(2)
        .map(|w| {
            (
                query.terms[w[0]].text.as_str(),
                query.terms[w[1]].text.as_str(),
            )
        })
        .collect();
    for (i, word) in words.iter().enumerate() {
        let s = sentence_of(word.offset.start);
        if let Some(idf) = query.weight(&word.text)
            && let Some(t) = query.terms.iter().position(|t| t.text == word.text)
        {
            matched[s].push((t, idf));
        }
        if i > 0
            && words[i - 1].position + 1 == word.position
            && pairs.contains(&(words[i - 1].text.as_str(), word.text.as_str()))
        {
            phrases[s] += 1;
        }
    }
    let mean_idf = {
        let content: Vec<f32> = query.content().map(|t| t.idf).collect();
        if content.is_empty() {
            1.0
        } else {
            content.iter().sum::<f32>() / content.len() as f32
        }
    };
    // A sentence that gives a reason answers a "why" question better.
    let reasons: Vec<bool> = sentences
        .iter()
        .map(|s| query.asks_why && gives_reason(&text[s.clone()]))
        .collect();
    let lengths: Vec<usize> = sentences
        .iter()
        .map(|s| text[s.clone()].split_whitespace().count())
        .collect();
    let mut best = (f32::MIN, 0..1.min(sentences.len()));
    for start in 0..sentences.len() {
        for end in start + 1..=(start + MAX_SENTENCES).min(sentences.len()) {
            // Several sentences only while they stay short enough to read at a glance.
            if end - start > 1 && lengths[start..end].iter().sum::<usize>() > MAX_QUOTE_WORDS {
                break;
            }
            let mut seen = FastSet::default();
            let covered: f32 = matched[start..end]
                .iter()
                .flatten()
                .filter(|(t, _)| seen.insert(*t))
                .map(|(_, idf)| idf)
                .sum();
            let phrase: usize = phrases[start..end].iter().sum();
            let reason = reasons[start..end].iter().any(|&r| r);
            let score = covered
                + 0.5 * mean_idf * phrase as f32
                + if reason { 0.5 * mean_idf } else { 0.0 }
                - 0.3 * mean_idf * (end - start - 1) as f32;
            if score > best.0 + 1e-6 {
                best = (score, start..end);
            }
        }
    }
    let mut chosen = best.1;
    // A quote that ends on a question is followed by its answer.
    if chosen.end < sentences.len()
        && text[sentences[chosen.end - 1].clone()]
            .trim_end()
            .ends_with('?')
    {
        if chosen.len() == MAX_SENTENCES {
            chosen.start += 1;
        }
        chosen.end += 1;
    }
    let mut span = if sentences.is_empty() {
        0..text.len()
    } else {
        sentences[chosen.start].start..sentences[chosen.end - 1].end
    };
    span = trim_long(text, span, &words, query);
    let marks = words
        .iter()
        .filter(|w| {
            w.offset.start >= span.start
                && w.offset.end <= span.end
                && query.weight(&w.text).is_some()
        })
        .map(|w| w.offset.clone())
        .collect();
    Quote {
        leading: span.start > 0,
        trailing: span.end < text.trim_end().len(),
        span,
        marks,
    }
}

/// True when a sentence states a cause or reason.
fn gives_reason(sentence: &str) -> bool {
    const CUES: &[&str] = &[
        "because",
        "reason",
        "therefore",
        "hence",
        "since",
        "cause",
        "thus",
        "consequently",
    ];
    sentence
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| CUES.iter().any(|cue| w.eq_ignore_ascii_case(cue)))
}

/// Cuts a span longer than [`MAX_QUOTE_WORDS`] words down to the run of that
/// many (whitespace-separated) words holding the most question weight.
fn trim_long(
    text: &str,
    span: Range<usize>,
    matched: &[crate::analysis::Term],
    query: &AnalyzedQuery,
) -> Range<usize> {
    let mut tokens: Vec<Range<usize>> = Vec::new();
    let mut start = None;
    for (i, c) in text[span.clone()].char_indices() {
        let at = span.start + i;
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(at),
            (true, Some(s)) => {
                tokens.push(s..at);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(s..span.end);
    }
    if tokens.len() <= MAX_QUOTE_WORDS {
        return span;
    }
    let weights: Vec<f32> = tokens
        .iter()
        .map(|t| {
            matched
                .iter()
                .filter(|m| m.offset.start >= t.start && m.offset.end <= t.end)
                .map(|m| query.weight(&m.text).unwrap_or(0.0))
                .sum()
        })
        .collect();
    let mut sum: f32 = weights[..MAX_QUOTE_WORDS].iter().sum();
    let mut best = (sum, 0);
    for first in 1..=tokens.len() - MAX_QUOTE_WORDS {
        sum += weights[first + MAX_QUOTE_WORDS - 1] - weights[first - 1];
        if sum > best.0 + 1e-6 {
            best = (sum, first);
        }
    }
    tokens[best.1].start..tokens[best.1 + MAX_QUOTE_WORDS - 1].end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::terms;
    use crate::search::QueryTerm;

    fn query(words: &[&str]) -> AnalyzedQuery {
        let mut q = AnalyzedQuery::default();
        for w in words {
            for t in terms(w) {
                q.terms.push(QueryTerm {
                    text: t.text,
                    idf: 2.0,
                    df: 1,
                    stop: false,
                });
                q.sequence.push(q.terms.len() - 1);
            }
        }
        q
    }

    #[test]
    fn picks_the_sentence_with_the_question_words() {
        let text =
            "First about cats. The latent causes of faction are sown in the nature of man. Last.";
        let sentences = crate::passage::sentences(text);
        let quote = select(text, &sentences, &query(&["latent", "faction"]));
        assert_eq!(
            &text[quote.span.clone()],
            "The latent causes of faction are sown in the nature of man."
        );
        assert!(quote.leading && quote.trailing);
        assert_eq!(
            quote.text(text),
            "… The latent causes of faction are sown in the nature of man. …"
        );
        let marked: Vec<_> = quote.marks.iter().map(|m| &text[m.clone()]).collect();
        assert_eq!(marked, ["latent", "faction"]);
        let pieces = quote.pieces(text);
        assert_eq!(
            pieces.iter().map(|p| p.0).collect::<String>(),
            &text[quote.span.clone()]
        );
    }

    #[test]
    fn long_sentences_are_trimmed_around_the_match() {
        let text = format!(
            "{} needle here {}.",
            "word ".repeat(200),
            "more ".repeat(200)
        );
        let sentences = crate::passage::sentences(&text);
        let quote = select(&text, &sentences, &query(&["needle"]));
        let excerpt = &text[quote.span.clone()];
        assert!(excerpt.contains("needle"));
        assert!(excerpt.split_whitespace().count() <= MAX_QUOTE_WORDS);
        assert!(quote.leading && quote.trailing);
    }
}
