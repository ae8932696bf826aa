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

/// What follows the [`Verdict::NotFound`] label for a quotation too short
/// to place.
pub const QUOTE_TOO_SHORT: &str = "one word, or words like “of the”, occur almost everywhere; send at least two words of the quotation.";

/// What follows the [`Verdict::NotFound`] label for `result`.
pub fn not_found(result: &crate::model::CiteResult) -> &'static str {
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
pub fn model_fix(cause: &crate::model::ModelTrouble) -> String {
    use crate::model::ModelTrouble;
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
pub fn model_notice(state: &crate::model::ModelState) -> Option<String> {
    match state {
        crate::model::ModelState::Unavailable { reason, cause } => Some(format!(
            "citebot answers lexically: the sentence-embedding model is unavailable ({reason}). {}",
            model_fix(cause)
        )),
        _ => None,
    }
}

/// The model's state in a few words, for `citebot model`, `index` and `/healthz`.
pub fn model_state(state: &crate::model::ModelState) -> String {
    use crate::model::ModelState;
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
