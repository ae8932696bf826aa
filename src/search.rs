//! Search: from a question to ranked passages, or to an abstention.
//!
//! 1. The question is analysed into terms ([`crate::analysis`]), with each
//!    term's IDF; it is never parsed as query syntax.
//! 2. BM25 over the passage text picks candidates (very common terms of a
//!    large corpus aside, see [`candidate_terms`]).
//! 3. For each candidate, [`Evidence`] is gathered from what BM25 ignores,
//!    read straight from the index's postings: how much of the question's
//!    weight the passage (or its essay's title and author) covers, whether
//!    the question's word pairs appear as phrases, how close together its
//!    words are, and whether it holds enough of the question to be an answer.
//! 4. With the model, the passages most similar to the question by meaning
//!    join the candidates ([`add_dense`]), with the same evidence read from
//!    their text.
//! 5. [`decide`] turns evidence into the final score and ranking, and
//!    abstains when no candidate is an answer. It is the one place where
//!    evidence is weighed.
//!
//! # How the hybrid constants were chosen
//!
//! [`W_DENSE`], [`CONFIDENCE_COVERAGE`] and [`MIN_CONFIDENCE`] were fitted
//! on the Federalist dev set alone (the questions of the other sets, asked
//! of the Federalist corpus, served as extra unanswerable ones), then
//! checked without change on the seeds dev set and on questions written
//! for `eval/`; see the README's figures. `W_DENSE` is the smallest weight
//! at which the Federalist ranking stops improving; the abstention weight
//! is the one at which answerable and unanswerable Federalist questions
//! separate completely, and the threshold sits midway in the gap.

use tantivy::collector::TopDocs;
use tantivy::postings::Postings;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, TERMINATED, Term};

use crate::analysis::{FastMap, is_stop, terms};
use crate::error::{Error, Result};
use crate::index::SearchIndex;
use crate::store::Store;

/// At most this many words of a question are used.
const MAX_QUERY_TERMS: usize = 48;
/// A term in more passages than this (and than a tenth of them) does not pick candidates.
const COMMON_DF: u64 = 5_000;
/// The rarest terms that always pick candidates, however common.
const MIN_CANDIDATE_TERMS: usize = 2;
/// BM25 candidates re-ranked per question.
const CANDIDATES: usize = 20;
/// Weights of the final score: coverage of the question, phrase matches, proximity.
const W_COVERAGE: f32 = 1.0;
const W_PHRASE: f32 = 0.5;
const W_PROXIMITY: f32 = 0.3;
/// A passage must hold this share of the question's content words to be an answer.
pub const MIN_SHARE: f32 = 0.5;
/// Passages most similar by meaning that join the BM25 candidates.
const DENSE_CANDIDATES: usize = 20;
/// Weight of a passage's similarity (its best sentence's cosine) in the hybrid score.
const W_DENSE: f32 = 2.0;
/// Hybrid abstention: a candidate is an answer when its similarity plus
/// this much of its coverage reaches [`MIN_CONFIDENCE`].
const CONFIDENCE_COVERAGE: f32 = 0.75;
/// See [`CONFIDENCE_COVERAGE`].
const MIN_CONFIDENCE: f32 = 0.75;

/// One analysed word of the question.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// The stemmed term.
    pub text: String,
    /// Its inverse document frequency; highest for words the corpus lacks.
    pub idf: f32,
    /// How many passages hold it.
    pub df: u64,
    /// A stop word: used for phrases only.
    pub stop: bool,
}

/// The analysed question.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyzedQuery {
    /// Distinct terms, in order of first appearance.
    pub terms: Vec<QueryTerm>,
    /// The question's words as indexes into `terms`, in order.
    pub sequence: Vec<usize>,
    /// The question asks for a reason ("why", "for what reason").
    pub asks_why: bool,
}

impl AnalyzedQuery {
    /// The distinct content (non-stop) terms.
    pub fn content(&self) -> impl Iterator<Item = &QueryTerm> {
        self.terms.iter().filter(|t| !t.stop)
    }

    /// IDF of a term, if it is a content term of the question.
    pub fn weight(&self, stem: &str) -> Option<f32> {
        self.content().find(|t| t.text == stem).map(|t| t.idf)
    }
}

/// What the words of a question show about one BM25 candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// BM25, relative to the best candidate's (so in (0, 1]).
    pub bm25: f32,
    /// Share of the question's weight (IDF) that the passage, or its essay's
    /// title and author, covers.
    pub coverage: f32,
    /// Share of the question's word pairs that appear as phrases.
    pub phrase: f32,
    /// How tightly the question's content words cluster (see [`proximity`]).
    pub proximity: f32,
    /// Share of the question's content words the passage (or title and author) holds.
    pub share: f32,
    /// The passage holds enough of the question to count as an answer.
    pub answers: bool,
}

/// A candidate passage with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Passage ordinal.
    pub passage: usize,
    /// What the question's words show about it.
    pub evidence: Evidence,
    /// Its similarity to the question by meaning, with the model.
    pub similarity: Option<f32>,
}

/// A passage the search found, with the evidence for its rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Passage ordinal.
    pub passage: usize,
    /// Final score; higher is better.
    pub score: f32,
    /// The evidence the score was made from.
    pub evidence: Evidence,
    /// Its similarity to the question by meaning, with the model.
    pub similarity: Option<f32>,
}

/// The outcome of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranking {
    /// The analysed question.
    pub query: AnalyzedQuery,
    /// Best passages first; empty when the engine abstains.
    pub hits: Vec<Ranked>,
    /// Per passage ordinal of a BM25 candidate: the positions of each of the
    /// query's terms in it (indexed as `query.terms`), read from the index,
    /// so that quoting need not analyse the passage again.
    pub found: FastMap<usize, Vec<Vec<u32>>>,
}

/// Analyses `question` against the index's statistics.
pub fn analyze(index: &SearchIndex, question: &str) -> Result<AnalyzedQuery> {
    let searcher = index.searcher();
    let body = index.body();
    let n = searcher.num_docs() as f32;
    let mut query = AnalyzedQuery::default();
    let mut seen: FastMap<String, usize> = FastMap::default();
    for term in terms(question).into_iter().take(MAX_QUERY_TERMS) {
        let slot = match seen.get(&term.text) {
            Some(&slot) => slot,
            None => {
                let df = searcher
                    .doc_freq(&Term::from_field_text(body, &term.text))
                    .map_err(Error::index)?;
                let idf = (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
                query.terms.push(QueryTerm {
                    stop: is_stop(&term.text),
                    text: term.text.clone(),
                    idf,
                    df,
                });
                seen.insert(term.text, query.terms.len() - 1);
                query.terms.len() - 1
            }
        };
        query.sequence.push(slot);
    }
    query.asks_why = query
        .terms
        .iter()
        .any(|t| t.text == "whi" || t.text == "reason");
    Ok(query)
}

/// Finds up to `limit` passages that answer `question`, best first.
///
/// `similarity`, with the model, is every passage's similarity to the
/// question by meaning (by ordinal); without it the search is lexical.
pub fn search(
    index: &SearchIndex,
    store: &Store,
    question: &str,
    limit: usize,
    similarity: Option<&[f32]>,
) -> Result<Ranking> {
    let query = analyze(index, question)?;
    let (mut candidates, found) = candidates(index, store, &query, limit)?;
    if let Some(similarity) = similarity {
        add_dense(store, &query, &mut candidates, similarity, limit);
    }
    let hits = decide(&query, candidates, limit);
    Ok(Ranking { query, hits, found })
}

/// The ordinals of the `wanted` passages most similar by embedding (in no
/// particular order; ties go to the earlier passage).
pub(crate) fn most_similar(similarity: &[f32], wanted: usize) -> Vec<usize> {
    let wanted = wanted.min(similarity.len());
    let mut order: Vec<usize> = (0..similarity.len()).collect();
    if wanted > 0 && wanted < order.len() {
        order.select_nth_unstable_by(wanted - 1, |&a, &b| {
            similarity[b].total_cmp(&similarity[a]).then(a.cmp(&b))
        });
    }
    order.truncate(wanted);
    order
}

/// Adds the passages most similar to the question by meaning to
/// `candidates`, with the evidence of their words, and gives every
/// candidate its similarity.
fn add_dense(
    store: &Store,
    query: &AnalyzedQuery,
    candidates: &mut Vec<Candidate>,
    similarity: &[f32],
    limit: usize,
) {
    let order = most_similar(similarity, DENSE_CANDIDATES.max(limit * 2));
    let known: crate::analysis::FastSet<usize> = candidates.iter().map(|c| c.passage).collect();
    let content: Vec<&QueryTerm> = query.content().collect();
    let pairs = phrase_pairs(query);
    for passage in order.into_iter().filter(|p| !known.contains(p)) {
        let evidence = text_evidence(store, query, &content, &pairs, passage);
        candidates.push(Candidate {
            passage,
            evidence,
            similarity: None,
        });
    }
    for candidate in candidates.iter_mut() {
        candidate.similarity = similarity.get(candidate.passage).copied();
    }
}

/// The evidence for a passage BM25 did not pick, read from its text: its
/// BM25 counts as zero, being below every BM25 candidate's.
fn text_evidence(
    store: &Store,
    query: &AnalyzedQuery,
    content: &[&QueryTerm],
    pairs: &[(usize, usize)],
    passage: usize,
) -> Evidence {
    if content.is_empty() {
        return Evidence {
            bm25: 0.0,
            coverage: 0.0,
            phrase: 0.0,
            proximity: 0.0,
            share: 0.0,
            answers: false,
        };
    }
    let mut found: Vec<Vec<u32>> = vec![Vec::new(); query.terms.len()];
    let slots: FastMap<&str, usize> = query
        .terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.text.as_str(), i))
        .collect();
    for term in terms(store.text(passage)) {
        if let Some(&slot) = slots.get(term.text.as_str()) {
            found[slot].push(term.position as u32);
        }
    }
    let matched = matched_terms(store, passage, query, &found);
    evidence(0.0, query, content, &matched, pairs, &found)
}

/// The question's content terms that passage `passage` holds, where they
/// were `found`, or that its essay's title and author hold.
fn matched_terms<'q>(
    store: &Store,
    passage: usize,
    query: &'q AnalyzedQuery,
    found: &[Vec<u32>],
) -> Vec<&'q QueryTerm> {
    let title = store.title_terms(store.essay_of(passage));
    query
        .terms
        .iter()
        .enumerate()
        .filter(|(t, term)| !term.stop && (!found[*t].is_empty() || title.contains(&term.text)))
        .map(|(_, term)| term)
        .collect()
}

/// Candidates with their evidence, and where the query's terms are in each (see [`Ranking::found`]).
type Found = (Vec<Candidate>, FastMap<usize, Vec<Vec<u32>>>);

/// The BM25 candidates for `query`, each with its evidence, in BM25 order,
/// and the positions of the query's terms in each; none when the question
/// has no content words.
fn candidates(
    index: &SearchIndex,
    store: &Store,
    query: &AnalyzedQuery,
    limit: usize,
) -> Result<Found> {
    let content: Vec<&QueryTerm> = query.content().collect();
    if content.is_empty() || limit == 0 {
        return Ok(Found::default());
    }
    let picking = candidate_terms(&content, index.searcher().num_docs());
    let top = bm25_top(
        index,
        picking.iter().map(|t| t.text.as_str()),
        CANDIDATES.max(limit * 2),
    )?;
    if top.is_empty() {
        return Ok(Found::default());
    }
    let positions = term_positions(index, query, &top)?;
    let best_bm25 = top[0].0.max(f32::EPSILON);
    let pairs = phrase_pairs(query);
    let mut found_in = FastMap::default();
    let candidates = top
        .iter()
        .zip(positions)
        .filter_map(|(&(bm25, addr), found)| {
            let passage = index.passage_of(addr)?;
            let matched = matched_terms(store, passage, query, &found);
            let evidence = evidence(bm25 / best_bm25, query, &content, &matched, &pairs, &found);
            found_in.insert(passage, found);
            Some(Candidate {
                passage,
                evidence,
                similarity: None,
            })
        })
        .collect();
    Ok((candidates, found_in))
}

/// The evidence for one candidate: `bm25` relative to the best, the question's
/// content terms the candidate `matched`, and where in it each question term
/// was `found`.
fn evidence(
    bm25: f32,
    query: &AnalyzedQuery,
    content: &[&QueryTerm],
    matched: &[&QueryTerm],
    pairs: &[(usize, usize)],
    found: &[Vec<u32>],
) -> Evidence {
    let total_weight: f32 = content.iter().map(|t| t.idf).sum();
    let share = matched.len() as f32 / content.len() as f32;
    let phrase = if pairs.is_empty() {
        0.0
    } else {
        pairs
            .iter()
            .filter(|&&(a, b)| adjacent(&found[a], &found[b]))
            .count() as f32
            / pairs.len() as f32
    };
    Evidence {
        bm25,
        coverage: matched.iter().map(|t| t.idf).sum::<f32>() / total_weight,
        phrase,
        proximity: proximity(query, found),
        share,
        answers: share >= MIN_SHARE && matched.len() >= content.len().min(2),
    }
}

/// The final score of a candidate: its lexical evidence, plus its
/// similarity by meaning when the model gave one.
fn score(e: &Evidence, similarity: Option<f32>) -> f32 {
    let lexical =
        e.bm25 + W_COVERAGE * e.coverage + W_PHRASE * e.phrase + W_PROXIMITY * e.proximity;
    lexical + similarity.map_or(0.0, |s| W_DENSE * s)
}

/// Whether a candidate answers the question. Lexically, it must hold
/// enough of the question's words ([`Evidence::answers`]). With the model,
/// its similarity by meaning and its coverage of the question's weight
/// must together reach a calibrated confidence: a passage that shares two
/// common words with an unrelated question is not an answer, and one that
/// says the same thing in other words is.
fn answers(e: &Evidence, similarity: Option<f32>) -> bool {
    match similarity {
        None => e.answers,
        Some(s) => s + CONFIDENCE_COVERAGE * e.coverage >= MIN_CONFIDENCE,
    }
}

/// The decision: candidates ranked by [`score`] (ties by corpus order), only
/// those that [`answers`] accepts, at most `limit`. Empty is an abstention.
fn decide(query: &AnalyzedQuery, candidates: Vec<Candidate>, limit: usize) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = candidates
        .into_iter()
        .filter(|c| answers(&c.evidence, c.similarity))
        .map(|c| Ranked {
            passage: c.passage,
            score: score(&c.evidence, c.similarity),
            evidence: c.evidence,
            similarity: c.similarity,
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
    tracing::debug!(
        terms = ?query.terms.iter().map(|t| (&t.text, t.idf, t.stop)).collect::<Vec<_>>(),
        top = ?ranked.iter().take(5).map(|h| (h.passage, h.score, h.evidence.coverage, h.evidence.answers)).collect::<Vec<_>>(),
        "ranked"
    );
    ranked.truncate(limit);
    ranked
}

/// The terms that pick BM25 candidates: in a large corpus, all but the very
/// common ones (in more than a tenth of the passages, and more than
/// [`COMMON_DF`]), which add little to BM25 but make it walk long postings.
/// The rarest few always stay. Common terms still count in re-ranking,
/// which reads them only for the candidates.
fn candidate_terms<'q>(content: &[&'q QueryTerm], passages: u64) -> Vec<&'q QueryTerm> {
    let mut by_rarity = content.to_vec();
    by_rarity.sort_by_key(|t| t.df);
    let common = |t: &&QueryTerm| t.df > COMMON_DF && t.df > passages / 10;
    let rare = by_rarity.iter().filter(|t| !common(t)).count();
    by_rarity.truncate(rare.max(MIN_CANDIDATE_TERMS));
    by_rarity
}

/// The `limit` best passages by BM25 for any of `terms` (analysed terms,
/// never query syntax); empty when there are no terms.
pub(crate) fn bm25_top<'t>(
    index: &SearchIndex,
    terms: impl IntoIterator<Item = &'t str>,
    limit: usize,
) -> Result<Vec<(Score, DocAddress)>> {
    let body = index.body();
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|text| {
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(body, text),
                IndexRecordOption::WithFreqs,
            ));
            (Occur::Should, query)
        })
        .collect();
    if clauses.is_empty() {
        return Ok(Vec::new());
    }
    index
        .searcher()
        .search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )
        .map_err(Error::index)
}

/// Word pairs of the question that would make a phrase: adjacent, and not both stop words.
fn phrase_pairs(query: &AnalyzedQuery) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = query
        .sequence
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|&(a, b)| a != b && !(query.terms[a].stop && query.terms[b].stop))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// True when some position in `b` directly follows one in `a`.
fn adjacent(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let want = a[i] + 1;
        match b[j].cmp(&want) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Greater => i += 1,
        }
    }
    false
}

/// How tightly the question's content words cluster: matched words over the
/// shortest span of positions that holds one of each, in (0, 1].
fn proximity(query: &AnalyzedQuery, found: &[Vec<u32>]) -> f32 {
    let mut events: Vec<(u32, usize)> = Vec::new();
    let mut kinds = 0;
    for (t, term) in query.terms.iter().enumerate() {
        if !term.stop && !found[t].is_empty() {
            kinds += 1;
            events.extend(found[t].iter().map(|&p| (p, t)));
        }
    }
    if kinds < 2 {
        return 0.0;
    }
    events.sort_unstable();
    let mut counts: FastMap<usize, usize> = FastMap::default();
    let mut have = 0;
    let mut best = u32::MAX;
    let mut left = 0;
    for right in 0..events.len() {
        let c = counts.entry(events[right].1).or_insert(0);
        *c += 1;
        if *c == 1 {
            have += 1;
        }
        while have == kinds {
            best = best.min(events[right].0 - events[left].0 + 1);
            let c = counts.get_mut(&events[left].1).expect("counted");
            *c -= 1;
            if *c == 0 {
                have -= 1;
            }
            left += 1;
        }
    }
    kinds as f32 / best as f32
}

/// Positions of every question term in every candidate, read from postings.
fn term_positions(
    index: &SearchIndex,
    query: &AnalyzedQuery,
    top: &[(Score, DocAddress)],
) -> Result<Vec<Vec<Vec<u32>>>> {
    let searcher = index.searcher();
    let body = index.body();
    let mut out = vec![vec![Vec::new(); query.terms.len()]; top.len()];
    let mut by_segment: FastMap<u32, Vec<(DocId, usize)>> = FastMap::default();
    for (i, (_, addr)) in top.iter().enumerate() {
        by_segment
            .entry(addr.segment_ord)
            .or_default()
            .push((addr.doc_id, i));
    }
    for (segment_ord, mut docs) in by_segment {
        docs.sort_unstable();
        let inverted = searcher
            .segment_reader(segment_ord)
            .inverted_index(body)
            .map_err(Error::index)?;
        for (t, term) in query.terms.iter().enumerate() {
            let Some(mut postings) = inverted
                .read_postings(
                    &Term::from_field_text(body, &term.text),
                    IndexRecordOption::WithFreqsAndPositions,
                )
                .map_err(Error::index)?
            else {
                continue;
            };
            for &(doc, i) in &docs {
                // Seeking backwards is not allowed: the postings may start past this doc.
                if postings.doc() > doc {
                    continue;
                }
                let at = postings.seek(doc);
                if at == TERMINATED {
                    break;
                }
                if at == doc {
                    postings.positions(&mut out[i][t]);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacency() {
        assert!(adjacent(&[1, 5, 9], &[3, 10]));
        assert!(!adjacent(&[1, 5, 9], &[3, 11]));
        assert!(!adjacent(&[], &[1]));
    }

    #[test]
    fn proximity_of_clustered_words() {
        let query = AnalyzedQuery {
            terms: vec![
                QueryTerm {
                    text: "a".into(),
                    idf: 1.0,
                    df: 1,
                    stop: false,
                },
                QueryTerm {
                    text: "b".into(),
                    idf: 1.0,
                    df: 1,
                    stop: false,
                },
            ],
            sequence: vec![0, 1],
            asks_why: false,
        };
        let close = proximity(&query, &[vec![10], vec![11]]);
        let far = proximity(&query, &[vec![10], vec![40]]);
        assert_eq!(close, 1.0);
        assert!(far < 0.1);
    }
}
