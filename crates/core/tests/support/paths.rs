//! Where the tests find their data: the repository (its shipped `corpus/`,
//! `config/`, `eval/`) and `../shared` beside it (corpora, eval sets, the
//! model). The one definition of both: the core's unit tests, its
//! integration tests and the binary's tests all include this file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root: the first folder above this crate that holds the
/// `Cargo.lock`.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .expect("the workspace root holds Cargo.lock")
        .to_path_buf()
}

/// The shared data: `$CITEBOT_SHARED`, else `shared/` beside the repository.
pub fn shared() -> PathBuf {
    match std::env::var_os("CITEBOT_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo()
            .parent()
            .expect("the repository has a parent folder")
            .join("shared"),
    }
}

/// The shared copy of all-MiniLM-L6-v2.
pub fn model() -> PathBuf {
    shared().join("models").join("all-MiniLM-L6-v2")
}

/// A shared corpus by name (`federalist`, `essays`, `seeds`).
pub fn corpus(name: &str) -> PathBuf {
    shared().join("corpora").join(name)
}

/// The corpus shipped in the repository.
pub fn shipped_corpus() -> PathBuf {
    repo().join("corpus")
}

/// [`corpus`] as text, for the arguments and case tables that take `&str`.
pub fn corpus_arg(name: &str) -> &'static str {
    Box::leak(corpus(name).display().to_string().into_boxed_str())
}
