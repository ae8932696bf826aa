//! citebot answers questions with quoted, cited excerpts from a corpus of
//! essays. It never writes prose of its own: every answer is the essays' own
//! words, with author, title, publication, date, paragraph and a link that
//! lands on the quoted words.
//!
//! # Layout
//!
//! Data flows one way:
//!
//! ```text
//!  corpus ──▶ passage ──▶ index ──▶ search ──▶ quote + cite ──▶ render ──▶ transports
//!  (files)   (paragraphs, (tantivy,  (BM25 +    (excerpt,       (text,      (cli in the
//!             windows,     on disk)   re-rank,   citation,       html,       binary,
//!             ids)                    abstain)   deep link)      json)       telegram)
//!                                        │
//!                          lookup + align: "where does this quote come from?"
//! ```
//!
//! - [`corpus`]: reads a folder of `.md`/`.txt` essays; bad files become warnings.
//! - [`passage`]: paragraphs, split into sentence windows when long; stable ids.
//! - [`analysis`]: the one analyzer used for indexing, querying and marking.
//! - [`index`]: the tantivy index on disk, updated per essay when files change.
//! - [`search`]: ranking and abstention.
//! - [`quote`]: the sentences of a passage to show.
//! - [`cite`]: citations and text-fragment deep links.
//! - [`align`] and [`lookup`]: quote verification for `cite`.
//! - [`engine`]: the one seam the transports use: `ask`, `cite`, `passage`, `sources`.
//! - [`render`]: pure formatting for terminals, Telegram and JSON.
//! - [`config`]: settings and their precedence.
//! - [`telegram`]: the bot, a thin transport over the engine.
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
//! let answer = engine.ask("What has Xi done to private businesses?", 3)?;
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

pub mod align;
pub mod analysis;
pub mod cite;
pub mod config;
pub mod corpus;
pub mod engine;
pub mod error;
pub mod index;
pub mod lookup;
pub mod passage;
pub mod quote;
pub mod render;
pub mod search;
pub mod telegram;

pub use engine::{Answer, Engine, EngineOptions, Hit, OpenReport, PassageView, Source};
pub use error::{Error, Result};
pub use lookup::{CiteResult, Verdict};
