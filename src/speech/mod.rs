//! Words: the prompts and the formatting every answer shares, Polly-ready SSML for voice and
//! plain text (with cards and buttons) for chat, and audio from Polly. Sentences live in
//! `prompts/`, not here.

pub mod polly;
pub mod render;
pub mod ssml;

pub use render::{Forms, Rendered, Renderer};
pub use ssml::{Engine, Ssml, SsmlBuilder};
