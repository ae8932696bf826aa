//! Webhook mode: Telegram POSTs each update to us, and retries until it gets
//! a 200. So the 200 goes out only after the update is handled; the secret
//! token proves a request comes from Telegram; the journal skips updates
//! answered before a crash.
//!
//! The secret comes from `TELEGRAM_WEBHOOK_SECRET` (give every replica the
//! same one), or is made up at start.

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use teloxide::types::Update;
use tokio::sync::oneshot;

use super::dispatch::Dispatcher;
use super::journal::Journal;
use super::{Shutdown, TelegramError};

/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The environment variable with the shared secret.
const SECRET_VAR: &str = "TELEGRAM_WEBHOOK_SECRET";
/// Answered ids kept in the journal in webhook mode.
const JOURNAL_KEEP: i64 = 10_000;

struct Hook {
    dispatcher: Arc<Dispatcher>,
    secret: String,
    journal: Mutex<Journal>,
    in_flight: Mutex<HashSet<i64>>,
}

/// Sets the webhook to `url`, serves it on `listen` until shutdown, then
/// waits (up to `grace`) for the updates in hand.
pub(crate) async fn run(
    dispatcher: Arc<Dispatcher>,
    journal: Journal,
    url: &str,
    listen: &str,
    shutdown: Shutdown,
    grace: Duration,
) -> Result<(), TelegramError> {
    let secret = match std::env::var(SECRET_VAR) {
        Ok(secret) if valid_secret(&secret) => secret,
        Ok(_) => {
            return Err(TelegramError::Webhook(format!(
                "{SECRET_VAR} must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )));
        }
        Err(_) => random_secret(),
    };
    let path = path_of(url)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| TelegramError::io(format!("webhook address {listen}"), e))?;
    dispatcher
        .app()
        .api
        .set_webhook(url, &secret)
        .await
        .map_err(|e| TelegramError::Api(e.to_string()))?;
    tracing::info!(%listen, path, "webhook set; waiting for updates");

    let hook = Arc::new(Hook {
        dispatcher,
        secret,
        journal: Mutex::new(journal),
        in_flight: Mutex::default(),
    });
    let app = Router::new()
        .route(path, post(receive))
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
    if hook
        .journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(id)
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
            let mut journal = recorder.journal.lock().unwrap_or_else(|e| e.into_inner());
            journal.record(id);
            if let Some(last) = journal.last() {
                journal.forget_below(last - JOURNAL_KEEP);
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

/// The path part of `url` (`https://host/path?query` → `/path`).
fn path_of(url: &str) -> Result<&str, TelegramError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| TelegramError::Webhook(format!("{url:?} must start with https://")))?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    Ok(rest.find('/').map_or("/", |i| &rest[i..]))
}

/// Telegram's rule for `secret_token`.
fn valid_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 128 random bits in hex, from the standard library's randomly keyed hasher.
fn random_secret() -> String {
    let half = || RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_secrets() {
        assert_eq!(
            path_of("https://example.com/tg/hook?x=1").unwrap(),
            "/tg/hook"
        );
        assert_eq!(path_of("https://example.com").unwrap(), "/");
        assert!(path_of("http://example.com/x").is_err());
        let secret = random_secret();
        assert!(valid_secret(&secret) && secret.len() == 32);
        assert_ne!(secret, random_secret());
        assert!(!valid_secret("has space"));
    }
}
