//! Self-tests of the fake Bot API server (`tests/support/fake_bot_api.rs`),
//! driven through a real teloxide `Bot` so that every result shape is
//! checked by teloxide's own deserializers.

use std::time::{Duration, Instant};

use crate::support::fake_bot_api::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use teloxide::dispatching::UpdateFilterExt;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, ChatAction, InlineKeyboardButton, InlineKeyboardMarkup,
    InlineQueryResult, InlineQueryResultArticle, InputMessageContent, InputMessageContentText,
    MessageEntityKind, MessageId, ParseMode, Recipient, ReplyParameters, UpdateKind,
};
use teloxide::{ApiError, RequestError};

/// The user (and private chat) most tests talk to.
const USER: i64 = 4242;
/// A supergroup.
const GROUP: i64 = -1_001_234_567_890;
const SECOND: Duration = Duration::from_secs(1);

/// A `Bot` on `api`, with the private chat of [`USER`] known to the server.
fn bot_with_chat(api: &FakeBotApi) -> Bot {
    api.register_chat(private_chat(&test_user(USER)));
    api.bot()
}

/// The description of the API error teloxide reported, or a panic.
fn api_error<T: std::fmt::Debug>(result: Result<T, RequestError>) -> String {
    match result {
        Err(RequestError::Api(ApiError::Unknown(description))) => description,
        Err(RequestError::Api(e)) => e.to_string(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw HTTP request to the fake; returns the status and the JSON body.
async fn raw(method: &str, url: String, content_type: &str, body: String) -> (u16, Value) {
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .expect("reqwest client");
    let mut request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    if !content_type.is_empty() {
        request = request.header("content-type", content_type);
    }
    let response = request.body(body).send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, json)
}

fn method_url(api: &FakeBotApi, method: &str) -> String {
    format!("{}bot{}/{method}", api.url(), api.token())
}

/// `sendMessage` to [`USER`] with `parse_mode` HTML.
fn html(bot: &Bot, text: impl Into<String>) -> <Bot as Requester>::SendMessage {
    bot.send_message(ChatId(USER), text)
        .parse_mode(ParseMode::Html)
}

fn article(id: &str, text: &str) -> InlineQueryResult {
    InlineQueryResult::Article(InlineQueryResultArticle::new(
        id,
        "A title",
        InputMessageContent::Text(InputMessageContentText::new(text).parse_mode(ParseMode::Html)),
    ))
}

// ----- basic methods ----------------------------------------------------------

#[tokio::test]
async fn get_me_deserializes() {
    let api = FakeBotApi::start().await;
    let me = api.bot().get_me().await.unwrap();
    assert!(me.user.is_bot);
    assert_eq!(me.username(), "citebot_test_bot");
    assert!(me.supports_inline_queries);
    assert!(me.can_join_groups);
    assert!(!me.can_read_all_group_messages);
    assert_eq!(api.successful_calls_to("getMe").len(), 1);
    assert_eq!(api.calls()[0].method, "getme");
}

#[tokio::test]
async fn custom_config_is_served() {
    let api = FakeBotApi::start_with(FakeBotApiConfig {
        username: "other_bot".to_owned(),
        can_read_all_group_messages: true,
        ..FakeBotApiConfig::default()
    })
    .await;
    let me = api.bot().get_me().await.unwrap();
    assert_eq!(me.username(), "other_bot");
    assert!(me.can_read_all_group_messages);
}

#[tokio::test]
async fn simple_methods_deserialize() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);

    let info = bot.get_webhook_info().await.unwrap();
    assert!(info.url.is_none());
    bot.set_webhook("https://example.com/hook".parse().unwrap())
        .await
        .unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url.unwrap().as_str(), "https://example.com/hook");
    let err = api_error(bot.get_updates().await);
    assert!(err.contains("webhook is active"), "{err}");
    bot.delete_webhook().await.unwrap();
    bot.get_updates().await.unwrap();
    let err = api_error(
        bot.set_webhook("http://example.com/".parse().unwrap())
            .await,
    );
    assert!(err.contains("HTTPS url must be provided"), "{err}");

    let commands = vec![
        BotCommand::new("ask", "Ask a question"),
        BotCommand::new("help", "How to use the bot"),
    ];
    bot.set_my_commands(commands.clone()).await.unwrap();
    assert_eq!(bot.get_my_commands().await.unwrap(), commands);
    let err = api_error(
        bot.set_my_commands(vec![BotCommand::new("Ask!", "x")])
            .await,
    );
    assert_eq!(err, "Bad Request: BOT_COMMAND_INVALID");

    bot.send_chat_action(ChatId(USER), ChatAction::Typing)
        .await
        .unwrap();
    let err = api_error(bot.send_chat_action(ChatId(1), ChatAction::Typing).await);
    assert_eq!(err, "Bad Request: chat not found");

    let sent = bot.send_message(ChatId(USER), "to delete").await.unwrap();
    bot.delete_message(ChatId(USER), sent.id).await.unwrap();
    let err = api_error(bot.delete_message(ChatId(USER), sent.id).await);
    assert_eq!(err, "Bad Request: message to delete not found");
    assert!(api.message(USER, sent.id.0.into()).is_none());

    bot.close().await.unwrap();
    bot.log_out().await.unwrap();
}

// ----- getUpdates --------------------------------------------------------------

#[tokio::test]
async fn get_updates_offset_semantics() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let ids: Vec<i64> = (0..3)
        .map(|i| api.push_private_text(USER, &format!("message {i}")))
        .collect();
    assert_eq!(api.pending_updates(), ids);

    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 3);
    for (i, (update, id)) in updates.iter().zip(&ids).enumerate() {
        assert_eq!(i64::from(update.id.0), *id);
        let UpdateKind::Message(message) = &update.kind else {
            panic!("not a message: {update:?}");
        };
        assert_eq!(message.text(), Some(format!("message {i}").as_str()));
        assert_eq!(message.chat.id, ChatId(USER));
        assert!(message.chat.is_private());
        assert_eq!(message.from.as_ref().unwrap().id, UserId(USER as u64));
    }

    // Without an offset nothing is confirmed: they come again.
    assert_eq!(bot.get_updates().await.unwrap().len(), 3);
    assert_eq!(api.delivery_count(ids[0]), 2);
    assert_eq!(api.confirmed_offset(), 0);

    // `limit` and a partial confirmation.
    let second = bot
        .get_updates()
        .offset(ids[1] as i32)
        .limit(1)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(i64::from(second[0].id.0), ids[1]);
    assert_eq!(api.pending_updates(), ids[1..]);

    // Confirming the last one empties the queue for good.
    let next = updates.last().unwrap().id.as_offset();
    assert!(bot.get_updates().offset(next).await.unwrap().is_empty());
    assert_eq!(api.confirmed_offset(), i64::from(next));
    assert!(api.pending_updates().is_empty());
    assert!(bot.get_updates().await.unwrap().is_empty());
    assert_eq!(api.delivery_count(ids[2]), 2);
}

/// After Telegram picks ids afresh, an offset left from the old sequence
/// confirms nothing until the new one has delivered that far.
#[tokio::test]
async fn restarted_update_ids_ignore_old_offsets() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    for i in 0..3 {
        api.push_private_text(USER, &format!("old {i}"));
    }
    assert!(bot.get_updates().offset(4).await.unwrap().is_empty());
    api.restart_update_ids(1);
    let ids: Vec<i64> = (0..2)
        .map(|i| api.push_private_text(USER, &format!("new {i}")))
        .collect();
    assert_eq!(ids, [1, 2]);
    let stale = bot.get_updates().offset(4).await.unwrap();
    assert_eq!(stale.len(), 2, "the old offset confirms nothing");
    assert!(bot.get_updates().offset(3).await.unwrap().is_empty());
    assert!(api.pending_updates().is_empty());
}

#[tokio::test]
async fn negative_offset_keeps_only_the_last_updates() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let ids: Vec<i64> = (0..3).map(|_| api.push_private_text(USER, "x")).collect();
    let updates = bot.get_updates().offset(-1).await.unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(i64::from(updates[0].id.0), ids[2]);
    assert_eq!(api.pending_updates(), vec![ids[2]]);
}

#[tokio::test]
async fn long_poll_returns_when_an_update_arrives() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let started = Instant::now();
    let poll = tokio::spawn(async move { bot.get_updates().timeout(10).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = api.push_private_text(USER, "wake up");
    let updates = poll.await.unwrap().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(i64::from(updates[0].id.0), id);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < 5 * SECOND,
        "{waited:?}"
    );
}

#[tokio::test]
async fn long_poll_times_out_empty() {
    let api = FakeBotApi::start().await;
    let started = Instant::now();
    let updates = api.bot().get_updates().timeout(1).await.unwrap();
    assert!(updates.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < 5 * SECOND,
        "{waited:?}"
    );
    let call = &api.calls_to("getUpdates")[0];
    assert_eq!(call.param("timeout"), Some(&json!(1)));
    assert!(call.duration >= Duration::from_millis(900));
}

#[tokio::test]
async fn allowed_updates_filter_delivery() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let inline = api.push_inline_query(IncomingInlineQuery::new(USER, "q"));
    let message = api.push_private_text(USER, "hi");
    let updates = bot
        .get_updates()
        .allowed_updates(vec![AllowedUpdate::Message])
        .await
        .unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(i64::from(updates[0].id.0), message);
    assert!(api.with_state(|s| s.filtered_updates() == [inline]));
    // The setting sticks for later calls without `allowed_updates`.
    api.push_inline_query(IncomingInlineQuery::new(USER, "again"));
    let later = bot.get_updates().offset(message as i32 + 1).await.unwrap();
    assert!(later.is_empty());
}

#[tokio::test]
async fn group_messages_carry_utf16_entities_and_replies() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let first = api.push_group_text(GROUP, USER, "😀 hello @citebot_test_bot");
    let first_id = api.update(first).unwrap()["message"]["message_id"]
        .as_i64()
        .unwrap();
    let second = api.push_message(
        IncomingMessage::group(GROUP, USER + 1, "/ask@citebot_test_bot what is 🙂?")
            .title("Essay readers")
            .reply_to(first_id),
    );
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 2);

    let UpdateKind::Message(m) = &updates[0].kind else {
        panic!("not a message")
    };
    assert!(m.chat.is_supergroup());
    let mention = &m.entities().unwrap()[0];
    assert_eq!(mention.kind, MessageEntityKind::Mention);
    // The emoji is two UTF-16 code units.
    assert_eq!((mention.offset, mention.length), (9, 17));

    let UpdateKind::Message(m) = &updates[1].kind else {
        panic!("not a message")
    };
    assert_eq!(i64::from(updates[1].id.0), second);
    assert_eq!(m.chat.title(), Some("Essay readers"));
    let command = &m.entities().unwrap()[0];
    assert_eq!(command.kind, MessageEntityKind::BotCommand);
    assert_eq!((command.offset, command.length), (0, 21));
    let parsed = m.parse_entities().unwrap();
    assert_eq!(parsed[0].text(), "/ask@citebot_test_bot");
    assert_eq!(m.reply_to_message().unwrap().id, MessageId(first_id as i32));

    // The bot may answer in the group, replying to the command.
    let reply = bot
        .send_message(ChatId(GROUP), "answer")
        .reply_parameters(ReplyParameters::new(m.id))
        .await
        .unwrap();
    assert_eq!(reply.reply_to_message().unwrap().id, m.id);
    assert_eq!(reply.id.0, m.id.0 + 1);
}

#[test]
fn detected_entities_follow_telegram_rules() {
    let kinds = |text: &str| {
        detect_entities(text)
            .into_iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["offset"].as_u64().unwrap(),
                    e["length"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds("/start"), [("bot_command".to_owned(), 0, 6)]);
    assert_eq!(
        kinds("a/b /x_1@some_bot, @abc @abcde"),
        [
            ("bot_command".to_owned(), 4, 13),
            ("mention".to_owned(), 24, 6),
        ]
    );
    assert!(kinds("http://x/y mail@example.com").is_empty());
}

// ----- sending and HTML --------------------------------------------------------

#[tokio::test]
async fn valid_html_is_accepted_and_recorded() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let text = "  <b>Bold</b> &amp; <i>it</i> <a href=\"https://example.com/x?a=1&amp;b=2\">link</a>\n\
                <blockquote expandable>quote &#8220;x&#x201D;</blockquote>\n\
                <pre><code class=\"language-rust\">let x = 1 &lt; 2;</code></pre>  ";
    let message = html(&bot, text).await.unwrap();
    let visible = "Bold & it link\nquote \u{201c}x\u{201d}\nlet x = 1 < 2;";
    assert_eq!(message.text(), Some(visible));
    assert_eq!(
        message.from.as_ref().unwrap().username.as_deref(),
        Some("citebot_test_bot")
    );
    let kinds: Vec<_> = message
        .entities()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            MessageEntityKind::Bold,
            MessageEntityKind::Italic,
            MessageEntityKind::TextLink {
                url: "https://example.com/x?a=1&b=2".parse().unwrap()
            },
            MessageEntityKind::ExpandableBlockquote,
            MessageEntityKind::Pre {
                language: Some("rust".to_owned())
            },
        ]
    );

    let sent = api.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, visible);
    assert_eq!(sent[0].raw_text, text);
    assert_eq!(sent[0].chat_id, USER);
    assert_eq!(sent[0].message_id, i64::from(message.id.0));
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(visible_text(text).unwrap(), visible);
}

#[tokio::test]
async fn html_errors_are_rejected() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let cases = [
        (
            "<b>unclosed",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "line<br>break",
            "Unsupported start tag \"br\" at byte offset 4",
        ),
        (
            "fish & chips",
            "Character \"&\" at byte offset 5 must be escaped as \"&amp;\"",
        ),
        (
            "a&nbsp;b",
            "Unsupported HTML entity \"&nbsp;\" at byte offset 1",
        ),
        ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
        (
            "<b><i>x</b></i>",
            "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\"",
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        (
            "<span>x</span>",
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0",
        ),
        (
            "<a>x</a>",
            "Tag \"a\" must have a non-empty attribute \"href\" at byte offset 0",
        ),
        (
            "<pre><b>x</b></pre>",
            "Tag \"b\" can't be nested inside \"pre\" at byte offset 5",
        ),
        (
            "<blockquote>a<blockquote>b</blockquote></blockquote>",
            "Tag \"blockquote\" can't be nested inside \"blockquote\" at byte offset 13",
        ),
    ];
    for (text, error) in cases {
        let err = api_error(html(&bot, text).await);
        assert_eq!(
            err,
            format!("Bad Request: can't parse entities: {error}"),
            "for {text:?}"
        );
        assert_eq!(visible_text(text), Err(err), "visible_text({text:?})");
    }
    // The same texts are fine without a parse mode.
    bot.send_message(ChatId(USER), "fish & chips <br>")
        .await
        .unwrap();
    assert_eq!(api.sent_messages().len(), 1);
    assert_eq!(api.rejected_calls_to("sendmessage").len(), cases.len());
}

#[tokio::test]
async fn length_and_emptiness_limits() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let too_long = |r| matches!(r, Err(RequestError::Api(ApiError::MessageIsTooLong)));
    let empty = |r| matches!(r, Err(RequestError::Api(ApiError::MessageTextIsEmpty)));

    bot.send_message(ChatId(USER), "a".repeat(4096))
        .await
        .unwrap();
    assert!(too_long(
        bot.send_message(ChatId(USER), "a".repeat(4097)).await
    ));
    // `&amp;` is one visible character.
    html(&bot, format!("<b>{}&amp;</b>", "a".repeat(4095)))
        .await
        .unwrap();
    assert!(too_long(
        html(&bot, format!("{}&amp;", "a".repeat(4096))).await
    ));
    // Emoji outside the BMP count twice (UTF-16).
    bot.send_message(ChatId(USER), "😀".repeat(2048))
        .await
        .unwrap();
    assert!(too_long(
        bot.send_message(ChatId(USER), "😀".repeat(2049)).await
    ));
    // Surrounding whitespace is trimmed before counting.
    bot.send_message(ChatId(USER), format!("\n  {}  \n", "a".repeat(4096)))
        .await
        .unwrap();

    assert!(empty(bot.send_message(ChatId(USER), "").await));
    assert!(empty(bot.send_message(ChatId(USER), " \n ").await));
    assert!(empty(html(&bot, "<b> </b>\n").await));
    assert_eq!(api.sent_messages().len(), 4);
}

#[tokio::test]
async fn chat_ids_are_checked() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let unknown = bot.send_message(ChatId(999), "hi").await;
    assert!(matches!(
        unknown,
        Err(RequestError::Api(ApiError::ChatNotFound))
    ));
    let by_name = bot
        .send_message(Recipient::ChannelUsername("@nobody_here".to_owned()), "hi")
        .await;
    assert!(matches!(
        by_name,
        Err(RequestError::Api(ApiError::ChatNotFound))
    ));
    api.register_chat(
        json!({ "id": -100777, "type": "channel", "title": "News", "username": "citenews" }),
    );
    let sent = bot
        .send_message(Recipient::ChannelUsername("@citenews".to_owned()), "hi")
        .await
        .unwrap();
    assert_eq!(sent.chat.id, ChatId(-100777));
    assert!(sent.chat.is_channel());

    let (status, body) = raw(
        "POST",
        method_url(&api, "sendMessage"),
        "application/json",
        json!({ "chat_id": true, "text": "x" }).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["description"], "Bad Request: chat not found");
}

#[tokio::test]
async fn replies_need_an_existing_message() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let update = api.push_private_text(USER, "question");
    let question = api.update(update).unwrap()["message"]["message_id"]
        .as_i64()
        .unwrap() as i32;

    let reply = bot
        .send_message(ChatId(USER), "answer")
        .reply_parameters(ReplyParameters::new(MessageId(question)))
        .await
        .unwrap();
    assert_eq!(reply.reply_to_message().unwrap().text(), Some("question"));
    assert_eq!(
        api.sent_messages()[0].reply_to_message_id,
        Some(i64::from(question))
    );

    let missing = bot
        .send_message(ChatId(USER), "answer")
        .reply_parameters(ReplyParameters::new(MessageId(999)))
        .await;
    assert!(matches!(
        missing,
        Err(RequestError::Api(ApiError::MessageToReplyNotFound))
    ));
    let tolerated = bot
        .send_message(ChatId(USER), "answer")
        .reply_parameters(ReplyParameters::new(MessageId(999)).allow_sending_without_reply())
        .await
        .unwrap();
    assert!(tolerated.reply_to_message().is_none());
}

// ----- keyboards, edits, callback queries --------------------------------------

#[tokio::test]
async fn inline_keyboards_are_validated() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let send = |button: InlineKeyboardButton| {
        bot.send_message(ChatId(USER), "pick")
            .reply_markup(InlineKeyboardMarkup::new([[button]]))
    };
    send(InlineKeyboardButton::callback("ok", "a".repeat(64)))
        .await
        .unwrap();
    let err = send(InlineKeyboardButton::callback("too long", "a".repeat(65))).await;
    assert!(matches!(
        err,
        Err(RequestError::Api(ApiError::ButtonDataInvalid))
    ));
    send(InlineKeyboardButton::url(
        "site",
        "https://example.com/essay".parse().unwrap(),
    ))
    .await
    .unwrap();
    let err = send(InlineKeyboardButton::url(
        "local",
        "http://localhost:8080/".parse().unwrap(),
    ))
    .await;
    assert!(matches!(
        err,
        Err(RequestError::Api(ApiError::ButtonUrlInvalid))
    ));

    let raw_markup = |markup: Value| {
        raw(
            "POST",
            method_url(&api, "sendMessage"),
            "application/json",
            json!({ "chat_id": USER, "text": "x", "reply_markup": markup }).to_string(),
        )
    };
    let (status, body) =
        raw_markup(json!({ "inline_keyboard": [[{ "text": "no action" }]] })).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    );
    let (_, body) =
        raw_markup(json!({ "inline_keyboard": [[{ "text": "", "callback_data": "x" }]] })).await;
    assert_eq!(body["description"], "Bad Request: BUTTON_TEXT_INVALID");
    let (_, body) = raw_markup(json!({ "inline_keyboard": [[{ "text": "t", "callback_data": "x", "url": "https://a.bc" }]] })).await;
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("exactly one")
    );
    let (_, body) =
        raw_markup(json!({ "inline_keyboard": [[{ "text": "t", "copy_text": { "text": "" } }]] }))
            .await;
    assert_eq!(body["description"], "Bad Request: BUTTON_COPY_TEXT_INVALID");
    let (status, _) = raw_markup(
        json!({ "inline_keyboard": [[{ "text": "t", "copy_text": { "text": "quote" } }]] }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(api.sent_messages().len(), 3);
}

#[tokio::test]
async fn callback_queries_and_edits() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Prev", "page:0"),
        InlineKeyboardButton::callback("Next", "page:2"),
    ]]);
    let sent = html(&bot, "<b>Page 1</b>")
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(sent.reply_markup(), Some(&keyboard));
    assert_eq!(api.sent_messages()[0].button_texts(), ["Prev", "Next"]);
    assert_eq!(api.sent_messages()[0].callback_data(), ["page:0", "page:2"]);

    let update = api.press_button(USER, USER, sent.id.0.into(), "Next");
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("not a callback query: {:?}", updates[0]);
    };
    assert_eq!(i64::from(updates[0].id.0), update);
    assert_eq!(query.data.as_deref(), Some("page:2"));
    assert_eq!(query.regular_message().unwrap().id, sent.id);
    assert_eq!(query.from.id, UserId(USER as u64));

    let err = api_error(
        bot.answer_callback_query(query.id.clone())
            .text("x".repeat(201))
            .await,
    );
    assert_eq!(err, "Bad Request: MESSAGE_TOO_LONG");
    bot.answer_callback_query(query.id.clone())
        .text("Loading…")
        .await
        .unwrap();
    assert!(api.with_state(|s| s.callback_query_answered(&query.id.0)));
    let again = api_error(bot.answer_callback_query(query.id.clone()).await);
    assert!(again.contains("query is too old"), "{again}");
    let unknown = api_error(bot.answer_callback_query("nope".to_owned().into()).await);
    assert!(unknown.contains("query ID is invalid"), "{unknown}");

    // Same text, same keyboard: not modified.
    let same = bot
        .edit_message_text(ChatId(USER), sent.id, "<b>Page 1</b>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await;
    assert!(matches!(
        same,
        Err(RequestError::Api(ApiError::MessageNotModified))
    ));
    let edited = bot
        .edit_message_text(ChatId(USER), sent.id, "<b>Page 2</b>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard.clone())
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Page 2"));
    assert!(edited.edit_date().is_some());
    let err = bot
        .edit_message_text(ChatId(USER), sent.id, "<b>broken")
        .parse_mode(ParseMode::Html)
        .await;
    assert!(matches!(
        err,
        Err(RequestError::Api(ApiError::CantParseEntities(_)))
    ));
    let missing = bot
        .edit_message_text(ChatId(USER), MessageId(999), "x")
        .await;
    assert!(matches!(
        missing,
        Err(RequestError::Api(ApiError::MessageToEditNotFound))
    ));

    // Dropping the keyboard, then dropping it again.
    let bare = bot
        .edit_message_reply_markup(ChatId(USER), sent.id)
        .await
        .unwrap();
    assert!(bare.reply_markup().is_none());
    let again = bot.edit_message_reply_markup(ChatId(USER), sent.id).await;
    assert!(matches!(
        again,
        Err(RequestError::Api(ApiError::MessageNotModified))
    ));

    // Users' messages can't be edited.
    let incoming = api.push_private_text(USER, "mine");
    let incoming_id = api.update(incoming).unwrap()["message"]["message_id"]
        .as_i64()
        .unwrap();
    let theirs = bot
        .edit_message_text(ChatId(USER), MessageId(incoming_id as i32), "x")
        .await;
    assert!(matches!(
        theirs,
        Err(RequestError::Api(ApiError::MessageCantBeEdited))
    ));

    let sent_messages = api.sent_messages();
    assert_eq!(sent_messages.len(), 2);
    assert!(sent_messages[1].is_edit());
    assert_eq!(sent_messages[1].text, "Page 2");
    assert_eq!(
        api.message(USER, sent.id.0.into()).unwrap()["text"],
        "Page 2"
    );
}

#[tokio::test]
async fn inline_queries_are_validated() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let update = api.push_inline_query(IncomingInlineQuery::new(USER, "virtue").offset("10"));
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::InlineQuery(query) = &updates[0].kind else {
        panic!("not an inline query: {:?}", updates[0]);
    };
    assert_eq!(i64::from(updates[0].id.0), update);
    assert_eq!(query.query, "virtue");
    assert_eq!(query.offset, "10");
    let id = query.id.clone();

    let many: Vec<_> = (0..51)
        .map(|i| article(&format!("r{i}"), "<b>x</b>"))
        .collect();
    let err = bot.answer_inline_query(id.clone(), many).await;
    assert!(matches!(
        err,
        Err(RequestError::Api(ApiError::TooMuchInlineQueryResults))
    ));
    let err = api_error(
        bot.answer_inline_query(id.clone(), [article("a", "x"), article("a", "y")])
            .await,
    );
    assert_eq!(err, "Bad Request: RESULT_ID_DUPLICATE");
    let err = api_error(
        bot.answer_inline_query(id.clone(), [article(&"i".repeat(65), "x")])
            .await,
    );
    assert_eq!(err, "Bad Request: RESULT_ID_INVALID");
    let err = api_error(
        bot.answer_inline_query(id.clone(), [article("a", "<i>oops")])
            .await,
    );
    assert!(
        err.starts_with("Bad Request: can't parse entities:"),
        "{err}"
    );
    let err = api_error(
        bot.answer_inline_query(id.clone(), [article("a", &"x".repeat(4097))])
            .await,
    );
    assert_eq!(err, "Bad Request: message is too long");

    let fifty: Vec<_> = (0..50)
        .map(|i| article(&format!("r{i}"), "<b>ok</b>"))
        .collect();
    bot.answer_inline_query(id.clone(), fifty)
        .next_offset("20")
        .await
        .unwrap();
    assert!(api.with_state(|s| s.inline_query_answered(&id.0)));
    let twice = api_error(
        bot.answer_inline_query(id.clone(), [article("a", "x")])
            .await,
    );
    assert!(twice.contains("query is too old"), "{twice}");
    assert_eq!(api.successful_calls_to("answerInlineQuery").len(), 1);
    assert_eq!(api.rejected_calls_to("answerInlineQuery").len(), 6);
}

// ----- protocol details -------------------------------------------------------

#[tokio::test]
async fn routing_tokens_and_encodings() {
    let api = FakeBotApi::start().await;
    api.register_chat(private_chat(&test_user(USER)));

    // Method names are case-insensitive; GET and query strings work.
    let (status, body) = raw("GET", method_url(&api, "GETME"), "", String::new()).await;
    assert_eq!(
        (status, body["result"]["username"].clone()),
        (200, json!("citebot_test_bot"))
    );
    let (status, body) = raw(
        "GET",
        format!(
            "{}?chat_id={USER}&text=via+query%21",
            method_url(&api, "sendmessage")
        ),
        "",
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["text"], "via query!");

    // Form bodies, with JSON-serialized fields.
    let form = format!(
        "chat_id={USER}&text=%3Cb%3Eform%3C%2Fb%3E&parse_mode=html&reply_markup={}",
        "%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22a%22%2C%22callback_data%22%3A%22b%22%7D%5D%5D%7D"
    );
    let (status, body) = raw(
        "POST",
        method_url(&api, "SendMessage"),
        "application/x-www-form-urlencoded",
        form,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["text"], "form");
    assert_eq!(body["result"]["entities"][0]["type"], "bold");
    assert_eq!(
        body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "b"
    );

    // Wrong token, unknown method, bad path, bad JSON.
    let (status, body) = raw(
        "POST",
        format!("{}bot123:wrong/getMe", api.url()),
        "application/json",
        "{}".to_owned(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({ "ok": false, "error_code": 401, "description": "Unauthorized" })
    );
    let (status, body) = raw(
        "POST",
        method_url(&api, "sendPhoto"),
        "application/json",
        "{}".to_owned(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({ "ok": false, "error_code": 404, "description": "Not Found" })
    );
    let (status, _) = raw("GET", format!("{}nothing", api.url()), "", String::new()).await;
    assert_eq!(status, 404);
    let (status, body) = raw(
        "POST",
        method_url(&api, "getMe"),
        "application/json",
        "{".to_owned(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], false);

    let calls = api.calls();
    assert_eq!(calls.len(), 7);
    assert_eq!(calls[0].method, "getme");
    assert!(calls[2].is("sendMessage") && calls[2].ok && calls[2].status == 200);
    assert_eq!(calls[2].param("parse_mode"), Some(&json!("html")));
    assert!(!calls[3].ok && calls[3].status == 401);
    assert_eq!(calls[4].method, "sendphoto");
    assert_eq!(api.sent_messages().len(), 2);
}

#[tokio::test]
async fn teloxide_sends_json() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    html(&bot, "<i>x</i>")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("a", "b"),
        ]]))
        .await
        .unwrap();
    let call = &api.successful_calls_to("sendMessage")[0];
    assert_eq!(call.param("chat_id"), Some(&json!(USER)));
    assert_eq!(call.param("parse_mode"), Some(&json!("HTML")));
    assert!(call.param("reply_markup").unwrap().is_object());
}

// ----- faults ---------------------------------------------------------------

#[tokio::test]
async fn too_many_requests_becomes_retry_after() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    api.inject("SENDMESSAGE", Fault::TooManyRequests { retry_after: 3 });
    match bot.send_message(ChatId(USER), "hi").await {
        Err(RequestError::RetryAfter(after)) => assert_eq!(after.seconds(), 3),
        other => panic!("expected RetryAfter, got {other:?}"),
    }
    assert!(api.sent_messages().is_empty());
    assert!(api.chat_messages(USER).is_empty());
    let call = &api.calls_to("sendMessage")[0];
    assert_eq!((call.status, call.ok), (429, false));
    assert_eq!(call.fault, Some(Fault::TooManyRequests { retry_after: 3 }));
    // The fault was used up.
    bot.send_message(ChatId(USER), "hi").await.unwrap();
    assert_eq!(api.sent_messages().len(), 1);
}

#[tokio::test]
async fn server_error_and_garbage() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);

    api.inject("getMe", Fault::Garbage);
    assert!(matches!(
        bot.get_me().await,
        Err(RequestError::InvalidJson { .. })
    ));

    // teloxide sleeps 10 s after any 5xx before reporting it.
    api.inject("sendMessage", Fault::ServerError(502));
    match bot.send_message(ChatId(USER), "hi").await {
        Err(RequestError::Api(ApiError::Unknown(description))) => {
            assert_eq!(description, "Bad Gateway")
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    let call = &api.calls_to("sendMessage")[0];
    assert_eq!(call.status, 502);
    assert!(api.sent_messages().is_empty());

    api.inject(
        "sendMessage",
        Fault::Api {
            status: 403,
            description: "Forbidden: bot was blocked by the user".to_owned(),
        },
    );
    assert!(matches!(
        bot.send_message(ChatId(USER), "hi").await,
        Err(RequestError::Api(ApiError::BotBlocked))
    ));
    bot.get_me().await.unwrap();
}

#[tokio::test]
async fn delays_counts_wildcards_and_windows() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);

    api.inject("getme", Fault::Delay(Duration::from_millis(400)));
    let started = Instant::now();
    bot.get_me().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        api.calls_to("getMe")[0].fault,
        Some(Fault::Delay(Duration::from_millis(400)))
    );
    assert!(api.calls_to("getMe")[0].ok);

    api.inject_n("*", Fault::TooManyRequests { retry_after: 1 }, 2);
    assert!(bot.get_me().await.is_err());
    assert!(bot.send_message(ChatId(USER), "x").await.is_err());
    bot.send_message(ChatId(USER), "x").await.unwrap();

    api.inject_for(
        "sendMessage",
        Fault::TooManyRequests { retry_after: 1 },
        Duration::from_millis(500),
    );
    for _ in 0..3 {
        assert!(bot.send_message(ChatId(USER), "x").await.is_err());
    }
    bot.get_me().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    bot.send_message(ChatId(USER), "x").await.unwrap();

    api.inject_for("*", Fault::Garbage, Duration::from_secs(60));
    assert!(bot.get_me().await.is_err());
    api.clear_faults();
    bot.get_me().await.unwrap();
    assert_eq!(api.sent_messages().len(), 2);
}

// ----- waiting ----------------------------------------------------------------

#[tokio::test]
async fn wait_for_sees_calls_without_sleeping() {
    let api = FakeBotApi::start().await;
    let bot = bot_with_chat(&api);
    let sender = tokio::spawn(async move {
        for i in 0..3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            bot.send_message(ChatId(USER), format!("n{i}"))
                .await
                .unwrap();
        }
    });
    assert!(
        api.wait_for(|s| s.sent_messages().len() == 3, 5 * SECOND)
            .await
    );
    sender.await.unwrap();
    assert!(
        !api.wait_for(|s| s.sent_messages().len() > 3, Duration::from_millis(100))
            .await
    );
}

#[test]
fn blocking_server_and_wait() {
    let api = FakeBotApi::start_blocking();
    let bot = bot_with_chat(&api);
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { bot.send_message(ChatId(USER), "from a thread").await })
    });
    assert!(api.wait_for_blocking(|s| !s.sent_messages().is_empty(), 5 * SECOND));
    assert_eq!(
        client.join().unwrap().unwrap().text(),
        Some("from a thread")
    );
    assert!(!api.wait_for_blocking(|s| s.sent_messages().len() > 1, Duration::from_millis(100)));
}

/// A real teloxide dispatcher (long polling, offsets, allowed_updates hints)
/// against the fake.
#[tokio::test]
async fn teloxide_dispatcher_round_trip() {
    let api = FakeBotApi::start().await;
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        let text = escape_html(msg.text().unwrap_or_default());
        bot.send_message(msg.chat.id, format!("<b>echo:</b> {text}"))
            .parse_mode(ParseMode::Html)
            .reply_parameters(ReplyParameters::new(msg.id))
            .await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(api.bot(), handler).build();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    let first = api.push_private_text(USER, "a < b & c");
    assert!(
        api.wait_for(|s| s.sent_messages().len() == 1, 10 * SECOND)
            .await
    );
    assert_eq!(api.sent_messages()[0].text, "echo: a < b & c");
    // The next poll confirms the handled update.
    assert!(
        api.wait_for(|s| s.confirmed_offset() > first, 10 * SECOND)
            .await
    );
    assert_eq!(api.delivery_count(first), 1);

    // The dispatcher only asked for messages.
    let inline = api.push_inline_query(IncomingInlineQuery::new(USER, "q"));
    let second = api.push_group_text(GROUP, USER, "/start@citebot_test_bot");
    assert!(
        api.wait_for(|s| s.sent_messages().len() == 2, 10 * SECOND)
            .await
    );
    assert!(api.with_state(|s| s.filtered_updates().contains(&inline)));
    assert_eq!(api.sent_messages()[1].chat_id, GROUP);
    assert_eq!(api.delivery_count(second), 1);
    assert!(!api.calls_to("getUpdates").is_empty());
    assert!(api.successful_calls_to("getWebhookInfo").len() == 1);
    running.abort();
}

// ----- the HTML model ---------------------------------------------------------

#[test]
fn visible_text_examples() {
    let ok =
        |html: &str, text: &str| assert_eq!(visible_text(html).as_deref(), Ok(text), "{html:?}");
    ok("plain", "plain");
    ok("<B>Caps</B> <STRONG>x</strong>", "Caps x");
    ok(
        "<span class=\"tg-spoiler\">s</span><tg-spoiler>t</tg-spoiler>",
        "st",
    );
    ok(
        "<a href='https://e.com/?q=a&amp;b'>q</a> <a href=x.y>u</a>",
        "q u",
    );
    ok(
        "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>",
        "👍",
    );
    ok("<pre>a\n  b</pre><code>c</code>", "a\n  bc");
    ok("&lt;&gt;&amp;&quot; &#65;&#x42;&#x1F600;", "<>&\" AB😀");
    ok("a > b", "a > b");
    ok("\t x\r\n\u{2028}y \u{1}", "x\ny");
    ok("<b></b>", "");
    ok("<b>x</>", "x");

    let err = |html: &str| visible_text(html).unwrap_err();
    assert!(err("<a href=\"x\"").contains("Unclosed start tag"));
    assert!(err("<b>x</b").contains("Unclosed end tag at byte offset 4"));
    assert!(err("<a href=x/>y</a>").contains("Unexpected end of name token at byte offset 8"));
    assert!(
        err("<tg-emoji emoji-id=\"x\">y</tg-emoji>").contains("Invalid custom emoji identifier")
    );
    assert!(err("&#0;").contains("Invalid numeric HTML entity"));
    assert!(err("&#xD800;").contains("Invalid numeric HTML entity"));
    assert!(err("&amp").contains("must be escaped"));
    assert!(err("&LT;").contains("Unsupported HTML entity"));
    assert!(err("<code><code>x</code></code>").contains("can't be nested"));
    assert!(
        err("<a href=\"https://a.b\"><a href=\"https://c.d\">x</a></a>")
            .contains("can't be nested")
    );
    assert!(err("<b title=\"x\" =\"y\">z</b>").contains("Empty attribute name"));
    assert!(err("<b foo>z</b>").contains("Expected equal sign"));

    let parsed = format_message_text("  <b> bold </b> <i>x</i>", Some("HTML")).unwrap();
    assert_eq!(parsed.text, "bold  x");
    assert_eq!(
        parsed.entities_json(),
        json!([
            { "type": "bold", "offset": 0, "length": 5 },
            { "type": "italic", "offset": 6, "length": 1 },
        ])
    );
    assert!(format_message_text("*x*", Some("MarkdownV2")).is_err());
    assert_eq!(
        format_message_text("x", Some("Whatever")).unwrap_err(),
        "Bad Request: unsupported parse_mode"
    );
}

/// What the Bot API makes of plain text: TDLib's character clean-up, then
/// trimming of spaces and newlines.
fn telegram_visible(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\r' | '\u{2028}'..='\u{202e}' | '\u{0333}' | '\u{033f}' | '\u{030a}'
            )
        })
        .map(|c| {
            if c != '\n' && (c as u32) < 0x20 {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.trim_matches([' ', '\n']).to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Escaping round-trips through the HTML model.
    #[test]
    fn escaped_text_round_trips(s in any::<String>()) {
        let html = format!("<b>{}</b>", escape_html(&s));
        prop_assert_eq!(visible_text(&html), Ok(telegram_visible(&s)));
    }

    /// The parser never panics, whatever it is given, and what it accepts
    /// comes out trimmed.
    #[test]
    fn parser_is_total(s in "([<>&/;#x=\"' a-z0-9\u{e9}\u{1F600}\n-]|<b>|</b>|<a href=|&amp;|&#|<pre>|<code>){0,40}") {
        if let Ok(text) = visible_text(&s) {
            let trimmed = text.trim_matches([' ', '\n']);
            prop_assert_eq!(trimmed, text.as_str());
        }
    }

    /// For text without control characters "visible" is simply "trimmed".
    #[test]
    fn printable_text_is_only_trimmed(s in "[^\\x00-\\x1f\\u{2028}-\\u{202e}\\u{0333}\\u{033f}\\u{030a}]*|[ \\na-z&<>\"']*") {
        let html = format!("<i>{}</i>", escape_html(&s));
        prop_assert_eq!(visible_text(&html), Ok(s.trim_matches([' ', '\n']).to_owned()));
    }
}

/// `sendMessage` with `<b>escape(s)</b>` is accepted exactly when the visible
/// text is non-empty and at most 4096 UTF-16 code units, and the recorded
/// text is `s` trimmed.
#[test]
fn escaped_messages_are_accepted_through_teloxide() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(FakeBotApi::start());
    let bot = bot_with_chat(&api);
    // Short arbitrary strings, and long repetitions around the limit.
    let strategy = prop_oneof![
        any::<String>(),
        (".{1,3}", 1000usize..1500).prop_map(|(s, n)| s.repeat(n)),
        ("[a-z& <>\"]{1,2}", 2040usize..2060).prop_map(|(s, n)| s.repeat(n)),
    ];
    let mut runner = TestRunner::new(ProptestConfig::with_cases(200));
    let result = runner.run(&strategy, |s| {
        let expected = telegram_visible(&s);
        let outcome = runtime.block_on(html(&bot, format!("<b>{}</b>", escape_html(&s))).send());
        let valid = !expected.is_empty() && utf16_len(&expected) <= MAX_MESSAGE_LEN;
        match outcome {
            Ok(message) => {
                prop_assert!(valid, "accepted {} UTF-16 units", utf16_len(&expected));
                prop_assert_eq!(message.text(), Some(expected.as_str()));
                let recorded = api.sent_messages().last().map(|m| m.text.clone());
                prop_assert_eq!(recorded, Some(expected));
            }
            Err(RequestError::Api(ApiError::MessageTextIsEmpty)) => {
                prop_assert!(expected.is_empty())
            }
            Err(RequestError::Api(ApiError::MessageIsTooLong)) => {
                prop_assert!(utf16_len(&expected) > MAX_MESSAGE_LEN)
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        }
        Ok(())
    });
    result.unwrap();
}

// ----- webhooks and migration --------------------------------------------------

/// `setWebhook` takes what api.telegram.org takes (HTTPS on 443, 80, 88 or
/// 8443), or, as a local server, `http://` on any port too.
#[tokio::test]
async fn webhook_urls_follow_the_servers_rules() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let set = |url: &str| bot.set_webhook(url.parse().unwrap());
    assert!(api_error(set("http://bot.example.org/hook").await).contains("HTTPS url"));
    assert!(
        api_error(set("https://bot.example.org:9000/hook").await).contains("ports 80, 88, 443")
    );
    set("https://bot.example.org:8443/hook").await.unwrap();
    assert_eq!(
        api.with_state(|s| s.webhook_url().map(String::from)),
        Some("https://bot.example.org:8443/hook".to_string())
    );
    let bad = bot
        .set_webhook("https://bot.example.org/".parse().unwrap())
        .secret_token("has space");
    assert!(api_error(bad.await).contains("secret token"));

    let local = FakeBotApi::start_with(FakeBotApiConfig {
        local: true,
        ..FakeBotApiConfig::default()
    })
    .await;
    local
        .bot()
        .set_webhook("http://127.0.0.1:9000/hook".parse().unwrap())
        .secret_token("s3cret")
        .await
        .unwrap();
    assert_eq!(
        local.with_state(|s| s.webhook_secret().map(String::from)),
        Some("s3cret".to_string())
    );
}

/// With `deliver_webhooks`, pending updates are POSTed one at a time, with
/// the secret, until the webhook answers 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_are_retried_until_a_200() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let api = FakeBotApi::start_with(FakeBotApiConfig {
        local: true,
        deliver_webhooks: true,
        ..FakeBotApiConfig::default()
    })
    .await;
    let posts = Arc::new(AtomicUsize::new(0));
    let seen = posts.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let secret = headers.get("x-telegram-bot-api-secret-token").cloned();
                assert_eq!(secret.unwrap(), "s3cret");
                // The first POST fails, the next ones succeed.
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    let ids: Vec<i64> = (0..2)
        .map(|i| api.push_private_text(USER, &format!("hello {i}")))
        .collect();
    api.bot()
        .set_webhook(url.parse().unwrap())
        .secret_token("s3cret")
        .await
        .unwrap();
    let done = api
        .wait_for(|s| s.pending_updates().is_empty(), Duration::from_secs(10))
        .await;
    assert!(done);
    let deliveries: Vec<(i64, u16)> = api.with_state(|s| {
        s.webhook_deliveries()
            .iter()
            .map(|d| (d.update_id, d.status))
            .collect()
    });
    assert_eq!(deliveries, [(ids[0], 500), (ids[0], 200), (ids[1], 200)]);
}

/// A group that became a supergroup: both service messages arrive, and a
/// send to the old id fails with `migrate_to_chat_id`, as Telegram's do.
#[tokio::test]
async fn migrated_groups_point_to_the_supergroup() {
    let api = FakeBotApi::start().await;
    let bot = api.bot();
    let (old, new) = (-5, -1_000_000_000_005);
    api.push_message(IncomingMessage::group(old, USER, "hi").basic_group());
    let (to, from) = api.migrate_group(old, new, USER);
    let updates = bot.get_updates().await.unwrap();
    let migrations: Vec<(i64, ChatId, ChatId)> = updates
        .iter()
        .filter_map(|u| {
            let UpdateKind::Message(m) = &u.kind else {
                return None;
            };
            let other = match m.chat_migration()? {
                teloxide::types::ChatMigration::To { chat_id } => *chat_id,
                teloxide::types::ChatMigration::From { chat_id } => *chat_id,
            };
            Some((i64::from(u.id.0), m.chat.id, other))
        })
        .collect();
    assert_eq!(
        migrations,
        [
            (to, ChatId(old), ChatId(new)),
            (from, ChatId(new), ChatId(old))
        ]
    );
    match bot.send_message(ChatId(old), "answer").await {
        Err(RequestError::MigrateToChatId(chat)) => assert_eq!(chat, ChatId(new)),
        other => panic!("expected migrate_to_chat_id, got {other:?}"),
    }
    bot.send_message(ChatId(new), "answer").await.unwrap();
}
