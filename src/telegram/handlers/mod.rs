//! Handlers: what the bot does with a message, a button press or an inline
//! query. Every reply is the essays' own words, rendered by
//! [`citebot_core::render::html`]; the bot's few fixed texts are in
//! [`citebot_core::render::bot_texts`].
//!
//! [`schema`] routes each update: first what it asks and of whom
//! ([`Incoming`]), then the [guard](super::guard) (access lists and rate
//! limits), then the handler for its kind: [`message`], [`callback`] or
//! [`inline`]. Handlers call only the engine's façade, on the blocking pool.

mod callback;
mod inline;
mod message;

use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::dptree::{self, Handler};
use teloxide::types::{ChatId, ChatMigration, Me, Message, Update, UpdateKind};

use super::api::{Api, ApiFailure, Reply};
use super::commands::{self, Request};
use super::guard::{self, Asker, Guard, Kind};
use super::library::{Library, Loaded};
use super::metrics::Metrics;
use citebot_core::config::TelegramConfig;
use citebot_core::engine::{Ask, FollowUp};
use citebot_core::filter::Filters;

/// Longest question or quote passed to the engine, in characters.
const MAX_QUERY_CHARS: usize = 1000;

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandlerError {
    /// The engine failed.
    #[error("engine: {0}")]
    Engine(#[from] citebot_core::Error),
    /// An engine call panicked or was cancelled.
    #[error("engine task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Telegram refused or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiFailure),
}

/// What a handler did (for the log), or why it failed.
pub(crate) type Handled = Result<&'static str, HandlerError>;

/// Everything handlers share.
pub(crate) struct App {
    /// The Bot API.
    pub api: Api,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The engine.
    pub library: Library,
    /// Access lists and rate limits.
    pub guard: Guard,
    config: TelegramConfig,
    /// Where `/add` writes, and its limits.
    adding: citebot_core::ingest::AddOptions,
    /// What questions are asked within unless they say otherwise (the config's `[filters]`).
    filters: Filters,
    me: Me,
}

/// What an update asks of the bot, as far as routing needs to know.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    /// Nothing for the bot, with the reason (for the log).
    Ignored(&'static str),
    /// Telegram says a group became a supergroup.
    Migrated {
        /// The group's id.
        old: ChatId,
        /// The supergroup's id.
        new: ChatId,
    },
    /// A request to check and handle.
    Asked(Asked),
}

/// A request for the bot: who asks (for the guard) and, for a message, what.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    /// Who asks, where and when.
    pub asker: Asker,
    /// What a message asks (None for buttons and inline queries).
    pub request: Option<Request>,
}

impl Incoming {
    /// Reads `update` as the bot `app.me` sees it.
    fn read(app: Arc<App>, update: Update) -> Incoming {
        let at = guard::time_of(&update);
        let asked = |user, chat, kind, request| {
            Incoming::Asked(Asked {
                asker: Asker {
                    user,
                    chat,
                    kind,
                    at,
                },
                request,
            })
        };
        match &update.kind {
            UpdateKind::Message(message) => {
                if let Some(migration) = message.chat_migration() {
                    let (old, new) = match *migration {
                        ChatMigration::To { chat_id } => (message.chat.id, chat_id),
                        ChatMigration::From { chat_id } => (chat_id, message.chat.id),
                    };
                    return Incoming::Migrated { old, new };
                }
                let Some(user) = message.from.as_ref().filter(|u| !u.is_bot) else {
                    return Incoming::Ignored("ignored: from a bot");
                };
                if message.via_bot.is_some() {
                    return Incoming::Ignored("ignored: sent via a bot");
                }
                match app.parse(message) {
                    Request::NotForUs => Incoming::Ignored("ignored: not addressed"),
                    request => asked(user.id, Some(message.chat.id), Kind::Message, Some(request)),
                }
            }
            UpdateKind::CallbackQuery(query) => {
                let chat = query.message.as_ref().map(|m| m.chat().id);
                asked(query.from.id, chat, Kind::Button, None)
            }
            UpdateKind::InlineQuery(query) => {
                // Inline queries count as the user's private chat.
                let chat = ChatId(query.from.id.0 as i64);
                asked(query.from.id, Some(chat), Kind::Inline, None)
            }
            _ => Incoming::Ignored("ignored"),
        }
    }

    fn ignored(self) -> Option<&'static str> {
        match self {
            Incoming::Ignored(why) => Some(why),
            _ => None,
        }
    }

    fn migration(self) -> Option<(ChatId, ChatId)> {
        match self {
            Incoming::Migrated { old, new } => Some((old, new)),
            _ => None,
        }
    }

    fn asked(self) -> Option<Asked> {
        match self {
            Incoming::Asked(asked) => Some(asked),
            _ => None,
        }
    }
}

/// The handler tree. The shared [`App`] and the update are injected as
/// dependencies (`dptree::deps!`); every request passes [`guard::filter`]
/// before its handler.
pub(crate) fn schema() -> Handler<'static, Handled, DpHandlerDescription> {
    dptree::map(Incoming::read)
        .branch(
            dptree::filter_map(Incoming::ignored)
                .endpoint(|why: &'static str| async move { Ok(why) }),
        )
        .branch(dptree::filter_map(Incoming::migration).endpoint(
            |app: Arc<App>, (old, new): (ChatId, ChatId)| async move {
                app.guard.migrated(old, new);
                Ok("group became a supergroup")
            },
        ))
        .branch(
            dptree::filter_map(Incoming::asked).chain(
                guard::filter()
                    .branch(Update::filter_message().endpoint(message::handle))
                    .branch(Update::filter_callback_query().endpoint(callback::handle))
                    .branch(Update::filter_inline_query().endpoint(inline::handle)),
            ),
        )
}

/// Handles one update through [`schema`]; returns what was done, for the log.
pub(crate) async fn handle(app: Arc<App>, update: Update) -> Handled {
    static SCHEMA: OnceLock<Handler<'static, Handled, DpHandlerDescription>> = OnceLock::new();
    let schema = SCHEMA.get_or_init(schema);
    match schema.dispatch(dptree::deps![app, update]).await {
        ControlFlow::Break(handled) => handled,
        ControlFlow::Continue(_) => Ok("ignored"),
    }
}

/// What the bot was configured with: its `[telegram]` section, where
/// `/add` writes, and the filters questions are asked within by default.
pub(crate) struct Settings {
    /// The `[telegram]` section.
    pub config: TelegramConfig,
    /// Where `/add` writes, and its limits.
    pub adding: citebot_core::ingest::AddOptions,
    /// The config's `[filters]`.
    pub filters: Filters,
}

impl App {
    /// The shared state of a bot `me`, configured by `settings`.
    pub fn new(
        api: Api,
        library: Library,
        guard: Guard,
        settings: Settings,
        me: Me,
        metrics: Arc<Metrics>,
    ) -> App {
        let Settings {
            config,
            adding,
            filters,
        } = settings;
        App {
            api,
            metrics,
            library,
            guard,
            config,
            adding,
            filters,
            me,
        }
    }

    /// The bot's username.
    pub fn username(&self) -> &str {
        self.me.username()
    }

    /// How to ask `message`'s question: within the default filters and,
    /// when it replies to one of this bot's answers, as a follow-up of it.
    fn ask_options(&self, message: &Message) -> Ask {
        Ask {
            filters: self.filters.clone(),
            context: follow_up(message, self.me.user.id),
            ..Ask::default()
        }
    }

    /// What `message` asks of this bot.
    fn parse(&self, message: &Message) -> Request {
        let text = message.text().or_else(|| message.caption()).unwrap_or("");
        let reply_to_bot = message
            .reply_to_message()
            .and_then(|r| r.from.as_ref())
            .is_some_and(|from| from.id == self.me.user.id);
        commands::parse(
            text,
            self.me.username(),
            message.chat.is_private(),
            reply_to_bot,
        )
    }

    /// Runs `f` on the current engine on the blocking pool.
    async fn with_engine<T, F>(&self, f: F) -> Result<T, HandlerError>
    where
        T: Send + 'static,
        F: FnOnce(&Loaded) -> T + Send + 'static,
    {
        let loaded = self.library.current();
        Ok(tokio::task::spawn_blocking(move || f(&loaded)).await?)
    }

    /// Results per answer in this kind of chat.
    fn per_answer(&self, private: bool) -> usize {
        let n = if private {
            self.config.results_private
        } else {
            self.config.results_group
        };
        n.clamp(1, 10)
    }

    /// Sends `reply`; if its group has become a supergroup, records that and
    /// sends it there.
    pub async fn send(&self, reply: Reply) -> Result<Message, ApiFailure> {
        match self.api.send(&reply).await {
            Err(ApiFailure {
                migrated_to: Some(new),
                ..
            }) => {
                self.guard.migrated(reply.chat, new);
                self.api.send(&Reply { chat: new, ..reply }).await
            }
            sent => sent,
        }
    }

    /// Replies `text` (HTML) to `to`.
    pub async fn reply(&self, to: &Message, text: String) -> Result<(), HandlerError> {
        self.send(Reply::to(to.chat.id, to.id, text)).await?;
        Ok(())
    }
}

/// `text` cut to [`MAX_QUERY_CHARS`] characters and trimmed.
fn clip(text: &str) -> String {
    text.trim().chars().take(MAX_QUERY_CHARS).collect()
}

/// The answer `message` follows up, statelessly: when it replies to one of
/// the bot's (`me`'s) messages, the passages that answer showed (its
/// **Context** buttons carry their ids) and, when the reply quotes part of
/// it (Telegram's quote), the quoted words.
pub(crate) fn follow_up(message: &Message, me: teloxide::types::UserId) -> Option<FollowUp> {
    let answer = message.reply_to_message()?;
    if answer.from.as_ref().is_none_or(|from| from.id != me) {
        return None;
    }
    let passages: Vec<String> = answer
        .reply_markup()
        .map(|markup| {
            markup
                .inline_keyboard
                .iter()
                .flatten()
                .filter_map(|button| match &button.kind {
                    teloxide::types::InlineKeyboardButtonKind::CallbackData(data) => {
                        match super::buttons::Button::parse(data) {
                            Some(super::buttons::Button::Context(id)) => Some(id),
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let excerpt = message.quote().map(|q| q.text.clone());
    (!passages.is_empty() || excerpt.is_some()).then_some(FollowUp { passages, excerpt })
}
