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
//!  corpus ──▶ passage ──▶ store ──▶ index ──▶ search ──▶ quote + cite ──▶ engine ──▶ render ──▶ transports
//!  (files,    (windows,   (essays,  (tantivy, (BM25,     (excerpt,        (façade)   (text,     (cli in the
//!   parsing,   sentences)  passages  on disk)  evidence,  citation,                    html,      binary,
//!   ids)                   by ordinal          decision)  deep link)                   json,      telegram)
//!                          and id)                │                                    labels)
//!                                      lookup + align: "where does this quote come from?"
//! ```
//!
//! and every module imports only modules below it in this list, or beside
//! it in its row (`error`, which nearly every layer uses, is left out of
//! the imports; the leaves at the bottom import nothing of the crate):
//!
//! | layer | modules | imports |
//! | --- | --- | --- |
//! | transports | `cli` (the binary), [`telegram`] | engine, model, render, config, ingest |
//! | rendering | [`render`] (`text`, `html`, `json`, `labels`, `bot_texts`) | model, filter, clean |
//! | façade | [`engine`] | the stages below, model, cite, corpus, config |
//! | quoting | `quote`; `lookup` with `align`; `select` | search, semantic, index, store, model, cite, analysis; select: filter, scope, store, lookup |
//! | ranking | `search` | index, store, analysis, scope |
//! | model side | `semantic` | embed, vectors, store, model, progress |
//! | vectors | `vectors` | embed, store, progress |
//! | index | `index` | store, passage, analysis, names |
//! | passages | `store` with `snapshot`, [`passage`] | model, corpus, analysis, codec |
//! | nouns | [`model`], [`cite`], [`filter`] | cite, corpus, filter |
//! | corpus | [`corpus`]; [`ingest`] beside it (writes the files `corpus` reads) | names, clean, codec; ingest: corpus, config, names |
//! | settings | [`config`] | embed (the Hub's settings) |
//! | model | `embed` (`fetch`, `model`, `bert`, `weights`) | progress |
//! | leaves | `analysis`, `names`, `clean`, `codec`, `scope`, [`progress`], [`error`] | — |
//!
//! - [`corpus`]: reads a folder of `.md`/`.txt` essays; bad files become warnings.
//!   [`corpus::parse_essay`] is public: the file format is part of the product.
//! - [`ingest`]: `citebot add`: web pages, URLs, `.txt` and `.md` files
//!   to essay files in the corpus folder (the article without the site's
//!   furniture, the metadata the source gives, names from author and title).
//! - [`passage`]: paragraphs, split into sentence windows when long.
//! - `store`: the loaded essays and their passages, by ordinal and by id;
//!   what a reload added, changed and removed.
//! - `snapshot`: the store saved beside the index (memory-mapped, checked
//!   by CRCs), so that a start with nothing changed parses no essay; written
//!   with `codec`, a plain byte format.
//! - `analysis`: the one analyzer used for indexing, querying and marking.
//! - `index`: the tantivy index on disk, updated per essay when files change.
//! - `embed`: the sentence-embedding model (all-MiniLM-L6-v2 by default):
//!   finding or downloading it, checking it, running it in process on its
//!   memory-mapped weights.
//! - `vectors`: one `i8` vector per sentence, stored in the index folder and
//!   kept up to date per essay; exact nearest-neighbour search.
//! - `semantic`: the model and the vectors as the engine holds them: ready,
//!   pending or unavailable, and why.
//! - `search`: candidates (BM25 and, with the model, by meaning), their
//!   lexical evidence, and the one ranking and abstention decision.
//! - [`filter`]: what a question is asked within (authors, essays, tags,
//!   dates), parsed from operators in its text (`by:madison`) or given;
//!   `select` matches them to essays (or says what is nearest when nothing
//!   matches) and makes the `scope` that search ranks in, which also
//!   carries a follow-up's bonus for the essay it follows up.
//! - `quote`: the sentences of a passage to show.
//! - [`cite`]: citations and text-fragment deep links that land on their
//!   first match.
//! - `align` and `lookup`: quote verification for `cite`: the quotation
//!   inside a message and who it is attributed to (`lookup::frame`,
//!   `lookup::attribution`), candidates by words and, with the model, by
//!   meaning (`lookup::candidates`), word alignment with written and
//!   unmarked elisions (`align`), one rule per verdict (`lookup::verdict`).
//! - [`model`]: the nouns the engine hands out: answers, hits, passages, verdicts.
//! - [`engine`]: the one seam the transports use: `open`, `ask`, `cite`,
//!   `passage`, `sources`, `reload`.
//! - [`render`]: pure formatting for terminals, Telegram and JSON, with the
//!   fixed words they share in [`render::labels`] and the bot's own fixed
//!   texts in [`render::bot_texts`].
//! - [`config`]: settings and their precedence.
//! - [`telegram`]: the bot, a thin transport over the engine.
//! - `names` (slugs, a stable hash) and `clean` (control characters): small
//!   rules several layers share.
//!
//! Only the façade, the model, `config`, `render`, `error`, the transports,
//! the corpus file format ([`corpus::parse_essay`]), how text splits into
//! passages ([`passage::MAX_WORDS`], [`passage::sentences`]) and the deep
//! link ([`cite::deep_link`]) are public; no tantivy type is.
//!
//! # Example
//!
//! ```
//! use citebot_core::{Engine, EngineOptions, Verdict};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))?; // the workspace root
//! let index = tempfile::tempdir()?; // `index: None` means data/index-<corpus>-<hash>
//! let (engine, _report) = Engine::open(EngineOptions {
//!     corpus: "corpus".into(),
//!     index: Some(index.path().into()),
//!     strict: true,
//!     model: "off".into(), // or a folder, or a Hugging Face repo id
//!     hub: Default::default(),
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
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod answer;
pub mod cite;
pub mod config;
pub mod corpus;
pub mod engine;
pub mod error;
pub mod filter;
pub mod ingest;
pub mod passage;
pub mod progress;
pub mod render;

pub(crate) mod codec;
pub(crate) mod dense;
pub(crate) mod index;
pub(crate) mod lookup;
pub(crate) mod quote;
pub(crate) mod search;
pub(crate) mod select;
pub(crate) mod store;
pub(crate) mod text;

/// Word alignment of a quote with a passage, for `benches/align.rs` alone:
/// not part of the API.
#[doc(hidden)]
pub fn align(quote: &str, passage: &str) -> Option<lookup::align::Alignment> {
    lookup::align::align(quote, passage)
}

#[cfg(test)]
#[path = "../tests/support/paths.rs"]
pub(crate) mod test_paths;

pub use answer::{
    Answer, Attribution, Citation, CiteMatch, CiteResult, Difference, Hit, Passage, PassageView,
    Quote, Source, Verdict,
};
pub use engine::{Ask, Engine, EngineOptions, FollowUp, FollowWeights, OpenReport, SyncReport};
pub use error::{Error, Result};
