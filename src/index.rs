//! Index: the tantivy index on disk, kept in step with the corpus.
//!
//! Each passage is one document. The index remembers a fingerprint per essay
//! (in `citebot.json` beside tantivy's files), so opening it re-indexes only
//! the essays that were added, changed or removed, and opening an index that
//! is up to date writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::analysis::{ANALYZER, analyzer};
use crate::corpus::{Corpus, Fnv, fnv1a};
use crate::error::{Error, Result};
use crate::passage::{MAX_WORDS, Passage};

/// Bumped whenever the schema, the analyzer or passage splitting changes.
const FORMAT: u32 = 1;
/// File beside tantivy's that records what the index holds.
const META_FILE: &str = "citebot.json";
/// Memory the index writer may use, in bytes.
const WRITER_HEAP: usize = 64 * 1024 * 1024;

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The passage text, stemmed, with positions.
    pub body: Field,
    /// The essay's title, stemmed.
    pub title: Field,
    /// The essay's author, stemmed.
    pub author: Field,
    /// The essay id, untokenized, for deleting an essay's passages.
    pub essay: Field,
    /// A hash of the passage id, to map a hit back to its passage.
    pub key: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let text = |record| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER)
                    .set_index_option(record),
            )
        };
        let fields = Fields {
            body: builder.add_text_field("body", text(IndexRecordOption::WithFreqsAndPositions)),
            title: builder.add_text_field("title", text(IndexRecordOption::WithFreqs)),
            author: builder.add_text_field("author", text(IndexRecordOption::WithFreqs)),
            essay: builder.add_text_field("essay", STRING),
            key: builder.add_u64_field("key", FAST),
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
    /// Passages written.
    pub passages_written: usize,
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
    /// Per segment: document id → passage ordinal, `u32::MAX` where unknown.
    doc_map: Vec<Vec<u32>>,
}

/// Key of a passage id as stored in the index.
pub fn passage_key(id: &str) -> u64 {
    fnv1a(id.as_bytes())
}

impl SearchIndex {
    /// Opens the index in `dir`, creating or updating it to match `corpus`.
    ///
    /// `progress` is told how many passages of how many have been written.
    pub fn open(
        dir: &Path,
        corpus: &Corpus,
        passages: &[Passage],
        progress: &dyn Fn(usize, usize),
    ) -> Result<(SearchIndex, SyncReport)> {
        let (schema, fields) = Fields::schema();
        let wanted = fingerprints(corpus, passages);
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
        let fresh: Vec<usize> = corpus
            .essays
            .iter()
            .enumerate()
            .filter(|(_, e)| report.rebuilt || old.get(&e.id) != wanted.get(&e.id))
            .map(|(i, _)| i)
            .collect();
        report.removed = stale.iter().filter(|id| !wanted.contains_key(**id)).count();
        report.changed = stale.len() - report.removed;
        if !report.rebuilt {
            report.added = fresh.len() - report.changed;
        } else {
            report.added = fresh.len();
        }

        if !stale.is_empty() || !fresh.is_empty() {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
            let mut writer: IndexWriter =
                index.writer_with_num_threads(threads, WRITER_HEAP * threads.max(1) / 2)?;
            for id in &stale {
                writer.delete_term(Term::from_field_text(fields.essay, id));
            }
            let fresh_set: std::collections::HashSet<usize> = fresh.iter().copied().collect();
            let todo: Vec<&Passage> = passages
                .iter()
                .filter(|p| fresh_set.contains(&p.essay))
                .collect();
            for (n, passage) in todo.iter().enumerate() {
                let essay = &corpus.essays[passage.essay];
                let mut doc = TantivyDocument::default();
                doc.add_text(fields.body, &passage.text);
                doc.add_text(fields.title, &essay.title);
                if let Some(author) = &essay.author {
                    doc.add_text(fields.author, author);
                }
                doc.add_text(fields.essay, &essay.id);
                doc.add_u64(fields.key, passage_key(&passage.id));
                writer.add_document(doc)?;
                if n % 1000 == 0 {
                    progress(n, todo.len());
                }
            }
            writer.commit()?;
            writer.wait_merging_threads()?;
            progress(todo.len(), todo.len());
            report.passages_written = todo.len();
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
        let by_key: HashMap<u64, u32> = passages
            .iter()
            .enumerate()
            .map(|(i, p)| (passage_key(&p.id), i as u32))
            .collect();
        let mut doc_map = Vec::new();
        for segment in searcher.segment_readers() {
            let keys = segment.fast_fields().u64("key")?;
            let map = (0..segment.max_doc())
                .map(|doc| {
                    keys.first(doc)
                        .and_then(|k| by_key.get(&k).copied())
                        .unwrap_or(u32::MAX)
                })
                .collect();
            doc_map.push(map);
        }
        Ok((
            SearchIndex {
                fields,
                searcher,
                doc_map,
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

    /// The passage ordinal a document stands for.
    pub fn passage_of(&self, addr: DocAddress) -> Option<usize> {
        let ord = *self
            .doc_map
            .get(addr.segment_ord as usize)?
            .get(addr.doc_id as usize)?;
        (ord != u32::MAX).then_some(ord as usize)
    }
}

/// Per essay, a hash of its file and of how it was split into passages, so
/// that a change to either re-indexes the essay.
fn fingerprints(corpus: &Corpus, passages: &[Passage]) -> BTreeMap<String, String> {
    let mut hashes: Vec<Fnv> = corpus
        .essays
        .iter()
        .map(|e| {
            let mut h = Fnv::new();
            h.write(&e.fingerprint.to_le_bytes());
            h
        })
        .collect();
    for p in passages {
        let h = &mut hashes[p.essay];
        h.write(p.id.as_bytes());
        h.write(&(p.text.len() as u64).to_le_bytes());
    }
    corpus
        .essays
        .iter()
        .zip(hashes)
        .map(|(e, h)| (e.id.clone(), format!("{:016x}", h.finish())))
        .collect()
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
