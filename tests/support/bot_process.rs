//! The real `citebot serve` under test: started in its own temporary folder
//! (config, index, journal, log) against a [`FakeBotApi`], signalled,
//! restarted; and the helpers the end-to-end tests share.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake_bot_api::*;

/// How long any single expectation may take.
pub const WAIT: Duration = Duration::from_secs(20);
/// The bot's username on the fake server.
pub const BOT: &str = "citebot_test_bot";
/// A question the seed corpus answers.
pub const QUESTION: &str = "Why does China matter to so many countries?";

// ----- the bot process ---------------------------------------------------------

/// Settings written to the bot's config file (and its command line).
#[derive(Clone)]
pub struct Settings {
    /// `[telegram] throttle`: pace sends.
    pub throttle: bool,
    /// `[telegram] rate_limit_per_minute`.
    pub rate_limit: u32,
    /// `[telegram] admins`.
    pub admins: Vec<u64>,
    /// `[telegram] allowed_users`.
    pub allowed_users: Vec<u64>,
    /// `[telegram] allowed_chats`.
    pub allowed_chats: Vec<i64>,
    /// More `[telegram]` lines, as TOML.
    pub telegram: String,
    /// `--corpus`.
    pub corpus: PathBuf,
    /// More arguments after `serve`.
    pub args: Vec<String>,
    /// More environment variables (they win over the fake server's).
    pub env: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            throttle: false,
            rate_limit: 1000,
            admins: Vec::new(),
            allowed_users: Vec::new(),
            allowed_chats: Vec::new(),
            telegram: String::new(),
            corpus: super::paths::shipped_corpus(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// A running `citebot serve`, killed on drop. Its temp dir (index, journal,
/// log) survives restarts.
pub struct BotProcess {
    child: Child,
    dir: tempfile::TempDir,
    settings: Settings,
    env: [(&'static str, String); 2],
}

impl BotProcess {
    /// Starts the bot against `api` in a new temp dir.
    pub fn start(api: &FakeBotApi, settings: Settings) -> BotProcess {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "log = \"info\"\n[telegram]\nthrottle = {}\nrate_limit_per_minute = {}\n\
             admins = {:?}\nallowed_users = {:?}\nallowed_chats = {:?}\n{}\n",
            settings.throttle,
            settings.rate_limit,
            settings.admins,
            settings.allowed_users,
            settings.allowed_chats,
            settings.telegram
        );
        std::fs::write(dir.path().join("citebot.toml"), config).unwrap();
        let child = spawn(dir.path(), &settings, &api.env());
        BotProcess {
            child,
            dir,
            settings,
            env: api.env(),
        }
    }

    /// Starts the bot again with the same directory (index and journal).
    pub fn restart(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_some(),
            "restart needs a stopped bot"
        );
        self.child = spawn(self.dir.path(), &self.settings, &self.env);
    }

    /// Starts the bot again with the same directory, against another server.
    pub fn restart_with(&mut self, api: &FakeBotApi) {
        self.env = api.env();
        self.restart();
    }

    /// Sends signal `name` (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Sends `name` and expects a clean exit within 10 s.
    pub async fn stop(&mut self, name: &str) {
        self.signal(name);
        let status = self.wait_exit(Duration::from_secs(10)).await;
        if name != "KILL" {
            assert!(
                status.is_some_and(|s| s.success()),
                "exit 0 within 10 s:\n{}",
                self.tail()
            );
        }
    }

    /// The bot's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The default journal files in the index folder (one per bot id), with
    /// their text.
    pub fn journals(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("index")) else {
            return Vec::new();
        };
        let mut found: Vec<(String, String)> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("telegram-journal"))
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.path().join("index").join(&name));
                (name, text.unwrap())
            })
            .collect();
        found.sort();
        found
    }

    /// The bot's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default()
    }

    /// The last lines of the log, for failure messages.
    pub fn tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Starts `citebot serve` in `dir`.
pub fn spawn(dir: &Path, settings: &Settings, api_env: &[(&'static str, String); 2]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("bot.log"))
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_citebot"));
    command
        .arg("--config")
        .arg(dir.join("citebot.toml"))
        .arg("serve")
        .arg("--corpus")
        .arg(&settings.corpus)
        .arg("--index")
        .arg(dir.join("index"))
        .args(&settings.args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .envs(api_env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CITEBOT_")) {
        command.env_remove(key);
    }
    // Lexical unless a test asks for the model: no test reaches the network.
    command
        .env("CITEBOT_MODEL", "off")
        .envs(settings.env.iter().map(|(k, v)| (k, v)));
    command.spawn().expect("start citebot serve")
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake server and a bot polling it.
pub async fn start(settings: Settings) -> (FakeBotApi, BotProcess) {
    let api = FakeBotApi::start().await;
    let bot = BotProcess::start(&api, settings);
    polling(&api, &bot).await;
    (api, bot)
}

/// Waits until the bot is about to poll (it deletes any webhook first);
/// updates pushed from then on reach it.
pub async fn polling(api: &FakeBotApi, bot: &BotProcess) {
    let calls = api.successful_calls_to("deletewebhook").len();
    let ok = api
        .wait_for(
            |s| s.successful_calls_to("deletewebhook").len() > calls,
            WAIT,
        )
        .await;
    assert!(ok, "the bot never polled:\n{}", bot.tail());
}

// ----- helpers -------------------------------------------------------------------

/// The message id of an update's message.
pub fn message_id(api: &FakeBotApi, update_id: i64) -> i64 {
    api.update(update_id).unwrap()["message"]["message_id"]
        .as_i64()
        .unwrap()
}

/// Waits for the bot's reply to the message of `update_id` in `chat`.
pub async fn reply_to(
    api: &FakeBotApi,
    bot: &BotProcess,
    chat: i64,
    update_id: i64,
) -> SentMessage {
    let id = message_id(api, update_id);
    let found = |s: &ApiState| {
        s.sent_to(chat)
            .into_iter()
            .find(|m| m.reply_to_message_id == Some(id))
            .cloned()
    };
    let ok = api.wait_for(|s| found(s).is_some(), WAIT).await;
    assert!(
        ok,
        "no reply to message {id} in chat {chat}:\n{}",
        bot.tail()
    );
    api.with_state(found).unwrap()
}

/// Asks `text` in a private chat with `user` and waits for the reply.
pub async fn ask(api: &FakeBotApi, bot: &BotProcess, user: i64, text: &str) -> SentMessage {
    let update = api.push_private_text(user, text);
    reply_to(api, bot, user, update).await
}

/// Checks a message like Telegram would, and returns its visible text.
pub fn valid(message: &SentMessage) -> String {
    assert_eq!(message.parse_mode.as_deref(), Some("HTML"));
    let formatted = format_message_text(&message.raw_text, Some("HTML")).unwrap();
    assert!(utf16_len(&formatted.text) <= MAX_MESSAGE_LEN);
    assert_eq!(
        message.params["link_preview_options"]["is_disabled"],
        json!(true),
        "link previews are off"
    );
    formatted.text
}

/// The excerpts of a message: the visible text of each blockquote, without
/// the "…" that marks a cut.
pub fn excerpts(html: &str) -> Vec<String> {
    html.split("<blockquote")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</blockquote>").unwrap();
            let text = visible_text(&rest[start..end]).unwrap();
            text.trim_matches(|c: char| c == '…' || c.is_whitespace())
                .to_string()
        })
        .collect()
}

/// Words separated by single spaces.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that `excerpt` is the essays' own words.
pub fn assert_verbatim(excerpt: &str) {
    let dir = super::paths::shipped_corpus();
    let corpus: String = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!excerpt.is_empty());
    assert!(
        collapse(&corpus).contains(&collapse(excerpt)),
        "not verbatim from the corpus: {excerpt}"
    );
}

/// An inline button of a message, by label.
pub fn button(message: &SentMessage, label: &str) -> Value {
    message.reply_markup.as_ref().unwrap()["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .find(|b| b["text"] == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {:?}", message.reply_markup))
        .clone()
}

/// Waits until the bot's log contains `needle`; returns the log.
pub async fn wait_log(bot: &BotProcess, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = bot.log();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the bot has confirmed every update pushed so far.
pub async fn all_confirmed(api: &FakeBotApi, bot: &BotProcess) {
    let ok = api.wait_for(|s| s.pending_updates().is_empty(), WAIT).await;
    assert!(ok, "updates left unconfirmed:\n{}", bot.tail());
}

/// Answers (messages replying to something) per chat.
pub fn answers_per_chat(api: &FakeBotApi) -> std::collections::BTreeMap<i64, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for m in api.sent_messages() {
        if m.reply_to_message_id.is_some() {
            *counts.entry(m.chat_id).or_insert(0) += 1;
        }
    }
    counts
}

// ----- small helpers -----------------------------------------------------------------

/// A copy of the shipped corpus, for a bot that changes it.
pub fn corpus_copy() -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(super::paths::shipped_corpus()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, corpus.path().join(path.file_name().unwrap())).unwrap();
    }
    corpus
}

/// A port nobody listens on (for a moment).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GETs `url`, retrying while the server starts.
pub async fn http_get(url: &str) -> String {
    let client = teloxide::net::default_reqwest_settings().build().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        match client.get(url).send().await {
            Ok(response) => return response.text().await.unwrap(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("GET {url}: {e}"),
        }
    }
}
