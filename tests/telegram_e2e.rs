//! End-to-end tests of `citebot serve`: the real binary against the fake Bot
//! API server (`tests/support/fake_bot_api.rs`), asserting on what reached
//! Telegram.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::bot_process::*;
use crate::support::fake_bot_api::*;
use serde_json::json;

const EXACT: &str = "China is the top trading partner of 128 out of 190 countries in the world.";
const CLOSE: &str = "China is the biggest trading partner of 128 of 190 countries in the world.";

// ----- questions -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_question_gets_quoted_cited_answer_and_metrics() {
    let port = free_port();
    let settings = Settings {
        args: vec!["--metrics".into(), format!("127.0.0.1:{port}")],
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let commands = api.successful_calls_to("setmycommands");
    assert!(
        commands[0].params.to_string().contains("\"ask\""),
        "command menu"
    );

    let answer = ask(&api, &bot, 101, QUESTION).await;
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

    let log = wait_log(&bot, "action=\"answered\"").await;
    assert!(
        log.contains("update_id=1 chat_type=\"private\" user_id=101"),
        "{log}"
    );
    assert!(
        !log.contains("so many countries"),
        "no message text at info level"
    );

    let metrics = http_get(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(metrics.contains("citebot_updates_total 1\n"), "{metrics}");
    assert!(metrics.contains("citebot_answers_total 1\n"), "{metrics}");
    assert!(
        metrics.contains("citebot_update_seconds_count 1\n"),
        "{metrics}"
    );
    let health = http_get(&format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(health.starts_with("ok\n"), "{health}");
    assert!(health.contains("retrieval: lexical"), "{health}");
    assert!(health.contains("model: off"), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_is_silent_unless_addressed() {
    let (api, bot) = start(Settings::default()).await;
    let group = -1001;
    api.push_group_text(group, 201, QUESTION);
    api.push_group_text(group, 201, &format!("/ask@other_bot {QUESTION}"));
    api.push_group_text(group, 201, "/weather");
    let asked = api.push_group_text(group, 201, &format!("/ask@{BOT} {QUESTION}"));
    let answer = reply_to(&api, &bot, group, asked).await;
    // Updates of one chat run in order, so the silent ones are done.
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
    let answer = reply_to(&api, &bot, group, mention).await;
    assert!(valid(&answer).contains("¶"));

    let bare = api.push_group_text(group, 203, &format!("/ask {QUESTION}"));
    reply_to(&api, &bot, group, bare).await;

    let reply = api.push_message(
        IncomingMessage::group(group, 204, "What do Obama and Xi need to understand?")
            .reply_to(answer.message_id),
    );
    let answer = reply_to(&api, &bot, group, reply).await;
    assert!(valid(&answer).contains("¶"), "{}", answer.text);
    assert_verbatim(&excerpts(&answer.raw_text)[0]);
    all_confirmed(&api, &bot).await;
    assert_eq!(api.with_state(|s| s.sent_to(group).len()), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_topic_question_abstains() {
    let (api, bot) = start(Settings::default()).await;
    let answer = ask(&api, &bot, 301, "What is the best recipe for banana bread?").await;
    let text = valid(&answer);
    assert!(text.contains("Nothing in the essays matches"), "{text}");
    assert!(text.contains("/sources"));
    assert!(!answer.raw_text.contains("blockquote"));
    assert!(answer.reply_markup.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_valid_replies() {
    let (api, bot) = start(Settings::default()).await;
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
    let mut updates = Vec::new();
    for (i, text) in hostile.iter().enumerate() {
        updates.push((400 + i as i64, api.push_private_text(400 + i as i64, text)));
    }
    for (user, update) in updates {
        let reply = reply_to(&api, &bot, user, update).await;
        valid(&reply);
    }
    api.push_inline_query(IncomingInlineQuery::new(499, "<b>China & trade"));
    all_confirmed(&api, &bot).await;
    assert!(
        api.rejected_calls_to("sendmessage").is_empty()
            && api.rejected_calls_to("answerinlinequery").is_empty(),
        "Telegram rejected a message: {:?}",
        api.rejected_calls_to("*")
    );
    assert_eq!(api.successful_calls_to("answerinlinequery").len(), 1);
}

// ----- buttons ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_and_context_buttons_and_copy_citation() {
    let (api, bot) = start(Settings::default()).await;
    let user = 501;
    let question = api.push_private_text(user, QUESTION);
    let answer = reply_to(&api, &bot, user, question).await;

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
    let query_id = api.update(press).unwrap()["callback_query"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = api
        .wait_for(
            |s| s.sent_to(user).len() == 2 && s.callback_query_answered(&query_id),
            WAIT,
        )
        .await;
    assert!(ok, "More answered:\n{}", bot.tail());
    let more = api.sent_messages()[1].clone();
    let text = valid(&more);
    assert!(more.raw_text.contains("<blockquote>") && text.contains("¶"));
    assert_eq!(more.reply_to_message_id, Some(message_id(&api, question)));
    assert_ne!(more.text, answer.text, "further results");
    assert!(more.button_texts().iter().any(|b| b.starts_with("Context")));
    for excerpt in excerpts(&more.raw_text) {
        assert_verbatim(&excerpt);
    }

    let press = api.press_button(user, user, answer.message_id, "Context 1");
    let query_id = api.update(press).unwrap()["callback_query"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = api
        .wait_for(
            |s| s.sent_to(user).len() == 3 && s.callback_query_answered(&query_id),
            WAIT,
        )
        .await;
    assert!(ok, "Context answered:\n{}", bot.tail());
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
    let ok = api
        .wait_for(|s| s.callback_query_answered("q-stale"), WAIT)
        .await;
    assert!(ok, "stale button {stale} answered:\n{}", bot.tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_question_is_answered_and_more_says_so() {
    let (api, bot) = start(Settings::default()).await;
    let user = 502;
    // The question is deleted while the answer is on its way.
    api.inject("sendmessage", Fault::Delay(Duration::from_millis(700)));
    let update = api.push_private_text(user, QUESTION);
    let fetched = api.wait_for(|s| s.delivery_count(update) > 0, WAIT).await;
    assert!(fetched, "{}", bot.tail());
    let question = teloxide::types::MessageId(message_id(&api, update) as i32);
    teloxide::prelude::Requester::delete_message(
        &api.bot(),
        teloxide::types::ChatId(user),
        question,
    )
    .await
    .unwrap();
    let sent = |s: &ApiState| !s.sent_to(user).is_empty();
    assert!(api.wait_for(sent, WAIT).await, "{}", bot.tail());
    let answer = api.sent_messages()[0].clone();
    assert!(answer.raw_text.contains("<blockquote>"));
    assert_eq!(answer.reply_to_message_id, None, "sent without the reply");

    api.push_callback_query(
        IncomingCallbackQuery::new(user, user, answer.message_id, "m:1").id("q-orphan"),
    );
    let ok = api
        .wait_for(|s| s.callback_query_answered("q-orphan"), WAIT)
        .await;
    assert!(ok, "{}", bot.tail());
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
    let (api, bot) = start(Settings::default()).await;
    let answered = |id: &str| {
        let id = id.to_string();
        move |s: &ApiState| s.inline_query_answered(&id)
    };
    api.push_inline_query(IncomingInlineQuery::new(601, QUESTION).id("iq-ask"));
    assert!(
        api.wait_for(answered("iq-ask"), WAIT).await,
        "{}",
        bot.tail()
    );
    let call = api.successful_calls_to("answerinlinequery").pop().unwrap();
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

    api.push_inline_query(IncomingInlineQuery::new(601, "  ").id("iq-empty"));
    assert!(api.wait_for(answered("iq-empty"), WAIT).await);
    let call = api.successful_calls_to("answerinlinequery").pop().unwrap();
    assert_eq!(call.params["results"], json!([]));
    assert_eq!(call.params["button"]["start_parameter"], "help");

    api.push_inline_query(IncomingInlineQuery::new(601, &format!("cite: {EXACT}")).id("iq-cite"));
    assert!(api.wait_for(answered("iq-cite"), WAIT).await);
    let call = api.successful_calls_to("answerinlinequery").pop().unwrap();
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
    let (api, bot) = start(Settings::default()).await;
    let user = 701;
    let greeting = valid(&ask(&api, &bot, user, "/start").await);
    for example in [
        QUESTION,
        "How should the U.S. deal with Xi Jinping?",
        "What do Obama and Xi need to understand about each other?",
    ] {
        assert!(greeting.contains(example), "{greeting}");
        let answer = ask(&api, &bot, user, example).await;
        assert!(
            answer.raw_text.contains("<blockquote>"),
            "example {example:?} is answered"
        );
    }

    let answer = ask(&api, &bot, user, QUESTION).await;
    let data = button(&answer, "Context 1")["callback_data"]
        .as_str()
        .unwrap()
        .to_string();
    let passage = data.strip_prefix("c:").unwrap();
    let linked = ask(&api, &bot, user, &format!("/start {passage}")).await;
    let text = valid(&linked);
    assert!(linked.raw_text.contains("<blockquote>"));
    let quote = &excerpts(&answer.raw_text)[0];
    assert!(collapse(&text).contains(&collapse(quote)), "{text}");
    assert!(text.contains("¶"));

    let gone = valid(&ask(&api, &bot, user, "/start no_such_passage").await);
    assert!(gone.contains("no longer in the essays"), "{gone}");
    let help = valid(&ask(&api, &bot, user, "/help").await);
    assert!(help.contains("/cite") && help.contains(&format!("@{BOT}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_lists_the_essays() {
    let (api, bot) = start(Settings::default()).await;
    let sources = ask(&api, &bot, 801, "/sources").await;
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
    let settings = Settings {
        admins: vec![admin as u64],
        corpus: corpus.path().to_path_buf(),
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let penguins = "What do emperor penguins eat in the Antarctic winter?";
    let before = ask(&api, &bot, admin, penguins).await;
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
    let refused = ask(&api, &bot, 902, "/reload").await;
    assert!(valid(&refused).contains("only the bot's admins"));
    let still = ask(&api, &bot, admin, penguins).await;
    assert!(
        still.text.contains("Nothing in the essays"),
        "not reloaded by a non-admin"
    );

    let reloaded = ask(&api, &bot, admin, "/reload").await;
    assert!(
        valid(&reloaded).contains("Reloaded: 3 essays"),
        "{}",
        reloaded.text
    );
    let after = ask(&api, &bot, admin, penguins).await;
    assert!(valid(&after).contains("Ann Ice"), "{}", after.text);
    assert!(after.text.contains("krill"));
}

/// A copy of the shipped corpus, for a bot that changes it.
fn corpus_copy() -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(crate::support::paths::shipped_corpus()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, corpus.path().join(path.file_name().unwrap())).unwrap();
    }
    corpus
}

/// The essay files in `dir`.
fn essay_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_documents_by_admin_in_private() {
    use crate::support::pdf::{content, pdf, text};
    let corpus = corpus_copy();
    let admin = 911;
    let settings = Settings {
        admins: vec![admin as u64],
        corpus: corpus.path().to_path_buf(),
        telegram: "add_max_bytes = 4000\n".into(),
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let before = essay_files(corpus.path());

    // A PDF sent with the caption /add.
    let page = content(&[
        text(
            72.0,
            700.0,
            11.0,
            "Emperor penguins eat fish, krill and squid, diving deep",
        ),
        text(
            72.0,
            686.0,
            11.0,
            "under the Antarctic sea ice in the long polar winter.",
        ),
        text(
            90.0,
            660.0,
            11.0,
            "The males fast through the winter while they keep",
        ),
        text(72.0, 646.0, 11.0, "the eggs warm on their feet."),
    ]);
    let penguins = pdf(
        &[("Title", "Penguins in Winter"), ("Author", "Ann Ice")],
        &[page],
        "",
    );
    let document = api.upload("penguins.pdf", "application/pdf", &penguins);
    let sent = api.push_message(IncomingMessage::private(admin, "/add").document(document));
    let added = reply_to(&api, &bot, admin, sent).await;
    let text = valid(&added);
    assert!(
        text.contains("Added “Penguins in Winter” by Ann Ice: 2 paragraphs"),
        "{text}"
    );
    assert!(text.contains("Reloaded: 3 essays"), "{text}");
    assert_eq!(essay_files(corpus.path()).len(), before.len() + 1);
    let answer = ask(&api, &bot, admin, "What do emperor penguins eat in winter?").await;
    assert!(valid(&answer).contains("Ann Ice"), "{}", answer.text);
    assert!(answer.text.contains("krill"));
    assert_eq!(api.successful_calls_to("file").len(), 1, "downloaded once");

    // /add in reply to a document sent before.
    let note = b"+++\ntitle = \"Owls at Night\"\nauthor = \"Ned Night\"\n+++\n\nOwls hunt voles by sound alone in the dark.\n";
    let document = api.upload("owls.md", "text/markdown", note);
    let sent = api.push_message(IncomingMessage::private(admin, "").document(document));
    let reply = reply_to(&api, &bot, admin, sent).await;
    assert!(
        !valid(&reply).contains("Added"),
        "a bare document is not added"
    );
    let sent =
        api.push_message(IncomingMessage::private(admin, "/add").reply_to(message_id(&api, sent)));
    let added = reply_to(&api, &bot, admin, sent).await;
    assert!(
        valid(&added).contains("Added “Owls at Night” by Ned Night"),
        "{}",
        added.text
    );

    // Not an admin: refused, nothing fetched.
    let files = api.calls_to("getfile").len();
    let document = api.upload("penguins2.pdf", "application/pdf", &penguins);
    let sent = api.push_message(IncomingMessage::private(912, "/add").document(document));
    let refused = reply_to(&api, &bot, 912, sent).await;
    assert!(
        valid(&refused).contains("only the bot's admins can add"),
        "{}",
        refused.text
    );

    // Too big by its declared size: refused before downloading.
    let document = api.upload("big.txt", "text/plain", &[b'a'; 5000]);
    let sent = api.push_message(IncomingMessage::private(admin, "/add").document(document));
    let big = reply_to(&api, &bot, admin, sent).await;
    assert!(
        valid(&big).contains("big.txt is 5000 bytes, more than telegram.add_max_bytes = 4000"),
        "{}",
        big.text
    );
    assert_eq!(
        api.calls_to("getfile").len(),
        files,
        "no getFile for refused documents"
    );

    // A bad file: a clear error naming it, nothing written.
    let count = essay_files(corpus.path()).len();
    let document = api.upload(
        "broken.pdf",
        "application/pdf",
        b"%PDF-1.7\n1 0 obj << /Type",
    );
    let sent = api.push_message(IncomingMessage::private(admin, "/add").document(document));
    let bad = reply_to(&api, &bot, admin, sent).await;
    assert!(
        valid(&bad).contains("Nothing was added: broken.pdf: corrupt PDF"),
        "{}",
        bad.text
    );
    assert_eq!(essay_files(corpus.path()).len(), count);

    // In a group: not here.
    let sent = api.push_group_text(-100_911, admin, "/add");
    let group = reply_to(&api, &bot, -100_911, sent).await;
    assert!(valid(&group).contains("private chat"), "{}", group.text);

    // Nothing to add.
    let usage = ask(&api, &bot, admin, "/add").await;
    assert!(
        valid(&usage).contains("send me the document"),
        "{}",
        usage.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_lists_refuse_others_once() {
    let allowed = 1001;
    let settings = Settings {
        allowed_users: vec![allowed as u64],
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let stranger = 1002;
    let first = ask(&api, &bot, stranger, QUESTION).await;
    assert!(valid(&first).contains("only answers in the chats it was set up for"));
    api.push_private_text(stranger, "another question about China");
    api.push_inline_query(IncomingInlineQuery::new(stranger, QUESTION).id("iq-stranger"));
    let answer = ask(&api, &bot, allowed, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    all_confirmed(&api, &bot).await;
    assert_eq!(
        api.with_state(|s| s.sent_to(stranger).len()),
        1,
        "one refusal only"
    );
    let inline = api.successful_calls_to("answerinlinequery").pop().unwrap();
    assert_eq!(inline.params["results"], json!([]));
    assert!(bot.log().contains("refused"));
}

// ----- /cite ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_exact_close_and_not_found() {
    let (api, bot) = start(Settings::default()).await;
    let exact = ask(&api, &bot, 1101, &format!("/cite {EXACT}")).await;
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

    let close = ask(&api, &bot, 1102, &format!("/cite {CLOSE}")).await;
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

    let none = ask(
        &api,
        &bot,
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

    let short = ask(&api, &bot, 1104, "/cite Ambition").await;
    let text = valid(&short);
    assert!(
        text.starts_with("❌") && text.contains("send at least two words"),
        "{text}"
    );
}

/// Posts `claim` in `group` as `user`, replies `/cite` to it as `user + 1`,
/// and returns the bot's verdict with its visible text.
async fn cite_by_reply(
    api: &FakeBotApi,
    bot: &BotProcess,
    group: i64,
    user: i64,
    claim: &str,
) -> (SentMessage, String) {
    let claim = api.push_group_text(group, user, claim);
    let claim_id = message_id(api, claim);
    let cite =
        api.push_message(IncomingMessage::group(group, user + 1, "/cite").reply_to(claim_id));
    let verdict = reply_to(api, bot, group, cite).await;
    let text = valid(&verdict);
    (verdict, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_in_reply_to_a_group_message() {
    let (api, bot) = start(Settings::default()).await;
    let group = -1201;
    let (verdict, text) =
        cite_by_reply(&api, &bot, group, 1201, &format!("As Shirk wrote: {CLOSE}")).await;
    assert!(text.starts_with("≈"), "{text}");
    assert!(verdict.raw_text.contains("<s>biggest</s> → <b>top</b>"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("Yes, Shirk: Susan Shirk, Don")
                && l.ends_with("Give Up on Diplomacy with China")),
        "the attribution line: {text}"
    );
    assert_eq!(
        api.with_state(|s| s.sent_to(group).len()),
        1,
        "the claim itself is not answered"
    );

    // The same quotation given to the other essay's author.
    let (_, text) = cite_by_reply(
        &api,
        &bot,
        group,
        1203,
        &format!("Romberg said that {CLOSE}"),
    )
    .await;
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
    let (api, bot) = start(Settings::default()).await;
    // "As NAME put it:" before a quoted stretch.
    let framed = ask(
        &api,
        &bot,
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
    let wrong = ask(
        &api,
        &bot,
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
        &api,
        &bot,
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
        &api,
        &bot,
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
        &api,
        &bot,
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
    api: &FakeBotApi,
    bot: &BotProcess,
    user: i64,
    quote: &str,
    starts: &str,
    ends: &str,
    (said, original): (&str, &str),
) {
    let reply = ask(api, bot, user, &format!("/cite {quote}")).await;
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

// ----- reliability -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_send_is_waited_out() {
    let settings = Settings {
        throttle: true,
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    api.inject("sendmessage", Fault::TooManyRequests { retry_after: 1 });
    let answer = ask(&api, &bot, 1301, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    let calls = api.calls_to("sendmessage");
    assert_eq!(calls[0].status, 429);
    assert!(calls[1].ok);
    assert!(
        calls[1].at - calls[0].at >= Duration::from_millis(950),
        "waited retry_after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_send_gets_an_apology_and_the_bot_goes_on() {
    let (api, bot) = start(Settings::default()).await;
    api.inject(
        "sendmessage",
        Fault::Api {
            status: 400,
            description: "Bad Request: something unexpected".into(),
        },
    );
    let apology = ask(&api, &bot, 1351, QUESTION).await;
    assert!(valid(&apology).contains("Sorry, something went wrong"));
    assert!(bot.log().contains("handler failed"));
    let answer = ask(&api, &bot, 1352, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_get_updates_answers_do_not_stop_the_bot() {
    let (api, bot) = start(Settings::default()).await;
    api.inject("getupdates", Fault::Garbage);
    api.inject("getupdates", Fault::ServerError(502));
    let answer = ask(&api, &bot, 1401, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    let faults: Vec<_> = api
        .calls_to("getupdates")
        .into_iter()
        .filter_map(|c| c.fault)
        .collect();
    assert_eq!(faults, [Fault::Garbage, Fault::ServerError(502)]);
    let log = bot.log();
    assert!(log.contains("getUpdates failed"), "{log}");
    assert!(
        !log.contains("AAFakeToken"),
        "the token never appears in logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_telegram_keeps_the_token_out_of_logs() {
    let api = FakeBotApi::start().await;
    let port = free_port();
    let settings = Settings {
        env: vec![(
            "TELOXIDE_API_URL".into(),
            format!("http://127.0.0.1:{port}/"),
        )],
        ..Settings::default()
    };
    let mut bot = BotProcess::start(&api, settings);
    let deadline = Instant::now() + WAIT;
    while !bot.log().contains("retrying") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bot.signal("INT");
    let status = bot.wait_exit(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "{}", bot.tail());
    let log = bot.log();
    assert!(log.contains("getMe") && log.contains("retrying"), "{log}");
    assert!(!log.contains("AAFakeToken"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_from_200_chats_at_telegrams_pace() {
    let settings = Settings {
        throttle: true,
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let users: Vec<i64> = (2000..2200).collect();
    for &user in &users {
        api.push_private_text(user, QUESTION);
    }
    let ok = api
        .wait_for(
            |s| users.iter().all(|&u| !s.sent_to(u).is_empty()),
            Duration::from_secs(60),
        )
        .await;
    assert!(ok, "not all answered:\n{}", bot.tail());
    all_confirmed(&api, &bot).await;
    let counts = answers_per_chat(&api);
    assert!(users.iter().all(|u| counts[u] == 1), "each answered once");
    let mut sends: Vec<Instant> = api
        .successful_calls_to("sendmessage")
        .iter()
        .map(|c| c.at)
        .collect();
    sends.sort();
    // The bot grants at most 30 sends in any rolling second. What reaches the
    // server can bunch: on a loaded 2-core machine a send may reach the
    // server late, together with later ones. Allowing each up to 2 s from
    // the pacer to the server, a second at the server sees at most three
    // seconds' grants (90); an unpaced bot sends all 200 within a second.
    let busiest = sends
        .iter()
        .enumerate()
        .map(|(i, &t)| sends[i..].partition_point(|&u| u < t + Duration::from_secs(1)))
        .max()
        .unwrap();
    assert!(busiest <= 90, "{busiest} messages in one second");
    // A count, not a speed: at 30 a second, the last of 200 sends is granted
    // at least 6 s after the first (load only makes it later). Allowing the
    // first 1.5 s to reach the server, the server sees at least 4.5 s.
    let took = *sends.last().unwrap() - sends[0];
    assert!(
        took >= Duration::from_millis(4500),
        "200 messages in {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_user_is_limited_without_delaying_others() {
    let settings = Settings {
        throttle: true,
        rate_limit: 3,
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let flooder = 3001;
    for i in 0..50 {
        api.push_private_text(flooder, &format!("{QUESTION} ({i})"));
    }
    let others: Vec<(i64, i64)> = (3002..3007)
        .map(|u| (u, api.push_private_text(u, QUESTION)))
        .collect();
    for &(user, update) in &others {
        reply_to(&api, &bot, user, update).await;
    }
    let notice = |s: &ApiState| {
        s.sent_to(flooder)
            .iter()
            .any(|m| m.text.contains("faster than I can answer"))
    };
    assert!(api.wait_for(notice, WAIT).await, "{}", bot.tail());
    all_confirmed(&api, &bot).await;
    let sent = api.with_state(|s| s.sent_to(flooder).into_iter().cloned().collect::<Vec<_>>());
    assert_eq!(sent.len(), 4, "3 answers and one notice");
    assert_eq!(
        sent.iter()
            .filter(|m| m.text.contains("faster than"))
            .count(),
        1
    );
    // Order, not speed: the flooder's chat is paced at one message a second,
    // so its third answer goes out at least 2 s after its first; the other
    // chats, asked after all 50 of the flooder's messages, wait for nothing
    // and are all answered before it.
    let order = |chat: i64| {
        api.successful_calls_to("sendmessage")
            .iter()
            .filter(|c| c.params["chat_id"].to_string().trim_matches('"') == chat.to_string())
            .map(|c| c.seq)
            .collect::<Vec<_>>()
    };
    let flooders_third = order(flooder)[2];
    for &(user, _) in &others {
        assert!(
            order(user)[0] < flooders_third,
            "chat {user} waited behind the flooder's backlog"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_finishes_and_confirms() {
    let settings = Settings {
        throttle: true,
        ..Settings::default()
    };
    let (api, mut bot) = start(settings).await;
    let users: Vec<i64> = (4000..4150).collect();
    for &user in &users {
        api.push_private_text(user, QUESTION);
    }
    let started = |s: &ApiState| s.successful_calls_to("sendmessage").len() >= 10;
    assert!(api.wait_for(started, WAIT).await, "{}", bot.tail());
    bot.signal("TERM");
    let stopped = Instant::now();
    let status = bot.wait_exit(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit 0 within 10 s:\n{}",
        bot.tail()
    );
    assert!(stopped.elapsed() < Duration::from_secs(10));

    // Update ids are 1, 2, … in push order: user 4000 + id - 1 asked update id.
    let (answered, offset) = api.with_state(|s| {
        let answered: Vec<i64> = (1..=users.len() as i64)
            .filter(|&id| !s.sent_to(4000 + id - 1).is_empty())
            .collect();
        (answered, s.confirmed_offset())
    });
    assert!(
        answered.len() > 10 && answered.len() < users.len(),
        "stopped mid-burst"
    );
    let expected: Vec<i64> = (1..offset).collect();
    assert_eq!(answered, expected, "answered exactly the updates confirmed");

    bot.restart();
    let ok = api
        .wait_for(
            |s| users.iter().all(|&u| !s.sent_to(u).is_empty()),
            Duration::from_secs(30),
        )
        .await;
    assert!(ok, "the rest answered after restart:\n{}", bot.tail());
    all_confirmed(&api, &bot).await;
    let counts = answers_per_chat(&api);
    assert!(
        users.iter().all(|u| counts[u] == 1),
        "none answered twice: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_loses_nothing() {
    let settings = Settings {
        throttle: true,
        ..Settings::default()
    };
    let (api, mut bot) = start(settings).await;
    let users: Vec<i64> = (5000..5100).collect();
    for &user in &users {
        api.push_private_text(user, QUESTION);
    }
    let started = |s: &ApiState| s.successful_calls_to("sendmessage").len() >= 5;
    assert!(api.wait_for(started, WAIT).await, "{}", bot.tail());
    // Slow confirmations down, so many answered updates are unconfirmed at the kill.
    api.inject_for("getupdates", Fault::Delay(Duration::from_secs(3)), WAIT);
    let more = |s: &ApiState| s.successful_calls_to("sendmessage").len() >= 50;
    assert!(api.wait_for(more, WAIT).await, "{}", bot.tail());
    bot.signal("KILL");
    assert!(bot.wait_exit(Duration::from_secs(5)).await.is_some());
    let answered_before: Vec<i64> = {
        let counts = answers_per_chat(&api);
        users
            .iter()
            .copied()
            .filter(|u| counts.contains_key(u))
            .collect()
    };
    assert!(answered_before.len() < users.len(), "killed mid-burst");
    // What the killed bot had journalled: the chats whose answers it recorded.
    let journalled: Vec<i64> = journalled_updates(&bot)
        .into_iter()
        .map(|id| {
            api.update(id).unwrap()["message"]["chat"]["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(
        journalled.len() > 10,
        "many answers journalled but unconfirmed at the kill: {journalled:?}"
    );

    api.clear_faults();
    bot.restart();
    let ok = api
        .wait_for(
            |s| users.iter().all(|&u| !s.sent_to(u).is_empty()),
            Duration::from_secs(30),
        )
        .await;
    assert!(ok, "nothing lost:\n{}", bot.tail());
    all_confirmed(&api, &bot).await;
    let counts = answers_per_chat(&api);
    // Counts, not timing: an answer goes out again only if the kill came
    // between Telegram accepting it and the journal recording it. How many
    // that is depends on where the kill falls (up to a second's allowance of
    // 30 sends go out together), so the check is on which, not how many.
    for user in &users {
        let expected = if journalled.contains(user) || !answered_before.contains(user) {
            1
        } else {
            counts[user].min(2)
        };
        assert_eq!(counts[user], expected, "answers to chat {user}");
    }
    assert!(bot.log().contains("already answered before a restart"));
}

/// The update ids a (killed) bot's journal records as answered: whole
/// `a <id> <time>` lines of the default journal.
fn journalled_updates(bot: &BotProcess) -> Vec<i64> {
    let journals = bot.journals();
    assert_eq!(journals.len(), 1, "one journal: {journals:?}");
    let text = &journals[0].1;
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["a", id, _] => id.parse().ok(),
                _ => None,
            }
        })
        .collect()
}

// ----- webhook ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_answers_before_its_200() {
    let api = FakeBotApi::start().await;
    let port = free_port();
    let settings = Settings {
        args: vec![
            "--webhook".into(),
            "https://bot.example.org/tg/hook".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ],
        env: vec![("TELEGRAM_WEBHOOK_SECRET".into(), "s3cret-token".into())],
        ..Settings::default()
    };
    let bot = BotProcess::start(&api, settings);
    let set = api
        .wait_for(|s| !s.successful_calls_to("setwebhook").is_empty(), WAIT)
        .await;
    assert!(set, "{}", bot.tail());
    let call = api.successful_calls_to("setwebhook").pop().unwrap();
    assert_eq!(call.params["secret_token"], "s3cret-token");
    assert_eq!(call.params["url"], "https://bot.example.org/tg/hook");

    let user = 6001;
    let id = api.push_private_text(user, QUESTION);
    let update = api.update(id).unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/tg/hook");
    let client = teloxide::net::default_reqwest_settings().build().unwrap();
    let post = |secret: Option<&str>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(update.clone());
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    // The listener may need a moment after setWebhook.
    let deadline = Instant::now() + WAIT;
    let status = loop {
        match post(Some("wrong")).await {
            Ok(response) => break response.status().as_u16(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}\n{}", bot.tail()),
        }
    };
    assert_eq!(status, 401);
    assert!(api.sent_messages().is_empty());

    let response = post(Some("s3cret-token")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let sent = api.sent_messages();
    assert_eq!(sent.len(), 1, "answered before the 200");
    assert!(sent[0].raw_text.contains("<blockquote>"));

    let again = post(Some("s3cret-token")).await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(
        api.sent_messages().len(),
        1,
        "a redelivery is not answered twice"
    );
}

/// The renderer's output is valid for the strict model of Telegram's parser.
#[test]
fn rendered_messages_pass_telegrams_parser() {
    use proptest::prelude::*;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    runner
        .run(&(".{0,300}", "\\PC{1,5000}"), |(title, text)| {
            let sources = [citebot_core::Source {
                id: "e".into(),
                title: title.clone(),
                author: Some(text.clone()),
                publication: Some("<b>&".into()),
                date: None,
                url: Some(format!("https://e.org/{title}")),
                paragraphs: 1,
            }];
            let html = citebot_core::render::html::sources(&sources);
            prop_assert!(format_message_text(&html, Some("HTML")).is_ok(), "{}", html);
            let mut doc = citebot_core::render::html::Html::new(MAX_MESSAGE_LEN);
            doc.tagged(citebot_core::render::html::Tag::Quote, &text)
                .tagged(citebot_core::render::html::Tag::Bold, &title);
            let html = doc.finish();
            let parsed = format_message_text(&html, Some("HTML"));
            prop_assert!(
                parsed.is_ok() || text.trim().is_empty() && title.trim().is_empty(),
                "{}",
                html
            );
            Ok(())
        })
        .unwrap();
}

/// With the model, `serve` answers from the start (lexically while the
/// vectors are computed), embeds in the background, and switches to hybrid
/// retrieval without a restart: `/healthz` and `/metrics` say which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_embeds_in_the_background_then_answers_hybrid() {
    let port = free_port();
    let model = crate::support::paths::model();
    let settings = Settings {
        args: vec!["--metrics".into(), format!("127.0.0.1:{port}")],
        env: vec![("CITEBOT_MODEL".into(), model.display().to_string())],
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let answer = ask(&api, &bot, 901, QUESTION).await;
    assert!(answer.raw_text.contains("<blockquote>"), "{}", bot.tail());
    let deadline = Instant::now() + Duration::from_secs(120);
    let health = loop {
        let health = http_get(&format!("http://127.0.0.1:{port}/healthz")).await;
        if health.contains("retrieval: hybrid") || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        health.contains("retrieval: hybrid"),
        "{health}\n{}",
        bot.tail()
    );
    assert!(health.contains("all-MiniLM-L6-v2"), "{health}");
    let metrics = http_get(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(
        metrics.contains("citebot_retrieval_hybrid 1\n"),
        "{metrics}"
    );
    let log = wait_log(&bot, "retrieval ready").await;
    assert!(log.contains("hybrid retrieval"), "{log}");
    let answer = ask(
        &api,
        &bot,
        901,
        "Which of Xi's policies have harmed China's interests?",
    )
    .await;
    assert!(
        answer.raw_text.contains("Susan Shirk"),
        "{}",
        answer.raw_text
    );
}
