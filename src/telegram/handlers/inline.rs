//! Inline mode: `@bot words` offers excerpts to send; `@bot cite: quote`
//! checks a quotation.

use std::sync::Arc;

use teloxide::types::{
    InlineQuery, InlineQueryResult, InlineQueryResultArticle, InputMessageContent,
    InputMessageContentText, ParseMode,
};

use super::{App, Handled, clip};
use crate::telegram::api::no_preview;
use crate::telegram::guard::hint_button;
use citebot_core::answer::Verdict;
use citebot_core::render::{bot_texts, html, labels};

/// Longest inline result description, in characters.
const MAX_DESCRIPTION: usize = 200;
/// Longest inline result title, in characters.
const MAX_TITLE: usize = 64;

/// Answers an inline query.
pub(super) async fn handle(app: Arc<App>, query: InlineQuery) -> Handled {
    let text = query.query.trim();
    tracing::debug!(text, "inline query");
    let personal = app.guard.is_restricted();
    let answer = |results: Vec<InlineQueryResult>, hint: Option<&str>| {
        app.api
            .answer_inline(&query.id, results, hint.map(hint_button), personal)
    };
    if text.is_empty() {
        answer(Vec::new(), Some(bot_texts::INLINE_HINT)).await?;
        return Ok("inline: hint");
    }
    if let Some(quote) = strip_prefix_ignore_case(text, "cite:") {
        let quote = clip(quote);
        if quote.is_empty() {
            answer(Vec::new(), Some(bot_texts::INLINE_CITE_HINT)).await?;
            return Ok("inline cite: hint");
        }
        let result = app.with_engine(move |l| l.engine.cite(&quote)).await??;
        let (verdict, description) = match &result.found {
            Some(m) if result.verdict != Verdict::NotFound => (result.verdict, m.citation.line()),
            _ => (Verdict::NotFound, capitalized(labels::not_found(&result))),
        };
        let (symbol, name) = labels::verdict(verdict);
        let title = format!("{symbol} {name}");
        let article = article("cite", &title, &description, html::cite(&result));
        answer(vec![article], None).await?;
        return Ok("inline cite");
    }
    let question = clip(text);
    let limit = app
        .config
        .inline_results
        .clamp(1, citebot_core::config::MAX_INLINE_RESULTS);
    let options = citebot_core::engine::Ask {
        filters: app.filters.clone(),
        ..citebot_core::engine::Ask::default()
    };
    let found = app
        .with_engine(move |l| l.engine.ask_text(&question, limit, &options))
        .await??;
    if let Some(miss) = &found.filters.miss {
        app.metrics.abstentions.inc();
        answer(Vec::new(), Some(&labels::filter_miss(miss))).await?;
        return Ok("inline: filter matched nothing");
    }
    if !found.answered {
        app.metrics.abstentions.inc();
        answer(Vec::new(), Some(labels::NO_ANSWER)).await?;
        return Ok("inline: abstained");
    }
    let results = found
        .hits
        .iter()
        .map(|hit| {
            article(
                &hit.passage.id,
                &html::summary(hit, MAX_TITLE),
                &hit.citation.line(),
                html::answer(std::slice::from_ref(hit)),
            )
        })
        .collect();
    answer(results, None).await?;
    app.metrics.answers.inc();
    Ok("inline: answered")
}

/// An inline result that sends `html`.
fn article(id: &str, title: &str, description: &str, html: String) -> InlineQueryResult {
    let content = InputMessageContentText::new(html)
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview());
    let description: String = description.chars().take(MAX_DESCRIPTION).collect();
    InlineQueryResult::Article(
        InlineQueryResultArticle::new(id, title, InputMessageContent::Text(content))
            .description(description),
    )
}

/// `text` with its first letter in upper case (a phrase made a sentence).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_prefix() {
        assert_eq!(
            strip_prefix_ignore_case("CITE: words", "cite:"),
            Some(" words")
        );
        assert_eq!(strip_prefix_ignore_case("cit", "cite:"), None);
        assert_eq!(strip_prefix_ignore_case("citë: x", "cite:"), None);
        assert_eq!(capitalized("nothing here."), "Nothing here.");
        assert_eq!(capitalized(""), "");
    }
}
