//! The library: the engine the bot answers from, and the example questions
//! its corpus answers. `/reload` swaps in a new engine while answers in
//! progress finish with the old one.

use std::sync::{Arc, RwLock};

use crate::engine::{Engine, EngineOptions, OpenReport};

use super::TelegramError;

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
}

impl Library {
    /// Opens the corpus (building or updating its index); `examples` are the
    /// configured example questions.
    pub fn open(options: EngineOptions, examples: Vec<String>) -> Result<Library, TelegramError> {
        let (engine, report) = Engine::open(options)?;
        log_report(&report, "corpus loaded");
        Ok(Library {
            current: RwLock::new(Arc::new(Loaded::new(engine, &examples))),
            examples,
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
    pub fn reload(&self) -> crate::Result<OpenReport> {
        let (engine, report) = self.current().engine.reload()?;
        let loaded = Arc::new(Loaded::new(engine, &self.examples));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        log_report(&report, "corpus reloaded");
        Ok(report)
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
