//! The journal: what the bot must remember across a crash or a restart.
//!
//! - the updates it answered that Telegram may not know are done (ids at or
//!   above the last confirmed offset), so that redelivered ones are not
//!   answered twice;
//! - the offset Telegram last confirmed;
//! - the users' rate-limit windows, so a restart does not reset them;
//! - groups that became supergroups, so access lists keep working.
//!
//! Nothing people write is stored: only ids, counts and times.
//!
//! The journal belongs to one bot (its numeric id from `getMe`, in the
//! header): another bot's journal, or one in an older format, is set aside
//! and a new one started. It is a text file of one record per line, each
//! appended with a single `write` (the kernel keeps it even if the process is
//! killed right after; a torn last line is ignored):
//!
//! ```text
//! citebot-journal v2 bot 7000000001
//! a <update id> <unix seconds>     answered
//! c <offset>                       Telegram confirmed every update below offset
//! l <user id> <start> <count>      a rate-limit window
//! m <old chat id> <new chat id>    a group migrated to a supergroup
//! ```
//!
//! A confirmation forgets, at once, the answered ids below it. The file is
//! rewritten without the dead lines when they pile up and on a clean exit:
//! to a temporary file, synced, then renamed over the journal, so a crash
//! mid-rewrite leaves the old journal whole.
//!
//! Update ids are never skipped wrongly: an id below the confirmed offset was
//! never pending, so it starts a new sequence (Telegram picks ids afresh after
//! a week without updates) and the answered ids are forgotten; and answered
//! ids expire after 24 hours, when Telegram itself forgets an update.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::TelegramError;
use super::ratelimit::Window;

/// The first line's start; the bot id follows.
const HEADER: &str = "citebot-journal v2 bot ";
/// How long Telegram keeps an unconfirmed update, in seconds.
const ANSWERED_TTL: u64 = 24 * 60 * 60;
/// Rewrite the file once it has this many more lines than live records.
const SLACK_LINES: usize = 1024;

/// The current time in unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the journal remembers, on disk and in memory.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    bot: u64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    file: Option<File>,
    /// Answered update ids, with when (unix seconds).
    answered: BTreeMap<i64, u64>,
    confirmed: i64,
    windows: HashMap<u64, Window>,
    /// Old chat id → new chat id.
    migrations: BTreeMap<i64, i64>,
    lines: usize,
}

impl State {
    /// Applies one record; anything else is skipped.
    fn apply(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let kind = words.next();
        let Ok(fields) = words.map(str::parse).collect::<Result<Vec<i64>, _>>() else {
            return;
        };
        let unsigned = |v: i64| u64::try_from(v).ok();
        match (kind, fields.as_slice()) {
            (Some("a"), &[id, at]) => {
                if let Some(at) = unsigned(at) {
                    self.answered.insert(id, at);
                }
            }
            (Some("c"), &[offset]) => self.confirm(offset),
            (Some("l"), &[user, start, count]) => {
                if let (Some(user), Some(start), Ok(count)) =
                    (unsigned(user), unsigned(start), u32::try_from(count))
                {
                    self.windows.insert(user, Window { start, count });
                }
            }
            (Some("m"), &[old, new]) => {
                self.migrations.insert(old, new);
            }
            _ => {}
        }
    }

    fn confirm(&mut self, offset: i64) {
        self.answered = self.answered.split_off(&offset);
        self.confirmed = offset;
    }

    /// Drops what no longer matters at `now`.
    fn expire(&mut self, now: u64) {
        self.answered
            .retain(|_, at| now.saturating_sub(*at) < ANSWERED_TTL);
        self.windows.retain(|_, w| w.is_current(now));
    }

    /// The live records, as lines.
    fn records(&self) -> String {
        let mut text = format!("c {}\n", self.confirmed);
        for (id, at) in &self.answered {
            text.push_str(&format!("a {id} {at}\n"));
        }
        for (user, w) in &self.windows {
            text.push_str(&format!("l {user} {} {}\n", w.start, w.count));
        }
        for (old, new) in &self.migrations {
            text.push_str(&format!("m {old} {new}\n"));
        }
        text
    }

    fn live(&self) -> usize {
        1 + self.answered.len() + self.windows.len() + self.migrations.len()
    }
}

impl Journal {
    /// Opens (or creates) the journal of bot `bot` at `path`. A journal of
    /// another bot, in another format or unreadable, is replaced by an empty one.
    pub fn open(path: &Path, bot: u64) -> Result<Journal, TelegramError> {
        let io = |e| TelegramError::io(format!("journal {}", path.display()), e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // A temporary file is what a crash mid-rewrite leaves; the journal is whole.
        let _ = std::fs::remove_file(temporary(path));
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        let mut state = State::default();
        // Only whole lines count: a torn last line is a write the crash cut short.
        let mut lines = text.split_inclusive('\n').filter(|l| l.ends_with('\n'));
        match lines.next().map(str::trim_end) {
            Some(header) if header == format!("{HEADER}{bot}") => {
                for line in lines {
                    state.apply(line);
                }
            }
            None => {}
            Some(other) => tracing::info!(
                path = %path.display(),
                found = other.chars().take(60).collect::<String>(),
                "the journal is another bot's or in an older format; starting a new one"
            ),
        }
        state.expire(unix_now());
        let journal = Journal {
            path: path.to_path_buf(),
            bot,
            state: Mutex::new(state),
        };
        journal.rewrite(&mut journal.lock()).map_err(io)?;
        Ok(journal)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether update `id` was answered before (and is to be skipped).
    ///
    /// An id below the confirmed offset was never pending: Telegram has
    /// started a new sequence of ids, so the answered ids of the old one are
    /// forgotten and `id` is new.
    pub fn answered_before(&self, id: i64) -> bool {
        let mut state = self.lock();
        if id < state.confirmed {
            tracing::info!(
                update_id = id,
                confirmed = state.confirmed,
                "update ids started again below the confirmed offset; a new sequence"
            );
            state.answered.clear();
            state.confirmed = id;
            let line = format!("c {id}\n");
            self.append(&mut state, &line);
            return false;
        }
        state.answered.contains_key(&id)
    }

    /// Records that update `id` was answered.
    pub fn record(&self, id: i64) {
        let mut state = self.lock();
        let now = unix_now();
        if state.answered.insert(id, now).is_none() {
            self.append(&mut state, &format!("a {id} {now}\n"));
        }
    }

    /// Records that Telegram confirmed every update below `offset`, and
    /// forgets the answered ids below it.
    pub fn confirm(&self, offset: i64) {
        let mut state = self.lock();
        if state.confirmed == offset
            && state
                .answered
                .first_key_value()
                .is_none_or(|(&id, _)| id >= offset)
        {
            return;
        }
        state.confirm(offset);
        self.append(&mut state, &format!("c {offset}\n"));
    }

    /// The highest answered id (webhook mode keeps a window below it).
    pub fn last_answered(&self) -> Option<i64> {
        self.lock().answered.last_key_value().map(|(&id, _)| id)
    }

    /// Saves a user's rate-limit window.
    pub fn save_window(&self, user: u64, window: Window) {
        let mut state = self.lock();
        if state.windows.insert(user, window) != Some(window) {
            let line = format!("l {user} {} {}\n", window.start, window.count);
            self.append(&mut state, &line);
        }
    }

    /// The rate-limit windows saved before this start that still apply.
    pub fn windows(&self) -> Vec<(u64, Window)> {
        let now = unix_now();
        let state = self.lock();
        state
            .windows
            .iter()
            .filter(|(_, w)| w.is_current(now))
            .map(|(&user, &w)| (user, w))
            .collect()
    }

    /// Saves that group `old` became supergroup `new`.
    pub fn save_migration(&self, old: i64, new: i64) {
        let mut state = self.lock();
        if state.migrations.insert(old, new) != Some(new) {
            self.append(&mut state, &format!("m {old} {new}\n"));
        }
    }

    /// The migrations saved so far, old chat id → new chat id.
    pub fn migrations(&self) -> Vec<(i64, i64)> {
        self.lock()
            .migrations
            .iter()
            .map(|(&o, &n)| (o, n))
            .collect()
    }

    /// Rewrites the file with only the live records (on a clean exit).
    pub fn close(&self) {
        let mut state = self.lock();
        state.expire(unix_now());
        if let Err(e) = self.rewrite(&mut state) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot compact the journal");
        }
    }

    fn append(&self, state: &mut State, line: &str) {
        state.lines += 1;
        let written = match state.file.as_mut() {
            Some(file) => file.write_all(line.as_bytes()),
            None => Err(std::io::Error::other("not open")),
        };
        if let Err(e) = written {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write the journal");
        }
        if state.lines > state.live() + SLACK_LINES {
            state.expire(unix_now());
            if let Err(e) = self.rewrite(state) {
                tracing::error!(path = %self.path.display(), error = %e, "cannot compact the journal");
            }
        }
    }

    /// Writes the live records to a temporary file, syncs it and renames it
    /// over the journal.
    fn rewrite(&self, state: &mut State) -> std::io::Result<()> {
        let tmp = temporary(&self.path);
        let text = format!("{HEADER}{}\n{}", self.bot, state.records());
        {
            let mut file = File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename itself durable; not every file system allows it.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        state.file = Some(OpenOptions::new().append(true).open(&self.path)?);
        state.lines = state.live();
        Ok(())
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: u64 = 7_000_000_001;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn confirming_forgets_at_once_and_a_clean_exit_leaves_only_live_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/journal");
        let journal = Journal::open(&path, BOT).unwrap();
        for id in 10..20 {
            journal.record(id);
        }
        assert!(journal.answered_before(12) && !journal.answered_before(20));
        journal.confirm(15);
        assert_eq!(
            journal.lock().answered.len(),
            5,
            "confirmed ids are forgotten at once"
        );
        assert!(journal.answered_before(15));
        drop(journal);
        // After a kill: the appended records replay to the same state.
        let journal = Journal::open(&path, BOT).unwrap();
        assert_eq!(journal.lock().answered.len(), 5);
        assert!(journal.answered_before(19) && journal.answered_before(15));
        journal.confirm(20);
        journal.close();
        assert_eq!(lines(&path), [format!("{HEADER}{BOT}"), "c 20".to_string()]);
    }

    #[test]
    fn another_bots_or_an_old_journal_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        std::fs::write(&path, "10\n11\n12\n").unwrap();
        let journal = Journal::open(&path, BOT).unwrap();
        assert!(
            !journal.answered_before(11),
            "the old format is not trusted"
        );
        journal.record(11);
        drop(journal);
        let other = Journal::open(&path, BOT + 1).unwrap();
        assert!(!other.answered_before(11), "another bot's ids are not ours");
        assert_eq!(lines(&path)[0], format!("{HEADER}{}", BOT + 1));
    }

    #[test]
    fn a_new_sequence_below_the_offset_is_never_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let journal = Journal::open(&path, BOT).unwrap();
        journal.confirm(500);
        for id in 500..510 {
            journal.record(id);
        }
        drop(journal);
        // Telegram restarts its ids at random, here below the offset.
        let journal = Journal::open(&path, BOT).unwrap();
        assert!(
            !journal.answered_before(480),
            "below the offset: never pending"
        );
        for id in 481..=505 {
            assert!(!journal.answered_before(id), "{id} of the new sequence");
        }
    }

    #[test]
    fn answered_ids_expire_with_telegrams_24_hours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let old = unix_now() - ANSWERED_TTL - 60;
        let recent = unix_now() - 60;
        std::fs::write(
            &path,
            format!("{HEADER}{BOT}\nc 100\na 100 {old}\na 101 {recent}\n"),
        )
        .unwrap();
        let journal = Journal::open(&path, BOT).unwrap();
        assert!(
            !journal.answered_before(100),
            "a day old: Telegram forgot it too"
        );
        assert!(journal.answered_before(101));
    }

    #[test]
    fn a_crash_mid_write_or_mid_rewrite_leaves_a_usable_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let now = unix_now();
        // A torn last line ("a 10" of "a 103 …"), and a half-written rewrite.
        std::fs::write(
            &path,
            format!("{HEADER}{BOT}\nc 100\na 101 {now}\nl 42 {now} 3\nm -5 -1005\na 10"),
        )
        .unwrap();
        std::fs::write(temporary(&path), format!("{HEADER}{BOT}\nc 2")).unwrap();
        let journal = Journal::open(&path, BOT).unwrap();
        assert!(journal.answered_before(101));
        assert!(!journal.answered_before(103) && !journal.answered_before(10));
        assert_eq!(
            journal.windows(),
            [(
                42,
                Window {
                    start: now,
                    count: 3
                }
            )]
        );
        assert_eq!(journal.migrations(), [(-5, -1005)]);
        assert!(!temporary(&path).exists());
    }

    #[test]
    fn dead_lines_are_compacted_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let journal = Journal::open(&path, BOT).unwrap();
        for id in 1..=(3 * SLACK_LINES as i64) {
            journal.record(id);
            journal.confirm(id + 1);
        }
        assert!(lines(&path).len() < 2 * SLACK_LINES + 10, "compacted");
        journal.save_window(
            9,
            Window {
                start: unix_now(),
                count: 2,
            },
        );
        journal.save_migration(-7, -1007);
        journal.close();
        let reopened = Journal::open(&path, BOT).unwrap();
        assert_eq!(reopened.windows().len(), 1);
        assert_eq!(reopened.migrations(), [(-7, -1007)]);
        assert!(!reopened.answered_before(3 * SLACK_LINES as i64));
    }
}
