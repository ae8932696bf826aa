//! Per-user rate limiting: a fixed one-minute window per user, on a clock of
//! unix seconds, so a window can be saved and restored across restarts.

use std::collections::HashMap;
use std::sync::Mutex;

/// The window the limit applies to, in seconds.
pub(crate) const WINDOW_SECONDS: u64 = 60;
/// Forget idle users once this many are tracked.
const PRUNE_AT: usize = 10_000;

/// What to do with a user's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Within the limit: handle it.
    Allow,
    /// The first request over the limit in this window: tell the user to slow down.
    SlowDown,
    /// Over the limit, already told: drop it silently.
    Drop,
}

/// One user's current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// When the window began, in unix seconds.
    pub start: u64,
    /// Requests counted in it.
    pub count: u32,
}

impl Window {
    /// Whether the window still applies at `now`.
    pub fn is_current(&self, now: u64) -> bool {
        now.saturating_sub(self.start) < WINDOW_SECONDS
    }
}

/// Counts each user's requests per minute.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    users: Mutex<HashMap<u64, Window>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per user; 0 means no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            users: Mutex::default(),
        }
    }

    /// Takes back a window saved before a restart.
    pub fn restore(&self, user: u64, window: Window) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.insert(user, window);
    }

    /// Counts a request from `user` made at `now` (unix seconds) and decides
    /// its fate; also returns the user's window after counting, to be saved
    /// (None when there is no limit).
    pub fn check(&self, user: u64, now: u64) -> (Decision, Option<Window>) {
        if self.per_minute == 0 {
            return (Decision::Allow, None);
        }
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() >= PRUNE_AT {
            users.retain(|_, w| w.is_current(now));
        }
        let window = users.entry(user).or_insert(Window {
            start: now,
            count: 0,
        });
        // A redelivered request may be older than the window: it counts in it.
        if !window.is_current(now) {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        let decision = match window.count.checked_sub(self.per_minute) {
            None | Some(0) => Decision::Allow,
            Some(1) => Decision::SlowDown,
            Some(_) => Decision::Drop,
        };
        (decision, Some(*window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notice_per_window_and_users_apart() {
        let limiter = RateLimiter::new(3);
        let t = 1_700_000_000;
        let decisions: Vec<_> = (0..6).map(|_| limiter.check(1, t).0).collect();
        use Decision::*;
        assert_eq!(decisions, [Allow, Allow, Allow, SlowDown, Drop, Drop]);
        assert_eq!(limiter.check(2, t).0, Allow, "other users are not affected");
        assert_eq!(limiter.check(1, t - 5).0, Drop, "an older request counts");
        assert_eq!(
            limiter.check(1, t + WINDOW_SECONDS).0,
            Allow,
            "a new window"
        );
    }

    #[test]
    fn a_restored_window_goes_on_counting() {
        let t = 1_700_000_000;
        let before = RateLimiter::new(3);
        before.check(7, t);
        let (_, window) = before.check(7, t + 1);
        let after = RateLimiter::new(3);
        after.restore(7, window.unwrap());
        let decisions: Vec<_> = (0..3).map(|_| after.check(7, t + 2).0).collect();
        use Decision::*;
        assert_eq!(
            decisions,
            [Allow, SlowDown, Drop],
            "2 counted before the restart"
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        assert!((0..1000).all(|_| limiter.check(1, 0) == (Decision::Allow, None)));
    }
}
