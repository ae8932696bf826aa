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
use std::time::Duration;

use teloxide::types::Me;
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

/// How `serve` receives updates and reports health.
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
    /// Resolves once shutdown starts.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.clone();
        async move {
            let _ = rx.wait_for(|&stop| stop).await;
        }
    }
}

/// Runs the bot until SIGINT or SIGTERM.
///
/// `secrets` holds the token (required), the Bot API URL (optional, for a
/// self-hosted server) and, for a webhook, its secret. Returns once every
/// answer in hand is sent and confirmed (or the grace period is over).
pub fn serve(config: Config, secrets: Secrets, options: ServeOptions) -> Result<(), TelegramError> {
    let token = secrets
        .telegram_token()
        .filter(|t| !t.trim().is_empty())
        .ok_or(TelegramError::MissingToken)?
        .to_string();
    let api_url = secrets
        .telegram_api_url()
        .map(|url| url::Url::parse(url).map_err(|e| TelegramError::ApiUrl(format!("{url:?}: {e}"))))
        .transpose()?;
    // Before anything slow: a webhook URL the server will not call is a mistake to report now.
    let webhook = options
        .webhook
        .as_deref()
        .map(|url| Webhook::new(url, api_url.as_ref(), secrets.webhook_secret()))
        .transpose()?;
    let start = Start {
        engine: EngineOptions::from_config(&config),
        config,
        token,
        api_url,
        webhook,
        listen: options.listen,
        metrics: options.metrics,
    };
    // Engine calls are CPU-bound: more blocking threads than a few per core
    // only add memory and context switches when a burst arrives.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4 * cores)
        .build()
        .map_err(|e| TelegramError::io("starting the runtime", e))?;
    let result = runtime.block_on(start.run());
    // Do not wait for stray blocking engine calls.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

/// What `serve` starts from.
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
    /// Opens the corpus, connects, then receives updates until shutdown.
    async fn run(self) -> Result<(), TelegramError> {
        let shutdown = listen_for_signals()?;
        let metrics = Arc::new(Metrics::default());
        let Some(library) = self.open_library(&shutdown, metrics.clone()).await? else {
            return Ok(());
        };
        let telegram = &self.config.telegram;
        let api = Api::new(
            self.token.clone(),
            self.api_url.as_ref(),
            telegram.throttle,
            metrics.clone(),
        )?;
        let Some(me) = connect(&api, &shutdown).await? else {
            return Ok(());
        };
        // The journal is this bot's: its id is known only now.
        let journal = Arc::new(Journal::open(&self.journal_path(&me), me.id.0)?);
        if let Some(addr) = &self.metrics {
            metrics::serve(addr, metrics.clone(), shutdown.clone()).await?;
        }
        let grace = Duration::from_secs(telegram.shutdown_grace_seconds);
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
        let app = App::new(api, library, guard, settings, me, metrics);
        let dispatcher = Arc::new(dispatch::Dispatcher::new(Arc::new(app)));
        match self.webhook {
            Some(webhook) => {
                webhook::run(dispatcher, journal, webhook, &self.listen, shutdown, grace).await
            }
            None => poller::run(dispatcher, journal, shutdown, grace).await,
        }
    }

    /// Opens the corpus on the blocking pool (indexing a large one takes a
    /// while); None if a signal came first.
    async fn open_library(
        &self,
        shutdown: &Shutdown,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Library>, TelegramError> {
        let (options, examples) = (self.engine.clone(), self.config.telegram.examples.clone());
        let opening =
            tokio::task::spawn_blocking(move || Library::open(options, examples, metrics));
        tokio::select! {
            _ = shutdown.wait() => Ok(None),
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
/// menu; None if shutdown came first.
async fn connect(api: &Api, shutdown: &Shutdown) -> Result<Option<Me>, TelegramError> {
    let me = tokio::select! {
        _ = shutdown.wait() => return Ok(None),
        me = api.get_me() => me.map_err(|e| TelegramError::Api(e.to_string()))?,
    };
    tracing::info!(bot = %me.username(), id = me.id.0, "connected to Telegram");
    if let Err(e) = api.set_commands(commands::menu()).await {
        tracing::warn!(error = %e, "could not register the command menu");
    }
    Ok(Some(me))
}

/// Starts a task that turns SIGINT or SIGTERM into a shutdown.
fn listen_for_signals() -> Result<Shutdown, TelegramError> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = watch::channel(false);
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| TelegramError::io("SIGTERM handler", e))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| TelegramError::io("SIGINT handler", e))?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(
            signal = name,
            "stopping: no new updates, finishing answers in hand"
        );
        let _ = tx.send(true);
        // Keep the sender alive so waiters see `true`, not a closed channel.
        std::future::pending::<()>().await;
    });
    Ok(Shutdown(rx))
}
