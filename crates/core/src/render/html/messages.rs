//! The message layouts: answers, passages in context, the list of essays
//! and citation checks, each within [`MAX_MESSAGE_LEN`]; and the plain-text
//! pieces Telegram shows beside messages (copy buttons, inline results).

use super::builder::{Html, Tag, escape, is_linkable, prefix, utf16_len};
use crate::answer::{Citation, CiteResult, Hit, PassageView, Source, Verdict};
use crate::render::labels;
use crate::text::clean;

/// Longest message text Telegram accepts, in UTF-16 code units after parsing.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Longest text a copy-text button may carry.
pub const MAX_COPY_TEXT_LEN: usize = 256;
/// Longest citation line inside a message; only absurd metadata comes near it.
const MAX_CITATION_LEN: usize = 1024;

/// A citation: author, <i>title</i>, publication, date, ¶N and a link that
/// lands on the quoted words (none without a URL).
pub fn citation(citation: &Citation, limit: usize) -> Html {
    let mut html = Html::new(limit.min(MAX_CITATION_LEN));
    html.text("— ");
    if let Some(author) = &citation.author {
        html.text(author).text(", ");
    }
    html.tagged(Tag::Italic, &citation.title);
    for part in [&citation.publication, &citation.date]
        .into_iter()
        .flatten()
    {
        html.text(", ").text(part);
    }
    html.text(&format!(", ¶{}", citation.paragraph));
    if let Some(link) = citation.link.as_deref().filter(|l| is_linkable(l)) {
        html.text(", ").tagged(Tag::Link(link), "read it there");
    }
    html
}

/// One excerpt in a blockquote, matched words in bold, then its citation.
pub fn hit(hit: &Hit, limit: usize) -> Html {
    let cite = citation(&hit.citation, limit / 2);
    let mut html = Html::new(limit);
    let mut quote = Html::new(limit.saturating_sub(cite.len() + 1));
    quote.open(Tag::Quote);
    if hit.quote.leading {
        quote.text("… ");
    }
    for (piece, marked) in hit.quote.pieces(&hit.passage.text) {
        if marked {
            quote.tagged(Tag::Bold, piece);
        } else {
            quote.text(piece);
        }
    }
    if hit.quote.trailing {
        quote.text(" …");
    }
    html.append(quote);
    html.text("\n");
    html.append(cite);
    html
}

/// An answer: each hit's excerpt and citation, within one message.
pub fn answer(hits: &[Hit]) -> String {
    if hits.is_empty() {
        return escape(&labels::no_answer("/sources"));
    }
    let share = (MAX_MESSAGE_LEN / hits.len()).saturating_sub(2);
    let mut html = Html::new(MAX_MESSAGE_LEN);
    for (i, h) in hits.iter().enumerate() {
        if i > 0 {
            html.text("\n\n");
        }
        html.append(hit(h, share));
    }
    html.finish()
}

/// A passage with the paragraphs around it: neighbours in expandable
/// blockquotes, the passage itself in a blockquote, then its citation.
pub fn context(view: &PassageView) -> String {
    let cite = citation(&view.citation, MAX_MESSAGE_LEN / 4);
    let mut budget = MAX_MESSAGE_LEN - cite.len() - 8;
    let passage_len = utf16_len(&view.passage.text).min(budget * 2 / 3);
    budget -= passage_len;
    let before = view.before.as_ref().map(|p| {
        let mut html = Html::new(budget / 2);
        html.tagged(Tag::ExpandableQuote, &p.text);
        html
    });
    budget -= before.as_ref().map_or(0, Html::len);
    let after = view.after.as_ref().map(|p| {
        let mut html = Html::new(budget);
        html.tagged(Tag::ExpandableQuote, &p.text);
        html
    });
    let mut passage = Html::new(passage_len.max(1));
    passage.tagged(Tag::Quote, &view.passage.text);

    let mut html = Html::new(MAX_MESSAGE_LEN);
    for part in [before, Some(passage), after].into_iter().flatten() {
        html.append(part);
        html.text("\n");
    }
    html.append(cite);
    html.finish()
}

/// The essays: author, <i>title</i>, publication, date and link, one per line.
pub fn sources(sources: &[Source]) -> String {
    let mut html = Html::new(MAX_MESSAGE_LEN);
    html.tagged(Tag::Bold, &format!("The essays ({})", sources.len()));
    let reserve = 40;
    for (i, source) in sources.iter().enumerate() {
        let mut line = Html::new(MAX_CITATION_LEN);
        line.text("\n• ");
        if let Some(author) = &source.author {
            line.text(author).text(", ");
        }
        line.tagged(Tag::Italic, &source.title);
        for part in [&source.publication, &source.date].into_iter().flatten() {
            line.text(", ").text(part);
        }
        if let Some(url) = source.url.as_deref().filter(|u| is_linkable(u)) {
            line.text(", ").tagged(Tag::Link(url), "link");
        }
        if line.len() + reserve > html.remaining() {
            html.text(&format!("\n… and {} more", sources.len() - i));
            break;
        }
        html.append(line);
    }
    html.finish()
}

/// A citation check: the verdict, the original wording, the differences
/// (`<s>said</s> → <b>original</b>`) and the citation with its link.
pub fn cite(result: &CiteResult) -> String {
    let mut html = Html::new(MAX_MESSAGE_LEN);
    let found = match (result.verdict, &result.found) {
        (Verdict::NotFound, _) | (_, None) => {
            let (symbol, name) = labels::verdict(Verdict::NotFound);
            html.text(symbol)
                .text(" ")
                .tagged(Tag::Bold, name)
                .text(": ")
                .text(labels::not_found(result));
            return html.finish();
        }
        (verdict, Some(found)) => {
            let (symbol, name) = labels::verdict(verdict);
            html.text(symbol).text(" ").tagged(Tag::Bold, name);
            if verdict == Verdict::Close {
                html.text(" ").text(&labels::similarity(found.similarity));
            }
            if result.elided && verdict == Verdict::Exact {
                html.text(" ").text(labels::ELIDED);
            }
            if let Some(a) = &result.attribution {
                let mut line = Html::new(MAX_CITATION_LEN);
                line.text("\n")
                    .text(&labels::attribution(a, &found.source.title));
                html.append(line);
            }
            found
        }
    };
    let cite = citation(&found.citation, MAX_MESSAGE_LEN / 4);
    let mut differences = Html::new(MAX_MESSAGE_LEN / 4);
    if !result.differences.is_empty() {
        differences.text("\nDifferences:");
        for d in &result.differences {
            differences.text("\n");
            differences.tagged(Tag::Strike, &d.said).text(" → ");
            differences.tagged(Tag::Bold, &d.original);
        }
    }
    let room = html
        .remaining()
        .saturating_sub(cite.len() + differences.len() + 4);
    let mut original = Html::new(room.max(1));
    original
        .text("\nOriginal:\n")
        .tagged(Tag::Quote, &found.original);
    html.append(original);
    html.append(differences);
    html.text("\n");
    html.append(cite);
    html.finish()
}

/// A plain citation line for a copy button: Author, “Title,” Publication,
/// Date, ¶N, link; within [`MAX_COPY_TEXT_LEN`], trimming the title with "…"
/// (then the link's text fragment, then the end) when needed.
pub fn copy_line(citation: &Citation) -> String {
    let fits = |line: &str| utf16_len(line) <= MAX_COPY_TEXT_LEN;
    let clean_line = |c: &Citation| clean::text(&c.line());
    let mut c = citation.clone();
    let line = clean_line(&c);
    if fits(&line) {
        return line;
    }
    let over = utf16_len(&line) - MAX_COPY_TEXT_LEN;
    let title_len = utf16_len(&c.title);
    if over < title_len {
        let short = prefix(&c.title, title_len - over - 1);
        if !short.is_empty() {
            c.title = format!("{short}…");
            let line = clean_line(&c);
            if fits(&line) {
                return line;
            }
        }
    }
    // Still too long: keep the page but not the words it points at.
    c.link = c
        .link
        .as_deref()
        .map(|l| l.split_once('#').map_or(l, |(base, _)| base).to_string());
    let line = clean_line(&c);
    if fits(&line) {
        return line;
    }
    format!("{}…", prefix(&line, MAX_COPY_TEXT_LEN - 1))
}

/// A short plain-text description of a hit, for inline results: the start of
/// its quote.
pub fn summary(hit: &Hit, max_chars: usize) -> String {
    let text = clean::text(&hit.quote_text());
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut = prefix(&text, max_chars.saturating_sub(1));
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{CiteMatch, Difference, Passage, Quote};
    use proptest::prelude::*;

    /// Checks what Telegram's HTML parser checks for our tags: known tags,
    /// proper nesting, entities; returns the visible text.
    fn parse(html: &str) -> Result<String, String> {
        let mut stack: Vec<String> = Vec::new();
        let mut visible = String::new();
        let mut rest = html;
        while let Some(c) = rest.chars().next() {
            if c == '<' {
                let end = rest.find('>').ok_or("unclosed tag")?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    if stack.pop().as_deref() != Some(name) {
                        return Err(format!("mismatched </{name}>"));
                    }
                } else {
                    let name = tag.split(' ').next().unwrap_or("");
                    if !["b", "i", "s", "a", "blockquote"].contains(&name) {
                        return Err(format!("unknown tag {tag}"));
                    }
                    if name == "a" && !tag.starts_with("a href=\"http") {
                        return Err(format!("bad link {tag}"));
                    }
                    if tag[name.len()..].contains(['<', '&']) && name != "a" {
                        return Err(format!("bad attribute {tag}"));
                    }
                    stack.push(name.to_string());
                }
                rest = &rest[end + 1..];
            } else if c == '&' {
                let end = rest.find(';').ok_or("bare &")?;
                visible.push(match &rest[..=end] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    other => return Err(format!("unknown entity {other}")),
                });
                rest = &rest[end + 1..];
            } else if c == '>' || c == '"' {
                return Err(format!("unescaped {c}"));
            } else {
                visible.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        Ok(visible)
    }

    fn valid(html: &str) -> String {
        let visible = parse(html).unwrap_or_else(|e| panic!("{e}: {html}"));
        assert!(utf16_len(&visible) <= MAX_MESSAGE_LEN, "too long: {html}");
        assert!(!visible.trim().is_empty(), "empty: {html:?}");
        visible
    }

    fn citation_of(title: &str, link: Option<&str>) -> Citation {
        Citation {
            author: Some("Susan Shirk".into()),
            title: title.into(),
            publication: Some("TIME".into()),
            date: Some("October 2022".into()),
            paragraph: 6,
            link: link.map(String::from),
        }
    }

    fn hit_of(text: &str, title: &str) -> Hit {
        let words: Vec<_> = text
            .char_indices()
            .filter(|(i, c)| !c.is_whitespace() && (*i == 0 || text[..*i].ends_with(' ')))
            .map(|(i, _)| i)
            .take(3)
            .collect();
        let marks = words
            .iter()
            .map(|&i| i..i + text[i..].find(' ').unwrap_or(text.len() - i))
            .collect();
        Hit {
            rank: 1,
            passage: Passage {
                id: "essay_6".into(),
                essay: 0,
                paragraph: 6,
                window: 0,
                text: text.into(),
                sentences: std::iter::once(0..text.len()).collect(),
            },
            source: Source {
                id: "essay".into(),
                title: title.into(),
                author: None,
                publication: None,
                date: None,
                url: None,
                paragraphs: 9,
            },
            quote: Quote {
                span: 0..text.len(),
                leading: true,
                trailing: true,
                marks,
            },
            citation: citation_of(title, Some("https://time.com/a?b=1&c=2#:~:text=China")),
            score: 1.0,
        }
    }

    #[test]
    fn hit_has_blockquote_bold_citation_and_link() {
        let html = answer(&[hit_of("China is <the> top & \"partner\"", "Don't Give Up")]);
        assert_eq!(
            html,
            "<blockquote>… <b>China</b> <b>is</b> <b>&lt;the&gt;</b> top &amp; &quot;partner&quot; …</blockquote>\n\
             — Susan Shirk, <i>Don't Give Up</i>, TIME, October 2022, ¶6, \
             <a href=\"https://time.com/a?b=1&amp;c=2#:~:text=China\">read it there</a>"
        );
        valid(&html);
    }

    #[test]
    fn no_url_no_link() {
        let mut h = hit_of("words", "T");
        h.citation.link = None;
        assert!(!answer(&[h.clone()]).contains("<a"));
        h.citation.link = Some("javascript:alert(1)".into());
        assert!(!answer(&[h]).contains("<a"));
    }

    #[test]
    fn long_text_is_trimmed_with_ellipsis() {
        let long = "word ".repeat(3000);
        let html = answer(&[hit_of(&long, "T")]);
        let visible = valid(&html);
        assert!(visible.contains("…"));
        assert!(visible.contains("¶6"), "the citation survives");
    }

    #[test]
    fn empty_elements_are_dropped() {
        let mut html = Html::new(100);
        html.tagged(Tag::Bold, "").text("x");
        assert_eq!(html.finish(), "x");
    }

    /// A match of `original` in an essay titled `title`, without a link.
    fn match_of(title: &str, original: &str) -> CiteMatch {
        let hit = hit_of("x", title);
        CiteMatch {
            passage: hit.passage,
            source: hit.source,
            original: original.into(),
            citation: citation_of(title, None),
            similarity: 0.9,
        }
    }

    #[test]
    fn cite_marks_differences() {
        let result = CiteResult {
            query: "China is the biggest partner".into(),
            verdict: Verdict::Close,
            found: Some(CiteMatch {
                citation: citation_of("T", Some("https://e.com/a")),
                ..match_of("T", "China is the top partner")
            }),
            differences: vec![Difference {
                said: "biggest".into(),
                original: "top".into(),
            }],
            quoted: "China is the biggest partner".into(),
            elided: false,
            attribution: None,
            too_short: false,
        };
        let html = cite(&result);
        assert!(html.contains("<s>biggest</s> → <b>top</b>"), "{html}");
        assert!(!html.contains("Not "), "{html}");
        assert!(html.contains("<blockquote>China is the top partner</blockquote>"));
        assert!(html.starts_with("≈ "));
        valid(&html);
        let none = CiteResult {
            verdict: Verdict::NotFound,
            found: None,
            differences: vec![],
            ..result
        };
        assert!(cite(&none).starts_with("❌"));
        assert!(!cite(&none).contains("blockquote"));
        assert!(cite(&none).contains(labels::QUOTE_NOT_FOUND));
        let short = CiteResult {
            too_short: true,
            ..none
        };
        assert!(
            cite(&short).contains(labels::QUOTE_TOO_SHORT),
            "{}",
            cite(&short)
        );
    }

    #[test]
    fn cite_shows_a_wrong_attribution_in_one_line() {
        let mut result = CiteResult {
            query: "Madison said <that> the judiciary is the least dangerous".into(),
            verdict: Verdict::Exact,
            found: Some(CiteMatch {
                similarity: 1.0,
                ..match_of("The Federalist No. 78", "the least dangerous")
            }),
            differences: vec![],
            quoted: "the judiciary is the least dangerous".into(),
            elided: true,
            attribution: Some(crate::answer::Attribution {
                named: "Madison".into(),
                author: Some("Alexander Hamilton".into()),
                correct: Some(false),
            }),
            too_short: false,
        };
        let html = cite(&result);
        valid(&html);
        assert!(html.contains("(shortened with “…”)"), "{html}");
        assert!(
            html.contains("\nNot Madison: Alexander Hamilton, The Federalist No. 78\n"),
            "{html}"
        );
        result.attribution.as_mut().unwrap().correct = Some(true);
        assert!(cite(&result).contains("Yes, Madison: Alexander Hamilton"));
    }

    #[test]
    fn copy_line_trims_the_title() {
        let c = citation_of(
            &"Long title ".repeat(40),
            Some("https://time.com/x#:~:text=a"),
        );
        let line = copy_line(&c);
        assert!(utf16_len(&line) <= MAX_COPY_TEXT_LEN, "{line}");
        assert!(line.contains("…,”"), "{line}");
        assert!(line.ends_with("https://time.com/x#:~:text=a"));
        let short = citation_of("Short", None);
        assert_eq!(
            copy_line(&short),
            "Susan Shirk, “Short,” TIME, October 2022, ¶6"
        );
    }

    fn source_of(title: &str) -> Source {
        Source {
            id: "e".into(),
            title: title.into(),
            author: Some("A <b>".into()),
            publication: None,
            date: Some("2020".into()),
            url: Some("https://e.com/x".into()),
            paragraphs: 3,
        }
    }

    #[test]
    fn many_sources_fit() {
        let list: Vec<Source> = (0..500).map(|i| source_of(&format!("Essay {i}"))).collect();
        let html = sources(&list);
        let visible = valid(&html);
        assert!(visible.contains("more"), "{visible}");
    }

    proptest! {
        #[test]
        fn any_text_renders_valid(text in "\\PC{0,200}|.{0,6000}", title in ".{0,400}", said in ".{1,50}") {
            let text = if text.is_empty() { "x".to_string() } else { text };
            let h = hit_of(&text, &title);
            valid(&answer(&[h.clone(), h.clone(), h.clone()]));
            let view = PassageView {
                passage: h.passage.clone(),
                source: h.source.clone(),
                before: Some(h.passage.clone()),
                after: Some(h.passage.clone()),
                citation: h.citation.clone(),
            };
            valid(&context(&view));
            valid(&sources(&[source_of(&title), source_of(&text)]));
            let line = copy_line(&h.citation);
            prop_assert!(utf16_len(&line) <= MAX_COPY_TEXT_LEN);
            let result = CiteResult {
                query: text.clone(),
                verdict: Verdict::Close,
                found: Some(CiteMatch {
                    passage: h.passage.clone(),
                    source: h.source.clone(),
                    original: text.clone(),
                    citation: h.citation.clone(),
                    similarity: 0.7,
                }),
                differences: vec![Difference { said: said.clone(), original: text.clone() }],
                quoted: said.clone(),
                elided: false,
                attribution: Some(crate::answer::Attribution {
                    named: said.clone(),
                    author: Some(text.clone()),
                    correct: Some(false),
                }),
                too_short: false,
            };
            valid(&cite(&result));
        }
    }
}
