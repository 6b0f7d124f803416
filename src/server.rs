//! The HTTP server: routes, middleware and graceful shutdown.
//!
//! `router(state, config)` builds the whole app (tests drive it with `oneshot` or serve it
//! on port 0); `run(listener, router, shutdown)` serves it until `shutdown` resolves, then
//! lets requests in flight finish.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::assistant::Assistant;
use crate::channel::BodyError;
use crate::channel::alexa::verify::{Verifier, VerifyError};
use crate::channel::ask::{AskError, AskRequest};
use crate::channel::lex::LexEvent;
use crate::channel::slack;
use crate::config::Config;
use crate::http::{BodyLimit, HttpError, RawBody};

/// What every handler can reach. Made only by the app builder (`app::builder(..).build()`;
/// its fields are for reading): the app is built whole, once.
#[derive(Debug, Clone)]
pub struct AppState {
    pub assistant: Arc<Assistant>,
    pub metrics: PrometheusHandle,
    pub alexa: Arc<Verifier>,
    /// Sends Alexa progressive responses ("Looking at checkout…") for slow answers.
    pub herald: crate::channel::alexa::progress::Herald,
    /// The Slack app; `None` when Slack is not set up (its routes then refuse everything).
    pub slack: Option<Arc<crate::channel::slack::Slack>>,
    /// `POST /events`: SNS deliveries to the notifier (each part `None` when not set up).
    pub events: crate::notify::http::EventsState,
    /// Keeps the struct from being assembled anywhere but the app builder.
    pub(crate) _built: Built,
}

/// The app builder's mark on an [`AppState`].
#[derive(Debug, Clone, Copy)]
pub struct Built(());

impl Built {
    pub(crate) fn new() -> Self {
        Self(())
    }
}

/// The intent a request was answered as, for the request metrics.
#[derive(Debug, Clone, Copy)]
pub struct IntentLabel(pub &'static str);

/// An error a client sees: a status and a JSON body with a code and a clear message. The
/// cause chain goes to the log, never to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("the request took longer than {} ms; nothing was answered, so it can be sent again", within.as_millis())]
    Timeout { within: Duration },
    #[error("{0}")]
    InvalidAsk(#[from] AskError),
    #[error("no route for {method} {path}")]
    NotFound { method: String, path: String },
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String },
    #[error("the request could not be verified as coming from Alexa")]
    Unverified(#[source] VerifyError),
    #[error(
        "cannot answer as `{0}`: /v1/ask answers application/json, audio/mpeg, audio/ogg or audio/pcm"
    )]
    NotAcceptable(String),
    /// The answer was made but could not be spoken; it goes back as text with the error.
    #[error("the answer could not be spoken: {error}")]
    SpeechUnavailable {
        error: crate::speech::polly::SpeechError,
        answer: Box<crate::channel::ask::AskResponse>,
    },
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidAsk(AskError::Unauthorized(r)) if r.is_outage() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::InvalidAsk(AskError::Unauthorized(_)) => StatusCode::UNAUTHORIZED,
            ApiError::Body(BodyError::WrongShape(_)) | ApiError::InvalidAsk(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::SpeechUnavailable { .. } | ApiError::Timeout { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Body(BodyError::InvalidJson(_)) => "invalid_json",
            ApiError::Body(BodyError::WrongShape(_)) => "invalid_request",
            ApiError::Timeout { .. } => "timeout",
            ApiError::InvalidAsk(AskError::Unauthorized(r)) if r.is_outage() => {
                "sign_in_unavailable"
            }
            ApiError::InvalidAsk(AskError::Unauthorized(_)) => "unauthorized",
            ApiError::InvalidAsk(_) => "invalid_request",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unverified(_) => "unverified",
            ApiError::NotAcceptable(_) => "not_acceptable",
            ApiError::SpeechUnavailable { .. } => "speech_unavailable",
        }
    }
}

impl ApiError {
    /// What the client is told. Errors about the request itself describe it (what was
    /// wrong, and where); errors with a cause of ours or upstream (sign-in, verification,
    /// Polly) say one fixed sentence per code (for verification, its `Display`, which
    /// leaves the cause out), and the cause goes only to the log.
    fn message(&self) -> std::borrow::Cow<'static, str> {
        use crate::auth::Refusal;
        match self {
            ApiError::InvalidAsk(AskError::Unauthorized(r)) if r.is_outage() => {
                "sign-in can't be checked right now; please try again in a minute".into()
            }
            ApiError::InvalidAsk(AskError::Unauthorized(Refusal::Invalid(_))) => {
                "the token was refused; sign in again".into()
            }
            ApiError::SpeechUnavailable { .. } => {
                "the answer could not be spoken (Polly is unavailable); it is in `answer` as text"
                    .into()
            }
            other => other.to_string().into(),
        }
    }
}

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        let mut http = HttpError::new(error.status(), error.code(), error.message());
        if let ApiError::SpeechUnavailable { answer, .. } = &error {
            // Nothing is lost: the answer itself still reaches the caller.
            http = http.field("answer", json!(answer));
        }
        if let ApiError::InvalidAsk(AskError::Unauthorized(refusal)) = &error {
            if refusal.is_outage() {
                http = http.header(header::RETRY_AFTER, HeaderValue::from_static("10"));
            } else {
                let detail = match refusal {
                    crate::auth::Refusal::Invalid(_) => ", error=\"invalid_token\"",
                    _ => "",
                };
                if let Ok(value) =
                    HeaderValue::from_str(&format!("Bearer realm=\"opsvoice\"{detail}"))
                {
                    http = http.header(header::WWW_AUTHENTICATE, value);
                }
            }
        }
        http.because(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        HttpError::from(self).into_response()
    }
}

/// A JSON body read leniently about the content type and strictly about the shape, with
/// errors that say where the problem is (`sessionState.intent.name: invalid type ...`).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        crate::channel::parse_json(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::Body(e).into())
    }
}

/// What [`track`] applies to every request.
#[derive(Debug, Clone, Copy)]
struct Limits {
    body: BodyLimit,
    request: Duration,
}

impl Limits {
    /// The body must arrive in time to leave the answer its whole deadline within the
    /// request timeout (the config guarantees the deadline is the shorter).
    fn for_config(config: &Config) -> Self {
        let slack = config
            .server
            .request_timeout
            .saturating_sub(config.server.answer_deadline);
        Self {
            body: BodyLimit {
                bytes: config.server.body_limit,
                within: if slack.is_zero() {
                    config.server.request_timeout
                } else {
                    slack
                },
            },
            request: config.server.request_timeout,
        }
    }
}

async fn lex(State(state): State<AppState>, JsonBody(event): JsonBody<LexEvent>) -> Response {
    let intent = event
        .intent()
        .and_then(|i| crate::dialog::Intent::parse(&i.name))
        .map_or("unknown", crate::dialog::Intent::name);
    tracing::Span::current().record("channel", "lex");
    tracing::Span::current().record("intent", intent);
    let response = state.assistant.lex(&event).await;
    let mut response = Json(response).into_response();
    response.extensions_mut().insert(IntentLabel(intent));
    response
}

async fn alexa(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    tracing::Span::current().record("channel", "alexa");
    use crate::channel::alexa::verify::{RequestError, Via};
    let envelope = match state
        .alexa
        .verify_request(Via::Https(&headers), &body)
        .await
    {
        Ok(envelope) => envelope,
        Err(RequestError::Unverified(e)) => return Err(ApiError::Unverified(e)),
        Err(RequestError::Malformed(e)) => return Err(e.into()),
    };
    let intent = match envelope.request.kind.as_str() {
        "LaunchRequest" => "Launch",
        _ => envelope
            .request
            .intent
            .as_ref()
            .and_then(|i| crate::dialog::Intent::parse(&i.name))
            .map_or("none", crate::dialog::Intent::name),
    };
    tracing::Span::current().record("intent", intent);
    let response = state
        .assistant
        .alexa_with(&envelope, Some(&state.herald))
        .await;
    let mut response = Json(response).into_response();
    response.extensions_mut().insert(IntentLabel(intent));
    Ok(response)
}

async fn ask(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    JsonBody(request): JsonBody<AskRequest>,
) -> Result<Response, ApiError> {
    use crate::speech::polly::AudioFormat;
    tracing::Span::current().record("channel", "ask");
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = AudioFormat::negotiate(accept).map_err(|()| {
        ApiError::NotAcceptable(accept.unwrap_or_default().chars().take(100).collect())
    })?;
    // A header that is not text is still a (bad) token, never "no token".
    let token = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    let asked = state.assistant.answer(request, token.as_deref()).await?;
    let answer = asked.response;
    let intent =
        crate::dialog::Intent::parse(&answer.intent).map_or("unknown", crate::dialog::Intent::name);
    tracing::Span::current().record("intent", intent);
    let mut response = match format {
        None => Json(answer).into_response(),
        Some(format) => match state
            .assistant
            .voice
            .synthesize(&asked.speech, format)
            .await
        {
            Ok(audio) => audio_response(&answer, audio),
            Err(error) => {
                return Err(ApiError::SpeechUnavailable {
                    error,
                    answer: Box::new(answer),
                });
            }
        },
    };
    response.extensions_mut().insert(IntentLabel(intent));
    Ok(response)
}

/// The audio, with the rest of the answer in headers: the text (percent-encoded UTF-8),
/// the intent, the session to continue and whether the conversation ended.
fn audio_response(
    answer: &crate::channel::ask::AskResponse,
    audio: crate::speech::polly::Audio,
) -> Response {
    let encoded =
        percent_encoding::utf8_percent_encode(&answer.text, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let mut response = (StatusCode::OK, audio.bytes).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", audio.format.content_type());
    set("x-opsvoice-session-id", &answer.session_id);
    set("x-opsvoice-intent", &answer.intent);
    set(
        "x-opsvoice-end-session",
        if answer.end_session { "true" } else { "false" },
    );
    set("x-opsvoice-text", &encoded);
    if audio.truncated {
        set("x-opsvoice-truncated", "true");
    }
    response
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let ops = state.assistant.dialog.ops();
    match ops.ready().await {
        Ok(()) => Json(json!({ "status": "ready", "backend": ops.name() })).into_response(),
        Err(error) => {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                // Which system, not its error: the cause is in the log.
                Json(json!({ "status": "unavailable", "backend": ops.name(), "unavailable": error.system() })),
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
    }
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: req.method().to_string(),
    }
}

/// Counts and times every request by route, status and intent.
const LEX: &str = "/lex";
const ALEXA: &str = "/alexa";
const ASK: &str = "/v1/ask";
const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";
const METRICS: &str = "/metrics";
use slack::{
    COMMANDS as SLACK_COMMANDS, EVENTS as SLACK_EVENTS, INTERACTIONS as SLACK_INTERACTIONS,
    LINK_CALLBACK, LINK_START,
};
/// The routes, as the request metrics label them.
const ROUTES: [&str; 12] = [
    crate::notify::http::EVENTS,
    LEX,
    ALEXA,
    ASK,
    HEALTHZ,
    READYZ,
    METRICS,
    SLACK_EVENTS,
    SLACK_COMMANDS,
    SLACK_INTERACTIONS,
    LINK_START,
    LINK_CALLBACK,
];

/// The route label for a matched path: one of [`ROUTES`], so labels cost no allocation.
fn route_label(req: &Request) -> &'static str {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    matched
        .and_then(|path| ROUTES.iter().find(|r| **r == path))
        .copied()
        .unwrap_or("unmatched")
}

/// The status label: the statuses this server sends without allocating, any other by number.
fn status_label(status: StatusCode) -> std::borrow::Cow<'static, str> {
    let known = match status.as_u16() {
        200 => "200",
        302 => "302",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        406 => "406",
        408 => "408",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        other => return other.to_string().into(),
    };
    known.into()
}

/// Per-request upkeep in one layer: the body limits for [`RawBody`], the request timeout
/// (a JSON 503 that says so, counted like any other answer), and the request count and
/// duration by route, status and intent.
async fn track(limits: Limits, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(limits.body);
    let route = route_label(&req);
    let started = Instant::now();
    // A body announced larger than the limit is refused before anything reads it: reading
    // is what makes hyper answer `Expect: 100-continue` with an invitation to send it.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let response = if announced.is_some_and(|n| n > limits.body.bytes as u64) {
        HttpError::too_large(limits.body.bytes).into_response()
    } else {
        match tokio::time::timeout(limits.request, next.run(req)).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(route, within = ?limits.request, "request timed out");
                ApiError::Timeout {
                    within: limits.request,
                }
                .into_response()
            }
        }
    };
    let intent = response
        .extensions()
        .get::<IntentLabel>()
        .map_or("none", |i| i.0);
    metrics::counter!(
        "opsvoice_http_requests_total",
        "route" => route,
        "status" => status_label(response.status()),
        "intent" => intent
    )
    .increment(1);
    metrics::histogram!("opsvoice_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    HttpError::internal().into_response()
}

/// The whole app.
pub fn router(state: AppState, config: &Config) -> Router {
    let limits = Limits::for_config(config);
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            id,
            method = %req.method(),
            path = req.uri().path(),
            channel = tracing::field::Empty,
            intent = tracing::field::Empty,
        )
    });
    Router::new()
        .route(LEX, post(lex))
        .route(ALEXA, post(alexa))
        .route(ASK, post(ask))
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
        .route(METRICS, get(metrics_text))
        .merge(slack::router(state.slack.clone()))
        .merge(crate::notify::http::router(state.events.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            track(limits, req, next)
        }))
        .layer(DefaultBodyLimit::max(limits.body.bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
}

/// How `serve` holds its connections.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// The most a client may take to send a request head, counted from when the connection
    /// is ready for one: this also closes a kept-alive connection left idle that long.
    pub head_timeout: Duration,
    /// At most this many connections are served at once; more wait in the listen backlog.
    pub max: usize,
    /// After shutdown begins, how long requests in flight have to finish.
    pub drain: Duration,
}

impl Connections {
    /// The idle bound is above the 60 s idle timeout of an AWS load balancer (and most
    /// proxies), so the server is never the side that closes a connection the proxy is
    /// about to reuse; a request in flight when shutdown begins has its full timeout.
    #[must_use]
    pub fn for_config(config: &Config) -> Self {
        Self {
            head_timeout: Duration::from_secs(75),
            max: 2048,
            drain: config.server.request_timeout + Duration::from_secs(1),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (for at most `connections.drain`).
///
/// Each connection is HTTP/1.1 with `TCP_NODELAY` (an audio answer's last segment is not
/// held back waiting for an acknowledgement) and a bound on reading request heads, so a
/// client that trickles its head or goes quiet is closed, not held forever.
///
/// # Errors
/// When the listener fails.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    connections: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(connections.head_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(connections.max.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) if is_per_connection(&error) => continue,
                Err(error) => {
                    // Out of file descriptors, say: wait for connections to close.
                    tracing::error!(%error, "cannot accept a connection; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection =
            graceful.watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Timeouts and clients that hang up: theirs to know, not an error of ours.
                tracing::debug!(%error, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(connections.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            after = ?connections.drain,
            "stopped with requests still in flight"
        );
    }
    Ok(())
}

/// An accept error that concerns only the connection being accepted.
fn is_per_connection(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn limits() -> Limits {
        Limits {
            body: BodyLimit {
                bytes: 1024,
                within: Duration::from_millis(500),
            },
            request: Duration::from_secs(2),
        }
    }

    async fn answer(router: Router, body: Body) -> (StatusCode, serde_json::Value) {
        let request = Request::post(LEX).body(body).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    fn tracked(router: Router) -> Router {
        let limits = limits();
        router.layer(middleware::from_fn(move |req: Request, next: Next| {
            track(limits, req, next)
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_its_timeout_gets_a_json_503_that_says_so() {
        let slow = Router::new().route(
            LEX,
            post(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "too late"
            }),
        );
        let (status, body) = answer(tracked(slow), Body::empty()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "timeout");
        assert_eq!(
            body["error"]["message"],
            "the request took longer than 2000 ms; nothing was answered, so it can be sent again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_ends_gets_a_408_before_the_request_timeout() {
        let echo = Router::new().route(LEX, post(|RawBody(b): RawBody| async move { b }));
        let never = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
        let (status, body) = answer(tracked(echo), Body::from_stream(never)).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["error"]["code"], "body_timeout");
    }

    #[test]
    fn the_body_window_leaves_the_answer_its_whole_deadline() {
        let config = Config::default();
        let limits = Limits::for_config(&config);
        assert_eq!(
            limits.body.within + config.server.answer_deadline,
            config.server.request_timeout
        );
        assert_eq!(limits.body.bytes, config.server.body_limit);
    }
}
