//! The library: the engine the bot answers from, and the example questions
//! its corpus answers. `/reload` swaps in a new engine while answers in
//! progress finish with the old one.
//!
//! Each engine starts lexical unless its vectors are ready; a background
//! thread then fetches the model if it must, embeds what is missing, and
//! the engine switches to hybrid retrieval by itself: the bot answers all
//! along. Progress goes to the log and to `/metrics`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use citebot_core::answer::ModelState;
use citebot_core::engine::{Engine, EngineOptions, OpenReport};
use citebot_core::progress::Progress;
use citebot_core::render::labels;

use super::TelegramError;
use super::metrics::Metrics;

/// How often embedding progress is logged.
const PROGRESS_LOG_EVERY: Duration = Duration::from_secs(15);

/// Example questions the greeting shows at most.
const EXAMPLES: usize = 3;

/// An engine and the example questions its corpus answers.
pub(crate) struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// Questions for the greeting.
    pub examples: Vec<String>,
}

impl Loaded {
    /// `engine` with the `wanted` examples it answers, then its essays'
    /// titles (each one answered by its own essay), up to [`EXAMPLES`].
    fn new(engine: Engine, wanted: &[String]) -> Loaded {
        let answers = |q: &str| engine.ask(q, 1).is_ok_and(|a| a.answered);
        let titles = engine.sources().into_iter().map(|s| s.title);
        let examples = wanted
            .iter()
            .cloned()
            .chain(titles)
            .filter(|q| answers(q))
            .take(EXAMPLES)
            .collect();
        Loaded { engine, examples }
    }
}

/// The current engine.
pub(crate) struct Library {
    current: RwLock<Arc<Loaded>>,
    examples: Vec<String>,
    metrics: Arc<Metrics>,
}

impl Library {
    /// Opens the corpus (building or updating its index) and starts making
    /// it hybrid in the background; `examples` are the configured example
    /// questions.
    pub fn open(
        options: EngineOptions,
        examples: Vec<String>,
        metrics: Arc<Metrics>,
    ) -> Result<Library, TelegramError> {
        let (engine, report) = Engine::open(options)?;
        log_report(&report, "corpus loaded");
        let loaded = Arc::new(Loaded::new(engine, &examples));
        prepare_in_background(loaded.clone(), metrics.clone());
        Ok(Library {
            current: RwLock::new(loaded),
            examples,
            metrics,
        })
    }

    /// The engine to answer with.
    pub fn current(&self) -> Arc<Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the corpus and swaps the engine; on failure the current one
    /// stays. Blocking: call it on the blocking pool.
    pub fn reload(&self) -> citebot_core::Result<OpenReport> {
        let (engine, report) = self.current().engine.reload()?;
        let loaded = Arc::new(Loaded::new(engine, &self.examples));
        prepare_in_background(loaded.clone(), self.metrics.clone());
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        log_report(&report, "corpus reloaded");
        Ok(report)
    }
}

/// Fetches the model if needed and embeds what `loaded`'s corpus lacks, on
/// a thread of its own; the engine answers lexically meanwhile and becomes
/// hybrid when this is done. Without the model, the log says so once,
/// naming the fix.
fn prepare_in_background(loaded: Arc<Loaded>, metrics: Arc<Metrics>) {
    metrics.set_model(loaded.engine.model_state(), loaded.engine.retrieval());
    if matches!(
        loaded.engine.model_state(),
        ModelState::Off | ModelState::Ready { .. }
    ) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("citebot-embed".into())
        .spawn(move || {
            let engine = &loaded.engine;
            let last_log = std::sync::Mutex::new(Instant::now());
            let state = engine.prepare_model(true, &|step| {
                metrics.set_model(engine.model_state(), engine.retrieval());
                let mut last = last_log.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() < PROGRESS_LOG_EVERY {
                    return;
                }
                *last = Instant::now();
                match step {
                    Progress::Download { file, done, total } => {
                        tracing::info!(file, done, total, "downloading the model")
                    }
                    Progress::Embed {
                        done,
                        total,
                        tokens,
                        seconds,
                    } => tracing::info!(
                        done,
                        total,
                        tokens_per_second = (tokens as f64 / seconds.max(1e-3)).round(),
                        "embedding the corpus; answering lexically until done"
                    ),
                    Progress::Index { .. } => {}
                }
            });
            metrics.set_model(state.clone(), engine.retrieval());
            match labels::model_notice(&state) {
                Some(notice) => tracing::warn!("{notice}"),
                None => tracing::info!(model = %labels::model_state(&state), "retrieval ready"),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start embedding; answering lexically");
    }
}

fn log_report(report: &OpenReport, what: &'static str) {
    for warning in &report.warnings {
        tracing::warn!(%warning, "skipped corpus file");
    }
    tracing::info!(
        essays = report.essays,
        passages = report.passages,
        seconds = report.seconds,
        "{what}"
    );
}
