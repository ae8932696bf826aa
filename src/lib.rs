//! citebot answers questions with quoted, cited excerpts from a corpus of
//! essays. It never writes prose of its own: every answer is the essays' own
//! words, with author, title, publication, date, paragraph and a link that
//! lands on the quoted words.
//!
//! # Layout
//!
//! Data flows one way, and every module imports only modules to its left
//! or below it:
//!
//! ```text
//!  corpus ──▶ passage ──▶ store ──▶ index ──▶ search ──▶ quote ──▶ engine ──▶ render ──▶ transports
//!  (files,    (windows,   (essays,  (tantivy, (BM25,     (excerpt)  (façade:   (text,     (cli in the
//!   parsing,   sentences)  passages, on disk)  evidence,             open, ask, html,      binary,
//!   ids)                   ids)               decision)             cite, …)   json,      telegram)
//!                                                │                      ▲        labels)
//!                                                └── lookup + align ────┘
//!                                                    ("where does this quote come from?")
//!
//!  beneath them all: model (the nouns handed out) ◀── cite (citations, deep links) ◀── corpus
//!                    analysis (the analyzer), names (slugs, stable hash), clean (control characters),
//!                    error, config
//! ```
//!
//! - [`corpus`]: reads a folder of `.md`/`.txt` essays; bad files become warnings.
//!   [`corpus::parse_essay`] is public: the file format is part of the product.
//! - [`passage`]: paragraphs, split into sentence windows when long.
//! - `store`: the loaded essays and their passages, by ordinal and by id.
//! - `analysis`: the one analyzer used for indexing, querying and marking.
//! - `index`: the tantivy index on disk, updated per essay when files change.
//! - `search`: candidates, their lexical evidence, and the one ranking and
//!   abstention decision.
//! - `quote`: the sentences of a passage to show.
//! - [`cite`]: citations and text-fragment deep links.
//! - `align` and `lookup`: quote verification for `cite`.
//! - [`model`]: the nouns the engine hands out: answers, hits, passages, verdicts.
//! - [`engine`]: the one seam the transports use: `open`, `ask`, `cite`,
//!   `passage`, `sources`, `reload`.
//! - [`render`]: pure formatting for terminals, Telegram and JSON, with the
//!   shared fixed words in [`render::labels`].
//! - [`config`]: settings and their precedence.
//! - [`telegram`]: the bot, a thin transport over the engine.
//!
//! Only the façade, the model, `config`, `render`, `error`, the transports
//! and the corpus file format are public; no tantivy type is.
//!
//! # Example
//!
//! ```
//! use citebot::{Engine, EngineOptions, Verdict};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let index = tempfile::tempdir()?; // `index: None` means data/index-<corpus>-<hash>
//! let (engine, _report) = Engine::open(EngineOptions {
//!     corpus: "corpus".into(),
//!     index: Some(index.path().into()),
//!     strict: true,
//! })?;
//!
//! let answer = engine.ask("Which of Xi's policies have harmed China's interests?", 3)?;
//! let top = &answer.hits[0];
//! assert!(top.quote_text().contains("cracking down on private businesses"));
//! assert_eq!(top.citation.author.as_deref(), Some("Susan Shirk"));
//!
//! let check = engine.cite("Xi wants China to be respected as a world power")?;
//! assert_eq!(check.verdict, Verdict::Close);
//! assert_eq!(check.found.unwrap().original, "Xi wants China to be respected as a global power");
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod cite;
pub mod config;
pub mod corpus;
pub mod engine;
pub mod error;
pub mod model;
pub mod passage;
pub mod render;
pub mod telegram;

pub(crate) mod align;
pub(crate) mod analysis;
pub(crate) mod clean;
pub(crate) mod index;
pub(crate) mod lookup;
pub(crate) mod names;
pub(crate) mod quote;
pub(crate) mod search;
pub(crate) mod store;

pub use engine::{Engine, EngineOptions, OpenReport, SyncReport};
pub use error::{Error, Result};
pub use model::{
    Answer, Citation, CiteMatch, CiteResult, Difference, Hit, Passage, PassageView, Quote, Source,
    Verdict,
};
