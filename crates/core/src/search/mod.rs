//! Search: from a question to ranked passages, or to an abstention.
//!
//! The unit that is ranked is the paragraph, the unit a reader cites; a
//! hit shows the paragraph's best passage (one window of a long paragraph).
//!
//! 1. The question is analysed into terms ([`crate::text::analysis`]); it is never
//!    parsed as query syntax. Stop words do not count.
//! 2. **Words:** plain BM25 over paragraphs ([`lexical`]), read straight
//!    from the index's postings and field norms, each paragraph together
//!    with its essay's title and author (as BM25 runs over "title + text"
//!    on a public benchmark). The [`POOL`] best then add two pieces of
//!    evidence BM25 lacks ([`word_evidence`]): how much of the question's
//!    weight they hold, and which of its word pairs they hold as phrases.
//!    Each stayed because words-only answers to the held-out questions
//!    lose without it; a proximity feature did not (docs/quality.md).
//! 3. **Meaning**, with the model: each paragraph's similarity is its best
//!    sentence's cosine with the question.
//! 4. **Fusion** ([`fuse`]): a convex combination of the two, each divided
//!    by the question's best (a min-max normalisation whose minimum is the
//!    scores' theoretical one, 0; Bruch, Gai and Ingber, ACM TOIS 2023),
//!    with one fitted weight, [`LEXICAL_WEIGHT`].
//! 5. **Abstention** ([`answerable`]) is decided once per question on
//!    scores that keep their scale: the best cosine, and the share of the
//!    question's weight (IDF) that the best paragraph holds.
//!
//! # How the constants were chosen
//!
//! `K1` and `B` are BM25's usual defaults, not fitted. [`LEXICAL_WEIGHT`]
//! and the abstention thresholds were fitted on SciFact's train claims and
//! the `eval/*-own` questions, then confirmed without change on the
//! held-out batches (docs/quality.md).

pub(crate) mod scope;

use std::ops::Range;

use tantivy::collector::TopDocs;
use tantivy::postings::Postings;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, TERMINATED, Term};

use crate::error::{Error, Result};
use crate::index::{NO_PASSAGE, SearchIndex};
use crate::search::scope::Within;
use crate::store::Store;
use crate::text::analysis::{FastMap, is_stop, terms};

/// At most this many words of a question are used.
const MAX_QUERY_TERMS: usize = 48;
/// A term in more paragraphs than this (and than a tenth of them) is left
/// out of BM25 unless it is among the question's rarest few: it adds
/// little to the score but makes the search walk long postings.
const COMMON_DF: u64 = 5_000;
/// The rarest terms that always count, however common.
const MIN_SCORED_TERMS: usize = 2;
/// BM25's term-frequency saturation (the usual default, not fitted).
const K1: f32 = 1.2;
/// BM25's length normalisation (the usual default, not fitted).
const B: f32 = 0.75;
/// Candidates from each side (words, meaning) that are fused and ranked.
const POOL: usize = 100;
/// Weight of a paragraph's coverage of the question's weight, beside its
/// BM25 relative to the best (the weight it had before BM25 became plain;
/// not refitted; kept because words-only answers to the held-out batches
/// lose without it).
const W_COVERAGE: f32 = 1.0;
/// Weight of the share of the question's word pairs that the paragraph
/// holds as phrases (as [`W_COVERAGE`]).
const W_PHRASE: f32 = 0.5;
/// Weight of the words in the fused score; the meaning has the rest.
/// Fitted: the best mean of SciFact train's nDCG@10 and the MRR of each
/// `eval/*-own` set, on a grid of 0.05.
const LEXICAL_WEIGHT: f32 = 0.2;
/// With the model, a question is answered when its best cosine plus this
/// much of the best paragraph's coverage of its weight reaches
/// [`HYBRID_CONFIDENCE`].
const HYBRID_COVERAGE: f32 = 0.5;
/// See [`HYBRID_COVERAGE`]. Fitted: about the highest threshold that
/// refuses at most 5 % of the answerable `eval/*-own` questions (0.626);
/// it refuses 15 of the 17 unanswerable own questions and 5 of SciFact's
/// 809 train claims.
const HYBRID_CONFIDENCE: f32 = 0.62;
/// Without the model, a question is answered when the best paragraph holds
/// this share of its weight. Fitted as [`HYBRID_CONFIDENCE`] (0.23), then
/// lowered to 0.2, where 1 of the 95 answerable own questions and 2 of the
/// 809 SciFact claims are refused: words alone separate answerable from
/// unanswerable questions poorly, and a refused answer costs more.
const LEXICAL_CONFIDENCE: f32 = 0.2;

/// One analysed word of the question.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// The stemmed term.
    pub text: String,
    /// Its inverse document frequency over paragraphs; highest for words
    /// the corpus lacks.
    pub idf: f32,
    /// How many passages hold it.
    pub df: u64,
    /// A stop word: not scored.
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

/// A paragraph the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The ordinals of its passages: one, or the windows of a long
    /// paragraph, of which the hit shows one (the engine chooses which).
    pub passages: Range<usize>,
    /// Final score; higher is better.
    pub score: f32,
}

/// The outcome of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranking {
    /// The analysed question.
    pub query: AnalyzedQuery,
    /// Best passages first; empty when the engine abstains.
    pub hits: Vec<Ranked>,
    /// Per passage ordinal of a hit's paragraph that holds some of the question's words:
    /// the positions of each of the query's terms in it (indexed as
    /// `query.terms`), read from the index, so that quoting need not
    /// analyse the passage again.
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
/// question by meaning (its best sentence's cosine, by ordinal); without it
/// the search is lexical.
#[cfg(test)]
pub fn search(
    index: &SearchIndex,
    store: &Store,
    question: &str,
    limit: usize,
    similarity: Option<&[f32]>,
) -> Result<Ranking> {
    search_within(
        index,
        store,
        question,
        limit,
        similarity,
        &Within::everything(),
    )
}

/// [`search`] within a scope: only the paragraphs of the essays `within`
/// holds are candidates, by words and by meaning, and BM25's statistics
/// (paragraph count, document frequencies, mean length) are those of the
/// scope alone, so that the ranking and the abstention are the ones a
/// corpus holding only those essays would give. A follow-up's bonus per
/// essay is then added to the fused scores.
pub fn search_within(
    index: &SearchIndex,
    store: &Store,
    question: &str,
    limit: usize,
    similarity: Option<&[f32]>,
    within: &Within,
) -> Result<Ranking> {
    let mut query = analyze(index, question)?;
    if !within.is_everything() {
        rescope(index, &mut query, within)?;
    }
    if limit == 0 {
        return Ok(Ranking {
            query,
            ..Ranking::default()
        });
    }
    let words = lexical(index, store, &mut query, within)?;
    let evidence = word_evidence(index, &query, &words)?;
    let meaning = similarity.map(|s| by_meaning(index.paragraphs(), s, within));
    let mut fused = fuse(&evidence, meaning.as_ref());
    if within.has_bonus() {
        add_bonus(&mut fused, index.paragraphs(), within);
    }
    let confident =
        !fused.is_empty() && answerable(words.best_coverage(), meaning.as_ref().map(|m| m.best));
    tracing::debug!(
        terms = ?query.terms.iter().map(|t| (&t.text, t.idf, t.stop)).collect::<Vec<_>>(),
        top = ?fused.iter().take(5).map(|c| (c.paragraph, c.score, c.bm25, c.coverage, c.similarity)).collect::<Vec<_>>(),
        confident,
        "ranked"
    );
    if !confident {
        return Ok(Ranking {
            query,
            ..Ranking::default()
        });
    }
    let paragraphs = index.paragraphs();
    let hits: Vec<Ranked> = fused
        .into_iter()
        .take(limit)
        .map(|c| Ranked {
            passages: paragraphs.passages(c.paragraph),
            score: c.score,
        })
        .collect();
    // The positions of every question word in the passages shown, for quoting.
    let shown: Vec<(usize, DocAddress, u64)> = hits
        .iter()
        .flat_map(|h| h.passages.clone())
        .map(|o| (o, index.address(o), u64::MAX))
        .filter(|d| d.1.segment_ord != u32::MAX)
        .collect();
    let found = shown
        .iter()
        .map(|d| d.0)
        .zip(term_positions(index, &query, &shown)?)
        .filter(|(_, at)| at.iter().any(|p| !p.is_empty()))
        .collect();
    Ok(Ranking { query, hits, found })
}

/// Recomputes the question's passage counts and IDFs over the passages of
/// the essays `within` holds, as [`analyze`] counts them over the index;
/// for its content terms only, since stop words are never scored.
fn rescope(index: &SearchIndex, query: &mut AnalyzedQuery, within: &Within) -> Result<()> {
    let paragraphs = index.paragraphs();
    let in_scope = |ordinal: u32| {
        ordinal != NO_PASSAGE && within.contains(paragraphs.essay(paragraphs.of(ordinal as usize)))
    };
    let searcher = index.searcher();
    let mut n = 0u64;
    for (segment_ord, _) in searcher.segment_readers().iter().enumerate() {
        n += index
            .ordinals(segment_ord)
            .iter()
            .filter(|&&o| in_scope(o))
            .count() as u64;
    }
    for term in query.terms.iter_mut().filter(|t| !t.stop) {
        let mut df = 0u64;
        for_each_posting(index, &term.text, IndexRecordOption::Basic, |ordinal, _| {
            df += u64::from(in_scope(ordinal as u32));
        })?;
        let n = n as f32;
        term.df = df;
        term.idf = (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
    }
    Ok(())
}

/// Calls `each(ordinal, term_freq)` for every posting of the analysed term
/// `text` in the body field that stands for a passage, in every segment.
fn for_each_posting(
    index: &SearchIndex,
    text: &str,
    option: IndexRecordOption,
    mut each: impl FnMut(usize, u32),
) -> Result<()> {
    let body = index.body();
    let term = Term::from_field_text(body, text);
    for (segment_ord, segment) in index.searcher().segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(body).map_err(Error::index)?;
        let Some(mut postings) = inverted
            .read_postings(&term, option)
            .map_err(Error::index)?
        else {
            continue;
        };
        let ordinals = index.ordinals(segment_ord);
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let ordinal = ordinals.get(doc as usize).copied().unwrap_or(NO_PASSAGE);
            if ordinal != NO_PASSAGE {
                each(ordinal as usize, postings.term_freq());
            }
            doc = postings.advance();
        }
    }
    Ok(())
}

/// Adds each candidate's essay's bonus to its score, and sorts again.
fn add_bonus(fused: &mut [Fused], paragraphs: &crate::index::Paragraphs, within: &Within) {
    for c in fused.iter_mut() {
        c.score += within.bonus(paragraphs.essay(c.paragraph));
    }
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.paragraph.cmp(&b.paragraph))
    });
}

/// The paragraph count and mean length (with the title and author's
/// terms) over the essays `within` holds, as BM25 needs them.
fn statistics(
    paragraphs: &crate::index::Paragraphs,
    titles: &crate::index::TitleTerms,
    within: &Within,
    essays: usize,
) -> (usize, f32) {
    if within.is_everything() {
        return (paragraphs.count(), paragraphs.mean_len() + titles.mean_len);
    }
    // Summed as `Paragraphs::mean_len` and `TitleTerms::mean_len` sum them,
    // so that a scope scores exactly as a corpus of its essays.
    let (mut count, mut words, mut title_words) = (0usize, 0u64, 0.0f64);
    for e in (0..essays).filter(|&e| within.contains(e)) {
        let of_essay = paragraphs.of_essay(e);
        count += of_essay.len();
        words += of_essay.map(|p| u64::from(paragraphs.len(p))).sum::<u64>();
        title_words += titles.len_of(e) as f64 * paragraphs.of_essay(e).len() as f64;
    }
    let mean = words as f32 / count.max(1) as f32;
    let title_mean = (title_words / count.max(1) as f64) as f32;
    (count, mean + title_mean)
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

/// What the question's words score in the corpus: BM25 per paragraph.
#[derive(Debug, Default)]
struct Lexical {
    /// Per paragraph: its BM25 score.
    scores: Vec<f32>,
    /// Per paragraph: the question terms it (or its title and author)
    /// holds, as a bit set over `query.terms`.
    held: Vec<u64>,
    /// The paragraphs that hold any of the question's terms.
    matched: Vec<usize>,
    /// The question's total content weight (sum of IDFs).
    total_weight: f32,
    /// The IDF of each query term (0 for a stop word or one left out).
    weights: Vec<f32>,
}

impl Lexical {
    /// The share of the question's weight that a paragraph with term set
    /// `held` holds.
    fn coverage(&self, held: u64) -> f32 {
        if self.total_weight <= 0.0 {
            return 0.0;
        }
        let mut weight = 0.0;
        for (t, w) in self.weights.iter().enumerate() {
            if held & (1 << t) != 0 {
                weight += w;
            }
        }
        weight / self.total_weight
    }

    /// The best coverage of any paragraph.
    fn best_coverage(&self) -> f32 {
        self.matched
            .iter()
            .map(|&p| self.coverage(self.held[p]))
            .fold(0.0, f32::max)
    }
}

/// Plain BM25 over paragraphs, each read with its essay's title and author
/// as one text: `idf(t) · tf·(K1+1) / (tf + K1·(1 − B + B·len/avglen))`,
/// summed over the question's distinct content terms, with the IDF
/// counted over paragraphs. Sets each term's `idf` in `query`.
fn lexical(
    index: &SearchIndex,
    store: &Store,
    query: &mut AnalyzedQuery,
    within: &Within,
) -> Result<Lexical> {
    let paragraphs = index.paragraphs();
    let titles = index.title_terms(store);
    let (in_scope, avg_len) = statistics(paragraphs, titles, within, store.essay_count());
    let n = in_scope as f32;
    let mut out = Lexical {
        scores: vec![0.0; paragraphs.count()],
        held: vec![0; paragraphs.count()],
        weights: vec![0.0; query.terms.len()],
        ..Lexical::default()
    };
    let scored = scored_terms(query, in_scope as u64);
    // Per paragraph, the term's frequency in it; and which paragraphs have one.
    let mut tf: Vec<u32> = vec![0; paragraphs.count()];
    let mut touched: Vec<usize> = Vec::new();
    const { assert!(MAX_QUERY_TERMS <= 64, "term sets are 64-bit") };
    for t in scored {
        let mut count = |p: usize, freq: u32| {
            if !within.contains(paragraphs.essay(p)) {
                return;
            }
            if tf[p] == 0 {
                touched.push(p);
            }
            tf[p] += freq;
        };
        for_each_posting(
            index,
            &query.terms[t].text,
            IndexRecordOption::WithFreqs,
            |ordinal, freq| count(paragraphs.of(ordinal), freq),
        )?;
        // Paragraphs whose essay's title or author holds the term hold it once more.
        let in_titles: &[u32] = titles
            .essays
            .get(&query.terms[t].text)
            .map_or(&[], Vec::as_slice);
        for &e in in_titles {
            for p in paragraphs.of_essay(e as usize) {
                count(p, 1);
            }
        }
        let df = touched.len() as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        query.terms[t].idf = idf;
        out.weights[t] = idf;
        out.total_weight += idf;
        for p in touched.drain(..) {
            let len = paragraphs.len(p) as f32 + titles.len_of(paragraphs.essay(p));
            let freq = std::mem::take(&mut tf[p]) as f32;
            if out.held[p] == 0 {
                out.matched.push(p);
            }
            out.scores[p] += idf * freq * (K1 + 1.0) / (freq + K1 * (1.0 - B + B * len / avg_len));
            out.held[p] |= 1 << t;
        }
    }
    Ok(out)
}

/// The query terms BM25 scores (indexes into `query.terms`): the content
/// terms, but in a large corpus not the very common ones (see
/// [`COMMON_DF`]); the rarest few always stay.
fn scored_terms(query: &AnalyzedQuery, paragraphs: u64) -> Vec<usize> {
    let mut by_rarity: Vec<usize> = (0..query.terms.len())
        .filter(|&t| !query.terms[t].stop)
        .collect();
    by_rarity.sort_by_key(|&t| query.terms[t].df);
    let common = |t: &usize| query.terms[*t].df > COMMON_DF && query.terms[*t].df > paragraphs / 10;
    let rare = by_rarity.iter().filter(|t| !common(t)).count();
    by_rarity.truncate(rare.max(MIN_SCORED_TERMS));
    by_rarity.sort_unstable();
    by_rarity
}

/// Each paragraph's similarity by meaning: its best passage's.
struct Meaning {
    /// Per paragraph.
    similarity: Vec<f32>,
    /// The best of them.
    best: f32,
}

/// The paragraphs' similarities from the passages' `similarity`.
fn by_meaning(
    paragraphs: &crate::index::Paragraphs,
    similarity: &[f32],
    within: &Within,
) -> Meaning {
    let mut out = vec![f32::NEG_INFINITY; paragraphs.count()];
    for (ordinal, &s) in similarity.iter().enumerate() {
        let p = paragraphs.of(ordinal);
        if s > out[p] && within.contains(paragraphs.essay(p)) {
            out[p] = s;
        }
    }
    let best = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    Meaning {
        similarity: out,
        best,
    }
}

/// The paragraphs the words pick, with what the words show about each.
#[derive(Debug, Default)]
struct WordEvidence {
    /// The [`POOL`] best paragraphs by BM25, each with its lexical score:
    /// BM25 relative to the best, plus [`W_COVERAGE`] times its coverage
    /// and [`W_PHRASE`] times its phrase share; and its BM25 and coverage.
    pool: Vec<(usize, f32, f32, f32)>,
}

/// The [`POOL`] best paragraphs by BM25, scored with their coverage of the
/// question and the question's word pairs they hold as phrases.
fn word_evidence(
    index: &SearchIndex,
    query: &AnalyzedQuery,
    words: &Lexical,
) -> Result<WordEvidence> {
    let mut by_bm25: Vec<(usize, f32, u64)> = words
        .matched
        .iter()
        .map(|&p| (p, words.scores[p], words.held[p]))
        .collect();
    let order =
        |a: &(usize, f32, u64), b: &(usize, f32, u64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if by_bm25.len() > POOL {
        by_bm25.select_nth_unstable_by(POOL - 1, order);
        by_bm25.truncate(POOL);
    }
    by_bm25.sort_unstable_by(order);
    let best = by_bm25.first().map_or(0.0, |c| c.1).max(f32::EPSILON);
    let paragraphs = index.paragraphs();
    let pairs = phrase_pairs(query);
    // Only the words of a pair the paragraph may hold as a phrase are read.
    let stops = query
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| t.stop)
        .fold(0u64, |m, (t, _)| m | 1 << t);
    let phrase_terms = |held: u64| {
        let has = held | stops;
        pairs
            .iter()
            .filter(|&&(a, b)| has & (1 << a) != 0 && has & (1 << b) != 0)
            .fold(0u64, |m, &(a, b)| m | 1 << a | 1 << b)
    };
    // Per passage to read: its pool entry, address and wanted terms.
    let mut of_pool = Vec::new();
    let mut docs: Vec<(usize, DocAddress, u64)> = Vec::new();
    for (i, &(p, _, held)) in by_bm25.iter().enumerate() {
        let wanted = phrase_terms(held);
        if wanted == 0 {
            continue;
        }
        for o in paragraphs.passages(p) {
            let address = index.address(o);
            if address.segment_ord != u32::MAX {
                of_pool.push(i);
                docs.push((o, address, wanted));
            }
        }
    }
    // Per pool entry: the pairs (bits over `pairs`) some passage of it holds as phrases.
    let mut phrases = vec![0u64; by_bm25.len()];
    for (d, at) in term_positions(index, query, &docs)?.iter().enumerate() {
        for (k, &(a, b)) in pairs.iter().enumerate().take(64) {
            if docs[d].2 & (1 << a) != 0 && adjacent(&at[a], &at[b]) {
                phrases[of_pool[d]] |= 1 << k;
            }
        }
    }
    let pool = by_bm25
        .into_iter()
        .zip(phrases)
        .map(|((p, bm25, held), found)| {
            let phrase = if pairs.is_empty() {
                0.0
            } else {
                found.count_ones() as f32 / pairs.len() as f32
            };
            let coverage = words.coverage(held);
            let score = bm25 / best + W_COVERAGE * coverage + W_PHRASE * phrase;
            (p, score, bm25, coverage)
        })
        .collect();
    Ok(WordEvidence { pool })
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

/// A fused candidate paragraph.
#[derive(Debug, Clone, PartialEq)]
struct Fused {
    paragraph: usize,
    score: f32,
    bm25: f32,
    coverage: f32,
    similarity: Option<f32>,
}

/// The candidates, best first: the [`POOL`] best paragraphs by words and
/// the `POOL` best by meaning, each scored
/// `LEXICAL_WEIGHT · lexical/best_lexical + (1 − LEXICAL_WEIGHT) · cos/best_cos`
/// (a negative cosine counts as 0). Without the model, the words alone.
/// Ties go to the earlier paragraph.
fn fuse(words: &WordEvidence, meaning: Option<&Meaning>) -> Vec<Fused> {
    let best_words = words
        .pool
        .iter()
        .map(|c| c.1)
        .fold(0.0, f32::max)
        .max(f32::EPSILON);
    let mut by_words: FastMap<usize, (f32, f32, f32)> = FastMap::default();
    for &(p, score, bm25, coverage) in &words.pool {
        by_words.insert(p, (score / best_words, bm25, coverage));
    }
    let mut pool: Vec<usize> = words.pool.iter().map(|c| c.0).collect();
    if let Some(meaning) = meaning {
        let near = most_similar(&meaning.similarity, POOL);
        // A paragraph out of scope has no similarity (negative infinity).
        pool.extend(
            near.into_iter()
                .filter(|p| !by_words.contains_key(p) && meaning.similarity[*p].is_finite()),
        );
    }
    let mut fused: Vec<Fused> = pool
        .into_iter()
        .map(|p| {
            let (lexical, bm25, coverage) = by_words.get(&p).copied().unwrap_or_default();
            let similarity = meaning.map(|m| m.similarity[p]);
            let score = match (similarity, meaning) {
                (Some(s), Some(m)) => {
                    LEXICAL_WEIGHT * lexical
                        + (1.0 - LEXICAL_WEIGHT) * (s / m.best.max(f32::EPSILON)).clamp(0.0, 1.0)
                }
                _ => lexical,
            };
            Fused {
                paragraph: p,
                score,
                bm25,
                coverage,
                similarity,
            }
        })
        .filter(|c| c.score > 0.0)
        .collect();
    fused.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.paragraph.cmp(&b.paragraph))
    });
    fused
}

/// Whether the corpus answers the question at all, from scores that keep
/// their scale whatever the corpus: with the model, the best cosine and
/// the best paragraph's coverage of the question's weight; without it,
/// that coverage alone.
fn answerable(best_coverage: f32, best_similarity: Option<f32>) -> bool {
    match best_similarity {
        Some(s) => s + HYBRID_COVERAGE * best_coverage >= HYBRID_CONFIDENCE,
        None => best_coverage >= LEXICAL_CONFIDENCE,
    }
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

/// Per document of `docs` (a passage ordinal, its address, and the set of
/// query terms wanted, as bits over `query.terms`): the positions of each
/// wanted term in it, read from postings; empty for the others.
fn term_positions(
    index: &SearchIndex,
    query: &AnalyzedQuery,
    docs: &[(usize, DocAddress, u64)],
) -> Result<Vec<Vec<Vec<u32>>>> {
    let searcher = index.searcher();
    let body = index.body();
    let mut out = vec![vec![Vec::new(); query.terms.len()]; docs.len()];
    let mut by_segment: FastMap<u32, Vec<(DocId, usize)>> = FastMap::default();
    for (i, (_, addr, _)) in docs.iter().enumerate() {
        by_segment
            .entry(addr.segment_ord)
            .or_default()
            .push((addr.doc_id, i));
    }
    for (segment_ord, mut in_segment) in by_segment {
        in_segment.sort_unstable();
        let inverted = searcher
            .segment_reader(segment_ord)
            .inverted_index(body)
            .map_err(Error::index)?;
        for (t, term) in query.terms.iter().enumerate() {
            if !in_segment.iter().any(|&(_, i)| docs[i].2 & (1 << t) != 0) {
                continue;
            }
            let Some(mut postings) = inverted
                .read_postings(
                    &Term::from_field_text(body, &term.text),
                    IndexRecordOption::WithFreqsAndPositions,
                )
                .map_err(Error::index)?
            else {
                continue;
            };
            for &(doc, i) in &in_segment {
                if docs[i].2 & (1 << t) == 0 {
                    continue;
                }
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

    /// A corpus of `essays` (file name, title, paragraphs) indexed in temporary folders.
    fn indexed(essays: &[(&str, &str, &[&str])]) -> (tempfile::TempDir, Store, SearchIndex) {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir(&corpus).unwrap();
        for (file, title, paragraphs) in essays {
            let body = paragraphs.join("\n\n");
            std::fs::write(
                corpus.join(file),
                format!("+++\ntitle = \"{title}\"\n+++\n\n{body}\n"),
            )
            .unwrap();
        }
        let (store, _) = Store::load(&corpus, true, None, None).unwrap();
        let (index, _) = SearchIndex::open(&dir.path().join("index"), &store, &|_, _| {}).unwrap();
        (dir, store, index)
    }

    /// BM25 as the textbook writes it, over paragraphs read with their
    /// essay's title: the reference the index-backed scoring must match.
    fn reference_bm25(store: &Store, question: &str) -> Vec<(usize, f32)> {
        let stems =
            |text: &str| -> Vec<String> { terms(text).into_iter().map(|t| t.text).collect() };
        let mut docs: Vec<(usize, Vec<String>)> = Vec::new();
        for e in 0..store.essay_count() {
            let essay = store.essay(e);
            let mut title: Vec<String> = stems(&essay.title);
            title.sort();
            title.dedup();
            for p in 0..essay.paragraphs.len() {
                let mut words = stems(&essay.paragraphs[p]);
                words.extend(title.iter().cloned());
                docs.push((e, words));
            }
        }
        let n = docs.len() as f32;
        let avg = docs.iter().map(|d| d.1.len()).sum::<usize>() as f32 / n;
        let mut query: Vec<String> = stems(question)
            .into_iter()
            .filter(|t| !is_stop(t))
            .collect();
        query.sort();
        query.dedup();
        let mut scores: Vec<(usize, f32)> = docs
            .iter()
            .enumerate()
            .map(|(i, (_, words))| {
                let score = query
                    .iter()
                    .map(|q| {
                        let df = docs.iter().filter(|d| d.1.contains(q)).count() as f32;
                        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                        let tf = words.iter().filter(|w| *w == q).count() as f32;
                        idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * words.len() as f32 / avg))
                    })
                    .sum();
                (i, score)
            })
            .filter(|&(_, s)| s > 0.0)
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scores
    }

    #[test]
    fn lexical_scores_are_plain_bm25_over_paragraphs_with_their_titles() {
        let (_dir, store, index) = indexed(&[
            (
                "a.md",
                "On Standing Armies",
                &[
                    "A standing army in time of peace is a danger to liberty.",
                    "The militia of the several states is the natural defence of a free people.",
                    "Taxes on commerce fall at last on the consumer, who pays them in the price.",
                ],
            ),
            (
                "b.md",
                "Of Commerce",
                &[
                    "Commerce binds the states together, and a navy protects commerce at sea.",
                    "Peace between neighbouring nations is fragile when their commerce competes.",
                ],
            ),
        ]);
        for question in [
            "Is a standing army dangerous in peace?",
            "What protects commerce?",
            "who pays the taxes on commerce",
            "militia armies liberty",
        ] {
            let mut query = analyze(&index, question).unwrap();
            let words = lexical(&index, &store, &mut query, &Within::everything()).unwrap();
            let mut got: Vec<(usize, f32)> = words
                .matched
                .iter()
                .map(|&p| (p, words.scores[p]))
                .collect();
            got.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let want = reference_bm25(&store, question);
            assert_eq!(
                got.iter().map(|g| g.0).collect::<Vec<_>>(),
                want.iter().map(|w| w.0).collect::<Vec<_>>(),
                "{question}: {got:?} against {want:?}"
            );
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g.1 - w.1).abs() < 1e-3 * w.1.max(1.0),
                    "{question}: {got:?} against {want:?}"
                );
            }
        }
    }

    #[test]
    fn a_long_paragraph_ranks_as_one_and_shows_its_best_window() {
        // One paragraph long enough to be split into windows, whose answer
        // is in its last sentences, beside a short paragraph.
        let filler = "The weather in the valley was mild and the farmers were content. ".repeat(30);
        let long = format!("{filler}The harbour tax was abolished by the council in the spring.");
        let (_dir, store, index) = indexed(&[(
            "a.md",
            "Notes",
            &[
                long.as_str(),
                "The council met in the spring to discuss the tax on roads.",
            ],
        )]);
        assert!(store.len() > 2, "the long paragraph is split into windows");
        let ranking = search(&index, &store, "Who abolished the harbour tax?", 3, None).unwrap();
        assert_eq!(
            ranking.hits.len(),
            2,
            "one hit per paragraph: {:?}",
            ranking.hits
        );
        let windows = ranking.hits[0].passages.clone();
        assert!(windows.len() > 1, "{windows:?}");
        assert!(windows.clone().all(|o| store.passage(o).paragraph == 1));
        let answer = windows
            .clone()
            .find(|&o| store.passage(o).text.contains("harbour tax was abolished"))
            .expect("a window holds the answer");
        assert!(
            ranking.found.contains_key(&answer),
            "its words' positions are read"
        );
        assert_eq!(store.passage(ranking.hits[1].passages.start).paragraph, 2);
    }

    #[test]
    fn a_question_the_words_of_the_corpus_do_not_cover_is_not_answered() {
        let (_dir, store, index) = indexed(&[(
            "a.md",
            "Notes",
            &["The council met in the spring to discuss roads and bridges."],
        )]);
        let ranking = search(
            &index,
            &store,
            "What do penguins eat in Antarctica during winter?",
            3,
            None,
        )
        .unwrap();
        assert!(ranking.hits.is_empty(), "{:?}", ranking.hits);
        let ranking = search(
            &index,
            &store,
            "When did the council discuss the roads?",
            3,
            None,
        )
        .unwrap();
        assert_eq!(ranking.hits.len(), 1);
    }

    #[test]
    fn fusion_is_a_convex_combination_of_normalised_scores() {
        let words = WordEvidence {
            pool: vec![(0, 4.0, 4.0, 1.0), (1, 2.0, 2.0, 1.0)],
        };
        let meaning = Meaning {
            similarity: vec![0.2, 0.6, 0.4],
            best: 0.6,
        };
        let fused = fuse(&words, Some(&meaning));
        let score = |p: usize| fused.iter().find(|c| c.paragraph == p).map(|c| c.score);
        // Each side relative to its best: paragraph 0 is a + (1 − a)/3,
        // paragraph 1 is a/2 + (1 − a), paragraph 2 (no words) (1 − a)·2/3.
        let a = LEXICAL_WEIGHT;
        assert!((score(0).unwrap() - (a + (1.0 - a) / 3.0)).abs() < 1e-6);
        assert!((score(1).unwrap() - (0.5 * a + (1.0 - a))).abs() < 1e-6);
        assert!((score(2).unwrap() - (1.0 - a) * 2.0 / 3.0).abs() < 1e-6);
        // Without the model, BM25 alone, relative to the best.
        let lexical = fuse(&words, None);
        assert_eq!(
            lexical.iter().map(|c| c.paragraph).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(lexical[1].score, 0.5);
    }

    #[test]
    fn abstention_needs_meaning_or_words_to_reach_their_thresholds() {
        assert!(!answerable(0.0, None));
        assert!(answerable(LEXICAL_CONFIDENCE, None));
        assert!(answerable(0.0, Some(HYBRID_CONFIDENCE)));
        assert!(!answerable(0.0, Some(HYBRID_CONFIDENCE - 0.01)));
        assert!(answerable(1.0, Some(HYBRID_CONFIDENCE - HYBRID_COVERAGE)));
    }
}
