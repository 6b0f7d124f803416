//! Identity end to end on live data: moto's ECS, CloudWatch and Cognito behind the real
//! server. Real tokens from a user-pool sign-in are accepted and their groups decide what
//! is answered; callers without a token are told to sign in, in each channel's way.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::io::Write;
use std::sync::Arc;

use aws_sdk_cloudwatch::types::StateValue;
use common::moto::{Fleet, Live, Moto, UserPool};
use opsvoice::config::{Backend, Config};
use opsvoice::ops::SystemClock;
use serde_json::{Value, json};

const SKILL: &str = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555";

const POLICY: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]
"#;

struct World {
    _moto: Moto,
    pki: common::alexa_pki::Pki,
    _chains: common::alexa_pki::ChainServer,
    app: common::TestApp,
    assistant: Arc<opsvoice::assistant::Assistant>,
    oncall: String,
    room: String,
    nobody: String,
    _policy: tempfile::NamedTempFile,
}

async fn world() -> World {
    let fleet = Fleet::new()
        .service("prod", "checkout", 2)
        .service("data", "etl", 2)
        .alarm(
            "checkout-cpu-high",
            "prod",
            "checkout",
            StateValue::Alarm,
            "Threshold Crossed: 91 > 80.",
        )
        .alarm(
            "etl-cpu-high",
            "data",
            "etl",
            StateValue::Alarm,
            "Threshold Crossed: 95 > 80.",
        );
    let moto = Moto::seeded(&fleet).await;
    let sdk = moto.sdk().await;

    let users = UserPool::create(&sdk).await;
    for group in ["oncall", "conference-room"] {
        users.group(group).await;
    }
    let oncall = users.sign_in("ana", Some("oncall")).await.access;
    let room = users
        .sign_in("room-4b", Some("conference-room"))
        .await
        .access;
    let nobody = users.sign_in("intern", None).await.access;
    let (pool, client) = (users.pool, users.client);

    let mut policy = tempfile::NamedTempFile::new().unwrap();
    policy.write_all(POLICY.as_bytes()).unwrap();
    let config = Config {
        aws: opsvoice::config::Aws {
            backend: Backend::Aws,
            ..opsvoice::config::Aws::default()
        },
        cognito: opsvoice::config::Cognito {
            user_pool_id: Some(pool.clone()),
            client_ids: vec![client],
            region: Some("us-east-1".to_owned()),
            jwks_url: Some(format!("{}/{pool}/.well-known/jwks.json", moto.url())),
            policy_file: Some(policy.path().to_owned()),
            ..opsvoice::config::Cognito::default()
        },
        ..Config::default()
    };
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let assistant = Live::with(
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        clock.clone(),
        &config,
    )
    .assistant;
    let pki = common::alexa_pki::Pki::new(common::alexa_pki::Leaf::Good);
    let chains = common::alexa_pki::ChainServer::start(
        [("echo-api-cert.pem".to_owned(), pki.chain_pem.clone())]
            .into_iter()
            .collect(),
    )
    .await;
    let verifier = opsvoice::channel::alexa::verify::Verifier::new(
        vec![SKILL.to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&chains.base),
        clock,
    )
    .unwrap();
    let app = common::spawn_with(assistant.clone(), verifier).await;
    World {
        _moto: moto,
        pki,
        _chains: chains,
        app,
        assistant,
        oncall,
        room,
        nobody,
        _policy: policy,
    }
}

impl World {
    /// A signed `/alexa` request: the fixture, stamped now, with `token` as the linked account.
    async fn alexa(&self, token: Option<&str>) -> Value {
        let mut body = common::fixture("alexa/service-health.json");
        common::alexa_pki::stamp(&mut body, common::alexa_pki::unix_now());
        for pointer in ["/session/user", "/context/System/user"] {
            let user = body.pointer_mut(pointer).unwrap();
            match token {
                Some(t) => user["accessToken"] = json!(t),
                None => {
                    user.as_object_mut().unwrap().remove("accessToken");
                }
            }
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        let response = self
            .app
            .client
            .post(format!("{}/alexa", self.app.base))
            .header(
                "SignatureCertChainUrl",
                "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            )
            .header("Signature-256", self.pki.sign(&bytes))
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn ask(&self, token: Option<&str>, text: &str) -> (u16, Value, Option<String>) {
        let mut request = self
            .app
            .client
            .post(format!("{}/v1/ask", self.app.base))
            .json(&json!({"text": text}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, response.json().await.unwrap(), challenge)
    }

    async fn says(&self, token: &str, text: &str) -> String {
        let (status, body, _) = self.ask(Some(token), text).await;
        assert_eq!(status, 200, "{body}");
        body["text"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn groups_decide_what_each_signed_in_caller_hears() {
    let w = world().await;
    // oncall sees everything.
    assert!(
        w.says(&w.oncall, "how is etl doing")
            .await
            .starts_with("etl is degraded")
    );
    assert!(
        w.says(&w.oncall, "what's the cpu of checkout")
            .await
            .contains("checkout has no CPU data")
    );
    assert!(
        w.says(&w.oncall, "any alarms firing")
            .await
            .starts_with("2 alarms are firing")
    );

    // The conference room: prod summaries only.
    assert!(
        w.says(&w.room, "how is checkout doing")
            .await
            .starts_with("checkout is degraded")
    );
    let denied = "You don't have access to that.";
    assert_eq!(
        w.says(&w.room, "how is etl doing").await,
        denied,
        "another cluster"
    );
    assert_eq!(
        w.says(&w.room, "how is mainframe doing").await,
        denied,
        "does not exist: the same words"
    );
    assert_eq!(
        w.says(&w.room, "what's the cpu of checkout").await,
        denied,
        "an intent not granted"
    );
    let alarms = w.says(&w.room, "any alarms firing").await;
    assert!(
        alarms.starts_with("One alarm is firing:") && alarms.contains("checkout-cpu-high"),
        "{alarms}"
    );
    assert!(!alarms.contains("etl"), "lists are filtered: {alarms}");
    let fleet = w.says(&w.room, "how's the fleet").await;
    assert!(
        fleet.starts_with("The fleet: 0 of 1 services healthy."),
        "{fleet}"
    );

    // In no group: nothing.
    assert_eq!(w.says(&w.nobody, "how is checkout doing").await, denied);
}

#[tokio::test]
async fn callers_without_a_valid_token_are_told_to_sign_in_in_each_channel() {
    let w = world().await;
    // /v1/ask: 401 with a challenge; a bad token says so.
    let (status, body, challenge) = w.ask(None, "how is checkout doing").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"opsvoice\""));
    let (status, _, challenge) = w.ask(Some("not.a.jwt"), "how is checkout doing").await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("invalid_token"));

    // Lex: the token in the request attributes (Bearer or raw), else "please sign in".
    let mut event = common::fixture("lex/service-health-slack.json");
    event["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!("checkout");
    let (status, r) = w.app.post_json("/lex", &event).await;
    assert_eq!(status, 200);
    common::assert_valid_lex_response(&r);
    assert_eq!(r["sessionState"]["intent"]["state"], "Failed");
    assert!(
        r["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Please sign in"),
        "{r}"
    );
    event["requestAttributes"]["authorization"] = json!(format!("Bearer {}", w.oncall));
    let (_, r) = w.app.post_json("/lex", &event).await;
    assert!(
        r["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("checkout is degraded"),
        "{r}"
    );
    // From the session attributes too, and it is never echoed back.
    let mut event2 = common::fixture("lex/service-health-slack.json");
    event2["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!("checkout");
    event2["sessionState"]["sessionAttributes"]["authorization"] = json!(w.room.clone());
    let (_, r) = w.app.post_json("/lex", &event2).await;
    common::assert_valid_lex_response(&r);
    assert!(
        r["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("checkout is degraded"),
        "{r}"
    );
    assert!(!r.to_string().contains(&w.room), "the token was echoed");

    // Alexa over HTTP, signed: an unlinked account gets the LinkAccount card; a linked one
    // is answered with what its groups allow.
    let r = w.alexa(None).await;
    assert_eq!(r["response"]["card"]["type"], "LinkAccount", "{r}");
    let r = w.alexa(Some(&w.room)).await;
    let spoken = r["response"]["outputSpeech"]["ssml"].as_str().unwrap();
    assert!(spoken.contains("checkout is degraded"), "{r}");
    assert!(!r.to_string().contains(&w.room), "the token was echoed");

    // CanFulfill carries no token: a name that exists and one that does not get the same.
    let mut can = common::fixture("alexa/service-health.json");
    can["request"]["type"] = json!("CanFulfillIntentRequest");
    let mut answers = Vec::new();
    for name in ["checkout", "mainframe"] {
        can["request"]["intent"]["slots"]["service"] = json!({"name": "service", "value": name});
        let envelope: opsvoice::channel::alexa::Envelope =
            serde_json::from_value(can.clone()).unwrap();
        let r = serde_json::to_value(w.assistant.alexa(&envelope).await).unwrap();
        answers.push(r["response"]["canFulfillIntent"].clone());
    }
    assert_eq!(
        answers[0], answers[1],
        "CanFulfill revealed which names exist"
    );

    // The same in-process.
    let mut body = common::fixture("alexa/service-health.json");
    body["session"]["user"]
        .as_object_mut()
        .unwrap()
        .remove("accessToken");
    body["context"]["System"]["user"]
        .as_object_mut()
        .unwrap()
        .remove("accessToken");
    let envelope: opsvoice::channel::alexa::Envelope =
        serde_json::from_value(body.clone()).unwrap();
    let r = serde_json::to_value(w.assistant.alexa(&envelope).await).unwrap();
    assert_eq!(r["response"]["card"]["type"], "LinkAccount");
    assert_eq!(r["response"]["shouldEndSession"], true);
    assert!(
        r["response"]["outputSpeech"]["ssml"]
            .as_str()
            .unwrap()
            .contains("link your ops desk account")
    );
    body["session"]["user"]["accessToken"] = json!(w.room.clone());
    let envelope: opsvoice::channel::alexa::Envelope = serde_json::from_value(body).unwrap();
    let r = serde_json::to_value(w.assistant.alexa(&envelope).await).unwrap();
    assert!(
        r["response"]["outputSpeech"]["ssml"]
            .as_str()
            .unwrap()
            .contains("checkout is degraded"),
        "{r}"
    );
    assert!(!r.to_string().contains(&w.room), "the token was echoed");
}

#[tokio::test]
async fn a_session_id_is_private_to_the_caller_who_started_it() {
    let w = world().await;
    let ask = |token: &str, text: &str| {
        w.app
            .client
            .post(format!("{}/v1/ask", w.app.base))
            .bearer_auth(token.to_owned())
            .json(&json!({"text": text, "session_id": "shared-room"}))
            .send()
    };
    let first: Value = ask(&w.room, "how is checkout doing")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["slots"]["service"], "checkout", "{first}");
    // Someone else with the same session id has no "last service" to follow up on.
    let other: Value = ask(&w.oncall, "and did its deploy finish")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["intent"], "DeploymentStatus", "{other}");
    assert!(other["slots"].get("service").is_none(), "{other}");
    assert_eq!(other["text"], "Which service?");
}

/// Hardening: one user's session attributes, sent back with another user's token, let
/// `AMAZON.RepeatIntent` replay an answer the second user may not see. The context is
/// sealed for its owner and ignored for anyone else.
#[tokio::test]
async fn a_session_context_replays_only_for_the_caller_it_was_given_to() {
    let w = world().await;
    let lex = |token: &str, intent: &str, service: Option<&str>, attributes: &Value| {
        let mut event = common::fixture("lex/service-health-slack.json");
        event["sessionState"]["intent"]["name"] = json!(intent);
        event["sessionState"]["intent"]["slots"] = match service {
            Some(s) => json!({"service": {"shape": "Scalar", "value": {
                "originalValue": s, "interpretedValue": s, "resolvedValues": [s]}}}),
            None => json!({}),
        };
        event["sessionState"]["sessionAttributes"] = attributes.clone();
        event["requestAttributes"] = json!({"authorization": format!("Bearer {token}")});
        event
    };
    let (_, first) = w
        .app
        .post_json(
            "/lex",
            &lex(&w.oncall, "ServiceHealth", Some("etl"), &json!({})),
        )
        .await;
    let said = first["messages"][0]["content"].as_str().unwrap();
    assert!(said.starts_with("etl is degraded"), "{first}");
    let attributes = first["sessionState"]["sessionAttributes"].clone();

    // Its owner hears it again.
    let (_, again) = w
        .app
        .post_json("/lex", &lex(&w.oncall, "RepeatIntent", None, &attributes))
        .await;
    assert!(
        again["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("etl is degraded"),
        "{again}"
    );
    // Anyone else, with the very same attributes, does not.
    for token in [&w.room, &w.nobody] {
        let (_, replay) = w
            .app
            .post_json("/lex", &lex(token, "RepeatIntent", None, &attributes))
            .await;
        let text = replay.to_string();
        assert!(!text.contains("etl is"), "{text}");
        assert!(
            replay["messages"][0]["content"]
                .as_str()
                .unwrap()
                .starts_with("I haven't said anything yet"),
            "{replay}"
        );
    }
}

/// The app is built whole (issue "A house that fails closed"): an `aws` app with a pool
/// verifies every caller, however many clones of it background work took before the first
/// request. Before, the real identity was swapped in through a mutable borrow of the
/// assistant was made with an open one, and a clone held first made the swap a silent
/// no-op.
#[tokio::test]
async fn an_aws_app_always_verifies_whatever_was_started_before_its_first_request() {
    let fleet = Fleet::new().service("prod", "checkout", 2);
    let moto = Moto::seeded(&fleet).await;
    let sdk = moto.sdk().await;
    let users = UserPool::create(&sdk).await;
    users.group("oncall").await;
    let token = users.sign_in("ana", Some("oncall")).await.access;
    let mut policy = tempfile::NamedTempFile::new().unwrap();
    policy.write_all(POLICY.as_bytes()).unwrap();
    let pool = users.pool.clone();
    let config = Config {
        aws: opsvoice::config::Aws {
            backend: Backend::Aws,
            ..opsvoice::config::Aws::default()
        },
        cognito: opsvoice::config::Cognito {
            user_pool_id: Some(pool.clone()),
            client_ids: vec![users.client.clone()],
            region: Some("us-east-1".to_owned()),
            jwks_url: Some(format!("{}/{pool}/.well-known/jwks.json", moto.url())),
            policy_file: Some(policy.path().to_owned()),
            ..opsvoice::config::Cognito::default()
        },
        ..Config::default()
    };
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let (live, _) = opsvoice::live_source(
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        clock.clone(),
        &config,
    );
    let state = opsvoice::builder(&config)
        .clock(clock.clone())
        .ops(Arc::new(live))
        .lex(None)
        .build()
        .await
        .unwrap();
    // Everything that holds the app before a request does: the refresh, the session-key
    // warmer, and one more clone for good measure.
    let background = opsvoice::app::Background::start(&state, true);
    let held = state.assistant.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &config).await;

    let ask = |token: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}/v1/ask", app.base))
            .json(&json!({"text": "how is checkout doing"}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = ask(None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = ask(Some("not.a.token")).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = ask(Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["text"].as_str().unwrap().starts_with("checkout is"),
        "{body}"
    );
    // The in-process path refuses a tokenless caller too.
    let refused = held
        .ask(
            opsvoice::channel::ask::AskRequest {
                text: "how is checkout doing".to_owned(),
                session_id: None,
            },
            None,
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    background.stop().await;

    // And an `aws` app without a pool is not built at all, even with its data given.
    let (live, _) = opsvoice::live_source(
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        clock.clone(),
        &config,
    );
    let no_pool = Config {
        cognito: opsvoice::config::Cognito::default(),
        ..config.clone()
    };
    let refused = opsvoice::builder(&no_pool)
        .clock(clock)
        .ops(Arc::new(live))
        .lex(None)
        .build()
        .await;
    assert!(
        matches!(refused, Err(opsvoice::StartError::NoVerifiedCallers)),
        "{:?}",
        refused.err()
    );
}
