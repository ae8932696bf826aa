//! Telegram: the bot, a thin transport over the engine.
//!
//! ```text
//!  getUpdates ─▶ poller ───┐
//!                          ├─▶ dispatch ─▶ handlers: guard, then ─▶ engine (on the blocking pool)
//!  POST ───────▶ webhook ──┘   (a queue per   message,      │
//!                               chat, fair)   callback,     └─▶ api ─▶ Telegram (paced, retried)
//!                                             inline
//! ```
//!
//! Two ways in: [`run`] receives updates until the future its caller passes
//! resolves (the binary's `serve` passes SIGINT/SIGTERM), and [`Bot`]
//! handles the updates it is handed one by one (an embedder's own receiving,
//! the in-process tests), each ending in an [`Outcome`].
//!
//! - `poller`: long polling that confirms an update only once it is
//!   answered, with a journal for crashes, and a graceful stop.
//! - `webhook`: the same over a webhook, answering 200 only when done.
//! - `dispatch`: runs updates concurrently, in order within a chat, and
//!   turns a failing handler into an apology.
//! - `handlers`: the routing `schema` and what the bot does with messages,
//!   buttons and inline queries; `guard` (access lists and rate limits) is
//!   the one filter every request passes; `buttons` the buttons' codec and
//!   keyboards; `commands` which messages are for the bot; `library` the
//!   engine and `/reload`.
//! - `api`: the Bot API calls, retried; `pacer` keeps sends within
//!   Telegram's limits, each chat on its own.
//! - `journal` (answered updates, rate-limit windows, migrations across
//!   restarts), `ratelimit`, `metrics`: their namesakes.
//!
//! Privacy: nothing people write is stored. At info level the logs say
//! which update, chat type and user, what the bot did and how long it took;
//! message text appears only at debug level.

mod api;
mod buttons;
mod commands;
mod dispatch;
mod guard;
mod handlers;
mod journal;
mod library;
mod metrics;
mod pacer;
mod poller;
mod ratelimit;
mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use teloxide::types::{Me, Update};
use tokio::sync::watch;

use citebot_core::config::{Config, Secrets};
use citebot_core::engine::EngineOptions;

use self::api::Api;
use self::guard::Guard;
use self::handlers::App;
use self::journal::Journal;
use self::library::Library;
use self::metrics::Metrics;
use self::webhook::Webhook;

/// How [`run`] receives updates and reports health.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Public webhook URL; None for long polling.
    pub webhook: Option<String>,
    /// Address the webhook server listens on.
    pub listen: String,
    /// Address for /healthz and /metrics.
    pub metrics: Option<String>,
}

/// Why the bot could not run.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// `TELOXIDE_TOKEN` is not set.
    #[error("TELOXIDE_TOKEN is not set (put it in the environment or in .env)")]
    MissingToken,
    /// `TELOXIDE_API_URL` is not a URL.
    #[error("TELOXIDE_API_URL {0}")]
    ApiUrl(String),
    /// The webhook URL or secret is unusable.
    #[error("webhook: {0}")]
    Webhook(String),
    /// The corpus or index could not be opened.
    #[error(transparent)]
    Engine(#[from] citebot_core::Error),
    /// Telegram refused a call the bot cannot run without.
    #[error("Telegram: {0}")]
    Api(String),
    /// Starting up failed unexpectedly (a panic while opening the corpus).
    #[error("starting up: {0}")]
    Startup(String),
    /// A file or socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl TelegramError {
    /// An I/O error while doing `what`.
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        TelegramError::Io {
            what: what.into(),
            source,
        }
    }
}

/// A shutdown signal every task can wait on.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A shutdown that starts when `signal` resolves. The task that waits
    /// for it ends with the last receiver, so an embedder's runtime is not
    /// left with it once [`run`] returns.
    fn on(signal: impl Future<Output = ()> + Send + 'static) -> Shutdown {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                _ = signal => {
                    let _ = tx.send(true);
                    // Keep the sender alive so waiters see `true`, not a closed channel.
                    tx.closed().await;
                }
                _ = tx.closed() => {}
            }
        });
        Shutdown(rx)
    }

    /// Resolves once shutdown starts.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.clone();
        async move {
            let _ = rx.wait_for(|&stop| stop).await;
        }
    }
}

/// Runs the bot until `shutdown` resolves, then stops taking updates and
/// finishes the answers in hand.
///
/// `secrets` holds the token (required), the Bot API URL (optional, for a
/// self-hosted server) and, for a webhook, its secret. The caller owns the
/// runtime and decides what stops the bot (the binary: SIGINT or SIGTERM).
/// Returns once every answer in hand is sent and confirmed (or the grace
/// period is over). Blocking engine work runs on the runtime's blocking
/// pool: give it a few threads per core.
pub async fn run(
    config: Config,
    secrets: Secrets,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TelegramError> {
    let start = Start::new(config, &secrets, options)?;
    let shutdown = Shutdown::on(shutdown);
    let metrics = Arc::new(Metrics::default());
    let Some(bot) = start.open(shutdown.wait(), metrics.clone()).await? else {
        return Ok(());
    };
    if let Some(addr) = &start.metrics {
        metrics::serve(addr, metrics, shutdown.clone()).await?;
    }
    let grace = Duration::from_secs(start.config.telegram.shutdown_grace_seconds);
    let Bot { app, journal } = bot;
    let dispatcher = Arc::new(dispatch::Dispatcher::new(app));
    match start.webhook {
        Some(webhook) => {
            webhook::run(dispatcher, journal, webhook, &start.listen, shutdown, grace).await
        }
        None => poller::run(dispatcher, journal, shutdown, grace).await,
    }
}

/// What the bot did with one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled: what was done, as the log says it (`answered`,
    /// `ignored: not addressed`, `refused: not allowed`, …).
    Handled(&'static str),
    /// The handler failed or panicked, and the user got an apology: why
    /// (never with the token).
    Failed(String),
}

/// The bot, its corpus open and its identity known: hand it updates.
///
/// [`run`] receives updates (long polling or a webhook) and hands them to
/// one of these; an embedder that receives updates itself can do the same
/// with [`Bot::handle`]. Its replies go to the Bot API given by the secrets.
pub struct Bot {
    app: Arc<App>,
    journal: Arc<Journal>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("username", &self.app.username())
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// Opens `config`'s corpus (indexing it if needed, on the blocking
    /// pool), connects to the Bot API with `secrets` (`getMe`, retried
    /// until Telegram answers or refuses the token), registers the command
    /// menu and opens the bot's journal (rate-limit windows, migrated groups).
    pub async fn new(config: Config, secrets: Secrets) -> Result<Bot, TelegramError> {
        let start = Start::new(config, &secrets, ServeOptions::default())?;
        let opened = start.open(std::future::pending(), Arc::default()).await?;
        opened.ok_or_else(|| TelegramError::Startup("stopped while starting".into()))
    }

    /// Handles `update` to the end: checks the access lists and rate limits,
    /// answers through the Bot API, and turns a failure into an apology.
    ///
    /// Updates of different chats may be handled concurrently; hand over
    /// those of one chat one at a time, in order (as [`run`] does). Read
    /// updates from JSON text (`serde_json::from_slice`, as the webhook
    /// does): from a `serde_json::Value`, teloxide 0.17 reads a message
    /// update as one of an unknown kind, which the bot ignores.
    pub async fn handle(&self, update: Update) -> Outcome {
        self.app.metrics.updates.inc();
        dispatch::process(&self.app, update, Instant::now()).await
    }

    /// The bot's counters in Prometheus' text format (what `/metrics` serves).
    pub fn metrics(&self) -> String {
        self.app.metrics.render()
    }
}

/// What the bot starts from: the config, checked secrets and options.
struct Start {
    config: Config,
    engine: EngineOptions,
    token: String,
    api_url: Option<url::Url>,
    webhook: Option<Webhook>,
    listen: String,
    metrics: Option<String>,
}

impl Start {
    /// Checks the secrets and the webhook URL (before anything slow: a URL
    /// the server will not call is a mistake to report now).
    fn new(
        config: Config,
        secrets: &Secrets,
        options: ServeOptions,
    ) -> Result<Start, TelegramError> {
        let token = secrets
            .telegram_token()
            .filter(|t| !t.trim().is_empty())
            .ok_or(TelegramError::MissingToken)?
            .to_string();
        let api_url = secrets
            .telegram_api_url()
            .map(|url| {
                url::Url::parse(url).map_err(|e| TelegramError::ApiUrl(format!("{url:?}: {e}")))
            })
            .transpose()?;
        let webhook = options
            .webhook
            .as_deref()
            .map(|url| Webhook::new(url, api_url.as_ref(), secrets.webhook_secret()))
            .transpose()?;
        Ok(Start {
            engine: EngineOptions::from_config(&config),
            config,
            token,
            api_url,
            webhook,
            listen: options.listen,
            metrics: options.metrics,
        })
    }

    /// Opens the corpus, connects and opens the journal; None if `stop`
    /// resolved first.
    async fn open(
        &self,
        stop: impl Future<Output = ()> + Send,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Bot>, TelegramError> {
        tokio::pin!(stop);
        let Some(library) = self.open_library(&mut stop, metrics.clone()).await? else {
            return Ok(None);
        };
        let telegram = &self.config.telegram;
        let api = Api::new(
            self.token.clone(),
            self.api_url.as_ref(),
            telegram.throttle,
            metrics.clone(),
        )?;
        let Some(me) = connect(&api, &mut stop).await? else {
            return Ok(None);
        };
        // The journal is this bot's: its id is known only now.
        let journal = Arc::new(Journal::open(&self.journal_path(&me), me.id.0)?);
        let guard = Guard::new(telegram, Some(journal.clone()));
        let adding = citebot_core::ingest::AddOptions {
            corpus: self.engine.corpus.clone(),
            overrides: citebot_core::ingest::Meta::default(),
            split: citebot_core::ingest::Split::None,
            limits: citebot_core::ingest::Limits::from(&self.config.add),
        };
        let settings = handlers::Settings {
            config: telegram.clone(),
            adding,
            filters: self.config.filters.filters(),
        };
        let app = Arc::new(App::new(api, library, guard, settings, me, metrics));
        Ok(Some(Bot { app, journal }))
    }

    /// Opens the corpus on the blocking pool (indexing a large one takes a
    /// while); None if `stop` came first.
    async fn open_library(
        &self,
        stop: &mut (impl Future<Output = ()> + Unpin),
        metrics: Arc<Metrics>,
    ) -> Result<Option<Library>, TelegramError> {
        let (options, examples) = (self.engine.clone(), self.config.telegram.examples.clone());
        let opening =
            tokio::task::spawn_blocking(move || Library::open(options, examples, metrics));
        tokio::select! {
            _ = stop => Ok(None),
            opened = opening => Ok(Some(opened.map_err(|e| TelegramError::Startup(e.to_string()))??)),
        }
    }

    /// The journal file: as configured, or one per bot in the index folder.
    fn journal_path(&self, me: &Me) -> PathBuf {
        let configured = &self.config.telegram.journal;
        if configured.as_os_str().is_empty() {
            self.engine
                .index_dir()
                .join(format!("telegram-journal-{}", me.id.0))
        } else {
            configured.clone()
        }
    }
}

/// The bot's identity (retried until Telegram answers), and its command
/// menu; None if `stop` came first.
async fn connect(
    api: &Api,
    stop: &mut (impl Future<Output = ()> + Unpin),
) -> Result<Option<Me>, TelegramError> {
    let me = tokio::select! {
        _ = stop => return Ok(None),
        me = api.get_me() => me.map_err(|e| TelegramError::Api(e.to_string()))?,
    };
    tracing::info!(bot = %me.username(), id = me.id.0, "connected to Telegram");
    if let Err(e) = api.set_commands(commands::menu()).await {
        tracing::warn!(error = %e, "could not register the command menu");
    }
    Ok(Some(me))
}
