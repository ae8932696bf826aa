//! Health and metrics: `/healthz` and Prometheus `/metrics`, in the text
//! exposition format, written by hand.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::{Shutdown, TelegramError};
use citebot_core::answer::{ModelState, Retrieval};
use citebot_core::render::labels;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| seconds <= b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

/// The bot's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Updates received.
    pub updates: AtomicU64,
    /// Replies with excerpts (answers, more, inline results).
    pub answers: AtomicU64,
    /// Questions nothing in the essays answers.
    pub abstentions: AtomicU64,
    /// Requests refused by the access lists.
    pub refusals: AtomicU64,
    /// Messages dropped or refused by the rate limit.
    pub rate_limited: AtomicU64,
    /// Handlers that failed or panicked.
    pub failures: AtomicU64,
    /// Redelivered updates skipped because they were already answered.
    pub duplicates: AtomicU64,
    /// Calls to Telegram that failed for good.
    pub send_errors: AtomicU64,
    /// Calls to Telegram that were retried.
    pub retries: AtomicU64,
    /// `getUpdates` calls that failed.
    pub poll_errors: AtomicU64,
    /// Time from an update's arrival to its handler's end.
    pub latency: Histogram,
    /// The model's state and the retrieval answering now, once known.
    pub model: std::sync::Mutex<Option<(ModelState, Retrieval)>>,
}

impl Metrics {
    /// Records the model's state and the retrieval answering now.
    pub fn set_model(&self, state: ModelState, retrieval: Retrieval) {
        *self.model.lock().unwrap_or_else(|e| e.into_inner()) = Some((state, retrieval));
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

    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            ("updates", "Updates received.", &self.updates),
            ("answers", "Replies with excerpts.", &self.answers),
            (
                "abstentions",
                "Questions nothing answers.",
                &self.abstentions,
            ),
            (
                "refusals",
                "Requests refused by the access lists.",
                &self.refusals,
            ),
            (
                "rate_limited",
                "Messages over the rate limit.",
                &self.rate_limited,
            ),
            (
                "handler_failures",
                "Handlers that failed or panicked.",
                &self.failures,
            ),
            (
                "duplicates",
                "Redelivered updates skipped.",
                &self.duplicates,
            ),
            (
                "send_errors",
                "Bot API calls that failed for good.",
                &self.send_errors,
            ),
            ("send_retries", "Bot API calls retried.", &self.retries),
            (
                "poll_errors",
                "getUpdates calls that failed.",
                &self.poll_errors,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP citebot_{name}_total {help}");
            let _ = writeln!(out, "# TYPE citebot_{name}_total counter");
            let _ = writeln!(
                out,
                "citebot_{name}_total {}",
                value.load(Ordering::Relaxed)
            );
        }
        let name = "citebot_update_seconds";
        let _ = writeln!(out, "# HELP {name} Time to handle an update.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.latency.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.latency.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
        if let Some((state, retrieval)) = &*self.model.lock().unwrap_or_else(|e| e.into_inner()) {
            let (done, total) = match state {
                ModelState::Pending { done, total } => (*done, *total),
                ModelState::Ready { .. } => (1, 1),
                _ => (0, 0),
            };
            let gauges = [
                (
                    "retrieval_hybrid",
                    "1 when answers use the model, 0 when they are lexical.",
                    u64::from(*retrieval == Retrieval::Hybrid),
                ),
                (
                    "embedded_passages",
                    "Passages with vectors (1 of 1 once ready).",
                    done as u64,
                ),
                (
                    "passages_to_embed",
                    "Passages that need vectors (1 once ready, 0 without a model).",
                    total as u64,
                ),
            ];
            for (name, help, value) in gauges {
                let _ = writeln!(out, "# HELP citebot_{name} {help}");
                let _ = writeln!(out, "# TYPE citebot_{name} gauge");
                let _ = writeln!(out, "citebot_{name} {value}");
            }
        }
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
        Metrics::inc(&metrics.updates);
        metrics.latency.observe(Duration::from_millis(3));
        metrics.latency.observe(Duration::from_millis(300));
        let text = metrics.render();
        assert!(text.contains("citebot_updates_total 1\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("citebot_update_seconds_bucket{le=\"0.5\"} 2\n"));
        assert!(text.contains("citebot_update_seconds_count 2\n"));
    }
}
