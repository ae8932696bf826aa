//! End-to-end speed of `citebot serve` against the fake Bot API.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example bench_bot -- [--runs N] [--questions N]
//!     [--chats N] [--per-chat N] [--bin PATH]
//! ```
//!
//! Every run starts a fresh fake Bot API server (`tests/support`, in this
//! process) and a fresh `citebot serve` (the release binary beside this
//! example, or `--bin`) on the seed corpus (`corpus/`), with a new index, the
//! Throttle off and the rate limit out of the way, then measures:
//!
//! 1. **idle RSS**: `VmRSS` of the bot once it polls, after a second of idling;
//! 2. **latency**: `--questions` questions (default 300), one at a time, each
//!    from a new private chat and pushed only once the bot is long-polling
//!    again: the time from the push to the fake server accepting the bot's
//!    answer (`sendMessage`, from the server's own records);
//! 3. **throughput**: `--chats` × `--per-chat` questions (default 1,000 × 5)
//!    pushed at once, round-robin over the chats: answers per second from the
//!    first push to the last answer accepted, checking that every question got
//!    exactly one answer, in reply to it. Also reported: how many times
//!    `getUpdates` returned each of these updates (the poller confirms only
//!    finished ones, so updates in hand come back with every poll), and the
//!    CPU time the bot process and this process (the fake server, mostly)
//!    spent per answer, to tell which side a bottleneck is on.
//!
//! It prints one row per run and the medians over the runs.

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
use bot::{Bot, cpu_seconds};
use serde_json::Value;
use support::fake_bot_api::{ApiState, FakeBotApi};

/// Questions about the seed corpus; the last two have no answer in it (the
/// bot says so), as some real questions do not.
const QUESTIONS: [&str; 18] = [
    "Why does China matter to so many countries?",
    "How should the U.S. deal with Xi Jinping?",
    "What do Obama and Xi need to understand about each other?",
    "What does Xi want for China's place in the world?",
    "What problems did Xi's own policies create at home?",
    "What threatens nuclear stability between the United States and China?",
    "Is military deterrence enough to deal with China?",
    "How does Xi treat private companies?",
    "Why do Chinese people feel their time has come?",
    "How should disagreements over priorities be negotiated?",
    "Why are unscripted strategic dialogues valuable?",
    "Which past foreign actions on the Chinese mainland still shape Chinese views?",
    "Why do large dialogues between agencies often accomplish little?",
    "How should carrots and sticks be used with China?",
    "Why must the leaders grasp each other's motivations?",
    "What did China fail to do when a new American president took office?",
    "What is the best pizza topping?",
    "How tall is Mount Everest?",
];
/// First chat (and user) id of each phase, so that phases never share a chat.
const WARM_UP_CHATS: i64 = 1_000_000;
const LATENCY_CHATS: i64 = 2_000_000;
const THROUGHPUT_CHATS: i64 = 3_000_000;
/// How long the bot idles before its RSS is read.
const IDLE: Duration = Duration::from_secs(1);
/// How long one expectation (start-up, one answer) may take.
const WAIT: Duration = Duration::from_secs(30);
/// How long the throughput phase may take.
const THROUGHPUT_WAIT: Duration = Duration::from_secs(300);
/// The bot's config: the pacing and the rate limit out of the way.
const CONFIG: &str =
    "log = \"warn\"\n[telegram]\nthrottle = false\nrate_limit_per_minute = 1000000\n";

/// What to measure.
struct Options {
    bin: PathBuf,
    runs: usize,
    questions: usize,
    chats: i64,
    per_chat: usize,
}

/// The figures of one run.
struct Figures {
    idle_rss_mib: f64,
    /// Seconds from push to answer, one per latency question.
    latencies: Vec<f64>,
    answers_per_second: f64,
    throughput_seconds: f64,
    /// Times `getUpdates` returned a throughput update, on average.
    deliveries: f64,
    /// CPU microseconds per answer during the throughput phase.
    bot_cpu_us: f64,
    fake_cpu_us: f64,
    /// `VmHWM` of the bot at the end.
    peak_rss_mib: f64,
}

fn main() -> Result<()> {
    let options = parse_args()?;
    bot::preflight("bench_bot", &options.bin)?;
    println!(
        "citebot serve ({}), seed corpus, throttle off; {} sequential questions; \
         {} chats × {} questions at once\n",
        options.bin.display(),
        options.questions,
        options.chats,
        options.per_chat
    );
    println!(
        "| run | idle RSS | p50 | p90 | p99 | max | answers/s | deliveries/update \
         | bot CPU/answer | fake CPU/answer | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut all = Vec::new();
    for run in 1..=options.runs {
        let figures = run_once(&options).with_context(|| format!("run {run}"))?;
        print_row(&run.to_string(), &row(&figures));
        all.push(figures);
    }
    let rows: Vec<[f64; 10]> = all.iter().map(row).collect();
    let median: [f64; 10] = std::array::from_fn(|i| {
        let column: Vec<f64> = rows.iter().map(|r| r[i]).collect();
        measure::percentile(&column, 50.0)
    });
    print_row("median", &median);
    println!(
        "\ntargets: idle RSS ≤ 30 MiB, p50 ≤ 5 ms, p99 ≤ 20 ms, ≥ 1,000 answers/s \
         (throughput phase: {:.2} s median)",
        measure::percentile(
            &all.iter().map(|f| f.throughput_seconds).collect::<Vec<_>>(),
            50.0
        )
    );
    Ok(())
}

fn parse_args() -> Result<Options> {
    let mut options = Options {
        bin: bot::default_bin()?,
        runs: 5,
        questions: 300,
        chats: 1000,
        per_chat: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => options.bin = PathBuf::from(value()?),
            "--runs" => options.runs = value()?.parse()?,
            "--questions" => options.questions = value()?.parse()?,
            "--chats" => options.chats = value()?.parse()?,
            "--per-chat" => options.per_chat = value()?.parse()?,
            _ => bail!(
                "usage: bench_bot [--runs N] [--questions N] [--chats N] [--per-chat N] [--bin PATH]"
            ),
        }
    }
    ensure!(
        options.runs > 0 && options.questions > 0 && options.chats > 0 && options.per_chat > 0,
        "every count must be positive"
    );
    Ok(options)
}

/// The figures of a run as table columns: MiB, milliseconds, answers/s, µs.
fn row(f: &Figures) -> [f64; 10] {
    let ms = |p| measure::percentile(&f.latencies, p) * 1e3;
    [
        f.idle_rss_mib,
        ms(50.0),
        ms(90.0),
        ms(99.0),
        ms(100.0),
        f.answers_per_second,
        f.deliveries,
        f.bot_cpu_us,
        f.fake_cpu_us,
        f.peak_rss_mib,
    ]
}

fn print_row(name: &str, r: &[f64; 10]) {
    println!(
        "| {name} | {:.1} MiB | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} | {:.1} | {:.0} µs | {:.0} µs | {:.1} MiB |",
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]
    );
}

/// One fake server, one bot, all three measurements.
fn run_once(options: &Options) -> Result<Figures> {
    let api = FakeBotApi::start_blocking();
    let bot = Bot::start(&options.bin, &api, CONFIG)?;
    bot.expect(
        api.wait_for_blocking(|s| !s.successful_calls_to("deletewebhook").is_empty(), WAIT),
        "start polling",
    )?;
    std::thread::sleep(IDLE);
    let idle_rss_mib = bot.status_mib("VmRSS:")?;

    // Warm-up: every question once (connections, page cache, lazy statics).
    let mut asker = Asker::new(&api, &bot);
    for (i, question) in QUESTIONS.iter().enumerate() {
        asker.ask(WARM_UP_CHATS + i as i64, question)?;
    }

    let mut pushed = Vec::with_capacity(options.questions);
    for i in 0..options.questions {
        let chat = LATENCY_CHATS + i as i64;
        let at = asker.ask(chat, QUESTIONS[i % QUESTIONS.len()])?;
        pushed.push((chat, at));
    }
    let answered = api.with_state(answer_times);
    let latencies = pushed
        .iter()
        .map(|(chat, at)| {
            let answer = answered.get(chat).context("a latency answer")?;
            Ok(answer.duration_since(*at).as_secs_f64())
        })
        .collect::<Result<Vec<_>>>()?;

    let throughput = throughput(&api, &bot, options)?;
    Ok(Figures {
        idle_rss_mib,
        latencies,
        answers_per_second: throughput.answers as f64 / throughput.seconds,
        throughput_seconds: throughput.seconds,
        deliveries: throughput.deliveries as f64 / throughput.answers as f64,
        bot_cpu_us: throughput.bot_cpu / throughput.answers as f64 * 1e6,
        fake_cpu_us: throughput.fake_cpu / throughput.answers as f64 * 1e6,
        peak_rss_mib: bot.status_mib("VmHWM:")?,
    })
}

/// Asks questions one at a time, each once the bot is long-polling again.
struct Asker<'a> {
    api: &'a FakeBotApi,
    bot: &'a Bot,
    answers: usize,
    last_update: Option<i64>,
}

impl<'a> Asker<'a> {
    fn new(api: &'a FakeBotApi, bot: &'a Bot) -> Self {
        let answers = api.with_state(|s| s.sent_messages().len());
        Asker {
            api,
            bot,
            answers,
            last_update: None,
        }
    }

    /// Pushes `question` from private chat `chat` and waits for the answer;
    /// returns when it was pushed.
    fn ask(&mut self, chat: i64, question: &str) -> Result<Instant> {
        // The bot confirms an update with the getUpdates that then waits for
        // the next one: from then on, a push wakes that long poll.
        if let Some(last) = self.last_update {
            self.bot.expect(
                self.api
                    .wait_for_blocking(|s| s.confirmed_offset() > last, WAIT),
                "poll again",
            )?;
        }
        let at = Instant::now();
        self.last_update = Some(self.api.push_private_text(chat, question));
        self.answers += 1;
        let answers = self.answers;
        self.bot.expect(
            self.api
                .wait_for_blocking(|s| s.sent_messages().len() >= answers, WAIT),
            "answer",
        )?;
        Ok(at)
    }
}

/// When the fake server accepted the bot's (last) message to each chat.
fn answer_times(state: &ApiState) -> HashMap<i64, Instant> {
    state
        .calls()
        .iter()
        .filter(|c| c.ok && c.is("sendmessage"))
        .filter_map(|c| Some((chat_id(c.param("chat_id")?)?, c.at + c.duration)))
        .collect()
}

/// A `chat_id` parameter, sent as a JSON number or a string.
fn chat_id(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// What the throughput phase measured.
struct Throughput {
    answers: usize,
    seconds: f64,
    /// `getUpdates` deliveries of the pushed updates, in all.
    deliveries: usize,
    /// CPU seconds of the bot process and of this one.
    bot_cpu: f64,
    fake_cpu: f64,
}

/// Pushes every question at once and waits for all the answers.
fn throughput(api: &FakeBotApi, bot: &Bot, options: &Options) -> Result<Throughput> {
    let before = api.with_state(|s| s.sent_messages().len());
    let total = options.chats as usize * options.per_chat;
    let cpu = (
        cpu_seconds(bot.child.id())?,
        cpu_seconds(std::process::id())?,
    );
    let started = Instant::now();
    let mut updates = Vec::with_capacity(total);
    for round in 0..options.per_chat {
        for c in 0..options.chats {
            let question = QUESTIONS[(c as usize + round) % QUESTIONS.len()];
            let chat = THROUGHPUT_CHATS + c;
            updates.push((chat, api.push_private_text(chat, question)));
        }
    }
    let done = api.wait_for_blocking(
        |s| s.sent_messages().len() >= before + total,
        THROUGHPUT_WAIT,
    );
    let bot_cpu = cpu_seconds(bot.child.id())? - cpu.0;
    let fake_cpu = cpu_seconds(std::process::id())? - cpu.1;
    bot.expect(done, "answer every question")?;
    // Let any duplicate answer arrive before counting.
    std::thread::sleep(Duration::from_millis(200));

    let (sent, last, deliveries) = api.with_state(|s| {
        let sent: Vec<(i64, Option<i64>, bool)> = s.sent_messages()[before..]
            .iter()
            .map(|m| {
                let apology = m.text.starts_with("Sorry, something went wrong");
                (m.chat_id, m.reply_to_message_id, apology)
            })
            .collect();
        let last = answer_times(s)
            .into_iter()
            .filter(|(chat, _)| *chat >= THROUGHPUT_CHATS)
            .map(|(_, at)| at)
            .max();
        let deliveries = updates.iter().map(|(_, id)| s.delivery_count(*id)).sum();
        (sent, last, deliveries)
    });
    let mut replies: HashMap<(i64, i64), usize> = HashMap::new();
    for (chat, reply_to, apology) in &sent {
        ensure!(!apology, "chat {chat} got an apology");
        let reply_to =
            reply_to.with_context(|| format!("an answer in chat {chat} replies to nothing"))?;
        *replies.entry((*chat, reply_to)).or_default() += 1;
    }
    for (chat, update) in &updates {
        let message = api
            .update(*update)
            .and_then(|u| u["message"]["message_id"].as_i64())
            .context("a pushed message")?;
        let n = replies.get(&(*chat, message)).copied().unwrap_or(0);
        ensure!(n == 1, "message {message} of chat {chat} got {n} answers");
    }
    ensure!(
        sent.len() == total,
        "{} answers to {total} questions",
        sent.len()
    );
    let seconds = last
        .context("no answer")?
        .duration_since(started)
        .as_secs_f64();
    Ok(Throughput {
        answers: total,
        seconds,
        deliveries,
        bot_cpu,
        fake_cpu,
    })
}
