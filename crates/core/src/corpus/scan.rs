//! Finding the essay files of a folder, and reading one.

use std::path::Path;
use std::time::SystemTime;

use super::essay::{Essay, Warning};
use super::parse::parse_essay;
use crate::error::{Error, Result};

/// A file of the corpus, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    /// Path relative to the corpus folder, with `/` separators.
    pub file: String,
    /// Size in bytes.
    pub len: u64,
    /// Last modification time, if the platform reports one.
    pub modified: Option<SystemTime>,
    /// Inode number and status-change time (Unix): they change when a file is
    /// replaced or written even if its size and modification time are kept.
    pub change: (u64, i64, i64),
}

impl FileStamp {
    /// True when the stamp cannot be trusted to reveal a later edit: the file
    /// was modified within a second of `read_at`, so a second edit in the same
    /// clock tick could leave size and times unchanged (git calls these
    /// entries "racily clean"). Such a file is read again on the next reload.
    pub fn is_racy(&self, read_at: SystemTime) -> bool {
        let settled = |m: SystemTime| {
            read_at
                .duration_since(m)
                .is_ok_and(|age| age >= std::time::Duration::from_secs(1))
        };
        !self.modified.is_some_and(settled)
    }
}

/// Below this many files, stamping them in parallel is not worth waking threads for.
const PARALLEL_STAT_FROM: usize = 256;

/// Lists every `.md` and `.txt` file below `dir`, sorted by path.
///
/// The folders are walked first (which needs no `stat`: entry types come
/// with the listing), then the files are stamped, on every core when there
/// are many: stamping is most of the cost of opening a large corpus whose
/// index is up to date.
pub(crate) fn scan(dir: &Path) -> Result<Vec<FileStamp>> {
    let mut found = Vec::new();
    collect_files(dir, "", &mut found)?;
    let stamp = |(entry, file): (std::fs::DirEntry, String)| {
        let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
        Ok(FileStamp {
            file,
            len: meta.len(),
            modified: meta.modified().ok(),
            change: change_stamp(&meta),
        })
    };
    let mut files: Vec<FileStamp> = if found.len() < PARALLEL_STAT_FROM {
        found.into_iter().map(stamp).collect::<Result<_>>()?
    } else {
        use rayon::prelude::*;
        found.into_par_iter().map(stamp).collect::<Result<_>>()?
    };
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(files)
}

/// The bytes of one file listed by [`scan`]; a file that cannot be read is an error.
pub(crate) fn read(dir: &Path, stamp: &FileStamp) -> Result<Vec<u8>> {
    let path = dir.join(&stamp.file);
    std::fs::read(&path).map_err(|e| Error::io(&path, e))
}

/// Parses the `bytes` [`read`] gave for `stamp`; the essay's id is left
/// empty for an [`super::IdAllocator`] to fill in. A file that is not a
/// usable essay is a [`Warning`].
pub(crate) fn parse(dir: &Path, stamp: &FileStamp, bytes: &[u8]) -> Result<Essay, Warning> {
    parse_essay(&stamp.file, bytes).map_err(|(line, message)| Warning {
        path: dir.join(&stamp.file),
        line,
        message,
    })
}

/// The essay files below `dir`, whose path relative to the corpus folder
/// starts with `prefix`, each with that relative path (`/`-separated).
fn collect_files(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(std::fs::DirEntry, String)>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let rel = format!("{prefix}{name}");
        if kind.is_dir() {
            collect_files(&entry.path(), &format!("{rel}/"), out)?;
        } else if matches!(name.rsplit_once('.'), Some((_, "md" | "txt"))) {
            out.push((entry, rel));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn change_stamp(meta: &std::fs::Metadata) -> (u64, i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (meta.ino(), meta.ctime(), meta.ctime_nsec())
}

#[cfg(not(unix))]
fn change_stamp(_: &std::fs::Metadata) -> (u64, i64, i64) {
    (0, 0, 0)
}
