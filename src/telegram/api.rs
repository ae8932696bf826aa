//! The Bot API client: every call the bot makes, with retries, pacing and
//! errors that never show the token.
//!
//! Messages go through teloxide's [`Throttle`] (unless turned off), which
//! paces them to Telegram's limits and itself waits out `429 retry_after` on
//! sends. Every call except `getUpdates` is also retried here: after a `429`
//! (for calls the throttle does not cover, such as edits and callback
//! answers), and with exponential backoff after network errors and 5xx
//! answers, a bounded number of times.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Settings;
use teloxide::payloads::SendMessage;
use teloxide::prelude::*;
use teloxide::requests::HasPayload;
use teloxide::types::{
    AllowedUpdate, BotCommand, CallbackQueryId, InlineKeyboardMarkup, InlineQueryId,
    InlineQueryResult, InlineQueryResultsButton, LinkPreviewOptions, Me, MessageId, ParseMode,
    ReplyParameters,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::Semaphore;

use super::TelegramError;
use super::metrics::Metrics;

/// Retries after network errors and 5xx answers.
const MAX_TRANSIENT_RETRIES: u32 = 5;
/// Retries after `429 Too Many Requests`.
const MAX_RATE_LIMIT_RETRIES: u32 = 10;
/// First backoff delay; it doubles with every retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Messages on their way to Telegram at once. Telegram may have received
/// these while the bot has not yet recorded them as answered, so this also
/// bounds how many answers a crash can repeat after a restart. (The throttle
/// alone releases a whole second's allowance, 30, at once.)
const MAX_SENDS_IN_FLIGHT: usize = 8;

/// The update kinds the bot asks for.
pub(crate) const ALLOWED_UPDATES: [AllowedUpdate; 3] = [
    AllowedUpdate::Message,
    AllowedUpdate::CallbackQuery,
    AllowedUpdate::InlineQuery,
];

/// A failed Bot API call, described without the token.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method}: {message}")]
pub(crate) struct ApiFailure {
    /// The method called.
    pub method: &'static str,
    /// What went wrong.
    pub message: String,
    /// Telegram refused the request itself (4xx other than 429): retrying cannot help.
    pub rejected: bool,
}

/// A message to send: HTML text, the message it answers, buttons.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// The chat.
    pub chat: ChatId,
    /// Telegram HTML.
    pub text: String,
    /// The message this one replies to.
    pub reply_to: Option<MessageId>,
    /// Inline buttons.
    pub keyboard: Option<InlineKeyboardMarkup>,
}

impl Reply {
    /// `text` in reply to message `to` of `chat`.
    pub fn to(chat: ChatId, to: MessageId, text: String) -> Reply {
        Reply {
            chat,
            text,
            reply_to: Some(to),
            keyboard: None,
        }
    }

    /// The same reply with buttons.
    pub fn with_keyboard(mut self, keyboard: Option<InlineKeyboardMarkup>) -> Reply {
        self.keyboard = keyboard;
        self
    }
}

/// The Bot API, as the bot uses it.
pub(crate) struct Api {
    bot: Bot,
    throttled: Option<Throttle<Bot>>,
    sending: Semaphore,
    token: String,
    metrics: Arc<Metrics>,
}

impl Api {
    /// A client for `token` at `api_url` (Telegram's when None); `throttle`
    /// paces sends. Must be called inside a tokio runtime.
    pub fn new(
        token: String,
        api_url: Option<&str>,
        throttle: bool,
        metrics: Arc<Metrics>,
    ) -> Result<Api, TelegramError> {
        let mut bot = Bot::new(token.clone());
        if let Some(url) = api_url {
            let url = url.trim_end_matches('/');
            let parsed = url
                .parse()
                .map_err(|e| TelegramError::ApiUrl(format!("{url:?}: {e}")))?;
            bot = bot.set_api_url(parsed);
        }
        let throttled = throttle.then(|| {
            // A full queue is the throttle doing its job: worth a debug line, not a warning.
            let settings = Settings::default().on_queue_full(|pending| async move {
                tracing::debug!(pending, "sends queued at Telegram's pace");
            });
            Throttle::spawn_with_settings(bot.clone(), settings)
        });
        Ok(Api {
            bot,
            throttled,
            sending: Semaphore::new(MAX_SENDS_IN_FLIGHT),
            token,
            metrics,
        })
    }

    /// The error's text with the token (or its secret half) replaced.
    fn scrub(&self, text: String) -> String {
        let secret = self.token.split_once(':').map_or("", |(_, s)| s);
        let text = text.replace(&self.token, "<token>");
        if secret.len() >= 8 {
            text.replace(secret, "<token>")
        } else {
            text
        }
    }

    fn failure(&self, method: &'static str, error: RequestError) -> ApiFailure {
        let rejected = matches!(&error, RequestError::Api(e) if !is_server_error(e))
            || matches!(error, RequestError::MigrateToChatId(_));
        ApiFailure {
            method,
            message: self.scrub(error.to_string()),
            rejected,
        }
    }

    /// Runs `call`, retrying after 429s and transient failures.
    async fn retrying<T, F, Fut>(&self, method: &'static str, mut call: F) -> Result<T, ApiFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let (mut transient, mut limited) = (0, 0);
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let wait = match &error {
                RequestError::RetryAfter(after) if limited < MAX_RATE_LIMIT_RETRIES => {
                    limited += 1;
                    after.duration()
                }
                RequestError::Network(_) | RequestError::InvalidJson { .. }
                    if transient < MAX_TRANSIENT_RETRIES =>
                {
                    transient += 1;
                    FIRST_BACKOFF * 2u32.pow(transient - 1)
                }
                RequestError::Api(e) if is_server_error(e) && transient < MAX_TRANSIENT_RETRIES => {
                    transient += 1;
                    FIRST_BACKOFF * 2u32.pow(transient - 1)
                }
                _ => {
                    Metrics::inc(&self.metrics.send_errors);
                    return Err(self.failure(method, error));
                }
            };
            Metrics::inc(&self.metrics.retries);
            tracing::warn!(
                method,
                error = %self.scrub(error.to_string()),
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The bot's own user.
    pub async fn get_me(&self) -> Result<Me, ApiFailure> {
        self.retrying("getMe", || self.bot.get_me().into_future())
            .await
    }

    /// One `getUpdates` call (no retries: the poller has its own loop).
    pub async fn get_updates(
        &self,
        offset: i32,
        timeout: u32,
        limit: u8,
    ) -> Result<Vec<Update>, ApiFailure> {
        self.bot
            .get_updates()
            .offset(offset)
            .timeout(timeout)
            .limit(limit)
            .allowed_updates(ALLOWED_UPDATES)
            .await
            .map_err(|e| self.failure("getUpdates", e))
    }

    /// Registers the command list shown in Telegram's menu.
    pub async fn set_commands(&self, commands: Vec<BotCommand>) -> Result<(), ApiFailure> {
        self.retrying("setMyCommands", || {
            self.bot.set_my_commands(commands.clone()).into_future()
        })
        .await
        .map(drop)
    }

    /// Removes any webhook, so `getUpdates` works.
    pub async fn delete_webhook(&self) -> Result<(), ApiFailure> {
        self.retrying("deleteWebhook", || self.bot.delete_webhook().into_future())
            .await
            .map(drop)
    }

    /// Sets the webhook to `url`, with `secret` as `secret_token`.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), ApiFailure> {
        let parsed = url.parse().map_err(|e| ApiFailure {
            method: "setWebhook",
            message: format!("{url:?}: {e}"),
            rejected: true,
        })?;
        self.retrying("setWebhook", || {
            self.bot
                .set_webhook(Clone::clone(&parsed))
                .secret_token(secret)
                .allowed_updates(ALLOWED_UPDATES)
                .into_future()
        })
        .await
        .map(drop)
    }

    /// Sends `reply` as an HTML message without link previews.
    pub async fn send(&self, reply: &Reply) -> Result<Message, ApiFailure> {
        self.retrying("sendMessage", || async {
            // Held until Telegram answers; the semaphore is never closed.
            let _slot = self.sending.acquire().await;
            match &self.throttled {
                Some(throttled) => {
                    configure(
                        throttled.send_message(reply.chat, reply.text.clone()),
                        reply,
                    )
                    .await
                }
                None => {
                    configure(self.bot.send_message(reply.chat, reply.text.clone()), reply).await
                }
            }
        })
        .await
    }

    /// Answers a button press, with an optional notice.
    pub async fn answer_callback(
        &self,
        id: &CallbackQueryId,
        text: Option<&str>,
    ) -> Result<(), ApiFailure> {
        self.retrying("answerCallbackQuery", || {
            let mut request = self.bot.answer_callback_query(id.clone());
            if let Some(text) = text {
                request = request.text(text);
            }
            request.into_future()
        })
        .await
        .map(drop)
    }

    /// Answers an inline query.
    pub async fn answer_inline(
        &self,
        id: &InlineQueryId,
        results: Vec<InlineQueryResult>,
        button: Option<InlineQueryResultsButton>,
        personal: bool,
    ) -> Result<(), ApiFailure> {
        self.retrying("answerInlineQuery", || {
            let mut request = self
                .bot
                .answer_inline_query(id.clone(), results.clone())
                .cache_time(30)
                .is_personal(personal);
            if let Some(button) = &button {
                request = request.button(button.clone());
            }
            request.into_future()
        })
        .await
        .map(drop)
    }
}

/// Link previews off: citations carry links, and a preview card would bury the quote.
pub(crate) fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sets HTML mode, no previews, the reply target and buttons on a `sendMessage`.
fn configure<R>(request: R, reply: &Reply) -> R
where
    R: HasPayload<Payload = SendMessage>,
{
    let mut request = request
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview());
    if let Some(to) = reply.reply_to {
        request = request.reply_parameters(ReplyParameters::new(to).allow_sending_without_reply());
    }
    if let Some(keyboard) = &reply.keyboard {
        request = request.reply_markup(keyboard.clone());
    }
    request
}

/// Whether an API error is Telegram's server failing (5xx), worth retrying.
fn is_server_error(error: &ApiError) -> bool {
    const SERVER_ERRORS: [&str; 4] = [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
    ];
    matches!(error, ApiError::Unknown(text) if SERVER_ERRORS.iter().any(|s| text.starts_with(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_transient() {
        assert!(is_server_error(&ApiError::Unknown("Bad Gateway".into())));
        assert!(!is_server_error(&ApiError::Unknown(
            "Bad Request: chat not found".into()
        )));
        assert!(!is_server_error(&ApiError::BotBlocked));
    }

    #[tokio::test]
    async fn errors_never_show_the_token() {
        let token = "7000000001:AAFakeTokenForCitebotTests-0123456789".to_string();
        let api = Api::new(token.clone(), None, false, Arc::default()).unwrap();
        let text = format!("error sending request for url (https://x/bot{token}/getMe)");
        let scrubbed = api.scrub(text);
        assert!(!scrubbed.contains("AAFakeToken"), "{scrubbed}");
        assert!(scrubbed.contains("<token>"));
    }
}
