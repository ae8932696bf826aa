//! Telegram: the bot, a thin transport over the engine.

use crate::config::Config;

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

/// Runs the bot until SIGINT or SIGTERM.
pub fn serve(_config: Config, _options: ServeOptions) -> anyhow::Result<()> {
    anyhow::bail!("serve is not available yet")
}
