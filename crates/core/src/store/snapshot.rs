//! Snapshot: the store saved beside the index, so that a start with nothing
//! changed parses no essay.
//!
//! One file, [`FILE`] in the index folder, holds every essay as the store
//! loaded it: a directory read at open (per essay: id, file stamp, digest,
//! fingerprint, passage count; a few dozen bytes), and per essay a record
//! of its metadata and of its text with its passage layout, decoded only
//! for an essay whose file did not change. The file is memory-mapped, so
//! what is not decoded is not read.
//!
//! Every part is checked before use: the header and the directory when the
//! file is opened (a bad one is ignored whole, and the corpus read again),
//! each record by its own CRC when it is decoded (a bad one is read again
//! from its essay's file by the store). A snapshot is written to a temporary
//! file and renamed into place, never changed where it lies, so a mapping of
//! an older one stays valid.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use memmap2::Mmap;

use crate::codec::{Decoder, Encoder};
use crate::corpus::{Essay, FileStamp, Paragraphs};
use crate::passage::{Layout, MAX_WORDS};

/// The snapshot's file name in the index folder.
pub(crate) const FILE: &str = "store.bin";
const MAGIC: &[u8; 8] = b"citebot\x00";
/// Bumped whenever this format, essay parsing or passage splitting changes.
const VERSION: u32 = 1;
/// Magic, version, `MAX_WORDS`, directory offset and length, directory CRC, header CRC.
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 4 + 4;

/// What the store holds of every essay from the start: enough to tell
/// whether its file changed, to name it and to number its passages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The essay id.
    pub id: String,
    /// The file as it was when read.
    pub stamp: FileStamp,
    /// A hash of the file and of its passages (`Store::digest`).
    pub digest: String,
    /// A hash of the file's bytes (`Essay::fingerprint`).
    pub fingerprint: u64,
    /// The stamp can be trusted to show a later change (see [`FileStamp::is_racy`]).
    pub reusable: bool,
    /// How many passages the essay divides into.
    pub passages: u32,
}

/// Writes `essay`'s metadata (what citations show: title, author,
/// publication, date, url, source, tags) for [`decode_metadata`].
fn encode_metadata(essay: &Essay, out: &mut Encoder) {
    out.str(&essay.title);
    for field in [
        &essay.author,
        &essay.publication,
        &essay.date,
        &essay.url,
        &essay.source,
    ] {
        out.opt_str(field.as_deref());
    }
    out.count(essay.tags.len());
    for tag in &essay.tags {
        out.str(tag);
    }
}

/// Reads metadata [`encode_metadata`] wrote into `essay`.
fn decode_metadata(input: &mut Decoder<'_>, essay: &mut Essay) -> Option<()> {
    essay.title = input.str()?.to_string();
    for field in [
        &mut essay.author,
        &mut essay.publication,
        &mut essay.date,
        &mut essay.url,
        &mut essay.source,
    ] {
        *field = input.opt_string()?;
    }
    let n = input.count(4)?;
    essay.tags = (0..n)
        .map(|_| input.str().map(str::to_string))
        .collect::<Option<_>>()?;
    input.is_empty().then_some(())
}

/// Where one essay's record lies, and its checks.
#[derive(Debug, Clone, Copy)]
struct Record {
    offset: usize,
    meta_len: usize,
    body_len: usize,
    meta_crc: u32,
    body_crc: u32,
}

/// An essay's record as bytes, with their CRCs: copied from a snapshot, or encoded.
#[derive(Debug)]
pub(crate) struct Raw<'a> {
    meta: std::borrow::Cow<'a, [u8]>,
    body: std::borrow::Cow<'a, [u8]>,
    meta_crc: u32,
    body_crc: u32,
}

impl Raw<'static> {
    /// The record of a parsed essay.
    pub fn encode(essay: &Essay, layout: &Layout) -> Raw<'static> {
        let mut meta = Encoder::default();
        encode_metadata(essay, &mut meta);
        let mut body = Encoder::default();
        essay.paragraphs.encode(&mut body);
        layout.encode(&mut body);
        Raw {
            meta_crc: crc32fast::hash(&meta.bytes),
            body_crc: crc32fast::hash(&body.bytes),
            meta: meta.bytes.into(),
            body: body.bytes.into(),
        }
    }
}

/// An opened snapshot: the mapped file and where each essay's record is.
pub(crate) struct Snapshot {
    path: PathBuf,
    map: Mmap,
    records: Vec<Record>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("bytes", &self.map.len())
            .field("essays", &self.records.len())
            .finish()
    }
}

impl Snapshot {
    /// Opens the snapshot in `dir`, with every essay's [`Head`] in saved
    /// order; `None` when there is none, or it is of another version, or
    /// its header or directory is damaged.
    pub fn open(dir: &Path) -> Option<(Arc<Snapshot>, Vec<Head>)> {
        let path = dir.join(FILE);
        let file = File::open(&path).ok()?;
        // SAFETY: citebot never writes to a snapshot in place (it writes a
        // new file and renames it), so the mapped bytes do not change; every
        // part read is checked by its CRC before use.
        let map = unsafe { Mmap::map(&file) }.ok()?;
        let opened = Snapshot::parse(path.clone(), map);
        if opened.is_none() {
            tracing::warn!(path = %path.display(), "saved store is damaged or of another version; reading the corpus again");
        }
        opened
    }

    fn parse(path: PathBuf, map: Mmap) -> Option<(Arc<Snapshot>, Vec<Head>)> {
        let mut header = Decoder::new(map.get(..HEADER_LEN)?);
        let ok = header.take(8)? == MAGIC
            && header.u32()? == VERSION
            && header.u32()? == MAX_WORDS as u32;
        let dir_offset = usize::try_from(header.u64()?).ok()?;
        let dir_len = usize::try_from(header.u64()?).ok()?;
        let dir_crc = header.u32()?;
        let header_crc = header.u32()?;
        let ok = ok
            && crc32fast::hash(&map[..HEADER_LEN - 4]) == header_crc
            && dir_offset.checked_add(dir_len)? == map.len()
            && dir_offset >= HEADER_LEN;
        let directory = map.get(dir_offset..)?;
        if !ok || crc32fast::hash(directory) != dir_crc {
            return None;
        }
        let mut input = Decoder::new(directory);
        let n = input.count(64)?;
        let mut heads = Vec::with_capacity(n);
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let (head, record) = decode_entry(&mut input)?;
            let end = record
                .offset
                .checked_add(record.meta_len)?
                .checked_add(record.body_len)?;
            (record.offset >= HEADER_LEN && end <= dir_offset).then_some(())?;
            heads.push(head);
            records.push(record);
        }
        input.is_empty().then_some(())?;
        Some((Arc::new(Snapshot { path, map, records }), heads))
    }

    fn record(&self, i: usize) -> (&[u8], &[u8], Record) {
        let r = self.records[i];
        let meta = &self.map[r.offset..r.offset + r.meta_len];
        let body = &self.map[r.offset + r.meta_len..r.offset + r.meta_len + r.body_len];
        (meta, body, r)
    }

    /// Essay `i` with its metadata alone (no paragraphs), if its record's
    /// metadata is sound.
    pub fn metadata(&self, i: usize, head: &Head) -> Option<Essay> {
        let (meta, _, r) = self.record(i);
        (crc32fast::hash(meta) == r.meta_crc).then_some(())?;
        let mut essay = Essay::blank(&head.stamp.file, head.fingerprint);
        essay.id = head.id.clone();
        decode_metadata(&mut Decoder::new(meta), &mut essay)?;
        Some(essay)
    }

    /// Essay `i`, with its head's id, file and fingerprint, and its layout,
    /// if its record is sound and holds `head.passages` passages.
    pub fn essay(&self, i: usize, head: &Head) -> Option<(Essay, Layout)> {
        let (_, body, r) = self.record(i);
        let mut essay = self.metadata(i, head)?;
        (crc32fast::hash(body) == r.body_crc).then_some(())?;
        let mut input = Decoder::new(body);
        essay.paragraphs = Paragraphs::decode(&mut input)?;
        let layout = Layout::decode(&mut input, essay.paragraphs.text())?;
        (input.is_empty() && layout.len() == head.passages as usize).then_some(())?;
        Some((essay, layout))
    }

    /// Removes the file this snapshot was read from, found damaged, so that
    /// the next open writes a sound one. (If a newer snapshot has replaced
    /// it since, that one goes instead: the cost is only the rewrite.)
    pub fn discard(&self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a damaged saved store");
        }
    }

    /// Essay `i`'s record as it lies, if it is sound, for a new snapshot.
    pub fn raw(&self, i: usize) -> Option<Raw<'_>> {
        let (meta, body, r) = self.record(i);
        let sound = crc32fast::hash(meta) == r.meta_crc && crc32fast::hash(body) == r.body_crc;
        sound.then(|| Raw {
            meta: meta.into(),
            body: body.into(),
            meta_crc: r.meta_crc,
            body_crc: r.body_crc,
        })
    }
}

/// Writes a snapshot of `essays` (in corpus order) to `dir`, replacing the
/// one there at once.
pub(crate) fn write<'a>(
    dir: &Path,
    essays: impl Iterator<Item = (&'a Head, Raw<'a>)>,
) -> std::io::Result<()> {
    let path = dir.join(FILE);
    // A name of its own per writer: two processes saving at once must not
    // write into one temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{FILE}.{}-{n}.tmp", std::process::id()));
    let written = write_to(&tmp, essays).and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes the snapshot of `essays` to the new file `tmp`.
fn write_to<'a>(
    tmp: &Path,
    essays: impl Iterator<Item = (&'a Head, Raw<'a>)>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    out.write_all(&[0; HEADER_LEN])?;
    let mut offset = HEADER_LEN;
    let mut directory = Encoder::default();
    let mut count = 0;
    let mut entries = Encoder::default();
    for (head, raw) in essays {
        out.write_all(&raw.meta)?;
        out.write_all(&raw.body)?;
        let record = Record {
            offset,
            meta_len: raw.meta.len(),
            body_len: raw.body.len(),
            meta_crc: raw.meta_crc,
            body_crc: raw.body_crc,
        };
        offset += record.meta_len + record.body_len;
        encode_entry(&mut entries, head, &record);
        count += 1;
    }
    directory.count(count);
    directory.bytes.extend_from_slice(&entries.bytes);
    out.write_all(&directory.bytes)?;
    let mut header = Encoder::default();
    header.bytes.extend_from_slice(MAGIC);
    header.u32(VERSION);
    header.u32(MAX_WORDS as u32);
    header.u64(offset as u64);
    header.u64(directory.bytes.len() as u64);
    header.u32(crc32fast::hash(&directory.bytes));
    header.u32(crc32fast::hash(&header.bytes));
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header.bytes)
}

fn encode_entry(out: &mut Encoder, head: &Head, record: &Record) {
    out.str(&head.id);
    out.str(&head.stamp.file);
    out.u64(head.stamp.len);
    match head.stamp.modified.map(|m| m.duration_since(UNIX_EPOCH)) {
        None => out.u8(0),
        Some(Ok(after)) => {
            out.u8(1);
            out.u64(after.as_secs());
            out.u32(after.subsec_nanos());
        }
        Some(Err(before)) => {
            out.u8(2);
            out.u64(before.duration().as_secs());
            out.u32(before.duration().subsec_nanos());
        }
    }
    let (inode, ctime, ctime_nsec) = head.stamp.change;
    out.u64(inode);
    out.i64(ctime);
    out.i64(ctime_nsec);
    out.str(&head.digest);
    out.u64(head.fingerprint);
    out.u8(u8::from(head.reusable));
    out.u32(head.passages);
    out.u64(record.offset as u64);
    out.count(record.meta_len);
    out.count(record.body_len);
    out.u32(record.meta_crc);
    out.u32(record.body_crc);
}

fn decode_entry(input: &mut Decoder<'_>) -> Option<(Head, Record)> {
    let id = input.str()?.to_string();
    let file = input.str()?.to_string();
    let len = input.u64()?;
    let modified = match input.u8()? {
        0 => None,
        kind @ (1 | 2) => {
            let since = Duration::new(input.u64()?, input.u32()?);
            Some(if kind == 1 {
                UNIX_EPOCH.checked_add(since)?
            } else {
                UNIX_EPOCH.checked_sub(since)?
            })
        }
        _ => return None,
    };
    let change = (input.u64()?, input.i64()?, input.i64()?);
    let head = Head {
        id,
        stamp: FileStamp {
            file,
            len,
            modified,
            change,
        },
        digest: input.str()?.to_string(),
        fingerprint: input.u64()?,
        reusable: match input.u8()? {
            0 => false,
            1 => true,
            _ => return None,
        },
        passages: input.u32()?,
    };
    let record = Record {
        offset: usize::try_from(input.u64()?).ok()?,
        meta_len: input.u32()? as usize,
        body_len: input.u32()? as usize,
        meta_crc: input.u32()?,
        body_crc: input.u32()?,
    };
    Some((head, record))
}
