//! Web pages: the article without the site's furniture, and the metadata
//! the page gives about it.
//!
//! The article is found by rs-trafilatura (chosen by measurement: see
//! `examples/measure_add.rs`); its output is walked here into paragraphs,
//! headings, list items and quoted paragraphs, with footnote markers,
//! "Advertisement" lines and "Read more: …" links left out. The metadata
//! comes from the page itself: JSON-LD first, then `<meta>` tags (Dublin
//! Core, `og:`, `article:`, Parse.ly, Twitter), then the `<title>` and a
//! byline element; the URL from `<link rel="canonical">`, `og:url` or
//! JSON-LD. Nothing is guessed: a field the page does not give stays out.

use dom_query::{Document as Dom, NodeRef};

use super::{Block, Extracted, Limits, Meta, SourceError};

/// Extracts the article of the page `bytes`; `base` is the page's own
/// address when known (a fetched URL), for resolving a relative canonical link.
pub(crate) fn extract(
    bytes: &[u8],
    base: Option<&str>,
    limits: &Limits,
) -> Result<Extracted, SourceError> {
    let text = rs_trafilatura::encoding::transcode_to_utf8(bytes);
    let depth = nesting_depth(&text);
    if depth > limits.max_html_depth {
        return Err(SourceError::Hostile(format!(
            "elements nested {depth} deep (more than add.max_html_depth = {})",
            limits.max_html_depth
        )));
    }
    let base = base.map(str::to_string);
    std::thread::Builder::new()
        .name("add-html".into())
        .stack_size(EXTRACTOR_STACK)
        .spawn(move || extract_text(&text, base.as_deref()))
        .map_err(|e| SourceError::Other(format!("starting the extractor: {e}")))?
        .join()
        .map_err(|_| SourceError::Other("the extractor failed on this page".into()))?
}

/// The blocks of a whole document's body, with no article extraction (a
/// book's chapter has no site furniture), within the same bounds as a page.
pub(crate) fn body_blocks(text: String, limits: &Limits) -> Result<Vec<Block>, SourceError> {
    let depth = nesting_depth(&text);
    if depth > limits.max_html_depth {
        return Err(SourceError::Hostile(format!(
            "elements nested {depth} deep (more than add.max_html_depth = {})",
            limits.max_html_depth
        )));
    }
    std::thread::Builder::new()
        .name("add-html".into())
        .stack_size(EXTRACTOR_STACK)
        .spawn(move || blocks(&Dom::from(text.as_str())))
        .map_err(|e| SourceError::Other(format!("starting the extractor: {e}")))?
        .join()
        .map_err(|_| SourceError::Other("the extractor failed on this document".into()))
}

/// Stack for the threads that walk a parsed page: the extractor and the
/// walk recurse over the tree, as deep as `max_html_depth` lets it be.
const EXTRACTOR_STACK: usize = 64 * 1024 * 1024;

fn extract_text(text: &str, base: Option<&str>) -> Result<Extracted, SourceError> {
    let dom = Dom::from(text);
    let mut meta = metadata(&dom, base);
    // No URL is passed: the extractor would then judge the page by its
    // address, which measured worse (a Wikipedia article was taken for a
    // list of links).
    let article =
        rs_trafilatura::extract(text).map_err(|e| SourceError::NoArticle(e.to_string()))?;
    let html = article.content_html.unwrap_or_default();
    let mut blocks = blocks(&Dom::from(html.as_str()));
    // The extractor's structured output can miss text its plain output has
    // (an article it rebuilt from scattered nodes): then take the plain
    // text, a paragraph per line.
    let words = |blocks: &[Block]| -> usize {
        blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) | Block::Heading(_, t) => t.split_whitespace().count(),
            })
            .sum()
    };
    if words(&blocks) * 10 < article.content_text.split_whitespace().count() * 9 {
        blocks = article
            .content_text
            .lines()
            .map(fold)
            .filter(|l| !l.is_empty())
            .map(Block::Text)
            .collect();
    }
    if meta.title.is_none() {
        meta.title = article.metadata.title.filter(|t| !t.trim().is_empty());
    }
    drop_furniture(&mut blocks, &meta);
    let text_words: usize = blocks
        .iter()
        .map(|b| match b {
            Block::Text(t) => t.split_whitespace().count(),
            Block::Heading(..) => 0,
        })
        .sum();
    if text_words < MIN_ARTICLE_WORDS {
        return Err(SourceError::NoArticle(
            "no article text found on this page".into(),
        ));
    }
    Ok(Extracted {
        meta,
        blocks,
        warnings: Vec::new(),
    })
}

/// How deep elements nest in `html`, read from its tags without building
/// a tree (so that a page built to be deep costs no more than its length).
/// Elements HTML closes by themselves (`<p>`, `<li>`, void elements) are
/// not counted, so an untidy page is not taken for a hostile one.
pub(crate) fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th", "tbody",
        "thead", "tfoot", "colgroup", "optgroup", "rp", "rt", "html", "head", "body",
    ];
    const RAW: &[&str] = &["script", "style", "textarea", "title", "xmp", "noscript"];
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        i += off + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find(bytes, i, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let end = start
            + bytes[start..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric())
                .unwrap_or(bytes.len() - start);
        if end == start {
            continue;
        }
        let name = html[start..end].to_ascii_lowercase();
        let tag_end = bytes[end..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(bytes.len(), |e| end + e);
        let self_closed = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        i = tag_end.min(bytes.len());
        if VOID.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if RAW.contains(&name.as_str()) {
            let close = format!("</{name}");
            i = find_ascii_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
        } else if !self_closed {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ascii_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// The article's blocks in reading order.
fn blocks(dom: &Dom) -> Vec<Block> {
    let mut walk = Walk::default();
    walk.node(&dom.root(), false);
    walk.flush(false);
    walk.out
}

#[derive(Default)]
struct Walk {
    out: Vec<Block>,
    line: String,
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "figure",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "address",
    "details",
    "summary",
    "center",
];
const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "button", "form", "nav", "iframe", "select",
    "textarea", "head",
];

impl Walk {
    fn node(&mut self, node: &NodeRef<'_>, quoted: bool) {
        if node.is_text() {
            self.line.push_str(&node.text());
            return;
        }
        let name = node
            .node_name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if SKIP_TAGS.contains(&name.as_str()) || (name == "sup" && is_footnote_marker(node)) {
            return;
        }
        if name == "br" {
            self.line.push(' ');
            return;
        }
        let block = BLOCK_TAGS.contains(&name.as_str());
        if block {
            self.flush(quoted);
        }
        let quoted = quoted || name == "blockquote";
        for child in node.children_it(false) {
            self.node(&child, quoted);
        }
        if block {
            match name.as_bytes() {
                [b'h', level @ b'1'..=b'6'] => {
                    let text = fold(&self.line);
                    self.line.clear();
                    if !text.is_empty() {
                        self.out.push(Block::Heading(level - b'0', text));
                    }
                }
                _ => self.flush(quoted),
            }
        }
    }

    fn flush(&mut self, _quoted: bool) {
        let text = fold(&self.line);
        self.line.clear();
        if !text.is_empty() {
            self.out.push(Block::Text(text));
        }
    }
}

/// Whitespace runs as one space, trimmed.
pub(crate) fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `<sup>` that is a footnote or reference marker: `1`, `[12]`, `*`, `†`.
fn is_footnote_marker(node: &NodeRef<'_>) -> bool {
    let text = node.text();
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    !t.is_empty() && t.len() <= 4 && t.chars().all(|c| c.is_ascii_digit() || "*†‡§,".contains(c))
}

/// Leaves out what sites put inside articles: "Advertisement" lines,
/// "Read more: …" links to other articles, and the title and byline when
/// the article repeats them at its top.
fn drop_furniture(blocks: &mut Vec<Block>, meta: &Meta) {
    let lower = |s: &Option<String>| s.as_deref().map(|s| fold(s).to_lowercase());
    let (title, author) = (lower(&meta.title), lower(&meta.author));
    let mut index = 0;
    blocks.retain(|block| {
        index += 1;
        let Block::Text(text) = block else {
            return true;
        };
        let t = text.to_lowercase();
        let near_top = index <= 4;
        let is_ad = matches!(
            t.trim_end_matches(['.', ':']),
            "advertisement"
                | "advertisements"
                | "sponsored"
                | "ad"
                | "story continues below advertisement"
        ) || t.starts_with("advertisement - ")
            || t.starts_with("advertisement – ");
        let is_link_out = [
            "read more:",
            "read more -",
            "related:",
            "see also:",
            "more:",
            "also read:",
            "read also:",
        ]
        .iter()
        .any(|p| t.starts_with(p))
            && t.len() < 200;
        let is_title = near_top && title.as_deref() == Some(t.as_str());
        // "By Jane Doe", "By Jane Doe - 11/10/14 02:30 PM EST".
        let is_byline = near_top
            && author.as_deref().is_some_and(|a| {
                t == a
                    || t.strip_prefix("by ")
                        .is_some_and(|rest| rest.starts_with(a))
            })
            && t.len() < MAX_BYLINE;
        !(is_ad || is_link_out || is_title || is_byline)
    });
}

/// The longest line taken for a byline (by name and date), in bytes.
const MAX_BYLINE: usize = 120;

/// Fewest words an article has: a page with less has none.
const MIN_ARTICLE_WORDS: usize = 10;

/// The page's metadata, from JSON-LD, `<meta>` tags, `<title>` and byline
/// elements.
pub(crate) fn metadata(dom: &Dom, base: Option<&str>) -> Meta {
    let ld = json_ld(dom);
    let values = meta_values(dom);
    let get = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            values
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
        })
    };
    let title = ld
        .title
        .clone()
        .or_else(|| {
            get(&[
                "dc:title",
                "dcterm:title",
                "og:title",
                "weibo:article:title",
                "weibo:webpage:title",
                "title",
                "twitter:title",
                "parsely-title",
            ])
        })
        .or_else(|| page_title(dom));
    let article_author = get(&["article:author"]).filter(|a| !looks_like_url(a));
    let author = ld
        .author
        .clone()
        .or_else(|| get(&["dc:creator", "dcterm:creator", "author", "parsely-author"]))
        .or(article_author)
        .or_else(|| byline(dom));
    let publication = ld.publisher.clone().or_else(|| get(&["og:site_name"]));
    let date = ld.date.clone().or_else(|| {
        get(&[
            "article:published_time",
            "parsely-pub-date",
            "dc:date",
            "dcterm:date",
            "date",
        ])
    });
    let canonical = dom
        .select("link[rel~=canonical]")
        .attr("href")
        .map(|s| s.to_string());
    let url = [canonical, get(&["og:url"]), ld.url.clone()]
        .into_iter()
        .flatten()
        .find_map(|u| absolute_url(&u, base));
    Meta {
        title: title.map(|t| fold(&t)).filter(|t| !t.is_empty()),
        author: author.map(|a| clean_byline(&a)).filter(|a| !a.is_empty()),
        publication: publication.map(|p| fold(&p)).filter(|p| !p.is_empty()),
        date: date.map(|d| fold(&d)).filter(|d| !d.is_empty()),
        url,
    }
}

fn looks_like_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://") || text.starts_with("//")
}

/// `href` as an absolute http(s) URL, resolved against `base` when relative.
fn absolute_url(href: &str, base: Option<&str>) -> Option<String> {
    let href = href.trim();
    let parsed = match url::Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            url::Url::parse(base?).ok()?.join(href).ok()?
        }
        Err(_) => return None,
    };
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// `<meta>` values by normalised name (`og:title`, `author`, …), in page order.
fn meta_values(dom: &Dom) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for node in dom.select("meta").nodes() {
        let Some(content) = node.attr("content") else {
            continue;
        };
        let content = content.trim().to_string();
        if content.is_empty() {
            continue;
        }
        for attr in ["property", "name", "itemprop"] {
            if let Some(names) = node.attr(attr) {
                for name in names.split_whitespace() {
                    let name = name.to_lowercase().replace('.', ":");
                    out.push((name, content.clone()));
                }
            }
        }
    }
    out
}

/// The `<title>`, less the site's name when it is set off by a separator.
fn page_title(dom: &Dom) -> Option<String> {
    let full = fold(&dom.select("title").text());
    if full.is_empty() {
        return None;
    }
    for sep in [" | ", " - ", " – ", " — ", " » ", " :: ", " / "] {
        if let Some(at) = full.rfind(sep) {
            let head = &full[..at];
            if head.split_whitespace().count() >= 3 {
                return Some(head.to_string());
            }
        }
    }
    Some(full)
}

/// The text of a byline element (`rel=author`, `itemprop=author`, class or
/// id `byline`), when it is short enough to be one.
fn byline(dom: &Dom) -> Option<String> {
    let selectors = [
        "[rel=author]",
        "[itemprop~=author] [itemprop=name]",
        "[itemprop~=author]",
        ".byline",
        "#byline",
        ".author",
    ];
    selectors.iter().find_map(|sel| {
        dom.select(sel).nodes().iter().find_map(|n| {
            let text = clean_byline(&n.text());
            (!text.is_empty() && text.len() < 100).then_some(text)
        })
    })
}

/// A byline without "By " in front.
fn clean_byline(text: &str) -> String {
    let text = fold(text);
    let rest = ["By ", "by ", "BY ", "Written by ", "Words by "]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(&text);
    rest.trim().to_string()
}

/// What the page's JSON-LD says about its article.
#[derive(Debug, Default)]
struct LdArticle {
    title: Option<String>,
    author: Option<String>,
    publisher: Option<String>,
    date: Option<String>,
    url: Option<String>,
}

const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "AdvertiserContentArticle",
    "NewsArticle",
    "AnalysisNewsArticle",
    "AskPublicNewsArticle",
    "BackgroundNewsArticle",
    "OpinionNewsArticle",
    "ReportageNewsArticle",
    "ReviewNewsArticle",
    "Report",
    "SatiricalArticle",
    "ScholarlyArticle",
    "MedicalScholarlyArticle",
    "SocialMediaPosting",
    "BlogPosting",
    "LiveBlogPosting",
    "DiscussionForumPosting",
    "TechArticle",
    "APIReference",
];

fn json_ld(dom: &Dom) -> LdArticle {
    for script in dom.select("script[type=\"application/ld+json\"]").nodes() {
        let text = script.text();
        let text = text
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>");
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        if let Some(article) = find_article(&value, 0) {
            let string = |v: &serde_json::Value| v.as_str().map(fold).filter(|s| !s.is_empty());
            let name = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => Some(fold(s)).filter(|s| !s.is_empty()),
                serde_json::Value::Object(o) => o.get("name").and_then(string),
                _ => None,
            };
            let author = match &article["author"] {
                serde_json::Value::Array(list) => {
                    let names: Vec<String> = list.iter().filter_map(name).collect();
                    (!names.is_empty()).then(|| names.join(", "))
                }
                other => name(other),
            };
            // `name` and `headline` can differ (a Wikipedia article's
            // headline is its description): take the one the page's
            // `<title>` names.
            let page = fold(&dom.select("title").text()).to_lowercase();
            let (name_, headline) = (string(&article["name"]), string(&article["headline"]));
            let title = match (name_, headline) {
                (Some(n), Some(h))
                    if n != h
                        && page.contains(&n.to_lowercase())
                        && !page.contains(&h.to_lowercase()) =>
                {
                    Some(n)
                }
                (n, h) => h.or(n),
            };
            return LdArticle {
                title,
                author: author.filter(|a| !looks_like_url(a)),
                publisher: name(&article["publisher"]),
                date: string(&article["datePublished"]),
                url: string(&article["url"]).or_else(|| {
                    name(&article["mainEntityOfPage"]).or_else(|| {
                        article["mainEntityOfPage"]["@id"]
                            .as_str()
                            .map(str::to_string)
                    })
                }),
            };
        }
    }
    LdArticle::default()
}

/// The first object of an article type in `value` (in `@graph` or a list too).
fn find_article(value: &serde_json::Value, depth: usize) -> Option<&serde_json::Value> {
    if depth > 8 {
        return None;
    }
    match value {
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_article(v, depth + 1)),
        serde_json::Value::Object(map) => {
            let is_article = match map.get("@type") {
                Some(serde_json::Value::String(t)) => ARTICLE_TYPES.contains(&t.as_str()),
                Some(serde_json::Value::Array(ts)) => ts
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| ARTICLE_TYPES.contains(&t))),
                _ => false,
            };
            if is_article {
                return Some(value);
            }
            map.get("@graph").and_then(|g| find_article(g, depth + 1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn depth_counts_real_nesting_not_untidy_paragraphs() {
        assert_eq!(nesting_depth("<div><div><p>a<p>b</div></div>"), 2);
        assert_eq!(nesting_depth("<ul><li>a<li>b<li>c</ul>"), 1);
        assert_eq!(nesting_depth("<script>if (a<b) {}</script><div>x</div>"), 1);
        assert_eq!(nesting_depth("<!-- <div><div> --><br/><img>"), 0);
        let deep = "<div>".repeat(100_000);
        assert_eq!(nesting_depth(&deep), 100_000);
    }

    #[test]
    fn a_page_nested_a_hundred_thousand_deep_is_refused() {
        let page = format!("<html><body>{}deep</body></html>", "<div>".repeat(100_000));
        let err = extract(page.as_bytes(), None, &limits()).unwrap_err();
        assert!(err.to_string().contains("nested 100000 deep"), "{err}");
        assert!(err.to_string().contains("add.max_html_depth"), "{err}");
    }

    #[test]
    fn metadata_from_json_ld_meta_tags_and_canonical_link() {
        let page = r#"<html><head><title>Ignored | Site</title>
            <meta property="og:title" content="OG title">
            <meta property="og:site_name" content="The Site">
            <meta name="author" content="Meta Author">
            <meta property="article:published_time" content="2021-03-04T05:06:07Z">
            <link rel="canonical" href="/a/b">
            <script type="application/ld+json">{"@graph":[{"@type":"WebSite"},{"@type":"NewsArticle","headline":"LD title","author":[{"@type":"Person","name":"Ann Lee"},{"name":"Bo Ma"}],"publisher":{"name":"LD Pub"}}]}</script>
            </head><body></body></html>"#;
        let meta = metadata(&Dom::from(page), Some("https://example.com/x?y"));
        assert_eq!(meta.title.as_deref(), Some("LD title"));
        assert_eq!(meta.author.as_deref(), Some("Ann Lee, Bo Ma"));
        assert_eq!(meta.publication.as_deref(), Some("LD Pub"));
        assert_eq!(meta.date.as_deref(), Some("2021-03-04T05:06:07Z"));
        assert_eq!(meta.url.as_deref(), Some("https://example.com/a/b"));
    }

    #[test]
    fn nothing_is_invented() {
        let meta = metadata(&Dom::from("<html><body><p>Text</p></body></html>"), None);
        assert_eq!(meta, Meta::default());
        let meta = metadata(
            &Dom::from(r#"<html><head><link rel="canonical" href="/relative"></head></html>"#),
            None,
        );
        assert_eq!(meta.url, None, "a relative link with no base is no URL");
    }

    #[test]
    fn title_falls_back_to_the_title_element_without_the_site() {
        let meta = metadata(
            &Dom::from("<title>A Long Essay Title | The Site</title>"),
            None,
        );
        assert_eq!(meta.title.as_deref(), Some("A Long Essay Title"));
    }

    #[test]
    fn blocks_keep_paragraphs_lists_quotes_and_drop_markers() {
        let dom = Dom::from(
            "<article><h2>Head</h2><p>One<sup>1</sup> two.</p><ul><li>a</li><li>b</li></ul>\
             <blockquote><p>Quoted.</p></blockquote><p>Advertisement</p></article>",
        );
        let mut got = blocks(&dom);
        drop_furniture(&mut got, &Meta::default());
        assert_eq!(
            got,
            [
                Block::Heading(2, "Head".into()),
                Block::Text("One two.".into()),
                Block::Text("a".into()),
                Block::Text("b".into()),
                Block::Text("Quoted.".into()),
            ]
        );
    }
}
