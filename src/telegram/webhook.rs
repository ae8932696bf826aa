//! Webhook mode: Telegram POSTs each update to us, and retries until it gets
//! a 200. So the 200 goes out only after the update is handled; the secret
//! token proves a request comes from Telegram; the journal skips updates
//! answered before a crash.
//!
//! The secret comes from `TELEGRAM_WEBHOOK_SECRET` (give every replica the
//! same one), or is made up at start from the system's random source.
//!
//! Which URLs work depends on the Bot API server: api.telegram.org calls only
//! `https://` URLs on port 443, 80, 88 or 8443; a self-hosted server
//! (`telegram-bot-api --local`, reached with `TELOXIDE_API_URL`) also calls
//! `http://` URLs on any port, e.g. a bot beside it on the same host.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use teloxide::types::Update;
use tokio::sync::oneshot;
use url::Url;

use super::dispatch::Dispatcher;
use super::journal::Journal;
use super::{Shutdown, TelegramError};

/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Answered ids kept in the journal in webhook mode.
const JOURNAL_KEEP: i64 = 10_000;
/// The Bot API server whose webhook rules [`check_url`] applies.
const TELEGRAM_HOST: &str = "api.telegram.org";
/// The ports api.telegram.org sends webhooks to.
const TELEGRAM_PORTS: [u16; 4] = [443, 80, 88, 8443];

/// Where and how the webhook listens.
#[derive(Debug)]
pub(crate) struct Webhook {
    /// The public URL, as given to `setWebhook`.
    pub url: Url,
    /// The shared secret.
    pub secret: String,
}

impl Webhook {
    /// Checks the public `url` against what the Bot API server at `api`
    /// (Telegram's when None) accepts, and takes the `secret` (or makes one up).
    pub fn new(
        url: &str,
        api: Option<&Url>,
        secret: Option<&str>,
    ) -> Result<Webhook, TelegramError> {
        let url = Url::parse(url)
            .map_err(|e| TelegramError::Webhook(format!("{url:?} is not a URL: {e}")))?;
        check_url(&url, api)?;
        let secret = match secret {
            Some(secret) if valid_secret(secret) => secret.to_string(),
            Some(_) => {
                return Err(TelegramError::Webhook(format!(
                    "{} must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
                    citebot_core::config::Secrets::WEBHOOK_SECRET_VAR
                )));
            }
            None => random_secret()?,
        };
        Ok(Webhook { url, secret })
    }
}

struct Hook {
    dispatcher: Arc<Dispatcher>,
    secret: String,
    journal: Arc<Journal>,
    in_flight: Mutex<HashSet<i64>>,
}

/// Sets the webhook, serves it on `listen` until shutdown, then waits (up
/// to `grace`) for the updates in hand.
pub(crate) async fn run(
    dispatcher: Arc<Dispatcher>,
    journal: Arc<Journal>,
    webhook: Webhook,
    listen: &str,
    shutdown: Shutdown,
    grace: Duration,
) -> Result<(), TelegramError> {
    let path = webhook.url.path().to_string();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| TelegramError::io(format!("webhook address {listen}"), e))?;
    dispatcher
        .app()
        .api
        .set_webhook(&webhook.url, &webhook.secret)
        .await
        .map_err(|e| TelegramError::Api(e.to_string()))?;
    tracing::info!(%listen, path, "webhook set; waiting for updates");

    let hook = Arc::new(Hook {
        dispatcher,
        secret: webhook.secret,
        journal: journal.clone(),
        in_flight: Mutex::default(),
    });
    let app = Router::new()
        .route(&path, post(receive))
        .with_state(hook.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.wait());
    let stopping = async {
        shutdown.wait().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served.map_err(|e| TelegramError::io("webhook server", e))?,
        _ = stopping => tracing::warn!("grace period over; unfinished updates will be redelivered"),
    }
    journal.close();
    Ok(())
}

/// Handles one POSTed update; 200 once handled, so Telegram retries otherwise.
async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if secret != Some(hook.secret.as_bytes()) {
        tracing::warn!("webhook request without the right secret token");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            // Retrying would not make it readable.
            tracing::warn!(%error, "unreadable update");
            return StatusCode::OK;
        }
    };
    let id = i64::from(update.id.0);
    if hook.journal.answered_before(id)
        || !hook
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id)
    {
        tracing::info!(
            update_id = id,
            "redelivered update already answered or in hand"
        );
        return StatusCode::OK;
    }
    let (done, finished) = oneshot::channel();
    let recorder = hook.clone();
    hook.dispatcher.submit(
        update,
        Box::new(move || {
            let journal = &recorder.journal;
            journal.record(id);
            if let Some(last) = journal.last_answered() {
                // Telegram redelivers only recent updates; keep a window of ids.
                journal.confirm((last - JOURNAL_KEEP).max(0));
            }
            recorder
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            let _ = done.send(());
        }),
    );
    match finished.await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Checks that the Bot API server at `api` (Telegram's when None) can call `url`.
fn check_url(url: &Url, api: Option<&Url>) -> Result<(), TelegramError> {
    let telegram = api.is_none_or(|api| api.host_str() == Some(TELEGRAM_HOST));
    let port = url.port_or_known_default();
    let ok = match url.scheme() {
        "http" | "https" if !telegram => true,
        "https" => port.is_some_and(|p| TELEGRAM_PORTS.contains(&p)),
        _ => false,
    };
    if ok && url.host().is_some() {
        return Ok(());
    }
    Err(TelegramError::Webhook(if telegram {
        format!(
            "{TELEGRAM_HOST} only calls https:// URLs on port 443, 80, 88 or 8443, not {url}; \
             a self-hosted Bot API server (telegram-bot-api --local, with TELOXIDE_API_URL) \
             also calls http:// URLs on any port"
        )
    } else {
        format!("{url} must be an http:// or https:// URL with a host")
    }))
}

/// Telegram's rule for `secret_token`.
fn valid_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 128 random bits from the system's random source, in hex.
fn random_secret() -> Result<String, TelegramError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| TelegramError::Webhook(format!("no random secret: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_takes_https_on_four_ports_and_a_local_server_anything() {
        let telegram = None;
        let local = Url::parse("http://127.0.0.1:8081/").unwrap();
        let official = Url::parse("https://api.telegram.org").unwrap();
        let check = |url: &str, api: Option<&Url>| check_url(&Url::parse(url).unwrap(), api);
        for url in [
            "https://example.com/tg/hook?x=1",
            "https://example.com:8443/",
            "https://example.com:88/",
        ] {
            assert!(check(url, telegram).is_ok(), "{url}");
        }
        for url in [
            "http://example.com/x",
            "https://example.com:9000/x",
            "ftp://example.com/",
        ] {
            let err = check(url, telegram).unwrap_err().to_string();
            assert!(
                err.contains("443, 80, 88 or 8443") && err.contains("--local"),
                "{err}"
            );
            assert!(check(url, Some(&official)).is_err(), "{url}");
        }
        for url in ["http://127.0.0.1:9000/hook", "https://bot.lan:1234/"] {
            assert!(check(url, Some(&local)).is_ok(), "{url}");
        }
        assert!(check("ftp://127.0.0.1/", Some(&local)).is_err());
        let hook = Webhook::new("http://127.0.0.1:9/a/b?c", Some(&local), None).unwrap();
        assert_eq!(hook.url.path(), "/a/b");
    }

    #[test]
    fn secrets() {
        let secret = random_secret().unwrap();
        assert!(valid_secret(&secret) && secret.len() == 32);
        assert_ne!(secret, random_secret().unwrap());
        assert!(!valid_secret("has space"));
        assert!(Webhook::new("https://e.org/", None, Some("bad secret")).is_err());
        let given = Webhook::new("https://e.org/", None, Some("s3cret-token")).unwrap();
        assert_eq!(given.secret, "s3cret-token");
    }
}
