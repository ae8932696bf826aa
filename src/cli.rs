//! The command line: argument definitions and the commands behind them.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use citebot_core::answer::ModelState;
use citebot_core::config::{Config, Secrets};
use citebot_core::filter::{Bound, Filters, describe};
use citebot_core::progress::Progress;
use citebot_core::render::{json, labels, text};
use citebot_core::{Ask, Engine, EngineOptions, FollowUp, OpenReport};

/// Answers questions with quoted, cited excerpts from a corpus of essays.
#[derive(Debug, Parser)]
#[command(name = "citebot", version, about)]
pub struct Cli {
    /// Config file (default: config/citebot.toml, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command that opens the corpus shares.
#[derive(Debug, Args, Clone, Default)]
pub struct CorpusArgs {
    /// Folder of essays.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Index folder.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Fail on a bad corpus file instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

/// What to ask within, over the config's `[filters]` (each kind given
/// here replaces the config's). Operators in a question
/// (`by:madison`) replace these in turn.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only essays by this author: surname, full name or initials with
    /// surname (repeat for any of several).
    #[arg(long, value_name = "NAME")]
    pub author: Vec<String>,
    /// Only this essay: its id, title words or number, e.g. "federalist 10"
    /// (repeat for any of several).
    #[arg(long, value_name = "TITLE_OR_ID")]
    pub essay: Vec<String>,
    /// Only essays dated on or after this date (1850, "March 1850", 1850-03-02).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only essays dated on or before this date.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only essays with this tag (repeat for any of several).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
}

impl FilterArgs {
    /// Writes the flags given over the config's default filters.
    fn apply(&self, config: &mut Config) {
        let filters = &mut config.filters;
        for (flag, default) in [
            (&self.author, &mut filters.author),
            (&self.essay, &mut filters.essay),
            (&self.tag, &mut filters.tag),
        ] {
            if !flag.is_empty() {
                *default = flag.clone();
            }
        }
        if let Some(since) = &self.since {
            filters.since = since.clone();
        }
        if let Some(until) = &self.until {
            filters.until = until.clone();
        }
    }
}

/// Metadata given on the command line, over what the sources say.
#[derive(Debug, Args, Clone, Default)]
pub struct MetaArgs {
    /// The essay's title.
    #[arg(long)]
    pub title: Option<String>,
    /// The author.
    #[arg(long)]
    pub author: Option<String>,
    /// Where it was published.
    #[arg(long)]
    pub publication: Option<String>,
    /// When it was published.
    #[arg(long)]
    pub date: Option<String>,
    /// Where it can be read online (http:// or https://).
    #[arg(long, value_parser = http_url)]
    pub url: Option<String>,
}

/// An absolute http(s) URL.
fn http_url(text: &str) -> std::result::Result<String, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(text.to_string()),
        Ok(_) => Err("must start with http:// or https://".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build or update the index and report what it holds.
    Index {
        #[command(flatten)]
        corpus: CorpusArgs,
    },
    /// Answer a question (or one question per line of stdin).
    Ask {
        /// Print one JSON object per question.
        #[arg(long)]
        json: bool,
        /// Number of results.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        top: Option<usize>,
        #[command(flatten)]
        corpus: CorpusArgs,
        #[command(flatten)]
        filters: FilterArgs,
        /// The question; without it, questions are read from stdin. It may
        /// hold operators: by:NAME, in:"TITLE", tag:TAG, before:DATE,
        /// after:DATE (and since:, until:, which include the date).
        question: Vec<String>,
    },
    /// Check a quotation: where it comes from and whether it is quoted right.
    Cite {
        /// Print one JSON object per quote.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        corpus: CorpusArgs,
        /// The quote; without it, quotes are read from stdin, one per line.
        quote: Vec<String>,
    },
    /// An interactive session: ask, then `more`, `context`, `sources`; a
    /// question after an answer follows it up, `new` starts afresh.
    Chat {
        /// Number of results per page.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        top: Option<usize>,
        #[command(flatten)]
        corpus: CorpusArgs,
        #[command(flatten)]
        filters: FilterArgs,
    },
    /// Say which sentence-embedding model is in use, where it lives and
    /// whether the index's vectors are ready (loading it and embedding what
    /// is missing, never downloading), and the fix for what stops it;
    /// `model fetch` downloads it into the Hugging Face cache.
    Model {
        /// `fetch`: download the model now (once; later runs use the cache).
        #[arg(value_parser = ["fetch"])]
        action: Option<String>,
        #[command(flatten)]
        corpus: CorpusArgs,
    },
    /// Add essays to the corpus from saved web pages, URLs, EPUB, DOCX,
    /// .txt and .md files, or folders of them (PDF: not supported yet);
    /// prints what it wrote.
    Add {
        /// Print one JSON object per essay written (or source that failed).
        #[arg(long)]
        json: bool,
        /// Folder of essays to write into.
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
        /// One essay per chapter (per top-level heading) instead of one per source.
        #[arg(long, value_name = "HOW", value_parser = ["chapters"])]
        split: Option<String>,
        #[command(flatten)]
        meta: MetaArgs,
        /// Files, folders or http(s):// URLs.
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<String>,
    },
    /// Run the Telegram bot (needs TELOXIDE_TOKEN).
    Serve {
        /// Receive updates by webhook at this public URL instead of long polling.
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// Address the webhook server listens on.
        #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
        listen: String,
        /// Serve /healthz and /metrics on this address.
        #[arg(long, value_name = "ADDR")]
        metrics: Option<String>,
        #[command(flatten)]
        corpus: CorpusArgs,
    },
}

impl Command {
    /// Applies the command's flags over the config: flags win.
    pub fn apply_flags(&self, config: &mut Config) {
        let (flags, top) = match self {
            Command::Ask {
                corpus,
                top,
                filters,
                ..
            }
            | Command::Chat {
                corpus,
                top,
                filters,
            } => {
                filters.apply(config);
                (corpus, *top)
            }
            Command::Add { corpus, .. } => {
                if let Some(corpus) = corpus {
                    config.corpus = corpus.clone();
                }
                return;
            }
            Command::Index { corpus }
            | Command::Cite { corpus, .. }
            | Command::Model { corpus, .. }
            | Command::Serve { corpus, .. } => (corpus, None),
        };
        if let Some(corpus) = &flags.corpus {
            config.corpus = corpus.clone();
        }
        if let Some(index) = &flags.index {
            config.index = index.clone();
        }
        config.strict |= flags.strict;
        if let Some(top) = top {
            config.top = top;
        }
    }
}

/// Runs a command with its final config (and the secrets, which only `serve` uses).
///
/// A closed stdout (`citebot ask < questions | head -1`) ends the command
/// quietly and successfully, as it does for other command-line tools.
pub fn run(command: Command, config: Config, secrets: Secrets) -> Result<()> {
    match run_command(command, config, secrets) {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// True when `error` comes from writing to a pipe whose reader has gone.
/// A count of results: a whole number, 1 or more.
fn at_least_one(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// An error as the terminal shows it: `Error: …`, then its causes under
/// `Caused by:`, leaving out a cause that the message before it already
/// ends with (the library's errors repeat their source in their message:
/// "corpus: No such file or directory").
pub fn error_report(error: &anyhow::Error) -> String {
    let mut out = format!("Error: {error}");
    let mut before = error.to_string();
    let mut causes = Vec::new();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !before.ends_with(&text) {
            causes.push(text.clone());
        }
        before = text;
    }
    match causes.as_slice() {
        [] => {}
        [one] => out.push_str(&format!("\n\nCaused by:\n    {one}")),
        many => {
            out.push_str("\n\nCaused by:");
            for (i, cause) in many.iter().enumerate() {
                out.push_str(&format!("\n    {i}: {cause}"));
            }
        }
    }
    out
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run_command(command: Command, config: Config, secrets: Secrets) -> Result<()> {
    match command {
        Command::Index { .. } => index(&config),
        Command::Ask { json, question, .. } => ask(&config, json, &question.join(" ")),
        Command::Cite { json, quote, .. } => cite(&config, json, &quote.join(" ")),
        Command::Chat { .. } => chat(&config),
        Command::Add {
            json,
            split,
            meta,
            sources,
            ..
        } => add(&config, json, split.is_some(), meta, &sources),
        Command::Model { action, .. } => model(&config, action.is_some()),
        Command::Serve {
            webhook,
            listen,
            metrics,
            ..
        } => {
            let options = citebot::telegram::ServeOptions {
                webhook,
                listen,
                metrics,
            };
            serve(config, secrets, options).context("running the Telegram bot")
        }
    }
}

/// `citebot serve`: runs the bot on a runtime of its own until SIGINT or
/// SIGTERM.
fn serve(config: Config, secrets: Secrets, options: citebot::telegram::ServeOptions) -> Result<()> {
    // Engine calls are CPU-bound: more blocking threads than a few per core
    // only add memory and context switches when a burst arrives.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4 * cores)
        .build()
        .context("starting the runtime")?;
    let result = runtime.block_on(async {
        let signals = signals()?;
        citebot::telegram::run(config, secrets, options, signals)
            .await
            .map_err(anyhow::Error::from)
    });
    // Do not wait for stray blocking engine calls.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

/// Resolves on the first SIGINT or SIGTERM, saying so in the log. The
/// handlers are installed now, so a signal that comes while the corpus
/// opens is not lost.
fn signals() -> Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(
            signal = name,
            "stopping: no new updates, finishing answers in hand"
        );
    })
}

/// `citebot add`: each source to essays in the corpus folder; one bad
/// source is reported and the others are still added.
fn add(
    config: &Config,
    as_json: bool,
    split: bool,
    meta: MetaArgs,
    sources: &[String],
) -> Result<()> {
    use citebot_core::ingest;
    let options = ingest::AddOptions {
        corpus: config.corpus.clone(),
        overrides: ingest::Meta {
            title: meta.title,
            author: meta.author,
            publication: meta.publication,
            date: meta.date,
            url: meta.url,
        },
        split: if split {
            ingest::Split::Chapters
        } else {
            ingest::Split::None
        },
        limits: ingest::Limits::from(&config.add),
    };
    let sources = ingest::expand(sources);
    let mut out = std::io::stdout();
    let mut failed = 0;
    for source in &sources {
        match ingest::add_source(source, &options) {
            Ok(essays) => {
                for essay in essays {
                    if as_json {
                        writeln!(out, "{}", added_json(&essay))?;
                    } else {
                        writeln!(out, "{}", added_text(&essay))?;
                        for warning in &essay.warnings {
                            eprintln!("warning: {}: {warning}", essay.path.display());
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                if as_json {
                    let value = serde_json::json!({"source": e.source, "error": e.message});
                    writeln!(out, "{value}")?;
                }
                eprintln!("error: {e}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} sources could not be added", sources.len());
    }
    Ok(())
}

fn added_text(essay: &citebot_core::ingest::Added) -> String {
    let meta = &essay.meta;
    let mut line = format!(
        "{} {}: \"{}\"",
        if essay.updated { "updated" } else { "added" },
        essay.path.display(),
        meta.title.as_deref().unwrap_or_default()
    );
    for (label, value) in [
        ("by", &meta.author),
        ("in", &meta.publication),
        ("on", &meta.date),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(" {label} {value}"));
        }
    }
    line.push_str(&format!(", {} paragraphs", essay.paragraphs));
    line
}

fn added_json(essay: &citebot_core::ingest::Added) -> serde_json::Value {
    let meta = &essay.meta;
    serde_json::json!({
        "path": essay.path.display().to_string(),
        "title": meta.title,
        "author": meta.author,
        "publication": meta.publication,
        "date": meta.date,
        "url": meta.url,
        "paragraphs": essay.paragraphs,
        "updated": essay.updated,
        "warnings": essay.warnings,
    })
}

/// Opens the engine, printing warnings (and a progress bar on a terminal) to stderr.
pub fn open_engine(config: &Config) -> Result<(Engine, OpenReport)> {
    let options = EngineOptions::from_config(config);
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if tty && total >= 2000 {
            let width = 30;
            let filled = done * width / total.max(1);
            eprint!(
                "\rindexing [{}{}] {done}/{total} passages",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    };
    let (engine, report) = Engine::open_with_progress(options.clone(), &progress)
        .with_context(|| format!("opening corpus {}", options.corpus.display()))?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok((engine, report))
}

/// Tokens embedded and the seconds it took.
pub type Embedded = (u64, f64);

/// Opens the engine and makes it hybrid if it can (fetching the model and
/// embedding missing vectors first, with progress on a terminal). Without
/// the model it says once, on stderr, that it answers lexically and how to
/// get the model. Returns the last embedding step seen, for reports.
pub fn open_ready(config: &Config) -> Result<(Engine, OpenReport, Option<Embedded>)> {
    let (engine, report) = open_engine(config)?;
    let bars = Bars::new();
    let state = engine.prepare_model(true, &|step| bars.show(step));
    bars.finish();
    if let Some(notice) = labels::model_notice(&state) {
        eprintln!("{notice}");
    }
    let embedded = bars.embedded();
    Ok((engine, report, embedded))
}

/// Progress bars on stderr when it is a terminal; nothing otherwise.
struct Bars {
    tty: bool,
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
    last_embed: std::cell::Cell<Option<Embedded>>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            tty: std::io::stderr().is_terminal(),
            bar: std::cell::RefCell::new(None),
            last_embed: std::cell::Cell::new(None),
        }
    }

    fn show(&self, step: Progress) {
        if let Progress::Embed {
            tokens, seconds, ..
        } = step
        {
            self.last_embed.set(Some((tokens, seconds)));
        }
        if !self.tty {
            return;
        }
        let mut slot = self.bar.borrow_mut();
        let (done, total, message) = match step {
            Progress::Download { file, done, total } => {
                (done, total.unwrap_or(0), format!("downloading {file}"))
            }
            Progress::Embed {
                done,
                total,
                tokens,
                seconds,
            } => (
                done as u64,
                total as u64,
                format!(
                    "embedding, {:.0} tokens/s",
                    tokens as f64 / seconds.max(1e-3)
                ),
            ),
            Progress::Index { done, total } => (done as u64, total as u64, "indexing".into()),
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {human_pos}/{human_len} (eta {eta})",
                )
                .expect("the template is valid")
                .progress_chars("#> "),
            );
            bar
        });
        if bar.length() != Some(total) {
            bar.reset();
            bar.set_length(total);
        }
        bar.set_message(message);
        bar.set_position(done);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }

    /// Tokens and seconds of the embedding, if there was one.
    fn embedded(&self) -> Option<Embedded> {
        self.last_embed.get().filter(|&(tokens, _)| tokens > 0)
    }
}

/// `citebot model`: which model, where, and its state; with `fetch`, downloads it first.
fn model(config: &Config, fetch: bool) -> Result<()> {
    let options = EngineOptions::from_config(config);
    let mut out = std::io::stdout();
    if fetch {
        let bars = Bars::new();
        let folder = citebot_core::engine::fetch_model(&options, &|step| bars.show(step));
        bars.finish();
        match folder.with_context(|| format!("fetching the model {}", options.model))? {
            Some(folder) => writeln!(out, "model {} is in {}", options.model, folder.display())?,
            None => writeln!(
                out,
                "model is off (config `model = \"off\"`): nothing to fetch"
            )?,
        }
        return Ok(());
    }
    writeln!(out, "model setting: {}", options.model)?;
    match citebot_core::engine::find_model(&options) {
        Ok(Some(folder)) => writeln!(out, "files: {}", folder.display())?,
        Ok(None) => writeln!(out, "files: none (lexical retrieval)")?,
        Err(why) => writeln!(out, "files: not available ({why})")?,
    }
    // As `ask` would, without downloading: load the model and embed what
    // has no vectors yet, so that what stops it is found for real.
    let (engine, _) = open_engine(config)?;
    let bars = Bars::new();
    let state = engine.prepare_model(false, &|step| bars.show(step));
    bars.finish();
    writeln!(out, "index: {}", labels::model_state(&state))?;
    if let ModelState::Unavailable { cause, .. } = &state {
        writeln!(out, "fix: {}", labels::model_fix(cause))?;
    }
    Ok(())
}

fn index(config: &Config) -> Result<()> {
    let (engine, report, embedded) = open_ready(config)?;
    let sync = &report.sync;
    let what = if sync.rebuilt {
        "built".to_string()
    } else if sync.unchanged() {
        "up to date".to_string()
    } else {
        format!(
            "updated ({} added, {} changed, {} removed)",
            sync.added, sync.changed, sync.removed
        )
    };
    writeln!(
        std::io::stdout(),
        "{} essays, {} passages, index {what} in {:.3} s, {} warnings",
        report.essays,
        report.passages,
        report.seconds,
        report.warnings.len()
    )?;
    let state = engine.model_state();
    match embedded {
        Some((tokens, seconds)) => writeln!(
            std::io::stdout(),
            "model: {}; embedded {tokens} tokens in {seconds:.1} s ({:.0} tokens/s)",
            labels::model_state(&state),
            tokens as f64 / seconds.max(1e-9)
        )?,
        None => writeln!(std::io::stdout(), "model: {}", labels::model_state(&state))?,
    }
    Ok(())
}

fn style() -> text::Style {
    text::Style {
        color: std::io::stdout().is_terminal(),
    }
}

/// Reads every line of stdin, calling `each` on it; stops at EOF.
fn for_each_line(mut each: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let stdin = std::io::stdin();
    let mut line = Vec::new();
    let mut reader = stdin.lock();
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .context("reading stdin")?
            == 0
        {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        each(text.trim_end_matches(['\n', '\r']))?;
    }
}

fn ask(config: &Config, as_json: bool, question: &str) -> Result<()> {
    let (engine, _, _) = open_ready(config)?;
    let options = Ask {
        filters: config.filters.filters(),
        ..Ask::default()
    };
    each_input(&engine, question, |engine, q, style| {
        let answer = engine.ask_text(q, config.top, &options)?;
        Ok(if as_json {
            json::answer(&answer)
        } else {
            text::answer(&answer, style)
        })
    })
}

fn cite(config: &Config, as_json: bool, quote: &str) -> Result<()> {
    // Paraphrases are found by embedding: like `ask`, embed what is missing first.
    let (engine, _, _) = open_ready(config)?;
    each_input(&engine, quote, |engine, q, style| {
        let result = engine.cite(q)?;
        Ok(if as_json {
            json::cite(&result)
        } else {
            text::cite(&result, style)
        })
    })
}

/// Renders `input`, or each line of stdin when `input` is empty (batch
/// mode), in one process; one output per input, in order.
fn each_input(
    engine: &Engine,
    input: &str,
    render: impl Fn(&Engine, &str, text::Style) -> Result<String>,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let style = style();
    let mut one = |line: &str| -> Result<()> {
        writeln!(out, "{}", render(engine, line, style)?)?;
        Ok(())
    };
    if input.trim().is_empty() {
        for_each_line(&mut one)?;
    } else {
        one(input)?;
    }
    out.flush()?;
    Ok(())
}

fn chat(config: &Config) -> Result<()> {
    let (engine, report, _) = open_ready(config)?;
    let mut session = Chat {
        engine: &engine,
        top: config.top,
        style: style(),
        defaults: config.filters.filters(),
        filters: config.filters.filters(),
        last: None,
        shown: 0,
        top_passage: None,
    };
    let mut out = std::io::stdout();
    writeln!(
        out,
        "citebot: {} essays, {} passages. Type a question, or `help`.",
        report.essays, report.passages
    )?;
    write!(out, "> ")?;
    out.flush()?;
    for_each_line(|line| {
        let Some(reply) = session.reply(line.trim())? else {
            out.flush()?;
            std::process::exit(0);
        };
        write!(out, "{reply}> ")?;
        out.flush()?;
        Ok(())
    })?;
    writeln!(out)?;
    Ok(())
}

/// A `chat` session: its filters, what was asked last (and how: the
/// follow-up it was), how much of it was shown.
struct Chat<'e> {
    engine: &'e Engine,
    top: usize,
    style: text::Style,
    /// The filters of the config and flags, which `new` goes back to.
    defaults: Filters,
    /// The session's filters (`/author`, `/essay`, … change them).
    filters: Filters,
    /// The last question as typed, how it was asked, and the passages its
    /// answer showed (the context of the next question).
    last: Option<(String, Ask, Vec<String>)>,
    shown: usize,
    top_passage: Option<String>,
}

impl Chat<'_> {
    /// The reply to one line; None to leave.
    fn reply(&mut self, line: &str) -> Result<Option<String>> {
        let engine = self.engine;
        let style = self.style;
        let reply = match line {
            "" => String::new(),
            "quit" | "exit" => return Ok(None),
            "help" | "?" => format!("{}\n", labels::CHAT_HELP),
            "sources" => text::sources(&engine.sources()),
            "context" => match self
                .top_passage
                .as_deref()
                .and_then(|id| engine.passage(id))
            {
                Some(view) => text::context(&view, style),
                None => format!("{}\n", labels::ASK_FIRST),
            },
            "new" => {
                self.last = None;
                self.shown = 0;
                self.top_passage = None;
                self.filters = self.defaults.clone();
                format!("{}\n", labels::CHAT_NEW)
            }
            "filters" | "/filters" => {
                format!("{}\n", labels::chat_filters(&describe(&self.filters)))
            }
            _ if line.starts_with('/') => match self.set_filter(line) {
                Some(reply) => reply,
                None => format!("{}\n", labels::CHAT_UNKNOWN_COMMAND),
            },
            "more" => match &self.last {
                Some((q, options, _)) => {
                    let answer = engine.ask_text(q, self.shown + self.top, options)?;
                    let more: Vec<_> = answer.hits.into_iter().skip(self.shown).collect();
                    self.shown += more.len();
                    if more.is_empty() {
                        format!("{}\n", labels::NO_MORE)
                    } else {
                        more.iter()
                            .map(|hit| text::hit(hit, style) + "\n")
                            .collect()
                    }
                }
                None => format!("{}\n", labels::ASK_FIRST),
            },
            "cite" => format!("{}\n", labels::CITE_WHAT),
            _ if line.starts_with("cite ") => text::cite(&engine.cite(&line[5..])?, style),
            question => {
                // A question right after an answer follows it up.
                let options = Ask {
                    filters: self.filters.clone(),
                    context: self
                        .last
                        .as_ref()
                        .filter(|last| !last.2.is_empty())
                        .map(|last| FollowUp {
                            passages: last.2.clone(),
                            excerpt: None,
                        }),
                    ..Ask::default()
                };
                let answer = engine.ask_text(question, self.top, &options)?;
                self.shown = answer.hits.len();
                self.top_passage = answer.hits.first().map(|h| h.passage.id.clone());
                let shown = answer.hits.iter().map(|h| h.passage.id.clone()).collect();
                self.last = Some((question.to_string(), options, shown));
                format!("{}\n", text::answer(&answer, style))
            }
        };
        Ok(Some(reply))
    }

    /// `/author NAME`, `/essay TITLE`, `/tag TAG`, `/since DATE`,
    /// `/until DATE` set the session's filter of that kind (nothing after
    /// the command clears it); `/clear` clears them all. None for another
    /// command.
    fn set_filter(&mut self, line: &str) -> Option<String> {
        let (command, value) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(c, v)| (c, v.trim()));
        let value = value.trim_matches(|c| c == '"' || c == '“' || c == '”');
        let list = |v: &str| {
            if v.is_empty() {
                Vec::new()
            } else {
                vec![v.to_string()]
            }
        };
        let bound = |v: &str| {
            (!v.is_empty()).then(|| Bound {
                date: v.to_string(),
                exclusive: false,
            })
        };
        match command.to_lowercase().as_str() {
            "/author" | "/by" => self.filters.authors = list(value),
            "/essay" | "/in" => self.filters.essays = list(value),
            "/tag" => self.filters.tags = list(value),
            "/since" | "/after" => {
                self.filters.since = bound(value).map(|b| Bound {
                    exclusive: command.eq_ignore_ascii_case("/after"),
                    ..b
                })
            }
            "/until" | "/before" => {
                self.filters.until = bound(value).map(|b| Bound {
                    exclusive: command.eq_ignore_ascii_case("/before"),
                    ..b
                })
            }
            "/clear" => self.filters = Filters::default(),
            _ => return None,
        }
        // New filters: the next question does not follow up the last answer.
        self.last = None;
        Some(format!(
            "{}\n",
            labels::chat_filters(&describe(&self.filters))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::error_report;

    #[test]
    fn a_cause_repeated_in_its_parent_is_shown_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error =
            anyhow::Error::new(citebot_core::Error::io("corpus", io)).context("opening corpus");
        assert_eq!(
            error_report(&error),
            "Error: opening corpus\n\nCaused by:\n    corpus: no such file"
        );
    }

    #[test]
    fn distinct_causes_are_numbered_and_none_is_no_list() {
        let error = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(
            error_report(&error),
            "Error: outer\n\nCaused by:\n    0: middle\n    1: inner"
        );
        assert_eq!(error_report(&anyhow::anyhow!("alone")), "Error: alone");
    }
}
