//! Per-user rate limiting: a fixed one-minute window per user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the limit applies to.
const WINDOW: Duration = Duration::from_secs(60);
/// Forget idle users once this many are tracked.
const PRUNE_AT: usize = 10_000;

/// What to do with a user's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Within the limit: handle it.
    Allow,
    /// The first message over the limit in this window: tell the user to slow down.
    SlowDown,
    /// Over the limit, already told: drop it silently.
    Drop,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    count: u32,
}

/// Counts each user's messages per minute.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    users: Mutex<HashMap<u64, Window>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` messages per user; 0 means no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            users: Mutex::default(),
        }
    }

    /// Counts a message from `user` at `now` and decides its fate.
    pub fn check(&self, user: u64, now: Instant) -> Decision {
        if self.per_minute == 0 {
            return Decision::Allow;
        }
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() >= PRUNE_AT {
            users.retain(|_, w| now.duration_since(w.start) < WINDOW);
        }
        let window = users.entry(user).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(window.start) >= WINDOW {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        match window.count.checked_sub(self.per_minute) {
            None | Some(0) => Decision::Allow,
            Some(1) => Decision::SlowDown,
            Some(_) => Decision::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notice_per_window_and_users_apart() {
        let limiter = RateLimiter::new(3);
        let t = Instant::now();
        let decisions: Vec<_> = (0..6).map(|_| limiter.check(1, t)).collect();
        use Decision::*;
        assert_eq!(decisions, [Allow, Allow, Allow, SlowDown, Drop, Drop]);
        assert_eq!(limiter.check(2, t), Allow, "other users are not affected");
        assert_eq!(limiter.check(1, t + WINDOW), Allow, "a new window");
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        let t = Instant::now();
        assert!((0..1000).all(|_| limiter.check(1, t) == Decision::Allow));
    }
}
