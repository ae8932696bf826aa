//! Just enough XML for the metadata files of EPUB and DOCX (OPF,
//! `container.xml`, `core.xml`, `document.xml`): elements by name, their
//! attributes and text, scanned without building a tree, so that nesting
//! costs nothing.

/// Each `<name …>…</name>` (or `<name …/>`) in `xml`: its attribute text
/// and its inner text (empty when self-closed), in document order.
/// Elements of the same name nested in each other are not expected.
pub(crate) fn elements<'a>(xml: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = xml[at..].find(&open) {
        let start = at + found + open.len();
        // `<w:p` must not match `<w:pPr`.
        if !xml[start..].starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()) {
            at = start;
            continue;
        }
        let Some(end) = xml[start..].find('>').map(|e| start + e) else {
            break;
        };
        let attrs = &xml[start..end];
        if attrs.ends_with('/') {
            out.push((attrs.trim_end_matches('/'), ""));
            at = end + 1;
            continue;
        }
        let inner_end = xml[end + 1..]
            .find(&close)
            .map_or(xml.len(), |e| end + 1 + e);
        out.push((attrs, &xml[end + 1..inner_end]));
        at = (inner_end + close.len()).min(xml.len());
    }
    out
}

/// The value of attribute `key` in an element's attribute text, unescaped.
pub(crate) fn attr(attrs: &str, key: &str) -> Option<String> {
    let mut at = 0;
    while let Some(found) = attrs[at..].find(key) {
        let start = at + found;
        let before_ok = start == 0 || attrs[..start].ends_with(char::is_whitespace);
        let rest = attrs[start + key.len()..].trim_start();
        if before_ok && let Some(rest) = rest.strip_prefix('=') {
            let rest = rest.trim_start();
            let quote = rest.chars().next()?;
            if quote == '"' || quote == '\'' {
                let value = &rest[1..];
                let end = value.find(quote)?;
                return Some(unescape(&value[..end]));
            }
        }
        at = start + key.len();
    }
    None
}

/// The text of an XML fragment: tags removed, entities decoded, space folded.
pub(crate) fn text(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len());
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    super::html::fold(&unescape(&out))
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references decoded.
pub(crate) fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text() {
        let xml = r#"<m><dc:title id="t">A &amp; B</dc:title><item id="x" href="c%201.xhtml"/><item id='y' href="d.xhtml"></item></m>"#;
        let titles = elements(xml, "dc:title");
        assert_eq!(titles.len(), 1);
        assert_eq!(text(titles[0].1), "A & B");
        let items = elements(xml, "item");
        assert_eq!(items.len(), 2);
        assert_eq!(attr(items[0].0, "href").as_deref(), Some("c%201.xhtml"));
        assert_eq!(attr(items[1].0, "id").as_deref(), Some("y"));
        assert_eq!(unescape("&#8217;&#x41;&bogus;"), "’A&bogus;");
        assert!(elements("<w:pPr/><w:p>x</w:p>", "w:p").len() == 1);
    }
}
