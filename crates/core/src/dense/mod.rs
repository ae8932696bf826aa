//! Semantic: the model and the stored vectors together, as the engine holds
//! them: what is ready, what is missing and why, and the dense side of one
//! question.
//!
//! The engine starts lexical and becomes hybrid once the model is loaded
//! and every passage has vectors: at once when both are already on disk,
//! otherwise after [`Semantic::prepare`] has fetched what it may and
//! embedded what is missing. Until then, and for good when the model is
//! off or cannot be had, answers are lexical; [`ModelState`] says why.

pub(crate) mod embed;
pub(crate) mod question;
pub(crate) mod vectors;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use crate::answer::ModelState;
use crate::dense::embed::{
    Download, EmbedError, Encoder, HubSettings, ModelFiles, ModelSetting, locate,
};
use crate::dense::vectors::{VectorError, VectorReport, Vectors};
use crate::progress::Progress;
use crate::store::Store;

/// The file in the index folder that caches the weights' sha256 for a
/// model folder (a Hub snapshot names its blobs by their sha256 already).
const WEIGHTS_KEY_FILE: &str = "model-key.json";
/// Held while vectors are written, so two processes never append at once.
const LOCK_FILE: &str = "vectors.lock";

/// A loaded model with complete vectors: what hybrid search needs.
pub(crate) struct Dense {
    pub encoder: Arc<Encoder>,
    pub vectors: Vectors,
}

/// The dense side of one question.
pub(crate) struct DenseQuery {
    /// The question's unit vector.
    pub vector: Vec<f32>,
    /// Every passage's similarity (best sentence's cosine), by ordinal.
    pub similarity: Vec<f32>,
}

impl Dense {
    /// Embeds `question` and scores every passage against it.
    pub fn query(&self, question: &str) -> Result<DenseQuery, EmbedError> {
        let vector = self.encoder.encode(&[question])?.remove(0);
        let similarity = self.vectors.similarities(&vector);
        Ok(DenseQuery { vector, similarity })
    }
}

/// The model side of an engine: settings, the encoder once loaded, the
/// vectors once complete, and the state to report.
pub(crate) struct Semantic {
    setting: ModelSetting,
    hub: HubSettings,
    index_dir: PathBuf,
    encoder: Mutex<Option<Arc<Encoder>>>,
    /// Written whole, so read and written past poisoning like the mutexes ([`held`]).
    ready: RwLock<Option<Arc<Dense>>>,
    state: Mutex<ModelState>,
}

impl Semantic {
    /// The model side for `setting`, using what is already on disk: the
    /// model if it is there (never downloading), and the vectors if every
    /// passage of `store` has them. `previous` lends its loaded encoder.
    pub fn open(
        setting: ModelSetting,
        hub: HubSettings,
        index_dir: &Path,
        store: &Store,
        previous: Option<&Semantic>,
    ) -> Semantic {
        let semantic = Semantic {
            state: Mutex::new(if setting == ModelSetting::Off {
                ModelState::Off
            } else {
                ModelState::Pending {
                    done: 0,
                    total: store.len(),
                }
            }),
            setting,
            hub,
            index_dir: index_dir.to_path_buf(),
            encoder: Mutex::new(previous.and_then(|p| held(&p.encoder).clone())),
            ready: RwLock::new(None),
        };
        if semantic.setting != ModelSetting::Off
            && let Err(why) = semantic.load(store, Download::Never, &|_| {}, false)
        {
            tracing::debug!(%why, "the model is not ready yet");
        }
        semantic
    }

    /// What is ready for a question: `None` means lexical.
    pub fn dense(&self) -> Option<Arc<Dense>> {
        self.ready
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The model's state, for reports.
    pub fn state(&self) -> ModelState {
        held(&self.state).clone()
    }

    /// The setting, as the user wrote it.
    pub fn setting(&self) -> &ModelSetting {
        &self.setting
    }

    /// The loaded model's folder, if one is loaded.
    pub fn location(&self) -> Option<PathBuf> {
        let encoder = held(&self.encoder);
        encoder.as_ref().map(|e| e.files().dir.clone())
    }

    /// Makes the engine hybrid if it can: fetches the model when `download`
    /// allows and the cache lacks it, loads it, and embeds every passage of
    /// `store` that has no vectors. A model that cannot be had is not an
    /// error: the state says why and answers stay lexical.
    pub fn prepare(
        &self,
        store: &Store,
        download: Download,
        progress: &dyn Fn(Progress),
    ) -> ModelState {
        if self.setting == ModelSetting::Off || self.dense().is_some() {
            return self.state();
        }
        if let Err(why) = self.load(store, download, progress, true) {
            // The transports say it to the user (see `labels::model_notice`).
            tracing::debug!(%why, "answering lexically");
            *held(&self.state) = ModelState::Unavailable {
                reason: why.to_string(),
                cause: why.cause(),
            };
        }
        self.state()
    }

    /// Loads the encoder and the vectors; embeds missing ones when `embed`.
    fn load(
        &self,
        store: &Store,
        download: Download,
        progress: &dyn Fn(Progress),
        embed: bool,
    ) -> Result<Option<VectorReport>, VectorError> {
        let encoder = self.encoder(download, progress)?;
        let key = weights_key(encoder.files(), &self.index_dir)?;
        let mut vectors = Vectors::open(&self.index_dir, store, &key, encoder.dim())?;
        *held(&self.state) = ModelState::Pending {
            done: store.len() - vectors.missing_passages(store),
            total: store.len(),
        };
        let mut report = None;
        if !vectors.complete() && embed {
            std::fs::create_dir_all(&self.index_dir).map_err(|e| VectorError::Io {
                path: self.index_dir.clone(),
                source: e,
            })?;
            let lock = lock(&self.index_dir)?;
            // Another process may have finished while we waited.
            vectors = Vectors::open(&self.index_dir, store, &key, encoder.dim())?;
            let before = store.len() - vectors.missing_passages(store);
            let track = |step: Progress| {
                if let Progress::Embed { done, .. } = step {
                    *held(&self.state) = ModelState::Pending {
                        done: before + done,
                        total: store.len(),
                    };
                }
                progress(step);
            };
            let filled = vectors.fill(store, &encoder, &track)?;
            drop(lock);
            tracing::info!(
                rows = filled.rows,
                seconds = filled.seconds,
                tokens_per_second = filled.tokens as f64 / filled.seconds.max(1e-9),
                "vectors embedded"
            );
            report = Some(filled);
        }
        if vectors.complete() {
            *held(&self.state) = ModelState::Ready {
                model: self.setting.to_string(),
                folder: encoder.files().dir.clone(),
            };
            *self.ready.write().unwrap_or_else(PoisonError::into_inner) =
                Some(Arc::new(Dense { encoder, vectors }));
        }
        Ok(report)
    }

    /// The loaded encoder, loading it (and fetching it, when allowed) the first time.
    fn encoder(
        &self,
        download: Download,
        progress: &dyn Fn(Progress),
    ) -> Result<Arc<Encoder>, EmbedError> {
        let mut slot = held(&self.encoder);
        if let Some(encoder) = slot.as_ref() {
            return Ok(encoder.clone());
        }
        let files =
            locate(&self.setting, &self.hub, download, progress)?.expect("the model is not off");
        let encoder = Arc::new(Encoder::load(&files)?);
        *slot = Some(encoder.clone());
        Ok(encoder)
    }
}

/// The value behind `mutex`, also after a thread panicked holding it, as
/// the transports do: every value here (a state, an optional encoder) is
/// replaced whole under the lock, so a panic leaves the last one whole.
fn held<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An exclusive lock on the index folder's vectors, held until dropped;
/// waits for another process that holds it.
fn lock(dir: &Path) -> Result<std::fs::File, VectorError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| VectorError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct WeightsKey {
    path: PathBuf,
    len: u64,
    modified_ns: u128,
    sha256: String,
}

/// The sha256 of the model's weights, which keys the stored vectors: read
/// from a Hub snapshot's blob name, else computed once per weights file
/// (size and modification time) and cached in the index folder.
fn weights_key(files: &ModelFiles, index_dir: &Path) -> Result<String, VectorError> {
    let weights = files.file("model.safetensors");
    if let Ok(target) = std::fs::read_link(&weights)
        && let Some(name) = target.file_name().and_then(|n| n.to_str())
        && name.len() == 64
        && name.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok(name.to_ascii_lowercase());
    }
    let meta = std::fs::metadata(&weights).map_err(|e| VectorError::Io {
        path: weights.clone(),
        source: e,
    })?;
    let path = std::fs::canonicalize(&weights).unwrap_or(weights.clone());
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let cache = index_dir.join(WEIGHTS_KEY_FILE);
    if let Some(known) = std::fs::read_to_string(&cache)
        .ok()
        .and_then(|t| serde_json::from_str::<WeightsKey>(&t).ok())
        && known.path == path
        && known.len == meta.len()
        && known.modified_ns == modified_ns
    {
        return Ok(known.sha256);
    }
    let key = WeightsKey {
        sha256: crate::dense::embed::sha256_file(&weights)?,
        path,
        len: meta.len(),
        modified_ns,
    };
    if std::fs::create_dir_all(index_dir).is_ok() {
        // A cache: failing to write it only costs hashing again next time.
        let _ = std::fs::write(&cache, serde_json::to_string(&key).expect("serialises"));
    }
    Ok(key.sha256)
}
