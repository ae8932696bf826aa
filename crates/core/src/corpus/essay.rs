//! What a corpus is made of: essays, their paragraphs, and the files that
//! could not be read as essays.

use std::fmt;
use std::path::PathBuf;

use crate::codec::{Decoder, Encoder};

/// One essay with its metadata and its paragraphs, in reading order.
///
/// The text is held once, as one string; paragraphs and passages are byte
/// ranges of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Essay {
    /// Short, stable, URL-safe id derived from the file name.
    pub id: String,
    /// Path of the file relative to the corpus folder.
    pub file: String,
    /// The essay's title.
    pub title: String,
    /// The author, if known.
    pub author: Option<String>,
    /// Where it was published, if known.
    pub publication: Option<String>,
    /// When it was published, as written in the front matter.
    pub date: Option<String>,
    /// Where it can be read online; never invented.
    pub url: Option<String>,
    /// Where the text was taken from, if not the URL.
    pub source: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// The paragraphs, verbatim, with inner line breaks folded to spaces.
    pub paragraphs: Paragraphs,
    /// A hash of the file's bytes, used to notice changes.
    pub fingerprint: u64,
}

impl Essay {
    /// An essay of the file `file` (with the `fingerprint` of its bytes) with
    /// no id, metadata or text yet.
    pub(crate) fn blank(file: &str, fingerprint: u64) -> Essay {
        Essay {
            id: String::new(),
            file: file.to_string(),
            title: String::new(),
            author: None,
            publication: None,
            date: None,
            url: None,
            source: None,
            tags: Vec::new(),
            paragraphs: Paragraphs::default(),
            fingerprint,
        }
    }
}

/// An essay's paragraphs, held as one string: `paragraphs[i]` is the
/// paragraph at 0-based index `i`, as a `str`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraphs {
    /// The paragraphs one after another, with nothing between them.
    text: String,
    /// Where each paragraph of `text` ends.
    ends: Vec<u32>,
}

impl Paragraphs {
    /// The paragraphs `paragraphs`, held as one string.
    pub(crate) fn from_vec(paragraphs: &[String]) -> Paragraphs {
        let mut out = Paragraphs {
            text: String::with_capacity(paragraphs.iter().map(String::len).sum()),
            ends: Vec::with_capacity(paragraphs.len()),
        };
        for paragraph in paragraphs {
            out.text.push_str(paragraph);
            let end = u32::try_from(out.text.len()).expect("an essay is shorter than 4 GiB");
            out.ends.push(end);
        }
        out
    }

    /// Writes the paragraphs for [`Paragraphs::decode`].
    pub(crate) fn encode(&self, out: &mut Encoder) {
        out.count(self.ends.len());
        for &end in &self.ends {
            out.u32(end);
        }
        out.str(&self.text);
    }

    /// Reads paragraphs [`Paragraphs::encode`] wrote; `None` unless every
    /// paragraph is a slice of the text, in order.
    pub(crate) fn decode(input: &mut Decoder<'_>) -> Option<Paragraphs> {
        let n = input.count(4)?;
        let mut ends = Vec::with_capacity(n);
        for _ in 0..n {
            ends.push(input.u32()?);
        }
        let text = input.str()?.to_string();
        let ordered = ends.windows(2).all(|w| w[0] <= w[1])
            && ends.iter().all(|&e| text.is_char_boundary(e as usize));
        ordered.then_some(Paragraphs { text, ends })
    }

    /// The number of paragraphs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The paragraph at 0-based `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.range(index).map(|r| &self.text[r])
    }

    /// The paragraphs, in reading order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// Byte range within [`Paragraphs::text`] of the paragraph at 0-based `index`.
    pub fn range(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(index)? as usize;
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i] as usize);
        Some(start..end)
    }

    /// All paragraphs run together; see [`Paragraphs::range`].
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl std::ops::Index<usize> for Paragraphs {
    type Output = str;

    fn index(&self, index: usize) -> &str {
        self.get(index).expect("paragraph index out of range")
    }
}

/// A file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file concerned.
    pub path: PathBuf,
    /// The 1-based line the problem is on, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
