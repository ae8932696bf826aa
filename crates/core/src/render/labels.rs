//! Labels: the fixed words of citebot's replies, in one place.
//!
//! Every renderer takes its verdict labels and fixed phrases from here, so a
//! verdict reads the same in a terminal, in Telegram and in an inline
//! result.

use crate::answer::{Attribution, Verdict};
use crate::filter::Miss;

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

/// What follows the [`Verdict::NotFound`] label for a quotation too short
/// to place.
pub const QUOTE_TOO_SHORT: &str = "one word, or words like “of the”, occur almost everywhere; send at least two words of the quotation.";

/// What follows the [`Verdict::NotFound`] label for `result`.
pub fn not_found(result: &crate::answer::CiteResult) -> &'static str {
    if result.too_short {
        QUOTE_TOO_SHORT
    } else {
        QUOTE_NOT_FOUND
    }
}

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

/// A question nothing in the essays answers: the first sentence of
/// [`no_answer`], and on its own where a reply must be short (an inline hint).
pub const NO_ANSWER: &str = "Nothing in the essays matches that closely enough.";

/// The reply to a question nothing in the essays answers, in every
/// transport; `sources` is how the reader lists the essays there
/// (`/sources` in Telegram, `sources` in `citebot chat`).
pub fn no_answer(sources: &str) -> String {
    format!("{NO_ANSWER} Try other words, or {sources} to see what the essays cover.")
}

// Filters: asking within an author, an essay, a tag or dates.

/// The operators, one example each, as `/help`, the greeting, `chat`'s
/// help and the README show them.
pub const OPERATORS: &[(&str, &str)] = &[
    (
        "by:madison",
        "only essays by that author (surname, full name or initials)",
    ),
    (
        "in:\"federalist 10\"",
        "only that essay (its title, number or id)",
    ),
    ("tag:liberty", "only essays with that tag"),
    (
        "before:1850",
        "only essays dated before (after:1840, since:, until:)",
    ),
];

/// "A, B or C".
fn one_of(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Why a filter left no essay to ask within, with what is nearest: "No
/// essay by 'Madisen'. Did you mean James Madison?".
pub fn filter_miss(miss: &Miss) -> String {
    let did_you_mean = |nearest: &[String], quoted: bool| {
        if nearest.is_empty() {
            return String::new();
        }
        let names: Vec<String> = if quoted {
            nearest.iter().map(|n| format!("“{n}”")).collect()
        } else {
            nearest.to_vec()
        };
        format!(" Did you mean {}?", one_of(&names))
    };
    match miss {
        Miss::Author { named, nearest } => {
            format!("No essay by '{named}'.{}", did_you_mean(nearest, false))
        }
        Miss::Essay { named, nearest } => {
            format!("No essay is '{named}'.{}", did_you_mean(nearest, true))
        }
        Miss::Tag { named, nearest } if nearest.is_empty() => {
            format!("No essay is tagged '{named}': the essays have no tags.")
        }
        Miss::Tag { named, nearest } => {
            format!(
                "No essay is tagged '{named}'.{}",
                did_you_mean(nearest, false)
            )
        }
        Miss::BadDate { text } => format!(
            "'{text}' is not a date. Write a year (1850), a month (March 1850) or a day (1850-03-02)."
        ),
        Miss::Dates {
            bounds,
            range: None,
        } => {
            format!("No essay dated {bounds}: the essays have no dates.")
        }
        Miss::Dates {
            bounds,
            range: Some((first, last)),
        } => format!("No essay dated {bounds}. The essays are dated from {first} to {last}."),
        Miss::Together { filters } => format!(
            "No essay matches {} together, though each matches some essays alone.",
            filters.join(" and ")
        ),
    }
}

// Terminal: the `chat` command's own phrases.

/// What `help` prints in `citebot chat`.
pub const CHAT_HELP: &str = "Ask a question in your own words. A question right after an answer
follows it up (\"and what about the militia?\"). Then:
  more      further results
  context   the paragraphs around the top quote
  new       start afresh: the next question follows up nothing (filters reset)
  sources   the essays in the corpus
  cite TEXT check a quotation
  help      this list
  quit      leave (or Ctrl-D)
Ask within (for the rest of the session; nothing after a command clears it):
  /author Madison   /essay federalist 10   /tag liberty
  /since 1840   /until 1850   /after 1840   /before 1850   /clear   filters
or put operators in the question: by:madison in:\"federalist 10\" tag:liberty
before:1850 after:1840";

/// `new` in `chat`.
pub const CHAT_NEW: &str = "Starting afresh: the next question follows up nothing.";

/// A `/command` `chat` does not know.
pub const CHAT_UNKNOWN_COMMAND: &str = "Unknown command. Filters: /author, /essay, /tag, /since, /until, /after, /before, /clear; `help` for more.";

/// The session's filters in `chat`, as operators.
pub fn chat_filters(operators: &[String]) -> String {
    if operators.is_empty() {
        "Asking within all the essays.".to_string()
    } else {
        format!("Asking within {}.", operators.join(" "))
    }
}

/// `more` or `context` before any question.
pub const ASK_FIRST: &str = "Ask a question first.";

/// The reply to `cite` with nothing after it, in `chat`.
pub const CITE_WHAT: &str =
    "Put the quotation after `cite`: cite Ambition must be made to counteract ambition";

/// `more` when every result has been shown.
pub const NO_MORE: &str = "No further results.";

// The model: what citebot says when it answers without it.

/// How to get the model, said whenever citebot answers lexically for lack of it.
pub const MODEL_FIX: &str = "To match questions asked in other words than the essays use, \
     run `citebot model fetch` once with network (it downloads \
     sentence-transformers/all-MiniLM-L6-v2, 90 MB, into the Hugging Face cache), \
     or set `model` in config/citebot.toml (or CITEBOT_MODEL) to a folder holding \
     that model's files; `model = \"off\"` answers lexically without this notice.";

/// The fix for one kind of trouble with the model.
pub fn model_fix(cause: &crate::answer::ModelTrouble) -> String {
    use crate::answer::ModelTrouble;
    match cause {
        ModelTrouble::Absent => MODEL_FIX.to_string(),
        ModelTrouble::Damaged { file } => format!(
            "{} is damaged: delete it and run `citebot model fetch` once with network \
             to fetch it again (or set `model` to a folder holding a good copy of the \
             model's files); `model = \"off\"` answers lexically without this notice.",
            file.display()
        ),
        ModelTrouble::Unwritable { folder } => format!(
            "citebot cannot write in {}: it answers lexically until it can write there \
             (free space on that disk, make the folder writable, or give `--index` \
             another folder); nothing needs fetching.",
            folder.display()
        ),
    }
}

/// The one notice for answers given without the model, naming the fix for
/// its cause; `None` when the model is ready, pending or turned off.
pub fn model_notice(state: &crate::answer::ModelState) -> Option<String> {
    match state {
        crate::answer::ModelState::Unavailable { reason, cause } => Some(format!(
            "citebot answers lexically: the sentence-embedding model is unavailable ({reason}). {}",
            model_fix(cause)
        )),
        _ => None,
    }
}

/// The model's state in a few words, for `citebot model`, `index` and `/healthz`.
pub fn model_state(state: &crate::answer::ModelState) -> String {
    use crate::answer::ModelState;
    match state {
        ModelState::Off => "off (lexical retrieval)".to_string(),
        ModelState::Pending { done, total } => format!(
            "vectors for {done} of {total} passages (lexical until all have them; `citebot index` embeds the rest)"
        ),
        ModelState::Unavailable { reason, .. } => {
            format!("unavailable: {reason} (lexical retrieval)")
        }
        ModelState::Ready { model, folder } => {
            format!("{model} in {} (hybrid retrieval)", folder.display())
        }
    }
}
