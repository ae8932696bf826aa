//! Commands and addressing: what a message asks of the bot, if anything.
//!
//! In a private chat every text is for the bot: a command, or else a
//! question. In a group the bot keeps quiet unless addressed: a command (bare
//! or `@`-addressed to this bot, never to another), a message mentioning
//! `@botname`, or a reply to one of the bot's own messages.

use teloxide::types::BotCommand;

/// A command the bot understands, with its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `/start [payload]`: a greeting, or a deep link to a passage.
    Start(String),
    /// `/help`.
    Help,
    /// `/ask <question>`.
    Ask(String),
    /// `/sources`.
    Sources,
    /// `/reload` (admins only).
    Reload,
    /// `/cite <quote>`, or `/cite` in reply to a message.
    Cite(String),
    /// `/add` with a document, in reply to one, or `/add <URL>` (admins only).
    Add(String),
}

/// What a message means to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// One of the bot's commands.
    Command(Command),
    /// A question in plain words.
    Question(String),
    /// A command addressed to this bot that it does not know.
    Unknown(String),
    /// Not for this bot.
    NotForUs,
}

/// The commands as shown in Telegram's command menu.
pub(crate) fn menu() -> Vec<BotCommand> {
    [
        (
            "ask",
            "Ask a question; the answer is quoted from the essays",
        ),
        (
            "cite",
            "Check a quote: where it comes from, and is it exact?",
        ),
        ("sources", "List the essays"),
        ("help", "How to use this bot"),
        ("start", "Start, with example questions"),
    ]
    .into_iter()
    .map(|(command, description)| BotCommand::new(command, description))
    .collect()
}

/// Reads `text` sent in a chat (`private` or not) to the bot `me`
/// (username without `@`); `reply_to_bot` says whether it replies to one of
/// the bot's messages.
pub(crate) fn parse(text: &str, me: &str, private: bool, reply_to_bot: bool) -> Request {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('/') {
        let (word, argument) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(w, a)| (w, a.trim()));
        let (name, target) = match word.split_once('@') {
            Some((name, target)) => (name, Some(target)),
            None => (word, None),
        };
        if target.is_some_and(|t| !t.eq_ignore_ascii_case(me)) {
            return Request::NotForUs;
        }
        let command = match name.to_ascii_lowercase().as_str() {
            "start" => Command::Start(argument.to_string()),
            "help" => Command::Help,
            "ask" => Command::Ask(argument.to_string()),
            "sources" => Command::Sources,
            "reload" => Command::Reload,
            "cite" => Command::Cite(argument.to_string()),
            "add" => Command::Add(argument.to_string()),
            _ if private || target.is_some() => return Request::Unknown(name.to_string()),
            // A bare unknown command in a group is some other bot's.
            _ => return Request::NotForUs,
        };
        return Request::Command(command);
    }
    if private {
        return Request::Question(text.to_string());
    }
    match without_mention(text, me) {
        Some(question) => Request::Question(question),
        None if reply_to_bot => Request::Question(text.to_string()),
        None => Request::NotForUs,
    }
}

/// The question of a message the bot answered (for **More**): what
/// [`parse`] saw, or the whole text when it no longer says it is for us.
pub(crate) fn question_of(text: &str, me: &str, private: bool) -> Option<String> {
    match parse(text, me, private, true) {
        Request::Command(Command::Ask(q)) | Request::Question(q) => Some(q),
        Request::NotForUs => Some(text.trim().to_string()),
        _ => None,
    }
    .filter(|q| !q.is_empty())
}

/// `text` with every `@me` mention removed, if it has one.
fn without_mention(text: &str, me: &str) -> Option<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // ASCII lower-casing keeps byte offsets, and usernames are ASCII.
    let lower = text.to_ascii_lowercase();
    let needle = format!("@{}", me.to_ascii_lowercase());
    if me.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut at = 0;
    let mut found = false;
    while let Some(i) = lower[at..].find(&needle).map(|i| at + i) {
        let end = i + needle.len();
        let before_ok = !text[..i].chars().next_back().is_some_and(is_name);
        let after_ok = !text[end..].chars().next().is_some_and(is_name);
        out.push_str(&text[at..i]);
        if before_ok && after_ok {
            found = true;
        } else {
            out.push_str(&text[i..end]);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    found.then(|| {
        out.trim_matches(|c: char| c.is_whitespace() || c == ',' || c == ':')
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "citebot_test_bot";

    #[test]
    fn commands_for_us_and_others() {
        assert_eq!(
            parse("/ask  Why China? ", ME, false, false),
            Request::Command(Command::Ask("Why China?".into()))
        );
        assert_eq!(
            parse("/ask@CiteBot_Test_Bot why", ME, false, false),
            Request::Command(Command::Ask("why".into()))
        );
        assert_eq!(
            parse("/ask@otherbot why", ME, false, false),
            Request::NotForUs
        );
        assert_eq!(
            parse("/ask@otherbot why", ME, true, false),
            Request::NotForUs
        );
        assert_eq!(parse("/weather", ME, false, false), Request::NotForUs);
        assert_eq!(
            parse("/weather", ME, true, false),
            Request::Unknown("weather".into())
        );
        assert_eq!(
            parse("/start essay_3-2", ME, true, false),
            Request::Command(Command::Start("essay_3-2".into()))
        );
        assert_eq!(parse("/", ME, true, false), Request::Unknown(String::new()));
    }

    #[test]
    fn groups_need_addressing() {
        assert_eq!(parse("why China?", ME, false, false), Request::NotForUs);
        assert_eq!(
            parse("why China?", ME, false, true),
            Request::Question("why China?".into())
        );
        assert_eq!(
            parse("@citebot_test_bot, why China?", ME, false, false),
            Request::Question("why China?".into())
        );
        assert_eq!(
            parse("hey @citebot_test_bot2 why", ME, false, false),
            Request::NotForUs
        );
        assert_eq!(
            parse("why China?", ME, true, false),
            Request::Question("why China?".into())
        );
    }

    #[test]
    fn mentions_in_odd_text() {
        assert_eq!(
            without_mention("İ @CITEBOT_test_bot", ME),
            Some("İ".to_string())
        );
        assert_eq!(
            without_mention("@citebot_test_bot", ME),
            Some(String::new())
        );
        assert_eq!(without_mention("mail@citebot_test_bot", ME), None);
    }

    #[test]
    fn question_of_an_answered_message() {
        assert_eq!(
            question_of("/ask@citebot_test_bot why", ME, false).as_deref(),
            Some("why")
        );
        assert_eq!(
            question_of("plain words", ME, false).as_deref(),
            Some("plain words")
        );
        assert_eq!(question_of("/sources", ME, true), None);
    }

    #[test]
    fn menu_is_valid_for_telegram() {
        for c in menu() {
            assert!(c.command.chars().all(|c| c.is_ascii_lowercase()));
            assert!((1..=256).contains(&c.description.chars().count()));
        }
    }
}
