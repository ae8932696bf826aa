//! Measures `citebot add`'s article extraction on saved pages with a
//! reference extraction: body text by 4-word-shingle F1 (as the public
//! article-extraction benchmark scores it) and metadata field by field.
//!
//! ```text
//! cargo run --release --example measure_add -- ../shared/pages/readability-test-pages
//! ```
//!
//! Each page is a folder with `source.html`, `expected.html` (the reference
//! article) and, optionally, `expected-metadata.json` (`title`, `byline`,
//! `siteName`, `publishedTime`). `-v` prints each page's figures.

use std::collections::HashMap;

use citebot_core::ingest::{self, AddOptions, Limits, Meta, Split};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    args.retain(|a| a != "-v");
    let dir = args
        .first()
        .cloned()
        .unwrap_or_else(|| "../shared/pages/readability-test-pages".into());
    let options = AddOptions {
        corpus: "unused".into(),
        overrides: Meta::default(),
        split: Split::None,
        limits: Limits::default(),
    };
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("source.html").exists())
        .collect();
    pages.sort();
    let fields = ["title", "byline", "siteName", "publishedTime"];
    let mut agree = [0usize; 4];
    let mut f1_sum = 0.0;
    let mut failed = 0;
    let started = std::time::Instant::now();
    for page in &pages {
        let source = std::fs::read(page.join("source.html")).expect("source.html");
        let expected = std::fs::read_to_string(page.join("expected.html")).unwrap_or_default();
        let want = html_text(&expected);
        let (got_text, meta) = match ingest::preview("source.html", &source, &options) {
            Ok(mut essays) => {
                let essay = essays.remove(0);
                (essay.paragraphs.join("\n"), essay.meta)
            }
            Err(e) => {
                failed += 1;
                if verbose {
                    println!("FAILED {}: {e}", page.display());
                }
                (String::new(), Meta::default())
            }
        };
        let f1 = shingle_f1(&got_text, &want);
        f1_sum += f1;
        let expected_meta: serde_json::Value =
            std::fs::read_to_string(page.join("expected-metadata.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
        let got = [&meta.title, &meta.author, &meta.publication, &meta.date];
        let mut marks = String::new();
        for (i, field) in fields.iter().enumerate() {
            let ok = same_field(field, expected_meta[field].as_str(), got[i].as_deref());
            agree[i] += usize::from(ok);
            marks.push(if ok { '.' } else { 'x' });
        }
        if verbose {
            println!(
                "{f1:.3} {marks} {}",
                page.file_name().unwrap_or_default().to_string_lossy()
            );
        }
    }
    let n = pages.len().max(1);
    println!(
        "{} pages in {:.1} s: body F1 {:.3}; failed {failed}; metadata agreement: title {}/{n}, author {}/{n}, publication {}/{n}, date {}/{n}",
        pages.len(),
        started.elapsed().as_secs_f64(),
        f1_sum / n as f64,
        agree[0],
        agree[1],
        agree[2],
        agree[3],
    );
}

/// The text of an HTML document, blocks on their own lines.
fn html_text(html: &str) -> String {
    dom_query::Document::from(html)
        .select("body")
        .text()
        .to_string()
}

/// Both empty, or equal after folding case and space (dates: the same day).
fn same_field(field: &str, want: Option<&str>, got: Option<&str>) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    match (
        want.map(norm).filter(|s| !s.is_empty()),
        got.map(norm).filter(|s| !s.is_empty()),
    ) {
        (None, None) => true,
        (Some(a), Some(b)) if field == "publishedTime" => a.get(..10) == b.get(..10),
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// F1 of the 4-word shingles (with multiplicity) of `got` against `want`.
fn shingle_f1(got: &str, want: &str) -> f64 {
    fn shingles(text: &str) -> HashMap<Vec<String>, usize> {
        let w = words(text);
        let mut out = HashMap::new();
        if w.len() < 4 {
            if !w.is_empty() {
                *out.entry(w).or_insert(0) += 1;
            }
            return out;
        }
        for window in w.windows(4) {
            *out.entry(window.to_vec()).or_insert(0) += 1;
        }
        out
    }
    let (g, w) = (shingles(got), shingles(want));
    let (gn, wn): (usize, usize) = (g.values().sum(), w.values().sum());
    if gn == 0 && wn == 0 {
        return 1.0;
    }
    let common: usize = g
        .iter()
        .map(|(k, c)| (*c).min(*w.get(k).unwrap_or(&0)))
        .sum();
    if common == 0 {
        return 0.0;
    }
    let (p, r) = (common as f64 / gn as f64, common as f64 / wn as f64);
    2.0 * p * r / (p + r)
}
