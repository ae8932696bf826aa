//! Quote: the one to three sentences of a passage that best answer a question.
//!
//! The question's words are found in the passage (from the positions the
//! search read in the index, [`terms_at`], else by [`matching_terms`]); each
//! run of up to [`MAX_SENTENCES`] sentences is scored by the question weight
//! it covers, its phrases and, for a "why" question, whether it gives a
//! reason; the best run is kept, followed by its answer when it ends on a
//! question, and cut to [`MAX_QUOTE_WORDS`] words around the matches.

use std::ops::Range;

use crate::answer::Quote;
use crate::search::AnalyzedQuery;
use crate::text::analysis::{FastSet, Term, matching_terms, terms_at};

/// Longest quote, in words, before a sentence is trimmed with "…".
const MAX_QUOTE_WORDS: usize = 120;
/// Most sentences in a quote.
const MAX_SENTENCES: usize = 3;

/// Weight of a sentence's similarity to the question by meaning (its
/// cosine, with the model), in units of the question's mean IDF: the weight
/// the search gave meaning before fusion replaced it, not fitted; at this
/// value quote@1 equalled hit@1 on both dev sets.
const W_QUOTE_DENSE: f32 = 2.0;

/// Picks the excerpt of `text` (with sentence spans `sentences`) that best
/// answers `query`, with how well it answers: comparable between passages
/// for the same question, so that a long paragraph shows the window that
/// holds its best excerpt.
///
/// `found`, when the search read it from the index, holds per term of the
/// query its positions in `text`; the words are then not analysed again.
/// `similarity`, with the model, is each sentence's similarity to the
/// question by meaning.
pub fn select(
    text: &str,
    sentences: &[Range<usize>],
    query: &AnalyzedQuery,
    found: Option<&[Vec<u32>]>,
    similarity: Option<&[f32]>,
) -> (Quote, f32) {
    let words = match found {
        Some(found) => {
            let mut at: Vec<(u32, &str)> = found
                .iter()
                .zip(&query.terms)
                .flat_map(|(positions, term)| positions.iter().map(|&p| (p, term.text.as_str())))
                .collect();
            at.sort_unstable_by_key(|&(p, _)| p);
            terms_at(text, &at)
        }
        None => {
            let wanted: FastSet<&str> = query.terms.iter().map(|t| t.text.as_str()).collect();
            matching_terms(text, &wanted)
        }
    };
    let mut marks = SentenceMarks::of(text, sentences, &words, query);
    marks.similarity = similarity
        .filter(|s| s.len() == sentences.len())
        .map(<[f32]>::to_vec);
    let (score, best) = marks.best_run(query);
    let chosen = followed_by_answer(text, sentences, best);
    let span = if sentences.is_empty() {
        0..text.len()
    } else {
        sentences[chosen.start].start..sentences[chosen.end - 1].end
    };
    let span = trim_long(text, span, &words, query);
    let marks = words
        .iter()
        .filter(|w| {
            w.offset.start >= span.start
                && w.offset.end <= span.end
                && query.weight(&w.text).is_some()
        })
        .map(|w| w.offset.clone())
        .collect();
    let quote = Quote {
        leading: span.start > 0,
        trailing: span.end < text.trim_end().len(),
        span,
        marks,
    };
    (quote, score)
}

/// What each sentence of a passage holds of the question.
struct SentenceMarks {
    /// Per sentence: the content terms matched (index into the query's terms) with their IDF.
    matched: Vec<Vec<(usize, f32)>>,
    /// Per sentence: adjacent question word pairs seen in order.
    phrases: Vec<usize>,
    /// Per sentence: it gives a reason, and the question asks for one.
    reasons: Vec<bool>,
    /// Per sentence: its length in words.
    lengths: Vec<usize>,
    /// Per sentence, with the model: its similarity to the question by meaning.
    similarity: Option<Vec<f32>>,
}

impl SentenceMarks {
    fn of(text: &str, sentences: &[Range<usize>], words: &[Term], query: &AnalyzedQuery) -> Self {
        let sentence_of = |offset: usize| {
            sentences
                .iter()
                .position(|s| offset < s.end)
                .unwrap_or(sentences.len().saturating_sub(1))
        };
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
        SentenceMarks {
            matched,
            phrases,
            // A sentence that gives a reason answers a "why" question better.
            reasons: sentences
                .iter()
                .map(|s| query.asks_why && gives_reason(&text[s.clone()]))
                .collect(),
            lengths: sentences
                .iter()
                .map(|s| text[s.clone()].split_whitespace().count())
                .collect(),
            similarity: None,
        }
    }

    /// The run of sentences with the best score; the first sentence when none scores.
    /// The best run of sentences, with its score.
    fn best_run(&self, query: &AnalyzedQuery) -> (f32, Range<usize>) {
        let n = self.lengths.len();
        let mean_idf = {
            let content: Vec<f32> = query.content().map(|t| t.idf).collect();
            if content.is_empty() {
                1.0
            } else {
                content.iter().sum::<f32>() / content.len() as f32
            }
        };
        let mut best = (f32::MIN, 0..1.min(n));
        for start in 0..n {
            for end in start + 1..=(start + MAX_SENTENCES).min(n) {
                // Several sentences only while they stay short enough to read at a glance.
                if end - start > 1
                    && self.lengths[start..end].iter().sum::<usize>() > MAX_QUOTE_WORDS
                {
                    break;
                }
                let score = self.score(start..end, mean_idf);
                if score > best.0 + 1e-6 {
                    best = (score, start..end);
                }
            }
        }
        best
    }

    /// The score of sentences `run`: the question weight they cover, plus
    /// their phrases and a reason, less a little for each extra sentence.
    fn score(&self, run: Range<usize>, mean_idf: f32) -> f32 {
        let mut seen = FastSet::default();
        let covered: f32 = self.matched[run.clone()]
            .iter()
            .flatten()
            .filter(|(t, _)| seen.insert(*t))
            .map(|(_, idf)| idf)
            .sum();
        let phrase: usize = self.phrases[run.clone()].iter().sum();
        let reason = self.reasons[run.clone()].iter().any(|&r| r);
        let meaning = self.similarity.as_ref().map_or(0.0, |s| {
            W_QUOTE_DENSE * mean_idf * s[run.clone()].iter().fold(0.0f32, |m, &x| m.max(x))
        });
        covered + 0.5 * mean_idf * phrase as f32 + if reason { 0.5 * mean_idf } else { 0.0 }
            - 0.3 * mean_idf * (run.end - run.start - 1) as f32
            + meaning
    }
}

/// `chosen`, extended by one sentence when it ends on a question: the
/// answer follows (dropping the first sentence if that would make too many).
fn followed_by_answer(
    text: &str,
    sentences: &[Range<usize>],
    chosen: Range<usize>,
) -> Range<usize> {
    let mut chosen = chosen;
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
    chosen
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
    matched: &[Term],
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
    use crate::passage::sentences;
    use crate::search::QueryTerm;
    use crate::text::analysis::terms;

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
        let sentences = sentences(text);
        let (quote, _) = select(text, &sentences, &query(&["latent", "faction"]), None, None);
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
        let sentences = sentences(&text);
        let (quote, _) = select(&text, &sentences, &query(&["needle"]), None, None);
        let excerpt = &text[quote.span.clone()];
        assert!(excerpt.contains("needle"));
        assert!(excerpt.split_whitespace().count() <= MAX_QUOTE_WORDS);
        assert!(quote.leading && quote.trailing);
    }
}
