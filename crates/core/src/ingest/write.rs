//! Writing essays into the corpus folder: names from author and title the
//! way the shipped corpus is named (`shirk-time-2022.md`), the same essay
//! added again updates its file, and a different essay never overwrites one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Added, Block, Extracted, Meta};
use crate::text::names::slugify;

/// An essay checked and ready to write.
#[derive(Debug)]
pub(crate) struct Essay {
    meta: Meta,
    title: String,
    text: String,
    paragraphs: usize,
    warnings: Vec<String>,
}

/// The front matter written, in the order the README lists its keys.
#[derive(Serialize)]
struct Front<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publication: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// What an existing essay file says about itself, to tell whether a new
/// one is the same essay.
#[derive(Deserialize)]
struct Existing {
    title: Option<String>,
    author: Option<String>,
    url: Option<String>,
}

impl Essay {
    /// The essay file for `extracted`, checked by the corpus's own parser.
    pub(crate) fn new(extracted: Extracted) -> Result<Essay, String> {
        let Extracted {
            mut meta,
            blocks,
            mut warnings,
        } = extracted;
        let title = meta
            .title
            .clone()
            .ok_or("no title in the source: give one with --title".to_string())?;
        meta.date = meta.date.map(|d| short_date(&d));
        if meta.url.is_none() {
            warnings.push("no URL: citations will not link to the essay (give --url)".into());
        }
        let front = Front {
            title: &title,
            author: meta.author.as_deref(),
            publication: meta.publication.as_deref(),
            date: meta.date.as_deref(),
            url: meta.url.as_deref(),
        };
        let mut text = format!(
            "+++\n{}+++\n",
            toml::to_string(&front).map_err(|e| e.to_string())?
        );
        for block in &blocks {
            text.push('\n');
            match block {
                Block::Heading(level, heading) => {
                    text.push_str(&"#".repeat(usize::from(*level).clamp(2, 6)));
                    text.push(' ');
                    text.push_str(heading);
                }
                Block::Text(paragraph) => text.push_str(paragraph),
            }
            text.push('\n');
        }
        let parsed = crate::corpus::parse_essay("new.md", text.as_bytes())
            .map_err(|(_, why)| format!("no essay to write: {why}"))?;
        Ok(Essay {
            meta,
            title,
            paragraphs: parsed.paragraphs.len(),
            text,
            warnings,
        })
    }
}

/// An ISO date-time (`2022-10-14T08:00:00Z`) as its day; other dates as given.
fn short_date(date: &str) -> String {
    let b = date.as_bytes();
    let iso = b.len() > 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && matches!(b[10], b'T' | b' ');
    if iso {
        date[..10].to_string()
    } else {
        date.to_string()
    }
}

/// Writes `essay` into `corpus`: over the file of the same essay if there
/// is one, else under a new name. A `chapter` shares its book's URL, so
/// the same URL makes the same essay only with the same title.
pub(crate) fn write(corpus: &Path, essay: Essay, chapter: bool) -> Result<Added, String> {
    std::fs::create_dir_all(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let (path, updated) = place(corpus, &essay.meta, &essay.title, chapter)?;
    let tmp = corpus.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, &essay.text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })?;
    let mut meta = essay.meta;
    meta.title = Some(essay.title);
    Ok(Added {
        path,
        meta,
        paragraphs: essay.paragraphs,
        updated,
        warnings: essay.warnings,
    })
}

/// Where the essay goes, and whether that replaces the same essay.
fn place(
    corpus: &Path,
    meta: &Meta,
    title: &str,
    chapter: bool,
) -> Result<(PathBuf, bool), String> {
    // The same URL anywhere in the folder is the same essay, whatever its name.
    if let Some(url) = &meta.url {
        for path in essay_files(corpus) {
            let Some(existing) = read_existing(&path) else {
                continue;
            };
            let same_title = existing
                .title
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(title));
            if existing.url.is_some_and(|u| same_url(&u, url)) && (!chapter || same_title) {
                return Ok((path, true));
            }
        }
    }
    let base = stem(meta, title);
    let title_words: String = slugify(title)
        .split('-')
        .take(5)
        .collect::<Vec<_>>()
        .join("-");
    let mut candidates = vec![base.clone()];
    if !title_words.is_empty() && !base.ends_with(&title_words) {
        candidates.push(format!("{base}-{title_words}"));
    }
    let last = candidates.last().cloned().unwrap_or_default();
    candidates.extend((2..1000).map(|n| format!("{last}-{n}")));
    for name in candidates {
        let path = corpus.join(format!("{name}.md"));
        if !path.exists() {
            return Ok((path, false));
        }
        if read_existing(&path).is_some_and(|e| is_same(&e, meta, title, chapter)) {
            return Ok((path, true));
        }
    }
    Err("no free file name for this essay".into())
}

/// `surname-publication-year` when all three are known (as the shipped
/// corpus names its essays), else the surname, the title's first words
/// and the year.
fn stem(meta: &Meta, title: &str) -> String {
    let surname = meta
        .author
        .as_deref()
        .and_then(|a| a.split([',', ';', '&']).next())
        .and_then(|first| first.split(" and ").next())
        .and_then(|first| first.split_whitespace().last())
        .map(slugify)
        .filter(|s| !s.is_empty());
    let publication = meta
        .publication
        .as_deref()
        .map(|p| slugify(p).replace('-', ""))
        .filter(|p| !p.is_empty())
        .map(|p| p.chars().take(16).collect::<String>());
    let year = meta.date.as_deref().and_then(year);
    let mut parts: Vec<String> = Vec::new();
    match (&surname, &publication, &year) {
        (Some(s), Some(p), Some(y)) => parts.extend([s.clone(), p.clone(), y.clone()]),
        _ => {
            parts.extend(surname.clone());
            let words: Vec<String> = slugify(title)
                .split('-')
                .filter(|w| !w.is_empty())
                .take(5)
                .map(String::from)
                .collect();
            if !words.is_empty() {
                parts.push(words.join("-"));
            }
            parts.extend(year);
        }
    }
    let name = parts.join("-");
    if name.is_empty() {
        "essay".into()
    } else {
        name
    }
}

/// The first four-digit year (1000–2999) in `date`.
fn year(date: &str) -> Option<String> {
    let chars: Vec<char> = date.chars().collect();
    chars.windows(4).enumerate().find_map(|(i, w)| {
        let digits = w.iter().all(char::is_ascii_digit) && matches!(w[0], '1' | '2');
        let alone = (i == 0 || !chars[i - 1].is_ascii_digit())
            && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        (digits && alone).then(|| w.iter().collect())
    })
}

fn essay_files(corpus: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(corpus) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
}

/// The front matter of the essay file at `path`, if it has any.
fn read_existing(path: &Path) -> Option<Existing> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.strip_prefix("+++")?;
    let end = rest.find("\n+++")?;
    toml::from_str(&rest[..end]).ok()
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The same essay: the same URL, or (when either has none) the same title
/// and author.
fn is_same(existing: &Existing, meta: &Meta, title: &str, chapter: bool) -> bool {
    if let (Some(a), Some(b)) = (&existing.url, &meta.url)
        && !chapter
    {
        return same_url(a, b);
    }
    let eq =
        |a: Option<&str>, b: Option<&str>| a.map(str::to_lowercase) == b.map(str::to_lowercase);
    eq(existing.title.as_deref(), Some(title))
        && eq(existing.author.as_deref(), meta.author.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(author: &str, publication: &str, date: &str) -> Meta {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Meta {
            title: Some("T".into()),
            author: some(author),
            publication: some(publication),
            date: some(date),
            url: None,
        }
    }

    #[test]
    fn names_follow_the_shipped_corpus() {
        let m = meta("Susan Shirk", "TIME", "2022-10-14");
        assert_eq!(
            stem(&m, "Don't Give Up on Diplomacy with China"),
            "shirk-time-2022"
        );
        let m = meta("Alan D. Romberg", "The Hill", "November 2014");
        assert_eq!(stem(&m, "x"), "romberg-thehill-2014");
        let m = meta("", "", "");
        assert_eq!(
            stem(&m, "On the Shortness of Life, Part One"),
            "on-the-shortness-of-life"
        );
        assert_eq!(stem(&m, "日本語"), "essay");
    }

    #[test]
    fn dates_and_years() {
        assert_eq!(short_date("2022-10-14T08:00:00Z"), "2022-10-14");
        assert_eq!(short_date("October 2022"), "October 2022");
        assert_eq!(year("Oct. 14, 2022").as_deref(), Some("2022"));
        assert_eq!(year("12345"), None);
    }
}
