//! A strict model of Telegram's HTML `parse_mode` and of the text clean-up
//! the Bot API applies to every message text.
//!
//! The parser follows TDLib's `parse_html` (same tag set, same attribute
//! syntax, same error messages and byte offsets) but is *stricter* where the
//! Bot API documentation says something "must" be done and TDLib silently
//! tolerates it:
//!
//! * every `&` must start `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&#NNN;` or
//!   `&#xHH;` (terminated by `;`); anything else is an error;
//! * `<a>` needs a non-empty `href`, `<tg-emoji>` a numeric `emoji-id`;
//! * `<pre>`/`<code>` may not contain other tags (except `<code>` directly in
//!   `<pre>`), `<blockquote>` and `<a>` may not be nested in themselves.
//!
//! A bare `>` is accepted, as Telegram does.
//!
//! After parsing, [`format_message_text`] applies what TDLib's
//! `fix_formatted_text` does to the visible text: control characters become
//! spaces, `\r`, U+2028–U+202E and a few combining marks are dropped, then
//! leading and trailing spaces and newlines are trimmed. Lengths and entity
//! offsets are counted in UTF-16 code units, as Telegram does.
#![allow(dead_code)]

use serde_json::{Value, json};

/// Maximum visible length of a message text, in UTF-16 code units.
pub const MAX_MESSAGE_LEN: usize = 4096;

/// The tags Telegram's HTML parse mode knows (lower case).
const SUPPORTED_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// A formatting entity, with offsets in UTF-16 code units like the Bot API's
/// `MessageEntity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Bot API entity type: `bold`, `italic`, `underline`, `strikethrough`,
    /// `spoiler`, `text_link`, `code`, `pre`, `blockquote`,
    /// `expandable_blockquote`, `custom_emoji`, …
    pub kind: String,
    /// Start, in UTF-16 code units.
    pub offset: usize,
    /// Length, in UTF-16 code units.
    pub length: usize,
    /// `text_link` target.
    pub url: Option<String>,
    /// `pre` language.
    pub language: Option<String>,
    /// `custom_emoji` identifier.
    pub custom_emoji_id: Option<String>,
}

impl Entity {
    fn new(kind: &str, offset: usize, length: usize) -> Self {
        Entity {
            kind: kind.to_owned(),
            offset,
            length,
            url: None,
            language: None,
            custom_emoji_id: None,
        }
    }

    /// The entity as a Bot API `MessageEntity` JSON object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "type": self.kind, "offset": self.offset, "length": self.length });
        if let Some(url) = &self.url {
            v["url"] = json!(url);
        }
        if let Some(language) = &self.language {
            v["language"] = json!(language);
        }
        if let Some(id) = &self.custom_emoji_id {
            v["custom_emoji_id"] = json!(id);
        }
        v
    }
}

/// A text together with its formatting entities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormattedText {
    /// The visible text.
    pub text: String,
    /// Entities sorted by offset (then longest first).
    pub entities: Vec<Entity>,
}

impl FormattedText {
    /// The entities as a JSON array of Bot API `MessageEntity` objects.
    pub fn entities_json(&self) -> Value {
        Value::Array(self.entities.iter().map(Entity::to_json).collect())
    }
}

/// Escapes `&`, `<`, `>` and `"` for Telegram HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Length of `s` in UTF-16 code units (how Telegram measures text).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Converts Telegram HTML to the text the user sees: parses it, cleans it
/// and trims it like the Bot API does. Does not check emptiness or length.
///
/// On error returns the Bot API description, e.g.
/// `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 0`.
pub fn visible_text(html: &str) -> Result<String, String> {
    let parsed = parse_html(html).map_err(|e| format!("Bad Request: can't parse entities: {e}"))?;
    Ok(trim_formatted(parsed).text)
}

/// Runs the whole Bot API pipeline for a message text (`sendMessage.text`,
/// `editMessageText.text`, `InputTextMessageContent.message_text`):
/// parse according to `parse_mode` (`None`/empty = plain text, `HTML`
/// case-insensitively), clean, trim, and check that the result is non-empty
/// and at most [`MAX_MESSAGE_LEN`] UTF-16 code units.
///
/// On error returns the full Bot API description (`Bad Request: …`).
pub fn format_message_text(text: &str, parse_mode: Option<&str>) -> Result<FormattedText, String> {
    if text.is_empty() {
        return Err("Bad Request: message text is empty".to_owned());
    }
    let parsed = match parse_mode.map(str::trim).filter(|m| !m.is_empty()) {
        None => FormattedText {
            text: clean_text(text),
            entities: Vec::new(),
        },
        Some(mode) if mode.eq_ignore_ascii_case("html") => {
            parse_html(text).map_err(|e| format!("Bad Request: can't parse entities: {e}"))?
        }
        Some(mode)
            if mode.eq_ignore_ascii_case("markdown") || mode.eq_ignore_ascii_case("markdownv2") =>
        {
            return Err(format!(
                "Bad Request: can't parse entities: the fake Bot API implements only parse_mode \
                 HTML, not \"{mode}\""
            ));
        }
        Some(_) => return Err("Bad Request: unsupported parse_mode".to_owned()),
    };
    let formatted = trim_formatted(parsed);
    if formatted.text.is_empty() {
        return Err("Bad Request: message text is empty".to_owned());
    }
    if utf16_len(&formatted.text) > MAX_MESSAGE_LEN {
        return Err("Bad Request: message is too long".to_owned());
    }
    Ok(formatted)
}

/// What TDLib's `clean_input_string` does to one character: `Some(c)` to
/// keep (possibly replaced) or `None` to drop it.
pub fn clean_char(c: char) -> Option<char> {
    match c {
        '\n' => Some('\n'),
        '\r' => None,
        '\u{0}'..='\u{1f}' => Some(' '),
        '\u{2028}'..='\u{202e}' => None,
        '\u{0333}' | '\u{033f}' | '\u{030a}' => None,
        _ => Some(c),
    }
}

fn clean_text(s: &str) -> String {
    s.chars().filter_map(clean_char).collect()
}

fn is_trimmed_space(c: char) -> bool {
    c == ' ' || c == '\n'
}

/// Trims leading/trailing spaces and newlines, shrinks entities so that they
/// do not start with whitespace or extend past the end, and drops entities
/// that contain only whitespace (links and custom emoji are kept, as TDLib
/// does for "hidden data" entities).
fn trim_formatted(ft: FormattedText) -> FormattedText {
    let units: Vec<u16> = ft.text.encode_utf16().collect();
    let is_ws = |u: u16| u == u16::from(b' ') || u == u16::from(b'\n');
    let mut entities = Vec::new();
    for mut e in ft.entities {
        let end = e.offset + e.length;
        let hidden_data = matches!(
            e.kind.as_str(),
            "text_link" | "text_mention" | "custom_emoji"
        );
        if !hidden_data {
            while e.offset < end && is_ws(units[e.offset]) {
                e.offset += 1;
            }
            if units[e.offset..end].iter().all(|&u| is_ws(u)) {
                continue;
            }
        }
        e.length = end - e.offset;
        entities.push(e);
    }
    let start = ft.text.len() - ft.text.trim_start_matches(is_trimmed_space).len();
    let trimmed = ft.text.trim_matches(is_trimmed_space);
    let lead = utf16_len(&ft.text[..start]);
    let len = utf16_len(trimmed);
    let entities = entities
        .into_iter()
        .filter_map(|mut e| {
            let begin = e.offset.max(lead) - lead;
            let end = (e.offset + e.length).saturating_sub(lead).min(len);
            if end <= begin {
                return None;
            }
            e.offset = begin;
            e.length = end - begin;
            Some(e)
        })
        .collect();
    FormattedText {
        text: trimmed.to_owned(),
        entities,
    }
}

/// TDLib's `is_space` (NUL counts, as the C++ parser reads a terminator).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0b | 0x0c)
}

struct OpenTag {
    name: String,
    argument: String,
    expandable: bool,
    utf16_start: usize,
}

/// Parses Telegram HTML into visible text (already cleaned, not trimmed) and
/// entities. Errors are TDLib's messages without the Bot API prefix.
pub fn parse_html(html: &str) -> Result<FormattedText, String> {
    let bytes = html.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let lower = |from: usize, to: usize| String::from_utf8_lossy(&bytes[from..to]).to_lowercase();

    let mut text = String::with_capacity(html.len());
    let mut utf16 = 0usize;
    let push = |text: &mut String, utf16: &mut usize, c: char| {
        if let Some(c) = clean_char(c) {
            text.push(c);
            *utf16 += c.len_utf16();
        }
    };
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();

    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&' {
            let (ch, next) = decode_entity(html, i)?;
            push(&mut text, &mut utf16, ch);
            i = next;
            continue;
        }
        if c != b'<' {
            let ch = html[i..].chars().next().expect("i is on a char boundary");
            push(&mut text, &mut utf16, ch);
            i += ch.len_utf8();
            continue;
        }

        let begin = i;
        i += 1;
        if at(i) != b'/' {
            // A start tag.
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let name = lower(begin + 1, i);
            if !SUPPORTED_TAGS.contains(&name.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{name}\" at byte offset {begin}"
                ));
            }
            let mut argument = String::new();
            let mut has_href = false;
            let mut expandable = false;
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                let attr_begin = i;
                while !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let attr = lower(attr_begin, i);
                if attr.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{name}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if name == "blockquote" && attr == "expandable" {
                        expandable = true;
                        continue;
                    }
                    if at(i) == 0 {
                        return Err(format!(
                            "Unclosed start tag \"{name}\" at byte offset {begin}"
                        ));
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \
                         \"{name}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{name}\" at byte offset {begin}"
                    ));
                }
                let value = if at(i) != b'\'' && at(i) != b'"' {
                    // A name token: letters, digits, periods and hyphens.
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                    lower(token_begin, i)
                } else {
                    let quote = at(i);
                    i += 1;
                    let mut value = String::new();
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&' {
                            let (ch, next) = decode_entity(html, i)?;
                            value.push(ch);
                            i = next;
                        } else {
                            let ch = html[i..].chars().next().expect("char boundary");
                            value.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                    value
                };
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (name.as_str(), attr.as_str()) {
                    ("a", "href") => {
                        has_href = true;
                        argument = value;
                    }
                    ("code", "class") if value.starts_with("language-") => {
                        argument = value["language-".len()..].to_owned();
                    }
                    ("span", "class") if value.starts_with("tg-") => {
                        argument = value["tg-".len()..].to_owned();
                    }
                    ("tg-emoji", "emoji-id") => argument = value,
                    _ => {}
                }
            }
            i += 1; // '>'

            match name.as_str() {
                "span" if argument != "spoiler" => {
                    return Err(format!(
                        "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                    ));
                }
                "a" if !has_href || argument.trim().is_empty() => {
                    return Err(format!(
                        "Tag \"a\" must have a non-empty attribute \"href\" at byte offset {begin}"
                    ));
                }
                "tg-emoji" if !argument.parse::<i64>().is_ok_and(|id| id > 0) => {
                    return Err("Invalid custom emoji identifier specified".to_owned());
                }
                _ => {}
            }
            check_nesting(&stack, &name, begin)?;
            stack.push(OpenTag {
                name,
                argument,
                expandable,
                utf16_start: utf16,
            });
        } else {
            // An end tag.
            if stack.is_empty() {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            }
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_name = lower(begin + 2, i);
            while is_space(at(i)) && at(i) != 0 {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            i += 1;
            let open = stack.pop().expect("checked non-empty");
            if !end_name.is_empty() && end_name != open.name {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                    open.name
                ));
            }
            if utf16 > open.utf16_start {
                add_entity(&mut entities, open, utf16);
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    for e in &mut entities {
        if e.kind == "code" {
            // The language of a `<code>` only survives inside `<pre>`.
            e.language = None;
        }
    }
    entities.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.length.cmp(&a.length)));
    Ok(FormattedText { text, entities })
}

/// The stricter-than-TDLib nesting rules.
fn check_nesting(stack: &[OpenTag], name: &str, begin: usize) -> Result<(), String> {
    let is_code_in_pre = name == "code"
        && stack.last().is_some_and(|t| t.name == "pre")
        && !stack.iter().any(|t| t.name == "code");
    if let Some(outer) = stack.iter().find(|t| t.name == "pre" || t.name == "code")
        && !is_code_in_pre
    {
        return Err(format!(
            "Tag \"{name}\" can't be nested inside \"{}\" at byte offset {begin}",
            outer.name
        ));
    }
    if matches!(name, "blockquote" | "a") && stack.iter().any(|t| t.name == name) {
        return Err(format!(
            "Tag \"{name}\" can't be nested inside \"{name}\" at byte offset {begin}"
        ));
    }
    Ok(())
}

fn add_entity(entities: &mut Vec<Entity>, open: OpenTag, utf16_end: usize) {
    let offset = open.utf16_start;
    let length = utf16_end - offset;
    let entity = match open.name.as_str() {
        "b" | "strong" => Entity::new("bold", offset, length),
        "i" | "em" => Entity::new("italic", offset, length),
        "u" | "ins" => Entity::new("underline", offset, length),
        "s" | "strike" | "del" => Entity::new("strikethrough", offset, length),
        "tg-spoiler" | "span" => Entity::new("spoiler", offset, length),
        "a" => {
            let mut e = Entity::new("text_link", offset, length);
            e.url = Some(open.argument);
            e
        }
        "tg-emoji" => {
            let mut e = Entity::new("custom_emoji", offset, length);
            e.custom_emoji_id = Some(open.argument);
            e
        }
        "blockquote" if open.expandable => Entity::new("expandable_blockquote", offset, length),
        "blockquote" => Entity::new("blockquote", offset, length),
        "code" => {
            let mut e = Entity::new("code", offset, length);
            e.language = Some(open.argument).filter(|l| !l.is_empty());
            e
        }
        "pre" => {
            // `<pre><code class="language-x">…</code></pre>` is one `pre`
            // entity with a language.
            let mut e = Entity::new("pre", offset, length);
            if let Some(last) = entities.last()
                && last.kind == "code"
                && last.offset == offset
                && last.length == length
            {
                e.language = entities.pop().and_then(|code| code.language);
            }
            e
        }
        other => unreachable!("unsupported tag {other} was accepted"),
    };
    entities.push(entity);
}

/// Decodes the character reference starting with the `&` at byte `pos`.
/// Returns the character and the position after the reference.
fn decode_entity(html: &str, pos: usize) -> Result<(char, usize), String> {
    let bytes = html.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let unescaped = || format!("Character \"&\" at byte offset {pos} must be escaped as \"&amp;\"");
    let mut end = pos + 1;
    let ch = if at(end) == b'#' {
        end += 1;
        let radix = if at(end) == b'x' {
            end += 1;
            16
        } else {
            10
        };
        let digits_begin = end;
        while (at(end) as char).is_digit(radix) {
            end += 1;
        }
        if end == digits_begin || at(end) != b';' {
            return Err(unescaped());
        }
        let code = u32::from_str_radix(&html[digits_begin..end], radix).ok();
        match code.and_then(char::from_u32).filter(|&c| c != '\0') {
            Some(c) => c,
            None => {
                return Err(format!(
                    "Invalid numeric HTML entity \"{}\" at byte offset {pos}",
                    &html[pos..=end]
                ));
            }
        }
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        let name = &html[pos + 1..end];
        if name.is_empty() || at(end) != b';' {
            return Err(unescaped());
        }
        match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            _ => {
                return Err(format!(
                    "Unsupported HTML entity \"&{name};\" at byte offset {pos}"
                ));
            }
        }
    };
    Ok((ch, end + 1))
}
