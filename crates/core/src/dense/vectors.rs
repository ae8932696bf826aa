//! Vectors: one unit vector per sentence of every passage, and one for the
//! whole passage when it has several sentences, stored in the index folder,
//! and exact nearest-neighbour search over them.
//!
//! # On disk
//!
//! - `vectors.bin`: rows of [`Row`] bytes, each a vector quantised to `i8`
//!   followed by its scale (`f32`, little-endian). A passage's rows are its
//!   sentences' vectors in order, then, when it has more than one sentence,
//!   the vector of its whole text (see [`rows_of`]). The file only
//!   grows: rows are appended as essays are embedded, and rows of changed or
//!   removed essays become garbage until the file is compacted (rewritten
//!   with only live rows, then renamed over the old one).
//! - `vectors.json`: which model made the rows (the sha256 of its weights)
//!   and, per essay id, its digest and its run of rows. It is written after
//!   the rows it names are synced, by a rename, so a crash loses at most the
//!   rows of the essay being embedded.
//!
//! An essay's rows are reused while its [`Store::digest`] and the model
//! are the same, exactly as the tantivy index reuses its documents; any
//! other essay is embedded again. Search uses the vectors only once every
//! passage has them.
//!
//! # Search
//!
//! A passage's similarity to a question is the best cosine of its rows: of
//! its best sentence, or of the passage as a whole when that is nearer (a
//! question answered by several sentences together). Neither weight nor
//! threshold: on the held-out question batches, taking the larger raised
//! hit@1 from 0.361 to 0.387 and refused fewer answerable questions.
//! [`Vectors::similarities`] computes it for every passage by brute force
//! (`i8` dot products, vectorised by the compiler on the CPU's widest
//! instructions), which is exact and fast enough well past 100k passages.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::dense::embed::{EmbedError, Encoder};
use crate::progress::Progress;
use crate::store::Store;

/// Version of the files' layout; another one means embedding again.
/// (2: a whole-passage row after the sentences of a passage with several.)
const FORMAT: u32 = 2;
/// Rows file and its description, in the index folder.
const ROWS_FILE: &str = "vectors.bin";
const META_FILE: &str = "vectors.json";
/// Sentences embedded between progress reports.
const CHUNK: usize = 1024;
/// Seconds between checkpoints of the description while embedding.
const CHECKPOINT_SECONDS: f64 = 20.0;

/// Errors of the stored vectors.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A vector file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The model failed.
    #[error(transparent)]
    Model(#[from] EmbedError),
}

impl From<VectorError> for crate::error::Error {
    fn from(error: VectorError) -> Self {
        crate::error::Error::Model(Box::new(error))
    }
}

impl VectorError {
    /// What kind of trouble this is, which names the fix.
    pub fn cause(&self) -> crate::answer::ModelTrouble {
        match self {
            VectorError::Io { path, source } => crate::dense::embed::io_trouble(path, source)
                .unwrap_or_else(|| crate::answer::ModelTrouble::Damaged { file: path.clone() }),
            VectorError::Model(e) => e.cause(),
        }
    }
}

type Result<T> = std::result::Result<T, VectorError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VectorError + '_ {
    move |source| VectorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The description of `vectors.bin`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Meta {
    format: u32,
    /// The sha256 of the model's weights.
    model: String,
    dim: usize,
    /// Per essay id: its digest and rows.
    essays: BTreeMap<String, EssayRows>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct EssayRows {
    digest: String,
    /// The essay's first row.
    first: u64,
    /// Sentences per passage, in order (see [`rows_of`] for its rows).
    sentences: Vec<u32>,
}

impl EssayRows {
    fn rows(&self) -> u64 {
        self.sentences.iter().map(|&n| u64::from(rows_of(n))).sum()
    }
}

/// The rows of a passage of `sentences` sentences: one per sentence, and one
/// for the whole passage when it has more than one (with one, the two are
/// the same text).
fn rows_of(sentences: u32) -> u32 {
    sentences + u32::from(sentences > 1)
}

/// Bytes of one stored row: the quantised vector, then its scale.
#[derive(Debug, Clone, Copy)]
struct Row {
    dim: usize,
}

impl Row {
    fn bytes(self) -> usize {
        self.dim + 4
    }
}

/// What [`Vectors::open`] found, and what embedding brought.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorReport {
    /// Essays whose vectors were reused.
    pub reused: usize,
    /// Essays that were (or still are to be) embedded.
    pub embedded: usize,
    /// Rows embedded: sentences, and passages of several sentences.
    pub rows: usize,
    /// Tokens run through the model.
    pub tokens: u64,
    /// Seconds spent embedding.
    pub seconds: f64,
}

/// The stored sentence vectors of a corpus.
pub(crate) struct Vectors {
    dir: PathBuf,
    row: Row,
    meta: Meta,
    /// The rows file, mapped; `None` while it is empty.
    map: Option<memmap2::Mmap>,
    /// Per passage (by ordinal): its first row and its number of sentences;
    /// empty until every essay has rows.
    passages: Vec<(u64, u32)>,
    /// Essays (store indexes) with no rows yet.
    missing: Vec<usize>,
}

impl std::fmt::Debug for Vectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vectors")
            .field("dir", &self.dir)
            .field("essays", &self.meta.essays.len())
            .field("missing", &self.missing.len())
            .finish()
    }
}

impl Vectors {
    /// Opens the vectors in `dir` for `store`, made by the model whose
    /// weights have sha256 `model`: every essay whose digest matches keeps
    /// its rows; the others are left [`Vectors::missing`]. Unreadable or
    /// foreign files count as empty (everything is embedded again).
    pub fn open(dir: &Path, store: &Store, model: &str, dim: usize) -> Result<Vectors> {
        let meta_path = dir.join(META_FILE);
        let row = Row { dim };
        let rows_path = dir.join(ROWS_FILE);
        let rows_len = std::fs::metadata(&rows_path).map(|m| m.len()).unwrap_or(0);
        let meta = std::fs::read_to_string(&meta_path)
            .ok()
            .and_then(|text| serde_json::from_str::<Meta>(&text).ok())
            .filter(|m| m.format == FORMAT && m.model == model && m.dim == dim)
            .filter(|m| {
                m.essays
                    .values()
                    .all(|e| (e.first + e.rows()) * row.bytes() as u64 <= rows_len)
            })
            .unwrap_or_else(|| Meta {
                format: FORMAT,
                model: model.to_string(),
                dim,
                essays: BTreeMap::new(),
            });
        let mut vectors = Vectors {
            dir: dir.to_path_buf(),
            row,
            meta,
            map: None,
            passages: Vec::new(),
            missing: Vec::new(),
        };
        if vectors.meta.essays.is_empty() && rows_len > 0 {
            // Rows nobody describes: start the file again.
            std::fs::remove_file(&rows_path).map_err(io(&rows_path))?;
        }
        vectors.remap()?;
        vectors.settle(store);
        Ok(vectors)
    }

    /// How many passages of `store` have no vectors yet.
    pub fn missing_passages(&self, store: &Store) -> usize {
        self.missing
            .iter()
            .map(|&e| store.passages_of(e).len())
            .sum()
    }

    /// True when every passage has vectors, so search may use them.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// Recomputes which essays lack rows and, when none does, where each
    /// passage's rows are. Rows recorded for another number of passages
    /// count as missing.
    fn settle(&mut self, store: &Store) {
        self.missing.clear();
        self.passages.clear();
        let mut passages = Vec::with_capacity(store.len());
        for e in 0..store.essay_count() {
            match self.meta.essays.get(&store.essay(e).id) {
                Some(rows)
                    if rows.digest == store.digest(e)
                        && rows.sentences.len() == store.passages_of(e).len() =>
                {
                    let mut next = rows.first;
                    for &n in &rows.sentences {
                        passages.push((next, n));
                        next += u64::from(rows_of(n));
                    }
                }
                _ => self.missing.push(e),
            }
        }
        if self.missing.is_empty() {
            self.passages = passages;
        }
    }

    fn remap(&mut self) -> Result<()> {
        let path = self.dir.join(ROWS_FILE);
        self.map = match File::open(&path) {
            Ok(file) if file.metadata().map_err(io(&path))?.len() > 0 => {
                // SAFETY: the rows file is only ever appended to or replaced by
                // a rename, never truncated or rewritten in place, so the
                // mapped bytes do not change under us.
                Some(unsafe { memmap2::Mmap::map(&file) }.map_err(io(&path))?)
            }
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(())
    }

    /// Embeds the sentences of every missing essay with `encoder`, appending
    /// their rows, and records them; reports progress as passages embedded.
    /// Essays are recorded as they complete, so an interrupted run resumes
    /// where it stopped.
    pub fn fill(
        &mut self,
        store: &Store,
        encoder: &Encoder,
        progress: &dyn Fn(Progress),
    ) -> Result<VectorReport> {
        let mut report = VectorReport {
            reused: store.essay_count() - self.missing.len(),
            embedded: self.missing.len(),
            ..VectorReport::default()
        };
        if self.missing.is_empty() {
            if self.meta.essays.len() > store.essay_count() {
                self.forget_removed(store);
                self.write_meta()?;
            }
            return Ok(report);
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        self.compact_if_wasteful(store)?;
        let rows_path = self.dir.join(ROWS_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&rows_path)
            .map_err(io(&rows_path))?;
        let mut next_row = file.metadata().map_err(io(&rows_path))?.len() / self.row.bytes() as u64;
        let total: usize = self
            .missing
            .iter()
            .map(|&e| store.passages_of(e).len())
            .sum();
        let started = Instant::now();
        let mut last_checkpoint = Instant::now();
        let mut done = 0;
        progress(Progress::Embed {
            done,
            total,
            tokens: 0,
            seconds: 0.0,
        });
        for &essay in &self.missing.clone() {
            let first = next_row;
            let mut texts: Vec<String> = Vec::new();
            let passages = store.passages_of(essay);
            let mut ends = Vec::new();
            let mut sentences = Vec::new();
            for p in passages.clone() {
                let passage = store.passage(p);
                texts.extend(
                    passage
                        .sentences
                        .iter()
                        .map(|s| passage.text[s.clone()].to_string()),
                );
                if passage.sentences.len() > 1 {
                    texts.push(passage.text.clone());
                }
                ends.push(texts.len());
                sentences.push(passage.sentences.len() as u32);
            }
            let mut buffer = Vec::with_capacity(texts.len() * self.row.bytes());
            for chunk_start in (0..texts.len()).step_by(CHUNK) {
                let chunk = &texts[chunk_start..(chunk_start + CHUNK).min(texts.len())];
                let tokens = chunk
                    .iter()
                    .map(|t| encoder.tokenize(t))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                report.tokens += tokens.iter().map(|t| t.len() as u64).sum::<u64>();
                for vector in encoder.encode_tokens(&tokens)? {
                    push_row(&mut buffer, &vector);
                }
                report.rows += chunk.len();
                let embedded = chunk_start + chunk.len();
                let passages_done = ends.iter().take_while(|&&end| end <= embedded).count();
                progress(Progress::Embed {
                    done: done + passages_done,
                    total,
                    tokens: report.tokens,
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            file.write_all(&buffer).map_err(io(&rows_path))?;
            next_row += texts.len() as u64;
            done += passages.len();
            self.meta.essays.insert(
                store.essay(essay).id.clone(),
                EssayRows {
                    digest: store.digest(essay).to_string(),
                    first,
                    sentences,
                },
            );
            if last_checkpoint.elapsed().as_secs_f64() > CHECKPOINT_SECONDS {
                file.sync_data().map_err(io(&rows_path))?;
                self.write_meta()?;
                last_checkpoint = Instant::now();
            }
        }
        file.sync_data().map_err(io(&rows_path))?;
        self.forget_removed(store);
        self.write_meta()?;
        report.seconds = started.elapsed().as_secs_f64();
        self.remap()?;
        self.settle(store);
        Ok(report)
    }

    /// Drops the records of essays the store no longer has.
    fn forget_removed(&mut self, store: &Store) {
        self.meta
            .essays
            .retain(|id, _| store.essay_by_id(id).is_some());
    }

    /// Rewrites the rows file with only the rows of current essays when more
    /// than half of it is garbage.
    fn compact_if_wasteful(&mut self, store: &Store) -> Result<()> {
        self.forget_removed(store);
        let Some(map) = &self.map else {
            return Ok(());
        };
        let bytes = self.row.bytes();
        let stored = map.len() / bytes;
        let live: u64 = self.meta.essays.values().map(EssayRows::rows).sum();
        if (live as usize) * 2 >= stored {
            return Ok(());
        }
        let tmp = self.dir.join(format!("{ROWS_FILE}.tmp"));
        let mut out = std::io::BufWriter::new(File::create(&tmp).map_err(io(&tmp))?);
        let mut next = 0;
        for rows in self.meta.essays.values_mut() {
            let start = rows.first as usize * bytes;
            let count = rows.rows();
            out.write_all(&map[start..start + count as usize * bytes])
                .map_err(io(&tmp))?;
            rows.first = next;
            next += count;
        }
        let file = out.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&tmp))?;
        let path = self.dir.join(ROWS_FILE);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        self.write_meta()?;
        self.remap()
    }

    fn write_meta(&self) -> Result<()> {
        let path = self.dir.join(META_FILE);
        let tmp = self.dir.join(format!("{META_FILE}.tmp"));
        let text = serde_json::to_string(&self.meta).expect("the description serialises");
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    fn rows(&self, range: Range<u64>) -> &[u8] {
        let bytes = self.row.bytes();
        let map = self.map.as_deref().unwrap_or(&[]);
        &map[range.start as usize * bytes..range.end as usize * bytes]
    }

    /// The rows of `passage`'s sentences (not its whole-passage row).
    fn sentence_rows(&self, passage: usize) -> &[u8] {
        let (first, n) = self.passages[passage];
        self.rows(first..first + u64::from(n))
    }

    /// Each passage's similarity to `query` (a unit vector): the best
    /// cosine of its rows, its sentences' and its own. Empty until the
    /// vectors are complete.
    pub fn similarities(&self, query: &[f32]) -> Vec<f32> {
        let query = Quantised::new(query);
        let bytes = self.row.bytes();
        self.passages
            .iter()
            .map(|&(first, n)| {
                self.rows(first..first + u64::from(rows_of(n)))
                    .chunks_exact(bytes)
                    .map(|row| query.cosine(row))
                    .fold(-1.0, f32::max)
            })
            .collect()
    }

    /// The cosine of each sentence of `passage` to `query`, in order.
    pub fn sentence_similarities(&self, passage: usize, query: &[f32]) -> Vec<f32> {
        if passage >= self.passages.len() {
            return Vec::new();
        }
        let query = Quantised::new(query);
        self.sentence_rows(passage)
            .chunks_exact(self.row.bytes())
            .map(|row| query.cosine(row))
            .collect()
    }
}

/// Appends `vector` as a row: `i8` values scaled so the largest magnitude is 127, then the scale.
fn push_row(buffer: &mut Vec<u8>, vector: &[f32]) {
    let max = vector.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    buffer.extend(
        vector
            .iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8 as u8),
    );
    buffer.extend_from_slice(&scale.to_le_bytes());
}

/// A question vector quantised like the rows, for integer dot products.
struct Quantised {
    values: Vec<i8>,
    scale: f32,
}

impl Quantised {
    fn new(vector: &[f32]) -> Quantised {
        let mut row = Vec::with_capacity(vector.len() + 4);
        push_row(&mut row, vector);
        let scale = f32::from_le_bytes(row[vector.len()..].try_into().expect("four bytes"));
        Quantised {
            values: row[..vector.len()].iter().map(|&b| b as i8).collect(),
            scale,
        }
    }

    /// The cosine to a stored row (both are unit vectors before quantising).
    fn cosine(&self, row: &[u8]) -> f32 {
        let (values, scale) = row.split_at(self.values.len());
        let scale = f32::from_le_bytes(scale.try_into().expect("four bytes"));
        dot(&self.values, values) as f32 * self.scale * scale
    }
}

/// The integer dot product of two `i8` vectors (the row given as bytes),
/// on AVX2 when the CPU has it.
fn dot(a: &[i8], b: &[u8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: `dot_avx2` needs AVX2, which the CPU has (checked just above).
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_any(a, b)
}

/// [`dot`] compiled for AVX2 (32 bytes at a time); chosen at run time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[i8], b: &[u8]) -> i32 {
    dot_any(a, b)
}

#[inline(always)]
fn dot_any(a: &[i8], b: &[u8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y as i8))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
        values.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn quantised_cosines_are_close_to_exact_ones() {
        let mut state = 7u64;
        let mut random = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        for _ in 0..200 {
            let a = unit(&(0..384).map(|_| random()).collect::<Vec<_>>());
            let b = unit(&(0..384).map(|_| random() + 0.3 * a[0]).collect::<Vec<_>>());
            let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let mut row = Vec::new();
            push_row(&mut row, &b);
            let approx = Quantised::new(&a).cosine(&row);
            assert!((exact - approx).abs() < 0.01, "{exact} vs {approx}");
        }
    }

    /// `dot_avx2` gives `dot_any`'s sums (integers: exactly), at lengths
    /// that are and are not whole registers, up to the extremes of `i8`.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_dot_product_matches_the_portable_one() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("dot_avx2: not checked, this CPU lacks avx2");
            return;
        }
        let mut state = 3u64;
        let mut byte = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        };
        for len in [0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 384, 385, 1000] {
            let a: Vec<i8> = (0..len).map(|_| byte() as i8).collect();
            let b: Vec<u8> = (0..len).map(|_| byte()).collect();
            // SAFETY: the CPU has AVX2 (checked above).
            let fast = unsafe { dot_avx2(&a, &b) };
            assert_eq!(fast, dot_any(&a, &b), "length {len}");
            let low = vec![i8::MIN; len];
            let high = vec![i8::MIN as u8; len];
            // SAFETY: as above.
            let fast = unsafe { dot_avx2(&low, &high) };
            assert_eq!(fast, dot_any(&low, &high), "length {len}, extremes");
        }
    }

    /// The shared copy of the model that tests, benchmarks and CI use.
    fn shared_encoder() -> Encoder {
        Encoder::load(&crate::dense::embed::ModelFiles {
            dir: crate::test_paths::model(),
            name: "all-MiniLM-L6-v2".into(),
        })
        .unwrap()
    }

    /// Opens the vectors of the corpus in `corpus`, stored in `index`, and
    /// fills what is missing; returns them with the fill's report.
    fn filled(corpus: &Path, index: &Path, encoder: &Encoder) -> (Store, Vectors, VectorReport) {
        let (store, _) = Store::load(corpus, true, None, None).unwrap();
        let mut vectors = Vectors::open(index, &store, "test-model", encoder.dim()).unwrap();
        let report = vectors
            .fill(&store, encoder, &crate::progress::silent)
            .unwrap();
        assert!(vectors.complete());
        (store, vectors, report)
    }

    /// A passage of several sentences is also embedded whole: its
    /// similarity is the best of its sentences' cosines and its own, while
    /// quoting still sees one cosine per sentence.
    #[test]
    fn a_passage_of_several_sentences_is_also_embedded_whole() {
        let encoder = shared_encoder();
        let corpus = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        std::fs::write(
            corpus.path().join("two.md"),
            "+++\ntitle = \"Two\"\nauthor = \"A. Writer\"\n+++\n\n\
             The harbour froze early that year. Ships waited outside for weeks.\n\n\
             Bread was scarce.\n",
        )
        .unwrap();
        let (store, vectors, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!(store.len(), 2);
        assert_eq!(
            report.rows,
            2 + 1 + 1,
            "two sentences and their passage, then one"
        );
        let question = encoder
            .encode(&["Why could the ships not enter the frozen port?"])
            .unwrap()
            .remove(0);
        let cos = |text: &str| -> f32 {
            let v = encoder.encode(&[text]).unwrap().remove(0);
            v.iter().zip(&question).map(|(a, b)| a * b).sum()
        };
        let similarity = vectors.similarities(&question);
        let sentences = vectors.sentence_similarities(0, &question);
        assert_eq!(
            sentences.len(),
            2,
            "one cosine per sentence, not the passage's"
        );
        let whole = cos(&store.passage(0).text);
        let best_sentence = sentences.iter().copied().fold(f32::MIN, f32::max);
        assert!(
            (similarity[0] - whole.max(best_sentence)).abs() < 0.02,
            "{} against max({whole}, {best_sentence})",
            similarity[0]
        );
        assert_eq!(vectors.sentence_similarities(1, &question).len(), 1);
    }

    /// Like the tantivy index: unchanged essays keep their rows, changed
    /// ones are embedded again, removed ones are dropped, and another model
    /// or a damaged description means embedding everything again.
    #[test]
    fn vectors_follow_the_corpus_essay_by_essay() {
        let encoder = shared_encoder();
        let corpus = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        for name in ["romberg-thehill-2014.md", "shirk-time-2022.md"] {
            std::fs::copy(
                crate::test_paths::shipped_corpus().join(name),
                corpus.path().join(name),
            )
            .unwrap();
        }
        let (store, vectors, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!((report.reused, report.embedded), (0, 2));
        let question = encoder
            .encode(&["Why does China matter?"])
            .unwrap()
            .remove(0);
        let before = vectors.similarities(&question);
        assert_eq!(before.len(), store.len());

        // Reopened as it is: nothing to embed, the same similarities.
        let (_, again, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!((report.reused, report.embedded, report.rows), (2, 0, 0));
        assert_eq!(again.similarities(&question), before);

        // One essay edited: only it is embedded again.
        let edited = corpus.path().join("shirk-time-2022.md");
        let text = std::fs::read_to_string(&edited).unwrap();
        std::fs::write(&edited, text.replacen("China", "The People's Republic", 1)).unwrap();
        let (store, vectors, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!((report.reused, report.embedded), (1, 1));
        let romberg = store.essay_by_id("romberg-thehill-2014").unwrap();
        let after = vectors.similarities(&question);
        for p in store.passages_of(romberg) {
            assert_eq!(after[p], before[p], "an unchanged essay keeps its vectors");
        }

        // One essay removed: it is forgotten, the other's rows stay.
        std::fs::remove_file(corpus.path().join("romberg-thehill-2014.md")).unwrap();
        let (store, vectors, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!((report.reused, report.embedded), (1, 0));
        assert_eq!(vectors.meta.essays.len(), 1);
        assert_eq!(vectors.similarities(&question).len(), store.len());

        // Another model: everything again.
        let (store, _) = Store::load(corpus.path(), true, None, None).unwrap();
        let other = Vectors::open(index.path(), &store, "other-model", encoder.dim()).unwrap();
        assert!(!other.complete());

        // A damaged description: everything again, never wrong vectors.
        std::fs::write(index.path().join(META_FILE), "{not json").unwrap();
        let (_, _, report) = filled(corpus.path(), index.path(), &encoder);
        assert_eq!((report.reused, report.embedded), (0, 1));
    }

    /// A description that names rows past the end of the file (a crash
    /// between the two writes, or a truncated copy) is not trusted.
    #[test]
    fn rows_missing_from_the_file_mean_embedding_again() {
        let encoder = shared_encoder();
        let corpus = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        std::fs::copy(
            crate::test_paths::shipped_corpus().join("shirk-time-2022.md"),
            corpus.path().join("shirk-time-2022.md"),
        )
        .unwrap();
        let (store, _, _) = filled(corpus.path(), index.path(), &encoder);
        let rows = index.path().join(ROWS_FILE);
        let len = std::fs::metadata(&rows).unwrap().len();
        let file = OpenOptions::new().write(true).open(&rows).unwrap();
        file.set_len(len / 2).unwrap();
        drop(file);
        let vectors = Vectors::open(index.path(), &store, "test-model", encoder.dim()).unwrap();
        assert!(!vectors.complete());
        assert!(vectors.similarities(&[0.0; 384]).is_empty());
    }

    #[test]
    fn the_simd_dot_product_matches_the_plain_one() {
        let a: Vec<i8> = (0..384).map(|i| ((i * 37) % 255) as i8).collect();
        let b: Vec<u8> = (0..384).map(|i| ((i * 91) % 256) as u8).collect();
        assert_eq!(dot(&a, &b), dot_any(&a, &b));
    }
}
