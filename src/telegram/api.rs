//! The Bot API client: every call the bot makes, with retries, pacing and
//! errors that never show the token.
//!
//! Messages are paced by the [`Pacer`] (unless turned off), each chat on its
//! own. Every call is retried by one loop, [`Api::retrying`], after
//! `429 retry_after` (waiting as long as Telegram asks) and, with exponential
//! [`Backoff`], after network errors and 5xx answers: a bounded number of
//! times for sends, until Telegram rejects it for `getMe`, for ever (until
//! shutdown drops it) for `getUpdates`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use teloxide::payloads::SendMessage;
use teloxide::prelude::*;
use teloxide::requests::HasPayload;
use teloxide::types::{
    AllowedUpdate, BotCommand, CallbackQueryId, File, FileId, InlineKeyboardMarkup, InlineQueryId,
    InlineQueryResult, InlineQueryResultsButton, LinkPreviewOptions, Me, MessageId, ParseMode,
    ReplyParameters,
};
use teloxide::{ApiError, RequestError};

use super::TelegramError;
use super::metrics::Metrics;
use super::pacer::Pacer;

/// First backoff delay; it doubles with every retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// How persistent [`Api::retrying`] is with one call.
#[derive(Debug, Clone, Copy)]
struct Policy {
    /// Retries after network errors and 5xx answers.
    transient: u32,
    /// Retries after `429 Too Many Requests`.
    rate_limited: u32,
    /// Whether a rejected call (4xx other than 429) is retried too.
    rejected: bool,
    /// Longest backoff delay.
    max_backoff: Duration,
}

/// Sends and the like: a few retries, then the handler fails (and apologises).
const BOUNDED: Policy = Policy {
    transient: 5,
    rate_limited: 10,
    rejected: false,
    max_backoff: Duration::from_secs(8),
};
/// `getMe` at start: Telegram may be unreachable for a while; a rejected
/// token is final.
const UNTIL_REJECTED: Policy = Policy {
    transient: u32::MAX,
    rate_limited: u32::MAX,
    rejected: false,
    max_backoff: Duration::from_secs(5),
};
/// `getUpdates`: the poller never gives up; shutdown drops the call.
const FOREVER: Policy = Policy {
    transient: u32::MAX,
    rate_limited: u32::MAX,
    rejected: true,
    max_backoff: Duration::from_secs(30),
};

/// Exponential backoff: [`FIRST_BACKOFF`], doubling up to a ceiling.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Backoff that never waits longer than `max`.
    pub fn new(max: Duration) -> Backoff {
        Backoff {
            next: FIRST_BACKOFF.min(max),
            max,
        }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

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
    /// The group became a supergroup with this id: send there instead.
    pub migrated_to: Option<ChatId>,
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
    pacer: Option<Pacer>,
    token: String,
    metrics: Arc<Metrics>,
}

impl Api {
    /// A client for `token` at `api_url` (Telegram's when None); `pace`
    /// keeps sends within Telegram's limits. Must be called inside a tokio
    /// runtime.
    pub fn new(
        token: String,
        api_url: Option<&url::Url>,
        pace: bool,
        metrics: Arc<Metrics>,
    ) -> Result<Api, TelegramError> {
        let mut bot = Bot::new(token.clone());
        if let Some(url) = api_url {
            bot = bot.set_api_url(url.clone());
        }
        Ok(Api {
            bot,
            pacer: pace.then(Pacer::default),
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
        let migrated_to = match &error {
            RequestError::MigrateToChatId(id) => Some(*id),
            _ => None,
        };
        let rejected =
            matches!(&error, RequestError::Api(e) if !is_server_error(e)) || migrated_to.is_some();
        ApiFailure {
            method,
            message: self.scrub(error.to_string()),
            rejected,
            migrated_to,
        }
    }

    /// Runs `call` until it succeeds or `policy` gives up: after a 429 it
    /// waits `retry_after`, after other failures it backs off. The one retry
    /// loop of the bot.
    async fn retrying<T, F, Fut>(
        &self,
        method: &'static str,
        policy: Policy,
        mut call: F,
    ) -> Result<T, ApiFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let (mut transient, mut limited) = (0, 0);
        let mut backoff = Backoff::new(policy.max_backoff);
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let kind = classify(&error);
            let failure = self.failure(method, error);
            let wait = match kind {
                _ if failure.migrated_to.is_some() => None,
                Failure::RateLimited(after) if limited < policy.rate_limited => {
                    limited += 1;
                    Some(after)
                }
                Failure::Transient if transient < policy.transient => {
                    transient += 1;
                    Some(backoff.next_delay())
                }
                Failure::Rejected if policy.rejected => Some(backoff.next_delay()),
                _ => None,
            };
            let Some(wait) = wait else {
                self.metrics.send_errors.inc();
                return Err(failure);
            };
            (if method == "getUpdates" {
                &self.metrics.poll_errors
            } else {
                &self.metrics.retries
            })
            .inc();
            tracing::warn!(
                method,
                error = %failure.message,
                wait_ms = wait.as_millis() as u64,
                "{method} failed; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The bot's own user.
    pub async fn get_me(&self) -> Result<Me, ApiFailure> {
        self.retrying("getMe", UNTIL_REJECTED, || self.bot.get_me().into_future())
            .await
    }

    /// `getUpdates`, retried until it succeeds (drop the future to stop).
    pub async fn get_updates(
        &self,
        offset: i32,
        timeout: u32,
        limit: u8,
    ) -> Result<Vec<Update>, ApiFailure> {
        self.retrying("getUpdates", FOREVER, || {
            self.bot
                .get_updates()
                .offset(offset)
                .timeout(timeout)
                .limit(limit)
                .allowed_updates(ALLOWED_UPDATES)
                .into_future()
        })
        .await
    }

    /// One `getUpdates` that confirms the updates below `offset`, not retried
    /// (the last call before exiting).
    pub async fn confirm(&self, offset: i32) -> Result<(), ApiFailure> {
        self.bot
            .get_updates()
            .offset(offset)
            .timeout(0)
            .limit(1)
            .allowed_updates(ALLOWED_UPDATES)
            .await
            .map(drop)
            .map_err(|e| self.failure("getUpdates", e))
    }

    /// Registers the command list shown in Telegram's menu.
    pub async fn set_commands(&self, commands: Vec<BotCommand>) -> Result<(), ApiFailure> {
        self.retrying("setMyCommands", BOUNDED, || {
            self.bot.set_my_commands(commands.clone()).into_future()
        })
        .await
        .map(drop)
    }

    /// Removes any webhook, so `getUpdates` works.
    pub async fn delete_webhook(&self) -> Result<(), ApiFailure> {
        self.retrying("deleteWebhook", BOUNDED, || {
            self.bot.delete_webhook().into_future()
        })
        .await
        .map(drop)
    }

    /// Sets the webhook to `url`, with `secret` as `secret_token`.
    pub async fn set_webhook(&self, url: &url::Url, secret: &str) -> Result<(), ApiFailure> {
        self.retrying("setWebhook", BOUNDED, || {
            self.bot
                .set_webhook(url.clone())
                .secret_token(secret)
                .allowed_updates(ALLOWED_UPDATES)
                .into_future()
        })
        .await
        .map(drop)
    }

    /// Sends `reply` as an HTML message without link previews, at
    /// Telegram's pace for its chat.
    pub async fn send(&self, reply: &Reply) -> Result<Message, ApiFailure> {
        self.retrying("sendMessage", BOUNDED, || async {
            if let Some(pacer) = &self.pacer {
                pacer.wait(reply.chat).await;
            }
            configure(self.bot.send_message(reply.chat, reply.text.clone()), reply).await
        })
        .await
    }

    /// Answers a button press, with an optional notice.
    pub async fn answer_callback(
        &self,
        id: &CallbackQueryId,
        text: Option<&str>,
    ) -> Result<(), ApiFailure> {
        self.retrying("answerCallbackQuery", BOUNDED, || {
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
        self.retrying("answerInlineQuery", BOUNDED, || {
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

    /// `getFile`: where a document can be downloaded, and its size.
    pub async fn get_file(&self, id: &FileId) -> Result<File, ApiFailure> {
        self.retrying("getFile", BOUNDED, || {
            self.bot.get_file(id.clone()).into_future()
        })
        .await
    }

    /// Downloads the file at `path` (from [`Api::get_file`]), refusing it
    /// as soon as it runs past `max` bytes. Not retried: the sender can
    /// send again.
    pub async fn download(&self, path: &str, max: u64) -> Result<Vec<u8>, ApiFailure> {
        use teloxide::net::Download;
        let mut sink = Capped {
            bytes: Vec::new(),
            max,
        };
        self.bot
            .download_file(path, &mut sink)
            .await
            .map_err(|e| ApiFailure {
                method: "download",
                message: self.scrub(e.to_string()),
                rejected: true,
                migrated_to: None,
            })?;
        Ok(sink.bytes)
    }
}

/// A download kept in memory, refused past `max` bytes.
struct Capped {
    bytes: Vec<u8>,
    max: u64,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        chunk: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if (self.bytes.len() + chunk.len()) as u64 > self.max {
            let max = self.max;
            return std::task::Poll::Ready(Err(std::io::Error::other(format!(
                "the file runs past {max} bytes"
            ))));
        }
        self.bytes.extend_from_slice(chunk);
        std::task::Poll::Ready(Ok(chunk.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
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

/// What a failed call calls for.
enum Failure {
    /// `429`: wait this long.
    RateLimited(Duration),
    /// The network or Telegram's server failed: worth another try.
    Transient,
    /// Telegram refused the request itself.
    Rejected,
}

fn classify(error: &RequestError) -> Failure {
    match error {
        RequestError::RetryAfter(after) => Failure::RateLimited(after.duration()),
        RequestError::Network(_) | RequestError::InvalidJson { .. } => Failure::Transient,
        RequestError::Api(e) if is_server_error(e) => Failure::Transient,
        _ => Failure::Rejected,
    }
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

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let mut backoff = Backoff::new(Duration::from_secs(1));
        let delays: Vec<u64> = (0..5)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, [250, 500, 1000, 1000, 1000]);
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
