//! Engine: the one interface the transports use.
//!
//! [`Engine::ask`] answers a question, [`Engine::passage`] fetches a passage
//! with its neighbours, [`Engine::sources`] lists the essays and
//! [`Engine::cite`] checks a quotation. Nothing outside the library touches
//! tantivy.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analysis::terms;
use crate::cite::Citation;
use crate::corpus::{self, Corpus, Essay, Warning};
use crate::error::{Error, Result};
use crate::index::{self, SearchIndex, SyncReport};
use crate::lookup::{self, CiteResult};
use crate::passage::{self, Passage};
use crate::quote::{self, Quote};
use crate::search::{self, EssayTerms};

/// Where the corpus and the index are, and how strict to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// The folder of essays.
    pub corpus: PathBuf,
    /// The index folder; `None` picks one under `data/` for this corpus.
    pub index: Option<PathBuf>,
    /// Fail on any corpus warning instead of skipping the file.
    pub strict: bool,
}

impl EngineOptions {
    /// Options for `corpus` with the default index folder.
    pub fn new(corpus: impl Into<PathBuf>) -> Self {
        EngineOptions {
            corpus: corpus.into(),
            index: None,
            strict: false,
        }
    }

    /// The index folder these options resolve to.
    pub fn index_dir(&self) -> PathBuf {
        self.index
            .clone()
            .unwrap_or_else(|| index::default_dir(&self.corpus))
    }
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

/// An essay's metadata, as listed by `/sources` and carried by every hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Essay id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Author, if known.
    pub author: Option<String>,
    /// Publication, if known.
    pub publication: Option<String>,
    /// Date, if known.
    pub date: Option<String>,
    /// URL, if known.
    pub url: Option<String>,
    /// Number of paragraphs.
    pub paragraphs: usize,
}

impl Source {
    pub(crate) fn of(essay: &Essay) -> Source {
        Source {
            id: essay.id.clone(),
            title: essay.title.clone(),
            author: essay.author.clone(),
            publication: essay.publication.clone(),
            date: essay.date.clone(),
            url: essay.url.clone(),
            paragraphs: essay.paragraphs.len(),
        }
    }
}

/// One answer to a question: a passage, the excerpt to show, and its citation.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    /// The passage.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The excerpt within the passage.
    pub quote: Quote,
    /// The citation, with a deep link to the excerpt.
    pub citation: Citation,
    /// Ranking score; higher is better.
    pub score: f32,
}

impl Hit {
    /// The excerpt as plain text, with "…" where trimmed.
    pub fn quote_text(&self) -> String {
        self.quote.text(&self.passage.text)
    }
}

/// The engine's reply to a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The question as asked.
    pub query: String,
    /// False when nothing in the corpus answers it.
    pub answered: bool,
    /// Best hits first; empty when not answered.
    pub hits: Vec<Hit>,
}

/// A passage with the passages around it.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageView {
    /// The passage asked for.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The passage just before it in the essay, if any.
    pub before: Option<Passage>,
    /// The passage just after it in the essay, if any.
    pub after: Option<Passage>,
    /// Citation of the whole passage.
    pub citation: Citation,
}

/// The search engine over one corpus.
pub struct Engine {
    options: EngineOptions,
    corpus: Corpus,
    passages: Vec<Passage>,
    by_id: HashMap<String, usize>,
    essay_terms: EssayTerms,
    index: SearchIndex,
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
        let started = Instant::now();
        let corpus = corpus::load(&options.corpus)?;
        if options.strict && !corpus.warnings.is_empty() {
            let list: Vec<String> = corpus.warnings.iter().map(|w| w.to_string()).collect();
            return Err(Error::Corpus {
                path: options.corpus.clone(),
                message: format!("--strict: {}", list.join("; ")),
            });
        }
        let passages = passage::split(&corpus);
        let index_dir = options.index_dir();
        let (index, sync) = SearchIndex::open(&index_dir, &corpus, &passages, progress)?;
        let by_id = passages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let essay_terms = corpus
            .essays
            .iter()
            .map(|e| {
                let meta = format!("{} {}", e.title, e.author.as_deref().unwrap_or(""));
                terms(&meta)
                    .into_iter()
                    .map(|t| t.text)
                    .collect::<HashSet<_>>()
            })
            .collect();
        let report = OpenReport {
            warnings: corpus.warnings.clone(),
            sync,
            essays: corpus.essays.len(),
            passages: passages.len(),
            seconds: started.elapsed().as_secs_f64(),
        };
        Ok((
            Engine {
                options,
                corpus,
                passages,
                by_id,
                essay_terms,
                index,
            },
            report,
        ))
    }

    /// Re-reads the corpus and returns a fresh engine; only changed essays are re-indexed.
    pub fn reload(&self) -> Result<(Engine, OpenReport)> {
        // The old engine's reader keeps its segments alive until it is dropped.
        Engine::open(self.options.clone())
    }

    /// The options this engine was opened with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The corpus folder.
    pub fn corpus_dir(&self) -> &Path {
        &self.corpus.dir
    }

    /// Answers `question` with up to `limit` hits, best first.
    pub fn ask(&self, question: &str, limit: usize) -> Result<Answer> {
        let essay_of = |p: usize| self.passages[p].essay;
        let ranking = search::search(&self.index, &essay_of, &self.essay_terms, question, limit)?;
        let hits: Vec<Hit> = ranking
            .hits
            .iter()
            .enumerate()
            .map(|(i, ranked)| {
                let passage = &self.passages[ranked.passage];
                let essay = &self.corpus.essays[passage.essay];
                let quote = quote::select(&passage.text, &passage.sentences, &ranking.query);
                let citation =
                    Citation::new(essay, passage.paragraph, &passage.text[quote.span.clone()]);
                Hit {
                    rank: i + 1,
                    passage: passage.clone(),
                    source: Source::of(essay),
                    quote,
                    citation,
                    score: ranked.score,
                }
            })
            .collect();
        Ok(Answer {
            query: question.to_string(),
            answered: !hits.is_empty(),
            hits,
        })
    }

    /// The passage with id `id`, with its neighbours; None for an unknown id.
    pub fn passage(&self, id: &str) -> Option<PassageView> {
        let &i = self.by_id.get(id)?;
        let passage = &self.passages[i];
        let essay = &self.corpus.essays[passage.essay];
        let neighbour = |j: Option<usize>| {
            j.and_then(|j| self.passages.get(j))
                .filter(|p| p.essay == passage.essay)
                .cloned()
        };
        Some(PassageView {
            passage: passage.clone(),
            source: Source::of(essay),
            before: neighbour(i.checked_sub(1)),
            after: neighbour(Some(i + 1)),
            citation: Citation::new(essay, passage.paragraph, &passage.text),
        })
    }

    /// The essays, in corpus order.
    pub fn sources(&self) -> Vec<Source> {
        self.corpus.essays.iter().map(Source::of).collect()
    }

    /// Finds where `quote` comes from and how faithfully it is quoted.
    pub fn cite(&self, quote: &str) -> Result<CiteResult> {
        lookup::cite(self, quote)
    }

    /// All passages, in corpus order.
    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// The essay a passage belongs to.
    pub fn essay(&self, passage: &Passage) -> &Essay {
        &self.corpus.essays[passage.essay]
    }

    /// The search index (for the library's own modules).
    pub(crate) fn index(&self) -> &SearchIndex {
        &self.index
    }
}
