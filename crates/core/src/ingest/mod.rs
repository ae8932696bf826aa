//! Ingest: essays from the web pages and files people have, written into
//! the corpus folder as essay files (`citebot add`, the bot's `/add`).
//!
//! Each source becomes one Markdown essay with TOML front matter (or one
//! per chapter with `--split chapters`). The layer sits beside `corpus`: it
//! writes the files that `corpus` reads, and imports nothing above it.
//!
//! - `html`: saved web pages: the article, not the page, and its metadata;
//! - `text`: `.txt` and `.md` files, normalised;
//! - `epub`, `docx`: books and Word documents, read from their zip
//!   container within `add.max_unpacked_bytes` (`archive`), their
//!   metadata files scanned by `xml`;
//! - `pdf`: PDF with a text layer, its lines rejoined into paragraphs,
//!   within `add.max_pdf_objects` and `add.max_unpacked_bytes`;
//! - `fetch`: `http(s)://` sources, through the HTTP client in the tree;
//! - `write`: file names from author and title, updating an essay added
//!   before instead of duplicating it, never overwriting another.
//!
//! Bad input is an [`AddError`] naming the source, and nothing is written.

mod archive;
mod docx;
mod epub;
mod fetch;
mod html;
mod pdf;
mod text;
mod write;
mod xml;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::AddConfig;

/// Bounds on what one source may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest source read, in bytes (a file, a download).
    pub max_bytes: u64,
    /// Deepest element nesting a web page may have.
    pub max_html_depth: usize,
    /// Most bytes an EPUB or DOCX may unpack to.
    pub max_unpacked_bytes: u64,
    /// Seconds a download may take in all.
    pub fetch_timeout_seconds: u64,
    /// Most objects a PDF may hold.
    pub max_pdf_objects: usize,
}

impl From<&AddConfig> for Limits {
    fn from(config: &AddConfig) -> Limits {
        Limits {
            max_bytes: config.max_bytes,
            max_html_depth: config.max_html_depth,
            max_unpacked_bytes: config.max_unpacked_bytes,
            fetch_timeout_seconds: config.fetch_timeout_seconds,
            max_pdf_objects: config.max_pdf_objects,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from(&crate::config::Config::default().add)
    }
}

/// An essay's metadata; a field the source does not give stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The title.
    pub title: Option<String>,
    /// The author or authors.
    pub author: Option<String>,
    /// Where it was published.
    pub publication: Option<String>,
    /// When it was published, as the source gives it (ISO dates shortened to the day).
    pub date: Option<String>,
    /// Where it can be read online.
    pub url: Option<String>,
}

impl Meta {
    /// `self` with every field `overrides` sets replaced.
    fn overridden_by(mut self, overrides: &Meta) -> Meta {
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                *field = Some(v.clone());
            }
        };
        set(&mut self.title, &overrides.title);
        set(&mut self.author, &overrides.author);
        set(&mut self.publication, &overrides.publication);
        set(&mut self.date, &overrides.date);
        set(&mut self.url, &overrides.url);
        self
    }
}

/// How to split a source into essays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Split {
    /// The whole source is one essay.
    #[default]
    None,
    /// One essay per chapter (per top-level heading).
    Chapters,
}

/// What `add` does with its sources.
#[derive(Debug, Clone)]
pub struct AddOptions {
    /// The corpus folder the essays are written to.
    pub corpus: PathBuf,
    /// Metadata that replaces what the source says.
    pub overrides: Meta,
    /// One essay per source, or per chapter.
    pub split: Split,
    /// Bounds on each source.
    pub limits: Limits,
}

/// One essay written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The file written.
    pub path: PathBuf,
    /// Its metadata (the title is always set).
    pub meta: Meta,
    /// How many paragraphs it has.
    pub paragraphs: usize,
    /// True when it replaced the same essay added before.
    pub updated: bool,
    /// What the reader should know (a field the source did not give, …).
    pub warnings: Vec<String>,
}

/// A source that could not be added, and why; nothing was written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddError {
    /// The source as given (a path or a URL).
    pub source: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for AddError {}

/// Why a source gave no essay, before the source is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceError {
    /// A page with no article in it.
    NoArticle(String),
    /// Input built (or big enough) to cost too much.
    Hostile(String),
    /// A kind of source not read yet.
    Unsupported(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::NoArticle(why) => write!(f, "no article to add: {why}"),
            SourceError::Hostile(why) => write!(f, "refused: {why}"),
            SourceError::Unsupported(why) | SourceError::Other(why) => f.write_str(why),
        }
    }
}

/// A piece of an extracted article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A heading of level 1 to 6 (kept in the file, not a paragraph).
    Heading(u8, String),
    /// A paragraph, list item or quoted paragraph, on one line.
    Text(String),
}

/// What a source gave: its metadata and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub meta: Meta,
    pub blocks: Vec<Block>,
    pub warnings: Vec<String>,
}

/// The kinds of file `add` recognises, by extension.
const KINDS: &[&str] = &[
    "html", "htm", "xhtml", "shtml", "txt", "md", "markdown", "epub", "pdf", "docx",
];

/// The sources to add: each file given, and every recognised file in each
/// folder given (below it, in name order). URLs pass through.
pub fn expand(sources: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for source in sources {
        let path = Path::new(source);
        if !is_url(source) && path.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found);
            found.sort();
            if found.is_empty() {
                // Reported by `add_source` as a folder with nothing to add.
                out.push(source.clone());
            }
            out.extend(found.into_iter().map(|p| p.display().to_string()));
        } else {
            out.push(source.clone());
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if extension(&path.to_string_lossy()).is_some_and(|e| KINDS.contains(&e.as_str())) {
            out.push(path);
        }
    }
}

fn is_url(source: &str) -> bool {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The lowercase extension of a file name or URL path.
fn extension(name: &str) -> Option<String> {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// Adds one source (a file or an `http(s)://` URL) to the corpus.
pub fn add_source(source: &str, options: &AddOptions) -> Result<Vec<Added>, AddError> {
    let named = |message: String| AddError {
        source: source.to_string(),
        message,
    };
    let extracted = if is_url(source) {
        let page = fetch::get(source, &options.limits).map_err(named)?;
        read(&page.name, &page.bytes, Some(&page.url), options)
    } else {
        let path = Path::new(source);
        if path.is_dir() {
            return Err(named(format!(
                "a folder with nothing to add (citebot add reads {})",
                KINDS.join(", ")
            )));
        }
        let bytes = read_file(path, &options.limits).map_err(named)?;
        read(source, &bytes, None, options)
    };
    let extracted = extracted.map_err(|e| named(e.to_string()))?;
    write_all(extracted, options).map_err(named)
}

/// An essay as `add` would write it, without writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Its metadata, overrides applied.
    pub meta: Meta,
    /// Its paragraphs, in order.
    pub paragraphs: Vec<String>,
}

/// What `add` would write for the source `name` with these bytes (one
/// essay, or one per chapter), without writing anything: for measuring
/// extraction and for checking a source first.
pub fn preview(name: &str, bytes: &[u8], options: &AddOptions) -> Result<Vec<Preview>, AddError> {
    let extracted = read(name, bytes, None, options).map_err(|e| AddError {
        source: name.to_string(),
        message: e.to_string(),
    })?;
    Ok(extracted
        .into_iter()
        .map(|e| Preview {
            meta: e.meta,
            paragraphs: e
                .blocks
                .into_iter()
                .filter_map(|b| match b {
                    Block::Text(t) => Some(t),
                    Block::Heading(..) => None,
                })
                .collect(),
        })
        .collect())
}

/// Adds a source whose bytes are in hand (a document sent to the bot);
/// `name` is its file name, which says what kind it is.
pub fn add_bytes(name: &str, bytes: &[u8], options: &AddOptions) -> Result<Vec<Added>, AddError> {
    let named = |message: String| AddError {
        source: name.to_string(),
        message,
    };
    if bytes.len() as u64 > options.limits.max_bytes {
        return Err(named(too_big(bytes.len() as u64, &options.limits)));
    }
    let extracted = read(name, bytes, None, options).map_err(|e| named(e.to_string()))?;
    write_all(extracted, options).map_err(named)
}

fn too_big(len: u64, limits: &Limits) -> String {
    format!(
        "refused: {len} bytes, more than add.max_bytes = {}",
        limits.max_bytes
    )
}

fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limits.max_bytes {
        let len = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(too_big(len, limits));
    }
    Ok(bytes)
}

/// The essay (or chapters) in `bytes`, read by the kind `name` says.
fn read(
    name: &str,
    bytes: &[u8],
    base: Option<&str>,
    options: &AddOptions,
) -> Result<Vec<Extracted>, SourceError> {
    let kind = extension(name).unwrap_or_default();
    let mut extracted = match kind.as_str() {
        "html" | "htm" | "xhtml" | "shtml" => html::extract(bytes, base, &options.limits)?,
        "txt" => text::plain(bytes, &options.overrides)?,
        "md" | "markdown" => text::markdown(name, bytes, &options.overrides)?,
        "epub" => epub::extract(bytes, &options.limits)?,
        "docx" => docx::extract(bytes, &options.limits)?,
        "pdf" => pdf::extract(bytes, &options.limits)?,
        _ if looks_like_html(bytes) => html::extract(bytes, base, &options.limits)?,
        _ => {
            return Err(SourceError::Unsupported(format!(
                "not a kind of file citebot add reads ({})",
                KINDS.join(", ")
            )));
        }
    };
    if extracted.meta.url.is_none()
        && let Some(base) = base
    {
        // A fetched page's own address, when it names no canonical one.
        extracted.meta.url = Some(base.to_string());
    }
    extracted.meta = std::mem::take(&mut extracted.meta).overridden_by(&options.overrides);
    Ok(match options.split {
        Split::None => vec![extracted],
        Split::Chapters => chapters(extracted),
    })
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<head")
}

/// One essay per chapter: the blocks under each heading of the top level
/// present (when there are two or more), titled by the heading, with the
/// book's title as the publication when the source names none.
fn chapters(book: Extracted) -> Vec<Extracted> {
    let levels: Vec<u8> = book
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(level, _) => Some(*level),
            Block::Text(_) => None,
        })
        .collect();
    let Some(&top) = levels.iter().min() else {
        return vec![book];
    };
    if levels.iter().filter(|&&l| l == top).count() < 2 {
        return vec![book];
    }
    let mut out: Vec<Extracted> = Vec::new();
    let mut front: Vec<Block> = Vec::new();
    for block in book.blocks {
        match block {
            Block::Heading(level, title) if level == top => {
                let mut meta = book.meta.clone();
                if meta.publication.is_none() {
                    meta.publication = book.meta.title.clone();
                }
                meta.title = Some(title);
                out.push(Extracted {
                    meta,
                    blocks: Vec::new(),
                    warnings: book.warnings.clone(),
                });
            }
            text => match out.last_mut() {
                Some(chapter) => chapter.blocks.push(text),
                None => front.push(text),
            },
        }
    }
    out.retain(|c| c.blocks.iter().any(|b| matches!(b, Block::Text(_))));
    out
}

fn write_all(extracted: Vec<Extracted>, options: &AddOptions) -> Result<Vec<Added>, String> {
    // Chapters of one book share its URL: each is told apart by its title.
    let chapters = extracted.len() > 1;
    // Check every essay before writing any, so that a bad one writes nothing.
    let essays = extracted
        .into_iter()
        .map(write::Essay::new)
        .collect::<Result<Vec<_>, _>>()?;
    essays
        .into_iter()
        .map(|essay| write::write(&options.corpus, essay, chapters))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_urls() {
        assert_eq!(extension("a/b.HTML").as_deref(), Some("html"));
        assert_eq!(extension("https://x.org/a.pdf?x=1").as_deref(), Some("pdf"));
        assert_eq!(extension("noext"), None);
        assert!(is_url("HTTPS://example.com"));
        assert!(!is_url("file.html"));
    }

    #[test]
    fn chapters_split_at_headings_and_keep_the_book_as_publication() {
        let book = Extracted {
            meta: Meta {
                title: Some("Essays".into()),
                author: Some("A. Writer".into()),
                ..Meta::default()
            },
            blocks: vec![
                Block::Text("Preface.".into()),
                Block::Heading(2, "One".into()),
                Block::Text("First.".into()),
                Block::Heading(3, "Part".into()),
                Block::Heading(2, "Two".into()),
                Block::Text("Second.".into()),
            ],
            warnings: Vec::new(),
        };
        let parts = chapters(book);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].meta.title.as_deref(), Some("Two"));
        assert_eq!(parts[1].meta.publication.as_deref(), Some("Essays"));
        assert_eq!(parts[1].blocks, [Block::Text("Second.".into())]);
    }
}
