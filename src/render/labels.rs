//! Labels: the fixed words of citebot's replies, in one place.
//!
//! Every renderer takes its verdict labels and fixed phrases from here, so a
//! verdict reads the same in a terminal, in Telegram and in an inline
//! result.

use crate::model::{Attribution, Verdict};

/// A verdict as a reader sees it: its symbol and its name.
pub fn verdict(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Exact => ("✅", "Exact quote"),
        Verdict::Close => ("≈", "Close, but not exact"),
        Verdict::NotFound => ("❌", "Not found"),
    }
}

/// What follows the [`Verdict::NotFound`] label: `Not found: …`.
pub const QUOTE_NOT_FOUND: &str = "nothing in the essays matches that quote closely enough.";

/// What follows the verdict of a quote shortened with "…".
pub const ELIDED: &str = "(shortened with “…”)";

/// What precedes the quotation found inside a longer message.
pub const CHECKED: &str = "Checked";

/// The attribution line: "Not Madison: Alexander Hamilton, The Federalist
/// No. 78", "Yes, Madison: James Madison, …", or, when the essay names no
/// author, "Not known to be Madison: …".
pub fn attribution(attribution: &Attribution, title: &str) -> String {
    let named = &attribution.named;
    match (&attribution.author, attribution.correct) {
        (Some(author), Some(false)) => format!("Not {named}: {author}, {title}"),
        (Some(author), _) => format!("Yes, {named}: {author}, {title}"),
        (None, _) => format!("Not known to be {named}: {title} names no author"),
    }
}

/// How close a misquote is, as shown after the [`Verdict::Close`] label.
pub fn similarity(similarity: f32) -> String {
    format!("(similarity {:.0}%)", similarity * 100.0)
}

/// The reply to a question nothing in the essays answers, in a terminal.
///
/// It says the same as [`NO_ANSWER_CHAT`] but for the command that lists
/// the essays; the two first sentences differ only because tests pin each
/// wording (`tests/cli.rs`, `tests/telegram_e2e.rs`).
pub const NO_ANSWER_TERMINAL: &str = "Nothing in the essays answers that. Try other words, or `sources` to see what the corpus covers.";

/// The reply to a question nothing in the essays answers, in Telegram.
pub const NO_ANSWER_CHAT: &str = "Nothing in the essays matches that closely enough. \
     Try other words, or see /sources for what the essays cover.";

// Terminal: the `chat` command's own phrases.

/// What `help` prints in `citebot chat`.
pub const CHAT_HELP: &str = "Ask a question in your own words. Then:
  more      further results
  context   the paragraphs around the top quote
  sources   the essays in the corpus
  cite TEXT check a quotation
  help      this list
  quit      leave (or Ctrl-D)";

/// `more` or `context` before any question.
pub const ASK_FIRST: &str = "Ask a question first.";

/// `more` when every result has been shown.
pub const NO_MORE: &str = "No further results.";
