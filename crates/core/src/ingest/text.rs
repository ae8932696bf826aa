//! Plain text and Markdown sources, normalised: UTF-8 without a byte-order
//! mark, one paragraph per line, control characters gone, the title in the
//! front matter.
//!
//! A `.md` file keeps what its front matter says; a `.txt` file's first line
//! is its title when it reads as one (short, not ending a sentence), else
//! the title must be given with `--title`.

use super::{Block, Extracted, Meta, SourceError};
use crate::corpus::{Essay, parse_essay};

/// A `.txt` source.
pub(crate) fn plain(bytes: &[u8], overrides: &Meta) -> Result<Extracted, SourceError> {
    let text = utf8(bytes)?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let titled = is_title_line(first) && text.lines().filter(|l| !l.trim().is_empty()).count() > 1;
    let (title, body) = if titled {
        (Some(first.trim().to_string()), text.to_string())
    } else if overrides.title.is_some() {
        // The corpus reads a `.txt` file's first line as its title: give it one.
        (None, format!("-\n{text}"))
    } else {
        return Err(SourceError::Other(
            "no title: the first line reads as text, not a title; give one with --title".into(),
        ));
    };
    let essay = parse_essay("source.txt", body.as_bytes())
        .map_err(|(line, why)| SourceError::Other(at_line(line, &why)))?;
    Ok(Extracted {
        meta: Meta {
            title,
            ..Meta::default()
        },
        blocks: text_blocks(&essay),
        warnings: Vec::new(),
    })
}

/// A `.md` source: its front matter, or its first `# ` heading, as metadata.
pub(crate) fn markdown(
    name: &str,
    bytes: &[u8],
    overrides: &Meta,
) -> Result<Extracted, SourceError> {
    let text = utf8(bytes)?;
    let has_title = text.trim_start().starts_with("+++")
        || text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with("# "));
    if !has_title && overrides.title.is_none() {
        return Err(SourceError::Other(
            "no title: no front matter and no `# ` heading; give one with --title".into(),
        ));
    }
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let essay =
        parse_essay(file, bytes).map_err(|(line, why)| SourceError::Other(at_line(line, &why)))?;
    let blocks = text_blocks(&essay);
    Ok(Extracted {
        meta: Meta {
            title: has_title.then_some(essay.title),
            author: essay.author,
            publication: essay.publication,
            date: essay.date,
            url: essay.url,
        },
        blocks,
        warnings: Vec::new(),
    })
}

/// The paragraphs of a parsed essay, as blocks of text.
fn text_blocks(essay: &Essay) -> Vec<Block> {
    essay
        .paragraphs
        .iter()
        .map(|p| Block::Text(p.to_string()))
        .collect()
}

fn at_line(line: Option<usize>, why: &str) -> String {
    match line {
        Some(line) => format!("line {line}: {why}"),
        None => why.to_string(),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, SourceError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        SourceError::Other(format!("line {line}: not UTF-8 text (save it as UTF-8)"))
    })
}

/// A line that reads as a title: short, and not ending like a sentence.
fn is_title_line(line: &str) -> bool {
    let line = line.trim().trim_start_matches('\u{feff}');
    !line.is_empty()
        && line.chars().count() <= 150
        && !line.ends_with(['.', ',', ';', ':', '!', '?', '"', '”', '’'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_file_titled_on_its_first_line() {
        let got = plain(
            b"\xef\xbb\xbfMy Essay\r\n\r\nOne\r\nline.\r\n\r\nTwo.\r\n",
            &Meta::default(),
        )
        .unwrap();
        assert_eq!(got.meta.title.as_deref(), Some("My Essay"));
        assert_eq!(
            got.blocks,
            [Block::Text("One line.".into()), Block::Text("Two.".into())]
        );
    }

    #[test]
    fn a_text_file_without_a_title_needs_one() {
        let text = b"This is the first paragraph.\nAnd the second.\n";
        let err = plain(text, &Meta::default()).unwrap_err();
        assert!(err.to_string().contains("--title"), "{err}");
        let given = Meta {
            title: Some("Given".into()),
            ..Meta::default()
        };
        let got = plain(text, &given).unwrap();
        assert_eq!(got.meta.title, None, "the override is applied later");
        assert_eq!(got.blocks.len(), 2);
    }

    #[test]
    fn markdown_keeps_its_front_matter() {
        let md = b"+++\ntitle = \"T\"\nauthor = \"A\"\n+++\n\nText\nhere.\n";
        let got = markdown("x/a.md", md, &Meta::default()).unwrap();
        assert_eq!(got.meta.title.as_deref(), Some("T"));
        assert_eq!(got.meta.author.as_deref(), Some("A"));
        assert_eq!(got.blocks, [Block::Text("Text here.".into())]);
        assert!(markdown("b.md", b"Just text.\n", &Meta::default()).is_err());
    }
}
