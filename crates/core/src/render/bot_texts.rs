//! The Telegram bot's own fixed texts: refusals, notices, usage lines, button
//! labels, the greeting and help. Everything else the bot sends is the essays' words.
//!
//! Plain texts are constants (the caller escapes them with
//! [`html::escape`], or sends them as plain
//! button or inline hints); the functions return Telegram HTML.

use crate::render::html::{self, Html, Tag};
use crate::render::labels;

/// To someone outside the access lists (once per chat).
pub const REFUSAL: &str = "Sorry, this bot only answers in the chats it was set up for.";
/// To an inline query from someone outside the access lists.
pub const INLINE_REFUSAL: &str = "This bot is private";
/// The one notice of a rate-limit window.
pub const SLOW_DOWN: &str = "You're sending messages faster than I can answer them. \
     Please wait a minute, then ask again.";
/// The one inline notice of an inline rate-limit window.
pub const INLINE_SLOW_DOWN: &str = "Too many queries: please wait a minute";
/// `/ask` without a question.
pub const ASK_USAGE: &str = "Ask me a question in your own words, e.g. /ask Why does China matter?";
/// `/cite` without a quote.
pub const CITE_USAGE: &str = "Send /cite followed by a quote, or reply to a message with /cite \
     to check the quote in it.";
/// `/reload` from someone who is not an admin.
pub const NOT_ADMIN: &str = "Sorry, only the bot's admins can reload the corpus.";
/// `/add` from someone who is not an admin.
pub const NOT_ADMIN_ADD: &str = "Sorry, only the bot's admins can add essays.";
/// `/add` in a group.
pub const ADD_PRIVATE_ONLY: &str =
    "Essays are added in a private chat with me: send the document there with the caption /add.";
/// `/add` with nothing to add.
pub const ADD_USAGE: &str = "To add an essay, send me the document (a web page, EPUB, PDF, DOCX, \
     .txt or .md file) with the caption /add, reply /add to a document, or send /add with a link.";
/// **More** under an answer whose question was deleted.
pub const NO_QUESTION: &str = "I can't see the question any more. Please ask it again.";
/// **More** past the last result.
pub const NO_MORE: &str = "No further results.";
/// A button or deep link to a passage the corpus no longer has.
pub const PASSAGE_GONE: &str = "That passage is no longer in the essays.";
/// A button on a message Telegram no longer shows the bot.
pub const MESSAGE_TOO_OLD: &str = "This message is too old.";
/// A button whose data the bot does not understand.
pub const BUTTON_GONE: &str = "This button no longer works.";
/// When a handler failed.
pub const APOLOGY: &str =
    "Sorry, something went wrong while answering that. Please try again in a moment.";
/// The inline hint when a handler failed.
pub const INLINE_APOLOGY: &str = "Sorry, something went wrong";
/// The inline hint for an empty query.
pub const INLINE_HINT: &str = "Type a question, or cite: and a quote";
/// The inline hint for `cite:` without a quote.
pub const INLINE_CITE_HINT: &str = "Type a quote after cite:";

/// The button under an answer that shows the paragraphs around a quote.
pub const CONTEXT_BUTTON: &str = "Context";
/// The button that copies a ready-made citation line.
pub const COPY_CITATION_BUTTON: &str = "Copy citation";
/// The button under a full page of results that shows the next page.
pub const MORE_BUTTON: &str = "More";

/// `/unknown`: the command is named back, escaped.
pub fn unknown_command(name: &str) -> String {
    html::escape(&format!(
        "I don't know /{name}. See /help for what I can do."
    ))
}

/// What `/reload` did.
pub fn reloaded(
    essays: usize,
    passages: usize,
    (added, changed, removed): (usize, usize, usize),
    seconds: f64,
) -> String {
    html::escape(&format!(
        "Reloaded: {essays} essays, {passages} passages \
         ({added} added, {changed} changed, {removed} removed) in {seconds:.2} s."
    ))
}

/// Why `/reload` failed.
pub fn reload_failed(error: &str) -> String {
    html::escape(&format!(
        "Reload failed ({error}); still serving the previous corpus."
    ))
}

/// What `/add` wrote for one essay: its title, author, paragraphs and
/// file, then its warnings (each on a line).
pub fn added(
    updated: bool,
    title: &str,
    author: Option<&str>,
    paragraphs: usize,
    file: &str,
    warnings: &[String],
) -> String {
    let verb = if updated { "Updated" } else { "Added" };
    let by = author.map(|a| format!(" by {a}")).unwrap_or_default();
    let mut text = format!("{verb} “{title}”{by}: {paragraphs} paragraphs ({file}).");
    for warning in warnings {
        text.push_str(&format!("\nNote: {warning}."));
    }
    html::escape(&text)
}

/// Why `/add` wrote nothing.
pub fn add_failed(error: &str) -> String {
    html::escape(&format!("Nothing was added: {error}"))
}

/// A document larger than `/add` takes.
pub fn add_too_big(name: &str, size: u64, max: u64) -> String {
    html::escape(&format!(
        "Nothing was added: {name} is {size} bytes, more than telegram.add_max_bytes = {max}."
    ))
}

/// The greeting, with example questions (and an optional note first).
pub fn greeting(examples: &[String], note: Option<&str>) -> String {
    let mut html = Html::new(html::MAX_MESSAGE_LEN);
    if let Some(note) = note {
        html.text(note).text("\n\n");
    }
    html.tagged(Tag::Bold, "Hello!").text(
        " I answer questions with quotes from a library of essays: their own words, \
         each with its author, title, paragraph and a link to the spot. \
         I never write answers myself.",
    );
    if !examples.is_empty() {
        html.text("\n\nTry asking:");
        for example in examples {
            html.text("\n• ").text(example);
        }
    }
    html.text("\n\nAsk within an author, an essay or dates: ");
    operator_examples(&mut html);
    html.text("\n\nReply to an answer to follow it up.");
    html.text("\n\n/cite checks a quote, /sources lists the essays, /help tells more.");
    html.finish()
}

/// The operators, each as code with its example: `by:madison`, ….
fn operator_examples(html: &mut Html) {
    for (i, (example, _)) in labels::OPERATORS.iter().enumerate() {
        if i > 0 {
            html.text(", ");
        }
        html.tagged(Tag::Code, example);
    }
    html.text(".");
}

/// How to use the bot `me` (its username).
pub fn help(me: &str) -> String {
    let mut html = Html::new(html::MAX_MESSAGE_LEN);
    html.tagged(Tag::Bold, "How to use me").text(
        "\n• Ask a question in your own words. In a group, use /ask, mention me, \
         or reply to one of my messages.\
         \n• Under an answer, More shows further results, Context the paragraphs \
         around a quote, and Copy citation copies a ready-made citation.\
         \n• /cite and a quote checks it: exact, close (with the differences) or not found. \
         In a group, reply to a message with /cite to check the quote in it.\
         \n• /sources lists the essays.\
         \n• Reply to one of my answers to follow it up (\"and what about the militia?\"); \
         quote part of it to ask about those words.\
         \n• Ask within an author, an essay or dates by putting these in the question \
         (also inline):",
    );
    for (example, meaning) in labels::OPERATORS {
        html.text("\n   ")
            .tagged(Tag::Code, example)
            .text(" ")
            .text(meaning);
    }
    html.text(&format!(
        "\n• In any chat, type @{me} and a question, or @{me} cite: and a quote."
    ));
    html.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_texts_are_escaped_and_fit() {
        let examples = vec!["Why <this> & that?".to_string()];
        let greeting = greeting(&examples, Some("a <note>"));
        assert!(greeting.contains("&lt;this&gt; &amp; that?"), "{greeting}");
        assert!(greeting.starts_with("a &lt;note&gt;"), "{greeting}");
        assert!(help("bot").contains("@bot cite:"));
        assert_eq!(
            unknown_command("<b>"),
            "I don't know /&lt;b&gt;. See /help for what I can do."
        );
        assert!(reload_failed("a <b>").contains("a &lt;b&gt;"));
        for text in [greeting, help("bot"), reloaded(2, 30, (1, 0, 0), 0.5)] {
            assert!(html::utf16_len(&text) < html::MAX_MESSAGE_LEN);
        }
        for hint in [
            INLINE_REFUSAL,
            INLINE_SLOW_DOWN,
            INLINE_HINT,
            crate::render::labels::NO_ANSWER,
        ] {
            assert!(hint.chars().count() <= 64, "inline button texts are short");
        }
    }
}
