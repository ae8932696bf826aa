//! What the encoder reads of a question: the question without the names of
//! the corpus's authors.
//!
//! A reader names an author to say whose essays they mean ("Why does Shirk
//! think …", "Mill's harm principle"). No passage's text holds its own
//! author's name, and the passages were embedded without it, so in the
//! question's vector the name only pulls away from the passages that answer.
//! The words side still reads the names: each paragraph is ranked with its
//! essay's title and author.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::store::Store;

/// The words of the corpus's authors' names, lower-cased: every word of an
/// author field that starts with a capital and has three letters or more
/// ("Ralph Waldo Emerson": ralph, waldo, emerson; "James Madison with
/// Alexander Hamilton": the four names, not "with").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct AuthorNames(HashSet<String>);

impl AuthorNames {
    /// The names of the authors of `store`'s essays.
    pub fn of(store: &Store) -> AuthorNames {
        AuthorNames::from_authors(store.essays().filter_map(|e| e.author.as_deref()))
    }

    /// The names in these author fields.
    pub fn from_authors<'a>(authors: impl Iterator<Item = &'a str>) -> AuthorNames {
        AuthorNames(
            authors
                .flat_map(|author| author.split(|c: char| !c.is_alphanumeric() && c != '\''))
                .filter(|w| {
                    w.chars().next().is_some_and(char::is_uppercase) && w.chars().count() >= 3
                })
                .map(str::to_lowercase)
                .collect(),
        )
    }

    /// `question` without the words that name an author: a capitalised
    /// word (a possessive too) that is one of the names. Unchanged when it
    /// names none, or when it is nothing but names.
    pub fn strip<'q>(&self, question: &'q str) -> Cow<'q, str> {
        let kept: Vec<&str> = question
            .split_whitespace()
            .filter(|word| !self.names(word))
            .collect();
        if kept.is_empty() || kept.len() == question.split_whitespace().count() {
            Cow::Borrowed(question)
        } else {
            Cow::Owned(kept.join(" "))
        }
    }

    /// Whether `word` (as written, with its punctuation) is an author's name.
    fn names(&self, word: &str) -> bool {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let bare = ["'s", "\u{2019}s"]
            .iter()
            .find_map(|s| bare.strip_suffix(s))
            .unwrap_or(bare);
        bare.chars().next().is_some_and(char::is_uppercase) && self.0.contains(&bare.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> AuthorNames {
        AuthorNames::from_authors(
            [
                "Ralph Waldo Emerson",
                "John Stuart Mill",
                "James Madison with Alexander Hamilton",
                "Susan Shirk",
            ]
            .into_iter(),
        )
    }

    #[test]
    fn surnames_first_names_and_possessives_go() {
        let n = names();
        assert_eq!(
            n.strip("Why does Shirk think primacy is the wrong goal?"),
            "Why does think primacy is the wrong goal?"
        );
        assert_eq!(
            n.strip("What is Mill's harm principle?"),
            "What is harm principle?"
        );
        assert_eq!(
            n.strip("What is Mill\u{2019}s harm principle?"),
            "What is harm principle?"
        );
        assert_eq!(
            n.strip("Did James Madison fear factions?"),
            "Did fear factions?"
        );
        assert_eq!(
            n.strip("According to Emerson, is travel a fool's paradise?"),
            "According to is travel a fool's paradise?"
        );
    }

    #[test]
    fn other_words_stay() {
        let n = names();
        // Lower case: the word, not the author.
        assert_eq!(
            n.strip("Who owned the mill by the river?"),
            "Who owned the mill by the river?"
        );
        // Connectives and short words of an author field are not names.
        assert_eq!(
            n.strip("War with Spain and France"),
            "War with Spain and France"
        );
        assert!(matches!(n.strip("What is a faction?"), Cow::Borrowed(_)));
        // Nothing but names: the question is left as it is.
        assert_eq!(n.strip("Emerson?"), "Emerson?");
        assert_eq!(
            AuthorNames::default().strip("Why does Shirk think so?"),
            "Why does Shirk think so?"
        );
    }
}
