//! Finding the essay files of a folder, and reading one.

use std::path::Path;
use std::time::SystemTime;

use super::model::{Essay, Warning};
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

/// Lists every `.md` and `.txt` file below `dir`, sorted by path.
pub(crate) fn scan(dir: &Path) -> Result<Vec<FileStamp>> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(files)
}

/// Reads and parses one file listed by [`scan`]; the essay's id is left
/// empty for an [`super::IdAllocator`] to fill in. A file that cannot be read
/// is an error; a file that is not a usable essay is a [`Warning`].
pub(crate) fn read(dir: &Path, stamp: &FileStamp) -> Result<Result<Essay, Warning>> {
    let path = dir.join(&stamp.file);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(
        parse_essay(&stamp.file, &bytes).map_err(|(line, message)| Warning {
            path,
            line,
            message,
        }),
    )
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<FileStamp>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "txt")
        ) {
            let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(FileStamp {
                file: rel.to_string_lossy().replace('\\', "/"),
                len: meta.len(),
                modified: meta.modified().ok(),
                change: change_stamp(&meta),
            });
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
