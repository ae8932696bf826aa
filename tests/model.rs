//! The model's way to a user's machine, for real: a local server stands in
//! for the Hugging Face Hub (`HF_ENDPOINT`), answering
//! `/{repo}/resolve/{revision}/{file}` from `../shared/models` the way the
//! Hub does (a large file is a redirect to a CDN, with its sha256 on the
//! redirect; a renamed repo is a relative redirect); `citebot model fetch`
//! downloads into `HF_HOME`, checks the files, and `ask` then answers with
//! the model, offline. A corrupted file is refused. Without the model,
//! `ask` still answers, lexically, and says how to get it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::assert::Assert;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::cli::{self, text};

const REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// A copy of the model under another name: no pinned sums, so only the
/// Hub's own content hash guards its download.
const COPY: &str = "citebot-tests/minilm-copy";
/// The copy's old name: the Hub redirects it, relatively, to the new one.
const RENAMED: &str = "citebot-tests/old-minilm";
const COMMIT: &str = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";

fn shared_model() -> PathBuf {
    crate::support::paths::model()
}

/// What the fake Hub serves, and how many files it has served.
#[derive(Clone)]
struct Hub {
    folder: PathBuf,
    /// Flip a byte of this file on the way out (from the CDN, for a large file).
    corrupt: Option<&'static str>,
    served: Arc<AtomicUsize>,
    /// The Hub's own URL, for the absolute redirects to its CDN.
    url: String,
}

impl Hub {
    /// Serves the shared model, corrupting `corrupt` if it names a file.
    fn new(corrupt: Option<&'static str>) -> Hub {
        Hub {
            folder: shared_model(),
            corrupt,
            served: Arc::new(AtomicUsize::new(0)),
            url: String::new(),
        }
    }

    /// The file's bytes as sent, corrupted if asked.
    fn bytes(&self, file: &str) -> Option<Vec<u8>> {
        let mut bytes = std::fs::read(self.folder.join(file)).ok()?;
        if self.corrupt == Some(file) {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x55;
        }
        self.served.fetch_add(1, Ordering::SeqCst);
        Some(bytes)
    }
}

/// The sha256 of `bytes`, as lowercase hex.
fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A header value in double quotes, as ETags are sent.
fn quoted(value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{value}\"")).unwrap()
}

/// `/{repo}/resolve/{revision}/{file}` as the Hub answers it: a small file
/// with its commit; a large (LFS) file with a 302 to the CDN carrying the
/// commit, its sha256 (`X-Linked-Etag`) and size; an old repo name with a
/// relative 307 to the new one.
async fn resolve(
    State(hub): State<Hub>,
    UrlPath((org, name, revision, file)): UrlPath<(String, String, String, String)>,
) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    let repo = format!("{org}/{name}");
    if repo == RENAMED {
        let moved = format!("/{COPY}/resolve/{revision}/{file}");
        headers.insert(header::LOCATION, HeaderValue::from_str(&moved).unwrap());
        return (StatusCode::TEMPORARY_REDIRECT, headers, Vec::new());
    }
    if ![REPO, COPY].contains(&repo.as_str()) || revision != "main" {
        return (StatusCode::NOT_FOUND, headers, Vec::new());
    }
    let path = hub.folder.join(&file);
    if !path.is_file() {
        return (StatusCode::NOT_FOUND, headers, Vec::new());
    }
    headers.insert("x-repo-commit", HeaderValue::from_static(COMMIT));
    if file.ends_with(".safetensors") {
        let real = std::fs::read(&path).unwrap();
        let sha = sha256(&real);
        headers.insert("x-linked-etag", quoted(&sha));
        headers.insert("x-linked-size", HeaderValue::from(real.len()));
        headers.insert(header::ETAG, quoted(&sha));
        let cdn = format!("{}/cdn-lfs/{file}", hub.url);
        headers.insert(header::LOCATION, HeaderValue::from_str(&cdn).unwrap());
        return (StatusCode::FOUND, headers, Vec::new());
    }
    // A small file's ETag is its git blob hash (40 hex digits), not a sha256.
    headers.insert(header::ETAG, quoted(&"e".repeat(40)));
    (StatusCode::OK, headers, hub.bytes(&file).unwrap())
}

/// The CDN: the bytes, with an ETag of its own (64 hex digits, like a Xet
/// hash, but not the sha256) and none of the Hub's headers.
async fn cdn(State(hub): State<Hub>, UrlPath(file): UrlPath<String>) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, quoted(&"0123456789abcdef".repeat(4)));
    match hub.bytes(&file) {
        Some(bytes) => (StatusCode::OK, headers, bytes),
        None => (StatusCode::NOT_FOUND, headers, Vec::new()),
    }
}

/// Starts the fake Hub on a free port; returns its URL.
fn start_hub(mut hub: Hub) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    hub.url = url.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new()
                .route(
                    "/{org}/{name}/resolve/{revision}/{*file}",
                    axum::routing::get(resolve),
                )
                .route("/cdn-lfs/{*file}", axum::routing::get(cdn))
                .with_state(hub);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

/// Runs citebot with the default model setting (the Hub repo id) against
/// `endpoint`, with its cache in `home`.
fn citebot(args: &[&str], endpoint: &str, home: &Path, extra: &[(&str, &str)]) -> Assert {
    cli::citebot()
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home)
        .env("CITEBOT_MODEL", REPO)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .envs(extra.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
}

/// Standard output as JSON.
fn json(out: &Assert) -> Value {
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn a_repo_id_is_downloaded_once_checked_and_then_used_offline() {
    let hub = Hub::new(None);
    let served = hub.served.clone();
    let endpoint = start_hub(hub);
    let home = tempfile::tempdir().unwrap();
    let snapshot = home
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
        .join(COMMIT);
    citebot(&["model", "fetch"], &endpoint, home.path(), &[])
        .success()
        .stdout(contains(snapshot.display().to_string()));
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        let arrived = std::fs::read(snapshot.join(file)).unwrap();
        assert_eq!(
            arrived,
            std::fs::read(shared_model().join(file)).unwrap(),
            "{file}"
        );
    }
    let fetched = served.load(Ordering::SeqCst);
    assert!(fetched >= 3, "{fetched} files served");

    // Offline now: the cache is used, nothing more is downloaded, and the
    // answer comes from the model.
    let index = tempfile::tempdir().unwrap();
    let out = cli::citebot()
        .args(["ask", "--json", "--index"])
        .arg(index.path())
        .arg("Which of Xi's policies have harmed China's interests?")
        .env("HF_HOME", home.path())
        .env("HF_HUB_OFFLINE", "1")
        .env("CITEBOT_MODEL", REPO)
        .env_remove("HF_HUB_CACHE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success()
        .stderr(contains("lexically").not());
    let answer = json(&out);
    assert_eq!(
        answer["retrieval"],
        "hybrid",
        "{}",
        text(&out.get_output().stderr)
    );
    assert_eq!(answer["answered"], true);
    assert_eq!(
        served.load(Ordering::SeqCst),
        fetched,
        "nothing fetched twice"
    );

    citebot(
        &["model", "--index", index.path().to_str().unwrap()],
        &endpoint,
        home.path(),
        &[],
    )
    .success()
    .stdout(contains(REPO).and(contains("hybrid")));
}

#[test]
fn a_corrupted_download_is_refused_with_a_clear_error() {
    let endpoint = start_hub(Hub::new(Some("model.safetensors")));
    let home = tempfile::tempdir().unwrap();
    citebot(&["model", "fetch"], &endpoint, home.path(), &[])
        .failure()
        .stderr(
            contains("model.safetensors")
                .and(contains("sha256"))
                .and(contains("refused")),
        );
    let blobs = home
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/blobs");
    let kept: Vec<_> = std::fs::read_dir(&blobs)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !kept
            .iter()
            .any(|name| name.to_string_lossy().contains("safetensors")
                || std::fs::metadata(blobs.join(name)).unwrap().len() > 50_000_000),
        "the bad file was kept: {kept:?}"
    );

    // And `ask` still answers, lexically, saying once how to get the model.
    let index = tempfile::tempdir().unwrap();
    let out = citebot(
        &[
            "ask",
            "--json",
            "--index",
            index.path().to_str().unwrap(),
            "Which of Xi's policies have harmed China's interests?",
        ],
        &endpoint,
        home.path(),
        &[],
    )
    .success()
    .stderr(contains("citebot answers lexically").count(1))
    .stderr(contains("citebot model fetch"));
    let answer = json(&out);
    assert_eq!(answer["retrieval"], "lexical");
    assert_eq!(answer["answered"], true);
}

#[test]
fn a_model_without_pinned_sums_is_checked_against_the_hubs_own_hash() {
    let weights = std::fs::read(shared_model().join("model.safetensors")).unwrap();
    let sha = sha256(&weights);
    let model = [("CITEBOT_MODEL", RENAMED)];
    // Corrupted at the CDN: the sha256 the Hub gave on its redirect refuses it.
    let home = tempfile::tempdir().unwrap();
    let endpoint = start_hub(Hub::new(Some("model.safetensors")));
    citebot(&["model", "fetch"], &endpoint, home.path(), &model)
        .failure()
        .stderr(contains("model.safetensors"))
        .stderr(contains(format!("not the expected {sha}")))
        .stderr(contains("refused"));
    let repo = home.path().join("hub/models--citebot-tests--old-minilm");
    assert!(!repo.join("blobs").join(&sha).exists());

    // Served intact: through the rename and the CDN, into the cache under
    // the name asked for, at the commit the Hub named.
    let endpoint = start_hub(Hub::new(None));
    citebot(&["model", "fetch"], &endpoint, home.path(), &model).success();
    let snapshot = repo.join("snapshots").join(COMMIT);
    assert_eq!(
        std::fs::read(snapshot.join("model.safetensors")).unwrap(),
        weights
    );
    assert!(repo.join("blobs").join(&sha).is_file());
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
}

#[test]
fn with_no_network_ask_answers_lexically_and_names_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    // Port 9 (discard) on localhost: nothing listens, the connection is refused.
    citebot(
        &[
            "ask",
            "--index",
            index.path().to_str().unwrap(),
            "Which of Xi's policies have harmed China's interests?",
        ],
        "http://127.0.0.1:9",
        home.path(),
        &[],
    )
    .success()
    .stdout(contains("Susan Shirk"))
    .stderr(contains("answers lexically").and(contains("citebot model fetch")));

    // `model = "off"` answers lexically without the notice.
    let out = citebot(
        &[
            "ask",
            "--json",
            "--index",
            index.path().to_str().unwrap(),
            "Which of Xi's policies have harmed China's interests?",
        ],
        "http://127.0.0.1:9",
        home.path(),
        &[("CITEBOT_MODEL", "off")],
    )
    .success()
    .stderr("");
    assert_eq!(json(&out)["retrieval"], "lexical");
}

/// `ask --json` on the shipped corpus with the model in `model` (a folder)
/// and the index in `index`: the answer and what was said on stderr.
fn ask_with(model: &Path, index: &Path) -> (Value, String) {
    let out = cli::citebot()
        .args(["ask", "--json", "--index"])
        .arg(index)
        .arg("Which of Xi's policies have harmed China's interests?")
        .env("CITEBOT_MODEL", model)
        .env("HF_HUB_OFFLINE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success();
    (json(&out), text(&out.get_output().stderr))
}

/// `citebot model` on the shipped corpus with the model in `model` (a
/// folder, a repo id or "off") and the index in `index`, offline: what it
/// printed, after checking it ran.
fn model_report(model: &Path, index: &Path, home: &Path) -> String {
    let out = cli::citebot()
        .args(["model", "--index"])
        .arg(index)
        .env("CITEBOT_MODEL", model)
        .env("HF_HOME", home)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("HF_HUB_CACHE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success();
    text(&out.get_output().stdout)
}

/// The one `fix:` line of a `citebot model` report, if it has one.
fn fix_line(report: &str) -> Option<&str> {
    let mut fixes = report.lines().filter(|l| l.starts_with("fix: "));
    let fix = fixes.next();
    assert!(fixes.next().is_none(), "one fix: {report}");
    fix
}

#[test]
fn citebot_model_names_the_fix_for_no_files_and_nothing_when_off() {
    let home = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    // Nothing in the cache and no network.
    let report = model_report(Path::new(REPO), index.path(), home.path());
    assert!(report.contains("files: not available ("), "{report}");
    let fix = fix_line(&report).unwrap_or_else(|| panic!("no fix: {report}"));
    assert!(
        fix.contains("citebot model fetch") && fix.contains("a folder holding"),
        "{report}"
    );
    assert!(
        !fix.contains("damaged") && !fix.contains("cannot write"),
        "{report}"
    );
    // A folder without the model's files.
    let empty = tempfile::tempdir().unwrap();
    let report = model_report(empty.path(), index.path(), home.path());
    let fix = fix_line(&report).unwrap_or_else(|| panic!("no fix: {report}"));
    assert!(fix.contains("citebot model fetch"), "{report}");
    // Off: lexical, and nothing to fix.
    let report = model_report(Path::new("off"), index.path(), home.path());
    assert!(
        report.contains("files: none (lexical retrieval)"),
        "{report}"
    );
    assert!(report.contains("index: off"), "{report}");
    assert_eq!(fix_line(&report), None, "{report}");
}

/// The shipped corpus indexed into a new folder with the model off: an
/// index with no vectors yet.
fn lexical_index() -> tempfile::TempDir {
    let index = tempfile::tempdir().unwrap();
    cli::citebot()
        .args(["index", "--index"])
        .arg(index.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success();
    index
}

#[test]
fn a_full_disk_names_the_folder_not_a_download() {
    // The vectors file is /dev/full: every write fails with "No space left on
    // device", as on a full disk (and as root too).
    let index = lexical_index();
    std::os::unix::fs::symlink("/dev/full", index.path().join("vectors.bin")).unwrap();
    let (answer, notice) = ask_with(&shared_model(), index.path());
    assert_eq!(answer["retrieval"], "lexical");
    assert_eq!(answer["answered"], true);
    assert!(notice.contains("No space left on device"), "{notice}");
    assert!(
        notice.contains(&format!("cannot write in {}", index.path().display()))
            && notice.contains("answers lexically until it can write there"),
        "{notice}"
    );
    assert!(!notice.contains("model fetch"), "{notice}");
    // `citebot model` finds the same, and names the same fix.
    let home = tempfile::tempdir().unwrap();
    let report = model_report(&shared_model(), index.path(), home.path());
    assert!(
        report.contains("files: ") && report.contains("No space left on device"),
        "{report}"
    );
    let fix = fix_line(&report).unwrap_or_else(|| panic!("no fix: {report}"));
    assert!(
        fix.contains(&format!("cannot write in {}", index.path().display()))
            && fix.contains("answers lexically until it can write there")
            && !fix.contains("model fetch"),
        "{report}"
    );

    // Space freed: the next question embeds and answers with the model.
    std::fs::remove_file(index.path().join("vectors.bin")).unwrap();
    let (answer, notice) = ask_with(&shared_model(), index.path());
    assert_eq!(answer["retrieval"], "hybrid", "{notice}");
    assert!(!notice.contains("answers lexically"), "{notice}");
}

#[test]
fn a_weights_file_of_the_wrong_size_is_named_to_delete_and_fetch_again() {
    let model = tempfile::tempdir().unwrap();
    for name in ["config.json", "tokenizer.json"] {
        std::fs::copy(shared_model().join(name), model.path().join(name)).unwrap();
    }
    // The first megabyte of the real weights: an interrupted copy.
    let weights = std::fs::read(shared_model().join("model.safetensors")).unwrap();
    let damaged = model.path().join("model.safetensors");
    std::fs::write(&damaged, &weights[..1 << 20]).unwrap();
    let index = tempfile::tempdir().unwrap();
    let (answer, notice) = ask_with(model.path(), index.path());
    assert_eq!(answer["retrieval"], "lexical");
    assert!(
        notice.contains(&format!("{} is damaged: delete it", damaged.display()))
            && notice.contains("citebot model fetch"),
        "{notice}"
    );
    assert!(!notice.contains("cannot write"), "{notice}");
    // `citebot model` names the same file.
    let home = tempfile::tempdir().unwrap();
    let report = model_report(model.path(), index.path(), home.path());
    assert!(
        report.contains(&format!("files: {}", model.path().display())),
        "{report}"
    );
    let fix = fix_line(&report).unwrap_or_else(|| panic!("no fix: {report}"));
    assert!(
        fix.contains(&format!("{} is damaged: delete it", damaged.display()))
            && fix.contains("citebot model fetch")
            && !fix.contains("cannot write"),
        "{report}"
    );
}

#[test]
fn a_folder_that_cannot_be_written_is_named_with_the_lexical_fallback() {
    // The vectors file leads into a plain file, as if a folder on its way
    // were a file: every write fails with "Not a directory" (as root too,
    // where permissions would not stop it).
    let index = lexical_index();
    let elsewhere = tempfile::tempdir().unwrap();
    let plain = elsewhere.path().join("plain");
    std::fs::write(&plain, "a file, not a folder").unwrap();
    std::os::unix::fs::symlink(plain.join("vectors.bin"), index.path().join("vectors.bin"))
        .unwrap();
    let (answer, notice) = ask_with(&shared_model(), index.path());
    assert_eq!(answer["retrieval"], "lexical");
    assert!(
        notice.contains("answers lexically until it can write there"),
        "{notice}"
    );
    assert!(!notice.contains("model fetch"), "{notice}");
    // `citebot model` names the folder too.
    let home = tempfile::tempdir().unwrap();
    let report = model_report(&shared_model(), index.path(), home.path());
    let fix = fix_line(&report).unwrap_or_else(|| panic!("no fix: {report}"));
    assert!(
        fix.contains("cannot write in") && !fix.contains("model fetch"),
        "{report}"
    );
}
