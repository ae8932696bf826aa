//! Health and metrics: `/healthz`, and Prometheus `/metrics` in the
//! Prometheus text format (0.0.4), encoded by `prometheus-client`.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::Mutex;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{Shutdown, TelegramError};
use citebot_core::answer::{ModelState, Retrieval};
use citebot_core::render::labels;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The bot's counters, registered under their Prometheus names.
#[derive(Debug)]
pub(crate) struct Metrics {
    /// Updates received.
    pub updates: Counter,
    /// Replies with excerpts (answers, more, inline results).
    pub answers: Counter,
    /// Questions nothing in the essays answers.
    pub abstentions: Counter,
    /// Requests refused by the access lists.
    pub refusals: Counter,
    /// Messages dropped or refused by the rate limit.
    pub rate_limited: Counter,
    /// Handlers that failed or panicked.
    pub failures: Counter,
    /// Redelivered updates skipped because they were already answered.
    pub duplicates: Counter,
    /// Calls to Telegram that failed for good.
    pub send_errors: Counter,
    /// Calls to Telegram that were retried.
    pub retries: Counter,
    /// `getUpdates` calls that failed.
    pub poll_errors: Counter,
    /// Time from an update's arrival to its handler's end, in seconds.
    pub latency: Histogram,
    /// 1 when answers use the model, 0 when they are lexical.
    hybrid: Gauge,
    /// Passages with vectors (1 of 1 once ready).
    embedded: Gauge,
    /// Passages that need vectors (1 once ready, 0 without a model).
    to_embed: Gauge,
    /// The model's state and the retrieval answering now, once known.
    model: Mutex<Option<(ModelState, Retrieval)>>,
    /// What `/metrics` shows: the metrics above, by name. The model's
    /// gauges join it once the model's state is known.
    registry: Mutex<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Metrics {
            updates: Counter::default(),
            answers: Counter::default(),
            abstentions: Counter::default(),
            refusals: Counter::default(),
            rate_limited: Counter::default(),
            failures: Counter::default(),
            duplicates: Counter::default(),
            send_errors: Counter::default(),
            retries: Counter::default(),
            poll_errors: Counter::default(),
            latency: Histogram::new(BUCKETS),
            hybrid: Gauge::default(),
            embedded: Gauge::default(),
            to_embed: Gauge::default(),
            model: Mutex::default(),
            registry: Mutex::default(),
        };
        // Help texts without their final period: the registry adds it.
        let counters = [
            ("updates", "Updates received", &metrics.updates),
            ("answers", "Replies with excerpts", &metrics.answers),
            (
                "abstentions",
                "Questions nothing answers",
                &metrics.abstentions,
            ),
            (
                "refusals",
                "Requests refused by the access lists",
                &metrics.refusals,
            ),
            (
                "rate_limited",
                "Messages over the rate limit",
                &metrics.rate_limited,
            ),
            (
                "handler_failures",
                "Handlers that failed or panicked",
                &metrics.failures,
            ),
            (
                "duplicates",
                "Redelivered updates skipped",
                &metrics.duplicates,
            ),
            (
                "send_errors",
                "Bot API calls that failed for good",
                &metrics.send_errors,
            ),
            ("send_retries", "Bot API calls retried", &metrics.retries),
            (
                "poll_errors",
                "getUpdates calls that failed",
                &metrics.poll_errors,
            ),
        ];
        {
            let mut registry = metrics.lock_registry();
            for (name, help, counter) in counters {
                // The encoder adds `_total` to a counter's name.
                registry.register(format!("citebot_{name}"), help, counter.clone());
            }
            registry.register(
                "citebot_update_seconds",
                "Time to handle an update",
                metrics.latency.clone(),
            );
        }
        metrics
    }
}

impl Metrics {
    fn lock_registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the model's state and the retrieval answering now.
    pub fn set_model(&self, state: ModelState, retrieval: Retrieval) {
        let (done, total) = match state {
            ModelState::Pending { done, total } => (done, total),
            ModelState::Ready { .. } => (1, 1),
            _ => (0, 0),
        };
        self.hybrid.set(i64::from(retrieval == Retrieval::Hybrid));
        self.embedded.set(done as i64);
        self.to_embed.set(total as i64);
        let first = self
            .model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace((state, retrieval))
            .is_none();
        if first {
            let gauges = [
                (
                    "retrieval_hybrid",
                    "1 when answers use the model, 0 when they are lexical",
                    &self.hybrid,
                ),
                (
                    "embedded_passages",
                    "Passages with vectors (1 of 1 once ready)",
                    &self.embedded,
                ),
                (
                    "passages_to_embed",
                    "Passages that need vectors (1 once ready, 0 without a model)",
                    &self.to_embed,
                ),
            ];
            let mut registry = self.lock_registry();
            for (name, help, gauge) in gauges {
                registry.register(format!("citebot_{name}"), help, gauge.clone());
            }
        }
    }

    /// `/healthz`: ok, which retrieval answers, and the model's state, with
    /// the fix when the model is unavailable.
    pub fn health(&self) -> String {
        let mut out = String::from("ok\n");
        if let Some((state, retrieval)) = &*self.model.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = writeln!(out, "retrieval: {}", retrieval.name());
            let _ = writeln!(out, "model: {}", labels::model_state(state));
            if let Some(notice) = labels::model_notice(state) {
                let _ = writeln!(out, "{notice}");
            }
        }
        out
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.lock_registry());
        out
    }
}

/// Serves `/healthz` and `/metrics` on `addr` until shutdown.
pub(crate) async fn serve(
    addr: &str,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> Result<(), TelegramError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| TelegramError::io(format!("metrics address {addr}"), e))?;
    let app = Router::new()
        .route(
            "/healthz",
            get(|State(metrics): State<Arc<Metrics>>| async move { metrics.health() }),
        )
        .route("/metrics", get(render))
        .with_state(metrics);
    tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.wait());
        if let Err(e) = server.await {
            tracing::error!(error = %e, "metrics server failed");
        }
    });
    Ok(())
}

async fn render(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.updates.inc();
        metrics.latency.observe(0.003);
        metrics.latency.observe(0.3);
        let text = metrics.render();
        assert!(
            text.starts_with(
                "# HELP citebot_updates_total Updates received.\n\
                 # TYPE citebot_updates_total counter\n"
            ),
            "{text}"
        );
        assert!(text.contains("citebot_updates_total 1\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"0.5\"} 2\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(
            text.contains("citebot_update_seconds_sum 0.303\n"),
            "{text}"
        );
        assert!(text.contains("citebot_update_seconds_count 2\n"));
        assert!(
            !text.contains("citebot_retrieval_hybrid"),
            "no model state yet"
        );
        metrics.set_model(ModelState::Off, Retrieval::Lexical);
        let text = metrics.render();
        assert!(
            text.contains(
                "# HELP citebot_retrieval_hybrid 1 when answers use the model, 0 when they are lexical.\n\
                 # TYPE citebot_retrieval_hybrid gauge\n\
                 citebot_retrieval_hybrid 0\n"
            ),
            "{text}"
        );
    }
}
