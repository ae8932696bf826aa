//! Soak: `citebot serve` under a steady stream of questions, killed with
//! SIGKILL and restarted every two minutes, against the fake Bot API.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example soak_bot -- [--minutes 10] [--rate 30] [--chats 1000]
//!     [--kill-every 120] [--throttle] [--bin PATH]
//! ```
//!
//! One fake Bot API server (`tests/support`, in this process) and one data
//! folder (index and journal) for the whole run; the bot is the release
//! binary beside this example (or `--bin`), on the seed corpus, with the
//! shipped config but `log = "warn"` and, unless `--throttle`, its sends not
//! paced (30 questions a second is exactly Telegram's overall limit of 30
//! messages a second, so with pacing on the send queue has no headroom and
//! the backlog of each restart never drains: that measures the limit, not the
//! bot).
//!
//! For `--minutes`, questions are pushed at `--rate` a second, round-robin
//! over `--chats` private chats (each chat asks about every 33 s, within the
//! rate limit); every `--kill-every` seconds the bot gets a SIGKILL and is
//! started again at once, while the questions keep coming. Then the pushing
//! stops, the bot is given up to two minutes to answer what is left, and the
//! soak reports:
//!
//! - **lost**: questions with no answer at the end (must be 0);
//! - **answered twice**: questions with more than one answer (≤ 0.1 %);
//! - **latency**: from the push to the fake server accepting the answer (the
//!   first one), p50, p99 and max, over every question (those asked while
//!   the bot was down included);
//! - **RSS**: `VmRSS` of the first process 10 s into the load, and of the
//!   last one at the end of the load; and of each process, 10 s after its
//!   start and just before its kill;
//! - **journal**: its size at the end of the load, after the drain, and after
//!   a clean SIGTERM exit.

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

use anyhow::{Context, Result, bail, ensure};
use bot::Bot;
use serde_json::Value;
use support::fake_bot_api::{ApiState, FakeBotApi};

/// Questions about the seed corpus, in turn.
const QUESTIONS: [&str; 8] = [
    "Why does China matter to so many countries?",
    "How should the U.S. deal with Xi Jinping?",
    "What do Obama and Xi need to understand about each other?",
    "What does Xi want for China's place in the world?",
    "What threatens nuclear stability between the United States and China?",
    "How does Xi treat private companies?",
    "Why do Chinese people feel their time has come?",
    "How should carrots and sticks be used with China?",
];
/// The first chat (and user) id.
const FIRST_CHAT: i64 = 5_000_000;
/// How long start-up may take.
const WAIT: Duration = Duration::from_secs(60);
/// How long the bot has to answer what is left once the pushing stops.
const DRAIN: Duration = Duration::from_secs(120);
/// How often RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// When a process's first RSS figure is taken, after its start.
const SETTLED: Duration = Duration::from_secs(10);

struct Options {
    bin: PathBuf,
    minutes: f64,
    rate: f64,
    chats: i64,
    kill_every: Duration,
    throttle: bool,
}

/// One bot process's life.
#[derive(Debug, Default)]
struct Life {
    started: Option<Instant>,
    /// `VmRSS` (MiB) once settled, and the last sample.
    rss_settled: Option<f64>,
    rss_last: Option<f64>,
}

fn main() -> Result<()> {
    let options = parse_args()?;
    bot::preflight("soak_bot", &options.bin)?;
    let config = format!(
        "log = \"warn\"\n[telegram]\nthrottle = {}\n",
        options.throttle
    );
    println!(
        "{}: {} min at {}/s over {} chats, SIGKILL every {} s, sends {}",
        options.bin.display(),
        options.minutes,
        options.rate,
        options.chats,
        options.kill_every.as_secs(),
        if options.throttle {
            "paced"
        } else {
            "not paced"
        }
    );

    let api = FakeBotApi::start_blocking();
    let mut bot = Bot::start(&options.bin, &api, &config)?;
    bot.expect(
        api.wait_for_blocking(|s| !s.successful_calls_to("deletewebhook").is_empty(), WAIT),
        "start polling",
    )?;

    let load = Duration::from_secs_f64(options.minutes * 60.0);
    let gap = Duration::from_secs_f64(1.0 / options.rate);
    let started = Instant::now();
    let mut pushed: Vec<(i64, i64, Instant)> = Vec::new();
    let mut lives = vec![Life {
        started: Some(started),
        ..Life::default()
    }];
    let mut next_kill = started + options.kill_every;
    let mut next_sample = started;
    let mut restarts = Vec::new();
    while started.elapsed() < load {
        let now = Instant::now();
        if now >= next_kill && started + load - now > Duration::from_secs(5) {
            bot.stop("KILL")?;
            let restarted = Instant::now();
            bot.restart()?;
            restarts.push((restarted, api.with_state(|s| s.calls().len())));
            lives.push(Life {
                started: Some(restarted),
                ..Life::default()
            });
            next_kill += options.kill_every;
        }
        if now >= next_sample {
            sample(&bot, lives.last_mut().expect("a life"));
            next_sample += SAMPLE_EVERY;
        }
        let k = pushed.len();
        let due = started + gap.mul_f64(k as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait.min(SAMPLE_EVERY));
            continue;
        }
        let chat = FIRST_CHAT + (k as i64 % options.chats);
        let at = Instant::now();
        let update = api.push_private_text(chat, QUESTIONS[k % QUESTIONS.len()]);
        pushed.push((chat, update, at));
    }
    let journal_at_end = journal_bytes(&bot)?;
    let rss_end = bot.status_mib("VmRSS:").ok();

    let messages: Vec<(i64, i64)> = pushed
        .iter()
        .map(|(chat, update, _)| {
            let message = api
                .update(*update)
                .and_then(|u| u["message"]["message_id"].as_i64())
                .context("a pushed message")?;
            Ok((*chat, message))
        })
        .collect::<Result<_>>()?;
    // Polled, not waited on: scanning every call at each change of the
    // server's state would slow the server down.
    let drain_started = Instant::now();
    let drained = loop {
        let all = api.with_state(|s| {
            let replies = replies(s);
            messages.iter().all(|key| replies.contains_key(key))
        });
        if all || drain_started.elapsed() > DRAIN {
            break all;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let drained_after = drain_started.elapsed();
    let journal_drained = journal_bytes(&bot)?;
    // Any late duplicate would be sent by now.
    std::thread::sleep(Duration::from_secs(2));
    bot.stop("TERM")?;
    let journal_clean = journal_bytes(&bot)?;

    let replies = api.with_state(replies);
    let mut lost = 0;
    let mut twice = 0;
    let mut latencies = Vec::new();
    for ((chat, message), (_, _, at)) in messages.iter().zip(&pushed) {
        match replies.get(&(*chat, *message)) {
            None => lost += 1,
            Some(times) => {
                if times.len() > 1 {
                    twice += 1;
                }
                let first = times.iter().min().expect("one reply at least");
                latencies.push(first.saturating_duration_since(*at).as_secs_f64());
            }
        }
    }
    let startups: Vec<f64> = restarts
        .iter()
        .map(|(at, calls)| {
            api.with_state(|s| {
                s.calls()[*calls..]
                    .iter()
                    .find(|c| c.is("getupdates"))
                    .map(|c| c.at.saturating_duration_since(*at).as_secs_f64())
            })
            .unwrap_or(f64::NAN)
        })
        .collect();

    let total = pushed.len();
    let ms = |p: f64| measure::percentile(&latencies, p) * 1e3;
    println!();
    println!("| figure | value |");
    println!("|---|---:|");
    println!("| questions | {total} |");
    println!("| SIGKILLs and restarts | {} |", restarts.len());
    println!(
        "| first getUpdates after a restart | {} |",
        startups
            .iter()
            .map(|s| format!("{:.2} s", s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| lost | {lost} {} |",
        if drained {
            format!(
                "(all answered {:.1} s after the load)",
                drained_after.as_secs_f64()
            )
        } else {
            format!("(not drained within {} s)", DRAIN.as_secs())
        }
    );
    println!(
        "| answered twice | {twice} ({:.3} %) |",
        100.0 * twice as f64 / total as f64
    );
    if !latencies.is_empty() {
        println!("| latency p50 | {:.1} ms |", ms(50.0));
        println!("| latency p99 | {:.1} ms |", ms(99.0));
        println!("| latency max | {:.0} ms |", ms(100.0));
    }
    let mib = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1} MiB"));
    println!(
        "| RSS: first process settled, last at the end | {} → {} |",
        mib(lives[0].rss_settled),
        mib(rss_end)
    );
    println!(
        "| RSS per process (settled → last sample) | {} |",
        lives
            .iter()
            .map(|l| format!("{} → {}", mib(l.rss_settled), mib(l.rss_last)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "| journal: end of load, drained, after SIGTERM | {} B, {} B, {} B |",
        journal_at_end, journal_drained, journal_clean
    );
    Ok(())
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        bin: bot::default_bin()?,
        minutes: 10.0,
        rate: 30.0,
        chats: 1000,
        kill_every: Duration::from_secs(120),
        throttle: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => options.bin = PathBuf::from(value()?),
            "--minutes" => options.minutes = value()?.parse()?,
            "--rate" => options.rate = value()?.parse()?,
            "--chats" => options.chats = value()?.parse()?,
            "--kill-every" => options.kill_every = Duration::from_secs(value()?.parse()?),
            "--throttle" => options.throttle = true,
            _ => bail!(
                "usage: soak_bot [--minutes M] [--rate Q] [--chats N] [--kill-every SECONDS] [--throttle] [--bin PATH]"
            ),
        }
    }
    ensure!(
        options.rate > 0.0 && options.chats > 0,
        "--rate and --chats must be positive"
    );
    Ok(options)
}

/// Takes an RSS sample of the running process.
fn sample(bot: &Bot, life: &mut Life) {
    let Ok(rss) = bot.status_mib("VmRSS:") else {
        return;
    };
    life.rss_last = Some(rss);
    let settled = life.started.is_some_and(|s| s.elapsed() >= SETTLED);
    if settled && life.rss_settled.is_none() {
        life.rss_settled = Some(rss);
    }
}

/// The journal's size in bytes (all journal files in the index folder).
fn journal_bytes(bot: &Bot) -> Result<u64> {
    Ok(bot.journals()?.iter().map(|(_, size)| size).sum())
}

/// When the fake server accepted each reply, by (chat, message replied to).
fn replies(state: &ApiState) -> HashMap<(i64, i64), Vec<Instant>> {
    let mut replies: HashMap<(i64, i64), Vec<Instant>> = HashMap::new();
    for call in state.calls().iter().filter(|c| c.ok && c.is("sendmessage")) {
        let Some(chat) = call.param("chat_id").and_then(number) else {
            continue;
        };
        let to = match call.param("reply_parameters") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
            other => other.cloned(),
        };
        let Some(message) = to.as_ref().and_then(|t| number(&t["message_id"])) else {
            continue;
        };
        replies
            .entry((chat, message))
            .or_default()
            .push(call.at + call.duration);
    }
    replies
}

/// A number sent as JSON number or string.
fn number(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}
