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

pub mod auth;
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
    #[error("Alexa verification: {0}")]
    Alexa(#[from] channel::alexa::verify::SetupError),
    #[error(
        "OPSVOICE_BACKEND=aws serves live data, which must only reach verified Cognito users, \
         and this build cannot verify sign-ins yet. Use `opsvoice ask` with your own AWS \
         credentials, or serve the demo fleet"
    )]
    NoVerifiedCallers,
}

/// Builds the assistant the configuration describes, measuring time with `clock`.
///
/// With `aws`, the AWS SDK configuration is loaded the standard way (credential and region
/// chain, `AWS_ENDPOINT_URL`), and the live source is put behind the cache.
///
/// # Errors
/// Invalid embedded prompts or model (caught by `opsvoice check` and the tests).
pub async fn assistant(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Assistant>, StartError> {
    let ops: Arc<dyn ops::OpsSource> = match config.backend {
        Backend::Demo => Arc::new(ops::demo::DemoFleet::new(clock.clone())),
        Backend::Aws => {
            let sdk = ops::aws::sdk_config().await;
            let aws = ops::aws::AwsOps::new(
                aws_sdk_ecs::Client::new(&sdk),
                aws_sdk_cloudwatch::Client::new(&sdk),
                config.clusters.clone(),
                ops::aws::Association {
                    by_name_prefix: config.alarm_name_match,
                },
                clock.clone(),
            );
            Arc::new(cached(Arc::new(aws), clock.clone(), config))
        }
    };
    assemble(ops, clock, config)
}

/// The cache settings for `config`: upstream fetches must give up in time for a stale
/// answer to make the answer deadline.
#[must_use]
pub fn cached(
    source: Arc<dyn ops::OpsSource>,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> ops::cache::CachedOps {
    let settings = ops::cache::Settings {
        upstream_deadline: config
            .answer_deadline
            .saturating_sub(std::time::Duration::from_millis(500))
            .max(std::time::Duration::from_millis(100)),
        ..ops::cache::Settings::default()
    };
    ops::cache::CachedOps::new(source, clock, settings)
}

/// The assistant over any data source (what tests use to put moto or a fake behind it).
///
/// # Errors
/// Invalid embedded prompts or model.
pub fn assemble(
    ops: Arc<dyn ops::OpsSource>,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> Result<Arc<Assistant>, StartError> {
    let dialog = Dialog::new(ops, clock);
    let renderer = speech::Renderer::embedded(config.region.clone())?;
    let nlu = nlu::Nlu::embedded()?;
    let mut assistant = Assistant::new(dialog, renderer, nlu);
    if let Some(a) = Arc::get_mut(&mut assistant) {
        a.deadline = config.answer_deadline;
    }
    Ok(assistant)
}

/// The Alexa request verifier the configuration describes.
///
/// # Errors
/// An unreadable `OPSVOICE_ALEXA_TRUST_ROOTS` or a malformed `OPSVOICE_ALEXA_CERT_BASE_URL`.
pub fn alexa_verifier(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<channel::alexa::verify::Verifier, StartError> {
    let roots = match &config.alexa.trust_roots {
        Some(path) => Some((
            path.display().to_string(),
            std::fs::read(path).map_err(|source| channel::alexa::verify::SetupError::Roots {
                path: path.display().to_string(),
                source,
            })?,
        )),
        None => None,
    };
    Ok(channel::alexa::verify::Verifier::new(
        config.alexa.skill_ids.clone(),
        roots.as_ref().map(|(p, pem)| (p.as_str(), pem.as_slice())),
        config.alexa.cert_base_url.as_deref(),
        clock,
    )?)
}

/// Whether `serve` may run with this configuration: live data is never served to callers
/// who are not verified.
///
/// # Errors
/// [`StartError::NoVerifiedCallers`] for the `aws` backend until sign-in verification exists.
pub fn check_servable(config: &Config) -> Result<(), StartError> {
    match config.backend {
        Backend::Demo => Ok(()),
        Backend::Aws => Err(StartError::NoVerifiedCallers),
    }
}
