//! A strict, in-process fake of the Telegram Bot API for end-to-end tests.
//!
//! Start it with [`FakeBotApi::start`] (inside a tokio runtime) or
//! [`FakeBotApi::start_blocking`] (own thread and runtime), point the bot at
//! it with `TELOXIDE_TOKEN=`[`FakeBotApi::token`] and
//! `TELOXIDE_API_URL=`[`FakeBotApi::url`] (see [`FakeBotApi::env`]), push
//! updates with the `push_*` helpers and assert on what reached the server
//! with [`FakeBotApi::calls`], [`FakeBotApi::sent_messages`] and
//! [`FakeBotApi::wait_for`].
//!
//! The server answers like Telegram: `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":…,"description":…}` with the same HTTP status,
//! and it rejects what Telegram rejects (malformed HTML, over-long texts,
//! invalid buttons, unknown messages and queries, …) with Telegram's
//! descriptions. Faults (429, 5xx, garbage, delays) can be injected per
//! method.
//!
//! ```ignore
//! let api = FakeBotApi::start().await;
//! let mut bot = std::process::Command::new(env!("CARGO_BIN_EXE_citebot"))
//!     .arg("serve")
//!     .envs(api.env())
//!     .spawn()?;
//! api.push_private_text(42, "/ask what is virtue?");
//! assert!(api.wait_for(|s| s.sent_to(42).len() == 1, Duration::from_secs(10)).await);
//! assert!(api.sent_messages()[0].text.contains("virtue"));
//! bot.kill()?;
//! ```
//!
//! With [`FakeBotApi::start`] the server is a task of the test's runtime: keep
//! that runtime free (await, don't block the thread). Sync tests use
//! [`FakeBotApi::start_blocking`] and [`FakeBotApi::wait_for_blocking`].
//!
//! Webhooks: `setWebhook` accepts what api.telegram.org accepts (`https://`
//! on port 443, 80, 88 or 8443), or with [`FakeBotApiConfig::local`] what a
//! self-hosted `telegram-bot-api --local` accepts (`http://` too, any port).
//! With [`FakeBotApiConfig::deliver_webhooks`] the server POSTs each pending
//! update to the webhook, one at a time and in order, with the secret token,
//! until it gets a 200 (see [`ApiState::webhook_deliveries`]).
//!
//! Files: [`FakeBotApi::upload`] stores a document as if a user had sent
//! it (its `Document` object goes in a message with
//! [`IncomingMessage::document`]); `getFile` gives its `file_path`, refusing
//! files over 20 MB as api.telegram.org does (unless
//! [`FakeBotApiConfig::local`]), and `GET /file/bot<token>/<file_path>`
//! serves the bytes, only for a path `getFile` gave (recorded as the call
//! `file`).
//!
//! Group migration ([`FakeBotApi::migrate_group`]) and Telegram's random
//! restart of update ids ([`FakeBotApi::restart_update_ids`]) can be played.
//!
//! Known simplifications: chats the bot may write to are those seen in pushed
//! updates or registered with [`FakeBotApi::register_chat`] (others get
//! `chat not found`); only `parse_mode` HTML is implemented (Markdown modes
//! are rejected with an explanatory error); inline messages
//! (`inline_message_id`) are not tracked; Telegram's automatic entities
//! (URLs, hashtags, …) are not added to the bot's messages.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};

#[allow(unused_imports)]
pub use super::html::{
    Entity, FormattedText, MAX_MESSAGE_LEN, escape_html, format_message_text, parse_html,
    utf16_len, visible_text,
};

/// The methods the fake implements (lower case). Anything else is a 404.
const KNOWN_METHODS: &[&str] = &[
    "getme",
    "getupdates",
    "deletewebhook",
    "setwebhook",
    "getwebhookinfo",
    "setmycommands",
    "getmycommands",
    "deletemycommands",
    "sendmessage",
    "editmessagetext",
    "editmessagereplymarkup",
    "answercallbackquery",
    "answerinlinequery",
    "sendchataction",
    "deletemessage",
    "getfile",
    "close",
    "logout",
];

/// Update types delivered when `allowed_updates` is unset or empty.
const NOT_DELIVERED_BY_DEFAULT: &[&str] =
    &["chat_member", "message_reaction", "message_reaction_count"];

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

const QUERY_INVALID: &str =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";
const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and \
     reply markup are exactly the same as a current content and reply markup of the message";

/// Settings of a [`FakeBotApi`].
#[derive(Clone, Debug)]
pub struct FakeBotApiConfig {
    /// The only token accepted (`/bot<token>/…`); others get 401.
    pub token: String,
    /// The bot's user id.
    pub bot_id: i64,
    /// The bot's first name.
    pub first_name: String,
    /// The bot's username (without `@`).
    pub username: String,
    /// `getMe.can_join_groups`.
    pub can_join_groups: bool,
    /// `getMe.can_read_all_group_messages` (privacy mode off).
    pub can_read_all_group_messages: bool,
    /// `getMe.supports_inline_queries`.
    pub supports_inline_queries: bool,
    /// Upper bound for a `getUpdates` long poll, whatever `timeout` says.
    pub max_long_poll: Duration,
    /// The `update_id` given to the first pushed update.
    pub first_update_id: i64,
    /// Behave as a self-hosted `telegram-bot-api --local`: webhooks may be
    /// `http://` URLs on any port.
    pub local: bool,
    /// Deliver pending updates to the webhook once one is set.
    pub deliver_webhooks: bool,
}

impl Default for FakeBotApiConfig {
    fn default() -> Self {
        FakeBotApiConfig {
            token: "7000000001:AAFakeTokenForCitebotTests-0123456789".to_owned(),
            bot_id: 7_000_000_001,
            first_name: "Citebot Test".to_owned(),
            username: "citebot_test_bot".to_owned(),
            can_join_groups: true,
            can_read_all_group_messages: false,
            supports_inline_queries: true,
            max_long_poll: Duration::from_secs(50),
            first_update_id: 1,
            local: false,
            deliver_webhooks: false,
        }
    }
}

/// A programmable failure, consumed by one call (see [`FakeBotApi::inject`]).
/// A faulted call has no side effect, except [`Fault::Delay`], which answers
/// normally after the delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    TooManyRequests {
        /// Seconds to wait, as sent in `parameters.retry_after`.
        retry_after: u32,
    },
    /// A 5xx (or any) status with `{"ok":false,"error_code":N,"description":<reason>}`.
    ServerError(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Any API error, e.g. 403 `Forbidden: bot was blocked by the user`.
    Api {
        /// HTTP status and `error_code`.
        status: u16,
        /// `description`.
        description: String,
    },
}

/// One request that reached the server.
#[derive(Clone, Debug)]
pub struct RecordedCall {
    /// Position in arrival-of-answer order, from 0.
    pub seq: u64,
    /// The method name, lower-cased (`"sendmessage"`); empty if the path was
    /// not `/bot<token>/<method>`.
    pub method: String,
    /// The parameters, as one JSON object (form values are strings).
    pub params: Value,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Whether the answer was `"ok": true`.
    pub ok: bool,
    /// The error description, for rejected calls.
    pub description: Option<String>,
    /// The `result`, for successful calls.
    pub result: Option<Value>,
    /// The injected fault that shaped this answer, if any.
    pub fault: Option<Fault>,
    /// When the request arrived.
    pub at: Instant,
    /// When the request arrived, relative to the server's start.
    pub since_start: Duration,
    /// How long the answer took (long polls, delays).
    pub duration: Duration,
}

impl RecordedCall {
    /// Whether this is a call to `method` (case-insensitive).
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }

    /// A parameter, if given.
    pub fn param(&self, key: &str) -> Option<&Value> {
        self.params.get(key).filter(|v| !v.is_null())
    }
}

/// One POST of an update to the webhook.
#[derive(Clone, Debug)]
pub struct WebhookDelivery {
    /// The update.
    pub update_id: i64,
    /// The HTTP status of the bot's answer; 0 when there was none.
    pub status: u16,
    /// When the POST started.
    pub started: Instant,
    /// When the bot's answer arrived (or the POST failed).
    pub finished: Instant,
}

/// A message text accepted by `sendMessage` or `editMessageText`.
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// `"sendmessage"` or `"editmessagetext"`.
    pub method: String,
    /// The chat.
    pub chat_id: i64,
    /// The new or edited message.
    pub message_id: i64,
    /// What the user sees (parsed, cleaned and trimmed).
    pub text: String,
    /// The `text` parameter as sent.
    pub raw_text: String,
    /// The `parse_mode` parameter.
    pub parse_mode: Option<String>,
    /// The entities of `text`.
    pub entities: Vec<Entity>,
    /// The inline keyboard, if any.
    pub reply_markup: Option<Value>,
    /// The message replied to, for `sendMessage`.
    pub reply_to_message_id: Option<i64>,
    /// All parameters.
    pub params: Value,
}

impl SentMessage {
    /// Whether this was an `editMessageText`.
    pub fn is_edit(&self) -> bool {
        self.method == "editmessagetext"
    }

    /// The texts of the inline buttons, row by row.
    pub fn button_texts(&self) -> Vec<String> {
        inline_buttons(self.reply_markup.as_ref())
            .filter_map(|b| b["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// The `callback_data` of the inline buttons that have one.
    pub fn callback_data(&self) -> Vec<String> {
        inline_buttons(self.reply_markup.as_ref())
            .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
            .collect()
    }
}

fn inline_buttons(markup: Option<&Value>) -> impl Iterator<Item = &Value> {
    markup
        .and_then(|m| m["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
}

/// A user as Telegram sends it: `Tester<id>` / `@tester<id>`.
pub fn test_user(user_id: i64) -> Value {
    json!({
        "id": user_id,
        "is_bot": false,
        "first_name": format!("Tester{user_id}"),
        "username": format!("tester{user_id}"),
        "language_code": "en",
    })
}

/// The private chat with `user`.
pub fn private_chat(user: &Value) -> Value {
    let mut chat = json!({ "id": user["id"], "type": "private", "first_name": user["first_name"] });
    for key in ["last_name", "username"] {
        if let Some(v) = user.get(key) {
            chat[key] = v.clone();
        }
    }
    chat
}

/// A group chat object; `kind` is `"supergroup"` or `"group"`, `chat_id`
/// must be negative.
pub fn group_chat(chat_id: i64, kind: &str, title: &str) -> Value {
    assert!(chat_id < 0, "group chat ids are negative, got {chat_id}");
    assert!(
        kind == "group" || kind == "supergroup",
        "group chat type must be \"group\" or \"supergroup\", got {kind:?}"
    );
    json!({ "id": chat_id, "type": kind, "title": title })
}

#[derive(Clone, Debug)]
enum EntityMode {
    Auto,
    Explicit(Vec<Value>),
}

/// An incoming text message to push with [`FakeBotApi::push_message`].
/// The server assigns `message_id` (per chat) and `date`.
#[derive(Clone, Debug)]
pub struct IncomingMessage {
    chat: Value,
    from: Value,
    text: String,
    entities: EntityMode,
    reply_to: Option<i64>,
    document: Option<Value>,
    quote: Option<String>,
}

impl IncomingMessage {
    /// A message from [`test_user`]`(user_id)` in its private chat (whose id
    /// is the user id, as in Telegram).
    pub fn private(user_id: i64, text: &str) -> Self {
        let from = test_user(user_id);
        IncomingMessage {
            chat: private_chat(&from),
            from,
            text: text.to_owned(),
            entities: EntityMode::Auto,
            reply_to: None,
            document: None,
            quote: None,
        }
    }

    /// A message from [`test_user`]`(user_id)` in the supergroup `chat_id`
    /// (negative) titled `Test group <chat_id>`.
    pub fn group(chat_id: i64, user_id: i64, text: &str) -> Self {
        IncomingMessage {
            chat: group_chat(chat_id, "supergroup", &format!("Test group {chat_id}")),
            from: test_user(user_id),
            text: text.to_owned(),
            entities: EntityMode::Auto,
            reply_to: None,
            document: None,
            quote: None,
        }
    }

    /// Makes the chat a basic `"group"` instead of a supergroup.
    pub fn basic_group(mut self) -> Self {
        assert_ne!(
            self.chat["type"], "private",
            "basic_group() needs a group message"
        );
        self.chat["type"] = json!("group");
        self
    }

    /// Sets the group's title.
    pub fn title(mut self, title: &str) -> Self {
        assert_ne!(self.chat["type"], "private", "private chats have no title");
        self.chat["title"] = json!(title);
        self
    }

    /// Replaces the chat object.
    pub fn chat(mut self, chat: Value) -> Self {
        self.chat = chat;
        self
    }

    /// Replaces the sender.
    pub fn sender(mut self, user: Value) -> Self {
        self.from = user;
        self
    }

    /// Replies to message `message_id` of the same chat (which must exist).
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_to = Some(message_id);
        self
    }

    /// Quotes `text` of the message it replies to (Telegram's `quote`, chosen by hand).
    pub fn quote(mut self, text: &str) -> Self {
        self.quote = Some(text.to_owned());
        self
    }

    /// Uses these entities instead of the detected `bot_command`/`mention` ones.
    pub fn entities(mut self, entities: Vec<Value>) -> Self {
        self.entities = EntityMode::Explicit(entities);
        self
    }

    /// Sends no entities at all.
    pub fn without_entities(self) -> Self {
        self.entities(Vec::new())
    }

    /// Attaches a document (from [`FakeBotApi::upload`]): the text becomes
    /// its caption, as when a user sends a file with a caption.
    pub fn document(mut self, document: Value) -> Self {
        self.document = Some(document);
        self
    }
}

/// A file users sent, as the server keeps it.
#[derive(Clone, Debug)]
struct StoredFile {
    unique_id: String,
    bytes: Vec<u8>,
    /// Whether `file_size` is given (Telegram may leave it out).
    sized: bool,
    /// Set by `getFile`: where the bytes may be downloaded.
    path: Option<String>,
}

/// The largest file api.telegram.org lets a bot download.
pub const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

/// A press on an inline button of a message, to push with
/// [`FakeBotApi::push_callback_query`].
#[derive(Clone, Debug)]
pub struct IncomingCallbackQuery {
    id: Option<String>,
    from: Value,
    chat_id: i64,
    message_id: i64,
    data: Option<String>,
}

impl IncomingCallbackQuery {
    /// [`test_user`]`(user_id)` presses a button with `data` on message
    /// `message_id` of chat `chat_id` (which must exist).
    pub fn new(user_id: i64, chat_id: i64, message_id: i64, data: &str) -> Self {
        IncomingCallbackQuery {
            id: None,
            from: test_user(user_id),
            chat_id,
            message_id,
            data: Some(data.to_owned()),
        }
    }

    /// Uses this query id instead of a generated one.
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Replaces the sender.
    pub fn sender(mut self, user: Value) -> Self {
        self.from = user;
        self
    }
}

/// An inline query, to push with [`FakeBotApi::push_inline_query`].
#[derive(Clone, Debug)]
pub struct IncomingInlineQuery {
    id: Option<String>,
    from: Value,
    query: String,
    offset: String,
    chat_type: Option<String>,
}

impl IncomingInlineQuery {
    /// [`test_user`]`(user_id)` types `@bot query`.
    pub fn new(user_id: i64, query: &str) -> Self {
        IncomingInlineQuery {
            id: None,
            from: test_user(user_id),
            query: query.to_owned(),
            offset: String::new(),
            chat_type: Some("sender".to_owned()),
        }
    }

    /// The pagination offset (`next_offset` of a previous answer).
    pub fn offset(mut self, offset: &str) -> Self {
        self.offset = offset.to_owned();
        self
    }

    /// The `chat_type` (`sender`, `private`, `group`, `supergroup`, `channel`).
    pub fn chat_type(mut self, chat_type: &str) -> Self {
        self.chat_type = Some(chat_type.to_owned());
        self
    }

    /// Uses this query id instead of a generated one.
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Replaces the sender.
    pub fn sender(mut self, user: Value) -> Self {
        self.from = user;
        self
    }
}

/// Telegram's automatic `bot_command` and `mention` entities for an incoming
/// text (offsets and lengths in UTF-16 code units).
pub fn detect_entities(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let mut utf16 = Vec::with_capacity(chars.len() + 1);
    let mut pos = 0;
    for c in &chars {
        utf16.push(pos);
        pos += c.len_utf16();
    }
    utf16.push(pos);
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let run = |from: usize| {
        let mut j = from;
        while j < chars.len() && name_char(chars[j]) {
            j += 1;
        }
        j
    };
    let mut entities = Vec::new();
    for i in 0..chars.len() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        match chars[i] {
            '/' if !prev.is_some_and(|p| word(p) || "/<>".contains(p)) => {
                let mut end = run(i + 1);
                if !(1..=64).contains(&(end - i - 1)) {
                    continue;
                }
                if chars.get(end) == Some(&'@') {
                    let name_end = run(end + 1);
                    if !(3..=32).contains(&(name_end - end - 1)) {
                        continue;
                    }
                    end = name_end;
                }
                if chars
                    .get(end)
                    .is_some_and(|&n| word(n) || "/<>".contains(n))
                {
                    continue;
                }
                entities.push(json!({
                    "type": "bot_command", "offset": utf16[i], "length": utf16[end] - utf16[i],
                }));
            }
            '@' if !prev.is_some_and(word) => {
                let end = run(i + 1);
                if !(5..=32).contains(&(end - i - 1)) || chars.get(end).is_some_and(|&n| word(n)) {
                    continue;
                }
                entities.push(json!({
                    "type": "mention", "offset": utf16[i], "length": utf16[end] - utf16[i],
                }));
            }
            _ => {}
        }
    }
    entities
}

/// A Bot API error answer.
#[derive(Clone, Debug)]
struct ApiError {
    code: u16,
    description: String,
    retry_after: Option<u32>,
    migrate_to_chat_id: Option<i64>,
}

impl ApiError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    /// A 400 with a full description (`Bad Request: …`).
    fn bad(description: impl Into<String>) -> Self {
        Self::new(400, description)
    }
}

type ApiResult = Result<Value, ApiError>;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The request parameters, merged from the query string and the body.
struct Params(Map<String, Value>);

impl Params {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => value_as_i64(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad(format!("Bad Request: invalid {key} specified"))),
        }
    }

    fn boolean(&self, key: &str) -> bool {
        self.get(key).is_some_and(value_as_bool)
    }

    /// A JSON-serialized parameter: an object/array in a JSON body, or a
    /// string holding JSON in a form body.
    fn json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad(format!("Bad Request: can't parse {key} JSON object"))),
            Some(v) => Ok(Some(v.clone())),
        }
    }
}

fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1"),
        Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}

struct StoredMessage {
    json: Value,
    from_bot: bool,
}

struct ChatState {
    chat: Value,
    next_message_id: i64,
    messages: BTreeMap<i64, StoredMessage>,
}

/// Everything the fake server knows: recorded calls, update queue, chats and
/// their messages, pending queries, faults. Predicates of
/// [`FakeBotApi::wait_for`] get a `&ApiState`.
pub struct ApiState {
    me: Value,
    bot_user: Value,
    calls: Vec<RecordedCall>,
    sent: Vec<SentMessage>,
    pending: VecDeque<Value>,
    updates: BTreeMap<i64, Value>,
    next_update_id: i64,
    confirmed_offset: i64,
    deliveries: HashMap<i64, usize>,
    filtered: Vec<i64>,
    allowed_updates: Vec<String>,
    chats: BTreeMap<i64, ChatState>,
    callback_queries: HashMap<String, bool>,
    inline_queries: HashMap<String, bool>,
    next_query_id: u64,
    commands: BTreeMap<String, Value>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    webhook_deliveries: Vec<WebhookDelivery>,
    local: bool,
    /// Old group id → the supergroup it became.
    migrated: HashMap<i64, i64>,
    /// Ids were picked afresh ([`FakeBotApi::restart_update_ids`]).
    ids_restarted: bool,
    /// The highest update id delivered (by `getUpdates` or the webhook).
    last_delivered: i64,
    queued_faults: HashMap<String, VecDeque<Fault>>,
    fault_windows: Vec<(String, Fault, Instant)>,
    closing: bool,
    /// Files users sent, by `file_id`.
    files: HashMap<String, StoredFile>,
}

impl ApiState {
    /// All recorded calls, in the order they were answered.
    pub fn calls(&self) -> &[RecordedCall] {
        &self.calls
    }

    /// Recorded calls to `method` (case-insensitive), successful or not.
    pub fn calls_to(&self, method: &str) -> Vec<&RecordedCall> {
        self.calls.iter().filter(|c| c.is(method)).collect()
    }

    /// Successful calls to `method` (case-insensitive).
    pub fn successful_calls_to(&self, method: &str) -> Vec<&RecordedCall> {
        self.calls.iter().filter(|c| c.ok && c.is(method)).collect()
    }

    /// Rejected (or faulted) calls to `method` (case-insensitive).
    pub fn rejected_calls_to(&self, method: &str) -> Vec<&RecordedCall> {
        self.calls
            .iter()
            .filter(|c| !c.ok && c.is(method))
            .collect()
    }

    /// Texts accepted by `sendMessage` and `editMessageText`, in order.
    pub fn sent_messages(&self) -> &[SentMessage] {
        &self.sent
    }

    /// Accepted texts sent to or edited in `chat_id`.
    pub fn sent_to(&self, chat_id: i64) -> Vec<&SentMessage> {
        self.sent.iter().filter(|m| m.chat_id == chat_id).collect()
    }

    /// The highest `offset` the bot confirmed (0 before any).
    pub fn confirmed_offset(&self) -> i64 {
        self.confirmed_offset
    }

    /// Ids of updates not yet confirmed.
    pub fn pending_updates(&self) -> Vec<i64> {
        self.pending.iter().map(update_id).collect()
    }

    /// How many times update `update_id` was returned by `getUpdates`.
    pub fn delivery_count(&self, update_id: i64) -> usize {
        self.deliveries.get(&update_id).copied().unwrap_or(0)
    }

    /// Updates dropped because their type was not in `allowed_updates`.
    pub fn filtered_updates(&self) -> &[i64] {
        &self.filtered
    }

    /// A pushed update, by id.
    pub fn update(&self, update_id: i64) -> Option<&Value> {
        self.updates.get(&update_id)
    }

    /// The current state of a message (after edits), if it exists.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<&Value> {
        Some(&self.chats.get(&chat_id)?.messages.get(&message_id)?.json)
    }

    /// The current messages of a chat (incoming and the bot's), by id.
    pub fn chat_messages(&self, chat_id: i64) -> Vec<&Value> {
        self.chats
            .get(&chat_id)
            .map(|c| c.messages.values().map(|m| &m.json).collect())
            .unwrap_or_default()
    }

    /// Whether the callback query was answered.
    pub fn callback_query_answered(&self, id: &str) -> bool {
        self.callback_queries.get(id).copied().unwrap_or(false)
    }

    /// Whether the inline query was answered.
    pub fn inline_query_answered(&self, id: &str) -> bool {
        self.inline_queries.get(id).copied().unwrap_or(false)
    }

    /// The webhook URL set with `setWebhook`, if any.
    pub fn webhook_url(&self) -> Option<&str> {
        self.webhook_url.as_deref()
    }

    /// The webhook's `secret_token`, if one was set.
    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref()
    }

    /// The POSTs of updates to the webhook, in order.
    pub fn webhook_deliveries(&self) -> &[WebhookDelivery] {
        &self.webhook_deliveries
    }

    fn new(config: &FakeBotApiConfig) -> Self {
        let bot_user = json!({
            "id": config.bot_id,
            "is_bot": true,
            "first_name": config.first_name,
            "username": config.username,
        });
        let mut me = bot_user.clone();
        for (key, value) in [
            ("can_join_groups", config.can_join_groups),
            (
                "can_read_all_group_messages",
                config.can_read_all_group_messages,
            ),
            ("supports_inline_queries", config.supports_inline_queries),
            ("can_connect_to_business", false),
            ("has_main_web_app", false),
        ] {
            me[key] = json!(value);
        }
        ApiState {
            me,
            bot_user,
            calls: Vec::new(),
            sent: Vec::new(),
            pending: VecDeque::new(),
            updates: BTreeMap::new(),
            next_update_id: config.first_update_id,
            confirmed_offset: 0,
            deliveries: HashMap::new(),
            filtered: Vec::new(),
            allowed_updates: Vec::new(),
            chats: BTreeMap::new(),
            callback_queries: HashMap::new(),
            inline_queries: HashMap::new(),
            next_query_id: 1,
            commands: BTreeMap::new(),
            webhook_url: None,
            webhook_secret: None,
            webhook_deliveries: Vec::new(),
            local: config.local,
            migrated: HashMap::new(),
            ids_restarted: false,
            last_delivered: 0,
            queued_faults: HashMap::new(),
            fault_windows: Vec::new(),
            closing: false,
            files: HashMap::new(),
        }
    }

    // ----- updates -------------------------------------------------------

    fn push_update(&mut self, mut update: Value) -> i64 {
        assert!(update.is_object(), "an update must be a JSON object");
        let id = self.next_update_id;
        self.next_update_id += 1;
        update["update_id"] = json!(id);
        for key in ["message", "edited_message"] {
            if let Some(message) = update.get(key) {
                self.observe_incoming(message.clone());
            }
        }
        self.pending.push_back(update.clone());
        self.updates.insert(id, update);
        id
    }

    /// Registers the chat and the message of a raw incoming message.
    fn observe_incoming(&mut self, message: Value) {
        let (Some(chat_id), Some(message_id)) = (
            message["chat"]["id"].as_i64(),
            message["message_id"].as_i64(),
        ) else {
            return;
        };
        let chat = self.chat_entry(&message["chat"]);
        chat.next_message_id = chat.next_message_id.max(message_id + 1);
        let from_bot = message["from"]["id"].as_i64() == self.bot_user["id"].as_i64();
        let chat = self.chats.get_mut(&chat_id).expect("just registered");
        chat.messages.insert(
            message_id,
            StoredMessage {
                json: message,
                from_bot,
            },
        );
    }

    /// The chat's state, created if new; the chat object is refreshed (a
    /// group may have a new title).
    fn chat_entry(&mut self, chat: &Value) -> &mut ChatState {
        let id = chat["id"].as_i64().expect("a chat needs an integer id");
        let entry = self.chats.entry(id).or_insert_with(|| ChatState {
            chat: chat.clone(),
            next_message_id: 1,
            messages: BTreeMap::new(),
        });
        entry.chat = chat.clone();
        entry
    }

    fn next_query_id(&mut self) -> String {
        let id = 4_200_000_000_000_000_000u64 + self.next_query_id;
        self.next_query_id += 1;
        id.to_string()
    }

    fn push_message(&mut self, msg: IncomingMessage) -> i64 {
        let chat_id = msg.chat["id"].as_i64().expect("chat id");
        let chat = self.chat_entry(&msg.chat);
        let message_id = chat.next_message_id;
        chat.next_message_id += 1;
        let chat_json = chat.chat.clone();
        let mut message = json!({
            "message_id": message_id,
            "from": msg.from,
            "chat": chat_json,
            "date": unix_now(),
        });
        // A document's text is its caption (and may be absent).
        let (text_key, entities_key) = match msg.document {
            Some(document) => {
                message["document"] = document;
                ("caption", "caption_entities")
            }
            None => ("text", "entities"),
        };
        if text_key == "text" || !msg.text.is_empty() {
            message[text_key] = json!(msg.text);
        }
        let entities = match msg.entities {
            EntityMode::Auto => detect_entities(&msg.text),
            EntityMode::Explicit(e) => e,
        };
        if !entities.is_empty() {
            message[entities_key] = Value::Array(entities);
        }
        if let Some(reply_to) = msg.reply_to {
            let replied = self.message(chat_id, reply_to).unwrap_or_else(|| {
                panic!("push_message: message {reply_to} does not exist in chat {chat_id}")
            });
            if let Some(quote) = &msg.quote {
                let text = replied["text"].as_str().unwrap_or_default();
                let at = text.find(quote.as_str()).unwrap_or_else(|| {
                    panic!("push_message: the message replied to does not hold {quote:?}")
                });
                let position = text[..at].encode_utf16().count();
                message["quote"] = json!({"text": quote, "position": position, "is_manual": true});
            }
            message["reply_to_message"] = without_reply(replied);
        }
        self.push_update(json!({ "message": message }))
    }

    /// Group `old` becomes supergroup `new`, as Telegram tells it: a service
    /// message in each chat. Sends to `old` fail from now on with
    /// `migrate_to_chat_id`.
    fn migrate_group(&mut self, old: i64, new: i64, user: Value) -> (i64, i64) {
        let title = self
            .chats
            .get(&old)
            .and_then(|c| c.chat["title"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("migrate_group: no chat {old}"));
        self.migrated.insert(old, new);
        let service = |chat: Value, id: i64, key: &str, other: i64| {
            json!({ "message": {
                "message_id": id, "from": user, "chat": chat, "date": unix_now(), key: other,
            }})
        };
        let old_chat = self.chats[&old].chat.clone();
        let old_id = self.chats[&old].next_message_id;
        let to = self.push_update(service(old_chat, old_id, "migrate_to_chat_id", new));
        let new_chat = group_chat(new, "supergroup", &title);
        let new_id = self.chat_entry(&new_chat).next_message_id;
        let from = self.push_update(service(new_chat, new_id, "migrate_from_chat_id", old));
        (to, from)
    }

    fn push_callback_query(&mut self, q: IncomingCallbackQuery) -> i64 {
        let message = self
            .message(q.chat_id, q.message_id)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "push_callback_query: message {} does not exist in chat {}",
                    q.message_id, q.chat_id
                )
            });
        let id = q.id.unwrap_or_else(|| self.next_query_id());
        self.callback_queries.insert(id.clone(), false);
        let mut query = json!({
            "id": id,
            "from": q.from,
            "message": message,
            "chat_instance": (q.chat_id.unsigned_abs() ^ 0x5DEE_CE66).to_string(),
        });
        if let Some(data) = q.data {
            query["data"] = json!(data);
        }
        self.push_update(json!({ "callback_query": query }))
    }

    fn push_inline_query(&mut self, q: IncomingInlineQuery) -> i64 {
        let id = q.id.unwrap_or_else(|| self.next_query_id());
        self.inline_queries.insert(id.clone(), false);
        let mut query = json!({ "id": id, "from": q.from, "query": q.query, "offset": q.offset });
        if let Some(chat_type) = q.chat_type {
            query["chat_type"] = json!(chat_type);
        }
        self.push_update(json!({ "inline_query": query }))
    }

    /// Applies a `getUpdates` offset: confirms (forgets) older updates.
    /// After [`FakeBotApi::restart_update_ids`], an offset beyond what the
    /// new sequence has delivered is left from the old one and confirms
    /// nothing.
    fn confirm(&mut self, offset: i64) {
        if self.ids_restarted && offset > self.last_delivered + 1 {
            return;
        }
        if offset > 0 {
            self.pending.retain(|u| update_id(u) >= offset);
            self.confirmed_offset = self.confirmed_offset.max(offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.pending.len() > keep {
                self.pending.pop_front();
            }
            let first_kept = self.pending.front().map(update_id);
            self.confirmed_offset = first_kept.unwrap_or(self.next_update_id);
        }
    }

    fn set_allowed_updates(&mut self, allowed: Value) -> Result<(), ApiError> {
        let list = allowed.as_array().ok_or_else(|| {
            ApiError::bad("Bad Request: can't parse allowed updates: expected an Array")
        })?;
        self.allowed_updates = list
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::bad("Bad Request: can't parse allowed updates"))?;
        Ok(())
    }

    fn is_allowed(&self, update: &Value) -> bool {
        let kind = update
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "update_id"))
            .map(String::as_str)
            .unwrap_or("");
        if self.allowed_updates.is_empty() {
            !NOT_DELIVERED_BY_DEFAULT.contains(&kind)
        } else {
            self.allowed_updates.iter().any(|a| a == kind)
        }
    }

    /// Up to `limit` pending updates (dropping those of types not allowed),
    /// counting the deliveries.
    fn take_batch(&mut self, limit: usize) -> Vec<Value> {
        let mut batch = Vec::new();
        let mut i = 0;
        while i < self.pending.len() && batch.len() < limit {
            if self.is_allowed(&self.pending[i]) {
                let update = self.pending[i].clone();
                *self.deliveries.entry(update_id(&update)).or_default() += 1;
                self.last_delivered = self.last_delivered.max(update_id(&update));
                batch.push(update);
                i += 1;
            } else {
                let dropped = self.pending.remove(i).expect("index in range");
                self.filtered.push(update_id(&dropped));
            }
        }
        batch
    }

    // ----- faults --------------------------------------------------------

    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        for key in [method, "*"] {
            if let Some(fault) = self
                .queued_faults
                .get_mut(key)
                .and_then(VecDeque::pop_front)
            {
                return Some(fault);
            }
        }
        let now = Instant::now();
        self.fault_windows.retain(|(_, _, until)| *until > now);
        self.fault_windows
            .iter()
            .find(|(m, _, _)| m == method || m == "*")
            .map(|(_, fault, _)| fault.clone())
    }

    // ----- methods -------------------------------------------------------

    fn dispatch(&mut self, method: &str, p: &Params) -> ApiResult {
        match method {
            "getme" => Ok(self.me.clone()),
            "deletewebhook" => {
                if p.boolean("drop_pending_updates") {
                    self.pending.clear();
                }
                self.webhook_url = None;
                Ok(json!(true))
            }
            "setwebhook" => self.set_webhook(p),
            "getwebhookinfo" => Ok(json!({
                "url": self.webhook_url.clone().unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": self.pending.len(),
            })),
            "setmycommands" => self.set_my_commands(p),
            "getmycommands" => Ok(self
                .commands
                .get(&commands_key(p)?)
                .cloned()
                .unwrap_or_else(|| json!([]))),
            "deletemycommands" => {
                self.commands.remove(&commands_key(p)?);
                Ok(json!(true))
            }
            "sendmessage" => self.send_message(p),
            "editmessagetext" => self.edit_message_text(p),
            "editmessagereplymarkup" => self.edit_message_reply_markup(p),
            "answercallbackquery" => self.answer_callback_query(p),
            "answerinlinequery" => self.answer_inline_query(p),
            "sendchataction" => {
                self.resolve_chat(p)?;
                let action = p.string("action").unwrap_or_default();
                if !CHAT_ACTIONS.contains(&action.as_str()) {
                    return Err(ApiError::bad(
                        "Bad Request: wrong parameter action in request",
                    ));
                }
                Ok(json!(true))
            }
            "deletemessage" => self.delete_message(p),
            "getfile" => self.get_file(p),
            "close" | "logout" => Ok(json!(true)),
            other => unreachable!("method {other} is not dispatched here"),
        }
    }

    /// `getFile`: the file's `file_path`, for files a bot may download.
    fn get_file(&mut self, p: &Params) -> ApiResult {
        let id = p
            .string("file_id")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::bad("Bad Request: parameter \"file_id\" is required"))?;
        let local = self.local;
        let count = self.files.len();
        let file = self
            .files
            .get_mut(&id)
            .ok_or_else(|| ApiError::bad("Bad Request: invalid file_id"))?;
        if file.bytes.len() > MAX_DOWNLOAD && !local {
            return Err(ApiError::bad("Bad Request: file is too big"));
        }
        let path = file
            .path
            .get_or_insert_with(|| format!("documents/file_{count}_{}", file.unique_id))
            .clone();
        let mut result = json!({
            "file_id": id,
            "file_unique_id": file.unique_id,
            "file_path": path,
        });
        if file.sized {
            result["file_size"] = json!(file.bytes.len());
        }
        Ok(result)
    }

    /// The bytes at `path`, if `getFile` gave that path.
    fn download(&self, path: &str) -> Option<Vec<u8>> {
        self.files
            .values()
            .find(|f| f.path.as_deref() == Some(path))
            .map(|f| f.bytes.clone())
    }

    fn set_webhook(&mut self, p: &Params) -> ApiResult {
        let url = p.string("url").unwrap_or_default();
        if url.is_empty() {
            self.webhook_url = None;
            self.webhook_secret = None;
            return Ok(json!(true));
        }
        let lower = url.to_ascii_lowercase();
        let (https, rest) = match (
            lower.strip_prefix("https://"),
            lower.strip_prefix("http://"),
        ) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) if self.local => (false, rest),
            _ => {
                return Err(ApiError::bad(
                    "Bad Request: bad webhook: HTTPS url must be provided for webhook",
                ));
            }
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let port = match authority.rsplit_once(':') {
            Some((_, port)) if !port.contains(']') => port.parse::<u16>().ok(),
            _ => Some(if https { 443 } else { 80 }),
        };
        let allowed = self.local || port.is_some_and(|p| [80, 88, 443, 8443].contains(&p));
        if !allowed {
            return Err(ApiError::bad(
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            ));
        }
        if let Some(secret) = p.string("secret_token") {
            let valid = (1..=256).contains(&secret.len())
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(ApiError::bad(
                    "Bad Request: secret token contains unallowed characters",
                ));
            }
            self.webhook_secret = Some(secret);
        }
        if let Some(allowed) = p.json("allowed_updates")? {
            self.set_allowed_updates(allowed)?;
        }
        self.webhook_url = Some(url);
        Ok(json!(true))
    }

    fn set_my_commands(&mut self, p: &Params) -> ApiResult {
        let commands = p
            .json("commands")?
            .ok_or_else(|| ApiError::bad("Bad Request: parameter \"commands\" is required"))?;
        let list = commands
            .as_array()
            .ok_or_else(|| ApiError::bad("Bad Request: can't parse commands JSON object"))?;
        if list.len() > 100 {
            return Err(ApiError::bad("Bad Request: too many commands specified"));
        }
        for c in list {
            let command = c["command"].as_str().unwrap_or("");
            let command = command.strip_prefix('/').unwrap_or(command);
            let valid = (1..=32).contains(&command.chars().count())
                && command
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !valid {
                return Err(ApiError::bad("Bad Request: BOT_COMMAND_INVALID"));
            }
            let description = c["description"].as_str().unwrap_or("");
            if !(1..=256).contains(&description.chars().count()) {
                return Err(ApiError::bad(
                    "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
                ));
            }
        }
        self.commands.insert(commands_key(p)?, commands);
        Ok(json!(true))
    }

    fn resolve_chat_value(&self, value: Option<&Value>) -> Result<i64, ApiError> {
        let not_found = || ApiError::bad("Bad Request: chat not found");
        let id = match value {
            None => return Err(ApiError::bad("Bad Request: chat_id is empty")),
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(ApiError::bad("Bad Request: chat_id is empty"));
            }
            Some(Value::String(s)) if s.starts_with('@') => self
                .chats
                .iter()
                .find(|(_, c)| {
                    c.chat["username"]
                        .as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&s[1..]))
                })
                .map(|(id, _)| *id)
                .ok_or_else(not_found)?,
            Some(v) => value_as_i64(v).ok_or_else(not_found)?,
        };
        if self.chats.contains_key(&id) {
            Ok(id)
        } else {
            Err(not_found())
        }
    }

    fn resolve_chat(&self, p: &Params) -> Result<i64, ApiError> {
        self.resolve_chat_value(p.get("chat_id"))
    }

    /// The text of a `sendMessage`/`editMessageText` after parsing.
    fn message_text(p: &Params) -> Result<FormattedText, ApiError> {
        let text = p.string("text").unwrap_or_default();
        let parse_mode = p.string("parse_mode");
        let mut formatted =
            format_message_text(&text, parse_mode.as_deref()).map_err(ApiError::bad)?;
        if parse_mode.as_deref().is_none_or(str::is_empty)
            && let Some(entities) = p.json("entities")?
        {
            formatted.entities = entities_from_json(&entities)?;
        }
        Ok(formatted)
    }

    fn send_message(&mut self, p: &Params) -> ApiResult {
        let chat_id = self.resolve_chat(p)?;
        if let Some(&new) = self.migrated.get(&chat_id) {
            return Err(ApiError {
                migrate_to_chat_id: Some(new),
                ..ApiError::bad("Bad Request: group chat was upgraded to a supergroup chat")
            });
        }
        let formatted = Self::message_text(p)?;
        let markup = checked_reply_markup(p, true)?;
        let reply_to = self.reply_target(p, chat_id)?;

        let bot_user = self.bot_user.clone();
        let chat = self.chats.get_mut(&chat_id).expect("resolved chat");
        let message_id = chat.next_message_id;
        chat.next_message_id += 1;
        let mut message = json!({
            "message_id": message_id,
            "from": bot_user,
            "chat": chat.chat,
            "date": unix_now(),
            "text": formatted.text,
        });
        set_or_remove(&mut message, "entities", non_empty_entities(&formatted));
        set_or_remove(&mut message, "reply_markup", markup.clone());
        let reply_to_message_id = reply_to.as_ref().and_then(|m| m["message_id"].as_i64());
        set_or_remove(&mut message, "reply_to_message", reply_to);
        chat.messages.insert(
            message_id,
            StoredMessage {
                json: message.clone(),
                from_bot: true,
            },
        );
        self.sent.push(SentMessage {
            method: "sendmessage".to_owned(),
            chat_id,
            message_id,
            text: formatted.text,
            raw_text: p.string("text").unwrap_or_default(),
            parse_mode: p.string("parse_mode"),
            entities: formatted.entities,
            reply_markup: markup,
            reply_to_message_id,
            params: Value::Object(p.0.clone()),
        });
        Ok(message)
    }

    /// The message a `sendMessage` replies to (`reply_parameters`, or the
    /// legacy `reply_to_message_id`).
    fn reply_target(&self, p: &Params, chat_id: i64) -> Result<Option<Value>, ApiError> {
        let (target_chat, message_id, allow_without) =
            if let Some(rp) = p.json("reply_parameters")? {
                let target_chat = match rp.get("chat_id").filter(|v| !v.is_null()) {
                    Some(v) => self.resolve_chat_value(Some(v))?,
                    None => chat_id,
                };
                let message_id = rp
                    .get("message_id")
                    .and_then(value_as_i64)
                    .ok_or_else(|| ApiError::bad("Bad Request: message to be replied not found"))?;
                let allow = rp
                    .get("allow_sending_without_reply")
                    .is_some_and(value_as_bool);
                (target_chat, message_id, allow)
            } else if let Some(message_id) = p.int("reply_to_message_id")? {
                (
                    chat_id,
                    message_id,
                    p.boolean("allow_sending_without_reply"),
                )
            } else {
                return Ok(None);
            };
        match self.message(target_chat, message_id) {
            // A reply to another chat is an external reply; not modelled.
            Some(_) if target_chat != chat_id => Ok(None),
            Some(m) => Ok(Some(without_reply(m))),
            None if allow_without => Ok(None),
            None => Err(ApiError::bad(
                "Bad Request: message to be replied not found",
            )),
        }
    }

    /// The bot's own message targeted by an edit.
    fn edit_target(&self, p: &Params) -> Result<(i64, i64), ApiError> {
        if p.has("inline_message_id") {
            return Err(ApiError::bad("Bad Request: MESSAGE_ID_INVALID"));
        }
        let chat_id = self.resolve_chat(p)?;
        let message_id = p
            .int("message_id")?
            .ok_or_else(|| ApiError::bad("Bad Request: message identifier is not specified"))?;
        let stored = self
            .chats
            .get(&chat_id)
            .and_then(|c| c.messages.get(&message_id))
            .ok_or_else(|| ApiError::bad("Bad Request: message to edit not found"))?;
        if !stored.from_bot {
            return Err(ApiError::bad("Bad Request: message can't be edited"));
        }
        Ok((chat_id, message_id))
    }

    fn edit_message_text(&mut self, p: &Params) -> ApiResult {
        let (chat_id, message_id) = self.edit_target(p)?;
        let formatted = Self::message_text(p)?;
        let markup = checked_reply_markup(p, false)?;
        let stored = self.stored_mut(chat_id, message_id);
        let entities = non_empty_entities(&formatted);
        if stored.json["text"] == json!(formatted.text)
            && stored.json.get("entities") == entities.as_ref()
            && stored.json.get("reply_markup") == markup.as_ref()
        {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        stored.json["text"] = json!(formatted.text);
        set_or_remove(&mut stored.json, "entities", entities);
        set_or_remove(&mut stored.json, "reply_markup", markup.clone());
        stored.json["edit_date"] = json!(unix_now());
        let message = stored.json.clone();
        self.sent.push(SentMessage {
            method: "editmessagetext".to_owned(),
            chat_id,
            message_id,
            text: formatted.text,
            raw_text: p.string("text").unwrap_or_default(),
            parse_mode: p.string("parse_mode"),
            entities: formatted.entities,
            reply_markup: markup,
            reply_to_message_id: None,
            params: Value::Object(p.0.clone()),
        });
        Ok(message)
    }

    fn edit_message_reply_markup(&mut self, p: &Params) -> ApiResult {
        let (chat_id, message_id) = self.edit_target(p)?;
        let markup = checked_reply_markup(p, false)?;
        let stored = self.stored_mut(chat_id, message_id);
        if stored.json.get("reply_markup") == markup.as_ref() {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        set_or_remove(&mut stored.json, "reply_markup", markup);
        stored.json["edit_date"] = json!(unix_now());
        Ok(stored.json.clone())
    }

    fn stored_mut(&mut self, chat_id: i64, message_id: i64) -> &mut StoredMessage {
        self.chats
            .get_mut(&chat_id)
            .and_then(|c| c.messages.get_mut(&message_id))
            .expect("checked by edit_target")
    }

    fn delete_message(&mut self, p: &Params) -> ApiResult {
        let chat_id = self.resolve_chat(p)?;
        let message_id = p
            .int("message_id")?
            .ok_or_else(|| ApiError::bad("Bad Request: message identifier is not specified"))?;
        let chat = self.chats.get_mut(&chat_id).expect("resolved chat");
        let Some(stored) = chat.messages.get(&message_id) else {
            return Err(ApiError::bad("Bad Request: message to delete not found"));
        };
        if !stored.from_bot && chat.chat["type"] != "private" {
            return Err(ApiError::bad("Bad Request: message can't be deleted"));
        }
        chat.messages.remove(&message_id);
        Ok(json!(true))
    }

    fn answer_callback_query(&mut self, p: &Params) -> ApiResult {
        let id = p.string("callback_query_id").unwrap_or_default();
        if self.callback_queries.get(&id) != Some(&false) {
            return Err(ApiError::bad(QUERY_INVALID));
        }
        if p.string("text").is_some_and(|t| t.chars().count() > 200) {
            return Err(ApiError::bad("Bad Request: MESSAGE_TOO_LONG"));
        }
        self.callback_queries.insert(id, true);
        Ok(json!(true))
    }

    fn answer_inline_query(&mut self, p: &Params) -> ApiResult {
        let id = p.string("inline_query_id").unwrap_or_default();
        if self.inline_queries.get(&id) != Some(&false) {
            return Err(ApiError::bad(QUERY_INVALID));
        }
        let results = p
            .json("results")?
            .ok_or_else(|| ApiError::bad("Bad Request: parameter \"results\" is required"))?;
        let results = results.as_array().ok_or_else(|| {
            ApiError::bad("Bad Request: can't parse inline query results: expected an Array")
        })?;
        if results.len() > 50 {
            return Err(ApiError::bad("Bad Request: RESULTS_TOO_MUCH"));
        }
        let mut ids = HashSet::new();
        for result in results {
            check_inline_result(result, &mut ids)?;
        }
        if p.string("next_offset").is_some_and(|o| o.len() > 64) {
            return Err(ApiError::bad("Bad Request: NEXT_OFFSET_INVALID"));
        }
        self.inline_queries.insert(id, true);
        Ok(json!(true))
    }
}

fn update_id(update: &Value) -> i64 {
    update["update_id"]
        .as_i64()
        .expect("stored updates have ids")
}

/// A copy of a message without its own `reply_to_message` (Telegram does not
/// nest replies).
fn without_reply(message: &Value) -> Value {
    let mut m = message.clone();
    if let Some(o) = m.as_object_mut() {
        o.remove("reply_to_message");
    }
    m
}

fn set_or_remove(object: &mut Value, key: &str, value: Option<Value>) {
    let o = object.as_object_mut().expect("a JSON object");
    match value {
        Some(v) => o.insert(key.to_owned(), v),
        None => o.remove(key),
    };
}

fn non_empty_entities(ft: &FormattedText) -> Option<Value> {
    (!ft.entities.is_empty()).then(|| ft.entities_json())
}

fn entities_from_json(v: &Value) -> Result<Vec<Entity>, ApiError> {
    let invalid = || ApiError::bad("Bad Request: can't parse entities JSON object");
    v.as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|e| {
            let field = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            Ok(Entity {
                kind: field("type").ok_or_else(invalid)?,
                offset: e["offset"].as_u64().ok_or_else(invalid)? as usize,
                length: e["length"].as_u64().ok_or_else(invalid)? as usize,
                url: field("url"),
                language: field("language"),
                custom_emoji_id: field("custom_emoji_id"),
            })
        })
        .collect()
}

fn commands_key(p: &Params) -> Result<String, ApiError> {
    let scope = p
        .json("scope")?
        .map(|s| s.to_string())
        .unwrap_or_else(|| json!({ "type": "default" }).to_string());
    Ok(format!(
        "{scope}|{}",
        p.string("language_code").unwrap_or_default()
    ))
}

/// Validates `reply_markup`; returns the inline keyboard to store on the
/// message (`None` for no keyboard or a non-inline one).
fn checked_reply_markup(
    p: &Params,
    allow_reply_keyboards: bool,
) -> Result<Option<Value>, ApiError> {
    let Some(markup) = p.json("reply_markup")? else {
        return Ok(None);
    };
    let invalid = || ApiError::bad("Bad Request: can't parse reply keyboard markup JSON object");
    let object = markup.as_object().ok_or_else(invalid)?;
    if let Some(keyboard) = object.get("inline_keyboard") {
        check_inline_keyboard(keyboard)?;
        let empty = keyboard.as_array().is_some_and(Vec::is_empty);
        return Ok((!empty).then_some(markup));
    }
    if !allow_reply_keyboards {
        return Err(ApiError::bad("Bad Request: REPLY_MARKUP_INVALID"));
    }
    if let Some(keyboard) = object.get("keyboard") {
        let rows = keyboard.as_array().ok_or_else(invalid)?;
        for button in rows.iter().map(|r| r.as_array().ok_or_else(invalid)) {
            for b in button? {
                let text = b.as_str().or_else(|| b["text"].as_str()).unwrap_or("");
                if text.is_empty() {
                    return Err(ApiError::bad("Bad Request: BUTTON_TEXT_INVALID"));
                }
            }
        }
        Ok(None)
    } else if object.get("remove_keyboard") == Some(&json!(true))
        || object.get("force_reply") == Some(&json!(true))
    {
        Ok(None)
    } else {
        Err(invalid())
    }
}

/// The action fields of an `InlineKeyboardButton`; exactly one is allowed.
const BUTTON_ACTIONS: &[&str] = &[
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

fn check_inline_keyboard(keyboard: &Value) -> Result<(), ApiError> {
    let parse_error = |what: &str| {
        ApiError::bad(format!(
            "Bad Request: can't parse inline keyboard button: {what}"
        ))
    };
    let rows = keyboard.as_array().ok_or_else(|| {
        ApiError::bad(
            "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array",
        )
    })?;
    let mut count = 0;
    for row in rows {
        let row = row
            .as_array()
            .ok_or_else(|| parse_error("InlineKeyboardButton row must be an Array"))?;
        for button in row {
            count += 1;
            let button = button
                .as_object()
                .ok_or_else(|| parse_error("InlineKeyboardButton must be an Object"))?;
            match button.get("text") {
                Some(Value::String(t)) if !t.trim().is_empty() => {}
                Some(Value::String(_)) => {
                    return Err(ApiError::bad("Bad Request: BUTTON_TEXT_INVALID"));
                }
                _ => return Err(parse_error("Field \"text\" must be of type String")),
            }
            let actions: Vec<&str> = BUTTON_ACTIONS
                .iter()
                .copied()
                .filter(|a| button.get(*a).is_some_and(|v| !v.is_null()))
                .collect();
            match actions.len() {
                0 => {
                    return Err(parse_error(
                        "Text buttons are unallowed in the inline keyboard",
                    ));
                }
                1 => {}
                _ => {
                    return Err(parse_error(
                        "exactly one of the optional fields must be used",
                    ));
                }
            }
            let error = match actions[0] {
                "callback_data" => {
                    let data = button["callback_data"].as_str().unwrap_or("");
                    (!(1..=64).contains(&data.len())).then_some("BUTTON_DATA_INVALID")
                }
                "url" => {
                    let url = button["url"].as_str().unwrap_or("");
                    (!is_valid_button_url(url)).then_some("BUTTON_URL_INVALID")
                }
                "copy_text" => {
                    let text = button["copy_text"]["text"].as_str().unwrap_or("");
                    let len = text.chars().count();
                    (!(1..=256).contains(&len)).then_some("BUTTON_COPY_TEXT_INVALID")
                }
                "web_app" | "login_url" => {
                    let url = button[actions[0]]["url"].as_str().unwrap_or("");
                    let https = url.to_ascii_lowercase().starts_with("https://");
                    (!https || !is_valid_button_url(url)).then_some("BUTTON_URL_INVALID")
                }
                _ => None,
            };
            if let Some(error) = error {
                return Err(ApiError::bad(format!("Bad Request: {error}")));
            }
        }
    }
    if count > 100 {
        return Err(ApiError::bad("Bad Request: BUTTONS_TOO_MUCH"));
    }
    Ok(())
}

/// A URL Telegram accepts in a button: `http(s)://host.tld/…` (a host with
/// a dot, or an IPv4 address) or `tg://…`.
pub fn is_valid_button_url(url: &str) -> bool {
    if url.is_empty()
        || url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    match scheme.to_ascii_lowercase().as_str() {
        "tg" => !rest.is_empty(),
        "http" | "https" => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host_port = authority.rsplit('@').next().unwrap_or("");
            let host = match host_port.rsplit_once(':') {
                Some((host, port))
                    if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) =>
                {
                    host
                }
                Some(_) => return false,
                None => host_port,
            };
            let labels: Vec<&str> = host.split('.').collect();
            labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty()
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                })
        }
        _ => false,
    }
}

const INLINE_RESULT_TYPES: &[&str] = &[
    "article",
    "photo",
    "gif",
    "mpeg4_gif",
    "video",
    "audio",
    "voice",
    "document",
    "location",
    "venue",
    "contact",
    "game",
    "sticker",
];

fn check_inline_result(result: &Value, ids: &mut HashSet<String>) -> Result<(), ApiError> {
    let parse_error = |what: &str| {
        ApiError::bad(format!(
            "Bad Request: can't parse inline query result: {what}"
        ))
    };
    let object = result
        .as_object()
        .ok_or_else(|| parse_error("InlineQueryResult must be an Object"))?;
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    if !INLINE_RESULT_TYPES.contains(&kind) {
        return Err(parse_error("unsupported result type"));
    }
    let id = object.get("id").and_then(Value::as_str).unwrap_or("");
    if !(1..=64).contains(&id.len()) {
        return Err(ApiError::bad("Bad Request: RESULT_ID_INVALID"));
    }
    if !ids.insert(id.to_owned()) {
        return Err(ApiError::bad("Bad Request: RESULT_ID_DUPLICATE"));
    }
    if kind == "article" {
        if object
            .get("title")
            .and_then(Value::as_str)
            .is_none_or(|t| t.trim().is_empty())
        {
            return Err(ApiError::bad("Bad Request: ARTICLE_TITLE_EMPTY"));
        }
        if !object
            .get("input_message_content")
            .is_some_and(Value::is_object)
        {
            return Err(parse_error(
                "Field \"input_message_content\" must be of type Object",
            ));
        }
    }
    if let Some(content) = object.get("input_message_content")
        && let Some(text) = content.get("message_text")
    {
        let text = text
            .as_str()
            .ok_or_else(|| parse_error("Field \"message_text\" must be of type String"))?;
        let parse_mode = content.get("parse_mode").and_then(Value::as_str);
        format_message_text(text, parse_mode).map_err(ApiError::bad)?;
    }
    if let Some(markup) = object.get("reply_markup") {
        check_inline_keyboard(&markup["inline_keyboard"])?;
    }
    Ok(())
}

// ----- HTTP ---------------------------------------------------------------

struct Shared {
    config: FakeBotApiConfig,
    state: Mutex<ApiState>,
    changed: Condvar,
    notify: Notify,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ApiState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes every waiter (long polls, `wait_for`).
    fn notify_changed(&self) {
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    async fn get_updates(&self, p: &Params) -> ApiResult {
        let offset = p.int("offset")?.unwrap_or(0);
        let limit = p.int("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        let timeout = Duration::from_secs(p.int("timeout")?.unwrap_or(0).max(0) as u64);
        let deadline = tokio::time::Instant::now() + timeout.min(self.config.max_long_poll);
        {
            let mut state = self.lock();
            if state.webhook_url.is_some() {
                return Err(ApiError::new(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use \
                     deleteWebhook to delete the webhook first",
                ));
            }
            if let Some(allowed) = p.json("allowed_updates")? {
                state.set_allowed_updates(allowed)?;
            }
            state.confirm(offset);
        }
        // Confirming changes the state: wake `wait_for` (e.g. on `pending_updates`).
        self.notify_changed();
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                let batch = state.take_batch(limit);
                if !batch.is_empty() || state.closing || tokio::time::Instant::now() >= deadline {
                    return Ok(Value::Array(batch));
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

/// Delivers pending updates to the webhook, one at a time and in order,
/// until the server closes; an update is confirmed by a 200.
async fn deliver_webhooks(shared: Arc<Shared>) {
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .expect("a client for webhook deliveries");
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let job = {
            let mut state = shared.lock();
            if state.closing {
                return;
            }
            let url = state.webhook_url.clone();
            let secret = state.webhook_secret.clone();
            url.and_then(|url| {
                while let Some(update) = state.pending.front().cloned() {
                    if state.is_allowed(&update) {
                        *state.deliveries.entry(update_id(&update)).or_default() += 1;
                        state.last_delivered = state.last_delivered.max(update_id(&update));
                        return Some((url, secret, update));
                    }
                    state.pending.pop_front();
                    state.filtered.push(update_id(&update));
                }
                None
            })
        };
        let Some((url, secret, update)) = job else {
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        };
        let id = update_id(&update);
        let started = Instant::now();
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(update.to_string());
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let status = request.send().await.map_or(0, |r| r.status().as_u16());
        {
            let mut state = shared.lock();
            state.webhook_deliveries.push(WebhookDelivery {
                update_id: id,
                status,
                started,
                finished: Instant::now(),
            });
            if status == 200 {
                state.pending.retain(|u| update_id(u) != id);
            }
        }
        shared.notify_changed();
        if status != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The outcome of one request.
struct Answer {
    method: String,
    params: Value,
    status: u16,
    body: String,
    ok: bool,
    description: Option<String>,
    result: Option<Value>,
    fault: Option<Fault>,
}

impl Answer {
    fn new(method: &str, params: Value, outcome: ApiResult, fault: Option<Fault>) -> Self {
        match outcome {
            Ok(result) => Answer {
                method: method.to_owned(),
                params,
                status: 200,
                body: json!({ "ok": true, "result": result }).to_string(),
                ok: true,
                description: None,
                result: Some(result),
                fault,
            },
            Err(e) => {
                let mut body =
                    json!({ "ok": false, "error_code": e.code, "description": e.description });
                if let Some(retry_after) = e.retry_after {
                    body["parameters"] = json!({ "retry_after": retry_after });
                }
                if let Some(chat) = e.migrate_to_chat_id {
                    body["parameters"] = json!({ "migrate_to_chat_id": chat });
                }
                Answer {
                    method: method.to_owned(),
                    params,
                    status: e.code,
                    body: body.to_string(),
                    ok: false,
                    description: Some(e.description),
                    result: None,
                    fault,
                }
            }
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    if let Some(rest) = uri.path().strip_prefix("/file/bot") {
        return file(&shared, rest, at);
    }
    let answer = answer(&shared, &uri, &headers, &body).await;
    let content_type = if answer.fault == Some(Fault::Garbage) {
        "text/html; charset=utf-8"
    } else {
        "application/json"
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let response = (status, [(header::CONTENT_TYPE, content_type)], answer.body).into_response();
    {
        let mut state = shared.lock();
        let seq = state.calls.len() as u64;
        state.calls.push(RecordedCall {
            seq,
            method: answer.method,
            params: answer.params,
            status: answer.status,
            ok: answer.ok,
            description: answer.description,
            result: answer.result,
            fault: answer.fault,
            at,
            since_start: at.duration_since(shared.started),
            duration: at.elapsed(),
        });
    }
    shared.notify_changed();
    response
}

/// `GET /file/bot<token>/<file_path>`: a file's bytes, as Telegram serves
/// them (404 for a path `getFile` did not give, 401 for another token).
fn file(shared: &Shared, rest: &str, at: Instant) -> Response {
    let rest = percent_decode(rest);
    let (token, path) = rest.split_once('/').unwrap_or((rest.as_str(), ""));
    let mut state = shared.lock();
    let found = (token == shared.config.token)
        .then(|| state.download(path))
        .flatten();
    let (status, description) = match (&found, token == shared.config.token) {
        (Some(_), _) => (200, None),
        (None, true) => (404, Some("Not Found".to_owned())),
        (None, false) => (401, Some("Unauthorized".to_owned())),
    };
    let seq = state.calls.len() as u64;
    state.calls.push(RecordedCall {
        seq,
        method: "file".to_owned(),
        params: json!({ "file_path": path }),
        status,
        ok: found.is_some(),
        description: description.clone(),
        result: None,
        fault: None,
        at,
        since_start: at.duration_since(shared.started),
        duration: at.elapsed(),
    });
    drop(state);
    shared.notify_changed();
    match found {
        Some(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        None => {
            let body = json!({ "ok": false, "error_code": status, "description": description });
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
    }
}

async fn answer(shared: &Shared, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Answer {
    let path = percent_decode(uri.path());
    let route = path
        .trim_start_matches('/')
        .strip_prefix("bot")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(_, method)| !method.is_empty() && !method.contains('/'));
    let Some((token, method)) = route else {
        return Answer::new("", Value::Null, Err(ApiError::new(404, "Not Found")), None);
    };
    let method = method.to_ascii_lowercase();
    let params = parse_params(uri, headers, body);
    let params_json = params
        .as_ref()
        .map(|p| Value::Object(p.0.clone()))
        .unwrap_or(Value::Null);
    if token != shared.config.token {
        let err = ApiError::new(401, "Unauthorized");
        return Answer::new(&method, params_json, Err(err), None);
    }
    if !KNOWN_METHODS.contains(&method.as_str()) {
        let err = ApiError::new(404, "Not Found");
        return Answer::new(&method, params_json, Err(err), None);
    }
    let params = match params {
        Ok(p) => p,
        Err(e) => return Answer::new(&method, params_json, Err(e), None),
    };

    let fault = shared.lock().take_fault(&method);
    match &fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(*d).await,
        Some(Fault::TooManyRequests { retry_after }) => {
            let err = ApiError {
                retry_after: Some(*retry_after),
                ..ApiError::new(429, format!("Too Many Requests: retry after {retry_after}"))
            };
            return Answer::new(&method, params_json, Err(err), fault);
        }
        Some(Fault::ServerError(code)) => {
            let reason = StatusCode::from_u16(*code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Internal Server Error");
            let err = ApiError::new(*code, reason);
            return Answer::new(&method, params_json, Err(err), fault);
        }
        Some(Fault::Api {
            status,
            description,
        }) => {
            let err = ApiError::new(*status, description.clone());
            return Answer::new(&method, params_json, Err(err), fault);
        }
        Some(Fault::Garbage) => {
            return Answer {
                method,
                params: params_json,
                status: 200,
                body: "<html><body>502 Bad Gateway (garbage from the fake Bot API)</body></html>"
                    .to_owned(),
                ok: false,
                description: Some("garbage (non-JSON) body".to_owned()),
                result: None,
                fault,
            };
        }
        None => {}
    }

    let outcome = if method == "getupdates" {
        shared.get_updates(&params).await
    } else {
        shared.lock().dispatch(&method, &params)
    };
    Answer::new(&method, params_json, outcome, fault)
}

fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    let mut map = Map::new();
    if let Some(query) = uri.query() {
        for (k, v) in parse_urlencoded(query) {
            map.insert(k, Value::String(v));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params(map));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => map.extend(o),
            _ => return Err(ApiError::bad("Bad Request: can't parse JSON object")),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad("Bad Request: strings must be encoded in UTF-8"))?;
        for (k, v) in parse_urlencoded(body) {
            map.insert(k, Value::String(v));
        }
    } else if content_type.starts_with("multipart/form-data") {
        map.extend(parse_multipart(&content_type, body)?);
    } else {
        return Err(ApiError::bad(format!(
            "Bad Request: unsupported Content-Type \"{content_type}\""
        )));
    }
    Ok(Params(map))
}

/// Parses a `multipart/form-data` body (teloxide uses it for `setWebhook`).
/// Text fields become strings; file fields become
/// `{"file_name": …, "size": …}`.
fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let invalid = || ApiError::bad("Bad Request: can't parse multipart/form-data body");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(invalid)?;
    let delimiter = format!("--{boundary}");
    let body = String::from_utf8_lossy(body);
    let mut fields = Map::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").ok_or_else(invalid)?;
        let (head, value) = part.split_once("\r\n\r\n").ok_or_else(invalid)?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or_else(invalid)?;
        let attribute = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(name)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        let name = attribute("name").ok_or_else(invalid)?;
        let value = match attribute("filename") {
            Some(file_name) => json!({ "file_name": file_name, "size": value.len() }),
            None => Value::String(value.to_owned()),
        };
        fields.insert(name, value);
    }
    Ok(fields)
}

fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = Router::new().fallback(handle).with_state(shared);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("fake Bot API server error: {e}");
    }
}

// ----- the handle -----------------------------------------------------------

/// Pushes made together (see [`FakeBotApi::push_together`]).
pub struct FakeBotApiBatch<'a> {
    state: std::cell::RefCell<&'a mut ApiState>,
}

impl FakeBotApiBatch<'_> {
    /// Like [`FakeBotApi::push_message`].
    pub fn push_message(&self, message: IncomingMessage) -> i64 {
        self.state.borrow_mut().push_message(message)
    }

    /// Like [`FakeBotApi::push_private_text`].
    pub fn push_private_text(&self, user_id: i64, text: &str) -> i64 {
        self.push_message(IncomingMessage::private(user_id, text))
    }

    /// Like [`FakeBotApi::push_inline_query`].
    pub fn push_inline_query(&self, query: IncomingInlineQuery) -> i64 {
        self.state.borrow_mut().push_inline_query(query)
    }

    /// Like [`FakeBotApi::migrate_group`].
    pub fn migrate_group(&self, old: i64, new: i64, user_id: i64) -> (i64, i64) {
        self.state
            .borrow_mut()
            .migrate_group(old, new, test_user(user_id))
    }
}

/// A running fake Bot API server. Dropping it stops the server.
pub struct FakeBotApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeBotApi {
    /// Starts a server with the default config on `127.0.0.1:0`, as a task
    /// of the current tokio runtime. The server only runs while that runtime
    /// does: in a `#[tokio::test]` do not block the thread (e.g. with
    /// [`FakeBotApi::wait_for_blocking`] or `std::process::Child::wait`).
    pub async fn start() -> Self {
        Self::start_with(FakeBotApiConfig::default()).await
    }

    /// Like [`FakeBotApi::start`] with a custom config.
    pub async fn start_with(config: FakeBotApiConfig) -> Self {
        let shared = Arc::new(Shared::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Bot API to 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, shared.clone(), async move {
            let _ = rx.await;
        }));
        if shared.config.deliver_webhooks {
            tokio::spawn(deliver_webhooks(shared.clone()));
        }
        FakeBotApi {
            shared,
            addr,
            shutdown: Some(tx),
            thread: None,
        }
    }

    /// Starts a server with the default config on its own thread and tokio
    /// runtime, usable from sync tests (and from async ones that block).
    pub fn start_blocking() -> Self {
        Self::start_blocking_with(FakeBotApiConfig::default())
    }

    /// Like [`FakeBotApi::start_blocking`] with a custom config.
    pub fn start_blocking_with(config: FakeBotApiConfig) -> Self {
        let shared = Arc::new(Shared::new(config));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (tx, rx) = oneshot::channel::<()>();
        let server_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fake-bot-api".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for the fake Bot API");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind the fake Bot API to 127.0.0.1:0");
                    addr_tx
                        .send(listener.local_addr().expect("local address"))
                        .expect("the starting thread waits for the address");
                    if server_shared.config.deliver_webhooks {
                        tokio::spawn(deliver_webhooks(server_shared.clone()));
                    }
                    let server =
                        tokio::spawn(serve(listener, server_shared, std::future::pending()));
                    let _ = rx.await;
                    server.abort();
                });
                runtime.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn the fake Bot API thread");
        let addr = addr_rx.recv().expect("the fake Bot API thread started");
        FakeBotApi {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The API base URL, `http://127.0.0.1:PORT/` (for `TELOXIDE_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bot token the server accepts (for `TELOXIDE_TOKEN`).
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The config the server runs with.
    pub fn config(&self) -> &FakeBotApiConfig {
        &self.shared.config
    }

    /// `TELOXIDE_TOKEN` and `TELOXIDE_API_URL` for the bot process, e.g.
    /// `Command::new(bin).envs(api.env())`.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("TELOXIDE_TOKEN", self.token().to_owned()),
            ("TELOXIDE_API_URL", self.url()),
        ]
    }

    /// A teloxide `Bot` talking to this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(self.token())
            .set_api_url(self.url().parse().expect("the server URL parses"))
    }

    /// The bot's `User` object, as in `from` of its messages.
    pub fn bot_user(&self) -> Value {
        self.shared.lock().bot_user.clone()
    }

    /// Runs `f` on the locked state (do not block or call `self` inside).
    pub fn with_state<R>(&self, f: impl FnOnce(&ApiState) -> R) -> R {
        f(&self.shared.lock())
    }

    fn mutate<R>(&self, f: impl FnOnce(&mut ApiState) -> R) -> R {
        let result = f(&mut self.shared.lock());
        self.shared.notify_changed();
        result
    }

    // ----- updates ---------------------------------------------------------

    /// Queues a raw update; the server sets and returns its `update_id`.
    /// Chats and messages of `message`/`edited_message` updates become known
    /// (so the bot may answer and reply to them).
    pub fn push_update(&self, update: Value) -> i64 {
        self.mutate(|s| s.push_update(update))
    }

    /// Queues an incoming text message; returns the `update_id`. The message
    /// gets the chat's next `message_id` (see [`FakeBotApi::update`]).
    pub fn push_message(&self, message: IncomingMessage) -> i64 {
        self.mutate(|s| s.push_message(message))
    }

    /// Stores `bytes` as a file a user sent, named `name` with media type
    /// `mime`; returns its `Document` object (for
    /// [`IncomingMessage::document`]).
    pub fn upload(&self, name: &str, mime: &str, bytes: &[u8]) -> Value {
        self.store(name, mime, bytes, true)
    }

    /// Like [`FakeBotApi::upload`], with no `file_size` in the `Document`
    /// nor in `getFile` (the field is optional in the Bot API).
    pub fn upload_unsized(&self, name: &str, mime: &str, bytes: &[u8]) -> Value {
        self.store(name, mime, bytes, false)
    }

    fn store(&self, name: &str, mime: &str, bytes: &[u8], sized: bool) -> Value {
        self.mutate(|s| {
            let n = s.files.len() + 1;
            let id = format!("BQACAgIAAxkBAAI{n:06}fake-document");
            let unique_id = format!("AgAD{n:04}");
            s.files.insert(
                id.clone(),
                StoredFile {
                    unique_id: unique_id.clone(),
                    bytes: bytes.to_vec(),
                    sized,
                    path: None,
                },
            );
            let mut document = json!({
                "file_id": id,
                "file_unique_id": unique_id,
                "file_name": name,
                "mime_type": mime,
            });
            if sized {
                document["file_size"] = json!(bytes.len());
            }
            document
        })
    }

    /// Queues a private text message from [`test_user`]`(user_id)`.
    pub fn push_private_text(&self, user_id: i64, text: &str) -> i64 {
        self.push_message(IncomingMessage::private(user_id, text))
    }

    /// Queues a text message from [`test_user`]`(user_id)` in supergroup
    /// `chat_id` (negative).
    pub fn push_group_text(&self, chat_id: i64, user_id: i64, text: &str) -> i64 {
        self.push_message(IncomingMessage::group(chat_id, user_id, text))
    }

    /// Queues a callback query on an existing message; returns the
    /// `update_id`. The query id can be answered once.
    pub fn push_callback_query(&self, query: IncomingCallbackQuery) -> i64 {
        self.mutate(|s| s.push_callback_query(query))
    }

    /// [`test_user`]`(user_id)` presses the inline button labelled
    /// `button_text` of message `message_id` in `chat_id`. Panics if there
    /// is no such button with `callback_data`.
    pub fn press_button(
        &self,
        user_id: i64,
        chat_id: i64,
        message_id: i64,
        button_text: &str,
    ) -> i64 {
        let data = self.with_state(|s| {
            let message = s
                .message(chat_id, message_id)
                .unwrap_or_else(|| panic!("no message {message_id} in chat {chat_id}"));
            inline_buttons(message.get("reply_markup"))
                .find(|b| b["text"] == button_text)
                .and_then(|b| b["callback_data"].as_str().map(str::to_owned))
                .unwrap_or_else(|| {
                    panic!("message {message_id} has no callback button {button_text:?}: {message}")
                })
        });
        self.push_callback_query(IncomingCallbackQuery::new(
            user_id, chat_id, message_id, &data,
        ))
    }

    /// Queues an inline query; returns the `update_id`. The query id can be
    /// answered once.
    pub fn push_inline_query(&self, query: IncomingInlineQuery) -> i64 {
        self.mutate(|s| s.push_inline_query(query))
    }

    /// Group `old` (known, with a title) becomes supergroup `new`: queues the
    /// service messages Telegram sends in both chats (`migrate_to_chat_id`
    /// from [`test_user`]`(user_id)` in the old one, `migrate_from_chat_id`
    /// in the new one) and makes sends to `old` fail as Telegram's do.
    /// Returns the two update ids.
    pub fn migrate_group(&self, old: i64, new: i64, user_id: i64) -> (i64, i64) {
        self.mutate(|s| s.migrate_group(old, new, test_user(user_id)))
    }

    /// Telegram picks update ids afresh (as after a week without updates):
    /// the next pushed update gets `first`. Offsets left from the old
    /// sequence confirm nothing until the new one has delivered that far.
    pub fn restart_update_ids(&self, first: i64) {
        self.mutate(|s| {
            assert!(
                s.pending.is_empty(),
                "restart_update_ids with updates pending"
            );
            s.next_update_id = first;
            s.confirmed_offset = 0;
            s.ids_restarted = true;
            s.last_delivered = first - 1;
        })
    }

    /// Runs `f` on the locked state, e.g. to push several updates at once
    /// (none is delivered before `f` returns).
    pub fn push_together<R>(&self, f: impl FnOnce(&FakeBotApiBatch<'_>) -> R) -> R {
        let result = {
            let mut state = self.shared.lock();
            f(&FakeBotApiBatch {
                state: std::cell::RefCell::new(&mut state),
            })
        };
        self.shared.notify_changed();
        result
    }

    /// Makes a chat known without pushing a message to it, so the bot may
    /// send to it (unknown chats get `chat not found`).
    pub fn register_chat(&self, chat: Value) {
        self.mutate(|s| {
            s.chat_entry(&chat);
        })
    }

    /// A pushed update, by id (e.g. to read the assigned `message_id` or the
    /// generated query id).
    pub fn update(&self, update_id: i64) -> Option<Value> {
        self.with_state(|s| s.update(update_id).cloned())
    }

    /// Ids of updates not yet confirmed by the bot.
    pub fn pending_updates(&self) -> Vec<i64> {
        self.with_state(ApiState::pending_updates)
    }

    /// The highest `offset` the bot confirmed (0 before any).
    pub fn confirmed_offset(&self) -> i64 {
        self.with_state(ApiState::confirmed_offset)
    }

    /// How many times `getUpdates` returned update `update_id`.
    pub fn delivery_count(&self, update_id: i64) -> usize {
        self.with_state(|s| s.delivery_count(update_id))
    }

    // ----- recording -------------------------------------------------------

    /// All recorded calls.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.with_state(|s| s.calls.clone())
    }

    /// Recorded calls to `method` (case-insensitive), successful or not.
    pub fn calls_to(&self, method: &str) -> Vec<RecordedCall> {
        self.with_state(|s| s.calls_to(method).into_iter().cloned().collect())
    }

    /// Successful calls to `method` (case-insensitive).
    pub fn successful_calls_to(&self, method: &str) -> Vec<RecordedCall> {
        self.with_state(|s| s.successful_calls_to(method).into_iter().cloned().collect())
    }

    /// Rejected or faulted calls to `method` (case-insensitive).
    pub fn rejected_calls_to(&self, method: &str) -> Vec<RecordedCall> {
        self.with_state(|s| s.rejected_calls_to(method).into_iter().cloned().collect())
    }

    /// Texts accepted by `sendMessage`/`editMessageText`, in order.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.with_state(|s| s.sent.clone())
    }

    /// The current state of a message, if it exists.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.with_state(|s| s.message(chat_id, message_id).cloned())
    }

    /// The current messages of a chat, by id.
    pub fn chat_messages(&self, chat_id: i64) -> Vec<Value> {
        self.with_state(|s| s.chat_messages(chat_id).into_iter().cloned().collect())
    }

    /// Waits until `predicate` holds (checked after every call and push) or
    /// `timeout` passes; returns whether it held. The predicate runs with the
    /// state locked: use the `&ApiState` it gets, not `self`.
    pub async fn wait_for(&self, predicate: impl Fn(&ApiState) -> bool, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if predicate(&self.shared.lock()) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Blocking [`FakeBotApi::wait_for`], for sync tests with
    /// [`FakeBotApi::start_blocking`].
    pub fn wait_for_blocking(
        &self,
        predicate: impl Fn(&ApiState) -> bool,
        timeout: Duration,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if predicate(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    // ----- faults ----------------------------------------------------------

    /// Queues `fault` for the next call to `method` (case-insensitive; `"*"`
    /// for any method). Queued faults are used one per call, in order.
    pub fn inject(&self, method: &str, fault: Fault) {
        self.inject_n(method, fault, 1);
    }

    /// Queues `fault` for the next `n` calls to `method`.
    pub fn inject_n(&self, method: &str, fault: Fault, n: usize) {
        self.mutate(|s| {
            let queue = s
                .queued_faults
                .entry(method.to_ascii_lowercase())
                .or_default();
            queue.extend(std::iter::repeat_n(fault, n));
        })
    }

    /// Applies `fault` to every call to `method` for the next `window`
    /// (after queued faults are used up).
    pub fn inject_for(&self, method: &str, fault: Fault, window: Duration) {
        self.mutate(|s| {
            let until = Instant::now() + window;
            s.fault_windows
                .push((method.to_ascii_lowercase(), fault, until));
        })
    }

    /// Removes all queued faults and fault windows.
    pub fn clear_faults(&self) {
        self.mutate(|s| {
            s.queued_faults.clear();
            s.fault_windows.clear();
        })
    }
}

impl Shared {
    fn new(config: FakeBotApiConfig) -> Self {
        Shared {
            state: Mutex::new(ApiState::new(&config)),
            config,
            changed: Condvar::new(),
            notify: Notify::new(),
            started: Instant::now(),
        }
    }
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.notify_changed();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
