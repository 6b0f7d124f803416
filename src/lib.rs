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
pub mod config;
pub mod dialog;
pub mod nlu;
pub mod ops;
pub mod server;
pub mod speech;
pub mod telemetry;

use std::sync::Arc;

use channel::Assistant;
use config::{Backend, Config};
use dialog::Dialog;
use ops::Clock;

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the prompts are invalid: {0}")]
    Prompts(#[from] speech::render::PromptError),
    #[error("the conversation model is invalid: {0}")]
    Model(#[from] nlu::ModelError),
    #[error(
        "OPSVOICE_BACKEND=aws is not available in this build yet; unset it to serve the demo fleet"
    )]
    AwsBackendUnavailable,
}

/// Builds the assistant the configuration describes, measuring time with `clock`.
///
/// # Errors
/// Invalid embedded prompts or model (caught by `opsvoice check` and the tests), or a
/// backend this build cannot serve.
pub fn assistant(config: &Config, clock: Arc<dyn Clock>) -> Result<Arc<Assistant>, StartError> {
    let ops: Arc<dyn ops::OpsSource> = match config.backend {
        Backend::Demo => Arc::new(ops::demo::DemoFleet::new(clock.clone())),
        Backend::Aws => return Err(StartError::AwsBackendUnavailable),
    };
    let dialog = Dialog::new(ops, clock);
    let renderer = speech::Renderer::embedded(config.region.clone())?;
    let nlu = nlu::Nlu::embedded()?;
    let mut assistant = Assistant::new(dialog, renderer, nlu);
    if let Some(a) = Arc::get_mut(&mut assistant) {
        a.deadline = config.answer_deadline;
    }
    Ok(assistant)
}
