//! Select: the essays a question's [`Filters`] leave, as the [`Within`]
//! that search ranks in, or the [`Miss`] that says why none is left, with
//! the nearest names, titles or tags.

use std::collections::{BTreeSet, HashMap};

use crate::corpus::Essay;
use crate::filter::{Bound, Filters, Miss, Report, Span, describe};
use crate::lookup::attribution;
use crate::search::scope::Within;
use crate::store::Store;

/// How many near names, titles or tags a miss offers.
const NEAREST: usize = 3;

/// What filters are matched against, read once per store: each essay's
/// author (as an index into the distinct author fields, each read into
/// the people it names), its title's and id's words and numbers, and its
/// date, so that a filtered question costs a pass over small arrays.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Per essay: its author field, as an index into `people`.
    author: Vec<Option<u32>>,
    /// Per distinct author field: the people it names (normalised words).
    people: Vec<Vec<Vec<String>>>,
    /// Per essay: the words and numbers of its title and id.
    titles: Vec<Words>,
    /// Per essay: the days its date names.
    dates: Vec<Option<Span>>,
}

impl Catalog {
    /// The catalog of `essays` (a store's, in order).
    pub fn of<'e>(essays: impl IntoIterator<Item = &'e Essay>) -> Catalog {
        let mut catalog = Catalog::default();
        let mut fields: HashMap<&str, u32> = HashMap::new();
        for essay in essays {
            let author = essay.author.as_deref().map(|a| {
                *fields.entry(a).or_insert_with(|| {
                    catalog.people.push(attribution::people(a));
                    catalog.people.len() as u32 - 1
                })
            });
            catalog.author.push(author);
            let (mut words, mut numbers) = words(&essay.title);
            let (id_words, id_numbers) = self::words(&essay.id);
            words.extend(id_words);
            numbers.extend(id_numbers);
            catalog.titles.push((words, numbers));
            catalog
                .dates
                .push(essay.date.as_deref().and_then(Span::parse));
        }
        catalog
    }
}

/// The scope `filters` leave in `store` (whose [`Catalog`] is `catalog`),
/// and the report of it.
pub fn select(store: &Store, catalog: &Catalog, filters: &Filters) -> (Within, Report) {
    let essays: Vec<&Essay> = store.essays().collect();
    select_among(&essays, catalog, filters)
}

/// [`select`] among `essays` (the store's, in order).
fn select_among(essays: &[&Essay], catalog: &Catalog, filters: &Filters) -> (Within, Report) {
    let count = essays.len();
    let mut report = Report {
        filters: filters.clone(),
        essays: count,
        miss: None,
    };
    if filters.is_empty() {
        return (Within::everything(), report);
    }
    let mut keep = vec![true; count];
    let mut narrow = |pass: &dyn Fn(usize) -> bool| -> usize {
        let mut any = 0;
        for (e, kept) in keep.iter_mut().enumerate() {
            let ok = pass(e);
            any += usize::from(ok);
            *kept &= ok;
        }
        any
    };
    let mut miss = None;
    if !filters.authors.is_empty() {
        let named: Vec<Vec<String>> = filters
            .authors
            .iter()
            .map(|a| attribution::name_words(a))
            .collect();
        let fields: Vec<bool> = catalog
            .people
            .iter()
            .map(|people| {
                people
                    .iter()
                    .any(|p| named.iter().any(|n| attribution::names(n, p)))
            })
            .collect();
        if narrow(&|e| catalog.author[e].is_some_and(|a| fields[a as usize])) == 0 {
            miss = Some(author_miss(essays, &filters.authors[0]));
        }
    }
    let wanted: Vec<(&str, Words)> = filters
        .essays
        .iter()
        .map(|n| (n.as_str(), words(n)))
        .collect();
    if !wanted.is_empty()
        && narrow(&|e| {
            wanted
                .iter()
                .any(|(n, w)| named(essays[e], &catalog.titles[e], n, w))
        }) == 0
    {
        miss = miss.or_else(|| Some(essay_miss(essays, &filters.essays[0])));
    }
    if !filters.tags.is_empty()
        && narrow(&|e| filters.tags.iter().any(|t| tagged(essays[e], t))) == 0
    {
        miss = miss.or_else(|| Some(tag_miss(essays, &filters.tags[0])));
    }
    if filters.since.is_some() || filters.until.is_some() {
        match dated(filters) {
            Err(text) => miss = miss.or(Some(Miss::BadDate { text })),
            Ok(within) => {
                if narrow(&|e| catalog.dates[e].is_some_and(&within)) == 0 {
                    miss = miss.or_else(|| Some(dates_miss(essays, filters)));
                }
            }
        }
    }
    let left = keep.iter().filter(|&&k| k).count();
    if miss.is_none() && left == 0 {
        miss = Some(Miss::Together {
            filters: describe(filters),
        });
    }
    // With a miss nothing is asked: no essay is asked within.
    report.essays = if miss.is_some() { 0 } else { left };
    report.miss = miss;
    (Within::only(count, |e| keep[e]), report)
}

/// The lower-case words of a text, and its numbers (as numbers: "01" is 1).
type Words = (Vec<String>, Vec<u64>);

/// Lower-case words and numbers (as numbers, "01" = "1") of `text`.
fn words(text: &str) -> Words {
    let mut out = (Vec::new(), Vec::new());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match word.parse::<u64>() {
            Ok(n) => out.1.push(n),
            Err(_) => out.0.push(word.to_lowercase()),
        }
    }
    out
}

/// True when `essay` (whose title's and id's words and numbers are
/// `title`) is the one `name` (whose words and numbers are `wanted`)
/// names: its id, or words and numbers all found in its title or id
/// ("federalist 10", "No. 10", "on liberty").
fn named(essay: &Essay, title: &Words, name: &str, wanted: &Words) -> bool {
    if essay.id.eq_ignore_ascii_case(name.trim()) {
        return true;
    }
    let (want_words, want_numbers) = wanted;
    if want_words.is_empty() && want_numbers.is_empty() {
        return false;
    }
    let (have_words, have_numbers) = title;
    // "No. 10" and "number 10" name a number; "no" need not be in the title.
    let ignorable = |w: &str| matches!(w, "no" | "nr" | "number" | "num");
    want_words
        .iter()
        .all(|w| have_words.contains(w) || (ignorable(w) && !want_numbers.is_empty()))
        && want_numbers.iter().all(|n| have_numbers.contains(n))
}

/// True when `essay` has tag `tag` (case ignored).
fn tagged(essay: &Essay, tag: &str) -> bool {
    let tag = tag.trim().trim_start_matches('#');
    essay.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

/// The test a date span must pass for the filters' bounds, or the bound
/// that is not a date.
fn dated(filters: &Filters) -> Result<impl Fn(Span) -> bool + use<>, String> {
    let parse = |b: &Option<Bound>| -> Result<Option<(Span, bool)>, String> {
        match b {
            None => Ok(None),
            Some(b) => Span::parse(&b.date)
                .map(|s| Some((s, b.exclusive)))
                .ok_or_else(|| b.date.clone()),
        }
    };
    let since = parse(&filters.since)?;
    let until = parse(&filters.until)?;
    Ok(move |date: Span| {
        let after = since.is_none_or(|(s, exclusive)| {
            if exclusive {
                date.last > s.last
            } else {
                date.last >= s.first
            }
        });
        let before = until.is_none_or(|(u, exclusive)| {
            if exclusive {
                date.first < u.first
            } else {
                date.first <= u.last
            }
        });
        after && before
    })
}

/// Edit distance between two strings, by characters, case ignored.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Up to [`NEAREST`] of `candidates` nearest to `named` (each by its own
/// nearest form: a name's surname, a title's words), nearest first: those
/// within one edit of the nearest.
fn nearest<'c>(
    named: &str,
    candidates: impl IntoIterator<Item = (&'c str, Vec<String>)>,
) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|(shown, forms)| {
            let best = forms
                .iter()
                .map(|f| distance(named, f))
                .min()
                .unwrap_or(usize::MAX);
            (best, shown)
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    // Those about as near as the nearest: one clear suggestion stands alone.
    let best = scored.first().map_or(0, |c| c.0);
    scored
        .into_iter()
        .take_while(|c| c.0 <= best + 1)
        .take(NEAREST)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The people an author field names, as written ("A with B", "A and B", "A, B").
pub(crate) fn people(author: &str) -> Vec<String> {
    let mut out = vec![author.to_string()];
    for separator in [" with ", " and ", " & ", ", ", "; ", " or "] {
        out = out
            .iter()
            .flat_map(|p| p.split(separator).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn author_miss(essays: &[&Essay], named: &str) -> Miss {
    let names: BTreeSet<String> = essays
        .iter()
        .filter_map(|e| e.author.as_deref())
        .flat_map(people)
        .collect();
    let candidates = names.iter().map(|name| {
        let mut forms = vec![name.clone()];
        forms.extend(name.split_whitespace().last().map(str::to_string));
        (name.as_str(), forms)
    });
    Miss::Author {
        named: named.to_string(),
        nearest: nearest(named, candidates),
    }
}

fn essay_miss(essays: &[&Essay], named: &str) -> Miss {
    let candidates = essays.iter().map(|e| {
        let mut forms = vec![e.title.clone(), e.id.clone()];
        // The title's opening words, as many as the reader wrote.
        let n = named.split_whitespace().count().max(1);
        let title: Vec<&str> = e.title.split_whitespace().collect();
        for start in 0..title.len() {
            forms.push(title[start..(start + n).min(title.len())].join(" "));
        }
        (e.title.as_str(), forms)
    });
    Miss::Essay {
        named: named.to_string(),
        nearest: nearest(named, candidates),
    }
}

fn tag_miss(essays: &[&Essay], named: &str) -> Miss {
    let tags: BTreeSet<&str> = essays
        .iter()
        .flat_map(|e| e.tags.iter().map(String::as_str))
        .collect();
    Miss::Tag {
        named: named.to_string(),
        nearest: nearest(named, tags.iter().map(|&t| (t, vec![t.to_string()]))),
    }
}

fn dates_miss(essays: &[&Essay], filters: &Filters) -> Miss {
    let mut dates: Vec<(Span, &str)> = essays
        .iter()
        .filter_map(|e| {
            let date = e.date.as_deref()?;
            Some((Span::parse(date)?, date))
        })
        .collect();
    dates.sort_by_key(|(s, _)| (s.first, s.last));
    let range = dates
        .first()
        .zip(dates.last())
        .map(|(a, b)| (a.1.to_string(), b.1.to_string()));
    let bounds = describe(&Filters {
        since: filters.since.clone(),
        until: filters.until.clone(),
        ..Filters::default()
    })
    .into_iter()
    .map(|op| op.replacen(':', " ", 1).replace('"', ""))
    .collect::<Vec<_>>()
    .join(" and ");
    Miss::Dates { bounds, range }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn essay(id: &str, title: &str, author: &str, date: &str, tags: &[&str]) -> Essay {
        let mut e = Essay::blank(&format!("{id}.md"), 0);
        e.id = id.into();
        e.title = title.into();
        e.author = Some(author.into());
        e.date = Some(date.into());
        e.tags = tags.iter().map(|t| t.to_string()).collect();
        e
    }

    fn federalist() -> Vec<Essay> {
        vec![
            essay(
                "federalist-01",
                "The Federalist No. 1: General Introduction",
                "Alexander Hamilton",
                "October 27, 1787",
                &[],
            ),
            essay(
                "federalist-10",
                "The Federalist No. 10: The Same Subject Continued",
                "James Madison",
                "November 22, 1787",
                &["faction"],
            ),
            essay(
                "federalist-18",
                "The Federalist No. 18",
                "James Madison with Alexander Hamilton",
                "December 7, 1787",
                &[],
            ),
            essay(
                "mill-1",
                "On Liberty, Chapter I: Introductory",
                "John Stuart Mill",
                "1859",
                &["Liberty"],
            ),
            essay(
                "thoreau-walking",
                "Walking",
                "Henry David Thoreau",
                "June 1862",
                &[],
            ),
        ]
    }

    /// The ids of the essays `filters` leave.
    fn ids<'e>(essays: &'e [Essay], filters: &Filters) -> Vec<&'e str> {
        let refs: Vec<&Essay> = essays.iter().collect();
        let (within, _) = select_among(&refs, &Catalog::of(essays.iter()), filters);
        essays
            .iter()
            .enumerate()
            .filter(|(e, _)| within.contains(*e))
            .map(|(_, essay)| essay.id.as_str())
            .collect()
    }

    #[test]
    fn names_match_as_attribution_does() {
        let essays = federalist();
        for (name, want) in [
            ("madison", vec!["federalist-10", "federalist-18"]),
            ("J. Madison", vec!["federalist-10", "federalist-18"]),
            ("Alexander Hamilton", vec!["federalist-01", "federalist-18"]),
            ("J.S. Mill", vec!["mill-1"]),
            ("James", vec![]),
        ] {
            let got = ids(
                &essays,
                &Filters {
                    authors: vec![name.into()],
                    ..Filters::default()
                },
            );
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn essays_match_by_id_title_words_or_number() {
        let essays = federalist();
        for (name, want) in [
            ("federalist 10", vec!["federalist-10"]),
            ("No. 10", vec!["federalist-10"]),
            ("FEDERALIST-01", vec!["federalist-01"]),
            ("federalist 1", vec!["federalist-01"]),
            ("on liberty", vec!["mill-1"]),
            ("walking", vec!["thoreau-walking"]),
            ("federalist 100", vec![]),
        ] {
            let got = ids(
                &essays,
                &Filters {
                    essays: vec![name.into()],
                    ..Filters::default()
                },
            );
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn dates_match_to_their_precision() {
        let filters = |since: Option<(&str, bool)>, until: Option<(&str, bool)>| Filters {
            since: since.map(|(d, exclusive)| Bound {
                date: d.into(),
                exclusive,
            }),
            until: until.map(|(d, exclusive)| Bound {
                date: d.into(),
                exclusive,
            }),
            ..Filters::default()
        };
        let span = |d: &str| Span::parse(d).unwrap();
        let test = dated(&filters(Some(("1859", false)), None)).unwrap();
        assert!(test(span("1859")) && !test(span("1858")));
        let test = dated(&filters(Some(("1858", true)), None)).unwrap();
        assert!(test(span("1859")) && !test(span("1858")) && !test(span("December 31, 1858")));
        let test = dated(&filters(None, Some(("1850", true)))).unwrap();
        assert!(test(span("1849")) && test(span("November 22, 1787")) && !test(span("1850")));
        let test = dated(&filters(None, Some(("November 1787", false)))).unwrap();
        assert!(test(span("November 22, 1787")) && !test(span("December 7, 1787")));
        assert_eq!(
            dated(&filters(Some(("soon", false)), None)).err(),
            Some("soon".to_string())
        );
    }

    #[test]
    fn a_near_miss_offers_the_nearest() {
        let essays = federalist();
        let refs: Vec<&Essay> = essays.iter().collect();
        match author_miss(&refs, "Madisen") {
            Miss::Author { nearest, .. } => assert_eq!(nearest[0], "James Madison"),
            other => panic!("{other:?}"),
        }
        match essay_miss(&refs, "walkin") {
            Miss::Essay { nearest, .. } => assert_eq!(nearest[0], "Walking"),
            other => panic!("{other:?}"),
        }
        match tag_miss(&refs, "libery") {
            Miss::Tag { nearest, .. } => assert_eq!(nearest[0], "Liberty"),
            other => panic!("{other:?}"),
        }
        match dates_miss(
            &refs,
            &Filters {
                until: Some(Bound {
                    date: "1700".into(),
                    exclusive: true,
                }),
                ..Filters::default()
            },
        ) {
            Miss::Dates { bounds, range } => {
                assert_eq!(bounds, "before 1700");
                assert_eq!(range, Some(("October 27, 1787".into(), "June 1862".into())));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(distance("Madisen", "madison"), 1);
    }
}
