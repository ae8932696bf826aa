//! Handlers: what the bot does with a message, a button press or an inline
//! query. Every reply is the essays' own words, rendered by
//! [`crate::render::html`]; the bot writes only short fixed texts of its own.
//!
//! Buttons are stateless: their `callback_data` carries what they need
//! (`c:<passage id>` for **Context**, `m:<page>` for **More**, whose question
//! is the text of the message the answer replies to), so they work after a
//! restart and on any replica.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::dptree::{self, Handler};
use teloxide::types::{
    CallbackQuery, ChatId, CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, InlineQuery,
    InlineQueryResult, InlineQueryResultArticle, InlineQueryResultsButton,
    InlineQueryResultsButtonKind, InputMessageContent, InputMessageContentText, Me, Message,
    ParseMode, Update, UserId,
};

use super::api::{Api, ApiFailure, Reply, no_preview};
use super::commands::{self, Command, Request};
use super::metrics::Metrics;
use super::ratelimit::{Decision, RateLimiter};
use super::{Shutdown, TelegramError};
use crate::config::TelegramConfig;
use crate::engine::{Engine, EngineOptions};
use crate::model::{Citation, Hit, Verdict};
use crate::render::html::{self, Html, Tag};
use crate::render::labels;

/// Questions the greeting suggests, when the corpus answers them.
const EXAMPLES: [&str; 3] = [
    "Why does China matter to so many countries?",
    "How should the U.S. deal with Xi Jinping?",
    "What do Obama and Xi need to understand about each other?",
];
/// Longest question or quote passed to the engine, in characters.
const MAX_QUERY_CHARS: usize = 1000;
/// Pages **More** can reach.
const MAX_PAGES: usize = 10;
/// Longest `callback_data` Telegram accepts, in bytes.
const MAX_CALLBACK_DATA: usize = 64;

const REFUSAL: &str = "Sorry, this bot only answers in the chats it was set up for.";
const SLOW_DOWN: &str = "You're sending messages faster than I can answer them. \
     Please wait a minute, then ask again.";
const ASK_USAGE: &str = "Ask me a question in your own words, e.g. /ask Why does China matter?";
const CITE_USAGE: &str = "Send /cite followed by a quote, or reply to a message with /cite \
     to check the quote in it.";
const NOT_ADMIN: &str = "Sorry, only the bot's admins can reload the corpus.";
const NO_QUESTION: &str = "I can't see the question any more. Please ask it again.";

/// An engine and the example questions its corpus answers.
pub(crate) struct Loaded {
    engine: Engine,
    examples: Vec<String>,
}

impl Loaded {
    fn new(engine: Engine) -> Loaded {
        let answers = |q: &str| engine.ask(q, 1).is_ok_and(|a| a.answered);
        let titles = engine.sources().into_iter().map(|s| s.title);
        let examples = EXAMPLES
            .iter()
            .map(|q| q.to_string())
            .chain(titles)
            .filter(|q| answers(q))
            .take(EXAMPLES.len())
            .collect();
        Loaded { engine, examples }
    }
}

/// The current engine; `/reload` swaps in a new one while answers in
/// progress finish with the old.
pub(crate) struct Library(RwLock<Arc<Loaded>>);

impl Library {
    /// Opens the corpus (building or updating its index).
    pub fn open(options: EngineOptions) -> Result<Library, TelegramError> {
        let (engine, report) = Engine::open(options)?;
        for warning in &report.warnings {
            tracing::warn!(%warning, "skipped corpus file");
        }
        tracing::info!(
            essays = report.essays,
            passages = report.passages,
            seconds = report.seconds,
            "corpus loaded"
        );
        Ok(Library(RwLock::new(Arc::new(Loaded::new(engine)))))
    }

    fn current(&self) -> Arc<Loaded> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, loaded: Loaded) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
    }
}

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandlerError {
    /// The engine failed.
    #[error("engine: {0}")]
    Engine(#[from] crate::Error),
    /// An engine call panicked or was cancelled.
    #[error("engine task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Telegram refused or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiFailure),
}

type Handled = Result<&'static str, HandlerError>;

/// The bot's identity, retried until Telegram answers or shutdown starts;
/// None on shutdown.
pub(crate) async fn whoami(api: &Api, shutdown: &Shutdown) -> Result<Option<Me>, TelegramError> {
    loop {
        let attempt = tokio::select! {
            _ = shutdown.wait() => return Ok(None),
            me = api.get_me() => me,
        };
        match attempt {
            Ok(me) => return Ok(Some(me)),
            Err(e) if e.rejected => return Err(TelegramError::Api(e.to_string())),
            Err(e) => tracing::warn!(error = %e, "Telegram unreachable; trying again"),
        }
        tokio::select! {
            _ = shutdown.wait() => return Ok(None),
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}

/// Everything handlers share.
pub(crate) struct App {
    /// The Bot API.
    pub api: Api,
    /// Counters.
    pub metrics: Arc<Metrics>,
    library: Library,
    config: TelegramConfig,
    me: Me,
    limiter: RateLimiter,
    refused: Mutex<HashSet<i64>>,
}

/// The handler tree: which kind of update goes to which handler. The shared
/// [`App`] and the update are injected as dependencies (`dptree::deps!`).
pub(crate) fn schema() -> Handler<'static, Handled, DpHandlerDescription> {
    dptree::entry()
        .branch(
            Update::filter_message().endpoint(|app: Arc<App>, message: Message| async move {
                app.on_message(&message).await
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |app: Arc<App>, query: CallbackQuery| async move { app.on_callback(&query).await },
        ))
        .branch(Update::filter_inline_query().endpoint(
            |app: Arc<App>, query: InlineQuery| async move { app.on_inline(&query).await },
        ))
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

/// A button's `callback_data`.
#[derive(Debug, PartialEq, Eq)]
enum Button {
    More(usize),
    Context(String),
}

impl Button {
    fn parse(data: &str) -> Option<Button> {
        match data.split_once(':')? {
            ("m", page) => page.parse().ok().map(Button::More),
            ("c", id) if !id.is_empty() => Some(Button::Context(id.to_string())),
            _ => None,
        }
    }
}

impl App {
    /// The shared state of a bot `me`.
    pub fn new(
        api: Api,
        library: Library,
        config: TelegramConfig,
        me: Me,
        metrics: Arc<Metrics>,
    ) -> App {
        App {
            api,
            metrics,
            library,
            limiter: RateLimiter::new(config.rate_limit_per_minute),
            config,
            me,
            refused: Mutex::default(),
        }
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

    fn allowed(&self, chat: ChatId, user: UserId) -> bool {
        let c = &self.config;
        (c.allowed_chats.is_empty() && c.allowed_users.is_empty())
            || c.allowed_chats.contains(&chat.0)
            || c.allowed_users.contains(&user.0)
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

    async fn reply(&self, to: &Message, text: String) -> Result<(), HandlerError> {
        self.api.send(&Reply::to(to.chat.id, to.id, text)).await?;
        Ok(())
    }

    // ----- messages --------------------------------------------------------

    async fn on_message(&self, message: &Message) -> Handled {
        let Some(user) = message.from.as_ref().filter(|u| !u.is_bot) else {
            return Ok("ignored: from a bot");
        };
        if message.via_bot.is_some() {
            return Ok("ignored: sent via a bot");
        }
        let private = message.chat.is_private();
        let text = message.text().or_else(|| message.caption()).unwrap_or("");
        let reply_to_bot = message
            .reply_to_message()
            .and_then(|r| r.from.as_ref())
            .is_some_and(|from| from.id == self.me.user.id);
        let request = commands::parse(text, self.me.username(), private, reply_to_bot);
        if request == Request::NotForUs {
            return Ok("ignored: not addressed");
        }
        tracing::debug!(update_chat = message.chat.id.0, text, "message");
        if !self.allowed(message.chat.id, user.id) {
            return self.refuse(message).await;
        }
        match self.limiter.check(user.id.0, Instant::now()) {
            Decision::Allow => {}
            Decision::SlowDown => {
                Metrics::inc(&self.metrics.rate_limited);
                self.reply(message, html::escape(SLOW_DOWN)).await?;
                return Ok("rate limited: told to slow down");
            }
            Decision::Drop => {
                Metrics::inc(&self.metrics.rate_limited);
                return Ok("rate limited: dropped");
            }
        }
        match request {
            Request::Question(q) | Request::Command(Command::Ask(q)) => {
                self.answer(message, &q).await
            }
            Request::Command(Command::Start(payload)) => self.start(message, &payload).await,
            Request::Command(Command::Help) => {
                self.reply(message, help(self.me.username())).await?;
                Ok("help")
            }
            Request::Command(Command::Sources) => {
                let sources = self.with_engine(|l| l.engine.sources()).await?;
                self.reply(message, html::sources(&sources)).await?;
                Ok("sources")
            }
            Request::Command(Command::Reload) => self.reload(message, user.id).await,
            Request::Command(Command::Cite(quote)) => self.cite(message, &quote).await,
            Request::Unknown(name) => {
                let text = format!("I don't know /{name}. See /help for what I can do.");
                self.reply(message, html::escape(&text)).await?;
                Ok("unknown command")
            }
            Request::NotForUs => Ok("ignored: not addressed"),
        }
    }

    /// Refuses once per chat (per process); later requests are ignored.
    async fn refuse(&self, message: &Message) -> Handled {
        Metrics::inc(&self.metrics.refusals);
        let first = self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message.chat.id.0);
        if !first {
            return Ok("refused: not allowed (already told)");
        }
        self.reply(message, html::escape(REFUSAL)).await?;
        Ok("refused: not allowed")
    }

    /// Answers a question with the best excerpts, or says nothing matches.
    async fn answer(&self, message: &Message, question: &str) -> Handled {
        let question = clip(question);
        if question.is_empty() {
            self.reply(message, html::escape(ASK_USAGE)).await?;
            return Ok("asked how to ask");
        }
        let per = self.per_answer(message.chat.is_private());
        let answer = self
            .with_engine(move |l| l.engine.ask(&question, per))
            .await??;
        if !answer.answered {
            Metrics::inc(&self.metrics.abstentions);
            self.reply(message, html::escape(labels::NO_ANSWER_CHAT))
                .await?;
            return Ok("abstained");
        }
        let reply = Reply::to(message.chat.id, message.id, html::answer(&answer.hits))
            .with_keyboard(Some(keyboard(&answer.hits, 0, per)));
        self.api.send(&reply).await?;
        Metrics::inc(&self.metrics.answers);
        Ok("answered")
    }

    /// `/start`: a greeting, help, or a deep-linked passage.
    async fn start(&self, message: &Message, payload: &str) -> Handled {
        match payload {
            "help" => {
                self.reply(message, help(self.me.username())).await?;
                Ok("help")
            }
            "" => {
                let examples = self.with_engine(|l| l.examples.clone()).await?;
                self.reply(message, greeting(&examples, None)).await?;
                Ok("greeted")
            }
            id => {
                let id = id.to_string();
                let found = self
                    .with_engine(move |l| (l.engine.passage(&id), l.examples.clone()))
                    .await?;
                match found {
                    (Some(view), _) => {
                        let reply = Reply::to(message.chat.id, message.id, html::context(&view))
                            .with_keyboard(Some(copy_keyboard(&view.citation)));
                        self.api.send(&reply).await?;
                        Ok("deep link")
                    }
                    (None, examples) => {
                        let note = "That passage is no longer in the essays.";
                        self.reply(message, greeting(&examples, Some(note))).await?;
                        Ok("deep link: unknown passage")
                    }
                }
            }
        }
    }

    /// `/reload`: re-reads the corpus and swaps the engine (admins only).
    async fn reload(&self, message: &Message, user: UserId) -> Handled {
        if !self.config.admins.contains(&user.0) {
            self.reply(message, html::escape(NOT_ADMIN)).await?;
            return Ok("reload refused: not an admin");
        }
        let current = self.library.current();
        let reloaded = tokio::task::spawn_blocking(move || {
            current
                .engine
                .reload()
                .map(|(engine, report)| (Loaded::new(engine), report))
        })
        .await?;
        match reloaded {
            Ok((loaded, report)) => {
                self.library.replace(loaded);
                let sync = &report.sync;
                let text = format!(
                    "Reloaded: {} essays, {} passages ({} added, {} changed, {} removed) in {:.2} s.",
                    report.essays,
                    report.passages,
                    sync.added,
                    sync.changed,
                    sync.removed,
                    report.seconds
                );
                self.reply(message, html::escape(&text)).await?;
                Ok("reloaded")
            }
            Err(error) => {
                tracing::error!(%error, "reload failed");
                let text = format!("Reload failed ({error}); still serving the previous corpus.");
                self.reply(message, html::escape(&text)).await?;
                Ok("reload failed")
            }
        }
    }

    /// `/cite`: checks a quote, given or in the message replied to.
    async fn cite(&self, message: &Message, argument: &str) -> Handled {
        let quote = if argument.is_empty() {
            message
                .reply_to_message()
                .and_then(|r| r.text().or_else(|| r.caption()))
                .unwrap_or("")
        } else {
            argument
        };
        let quote = clip(quote);
        if quote.is_empty() {
            self.reply(message, html::escape(CITE_USAGE)).await?;
            return Ok("asked how to cite");
        }
        let result = self.with_engine(move |l| l.engine.cite(&quote)).await??;
        let keyboard = result.found.as_ref().map(|m| copy_keyboard(&m.citation));
        let reply =
            Reply::to(message.chat.id, message.id, html::cite(&result)).with_keyboard(keyboard);
        self.api.send(&reply).await?;
        Ok(match result.verdict {
            Verdict::Exact => "cited: exact",
            Verdict::Close => "cited: close",
            Verdict::NotFound => "cited: not found",
        })
    }

    // ----- buttons -----------------------------------------------------------

    /// Handles a button press and always answers the callback query.
    async fn on_callback(&self, query: &CallbackQuery) -> Handled {
        let (action, notice) = self.press(query).await?;
        self.api.answer_callback(&query.id, notice).await?;
        Ok(action)
    }

    async fn press(
        &self,
        query: &CallbackQuery,
    ) -> Result<(&'static str, Option<&'static str>), HandlerError> {
        let Some(message) = query.message.as_ref().and_then(|m| m.regular_message()) else {
            return Ok(("button: message too old", Some("This message is too old.")));
        };
        if !self.allowed(message.chat.id, query.from.id) {
            Metrics::inc(&self.metrics.refusals);
            return Ok(("button refused: not allowed", Some(REFUSAL)));
        }
        if self.limiter.check(query.from.id.0, Instant::now()) != Decision::Allow {
            Metrics::inc(&self.metrics.rate_limited);
            return Ok(("button: rate limited", Some(SLOW_DOWN)));
        }
        match query.data.as_deref().and_then(Button::parse) {
            Some(Button::More(page)) => self.more(message, page).await,
            Some(Button::Context(id)) => self.context(message, id).await,
            None => Ok(("button: unknown", Some("This button no longer works."))),
        }
    }

    /// **More**: the next page of results for the question `answer` replies to.
    async fn more(
        &self,
        answer: &Message,
        page: usize,
    ) -> Result<(&'static str, Option<&'static str>), HandlerError> {
        let private = answer.chat.is_private();
        let question = answer.reply_to_message().and_then(|q| {
            let text = q.text().or_else(|| q.caption())?;
            Some((
                q.id,
                commands::question_of(text, self.me.username(), private)?,
            ))
        });
        let Some((question_id, question)) = question else {
            return Ok(("more: question gone", Some(NO_QUESTION)));
        };
        let question = clip(&question);
        let per = self.per_answer(private);
        let page = page.min(MAX_PAGES - 1);
        let answer_hits = self
            .with_engine(move |l| l.engine.ask(&question, per * (page + 1)))
            .await??;
        let hits: Vec<Hit> = answer_hits.hits.into_iter().skip(per * page).collect();
        if hits.is_empty() {
            return Ok(("more: no more", Some("No further results.")));
        }
        let reply = Reply::to(answer.chat.id, question_id, html::answer(&hits))
            .with_keyboard(Some(keyboard(&hits, page, per)));
        self.api.send(&reply).await?;
        Metrics::inc(&self.metrics.answers);
        Ok(("more", None))
    }

    /// **Context**: the paragraphs around passage `id`.
    async fn context(
        &self,
        answer: &Message,
        id: String,
    ) -> Result<(&'static str, Option<&'static str>), HandlerError> {
        let Some(view) = self.with_engine(move |l| l.engine.passage(&id)).await? else {
            return Ok((
                "context: passage gone",
                Some("That passage is no longer in the essays."),
            ));
        };
        let reply = Reply::to(answer.chat.id, answer.id, html::context(&view))
            .with_keyboard(Some(copy_keyboard(&view.citation)));
        self.api.send(&reply).await?;
        Ok(("context", None))
    }

    // ----- inline mode -------------------------------------------------------

    /// `@bot words`: excerpts to send; `@bot cite: quote`: a citation check.
    async fn on_inline(&self, query: &InlineQuery) -> Handled {
        let text = query.query.trim();
        tracing::debug!(text, "inline query");
        let personal =
            !self.config.allowed_users.is_empty() || !self.config.allowed_chats.is_empty();
        let answer = |results: Vec<InlineQueryResult>, hint: Option<&str>| {
            let button = hint.map(|text| InlineQueryResultsButton {
                text: text.to_string(),
                kind: InlineQueryResultsButtonKind::StartParameter("help".to_string()),
            });
            self.api.answer_inline(&query.id, results, button, personal)
        };
        if !self.allowed(ChatId(query.from.id.0 as i64), query.from.id) {
            Metrics::inc(&self.metrics.refusals);
            answer(Vec::new(), Some("This bot is private")).await?;
            return Ok("inline refused: not allowed");
        }
        if text.is_empty() {
            answer(Vec::new(), Some("Type a question, or cite: and a quote")).await?;
            return Ok("inline: hint");
        }
        if let Some(quote) = strip_prefix_ignore_case(text, "cite:") {
            let quote = clip(quote);
            if quote.is_empty() {
                answer(Vec::new(), Some("Type a quote after cite:")).await?;
                return Ok("inline cite: hint");
            }
            let result = self.with_engine(move |l| l.engine.cite(&quote)).await??;
            let (title, description) = match &result.found {
                Some(m) if result.verdict == Verdict::Exact => {
                    ("✅ Exact quote", m.citation.line())
                }
                Some(m) => ("≈ Close, but not exact", m.citation.line()),
                None => (
                    "❌ Not found",
                    "Nothing in the essays matches that quote closely enough.".to_string(),
                ),
            };
            let article = article("cite", title, &description, html::cite(&result));
            answer(vec![article], None).await?;
            return Ok("inline cite");
        }
        let question = clip(text);
        let limit = self.config.inline_results.clamp(1, 50);
        let found = self
            .with_engine(move |l| l.engine.ask(&question, limit))
            .await??;
        if !found.answered {
            Metrics::inc(&self.metrics.abstentions);
            answer(Vec::new(), Some("Nothing in the essays matches that")).await?;
            return Ok("inline: abstained");
        }
        let results = found
            .hits
            .iter()
            .map(|hit| {
                let title = html::summary(hit, 64);
                let description = hit.citation.line();
                article(
                    &hit.passage.id,
                    &title,
                    &description,
                    html::answer(std::slice::from_ref(hit)),
                )
            })
            .collect();
        answer(results, None).await?;
        Metrics::inc(&self.metrics.answers);
        Ok("inline: answered")
    }
}

/// An inline result that sends `html`.
fn article(id: &str, title: &str, description: &str, html: String) -> InlineQueryResult {
    let content = InputMessageContentText::new(html)
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview());
    let description: String = description.chars().take(200).collect();
    InlineQueryResult::Article(
        InlineQueryResultArticle::new(id, title, InputMessageContent::Text(content))
            .description(description),
    )
}

/// The buttons under an answer: **Context** and **Copy citation** per hit,
/// then **More** when the page was full.
fn keyboard(hits: &[Hit], page: usize, per_page: usize) -> InlineKeyboardMarkup {
    let numbered = hits.len() > 1;
    let label = |name: &str, hit: &Hit| {
        if numbered {
            format!("{name} {}", hit.rank)
        } else {
            name.to_string()
        }
    };
    let mut rows: Vec<Vec<InlineKeyboardButton>> = hits
        .iter()
        .map(|hit| {
            let mut row = Vec::new();
            let data = format!("c:{}", hit.passage.id);
            if data.len() <= MAX_CALLBACK_DATA {
                row.push(InlineKeyboardButton::callback(label("Context", hit), data));
            }
            row.push(copy_button(label("Copy citation", hit), &hit.citation));
            row
        })
        .collect();
    if hits.len() >= per_page && page + 1 < MAX_PAGES {
        rows.push(vec![InlineKeyboardButton::callback(
            "More",
            format!("m:{}", page + 1),
        )]);
    }
    InlineKeyboardMarkup::new(rows)
}

fn copy_button(label: String, citation: &Citation) -> InlineKeyboardButton {
    InlineKeyboardButton::copy_text_button(
        label,
        CopyTextButton {
            text: html::copy_line(citation),
        },
    )
}

fn copy_keyboard(citation: &Citation) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[copy_button("Copy citation".to_string(), citation)]])
}

/// The greeting, with example questions (and an optional note first).
fn greeting(examples: &[String], note: Option<&str>) -> String {
    let mut html = Html::new(html::MAX_MESSAGE_LEN);
    if let Some(note) = note {
        html.text(note).text("\n\n");
    }
    html.tagged(Tag::Bold, "Hello!").text(
        " I answer questions with quotes from a library of essays: their own words, \
         each with its author, title, paragraph and a link to the spot. \
         I never write answers myself.",
    );
    if !examples.is_empty() {
        html.text("\n\nTry asking:");
        for example in examples {
            html.text("\n• ").text(example);
        }
    }
    html.text("\n\n/cite checks a quote, /sources lists the essays, /help tells more.");
    html.finish()
}

/// How to use the bot.
fn help(me: &str) -> String {
    let mut html = Html::new(html::MAX_MESSAGE_LEN);
    html.tagged(Tag::Bold, "How to use me").text(
        "\n• Ask a question in your own words. In a group, use /ask, mention me, \
         or reply to one of my messages.\
         \n• Under an answer, More shows further results, Context the paragraphs \
         around a quote, and Copy citation copies a ready-made citation.\
         \n• /cite and a quote checks it: exact, close (with the differences) or not found. \
         In a group, reply to a message with /cite to check the quote in it.\
         \n• /sources lists the essays.",
    );
    html.text(&format!(
        "\n• In any chat, type @{me} and a question, or @{me} cite: and a quote."
    ));
    html.finish()
}

/// `text` cut to [`MAX_QUERY_CHARS`] characters and trimmed.
fn clip(text: &str) -> String {
    text.trim().chars().take(MAX_QUERY_CHARS).collect()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_round_trip() {
        assert_eq!(Button::parse("m:2"), Some(Button::More(2)));
        assert_eq!(
            Button::parse("c:essay_3-1"),
            Some(Button::Context("essay_3-1".into()))
        );
        for bad in ["", "m:", "m:x", "c:", "x:1", "m:99999999999999999999999"] {
            assert_eq!(Button::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn inline_prefix() {
        assert_eq!(
            strip_prefix_ignore_case("CITE: words", "cite:"),
            Some(" words")
        );
        assert_eq!(strip_prefix_ignore_case("cit", "cite:"), None);
        assert_eq!(strip_prefix_ignore_case("citë: x", "cite:"), None);
    }

    #[test]
    fn fixed_texts_are_valid_html() {
        let examples = vec!["Why <this> & that?".to_string()];
        for text in [greeting(&examples, Some("note")), help("bot")] {
            assert!(text.contains("&lt;this&gt; &amp;") || text.contains("@bot"));
            assert!(html::utf16_len(&text) < html::MAX_MESSAGE_LEN);
        }
    }
}
