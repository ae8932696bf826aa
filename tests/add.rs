//! `citebot add`, driven as a user drives it: saved pages of the seed
//! essays give the curated essays, adding again updates, a batch with bad
//! sources adds the good ones, text and Markdown are normalised, URLs are
//! fetched (from a local server), and hostile pages are refused.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_citebot");
const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages");

fn citebot(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.env("CITEBOT_MODEL", "off").env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("citebot runs")
}

fn add(corpus: &Path, sources: &[&str]) -> Output {
    let mut args = vec!["add", "--json", "--corpus", corpus.to_str().unwrap()];
    args.extend_from_slice(sources);
    citebot(&args, &[])
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn essay(path: &Path) -> citebot::corpus::Essay {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy();
    citebot::corpus::parse_essay(&name, &bytes).unwrap_or_else(|e| panic!("{e:?}"))
}

fn md_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn saved_seed_pages_give_the_curated_essays() {
    let dir = tempfile::tempdir().unwrap();
    let out = add(dir.path(), &[PAGES]);
    assert!(out.status.success(), "{}", stderr(&out));
    let added = json_lines(&out);
    assert_eq!(added.len(), 2, "{added:?}");
    assert_eq!(
        md_files(dir.path()),
        ["romberg-thehill-2014.md", "shirk-time-2022.md"]
    );
    for (name, year) in [
        ("romberg-thehill-2014.md", "2014"),
        ("shirk-time-2022.md", "2022"),
    ] {
        let got = essay(&dir.path().join(name));
        let want = essay(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("corpus")
                .join(name),
        );
        assert_eq!(got.title, want.title, "{name}");
        assert_eq!(got.author, want.author, "{name}");
        assert_eq!(got.publication, want.publication, "{name}");
        assert_eq!(
            got.url, want.url,
            "{name}: the page's canonical URL is kept"
        );
        assert!(got.date.as_deref().unwrap().starts_with(year), "{name}");
        let got_paragraphs: Vec<&str> = got.paragraphs.iter().collect();
        let want_paragraphs: Vec<&str> = want.paragraphs.iter().collect();
        assert_eq!(
            got_paragraphs, want_paragraphs,
            "{name}: the furniture is gone"
        );
    }
    let shirk = added
        .iter()
        .find(|v| v["path"].as_str().unwrap().ends_with("shirk-time-2022.md"));
    let shirk = shirk.unwrap();
    assert_eq!(shirk["author"], "Susan Shirk");
    assert_eq!(shirk["publication"], "TIME");
    assert_eq!(shirk["date"], "2022-10-14");
    assert_eq!(
        shirk["url"],
        "https://time.com/6222513/china-xi-jinping-diplomacy/"
    );
    assert_eq!(shirk["paragraphs"], 20);
    assert_eq!(shirk["warnings"], Value::Array(vec![]));

    // The essays index cleanly, strictly.
    let index = tempfile::tempdir().unwrap();
    let out = citebot(
        &[
            "index",
            "--strict",
            "--corpus",
            dir.path().to_str().unwrap(),
            "--index",
            index.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("2 essays"));
}

#[test]
fn adding_again_updates_and_a_different_essay_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let page = format!("{PAGES}/shirk-time-2022.html");
    assert!(add(dir.path(), &[&page]).status.success());
    let out = add(dir.path(), &[&page]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["updated"], true);
    assert_eq!(md_files(dir.path()), ["shirk-time-2022.md"]);

    // Another essay by the same author, in the same outlet, the same year.
    let other = dir.path().join("other.html");
    let html = std::fs::read_to_string(&page)
        .unwrap()
        .replace(
            "Don&#x27;t Give Up on Diplomacy with China",
            "A Second Essay on China",
        )
        .replace("6222513/china-xi-jinping-diplomacy", "6999999/second-essay");
    std::fs::write(&other, html).unwrap();
    let corpus = dir.path().join("corpus");
    assert!(add(&corpus, &[&page]).status.success());
    let out = add(&corpus, &[other.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        md_files(&corpus),
        [
            "shirk-time-2022-a-second-essay-on-china.md",
            "shirk-time-2022.md"
        ]
    );
    assert_eq!(
        essay(&corpus.join("shirk-time-2022.md")).title,
        "Don't Give Up on Diplomacy with China"
    );
}

#[test]
fn one_bad_source_does_not_stop_the_others_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("in");
    std::fs::create_dir(&sources).unwrap();
    std::fs::copy(
        format!("{PAGES}/romberg-thehill-2014.html"),
        sources.join("a.html"),
    )
    .unwrap();
    std::fs::write(
        sources.join("b.html"),
        "<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>",
    )
    .unwrap();
    std::fs::write(sources.join("c.pdf"), b"%PDF-1.4\n").unwrap();
    std::fs::write(sources.join("d.txt"), "no title line here.\nJust text.\n").unwrap();
    let corpus = dir.path().join("corpus");
    let missing = dir.path().join("missing.html");
    let out = add(
        &corpus,
        &[sources.to_str().unwrap(), missing.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("b.html: no article to add"), "{err}");
    assert!(
        err.contains("c.pdf: PDF files are not supported yet"),
        "{err}"
    );
    assert!(err.contains("d.txt: no title"), "{err}");
    assert!(err.contains("missing.html: "), "{err}");
    assert!(err.contains("4 of 5 sources could not be added"), "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["author"], "Alan D. Romberg");
    assert!(lines[1]["error"].as_str().unwrap().contains("no article"));
    assert_eq!(md_files(&corpus), ["romberg-thehill-2014.md"]);
}

#[test]
fn text_and_markdown_are_normalised_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("essay.txt");
    std::fs::write(
        &txt,
        "\u{feff}On Walking\r\n\r\nI walk\r\nevery day.\r\n\r\nIt\u{7} helps.\r\n",
    )
    .unwrap();
    let md = dir.path().join("notes.md");
    std::fs::write(
        &md,
        "# Notes on Trees\n\nTrees are\ntall.\n\n## Part\n\nRoots.\n",
    )
    .unwrap();
    let corpus = dir.path().join("corpus");
    let out = citebot(
        &[
            "add",
            "--json",
            "--corpus",
            corpus.to_str().unwrap(),
            "--author",
            "Ann Walker",
            "--url",
            "https://example.com/walk",
            txt.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let walk = essay(&corpus.join("walker-on-walking.md"));
    assert_eq!(walk.title, "On Walking");
    assert_eq!(walk.author.as_deref(), Some("Ann Walker"));
    assert_eq!(walk.url.as_deref(), Some("https://example.com/walk"));
    assert_eq!(
        walk.paragraphs.iter().collect::<Vec<_>>(),
        ["I walk every day.", "It  helps."]
    );
    let out = add(&corpus, &[md.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = &json_lines(&out)[0];
    assert_eq!(line["title"], "Notes on Trees");
    assert_eq!(line["author"], Value::Null, "never invented");
    assert_eq!(line["paragraphs"], 2);
    assert!(line["warnings"][0].as_str().unwrap().contains("no URL"));
}

/// Serves `body` as `content_type` to each request on 127.0.0.1, `times` times.
fn serve(body: Vec<u8>, content_type: &'static str, times: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(times) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{address}/essays/walk.html")
}

#[test]
fn urls_are_fetched_and_failures_name_the_url() {
    let page = std::fs::read(format!("{PAGES}/shirk-time-2022.html")).unwrap();
    // Without a canonical link, the page's own address is its URL.
    let page = String::from_utf8(page)
        .unwrap()
        .replace(r#"<link rel="canonical" href="https://time.com/6222513/china-xi-jinping-diplomacy/">"#, "")
        .replace(r#"<meta property="og:url" content="https://time.com/6222513/china-xi-jinping-diplomacy/">"#, "");
    let url = serve(page.into_bytes(), "text/html; charset=utf-8", 1);
    let dir = tempfile::tempdir().unwrap();
    let out = citebot(
        &[
            "add",
            "--json",
            "--corpus",
            dir.path().to_str().unwrap(),
            &url,
        ],
        &[("NO_PROXY", "*")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["url"], url.as_str());

    // A port nobody listens on: a clear error naming the URL, nothing written.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/gone.html");
    let corpus = dir.path().join("none");
    let out = citebot(
        &["add", "--corpus", corpus.to_str().unwrap(), &url],
        &[("NO_PROXY", "*")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{url}: fetching failed: cannot connect")),
        "{err}"
    );
    assert!(!corpus.exists() || md_files(&corpus).is_empty());
}

#[test]
fn hostile_and_oversized_pages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.html");
    let html = format!("<html><body>{}text</body></html>", "<div>".repeat(100_000));
    std::fs::write(&deep, html).unwrap();
    let corpus = dir.path().join("corpus");
    let out = add(&corpus, &[deep.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("deep.html: refused: elements nested 100000 deep"),
        "{err}"
    );

    let big = format!("{PAGES}/romberg-thehill-2014.html");
    let out = citebot(
        &["add", "--corpus", corpus.to_str().unwrap(), &big],
        &[("CITEBOT_ADD_MAX_BYTES", "1000")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("more than add.max_bytes = 1000"), "{err}");
    assert!(!corpus.exists() || md_files(&corpus).is_empty());
}
