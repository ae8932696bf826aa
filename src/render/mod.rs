//! Render: answers as terminal text, Telegram HTML or JSON.
//!
//! Rendering is pure: it takes the engine's values and returns strings.

pub mod bot_texts;
pub mod html;
pub mod json;
pub mod text;
