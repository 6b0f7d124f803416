//! opsvoice: a voice and chat ops assistant.
//!
//! Lex V2 code-hook events, Alexa requests and plain `/v1/ask` questions are turned into
//! channel-neutral turns, answered from live (or demo) ECS and CloudWatch data, and spoken
//! back as Polly-ready SSML or written as chat text.
//!
//! The crate in layers, lowest first. A module uses only modules of lower layers (a test,
//! `tests/it/layers.rs`, holds this map and fails on an import that points up or sideways):
//! 1. Leaves: [`clock`] (injected time), [`error`] (cause chains for logs), [`embedded`]
//!    (the `intents/` and `prompts/` files, found by directory at build time), [`vocab`]
//!    (the [`vocab::Intent`] and [`vocab::Slot`] names shared with Lex, Alexa and
//!    `intents/`).
//! 2. [`config`] (settings, loaded once; the only reader of the environment), [`aws`]
//!    (the SDK set-up every client shares) and [`http`] (the one error shape of every
//!    route, and reading a request body within its limits).
//! 3. [`telemetry`] (logs and metrics), [`ops`] (the [`ops::OpsSource`] trait, the demo
//!    fleet, AWS and the cache) and [`store`] (records shared by every instance: DynamoDB
//!    or an embedded SQLite file, and the cipher for secrets at rest).
//! 4. [`auth`] (Cognito tokens into principals, Slack account links, and the group
//!    policy), [`speech`]
//!    (Fluent prompts and the words every answer shares, the escaping SSML builder, Polly)
//!    and [`eventlog`] (what the notifier was told happened, which "what did I miss?"
//!    reads).
//! 5. [`act`]: acting on the fleet (who may ask for which verb, the kill switch, the
//!    durable action record and its claim, the desk every action passes, and the one
//!    place that writes to AWS), and [`chart`] (a metric as a PNG, with its alt text).
//! 6. [`dialog`]: one handler per intent (`Turn -> Answer`, and the answer's sentences,
//!    links and card), with session memory.
//! 7. [`nlu`]: the local utterance matcher.
//! 8. [`assistant`]: the app's core every channel talks to (verify the caller, answer within
//!    the deadline, audit), built whole by its builder with no default identity.
//! 9. [`channel`] (wire formats in and out: `lex`, `alexa`, `ask`, `slack`) and [`models`] (the Lex
//!    V2 bot and Alexa interaction model generated from `intents/`).
//! 10. [`notify`]: events in (EventBridge, SNS), alarm and deployment cards out to Slack,
//!     the delivery queue, and the event log "what did I miss?" reads.
//! 11. [`server`] (the axum router, middleware, `/healthz`, `/readyz`, `/metrics`) and
//!     [`chat`] (the `opsvoice chat` REPL).
//! 12. [`app`]: the app assembled from its configuration.
//! 13. [`lambda`]: the same app as a Lambda function (Lex, Alexa and HTTP invocations).

pub mod act;
pub mod app;
pub mod assistant;
pub mod auth;
pub mod aws;
pub mod channel;
pub mod chart;
pub mod chat;
pub mod clock;
pub mod config;
pub mod dialog;
pub mod embedded;
pub mod error;
pub mod eventlog;
pub mod http;
pub mod lambda;
pub mod models;
pub mod nlu;
pub mod notify;
pub mod ops;
pub mod server;
pub mod speech;
pub mod store;
pub mod telemetry;
pub mod vocab;

pub use app::{
    StartError, accounts_source, alexa_verifier, builder, cached, check_servable, identity,
    live_source,
};
