//! Button presses: **More** and **Context**. Every press is answered, with a
//! short notice when there is nothing to show.

use std::sync::Arc;

use teloxide::types::{CallbackQuery, Message};

use super::{App, Handled, HandlerError, clip};
use crate::telegram::api::Reply;
use crate::telegram::buttons::{Button, MAX_PAGES, copy_keyboard, keyboard};
use crate::telegram::commands;
use citebot_core::answer::Hit;
use citebot_core::render::{bot_texts, html};

/// What a press did (for the log) and the notice to show, if any.
type Pressed = Result<(&'static str, Option<&'static str>), HandlerError>;

/// Handles a button press and always answers the callback query.
pub(super) async fn handle(app: Arc<App>, query: CallbackQuery) -> Handled {
    let (action, notice) = press(&app, &query).await?;
    app.api.answer_callback(&query.id, notice).await?;
    Ok(action)
}

async fn press(app: &App, query: &CallbackQuery) -> Pressed {
    let Some(message) = query.message.as_ref().and_then(|m| m.regular_message()) else {
        return Ok(("button: message too old", Some(bot_texts::MESSAGE_TOO_OLD)));
    };
    match query.data.as_deref().and_then(Button::parse) {
        Some(Button::More(page)) => more(app, message, page).await,
        Some(Button::Context(id)) => context(app, message, id).await,
        None => Ok(("button: unknown", Some(bot_texts::BUTTON_GONE))),
    }
}

/// **More**: the next page of results for the question `answer` replies to.
async fn more(app: &App, answer: &Message, page: usize) -> Pressed {
    let private = answer.chat.is_private();
    let question = answer.reply_to_message().and_then(|q| {
        let text = q.text().or_else(|| q.caption())?;
        Some((
            q.id,
            commands::question_of(text, app.me.username(), private)?,
        ))
    });
    let Some((question_id, question)) = question else {
        return Ok(("more: question gone", Some(bot_texts::NO_QUESTION)));
    };
    let question = clip(&question);
    let per = app.per_answer(private);
    let page = page.min(MAX_PAGES - 1);
    // The filters are in the question; the follow-up context, if any, was
    // in the message it replied to, which Telegram does not nest this deep.
    let options = citebot_core::engine::Ask {
        filters: app.filters.clone(),
        ..citebot_core::engine::Ask::default()
    };
    let found = app
        .with_engine(move |l| l.engine.ask_text(&question, per * (page + 1), &options))
        .await??;
    let hits: Vec<Hit> = found.hits.into_iter().skip(per * page).collect();
    if hits.is_empty() {
        return Ok(("more: no more", Some(bot_texts::NO_MORE)));
    }
    let reply = Reply::to(answer.chat.id, question_id, html::answer(&hits))
        .with_keyboard(Some(keyboard(&hits, page, per)));
    app.send(reply).await?;
    app.metrics.answers.inc();
    Ok(("more", None))
}

/// **Context**: the paragraphs around passage `id`.
async fn context(app: &App, answer: &Message, id: String) -> Pressed {
    let Some(view) = app.with_engine(move |l| l.engine.passage(&id)).await? else {
        return Ok(("context: passage gone", Some(bot_texts::PASSAGE_GONE)));
    };
    let reply = Reply::to(answer.chat.id, answer.id, html::context(&view))
        .with_keyboard(Some(copy_keyboard(&view.citation)));
    app.send(reply).await?;
    Ok(("context", None))
}
