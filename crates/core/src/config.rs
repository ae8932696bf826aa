//! Config: settings from `config/citebot.toml`, the environment and flags,
//! and the secrets beside them.
//!
//! [`Config::load`] is the one place configuration and secrets come from:
//! nothing else in the crate reads the environment or `.env`.
//!
//! Precedence, lowest first (written down once, here):
//! 1. `CITEBOT_*` lines of `.env` (read with dotenvy);
//! 2. the config file (`config/citebot.toml`, or `--config PATH`);
//! 3. `CITEBOT_*` environment variables;
//! 4. command-line flags (applied by the binary).
//!
//! Unknown keys, in the file or as `CITEBOT_*` variables, are errors that
//! name the key. Secrets (`TELOXIDE_TOKEN`, `TELOXIDE_API_URL`,
//! `TELEGRAM_WEBHOOK_SECRET`) are not config keys: they come from the
//! environment, or else from `.env`, into [`Secrets`], whose `Debug` never
//! shows them. `RUST_LOG`, from the environment or `.env`, overrides `log`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shipped config file; its values are the defaults.
pub const DEFAULT_TOML: &str = include_str!("../../../config/citebot.toml");
/// Where the config file is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/citebot.toml";
/// Prefix of environment variables that set config keys.
pub const ENV_PREFIX: &str = "CITEBOT_";
/// The `.env` file read from the working directory, if it exists.
pub const DOTENV_PATH: &str = ".env";
/// The variable that overrides [`Config::log`].
pub const LOG_VAR: &str = "RUST_LOG";

/// All settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder of essays.
    pub corpus: PathBuf,
    /// Index folder; empty for the default under `data/`.
    pub index: PathBuf,
    /// Fail on bad corpus files.
    pub strict: bool,
    /// Results per answer on the command line.
    pub top: usize,
    /// Log filter.
    pub log: String,
    /// The sentence-embedding model: a Hugging Face repo id (downloaded once
    /// into the Hugging Face cache), a folder with the Hub's files, or `off`.
    pub model: String,
    /// Where the Hugging Face Hub and its cache are (`HF_ENDPOINT`,
    /// `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`): read from the
    /// environment, never from the file.
    #[serde(skip)]
    pub hub: crate::dense::embed::HubSettings,
    /// Telegram bot settings.
    pub telegram: TelegramConfig,
    /// Limits of `citebot add` (and the bot's `/add`).
    pub add: AddConfig,
    /// What every question is asked within unless it says otherwise.
    pub filters: FilterConfig,
}

/// Default filters: what `ask`, `chat` and the bot ask within when a
/// question (or a flag) does not set that kind of filter itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Authors (surname, full name, or initials with surname): any of them.
    pub author: Vec<String>,
    /// Essays (id, title words, or number): any of them.
    pub essay: Vec<String>,
    /// Tags: any of them.
    pub tag: Vec<String>,
    /// The earliest date, included; empty for none.
    pub since: String,
    /// The latest date, included; empty for none.
    pub until: String,
}

impl FilterConfig {
    /// These defaults as filters.
    pub fn filters(&self) -> crate::filter::Filters {
        let bound = |date: &str| {
            (!date.trim().is_empty()).then(|| crate::filter::Bound {
                date: date.trim().to_string(),
                exclusive: false,
            })
        };
        crate::filter::Filters {
            authors: self.author.clone(),
            essays: self.essay.clone(),
            tags: self.tag.clone(),
            since: bound(&self.since),
            until: bound(&self.until),
        }
    }
}

/// Limits of `citebot add`: what one source may cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddConfig {
    /// Largest source read, in bytes (a file or a download).
    pub max_bytes: u64,
    /// Deepest element nesting a web page may have.
    pub max_html_depth: usize,
    /// Most bytes an EPUB or DOCX may unpack to.
    pub max_unpacked_bytes: u64,
    /// Seconds a download may take in all.
    pub fetch_timeout_seconds: u64,
    /// Most objects a PDF may hold (counted before it is parsed).
    pub max_pdf_objects: usize,
}

/// Telegram shows at most this many results per inline query.
pub const MAX_INLINE_RESULTS: usize = 50;

/// Settings of the Telegram bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Results per answer in a private chat.
    pub results_private: usize,
    /// Results per answer in a group.
    pub results_group: usize,
    /// Results per inline query.
    pub inline_results: usize,
    /// User ids allowed to use `/reload` and `/add`.
    pub admins: Vec<u64>,
    /// Largest document `/add` downloads, in bytes (checked against the
    /// size Telegram declares, and while downloading).
    pub add_max_bytes: u64,
    /// Example questions the greeting suggests (those the corpus answers).
    pub examples: Vec<String>,
    /// When non-empty, only these chats get answers.
    pub allowed_chats: Vec<i64>,
    /// When non-empty, only these users get answers.
    pub allowed_users: Vec<u64>,
    /// Questions (and button presses) per user per minute.
    pub rate_limit_per_minute: u32,
    /// Inline queries per user per minute (they arrive as people type).
    pub inline_rate_limit_per_minute: u32,
    /// Seconds allowed for answers in hand at shutdown.
    pub shutdown_grace_seconds: u64,
    /// Crash-recovery journal file; empty for the default.
    pub journal: PathBuf,
    /// Pace sends to Telegram's limits (1 a second per chat, 20 a minute per
    /// group, 30 a second in all), each chat on its own.
    pub throttle: bool,
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str(DEFAULT_TOML).expect("the shipped config parses")
    }
}

impl Config {
    /// What is wrong with a count that must be in range, if anything.
    fn out_of_range(&self) -> Option<String> {
        let t = &self.telegram;
        [
            ("top", self.top, 1),
            ("telegram.results_private", t.results_private, 1),
            ("telegram.results_group", t.results_group, 1),
            ("telegram.inline_results", t.inline_results, 1),
        ]
        .into_iter()
        .find(|&(_, value, least)| value < least)
        .map(|(key, value, least)| format!("`{key}` must be at least {least}, got {value}"))
        .or_else(|| {
            (t.inline_results > MAX_INLINE_RESULTS).then(|| {
                format!(
                    "`telegram.inline_results` must be at most {MAX_INLINE_RESULTS} (Telegram's limit), got {}",
                    t.inline_results
                )
            })
        })
    }

    /// The index folder, or None for the default.
    pub fn index_dir(&self) -> Option<PathBuf> {
        (!self.index.as_os_str().is_empty()).then(|| self.index.clone())
    }

    /// Loads the settings below the flags, and the secrets: reads `.env`
    /// (if present in the working directory), the config file (`file`, or
    /// [`DEFAULT_PATH`] if it exists) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<(Config, Secrets)> {
        let dotenv = read_dotenv(Path::new(DOTENV_PATH))?;
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Config::from_layers(file, &dotenv, &env)
    }

    /// [`Config::load`] from given variables: `dotenv` holds the `.env`
    /// file's and `env` the process's; `file` is the config file to read
    /// (`None`: the default path, if it exists).
    pub fn from_layers(
        file: Option<&Path>,
        dotenv: &BTreeMap<String, String>,
        env: &BTreeMap<String, String>,
    ) -> Result<(Config, Secrets)> {
        let mut table: toml::Table =
            toml::from_str(DEFAULT_TOML).expect("the shipped config parses");
        apply_env(&mut table, dotenv, ".env")?;
        let text = match file {
            Some(path) => Some((
                path.to_path_buf(),
                std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?,
            )),
            None => std::fs::read_to_string(DEFAULT_PATH)
                .ok()
                .map(|t| (PathBuf::from(DEFAULT_PATH), t)),
        };
        if let Some((path, text)) = text {
            let layer: toml::Table = toml::from_str(&text).map_err(|e| {
                let line = e.span().map(|span| line_at(&text, span.start));
                Error::Config(format!("{}: {}", place(&path, line), e.message()))
            })?;
            // Check the file on its own first, so an unknown key names the file.
            check_keys(&layer, &table, "").map_err(|key| {
                let line = line_of_key(&text, &key);
                Error::Config(format!("{}: unknown key `{key}`", place(&path, line)))
            })?;
            merge(&mut table, layer);
            check_values(&table, &path.display().to_string())?;
        }
        apply_env(&mut table, env, "environment")?;
        let mut config = deserialize(table, "environment")?;
        let mut variables = dotenv.clone();
        variables.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
        config.hub = crate::dense::embed::HubSettings::from_env(&variables);
        let var = |name: &str| {
            env.get(name)
                .or_else(|| dotenv.get(name))
                .filter(|v| !v.trim().is_empty())
                .cloned()
        };
        if let Some(log) = var(LOG_VAR) {
            config.log = log;
        }
        let secrets = Secrets {
            telegram_token: var(Secrets::TOKEN_VAR),
            telegram_api_url: var(Secrets::API_URL_VAR),
            webhook_secret: var(Secrets::WEBHOOK_SECRET_VAR),
        };
        Ok((config, secrets))
    }
}

/// Secrets: the Telegram token, the Bot API URL and the webhook secret.
///
/// They come from the environment, or else from `.env`, never from the
/// config file; `Debug` says only whether each is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    telegram_token: Option<String>,
    telegram_api_url: Option<String>,
    webhook_secret: Option<String>,
}

impl Secrets {
    /// The variable with the bot token.
    pub const TOKEN_VAR: &str = "TELOXIDE_TOKEN";
    /// The variable with the Bot API server's URL (a self-hosted one).
    pub const API_URL_VAR: &str = "TELOXIDE_API_URL";
    /// The variable with the webhook's shared secret.
    pub const WEBHOOK_SECRET_VAR: &str = "TELEGRAM_WEBHOOK_SECRET";

    /// Secrets given directly (for tests and embedding); `None` for unset.
    pub fn new(
        telegram_token: Option<String>,
        telegram_api_url: Option<String>,
        webhook_secret: Option<String>,
    ) -> Secrets {
        Secrets {
            telegram_token,
            telegram_api_url,
            webhook_secret,
        }
    }

    /// The bot token (`TELOXIDE_TOKEN`).
    pub fn telegram_token(&self) -> Option<&str> {
        self.telegram_token.as_deref()
    }

    /// The Bot API server's URL (`TELOXIDE_API_URL`); None for Telegram's.
    pub fn telegram_api_url(&self) -> Option<&str> {
        self.telegram_api_url.as_deref()
    }

    /// The webhook's shared secret (`TELEGRAM_WEBHOOK_SECRET`).
    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |value: &Option<String>| if value.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("telegram_token", &shown(&self.telegram_token))
            .field("telegram_api_url", &shown(&self.telegram_api_url))
            .field("webhook_secret", &shown(&self.webhook_secret))
            .finish()
    }
}

/// The variables of the `.env` file at `path`, or none if it does not exist.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>> {
    let bad = |e: dotenvy::Error| Error::Config(format!("{}: {e}", path.display()));
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter
            .map(|item| item.map_err(bad))
            .collect::<Result<BTreeMap<_, _>>>(),
        Err(e) if e.not_found() => Ok(BTreeMap::new()),
        Err(e) => Err(bad(e)),
    }
}

/// Finds a key of `layer` that `known` lacks.
/// Checks that the layers so far, the last from `origin`, give a valid
/// config, so that a value of the wrong type names where it came from.
fn check_values(table: &toml::Table, origin: &str) -> Result<()> {
    deserialize(table.clone(), origin).map(|_| ())
}

fn deserialize(table: toml::Table, origin: &str) -> Result<Config> {
    let config = Config::deserialize(toml::Value::Table(table)).map_err(|e| {
        let message = e.to_string().trim().replace('\n', " ");
        Error::Config(format!("{origin}: {message}"))
    })?;
    config.out_of_range().map_or(Ok(config), |message| {
        Err(Error::Config(format!("{origin}: {message}")))
    })
}

/// `path`, with ` line N` when the line is known.
fn place(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{} line {line}", path.display()),
        None => path.display().to_string(),
    }
}

/// The 1-based line of byte `at` of `text`.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The 1-based line where the last part of the dotted `key` is set in
/// `text` (`key = …`), or where the table `key` opens (`[key]`), if any.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let last = key.rsplit('.').next().unwrap_or(key);
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(last)
                .or_else(|| line.strip_prefix(&format!("\"{last}\"")));
            rest.is_some_and(|rest| rest.trim_start().starts_with('='))
                || line.trim_end() == format!("[{key}]")
        })
        .map(|i| i + 1)
}

fn check_keys(
    layer: &toml::Table,
    known: &toml::Table,
    prefix: &str,
) -> std::result::Result<(), String> {
    for (key, value) in layer {
        let name = format!("{prefix}{key}");
        match (known.get(key), value) {
            (None, _) => return Err(name),
            (Some(toml::Value::Table(k)), toml::Value::Table(v)) => {
                check_keys(v, k, &format!("{name}."))?
            }
            _ => {}
        }
    }
    Ok(())
}

fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(v)) => merge(b, v),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Every leaf key as (dotted path, environment variable name).
fn env_names(table: &toml::Table, prefix: &str, out: &mut Vec<(Vec<String>, String)>) {
    for (key, value) in table {
        let mut path: Vec<String> = prefix
            .split('.')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        path.push(key.clone());
        if let toml::Value::Table(inner) = value {
            env_names(inner, &path.join("."), out);
        } else {
            let var = format!("{ENV_PREFIX}{}", path.join("_").to_uppercase());
            out.push((path, var));
        }
    }
}

fn apply_env(table: &mut toml::Table, vars: &BTreeMap<String, String>, origin: &str) -> Result<()> {
    let mut names = Vec::new();
    env_names(table, "", &mut names);
    for (var, raw) in vars {
        let Some(_) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((path, _)) = names.iter().find(|(_, name)| name == var) else {
            return Err(Error::Config(format!("{origin}: unknown variable `{var}`")));
        };
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").expect("parsed"),
            Err(_) => toml::Value::String(raw.clone()),
        };
        let mut at = &mut *table;
        for part in &path[..path.len() - 1] {
            at = at
                .get_mut(part)
                .and_then(|v| v.as_table_mut())
                .expect("path from the defaults");
        }
        at.insert(path[path.len() - 1].clone(), value);
        check_values(table, &format!("{origin}: {var}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shipped_file_lists_every_key() {
        let config = Config::default();
        let round: toml::Table = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
        let shipped: toml::Table = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(round, shipped);
        for line in DEFAULT_TOML.lines().filter(|l| l.contains(" = ")) {
            let key = line.split(" = ").next().unwrap();
            let at = DEFAULT_TOML.find(line).unwrap();
            let before = &DEFAULT_TOML[..at];
            assert!(
                before.trim_end().lines().last().unwrap().starts_with('#'),
                "{key} has no comment"
            );
        }
    }

    #[test]
    fn precedence_dotenv_file_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "top = 5\n[telegram]\nresults_group = 2\n").unwrap();
        let dotenv = vars(&[
            ("CITEBOT_TOP", "9"),
            ("CITEBOT_STRICT", "true"),
            ("OTHER", "x"),
        ]);
        let env = vars(&[
            ("CITEBOT_TELEGRAM_ADMINS", "[1, 2]"),
            ("CITEBOT_CORPUS", "essays"),
        ]);
        let config = Config::from_layers(Some(&file), &dotenv, &env).unwrap().0;
        assert_eq!(config.top, 5, "file beats .env");
        assert!(config.strict, ".env beats defaults");
        assert_eq!(config.telegram.results_group, 2);
        assert_eq!(config.telegram.admins, vec![1, 2]);
        assert_eq!(config.corpus, PathBuf::from("essays"));
        let env = vars(&[("CITEBOT_TOP", "7")]);
        assert_eq!(
            Config::from_layers(Some(&file), &dotenv, &env)
                .unwrap()
                .0
                .top,
            7,
            "env beats file"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[telegram]\nadmin = [1]\n").unwrap();
        let err = Config::from_layers(Some(&file), &BTreeMap::new(), &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("telegram.admin"), "{err}");
        let err = env_error(&[("CITEBOT_TOPP", "1")]);
        assert!(err.contains("CITEBOT_TOPP"), "{err}");
        let err = env_error(&[("CITEBOT_TOP", "many")]);
        assert!(err.contains("environment: CITEBOT_TOP: "), "{err}");
        assert!(err.contains("top"), "{err}");
        let err = Config::from_layers(None, &vars(&[("CITEBOT_TOP", "many")]), &BTreeMap::new())
            .unwrap_err();
        assert!(err.to_string().contains(".env: CITEBOT_TOP: "), "{err}");
    }

    /// The error of loading with only these process variables set.
    fn env_error(pairs: &[(&str, &str)]) -> String {
        Config::from_layers(None, &BTreeMap::new(), &vars(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn counts_out_of_range_are_refused_by_name() {
        let err = env_error(&[("CITEBOT_TOP", "0")]);
        assert!(
            err.contains("CITEBOT_TOP: `top` must be at least 1, got 0"),
            "{err}"
        );
        let err = env_error(&[("CITEBOT_TELEGRAM_INLINE_RESULTS", "51")]);
        assert!(
            err.contains("`telegram.inline_results` must be at most 50"),
            "{err}"
        );
        let err = env_error(&[("CITEBOT_TELEGRAM_RESULTS_GROUP", "0")]);
        assert!(
            err.contains("`telegram.results_group` must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_file_names_its_line_and_a_wrong_type_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            Config::from_layers(Some(&file), &BTreeMap::new(), &BTreeMap::new())
                .unwrap_err()
                .to_string()
        };
        let at = |line: usize| format!("{} line {line}: ", file.display());
        let err = load("top = 3\n[telegram]\nadmins = [1]\n  typo = 1\n");
        assert!(
            err.contains(&at(4)) && err.contains("`telegram.typo`"),
            "{err}"
        );
        let err = load("top = 3\n\n[telegrm]\nadmins = [1]\n");
        assert!(err.contains(&at(3)) && err.contains("`telegrm`"), "{err}");
        let err = load("top = 3\nlog = = \"warn\"\n");
        assert!(err.contains(&at(2)), "{err}");
        let err = load("top = \"three\"\n");
        assert!(err.contains(&format!("{}: ", file.display())), "{err}");
        assert!(err.contains("top") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn secrets_come_from_the_environment_then_dotenv_and_are_never_shown() {
        let dotenv = vars(&[
            ("TELOXIDE_TOKEN", "123:dotenv-token"),
            ("TELEGRAM_WEBHOOK_SECRET", "from-dotenv"),
            ("RUST_LOG", "debug"),
        ]);
        let env = vars(&[
            ("TELOXIDE_TOKEN", "123:env-token"),
            ("TELOXIDE_API_URL", "http://127.0.0.1:8081/"),
        ]);
        let (config, secrets) = Config::from_layers(None, &dotenv, &env).unwrap();
        assert_eq!(
            secrets.telegram_token(),
            Some("123:env-token"),
            "env beats .env"
        );
        assert_eq!(secrets.telegram_api_url(), Some("http://127.0.0.1:8081/"));
        assert_eq!(secrets.webhook_secret(), Some("from-dotenv"));
        assert_eq!(config.log, "debug", "RUST_LOG overrides log");
        let shown = format!("{secrets:?} {config:?}");
        for secret in ["env-token", "8081", "from-dotenv"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let (_, none) =
            Config::from_layers(None, &BTreeMap::new(), &vars(&[("TELOXIDE_TOKEN", " ")])).unwrap();
        assert_eq!(none.telegram_token(), None, "blank is unset");
    }

    #[test]
    fn dotenv_files_are_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        assert!(
            read_dotenv(&path).unwrap().is_empty(),
            "no file, no variables"
        );
        std::fs::write(&path, "TELOXIDE_TOKEN=1:abc\n# a comment\nCITEBOT_TOP=4\n").unwrap();
        let read = read_dotenv(&path).unwrap();
        assert_eq!(
            read.get("TELOXIDE_TOKEN").map(String::as_str),
            Some("1:abc")
        );
        assert_eq!(read.get("CITEBOT_TOP").map(String::as_str), Some("4"));
    }
}
