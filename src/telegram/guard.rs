//! The guard: who may use the bot and how fast, decided in one place.
//!
//! [`filter`] is a dptree filter in the [`schema`](super::handlers::schema):
//! every message for the bot, button press and inline query goes through it
//! before any handler runs. It applies, in order:
//!
//! 1. **the access lists** (`allowed_chats`, `allowed_users`): when either is
//!    non-empty, only the chats and users in them get answers. A group that
//!    became a supergroup keeps its place in `allowed_chats`. Others get one
//!    polite refusal per chat (a button press or inline query is always told).
//! 2. **the rate limits**, per user: `rate_limit_per_minute` for messages and
//!    button presses, counted at the time Telegram received the message (so a
//!    backlog redelivered after a restart counts as it did then) and saved in
//!    the journal; and `inline_rate_limit_per_minute` for inline queries,
//!    which arrive as people type. The first request over a limit gets a
//!    "slow down", the rest of the minute is dropped without a word.
//! 3. **the chat's pace**, when sends are paced: Telegram lets the bot answer
//!    a chat about once a second (20 times a minute in a group), so a
//!    question that would wait more than [`HORIZON`] for its chat's turn is
//!    not taken on (one "slow down" a minute per chat). Updates are confirmed
//!    to Telegram in order, so a chat with a long queue would hold back the
//!    confirmation, and with it the delivery, of everyone else's updates.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::dispatching::DpHandlerDescription;
use teloxide::dptree::{self, Handler};
use teloxide::types::{
    ChatId, InlineQueryResultsButton, InlineQueryResultsButtonKind, Update, UpdateKind, UserId,
};

use super::handlers::{App, Asked, Handled};
use super::journal::{Journal, unix_now};
use super::pacer::ChatSlots;
use super::ratelimit::{Decision, RateLimiter, WINDOW_SECONDS};
use citebot_core::config::TelegramConfig;
use citebot_core::render::{bot_texts, html};

/// How long a question may have to wait for its chat's turn: with one
/// answer a second, a chat may have three questions in hand.
pub(crate) const HORIZON: Duration = Duration::from_secs(2);

/// What an asker is asking with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A message (a question or a command).
    Message,
    /// A button press.
    Button,
    /// An inline query.
    Inline,
}

/// Who asks, where, when and how: what the guard decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asker {
    /// The user.
    pub user: UserId,
    /// The chat, when known (inline queries count as the user's private chat).
    pub chat: Option<ChatId>,
    /// Message, button or inline query.
    pub kind: Kind,
    /// When Telegram received it (messages) or now (the rest), in unix seconds.
    pub at: u64,
}

/// The guard's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Go on to the handler.
    Admit,
    /// Outside the access lists.
    Refuse,
    /// The first request over the rate limit: say so.
    SlowDown,
    /// Over the rate limit, already told.
    Drop,
}

/// Access lists, rate limits and the memory they need.
pub(crate) struct Guard {
    allowed_chats: HashSet<i64>,
    allowed_users: HashSet<u64>,
    /// New chat id → the group it was before becoming a supergroup.
    migrated_from: Mutex<HashMap<i64, i64>>,
    messages: RateLimiter,
    inline: RateLimiter,
    refused: Mutex<HashSet<i64>>,
    /// Each chat's turns, by the time its messages were sent (when paced).
    pace: Option<Mutex<ChatSlots<Duration>>>,
    /// When each chat was last told to slow down, in unix seconds.
    told: Mutex<HashMap<i64, u64>>,
    journal: Option<Arc<Journal>>,
}

impl Guard {
    /// A guard for `config`, taking back the windows and migrations saved in
    /// `journal` (where it saves new ones).
    pub fn new(config: &TelegramConfig, journal: Option<Arc<Journal>>) -> Guard {
        let guard = Guard {
            allowed_chats: config.allowed_chats.iter().copied().collect(),
            allowed_users: config.allowed_users.iter().copied().collect(),
            migrated_from: Mutex::default(),
            messages: RateLimiter::new(config.rate_limit_per_minute),
            inline: RateLimiter::new(config.inline_rate_limit_per_minute),
            refused: Mutex::default(),
            pace: config.throttle.then(Mutex::default),
            told: Mutex::default(),
            journal,
        };
        if let Some(journal) = &guard.journal {
            for (user, window) in journal.windows() {
                guard.messages.restore(user, window);
            }
            let mut from = guard.lock_migrations();
            for (old, new) in journal.migrations() {
                from.insert(new, old);
            }
        }
        guard
    }

    fn lock_migrations(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        self.migrated_from.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The verdict on `asker`'s request (counting it against their budget).
    pub fn check(&self, asker: &Asker) -> Pass {
        if !self.allowed(asker.chat, asker.user) {
            return Pass::Refuse;
        }
        let user = asker.user.0;
        let decision = match asker.kind {
            Kind::Inline => self.inline.check(user, asker.at).0,
            Kind::Message | Kind::Button => {
                let (decision, window) = self.messages.check(user, asker.at);
                if let (Some(journal), Some(window)) = (&self.journal, window) {
                    journal.save_window(user, window);
                }
                decision
            }
        };
        match decision {
            Decision::Allow => self.pace(asker),
            Decision::SlowDown => self.slow_down(asker),
            Decision::Drop => Pass::Drop,
        }
    }

    /// A "slow down" notice, unless the chat was told in the last minute (a
    /// message in the chat is not the place to repeat it; a button's pop-up
    /// or an inline hint is).
    fn slow_down(&self, asker: &Asker) -> Pass {
        match (asker.kind, asker.chat) {
            (Kind::Message, Some(chat)) if !self.first_notice(chat, asker.at) => Pass::Drop,
            _ => Pass::SlowDown,
        }
    }

    /// Takes the request on if its chat's turn comes soon enough.
    fn pace(&self, asker: &Asker) -> Pass {
        let (Some(pace), Some(chat), false) = (&self.pace, asker.chat, asker.kind == Kind::Inline)
        else {
            return Pass::Admit;
        };
        let now = Duration::from_secs(asker.at);
        let mut slots = pace.lock().unwrap_or_else(|e| e.into_inner());
        let turn = slots.next(chat, now);
        if turn <= now + HORIZON {
            slots.book(chat, turn);
            return Pass::Admit;
        }
        drop(slots);
        self.slow_down(asker)
    }

    /// Whether `chat` may be told to slow down at `now` (once a minute).
    fn first_notice(&self, chat: ChatId, now: u64) -> bool {
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        if told.len() >= 10_000 {
            told.retain(|_, &mut at| now.saturating_sub(at) < WINDOW_SECONDS);
        }
        match told.get(&chat.0) {
            Some(&at) if now.saturating_sub(at) < WINDOW_SECONDS => false,
            _ => {
                told.insert(chat.0, now);
                true
            }
        }
    }

    /// Whether access is restricted to the lists (so answers are personal).
    pub fn is_restricted(&self) -> bool {
        !self.allowed_chats.is_empty() || !self.allowed_users.is_empty()
    }

    /// Whether `user` may use the bot in `chat`.
    pub fn allowed(&self, chat: Option<ChatId>, user: UserId) -> bool {
        if !self.is_restricted() {
            return true;
        }
        if self.allowed_users.contains(&user.0) {
            return true;
        }
        let Some(chat) = chat else {
            return false;
        };
        if self.allowed_chats.contains(&chat.0) {
            return true;
        }
        // Follow migrations back: the group may be listed under its old id.
        let from = self.lock_migrations();
        let mut at = chat.0;
        for _ in 0..from.len() {
            match from.get(&at) {
                Some(&old) => at = old,
                None => break,
            }
            if self.allowed_chats.contains(&at) {
                return true;
            }
        }
        false
    }

    /// Records that group `old` became supergroup `new` (once per pair).
    pub fn migrated(&self, old: ChatId, new: ChatId) {
        if self.lock_migrations().insert(new.0, old.0) == Some(old.0) {
            return;
        }
        if let Some(journal) = &self.journal {
            journal.save_migration(old.0, new.0);
        }
        if self.allowed_chats.contains(&old.0) {
            tracing::warn!(
                old = old.0,
                new = new.0,
                "an allowed group became a supergroup: it stays allowed; add the new id to allowed_chats"
            );
        } else {
            tracing::info!(old = old.0, new = new.0, "a group became a supergroup");
        }
    }

    /// Whether this is the first refusal in `chat` (per process).
    fn first_refusal(&self, chat: ChatId) -> bool {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(chat.0)
    }
}

/// The guard as a dptree filter: turns away what it does not admit, and
/// lets the rest through to the handlers chained after it.
pub(crate) fn filter() -> Handler<'static, Handled, DpHandlerDescription> {
    dptree::map(|app: Arc<App>, asked: Asked| app.guard.check(&asked.asker))
        .branch(dptree::filter(|pass: Pass| pass != Pass::Admit).endpoint(turn_away))
}

/// Tells the asker why not, where there is something to tell.
async fn turn_away(app: Arc<App>, update: Update, pass: Pass) -> Handled {
    let metrics = &app.metrics;
    (if pass == Pass::Refuse {
        &metrics.refusals
    } else {
        &metrics.rate_limited
    })
    .inc();
    match (&update.kind, pass) {
        (UpdateKind::Message(message), Pass::Refuse) => {
            if !app.guard.first_refusal(message.chat.id) {
                return Ok("refused: not allowed (already told)");
            }
            app.reply(message, html::escape(bot_texts::REFUSAL)).await?;
            Ok("refused: not allowed")
        }
        (UpdateKind::Message(message), Pass::SlowDown) => {
            app.reply(message, html::escape(bot_texts::SLOW_DOWN))
                .await?;
            Ok("rate limited: told to slow down")
        }
        (UpdateKind::CallbackQuery(query), _) => {
            let (notice, action) = match pass {
                Pass::Refuse => (bot_texts::REFUSAL, "button refused: not allowed"),
                _ => (bot_texts::SLOW_DOWN, "button: rate limited"),
            };
            app.api.answer_callback(&query.id, Some(notice)).await?;
            Ok(action)
        }
        (UpdateKind::InlineQuery(query), Pass::Refuse | Pass::SlowDown) => {
            let (hint, action) = match pass {
                Pass::Refuse => (bot_texts::INLINE_REFUSAL, "inline refused: not allowed"),
                _ => (bot_texts::INLINE_SLOW_DOWN, "inline: rate limited, told"),
            };
            app.api
                .answer_inline(&query.id, Vec::new(), Some(hint_button(hint)), true)
                .await?;
            Ok(action)
        }
        (UpdateKind::InlineQuery(_), _) => Ok("inline: rate limited, dropped"),
        _ => Ok("rate limited: dropped"),
    }
}

/// The button above inline results that shows `text` and opens `/start help`.
pub(crate) fn hint_button(text: &str) -> InlineQueryResultsButton {
    InlineQueryResultsButton {
        text: text.to_string(),
        kind: InlineQueryResultsButtonKind::StartParameter("help".to_string()),
    }
}

/// When a request was made, in unix seconds: Telegram's date for a message,
/// else now.
pub(crate) fn time_of(update: &Update) -> u64 {
    match &update.kind {
        UpdateKind::Message(m) => u64::try_from(m.date.timestamp()).unwrap_or(0),
        _ => unix_now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(chats: &[i64], users: &[u64]) -> TelegramConfig {
        let mut config = citebot_core::config::Config::default().telegram;
        config.allowed_chats = chats.to_vec();
        config.allowed_users = users.to_vec();
        config.rate_limit_per_minute = 2;
        config.inline_rate_limit_per_minute = 3;
        config.throttle = false;
        config
    }

    fn asker(user: u64, chat: Option<i64>, kind: Kind) -> Asker {
        Asker {
            user: UserId(user),
            chat: chat.map(ChatId),
            kind,
            at: 1_700_000_000,
        }
    }

    #[test]
    fn access_lists_follow_migrations() {
        let guard = Guard::new(&config(&[-5], &[9]), None);
        assert_eq!(guard.check(&asker(1, Some(-5), Kind::Message)), Pass::Admit);
        assert_eq!(
            guard.check(&asker(1, Some(-6), Kind::Message)),
            Pass::Refuse
        );
        assert_eq!(
            guard.check(&asker(9, Some(-6), Kind::Message)),
            Pass::Admit,
            "an allowed user"
        );
        assert_eq!(guard.check(&asker(1, None, Kind::Button)), Pass::Refuse);
        assert_eq!(
            guard.check(&asker(1, Some(-1005), Kind::Message)),
            Pass::Refuse
        );
        guard.migrated(ChatId(-5), ChatId(-1005));
        assert_eq!(
            guard.check(&asker(2, Some(-1005), Kind::Message)),
            Pass::Admit
        );
        let open = Guard::new(&config(&[], &[]), None);
        assert_eq!(open.check(&asker(1, None, Kind::Inline)), Pass::Admit);
    }

    #[test]
    fn messages_buttons_and_inline_have_budgets_of_their_own() {
        let guard = Guard::new(&config(&[], &[]), None);
        let passes = |kind, n| -> Vec<Pass> {
            (0..n)
                .map(|_| guard.check(&asker(1, Some(1), kind)))
                .collect()
        };
        use Pass::*;
        assert_eq!(passes(Kind::Message, 1), [Admit]);
        assert_eq!(
            passes(Kind::Button, 3),
            [Admit, SlowDown, Drop],
            "one budget"
        );
        assert_eq!(
            passes(Kind::Inline, 5),
            [Admit, Admit, Admit, SlowDown, Drop]
        );
    }

    /// An open guard with sends paced and `rate_limit` messages a minute.
    fn paced(rate_limit: u32) -> Guard {
        let mut config = config(&[], &[]);
        config.throttle = true;
        config.rate_limit_per_minute = rate_limit;
        Guard::new(&config, None)
    }

    #[test]
    fn a_chat_may_have_three_questions_waiting_for_its_pace() {
        let guard = paced(100);
        let at = |user, chat: i64, second| Asker {
            at: 1_700_000_000 + second,
            ..asker(user, Some(chat), Kind::Message)
        };
        use Pass::*;
        let burst: Vec<Pass> = (0..6).map(|_| guard.check(&at(1, 1, 0))).collect();
        assert_eq!(burst, [Admit, Admit, Admit, SlowDown, Drop, Drop]);
        assert_eq!(
            guard.check(&at(2, 2, 0)),
            Admit,
            "other chats are not affected"
        );
        assert_eq!(guard.check(&at(1, 1, 1)), Admit, "a turn a second");
        assert_eq!(guard.check(&at(1, 1, 1)), Drop, "told once a minute");
        let group: Vec<Pass> = (0..23u64).map(|s| guard.check(&at(3, -100, s))).collect();
        assert!(group[..20].iter().all(|p| *p == Admit), "{group:?}");
        assert_eq!(
            group[20..],
            [SlowDown, Drop, Drop],
            "20 a minute in a group"
        );
        let inline: Vec<Pass> = (0..3)
            .map(|_| guard.check(&asker(1, Some(1), Kind::Inline)))
            .collect();
        assert_eq!(
            inline,
            [Admit, Admit, Admit],
            "inline answers are not paced"
        );
    }

    #[test]
    fn a_chat_is_told_to_slow_down_once_whichever_limit_it_hits() {
        let guard = paced(4);
        use Pass::*;
        let burst: Vec<Pass> = (0..6)
            .map(|_| guard.check(&asker(1, Some(1), Kind::Message)))
            .collect();
        // Three fit the chat's pace, the fourth is told; the fifth is the
        // first over the rate limit, but the chat was told a moment ago.
        assert_eq!(burst, [Admit, Admit, Admit, SlowDown, Drop, Drop]);
        assert_eq!(
            guard.check(&asker(1, Some(1), Kind::Button)),
            Drop,
            "over the rate limit, already told"
        );
        let guard = paced(100);
        for _ in 0..3 {
            guard.check(&asker(2, Some(2), Kind::Message));
        }
        let presses: Vec<Pass> = (0..2)
            .map(|_| guard.check(&asker(2, Some(2), Kind::Button)))
            .collect();
        assert_eq!(
            presses,
            [SlowDown, SlowDown],
            "a button's pop-up costs the chat nothing, so it is always shown"
        );
    }

    #[test]
    fn windows_and_migrations_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let now = unix_now();
        let at = |user| Asker {
            at: now,
            ..asker(user, Some(user as i64), Kind::Message)
        };
        {
            let journal = Arc::new(Journal::open(&path, 1).unwrap());
            let guard = Guard::new(&config(&[-5], &[1, 2]), Some(journal));
            assert_eq!(guard.check(&at(1)), Pass::Admit);
            assert_eq!(guard.check(&at(1)), Pass::Admit);
            guard.migrated(ChatId(-5), ChatId(-1005));
        }
        let journal = Arc::new(Journal::open(&path, 1).unwrap());
        let guard = Guard::new(&config(&[-5], &[2]), Some(journal));
        assert_eq!(
            guard.check(&at(1)),
            Pass::Refuse,
            "user 1 is no longer listed"
        );
        let guard = Guard::new(&config(&[-5], &[1]), guard.journal.clone());
        assert_eq!(guard.check(&at(1)), Pass::SlowDown, "the window went on");
        assert!(
            guard.allowed(Some(ChatId(-1005)), UserId(3)),
            "the migration too"
        );
    }
}
