//! HTML: messages for Telegram's HTML parse mode.
//!
//! Messages are built with [`Html`] (`builder.rs`), which escapes every piece
//! of text, closes every tag it opens and counts what the reader will see the
//! way Telegram does (UTF-16 code units), trimming text with "…" to stay
//! within a limit. So whatever the corpus or a user wrote, every message
//! laid out in `messages.rs` parses with Telegram's HTML parser and fits in
//! [`MAX_MESSAGE_LEN`].
//!
//! Escaping is our own, not a crate's: Telegram knows only the entities
//! `&lt;`, `&gt;`, `&amp;` and `&quot;`, and the escaping crates at hand also
//! encode `'` (and more), which would change every message with an apostrophe.
//!
//! Everything is pure: the functions take the engine's values and return
//! strings.

mod builder;
mod messages;

pub use builder::{Html, Tag, escape, utf16_len};
pub use messages::{
    MAX_COPY_TEXT_LEN, MAX_MESSAGE_LEN, answer, citation, cite, context, copy_line, hit, sources,
    summary,
};
