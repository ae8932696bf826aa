//! citebot answers questions with quoted, cited excerpts from a corpus of
//! essays. It never writes prose of its own: every answer is the essays' own
//! words, with author, title, publication, date, paragraph and a link that
//! lands on the quoted words.
//!
//! # Layout
//!
//! This crate is the engine; the `citebot` package beside it holds the
//! transports (the command line and the Telegram bot) and reaches the
//! engine only through its façade. Data flows one way:
//!
//! ```text
//!  corpus ─▶ passage ─▶ store ─▶ index ─┬─▶ search ─▶ quote + cite ─▶ engine ─▶ render ─▶ transports
//!  (files,   (windows,  (essays,  (tantivy)│   (BM25,     (excerpt,      (façade) (text,    (the citebot
//!   parsing,  sentences) passages          │    evidence,  citation,               html,     package: CLI,
//!   ids)                 by ordinal  dense ─┘    decision)  deep link)             json,     Telegram)
//!                        and id)   (model,          lookup + align: "where          labels)
//!                                   vectors)        does this quote come from?"
//! ```
//!
//! Folders mirror the layers, and every module imports only modules in
//! the rows below its own, or beside it in its row. `error`, which every
//! layer uses, is left out of the imports. The leaves at the bottom import
//! nothing of the crate.
//!
//! | layer | modules | imports |
//! | --- | --- | --- |
//! | rendering | [`render`]: for terminals, Telegram (HTML) and JSON, with [`render::labels`] and [`render::bot_texts`] | answer, filter, text |
//! | façade | [`engine`] | every row below |
//! | settings | [`config`]; [`ingest`] (`citebot add`) | config: dense (the Hub's settings), filter; ingest: config, corpus, text |
//! | quoting | `quote`; `lookup/` with its `align/`; `select` | search, dense, index, store, passage, answer, cite, text; select: lookup, search, filter, corpus, store |
//! | ranking | `search/` with its `scope` | index, store, text |
//! | meaning | `dense/`: the model (`embed/`: `encoder`, `bert`, `weights`, `fetch`), its `vectors`, and their state | answer, store, progress |
//! | index | `index` | store, passage, text |
//! | passages | `store/` with its `snapshot`; [`passage`] | answer, passage, corpus, codec, text |
//! | nouns | [`answer`], [`cite`], [`filter`] | answer: cite, corpus, filter; cite: corpus |
//! | corpus | [`corpus`] | codec, text |
//! | leaves | `text/` (`analysis`, `clean`, `names`), `codec`, [`progress`], [`error`] | — |
//!
//! - [`corpus`]: reads a folder of `.md`/`.txt` essays; bad files become warnings.
//!   [`corpus::parse_essay`] is public: the file format is part of the product.
//! - [`ingest`]: `citebot add`: web pages, URLs, PDF, EPUB, DOCX, `.txt` and
//!   `.md` files to essay files in the corpus folder (the article without
//!   the site's furniture, the metadata the source gives, names from author
//!   and title).
//! - [`passage`]: paragraphs, split into sentence windows when long.
//! - `store`: the loaded essays and their passages, by ordinal and by id;
//!   what a reload added, changed and removed. Its `snapshot` saves it
//!   beside the index (memory-mapped, checked by CRCs), so that a start
//!   with nothing changed parses no essay; written with `codec`, a plain
//!   byte format.
//! - `text`: the one analyzer used for indexing, querying and marking
//!   (`analysis`), control characters (`clean`), slugs and a stable hash
//!   (`names`).
//! - `index`: the tantivy index on disk, updated per essay when files change.
//! - `dense`: search by meaning. The sentence-embedding model
//!   (all-MiniLM-L6-v2 by default) in `embed`: finding or downloading it
//!   (`fetch`, behind the `net` feature), checking it, running it in
//!   process on its memory-mapped weights (`encoder`, `bert`, `weights`);
//!   `vectors`: one `i8` vector per sentence and per passage, stored in the
//!   index folder and kept up to date per essay, searched exactly; and the
//!   two as the engine holds them: ready, pending or unavailable, and why.
//! - `search`: candidates (BM25 and, with the model, by meaning), their
//!   lexical evidence, and the one ranking and abstention decision; its
//!   `scope` is the set of paragraphs a question is asked within.
//! - [`filter`]: what a question is asked within (authors, essays, tags,
//!   dates), parsed from operators in its text (`by:madison`) or given;
//!   `select` matches them to essays (or says what is nearest when nothing
//!   matches) and makes the scope that search ranks in, which also carries
//!   a follow-up's bonus for the essay it follows up.
//! - `quote`: the sentences of a passage to show.
//! - [`cite`]: citations and text-fragment deep links that land on their
//!   first match.
//! - `lookup` with its `align`: quote verification for `cite`: the
//!   quotation inside a message and who it is attributed to (`frame`,
//!   `attribution`), candidates by words and, with the model, by meaning,
//!   word alignment with written and unmarked elisions (`align`), one rule
//!   per verdict.
//! - [`answer`]: the nouns the engine hands out: answers, hits, passages,
//!   verdicts, the model's state.
//! - [`engine`]: the one seam the transports use: `open`, `ask`, `cite`,
//!   `passage`, `sources`, `reload`.
//! - [`render`]: pure formatting for terminals, Telegram and JSON, with the
//!   fixed words they share in [`render::labels`] and the bot's own fixed
//!   texts in [`render::bot_texts`].
//! - [`config`]: settings and their precedence, read once.
//!
//! Only the façade, the nouns, `config`, `render`, `error`, `ingest`, the
//! corpus file format ([`corpus::parse_essay`]), how text splits into
//! passages ([`passage::MAX_WORDS`], [`passage::sentences`]) and the deep
//! link ([`cite::deep_link`]) are public; no tantivy type is.
//!
//! # Features
//!
//! - `net` (off by default): the HTTP client that downloads the model from
//!   the Hugging Face Hub and fetches `citebot add URL`. Without it the
//!   engine's dependency tree holds no HTTP client: a model must already
//!   be in a folder or the Hugging Face cache. The `citebot` binary turns
//!   it on.
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
//!     corpus: "corpus".into(), // a folder of essays
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
