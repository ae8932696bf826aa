//! Engine: the one interface the transports use.
//!
//! [`Engine::ask`] answers a question, [`Engine::passage`] fetches a passage
//! with its neighbours, [`Engine::sources`] lists the essays and
//! [`Engine::cite`] checks a quotation; [`Engine::open`] and
//! [`Engine::reload`] make one. The engine holds the store and the
//! index, hands them to the stages, and assembles what they find into the
//! [`crate::answer`] values. Nothing outside the library touches tantivy.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::answer::{Answer, CiteResult, Hit, ModelState, Passage, PassageView, Retrieval, Source};
use crate::cite::Citation;
use crate::corpus::Warning;
use crate::dense::embed::{Download, HubSettings, ModelSetting};
use crate::dense::question::AuthorNames;
use crate::dense::{DenseQuery, Semantic};
use crate::error::Result;
use crate::filter::Filters;
pub use crate::index::SyncReport;
use crate::index::{self, SearchIndex};
use crate::lookup;
use crate::progress::Progress;
use crate::quote;
use crate::search::{self, Ranked};
use crate::select::{Catalog, select};
use crate::store::Store;

/// Where the corpus and the index are, and how strict to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// The folder of essays.
    pub corpus: PathBuf,
    /// The index folder; `None` picks one under `data/` for this corpus.
    pub index: Option<PathBuf>,
    /// Fail on any corpus warning instead of skipping the file.
    pub strict: bool,
    /// The sentence-embedding model: `off`, a folder in the Hugging Face
    /// layout, or a Hub repo id (`org/name`, optionally `@revision`).
    pub model: String,
    /// Where the Hugging Face Hub and its cache are.
    pub hub: HubSettings,
}

impl EngineOptions {
    /// Options for `corpus` with the default index folder and no model.
    pub fn new(corpus: impl Into<PathBuf>) -> Self {
        EngineOptions {
            corpus: corpus.into(),
            index: None,
            strict: false,
            model: "off".to_string(),
            hub: HubSettings::default(),
        }
    }

    /// The engine options a configuration asks for: its corpus, index
    /// folder, strictness and model.
    pub fn from_config(config: &crate::config::Config) -> Self {
        EngineOptions {
            corpus: config.corpus.clone(),
            index: config.index_dir(),
            strict: config.strict,
            model: config.model.clone(),
            hub: config.hub.clone(),
        }
    }

    /// The index folder these options resolve to.
    pub fn index_dir(&self) -> PathBuf {
        self.index
            .clone()
            .unwrap_or_else(|| index::default_dir(&self.corpus))
    }
}

/// How to ask: within which filters, and after which answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ask {
    /// What to ask within; empty for the whole corpus.
    pub filters: Filters,
    /// The answer this question follows up, if it is a follow-up.
    pub context: Option<FollowUp>,
    /// How much a follow-up's context counts.
    pub weights: FollowWeights,
}

/// The answer a follow-up replies to, as the reply carries it: no state is
/// kept between questions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUp {
    /// The ids of the passages the answer showed, best first (a bot's
    /// answer carries them in its buttons).
    pub passages: Vec<String>,
    /// The words of the answer the reader quoted, if any: then they are the context.
    pub excerpt: Option<String>,
}

/// How much a follow-up's context counts: bonuses added to the fused score
/// of the paragraphs of the answer's essay and of its author's other
/// essays (fused scores run from 0 to about 1), and, with the model, the
/// share of what a passage's similarity gains when the question is read
/// together with the context's text. All of it only adds: a follow-up
/// that stands on its own still finds its own answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowWeights {
    /// Bonus of the context's essay.
    pub essay: f32,
    /// Bonus of the context author's other essays.
    pub author: f32,
    /// Share of the gain in similarity from reading the question with the context's text.
    pub text: f32,
}

impl Default for FollowWeights {
    /// Measured on `eval/followups.jsonl` (docs/quality.md, the follow-up pairs).
    fn default() -> Self {
        FollowWeights {
            essay: 0.1,
            author: 0.05,
            text: 0.3,
        }
    }
}

/// A follow-up's context as the engine reads it.
struct Context {
    /// The essay of the passage it is about, when it is found.
    essay: Option<usize>,
    /// The passage's words (or the quoted excerpt).
    text: String,
}

/// What opening the engine did.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Files that were skipped.
    pub warnings: Vec<Warning>,
    /// What the index needed to come up to date.
    pub sync: SyncReport,
    /// Essays loaded.
    pub essays: usize,
    /// Passages loaded.
    pub passages: usize,
    /// Wall-clock seconds spent opening.
    pub seconds: f64,
}

/// The search engine over one corpus.
pub struct Engine {
    options: EngineOptions,
    store: Store,
    index: SearchIndex,
    semantic: Semantic,
    /// What filters match against, read on the first filtered question.
    catalog: std::sync::OnceLock<Catalog>,
    /// The corpus's authors' names, which the encoder does not read in a
    /// question; made on first use.
    author_names: std::sync::OnceLock<AuthorNames>,
}

impl Engine {
    /// Loads the corpus and opens (building or updating) its index.
    pub fn open(options: EngineOptions) -> Result<(Engine, OpenReport)> {
        Self::open_with_progress(options, &|_, _| {})
    }

    /// Like [`Engine::open`], reporting indexing progress as (done, total) passages.
    pub fn open_with_progress(
        options: EngineOptions,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(Engine, OpenReport)> {
        Self::load(options, None, progress)
    }

    /// Re-reads the corpus and returns a fresh engine; only changed essays are re-indexed.
    ///
    /// Files whose size, modification time, inode and status-change time are
    /// as they were when this engine read them are not read again: their
    /// parsed essays are shared with this engine. A file modified within a
    /// second of being read is always read again, so that a second edit in
    /// the same clock tick is not missed. Only an edit that restores all of
    /// those stamps by hand goes unnoticed.
    pub fn reload(&self) -> Result<(Engine, OpenReport)> {
        // The old engine's reader keeps its segments alive until it is dropped.
        Self::load(self.options.clone(), Some(self), &|_, _| {})
    }

    fn load(
        options: EngineOptions,
        previous: Option<&Engine>,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(Engine, OpenReport)> {
        let started = Instant::now();
        let previous_engine = previous;
        let previous = previous.map(|engine| &engine.store);
        let index_dir = options.index_dir();
        let (mut store, warnings) =
            Store::load(&options.corpus, options.strict, previous, Some(&index_dir))?;
        let changes = store.changes();
        if !changes.is_empty() {
            tracing::debug!(
                added = ?changes.added,
                changed = ?changes.changed,
                removed = ?changes.removed,
                "essays read"
            );
        }
        let (index, sync) = SearchIndex::open(&index_dir, &store, progress)?;
        // Saved after the index, which may have emptied its folder to rebuild.
        if let Err(e) = store.save(&index_dir) {
            tracing::warn!(dir = %index_dir.display(), error = %e, "could not save the store beside the index");
        }
        let semantic = Semantic::open(
            ModelSetting::parse(&options.model),
            options.hub.clone(),
            &index_dir,
            &store,
            previous_engine.map(|engine| &engine.semantic),
        );
        let report = OpenReport {
            warnings,
            sync,
            essays: store.essay_count(),
            passages: store.len(),
            seconds: started.elapsed().as_secs_f64(),
        };
        let engine = Engine {
            options,
            store,
            index,
            semantic,
            catalog: std::sync::OnceLock::new(),
            author_names: std::sync::OnceLock::new(),
        };
        Ok((engine, report))
    }

    /// The options this engine was opened with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Makes the engine hybrid if it can: fetches the model when `download`
    /// is true and the Hugging Face cache lacks it, loads it, and embeds the
    /// passages that have no vectors yet, reporting progress. A model that
    /// cannot be had is not an error: the state returned says why, and
    /// answers stay lexical. Safe to call from another thread while the
    /// engine answers (lexically until this returns).
    pub fn prepare_model(&self, download: bool, progress: &dyn Fn(Progress)) -> ModelState {
        let download = if download {
            Download::IfMissing
        } else {
            Download::Never
        };
        self.semantic.prepare(&self.store, download, progress)
    }

    /// Where the model stands: off, pending, unavailable (and why) or ready.
    pub fn model_state(&self) -> ModelState {
        self.semantic.state()
    }

    /// The model setting, as written (`off`, a folder or a repo id).
    pub fn model_setting(&self) -> String {
        self.semantic.setting().to_string()
    }

    /// The folder of the loaded model, once loaded.
    pub fn model_folder(&self) -> Option<PathBuf> {
        self.semantic.location()
    }

    /// Which retrieval answers now: hybrid once the model and every
    /// passage's vectors are ready, lexical before.
    pub fn retrieval(&self) -> Retrieval {
        if self.semantic.dense().is_some() {
            Retrieval::Hybrid
        } else {
            Retrieval::Lexical
        }
    }

    /// Answers `question` with up to `limit` hits, best first.
    pub fn ask(&self, question: &str, limit: usize) -> Result<Answer> {
        self.ask_with(question, limit, &Ask::default())
    }

    /// Answers a question as a reader types it: the operators in it
    /// (`by:madison`, `in:"federalist 10"`, `tag:`, `before:`, `after:`,
    /// `since:`, `until:`) are taken out and asked within, over the
    /// filters `options` holds (defaults from the config and flags), which
    /// they replace kind by kind. The answer's `query` is `text` as typed.
    pub fn ask_text(&self, text: &str, limit: usize, options: &Ask) -> Result<Answer> {
        let (asked, question) = Filters::from_question(text);
        let mut options = options.clone();
        options.filters = asked.over(&options.filters);
        let mut answer = self.ask_with(&question, limit, &options)?;
        answer.query = text.to_string();
        Ok(answer)
    }

    /// Answers `question` (its words only: operators in it are words)
    /// within `options`' filters. When they leave no essay, nothing is
    /// asked: the answer is unanswered and its report says why.
    pub fn ask_with(&self, question: &str, limit: usize, options: &Ask) -> Result<Answer> {
        // Unfiltered questions never need the catalog.
        let none = Catalog::default();
        let catalog = if options.filters.is_empty() {
            &none
        } else {
            self.catalog
                .get_or_init(|| Catalog::of(self.store.essays()))
        };
        let (mut within, report) = select(&self.store, catalog, &options.filters);
        if report.miss.is_some() {
            return Ok(Answer {
                query: question.to_string(),
                answered: false,
                hits: Vec::new(),
                retrieval: self.retrieval(),
                filters: report,
            });
        }
        let context = options.context.as_ref().and_then(|c| self.context(c));
        if let Some(essay) = context.as_ref().and_then(|c| c.essay) {
            within = within.with_bonus(self.bonus(essay, &options.weights));
        }
        let dense = self.semantic.dense();
        // The encoder reads the question without the authors' names (see
        // `dense::question`); the words side reads it whole.
        let for_encoder = dense.as_ref().map(|_| {
            self.author_names
                .get_or_init(|| AuthorNames::of(&self.store))
                .strip(question)
        });
        let for_encoder = for_encoder.as_deref().unwrap_or(question);
        let dense_query: Option<DenseQuery> = match &dense {
            Some(dense) => match dense.query(for_encoder) {
                Ok(query) => Some(query),
                Err(why) => {
                    tracing::warn!(%why, "the model failed on a question; answering lexically");
                    None
                }
            },
            None => None,
        };
        // A follow-up's meaning is partly the question read with its
        // context: each passage gains a share of what it gains so, and
        // loses nothing (a question that stands alone keeps its answer).
        let blended: Option<Vec<f32>> = match (&dense, &dense_query, &context) {
            (Some(dense), Some(asked), Some(context)) if options.weights.text > 0.0 => {
                match dense.query(&format!("{for_encoder} {}", context.text)) {
                    Ok(with) => Some(gained(
                        &asked.similarity,
                        &with.similarity,
                        options.weights.text,
                    )),
                    Err(why) => {
                        tracing::warn!(%why, "the model failed on a follow-up's context");
                        None
                    }
                }
            }
            _ => None,
        };
        let similarity = blended
            .as_deref()
            .or(dense_query.as_ref().map(|d| d.similarity.as_slice()));
        let ranking = search::search_within(
            &self.index,
            &self.store,
            question,
            limit,
            similarity,
            &within,
        )?;
        let hits: Vec<Hit> = ranking
            .hits
            .iter()
            .enumerate()
            .map(|(i, ranked)| {
                let sentences = |passage: usize| {
                    dense
                        .as_ref()
                        .zip(dense_query.as_ref())
                        .map(|(d, q)| d.vectors.sentence_similarities(passage, &q.vector))
                };
                self.hit(i + 1, ranked, &ranking, &sentences, similarity)
            })
            .collect();
        Ok(Answer {
            query: question.to_string(),
            answered: !hits.is_empty(),
            hits,
            retrieval: if dense_query.is_some() {
                Retrieval::Hybrid
            } else {
                Retrieval::Lexical
            },
            filters: report,
        })
    }

    /// What a follow-up is about: the passage holding the quoted excerpt
    /// (among the answer's, else anywhere; else the answer's first), or
    /// the answer's first passage.
    fn context(&self, follow: &FollowUp) -> Option<Context> {
        let shown: Vec<usize> = follow
            .passages
            .iter()
            .filter_map(|id| self.store.find(id))
            .collect();
        let excerpt = follow
            .excerpt
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if let Some(excerpt) = excerpt {
            let wanted = folded(excerpt);
            let holds = |o: &usize| folded(self.store.text(*o)).contains(&wanted);
            let holder = shown
                .iter()
                .copied()
                .find(holds)
                .or_else(|| (0..self.store.len()).find(holds))
                // Words of the citation line, say: the answer's first passage.
                .or_else(|| shown.first().copied());
            return Some(Context {
                essay: holder.map(|o| self.store.essay_of(o)),
                text: excerpt.to_string(),
            });
        }
        let first = *shown.first()?;
        Some(Context {
            essay: Some(self.store.essay_of(first)),
            text: self.store.text(first).to_string(),
        })
    }

    /// Per essay: the bonus of a follow-up about essay `essay`.
    fn bonus(&self, essay: usize, weights: &FollowWeights) -> Vec<f32> {
        let people = |e: usize| {
            self.store
                .essay(e)
                .author
                .as_deref()
                .map(crate::select::people)
                .unwrap_or_default()
        };
        let theirs = people(essay);
        (0..self.store.essay_count())
            .map(|e| {
                if e == essay {
                    weights.essay
                } else if people(e).iter().any(|p| theirs.contains(p)) {
                    weights.author
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// A ranked paragraph as a hit, with its citation: the passage of it
    /// (the only one, unless the paragraph is long) that is closest to the
    /// question by meaning (`by_meaning`, each passage's similarity as the
    /// ranking used it), or without the model the one with the excerpt
    /// that best answers the question; and that excerpt, helped by each
    /// sentence's `similarity` to the question with the model.
    fn hit(
        &self,
        rank: usize,
        ranked: &Ranked,
        ranking: &search::Ranking,
        similarity: &dyn Fn(usize) -> Option<Vec<f32>>,
        by_meaning: Option<&[f32]>,
    ) -> Hit {
        let (passage, quote) = ranked
            .passages
            .clone()
            .map(|ordinal| {
                let passage = self.store.passage(ordinal);
                let found = ranking.found.get(&ordinal).map(Vec::as_slice);
                let sentences = similarity(ordinal);
                let (quote, score) = quote::select(
                    &passage.text,
                    &passage.sentences,
                    &ranking.query,
                    found,
                    sentences.as_deref(),
                );
                // With the model, the window the ranking's meaning side
                // found closest to the question; the best excerpt breaks ties.
                let closeness = by_meaning
                    .and_then(|s| s.get(ordinal))
                    .copied()
                    .unwrap_or(0.0);
                (passage, quote, (closeness, score))
            })
            .reduce(|best, next| if next.2 > best.2 { next } else { best })
            .map(|(passage, quote, _)| (passage, quote))
            .expect("a ranked paragraph has a passage");
        let essay = self.store.essay(passage.essay);
        let citation = Citation::new(essay, passage.paragraph, &passage.text[quote.span.clone()]);
        Hit {
            rank,
            source: Source::of(essay),
            quote,
            citation,
            score: ranked.score,
            passage,
        }
    }

    /// The passage with id `id`, with its neighbours; None for an unknown id.
    pub fn passage(&self, id: &str) -> Option<PassageView> {
        let ordinal = self.store.find(id)?;
        let passage = self.store.passage(ordinal);
        let essay = self.store.essay(passage.essay);
        let (before, after) = self.store.neighbours(ordinal);
        Some(PassageView {
            source: Source::of(essay),
            before: before.map(|i| self.store.passage(i)),
            after: after.map(|i| self.store.passage(i)),
            citation: Citation::new(essay, passage.paragraph, &passage.text),
            passage,
        })
    }

    /// The essays, in corpus order.
    pub fn sources(&self) -> Vec<Source> {
        self.store.essays().map(Source::of).collect()
    }

    /// Finds where `quote` comes from and how faithfully it is quoted.
    pub fn cite(&self, quote: &str) -> Result<CiteResult> {
        lookup::cite(
            &self.index,
            &self.store,
            self.semantic.dense().as_deref(),
            quote,
        )
    }

    /// All passages, in corpus order, each made on demand.
    pub fn passages(&self) -> impl ExactSizeIterator<Item = Passage> + '_ {
        (0..self.store.len()).map(|i| self.store.passage(i))
    }

    /// The file of the essay with id `essay_id`, relative to the corpus folder.
    pub fn essay_file(&self, essay_id: &str) -> Option<&Path> {
        let essay = self.store.essay_by_id(essay_id)?;
        Some(Path::new(&self.store.essay(essay).file))
    }
}

/// Each passage's similarity to the question, plus share `w` of what it
/// gains when the question is read with its context (`with`): never less
/// than the question's own, so that context only adds.
fn gained(asked: &[f32], with: &[f32], w: f32) -> Vec<f32> {
    asked
        .iter()
        .zip(with)
        .map(|(a, b)| a + w * (b - a).max(0.0))
        .collect()
}

/// `text` lower-cased, with typographic quotes and dashes made plain and
/// runs of whitespace made one space: for finding a quoted excerpt.
fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(match c {
                '\u{2018}' | '\u{2019}' => '\'',
                '\u{201c}' | '\u{201d}' => '"',
                '\u{2013}' | '\u{2014}' => '-',
                other => other,
            });
        }
    }
    out.trim_matches(|c: char| c == '…' || c == '.' || c == '"' || c.is_whitespace())
        .to_string()
}

/// Downloads the model `options` names into the Hugging Face cache unless it
/// is there, checks it loads, and returns its folder; `None` when the model
/// is off. Downloaded files are checked against pinned sha256s.
pub fn fetch_model(
    options: &EngineOptions,
    progress: &dyn Fn(Progress),
) -> Result<Option<PathBuf>> {
    let setting = ModelSetting::parse(&options.model);
    let Some(files) =
        crate::dense::embed::locate(&setting, &options.hub, Download::IfMissing, progress)?
    else {
        return Ok(None);
    };
    crate::dense::embed::Encoder::load(&files)?;
    Ok(Some(files.dir))
}

/// The folder of the model `options` names, when it is on disk (nothing is
/// downloaded); `None` when the model is off.
pub fn find_model(options: &EngineOptions) -> Result<Option<PathBuf>> {
    let setting = ModelSetting::parse(&options.model);
    let files = crate::dense::embed::locate(
        &setting,
        &options.hub,
        Download::Never,
        &crate::progress::silent,
    )?;
    Ok(files.map(|f| f.dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_ups_context_only_adds_similarity() {
        let asked = [0.5, 0.2, -0.1];
        let with = [0.3, 0.6, 0.1];
        let got = gained(&asked, &with, 0.3);
        assert_eq!(
            got[0], 0.5,
            "a passage the context does not help keeps its own"
        );
        assert!(
            (got[1] - 0.32).abs() < 1e-6 && (got[2] - -0.04).abs() < 1e-6,
            "{got:?}"
        );
        assert!(got.iter().zip(&asked).all(|(g, a)| g >= a));
    }

    #[test]
    fn quoted_words_are_found_whatever_their_typography() {
        // Quotes and ellipses at the ends go: the passage may not hold them.
        assert_eq!(
            folded("“Ambition”  must be made…"),
            "ambition\" must be made"
        );
        assert_eq!(folded("it’s — well"), "it's - well");
    }
}
