//! Pacing: messages kept within Telegram's limits, each chat on its own.
//!
//! Telegram allows about one message a second in a chat, 20 a minute in a
//! group, and 30 a second in all. A send first waits for its own chat's next
//! slot, on its own timer, so a busy chat never holds up another; only then
//! does it take one of the 30 slots of the rolling second, in the order the
//! sends became ready (a fair, first-come queue), each slot coming back a
//! second after it was taken.
//!
//! (teloxide's `Throttle` keeps a queue of at most 30 waiting sends and scans
//! only those: 30 sends to chats at their limit hold everyone else back, and
//! a `429` in one chat freezes all of them. See BENCHMARKS.md.)

use std::collections::{HashMap, VecDeque};
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::types::ChatId;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Sends per rolling second, over all chats.
const PER_SECOND: usize = 30;
/// Shortest gap between two sends to one chat.
const CHAT_GAP: Duration = Duration::from_secs(1);
/// Sends per rolling minute to one group, supergroup or channel.
const GROUP_PER_MINUTE: usize = 20;
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
/// Forget idle chats once this many are tracked.
const PRUNE_AT: usize = 10_000;

/// Telegram's per-chat limits as a timetable: when each chat may next get a
/// message. `T` is the clock: [`Instant`] for sends, the time since the
/// epoch for the guard, which plans by the time messages were sent.
#[derive(Debug)]
pub(crate) struct ChatSlots<T> {
    /// Per chat, the times of its last slots (at most [`GROUP_PER_MINUTE`]).
    chats: HashMap<i64, VecDeque<T>>,
}

impl<T> Default for ChatSlots<T> {
    fn default() -> Self {
        ChatSlots {
            chats: HashMap::new(),
        }
    }
}

impl<T: Copy + Ord + Add<Duration, Output = T>> ChatSlots<T> {
    /// The earliest slot for `chat` at or after `now`.
    pub fn next(&self, chat: ChatId, now: T) -> T {
        let Some(slots) = self.chats.get(&chat.0) else {
            return now;
        };
        let mut at = now;
        if let Some(&last) = slots.back() {
            at = at.max(last + CHAT_GAP);
        }
        if chat.0 < 0 && slots.len() >= GROUP_PER_MINUTE {
            at = at.max(slots[slots.len() - GROUP_PER_MINUTE] + MINUTE);
        }
        at
    }

    /// Books `chat`'s slot `at` (from [`ChatSlots::next`]).
    pub fn book(&mut self, chat: ChatId, at: T) {
        if self.chats.len() >= PRUNE_AT {
            self.chats
                .retain(|_, slots| slots.back().is_some_and(|&last| last + MINUTE > at));
        }
        let slots = self.chats.entry(chat.0).or_default();
        slots.push_back(at);
        while slots.len() > GROUP_PER_MINUTE {
            slots.pop_front();
        }
    }
}

/// Keeps sends within Telegram's limits.
#[derive(Debug)]
pub(crate) struct Pacer {
    slots: Mutex<ChatSlots<Instant>>,
    overall: Arc<Semaphore>,
}

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer {
            slots: Mutex::default(),
            overall: Arc::new(Semaphore::new(PER_SECOND)),
        }
    }
}

impl Pacer {
    /// Waits until a message may be sent to `chat`.
    pub async fn wait(&self, chat: ChatId) {
        let at = self.reserve(chat, Instant::now());
        tokio::time::sleep_until(at).await;
        // The semaphore is never closed.
        if let Ok(slot) = self.overall.clone().acquire_owned().await {
            tokio::spawn(async move {
                tokio::time::sleep(SECOND).await;
                drop(slot);
            });
        }
    }

    /// Books `chat`'s next slot at or after `now`, and returns when it is.
    fn reserve(&self, chat: ChatId, now: Instant) -> Instant {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let at = slots.next(chat, now);
        slots.book(chat, at);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_paced_apart_from_each_other() {
        let pacer = Pacer::default();
        let t = Instant::now();
        let gaps = |chat: i64, n: usize| -> Vec<u64> {
            (0..n)
                .map(|_| (pacer.reserve(ChatId(chat), t) - t).as_secs())
                .collect()
        };
        assert_eq!(gaps(1, 3), [0, 1, 2], "one a second in a chat");
        assert_eq!(gaps(2, 2), [0, 1], "another chat is not held up");
        let group = gaps(-100, 22);
        assert_eq!(&group[..20], (0..20).collect::<Vec<_>>());
        assert_eq!(&group[20..], [60, 61], "20 a minute in a group");
    }

    #[tokio::test(start_paused = true)]
    async fn thirty_a_second_in_all() {
        let pacer = Arc::new(Pacer::default());
        let start = Instant::now();
        let mut sends = Vec::new();
        for chat in 0..75 {
            let pacer = pacer.clone();
            sends.push(tokio::spawn(async move {
                pacer.wait(ChatId(chat)).await;
                Instant::now() - start
            }));
        }
        let mut at = Vec::new();
        for send in sends {
            at.push(send.await.unwrap().as_secs());
        }
        at.sort();
        let per_second: Vec<usize> = (0..3)
            .map(|s| at.iter().filter(|&&t| t == s).count())
            .collect();
        assert_eq!(per_second, [30, 30, 15]);
    }
}
