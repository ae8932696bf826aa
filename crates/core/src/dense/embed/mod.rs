//! Embed: the sentence-embedding model that lets citebot match a question
//! asked in the reader's own words ("the President's veto") to the words
//! an essay uses ("the qualified negative of the President").
//!
//! - [`fetch`]: where the model's files come from: a folder, the Hugging
//!   Face cache, or a download into it, checked against pinned sha256s.
//! - [`encoder`]: loading the files and turning text into unit vectors;
//!   [`bert`] runs the network itself.
//! - [`weights`]: the mapped `model.safetensors`, read in place.
//!
//! Nothing here is required: with no model, citebot answers lexically.

mod bert;
mod encoder;
mod fetch;
mod weights;

use std::path::{Path, PathBuf};

pub(crate) use encoder::{Encoder, ModelFiles};
pub use fetch::HubSettings;
pub(crate) use fetch::{Download, ModelSetting, locate, sha256_file};

/// Why the model could not be found, fetched, loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file the model needs is not there.
    #[error("{path} is missing")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// A model file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model file is not what it should be.
    #[error("{path}: {message}")]
    BadFile {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The repo is not in the Hugging Face cache, and downloading was not allowed.
    #[error("{repo} is not in the Hugging Face cache ({cache})")]
    NotCached {
        /// The repo id.
        repo: String,
        /// Where it was looked for.
        cache: PathBuf,
    },
    /// `HF_HUB_OFFLINE` forbids downloading a repo that is not in the cache.
    #[error("{repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set")]
    Offline {
        /// The repo id.
        repo: String,
    },
    /// Downloading a file failed.
    #[error("downloading {url}: {message}")]
    Download {
        /// What was being downloaded.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A downloaded file's content is not the expected one; it was not kept.
    #[error(
        "{file} from {url} has sha256 {actual}, not the expected {expected}; the download was refused"
    )]
    Checksum {
        /// The file, as named in the repo.
        file: String,
        /// Where it came from.
        url: String,
        /// The sha256 it should have.
        expected: String,
        /// The sha256 it has.
        actual: String,
    },
    /// Running the model failed.
    #[error("running the model: {0}")]
    Encode(String),
}

impl From<EmbedError> for crate::error::Error {
    fn from(error: EmbedError) -> Self {
        crate::error::Error::Model(Box::new(error))
    }
}

impl EmbedError {
    /// What kind of trouble this is, which names the fix.
    pub fn cause(&self) -> crate::answer::ModelTrouble {
        use crate::answer::ModelTrouble;
        match self {
            // A download refused for its checksum was not kept: fetch again.
            EmbedError::Missing { .. }
            | EmbedError::NotCached { .. }
            | EmbedError::Offline { .. }
            | EmbedError::Download { .. }
            | EmbedError::Checksum { .. } => ModelTrouble::Absent,
            EmbedError::Io { path, source } => io_trouble(path, source)
                .unwrap_or_else(|| ModelTrouble::Damaged { file: path.clone() }),
            EmbedError::BadFile { path, .. } => ModelTrouble::Damaged { file: path.clone() },
            EmbedError::Encode(_) => ModelTrouble::Absent,
        }
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        EmbedError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The trouble an I/O error on `path` is when it is about the folder rather
/// than the file: a full disk, a read-only or unwritable folder, or a file
/// where a folder should be (the folder is `path`'s parent); a missing file
/// is absent. None for anything else.
pub(crate) fn io_trouble(
    path: &Path,
    source: &std::io::Error,
) -> Option<crate::answer::ModelTrouble> {
    use crate::answer::ModelTrouble;
    use std::io::ErrorKind;
    let folder = || {
        // The nearest ancestor that is not a folder, when one is a file.
        let mut at = path.parent();
        while let Some(dir) = at {
            if dir.is_file() {
                return dir.to_path_buf();
            }
            at = dir.parent();
        }
        path.parent().unwrap_or(path).to_path_buf()
    };
    match source.kind() {
        ErrorKind::StorageFull
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::PermissionDenied
        | ErrorKind::NotADirectory
        | ErrorKind::QuotaExceeded
        | ErrorKind::AlreadyExists => Some(ModelTrouble::Unwritable { folder: folder() }),
        ErrorKind::NotFound => Some(ModelTrouble::Absent),
        _ => None,
    }
}
