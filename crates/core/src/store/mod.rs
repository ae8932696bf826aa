//! Store: the loaded essays and how they divide into passages.
//!
//! Passages are numbered in corpus order; that number, a passage's
//! *ordinal*, is how the index, search and lookup name passages. The store
//! maps an ordinal to its essay, paragraph, text and sentences, and a
//! passage id ([`PassageId`], parsed and formatted only here) to its
//! ordinal, and it makes the [`Passage`] values handed out.
//!
//! [`Store::load`] fills it from the corpus folder. A reload shares, with the
//! store it came from, every essay whose file did not change, and records
//! which essays it added, changed and removed ([`Store::changes`]) so that
//! what is derived from passages can follow the same steps.
//!
//! A first load starts instead from the [`snapshot`] saved beside the
//! index: an essay whose file's stamps are those saved is not read, and its
//! text and passage layout are decoded from the mapped snapshot (on every
//! core), which costs far less than parsing. A file whose stamps changed is
//! read; it is parsed again only when its bytes did. An essay whose saved
//! copy is damaged is read from its file again; if the file changed since,
//! the load is an [`Error::Damaged`] naming it.

mod snapshot;

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::hash::Hasher;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::answer::Passage;
use crate::corpus::{self, Essay, FileStamp, IdAllocator, Warning};
use crate::error::{Error, Result};
use crate::passage::Layout;
use crate::text::analysis::terms;
use crate::text::names::stable_hash;
use snapshot::{Head, Raw, Snapshot};

/// Below this many files to read, reading in parallel is not worth waking threads for.
const PARALLEL_READ_FROM: usize = 64;

/// The essays of a corpus, with their passages.
pub(crate) struct Store {
    /// The essays in corpus order; shared with the store a reload came from,
    /// for files that did not change.
    essays: Vec<Arc<Loaded>>,
    /// Per essay, the ordinal of its first passage; one more entry at the end
    /// holding the number of passages.
    starts: Vec<usize>,
    /// Essay id → essay index.
    by_id: HashMap<String, usize>,
    /// What this store changed from the one it was reloaded from.
    changes: Changes,
    /// The snapshot in the index folder holds exactly this store.
    saved: bool,
}

/// One essay as loaded: its [`Head`], and its text and layout parsed from
/// its file or decoded from a snapshot (by [`restore`], before a load returns).
#[derive(Debug, Clone)]
struct Loaded {
    head: Head,
    body: OnceLock<Body>,
    /// The analysed terms of the title and author, which count towards a question's coverage.
    title_terms: OnceLock<HashSet<String>>,
    /// The snapshot holding this essay, and its place there.
    saved: Option<(Arc<Snapshot>, usize)>,
}

/// An essay's text and how it divides into passages.
#[derive(Debug, Clone)]
struct Body {
    essay: Essay,
    layout: Layout,
}

impl Loaded {
    /// An essay just parsed from the file at `stamp`, read at `read_at`.
    fn parsed(essay: Essay, stamp: FileStamp, read_at: SystemTime) -> Loaded {
        let layout = Layout::of(&essay);
        let head = Head {
            id: essay.id.clone(),
            digest: digest(&essay, &layout),
            fingerprint: essay.fingerprint,
            reusable: !stamp.is_racy(read_at),
            passages: layout.len() as u32,
            stamp,
        };
        Loaded {
            head,
            body: OnceLock::from(Body { essay, layout }),
            title_terms: OnceLock::new(),
            saved: None,
        }
    }

    /// Essay `index` of `snapshot`, read when first needed.
    fn saved(head: Head, snapshot: &Arc<Snapshot>, index: usize) -> Loaded {
        Loaded {
            head,
            body: OnceLock::new(),
            title_terms: OnceLock::new(),
            saved: Some((Arc::clone(snapshot), index)),
        }
    }

    /// Reads the file at `stamp`; a file that is not a usable essay is a
    /// [`Warning`]. When its bytes are those `old` was parsed from, `old`
    /// is kept, with the new stamp, and nothing is parsed.
    fn read(dir: &Path, stamp: FileStamp, old: Option<&Loaded>) -> Result<Result<Loaded, Warning>> {
        let read_at = SystemTime::now();
        let bytes = corpus::read(dir, &stamp)?;
        if let Some(old) = old.filter(|old| old.head.fingerprint == stable_hash(&bytes)) {
            let mut kept = old.clone();
            kept.head.reusable = !stamp.is_racy(read_at);
            kept.head.stamp = stamp;
            return Ok(Ok(kept));
        }
        Ok(corpus::parse(dir, &stamp, &bytes).map(|essay| Loaded::parsed(essay, stamp, read_at)))
    }

    /// This essay under the id `id`.
    fn renamed(mut self, id: String) -> Loaded {
        if let Some(body) = self.body.get_mut() {
            body.essay.id = id.clone();
        }
        self.head.id = id;
        self
    }

    /// The essay's text and layout.
    fn body(&self) -> &Body {
        self.body
            .get()
            .expect("a load restores every essay before it returns")
    }

    /// The body from the snapshot; from the essay's file again when the
    /// saved copy is damaged, unless the file changed since it was saved.
    fn restore(&self, dir: &Path) -> Result<Body> {
        if let Some((snapshot, i)) = &self.saved {
            if let Some((essay, layout)) = snapshot.essay(*i, &self.head) {
                return Ok(Body { essay, layout });
            }
            snapshot.discard();
        }
        tracing::warn!(file = %self.head.stamp.file, "saved copy of an essay is damaged; reading its file again");
        let damaged = |reason: String| Error::Damaged {
            path: dir.join(&self.head.stamp.file),
            reason,
        };
        let bytes = corpus::read(dir, &self.head.stamp)
            .map_err(|e| damaged(format!("cannot be read ({e})")))?;
        if stable_hash(&bytes) != self.head.fingerprint {
            return Err(damaged("changed since it was read".into()));
        }
        let mut essay = corpus::parse(dir, &self.head.stamp, &bytes)
            .map_err(|w| damaged(format!("no longer parses ({w})")))?;
        essay.id = self.head.id.clone();
        let layout = Layout::of(&essay);
        Ok(Body { essay, layout })
    }

    /// The analysed terms of the title and author.
    fn title_terms(&self) -> &HashSet<String> {
        self.title_terms.get_or_init(|| {
            let essay = &self.body().essay;
            title_terms(&essay.title, essay.author.as_deref())
        })
    }

    /// The essay's record for a new snapshot.
    fn raw(&self) -> Raw<'_> {
        if let Some((snapshot, i)) = &self.saved
            && let Some(raw) = snapshot.raw(*i)
        {
            return raw;
        }
        let body = self.body();
        Raw::encode(&body.essay, &body.layout)
    }
}

/// Which essays, by id, were added, changed or removed between two states of a corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Essays that are new.
    pub added: Vec<String>,
    /// Essays whose file or passages changed.
    pub changed: Vec<String>,
    /// Essays that are gone.
    pub removed: Vec<String>,
}

impl Changes {
    /// The changes from `before` to `after`, both maps from essay id to
    /// [`Store::digest`] (as a store has them, or as something derived from
    /// it recorded them); each list is sorted by id.
    pub fn between<K1, V1, K2, V2>(before: &BTreeMap<K1, V1>, after: &BTreeMap<K2, V2>) -> Changes
    where
        K1: Borrow<str> + Ord,
        V1: Borrow<str>,
        K2: Borrow<str> + Ord,
        V2: Borrow<str>,
    {
        let mut changes = Changes::default();
        for (id, digest) in after {
            let id = id.borrow();
            match before.get(id) {
                None => changes.added.push(id.to_string()),
                Some(old) if old.borrow() != digest.borrow() => {
                    changes.changed.push(id.to_string());
                }
                Some(_) => {}
            }
        }
        changes.removed = before
            .keys()
            .map(|id| id.borrow())
            .filter(|id| !after.contains_key(*id))
            .map(str::to_string)
            .collect();
        changes
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Where a file of the corpus comes from in a load.
enum Slot {
    /// Kept from the essays a load starts from: its index there.
    Kept(usize),
    /// Read from disk: the next of the files read.
    Read,
}

impl Store {
    /// Loads the essays of `dir`; with `previous`, files that did not change
    /// since it read them are not read again; without, the same holds of
    /// the snapshot in the folder `saved`, if there is a sound one.
    ///
    /// Files whose size, modification time, inode and status-change time are
    /// as they were when `previous` (or the snapshot) read them are shared
    /// with it. A file modified within a second of being read is always read
    /// again, so that a second edit in the same clock tick is not missed. A
    /// file read again whose bytes did not change is not parsed again.
    ///
    /// Bad files are returned as warnings; with `strict`, any is an error,
    /// and so is a folder without a usable essay.
    pub fn load(
        dir: &Path,
        strict: bool,
        previous: Option<&Store>,
        saved: Option<&Path>,
    ) -> Result<(Store, Vec<Warning>)> {
        let (from, on_disk) = match previous {
            Some(store) => (store.essays.clone(), store.saved),
            None => match saved.and_then(Snapshot::open) {
                Some((snapshot, heads)) => {
                    let essays = heads
                        .into_iter()
                        .enumerate()
                        .map(|(i, head)| Arc::new(Loaded::saved(head, &snapshot, i)))
                        .collect();
                    (essays, true)
                }
                None => (Vec::new(), false),
            },
        };
        let (slots, to_read) = plan_reads(corpus::scan(dir)?, &from);
        let read = read_all(dir, to_read)?;
        let (essays, warnings) = assemble(slots, read, &from);
        check(dir, strict, essays.len(), &warnings)?;
        restore(dir, &essays)?;
        let unchanged =
            essays.len() == from.len() && essays.iter().zip(&from).all(|(a, b)| Arc::ptr_eq(a, b));
        let mut store = Store::new(essays, previous);
        store.saved = on_disk && unchanged;
        Ok((store, warnings))
    }

    fn new(essays: Vec<Arc<Loaded>>, previous: Option<&Store>) -> Store {
        let mut starts = Vec::with_capacity(essays.len() + 1);
        let mut total = 0;
        for loaded in &essays {
            starts.push(total);
            total += loaded.head.passages as usize;
        }
        starts.push(total);
        let by_id = essays
            .iter()
            .enumerate()
            .map(|(i, e)| (e.head.id.clone(), i))
            .collect();
        let mut store = Store {
            essays,
            starts,
            by_id,
            changes: Changes::default(),
            saved: false,
        };
        let before = previous.map(Store::digests).unwrap_or_default();
        let changes = Changes::between(&before, &store.digests());
        store.changes = changes;
        store
    }

    /// Writes the snapshot of this store to the folder `dir` (the index
    /// folder), unless the one there already holds it.
    pub fn save(&mut self, dir: &Path) -> std::io::Result<()> {
        if self.saved {
            return Ok(());
        }
        let essays = self
            .essays
            .iter()
            .map(|loaded| (&loaded.head, loaded.raw()));
        snapshot::write(dir, essays)?;
        self.saved = true;
        Ok(())
    }

    /// The number of passages.
    pub fn len(&self) -> usize {
        *self.starts.last().expect("starts ends with the total")
    }

    /// The number of essays.
    pub fn essay_count(&self) -> usize {
        self.essays.len()
    }

    /// The essays, in corpus order.
    pub fn essays(&self) -> impl ExactSizeIterator<Item = &Essay> + '_ {
        (0..self.essays.len()).map(|e| self.essay(e))
    }

    /// The essay at index `essay`.
    pub fn essay(&self, essay: usize) -> &Essay {
        &self.body(essay).essay
    }

    /// The id of the essay at index `essay`, without reading its text.
    pub fn id(&self, essay: usize) -> &str {
        &self.essays[essay].head.id
    }

    fn body(&self, essay: usize) -> &Body {
        self.essays[essay].body()
    }

    /// The index of the essay with id `id`.
    pub fn essay_by_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// How essay `essay` divides into passages.
    pub fn layout(&self, essay: usize) -> &Layout {
        &self.body(essay).layout
    }

    /// The analysed terms of essay `essay`'s title and author.
    pub fn title_terms(&self, essay: usize) -> &HashSet<String> {
        self.essays[essay].title_terms()
    }

    /// A hash of essay `essay`'s file and of how it divides into passages:
    /// what a structure derived from passages records, to notice that an
    /// essay needs doing again.
    pub fn digest(&self, essay: usize) -> &str {
        &self.essays[essay].head.digest
    }

    /// Every essay's id with its [`Store::digest`].
    pub fn digests(&self) -> BTreeMap<&str, &str> {
        (0..self.essay_count())
            .map(|e| (self.id(e), self.digest(e)))
            .collect()
    }

    /// What this store added, changed and removed from the one it was
    /// reloaded from; on a first load, every essay is added.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The ordinals of essay `essay`'s passages.
    pub fn passages_of(&self, essay: usize) -> Range<usize> {
        self.starts[essay]..self.starts[essay + 1]
    }

    /// The index of the essay passage `ordinal` belongs to.
    pub fn essay_of(&self, ordinal: usize) -> usize {
        self.locate(ordinal).0
    }

    /// The essay index and the passage's index within the essay.
    fn locate(&self, ordinal: usize) -> (usize, usize) {
        let essay = self.starts.partition_point(|&s| s <= ordinal) - 1;
        (essay, ordinal - self.starts[essay])
    }

    /// The text of passage `ordinal`.
    pub fn text(&self, ordinal: usize) -> &str {
        let (e, i) = self.locate(ordinal);
        let body = self.body(e);
        body.layout.text(&body.essay, i)
    }

    /// Passage `ordinal`, made for handing out.
    pub fn passage(&self, ordinal: usize) -> Passage {
        let (e, i) = self.locate(ordinal);
        let loaded = self.body(e);
        let (paragraph, window) = loaded.layout.position(i);
        let range = loaded.layout.range(i);
        Passage {
            id: PassageId {
                essay: &loaded.essay.id,
                paragraph,
                window,
            }
            .to_string(),
            essay: e,
            paragraph,
            window,
            text: loaded.essay.paragraphs.text()[range.clone()].to_string(),
            sentences: loaded
                .layout
                .sentences(i)
                .map(|s| s.start - range.start..s.end - range.start)
                .collect(),
        }
    }

    /// The ordinal of the passage with id `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        let id = PassageId::parse(id)?;
        let e = self.essay_by_id(id.essay)?;
        let i = self.layout(e).find(id.paragraph, id.window)?;
        Some(self.starts[e] + i)
    }

    /// The passages just before and just after passage `ordinal` in its essay.
    pub fn neighbours(&self, ordinal: usize) -> (Option<usize>, Option<usize>) {
        let essay = self.passages_of(self.essay_of(ordinal));
        let before = ordinal.checked_sub(1).filter(|i| essay.contains(i));
        let after = Some(ordinal + 1).filter(|i| essay.contains(i));
        (before, after)
    }

    /// The essay index and paragraph number (from 1) of passage `ordinal`.
    pub fn paragraph_of(&self, ordinal: usize) -> (usize, u32) {
        let (e, i) = self.locate(ordinal);
        (e, self.layout(e).position(i).0)
    }

    /// The whole paragraph passage `ordinal` belongs to (more than the
    /// passage when the paragraph was split into windows).
    pub fn paragraph(&self, ordinal: usize) -> &str {
        let (e, paragraph) = self.paragraph_of(ordinal);
        &self.essay(e).paragraphs[paragraph as usize - 1]
    }

    /// The passage of passage `ordinal`'s paragraph that holds byte `offset`
    /// of the paragraph's text (see [`Store::paragraph`]): the last one
    /// starting at or before it.
    pub fn window_at(&self, ordinal: usize, offset: usize) -> usize {
        let (e, paragraph) = self.paragraph_of(ordinal);
        let loaded = self.body(e);
        let start = loaded
            .essay
            .paragraphs
            .range(paragraph as usize - 1)
            .expect("a passage's paragraph exists")
            .start;
        let windows = loaded.layout.paragraph(paragraph);
        let first = windows.start;
        let holder = windows
            .take_while(|&w| w == first || loaded.layout.range(w).start <= start + offset)
            .last()
            .expect("a paragraph has a passage");
        self.starts[e] + holder
    }
}

/// A passage's id: `<essay>_<paragraph>`, or `<essay>_<paragraph>-<window>`
/// for a window of a long paragraph. Short enough for a `/start` deep link
/// and a button payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PassageId<'a> {
    /// The essay id.
    pub essay: &'a str,
    /// Paragraph number, from 1.
    pub paragraph: u32,
    /// Window, from 1; 0 for a whole paragraph.
    pub window: u16,
}

impl<'a> PassageId<'a> {
    /// Parses an id as [`fmt::Display`] writes it; anything else (leading
    /// zeros, a window of 0) is not an id.
    pub fn parse(id: &'a str) -> Option<PassageId<'a>> {
        let (essay, rest) = id.rsplit_once('_')?;
        let (paragraph, window) = match rest.split_once('-') {
            Some((p, w)) => (p.parse().ok()?, w.parse().ok()?),
            None => (rest.parse().ok()?, 0),
        };
        let parsed = PassageId {
            essay,
            paragraph,
            window,
        };
        (parsed.to_string() == id).then_some(parsed)
    }
}

impl fmt::Display for PassageId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.window == 0 {
            write!(f, "{}_{}", self.essay, self.paragraph)
        } else {
            write!(f, "{}_{}-{}", self.essay, self.paragraph, self.window)
        }
    }
}

/// A file to read, with the essay it was, if it may turn out unchanged.
type ToRead = (FileStamp, Option<Arc<Loaded>>);

/// Which files to take from the essays a load starts from, and which to
/// read (each with the essay it may turn out to be, if its bytes did not change).
fn plan_reads(stamps: Vec<FileStamp>, from: &[Arc<Loaded>]) -> (Vec<Slot>, Vec<ToRead>) {
    let old: HashMap<&str, usize> = from
        .iter()
        .enumerate()
        .map(|(i, e)| (e.head.stamp.file.as_str(), i))
        .collect();
    let mut slots = Vec::with_capacity(stamps.len());
    let mut to_read = Vec::new();
    for stamp in stamps {
        let was = old.get(stamp.file.as_str()).map(|&i| (i, &from[i]));
        match was {
            Some((i, e)) if e.head.reusable && e.head.stamp == stamp => slots.push(Slot::Kept(i)),
            _ => {
                slots.push(Slot::Read);
                to_read.push((stamp, was.map(|(_, e)| Arc::clone(e))));
            }
        }
    }
    (slots, to_read)
}

/// Reads and splits `files`, on every core when there are many; results are
/// in the order given.
fn read_all(dir: &Path, files: Vec<ToRead>) -> Result<Vec<Result<Loaded, Warning>>> {
    let read = |(stamp, old): ToRead| Loaded::read(dir, stamp, old.as_deref());
    if files.len() < PARALLEL_READ_FROM {
        return files.into_iter().map(read).collect();
    }
    files.into_par_iter().map(read).collect()
}

/// The essays in corpus order, ids given out, and the files skipped.
fn assemble(
    slots: Vec<Slot>,
    read: Vec<Result<Loaded, Warning>>,
    from: &[Arc<Loaded>],
) -> (Vec<Arc<Loaded>>, Vec<Warning>) {
    let mut read = read.into_iter();
    let mut ids = IdAllocator::default();
    let mut essays = Vec::with_capacity(slots.len());
    let mut warnings = Vec::new();
    for slot in slots {
        let loaded = match slot {
            Slot::Kept(i) => {
                let kept = &from[i];
                let id = ids.allocate(&kept.head.stamp.file);
                if id == kept.head.id {
                    Arc::clone(kept)
                } else {
                    // Another file now claims this file's id.
                    Arc::new(Loaded::clone(kept).renamed(id))
                }
            }
            Slot::Read => match read.next().expect("one result per file read") {
                Ok(loaded) => {
                    let id = ids.allocate(&loaded.head.stamp.file);
                    if id == loaded.head.id {
                        Arc::new(loaded)
                    } else {
                        Arc::new(loaded.renamed(id))
                    }
                }
                Err(warning) => {
                    warnings.push(warning);
                    continue;
                }
            },
        };
        essays.push(loaded);
    }
    (essays, warnings)
}

/// Decodes every essay that has no body yet from its snapshot, on every
/// core when there are many, so that a damaged saved copy of a changed file
/// is an error of the load and not of a later read of its passages.
fn restore(dir: &Path, essays: &[Arc<Loaded>]) -> Result<()> {
    let restore = |loaded: &Arc<Loaded>| -> Result<()> {
        if loaded.body.get().is_none() {
            // Only this load holds the essays that have no body yet.
            let _ = loaded.body.set(loaded.restore(dir)?);
        }
        Ok(())
    };
    if essays.len() < PARALLEL_READ_FROM {
        return essays.iter().try_for_each(restore);
    }
    essays.par_iter().try_for_each(restore)
}

/// The error for a corpus that cannot be used: any bad file under
/// `strict`, or no usable essay at all.
fn check(dir: &Path, strict: bool, essays: usize, warnings: &[Warning]) -> Result<()> {
    let reasons = || {
        warnings
            .iter()
            .map(Warning::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let message = if strict && !warnings.is_empty() {
        format!("--strict: {}", reasons())
    } else if essays > 0 {
        return Ok(());
    } else if warnings.is_empty() {
        "no .md or .txt essays found".to_string()
    } else {
        format!(
            "no usable essays ({} files skipped: {})",
            warnings.len(),
            reasons()
        )
    };
    Err(Error::Corpus {
        path: dir.to_path_buf(),
        message,
    })
}

/// The terms of an essay's title and author.
fn title_terms(title: &str, author: Option<&str>) -> HashSet<String> {
    let meta = format!("{} {}", title, author.unwrap_or(""));
    terms(&meta).into_iter().map(|t| t.text).collect()
}

/// A hash of an essay's file and of how it was split into passages, so that
/// a change to either shows.
fn digest(essay: &Essay, layout: &Layout) -> String {
    let mut h = fnv::FnvHasher::default();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// A corpus of two essays, the second with a long paragraph in windows.
    fn corpus() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let long = "This sentence has exactly ten words in it, you see. ".repeat(40);
        write(
            dir.path(),
            "a.md",
            "+++\ntitle = \"A\"\n+++\n\nFirst of a.\n\nSecond of a.\n",
        );
        write(
            dir.path(),
            "e.md",
            &format!("+++\ntitle = \"E\"\n+++\n\nShort one. Two.\n\n{long}\n\nLast.\n"),
        );
        dir
    }

    #[test]
    fn passages_ids_and_neighbours() {
        let dir = corpus();
        let (store, warnings) = Store::load(dir.path(), true, None, None).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(store.essay_count(), 2);
        assert_eq!(store.passages_of(0), 0..2);
        let e = store.passages_of(1);
        assert_eq!(e.start, 2);
        assert_eq!(e.end, store.len());

        let first = store.passage(2);
        assert_eq!(first.id, "e_1");
        assert_eq!(first.essay, 1);
        assert_eq!(first.text, "Short one. Two.");
        assert_eq!(first.sentences, [0..10, 11..15]);
        assert_eq!(store.passage(3).id, "e_2-1");
        let last = store.passage(store.len() - 1);
        assert_eq!(last.id, "e_3");
        assert_eq!(last.text, "Last.");
        for ordinal in 0..store.len() {
            let p = store.passage(ordinal);
            assert_eq!(store.find(&p.id), Some(ordinal));
            assert_eq!(store.text(ordinal), p.text);
            assert_eq!(store.essay_of(ordinal), p.essay);
            for s in &p.sentences {
                assert!(p.text[s.clone()].ends_with('.'));
            }
        }
        for bad in [
            "e_01", "e_2-0", "e_2-01", "e_9", "x_1", "e", "", "e_", "e_1-",
        ] {
            assert_eq!(store.find(bad), None, "{bad}");
        }
        assert_eq!(store.neighbours(0), (None, Some(1)));
        assert_eq!(store.neighbours(1), (Some(0), None));
        assert_eq!(store.neighbours(2), (None, Some(3)));

        // The windows of paragraph 2 of `e`: each offset is held by the last window starting at or before it.
        let window = store.find("e_2-2").unwrap();
        let paragraph = store.paragraph(window);
        assert!(paragraph.len() > store.text(window).len());
        assert_eq!(store.window_at(window, 0), store.find("e_2-1").unwrap());
        // Where the window starts within the paragraph (its sentences all read alike).
        let at = store.text(window).as_ptr() as usize - paragraph.as_ptr() as usize;
        assert!(at > 0);
        assert_eq!(store.window_at(3, at), window);
        assert_eq!(store.window_at(3, at - 1), 3);
    }

    #[test]
    fn reload_shares_unchanged_essays_and_records_changes() {
        let dir = corpus();
        let (first, _) = Store::load(dir.path(), true, None, None).unwrap();
        assert_eq!(first.changes().added, ["a", "e"]);
        let (same, _) = Store::load(dir.path(), true, Some(&first), None).unwrap();
        assert!(same.changes().is_empty());
        assert_eq!(same.digests(), first.digests());

        write(dir.path(), "a.md", "+++\ntitle = \"A\"\n+++\n\nChanged.\n");
        write(dir.path(), "b.md", "+++\ntitle = \"B\"\n+++\n\nNew.\n");
        std::fs::remove_file(dir.path().join("e.md")).unwrap();
        let (next, _) = Store::load(dir.path(), true, Some(&same), None).unwrap();
        assert_eq!(
            next.changes(),
            &Changes {
                added: vec!["b".into()],
                changed: vec!["a".into()],
                removed: vec!["e".into()],
            }
        );
        assert_ne!(next.digest(0), first.digest(0));
    }

    #[test]
    fn a_damaged_copy_is_read_again_unless_its_file_changed() {
        let dir = corpus();
        let index = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::load(dir.path(), true, None, Some(index.path())).unwrap();
        store.save(index.path()).unwrap();
        // Damage the saved text of `a` (essay 0).
        let saved = index.path().join(snapshot::FILE);
        let mut bytes = std::fs::read(&saved).unwrap();
        let at = bytes.windows(11).position(|w| w == b"First of a.").unwrap();
        bytes[at] ^= 0x20;
        std::fs::write(&saved, &bytes).unwrap();

        let (snapshot, heads) = Snapshot::open(index.path()).unwrap();
        let a = Loaded::saved(heads[0].clone(), &snapshot, 0);
        let e = Loaded::saved(heads[1].clone(), &snapshot, 1);
        assert_eq!(
            &e.restore(dir.path()).unwrap().essay.paragraphs[0],
            "Short one. Two."
        );
        // The file is as it was: read again, and the damaged snapshot goes.
        let body = a.restore(dir.path()).unwrap();
        assert_eq!(body.essay.id, "a");
        assert_eq!(&body.essay.paragraphs[0], "First of a.");
        assert!(!saved.exists());
        // The file changed since: neither holds the essay the heads describe.
        write(dir.path(), "a.md", "+++\ntitle = \"A\"\n+++\n\nEdited.\n");
        let err = a.restore(dir.path()).unwrap_err();
        assert!(matches!(&err, Error::Damaged { path, .. } if path == &dir.path().join("a.md")));
        assert!(err.to_string().contains("a.md: its copy saved beside the index is damaged and the file changed since it was read"), "{err}");
        std::fs::remove_file(dir.path().join("a.md")).unwrap();
        let err = a.restore(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("a.md: its copy") && err.contains("cannot be read"),
            "{err}"
        );
    }

    #[test]
    fn a_corpus_of_bad_files_names_every_reason() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "empty.txt", "");
        write(dir.path(), "bad.md", "+++\nauthr = \"A\"\n+++\nText.\n");
        let err = Store::load(dir.path(), false, None, None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no usable essays (2 files skipped: "), "{err}");
        assert!(err.contains("bad.md:2: front matter"), "{err}");
        assert!(err.contains("empty.txt: empty file"), "{err}");
    }

    #[test]
    fn ids_fit_deep_links() {
        let id = PassageId {
            essay: "abcdefghijklmno-abcd",
            paragraph: 12345,
            window: 999,
        };
        assert!(id.to_string().len() <= 32, "{id}");
        assert_eq!(PassageId::parse(&id.to_string()), Some(id));
    }
}
