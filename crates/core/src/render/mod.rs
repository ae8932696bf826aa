//! Render: answers as terminal text, Telegram HTML or JSON.
//!
//! Rendering is pure: it takes the engine's values ([`crate::answer`]) and
//! returns strings. The fixed words all renderers share are in [`labels`];
//! the Telegram bot's own (refusals, notices, usage lines) in [`bot_texts`].

pub mod bot_texts;
pub mod html;
pub mod json;
pub mod labels;
pub mod text;
