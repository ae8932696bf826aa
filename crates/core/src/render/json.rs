//! JSON: the `ask --json` and `cite --json` contracts, one object per line.

use serde::Serialize;

use crate::answer::{Answer, CiteResult, Hit, Passage, Source};
use crate::filter::{Bound, Report};
use crate::render::labels;

#[derive(Serialize)]
struct AskJson<'a> {
    query: &'a str,
    answered: bool,
    hits: Vec<HitJson<'a>>,
    retrieval: &'static str,
    filters: FiltersJson<'a>,
}

/// What a question was asked within: `{}` when unfiltered; else the
/// filters applied, the number of essays they left, and, when they left
/// none, `unmatched`: why, with the nearest names.
#[derive(Serialize, Default)]
struct FiltersJson<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    author: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    essay: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tag: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    essays: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unmatched: Option<String>,
}

impl<'a> FiltersJson<'a> {
    fn of(report: &'a Report) -> Self {
        if !report.filtered() {
            return FiltersJson::default();
        }
        let f = &report.filters;
        let bound = |b: &'a Option<Bound>, exclusive: bool| {
            b.as_ref()
                .filter(|b| b.exclusive == exclusive)
                .map(|b| b.date.as_str())
        };
        FiltersJson {
            author: &f.authors,
            essay: &f.essays,
            tag: &f.tags,
            since: bound(&f.since, false),
            after: bound(&f.since, true),
            until: bound(&f.until, false),
            before: bound(&f.until, true),
            essays: Some(report.essays),
            unmatched: report.miss.as_ref().map(labels::filter_miss),
        }
    }
}

/// Where a passage is: the fields `ask` hits and `cite` matches share, in contract order.
#[derive(Serialize)]
struct PlaceJson<'a> {
    passage_id: &'a str,
    essay_id: &'a str,
    title: &'a str,
    author: Option<&'a str>,
    publication: Option<&'a str>,
    date: Option<&'a str>,
    url: Option<&'a str>,
    paragraph: u32,
}

impl<'a> PlaceJson<'a> {
    fn of(passage: &'a Passage, source: &'a Source) -> Self {
        PlaceJson {
            passage_id: &passage.id,
            essay_id: &source.id,
            title: &source.title,
            author: source.author.as_deref(),
            publication: source.publication.as_deref(),
            date: source.date.as_deref(),
            url: source.url.as_deref(),
            paragraph: passage.paragraph,
        }
    }
}

#[derive(Serialize)]
struct HitJson<'a> {
    rank: usize,
    #[serde(flatten)]
    place: PlaceJson<'a>,
    passage: &'a str,
    quote: String,
    link: Option<&'a str>,
    score: f64,
}

impl<'a> HitJson<'a> {
    fn of(hit: &'a Hit) -> Self {
        HitJson {
            rank: hit.rank,
            place: PlaceJson::of(&hit.passage, &hit.source),
            passage: &hit.passage.text,
            quote: hit.quote_text(),
            link: hit.citation.link.as_deref(),
            score: round(hit.score),
        }
    }
}

/// Rounds a score to four decimals, so the JSON stays readable.
fn round(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

/// The `ask --json` line for one answer.
pub fn answer(answer: &Answer) -> String {
    let json = AskJson {
        query: &answer.query,
        answered: answer.answered,
        hits: answer.hits.iter().map(HitJson::of).collect(),
        retrieval: answer.retrieval.name(),
        filters: FiltersJson::of(&answer.filters),
    };
    serde_json::to_string(&json).expect("answers serialize")
}

#[derive(Serialize)]
struct CiteJson<'a> {
    query: &'a str,
    verdict: &'static str,
    #[serde(rename = "match")]
    found: Option<MatchJson<'a>>,
    differences: Vec<DifferenceJson<'a>>,
    quoted: &'a str,
    elided: bool,
    attribution: Option<AttributionJson<'a>>,
}

#[derive(Serialize)]
struct AttributionJson<'a> {
    named: &'a str,
    author: Option<&'a str>,
    correct: Option<bool>,
}

#[derive(Serialize)]
struct MatchJson<'a> {
    #[serde(flatten)]
    place: PlaceJson<'a>,
    original: &'a str,
    passage: &'a str,
    link: Option<&'a str>,
    similarity: f64,
}

#[derive(Serialize)]
struct DifferenceJson<'a> {
    said: &'a str,
    original: &'a str,
}

/// The `cite --json` line for one lookup.
pub fn cite(result: &CiteResult) -> String {
    let json = CiteJson {
        query: &result.query,
        verdict: result.verdict.as_str(),
        found: result.found.as_ref().map(|m| MatchJson {
            place: PlaceJson::of(&m.passage, &m.source),
            original: &m.original,
            passage: &m.passage.text,
            link: m.citation.link.as_deref(),
            similarity: round(m.similarity),
        }),
        differences: result
            .differences
            .iter()
            .map(|d| DifferenceJson {
                said: &d.said,
                original: &d.original,
            })
            .collect(),
        quoted: &result.quoted,
        elided: result.elided,
        attribution: result.attribution.as_ref().map(|a| AttributionJson {
            named: &a.named,
            author: a.author.as_deref(),
            correct: a.correct,
        }),
    };
    serde_json::to_string(&json).expect("lookups serialize")
}
