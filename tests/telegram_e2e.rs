//! End-to-end tests of `citebot serve`: the real binary against the fake Bot
//! API server (`tests/support/fake_bot_api.rs`), asserting on what reached
//! Telegram, on the log and on `/metrics`: what needs the process (polling,
//! signals, the webhook, pacing and floods, `/add`'s download, the model in
//! the background). What handlers do is tested in process, in `bot`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::bot_process::*;
use crate::support::fake_bot_api::*;

// ----- questions -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_question_is_answered_logged_and_counted() {
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

    // What the answer says is checked in process (`bot`); here, that the
    // process answers, logs and counts it.
    let answer = ask(&api, &bot, 101, QUESTION).await;
    assert!(valid(&answer).contains("¶"), "{}", answer.raw_text);
    assert_eq!(answer.raw_text.matches("<blockquote>").count(), 3);

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

// ----- /add ------------------------------------------------------------------------

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

// ----- reliability -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_get_updates_answers_do_not_stop_the_bot() {
    let (api, bot) = start(Settings::default()).await;
    api.inject("getupdates", Fault::Garbage);
    api.inject("getupdates", Fault::ServerError(502));
    // Both bad answers are served, on whichever polls they fall (a long
    // poll already waiting when they were injected is not one of them)…
    let served = |s: &ApiState| {
        s.calls_to("getupdates")
            .iter()
            .filter(|c| c.fault.is_some())
            .count()
            >= 2
    };
    assert!(api.wait_for(served, WAIT).await, "{}", bot.tail());
    // …and the bot still answers after them.
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
