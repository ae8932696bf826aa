//! Does one chat's backlog delay the others? `citebot serve` with its sends
//! paced to Telegram's limits, against the fake Bot API.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example bench_fairness -- [--bin PATH] [--scenarios none,chat,groups]
//!     [--others N] [--wait SECONDS]
//! ```
//!
//! Every scenario starts a fresh fake Bot API server (`tests/support`, in
//! this process) and a fresh `citebot serve` (`--bin`, by default the release
//! binary beside this example) with `throttle = true` and the per-user rate
//! limit out of the way (1,000 a minute), then:
//!
//! 1. pushes a backlog at once:
//!    - `none`: nothing (the baseline);
//!    - `chat`: 30 questions in one private chat;
//!    - `groups`: 25 `/ask@bot` questions in each of 40 supergroups (1,000
//!      updates, more than Telegram lets a bot answer in a group in a minute);
//! 2. one second later, `--others` (default 100) questions, each from a new
//!    private chat, at 20 a second;
//! 3. waits until every other chat is answered (at most `--wait` seconds,
//!    default 90) and reports the other chats' latency (push to the fake
//!    server accepting the answer): p50, p99, max, and how many got no answer
//!    in time; and for the backlog, the messages the bot sent to those chats.
//!
//! The same binary flag runs it on an older build, e.g. one with teloxide's
//! `Throttle`, for comparison (BENCHMARKS.md).

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../crates/core/examples/support/measure.rs"]
#[allow(dead_code)] // shared with benches/scale.rs, which uses all of it
mod measure;

#[path = "support/bot.rs"]
#[allow(dead_code)] // shared with the other bot benchmarks
mod bot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bot::Bot;
use support::fake_bot_api::{ApiState, FakeBotApi, IncomingMessage};

const QUESTION: &str = "Why does China matter to so many countries?";
/// Config keys every build understands: pacing on, the rate limit out of the way.
const CONFIG: &str = "log = \"warn\"\n[telegram]\nthrottle = true\nrate_limit_per_minute = 1000\n";
const WARM_UP_CHAT: i64 = 1_000_000;
const BUSY_CHAT: i64 = 2_000_000;
const OTHER_CHATS: i64 = 3_000_000;
const FIRST_GROUP: i64 = -1_001_000_000_000;
const GROUPS: i64 = 40;
const PER_GROUP: usize = 25;
const BUSY_CHAT_QUESTIONS: usize = 30;
/// The other chats' questions come this far apart (20 a second).
const OTHERS_GAP: Duration = Duration::from_millis(50);
const WAIT: Duration = Duration::from_secs(30);

struct Options {
    bin: PathBuf,
    scenarios: Vec<String>,
    others: i64,
    wait: Duration,
}

fn main() -> Result<()> {
    let options = parse_args()?;
    bot::preflight("bench_fairness", &options.bin)?;
    println!(
        "{}, throttle on; {} other chats at 20/s, 1 s after the backlog\n",
        options.bin.display(),
        options.others
    );
    println!(
        "| backlog | other chats answered | p50 | p99 | max | backlog chats: messages sent | backlog done after |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for scenario in &options.scenarios {
        run(&options, scenario).with_context(|| format!("scenario {scenario}"))?;
    }
    Ok(())
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        bin: bot::default_bin()?,
        scenarios: vec!["none".into(), "chat".into(), "groups".into()],
        others: 100,
        wait: Duration::from_secs(90),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => options.bin = PathBuf::from(value()?),
            "--scenarios" => options.scenarios = value()?.split(',').map(String::from).collect(),
            "--others" => options.others = value()?.parse()?,
            "--wait" => options.wait = Duration::from_secs(value()?.parse()?),
            _ => bail!(
                "usage: bench_fairness [--bin PATH] [--scenarios none,chat,groups] [--others N] [--wait SECONDS]"
            ),
        }
    }
    Ok(options)
}

/// One scenario on a fresh server and bot; prints its row.
fn run(options: &Options, scenario: &str) -> Result<()> {
    let api = FakeBotApi::start_blocking();
    let bot = Bot::start(&options.bin, &api, CONFIG)?;
    bot.expect(
        api.wait_for_blocking(|s| !s.successful_calls_to("deletewebhook").is_empty(), WAIT),
        "start polling",
    )?;
    api.push_private_text(WARM_UP_CHAT, QUESTION);
    bot.expect(
        api.wait_for_blocking(|s| !s.sent_to(WARM_UP_CHAT).is_empty(), WAIT),
        "answer the warm-up question",
    )?;

    let started = Instant::now();
    let backlog: Vec<i64> = match scenario {
        "none" => Vec::new(),
        "chat" => {
            for i in 0..BUSY_CHAT_QUESTIONS {
                api.push_private_text(BUSY_CHAT, &format!("{QUESTION} ({i})"));
            }
            vec![BUSY_CHAT]
        }
        "groups" => {
            let groups: Vec<i64> = (0..GROUPS).map(|g| FIRST_GROUP - g).collect();
            for i in 0..PER_GROUP {
                for &group in &groups {
                    let text = format!("/ask@{} {QUESTION}", api.config().username);
                    api.push_message(IncomingMessage::group(group, 10 + i as i64, &text));
                }
            }
            groups
        }
        other => bail!("unknown scenario {other:?}"),
    };
    std::thread::sleep(Duration::from_secs(1));
    let mut pushed = Vec::new();
    for i in 0..options.others {
        let chat = OTHER_CHATS + i;
        pushed.push((chat, Instant::now()));
        api.push_private_text(chat, QUESTION);
        std::thread::sleep(OTHERS_GAP);
    }
    let others: Vec<i64> = pushed.iter().map(|(chat, _)| *chat).collect();
    api.wait_for_blocking(
        |s| others.iter().all(|c| !s.sent_to(*c).is_empty()),
        options.wait,
    );
    // Let the backlog finish, or what is left of the wait.
    let deadline = started + options.wait;
    let pending = |s: &ApiState| s.pending_updates().is_empty();
    api.wait_for_blocking(pending, deadline.saturating_duration_since(Instant::now()));

    let (firsts, last_backlog, backlog_sent) = api.with_state(|s| {
        let mut firsts: HashMap<i64, Instant> = HashMap::new();
        let mut last_backlog = None;
        let mut backlog_sent = 0;
        for call in s.calls().iter().filter(|c| c.ok && c.is("sendmessage")) {
            let chat = call.params["chat_id"]
                .as_i64()
                .or_else(|| call.params["chat_id"].as_str()?.parse().ok());
            let Some(chat) = chat else { continue };
            let at = call.at + call.duration;
            firsts.entry(chat).or_insert(at);
            if backlog.contains(&chat) {
                backlog_sent += 1;
                last_backlog = Some(at);
            }
        }
        (firsts, last_backlog, backlog_sent)
    });
    let latencies: Vec<f64> = pushed
        .iter()
        .filter_map(|(chat, at)| Some(firsts.get(chat)?.duration_since(*at).as_secs_f64()))
        .collect();
    let ms = |p| {
        if latencies.is_empty() {
            "–".to_string()
        } else {
            format!("{:.0} ms", measure::percentile(&latencies, p) * 1e3)
        }
    };
    let done = match (backlog.is_empty(), last_backlog) {
        (true, _) => "–".to_string(),
        (false, Some(at)) if api.pending_updates().is_empty() => {
            format!("{:.1} s", at.duration_since(started).as_secs_f64())
        }
        (false, _) => format!("not within {} s", options.wait.as_secs()),
    };
    println!(
        "| {scenario} | {}/{} | {} | {} | {} | {} | {done} |",
        latencies.len(),
        options.others,
        ms(50.0),
        ms(99.0),
        ms(100.0),
        backlog_sent,
    );
    Ok(())
}
