//! Filters: asking within an author, an essay, a tag or a span of dates.
//!
//! One rule set for every way of asking: the `ask` and `chat` flags, the
//! config's defaults, and operators inside the question text
//! ([`Filters::from_question`]): `by:madison`, `in:"federalist 10"`,
//! `tag:liberty`, `before:1850`, `after:1840` (and `since:`/`until:`,
//! which include the date named). The engine applies them inside
//! retrieval (`select` picks the essays, `search` ranks within
//! them) and says what it applied, or why nothing matched, in a
//! [`Report`].
//!
//! - A name matches as `cite`'s attribution does: a surname, a full name,
//!   or initials with the surname. Several names: any of them.
//! - An essay matches by its id, by its title's words, or by its number
//!   ("federalist 10", "No. 10"). Several: any of them.
//! - A date matches on what the front matter holds ("November 22, 1787",
//!   "October 2022", "1841", a TOML date), to its precision: `since:1841`
//!   holds an essay dated "1841", `after:1841` does not.

mod dates;
mod parse;

pub use dates::{Day, Span};
pub use parse::{Operator, operators};

/// One end of a span of dates, as the reader wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The date as written ("1850", "March 1850", "1850-03-02").
    pub date: String,
    /// True for `before:`/`after:`, which leave the date named out;
    /// false for `since:`/`until:`, which hold it.
    pub exclusive: bool,
}

/// What to ask within. Empty means the whole corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Authors: an essay by any of them.
    pub authors: Vec<String>,
    /// Essays, by id, title words or number: any of them.
    pub essays: Vec<String>,
    /// Tags: an essay with any of them.
    pub tags: Vec<String>,
    /// The earliest date.
    pub since: Option<Bound>,
    /// The latest date.
    pub until: Option<Bound>,
}

impl Filters {
    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self == &Filters::default()
    }

    /// The filters written as operators in `question`, and the question
    /// without them (the question itself when it holds none).
    pub fn from_question(question: &str) -> (Filters, String) {
        let (found, rest) = operators(question);
        let mut filters = Filters::default();
        for op in found {
            filters.add(op);
        }
        (filters, rest)
    }

    /// Adds one operator's filter (a second date bound replaces the first).
    pub fn add(&mut self, op: Operator) {
        match op {
            Operator::Author(name) => self.authors.push(name),
            Operator::Essay(essay) => self.essays.push(essay),
            Operator::Tag(tag) => self.tags.push(tag),
            Operator::Since(date) => {
                self.since = Some(Bound {
                    date,
                    exclusive: false,
                })
            }
            Operator::After(date) => {
                self.since = Some(Bound {
                    date,
                    exclusive: true,
                })
            }
            Operator::Until(date) => {
                self.until = Some(Bound {
                    date,
                    exclusive: false,
                })
            }
            Operator::Before(date) => {
                self.until = Some(Bound {
                    date,
                    exclusive: true,
                })
            }
        }
    }

    /// These filters over `defaults`: each kind set here (authors,
    /// essays, tags, each date bound) replaces the default's.
    pub fn over(mut self, defaults: &Filters) -> Filters {
        if self.authors.is_empty() {
            self.authors = defaults.authors.clone();
        }
        if self.essays.is_empty() {
            self.essays = defaults.essays.clone();
        }
        if self.tags.is_empty() {
            self.tags = defaults.tags.clone();
        }
        if self.since.is_none() {
            self.since = defaults.since.clone();
        }
        if self.until.is_none() {
            self.until = defaults.until.clone();
        }
        self
    }
}

/// Why a filter left no essay to ask within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No essay is by this name; the nearest authors' names.
    Author {
        /// The name as written.
        named: String,
        /// The nearest names in the corpus, nearest first.
        nearest: Vec<String>,
    },
    /// No essay has this id, title or number; the nearest titles.
    Essay {
        /// The essay as written.
        named: String,
        /// The nearest titles in the corpus, nearest first.
        nearest: Vec<String>,
    },
    /// No essay has this tag; the nearest tags (none when no essay has any).
    Tag {
        /// The tag as written.
        named: String,
        /// The nearest tags in the corpus, nearest first.
        nearest: Vec<String>,
    },
    /// A date that is not one.
    BadDate {
        /// The text as written.
        text: String,
    },
    /// No essay is dated within the bounds; the earliest and latest
    /// dates the essays have (none when no essay has a date).
    Dates {
        /// The bounds as the reader wrote them ("after 1900").
        bounds: String,
        /// The earliest and the latest date in the corpus, as written there.
        range: Option<(String, String)>,
    },
    /// Each filter matches some essay, but no essay matches them all.
    Together {
        /// The filters, as the reader wrote them.
        filters: Vec<String>,
    },
}

/// What a question was asked within: the filters applied and how many
/// essays they left, or why they left none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The filters, as given.
    pub filters: Filters,
    /// How many essays the question was asked within (all when
    /// unfiltered; none when the filters missed).
    pub essays: usize,
    /// Set when the filters left no essay: why; the question was not asked.
    pub miss: Option<Miss>,
}

impl Report {
    /// True when a filter was applied.
    pub fn filtered(&self) -> bool {
        !self.filters.is_empty()
    }

    /// The filters as the reader would write them as operators
    /// (`by:Madison`, `in:"federalist 10"`), in a fixed order.
    pub fn operators(&self) -> Vec<String> {
        describe(&self.filters)
    }
}

/// The filters written back as operators, quoting values with spaces.
pub fn describe(filters: &Filters) -> Vec<String> {
    let quoted = |key: &str, value: &str| {
        if value.chars().any(char::is_whitespace) {
            format!("{key}:\"{value}\"")
        } else {
            format!("{key}:{value}")
        }
    };
    let mut out = Vec::new();
    out.extend(filters.authors.iter().map(|a| quoted("by", a)));
    out.extend(filters.essays.iter().map(|e| quoted("in", e)));
    out.extend(filters.tags.iter().map(|t| quoted("tag", t)));
    if let Some(b) = &filters.since {
        out.push(quoted(if b.exclusive { "after" } else { "since" }, &b.date));
    }
    if let Some(b) = &filters.until {
        out.push(quoted(
            if b.exclusive { "before" } else { "until" },
            &b.date,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_become_filters_and_leave_the_question() {
        let (filters, rest) = Filters::from_question(
            "by:Madison what about in:\"federalist 10\" factions? before:1850",
        );
        assert_eq!(rest, "what about factions?");
        assert_eq!(filters.authors, ["Madison"]);
        assert_eq!(filters.essays, ["federalist 10"]);
        assert_eq!(
            filters.until,
            Some(Bound {
                date: "1850".into(),
                exclusive: true
            })
        );
        assert_eq!(
            describe(&filters),
            ["by:Madison", "in:\"federalist 10\"", "before:1850"]
        );
    }

    #[test]
    fn a_kind_given_replaces_the_default_and_others_stay() {
        let defaults = Filters {
            authors: vec!["Mill".into()],
            tags: vec!["liberty".into()],
            ..Filters::default()
        };
        let asked = Filters {
            authors: vec!["Emerson".into()],
            ..Filters::default()
        };
        let merged = asked.over(&defaults);
        assert_eq!(merged.authors, ["Emerson"]);
        assert_eq!(merged.tags, ["liberty"]);
        assert!(Filters::default().is_empty());
    }
}
