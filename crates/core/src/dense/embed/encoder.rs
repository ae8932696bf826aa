//! The encoder: a BERT sentence-embedding model (all-MiniLM-L6-v2 by default)
//! loaded from the Hugging Face layout and run with candle on the CPU.
//!
//! Text is tokenised with the model's own `tokenizer.json`, truncated at the
//! model's maximum sequence length (`sentence_bert_config.json`, 256 tokens
//! for MiniLM), run through the encoder, mean-pooled over the attention mask
//! and L2-normalised, so that the cosine similarity of two texts is the dot
//! product of their vectors.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationParams};

use super::EmbedError;
use super::bert::{Bert, BertConfig};
use super::weights::Weights;

/// Files a model folder must hold.
pub(crate) const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// Sequence length used when the folder does not say (`sentence_bert_config.json`).
const DEFAULT_MAX_TOKENS: usize = 256;
/// Tokens per forward pass: enough rows to keep the matrix products
/// efficient, few enough that the activations stay in cache.
const BATCH_TOKENS: usize = 512;

/// A model folder, and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelFiles {
    /// The folder with `config.json`, `tokenizer.json` and `model.safetensors`.
    pub dir: PathBuf,
    /// How the user named it: a Hub repo id, or the folder.
    pub name: String,
}

impl ModelFiles {
    /// The path of one of the model's files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

/// A loaded sentence encoder.
pub(crate) struct Encoder {
    bert: Bert,
    tokenizer: Tokenizer,
    max_tokens: usize,
    dim: usize,
    files: ModelFiles,
    /// One single-threaded pool per core: each runs whole forward passes,
    /// which keeps every core busy with less synchronisation than splitting
    /// each matrix product across cores.
    workers: Vec<rayon::ThreadPool>,
    /// All cores for one short text (a question), split column-wise.
    shared: rayon::ThreadPool,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("model", &self.files.name)
            .field("dim", &self.dim)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

impl Encoder {
    /// Loads the model in `files` (its folder must hold [`REQUIRED_FILES`]).
    pub fn load(files: &ModelFiles) -> Result<Encoder, EmbedError> {
        for name in REQUIRED_FILES {
            let path = files.file(name);
            if !path.is_file() {
                return Err(EmbedError::Missing { path });
            }
        }
        let bad = |path: &Path, message: String| EmbedError::BadFile {
            path: path.to_path_buf(),
            message,
        };
        let config_path = files.file("config.json");
        let config: BertConfig = read_json(&config_path)?;
        if let Some(pooling) =
            read_optional_json::<PoolingConfig>(&files.file("1_Pooling/config.json"))?
            && !pooling.pooling_mode_mean_tokens
        {
            return Err(bad(
                &files.file("1_Pooling/config.json"),
                "only mean pooling is supported".into(),
            ));
        }
        let max_tokens =
            read_optional_json::<SentenceBertConfig>(&files.file("sentence_bert_config.json"))?
                .and_then(|c| c.max_seq_length)
                .unwrap_or(DEFAULT_MAX_TOKENS)
                .min(config.max_position_embeddings);

        let tokenizer_path = files.file("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;

        let weights_path = files.file("model.safetensors");
        let weights = Weights::open(&weights_path)?;
        let dim = config.hidden_size;
        let bert = Bert::load(config, &weights).map_err(|e| match e {
            EmbedError::Encode(message) => bad(&weights_path, message),
            other => other,
        })?;
        Ok(Encoder {
            bert,
            tokenizer,
            max_tokens,
            dim,
            files: files.clone(),
            workers: (0..std::thread::available_parallelism().map_or(1, |n| n.get()))
                .map(|_| rayon::ThreadPoolBuilder::new().num_threads(1).build())
                .collect::<Result<_, _>>()
                .map_err(|e| EmbedError::Encode(e.to_string()))?,
            shared: rayon::ThreadPoolBuilder::new()
                .build()
                .map_err(|e| EmbedError::Encode(e.to_string()))?,
        })
    }

    /// The length of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Where the model came from.
    pub fn files(&self) -> &ModelFiles {
        &self.files
    }

    /// The token ids of `text`, truncated, with the model's special tokens.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self
            .tokenizer
            .encode_fast(text, true)
            .map_err(|e| EmbedError::Encode(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The unit vector of each text, in order.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let tokens = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<Vec<_>, _>>()?;
        self.encode_tokens(&tokens)
    }

    /// The unit vector of each tokenised text (see [`Encoder::tokenize`]), in order.
    ///
    /// Texts run in batches of about [`BATCH_TOKENS`] tokens, one batch per
    /// core at a time.
    pub fn encode_tokens(&self, tokens: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
        let mut start = 0;
        let mut size = 0;
        for (i, text) in tokens.iter().enumerate() {
            if size > 0 && size + text.len() > BATCH_TOKENS {
                batches.push(start..i);
                start = i;
                size = 0;
            }
            size += text.len();
        }
        if start < tokens.len() {
            batches.push(start..tokens.len());
        }
        if let [only] = tokens {
            return Ok(vec![
                self.shared
                    .install(|| self.bert.embed(&[only.as_slice()]))?
                    .remove(0),
            ]);
        }
        let workers = self.workers.len().min(batches.len()).max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Numbered, EmbedError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self.workers[..workers]
                .iter()
                .map(|pool| {
                    let (next, batches) = (&next, &batches);
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(batch) = batches.get(b) else {
                                return Ok(done);
                            };
                            let texts: Vec<&[u32]> =
                                tokens[batch.clone()].iter().map(Vec::as_slice).collect();
                            let vectors = pool.install(|| self.bert.embed(&texts))?;
                            done.extend(batch.clone().zip(vectors));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an encoder worker panicked"))
                .collect()
        });
        let mut out = vec![Vec::new(); tokens.len()];
        for result in results {
            for (i, vector) in result? {
                out[i] = vector;
            }
        }
        Ok(out)
    }
}

/// Vectors with the index of the text each belongs to.
type Numbered = Vec<(usize, Vec<f32>)>;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmbedError> {
    let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| EmbedError::BadFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn read_optional_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, EmbedError> {
    if path.is_file() {
        read_json(path).map(Some)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared copy of the model that tests, benchmarks and CI use.
    fn shared_model() -> ModelFiles {
        ModelFiles {
            dir: crate::test_paths::model(),
            name: "all-MiniLM-L6-v2".into(),
        }
    }

    #[derive(Deserialize)]
    struct Reference {
        text: String,
        tokens: usize,
        embedding: Vec<f32>,
    }

    /// The vectors agree with a plain numpy implementation of the model
    /// (`scripts/reference_embed.py`), batched or one at a time, long
    /// inputs truncated at 256 tokens.
    #[test]
    fn matches_the_reference_implementation() {
        let encoder = Encoder::load(&shared_model()).unwrap();
        assert_eq!(encoder.dim(), 384);
        assert_eq!(encoder.max_tokens, 256);
        let fixture = std::fs::read_to_string(
            crate::test_paths::repo().join("crates/core/tests/fixtures/embeddings.json"),
        )
        .unwrap();
        let references: Vec<Reference> = serde_json::from_str(&fixture).unwrap();
        let texts: Vec<&str> = references.iter().map(|r| r.text.as_str()).collect();
        let batched = encoder.encode(&texts).unwrap();
        for (reference, vector) in references.iter().zip(&batched) {
            assert_eq!(
                encoder.tokenize(&reference.text).unwrap().len(),
                reference.tokens
            );
            let worst = vector
                .iter()
                .zip(&reference.embedding)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{:?}: off by {worst}", reference.text);
            // Alone, a short text takes the 8-bit path: close, not equal.
            let alone = &encoder.encode(&[reference.text.as_str()]).unwrap()[0];
            let cosine: f32 = alone
                .iter()
                .zip(&reference.embedding)
                .map(|(a, b)| a * b)
                .sum();
            println!("{:?}: cosine alone {cosine:.6}", reference.text);
            assert!(cosine > 0.999, "{:?}: cosine {cosine}", reference.text);
        }
    }

    #[test]
    fn a_folder_without_the_weights_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["config.json", "tokenizer.json"] {
            std::fs::copy(shared_model().file(name), dir.path().join(name)).unwrap();
        }
        let files = ModelFiles {
            dir: dir.path().into(),
            name: "partial".into(),
        };
        let err = Encoder::load(&files).unwrap_err();
        assert!(
            err.to_string().contains("model.safetensors is missing"),
            "{err}"
        );
    }
}
