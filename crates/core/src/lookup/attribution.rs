//! Attribution: is the person a message names the author of the essay the
//! quote was found in?
//!
//! The rule: the named person matches one of the people the author field
//! names when the name's last word is that person's surname (last word) and
//! every other word of it is one of that person's words (an initial matches
//! a word it begins). So "Madison", "James Madison" and "J. Madison" match
//! "James Madison"; "James" alone does not. An author field naming several
//! people ("James Madison with Alexander Hamilton", "A and B", "A or B",
//! "A & B", "A, B") counts for each of them: naming any one is correct.
//! Case, accents, periods and possessives are ignored.

use crate::answer::Attribution;
use crate::lookup::align;

/// The attribution of a quote the message says `named` wrote, found in an
/// essay by `author`.
pub fn attribution(named: &str, author: Option<&str>) -> Attribution {
    Attribution {
        named: named.to_string(),
        author: author.map(str::to_string),
        correct: author.map(|a| people(a).iter().any(|p| same_person(named, p))),
    }
}

/// The people an author field names, each as the normalised words of
/// their name.
pub(crate) fn people(author: &str) -> Vec<Vec<String>> {
    let author = author.replace(['&', ',', ';'], " and ");
    let words: Vec<String> = align::words(&author).into_iter().map(|(w, _)| w).collect();
    words
        .split(|w| matches!(w.as_str(), "with" | "and" | "or"))
        .map(<[String]>::to_vec)
        .filter(|p| !p.is_empty())
        .collect()
}

/// True when `named` can be the person whose name's words are `person`.
fn same_person(named: &str, person: &[String]) -> bool {
    names(&name_words(named), person)
}

/// The normalised words of a name as a message writes it (possessive dropped).
pub(crate) fn name_words(named: &str) -> Vec<String> {
    align::words(named)
        .into_iter()
        .map(|(w, _)| w.trim_end_matches("'s").to_string())
        .collect()
}

/// True when a name of words `named` (from [`name_words`]) can be the
/// person whose name's words are `person` (from [`people`]).
pub(crate) fn names(named: &[String], person: &[String]) -> bool {
    let (Some(surname), Some(theirs)) = (named.last(), person.last()) else {
        return false;
    };
    surname == theirs
        && named[..named.len() - 1].iter().all(|w| {
            person[..person.len() - 1]
                .iter()
                .any(|p| p == w || (w.chars().count() == 1 && p.starts_with(w.as_str())))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correct(named: &str, author: &str) -> Option<bool> {
        attribution(named, Some(author)).correct
    }

    #[test]
    fn surname_full_name_and_initials_match() {
        assert_eq!(correct("Madison", "James Madison"), Some(true));
        assert_eq!(correct("James Madison", "James Madison"), Some(true));
        assert_eq!(correct("J. Madison", "James Madison"), Some(true));
        assert_eq!(correct("Alan Romberg", "Alan D. Romberg"), Some(true));
        assert_eq!(correct("Romberg's", "Alan D. Romberg"), Some(true));
        assert_eq!(correct("MADISON", "James Madison"), Some(true));
    }

    #[test]
    fn other_people_do_not() {
        assert_eq!(correct("Madison", "Alexander Hamilton"), Some(false));
        assert_eq!(correct("James", "James Madison"), Some(false));
        assert_eq!(correct("John Madison", "James Madison"), Some(false));
        assert_eq!(correct("Jefferson", "James Madison"), Some(false));
    }

    #[test]
    fn joint_authors_count_for_each() {
        let joint = "James Madison with Alexander Hamilton";
        assert_eq!(correct("Madison", joint), Some(true));
        assert_eq!(correct("Hamilton", joint), Some(true));
        assert_eq!(correct("Jay", joint), Some(false));
        assert_eq!(
            correct("Hamilton", "Alexander Hamilton or James Madison"),
            Some(true)
        );
        assert_eq!(
            correct("Jay", "Alexander Hamilton, John Jay & James Madison"),
            Some(true)
        );
    }

    #[test]
    fn no_author_no_verdict() {
        let a = attribution("Madison", None);
        assert_eq!(a.correct, None);
        assert_eq!(a.author, None);
    }
}
