//! Corpus: a folder of essays read into memory.
//!
//! Every `.md` or `.txt` file below the folder is one essay. Markdown files
//! carry TOML front matter between `+++` lines; a `.txt` file has its title on
//! the first line. A bad file becomes a [`Warning`] naming the file and line,
//! and the rest of the corpus still loads.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::error::{Error, Result};

/// One essay with its metadata and its paragraphs, in reading order.
///
/// The text is held once, as one string; paragraphs and passages are byte
/// ranges of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Essay {
    /// Short, stable, URL-safe id derived from the file name.
    pub id: String,
    /// Path of the file relative to the corpus folder.
    pub file: String,
    /// The essay's title.
    pub title: String,
    /// The author, if known.
    pub author: Option<String>,
    /// Where it was published, if known.
    pub publication: Option<String>,
    /// When it was published, as written in the front matter.
    pub date: Option<String>,
    /// Where it can be read online; never invented.
    pub url: Option<String>,
    /// Where the text was taken from, if not the URL.
    pub source: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// The paragraphs, verbatim, with inner line breaks folded to spaces.
    pub paragraphs: Paragraphs,
    /// A hash of the file's bytes, used to notice changes.
    pub fingerprint: u64,
}

/// An essay's paragraphs, held as one string: `paragraphs[i]` is the
/// paragraph at 0-based index `i`, as a `str`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraphs {
    /// The paragraphs one after another, with nothing between them.
    text: String,
    /// Where each paragraph of `text` ends.
    ends: Vec<u32>,
}

impl Paragraphs {
    /// The number of paragraphs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The paragraph at 0-based `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.range(index).map(|r| &self.text[r])
    }

    /// The paragraphs, in reading order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// Byte range within [`Paragraphs::text`] of the paragraph at 0-based `index`.
    pub fn range(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(index)? as usize;
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i] as usize);
        Some(start..end)
    }

    /// All paragraphs run together; see [`Paragraphs::range`].
    pub fn text(&self) -> &str {
        &self.text
    }

    fn from_vec(paragraphs: &[String]) -> Paragraphs {
        let mut out = Paragraphs {
            text: String::with_capacity(paragraphs.iter().map(String::len).sum()),
            ends: Vec::with_capacity(paragraphs.len()),
        };
        for paragraph in paragraphs {
            out.text.push_str(paragraph);
            let end = u32::try_from(out.text.len()).expect("an essay is shorter than 4 GiB");
            out.ends.push(end);
        }
        out
    }
}

impl std::ops::Index<usize> for Paragraphs {
    type Output = str;

    fn index(&self, index: usize) -> &str {
        self.get(index).expect("paragraph index out of range")
    }
}

/// A file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file concerned.
    pub path: PathBuf,
    /// The 1-based line the problem is on, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The essays of one folder, plus the files that were skipped.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// The folder the essays came from.
    pub dir: PathBuf,
    /// The essays, sorted by file path.
    pub essays: Vec<Essay>,
    /// Files that could not be read as essays.
    pub warnings: Vec<Warning>,
}

impl Corpus {
    /// A hash of every essay's fingerprint and id: changes when any file does.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        for essay in &self.essays {
            h.write(essay.id.as_bytes());
            h.write(&essay.fingerprint.to_le_bytes());
        }
        h.finish()
    }
}

/// A file of the corpus, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// Path relative to the corpus folder, with `/` separators.
    pub file: String,
    /// Size in bytes.
    pub len: u64,
    /// Last modification time, if the platform reports one.
    pub modified: Option<SystemTime>,
    /// Inode number and status-change time (Unix): they change when a file is
    /// replaced or written even if its size and modification time are kept.
    pub change: (u64, i64, i64),
}

impl FileStamp {
    /// True when the stamp cannot be trusted to reveal a later edit: the file
    /// was modified within a second of `read_at`, so a second edit in the same
    /// clock tick could leave size and times unchanged (git calls these
    /// entries "racily clean"). Such a file is read again on the next reload.
    pub fn is_racy(&self, read_at: SystemTime) -> bool {
        let settled = |m: SystemTime| {
            read_at
                .duration_since(m)
                .is_ok_and(|age| age >= std::time::Duration::from_secs(1))
        };
        !self.modified.is_some_and(settled)
    }
}

/// Lists every `.md` and `.txt` file below `dir`, sorted by path.
pub fn scan(dir: &Path) -> Result<Vec<FileStamp>> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(files)
}

/// Reads and parses one file listed by [`scan`]; the essay's id is left
/// empty for an [`IdAllocator`] to fill in. A file that cannot be read is an
/// error; a file that is not a usable essay is a [`Warning`].
pub fn read(dir: &Path, stamp: &FileStamp) -> Result<Result<Essay, Warning>> {
    let path = dir.join(&stamp.file);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(
        parse_essay(&stamp.file, &bytes).map_err(|(line, message)| Warning {
            path,
            line,
            message,
        }),
    )
}

/// Reads every `.md` and `.txt` file below `dir`.
///
/// Fails only when the folder cannot be read or holds no usable essay; a bad
/// file is reported in [`Corpus::warnings`] and skipped.
pub fn load(dir: &Path) -> Result<Corpus> {
    let mut corpus = Corpus {
        dir: dir.to_path_buf(),
        ..Corpus::default()
    };
    let mut ids = IdAllocator::default();
    for stamp in scan(dir)? {
        match read(dir, &stamp)? {
            Ok(mut essay) => {
                essay.id = ids.allocate(&essay.file);
                corpus.essays.push(essay);
            }
            Err(warning) => corpus.warnings.push(warning),
        }
    }
    ensure_essays(dir, corpus.essays.len(), &corpus.warnings)?;
    Ok(corpus)
}

/// The error for a corpus folder without a single usable essay.
pub fn ensure_essays(dir: &Path, essays: usize, warnings: &[Warning]) -> Result<()> {
    if essays > 0 {
        return Ok(());
    }
    Err(Error::Corpus {
        path: dir.to_path_buf(),
        message: if warnings.is_empty() {
            "no .md or .txt essays found".into()
        } else {
            format!("no usable essays ({} files skipped)", warnings.len())
        },
    })
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<FileStamp>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "txt")
        ) {
            let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(FileStamp {
                file: rel.to_string_lossy().replace('\\', "/"),
                len: meta.len(),
                modified: meta.modified().ok(),
                change: change_stamp(&meta),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn change_stamp(meta: &std::fs::Metadata) -> (u64, i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (meta.ino(), meta.ctime(), meta.ctime_nsec())
}

#[cfg(not(unix))]
fn change_stamp(_: &std::fs::Metadata) -> (u64, i64, i64) {
    (0, 0, 0)
}

/// Front matter keys; anything else is rejected by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    author: Option<String>,
    publication: Option<String>,
    date: Option<DateValue>,
    url: Option<String>,
    source: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// A date written as a string or as a bare TOML date.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DateValue {
    Text(String),
    Toml(toml::value::Datetime),
}

type ParseError = (Option<usize>, String);

/// Parses one essay file; `name` is its path relative to the corpus folder.
pub fn parse_essay(name: &str, bytes: &[u8]) -> Result<Essay, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err((Some(line + 1), "not valid UTF-8".into()));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err((None, "empty file".into()));
    }
    let fingerprint = fnv1a(bytes);
    let is_markdown = name.ends_with(".md");
    let lines: Vec<&str> = text.lines().collect();
    let mut essay = Essay {
        id: String::new(),
        file: name.to_string(),
        title: String::new(),
        author: None,
        publication: None,
        date: None,
        url: None,
        source: None,
        tags: Vec::new(),
        paragraphs: Paragraphs::default(),
        fingerprint,
    };
    let body_start;
    if lines.first().map(|l| l.trim_end()) == Some("+++") {
        let end = lines[1..]
            .iter()
            .position(|l| l.trim_end() == "+++")
            .map(|i| i + 1)
            .ok_or((
                Some(1),
                "front matter opened with +++ is never closed".to_string(),
            ))?;
        let toml_text = lines[1..end].join("\n");
        let front: FrontMatter = toml::from_str(&toml_text).map_err(|e| {
            let line = e
                .span()
                .map(|span| toml_text[..span.start].matches('\n').count() + 2);
            (line, format!("front matter: {}", e.message()))
        })?;
        if front.title.trim().is_empty() {
            return Err((Some(2), "front matter: title is empty".into()));
        }
        essay.title = front.title.trim().to_string();
        essay.author = non_empty(front.author);
        essay.publication = non_empty(front.publication);
        essay.date = non_empty(front.date.map(|d| match d {
            DateValue::Text(s) => s,
            DateValue::Toml(d) => d.to_string(),
        }));
        essay.url = non_empty(front.url);
        if let Some(url) = &essay.url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err((
                Some(line_of_key(&lines[1..end], "url") + 1),
                format!("front matter: url must start with http:// or https://, got {url:?}"),
            ));
        }
        essay.source = non_empty(front.source);
        essay.tags = front.tags;
        body_start = end + 1;
    } else if is_markdown {
        let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
        match lines[first].trim().strip_prefix("# ") {
            Some(title) => {
                essay.title = title.trim().to_string();
                body_start = first + 1;
            }
            None => {
                essay.title = title_from_name(name);
                body_start = first;
            }
        }
    } else {
        let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
        essay.title = lines[first].trim().to_string();
        body_start = first + 1;
    }
    let body = &lines[body_start.min(lines.len())..];
    let paragraphs = if is_markdown {
        markdown_paragraphs(body)
    } else {
        text_paragraphs(body)
    };
    essay.paragraphs = Paragraphs::from_vec(&paragraphs);
    if paragraphs.is_empty() {
        return Err((
            Some(body_start.min(lines.len()) + 1),
            "no text after the title".into(),
        ));
    }
    Ok(essay)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn line_of_key(lines: &[&str], key: &str) -> usize {
    lines
        .iter()
        .position(|l| l.trim_start().starts_with(key))
        .map_or(1, |i| i + 1)
}

fn title_from_name(name: &str) -> String {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    stem.replace(['-', '_'], " ")
}

/// Blank-line separated blocks, with headings and rules left out.
fn markdown_paragraphs(lines: &[&str]) -> Vec<String> {
    blocks(lines)
        .into_iter()
        .filter(|block| {
            let first = block[0].trim_start();
            !(first.starts_with('#') || is_rule(first))
        })
        .map(|block| fold_lines(&block))
        .collect()
}

/// Blank-line separated blocks; a file with no blank line has a paragraph per line.
fn text_paragraphs(lines: &[&str]) -> Vec<String> {
    let blocks = blocks(lines);
    if blocks.len() == 1 {
        return blocks[0].iter().map(|l| l.trim().to_string()).collect();
    }
    blocks.iter().map(|block| fold_lines(block)).collect()
}

fn blocks<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current = Vec::new();
    for line in lines {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(*line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && (t.chars().all(|c| c == '-') || t.chars().all(|c| c == '*'))
}

fn fold_lines(block: &[&str]) -> String {
    let mut out = String::new();
    for line in block {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Gives each essay a short, URL-safe, unique id from its file name.
///
/// Ids depend on the order files are offered in (a clash is settled in
/// favour of the first), so essays must be offered in [`scan`] order.
#[derive(Debug, Default)]
pub struct IdAllocator {
    taken: std::collections::HashSet<String>,
}

/// Longest essay id; leaves room for `_<paragraph>-<window>` in a 32-byte passage id.
pub const MAX_ESSAY_ID: usize = 20;

impl IdAllocator {
    /// The id for the file at `rel_name` (relative to the corpus folder).
    pub fn allocate(&mut self, rel_name: &str) -> String {
        let stem = rel_name.rsplit_once('.').map_or(rel_name, |(s, _)| s);
        let mut slug = slugify(stem);
        if slug.len() > MAX_ESSAY_ID || slug.is_empty() {
            slug = hashed_slug(&slug, rel_name);
        }
        if !self.taken.insert(slug.clone()) {
            slug = hashed_slug(&slug, rel_name);
            while !self.taken.insert(slug.clone()) {
                slug = hashed_slug(&slug, &slug.clone());
            }
        }
        slug
    }
}

fn hashed_slug(slug: &str, key: &str) -> String {
    let prefix: String = slug.chars().take(MAX_ESSAY_ID - 5).collect();
    let prefix = prefix.trim_end_matches('-');
    let hash = fnv1a(key.as_bytes()) & 0xffff;
    if prefix.is_empty() {
        format!("e{hash:04x}")
    } else {
        format!("{prefix}-{hash:04x}")
    }
}

/// Lowercase ASCII letters and digits, with runs of anything else as one `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// 64-bit FNV-1a: a small hash that is the same on every machine and build.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.write(bytes);
    h.finish()
}

/// Incremental FNV-1a hasher.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    /// A hasher at the FNV offset basis.
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Essay, ParseError> {
        parse_essay(name, text.as_bytes())
    }

    #[test]
    fn markdown_with_front_matter() {
        let essay = parse(
            "a.md",
            "+++\ntitle = \"T\"\nauthor = \"A\"\ndate = 1787-11-22\n+++\n\n# Heading\n\nOne\ntwo.\n\nThree.\n",
        )
        .unwrap();
        assert_eq!(essay.title, "T");
        assert_eq!(essay.author.as_deref(), Some("A"));
        assert_eq!(essay.date.as_deref(), Some("1787-11-22"));
        assert_eq!(
            essay.paragraphs.iter().collect::<Vec<_>>(),
            ["One two.", "Three."]
        );
        assert_eq!(&essay.paragraphs[1], "Three.");
        assert_eq!(essay.paragraphs.get(2), None);
        assert_eq!(essay.paragraphs.text(), "One two.Three.");
        assert_eq!(essay.url, None);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("a.md", "+++\ntitle = \"T\"\nauthr = \"A\"\n+++\nText.\n").unwrap_err();
        assert_eq!(err.0, Some(3));
        assert!(err.1.contains("authr"), "{}", err.1);
    }

    #[test]
    fn broken_front_matter() {
        let err = parse("a.md", "+++\ntitle = \"T\nText.\n").unwrap_err();
        assert_eq!(err.0, Some(1));
        let err = parse("a.md", "+++\ntitle = \"T\n+++\nText.\n").unwrap_err();
        assert_eq!(err.0, Some(2));
        let err = parse("a.md", "+++\nauthor = \"A\"\n+++\nText.\n").unwrap_err();
        assert!(err.1.contains("title"), "{}", err.1);
    }

    #[test]
    fn not_utf8_and_empty() {
        let err = parse_essay("a.txt", b"Title\n\nok\n\xff\xfe").unwrap_err();
        assert_eq!(err, (Some(4), "not valid UTF-8".to_string()));
        assert!(parse("a.txt", "  \n\n").is_err());
        assert!(parse("a.txt", "Only a title\n").is_err());
    }

    #[test]
    fn plain_text_title_and_paragraphs() {
        let essay = parse("a.txt", "The Title\nFirst line.\nSecond line.\n").unwrap();
        assert_eq!(essay.title, "The Title");
        assert_eq!(
            essay.paragraphs.iter().collect::<Vec<_>>(),
            ["First line.", "Second line."]
        );
        let essay = parse("a.txt", "The Title\n\nFirst\nline.\n\n\nSecond.\n").unwrap();
        assert_eq!(
            essay.paragraphs.iter().collect::<Vec<_>>(),
            ["First line.", "Second."]
        );
    }

    #[test]
    fn bad_url_rejected() {
        let err = parse(
            "a.md",
            "+++\ntitle = \"T\"\nurl = \"javascript:x\"\n+++\nText.\n",
        )
        .unwrap_err();
        assert_eq!(err.0, Some(3));
    }

    #[test]
    fn ids_are_short_unique_and_url_safe() {
        let mut ids = IdAllocator::default();
        let a = ids.allocate("Federalist 10.md");
        assert_eq!(a, "federalist-10");
        let b = ids.allocate("federalist-10.txt");
        assert_ne!(a, b);
        let long = ids.allocate("a very long file name that goes on and on.md");
        assert!(long.len() <= MAX_ESSAY_ID, "{long}");
        let weird = ids.allocate("日本語.md");
        assert!(!weird.is_empty());
        for id in [a, b, long, weird] {
            assert!(id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
        }
    }
}
