//! Faults, on loopback and bounded in time: a TCP proxy in front of moto adds latency,
//! resets connections or stops answering, and the Cognito keys endpoint is slow or down.
//! Each case asserts what the user hears and that the answer deadline holds. (moto killed
//! and restarted, and an upstream that never answers, are in tests/it/aws.rs.)
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;
use serde_json::{Value, json};

use common::moto::{Fleet, Live, Moto};
use common::proxy::{Fault, Proxy};
use opsvoice::channel::Assistant;
use opsvoice::config::Config;
use opsvoice::ops::ManualClock;

/// The answer budget (OPSVOICE_ANSWER_DEADLINE_MS default) plus scheduling slack.
const DEADLINE: Duration = Duration::from_millis(3300);

struct Rig {
    moto: Moto,
    proxy: Proxy,
    clock: Arc<ManualClock>,
    assistant: Arc<Assistant>,
}

/// moto seeded with prod/checkout (CPU alarm firing), the assistant talking to it through
/// the proxy with the production timeouts and cache.
async fn rig() -> Rig {
    let moto = Moto::seeded(&Fleet::new().service("prod", "checkout", 2).alarm(
        "checkout-cpu-high",
        "prod",
        "checkout",
        StateValue::Alarm,
        "Threshold Crossed: 91 > 80.",
    ))
    .await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    let through = common::moto::sdk_for(&proxy.url).await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let live = Live::with(
        aws_sdk_ecs::Client::new(&through),
        aws_sdk_cloudwatch::Client::new(&through),
        clock.clone(),
        &Config::default(),
    );
    Rig {
        moto,
        proxy,
        clock,
        assistant: live.assistant,
    }
}

async fn says(assistant: &Assistant) -> (String, Duration) {
    let started = Instant::now();
    let response = assistant
        .lex(&serde_json::from_value(common::fixture("lex/service-health-voice.json")).unwrap())
        .await;
    let v = serde_json::to_value(response).unwrap();
    common::assert_valid_lex_response(&v);
    let ssml = v["messages"][0]["content"].as_str().unwrap();
    (common::assert_valid_ssml(ssml), started.elapsed())
}

const FRESH: &str = "checkout is degraded: all 2 tasks running, 1 alarm firing";

#[tokio::test]
async fn latency_under_the_budget_is_waited_for_over_it_is_cut_off() {
    let r = rig().await;
    // A little latency: the answer is fresh, just slower.
    r.proxy.set(Fault::Latency(Duration::from_millis(150)));
    let (spoken, took) = says(&r.assistant).await;
    assert!(spoken.starts_with(FRESH), "{spoken}");
    assert!(took < DEADLINE, "{took:?}");

    // Latency past the per-attempt timeout once the data is stale: the last answer, aged,
    // and the truth about why: the upstream is slow, not unreachable.
    r.clock.advance(Duration::from_secs(60));
    r.proxy.set(Fault::Latency(Duration::from_secs(5)));
    let (spoken, took) = says(&r.assistant).await;
    assert!(took < DEADLINE, "{took:?}");
    assert!(
        spoken.starts_with("CloudWatch and ECS are slow right now, so this is from a minute ago."),
        "{spoken}"
    );
    assert!(!spoken.contains("reach"), "{spoken}");
    assert!(spoken.contains(FRESH), "{spoken}");
}

/// CloudWatch alone behind the proxy, ECS straight to moto, on a cold cache: the health
/// answer leaves the alarms out and says why, in the words that are true for the fault.
#[tokio::test]
async fn a_slow_cloudwatch_is_called_slow_and_an_unreachable_one_unreachable() {
    let r = rig().await;
    let direct = r.moto.sdk().await;
    let through = common::moto::sdk_for(&r.proxy.url).await;
    let answer = |fault| {
        r.proxy.set(fault);
        let live = Live::with(
            aws_sdk_ecs::Client::new(&direct),
            aws_sdk_cloudwatch::Client::new(&through),
            r.clock.clone(),
            &Config::default(),
        );
        async move { says(&live.assistant).await }
    };
    let (spoken, took) = answer(Fault::Latency(Duration::from_secs(5))).await;
    assert_eq!(
        spoken,
        "checkout is healthy: all 2 tasks running. CloudWatch is slow right now, so alarms aren't included."
    );
    assert!(took < DEADLINE, "{took:?}");
    let (spoken, _) = answer(Fault::Reset).await;
    assert_eq!(
        spoken,
        "checkout is healthy: all 2 tasks running. I couldn't reach CloudWatch, so alarms aren't included."
    );
}

#[tokio::test]
async fn reset_connections_are_a_quick_spoken_failure_then_recovery() {
    let r = rig().await;
    r.proxy.set(Fault::Reset);
    let (spoken, took) = says(&r.assistant).await;
    assert_eq!(
        spoken,
        "I can't reach ECS right now, so I can't answer that. Please try again in a moment."
    );
    assert!(took < Duration::from_secs(2), "resets fail fast: {took:?}");

    // Back to normal: the failure was not cached as an answer for long.
    r.proxy.set(Fault::Pass);
    r.clock.advance(Duration::from_secs(10));
    let (spoken, _) = says(&r.assistant).await;
    assert!(spoken.starts_with(FRESH), "{spoken}");
}

#[tokio::test]
async fn an_upstream_that_stops_answering_mid_conversation_keeps_the_deadline() {
    let r = rig().await;
    let (spoken, _) = says(&r.assistant).await;
    assert!(spoken.starts_with(FRESH), "{spoken}");
    let before = r.proxy.connections();

    r.clock.advance(Duration::from_secs(120));
    r.proxy.set(Fault::Silent);
    let (spoken, took) = says(&r.assistant).await;
    assert!(took < DEADLINE, "{took:?}");
    // It takes connections and never answers: to us, that is slow.
    assert!(
        spoken.starts_with("CloudWatch and ECS are slow right now, so this is from 2 minutes ago."),
        "{spoken}"
    );
    assert!(r.proxy.connections() > before, "the silence was met");

    // Many identical questions during the outage do not pile up upstream calls.
    let before = r.proxy.connections();
    let answers = futures_util::future::join_all((0..20).map(|_| says(&r.assistant))).await;
    for (spoken, took) in &answers {
        assert!(
            spoken.starts_with("CloudWatch and ECS are slow right now"),
            "{spoken}"
        );
        assert!(*took < DEADLINE, "{took:?}");
    }
    assert!(
        r.proxy.connections() - before <= 4,
        "{} new connections for 20 questions",
        r.proxy.connections() - before
    );
}

/// No response body of any route carries an upstream error's text, URL or SDK message,
/// with ECS and CloudWatch resetting every connection and Polly unreachable; the log has
/// the whole chain.
#[tokio::test]
async fn no_response_body_carries_an_upstream_error_text() {
    let Rig {
        moto: _moto,
        proxy,
        assistant,
        ..
    } = rig().await;
    proxy.set(Fault::Reset);
    let dead = common::moto::sdk_for("http://127.0.0.1:9").await;
    // The rig's data, with a Polly that cannot answer.
    let assistant = opsvoice::assistant::Assistant::builder(
        assistant.dialog().ops().clone(),
        Arc::new(opsvoice::ops::SystemClock),
        opsvoice::auth::Identity::open(),
    )
    .voice(opsvoice::speech::polly::Voice::with_client(
        opsvoice::config::Polly::default(),
        aws_sdk_polly::Client::new(&dead),
    ))
    .build()
    .unwrap();
    let app = common::spawn(assistant).await;
    let internal = [
        proxy.url.as_str(),
        "127.0.0.1",
        "dispatch",
        "connection",
        "error sending",
        "io error",
        "SdkError",
        "service error",
    ];
    let check = |route: &str, body: &str| {
        for bad in internal {
            assert!(!body.contains(bad), "{route}: `{bad}` in {body}");
        }
    };
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    check("/readyz", &body);
    assert!(body.contains("\"unavailable\":\"ECS\""), "{body}");

    let (_, lex) = app
        .post_json("/lex", &common::fixture("lex/service-health-voice.json"))
        .await;
    check("/lex", &lex.to_string());

    let (_, ask) = app
        .post_json("/v1/ask", &json!({"text": "how is checkout doing"}))
        .await;
    check("/v1/ask", &ask.to_string());

    let spoken = app
        .client
        .post(format!("{}/v1/ask", app.base))
        .header("accept", "audio/mpeg")
        .json(&json!({"text": "help"}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoken.status(), 503);
    let body = spoken.text().await.unwrap();
    check("/v1/ask audio", &body);
    assert!(body.contains("speech_unavailable"), "{body}");
}

mod jwks {
    //! The Cognito keys endpoint slow or down: callers hear "try again", not "sign in",
    //! within the fetch timeout; keys already cached keep working.
    use super::*;
    use base64::Engine as _;
    use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};

    const POOL: &str = "us-east-1_faults";

    /// A JWKS server and a token signed by its key.
    async fn keys() -> (String, String) {
        let key = common::jwks::SigningKey::new();
        let (addr, _) = key.serve().await;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        (addr, key.access_token(POOL, "client-1", now))
    }

    /// The demo app whose tokens are checked against keys fetched through `proxy`, with
    /// the verifier's time (its refetch penalty box) on `clock`.
    async fn app(proxy: &Proxy, clock: Arc<dyn opsvoice::ops::Clock>) -> common::TestApp {
        let verifier = Verifier::new(
            Settings {
                region: "us-east-1".to_owned(),
                user_pool_id: POOL.to_owned(),
                client_ids: vec!["client-1".to_owned()],
                token_use: TokenUse::Access,
                leeway: Duration::from_secs(5),
                jwks_url: Some(format!("{}/jwks.json", proxy.url)),
            },
            clock,
        )
        .unwrap();
        let assistant = common::demo(opsvoice::auth::Identity::new(
            Some(Arc::new(verifier)),
            opsvoice::auth::policy::Policy::allow_all(),
            None,
        ))
        .build()
        .unwrap();
        common::spawn(assistant).await
    }

    async fn ask(app: &common::TestApp, token: &str) -> (u16, Value, Duration) {
        let started = Instant::now();
        let response = app
            .client
            .post(format!("{}/v1/ask", app.base))
            .bearer_auth(token)
            .json(&json!({"text": "any alarms firing"}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap(), started.elapsed())
    }

    fn lex_with(token: &str) -> Value {
        let mut event = common::fixture("lex/service-health-voice.json");
        event["requestAttributes"]["authorization"] = json!(format!("Bearer {token}"));
        event
    }

    #[tokio::test]
    async fn keys_endpoint_down_or_slow_means_try_again_not_sign_in() {
        let (upstream, token) = keys().await;
        let proxy = Proxy::start(upstream).await;
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let app = app(&proxy, clock.clone()).await;

        for fault in [Fault::Reset, Fault::Latency(Duration::from_secs(8))] {
            proxy.set(fault);
            let (status, body, took) = ask(&app, &token).await;
            assert_eq!(status, 503, "{fault:?}: {body}");
            assert_eq!(body["error"]["code"], "sign_in_unavailable", "{body}");
            assert!(took < Duration::from_millis(3500), "{fault:?}: {took:?}");
            // The refetch penalty box: a retry within 10 s does not wait on the keys again.
            let (_, _, again) = ask(&app, &token).await;
            assert!(again < Duration::from_millis(500), "{fault:?}: {again:?}");
            // Out of the penalty box: the next request may fetch again.
            clock.advance(Duration::from_millis(10_100));
        }
        let (_, lex) = app.post_json("/lex", &lex_with(&token)).await;
        let said = lex["messages"][0]["content"].as_str().unwrap();
        assert!(
            said.contains("I can't check your sign-in right now"),
            "{said}"
        );
        assert_eq!(lex["sessionState"]["intent"]["state"], "Failed");
    }

    /// Defect: with the keys unreachable, a valid token got a 503 whose body carried the
    /// JWKS URL and the HTTP client's error, and the very next request a 401 "the token's
    /// key id is not one of the pool's keys", telling a valid user their token is bad.
    #[tokio::test]
    async fn while_the_keys_cannot_be_fetched_every_request_is_sign_in_unavailable() {
        let (upstream, token) = keys().await;
        let proxy = Proxy::start(upstream).await;
        let app = app(&proxy, Arc::new(opsvoice::ops::SystemClock)).await;
        proxy.set(Fault::Reset);
        for attempt in 0..3 {
            let (status, body, _) = ask(&app, &token).await;
            assert_eq!(status, 503, "attempt {attempt}: {body}");
            assert_eq!(body["error"]["code"], "sign_in_unavailable", "{body}");
            let text = body.to_string();
            for internal in [
                proxy.url.as_str(),
                "jwks",
                "127.0.0.1",
                "error sending",
                "connection",
            ] {
                assert!(
                    !text.contains(internal),
                    "attempt {attempt}: `{internal}` in {text}"
                );
            }
            let (_, lex) = app.post_json("/lex", &lex_with(&token)).await;
            let said = lex["messages"][0]["content"].as_str().unwrap();
            assert!(
                said.contains("I can't check your sign-in right now"),
                "attempt {attempt}: {said}"
            );
        }
    }

    #[tokio::test]
    async fn keys_already_fetched_keep_working_when_the_endpoint_goes_down() {
        let (upstream, token) = keys().await;
        let proxy = Proxy::start(upstream).await;
        let app = app(&proxy, Arc::new(opsvoice::ops::SystemClock)).await;
        let (status, body, _) = ask(&app, &token).await;
        assert_eq!(status, 200, "{body}");
        proxy.set(Fault::Silent);
        let (status, body, took) = ask(&app, &token).await;
        assert_eq!(status, 200, "{body}");
        assert!(took < Duration::from_millis(500), "{took:?}");
        // A forged key id cannot make it wait on the dead endpoint either.
        let forged = {
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            parts[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(br#"{"alg":"RS256","kid":"forged","typ":"JWT"}"#);
            parts.join(".")
        };
        let (status, _, took) = ask(&app, &forged).await;
        assert!(status == 401 || status == 503, "{status}");
        assert!(took < Duration::from_millis(3500), "{took:?}");
    }
}
