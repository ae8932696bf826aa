//! JSON: the `ask --json` and `cite --json` contracts, one object per line.

use serde::Serialize;

use crate::engine::{Answer, Hit};
use crate::lookup::CiteResult;

#[derive(Serialize)]
struct AskJson<'a> {
    query: &'a str,
    answered: bool,
    hits: Vec<HitJson<'a>>,
}

#[derive(Serialize)]
struct HitJson<'a> {
    rank: usize,
    passage_id: &'a str,
    essay_id: &'a str,
    title: &'a str,
    author: Option<&'a str>,
    publication: Option<&'a str>,
    date: Option<&'a str>,
    url: Option<&'a str>,
    paragraph: u32,
    passage: &'a str,
    quote: String,
    link: Option<&'a str>,
    score: f64,
}

impl<'a> HitJson<'a> {
    fn of(hit: &'a Hit) -> Self {
        HitJson {
            rank: hit.rank,
            passage_id: &hit.passage.id,
            essay_id: &hit.source.id,
            title: &hit.source.title,
            author: hit.source.author.as_deref(),
            publication: hit.source.publication.as_deref(),
            date: hit.source.date.as_deref(),
            url: hit.source.url.as_deref(),
            paragraph: hit.passage.paragraph,
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
}

#[derive(Serialize)]
struct MatchJson<'a> {
    passage_id: &'a str,
    essay_id: &'a str,
    title: &'a str,
    author: Option<&'a str>,
    publication: Option<&'a str>,
    date: Option<&'a str>,
    url: Option<&'a str>,
    paragraph: u32,
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
            passage_id: &m.passage.id,
            essay_id: &m.source.id,
            title: &m.source.title,
            author: m.source.author.as_deref(),
            publication: m.source.publication.as_deref(),
            date: m.source.date.as_deref(),
            url: m.source.url.as_deref(),
            paragraph: m.passage.paragraph,
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
    };
    serde_json::to_string(&json).expect("lookups serialize")
}
