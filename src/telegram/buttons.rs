//! Buttons: the `callback_data` codec and the keyboards under answers.
//!
//! Buttons are stateless: their `callback_data` carries what they need
//! (`c:<passage id>` for **Context**, `m:<page>` for **More**, whose question
//! is the text of the message the answer replies to), so they work after a
//! restart and on any replica.

use teloxide::types::{CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup};

use citebot_core::answer::{Citation, Hit};
use citebot_core::render::{bot_texts, html};

/// Pages **More** can reach.
pub(crate) const MAX_PAGES: usize = 10;
/// Longest `callback_data` Telegram accepts, in bytes.
const MAX_CALLBACK_DATA: usize = 64;

/// A button's `callback_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Button {
    /// **More**: page `n` (from 0) of the question's results.
    More(usize),
    /// **Context**: the paragraphs around a passage.
    Context(String),
}

impl Button {
    /// Reads `callback_data`; None for anything this bot did not write.
    pub fn parse(data: &str) -> Option<Button> {
        match data.split_once(':')? {
            ("m", page) => page.parse().ok().map(Button::More),
            ("c", id) if !id.is_empty() => Some(Button::Context(id.to_string())),
            _ => None,
        }
    }

    /// The `callback_data` of this button.
    pub fn data(&self) -> String {
        match self {
            Button::More(page) => format!("m:{page}"),
            Button::Context(id) => format!("c:{id}"),
        }
    }
}

/// The buttons under an answer: **Context** and **Copy citation** per hit,
/// then **More** when the page was full.
pub(crate) fn keyboard(hits: &[Hit], page: usize, per_page: usize) -> InlineKeyboardMarkup {
    let numbered = hits.len() > 1;
    let label = |name: &str, hit: &Hit| {
        if numbered {
            format!("{name} {}", hit.rank)
        } else {
            name.to_string()
        }
    };
    let mut rows: Vec<Vec<InlineKeyboardButton>> = hits
        .iter()
        .map(|hit| {
            let mut row = Vec::new();
            let data = Button::Context(hit.passage.id.clone()).data();
            if data.len() <= MAX_CALLBACK_DATA {
                row.push(InlineKeyboardButton::callback(
                    label(bot_texts::CONTEXT_BUTTON, hit),
                    data,
                ));
            }
            row.push(copy_button(
                label(bot_texts::COPY_CITATION_BUTTON, hit),
                &hit.citation,
            ));
            row
        })
        .collect();
    if hits.len() >= per_page && page + 1 < MAX_PAGES {
        rows.push(vec![InlineKeyboardButton::callback(
            bot_texts::MORE_BUTTON,
            Button::More(page + 1).data(),
        )]);
    }
    InlineKeyboardMarkup::new(rows)
}

/// A single **Copy citation** button.
pub(crate) fn copy_keyboard(citation: &Citation) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[copy_button(
        bot_texts::COPY_CITATION_BUTTON.to_string(),
        citation,
    )]])
}

fn copy_button(label: String, citation: &Citation) -> InlineKeyboardButton {
    InlineKeyboardButton::copy_text_button(
        label,
        CopyTextButton {
            text: html::copy_line(citation),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_round_trip() {
        for button in [Button::More(2), Button::Context("essay_3-1".into())] {
            assert_eq!(Button::parse(&button.data()), Some(button));
        }
        assert_eq!(Button::parse("m:2"), Some(Button::More(2)));
        for bad in ["", "m:", "m:x", "c:", "x:1", "m:99999999999999999999999"] {
            assert_eq!(Button::parse(bad), None, "{bad}");
        }
    }
}
