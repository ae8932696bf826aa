//! Self-tests of the fake Bot API server (`tests/support/fake_bot_api.rs`),
//! driven through a real teloxide `Bot` so that every result shape is
//! checked by teloxide's own deserializers.

mod support;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Value, json};
use support::fake_bot_api::*;
use teloxide::RequestError;
use teloxide::payloads::setters::*;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResult,
    InlineQueryResultArticle, InputMessageContent, InputMessageContentText, MessageEntityKind,
    MessageId, ParseMode, ReplyParameters, UpdateKind,
};

const USER: i64 = 4242;

/// A `Bot` on `api`, with a chat with [`USER`] known to the server.
fn bot_with_chat(api: &FakeBotApi) -> Bot {
    api.register_chat(private_chat(&test_user(USER)));
    api.bot()
}

/// The API error description teloxide got, or a panic.
fn api_error<T: std::fmt::Debug>(result: Result<T, RequestError>) -> String {
    match result {
        Err(RequestError::Api(e)) => e.to_string(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw HTTP POST to the fake; returns status and JSON body.
async fn raw_post(url: &str, content_type: &str, body: String) -> (u16, Value) {
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .expect("reqwest client");
    let response = client
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("JSON body"))
}

#[tokio::test]
async fn get_me_deserializes() {
    let api = FakeBotApi::start().await;
    let me = api.bot().get_me().await.unwrap();
    assert!(me.user.is_bot);
    assert_eq!(me.username(), "citebot_test_bot");
    assert!(me.supports_inline_queries);
    assert!(!me.can_read_all_group_messages);
    assert_eq!(api.successful_calls_to("getMe").len(), 1);
}
