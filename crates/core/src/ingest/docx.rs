//! Word documents (DOCX): the paragraphs of `word/document.xml`, headings
//! by their style, and the title and author of the document info
//! (`docProps/core.xml`). The file's own dates say when it was saved, not
//! published, so no date is taken.

use super::archive::Archive;
use super::xml::{attr, elements, text};
use super::{Block, Extracted, Limits, Meta, SourceError};

/// Reads the DOCX `bytes`.
pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, SourceError> {
    let mut zip = Archive::open(bytes, limits.max_unpacked_bytes)?;
    let document = zip
        .text("word/document.xml")?
        .ok_or_else(|| SourceError::Other("not a DOCX: no word/document.xml".into()))?;
    let core = zip.text("docProps/core.xml")?.unwrap_or_default();
    let first = |name: &str| {
        elements(&core, name)
            .into_iter()
            .map(|(_, inner)| text(inner))
            .find(|t| !t.is_empty())
    };
    let meta = Meta {
        title: first("dc:title"),
        author: first("dc:creator"),
        ..Meta::default()
    };
    let mut blocks = Vec::new();
    for (_, paragraph) in elements(&document, "w:p") {
        let style = elements(paragraph, "w:pStyle")
            .first()
            .and_then(|(attrs, _)| attr(attrs, "w:val"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        // Tabs and breaks are spaces; text is in the runs' `w:t` elements.
        let spaced = paragraph
            .replace("<w:tab/>", "<w:t> </w:t>")
            .replace("<w:br/>", "<w:t> </w:t>");
        let line: String = elements(&spaced, "w:t")
            .into_iter()
            .map(|(_, inner)| super::xml::unescape(inner))
            .collect();
        let line = super::html::fold(&line);
        if line.is_empty() {
            continue;
        }
        let level = if style == "title" {
            Some(1)
        } else {
            style
                .strip_prefix("heading")
                .and_then(|n| n.parse::<u8>().ok())
        };
        blocks.push(match level {
            Some(level) => Block::Heading(level.clamp(1, 6), line),
            None => Block::Text(line),
        });
    }
    if !blocks.iter().any(|b| matches!(b, Block::Text(_))) {
        return Err(SourceError::NoArticle("the document has no text".into()));
    }
    Ok(Extracted {
        meta,
        blocks,
        warnings: Vec::new(),
    })
}
