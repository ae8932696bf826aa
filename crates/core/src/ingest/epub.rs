//! EPUB books: the metadata of the package (OPF) and the text of the
//! documents of the spine, in reading order, as paragraphs and headings.
//! Cover, title page, table of contents, colophon and licence documents are
//! left out. With `--split chapters` each top-level heading becomes an essay.

use super::archive::Archive;
use super::xml::{attr, elements, text};
use super::{Block, Extracted, Limits, Meta, SourceError};

/// Spine documents whose name says they are not the text.
const FRONT_AND_BACK: &[&str] = &[
    "cover",
    "titlepage",
    "title-page",
    "toc",
    "nav",
    "colophon",
    "imprint",
    "copyright",
    "uncopyright",
    "license",
    "licence",
    "pg-header",
    "pg-footer",
    "wrap0000",
];

/// Reads the EPUB `bytes`.
pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, SourceError> {
    let mut zip = Archive::open(bytes, limits.max_unpacked_bytes)?;
    let container = zip
        .text("META-INF/container.xml")?
        .ok_or_else(|| SourceError::Other("not an EPUB: no META-INF/container.xml".into()))?;
    let opf_path = elements(&container, "rootfile")
        .first()
        .and_then(|(attrs, _)| attr(attrs, "full-path"))
        .ok_or_else(|| SourceError::Other("not an EPUB: container.xml names no package".into()))?;
    let opf = zip
        .text(&opf_path)?
        .ok_or_else(|| SourceError::Other(format!("corrupt EPUB: no {opf_path}")))?;
    let meta = package_meta(&opf);
    let dir = opf_path.rsplit_once('/').map_or("", |(d, _)| d);
    let manifest: Vec<(String, String, String)> = elements(&opf, "item")
        .into_iter()
        .filter_map(|(attrs, _)| {
            let id = attr(attrs, "id")?;
            let href = attr(attrs, "href")?;
            let props = attr(attrs, "properties").unwrap_or_default();
            Some((id, href, props))
        })
        .collect();
    let mut blocks = Vec::new();
    for (attrs, _) in elements(&opf, "itemref") {
        let Some(idref) = attr(attrs, "idref") else {
            continue;
        };
        if attr(attrs, "linear").as_deref() == Some("no") {
            continue;
        }
        let Some((_, href, props)) = manifest.iter().find(|(id, _, _)| *id == idref) else {
            continue;
        };
        let lower = href.to_ascii_lowercase();
        let file = lower.rsplit('/').next().unwrap_or(&lower);
        if props.split_whitespace().any(|p| p == "nav")
            || FRONT_AND_BACK.iter().any(|skip| file.starts_with(skip))
        {
            continue;
        }
        let href = percent_encoding::percent_decode_str(href).decode_utf8_lossy();
        let path = resolve(dir, &href);
        let Some(xhtml) = zip.text(&path)? else {
            continue;
        };
        blocks.extend(super::html::body_blocks(xhtml, limits)?);
    }
    if !blocks.iter().any(|b| matches!(b, Block::Text(_))) {
        return Err(SourceError::NoArticle(
            "the book has no text in its spine".into(),
        ));
    }
    Ok(Extracted {
        meta,
        blocks,
        warnings: Vec::new(),
    })
}

/// Title, authors, publisher, date and a web address from the OPF's Dublin Core.
fn package_meta(opf: &str) -> Meta {
    let first = |name: &str| {
        elements(opf, name)
            .into_iter()
            .map(|(_, inner)| text(inner))
            .find(|t| !t.is_empty())
    };
    let creators: Vec<String> = elements(opf, "dc:creator")
        .into_iter()
        .map(|(_, inner)| text(inner))
        .filter(|t| !t.is_empty())
        .collect();
    let url = ["dc:source", "dc:identifier"].iter().find_map(|name| {
        elements(opf, name)
            .into_iter()
            .map(|(_, inner)| text(inner))
            .find(|t| t.starts_with("http://") || t.starts_with("https://"))
    });
    Meta {
        title: first("dc:title"),
        author: (!creators.is_empty()).then(|| creators.join(", ")),
        publication: first("dc:publisher"),
        date: first("dc:date"),
        url,
    }
}

/// `href` relative to the folder `dir` of the package, with `..` resolved.
fn resolve(dir: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_package_metadata() {
        assert_eq!(
            resolve("OEBPS", "text/../ch%201.xhtml#x"),
            "OEBPS/ch%201.xhtml"
        );
        assert_eq!(resolve("", "a.xhtml"), "a.xhtml");
        let opf = r#"<package><metadata><dc:title>Essays</dc:title><dc:creator opf:role="aut">R. W. Emerson</dc:creator>
            <dc:identifier>urn:uuid:1</dc:identifier><dc:source>https://www.gutenberg.org/ebooks/2944</dc:source></metadata></package>"#;
        let meta = package_meta(opf);
        assert_eq!(meta.title.as_deref(), Some("Essays"));
        assert_eq!(meta.author.as_deref(), Some("R. W. Emerson"));
        assert_eq!(meta.publication, None);
        assert_eq!(meta.date, None);
        assert_eq!(
            meta.url.as_deref(),
            Some("https://www.gutenberg.org/ebooks/2944")
        );
    }
}
