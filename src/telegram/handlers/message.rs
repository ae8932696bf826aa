//! Messages: questions and commands, once the guard has let them through.

use std::sync::Arc;

use teloxide::types::{Document, Message};

use super::{App, Asked, Handled, HandlerError, clip};
use crate::telegram::api::Reply;
use crate::telegram::buttons::{copy_keyboard, keyboard};
use crate::telegram::commands::{Command, Request};
use citebot_core::answer::Verdict;
use citebot_core::ingest;
use citebot_core::render::{bot_texts, html, labels};

/// Answers a message for the bot.
pub(super) async fn handle(app: Arc<App>, message: Message, asked: Asked) -> Handled {
    let text = message.text().or_else(|| message.caption()).unwrap_or("");
    tracing::debug!(update_chat = message.chat.id.0, text, "message");
    let Some(request) = asked.request else {
        return Ok("ignored: not addressed");
    };
    match request {
        Request::Question(q) | Request::Command(Command::Ask(q)) => {
            answer(&app, &message, &q).await
        }
        Request::Command(Command::Start(payload)) => start(&app, &message, &payload).await,
        Request::Command(Command::Help) => {
            app.reply(&message, bot_texts::help(app.me.username()))
                .await?;
            Ok("help")
        }
        Request::Command(Command::Sources) => {
            let sources = app.with_engine(|l| l.engine.sources()).await?;
            app.reply(&message, html::sources(&sources)).await?;
            Ok("sources")
        }
        Request::Command(Command::Reload) => reload(&app, &message, asked.asker.user.0).await,
        Request::Command(Command::Cite(quote)) => cite(&app, &message, &quote).await,
        Request::Command(Command::Add(argument)) => {
            add(&app, &message, asked.asker.user.0, &argument).await
        }
        Request::Unknown(name) => {
            app.reply(&message, bot_texts::unknown_command(&name))
                .await?;
            Ok("unknown command")
        }
        Request::NotForUs => Ok("ignored: not addressed"),
    }
}

/// Answers a question with the best excerpts, or says nothing matches.
async fn answer(app: &App, message: &Message, question: &str) -> Handled {
    let question = clip(question);
    if question.is_empty() {
        app.reply(message, html::escape(bot_texts::ASK_USAGE))
            .await?;
        return Ok("asked how to ask");
    }
    let per = app.per_answer(message.chat.is_private());
    let options = app.ask_options(message);
    let follow_up = options.context.is_some();
    let answer = app
        .with_engine(move |l| l.engine.ask_text(&question, per, &options))
        .await??;
    if let Some(miss) = &answer.filters.miss {
        app.reply(message, html::escape(&labels::filter_miss(miss)))
            .await?;
        return Ok("filter matched nothing");
    }
    if !answer.answered {
        app.metrics.abstentions.inc();
        app.reply(message, html::escape(&labels::no_answer("/sources")))
            .await?;
        return Ok("abstained");
    }
    let reply = Reply::to(message.chat.id, message.id, html::answer(&answer.hits))
        .with_keyboard(Some(keyboard(&answer.hits, 0, per)));
    app.send(reply).await?;
    app.metrics.answers.inc();
    Ok(if follow_up {
        "answered a follow-up"
    } else {
        "answered"
    })
}

/// `/start`: a greeting, help, or a deep-linked passage.
async fn start(app: &App, message: &Message, payload: &str) -> Handled {
    match payload {
        "help" => {
            app.reply(message, bot_texts::help(app.me.username()))
                .await?;
            Ok("help")
        }
        "" => {
            let examples = app.with_engine(|l| l.examples.clone()).await?;
            app.reply(message, bot_texts::greeting(&examples, None))
                .await?;
            Ok("greeted")
        }
        id => {
            let id = id.to_string();
            let found = app
                .with_engine(move |l| (l.engine.passage(&id), l.examples.clone()))
                .await?;
            match found {
                (Some(view), _) => {
                    let reply = Reply::to(message.chat.id, message.id, html::context(&view))
                        .with_keyboard(Some(copy_keyboard(&view.citation)));
                    app.send(reply).await?;
                    Ok("deep link")
                }
                (None, examples) => {
                    let note = Some(bot_texts::PASSAGE_GONE);
                    app.reply(message, bot_texts::greeting(&examples, note))
                        .await?;
                    Ok("deep link: unknown passage")
                }
            }
        }
    }
}

/// `/reload`: re-reads the corpus and swaps the engine (admins only).
async fn reload(app: &Arc<App>, message: &Message, user: u64) -> Handled {
    if !app.config.admins.contains(&user) {
        app.reply(message, html::escape(bot_texts::NOT_ADMIN))
            .await?;
        return Ok("reload refused: not an admin");
    }
    let (text, reloaded) = reloaded(app).await?;
    app.reply(message, text).await?;
    Ok(if reloaded {
        "reloaded"
    } else {
        "reload failed"
    })
}

/// Re-reads the corpus on the blocking pool: what to tell the admin, and
/// whether the new engine is in place.
async fn reloaded(app: &Arc<App>) -> Result<(String, bool), HandlerError> {
    let library = app.clone();
    Ok(
        match tokio::task::spawn_blocking(move || library.library.reload()).await? {
            Ok(report) => {
                let sync = &report.sync;
                let counts = (sync.added, sync.changed, sync.removed);
                let text =
                    bot_texts::reloaded(report.essays, report.passages, counts, report.seconds);
                (text, true)
            }
            Err(error) => {
                tracing::error!(%error, "reload failed");
                (bot_texts::reload_failed(&error.to_string()), false)
            }
        },
    )
}

/// `/add`: adds the document sent with the command or replied to, or the
/// page at the URL given, to the corpus, then reloads (admins only, in a
/// private chat). The same ingest, rules and limits as `citebot add`.
async fn add(app: &Arc<App>, message: &Message, user: u64, argument: &str) -> Handled {
    if !message.chat.is_private() {
        app.reply(message, html::escape(bot_texts::ADD_PRIVATE_ONLY))
            .await?;
        return Ok("add refused: not a private chat");
    }
    if !app.config.admins.contains(&user) {
        app.reply(message, html::escape(bot_texts::NOT_ADMIN_ADD))
            .await?;
        return Ok("add refused: not an admin");
    }
    let document = message
        .document()
        .or_else(|| message.reply_to_message().and_then(Message::document));
    let options = app.adding.clone();
    let lower = argument.to_ascii_lowercase();
    let result = if lower.starts_with("https://") || lower.starts_with("http://") {
        let url = argument.to_string();
        tokio::task::spawn_blocking(move || ingest::add_source(&url, &options)).await?
    } else if let Some(document) = document {
        let name = document_name(document);
        let bytes = match download(app, document, &name).await? {
            Ok(bytes) => bytes,
            Err(refusal) => {
                app.reply(message, refusal).await?;
                return Ok("add refused: the document");
            }
        };
        tokio::task::spawn_blocking(move || ingest::add_bytes(&name, &bytes, &options)).await?
    } else {
        app.reply(message, html::escape(bot_texts::ADD_USAGE))
            .await?;
        return Ok("asked how to add");
    };
    let added = match result {
        Ok(added) => added,
        Err(error) => {
            app.reply(message, bot_texts::add_failed(&error.to_string()))
                .await?;
            return Ok("add failed");
        }
    };
    let mut text: Vec<String> = added
        .iter()
        .map(|a| {
            let file = a.path.file_name().unwrap_or_default().to_string_lossy();
            bot_texts::added(
                a.updated,
                a.meta.title.as_deref().unwrap_or_default(),
                a.meta.author.as_deref(),
                a.paragraphs,
                &file,
                &a.warnings,
            )
        })
        .collect();
    text.push(reloaded(app).await?.0);
    app.reply(message, text.join("\n\n")).await?;
    Ok("added")
}

/// The document's bytes, within `telegram.add_max_bytes` (checked against
/// the size Telegram declares, then while downloading), or what to tell
/// the sender.
async fn download(
    app: &App,
    document: &Document,
    name: &str,
) -> Result<Result<Vec<u8>, String>, HandlerError> {
    let max = app.config.add_max_bytes;
    let declared = u64::from(document.file.size);
    if declared > max {
        return Ok(Err(bot_texts::add_too_big(name, declared, max)));
    }
    let file = match app.api.get_file(&document.file.id).await {
        Ok(file) if u64::from(file.size) > max => {
            return Ok(Err(bot_texts::add_too_big(name, file.size.into(), max)));
        }
        Ok(file) => file,
        Err(failure) => {
            tracing::warn!(error = %failure, "getFile failed");
            let why = format!(
                "{name}: Telegram did not give the file ({})",
                failure.message
            );
            return Ok(Err(bot_texts::add_failed(&why)));
        }
    };
    Ok(match app.api.download(&file.path, max).await {
        Ok(bytes) => Ok(bytes),
        Err(failure) => {
            tracing::warn!(error = %failure, "download failed");
            let why = format!("{name}: the download failed ({})", failure.message);
            Err(bot_texts::add_failed(&why))
        }
    })
}

/// The document's file name, which says what kind it is; without one, a
/// name made from its media type.
fn document_name(document: &Document) -> String {
    if let Some(name) = document
        .file_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        return name.to_string();
    }
    let kind = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string());
    let extension = match kind.as_deref() {
        Some("application/pdf") => "pdf",
        Some("application/epub+zip") => "epub",
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document") => "docx",
        Some("text/html" | "application/xhtml+xml") => "html",
        Some("text/markdown") => "md",
        Some("text/plain") => "txt",
        _ => "bin",
    };
    format!("document.{extension}")
}

/// `/cite`: checks a quote, given or in the message replied to.
async fn cite(app: &App, message: &Message, argument: &str) -> Handled {
    let quote = if argument.is_empty() {
        message
            .reply_to_message()
            .and_then(|r| r.text().or_else(|| r.caption()))
            .unwrap_or("")
    } else {
        argument
    };
    let quote = clip(quote);
    if quote.is_empty() {
        app.reply(message, html::escape(bot_texts::CITE_USAGE))
            .await?;
        return Ok("asked how to cite");
    }
    let result = app.with_engine(move |l| l.engine.cite(&quote)).await??;
    let keyboard = result.found.as_ref().map(|m| copy_keyboard(&m.citation));
    let reply = Reply::to(message.chat.id, message.id, html::cite(&result)).with_keyboard(keyboard);
    app.send(reply).await?;
    Ok(match result.verdict {
        Verdict::Exact => "cited: exact",
        Verdict::Close => "cited: close",
        Verdict::NotFound => "cited: not found",
    })
}
