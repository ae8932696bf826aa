//! Engine: the one interface the transports use.
//!
//! [`Engine::ask`] answers a question, [`Engine::passage`] fetches a passage
//! with its neighbours, [`Engine::sources`] lists the essays and
//! [`Engine::cite`] checks a quotation. Nothing outside the library touches
//! tantivy.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::analysis::terms;
use crate::cite::Citation;
use crate::corpus::{self, Essay, FileStamp, IdAllocator, Warning};
use crate::error::{Error, Result};
use crate::index::{self, SearchIndex, SyncReport};
use crate::lookup::{self, CiteResult};
use crate::passage::{Layout, Passage};
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

    /// The engine options a configuration asks for: its corpus, index folder and strictness.
    pub fn from_config(config: &crate::config::Config) -> Self {
        EngineOptions {
            corpus: config.corpus.clone(),
            index: config.index_dir(),
            strict: config.strict,
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
    /// The essays in corpus order, each with its passages; shared with the
    /// engine a reload came from, for files that did not change.
    essays: Vec<Arc<Loaded>>,
    /// Per essay, the ordinal of its first passage; one more entry at the end
    /// holding the number of passages.
    starts: Vec<usize>,
    essay_terms: EssayTerms,
    index: SearchIndex,
}

/// One essay as loaded: parsed, split into passages, and stamped.
#[derive(Debug, Clone)]
struct Loaded {
    essay: Essay,
    layout: Layout,
    stamp: FileStamp,
    /// The stamp can be trusted to show a later change (see [`FileStamp::is_racy`]).
    reusable: bool,
}

impl Loaded {
    fn read(dir: &Path, stamp: FileStamp) -> Result<Result<Loaded, Warning>> {
        let read_at = SystemTime::now();
        Ok(corpus::read(dir, &stamp)?.map(|essay| Loaded {
            layout: Layout::of(&essay),
            essay,
            reusable: !stamp.is_racy(read_at),
            stamp,
        }))
    }
}

/// The terms of an essay's title and author, which count towards coverage.
fn meta_terms(essay: &Essay) -> HashSet<String> {
    let meta = format!("{} {}", essay.title, essay.author.as_deref().unwrap_or(""));
    terms(&meta).into_iter().map(|t| t.text).collect()
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
        let dir = options.corpus.clone();
        let stamps = corpus::scan(&dir)?;
        let old: HashMap<&str, usize> = previous.map_or_else(HashMap::new, |engine| {
            engine
                .essays
                .iter()
                .enumerate()
                .filter(|(_, e)| e.reusable)
                .map(|(i, e)| (e.essay.file.as_str(), i))
                .collect()
        });
        // Files to read, in parallel; the rest are taken from `previous`.
        let mut slots: Vec<Option<usize>> = Vec::with_capacity(stamps.len());
        let mut to_read = Vec::new();
        for stamp in stamps {
            let kept = old
                .get(stamp.file.as_str())
                .copied()
                .filter(|&i| previous.is_some_and(|engine| engine.essays[i].stamp == stamp));
            if kept.is_none() {
                to_read.push(stamp);
            }
            slots.push(kept);
        }
        let mut read = read_all(&dir, to_read)?.into_iter();

        let mut ids = IdAllocator::default();
        let mut essays = Vec::with_capacity(slots.len());
        let mut essay_terms = Vec::with_capacity(slots.len());
        let mut warnings = Vec::new();
        for slot in slots {
            let (loaded, terms) = match (slot, previous) {
                (Some(i), Some(engine)) => {
                    let kept = &engine.essays[i];
                    let id = ids.allocate(&kept.essay.file);
                    let loaded = if id == kept.essay.id {
                        Arc::clone(kept)
                    } else {
                        // Another file now claims this file's id.
                        let mut renamed = Loaded::clone(kept);
                        renamed.essay.id = id;
                        Arc::new(renamed)
                    };
                    (loaded, Arc::clone(&engine.essay_terms[i]))
                }
                _ => match read.next().expect("one result per file read") {
                    Ok(mut loaded) => {
                        loaded.essay.id = ids.allocate(&loaded.essay.file);
                        let terms = Arc::new(meta_terms(&loaded.essay));
                        (Arc::new(loaded), terms)
                    }
                    Err(warning) => {
                        warnings.push(warning);
                        continue;
                    }
                },
            };
            essays.push(loaded);
            essay_terms.push(terms);
        }
        if options.strict && !warnings.is_empty() {
            let list: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
            return Err(Error::Corpus {
                path: dir,
                message: format!("--strict: {}", list.join("; ")),
            });
        }
        corpus::ensure_essays(&dir, essays.len(), &warnings)?;

        let mut starts = Vec::with_capacity(essays.len() + 1);
        let mut total = 0;
        for loaded in &essays {
            starts.push(total);
            total += loaded.layout.len();
        }
        starts.push(total);
        let pairs: Vec<(&Essay, &Layout)> = essays.iter().map(|e| (&e.essay, &e.layout)).collect();
        let (index, sync) = SearchIndex::open(&options.index_dir(), &pairs, progress)?;
        let report = OpenReport {
            warnings,
            sync,
            essays: essays.len(),
            passages: total,
            seconds: started.elapsed().as_secs_f64(),
        };
        Ok((
            Engine {
                options,
                essays,
                starts,
                essay_terms,
                index,
            },
            report,
        ))
    }

    /// The options this engine was opened with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The corpus folder.
    pub fn corpus_dir(&self) -> &Path {
        &self.options.corpus
    }

    /// Answers `question` with up to `limit` hits, best first.
    pub fn ask(&self, question: &str, limit: usize) -> Result<Answer> {
        let essay_of = |p: usize| self.locate(p).0;
        let ranking = search::search(&self.index, &essay_of, &self.essay_terms, question, limit)?;
        let hits: Vec<Hit> = ranking
            .hits
            .iter()
            .enumerate()
            .map(|(i, ranked)| {
                let passage = self.materialize(ranked.passage);
                let essay = &self.essays[passage.essay].essay;
                let quote = quote::select(&passage.text, &passage.sentences, &ranking.query);
                let citation =
                    Citation::new(essay, passage.paragraph, &passage.text[quote.span.clone()]);
                Hit {
                    rank: i + 1,
                    source: Source::of(essay),
                    quote,
                    citation,
                    score: ranked.score,
                    passage,
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
        let i = self.find(id)?;
        let passage = self.materialize(i);
        let essay = &self.essays[passage.essay].essay;
        let neighbour = |j: Option<usize>| {
            j.filter(|&j| j < self.passage_count() && self.locate(j).0 == passage.essay)
                .map(|j| self.materialize(j))
        };
        Some(PassageView {
            source: Source::of(essay),
            before: neighbour(i.checked_sub(1)),
            after: neighbour(Some(i + 1)),
            citation: Citation::new(essay, passage.paragraph, &passage.text),
            passage,
        })
    }

    /// The essays, in corpus order.
    pub fn sources(&self) -> Vec<Source> {
        self.essays.iter().map(|e| Source::of(&e.essay)).collect()
    }

    /// Finds where `quote` comes from and how faithfully it is quoted.
    pub fn cite(&self, quote: &str) -> Result<CiteResult> {
        lookup::cite(self, quote)
    }

    /// All passages, in corpus order, each made on demand.
    pub fn passages(&self) -> impl ExactSizeIterator<Item = Passage> + '_ {
        (0..self.passage_count()).map(|i| self.materialize(i))
    }

    /// The number of passages.
    pub fn passage_count(&self) -> usize {
        *self.starts.last().expect("starts ends with the total")
    }

    /// The passage at `ordinal` in corpus order (as [`SearchIndex::passage_of`] gives it).
    pub fn passage_at(&self, ordinal: usize) -> Option<Passage> {
        (ordinal < self.passage_count()).then(|| self.materialize(ordinal))
    }

    /// The essay a passage belongs to.
    pub fn essay(&self, passage: &Passage) -> &Essay {
        &self.essays[passage.essay].essay
    }

    /// The whole paragraph a passage belongs to (more than the passage when
    /// the paragraph was split into windows).
    pub fn paragraph(&self, passage: &Passage) -> &str {
        &self.essay(passage).paragraphs[passage.paragraph as usize - 1]
    }

    /// The passage of `passage`'s paragraph that holds byte `offset` of the
    /// paragraph's text (see [`Engine::paragraph`]): the last one starting at
    /// or before it.
    pub fn window_at(&self, passage: &Passage, offset: usize) -> Passage {
        let loaded = &self.essays[passage.essay];
        let start = loaded
            .essay
            .paragraphs
            .range(passage.paragraph as usize - 1)
            .expect("a passage's paragraph exists")
            .start;
        let windows = loaded.layout.paragraph(passage.paragraph);
        let first = windows.start;
        let holder = windows
            .take_while(|&w| w == first || loaded.layout.range(w).start <= start + offset)
            .last()
            .expect("a paragraph has a passage");
        loaded.layout.passage(&loaded.essay, passage.essay, holder)
    }

    /// The search index (for the library's own modules).
    pub(crate) fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// The essay index and the passage's index within the essay, for a passage ordinal.
    fn locate(&self, ordinal: usize) -> (usize, usize) {
        let essay = self.starts.partition_point(|&s| s <= ordinal) - 1;
        (essay, ordinal - self.starts[essay])
    }

    fn materialize(&self, ordinal: usize) -> Passage {
        let (e, i) = self.locate(ordinal);
        let loaded = &self.essays[e];
        loaded.layout.passage(&loaded.essay, e, i)
    }

    /// The ordinal of the passage with id `id`.
    fn find(&self, id: &str) -> Option<usize> {
        let (essay_id, rest) = id.rsplit_once('_')?;
        let (paragraph, window) = match rest.split_once('-') {
            Some((p, w)) => (p.parse().ok()?, w.parse().ok()?),
            None => (rest.parse().ok()?, 0),
        };
        let first = self.index.first_passage(essay_id)?;
        let e = self.locate(first).0;
        let loaded = &self.essays[e];
        let i = loaded.layout.find(paragraph, window)?;
        (loaded.essay.id == essay_id
            && crate::passage::passage_id(essay_id, paragraph, window) == id)
            .then_some(first + i)
    }
}

/// Reads and splits `files`, on every core; results are in the order given.
fn read_all(dir: &Path, files: Vec<FileStamp>) -> Result<Vec<Result<Loaded, Warning>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || files.len() < 64 {
        return files.into_iter().map(|f| Loaded::read(dir, f)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    let mut files = files.into_iter();
    let chunks: Vec<Vec<FileStamp>> = (0..threads)
        .map(|_| files.by_ref().take(chunk).collect())
        .collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|f| Loaded::read(dir, f))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::new();
        for worker in workers {
            out.extend(worker.join().expect("a reader thread panicked")?);
        }
        Ok(out)
    })
}
