//! Filters and follow-ups through `citebot serve`, against the fake Bot
//! API: operators in private, group and inline questions, the plain
//! message when a filter matches nothing, and a reply to an answer (or to
//! a quoted part of it) asked as a follow-up.

use crate::support::bot_process::*;
use crate::support::fake_bot_api::*;
use serde_json::json;

fn federalist() -> Settings {
    Settings {
        corpus: crate::support::paths::corpus("federalist"),
        ..Settings::default()
    }
}

/// The citation lines (“— Author, …”) of an answer's visible text.
fn citations(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("— ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_questions_ask_within_their_operators() {
    let (api, bot) = start(federalist()).await;
    let answer = ask(
        &api,
        &bot,
        101,
        "by:jay What dangers come from foreign nations?",
    )
    .await;
    let text = valid(&answer);
    let cited = citations(&text);
    assert_eq!(cited.len(), 3, "{text}");
    assert!(cited.iter().all(|c| c.contains("John Jay")), "{cited:?}");

    let miss = ask(&api, &bot, 101, "BY:Madisen what is a faction?").await;
    assert_eq!(
        valid(&miss),
        "No essay by 'Madisen'. Did you mean James Madison?"
    );
    let dates = ask(&api, &bot, 101, "factions before:1700").await;
    assert!(
        valid(&dates).starts_with("No essay dated before 1700. The essays are dated from"),
        "{}",
        dates.text
    );
    wait_log(&bot, "action=\"filter matched nothing\"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_questions_ask_within_their_operators() {
    let (api, bot) = start(federalist()).await;
    let group = -1002;
    let asked = api.push_group_text(group, 201, "/ask in:\"federalist 10\" what is a faction?");
    let answer = reply_to(&api, &bot, group, asked).await;
    let text = valid(&answer);
    assert!(text.contains("The Federalist No. 10"), "{text}");
    let asked = api.push_group_text(
        group,
        201,
        &format!("@{BOT} in:\"federalist 100\" what is a faction?"),
    );
    let miss = reply_to(&api, &bot, group, asked).await;
    assert!(
        valid(&miss).starts_with("No essay is 'federalist 100'. Did you mean"),
        "{}",
        miss.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_queries_ask_within_their_operators() {
    let (api, bot) = start(federalist()).await;
    let answered = |id: &str| {
        let id = id.to_string();
        move |s: &ApiState| s.inline_query_answered(&id)
    };
    api.push_inline_query(
        IncomingInlineQuery::new(601, "energy in the executive by:hamilton").id("iq-by"),
    );
    assert!(
        api.wait_for(answered("iq-by"), WAIT).await,
        "{}",
        bot.tail()
    );
    let call = api.successful_calls_to("answerinlinequery").pop().unwrap();
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
    api.push_inline_query(IncomingInlineQuery::new(601, "by:Madisen factions").id("iq-miss"));
    assert!(api.wait_for(answered("iq-miss"), WAIT).await);
    let call = api.successful_calls_to("answerinlinequery").pop().unwrap();
    assert_eq!(call.params["results"], json!([]));
    assert_eq!(
        call.params["button"]["text"],
        "No essay by 'Madisen'. Did you mean James Madison?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_answer_is_a_follow_up_in_private_and_in_groups() {
    let (api, bot) = start(federalist()).await;
    let first = ask(
        &api,
        &bot,
        301,
        "What does Hamilton say about energy in the executive?",
    )
    .await;
    assert!(valid(&first).contains("¶"));
    let reply = api.push_message(
        IncomingMessage::private(301, "Why one president rather than several?")
            .reply_to(first.message_id),
    );
    let answer = reply_to(&api, &bot, 301, reply).await;
    assert!(valid(&answer).contains("¶"), "{}", answer.text);
    let log = wait_log(&bot, "action=\"answered a follow-up\"").await;
    assert!(log.contains("action=\"answered a follow-up\""), "{log}");

    // In a group, a reply that quotes part of the answer: the quote is the context.
    let group = -1003;
    let asked = api.push_group_text(
        group,
        302,
        "/ask What does Hamilton say about energy in the executive?",
    );
    let first = reply_to(&api, &bot, group, asked).await;
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
    let answer = reply_to(&api, &bot, group, reply).await;
    assert!(valid(&answer).contains("¶"), "{}", answer.text);
    let log = wait_log(&bot, "update_id=4 ").await;
    assert_eq!(
        log.matches("action=\"answered a follow-up\"").count(),
        2,
        "{log}"
    );
    // A plain question is not one.
    ask(&api, &bot, 303, "What is a faction?").await;
    let log = wait_log(&bot, "update_id=5 ").await;
    assert!(
        log.contains("update_id=5 chat_type=\"private\" user_id=303 action=\"answered\""),
        "{log}"
    );
}
