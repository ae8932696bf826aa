//! A tiny PDF writer for the tests: pages of text in Helvetica, placed
//! line by line as a word processor places them, with a document info
//! dictionary; and the broken and hostile files `add` must refuse.

use std::fmt::Write;

/// One line of text on a page: left end, baseline, type size, text.
pub struct Text<'a> {
    /// Left end, in points from the page's left edge.
    pub x: f32,
    /// Baseline, in points from the page's bottom edge.
    pub y: f32,
    /// Type size in points.
    pub size: f32,
    /// The text (Latin-1; `(`, `)` and `\` are escaped here).
    pub text: &'a str,
}

/// `x y size text` as a line of text.
pub fn text(x: f32, y: f32, size: f32, text: &str) -> Text<'_> {
    Text { x, y, size, text }
}

/// A page's content stream showing `lines`; a line with `|` in it is
/// shown word group by word group through one `TJ` with a wide kern for
/// each `|` (as TeX sets spaces).
pub fn content(lines: &[Text]) -> String {
    let mut ops = String::new();
    for line in lines {
        let _ = write!(
            ops,
            "BT /F1 {} Tf 1 0 0 1 {} {} Tm ",
            line.size, line.x, line.y
        );
        if line.text.contains('|') {
            let parts: Vec<String> = line
                .text
                .split('|')
                .map(|p| format!("({})", escape(p)))
                .collect();
            let _ = writeln!(ops, "[{}] TJ ET", parts.join(" -333 "));
        } else {
            let _ = writeln!(ops, "({}) Tj ET", escape(line.text));
        }
    }
    ops
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// A PDF of pages whose content streams are `pages` (see [`content`]),
/// with the document info `info` (key, value): `Title`, `Author`,
/// `CreationDate`; `extra_trailer` is added to the trailer as written.
pub fn pdf(info: &[(&str, &str)], pages: &[String], extra_trailer: &str) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1 catalog, 2 page tree, 3 font, then a page and its content per page.
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    );
    for (i, page) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{page}\nendstream",
            page.len()
        ));
    }
    let entries: Vec<String> = info
        .iter()
        .map(|(k, v)| format!("/{k} ({})", escape(v)))
        .collect();
    objects.push(format!("<< {} >>", entries.join(" ")));
    let info_id = objects.len();
    assemble(
        &objects,
        &format!("/Root 1 0 R /Info {info_id} 0 R {extra_trailer}"),
    )
}

/// A PDF whose one page shows an image and no text (a scan).
pub fn scanned(pages: usize) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    ));
    // A 2x2 grey image.
    objects.push(
        "<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 4 >>\nstream\n\u{80}\u{80}\u{80}\u{80}\nendstream"
            .into(),
    );
    for i in 0..pages {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let ops = "q 612 0 0 792 0 0 cm /Im1 Do Q";
        objects.push(format!(
            "<< /Length {} >>\nstream\n{ops}\nendstream",
            ops.len()
        ));
    }
    assemble(&objects, "/Root 1 0 R")
}

/// A PDF of `count` objects (null objects beside a one-page document).
pub fn many_objects(count: usize) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".into(),
    ];
    objects.extend(std::iter::repeat_n(
        "null".to_string(),
        count.saturating_sub(3),
    ));
    assemble(&objects, "/Root 1 0 R")
}

/// Objects 1.. as a file, with its cross-reference table and trailer.
fn assemble(objects: &[String], trailer: &str) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        // Latin-1: each char one byte, as PDF strings and streams are here.
        out.extend(
            object
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
        );
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} {trailer} >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}
