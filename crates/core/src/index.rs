//! Index: the tantivy index on disk, kept in step with the corpus.
//!
//! Each passage is one document. The index remembers each essay's
//! [`Store::digest`] (in `citebot.json` beside tantivy's files), so opening
//! it re-indexes only the essays that were added, changed or removed
//! ([`Changes`]), and opening an index that is up to date writes nothing
//! (and, when a one-line summary of those digests, `citebot.sum`, matches
//! the store's, reads neither `citebot.json` nor compares its essays). A
//! document stores its essay's key and its ordinal within the essay, which
//! map a hit back to its passage ordinal.
//!
//! tantivy stays inside this module and [`crate::search`]: nothing public
//! names a tantivy type.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tantivy::columnar::Column;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::error::{Error, Result};
use crate::passage::MAX_WORDS;
use crate::store::{Changes, Store};
use crate::text::analysis::{ANALYZER, FastMap, analyzer};
use crate::text::names::{slugify, stable_hash};

/// Bumped whenever the schema, the analyzer or passage splitting changes.
const FORMAT: u32 = 2;
/// File beside tantivy's that records what the index holds.
const META_FILE: &str = "citebot.json";
/// Held while the index is built or updated, so that a second process
/// waits for the first and then finds the index up to date.
const LOCK_FILE: &str = "citebot.lock";
/// Memory each indexing thread may use, in bytes. Larger means fewer, larger
/// segments to merge; see BENCHMARKS.md for how it was chosen.
const WRITER_HEAP_PER_THREAD: usize = 192 * 1024 * 1024;
/// Indexing threads, at most.
const MAX_WRITER_THREADS: usize = 4;
/// Segments that would hold replaced passages are rewritten when they hold at
/// most this many documents together; see [`rewrite_set`].
const REWRITE_LIMIT: u32 = 20_000;

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The passage text, stemmed, with positions.
    pub body: Field,
    /// The key of the passage's essay (`essay_key`): for deleting an
    /// essay's passages, and to map a hit back to its passage.
    pub essay: Field,
    /// The passage's ordinal within its essay.
    pub slot: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let body = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            body: builder.add_text_field("body", body),
            essay: builder.add_u64_field("essay", INDEXED | FAST),
            slot: builder.add_u64_field("slot", FAST),
        };
        (builder.build(), fields)
    }
}

/// What opening the index had to do to bring it up to date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The index was built from scratch.
    pub rebuilt: bool,
    /// Essays indexed for the first time.
    pub added: usize,
    /// Essays re-indexed because their file changed.
    pub changed: usize,
    /// Essays dropped because their file is gone.
    pub removed: usize,
    /// Passages written, including `passages_rewritten`.
    pub passages_written: usize,
    /// Passages of unchanged essays written again so that no deleted
    /// document lingers in the index's BM25 statistics: done when the
    /// segments concerned are small, so that a small updated index scores
    /// exactly as one built afresh.
    pub passages_rewritten: usize,
}

impl SyncReport {
    /// True when the index was already up to date.
    pub fn unchanged(&self) -> bool {
        !self.rebuilt && self.added + self.changed + self.removed == 0
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    max_words: usize,
    essays: BTreeMap<String, String>,
}

/// The on-disk index, with a map from its documents back to passages.
pub struct SearchIndex {
    fields: Fields,
    searcher: Searcher,
    /// Per segment: the `essay` and `slot` columns of its documents.
    columns: Vec<(Column<u64>, Column<u64>)>,
    /// Essay key → the ordinal of the essay's first passage, and its passage count.
    essays: HashMap<u64, (u32, u32)>,
    /// Per segment, per document: the passage ordinal it stands for, or
    /// [`NO_PASSAGE`] for a deleted document.
    ordinals: Vec<Vec<u32>>,
    /// Per passage ordinal: the address of its document (segment
    /// `u32::MAX` for a passage the index lacks).
    addresses: Vec<DocAddress>,
    /// The paragraphs, the unit that is ranked.
    paragraphs: Paragraphs,
    /// The terms of each essay's title and author, made on first use.
    titles: OnceLock<TitleTerms>,
}

/// The terms of the essays' titles and authors, which BM25 reads with
/// every paragraph of the essay.
#[derive(Debug, Default)]
pub struct TitleTerms {
    /// Term → the essays whose title or author holds it.
    pub essays: FastMap<String, Vec<u32>>,
    /// Per essay: how many distinct terms its title and author hold.
    len: Vec<u32>,
    /// The mean of `len` over paragraphs (an essay counts once per paragraph).
    pub mean_len: f32,
}

impl TitleTerms {
    /// How many distinct terms essay `e`'s title and author hold.
    pub fn len_of(&self, e: usize) -> f32 {
        self.len.get(e).copied().unwrap_or(0) as f32
    }
}

/// Marks a document that stands for no passage (deleted, or of an essay
/// the store no longer has).
pub const NO_PASSAGE: u32 = u32::MAX;

/// The paragraphs of the corpus as ranking sees them: which passages
/// (windows) each holds and how many words it has, read from the index's
/// field norms.
#[derive(Debug, Clone, Default)]
pub struct Paragraphs {
    /// Per passage ordinal: the index of its paragraph.
    of_passage: Vec<u32>,
    /// Per paragraph: the ordinal of its first passage; one more entry
    /// closes the last paragraph.
    first: Vec<u32>,
    /// Per paragraph: its length in words (as BM25 counts them).
    len: Vec<u32>,
    /// Per paragraph: its essay.
    essay: Vec<u32>,
    /// Per essay: its first paragraph; one more entry closes the last essay.
    essay_first: Vec<u32>,
    /// The mean of `len`.
    mean_len: f32,
}

impl Paragraphs {
    /// The table for `store`, with each passage's length in words.
    fn build(store: &Store, passage_len: &[u32]) -> Paragraphs {
        let mut table = Paragraphs {
            of_passage: Vec::with_capacity(store.len()),
            ..Paragraphs::default()
        };
        for e in 0..store.essay_count() {
            table.essay_first.push(table.first.len() as u32);
            let mut last = None;
            for ordinal in store.passages_of(e) {
                let (_, paragraph) = store.paragraph_of(ordinal);
                if last != Some(paragraph) {
                    last = Some(paragraph);
                    table.first.push(ordinal as u32);
                    table.len.push(0);
                    table.essay.push(e as u32);
                }
                let p = table.first.len() - 1;
                table.len[p] += passage_len.get(ordinal).copied().unwrap_or(0);
                table.of_passage.push(p as u32);
            }
        }
        table.essay_first.push(table.first.len() as u32);
        table.first.push(store.len() as u32);
        let total: u64 = table.len.iter().map(|&l| u64::from(l)).sum();
        table.mean_len = total as f32 / table.count().max(1) as f32;
        table
    }

    /// How many paragraphs there are.
    pub fn count(&self) -> usize {
        self.len.len()
    }

    /// The paragraph passage `ordinal` belongs to.
    pub fn of(&self, ordinal: usize) -> usize {
        self.of_passage[ordinal] as usize
    }

    /// The passage ordinals of paragraph `p`.
    pub fn passages(&self, p: usize) -> std::ops::Range<usize> {
        self.first[p] as usize..self.first[p + 1] as usize
    }

    /// Paragraph `p`'s length in words.
    pub fn len(&self, p: usize) -> u32 {
        self.len[p]
    }

    /// The essay paragraph `p` belongs to.
    pub fn essay(&self, p: usize) -> usize {
        self.essay[p] as usize
    }

    /// The paragraphs of essay `e`.
    pub fn of_essay(&self, e: usize) -> std::ops::Range<usize> {
        self.essay_first[e] as usize..self.essay_first[e + 1] as usize
    }

    /// The mean paragraph length in words.
    pub fn mean_len(&self) -> f32 {
        self.mean_len
    }
}

/// Key of an essay id as stored in the index.
fn essay_key(id: &str) -> u64 {
    stable_hash(id.as_bytes())
}

/// What to write to bring the index up to date.
struct Plan {
    /// Keys of the essays whose documents go.
    deleted: HashSet<u64>,
    /// The essays (indexes into the store) whose passages are written, in order.
    write: Vec<usize>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating or updating it to match `store`.
    ///
    /// Only essays whose [`Store::digest`] differs from the one recorded are
    /// re-indexed. `progress` is told how many passages of how many have been
    /// written.
    pub fn open(
        dir: &Path,
        store: &Store,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(SearchIndex, SyncReport)> {
        let (schema, fields) = Fields::schema();
        let summary = Summary::of(store);
        // Up to date: neither the recorded digests nor the index change.
        let up_to_date =
            || Summary::read(dir).as_ref() == Some(&summary) && dir.join("meta.json").exists();
        let reuse = || {
            let index = open_current(dir, schema.clone())?;
            let index = SearchIndex::read(dir, &index, fields, store)?;
            Ok((index, SyncReport::default()))
        };
        if up_to_date() {
            return reuse();
        }
        refuse_foreign(dir)?;
        let _lock = lock(dir)?;
        if up_to_date() {
            // Another process brought it up to date while this one waited.
            return reuse();
        }
        let meta = read_meta(dir);
        let (index, rebuilt) = open_or_create(dir, meta.as_ref(), schema)?;
        let recorded = meta.map(|m| m.essays).unwrap_or_default();
        let report = sync(dir, &index, fields, store, &recorded, rebuilt, progress)?;
        summary.write(dir)?;
        let index = SearchIndex::read(dir, &index, fields, store)?;
        Ok((index, report))
    }

    /// A reader of `index` as committed, mapping its documents to the passages of `store`.
    fn read(dir: &Path, index: &Index, fields: Fields, store: &Store) -> Result<SearchIndex> {
        let searcher = searcher(index)?;
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                let fast = segment.fast_fields();
                Ok((fast.u64("essay")?, fast.u64("slot")?))
            })
            .collect::<tantivy::Result<_>>()
            .map_err(Error::index)?;
        let mut index = SearchIndex {
            fields,
            searcher,
            columns,
            essays: essay_keys(dir, store)?,
            ordinals: Vec::new(),
            addresses: Vec::new(),
            paragraphs: Paragraphs::default(),
            titles: OnceLock::new(),
        };
        let mut passage_len = vec![0u32; store.len()];
        let mut addresses = vec![DocAddress::new(u32::MAX, 0); store.len()];
        for (segment_ord, segment) in index.searcher.segment_readers().iter().enumerate() {
            let norms = segment
                .get_fieldnorms_reader(fields.body)
                .map_err(Error::index)?;
            let ordinals = (0..segment.max_doc())
                .map(|doc| {
                    if segment.is_deleted(doc) {
                        return NO_PASSAGE;
                    }
                    let addr = DocAddress::new(segment_ord as u32, doc);
                    match index.passage_of(addr) {
                        Some(ordinal) => {
                            passage_len[ordinal] = norms.fieldnorm(doc);
                            addresses[ordinal] = addr;
                            ordinal as u32
                        }
                        None => NO_PASSAGE,
                    }
                })
                .collect();
            index.ordinals.push(ordinals);
        }
        index.addresses = addresses;
        index.paragraphs = Paragraphs::build(store, &passage_len);
        Ok(index)
    }

    /// Per document of segment `segment_ord`: the passage ordinal it stands
    /// for, or [`NO_PASSAGE`].
    pub fn ordinals(&self, segment_ord: usize) -> &[u32] {
        &self.ordinals[segment_ord]
    }

    /// The address of passage `ordinal`'s document (segment `u32::MAX`
    /// for a passage the index lacks).
    pub fn address(&self, ordinal: usize) -> DocAddress {
        self.addresses[ordinal]
    }

    /// The paragraphs, the unit that is ranked.
    pub fn paragraphs(&self) -> &Paragraphs {
        &self.paragraphs
    }

    /// The terms of every essay's title and author (`store` must be the
    /// one this index was opened with).
    pub fn title_terms(&self, store: &Store) -> &TitleTerms {
        self.titles.get_or_init(|| {
            let mut titles = TitleTerms::default();
            let mut weighted = 0.0f64;
            for e in 0..store.essay_count() {
                let terms = store.title_terms(e);
                for term in terms {
                    titles
                        .essays
                        .entry(term.clone())
                        .or_default()
                        .push(e as u32);
                }
                titles.len.push(terms.len() as u32);
                weighted += terms.len() as f64 * self.paragraphs.of_essay(e).len() as f64;
            }
            titles.mean_len = (weighted / self.paragraphs.count().max(1) as f64) as f32;
            titles
        })
    }

    /// The passage text field.
    pub fn body(&self) -> Field {
        self.fields.body
    }

    /// A searcher over the index as it was opened.
    pub fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    /// The passage ordinal (in corpus order) a document stands for.
    pub fn passage_of(&self, addr: DocAddress) -> Option<usize> {
        let (essays, slots) = self.columns.get(addr.segment_ord as usize)?;
        let &(first, count) = self.essays.get(&essays.first(addr.doc_id)?)?;
        let slot = slots.first(addr.doc_id)?;
        (slot < u64::from(count)).then(|| first as usize + slot as usize)
    }
}

/// Brings `index` in `dir` up to date with `store`: re-indexes the essays
/// whose digest differs from the one `recorded` (every essay when
/// `rebuilt`), then records the new digests. Writes nothing when nothing
/// changed.
fn sync(
    dir: &Path,
    index: &Index,
    fields: Fields,
    store: &Store,
    recorded: &BTreeMap<String, String>,
    rebuilt: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<SyncReport> {
    let wanted = store.digests();
    let changes = Changes::between(recorded, &wanted);
    let (plan, report) = plan(index, fields, store, &changes, rebuilt)?;
    if plan.deleted.is_empty() && plan.write.is_empty() {
        return Ok(report);
    }
    write(
        index,
        fields,
        store,
        &plan,
        report.passages_written,
        progress,
    )?;
    let essays = wanted
        .iter()
        .map(|(id, digest)| (id.to_string(), digest.to_string()))
        .collect();
    write_meta(
        dir,
        &Meta {
            format: FORMAT,
            max_words: MAX_WORDS,
            essays,
        },
    )?;
    Ok(report)
}

/// The index in `dir` when `meta` says it is of this format, else a new one.
/// Returns it and whether it is new.
fn open_or_create(dir: &Path, meta: Option<&Meta>, schema: Schema) -> Result<(Index, bool)> {
    if meta.is_some_and(|m| m.format == FORMAT && m.max_words == MAX_WORDS) {
        return Ok((open_current(dir, schema)?, false));
    }
    prepare_empty_dir(dir)?;
    let index = Index::create_in_dir(dir, schema).map_err(Error::index)?;
    index.tokenizers().register(ANALYZER, analyzer());
    Ok((index, true))
}

/// The index in `dir`, known to be of this format.
fn open_current(dir: &Path, schema: Schema) -> Result<Index> {
    let index = Index::open_in_dir(dir).map_err(Error::index)?;
    if index.schema() != schema {
        return Err(Error::IndexMeta {
            path: dir.to_path_buf(),
            message: "schema does not match; delete the folder to rebuild".into(),
        });
    }
    index.tokenizers().register(ANALYZER, analyzer());
    Ok(index)
}

/// File beside [`META_FILE`] holding the [`Summary`] of what the index holds.
const SUMMARY_FILE: &str = "citebot.sum";

/// One line for what the index holds: its format and a hash of every
/// essay's id and digest. Written after every sync, so that a start with
/// nothing changed compares one line instead of reading [`META_FILE`] and
/// comparing every essay.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary(String);

impl Summary {
    /// The summary of an index that holds `store`.
    fn of(store: &Store) -> Summary {
        // A sum of per-essay hashes: the same whatever the order of the essays.
        let sum = (0..store.essay_count())
            .map(|e| {
                let mut h = fnv::FnvHasher::default();
                h.write(store.id(e).as_bytes());
                h.write(&[0]);
                h.write(store.digest(e).as_bytes());
                h.finish()
            })
            .fold(0u64, u64::wrapping_add);
        Summary(format!(
            "{FORMAT} {MAX_WORDS} {} {sum:016x}",
            store.essay_count()
        ))
    }

    fn read(dir: &Path) -> Option<Summary> {
        std::fs::read_to_string(dir.join(SUMMARY_FILE))
            .ok()
            .map(Summary)
    }

    /// Records the summary, unless the one recorded is the same.
    fn write(&self, dir: &Path) -> Result<()> {
        if Summary::read(dir).as_ref() == Some(self) {
            return Ok(());
        }
        let path = dir.join(SUMMARY_FILE);
        let tmp = dir.join(format!("{SUMMARY_FILE}.tmp"));
        std::fs::write(&tmp, &self.0).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }
}

/// What to delete and write for `changes` (all essays when `rebuilt`), and
/// the report of it.
fn plan(
    index: &Index,
    fields: Fields,
    store: &Store,
    changes: &Changes,
    rebuilt: bool,
) -> Result<(Plan, SyncReport)> {
    let stale: Vec<&String> = changes.changed.iter().chain(&changes.removed).collect();
    let fresh: HashSet<&str> = changes
        .added
        .iter()
        .chain(&changes.changed)
        .map(String::as_str)
        .collect();
    let mut write: Vec<usize> = (0..store.essay_count())
        .filter(|&e| rebuilt || fresh.contains(store.id(e)))
        .collect();
    let mut report = SyncReport {
        rebuilt,
        added: write.len() - changes.changed.len(),
        changed: changes.changed.len(),
        removed: changes.removed.len(),
        ..SyncReport::default()
    };
    let mut deleted: HashSet<u64> = stale.iter().map(|id| essay_key(id)).collect();
    if !deleted.is_empty() {
        let rewrite = rewrite_set(index, fields, &deleted)?;
        let written: HashSet<usize> = write.iter().copied().collect();
        for e in 0..store.essay_count() {
            if !written.contains(&e) && rewrite.contains(&essay_key(store.id(e))) {
                write.push(e);
                report.passages_rewritten += store.passages_of(e).len();
            }
        }
        write.sort_unstable();
        deleted.extend(rewrite);
    }
    report.passages_written = write.iter().map(|&e| store.passages_of(e).len()).sum();
    Ok((Plan { deleted, write }, report))
}

/// Essay key → the ordinal of the essay's first passage, and its passage count.
fn essay_keys(dir: &Path, store: &Store) -> Result<HashMap<u64, (u32, u32)>> {
    let mut keys = HashMap::with_capacity(store.essay_count());
    for e in 0..store.essay_count() {
        let passages = store.passages_of(e);
        let entry = (passages.start as u32, passages.len() as u32);
        if keys.insert(essay_key(store.id(e)), entry).is_some() {
            return Err(Error::IndexMeta {
                path: dir.to_path_buf(),
                message: format!(
                    "two essay ids hash alike (one is {:?}); rename a file",
                    store.id(e)
                ),
            });
        }
    }
    Ok(keys)
}

/// A searcher over the index as committed.
fn searcher(index: &Index) -> Result<Searcher> {
    let reader: IndexReader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(Error::index)?;
    Ok(reader.searcher())
}

/// Deletes the documents of the essays in `plan.deleted` and adds the
/// passages of the essays in `plan.write` (`total` of them), in one commit.
fn write(
    index: &Index,
    fields: Fields,
    store: &Store,
    plan: &Plan,
    total: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_WRITER_THREADS);
    // A small update needs neither many threads nor a large heap.
    let (threads, heap) = if total < 50_000 {
        (1, 32 * 1024 * 1024)
    } else {
        (threads, WRITER_HEAP_PER_THREAD * threads)
    };
    let mut writer: IndexWriter = index
        .writer_with_num_threads(threads, heap)
        .map_err(Error::index)?;
    for &key in &plan.deleted {
        writer.delete_term(Term::from_field_u64(fields.essay, key));
    }
    let mut done = 0;
    for &e in &plan.write {
        let key = essay_key(store.id(e));
        for (slot, ordinal) in store.passages_of(e).enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.body, store.text(ordinal));
            doc.add_u64(fields.essay, key);
            doc.add_u64(fields.slot, slot as u64);
            writer.add_document(doc).map_err(Error::index)?;
            if done % 1000 == 0 {
                progress(done, total);
            }
            done += 1;
        }
    }
    writer.commit().map_err(Error::index)?;
    writer.wait_merging_threads().map_err(Error::index)?;
    progress(total, total);
    Ok(())
}

/// The keys of the essays to write again along with the `deleted` ones: all
/// essays with a document in a segment that would otherwise hold deleted
/// documents, provided those segments are small (at most [`REWRITE_LIMIT`]
/// documents together); none otherwise.
///
/// tantivy's BM25 statistics (document count, document frequencies, total
/// length) count deleted documents until their segment is merged, and a
/// merge only estimates the total length from quantized lengths; either way
/// an updated index would rank slightly differently from one built afresh.
/// Deleting every document of those segments drops them whole, so a small
/// index ranks exactly as a fresh build. In a large one the replaced
/// passages, a few out of tens of thousands, stay counted until tantivy's
/// merge policy merges their segment.
fn rewrite_set(index: &Index, fields: Fields, deleted: &HashSet<u64>) -> Result<HashSet<u64>> {
    let searcher = searcher(index)?;
    let mut dirty = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(fields.essay).map_err(Error::index)?;
        let mut touched = segment.has_deletes();
        for &key in deleted {
            let term = Term::from_field_u64(fields.essay, key);
            let docs = inverted.doc_freq(&term).map_err(Error::index)?;
            touched = touched || docs > 0;
        }
        if touched {
            dirty.push(segment);
        }
    }
    let mut keys = HashSet::new();
    if dirty.iter().map(|s| s.max_doc()).sum::<u32>() <= REWRITE_LIMIT {
        for segment in dirty {
            let column = segment.fast_fields().u64("essay").map_err(Error::index)?;
            keys.extend(segment.doc_ids_alive().filter_map(|doc| column.first(doc)));
        }
    }
    Ok(keys)
}

/// The default index folder for a corpus: `data/index-<name>-<hash of its path>`.
pub fn default_dir(corpus_dir: &Path) -> PathBuf {
    let canonical = corpus_dir
        .canonicalize()
        .unwrap_or_else(|_| corpus_dir.to_path_buf());
    let name = slugify(
        &canonical
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let hash = stable_hash(canonical.to_string_lossy().as_bytes()) & 0xffff_ffff;
    PathBuf::from("data").join(format!("index-{name}-{hash:08x}"))
}

fn read_meta(dir: &Path) -> Option<Meta> {
    let text = std::fs::read_to_string(dir.join(META_FILE)).ok()?;
    let meta: Meta = serde_json::from_str(&text).ok()?;
    dir.join("meta.json").exists().then_some(meta)
}

fn write_meta(dir: &Path, meta: &Meta) -> Result<()> {
    let path = dir.join(META_FILE);
    let tmp = dir.join(format!("{META_FILE}.tmp"));
    let text = serde_json::to_string_pretty(meta).expect("meta serializes");
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
}

/// Refuses a `dir` that holds files but is not a citebot index, before
/// anything is written to it.
fn refuse_foreign(dir: &Path) -> Result<()> {
    foreign_entries(dir).map(|_| ())
}

/// The entries of `dir` but its lock file (none when it does not exist),
/// or an error when it holds any and is not a citebot index.
fn foreign_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != LOCK_FILE)
        .collect();
    // A lock file is only ever created in a folder found empty or ours: one
    // with it is an index another process is building.
    let ours = [META_FILE, "meta.json", LOCK_FILE]
        .iter()
        .any(|file| dir.join(file).exists());
    if !entries.is_empty() && !ours {
        return Err(Error::IndexMeta {
            path: dir.to_path_buf(),
            message: "folder is not empty and is not a citebot index; refusing to overwrite it"
                .into(),
        });
    }
    Ok(entries)
}

/// An exclusive lock on building or updating the index in `dir` (created
/// if missing), held until dropped; waits for another process holding it.
fn lock(dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

/// Empties `dir` for a new index (all but its lock file), refusing to
/// touch a folder that is not ours.
fn prepare_empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let entries = foreign_entries(dir)?;
        for entry in entries {
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| Error::io(&path, e))?;
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}
