//! citebot-core's integration tests: one test binary, one module per area.
//! They drive the engine through its façade (`Engine::open`, `ask`, `cite`,
//! `reload`) on the shipped corpus and on the corpora in `../shared`
//! (found by [`support::paths`], which honours `CITEBOT_SHARED`).

mod support;

mod cite_links;
mod corpus_files;
mod filters;
mod followups;
mod incremental;
mod layout;
mod retrieval;
