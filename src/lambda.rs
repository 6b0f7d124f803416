//! Running as an AWS Lambda function: chosen by `main` when `AWS_LAMBDA_RUNTIME_API` is
//! set, so the same binary is the `provided.al2023` bootstrap and the server.
//!
//! One function takes four kinds of invocation:
//! - **Lex V2 code hook** (direct invoke): the event is answered as `POST /lex` would be.
//! - **Alexa skill trigger** (direct invoke): Alexa calls the function itself, so there is
//!   no signature to check; the timestamp and the skill id still are, by the same
//!   [`crate::channel::alexa::verify::Verifier::verify_request`] as `POST /alexa`, and it is answered as that route would.
//! - **HTTP** (Function URL, API Gateway REST or HTTP API, ALB): the request is served by
//!   the same axum router as `opsvoice serve`, through `lambda_http`'s conversions.
//! - **EventBridge** (a rule's target): an alarm or ECS event for the notifier, or the
//!   schedule that delivers what is still queued. An event it cannot use is acknowledged,
//!   logged and counted, never answered with an error (which EventBridge would retry).
//!
//! Which one an event is, is read from its shape ([`Invocation::classify`]).

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tower::Service;

use crate::channel::alexa::Envelope;
use crate::channel::lex::LexEvent;
use crate::server::AppState;

/// What an invocation is.
#[derive(Debug)]
pub enum Invocation {
    Lex(Box<LexEvent>),
    Alexa(Value),
    Http(Box<lambda_http::request::LambdaRequest>),
    /// An EventBridge event: an alarm or ECS event for the notifier, or the schedule that
    /// delivers what is still queued.
    EventBridge(Value),
}

/// Why an invocation could not be answered. Lambda reports it to the caller as a function
/// error (for Alexa, the equivalent of the endpoint's 400).
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(
        "unrecognised event: expected a Lex V2 code-hook event, an Alexa request, an \
         EventBridge event (with `source` and `detail-type`) or an HTTP event (Function URL, \
         API Gateway, ALB)"
    )]
    Unrecognised,
    #[error("the Lex V2 event does not have the expected shape")]
    BadLexEvent(#[source] serde_json::Error),
    /// The reason is the request's own (its skill id, its timestamp): a trigger never
    /// downloads anything, so no upstream text can be in it.
    #[error("the Alexa request was refused: {0}")]
    AlexaRefused(#[from] crate::channel::alexa::verify::VerifyError),
    #[error("the Alexa request does not have the expected shape")]
    BadAlexaRequest(#[source] crate::channel::BodyError),
    #[error("the HTTP response could not be encoded")]
    Encode(#[source] serde_json::Error),
    /// Lambda retries an asynchronous invocation that fails: the event is not lost.
    #[error("the event could not be recorded; it will be retried")]
    EventNotRecorded(#[source] crate::store::StoreError),
}

impl From<crate::channel::alexa::verify::RequestError> for InvocationError {
    fn from(error: crate::channel::alexa::verify::RequestError) -> Self {
        use crate::channel::alexa::verify::RequestError;
        match error {
            RequestError::Unverified(e) => InvocationError::AlexaRefused(e),
            RequestError::Malformed(e) => InvocationError::BadAlexaRequest(e),
        }
    }
}

impl InvocationError {
    /// The kind Lambda reports as the function error's `errorType`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            InvocationError::Unrecognised => "UnsupportedEvent",
            InvocationError::BadLexEvent(_) | InvocationError::BadAlexaRequest(_) => {
                "MalformedEvent"
            }
            InvocationError::AlexaRefused(_) => "RequestRefused",
            InvocationError::Encode(_) => "InternalError",
            InvocationError::EventNotRecorded(_) => "Unavailable",
        }
    }
}

/// What Lambda tells the invoker: the kind, and our sentence (the causes go to the log).
impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(error: InvocationError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

impl Invocation {
    /// Reads what kind of invocation `event` is.
    ///
    /// # Errors
    /// A Lex-shaped event with wrong field types, or an event of no known kind.
    pub fn classify(event: Value) -> Result<Self, InvocationError> {
        let has = |key: &str| event.get(key).is_some();
        if has("invocationSource") && has("sessionState") {
            let de =
                serde_json::from_value::<LexEvent>(event).map_err(InvocationError::BadLexEvent)?;
            return Ok(Invocation::Lex(Box::new(de)));
        }
        if crate::notify::event::is_eventbridge(&event) {
            return Ok(Invocation::EventBridge(event));
        }
        if has("version")
            && event
                .get("request")
                .and_then(|r| r.get("type"))
                .is_some_and(Value::is_string)
        {
            return Ok(Invocation::Alexa(event));
        }
        serde_json::from_value::<lambda_http::request::LambdaRequest>(event)
            .map(|r| Invocation::Http(Box::new(r)))
            .map_err(|_| InvocationError::Unrecognised)
    }
}

/// The function: the app state and the router, shared by every invocation.
#[derive(Clone)]
pub struct Function {
    state: AppState,
    router: axum::Router,
}

impl Function {
    /// The function over `state`, with the server's router (and its middleware).
    #[must_use]
    pub fn new(state: AppState, config: &crate::config::Config) -> Self {
        let router = crate::server::router(state.clone(), config);
        Self { state, router }
    }

    /// Answers one invocation.
    ///
    /// # Errors
    /// See [`InvocationError`].
    pub async fn invoke(&self, event: Value, context: Context) -> Result<Value, InvocationError> {
        match Invocation::classify(event)? {
            Invocation::Lex(event) => {
                tracing::Span::current().record("channel", "lex");
                let response = self.state.assistant.lex(&event).await;
                Ok(serde_json::to_value(response).unwrap_or_default())
            }
            Invocation::Alexa(event) => {
                let body = serde_json::to_vec(&event).unwrap_or_default();
                let envelope: Envelope = self
                    .state
                    .alexa
                    .verify_request(crate::channel::alexa::verify::Via::LambdaTrigger, &body)
                    .await?;
                let response = self
                    .state
                    .assistant
                    .alexa_with(&envelope, Some(&self.state.herald))
                    .await;
                Ok(serde_json::to_value(response).unwrap_or_default())
            }
            Invocation::EventBridge(event) => {
                tracing::Span::current().record("channel", "eventbridge");
                self.event(event).await
            }
            Invocation::Http(mut request) => {
                // Routes are the same whatever the API Gateway stage: leave it out of the
                // path (lambda_http would put `/prod` in front of `/v1/ask`).
                match request.as_mut() {
                    lambda_http::request::LambdaRequest::ApiGatewayV1(r) => {
                        r.request_context.stage = None;
                    }
                    lambda_http::request::LambdaRequest::ApiGatewayV2(r) => {
                        r.request_context.stage = None;
                    }
                    _ => {}
                }
                let mut adapter = lambda_http::Adapter::from(self.router.clone());
                let response = match adapter.call(LambdaEvent::new(*request, context)).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                serde_json::to_value(response).map_err(InvocationError::Encode)
            }
        }
    }
}

impl Function {
    /// An EventBridge event: the delivery schedule drains the queue; an alarm or ECS event
    /// is recorded (once) and its cards delivered before the invocation ends.
    async fn event(&self, event: Value) -> Result<Value, InvocationError> {
        let scheduled = event.get("source").and_then(Value::as_str) == Some("aws.events")
            && event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event");
        if scheduled {
            // The schedule is the Lambda's clock: actions expire, are followed to their
            // end and silences end on time here, since no loop runs between invocations.
            let acted = match self.state.assistant.dialog().desk() {
                Some(desk) => {
                    let ticked = desk.tick().await;
                    tracing::info!(?ticked, "actions ticked");
                    true
                }
                None => false,
            };
            if let Some(notifier) = &self.state.events.notifier {
                notifier
                    .drain(crate::notify::SETTLE + std::time::Duration::from_secs(2))
                    .await;
                return Ok(serde_json::json!({ "ok": true }));
            }
            if acted {
                return Ok(serde_json::json!({ "ok": true }));
            }
            return Ok(serde_json::json!({ "ok": false, "reason": "no notification routes" }));
        }
        // EventBridge invokes asynchronously: an error would be retried and then sent to
        // the dead-letter queue, so an event we cannot use is acknowledged (and logged
        // and counted), never answered with an error. Only our own outage (the store) is
        // an error, which the retry is for.
        let parsed = match crate::notify::event::from_eventbridge(&event) {
            Ok(parsed) => parsed,
            Err(unusable) => {
                crate::notify::unusable(&unusable);
                return Ok(serde_json::json!({ "ok": false, "reason": unusable.to_string() }));
            }
        };
        let Some(notifier) = &self.state.events.notifier else {
            tracing::warn!(
                "an EventBridge event arrived, but no notification routes are set (OPSVOICE_NOTIFY_FILE)"
            );
            metrics::counter!("opsvoice_events_total", "source" => "eventbridge", "kind" => "any", "outcome" => "unrouted").increment(1);
            crate::notify::skipped(parsed.kind(), "unrouted", parsed.id());
            return Ok(serde_json::json!({ "ok": false, "reason": "no notification routes" }));
        };
        let outcome = notifier
            .accept("eventbridge", parsed)
            .await
            .map_err(InvocationError::EventNotRecorded)?;
        if outcome == crate::notify::Outcome::Busy {
            return Err(InvocationError::EventNotRecorded(
                crate::store::StoreError::Busy,
            ));
        }
        if outcome == crate::notify::Outcome::UnknownAccount {
            // Taken (a retry would be dropped again), and said.
            return Ok(
                serde_json::json!({ "ok": false, "reason": "the event's account is not in the accounts file" }),
            );
        }
        notifier.deliver_soon().await;
        Ok(serde_json::json!({ "ok": true }))
    }
}

/// Why the function could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the configuration cannot be served")]
    Start(#[from] crate::app::StartError),
    #[error("the Lambda runtime API failed")]
    Runtime(#[source] lambda_runtime::Error),
}

/// Runs the function until the Lambda runtime stops it.
///
/// # Errors
/// An invalid configuration, or a runtime API that cannot be reached.
pub async fn run(config: crate::config::Config) -> Result<(), RunError> {
    crate::app::check_servable(&config)?;
    let state = crate::app::builder(&config).build().await?;
    // Started during init, off the first invocation's path, and never stopped: between
    // invocations the environment is frozen, and the refresh with it. Cards are posted
    // inline (the notifier knows it is in a Lambda), so no delivery loop.
    let _background = crate::app::Background::start(&state, false);
    let function = Function::new(state, &config);
    tracing::info!(backend = ?config.aws.backend, "Lambda function ready");
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Value>| {
            let function = function.clone();
            async move {
                function
                    .invoke(event.payload, event.context)
                    .await
                    .inspect_err(|error| {
                        tracing::warn!(error = %crate::error::ErrorChain(error), kind = error.kind(), "invocation refused");
                    })
                    .map_err(lambda_runtime::Diagnostic::from)
            }
        },
    ))
    .await
    .map_err(RunError::Runtime)
}
