//! Dispatch: updates run concurrently across chats and in arrival order
//! within one; a handler's error or panic becomes a log line and an apology,
//! never a stopped bot. [`process`] is what happens to each update (also
//! for [`Bot::handle`](super::Bot::handle)).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use teloxide::types::{CallbackQueryId, ChatId, InlineQueryId, MessageId, Update, UpdateKind};

use super::Outcome;
use super::api::Reply;
use super::guard::hint_button;
use super::handlers::{self, App};
use citebot_core::render::{bot_texts, html};

/// Called once an update is handled (answered, refused, ignored or failed).
pub(crate) type Done = Box<dyn FnOnce() + Send>;

struct Job {
    update: Update,
    arrived: Instant,
    done: Done,
}

/// Updates of one lane run one at a time, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lane {
    Chat(i64),
    User(u64),
    Alone(u32),
}

/// What the logs and an apology need to know about an update; never its text.
#[derive(Debug)]
struct Facts {
    id: u32,
    kind: &'static str,
    user: u64,
    chat: Option<(ChatId, MessageId)>,
    callback: Option<CallbackQueryId>,
    inline: Option<InlineQueryId>,
}

impl Facts {
    fn of(update: &Update) -> Facts {
        let mut facts = Facts {
            id: update.id.0,
            kind: "other",
            user: update.from().map_or(0, |u| u.id.0),
            chat: None,
            callback: None,
            inline: None,
        };
        match &update.kind {
            UpdateKind::Message(m) => {
                facts.kind = chat_kind(&m.chat);
                facts.chat = Some((m.chat.id, m.id));
            }
            UpdateKind::CallbackQuery(q) => {
                facts.kind = "callback";
                facts.callback = Some(q.id.clone());
            }
            UpdateKind::InlineQuery(q) => {
                facts.kind = "inline";
                facts.inline = Some(q.id.clone());
            }
            _ => {}
        }
        facts
    }

    fn lane(&self, update: &Update) -> Lane {
        match (update.chat(), &update.kind) {
            (Some(chat), _) => Lane::Chat(chat.id.0),
            (None, UpdateKind::InlineQuery(_)) => Lane::User(self.user),
            _ => Lane::Alone(self.id),
        }
    }
}

fn chat_kind(chat: &teloxide::types::Chat) -> &'static str {
    if chat.is_private() {
        "private"
    } else if chat.is_supergroup() {
        "supergroup"
    } else if chat.is_group() {
        "group"
    } else {
        "channel"
    }
}

/// Runs updates: one task per busy lane (chat), each draining its queue.
pub(crate) struct Dispatcher {
    app: Arc<App>,
    lanes: Mutex<HashMap<Lane, VecDeque<Job>>>,
}

impl Dispatcher {
    /// A dispatcher running handlers against `app`.
    pub fn new(app: Arc<App>) -> Dispatcher {
        Dispatcher {
            app,
            lanes: Mutex::default(),
        }
    }

    /// The bot's state.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Queues `update`; `done` runs once it has been handled.
    pub fn submit(self: &Arc<Self>, update: Update, done: Done) {
        self.app.metrics.updates.inc();
        let facts = Facts::of(&update);
        let lane = facts.lane(&update);
        let job = Job {
            update,
            arrived: Instant::now(),
            done,
        };
        {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(queue) = lanes.get_mut(&lane) {
                queue.push_back(job);
                return;
            }
            lanes.insert(lane, VecDeque::new());
        }
        tokio::spawn(self.clone().drain(lane, job));
    }

    /// Runs `job`, then the lane's queued jobs, then retires the lane.
    async fn drain(self: Arc<Self>, lane: Lane, mut job: Job) {
        loop {
            self.run(job).await;
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            match lanes.get_mut(&lane).and_then(VecDeque::pop_front) {
                Some(next) => job = next,
                None => {
                    lanes.remove(&lane);
                    return;
                }
            }
        }
    }

    async fn run(&self, job: Job) {
        process(&self.app, job.update, job.arrived).await;
        (job.done)();
    }
}

/// Handles `update` (which arrived at `arrived`) through the handler tree:
/// logs what was done, or why it failed, and then apologises to the user.
pub(crate) async fn process(app: &Arc<App>, update: Update, arrived: Instant) -> Outcome {
    let facts = Facts::of(&update);
    let handling = app.clone();
    // A task of its own, so that a panic is caught as a JoinError.
    let outcome = tokio::spawn(async move { handlers::handle(handling, update).await }).await;
    let ms = arrived.elapsed().as_millis() as u64;
    let (id, kind, user) = (facts.id, facts.kind, facts.user);
    let outcome = match outcome {
        Ok(Ok(action)) => {
            tracing::info!(
                update_id = id,
                chat_type = kind,
                user_id = user,
                action,
                ms,
                "handled"
            );
            Outcome::Handled(action)
        }
        Ok(Err(error)) => {
            tracing::error!(update_id = id, chat_type = kind, user_id = user, %error, ms, "handler failed");
            apologise(app, &facts).await;
            Outcome::Failed(error.to_string())
        }
        Err(panic) => {
            tracing::error!(update_id = id, chat_type = kind, user_id = user, error = %panic, ms, "handler panicked");
            apologise(app, &facts).await;
            Outcome::Failed(panic.to_string())
        }
    };
    app.metrics.latency.observe(arrived.elapsed().as_secs_f64());
    outcome
}

/// Tells the user something went wrong, wherever they asked.
async fn apologise(app: &App, facts: &Facts) {
    app.metrics.failures.inc();
    let api = &app.api;
    let sent = if let Some((chat, message)) = facts.chat {
        let apology = html::escape(bot_texts::APOLOGY);
        app.send(Reply::to(chat, message, apology)).await.map(drop)
    } else if let Some(id) = &facts.callback {
        api.answer_callback(id, Some(bot_texts::APOLOGY)).await
    } else if let Some(id) = &facts.inline {
        let button = hint_button(bot_texts::INLINE_APOLOGY);
        api.answer_inline(id, Vec::new(), Some(button), true).await
    } else {
        Ok(())
    };
    if let Err(error) = sent {
        tracing::warn!(update_id = facts.id, %error, "could not apologise");
    }
}
