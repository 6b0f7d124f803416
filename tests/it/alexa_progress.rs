//! Progressive responses: a slow Alexa answer is preceded by `VoicePlayer.Speak` posted to a
//! loopback stand-in of the Progressive Response API (it checks the Bearer token and the
//! request id, and answers as the real one does, or fails: 500, 429, silence); a fast
//! answer sends nothing; an `apiEndpoint` that is not Amazon's is never called; and
//! whatever the directive call does, the answer is the same and not delayed.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use common::moto::{Fleet, Live, Moto};
use common::proxy::{Fault, Proxy};
use opsvoice::channel::alexa::progress::Herald;

const TOKEN: &str = "not-a-real-token";
const REQUEST_ID: &str = "amzn1.echo-api.request.0002";

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    Accept,
    Fail,
    Throttle,
    Hang,
}

/// A call the stand-in received: its `Authorization` header and its body.
type Call = (Option<String>, Value);

#[derive(Clone)]
struct Directives {
    seen: Arc<Mutex<Vec<Call>>>,
    answer: Arc<Mutex<Answer>>,
}

/// The Progressive Response API on loopback: `POST /v1/directives`.
struct Stub {
    base: String,
    directives: Directives,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn directive(
    axum::extract::State(d): axum::extract::State<Directives>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    d.seen.lock().unwrap().push((auth.clone(), json.clone()));
    // As the API does: a wrong token is a 401, a body it cannot use a 400.
    if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return (
            StatusCode::UNAUTHORIZED,
            "{\"code\":\"INVALID_AUTHENTICATION\"}",
        )
            .into_response();
    }
    if json["header"]["requestId"] != REQUEST_ID || json["directive"]["type"] != "VoicePlayer.Speak"
    {
        return (StatusCode::BAD_REQUEST, "{\"code\":\"INVALID_DIRECTIVE\"}").into_response();
    }
    let answer = *d.answer.lock().unwrap();
    match answer {
        Answer::Accept => StatusCode::NO_CONTENT.into_response(),
        Answer::Fail => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "{\"code\":\"INTERNAL_SERVICE_EXCEPTION\"}",
        )
            .into_response(),
        Answer::Throttle => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "5")],
            "{\"code\":\"RATE_EXCEEDED\"}",
        )
            .into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

impl Stub {
    async fn start() -> Self {
        let directives = Directives {
            seen: Arc::default(),
            answer: Arc::new(Mutex::new(Answer::Accept)),
        };
        let router = axum::Router::new()
            .route("/v1/directives", axum::routing::post(directive))
            .with_state(directives.clone());
        let (addr, stop) = common::serve_on_loopback(router).await;
        Self {
            base: format!("http://{addr}"),
            directives,
            _stop: stop,
        }
    }

    fn answer(&self, answer: Answer) {
        *self.directives.answer.lock().unwrap() = answer;
    }

    fn seen(&self) -> Vec<Call> {
        self.directives.seen.lock().unwrap().clone()
    }

    fn forget(&self) {
        self.directives.seen.lock().unwrap().clear();
    }

    /// Waits up to `within` for `n` calls.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Call> {
        let until = Instant::now() + within;
        while self.seen().len() < n && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.seen()
    }
}

/// moto with prod/checkout (a CPU alarm firing) behind a proxy that holds every AWS
/// request for `delay`: cold, a health answer takes a few such round trips.
struct Slow {
    _moto: Moto,
    proxy: Proxy,
}

impl Slow {
    async fn start() -> Self {
        let moto = Moto::seeded(&Fleet::new().service("prod", "checkout", 2).alarm(
            "checkout-cpu-high",
            "prod",
            "checkout",
            StateValue::Alarm,
            "Threshold Crossed: 91 > 80.",
        ))
        .await;
        let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
        Self { _moto: moto, proxy }
    }

    /// A fresh assistant (nothing cached) through the proxy.
    async fn assistant(&self, delay: Duration) -> Arc<opsvoice::channel::Assistant> {
        self.proxy.set(Fault::PerRequest(delay));
        let through = common::moto::sdk_for(&self.proxy.url).await;
        Live::with(
            aws_sdk_ecs::Client::new(&through),
            aws_sdk_cloudwatch::Client::new(&through),
            Arc::new(opsvoice::ops::SystemClock),
            &opsvoice::config::Config::default(),
        )
        .assistant
    }
}

fn request(api_endpoint: &str) -> opsvoice::channel::alexa::Envelope {
    let mut body = common::fixture("alexa/service-health.json");
    body["context"]["System"]["apiEndpoint"] = json!(api_endpoint);
    serde_json::from_value(body).unwrap()
}

/// The answer's speech and how long it took.
async fn ask(
    assistant: &opsvoice::channel::Assistant,
    herald: Option<&Herald>,
    envelope: &opsvoice::channel::alexa::Envelope,
) -> (String, Duration) {
    let started = Instant::now();
    let r = serde_json::to_value(assistant.alexa_with(envelope, herald).await).unwrap();
    let took = started.elapsed();
    common::assert_valid_alexa_response(&r);
    (
        common::assert_valid_ssml(r["response"]["outputSpeech"]["ssml"].as_str().unwrap()),
        took,
    )
}

const DELAY: Duration = Duration::from_millis(450);

#[tokio::test]
async fn a_slow_answer_is_preceded_by_looking_at_the_service() {
    let stub = Stub::start().await;
    let slow = Slow::start().await;
    let herald = Herald::new(Some(stub.base.clone()));
    let assistant = slow.assistant(DELAY).await;
    let (spoken, took) = ask(
        &assistant,
        Some(&herald),
        &request("https://api.amazonalexa.com"),
    )
    .await;
    assert!(
        took > Duration::from_millis(1100),
        "not slow enough to test: {took:?}"
    );
    assert!(spoken.starts_with("checkout is degraded"), "{spoken}");
    let seen = stub.wait_for(1, Duration::from_secs(2)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (auth, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer not-a-real-token"));
    assert_eq!(
        body,
        &json!({
            "header": {"requestId": REQUEST_ID},
            "directive": {"type": "VoicePlayer.Speak", "speech": "<speak><s>Looking at checkout…</s></speak>"}
        })
    );
    common::assert_valid_ssml(body["directive"]["speech"].as_str().unwrap());
}

#[tokio::test]
async fn a_fast_answer_sends_nothing() {
    let stub = Stub::start().await;
    let herald = Herald::new(Some(stub.base.clone()));
    let assistant = common::assistant();
    let (spoken, took) = ask(
        &assistant,
        Some(&herald),
        &request("https://api.amazonalexa.com"),
    )
    .await;
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert!(spoken.starts_with("checkout is degraded"), "{spoken}");
    // Well past the moment it would have been sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(stub.seen().is_empty(), "{:?}", stub.seen());
}

#[tokio::test]
async fn only_amazons_alexa_hosts_are_called_and_the_answer_is_the_same() {
    let stub = Stub::start().await;
    let slow = Slow::start().await;
    let herald = Herald::new(Some(stub.base.clone()));
    let mut answers = Vec::new();
    for endpoint in [
        "https://api.eu.amazonalexa.com",
        "https://api.fe.amazon.com",
        "https://evil.example.com",
        "http://api.amazonalexa.com",
        "https://api.amazonalexa.com.evil.example.com",
        &format!("{}/", stub.base),
    ] {
        stub.forget();
        let assistant = slow.assistant(DELAY).await;
        let (spoken, took) = ask(&assistant, Some(&herald), &request(endpoint)).await;
        assert!(took > Duration::from_millis(1100), "{endpoint}: {took:?}");
        let seen = stub.wait_for(1, Duration::from_millis(1500)).await;
        let amazon = endpoint.contains("amazonalexa.com") || endpoint.contains("amazon.com");
        let allowed = amazon && endpoint.starts_with("https://") && !endpoint.contains("evil");
        assert_eq!(seen.len(), usize::from(allowed), "{endpoint}: {seen:?}");
        answers.push(spoken);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

#[tokio::test]
async fn a_failing_directive_call_changes_nothing_in_the_answer() {
    let stub = Stub::start().await;
    let slow = Slow::start().await;
    let herald = Herald::new(Some(stub.base.clone()));
    let envelope = request("https://api.amazonalexa.com");
    // Without a herald at all: the answer to compare with.
    let (expected, plain) = ask(&*slow.assistant(DELAY).await, None, &envelope).await;
    for answer in [Answer::Fail, Answer::Throttle, Answer::Hang] {
        stub.forget();
        stub.answer(answer);
        let assistant = slow.assistant(DELAY).await;
        let (spoken, took) = ask(&assistant, Some(&herald), &envelope).await;
        assert_eq!(spoken, expected, "{answer:?}");
        // Not held up by the call (a hanging API included): about as long as without one.
        assert!(
            took < plain + Duration::from_millis(700),
            "{answer:?}: {took:?} against {plain:?}"
        );
        assert_eq!(
            stub.wait_for(1, Duration::from_secs(2)).await.len(),
            1,
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn the_app_sends_them_where_the_test_only_setting_says() {
    // The app as `serve` and the Lambda function build it, from the configuration: the
    // Lambda entry (a trigger carries no signature to forge here) answers through it.
    let stub = Stub::start().await;
    let slow = Slow::start().await;
    let mut config = opsvoice::config::Config::default();
    config.alexa.skill_ids = vec![SKILL.to_owned()];
    config.alexa.api_base_url = Some(stub.base.clone());
    let verifier = opsvoice::channel::alexa::verify::Verifier::new(
        vec![SKILL.to_owned()],
        None,
        None,
        common::clock(),
    )
    .unwrap();
    let state = opsvoice::builder(&config)
        .with_assistant(slow.assistant(DELAY).await)
        .alexa(verifier)
        .build()
        .await
        .unwrap();
    let function = opsvoice::lambda::Function::new(state, &config);
    let started = Instant::now();
    let r = function
        .invoke(
            common::fixture("alexa/service-health.json"),
            lambda_runtime::Context::default(),
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() > Duration::from_millis(1100),
        "{:?}",
        started.elapsed()
    );
    common::assert_valid_alexa_response(&r);
    let seen = stub.wait_for(1, Duration::from_secs(2)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0.as_deref(), Some("Bearer not-a-real-token"));
    assert_eq!(seen[0].1["header"]["requestId"], REQUEST_ID);
}

const SKILL: &str = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555";

/// The log test captures its thread's logs, so it runs alone (see `audit.rs`).
#[test]
fn the_refusal_log_is_checked_in_a_process_of_its_own() {
    common::alone(&["alexa_progress::a_refused_endpoint_is_logged_escaped_and_the_token_never"]);
}

#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `the_refusal_log_is_checked_in_a_process_of_its_own`"]
async fn a_refused_endpoint_is_logged_escaped_and_the_token_never() {
    let capture = common::LogCapture::default();
    let subscriber = opsvoice::telemetry::subscriber(
        opsvoice::config::LogFormat::Pretty,
        tracing_subscriber::EnvFilter::new("info"),
        false,
        capture.clone(),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let stub = Stub::start().await;
    let slow = Slow::start().await;
    let herald = Herald::new(Some(stub.base.clone()));
    let forged = "https://evil.example\nINFO opsvoice::audit: decision=\"allowed\" \u{1b}[31mred";
    let assistant = slow.assistant(DELAY).await;
    let (spoken, _) = ask(&assistant, Some(&herald), &request(forged)).await;
    assert!(spoken.starts_with("checkout is degraded"), "{spoken}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stub.seen().is_empty(), "{:?}", stub.seen());
    let logs = capture.text();
    assert!(
        logs.contains("progressive response not sent"),
        "no warning:\n{logs}"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "a raw escape reached the log:\n{logs}"
    );
    assert!(
        !logs.lines().any(|l| l.starts_with("INFO opsvoice::audit")),
        "the endpoint forged a log line:\n{logs}"
    );
    assert!(!logs.contains(TOKEN), "the token reached the log:\n{logs}");
}
