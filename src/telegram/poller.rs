//! Long polling that never loses an update.
//!
//! `getUpdates(offset)` confirms every update below `offset`, so the offset
//! only moves past the contiguous run of *finished* updates: it is the lowest
//! update still being handled (or one past the highest seen when none is).
//! Updates at or above it come back with every call; the [`Tracker`]
//! remembers which are in flight or done so none is handled twice, and the
//! [`Journal`] remembers the answered ones across a crash.
//!
//! Update ids usually grow by one, but Telegram picks them afresh after a week
//! without updates, and may then go lower: an id below the offset, which was
//! never pending, starts a new sequence rather than being taken for an old one.
//!
//! The steps: [`Poller::take_over`] (no webhook), [`Poller::poll`] until
//! shutdown, [`Poller::finish_in_hand`] within the grace period, then
//! [`Poller::confirm_and_close`] with a last `getUpdates(offset, timeout = 0)`.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use teloxide::types::Update;
use tokio::sync::Notify;

use super::dispatch::Dispatcher;
use super::journal::Journal;
use super::{Shutdown, TelegramError};

/// Long-poll timeout, in seconds (teloxide's HTTP client gives up at 17).
const POLL_TIMEOUT: u32 = 10;
/// Updates per `getUpdates`.
const BATCH: u8 = 100;
/// How long to wait for a handler to finish when a full batch brought
/// nothing new (nothing else can be fetched until the offset moves).
const IDLE_WAIT: Duration = Duration::from_millis(500);
/// How long to wait when a short batch brought nothing new: Telegram
/// answers at once while updates in hand are unconfirmed, so new ones are
/// seen only by asking again.
const REPOLL_WAIT: Duration = Duration::from_millis(50);
/// Time allowed for the final, confirming `getUpdates`.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(1);

/// Which updates are being handled and which are done, above the offset.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    offset: i64,
    in_flight: BTreeSet<i64>,
    done: BTreeSet<i64>,
    /// In flight from a sequence of ids Telegram has since replaced.
    stale: HashSet<i64>,
}

impl Tracker {
    /// Takes update `id` on; false if it is in flight or done.
    ///
    /// An id below the offset was never pending: it starts a new sequence,
    /// and what is known of the old one no longer moves the offset.
    pub fn start(&mut self, id: i64) -> bool {
        if self.in_flight.contains(&id) || self.done.contains(&id) || self.stale.contains(&id) {
            return false;
        }
        if id < self.offset {
            self.stale.extend(std::mem::take(&mut self.in_flight));
            self.done.clear();
            self.offset = id;
        }
        self.in_flight.insert(id)
    }

    /// Marks update `id` handled.
    pub fn finish(&mut self, id: i64) {
        if self.in_flight.remove(&id) {
            self.done.insert(id);
        } else {
            self.stale.remove(&id);
        }
    }

    /// Updates being handled.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len() + self.stale.len()
    }

    /// The offset to confirm: the lowest update in flight, else one past the
    /// highest done. Forgets done updates below it.
    pub fn offset(&mut self) -> i64 {
        let next = match (self.in_flight.first(), self.done.last()) {
            (Some(&lowest), _) => lowest,
            (None, Some(&highest)) => highest + 1,
            (None, None) => self.offset,
        };
        self.offset = self.offset.max(next);
        self.done = self.done.split_off(&self.offset);
        self.offset
    }
}

/// The tracker and the journal, kept in step under one lock.
struct Ledger {
    tracker: Tracker,
    journal: Arc<Journal>,
}

/// What a polled update is to the poller.
enum Take {
    /// In flight or done in this process.
    Known,
    /// Answered by an earlier process (in the journal).
    AnsweredBefore,
    /// To be handled.
    New,
}

impl Ledger {
    fn take(&mut self, id: i64) -> Take {
        if !self.tracker.start(id) {
            Take::Known
        } else if self.journal.answered_before(id) {
            self.tracker.finish(id);
            Take::AnsweredBefore
        } else {
            Take::New
        }
    }

    fn finish(&mut self, id: i64) {
        self.journal.record(id);
        self.tracker.finish(id);
    }
}

/// Polls until shutdown, then finishes the updates in hand and confirms them.
pub(crate) async fn run(
    dispatcher: Arc<Dispatcher>,
    journal: Arc<Journal>,
    shutdown: Shutdown,
    grace: Duration,
) -> Result<(), TelegramError> {
    let poller = Poller {
        dispatcher,
        ledger: Arc::new(Mutex::new(Ledger {
            tracker: Tracker::default(),
            journal,
        })),
        progress: Arc::new(Notify::new()),
    };
    poller.take_over().await;
    poller.poll(&shutdown).await;
    poller.finish_in_hand(grace).await;
    poller.confirm_and_close().await;
    Ok(())
}

/// The polling loop's state.
struct Poller {
    dispatcher: Arc<Dispatcher>,
    ledger: Arc<Mutex<Ledger>>,
    /// Notified whenever a handler finishes.
    progress: Arc<Notify>,
}

impl Poller {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes any webhook, so that `getUpdates` works.
    async fn take_over(&self) {
        if let Err(e) = self.dispatcher.app().api.delete_webhook().await {
            tracing::warn!(error = %e, "could not delete the webhook; polling anyway");
        }
        tracing::info!("polling for updates");
    }

    /// Fetches and hands over updates until shutdown.
    async fn poll(&self, shutdown: &Shutdown) {
        let api = &self.dispatcher.app().api;
        loop {
            let offset = self.lock().tracker.offset();
            let polled = tokio::select! {
                _ = shutdown.wait() => return,
                polled = api.get_updates(offset as i32, POLL_TIMEOUT, BATCH) => polled,
            };
            // `get_updates` retries every failure itself; an error cannot come back.
            let Ok(updates) = polled else { continue };
            if offset > 0 {
                // Telegram has now forgotten everything below `offset`.
                self.lock().journal.confirm(offset);
            }
            let full = updates.len() >= usize::from(BATCH);
            let fresh = self.hand_over(updates);
            if fresh == 0 && self.lock().tracker.offset() == offset {
                // Only updates in hand came back: wait for one to finish, or
                // (when there may be more behind them) for new ones.
                let wait = if full { IDLE_WAIT } else { REPOLL_WAIT };
                tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = self.progress.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    /// Hands the new updates of a batch to the dispatcher; returns how many.
    fn hand_over(&self, updates: Vec<Update>) -> usize {
        let metrics = &self.dispatcher.app().metrics;
        let mut fresh = 0;
        for update in updates {
            let id = i64::from(update.id.0);
            match self.lock().take(id) {
                Take::Known => continue,
                Take::AnsweredBefore => {
                    metrics.duplicates.inc();
                    tracing::info!(update_id = id, "already answered before a restart; skipped");
                    continue;
                }
                Take::New => fresh += 1,
            }
            let (ledger, progress) = (self.ledger.clone(), self.progress.clone());
            let done = move || {
                ledger.lock().unwrap_or_else(|e| e.into_inner()).finish(id);
                progress.notify_one();
            };
            self.dispatcher.submit(update, Box::new(done));
        }
        fresh
    }

    /// Waits, at most `grace`, for the updates in hand.
    async fn finish_in_hand(&self, grace: Duration) {
        tracing::info!(
            in_hand = self.lock().tracker.in_flight(),
            "stopped polling; finishing answers in hand"
        );
        let deadline = tokio::time::Instant::now() + grace;
        while self.lock().tracker.in_flight() > 0 {
            let finished = tokio::time::timeout_at(deadline, self.progress.notified());
            if finished.await.is_err() {
                break;
            }
        }
    }

    /// Confirms what is done with a last `getUpdates`, and compacts the journal.
    async fn confirm_and_close(&self) {
        let (offset, left) = {
            let mut ledger = self.lock();
            (ledger.tracker.offset(), ledger.tracker.in_flight())
        };
        if left > 0 {
            tracing::warn!(
                left,
                "grace period over; unfinished updates will be redelivered"
            );
        }
        let confirm = self.dispatcher.app().api.confirm(offset as i32);
        match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Ok(Ok(())) => {
                self.lock().journal.confirm(offset);
                tracing::info!(offset, "confirmed; bye");
            }
            Ok(Err(error)) => tracing::warn!(%error, "could not confirm the last updates"),
            Err(_) => tracing::warn!("could not confirm the last updates in time"),
        }
        self.lock().journal.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_stops_at_the_lowest_unfinished_update() {
        let mut t = Tracker::default();
        assert_eq!(t.offset(), 0);
        for id in [5, 6, 7] {
            assert!(t.start(id));
        }
        assert!(!t.start(6), "in flight");
        t.finish(6);
        t.finish(7);
        assert!(!t.start(7), "done");
        assert_eq!(t.offset(), 5, "5 is still being handled");
        t.finish(5);
        assert_eq!(t.offset(), 8);
        assert!(t.start(8));
        assert_eq!(t.in_flight(), 1);
    }

    #[test]
    fn ids_restarting_lower_start_a_new_sequence() {
        let mut t = Tracker::default();
        for id in 500..503 {
            assert!(t.start(id));
        }
        t.finish(500);
        t.finish(501);
        assert_eq!(t.offset(), 502, "502 is in hand");
        // Telegram picked new ids, lower than the offset.
        assert!(t.start(40), "never pending, so new");
        assert!(t.start(41));
        assert_eq!(t.offset(), 40, "the new sequence's lowest in hand");
        t.finish(40);
        t.finish(41);
        assert!(!t.start(41), "done in this sequence");
        assert_eq!(t.offset(), 42, "not 503: the old sequence no longer counts");
        assert_eq!(t.in_flight(), 1, "502 is still being answered");
        t.finish(502);
        assert_eq!((t.in_flight(), t.offset()), (0, 42));
    }
}
