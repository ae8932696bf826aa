//! Render: answers as terminal text, Telegram HTML or JSON.
//!
//! Rendering is pure: it takes the engine's values ([`crate::model`]) and
//! returns strings. The fixed words all renderers share are in [`labels`].

pub mod bot_texts;
pub mod html;
pub mod json;
pub mod labels;
pub mod text;
