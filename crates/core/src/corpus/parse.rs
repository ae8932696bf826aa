//! Parsing: one essay file's bytes to an [`Essay`].
//!
//! A Markdown file may open with TOML front matter between `+++` lines
//! (title, author, publication, date, url, source, tags; nothing else); else
//! its first `# ` heading, or its file name, is the title. A `.txt` file has
//! its title on the first line. Paragraphs are blank-line separated blocks,
//! with Markdown headings and rules left out.

use serde::Deserialize;

use super::essay::{Essay, Paragraphs};
use crate::text::clean;
use crate::text::names::stable_hash;

/// Why a file is not a usable essay: the 1-based line, when there is one, and what is wrong.
pub type ParseError = (Option<usize>, String);

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

/// Parses one essay file; `name` is its path relative to the corpus folder.
///
/// The essay's id is left empty: ids are given out corpus-wide.
pub fn parse_essay(name: &str, bytes: &[u8]) -> Result<Essay, ParseError> {
    let text = decode(bytes)?;
    let is_markdown = name.ends_with(".md");
    let lines: Vec<&str> = text.lines().collect();
    let mut essay = Essay::blank(name, stable_hash(bytes));
    let body_start = if lines.first().map(|l| l.trim_end()) == Some("+++") {
        read_front_matter(&lines, &mut essay)?
    } else {
        read_title_line(name, &lines, is_markdown, &mut essay)
    };
    let body_start = body_start.min(lines.len());
    let body = &lines[body_start..];
    let mut paragraphs = if is_markdown {
        markdown_paragraphs(body)
    } else {
        text_paragraphs(body)
    };
    // A block of control characters and spaces only folds to nothing.
    paragraphs.retain(|p| !p.is_empty());
    if paragraphs.is_empty() {
        return Err((Some(body_start + 1), "no text after the title".into()));
    }
    essay.paragraphs = Paragraphs::from_vec(&paragraphs);
    Ok(essay)
}

/// The file's text: UTF-8, without a byte-order mark, not blank.
fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        (Some(line + 1), "not valid UTF-8".to_string())
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err((None, "empty file".into()));
    }
    Ok(text)
}

/// Fills `essay`'s metadata from the front matter that opens `lines`;
/// returns the index of the first body line.
fn read_front_matter(lines: &[&str], essay: &mut Essay) -> Result<usize, ParseError> {
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
    essay.title = visible_line(&front.title);
    if essay.title.is_empty() {
        return Err((Some(2), "front matter: title is empty".into()));
    }
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
    Ok(end + 1)
}

/// Sets the title of a file without front matter: a Markdown file's first
/// `# ` heading (or its file name), a text file's first line. Returns the
/// index of the first body line.
fn read_title_line(name: &str, lines: &[&str], is_markdown: bool, essay: &mut Essay) -> usize {
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let (title, body_start) = if !is_markdown {
        (visible_line(lines[first]), first + 1)
    } else {
        match lines[first].trim().strip_prefix("# ") {
            Some(title) => (visible_line(title), first + 1),
            None => (String::new(), first),
        }
    };
    essay.title = if title.is_empty() {
        title_from_name(name)
    } else {
        title
    };
    body_start
}

/// A line with control characters made spaces, trimmed.
fn visible_line(line: &str) -> String {
    clean::text(line).trim().to_string()
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
    let title = visible_line(&stem.replace(['-', '_'], " "));
    if title.is_empty() {
        visible_line(name)
    } else {
        title
    }
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
        return blocks[0].iter().map(|line| fold_lines(&[line])).collect();
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

/// The lines of a block joined with single spaces, control characters made
/// spaces, and trimmed: empty when the block held only controls and spaces.
fn fold_lines(block: &[&str]) -> String {
    let mut out = String::new();
    for line in block {
        let line = visible_line(line);
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Essay, ParseError> {
        parse_essay(name, text.as_bytes())
    }

    #[test]
    fn control_characters_alone_are_no_paragraph() {
        let err = parse("x.md", "\u{e}").unwrap_err();
        assert_eq!(err.1, "no text after the title");
        let essay = parse("x.txt", "Title\n\n\u{e}\u{7}\n\nBody \u{1b}text.\n").unwrap();
        assert_eq!(essay.paragraphs.iter().collect::<Vec<_>>(), ["Body  text."]);
        let essay = parse("x.txt", "Title\n\u{e}\nBody.\n").unwrap();
        assert_eq!(essay.paragraphs.iter().collect::<Vec<_>>(), ["Body."]);
    }

    #[test]
    fn a_title_of_control_characters_falls_back_to_the_file_name() {
        let essay = parse("dir/my-essay.txt", "\u{e}\nBody.\n").unwrap();
        assert_eq!(essay.title, "my essay");
        let essay = parse("_.md", "# \u{7}\n\nBody.\n").unwrap();
        assert_eq!(essay.title, "_.md");
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
}
