//! Answer: the nouns the engine hands out.
//!
//! Plain data, made by the stages of the library and read by the renderers
//! and the transports: a question's [`Answer`] with its [`Hit`]s, a
//! [`PassageView`], a citation check's [`CiteResult`] (with its [`Attribution`]),
//! and the [`Source`],
//! [`Passage`], [`Quote`], [`Citation`] and [`Difference`] they are made of.

use std::ops::Range;

pub use crate::cite::Citation;
use crate::corpus::Essay;

/// An essay's metadata, as listed by `/sources` and carried by every hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Essay id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Author, if known.
    pub author: Option<String>,
    /// Publication, if known.
    pub publication: Option<String>,
    /// Date, if known.
    pub date: Option<String>,
    /// URL, if known.
    pub url: Option<String>,
    /// Number of paragraphs.
    pub paragraphs: usize,
}

impl Source {
    /// The metadata of `essay`.
    pub(crate) fn of(essay: &Essay) -> Source {
        Source {
            id: essay.id.clone(),
            title: essay.title.clone(),
            author: essay.author.clone(),
            publication: essay.publication.clone(),
            date: essay.date.clone(),
            url: essay.url.clone(),
            paragraphs: essay.paragraphs.len(),
        }
    }
}

/// One paragraph, or one window of sentences of a long paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// Stable, URL-safe id: `<essay>_<paragraph>` or `<essay>_<paragraph>-<window>`.
    pub id: String,
    /// Index of the essay in the corpus, in corpus order.
    pub essay: usize,
    /// Paragraph number, counted from 1 as a reader counts them.
    pub paragraph: u32,
    /// Window within the paragraph, from 1; 0 when the passage is the whole paragraph.
    pub window: u16,
    /// The passage, verbatim.
    pub text: String,
    /// Byte ranges of its sentences within `text`.
    pub sentences: Vec<Range<usize>>,
}

/// An excerpt of a passage: a verbatim span plus the words to mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Byte range of the excerpt within the passage text.
    pub span: Range<usize>,
    /// Text was left out before the excerpt.
    pub leading: bool,
    /// Text was left out after the excerpt.
    pub trailing: bool,
    /// Byte ranges (within the passage) of the words that matched the question.
    pub marks: Vec<Range<usize>>,
}

impl Quote {
    /// The excerpt as plain text, with "…" where the passage was trimmed.
    pub fn text(&self, passage: &str) -> String {
        let mut out = String::new();
        if self.leading {
            out.push_str("… ");
        }
        out.push_str(&passage[self.span.clone()]);
        if self.trailing {
            out.push_str(" …");
        }
        out
    }

    /// The excerpt as pieces of passage text, each flagged when it is a marked word.
    pub fn pieces<'a>(&self, passage: &'a str) -> Vec<(&'a str, bool)> {
        let mut out = Vec::new();
        let mut at = self.span.start;
        for mark in &self.marks {
            if mark.start > at {
                out.push((&passage[at..mark.start], false));
            }
            out.push((&passage[mark.clone()], true));
            at = mark.end;
        }
        if at < self.span.end {
            out.push((&passage[at..self.span.end], false));
        }
        out
    }
}

/// One answer to a question: a passage, the excerpt to show, and its citation.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    /// The passage.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The excerpt within the passage.
    pub quote: Quote,
    /// The citation, with a deep link to the excerpt.
    pub citation: Citation,
    /// Ranking score; higher is better.
    pub score: f32,
}

impl Hit {
    /// The excerpt as plain text, with "…" where trimmed.
    pub fn quote_text(&self) -> String {
        self.quote.text(&self.passage.text)
    }
}

/// The engine's reply to a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The question as asked.
    pub query: String,
    /// False when nothing in the corpus answers it.
    pub answered: bool,
    /// Best hits first; empty when not answered.
    pub hits: Vec<Hit>,
    /// Which retrieval answered: hybrid (words and the model) or lexical.
    pub retrieval: Retrieval,
    /// What it was asked within: the filters applied, or why they left
    /// no essay (then nothing was asked).
    pub filters: crate::filter::Report,
}

/// How an answer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retrieval {
    /// BM25 and the question's words only: no model, or its vectors are not ready.
    Lexical,
    /// The words and the sentence-embedding model together.
    Hybrid,
}

impl Retrieval {
    /// The name the JSON contract uses: `"hybrid"` or `"lexical"`.
    pub fn name(self) -> &'static str {
        match self {
            Retrieval::Lexical => "lexical",
            Retrieval::Hybrid => "hybrid",
        }
    }
}

/// Where the sentence-embedding model stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    /// `model = "off"`: lexical by choice.
    Off,
    /// The model is on its way: fetched, loaded or embedding the corpus;
    /// answers are lexical until it is ready.
    Pending {
        /// Passages embedded so far.
        done: usize,
        /// Passages to embed.
        total: usize,
    },
    /// The model could not be had; answers are lexical.
    Unavailable {
        /// Why, in a sentence.
        reason: String,
        /// What kind of trouble it is, which names the fix.
        cause: ModelTrouble,
    },
    /// Loaded, with vectors for every passage: answers are hybrid.
    Ready {
        /// The model, as the setting names it.
        model: String,
        /// The folder its files are in.
        folder: std::path::PathBuf,
    },
}

/// Why the model is unavailable, as far as the fix goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelTrouble {
    /// Its files are not there and could not be fetched (no network, not in
    /// the cache, a folder without them).
    Absent,
    /// A file is there but damaged (wrong size, bad content, refused download).
    Damaged {
        /// The file to delete or replace.
        file: std::path::PathBuf,
    },
    /// A folder citebot must write in cannot be written (disk full, read-only,
    /// not a folder, no permission).
    Unwritable {
        /// The folder.
        folder: std::path::PathBuf,
    },
}

/// A passage with the passages around it.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageView {
    /// The passage asked for.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The passage just before it in the essay, if any.
    pub before: Option<Passage>,
    /// The passage just after it in the essay, if any.
    pub after: Option<Passage>,
    /// Citation of the whole passage.
    pub citation: Citation,
}

/// How faithfully a quote matches the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The same words, ignoring case, punctuation, quote marks, dashes and whitespace.
    Exact,
    /// A recognisable misquote or close paraphrase.
    Close,
    /// Nothing in the corpus is close enough.
    NotFound,
}

impl Verdict {
    /// The name used in JSON: `exact`, `close` or `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Exact => "exact",
            Verdict::Close => "close",
            Verdict::NotFound => "not_found",
        }
    }
}

/// One word-level difference between the quote and the original, both sides verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What the quote says (verbatim words from the quote).
    pub said: String,
    /// What the passage says (verbatim words from the passage).
    pub original: String,
}

/// Where a quote was found.
#[derive(Debug, Clone, PartialEq)]
pub struct CiteMatch {
    /// The passage the original words start in.
    pub passage: Passage,
    /// Its essay.
    pub source: Source,
    /// The verbatim span of the essay that the quote lines up with.
    pub original: String,
    /// Citation, with a deep link to the original span.
    pub citation: Citation,
    /// Similarity in [0, 1]; 1 for an exact quote.
    pub similarity: f32,
}

/// Who the message says wrote the quote, and whether the corpus agrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The person the message names, as written ("Madison").
    pub named: String,
    /// The author of the matched essay, as the corpus has it; None when it names none.
    pub author: Option<String>,
    /// True when the named person is (one of) the essay's author(s); None when the
    /// essay names no author.
    pub correct: Option<bool>,
}

/// The answer to a citation check.
#[derive(Debug, Clone, PartialEq)]
pub struct CiteResult {
    /// The quote as given.
    pub query: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The source, unless not found.
    pub found: Option<CiteMatch>,
    /// What the quote changed, in order; empty unless close.
    pub differences: Vec<Difference>,
    /// The span of the query that was matched: the quotation without the words
    /// around it ("Romberg wrote that …"); the whole query when nothing was found.
    pub quoted: String,
    /// True when the quote leaves words of the original out, where it says so
    /// ("…", `exact` or `close`) or silently (`close`).
    pub elided: bool,
    /// Who the query says wrote it, when it names someone and the quote was found.
    pub attribution: Option<Attribution>,
    /// True when the quotation is too short to place: one word, or function
    /// words only (`not_found`; not part of the JSON contract).
    pub too_short: bool,
}

impl CiteResult {
    /// The result for a quote nothing in the corpus is close to.
    pub(crate) fn not_found(quote: &str) -> CiteResult {
        CiteResult {
            query: quote.to_string(),
            verdict: Verdict::NotFound,
            found: None,
            differences: Vec::new(),
            quoted: quote.to_string(),
            elided: false,
            attribution: None,
            too_short: false,
        }
    }

    /// The result for a quotation too short to place.
    pub(crate) fn too_short(quote: &str) -> CiteResult {
        CiteResult {
            too_short: true,
            ..CiteResult::not_found(quote)
        }
    }
}
