//! Dates as essays' front matter and readers write them: a year ("1841"),
//! a month ("October 2022", "2022-10"), a day ("November 22, 1787",
//! "22 November 1787", "1787-11-22", a TOML date or datetime). Each reads
//! as the span of days it names.

/// A day: year, month, day (a month or year alone is a span of them).
pub type Day = (i32, u32, u32);

/// The days a date names, first and last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The first day.
    pub first: Day,
    /// The last day.
    pub last: Day,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&word))
        .map(|i| i as u32 + 1)
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Span {
    /// The span `text` names, or None when it is not a date.
    pub fn parse(text: &str) -> Option<Span> {
        let text = text.trim();
        // A TOML or ISO date, possibly with a time: 1787-11-22, 2022-10, 1787-11-22T10:00:00Z.
        let head = text.split(['T', ' ']).next().unwrap_or("");
        let parts: Vec<&str> = head.split('-').collect();
        if parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && parts[0].len() == 4
            && parts.len() <= 3
            && (parts.len() == 1
                || head.len() == text.len()
                || text.as_bytes().get(head.len()) == Some(&b'T'))
        {
            let year: i32 = parts[0].parse().ok()?;
            let month: Option<u32> = parts.get(1).map(|m| m.parse().ok()).unwrap_or(None);
            let day: Option<u32> = parts.get(2).map(|d| d.parse().ok()).unwrap_or(None);
            if parts.len() > 1 && month.is_none() || parts.len() > 2 && day.is_none() {
                return None;
            }
            return Span::of(year, month, day);
        }
        // Words: "November 22, 1787", "22 November 1787", "October 2022", "Nov. 1787".
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let mut year = None;
        let mut month_of = None;
        let mut day = None;
        for word in &words {
            let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '.');
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                let n: u32 = digits.parse().ok()?;
                if digits.len() >= 3 && year.is_none() {
                    year = Some(n as i32);
                } else if digits.len() <= 2 && day.is_none() {
                    day = Some(n);
                } else {
                    return None;
                }
            } else if let Some(m) = month(word).filter(|_| month_of.is_none()) {
                month_of = Some(m);
            } else {
                return None;
            }
        }
        match (year, month_of, day) {
            (Some(y), m, d) if m.is_some() || d.is_none() => Span::of(y, m, d),
            _ => None,
        }
    }

    /// The span of a year, a month of it, or a day of that.
    fn of(year: i32, month: Option<u32>, day: Option<u32>) -> Option<Span> {
        match (month, day) {
            (None, None) => Some(Span {
                first: (year, 1, 1),
                last: (year, 12, 31),
            }),
            (Some(m), None) if (1..=12).contains(&m) => Some(Span {
                first: (year, m, 1),
                last: (year, m, days_in(year, m)),
            }),
            (Some(m), Some(d)) if (1..=12).contains(&m) && (1..=days_in(year, m)).contains(&d) => {
                Some(Span {
                    first: (year, m, d),
                    last: (year, m, d),
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_the_front_matter_holds() {
        let day = |y, m, d| Span {
            first: (y, m, d),
            last: (y, m, d),
        };
        assert_eq!(Span::parse("November 22, 1787"), Some(day(1787, 11, 22)));
        assert_eq!(Span::parse("22 November 1787"), Some(day(1787, 11, 22)));
        assert_eq!(Span::parse("Nov. 22, 1787"), Some(day(1787, 11, 22)));
        assert_eq!(Span::parse("1787-11-22"), Some(day(1787, 11, 22)));
        assert_eq!(Span::parse("1787-11-22T10:00:00Z"), Some(day(1787, 11, 22)));
        assert_eq!(
            Span::parse("October 2022"),
            Some(Span {
                first: (2022, 10, 1),
                last: (2022, 10, 31)
            })
        );
        assert_eq!(
            Span::parse("2024-02"),
            Some(Span {
                first: (2024, 2, 1),
                last: (2024, 2, 29)
            })
        );
        assert_eq!(
            Span::parse("1841"),
            Some(Span {
                first: (1841, 1, 1),
                last: (1841, 12, 31)
            })
        );
    }

    #[test]
    fn what_is_not_a_date() {
        for text in [
            "",
            "soon",
            "22",
            "1787-13",
            "February 30, 1787",
            "May 5",
            "1787-11-22x",
            "12 13 1787",
        ] {
            assert_eq!(Span::parse(text), None, "{text}");
        }
    }
}
