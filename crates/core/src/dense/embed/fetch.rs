//! Fetch: where the model's files come from.
//!
//! The `model` setting names a folder in the Hugging Face layout, a Hub repo
//! id (`sentence-transformers/all-MiniLM-L6-v2`, optionally `@revision`), or
//! `off`. A repo id is looked up in the standard Hugging Face cache
//! (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`),
//! laid out as the `huggingface_hub` library lays it out, so the two share
//! downloads:
//!
//! ```text
//! models--{org}--{name}/
//!   blobs/{sha256}                    the files' contents
//!   refs/{revision}                   the commit a revision points at
//!   snapshots/{commit}/{file}         links to the blobs
//! ```
//!
//! A file missing from the cache is downloaded from
//! `$HF_ENDPOINT/{repo}/resolve/{revision}/{file}` (default endpoint
//! `https://huggingface.co`) once, with a progress bar on a terminal, and its
//! sha256 is checked before it enters the cache: against the pinned value
//! for the default model, or against the Hub's own content hash for others
//! (the `X-Linked-Etag` of a large file, which the Hub sends on its redirect
//! to the CDN, so redirects are followed here, not by the HTTP client).
//! `HF_HUB_OFFLINE=1` forbids downloads.
//!
//! Why not the `hf-hub` crate: 1.0 brings a second reqwest, the Xet client
//! and aws-lc-sys (a C library) into the tree, about 100 crates; 0.5 brings
//! a second HTTP client (ureq) beside reqwest, has no connect timeout to set
//! (on a network that drops packets `ask` would wait out the system's TCP
//! timeout, about two minutes, before answering lexically), and moves a file
//! into the cache before anyone can check its sha256. Neither reads
//! `HF_HUB_OFFLINE`, nor sets a connect timeout.

use std::io::Read;
#[cfg(feature = "net")]
use std::io::Write;
use std::path::{Path, PathBuf};
#[cfg(feature = "net")]
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::EmbedError;
use super::encoder::{ModelFiles, REQUIRED_FILES};
use crate::progress::Progress;

/// The model used unless the config names another.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) const DEFAULT_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The revision of a repo id given without `@revision`.
const DEFAULT_REVISION: &str = "main";
/// Files fetched beside [`REQUIRED_FILES`] when the repo has them.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
const OPTIONAL_FILES: [&str; 2] = ["sentence_bert_config.json", "1_Pooling/config.json"];
/// The sha256 of the default model's files, as the Hub serves them.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
const PINNED: [(&str, &str); 5] = [
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    (
        "sentence_bert_config.json",
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    ),
    (
        "1_Pooling/config.json",
        "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    ),
];
/// How long a connection to the Hub may take before citebot gives up and
/// answers without the model.
#[cfg(feature = "net")]
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many redirects a download follows (a renamed repo, then the CDN).
#[cfg(feature = "net")]
const MAX_REDIRECTS: usize = 10;

/// What the `model` setting names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModelSetting {
    /// No model: lexical retrieval only.
    Off,
    /// A folder in the Hugging Face layout.
    Folder(PathBuf),
    /// A Hub repository, at a revision.
    Hub {
        /// `org/name`.
        repo: String,
        /// A branch, tag or commit.
        revision: String,
    },
}

impl ModelSetting {
    /// Reads a `model` value: `off`, a folder, or `org/name[@revision]`.
    ///
    /// A value that names an existing folder is that folder; otherwise a
    /// value of the form `org/name` is a repo id, and anything else a folder
    /// (which will be reported missing).
    pub fn parse(value: &str) -> ModelSetting {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("off") {
            return ModelSetting::Off;
        }
        if Path::new(value).is_dir() {
            return ModelSetting::Folder(PathBuf::from(value));
        }
        let (repo, revision) = value.split_once('@').unwrap_or((value, DEFAULT_REVISION));
        let part = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match repo.split_once('/') {
            Some((org, name)) if part(org) && part(name) && part(revision) => ModelSetting::Hub {
                repo: repo.to_string(),
                revision: revision.to_string(),
            },
            _ => ModelSetting::Folder(PathBuf::from(value)),
        }
    }
}

impl std::fmt::Display for ModelSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSetting::Off => f.write_str("off"),
            ModelSetting::Folder(dir) => write!(f, "{}", dir.display()),
            ModelSetting::Hub { repo, revision } if revision == DEFAULT_REVISION => {
                f.write_str(repo)
            }
            ModelSetting::Hub { repo, revision } => write!(f, "{repo}@{revision}"),
        }
    }
}

/// Where the Hub and its cache are: the variables the `huggingface_hub`
/// library reads, read once by the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// `$HF_ENDPOINT`, default `https://huggingface.co`.
    pub endpoint: String,
    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    pub cache: PathBuf,
    /// `$HF_HUB_OFFLINE` is set to a true value: never download.
    pub offline: bool,
}

impl Default for HubSettings {
    /// The settings with none of the variables set.
    fn default() -> Self {
        HubSettings::from_env(&std::collections::BTreeMap::new())
    }
}

impl HubSettings {
    /// The settings that the variables in `env` give.
    pub fn from_env(env: &std::collections::BTreeMap<String, String>) -> HubSettings {
        let var = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let home = var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let cache = var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(var("HOME").unwrap_or(".")).join(".cache"));
            cache.join("huggingface")
        });
        HubSettings {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or("https://huggingface.co")
                .trim_end_matches('/')
                .to_string(),
            cache: var("HF_HUB_CACHE").map_or_else(|| home.join("hub"), PathBuf::from),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
        }
    }
}

/// Whether [`locate`] may download what the cache lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Download {
    /// Download missing files (unless offline).
    IfMissing,
    /// Use only what is already on disk.
    Never,
}

/// The model folder a setting names, downloading a Hub model's missing files
/// when `download` allows; `None` for `off`.
pub(crate) fn locate(
    setting: &ModelSetting,
    hub: &HubSettings,
    download: Download,
    progress: &dyn Fn(Progress),
) -> Result<Option<ModelFiles>, EmbedError> {
    match setting {
        ModelSetting::Off => Ok(None),
        ModelSetting::Folder(dir) => Ok(Some(ModelFiles {
            dir: dir.clone(),
            name: dir.display().to_string(),
        })),
        ModelSetting::Hub { repo, revision } => {
            let cache = RepoCache::new(hub, repo);
            if let Some(dir) = cache.snapshot(revision) {
                return Ok(Some(ModelFiles {
                    dir,
                    name: setting.to_string(),
                }));
            }
            if download == Download::Never {
                return Err(EmbedError::NotCached {
                    repo: repo.clone(),
                    cache: cache.root,
                });
            }
            if hub.offline {
                return Err(EmbedError::Offline { repo: repo.clone() });
            }
            let dir = fetch(hub, &cache, repo, revision, progress)?;
            Ok(Some(ModelFiles {
                dir,
                name: setting.to_string(),
            }))
        }
    }
}

/// One repo's folder in the Hugging Face cache.
struct RepoCache {
    root: PathBuf,
}

impl RepoCache {
    fn new(hub: &HubSettings, repo: &str) -> RepoCache {
        RepoCache {
            root: hub
                .cache
                .join(format!("models--{}", repo.replace('/', "--"))),
        }
    }

    /// The snapshot folder of `revision`, if it holds every required file.
    fn snapshot(&self, revision: &str) -> Option<PathBuf> {
        let commit = std::fs::read_to_string(self.root.join("refs").join(revision))
            .map(|c| c.trim().to_string())
            .unwrap_or_else(|_| revision.to_string());
        let dir = self.root.join("snapshots").join(commit);
        REQUIRED_FILES
            .iter()
            .all(|f| dir.join(f).is_file())
            .then_some(dir)
    }
}

/// What the Hub said about one file.
#[cfg(feature = "net")]
struct Fetched {
    /// The commit the revision resolved to, if the server said.
    commit: Option<String>,
    /// The blob's sha256, verified.
    sha256: String,
}

/// Downloads the model's files into the cache; returns the snapshot folder.
#[cfg(feature = "net")]
fn fetch(
    hub: &HubSettings,
    cache: &RepoCache,
    repo: &str,
    revision: &str,
    progress: &dyn Fn(Progress),
) -> Result<PathBuf, EmbedError> {
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(None)
        // Followed by `download`, which reads the Hub's headers on the way.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("citebot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EmbedError::Download {
            url: hub.endpoint.clone(),
            message: e.to_string(),
        })?;
    let blobs = cache.root.join("blobs");
    std::fs::create_dir_all(&blobs).map_err(|e| EmbedError::io(&blobs, e))?;
    let mut fetched = Vec::new();
    for (file, required) in REQUIRED_FILES
        .iter()
        .map(|f| (*f, true))
        .chain(OPTIONAL_FILES.iter().map(|f| (*f, false)))
    {
        let url = format!("{}/{repo}/resolve/{revision}/{file}", hub.endpoint);
        let pinned = (repo == DEFAULT_REPO)
            .then(|| PINNED.iter().find(|(f, _)| *f == file).map(|(_, sha)| *sha))
            .flatten();
        match download(&client, &url, file, &blobs, pinned, progress)? {
            Some(got) => fetched.push((file, got)),
            None if required => {
                return Err(EmbedError::Download {
                    url,
                    message: "not found (404)".into(),
                });
            }
            None => {}
        }
    }
    let commit = fetched
        .iter()
        .find_map(|(_, f)| f.commit.clone())
        .unwrap_or_else(|| revision.to_string());
    let snapshot = cache.root.join("snapshots").join(&commit);
    for (file, got) in &fetched {
        let link = snapshot.join(file);
        let parent = link.parent().expect("a snapshot file has a folder");
        std::fs::create_dir_all(parent).map_err(|e| EmbedError::io(parent, e))?;
        link_blob(&blobs.join(&got.sha256), &link)?;
    }
    let refs = cache.root.join("refs");
    std::fs::create_dir_all(&refs).map_err(|e| EmbedError::io(&refs, e))?;
    if commit != revision {
        let reference = refs.join(revision);
        std::fs::write(&reference, &commit).map_err(|e| EmbedError::io(&reference, e))?;
    }
    Ok(snapshot)
}

#[cfg(feature = "net")]
/// Downloads `url` into `blobs`, checking its sha256 against `pinned` (or
/// the server's content hash); `None` when the server has no such file.
fn download(
    client: &reqwest::blocking::Client,
    url: &str,
    file: &str,
    blobs: &Path,
    pinned: Option<&str>,
    progress: &dyn Fn(Progress),
) -> Result<Option<Fetched>, EmbedError> {
    let failed = |message: String| EmbedError::Download {
        url: url.to_string(),
        message,
    };
    // The Hub answers a large file with a redirect to its CDN, and says on
    // that redirect (not on the CDN's answer) which commit the revision is
    // and what the file's sha256 is: read them from every answer on the way.
    let mut commit = None;
    let mut linked = None;
    let mut at = url::Url::parse(url).map_err(|e| failed(e.to_string()))?;
    let mut hops = 0;
    let mut response = loop {
        let response = client
            .get(at.clone())
            .send()
            .map_err(|e| failed(e.to_string()))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim_start_matches("W/").trim_matches('"').to_string())
        };
        commit = commit.or_else(|| header("x-repo-commit"));
        linked = linked.or_else(|| header("x-linked-etag"));
        if !response.status().is_redirection() {
            break response;
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(failed(format!("more than {MAX_REDIRECTS} redirects")));
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| failed(format!("HTTP {} without a Location", response.status())))?;
        at = at
            .join(location)
            .map_err(|e| failed(format!("redirect to {location}: {e}")))?;
    };
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    // The Hub's content hash of a large (LFS) file is its sha256; a small
    // file's ETag is a git hash, and a CDN's ETag is its own: neither is used.
    let linked = linked.filter(|e| e.len() == 64 && e.bytes().all(|b| b.is_ascii_hexdigit()));
    let expected = pinned.map(str::to_string).or(linked);

    let partial = blobs.join(format!("{}.incomplete", file.replace('/', "_")));
    let mut out = std::fs::File::create(&partial).map_err(|e| EmbedError::io(&partial, e))?;
    let total = response.content_length();
    let mut done = 0u64;
    progress(Progress::Download { file, done, total });
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = response
            .read(&mut buffer)
            .map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])
            .map_err(|e| EmbedError::io(&partial, e))?;
        done += n as u64;
        progress(Progress::Download { file, done, total });
    }
    out.sync_all().map_err(|e| EmbedError::io(&partial, e))?;
    drop(out);
    let actual = hex(&hasher.finalize());
    if let Some(expected) = expected
        && expected != actual
    {
        let _ = std::fs::remove_file(&partial);
        return Err(EmbedError::Checksum {
            file: file.to_string(),
            url: url.to_string(),
            expected,
            actual,
        });
    }
    let blob = blobs.join(&actual);
    std::fs::rename(&partial, &blob).map_err(|e| EmbedError::io(&blob, e))?;
    Ok(Some(Fetched {
        commit,
        sha256: actual,
    }))
}

#[cfg(feature = "net")]
/// Points a snapshot file at its blob: a relative symbolic link, as the Hub
/// library makes, or a copy where links are not available.
fn link_blob(blob: &Path, link: &Path) -> Result<(), EmbedError> {
    let _ = std::fs::remove_file(link);
    #[cfg(unix)]
    {
        let depth = link
            .strip_prefix(
                blob.parent()
                    .and_then(Path::parent)
                    .expect("blobs/ is in the repo folder"),
            )
            .map(|rel| rel.components().count() - 1)
            .unwrap_or(2);
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(blob.file_name().expect("a blob has a name"));
        if std::os::unix::fs::symlink(&target, link).is_ok() {
            return Ok(());
        }
    }
    std::fs::copy(blob, link).map_err(|e| EmbedError::io(link, e))?;
    Ok(())
}

/// Without the `net` feature there is no HTTP client: a model missing
/// from the cache cannot be had.
#[cfg(not(feature = "net"))]
fn fetch(
    hub: &HubSettings,
    _cache: &RepoCache,
    repo: &str,
    _revision: &str,
    _progress: &dyn Fn(Progress),
) -> Result<PathBuf, EmbedError> {
    Err(EmbedError::Download {
        url: format!("{}/{repo}", hub.endpoint),
        message: "this build has no HTTP client (citebot-core without the `net` feature)".into(),
    })
}

/// The sha256 of a file, as lowercase hex.
pub(crate) fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let mut file = std::fs::File::open(path).map_err(|e| EmbedError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| EmbedError::io(path, e))?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        assert_eq!(ModelSetting::parse("off"), ModelSetting::Off);
        assert_eq!(ModelSetting::parse(" OFF "), ModelSetting::Off);
        assert_eq!(ModelSetting::parse(""), ModelSetting::Off);
        assert_eq!(
            ModelSetting::parse("sentence-transformers/all-MiniLM-L6-v2"),
            ModelSetting::Hub {
                repo: DEFAULT_REPO.into(),
                revision: "main".into()
            }
        );
        assert_eq!(
            ModelSetting::parse("org/name@v1.0"),
            ModelSetting::Hub {
                repo: "org/name".into(),
                revision: "v1.0".into()
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        assert_eq!(
            ModelSetting::parse(path),
            ModelSetting::Folder(dir.path().into())
        );
        assert_eq!(
            ModelSetting::parse("./models/x/y"),
            ModelSetting::Folder("./models/x/y".into())
        );
        assert_eq!(ModelSetting::parse(DEFAULT_REPO).to_string(), DEFAULT_REPO);
    }

    #[test]
    fn hub_settings_follow_the_hub_library() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let s = HubSettings::from_env(&env(&[("HOME", "/home/u")]));
        assert_eq!(s.endpoint, "https://huggingface.co");
        assert_eq!(s.cache, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert!(!s.offline);
        let s = HubSettings::from_env(&env(&[
            ("HOME", "/home/u"),
            ("HF_HOME", "/data/hf"),
            ("HF_ENDPOINT", "http://127.0.0.1:9/"),
            ("HF_HUB_OFFLINE", "1"),
        ]));
        assert_eq!(s.endpoint, "http://127.0.0.1:9");
        assert_eq!(s.cache, PathBuf::from("/data/hf/hub"));
        assert!(s.offline);
        let s = HubSettings::from_env(&env(&[("HF_HOME", "/data/hf"), ("HF_HUB_CACHE", "/c")]));
        assert_eq!(s.cache, PathBuf::from("/c"));
    }

    #[test]
    fn pinned_sums_match_the_shared_copy() {
        let dir = crate::test_paths::model();
        for (file, sha) in PINNED {
            assert_eq!(sha256_file(&dir.join(file)).unwrap(), sha, "{file}");
        }
    }
}
