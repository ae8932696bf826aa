//! Words: tokenising and normalising text for alignment (see the
//! module documentation of [`super`] for what a word is).

use std::ops::Range;

/// One word: its verbatim byte range, its normalised form (a range into `Tokens::buf`),
/// a hash and a 4-byte prefix key of the apostrophe-free normalised form.
#[derive(Clone)]
pub(super) struct Tok {
    pub(super) span: Range<usize>,
    pub(super) norm: Range<usize>,
    pub(super) hash: u64,
    /// First four bytes of the apostrophe-free normalised form, or 0 when shorter.
    pub(super) key: u32,
    /// A sentence boundary (`.`, `!`, `?`, `;`, `:`) lies between the previous word and this one.
    pub(super) boundary_before: bool,
}

/// The words of one text; all normalised forms share one buffer.
pub(super) struct Tokens {
    pub(super) buf: String,
    pub(super) toks: Vec<Tok>,
}

impl Tokens {
    /// Tokenises all of `text`.
    pub(super) fn new(text: &str) -> Tokens {
        Tokens::with_limit(text, usize::MAX)
    }

    /// Tokenises at most `limit` words (stops early on huge inputs).
    pub(super) fn with_limit(text: &str, limit: usize) -> Tokens {
        let bytes = text.as_bytes();
        let mut buf = String::with_capacity(text.len().min(limit.saturating_mul(8)));
        let mut toks = Vec::with_capacity((text.len() / 5 + 1).min(limit));
        let mut boundary = false;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            // Between words: skip separators, noting sentence ends.
            if b.is_ascii() {
                if !b.is_ascii_alphanumeric() {
                    boundary |= matches!(b, b'.' | b'!' | b'?' | b';' | b':');
                    i += 1;
                    continue;
                }
            } else {
                let Some(c) = char_at(text, i) else { break };
                if !c.is_alphanumeric() {
                    boundary |= is_sentence_end(c);
                    i += c.len_utf8();
                    continue;
                }
            }
            // A word: alphanumerics, combining marks, and apostrophes between alphanumerics.
            let start = i;
            let ns = buf.len();
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii_alphanumeric() {
                    buf.push(char::from(b.to_ascii_lowercase()));
                    i += 1;
                    continue;
                }
                if b.is_ascii() && b != b'\'' {
                    break;
                }
                let Some(d) = char_at(text, i) else { break };
                if d.is_alphanumeric() {
                    push_norm(&mut buf, d);
                } else if is_mark(d) || is_ignorable(d) {
                    // Part of the word, dropped from the normalised form.
                } else if is_apostrophe(d)
                    && i > start
                    && char_at(text, i + d.len_utf8()).is_some_and(char::is_alphanumeric)
                {
                    buf.push('\'');
                } else {
                    break;
                }
                i += d.len_utf8();
            }
            if buf.len() == ns {
                continue;
            }
            let (hash, key) = hash_and_key(&buf[ns..]);
            toks.push(Tok {
                span: start..i,
                norm: ns..buf.len(),
                hash,
                key,
                boundary_before: boundary,
            });
            boundary = false;
            if toks.len() >= limit {
                break;
            }
        }
        Tokens { buf, toks }
    }

    /// Words `range` only, numbered from 0 (the normalised forms are shared by copy).
    pub(super) fn slice(&self, range: Range<usize>) -> Tokens {
        Tokens {
            buf: self.buf.clone(),
            toks: self.toks[range].to_vec(),
        }
    }

    /// The normalised form of word `k`.
    pub(super) fn norm(&self, k: usize) -> &str {
        &self.buf[self.toks[k].norm.clone()]
    }
}

/// The character starting at byte `i` (which must be a char boundary or the end).
#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        None => None,
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        Some(_) => text.get(i..)?.chars().next(),
    }
}

/// Apostrophe styles treated as one: straight, curly (both), modifier letter, fullwidth.
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}')
}

/// Combining marks: part of the word they follow, dropped when normalising.
fn is_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Invisible characters that may sit inside a word: soft hyphen, zero-width (non-)joiner.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200C}' | '\u{200D}')
}

/// Punctuation that ends a sentence or clause, for keeping end substitutions in one sentence.
fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | ';' | ':' | '\u{3002}' | '\u{FF01}' | '\u{FF1F}' | '\u{FF1B}'
    )
}

/// Appends the normalised form of a non-ASCII alphanumeric character.
fn push_norm(buf: &mut String, c: char) {
    for l in c.to_lowercase() {
        if !is_mark(l) && !is_ignorable(l) {
            buf.push(fold_accent(l));
        }
    }
}

/// Folds the common Latin-1 accented lower-case letters to their base letter.
fn fold_accent(c: char) -> char {
    match c {
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// Hash and 4-byte prefix key of a normalised word, ignoring apostrophes. The bytes are
/// packed eight at a time and mixed once per eight (equality is always confirmed by
/// [`same_word`], so the hash only has to be fast and well spread).
fn hash_and_key(norm: &str) -> (u64, u32) {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64| {
        let h = h.wrapping_mul(K);
        h ^ (h >> 29)
    };
    let mut hash: u64 = 0;
    let mut chunk: u64 = 0;
    let mut key: u32 = 0;
    let mut n = 0usize;
    for b in norm.bytes() {
        if b == b'\'' {
            continue;
        }
        chunk = (chunk << 8) | u64::from(b);
        if n < 4 {
            key = (key << 8) | u32::from(b);
        }
        n += 1;
        if n.is_multiple_of(8) {
            hash = mix(hash ^ chunk);
            chunk = 0;
        }
    }
    hash = mix(mix(hash ^ chunk) ^ n as u64);
    (hash, if n >= 4 { key } else { 0 })
}

/// Equal normalised words, ignoring apostrophes (`its` = `it's`).
pub(super) fn same_word(a: &str, b: &str) -> bool {
    a == b
        || a.bytes()
            .filter(|&c| c != b'\'')
            .eq(b.bytes().filter(|&c| c != b'\''))
}

/// Same stem: at least 4 common leading characters, at most 3 differing trailing
/// characters on each side (`government`/`governments`, `fears`/`feared`).
pub(super) fn related_words(a: &str, b: &str) -> bool {
    let mut ac = a.chars().filter(|&c| c != '\'');
    let mut bc = b.chars().filter(|&c| c != '\'');
    let mut common = 0;
    let (mut ra, mut rb) = loop {
        match (ac.next(), bc.next()) {
            (Some(x), Some(y)) if x == y => common += 1,
            (x, y) => break (usize::from(x.is_some()), usize::from(y.is_some())),
        }
    };
    if common < 4 {
        return false;
    }
    ra += ac.take(4).count();
    rb += bc.take(4).count();
    ra <= 3 && rb <= 3 && ra + rb > 0
}
