//! `citebot add`, driven as a user drives it: saved pages of the seed
//! essays give the curated essays, adding again updates, a batch with bad
//! sources adds the good ones, text and Markdown are normalised, URLs are
//! fetched (from a local server), EPUB, DOCX and PDF files are read, and
//! hostile files are refused.

use std::io::{Read, Write};
use std::path::Path;

use assert_cmd::assert::Assert;
use predicates::str::{contains, starts_with};
use serde_json::Value;

use crate::support::{cli, pdf};

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages");

/// Runs citebot (model off) with `args` and the variables `env`.
fn citebot(args: &[&str], env: &[(&str, &str)]) -> Assert {
    cli::citebot().args(args).envs(env.iter().copied()).assert()
}

/// `add --json --corpus <corpus> <sources>`.
fn add(corpus: &Path, sources: &[&str]) -> Assert {
    let mut args = vec!["add", "--json", "--corpus", corpus.to_str().unwrap()];
    args.extend_from_slice(sources);
    citebot(&args, &[])
}

/// Standard output, one JSON object per line.
fn json_lines(out: &Assert) -> Vec<Value> {
    cli::json_lines(out.get_output())
}

fn essay(path: &Path) -> citebot_core::corpus::Essay {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy();
    citebot_core::corpus::parse_essay(&name, &bytes).unwrap_or_else(|e| panic!("{e:?}"))
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
    let out = add(dir.path(), &[PAGES]).success();
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
        let want = essay(&crate::support::paths::shipped_corpus().join(name));
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
    citebot(
        &[
            "index",
            "--strict",
            "--corpus",
            dir.path().to_str().unwrap(),
            "--index",
            index.path().to_str().unwrap(),
        ],
        &[],
    )
    .success()
    .stdout(starts_with("2 essays"));
}

#[test]
fn adding_again_updates_and_a_different_essay_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let page = format!("{PAGES}/shirk-time-2022.html");
    add(dir.path(), &[&page]).success();
    let out = add(dir.path(), &[&page]).success();
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
    add(&corpus, &[&page]).success();
    add(&corpus, &[other.to_str().unwrap()]).success();
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
    )
    .failure()
    .stderr(contains("b.html: no article to add"))
    .stderr(contains("c.pdf: corrupt PDF"))
    .stderr(contains("d.txt: no title"))
    .stderr(contains("missing.html: "))
    .stderr(contains("4 of 5 sources could not be added"));
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
    citebot(
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
    )
    .success();
    let walk = essay(&corpus.join("walker-on-walking.md"));
    assert_eq!(walk.title, "On Walking");
    assert_eq!(walk.author.as_deref(), Some("Ann Walker"));
    assert_eq!(walk.url.as_deref(), Some("https://example.com/walk"));
    assert_eq!(
        walk.paragraphs.iter().collect::<Vec<_>>(),
        ["I walk every day.", "It  helps."]
    );
    let out = add(&corpus, &[md.to_str().unwrap()]).success();
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
    )
    .success();
    assert_eq!(json_lines(&out)[0]["url"], url.as_str());

    // A port nobody listens on: a clear error naming the URL, nothing written.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/gone.html");
    let corpus = dir.path().join("none");
    citebot(
        &["add", "--corpus", corpus.to_str().unwrap(), &url],
        &[("NO_PROXY", "*")],
    )
    .failure()
    .stderr(contains(format!("{url}: fetching failed: cannot connect")));
    assert!(!corpus.exists() || md_files(&corpus).is_empty());
}

#[test]
fn hostile_and_oversized_pages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.html");
    let html = format!("<html><body>{}text</body></html>", "<div>".repeat(100_000));
    std::fs::write(&deep, html).unwrap();
    let corpus = dir.path().join("corpus");
    add(&corpus, &[deep.to_str().unwrap()])
        .failure()
        .stderr(contains("deep.html: refused: elements nested 100000 deep"));

    let big = format!("{PAGES}/romberg-thehill-2014.html");
    citebot(
        &["add", "--corpus", corpus.to_str().unwrap(), &big],
        &[("CITEBOT_ADD_MAX_BYTES", "1000")],
    )
    .failure()
    .stderr(contains("more than add.max_bytes = 1000"));
    assert!(!corpus.exists() || md_files(&corpus).is_empty());
}

/// A zip file of `entries` (name, bytes), deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        out.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

const CONTAINER: &[u8] = br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;

fn epub(chapter_two: &[u8]) -> Vec<u8> {
    let opf = br#"<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Essays: First Series</dc:title><dc:creator id="a">Ralph Waldo Emerson</dc:creator>
<dc:identifier id="id">urn:uuid:0b7a</dc:identifier><dc:source>https://www.gutenberg.org/ebooks/2944</dc:source><dc:language>en</dc:language>
</metadata>
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="text/circles.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="text/friendship.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="nav"/><itemref idref="c1"/><itemref idref="c2"/></spine></package>"#;
    let nav = br#"<html xmlns="http://www.w3.org/1999/xhtml"><body><nav><ol><li><a href="text/circles.xhtml">Circles</a></li></ol></nav></body></html>"#;
    let one = br#"<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Circles</title></head><body><section><h2>Circles</h2><p>The eye is the first circle; the horizon which it forms is the second.</p><p>Our life is an apprenticeship to the truth, that around every circle another can be drawn.</p></section></body></html>"#;
    zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", opf),
        ("OEBPS/nav.xhtml", nav),
        ("OEBPS/text/circles.xhtml", one),
        ("OEBPS/text/friendship.xhtml", chapter_two),
    ])
}

#[test]
fn an_epub_becomes_one_essay_or_one_per_chapter() {
    let two = br#"<html xmlns="http://www.w3.org/1999/xhtml"><body><h2>Friendship</h2><p>We have a great deal more kindness than is ever spoken.</p></body></html>"#;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("essays.epub");
    std::fs::write(&book, epub(two)).unwrap();
    let corpus = dir.path().join("corpus");
    let out = add(&corpus, &[book.to_str().unwrap()]).success();
    let whole = &json_lines(&out)[0];
    assert_eq!(whole["title"], "Essays: First Series");
    assert_eq!(whole["author"], "Ralph Waldo Emerson");
    assert_eq!(whole["url"], "https://www.gutenberg.org/ebooks/2944");
    assert_eq!(whole["paragraphs"], 3, "the nav document is left out");

    let split = dir.path().join("split");
    let out = citebot(
        &[
            "add",
            "--json",
            "--split",
            "chapters",
            "--corpus",
            split.to_str().unwrap(),
            book.to_str().unwrap(),
        ],
        &[],
    )
    .success();
    let chapters = json_lines(&out);
    assert_eq!(chapters.len(), 2);
    assert_eq!(chapters[0]["title"], "Circles");
    assert_eq!(chapters[1]["title"], "Friendship");
    assert_eq!(chapters[1]["publication"], "Essays: First Series");
    assert_eq!(chapters[0]["paragraphs"], 2);
    let circles = essay(Path::new(chapters[0]["path"].as_str().unwrap()));
    assert_eq!(
        &circles.paragraphs[0],
        "The eye is the first circle; the horizon which it forms is the second."
    );
}

#[test]
fn a_docx_gives_its_paragraphs_and_document_info() {
    let document = br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>On Gardens</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">A garden is </w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>never</w:t></w:r><w:r><w:t xml:space="preserve"> finished &amp; that is its charm.</w:t></w:r></w:p>
<w:p/>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Soil</w:t></w:r></w:p>
<w:p><w:r><w:t>Start with the soil.</w:t></w:r></w:p>
</w:body></w:document>"#;
    let core = br#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>On Gardens</dc:title><dc:creator>Vita Gardener</dc:creator><dcterms:created>2024-01-01T00:00:00Z</dcterms:created></cp:coreProperties>"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gardens.docx");
    std::fs::write(
        &file,
        zip_of(&[("word/document.xml", document), ("docProps/core.xml", core)]),
    )
    .unwrap();
    let corpus = dir.path().join("corpus");
    let out = add(&corpus, &[file.to_str().unwrap()]).success();
    let line = &json_lines(&out)[0];
    assert_eq!(line["title"], "On Gardens");
    assert_eq!(line["author"], "Vita Gardener");
    assert_eq!(
        line["date"],
        Value::Null,
        "the file's save date is not a publication date"
    );
    let got = essay(Path::new(line["path"].as_str().unwrap()));
    assert_eq!(
        got.paragraphs.iter().collect::<Vec<_>>(),
        [
            "A garden is never finished & that is its charm.",
            "Start with the soil."
        ]
    );
}

#[test]
fn zip_bombs_and_corrupt_containers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // 20 MB of one letter inflates from a few kilobytes; the budget is 1 MB.
    let mut chapter = b"<html><body><p>".to_vec();
    chapter.extend(std::iter::repeat_n(b'a', 20_000_000));
    let bomb = dir.path().join("bomb.epub");
    std::fs::write(&bomb, epub(&chapter)).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 200_000);
    let corrupt = dir.path().join("corrupt.docx");
    std::fs::write(&corrupt, b"PK\x03\x04 not really a zip").unwrap();
    let corpus = dir.path().join("corpus");
    citebot(
        &[
            "add",
            "--corpus",
            corpus.to_str().unwrap(),
            bomb.to_str().unwrap(),
            corrupt.to_str().unwrap(),
        ],
        &[("CITEBOT_ADD_MAX_UNPACKED_BYTES", "1000000")],
    )
    .failure()
    .stderr(contains(
        "bomb.epub: refused: unpacks to more than add.max_unpacked_bytes = 1000000",
    ))
    .stderr(contains("corrupt.docx: corrupt file"));
    assert!(!corpus.exists() || md_files(&corpus).is_empty());
}

/// Two pages of an essay as a word processor sets it: a running head, page
/// numbers, indented paragraphs, words hyphenated at line ends, a paragraph
/// going on over the page break, a heading, and spaces set as kerning.
fn walking_pdf() -> Vec<u8> {
    use pdf::text;
    let head = "ON WALKING \u{97} H. D. THOREAU";
    let one = pdf::content(&[
        text(72.0, 760.0, 9.0, head),
        text(72.0, 700.0, 20.0, "On Walking"),
        text(
            90.0,
            660.0,
            11.0,
            "I wish to speak a word for Nature, for absolute free-",
        ),
        text(
            72.0,
            646.0,
            11.0,
            "dom and wildness, as contrasted with a freedom and culture",
        ),
        text(
            72.0,
            632.0,
            11.0,
            "merely civil, to regard man as an inhabitant, or a part",
        ),
        text(72.0, 618.0, 11.0, "and parcel of Nature."),
        text(
            90.0,
            604.0,
            11.0,
            "I have met with but one or two persons in the course of",
        ),
        text(
            72.0,
            590.0,
            11.0,
            "my life who understood the art of Walking, that is, of",
        ),
        text(300.0, 40.0, 9.0, "1"),
    ]);
    let two = pdf::content(&[
        text(72.0, 760.0, 9.0, head),
        text(
            72.0,
            700.0,
            11.0,
            "taking walks, who had a genius, so to speak, for saun-",
        ),
        text(
            72.0,
            686.0,
            11.0,
            "tering, which word is|beautifully derived.|It is a fine word.",
        ),
        text(72.0, 650.0, 14.0, "The Art of Sauntering"),
        text(
            90.0,
            620.0,
            11.0,
            "He who sits still in a house all the time may be the greatest",
        ),
        text(72.0, 606.0, 11.0, "vagrant of all."),
        text(300.0, 40.0, 9.0, "2"),
    ]);
    pdf::pdf(
        &[
            ("Title", "On Walking"),
            ("Author", "Henry David Thoreau"),
            ("CreationDate", "D:18620601120000Z"),
        ],
        &[one, two],
        "",
    )
}

#[test]
fn a_pdf_gives_its_paragraphs_and_document_info() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("walking.pdf");
    std::fs::write(&file, walking_pdf()).unwrap();
    let corpus = dir.path().join("corpus");
    let out = add(&corpus, &[file.to_str().unwrap()]).success();
    let line = &json_lines(&out)[0];
    assert_eq!(line["title"], "On Walking");
    assert_eq!(line["author"], "Henry David Thoreau");
    assert_eq!(line["date"], "1862-06-01");
    assert_eq!(line["publication"], Value::Null, "the PDF names none");
    assert_eq!(line["paragraphs"], 3);
    let warnings = line["warnings"].to_string();
    assert!(warnings.contains("creation date"), "{warnings}");
    let path = Path::new(line["path"].as_str().unwrap());
    let got = essay(path);
    assert_eq!(
        got.paragraphs.iter().collect::<Vec<_>>(),
        [
            "I wish to speak a word for Nature, for absolute freedom and wildness, as contrasted \
             with a freedom and culture merely civil, to regard man as an inhabitant, or a part \
             and parcel of Nature.",
            "I have met with but one or two persons in the course of my life who understood the \
             art of Walking, that is, of taking walks, who had a genius, so to speak, for \
             sauntering, which word is beautifully derived. It is a fine word.",
            "He who sits still in a house all the time may be the greatest vagrant of all.",
        ]
    );
    let file = std::fs::read_to_string(path).unwrap();
    assert!(file.contains("\n## The Art of Sauntering\n"), "{file}");
    assert!(
        !file.contains("THOREAU"),
        "the running head is gone: {file}"
    );
}

#[test]
fn scanned_encrypted_corrupt_and_hostile_pdfs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let good = write("walking.pdf", &walking_pdf());
    let scanned = write("scan.pdf", &pdf::scanned(3));
    let page = pdf::content(&[pdf::text(72.0, 700.0, 11.0, "Secret words.")]);
    let encrypted = write(
        "locked.pdf",
        &pdf::pdf(
            &[("Title", "Locked")],
            &[page],
            "/Encrypt << /Filter /Standard /V 1 /R 2 /O (0123456789abcdef0123456789abcdef) \
             /U (0123456789abcdef0123456789abcdef) /P -4 >> /ID [(a) (a)]",
        ),
    );
    let corrupt = write("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Cat");
    let many = write("many.pdf", &pdf::many_objects(5_000));
    let corpus = dir.path().join("corpus");
    let mut args = vec!["add", "--json", "--corpus", corpus.to_str().unwrap()];
    args.extend([&good, &scanned, &encrypted, &corrupt, &many].map(String::as_str));
    let out = citebot(&args, &[("CITEBOT_ADD_MAX_PDF_OBJECTS", "1000")])
        .failure()
        .stderr(contains("scan.pdf: scanned: no text to quote"))
        .stderr(contains("locked.pdf: encrypted PDF"))
        .stderr(contains("broken.pdf: corrupt PDF"))
        .stderr(contains(
            "objects in the PDF (more than add.max_pdf_objects = 1000)",
        ))
        .stderr(contains("4 of 5 sources could not be added"));
    assert_eq!(json_lines(&out)[0]["title"], "On Walking");
    assert_eq!(md_files(&corpus).len(), 1, "only the good PDF is written");
}
