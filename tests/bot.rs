//! The bot in process: a [`citebot::telegram::Bot`] over a temp index of a
//! corpus, handed updates as the fake Bot API server
//! (`tests/support/fake_bot_api.rs`) queues them, its replies going to that
//! server. What a handler does (access lists, rate limits, buttons, group
//! etiquette, inline queries, commands, filters, follow-ups) is tested here,
//! without a process to start; restarts, signals, the webhook, pacing and
//! floods are the end-to-end tests' (`telegram_e2e`, `telegram_resilience`).

use std::time::Duration;

use citebot::telegram::{Bot, Outcome};
use citebot_core::config::{Config, Secrets};
use serde_json::json;

use crate::support::bot_process::{
    BOT, QUESTION, assert_verbatim, button, collapse, corpus_copy, excerpts, message_id, valid,
};
use crate::support::fake_bot_api::*;
use crate::support::paths;

const EXACT: &str = "China is the top trading partner of 128 out of 190 countries in the world.";
const CLOSE: &str = "China is the biggest trading partner of 128 of 190 countries in the world.";

/// A bot in process and the fake server it answers through.
struct Harness {
    api: FakeBotApi,
    bot: Bot,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A bot over the shipped corpus, with the model off, no pacing and a
    /// generous rate limit, configured further by `configure`.
    async fn start(configure: impl FnOnce(&mut Config)) -> Harness {
        let api = FakeBotApi::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            corpus: paths::shipped_corpus(),
            index: dir.path().join("index"),
            model: "off".into(),
            ..Config::default()
        };
        config.telegram.throttle = false;
        config.telegram.rate_limit_per_minute = 1000;
        configure(&mut config);
        let secrets = Secrets::new(Some(api.token().into()), Some(api.url()), None);
        let bot = Bot::new(config, secrets).await.unwrap();
        Harness {
            api,
            bot,
            _dir: dir,
        }
    }

    /// A bot over the shipped corpus.
    async fn new() -> Harness {
        Harness::start(|_| {}).await
    }

    /// Hands the queued update `id` to the bot, as Telegram would send it.
    async fn deliver(&self, id: i64) -> Outcome {
        // From text, as Telegram sends it (teloxide reads some fields only
        // from a text deserializer, not from a `serde_json::Value`).
        let json = self.api.update(id).unwrap().to_string();
        let update: teloxide::types::Update = serde_json::from_str(&json).unwrap();
        assert!(
            !matches!(update.kind, teloxide::types::UpdateKind::Error(_)),
            "teloxide cannot read {json}"
        );
        self.bot.handle(update).await
    }

    /// Hands `id` over and expects it handled, returning what was done.
    async fn handled(&self, id: i64) -> &'static str {
        match self.deliver(id).await {
            Outcome::Handled(action) => action,
            failed => panic!("update {id}: {failed:?}"),
        }
    }

    /// The bot's reply to the message of update `id` in `chat`.
    fn reply(&self, chat: i64, id: i64) -> SentMessage {
        let message = message_id(&self.api, id);
        self.api
            .with_state(|s| {
                s.sent_to(chat)
                    .into_iter()
                    .find(|m| m.reply_to_message_id == Some(message))
                    .cloned()
            })
            .unwrap_or_else(|| {
                panic!(
                    "no reply to message {message} in chat {chat}; calls: {:?}",
                    self.api.calls()
                )
            })
    }

    /// Delivers update `id` and returns the reply to its message in `chat`.
    async fn reply_to(&self, chat: i64, id: i64) -> SentMessage {
        self.handled(id).await;
        self.reply(chat, id)
    }

    /// Asks `text` in a private chat with `user`; returns the reply.
    async fn ask(&self, user: i64, text: &str) -> SentMessage {
        let id = self.api.push_private_text(user, text);
        self.reply_to(user, id).await
    }

    /// Delivers inline query `query` and returns the `answerInlineQuery` call.
    async fn inline(&self, query: IncomingInlineQuery) -> RecordedCall {
        let id = self.api.push_inline_query(query);
        let query_id = self.api.update(id).unwrap()["inline_query"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.handled(id).await;
        assert!(self.api.with_state(|s| s.inline_query_answered(&query_id)));
        self.api
            .successful_calls_to("answerinlinequery")
            .into_iter()
            .rfind(|c| c.params["inline_query_id"] == query_id.as_str())
            .unwrap()
    }

    /// Delivers a button press (update `id`) and checks it was answered.
    async fn press(&self, id: i64) -> &'static str {
        let query_id = self.api.update(id).unwrap()["callback_query"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let action = self.handled(id).await;
        assert!(
            self.api
                .with_state(|s| s.callback_query_answered(&query_id)),
            "button {query_id} answered ({action})"
        );
        action
    }
}

// ----- questions -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_question_gets_a_quoted_cited_answer() {
    let h = Harness::new().await;
    let commands = h.api.successful_calls_to("setmycommands");
    assert!(
        commands[0].params.to_string().contains("\"ask\""),
        "command menu"
    );
    let id = h.api.push_private_text(101, QUESTION);
    assert_eq!(h.deliver(id).await, Outcome::Handled("answered"));
    let answer = h.reply(101, id);
    let text = valid(&answer);
    assert!(
        answer.raw_text.starts_with("<blockquote>"),
        "{}",
        answer.raw_text
    );
    assert!(answer.raw_text.contains("<b>"), "matched words in bold");
    for excerpt in excerpts(&answer.raw_text) {
        assert_verbatim(&excerpt);
    }
    assert!(text.contains("¶"), "a citation: {text}");
    assert!(
        text.contains("Susan Shirk") || text.contains("Alan D. Romberg"),
        "{text}"
    );
    assert!(
        answer
            .raw_text
            .contains("<i>Don't Give Up on Diplomacy with China</i>")
            || answer.raw_text.contains("<i>Obama and Xi Jinping Need"),
        "the title in italics"
    );
    assert!(
        answer.raw_text.contains("<a href=\"https://") && answer.raw_text.contains("#:~:text="),
        "a link that lands on the quote: {}",
        answer.raw_text
    );
    assert_eq!(
        answer.raw_text.matches("<blockquote>").count(),
        3,
        "3 results in private"
    );
    assert_eq!(
        answer.params["reply_parameters"]["allow_sending_without_reply"],
        json!(true)
    );
    let labels = answer.button_texts();
    for label in ["Context 1", "Copy citation 1", "Context 3", "More"] {
        assert!(labels.contains(&label.to_string()), "{labels:?}");
    }
    let metrics = h.bot.metrics();
    assert!(metrics.contains("citebot_updates_total 1\n"), "{metrics}");
    assert!(metrics.contains("citebot_answers_total 1\n"), "{metrics}");
    assert!(
        metrics.contains("citebot_update_seconds_count 1\n"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_is_silent_unless_addressed() {
    let h = Harness::new().await;
    let (api, group) = (&h.api, -1001);
    for text in [
        QUESTION.to_string(),
        format!("/ask@other_bot {QUESTION}"),
        "/weather".into(),
    ] {
        let id = api.push_group_text(group, 201, &text);
        assert_eq!(
            h.handled(id).await,
            "ignored: not addressed",
            "{text:?} is not for the bot"
        );
    }
    let asked = api.push_group_text(group, 201, &format!("/ask@{BOT} {QUESTION}"));
    let answer = h.reply_to(group, asked).await;
    assert_eq!(
        api.with_state(|s| s.sent_to(group).len()),
        1,
        "only /ask@bot answered"
    );
    let text = valid(&answer);
    assert_eq!(
        answer.raw_text.matches("<blockquote>").count(),
        1,
        "1 result in groups"
    );
    assert!(text.contains("¶"));
    assert!(answer.button_texts().contains(&"Context".to_string()));

    let mention = api.push_group_text(
        group,
        202,
        &format!("@{BOT} how should the U.S. deal with Xi Jinping?"),
    );
    let answer = h.reply_to(group, mention).await;
    assert!(valid(&answer).contains("¶"));

    let bare = api.push_group_text(group, 203, &format!("/ask {QUESTION}"));
    h.reply_to(group, bare).await;

    let reply = api.push_message(
        IncomingMessage::group(group, 204, "What do Obama and Xi need to understand?")
            .reply_to(answer.message_id),
    );
    let answer = h.reply_to(group, reply).await;
    assert!(valid(&answer).contains("¶"), "{}", answer.text);
    assert_verbatim(&excerpts(&answer.raw_text)[0]);
    assert_eq!(api.with_state(|s| s.sent_to(group).len()), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_topic_question_abstains() {
    let h = Harness::new().await;
    let id = h
        .api
        .push_private_text(301, "What is the best recipe for banana bread?");
    assert_eq!(h.handled(id).await, "abstained");
    let answer = h.reply(301, id);
    let text = valid(&answer);
    assert!(text.contains("Nothing in the essays matches"), "{text}");
    assert!(text.contains("/sources"));
    assert!(!answer.raw_text.contains("blockquote"));
    assert!(answer.reply_markup.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_valid_replies() {
    let h = Harness::new().await;
    let long = "China trade ".repeat(900);
    let hostile = [
        "*",
        "title:[a TO",
        "<b>unclosed China & <i>trade",
        long.as_str(),
        "🇨🇳 China 🤝 🇺🇸 trade? 👍🏽",
        "China\u{0}\u{7}\u{1b}[31m trade\u{202e}partner\r\n",
        "/cite <b>&amp; \"quoted\"",
        "/start ../../etc/passwd",
        "/ask",
    ];
    for (i, text) in hostile.iter().enumerate() {
        let reply = h.ask(400 + i as i64, text).await;
        valid(&reply);
    }
    h.inline(IncomingInlineQuery::new(499, "<b>China & trade"))
        .await;
    assert!(
        h.api.rejected_calls_to("sendmessage").is_empty()
            && h.api.rejected_calls_to("answerinlinequery").is_empty(),
        "Telegram rejected a message: {:?}",
        h.api.rejected_calls_to("*")
    );
    assert_eq!(h.api.successful_calls_to("answerinlinequery").len(), 1);
}

// ----- buttons ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_and_context_buttons_and_copy_citation() {
    let h = Harness::new().await;
    let (api, user) = (&h.api, 501);
    let question = api.push_private_text(user, QUESTION);
    let answer = h.reply_to(user, question).await;

    let copy = button(&answer, "Copy citation 1");
    let line = copy["copy_text"]["text"].as_str().unwrap();
    assert!(line.chars().count() <= 256);
    assert!(
        line.starts_with(
            "Susan Shirk, “Don't Give Up on Diplomacy with China,” TIME, October 2022, ¶"
        ) || line.starts_with("Alan D. Romberg, “Obama and Xi Jinping Need to Probe Deeper"),
        "{line}"
    );
    assert!(
        line.contains(", https://") && line.contains("#:~:text="),
        "{line}"
    );

    let press = api.press_button(user, user, answer.message_id, "More");
    assert_eq!(h.press(press).await, "more");
    assert_eq!(api.with_state(|s| s.sent_to(user).len()), 2);
    let more = api.sent_messages()[1].clone();
    let text = valid(&more);
    assert!(more.raw_text.contains("<blockquote>") && text.contains("¶"));
    assert_eq!(more.reply_to_message_id, Some(message_id(api, question)));
    assert_ne!(more.text, answer.text, "further results");
    assert!(more.button_texts().iter().any(|b| b.starts_with("Context")));
    for excerpt in excerpts(&more.raw_text) {
        assert_verbatim(&excerpt);
    }

    let press = api.press_button(user, user, answer.message_id, "Context 1");
    assert_eq!(h.press(press).await, "context");
    assert_eq!(api.with_state(|s| s.sent_to(user).len()), 3);
    let context = api.sent_messages()[2].clone();
    let text = valid(&context);
    assert!(
        context.raw_text.contains("<blockquote expandable>"),
        "{}",
        context.raw_text
    );
    let quote = &excerpts(&answer.raw_text)[0];
    assert!(
        collapse(&text).contains(&collapse(quote)),
        "the passage itself: {text}"
    );
    assert!(text.contains("¶"));
    assert_eq!(context.reply_to_message_id, Some(answer.message_id));
    assert!(
        context
            .button_texts()
            .contains(&"Copy citation".to_string())
    );

    // A stale or foreign button is answered politely, never ignored.
    let stale = api.push_callback_query(
        IncomingCallbackQuery::new(user, user, answer.message_id, "c:no_such_passage")
            .id("q-stale"),
    );
    assert_eq!(h.press(stale).await, "context: passage gone");
    let call = api
        .successful_calls_to("answercallbackquery")
        .pop()
        .unwrap();
    assert_eq!(call.params["callback_query_id"], "q-stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_question_is_answered_and_more_says_so() {
    let h = Harness::new().await;
    let (api, user) = (&h.api, 502);
    // The question is deleted before the answer is sent.
    let update = api.push_private_text(user, QUESTION);
    let question = teloxide::types::MessageId(message_id(api, update) as i32);
    teloxide::prelude::Requester::delete_message(
        &api.bot(),
        teloxide::types::ChatId(user),
        question,
    )
    .await
    .unwrap();
    assert_eq!(h.handled(update).await, "answered");
    let answer = api.sent_messages()[0].clone();
    assert!(answer.raw_text.contains("<blockquote>"));
    assert_eq!(answer.reply_to_message_id, None, "sent without the reply");

    let press = api.push_callback_query(
        IncomingCallbackQuery::new(user, user, answer.message_id, "m:1").id("q-orphan"),
    );
    assert_eq!(h.press(press).await, "more: question gone");
    let call = api
        .successful_calls_to("answercallbackquery")
        .pop()
        .unwrap();
    assert!(
        call.params["text"]
            .as_str()
            .unwrap()
            .contains("ask it again")
    );
}

// ----- inline mode ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_queries_answer_hint_and_cite() {
    let h = Harness::new().await;
    let call = h
        .inline(IncomingInlineQuery::new(601, QUESTION).id("iq-ask"))
        .await;
    let results = call.params["results"].as_array().unwrap().clone();
    assert!(results.len() >= 3 && results.len() <= 10, "{results:?}");
    for result in &results {
        assert_eq!(result["type"], "article");
        let content = &result["input_message_content"];
        assert_eq!(content["parse_mode"], "HTML");
        let html = content["message_text"].as_str().unwrap();
        assert!(html.contains("<blockquote>"));
        assert!(visible_text(html).unwrap().contains("¶"));
    }

    let call = h
        .inline(IncomingInlineQuery::new(601, "  ").id("iq-empty"))
        .await;
    assert_eq!(call.params["results"], json!([]));
    assert_eq!(call.params["button"]["start_parameter"], "help");

    let cite = IncomingInlineQuery::new(601, &format!("cite: {EXACT}")).id("iq-cite");
    let call = h.inline(cite).await;
    let results = call.params["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0]["title"].as_str().unwrap().contains("Exact"));
    let html = results[0]["input_message_content"]["message_text"]
        .as_str()
        .unwrap();
    assert!(visible_text(html).unwrap().starts_with("✅"));
}

// ----- commands --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_greets_and_deep_links_to_a_passage() {
    let h = Harness::new().await;
    let user = 701;
    let greeting = valid(&h.ask(user, "/start").await);
    for example in [
        QUESTION,
        "How should the U.S. deal with Xi Jinping?",
        "What do Obama and Xi need to understand about each other?",
    ] {
        assert!(greeting.contains(example), "{greeting}");
        let answer = h.ask(user, example).await;
        assert!(
            answer.raw_text.contains("<blockquote>"),
            "example {example:?} is answered"
        );
    }

    let answer = h.ask(user, QUESTION).await;
    let data = button(&answer, "Context 1")["callback_data"]
        .as_str()
        .unwrap()
        .to_string();
    let passage = data.strip_prefix("c:").unwrap();
    let linked = h.ask(user, &format!("/start {passage}")).await;
    let text = valid(&linked);
    assert!(linked.raw_text.contains("<blockquote>"));
    let quote = &excerpts(&answer.raw_text)[0];
    assert!(collapse(&text).contains(&collapse(quote)), "{text}");
    assert!(text.contains("¶"));

    let gone = valid(&h.ask(user, "/start no_such_passage").await);
    assert!(gone.contains("no longer in the essays"), "{gone}");
    let help = valid(&h.ask(user, "/help").await);
    assert!(help.contains("/cite") && help.contains(&format!("@{BOT}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_lists_the_essays() {
    let h = Harness::new().await;
    let sources = h.ask(801, "/sources").await;
    let text = valid(&sources);
    assert!(
        text.contains("Susan Shirk") && text.contains("Alan D. Romberg"),
        "{text}"
    );
    assert!(text.contains("Don't Give Up on Diplomacy with China") && text.contains("TIME"));
    assert!(text.contains("November 2014"));
    assert!(sources.raw_text.contains("<a href=\"https://thehill.com/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_by_admin_only() {
    let corpus = corpus_copy();
    let admin = 901;
    let h = Harness::start(|config| {
        config.telegram.admins = vec![admin as u64];
        config.corpus = corpus.path().to_path_buf();
    })
    .await;
    let penguins = "What do emperor penguins eat in the Antarctic winter?";
    let before = h.ask(admin, penguins).await;
    assert!(
        before.text.contains("Nothing in the essays"),
        "{}",
        before.text
    );

    std::fs::write(
        corpus.path().join("penguins.md"),
        "+++\ntitle = \"Penguins in Winter\"\nauthor = \"Ann Ice\"\n\
         publication = \"Polar Notes\"\ndate = \"2020\"\nurl = \"https://polar.example.org/penguins\"\n+++\n\n\
         Emperor penguins eat fish, krill and squid, diving deep under the Antarctic sea ice in winter.\n\n\
         The males fast through the winter while they keep the eggs warm.\n",
    )
    .unwrap();
    let refused = h.ask(902, "/reload").await;
    assert!(valid(&refused).contains("only the bot's admins"));
    let still = h.ask(admin, penguins).await;
    assert!(
        still.text.contains("Nothing in the essays"),
        "not reloaded by a non-admin"
    );

    let reloaded = h.ask(admin, "/reload").await;
    assert!(
        valid(&reloaded).contains("Reloaded: 3 essays"),
        "{}",
        reloaded.text
    );
    let after = h.ask(admin, penguins).await;
    assert!(valid(&after).contains("Ann Ice"), "{}", after.text);
    assert!(after.text.contains("krill"));
}

// ----- access lists and rate limits ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_lists_refuse_others_once() {
    let allowed = 1001;
    let h = Harness::start(|config| config.telegram.allowed_users = vec![allowed as u64]).await;
    let (api, stranger) = (&h.api, 1002);
    let id = api.push_private_text(stranger, QUESTION);
    assert_eq!(h.handled(id).await, "refused: not allowed");
    assert!(valid(&h.reply(stranger, id)).contains("only answers in the chats it was set up for"));
    let id = api.push_private_text(stranger, "another question about China");
    assert_eq!(h.handled(id).await, "refused: not allowed (already told)");
    let inline = h
        .inline(IncomingInlineQuery::new(stranger, QUESTION).id("iq-stranger"))
        .await;
    assert_eq!(inline.params["results"], json!([]));
    let answer = h.ask(allowed, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    assert_eq!(
        api.with_state(|s| s.sent_to(stranger).len()),
        1,
        "one refusal only"
    );
    assert!(
        h.bot.metrics().contains("citebot_refusals_total 3\n"),
        "{}",
        h.bot.metrics()
    );
}

/// Over the per-minute limit, a user is told once to slow down, then
/// dropped; another user is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_rate_limit_is_told_once_then_dropped() {
    let h = Harness::start(|config| config.telegram.rate_limit_per_minute = 3).await;
    let (api, user) = (&h.api, 1051);
    let mut actions = Vec::new();
    for i in 0..5 {
        let id = api.push_private_text(user, &format!("{QUESTION} ({i})"));
        actions.push(h.handled(id).await);
    }
    assert_eq!(
        actions,
        [
            "answered",
            "answered",
            "answered",
            "rate limited: told to slow down",
            "rate limited: dropped"
        ]
    );
    let sent = api.with_state(|s| s.sent_to(user).into_iter().cloned().collect::<Vec<_>>());
    assert_eq!(sent.len(), 4, "3 answers and one notice");
    assert!(
        sent[3].text.contains("faster than I can answer"),
        "{}",
        sent[3].text
    );
    let other = h.ask(1052, QUESTION).await;
    assert!(other.raw_text.contains("<blockquote>"));
    assert!(h.bot.metrics().contains("citebot_rate_limited_total 2\n"));
}

// ----- /cite ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_exact_close_and_not_found() {
    let h = Harness::new().await;
    let exact = h.ask(1101, &format!("/cite {EXACT}")).await;
    let text = valid(&exact);
    assert!(text.starts_with("✅"), "{text}");
    assert!(
        exact
            .raw_text
            .contains("<blockquote>China is the top trading partner of 128 out of 190 countries in the world</blockquote>"),
        "{}",
        exact.raw_text
    );
    assert!(
        exact.raw_text.contains("#:~:text=China%20is%20the%20top"),
        "lands on the words"
    );
    assert!(text.contains("¶6"));

    let close = h.ask(1102, &format!("/cite {CLOSE}")).await;
    let text = valid(&close);
    assert!(text.starts_with("≈"), "{text}");
    assert!(
        close.raw_text.contains("<s>biggest</s> → <b>top</b>"),
        "{}",
        close.raw_text
    );
    assert!(
        close
            .raw_text
            .contains("<blockquote>China is the top trading partner")
    );

    let none = h
        .ask(
            1103,
            "/cite The moon is made of green cheese and everyone knows it.",
        )
        .await;
    let text = valid(&none);
    assert!(
        text.starts_with("❌") && text.contains("nothing in the essays matches"),
        "{text}"
    );
    assert!(!none.raw_text.contains("blockquote"));

    let short = h.ask(1104, "/cite Ambition").await;
    let text = valid(&short);
    assert!(
        text.starts_with("❌") && text.contains("send at least two words"),
        "{text}"
    );
}

/// Posts `claim` in `group` as `user`, replies `/cite` to it as `user + 1`,
/// and returns the bot's verdict with its visible text.
async fn cite_by_reply(h: &Harness, group: i64, user: i64, claim: &str) -> (SentMessage, String) {
    let claim = h.api.push_group_text(group, user, claim);
    assert_eq!(h.handled(claim).await, "ignored: not addressed");
    let claim_id = message_id(&h.api, claim);
    let cite = h
        .api
        .push_message(IncomingMessage::group(group, user + 1, "/cite").reply_to(claim_id));
    let verdict = h.reply_to(group, cite).await;
    let text = valid(&verdict);
    (verdict, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_in_reply_to_a_group_message() {
    let h = Harness::new().await;
    let group = -1201;
    let (verdict, text) = cite_by_reply(&h, group, 1201, &format!("As Shirk wrote: {CLOSE}")).await;
    assert!(text.starts_with("≈"), "{text}");
    assert!(verdict.raw_text.contains("<s>biggest</s> → <b>top</b>"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("Yes, Shirk: Susan Shirk, Don")
                && l.ends_with("Give Up on Diplomacy with China")),
        "the attribution line: {text}"
    );
    assert_eq!(
        h.api.with_state(|s| s.sent_to(group).len()),
        1,
        "the claim itself is not answered"
    );

    // The same quotation given to the other essay's author.
    let (_, text) = cite_by_reply(&h, group, 1203, &format!("Romberg said that {CLOSE}")).await;
    assert!(text.starts_with("≈"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("Not Romberg"))
        .unwrap_or_else(|| panic!("no attribution line in {text}"));
    assert!(
        line.starts_with("Not Romberg: Susan Shirk, Don") && line.contains("Diplomacy with China"),
        "one line names who wrote it: {line:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_reads_attribution_frames_and_silent_elisions() {
    let h = Harness::new().await;
    // "As NAME put it:" before a quoted stretch.
    let framed = h
        .ask(
            1301,
            "/cite As Romberg put it: \"China is a big country and other countries are small countries\"",
        )
        .await;
    let text = valid(&framed);
    assert!(text.starts_with("✅"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Yes, Romberg: Alan D. Romberg")),
        "the attribution line: {text}"
    );
    // "NAME:" naming the other essay's author.
    let wrong = h
        .ask(
            1302,
            "/cite Shirk: \"China is a big country and other countries are small countries\"",
        )
        .await;
    let text = valid(&wrong);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Not Shirk: Alan D. Romberg")),
        "the attribution line: {text}"
    );
    // A quote shortened silently across a sentence boundary: the whole
    // original, and the run left out as one difference.
    assert_cite_elided(
        &h,
        1303,
        "Xi has made himself chairman of everything. The military and police answer only to him.",
        "Xi has made himself chairman of everything, consolidating agencies",
        "The military and police answer only to him",
        ("everything. The", "everything, consolidating agencies"),
    )
    .await;
    // The quote's first two words alone before a run left out of one
    // sentence, longer than they are.
    assert_cite_elided(
        &h,
        1304,
        "Our Ambassador remains unable to meet anyone higher than a Vice Foreign Minister",
        "Our Ambassador in Beijing, veteran diplomat Nicholas Burns, remains unable",
        "higher than a Vice Foreign Minister",
        (
            "Ambassador remains",
            "Ambassador in Beijing, veteran diplomat Nicholas Burns, remains</b>",
        ),
    )
    .await;
    // Two words before a run seven times longer, shortened with "…".
    assert_cite_elided(
        &h,
        1305,
        "Strategic dialogues also are invaluable for exploring areas of convergence and divergence",
        "Strategic dialogues for sharing perspectives",
        "areas of convergence and divergence",
        (
            "dialogues also",
            "dialogues for sharing perspectives on foreign policy hotspots … the world, with no scripted talking points, also</b>",
        ),
    )
    .await;
}

/// `/cite QUOTE` of a silently shortened quote: close, the whole original
/// quoted from `starts` to `ends`, and the run left out as one difference,
/// `said` struck through before the start of the `original`.
async fn assert_cite_elided(
    h: &Harness,
    user: i64,
    quote: &str,
    starts: &str,
    ends: &str,
    (said, original): (&str, &str),
) {
    let reply = h.ask(user, &format!("/cite {quote}")).await;
    let text = valid(&reply);
    assert!(text.starts_with("≈"), "{text}");
    let html = &reply.raw_text;
    assert!(
        html.contains(&format!("<blockquote>{starts}"))
            && html.contains(&format!("{ends}</blockquote>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<s>{said}</s> → <b>{original}")),
        "{html}"
    );
}

// ----- failures of the Bot API ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_send_is_waited_out() {
    let h = Harness::start(|config| config.telegram.throttle = true).await;
    h.api
        .inject("sendmessage", Fault::TooManyRequests { retry_after: 1 });
    let answer = h.ask(1301, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    let calls = h.api.calls_to("sendmessage");
    assert_eq!(calls[0].status, 429);
    assert!(calls[1].ok);
    assert!(
        calls[1].at - calls[0].at >= Duration::from_millis(950),
        "waited retry_after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_send_gets_an_apology_and_the_bot_goes_on() {
    let h = Harness::new().await;
    h.api.inject(
        "sendmessage",
        Fault::Api {
            status: 400,
            description: "Bad Request: something unexpected".into(),
        },
    );
    let id = h.api.push_private_text(1351, QUESTION);
    match h.deliver(id).await {
        Outcome::Failed(why) => assert!(why.contains("something unexpected"), "{why}"),
        handled => panic!("{handled:?}"),
    }
    assert!(valid(&h.reply(1351, id)).contains("Sorry, something went wrong"));
    let answer = h.ask(1352, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    assert!(
        h.bot
            .metrics()
            .contains("citebot_handler_failures_total 1\n")
    );
}

// ----- filters and follow-ups ---------------------------------------------------------

/// A bot over the Federalist Papers.
async fn federalist() -> Harness {
    Harness::start(|config| config.corpus = paths::corpus("federalist")).await
}

/// The citation lines (“— Author, …”) of an answer's visible text.
fn citations(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("— ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_questions_ask_within_their_operators() {
    let h = federalist().await;
    let answer = h
        .ask(101, "by:jay What dangers come from foreign nations?")
        .await;
    let text = valid(&answer);
    let cited = citations(&text);
    assert_eq!(cited.len(), 3, "{text}");
    assert!(cited.iter().all(|c| c.contains("John Jay")), "{cited:?}");

    let miss = h.ask(101, "BY:Madisen what is a faction?").await;
    assert_eq!(
        valid(&miss),
        "No essay by 'Madisen'. Did you mean James Madison?"
    );
    let id = h.api.push_private_text(101, "factions before:1700");
    assert_eq!(h.handled(id).await, "filter matched nothing");
    let dates = h.reply(101, id);
    assert!(
        valid(&dates).starts_with("No essay dated before 1700. The essays are dated from"),
        "{}",
        dates.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_questions_ask_within_their_operators() {
    let h = federalist().await;
    let group = -1002;
    let asked = h
        .api
        .push_group_text(group, 201, "/ask in:\"federalist 10\" what is a faction?");
    let answer = h.reply_to(group, asked).await;
    let text = valid(&answer);
    assert!(text.contains("The Federalist No. 10"), "{text}");
    let asked = h.api.push_group_text(
        group,
        201,
        &format!("@{BOT} in:\"federalist 100\" what is a faction?"),
    );
    let miss = h.reply_to(group, asked).await;
    assert!(
        valid(&miss).starts_with("No essay is 'federalist 100'. Did you mean"),
        "{}",
        miss.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_queries_ask_within_their_operators() {
    let h = federalist().await;
    let query = IncomingInlineQuery::new(601, "energy in the executive by:hamilton").id("iq-by");
    let call = h.inline(query).await;
    let results = call.params["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let html = result["input_message_content"]["message_text"]
            .as_str()
            .unwrap();
        assert!(
            visible_text(html).unwrap().contains("Alexander Hamilton"),
            "{html}"
        );
    }
    let query = IncomingInlineQuery::new(601, "by:Madisen factions").id("iq-miss");
    let call = h.inline(query).await;
    assert_eq!(call.params["results"], json!([]));
    assert_eq!(
        call.params["button"]["text"],
        "No essay by 'Madisen'. Did you mean James Madison?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_answer_is_a_follow_up_in_private_and_in_groups() {
    let h = federalist().await;
    let api = &h.api;
    let first = h
        .ask(301, "What does Hamilton say about energy in the executive?")
        .await;
    assert!(valid(&first).contains("¶"));
    let reply = api.push_message(
        IncomingMessage::private(301, "Why one president rather than several?")
            .reply_to(first.message_id),
    );
    assert_eq!(h.handled(reply).await, "answered a follow-up");
    let answer = h.reply(301, reply);
    assert!(valid(&answer).contains("¶"), "{}", answer.text);

    // In a group, a reply that quotes part of the answer: the quote is the context.
    let group = -1003;
    let asked = api.push_group_text(
        group,
        302,
        "/ask What does Hamilton say about energy in the executive?",
    );
    let first = h.reply_to(group, asked).await;
    let words: String = first
        .text
        .lines()
        .next()
        .unwrap()
        .chars()
        .take(40)
        .collect();
    let reply = api.push_message(
        IncomingMessage::group(group, 302, "and what about unity in the executive?")
            .reply_to(first.message_id)
            .quote(&words),
    );
    assert_eq!(h.handled(reply).await, "answered a follow-up");
    let answer = h.reply(group, reply);
    assert!(valid(&answer).contains("¶"), "{}", answer.text);
    // A plain question is not one.
    let plain = api.push_private_text(303, "What is a faction?");
    assert_eq!(h.handled(plain).await, "answered");
}
