//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The corpus folder is missing, empty, or (with `--strict`) has bad files.
    #[error("corpus {path}: {message}")]
    Corpus {
        /// The corpus folder.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An essay's copy saved beside the index is damaged, and its file can
    /// no longer give back the essay that copy held.
    #[error(
        "{path}: its copy saved beside the index is damaged and the file {reason}; open the corpus again to read it afresh"
    )]
    Damaged {
        /// The essay's file.
        path: PathBuf,
        /// What became of the file: changed since it was read, or unreadable.
        reason: String,
    },
    /// The search index failed.
    #[error("index: {0}")]
    Index(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The index folder holds something we cannot use.
    #[error("index {path}: {message}")]
    IndexMeta {
        /// The index folder.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A configuration value is missing or wrong.
    #[error("config: {0}")]
    Config(String),
    /// The sentence-embedding model could not be fetched, loaded or run.
    #[error("model: {0}")]
    Model(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps an error of the search library, which stays out of the public API.
    pub(crate) fn index(error: impl Into<tantivy::TantivyError>) -> Self {
        Error::Index(Box::new(error.into()))
    }
}

/// Shorthand for results with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
