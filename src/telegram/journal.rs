//! The journal: ids of updates already answered but perhaps not yet
//! confirmed to Telegram, so that after a crash the redelivered ones are not
//! answered twice.
//!
//! The file holds one update id per line. Each answered id is appended with a
//! single `write` (the kernel keeps it even if the process is killed right
//! after); ids below the confirmed offset are dropped by rewriting the file
//! (to a temporary file, then renamed) once enough of them pile up.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::TelegramError;

/// Rewrite the file when it has this many more lines than live ids.
const SLACK_LINES: usize = 256;

/// Answered update ids, in memory and on disk.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    ids: BTreeSet<i64>,
    lines: usize,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads its ids.
    pub fn open(path: &Path) -> Result<Journal, TelegramError> {
        let io = |e| TelegramError::io(format!("journal {}", path.display()), e);
        let ids: BTreeSet<i64> = match std::fs::read_to_string(path) {
            Ok(text) => text.lines().filter_map(|l| l.trim().parse().ok()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(io(e)),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut journal = Journal {
            path: path.to_path_buf(),
            file: OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io)?,
            lines: usize::MAX,
            ids,
        };
        journal.rewrite().map_err(io)?;
        Ok(journal)
    }

    /// Whether update `id` was answered.
    pub fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// The highest id recorded.
    pub fn last(&self) -> Option<i64> {
        self.ids.last().copied()
    }

    /// Records that update `id` was answered.
    pub fn record(&mut self, id: i64) {
        if !self.ids.insert(id) {
            return;
        }
        self.lines += 1;
        if let Err(e) = self.file.write_all(format!("{id}\n").as_bytes()) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write the journal");
        }
    }

    /// Forgets ids below `floor` (confirmed to Telegram, never redelivered).
    pub fn forget_below(&mut self, floor: i64) {
        self.ids = self.ids.split_off(&floor);
        if self.lines > self.ids.len() + SLACK_LINES
            && let Err(e) = self.rewrite()
        {
            tracing::error!(path = %self.path.display(), error = %e, "cannot compact the journal");
        }
    }

    /// Writes the live ids to a new file and swaps it in.
    fn rewrite(&mut self) -> std::io::Result<()> {
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text: String = self.ids.iter().map(|id| format!("{id}\n")).collect();
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.lines = self.ids.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopening_and_forgets_confirmed_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/journal");
        let mut journal = Journal::open(&path).unwrap();
        for id in 10..20 {
            journal.record(id);
        }
        drop(journal);
        std::fs::write(
            &path,
            std::fs::read_to_string(&path).unwrap() + "garbage\n2",
        )
        .unwrap();
        let mut journal = Journal::open(&path).unwrap();
        assert!(journal.contains(10) && journal.contains(19) && journal.contains(2));
        journal.forget_below(15);
        assert!(!journal.contains(14) && journal.contains(15));
        for id in 100..(100 + 2 * SLACK_LINES as i64) {
            journal.record(id);
        }
        journal.forget_below(100 + 2 * SLACK_LINES as i64 - 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "compacted: {text}");
        assert_eq!(journal.last(), Some(100 + 2 * SLACK_LINES as i64 - 1));
    }
}
