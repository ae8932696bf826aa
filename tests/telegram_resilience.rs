//! The bot under restarts, floods and self-hosted servers (issue 10): the
//! real `citebot serve` against the strict fake Bot API server in
//! `tests/support/`, each test with its own temp folder (index, journal,
//! log), so no test can pass or fail because of another's leftovers.
//!
//! No assertion here is on speed: waits have generous ceilings
//! ([`WAIT`], or the 30 s for a restarted burst), and what is
//! checked is counts and order.

use std::time::Duration;

use crate::support::bot_process::*;
use crate::support::fake_bot_api::*;

/// Waits until every chat in `chats` has a message from the bot.
async fn all_answered(api: &FakeBotApi, bot: &BotProcess, chats: &[i64], within: Duration) {
    let ok = api
        .wait_for(|s| chats.iter().all(|&c| !s.sent_to(c).is_empty()), within)
        .await;
    let missing = api.with_state(|s| chats.iter().filter(|&&c| s.sent_to(c).is_empty()).count());
    assert!(ok, "{missing} chats unanswered:\n{}", bot.tail());
}

/// Asserts that every chat in `chats` got exactly one answer.
fn answered_once(api: &FakeBotApi, chats: &[i64]) {
    let counts = answers_per_chat(api);
    let wrong: Vec<(i64, usize)> = chats
        .iter()
        .map(|c| (*c, counts.get(c).copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(wrong.is_empty(), "not answered exactly once: {wrong:?}");
}

/// The journal's record lines (without the header), for one bot.
fn journal_lines(bot: &BotProcess, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(bot.dir().join(file)).unwrap();
    text.lines().skip(1).map(String::from).collect()
}

// ----- the journal --------------------------------------------------------------

/// A clean exit leaves no answered ids in the journal; then Telegram starts
/// its ids again below the confirmed offset (as after a week without
/// updates), once across a restart and once while the bot runs: every
/// question is answered, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_update_ids_after_a_restart_are_all_answered() {
    let (api, mut bot) = start(Settings::default()).await;
    let before: Vec<i64> = (7000..7050).collect();
    for &user in &before {
        api.push_private_text(user, QUESTION);
    }
    all_answered(&api, &bot, &before, WAIT).await;
    all_confirmed(&api, &bot).await;
    bot.stop("TERM").await;

    let journals = bot.journals();
    let file = format!("telegram-journal-{}", api.config().bot_id);
    assert_eq!(
        journals.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        [&file],
        "one journal, named after the bot's id"
    );
    let lines = journal_lines(&bot, &format!("index/{file}"));
    assert!(
        lines.contains(&"c 51".to_string()),
        "confirmed up to 51: {lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("a ")),
        "a clean exit leaves no answered ids: {lines:?}"
    );

    // Ids 1..=100 again: half of them were answered (and confirmed) before.
    api.restart_update_ids(1);
    bot.restart();
    polling(&api, &bot).await;
    let after: Vec<i64> = (7100..7200).collect();
    for &user in &after {
        api.push_private_text(user, QUESTION);
    }
    all_answered(&api, &bot, &after, WAIT).await;
    all_confirmed(&api, &bot).await;

    // And again while the bot runs (its offset is now 101).
    api.restart_update_ids(1);
    let running: Vec<i64> = (7200..7210).collect();
    for &user in &running {
        api.push_private_text(user, QUESTION);
    }
    all_answered(&api, &bot, &running, WAIT).await;
    all_confirmed(&api, &bot).await;

    let everyone: Vec<i64> = before
        .iter()
        .chain(&after)
        .chain(&running)
        .copied()
        .collect();
    answered_once(&api, &everyone);
    let log = bot.log();
    assert!(log.contains("a new sequence"), "{log}");
    assert!(!log.contains("already answered before a restart"), "{log}");
}

/// A second bot on the same data folder and journal file: the first one's
/// answered ids (left unconfirmed by a SIGKILL) are not the second one's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_bot_on_the_same_journal_starts_afresh() {
    let settings = Settings {
        telegram: "journal = \"journal\"".into(),
        ..Settings::default()
    };
    let (first, mut bot) = start(settings).await;
    // Confirmations stall, so the answered ids stay in the journal.
    first.inject_for("getupdates", Fault::Delay(Duration::from_secs(3)), WAIT);
    let users: Vec<i64> = (7300..7320).collect();
    first.push_together(|batch| {
        for &user in &users {
            batch.push_private_text(user, QUESTION);
        }
    });
    all_answered(&first, &bot, &users, WAIT).await;
    // Each answer is journalled just after Telegram accepts it.
    let answered = |bot: &BotProcess| {
        journal_lines(bot, "journal")
            .iter()
            .filter(|l| l.starts_with("a "))
            .count()
    };
    let deadline = std::time::Instant::now() + WAIT;
    while answered(&bot) < users.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bot.stop("KILL").await;
    let left = journal_lines(&bot, "journal");
    assert_eq!(
        answered(&bot),
        20,
        "the first bot's ids 1..=20 are journalled: {left:?}"
    );
    assert!(
        left.contains(&"c 0".to_string()),
        "and unconfirmed: {left:?}"
    );

    // Another bot (another token and id); its update ids are 1..=20 too.
    let second = FakeBotApi::start_with(FakeBotApiConfig {
        token: "7000000002:AAOtherFakeTokenForCitebotTests-01234".into(),
        bot_id: 7_000_000_002,
        username: "citebot_other_bot".into(),
        ..FakeBotApiConfig::default()
    })
    .await;
    bot.restart_with(&second);
    polling(&second, &bot).await;
    second.push_together(|batch| {
        for &user in &users {
            batch.push_private_text(user, QUESTION);
        }
    });
    all_answered(&second, &bot, &users, WAIT).await;
    all_confirmed(&second, &bot).await;
    answered_once(&second, &users);
    let text = std::fs::read_to_string(bot.dir().join("journal")).unwrap();
    assert!(
        text.starts_with("citebot-journal v2 bot 7000000002\n"),
        "{text}"
    );
    let log = bot.log();
    assert!(log.contains("another bot's"), "{log}");
    assert!(!log.contains("already answered before a restart"), "{log}");
}

// ----- fairness -----------------------------------------------------------------

/// SIGTERM during a burst of 100 chats while one user floods 50 messages,
/// then a restart: the flooder's rate-limit window survives it, so its
/// redelivered backlog is turned away on arrival, and all 100 chats are
/// answered exactly once within 30 s of the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_flood_then_a_restart_answers_every_chat_once() {
    const LIMIT: usize = 2;
    let settings = Settings {
        throttle: true,
        rate_limit: LIMIT as u32,
        ..Settings::default()
    };
    let (api, mut bot) = start(settings).await;
    let flooder = 7400;
    let chats: Vec<i64> = (7401..7501).collect();
    // Every third update is the flooder's, through the whole burst.
    let flood: Vec<i64> = api.push_together(|batch| {
        let mut flood = Vec::new();
        let mut others = chats.iter();
        for i in 0..150 {
            if i % 3 == 0 {
                flood.push(batch.push_private_text(flooder, &format!("{QUESTION} ({i})")));
            } else {
                batch.push_private_text(*others.next().unwrap(), QUESTION);
            }
        }
        flood
    });
    let started = |s: &ApiState| s.successful_calls_to("sendmessage").len() >= 10;
    assert!(api.wait_for(started, WAIT).await, "{}", bot.tail());
    bot.stop("TERM").await;

    let unanswered = api.with_state(|s| chats.iter().filter(|&&c| s.sent_to(c).is_empty()).count());
    let pending = api.pending_updates();
    let flood_left = flood.iter().filter(|id| pending.contains(id)).count();
    assert!(unanswered > 0, "stopped mid-burst");
    assert!(
        flood_left > 0,
        "some of the flood is redelivered after the restart"
    );

    bot.restart();
    all_answered(&api, &bot, &chats, Duration::from_secs(30)).await;
    all_confirmed(&api, &bot).await;
    answered_once(&api, &chats);
    let (answers, notices) = api.with_state(|s| {
        let sent = s.sent_to(flooder);
        let notices = sent
            .iter()
            .filter(|m| m.text.contains("faster than I can answer"))
            .count();
        (sent.len() - notices, notices)
    });
    assert_eq!(
        answers, LIMIT,
        "the flooder is answered the rate limit, across the restart"
    );
    assert_eq!(notices, 1, "and told to slow down once");
}

// ----- inline mode --------------------------------------------------------------

/// 40 inline queries from one user at once: the first 10 (the inline budget
/// here) are answered, the 11th gets the "too many" hint, the rest nothing;
/// another user's inline query and question, sent after the flood, are
/// answered in full and before the flooder's last answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_flood_from_one_user_is_limited() {
    const BUDGET: usize = 10;
    let settings = Settings {
        telegram: format!("inline_rate_limit_per_minute = {BUDGET}"),
        ..Settings::default()
    };
    let (api, bot) = start(settings).await;
    let (flooder, other) = (7600, 7601);
    let question = api.push_together(|batch| {
        for i in 0..40 {
            let query = IncomingInlineQuery::new(flooder, QUESTION).id(&format!("flood-{i}"));
            batch.push_inline_query(query);
        }
        batch.push_inline_query(IncomingInlineQuery::new(other, QUESTION).id("other"));
        batch.push_private_text(other, QUESTION)
    });
    let answer = reply_to(&api, &bot, other, question).await;
    assert!(answer.raw_text.contains("<blockquote>"));
    all_confirmed(&api, &bot).await;

    let calls = api.successful_calls_to("answerinlinequery");
    let of = |prefix: &str| -> Vec<&RecordedCall> {
        calls
            .iter()
            .filter(|c| {
                c.params["inline_query_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(prefix))
            })
            .collect()
    };
    let flood = of("flood-");
    let with_results = |c: &RecordedCall| !c.params["results"].as_array().unwrap().is_empty();
    let answered: Vec<_> = flood.iter().filter(|c| with_results(c)).collect();
    let hinted: Vec<_> = flood
        .iter()
        .filter(|c| c.params["button"]["text"] == "Too many queries: please wait a minute")
        .collect();
    assert_eq!(answered.len(), BUDGET, "the flood is cut off at the budget");
    assert_eq!(hinted.len(), 1, "one hint, then nothing");
    assert_eq!(flood.len(), BUDGET + 1, "the rest are not answered");

    let other_calls = of("other");
    assert_eq!(other_calls.len(), 1);
    assert!(
        with_results(other_calls[0]),
        "the other user has a budget of their own"
    );
    // Order, not speed: the flooder's queries run one after another in its
    // own lane, so the other user's query, handed over in the same batch,
    // does not wait for them.
    let flooders_last = flood.iter().map(|c| c.seq).max().unwrap();
    assert!(
        other_calls[0].seq < flooders_last,
        "the other user waited behind the flood"
    );
    assert!(bot.log().contains("inline: rate limited"));
}

// ----- webhooks -----------------------------------------------------------------

/// With a self-hosted Bot API server (`telegram-bot-api --local`), the
/// webhook may be plain `http://` on any port: the fake server, acting as
/// one, delivers each update with the secret token and gets its 200 once the
/// answer is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_over_http_on_a_local_bot_api_server() {
    let api = FakeBotApi::start_with(FakeBotApiConfig {
        local: true,
        deliver_webhooks: true,
        ..FakeBotApiConfig::default()
    })
    .await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/tg/hook");
    let settings = Settings {
        args: vec![
            "--webhook".into(),
            url.clone(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ],
        env: vec![("TELEGRAM_WEBHOOK_SECRET".into(), "local-s3cret".into())],
        ..Settings::default()
    };
    let mut bot = BotProcess::start(&api, settings);
    let set = api
        .wait_for(|s| !s.successful_calls_to("setwebhook").is_empty(), WAIT)
        .await;
    assert!(set, "{}", bot.tail());
    let call = api.successful_calls_to("setwebhook").pop().unwrap();
    assert_eq!(call.params["url"], url.as_str());
    assert_eq!(call.params["secret_token"], "local-s3cret");

    let users: Vec<i64> = (7700..7705).collect();
    let ids: Vec<i64> = users
        .iter()
        .map(|&u| api.push_private_text(u, QUESTION))
        .collect();
    all_answered(&api, &bot, &users, WAIT).await;
    all_confirmed(&api, &bot).await;
    answered_once(&api, &users);
    let deliveries = api.with_state(|s| s.webhook_deliveries().to_vec());
    let sends = api.successful_calls_to("sendmessage");
    for (user, id) in users.iter().zip(&ids) {
        let ok: Vec<_> = deliveries
            .iter()
            .filter(|d| d.update_id == *id && d.status == 200)
            .collect();
        assert_eq!(ok.len(), 1, "update {id} delivered once: {deliveries:?}");
        let send = sends
            .iter()
            .find(|c| c.params["chat_id"].to_string().trim_matches('"') == user.to_string())
            .unwrap();
        assert!(send.at <= ok[0].finished, "answered before its 200");
    }
    assert!(
        deliveries.iter().all(|d| d.status == 200),
        "the secret matched every time: {deliveries:?}"
    );
    bot.stop("TERM").await;
}

/// Against api.telegram.org, an `http://` webhook (or another port) is
/// refused before anything starts, with what Telegram accepts and what a
/// local server would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_url_telegram_would_refuse_is_a_clear_error() {
    let api = FakeBotApi::start().await;
    for (webhook, api_url) in [
        ("http://127.0.0.1:9/tg/hook", "https://api.telegram.org"),
        (
            "https://bot.example.org:9000/tg/hook",
            "https://api.telegram.org/",
        ),
    ] {
        let settings = Settings {
            args: vec!["--webhook".into(), webhook.into()],
            env: vec![("TELOXIDE_API_URL".into(), api_url.into())],
            ..Settings::default()
        };
        let mut bot = BotProcess::start(&api, settings);
        let status = bot.wait_exit(WAIT).await.expect("exits at once");
        assert!(!status.success());
        let log = bot.log();
        assert!(
            log.contains("api.telegram.org only calls https:// URLs on port 443, 80, 88 or 8443"),
            "{log}"
        );
        assert!(log.contains("telegram-bot-api --local"), "{log}");
        assert!(!log.contains("AAFakeToken"), "{log}");
    }
    assert!(api.calls().is_empty(), "nothing was sent to any server");
}

// ----- supergroup migration -----------------------------------------------------

/// An allowed group becomes a supergroup: the answer in hand goes to the new
/// chat id, the supergroup stays allowed (also after a restart), and other
/// groups are still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_group_is_answered_in_the_supergroup_and_stays_allowed() {
    let (old, new) = (-5, -1_000_000_000_005);
    let settings = Settings {
        allowed_chats: vec![old],
        ..Settings::default()
    };
    let (api, mut bot) = start(settings).await;
    let ask = format!("/ask@{BOT} {QUESTION}");
    let in_group = |chat: i64, user: i64| IncomingMessage::group(chat, user, &ask);

    let first = api.push_message(in_group(old, 7801).basic_group());
    let answer = reply_to(&api, &bot, old, first).await;
    assert!(answer.raw_text.contains("<blockquote>"));

    // A question, then the upgrade before the bot answers it.
    api.push_together(|batch| {
        batch.push_message(in_group(old, 7801).basic_group());
        batch.migrate_group(old, new, 7801);
    });
    let moved = |s: &ApiState| {
        s.sent_to(new)
            .iter()
            .any(|m| m.raw_text.contains("<blockquote>"))
    };
    assert!(api.wait_for(moved, WAIT).await, "{}", bot.tail());
    let refused_in_old = api
        .rejected_calls_to("sendmessage")
        .iter()
        .filter(|c| c.params["chat_id"].to_string().trim_matches('"') == old.to_string())
        .count();
    assert_eq!(
        refused_in_old, 1,
        "one send to the old id, then the new one"
    );

    let question = api.push_message(in_group(new, 7802));
    let answer = reply_to(&api, &bot, new, question).await;
    assert!(answer.raw_text.contains("<blockquote>"), "still allowed");
    let stranger = -1_000_000_000_006;
    let question = api.push_message(in_group(stranger, 7803));
    let refusal = reply_to(&api, &bot, stranger, question).await;
    assert!(
        refusal
            .text
            .contains("only answers in the chats it was set up for")
    );

    all_confirmed(&api, &bot).await;
    bot.stop("TERM").await;
    bot.restart();
    polling(&api, &bot).await;
    let question = api.push_message(in_group(new, 7804));
    let answer = reply_to(&api, &bot, new, question).await;
    assert!(
        answer.raw_text.contains("<blockquote>"),
        "allowed after a restart"
    );
    assert!(bot.log().contains("an allowed group became a supergroup"));
}
