//! Index: the tantivy index on disk, kept in step with the corpus.
//!
//! Each passage is one document. The index remembers a fingerprint per essay
//! (in `citebot.json` beside tantivy's files), so opening it re-indexes only
//! the essays that were added, changed or removed, and opening an index that
//! is up to date writes nothing. A document stores its essay's key and its
//! ordinal within the essay, which map a hit back to its passage.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::columnar::Column;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::analysis::{ANALYZER, analyzer};
use crate::corpus::{Essay, Fnv, fnv1a};
use crate::error::{Error, Result};
use crate::passage::{Layout, MAX_WORDS};

/// Bumped whenever the schema, the analyzer or passage splitting changes.
const FORMAT: u32 = 2;
/// File beside tantivy's that records what the index holds.
const META_FILE: &str = "citebot.json";
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
    /// The key of the passage's essay ([`essay_key`]): for deleting an
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
}

/// Key of an essay id as stored in the index.
pub fn essay_key(id: &str) -> u64 {
    fnv1a(id.as_bytes())
}

impl SearchIndex {
    /// Opens the index in `dir`, creating or updating it to match `essays`
    /// (the corpus, in order, each essay with its passages).
    ///
    /// Only essays whose fingerprint differs from the one recorded are
    /// re-indexed. `progress` is told how many passages of how many have been
    /// written.
    pub fn open(
        dir: &Path,
        essays: &[(&Essay, &Layout)],
        progress: &dyn Fn(usize, usize),
    ) -> Result<(SearchIndex, SyncReport)> {
        let (schema, fields) = Fields::schema();
        let wanted: BTreeMap<String, String> = essays
            .iter()
            .map(|(essay, layout)| (essay.id.clone(), fingerprint(essay, layout)))
            .collect();
        let meta = read_meta(dir);
        let mut report = SyncReport::default();
        let index = match &meta {
            Some(meta) if meta.format == FORMAT && meta.max_words == MAX_WORDS => {
                let index = Index::open_in_dir(dir)?;
                if index.schema() != schema {
                    return Err(Error::IndexMeta {
                        path: dir.to_path_buf(),
                        message: "schema does not match; delete the folder to rebuild".into(),
                    });
                }
                index
            }
            _ => {
                prepare_empty_dir(dir)?;
                report.rebuilt = true;
                Index::create_in_dir(dir, schema)?
            }
        };
        index.tokenizers().register(ANALYZER, analyzer());

        let old = meta.map(|m| m.essays).unwrap_or_default();
        let stale: Vec<&str> = old
            .iter()
            .filter(|(id, fp)| wanted.get(*id) != Some(*fp))
            .map(|(id, _)| id.as_str())
            .collect();
        let fresh: Vec<usize> = essays
            .iter()
            .enumerate()
            .filter(|(_, (e, _))| report.rebuilt || old.get(&e.id) != wanted.get(&e.id))
            .map(|(i, _)| i)
            .collect();
        report.removed = stale.iter().filter(|id| !wanted.contains_key(**id)).count();
        report.changed = stale.len() - report.removed;
        report.added = fresh.len() - report.changed;

        if !stale.is_empty() || !fresh.is_empty() {
            let mut deleted: HashSet<u64> = stale.iter().map(|id| essay_key(id)).collect();
            let rewrite = if stale.is_empty() {
                HashSet::new()
            } else {
                rewrite_set(&index, fields, &deleted)?
            };
            let mut todo = fresh;
            let changed: HashSet<usize> = todo.iter().copied().collect();
            for (i, (essay, layout)) in essays.iter().enumerate() {
                if !changed.contains(&i) && rewrite.contains(&essay_key(&essay.id)) {
                    todo.push(i);
                    report.passages_rewritten += layout.len();
                }
            }
            todo.sort_unstable();
            deleted.extend(rewrite);
            let total: usize = todo.iter().map(|&i| essays[i].1.len()).sum();
            write(&index, fields, essays, &deleted, &todo, total, progress)?;
            report.passages_written = total;
            write_meta(
                dir,
                &Meta {
                    format: FORMAT,
                    max_words: MAX_WORDS,
                    essays: wanted,
                },
            )?;
        }

        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let mut columns = Vec::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            columns.push((fast.u64("essay")?, fast.u64("slot")?));
        }
        let mut by_key = HashMap::with_capacity(essays.len());
        let mut first = 0u32;
        for (essay, layout) in essays {
            let count = layout.len() as u32;
            if by_key
                .insert(essay_key(&essay.id), (first, count))
                .is_some()
            {
                return Err(Error::IndexMeta {
                    path: dir.to_path_buf(),
                    message: format!(
                        "two essay ids hash alike (one is {:?}); rename a file",
                        essay.id
                    ),
                });
            }
            first += count;
        }
        Ok((
            SearchIndex {
                fields,
                searcher,
                columns,
                essays: by_key,
            },
            report,
        ))
    }

    /// The schema's fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// A searcher over the index as it was opened.
    pub fn searcher(&self) -> &Searcher {
        &self.searcher
    }

    /// The ordinal (in corpus order) of the first passage of the essay with id `essay_id`.
    pub fn first_passage(&self, essay_id: &str) -> Option<usize> {
        self.essays
            .get(&essay_key(essay_id))
            .map(|&(first, _)| first as usize)
    }

    /// The passage ordinal (in corpus order) a document stands for.
    pub fn passage_of(&self, addr: DocAddress) -> Option<usize> {
        let (essays, slots) = self.columns.get(addr.segment_ord as usize)?;
        let &(first, count) = self.essays.get(&essays.first(addr.doc_id)?)?;
        let slot = slots.first(addr.doc_id)?;
        (slot < u64::from(count)).then(|| first as usize + slot as usize)
    }
}

/// Deletes the documents of the essays with keys in `deleted` and adds the
/// passages of the `fresh` essays (indexes into `essays`), in one commit.
fn write(
    index: &Index,
    fields: Fields,
    essays: &[(&Essay, &Layout)],
    deleted: &HashSet<u64>,
    fresh: &[usize],
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
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, heap)?;
    for &key in deleted {
        writer.delete_term(Term::from_field_u64(fields.essay, key));
    }
    let mut done = 0;
    for &i in fresh {
        let (essay, layout) = essays[i];
        let key = essay_key(&essay.id);
        for slot in 0..layout.len() {
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.body, layout.text(essay, slot));
            doc.add_u64(fields.essay, key);
            doc.add_u64(fields.slot, slot as u64);
            writer.add_document(doc)?;
            if done % 1000 == 0 {
                progress(done, total);
            }
            done += 1;
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
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
    let reader: IndexReader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let mut dirty = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(fields.essay)?;
        let mut touched = segment.has_deletes();
        for &key in deleted {
            let term = Term::from_field_u64(fields.essay, key);
            let docs = inverted
                .doc_freq(&term)
                .map_err(|e| Error::Index(e.into()))?;
            touched = touched || docs > 0;
        }
        if touched {
            dirty.push(segment);
        }
    }
    let mut keys = HashSet::new();
    if dirty.iter().map(|s| s.max_doc()).sum::<u32>() <= REWRITE_LIMIT {
        for segment in dirty {
            let column = segment.fast_fields().u64("essay")?;
            keys.extend(segment.doc_ids_alive().filter_map(|doc| column.first(doc)));
        }
    }
    Ok(keys)
}

/// A hash of an essay's file and of how it was split into passages, so that
/// a change to either re-indexes the essay.
fn fingerprint(essay: &Essay, layout: &Layout) -> String {
    let mut h = Fnv::new();
    h.write(&essay.fingerprint.to_le_bytes());
    for i in 0..layout.len() {
        let (paragraph, window) = layout.position(i);
        let range = layout.range(i);
        h.write(&paragraph.to_le_bytes());
        h.write(&window.to_le_bytes());
        h.write(&(range.start as u64).to_le_bytes());
        h.write(&(range.end as u64).to_le_bytes());
    }
    format!("{:016x}", h.finish())
}

/// The default index folder for a corpus: `data/index-<name>-<hash of its path>`.
pub fn default_dir(corpus_dir: &Path) -> PathBuf {
    let canonical = corpus_dir
        .canonicalize()
        .unwrap_or_else(|_| corpus_dir.to_path_buf());
    let name = crate::corpus::slugify(
        &canonical
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let hash = fnv1a(canonical.to_string_lossy().as_bytes()) & 0xffff_ffff;
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

/// Empties `dir` for a new index, refusing to touch a folder that is not ours.
fn prepare_empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok())
            .collect();
        let ours = dir.join(META_FILE).exists() || dir.join("meta.json").exists();
        if !entries.is_empty() && !ours {
            return Err(Error::IndexMeta {
                path: dir.to_path_buf(),
                message: "folder is not empty and is not a citebot index; refusing to overwrite it"
                    .into(),
            });
        }
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
