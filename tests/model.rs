//! The model's way to a user's machine, for real: a local server stands in
//! for the Hugging Face Hub (`HF_ENDPOINT`), answering
//! `/{repo}/resolve/{revision}/{file}` from `../shared/models`; `citebot
//! model fetch` downloads into `HF_HOME`, checks the files, and `ask` then
//! answers with the model, offline. A corrupted file is refused. Without
//! the model, `ask` still answers, lexically, and says how to get it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_citebot");
const REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
const COMMIT: &str = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";

fn shared_model() -> PathBuf {
    crate::support::paths::model()
}

/// What the fake Hub serves, and how many files it has served.
#[derive(Clone)]
struct Hub {
    folder: PathBuf,
    /// Flip a byte of this file on the way out.
    corrupt: Option<&'static str>,
    served: Arc<AtomicUsize>,
}

async fn resolve(
    State(hub): State<Hub>,
    UrlPath((org, name, revision, file)): UrlPath<(String, String, String, String)>,
) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    if format!("{org}/{name}") != REPO || revision != "main" {
        return (StatusCode::NOT_FOUND, headers, Vec::new());
    }
    let Ok(mut bytes) = std::fs::read(hub.folder.join(&file)) else {
        return (StatusCode::NOT_FOUND, headers, Vec::new());
    };
    if hub.corrupt == Some(file.as_str()) {
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
    }
    hub.served.fetch_add(1, Ordering::SeqCst);
    headers.insert("x-repo-commit", HeaderValue::from_static(COMMIT));
    (StatusCode::OK, headers, bytes)
}

/// Starts the fake Hub on a free port; returns its URL.
fn start_hub(hub: Hub) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
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
                .with_state(hub);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

/// Runs citebot with the default model setting (the Hub repo id) against
/// `endpoint`, with its cache in `home`.
fn citebot(args: &[&str], endpoint: &str, home: &Path, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home)
        .env("CITEBOT_MODEL", REPO)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_repo_id_is_downloaded_once_checked_and_then_used_offline() {
    let served = Arc::new(AtomicUsize::new(0));
    let endpoint = start_hub(Hub {
        folder: shared_model(),
        corrupt: None,
        served: served.clone(),
    });
    let home = tempfile::tempdir().unwrap();
    let out = citebot(&["model", "fetch"], &endpoint, home.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let snapshot = home
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
        .join(COMMIT);
    assert!(text(&out.stdout).contains(&snapshot.display().to_string()));
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
    let out = {
        let mut cmd = Command::new(BIN);
        cmd.args(["ask", "--json", "--index"])
            .arg(index.path())
            .arg("Which of Xi's policies have harmed China's interests?")
            .env("HF_HOME", home.path())
            .env("HF_HUB_OFFLINE", "1")
            .env("CITEBOT_MODEL", REPO)
            .env_remove("HF_HUB_CACHE")
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd.output().unwrap()
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["retrieval"], "hybrid", "{}", text(&out.stderr));
    assert_eq!(answer["answered"], true);
    assert_eq!(
        served.load(Ordering::SeqCst),
        fetched,
        "nothing fetched twice"
    );
    assert!(
        !text(&out.stderr).contains("lexically"),
        "{}",
        text(&out.stderr)
    );

    let out = citebot(
        &["model", "--index", index.path().to_str().unwrap()],
        &endpoint,
        home.path(),
        &[],
    );
    let report = text(&out.stdout);
    assert!(
        report.contains(REPO) && report.contains("hybrid"),
        "{report}"
    );
}

#[test]
fn a_corrupted_download_is_refused_with_a_clear_error() {
    let endpoint = start_hub(Hub {
        folder: shared_model(),
        corrupt: Some("model.safetensors"),
        served: Arc::new(AtomicUsize::new(0)),
    });
    let home = tempfile::tempdir().unwrap();
    let out = citebot(&["model", "fetch"], &endpoint, home.path(), &[]);
    assert!(!out.status.success());
    let error = text(&out.stderr);
    assert!(
        error.contains("model.safetensors")
            && error.contains("sha256")
            && error.contains("refused"),
        "{error}"
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
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["retrieval"], "lexical");
    assert_eq!(answer["answered"], true);
    let notice = text(&out.stderr);
    assert_eq!(
        notice.matches("citebot answers lexically").count(),
        1,
        "{notice}"
    );
    assert!(notice.contains("citebot model fetch"), "{notice}");
}

#[test]
fn with_no_network_ask_answers_lexically_and_names_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    // Port 9 (discard) on localhost: nothing listens, the connection is refused.
    let out = citebot(
        &[
            "ask",
            "--index",
            index.path().to_str().unwrap(),
            "Which of Xi's policies have harmed China's interests?",
        ],
        "http://127.0.0.1:9",
        home.path(),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Susan Shirk"));
    let notice = text(&out.stderr);
    assert!(
        notice.contains("answers lexically") && notice.contains("citebot model fetch"),
        "{notice}"
    );

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
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["retrieval"], "lexical");
}

/// `ask --json` on the shipped corpus with the model in `model` (a folder)
/// and the index in `index`: the answer and what was said on stderr.
fn ask_with(model: &Path, index: &Path) -> (Value, String) {
    let out = Command::new(BIN)
        .args(["ask", "--json", "--index"])
        .arg(index)
        .arg("Which of Xi's policies have harmed China's interests?")
        .env("CITEBOT_MODEL", model)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        text(&out.stderr),
    )
}

/// `citebot model` on the shipped corpus with the model in `model` (a
/// folder, a repo id or "off") and the index in `index`, offline: what it
/// printed, after checking it ran.
fn model_report(model: &Path, index: &Path, home: &Path) -> String {
    let out = Command::new(BIN)
        .args(["model", "--index"])
        .arg(index)
        .env("CITEBOT_MODEL", model)
        .env("HF_HOME", home)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("HF_HUB_CACHE")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
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
    let out = Command::new(BIN)
        .args(["index", "--index"])
        .arg(index.path())
        .env("CITEBOT_MODEL", "off")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
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
