//! opsvoice: a voice and chat ops assistant.
//!
//! Lex V2 code-hook events, Alexa requests and plain `/v1/ask` questions are turned into
//! channel-neutral turns, answered from live (or demo) ECS and CloudWatch data, and spoken
//! back as Polly-ready SSML or written as chat text.
//!
//! The crate, in the order a request flows through it:
//! - [`channel`]: wire formats in and out (`lex`, `ask`), building a [`dialog::Turn`].
//! - [`nlu`]: the local utterance matcher for text that did not come through Lex.
//! - [`dialog`]: one handler per intent, `Turn -> Answer`, with session memory.
//! - [`ops`]: the [`ops::OpsSource`] trait and its implementations (the demo fleet).
//! - [`speech`]: Fluent prompts and the escaping SSML builder.
//! - [`server`]: the axum router, middleware, `/healthz`, `/readyz`, `/metrics`.
//! - [`config`] and [`telemetry`]: settings and logs, loaded once at start.

pub mod channel;
pub mod dialog;
pub mod nlu;
pub mod ops;
pub mod speech;
