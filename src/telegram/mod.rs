//! Telegram: the bot, a thin transport over the engine.
//!
//! ```text
//!  getUpdates ─▶ poller ───┐
//!                          ├─▶ dispatch ─▶ handlers ─▶ engine (on the blocking pool)
//!  POST ───────▶ webhook ──┘   (per chat,     │
//!                               panics)       └─▶ api ─▶ Telegram (Throttle, retries)
//! ```
//!
//! - `poller`: long polling that confirms an update only once it is
//!   answered, with a journal for crashes, and a graceful stop.
//! - `webhook`: the same over a webhook, answering 200 only when done.
//! - `dispatch`: runs updates concurrently, in order within a chat, and
//!   turns a failing handler into an apology.
//! - `handlers`: what the bot does with messages, buttons and inline queries.
//! - `commands`: which messages are for the bot, and what they ask.
//! - `api`: the Bot API calls, paced and retried.
//! - `journal`, `ratelimit`, `metrics`: their namesakes.
//!
//! Privacy: nothing people write is stored. At info level the logs say
//! which update, chat type and user, what the bot did and how long it took;
//! message text appears only at debug level.

mod api;
mod commands;
mod dispatch;
mod handlers;
mod journal;
mod metrics;
mod poller;
mod ratelimit;
mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Config;
use crate::engine::EngineOptions;

use self::api::Api;
use self::handlers::{App, Library};
use self::journal::Journal;
use self::metrics::Metrics;

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
    Engine(#[from] crate::Error),
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
/// Reads `TELOXIDE_TOKEN` and, optionally, `TELOXIDE_API_URL` (and, for a
/// webhook, `TELEGRAM_WEBHOOK_SECRET`) from the environment. Returns once
/// every answer in hand is sent and confirmed (or the grace period is over).
pub fn serve(config: Config, options: ServeOptions) -> Result<(), TelegramError> {
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or(TelegramError::MissingToken)?;
    let engine_options = EngineOptions::from_config(&config);
    let journal_path = if config.telegram.journal.as_os_str().is_empty() {
        engine_options.index_dir().join("telegram-journal")
    } else {
        config.telegram.journal.clone()
    };
    // Engine calls are CPU-bound: more blocking threads than a few per core
    // only add memory and context switches when a burst arrives.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4 * cores)
        .build()
        .map_err(|e| TelegramError::io("starting the runtime", e))?;
    let result = runtime.block_on(run(config, options, token, engine_options, journal_path));
    // Do not wait for stray blocking engine calls.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

async fn run(
    config: Config,
    options: ServeOptions,
    token: String,
    engine_options: EngineOptions,
    journal_path: PathBuf,
) -> Result<(), TelegramError> {
    let api_url = std::env::var("TELOXIDE_API_URL").ok();
    let shutdown = listen_for_signals()?;
    // Indexing a large corpus takes a while; a signal meanwhile still stops cleanly.
    let opening = tokio::task::spawn_blocking(move || Library::open(engine_options));
    let library = tokio::select! {
        _ = shutdown.wait() => return Ok(()),
        opened = opening => opened.map_err(|e| TelegramError::Startup(e.to_string()))??,
    };
    // After the engine: by default the journal lives in the index folder.
    let journal = Journal::open(&journal_path)?;
    let metrics = Arc::new(Metrics::default());
    let api = Api::new(
        token,
        api_url.as_deref(),
        config.telegram.throttle,
        metrics.clone(),
    )?;
    let Some(me) = handlers::whoami(&api, &shutdown).await? else {
        return Ok(());
    };
    tracing::info!(bot = %me.username(), "connected to Telegram");
    if let Err(e) = api.set_commands(commands::menu()).await {
        tracing::warn!(error = %e, "could not register the command menu");
    }
    if let Some(addr) = &options.metrics {
        metrics::serve(addr, metrics.clone(), shutdown.clone()).await?;
    }
    let grace = Duration::from_secs(config.telegram.shutdown_grace_seconds);
    let app = Arc::new(App::new(api, library, config.telegram, me, metrics));
    let dispatcher = Arc::new(dispatch::Dispatcher::new(app));
    match options.webhook {
        Some(url) => {
            webhook::run(dispatcher, journal, &url, &options.listen, shutdown, grace).await
        }
        None => poller::run(dispatcher, journal, shutdown, grace).await,
    }
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
