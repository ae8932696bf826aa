//! Long polling that never loses an update.
//!
//! `getUpdates(offset)` confirms every update below `offset`, so the offset
//! only moves past the contiguous run of *finished* updates: it is the lowest
//! update still being handled (or one past the highest seen when none is).
//! Updates at or above it come back with every call; the [`Tracker`]
//! remembers which are in flight or done so none is handled twice, and the
//! [`Journal`] remembers the answered ones across a crash.
//!
//! On SIGTERM or SIGINT the poller stops fetching, waits (up to the grace
//! period) for the updates in hand, confirms them with a last
//! `getUpdates(offset, timeout = 0)`, and returns.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::dispatch::Dispatcher;
use super::journal::Journal;
use super::metrics::Metrics;
use super::{Shutdown, TelegramError};

/// Long-poll timeout, in seconds (teloxide's HTTP client gives up at 17).
const POLL_TIMEOUT: u32 = 10;
/// Updates per `getUpdates`.
const BATCH: u8 = 100;
/// How long to wait for a handler to finish when a poll brought nothing new.
const IDLE_WAIT: Duration = Duration::from_millis(500);
/// First pause after a failed poll; it doubles with every failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest pause between failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Time allowed for the final, confirming `getUpdates`.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(1);

/// Which updates are being handled and which are done, above the offset.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    offset: i64,
    in_flight: BTreeSet<i64>,
    done: BTreeSet<i64>,
}

impl Tracker {
    /// Takes update `id` on; false if it is in flight, done or below the offset.
    pub fn start(&mut self, id: i64) -> bool {
        if id < self.offset || self.done.contains(&id) {
            return false;
        }
        self.in_flight.insert(id)
    }

    /// Marks update `id` handled.
    pub fn finish(&mut self, id: i64) {
        if self.in_flight.remove(&id) {
            self.done.insert(id);
        }
    }

    /// Updates being handled.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
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
    journal: Journal,
}

impl Ledger {
    /// Takes a polled update on: true if it is new and still to be answered.
    fn take(&mut self, id: i64) -> Take {
        if !self.tracker.start(id) {
            Take::Known
        } else if self.journal.contains(id) {
            self.tracker.finish(id);
            Take::AnsweredBefore
        } else {
            Take::New
        }
    }

    /// Records that update `id` was handled.
    fn finish(&mut self, id: i64) {
        self.journal.record(id);
        self.tracker.finish(id);
    }
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

/// Polls until shutdown, then finishes the updates in hand and confirms them.
pub(crate) async fn run(
    dispatcher: Arc<Dispatcher>,
    journal: Journal,
    shutdown: Shutdown,
    grace: Duration,
) -> Result<(), TelegramError> {
    let app = dispatcher.app();
    if let Err(e) = app.api.delete_webhook().await {
        tracing::warn!(error = %e, "could not delete the webhook; polling anyway");
    }
    let ledger = Arc::new(Mutex::new(Ledger {
        tracker: Tracker::default(),
        journal,
    }));
    let lock = || ledger.lock().unwrap_or_else(|e| e.into_inner());
    let progress = Arc::new(Notify::new());
    let mut failures = 0;
    tracing::info!("polling for updates");

    loop {
        let offset = lock().tracker.offset();
        let polled = tokio::select! {
            _ = shutdown.wait() => break,
            polled = app.api.get_updates(offset as i32, POLL_TIMEOUT, BATCH) => polled,
        };
        let updates = match polled {
            Ok(updates) => {
                failures = 0;
                updates
            }
            Err(error) => {
                Metrics::inc(&app.metrics.poll_errors);
                failures += 1;
                let wait = (FIRST_BACKOFF * 2u32.pow(failures.min(6))).min(MAX_BACKOFF);
                tracing::warn!(%error, wait_ms = wait.as_millis() as u64, "getUpdates failed");
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        // Telegram has now forgotten everything below `offset`.
        lock().journal.forget_below(offset);
        let mut fresh = 0;
        for update in updates {
            let id = i64::from(update.id.0);
            match lock().take(id) {
                Take::Known => continue,
                Take::AnsweredBefore => {
                    Metrics::inc(&app.metrics.duplicates);
                    tracing::info!(update_id = id, "already answered before a restart; skipped");
                    continue;
                }
                Take::New => fresh += 1,
            }
            let (ledger, progress) = (ledger.clone(), progress.clone());
            let done = move || {
                ledger.lock().unwrap_or_else(|e| e.into_inner()).finish(id);
                progress.notify_one();
            };
            dispatcher.submit(update, Box::new(done));
        }
        if fresh == 0 && lock().tracker.offset() == offset {
            // Only updates in hand came back: wait for one to finish.
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = progress.notified() => {}
                _ = tokio::time::sleep(IDLE_WAIT) => {}
            }
        }
    }

    tracing::info!(
        in_hand = lock().tracker.in_flight(),
        "stopped polling; finishing answers in hand"
    );
    let deadline = tokio::time::Instant::now() + grace;
    while lock().tracker.in_flight() > 0 {
        if tokio::time::timeout_at(deadline, progress.notified())
            .await
            .is_err()
        {
            break;
        }
    }
    let (offset, left) = {
        let mut ledger = lock();
        (ledger.tracker.offset(), ledger.tracker.in_flight())
    };
    if left > 0 {
        tracing::warn!(
            left,
            "grace period over; unfinished updates will be redelivered"
        );
    }
    let confirm = app.api.get_updates(offset as i32, 0, 1);
    match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
        Ok(Ok(_)) => {
            lock().journal.forget_below(offset);
            tracing::info!(offset, "confirmed; bye");
        }
        Ok(Err(error)) => tracing::warn!(%error, "could not confirm the last updates"),
        Err(_) => tracing::warn!("could not confirm the last updates in time"),
    }
    Ok(())
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
        assert!(!t.start(7), "below the offset");
        assert!(t.start(8));
        assert_eq!(t.in_flight(), 1);
    }
}
