//! PDF with a text layer: the title, author and date of the document info,
//! and the text of each page rejoined into the paragraphs the author wrote.
//!
//! The text is read from the page content streams (through `lopdf`, which
//! decodes the fonts' encodings) as positioned runs; runs make lines, and
//! lines make paragraphs by what a reader sees: a larger gap, an indented
//! first line, a short last line. Words hyphenated at a line end are
//! rejoined; running headers, footers and page numbers (the top or bottom
//! line of a page, repeated on other pages or a bare number) are dropped.
//! Lines in a clearly larger type are headings.
//!
//! Hostile files are bounded: the object count is checked on the raw bytes
//! before parsing (`add.max_pdf_objects`), and every stream inflates within
//! `add.max_unpacked_bytes` in all.

use std::collections::{BTreeMap, HashMap};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, LoadOptions, Object};

use super::{Block, Extracted, Limits, Meta, SourceError};

/// Most one stream may inflate to while the document loads (real object
/// and page streams are a few megabytes at most).
const MAX_STREAM_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the PDF `bytes`.
pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, SourceError> {
    if !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        return Err(SourceError::Other(
            "corrupt PDF: no %PDF- header in its first kilobyte".into(),
        ));
    }
    let per_stream = limits.max_unpacked_bytes.min(MAX_STREAM_BYTES);
    let mut inflate = limits.max_unpacked_bytes;
    let objects = object_count(bytes, per_stream, &mut inflate);
    if objects > limits.max_pdf_objects {
        let objects = if objects == usize::MAX {
            "countless".to_string()
        } else {
            objects.to_string()
        };
        return Err(SourceError::Hostile(format!(
            "{objects} objects in the PDF (more than add.max_pdf_objects = {})",
            limits.max_pdf_objects
        )));
    }
    let options = LoadOptions {
        max_decompressed_size: Some(usize::try_from(per_stream).unwrap_or(usize::MAX)),
        ..LoadOptions::default()
    };
    let declares_encryption = find(bytes, b"/Encrypt").is_some();
    let doc = Document::load_mem_with_options(bytes, options).map_err(|e| {
        if declares_encryption {
            encrypted()
        } else {
            SourceError::Other(format!("corrupt PDF: {e}"))
        }
    })?;
    // Encrypted, and not opened with the empty password (which readers use
    // for files that only restrict printing or copying).
    if doc.trailer.get(b"Encrypt").is_ok() && doc.encryption_state.is_none() {
        return Err(encrypted());
    }
    let (meta, mut warnings) = info(&doc);
    let pages = doc.get_pages();
    let mut budget = Budget {
        left: limits.max_unpacked_bytes,
        limit: limits.max_unpacked_bytes,
    };
    let mut read = Vec::with_capacity(pages.len());
    let mut unreadable = 0;
    for &page in pages.values() {
        match page_lines(&doc, page, &mut budget)? {
            Some(lines) => read.push(lines),
            None => unreadable += 1,
        }
    }
    if unreadable > 0 {
        warnings.push(format!(
            "{unreadable} of {} pages could not be read and are left out",
            pages.len()
        ));
    }
    if pages.is_empty() {
        return Err(SourceError::Other("corrupt PDF: it has no pages".into()));
    }
    if read.is_empty() {
        return Err(SourceError::Other(format!(
            "corrupt PDF: none of its {} pages could be read",
            pages.len()
        )));
    }
    if read.iter().all(|lines| lines.is_empty()) {
        return Err(SourceError::Other(format!(
            "scanned: no text to quote (none of its {} pages has a text layer; run it through OCR first)",
            pages.len()
        )));
    }
    let blocks = paragraphs(drop_furniture(read), meta.title.as_deref());
    if !blocks.iter().any(|b| matches!(b, Block::Text(_))) {
        return Err(SourceError::NoArticle(
            "the PDF has no paragraphs of text".into(),
        ));
    }
    Ok(Extracted {
        meta,
        blocks,
        warnings,
    })
}

fn encrypted() -> SourceError {
    SourceError::Other(
        "encrypted PDF: it cannot be read without its password (save an unencrypted copy)".into(),
    )
}

/// What is left of the inflation budget for the document's streams.
struct Budget {
    left: u64,
    limit: u64,
}

/// How many objects the parser would build from the file, counted on its
/// bytes before parsing: every value (number, name, string, array,
/// dictionary, reference, cross-reference entry) outside the streams, and
/// inside the object streams, which are unpacked (within `per_stream`) to
/// count them. Page content streams are read one operation at a time later,
/// and are not counted. What a parser keeps in memory grows with this
/// count, not with the file's size: 1 MB of numbers is tens of megabytes
/// parsed.
/// Object streams inflate within `per_stream` each and `left` bytes in all
/// (past either, the count is `usize::MAX`).
fn object_count(bytes: &[u8], per_stream: u64, left: &mut u64) -> usize {
    let mut count = 0usize;
    let mut last_object = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'%' => {
                while i < bytes.len() && !matches!(bytes[i], b'\r' | b'\n') {
                    i += 1;
                }
            }
            b'(' => {
                count += 1;
                i = string_end(bytes, i);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                count += 1;
                i += 2;
            }
            b'<' => {
                count += 1;
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'[' | b'{' => {
                count += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() || b"]}>)".contains(&c) => i += 1,
            _ => {
                let start = i;
                i += 1;
                while i < bytes.len() && !is_delimiter(bytes[i]) {
                    i += 1;
                }
                match &bytes[start..i] {
                    b"obj" => last_object = i,
                    b"endobj" => {}
                    b"stream" => {
                        let data = i;
                        let end =
                            find(&bytes[data..], b"endstream").map_or(bytes.len(), |p| data + p);
                        let dict = &bytes[last_object..data];
                        if find(dict, b"/ObjStm").is_some() {
                            count = count.saturating_add(packed_count(
                                &bytes[data..end],
                                dict,
                                per_stream,
                                left,
                            ));
                        }
                        i = end + b"endstream".len();
                    }
                    _ => count = count.saturating_add(1),
                }
            }
        }
    }
    count
}

/// The objects packed in an object stream, counted on its unpacked bytes.
fn packed_count(data: &[u8], dict: &[u8], per_stream: u64, left: &mut u64) -> usize {
    use std::io::Read;
    let data = data.strip_prefix(b"\r").unwrap_or(data);
    let data = data.strip_prefix(b"\n").unwrap_or(data);
    if find(dict, b"/FlateDecode").is_none() {
        return object_count(data, per_stream, left);
    }
    let bound = per_stream.min(*left);
    let mut plain = Vec::new();
    // A stream that does not inflate is the loader's to report; one that
    // inflates past the bound counts as past any object limit.
    let read = flate2::read::ZlibDecoder::new(data)
        .take(bound + 1)
        .read_to_end(&mut plain);
    if read.is_ok() && plain.len() as u64 > bound {
        return usize::MAX;
    }
    *left -= plain.len() as u64;
    object_count(&plain, per_stream, left)
}

/// Where the literal string opening at `at` ends (after its `)`).
fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace() || b"()<>[]{}/%".contains(&c)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The title, author and date of the document info; never invented.
fn info(doc: &Document) -> (Meta, Vec<String>) {
    let mut warnings = Vec::new();
    let dict = doc
        .trailer
        .get(b"Info")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict());
    let Ok(dict) = dict else {
        return (Meta::default(), warnings);
    };
    let field = |key: &[u8]| {
        dict.get(key)
            .and_then(|o| doc.dereference(o))
            .ok()
            .and_then(|(_, o)| lopdf::decode_text_string(o).ok())
            .map(|s| super::html::fold(&s))
            .filter(|s| !s.is_empty())
    };
    let date = field(b"CreationDate").and_then(|d| pdf_date(&d));
    if date.is_some() {
        warnings.push("date: the PDF's creation date (set another with --date)".into());
    }
    let meta = Meta {
        title: field(b"Title"),
        author: field(b"Author"),
        date,
        ..Meta::default()
    };
    (meta, warnings)
}

/// `D:YYYYMMDD…` as `YYYY-MM-DD` (or as much of it as is given).
fn pdf_date(raw: &str) -> Option<String> {
    let digits: String = raw
        .trim()
        .trim_start_matches("D:")
        .chars()
        .take_while(char::is_ascii_digit)
        .take(8)
        .collect();
    let valid = |s: &str, lo: u32, hi: u32| s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n));
    match digits.len() {
        8 if valid(&digits[..4], 1000, 9999)
            && valid(&digits[4..6], 1, 12)
            && valid(&digits[6..], 1, 31) =>
        {
            Some(format!(
                "{}-{}-{}",
                &digits[..4],
                &digits[4..6],
                &digits[6..]
            ))
        }
        6 if valid(&digits[..4], 1000, 9999) && valid(&digits[4..6], 1, 12) => {
            Some(format!("{}-{}", &digits[..4], &digits[4..6]))
        }
        4.. if valid(&digits[..4], 1000, 9999) => Some(digits[..4].to_string()),
        _ => None,
    }
}

/// A line of text on a page, in the page's coordinates (y up).
#[derive(Debug, Clone, PartialEq)]
struct Line {
    /// Baseline.
    y: f32,
    /// Left and right ends.
    x0: f32,
    x1: f32,
    /// Type size.
    size: f32,
    text: String,
}

/// A glyph run: where a string was shown, and what it says.
#[derive(Debug, Clone)]
struct Run {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
}

/// The lines of one page, or None when its content cannot be read.
fn page_lines(
    doc: &Document,
    page: lopdf::ObjectId,
    budget: &mut Budget,
) -> Result<Option<Vec<Line>>, SourceError> {
    let limit = usize::try_from(budget.left.min(MAX_STREAM_BYTES)).unwrap_or(usize::MAX);
    let data = match doc.get_page_content_with_limit(page, limit) {
        Ok(data) => data,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            return Err(inflates_too_much(budget));
        }
        Err(_) => return Ok(None),
    };
    budget.left = budget.left.saturating_sub(data.len() as u64);
    // One operation at a time: a page's operations parsed all at once cost
    // many times its bytes.
    let operations = Content::decode_iter(&data).map_while(Result::ok);
    let fonts: BTreeMap<Vec<u8>, Font> = doc
        .get_page_fonts(page)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, dict)| (name, Font::new(doc, dict, limit)))
        .collect();
    let runs = runs(operations, &fonts);
    Ok(Some(lines(runs)))
}

fn inflates_too_much(budget: &Budget) -> SourceError {
    SourceError::Hostile(format!(
        "its streams inflate to more than add.max_unpacked_bytes = {} (a decompression bomb?)",
        budget.limit
    ))
}

/// A page's font: how its codes read, and how wide they are.
struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    /// Two-byte codes (a composite font).
    wide: bool,
    /// Widths in thousandths of the type size, by code.
    widths: HashMap<u32, f32>,
    default_width: f32,
}

impl<'a> Font<'a> {
    fn new(doc: &'a Document, dict: &'a Dictionary, limit: usize) -> Font<'a> {
        let encoding = dict.get_font_encoding_with_limit(doc, limit).ok();
        let wide = dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Type0".as_slice());
        let mut widths = HashMap::new();
        let mut default_width = 500.0;
        let resolve = |o: &'a Object| doc.dereference(o).map(|(_, o)| o).ok();
        if wide {
            let descendant = dict
                .get(b"DescendantFonts")
                .ok()
                .and_then(resolve)
                .and_then(|o| o.as_array().ok())
                .and_then(|a| a.first())
                .and_then(resolve)
                .and_then(|o| o.as_dict().ok());
            if let Some(cid) = descendant {
                if let Some(dw) = cid.get(b"DW").ok().and_then(number) {
                    default_width = dw;
                }
                if let Some(w) = cid
                    .get(b"W")
                    .ok()
                    .and_then(resolve)
                    .and_then(|o| o.as_array().ok())
                {
                    cid_widths(w, &mut widths);
                }
            }
        } else {
            let first = dict.get(b"FirstChar").ok().and_then(number).unwrap_or(0.0) as u32;
            if let Some(w) = dict
                .get(b"Widths")
                .ok()
                .and_then(resolve)
                .and_then(|o| o.as_array().ok())
            {
                for (i, w) in w.iter().take(256).enumerate() {
                    if let Some(w) = number(w) {
                        widths.insert(first + i as u32, w);
                    }
                }
            }
            if let Some(missing) = dict
                .get(b"FontDescriptor")
                .ok()
                .and_then(resolve)
                .and_then(|o| o.as_dict().ok())
                .and_then(|d| d.get(b"MissingWidth").ok())
                .and_then(number)
                .filter(|w| *w > 0.0)
            {
                default_width = missing;
            }
        }
        Font {
            encoding,
            wide,
            widths,
            default_width,
        }
    }

    /// The text of `bytes` and its width in thousandths of the type size,
    /// with the number of single-byte spaces (which word spacing widens).
    fn show(&self, bytes: &[u8]) -> (String, f32, usize) {
        let text = match &self.encoding {
            Some(encoding) => Document::decode_text(encoding, bytes)
                .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
            None => bytes.iter().map(|&b| char::from(b)).collect(),
        };
        let width = |code: u32| {
            self.widths
                .get(&code)
                .copied()
                .unwrap_or(self.default_width)
        };
        let (width, spaces) = if self.wide {
            let w = bytes
                .chunks(2)
                .map(|c| width(c.iter().fold(0, |n, &b| n << 8 | u32::from(b))))
                .sum();
            (w, 0)
        } else {
            let w = bytes.iter().map(|&b| width(u32::from(b))).sum();
            (w, bytes.iter().filter(|&&b| b == b' ').count())
        };
        (text, width, spaces)
    }
}

/// A composite font's `/W` array: `c [w1 w2 …]` and `cfirst clast w`.
fn cid_widths(array: &[Object], widths: &mut HashMap<u32, f32>) {
    const MOST: u32 = 65_536;
    let mut i = 0;
    while i < array.len() && widths.len() < MOST as usize {
        let Some(first) = number(&array[i]) else {
            return;
        };
        let first = first as u32;
        match array.get(i + 1) {
            Some(Object::Array(list)) => {
                for (k, w) in list.iter().take(MOST as usize).enumerate() {
                    if let Some(w) = number(w) {
                        widths.insert(first + k as u32, w);
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(w)) = (number(last), array.get(i + 2).and_then(number))
                else {
                    return;
                };
                for code in first..=(last as u32).min(first + MOST) {
                    widths.insert(code, w);
                }
                i += 3;
            }
            None => return,
        }
    }
}

fn number(object: &Object) -> Option<f32> {
    match object {
        Object::Integer(n) => Some(*n as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

/// An affine transform `[a b c d e f]`.
type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m` then `n`.
fn times(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn translate(x: f32, y: f32) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, x, y]
}

/// The text state the content stream sets.
struct State {
    ctm: Matrix,
    saved: Vec<Matrix>,
    tm: Matrix,
    tlm: Matrix,
    font: Option<Vec<u8>>,
    size: f32,
    leading: f32,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
}

/// The glyph runs a page's operations show, in content order.
fn runs(
    operations: impl Iterator<Item = lopdf::content::Operation>,
    fonts: &BTreeMap<Vec<u8>, Font>,
) -> Vec<Run> {
    let mut s = State {
        ctm: IDENTITY,
        saved: Vec::new(),
        tm: IDENTITY,
        tlm: IDENTITY,
        font: None,
        size: 0.0,
        leading: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
    };
    let mut out = Vec::new();
    for op in operations {
        let n = |i: usize| op.operands.get(i).and_then(number).unwrap_or(0.0);
        match op.operator.as_str() {
            "q" if s.saved.len() < 1024 => s.saved.push(s.ctm),
            "Q" => s.ctm = s.saved.pop().unwrap_or(IDENTITY),
            "cm" => s.ctm = times(&[n(0), n(1), n(2), n(3), n(4), n(5)], &s.ctm),
            "BT" => {
                s.tm = IDENTITY;
                s.tlm = IDENTITY;
            }
            "Tf" => {
                s.font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .map(<[u8]>::to_vec);
                s.size = n(1);
            }
            "TL" => s.leading = n(0),
            "Tc" => s.char_spacing = n(0),
            "Tw" => s.word_spacing = n(0),
            "Tz" => s.scale = n(0) / 100.0,
            "Td" => next_line(&mut s, n(0), n(1)),
            "TD" => {
                s.leading = -n(1);
                next_line(&mut s, n(0), n(1));
            }
            "Tm" => {
                s.tm = [n(0), n(1), n(2), n(3), n(4), n(5)];
                s.tlm = s.tm;
            }
            "T*" => new_line(&mut s),
            "Tj" => show(&mut s, fonts, op.operands.first(), &mut out),
            "'" => {
                new_line(&mut s);
                show(&mut s, fonts, op.operands.first(), &mut out);
            }
            "\"" => {
                s.word_spacing = n(0);
                s.char_spacing = n(1);
                new_line(&mut s);
                show(&mut s, fonts, op.operands.get(2), &mut out);
            }
            "TJ" => {
                let Some(Object::Array(items)) = op.operands.first() else {
                    continue;
                };
                for item in items {
                    match number(item) {
                        Some(adjust) => {
                            let tx = -adjust / 1000.0 * s.size * s.scale;
                            s.tm = times(&translate(tx, 0.0), &s.tm);
                        }
                        None => show(&mut s, fonts, Some(item), &mut out),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `T*`: down by the leading.
fn new_line(s: &mut State) {
    let leading = s.leading;
    next_line(s, 0.0, -leading);
}

fn next_line(s: &mut State, x: f32, y: f32) {
    s.tlm = times(&translate(x, y), &s.tlm);
    s.tm = s.tlm;
}

fn show(
    s: &mut State,
    fonts: &BTreeMap<Vec<u8>, Font>,
    operand: Option<&Object>,
    out: &mut Vec<Run>,
) {
    let Some(Object::String(bytes, _)) = operand else {
        return;
    };
    let font = s.font.as_ref().and_then(|f| fonts.get(f));
    let (text, width, spaces) = match font {
        Some(font) => font.show(bytes),
        None => (
            String::from_utf8_lossy(bytes).into_owned(),
            500.0 * bytes.len() as f32,
            0,
        ),
    };
    let chars = if font.is_some_and(|f| f.wide) {
        bytes.len() / 2
    } else {
        bytes.len()
    };
    let advance =
        (width / 1000.0 * s.size + s.char_spacing * chars as f32 + s.word_spacing * spaces as f32)
            * s.scale;
    let start = times(&s.tm, &s.ctm);
    s.tm = times(&translate(advance, 0.0), &s.tm);
    let end = times(&s.tm, &s.ctm);
    let size = (s.size * start[2].hypot(start[3])).abs();
    if text.chars().all(char::is_whitespace) || size <= 0.0 {
        return;
    }
    out.push(Run {
        x0: start[4],
        x1: end[4],
        y: start[5],
        size,
        text,
    });
}

/// Runs on one baseline make a line; a gap wider than a fifth of the type
/// size between two runs is a space.
fn lines(runs: Vec<Run>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for run in runs {
        let text = ligatures(&run.text);
        match out.last_mut() {
            Some(line)
                if (run.y - line.y).abs() < 0.5 * run.size.min(line.size)
                    && run.x0 > line.x1 - run.size =>
            {
                let gap = run.x0 - line.x1;
                if gap > 0.2 * run.size.min(line.size)
                    && !line.text.ends_with(' ')
                    && !text.starts_with(' ')
                {
                    line.text.push(' ');
                }
                line.text.push_str(&text);
                line.x1 = line.x1.max(run.x1);
                line.size = line.size.max(run.size);
            }
            _ => out.push(Line {
                y: run.y,
                x0: run.x0,
                x1: run.x1,
                size: run.size,
                text,
            }),
        }
    }
    for line in &mut out {
        line.text = super::html::fold(&line.text);
    }
    out.retain(|l| !l.text.is_empty());
    out
}

fn ligatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            '\u{0}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The pages without their running headers, footers and page numbers: the
/// top and bottom lines of a page that are a bare page number, or that
/// recur (numbers aside) at the same height on other pages. Two passes: a
/// header over a rule of text, a page number under a footer.
fn drop_furniture(mut pages: Vec<Vec<Line>>) -> Vec<Vec<Line>> {
    let edges = |lines: &[Line]| -> Vec<usize> {
        let top = (0..lines.len()).max_by(|&a, &b| lines[a].y.total_cmp(&lines[b].y));
        let bottom = (0..lines.len()).min_by(|&a, &b| lines[a].y.total_cmp(&lines[b].y));
        let mut out: Vec<usize> = top.into_iter().chain(bottom).collect();
        out.dedup();
        out
    };
    let key = |line: &Line| ((line.y / 4.0).round() as i64, furniture_key(&line.text));
    let recurring = (pages.len() / 2).max(2);
    for _ in 0..2 {
        let mut seen: HashMap<(i64, String), usize> = HashMap::new();
        for lines in &pages {
            for i in edges(lines) {
                *seen.entry(key(&lines[i])).or_default() += 1;
            }
        }
        for lines in &mut pages {
            if lines.len() < 2 {
                continue;
            }
            let mut drop: Vec<usize> = edges(lines)
                .into_iter()
                .filter(|&i| {
                    let line = &lines[i];
                    is_page_number(&line.text)
                        || (line.text.chars().count() < 120
                            && seen.get(&key(line)).is_some_and(|&n| n >= recurring))
                })
                .collect();
            drop.sort_unstable();
            for i in drop.into_iter().rev() {
                lines.remove(i);
            }
        }
    }
    pages
}

/// A line with its numbers (page numbers, dates) made alike.
fn furniture_key(text: &str) -> String {
    let mut key = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_digit() {
            if !key.ends_with('#') {
                key.push('#');
            }
        } else {
            key.push(c);
        }
    }
    key
}

/// `12`, `- 12 -`, `Page 12`, `12 of 40`, `xiv`.
fn is_page_number(text: &str) -> bool {
    let t = text
        .trim_matches(|c: char| c.is_whitespace() || "-–—|[]()".contains(c))
        .to_lowercase();
    let t = t.strip_prefix("page").map_or(t.as_str(), str::trim_start);
    let (number, rest) = t.split_once(" of ").unwrap_or((t, "0"));
    let arabic = |s: &str| !s.is_empty() && s.len() <= 5 && s.chars().all(|c| c.is_ascii_digit());
    let roman = |s: &str| !s.is_empty() && s.len() <= 7 && s.chars().all(|c| "ivxlc".contains(c));
    (arabic(number) || roman(number)) && arabic(rest.trim())
}

/// The lines of all pages rejoined into headings and paragraphs.
fn paragraphs(pages: Vec<Vec<Line>>, title: Option<&str>) -> Vec<Block> {
    let all: Vec<&Line> = pages.iter().flatten().collect();
    let body = body_size(&all);
    // The usual distance between two lines of a paragraph.
    let mut gaps: Vec<f32> = pages
        .iter()
        .flat_map(|lines| lines.windows(2))
        .filter(|w| (w[0].size - body).abs() < 0.5 && (w[1].size - body).abs() < 0.5)
        .map(|w| w[0].y - w[1].y)
        .filter(|g| *g > 0.0 && *g < 3.0 * body)
        .collect();
    gaps.sort_by(f32::total_cmp);
    let leading = gaps.get(gaps.len() / 2).copied().unwrap_or(1.2 * body);
    // Where full lines end.
    let mut ends: Vec<f32> = all
        .iter()
        .filter(|l| (l.size - body).abs() < 0.5)
        .map(|l| l.x1)
        .collect();
    ends.sort_by(f32::total_cmp);
    let right = ends.get(ends.len() * 9 / 10).copied().unwrap_or(f32::MAX);

    let mut out = Vec::new();
    let mut paragraph = Paragraph::default();
    for lines in &pages {
        let mut previous: Option<&Line> = None;
        for line in lines {
            if line.size > 1.2 * body && line.text.chars().count() < 200 {
                paragraph.flush(&mut out);
                let level = if line.size > 1.6 * body { 1 } else { 2 };
                match out.last_mut() {
                    // A heading set on two lines.
                    Some(Block::Heading(l, text))
                        if *l == level && previous.is_some_and(|p| p.size > 1.2 * body) =>
                    {
                        text.push(' ');
                        text.push_str(&line.text);
                    }
                    _ => out.push(Block::Heading(level, line.text.clone())),
                }
                previous = Some(line);
                continue;
            }
            let ends_sentence = paragraph
                .text
                .trim_end()
                .ends_with(['.', '!', '?', ':', '"', '”', '’', ')']);
            let breaks = match (previous, paragraph.last.as_ref()) {
                (_, None) => true,
                // The first line of a page: it goes on unless the last one ended.
                (None, Some(last)) => {
                    ends_sentence
                        && (last.x1 < right - 3.0 * body || line.x0 > last.x0 + 0.8 * body)
                }
                (Some(prev), Some(last)) => {
                    let gap = prev.y - line.y;
                    // A list item's second line hangs under its text.
                    let hanging = paragraph.lines == 1 && is_list_item(&paragraph.text);
                    gap > 1.5 * leading
                        || gap < -0.5 * leading
                        || prev.size > 1.2 * body
                        || (line.x0 > last.x0 + 0.8 * body && !hanging)
                        || (paragraph.aligned > 1 && line.x0 < last.x0 - 0.8 * body)
                        || (ends_sentence && last.x1 < right - 3.0 * body)
                        || is_list_item(&line.text)
                }
            };
            if breaks {
                paragraph.flush(&mut out);
            }
            paragraph.push(line);
            previous = Some(line);
        }
    }
    paragraph.flush(&mut out);
    // The title in large type atop the first page is the front matter's.
    if let (Some(title), Some(Block::Heading(_, first))) = (title, out.first())
        && super::html::fold(first).eq_ignore_ascii_case(&super::html::fold(title))
    {
        out.remove(0);
    }
    out
}

/// A line that starts a bulleted list item.
fn is_list_item(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| "•◦▪‣●■–".contains(c))
        && chars.next().is_some_and(char::is_whitespace)
}

/// The type size most of the text is set in.
fn body_size(lines: &[&Line]) -> f32 {
    let mut by_size: HashMap<i32, usize> = HashMap::new();
    for line in lines {
        *by_size.entry((line.size * 2.0).round() as i32).or_default() += line.text.len();
    }
    by_size
        .into_iter()
        .max_by_key(|&(size, chars)| (chars, -size))
        .map_or(10.0, |(size, _)| size as f32 / 2.0)
}

/// A paragraph being gathered line by line.
#[derive(Default)]
struct Paragraph {
    text: String,
    /// The last line added.
    last: Option<Line>,
    /// How many lines it has.
    lines: usize,
    /// Lines in a row that start where the one before did: a paragraph set
    /// in as a whole (a block quote) ends where its lines come back out.
    aligned: usize,
}

impl Paragraph {
    fn push(&mut self, line: &Line) {
        if let Some(last) = &self.last {
            if (line.x0 - last.x0).abs() < 0.5 {
                self.aligned += 1;
            }
            let text = self.text.trim_end();
            let next_lower = line.text.chars().next().is_some_and(char::is_lowercase);
            if let Some(stem) = text.strip_suffix('\u{ad}') {
                self.text = stem.to_string();
            } else if let Some(stem) = text.strip_suffix('-')
                && stem.chars().last().is_some_and(char::is_alphabetic)
                && next_lower
            {
                self.text = stem.to_string();
            } else {
                self.text.push(' ');
            }
        } else {
            self.aligned = 1;
        }
        self.text.push_str(&line.text);
        self.last = Some(line.clone());
        self.lines += 1;
    }

    fn flush(&mut self, out: &mut Vec<Block>) {
        let text = super::html::fold(&self.text);
        if !text.is_empty() {
            out.push(Block::Text(text));
        }
        *self = Paragraph::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: f32, x0: f32, x1: f32, text: &str) -> Line {
        Line {
            y,
            x0,
            x1,
            size: 10.0,
            text: text.into(),
        }
    }

    #[test]
    fn pdf_dates_read_as_iso() {
        assert_eq!(
            pdf_date("D:20240115093000+01'00'").as_deref(),
            Some("2024-01-15")
        );
        assert_eq!(pdf_date("D:199907").as_deref(), Some("1999-07"));
        assert_eq!(pdf_date("D:2001").as_deref(), Some("2001"));
        assert_eq!(pdf_date("D:20241399").as_deref(), Some("2024"));
        assert_eq!(pdf_date("yesterday"), None);
    }

    #[test]
    fn objects_are_counted_before_parsing() {
        // The catalog, its key and value, an empty dictionary.
        let pdf =
            b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj <<>> endobj\n";
        let count =
            |pdf: &[u8], per_stream: u64, all: u64| object_count(pdf, per_stream, &mut { all });
        assert_eq!(count(pdf, 1000, 1000), 2 + 3 + 2 + 1);
        // A string with parentheses and a hex string are one object each;
        // a stream's bytes are not objects.
        let pdf =
            b"1 0 obj << /A (x (y) \\) z) /B <00ff> /Length 3 >> stream\nabc\nendstream endobj";
        assert_eq!(count(pdf, 1000, 1000), 2 + 7);
        // Packed in an object stream, they count too.
        let mut packed =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut packed, b"[1 2 3 4 5 6 7 8 9 10]").unwrap();
        let packed = packed.finish().unwrap();
        let mut pdf =
            b"5 0 obj << /Type /ObjStm /N 1 /First 0 /Filter /FlateDecode >> stream\n".to_vec();
        pdf.extend(&packed);
        pdf.extend(b"\nendstream endobj");
        assert_eq!(count(&pdf, 1000, 1000), 2 + 9 + 11);
        assert_eq!(count(&pdf, 5, 1000), usize::MAX, "inflates past the bound");
        let mut twice = pdf.clone();
        twice.extend(&pdf);
        assert_eq!(count(&twice, 1000, 44), 2 * 22);
        assert_eq!(
            count(&twice, 1000, 43),
            usize::MAX,
            "inflates past the budget in all"
        );
    }

    #[test]
    fn page_numbers() {
        for yes in ["12", "- 12 -", "Page 3", "page 3 of 40", "xiv", "[7]"] {
            assert!(is_page_number(yes), "{yes}");
        }
        for no in ["1984 was a year.", "Chapter 3", "In 12 days", "Contents"] {
            assert!(!is_page_number(no), "{no}");
        }
    }

    #[test]
    fn lines_rejoin_into_paragraphs() {
        let page = vec![
            line(
                700.0,
                72.0,
                540.0,
                "The first paragraph runs over two lines, and a word is hyph-",
            ),
            line(
                688.0,
                72.0,
                540.0,
                "enated at the end of the first. It goes on here and",
            ),
            line(676.0, 72.0, 300.0, "ends short."),
            line(
                664.0,
                90.0,
                540.0,
                "An indented line starts the second paragraph, which",
            ),
            line(652.0, 72.0, 200.0, "ends here."),
            line(
                628.0,
                72.0,
                540.0,
                "After a blank line, the third; it is not-",
            ),
            line(616.0, 72.0, 300.0, "Hyphenated before a capital."),
        ];
        let blocks = paragraphs(vec![page], None);
        assert_eq!(
            blocks,
            [
                Block::Text("The first paragraph runs over two lines, and a word is hyphenated at the end of the first. It goes on here and ends short.".into()),
                Block::Text("An indented line starts the second paragraph, which ends here.".into()),
                Block::Text("After a blank line, the third; it is not- Hyphenated before a capital.".into()),
            ]
        );
    }

    #[test]
    fn list_items_hang_and_each_is_a_paragraph() {
        let page = vec![
            line(700.0, 72.0, 540.0, "Two things are needed:"),
            line(
                686.0,
                80.0,
                540.0,
                "• Applications must be able to extend the database when",
            ),
            line(672.0, 90.0, 400.0, "they are installed."),
            line(
                658.0,
                80.0,
                540.0,
                "• Files must go in /usr, /usr/local and the home",
            ),
            line(644.0, 90.0, 400.0, "folder."),
        ];
        assert_eq!(
            paragraphs(vec![page], None),
            [
                Block::Text("Two things are needed:".into()),
                Block::Text(
                    "• Applications must be able to extend the database when they are installed."
                        .into()
                ),
                Block::Text("• Files must go in /usr, /usr/local and the home folder.".into()),
            ]
        );
    }

    #[test]
    fn a_paragraph_goes_on_over_a_page_break() {
        let one = vec![line(
            100.0,
            72.0,
            540.0,
            "A sentence that does not end on this",
        )];
        let two = vec![
            line(700.0, 72.0, 300.0, "page but on the next."),
            line(688.0, 90.0, 300.0, "A new one."),
        ];
        let blocks = paragraphs(vec![one, two], None);
        assert_eq!(
            blocks,
            [
                Block::Text("A sentence that does not end on this page but on the next.".into()),
                Block::Text("A new one.".into()),
            ]
        );
    }

    #[test]
    fn running_heads_and_page_numbers_go() {
        let page = |n: usize| {
            vec![
                line(780.0, 72.0, 300.0, "THE ESSAY — A. WRITER"),
                line(700.0, 72.0, 540.0, ["Once,", "Twice,", "Thrice,"][n - 1]),
                line(688.0, 72.0, 540.0, &"the words of this page. ".repeat(n)),
                line(60.0, 72.0, 300.0, &format!("Printed {n}/3/2024")),
                line(40.0, 300.0, 310.0, &n.to_string()),
            ]
        };
        let pages = drop_furniture(vec![page(1), page(2), page(3)]);
        assert!(pages.iter().all(|p| p.len() == 2), "{pages:?}");
        assert_eq!(pages[2][0].text, "Thrice,");
    }
}
