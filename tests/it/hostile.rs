//! Hostile input, generated: arbitrary and mutated Lex events, Alexa envelopes (signed, so
//! they get past the signature to the parser), Lambda events and JWTs never panic and
//! always get a 4xx or a well-formed channel answer. (Arbitrary strings through the SSML
//! builder are in tests/it/ssml.rs.)
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::alexa_pki::{ChainServer, Leaf, Pki};
use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};

struct World {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    function: opsvoice::lambda::Function,
    pki: Pki,
    verifier: Verifier,
    token: String,
    _chains: ChainServer,
}

const SKILL: &str = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555";
const POOL: &str = "us-east-1_hostile";

/// One app, one PKI, one JWKS for every case (building them per case would dominate).
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let pki = Pki::new(Leaf::Good);
        let key = common::jwks::SigningKey::new();
        let (chains, jwks_url) = runtime.block_on(async {
            let chains = ChainServer::start(HashMap::from([(
                "echo-api-cert.pem".to_owned(),
                pki.chain_pem.clone(),
            )]))
            .await;
            (chains, key.serve().await.1)
        });
        let settings = Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: POOL.to_owned(),
            client_ids: vec!["client-1".to_owned()],
            token_use: TokenUse::Access,
            leeway: Duration::from_secs(5),
            jwks_url: Some(jwks_url),
        };
        let verifier = Verifier::new(settings.clone(), common::clock()).unwrap();
        let token = key.access_token(POOL, "client-1", common::NOW);
        let alexa = || {
            opsvoice::channel::alexa::verify::Verifier::new(
                vec![SKILL.to_owned()],
                Some(("test root", pki.root_pem.as_bytes())),
                Some(&chains.base),
                common::clock(),
            )
            .unwrap()
        };
        // The app with a real verifier: tokens are checked, anonymous callers get the demo.
        let assistant = common::demo(opsvoice::auth::Identity::new(
            Some(Arc::new(Verifier::new(settings, common::clock()).unwrap())),
            opsvoice::auth::policy::Policy::allow_all(),
            Some(opsvoice::auth::policy::Grants::all()),
        ))
        .build()
        .unwrap();
        let config = opsvoice::config::Config::default();
        let state = runtime
            .block_on(
                opsvoice::builder(&config)
                    .with_assistant(assistant)
                    .alexa(alexa())
                    .build(),
            )
            .unwrap();
        let router = opsvoice::server::router(state.clone(), &config);
        let function = opsvoice::lambda::Function::new(state, &config);
        runtime.block_on(verifier.verify(&token)).unwrap();
        World {
            runtime,
            router,
            function,
            pki,
            verifier,
            token,
            _chains: chains,
        }
    })
}

fn post(path: &str, body: Vec<u8>, headers: &[(&str, axum::http::HeaderValue)]) -> (u16, Vec<u8>) {
    let w = world();
    let mut request = Request::post(path).header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, v);
    }
    let request = request.body(Body::from(body)).unwrap();
    w.runtime.block_on(async {
        let response = w.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, bytes.to_vec())
    })
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("ServiceHealth"),
            Just("Close"),
            Just("Speech"),
            Just("IntentRequest"),
            Just("DialogCodeHook"),
            Just("<speak>&amp;</speak>")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `fixture` with up to four nodes replaced by arbitrary values or removed.
fn mutated(fixture: &'static str) -> impl Strategy<Value = Value> {
    let base = common::fixture(fixture);
    let mut paths = Vec::new();
    pointers(&base, String::new(), &mut paths);
    paths.retain(|p| !p.is_empty());
    prop::collection::vec((0..paths.len(), any_json(), any::<bool>()), 1..5).prop_map(
        move |edits| {
            let mut v = base.clone();
            for (i, value, remove) in edits {
                let path = &paths[i];
                let (parent, key) = path.rsplit_once('/').unwrap();
                let target = if parent.is_empty() {
                    Some(&mut v)
                } else {
                    v.pointer_mut(parent)
                };
                match target {
                    Some(Value::Object(m)) if remove => {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Object(m)) => {
                        m.insert(key.replace("~1", "/").replace("~0", "~"), value);
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = key.parse::<usize>()
                            && i < a.len()
                        {
                            a[i] = value;
                        }
                    }
                    _ => {}
                }
            }
            v
        },
    )
}

fn assert_lex_outcome(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        status == 200 || (400..500).contains(&status),
        "status {status}: {}",
        String::from_utf8_lossy(body)
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    if status == 200 {
        common::assert_valid_lex_response(&v);
    } else {
        prop_assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(256), ..ProptestConfig::default() })]

    #[test]
    fn mutated_lex_events_get_a_valid_answer_or_a_clear_4xx(
        event in prop_oneof![
            mutated("lex/service-health-voice.json"),
            mutated("lex/service-health-slack.json"),
            mutated("lex/follow-up.json"),
            mutated("lex/missing-slot.json"),
        ]
    ) {
        let (status, body) = post("/lex", serde_json::to_vec(&event).unwrap(), &[]);
        assert_lex_outcome(status, &body)?;
    }

    #[test]
    fn arbitrary_bodies_to_lex_get_a_clear_4xx(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let (status, body) = post("/lex", body, &[]);
        assert_lex_outcome(status, &body)?;
    }

    #[test]
    fn arbitrary_json_to_every_route_never_gets_a_5xx(
        value in any_json(),
        path in prop_oneof![Just("/lex"), Just("/v1/ask"), Just("/alexa")],
    ) {
        let (status, body) = post(path, serde_json::to_vec(&value).unwrap(), &[]);
        prop_assert!(status < 500, "{path}: {status} {}", String::from_utf8_lossy(&body));
        prop_assert!(serde_json::from_slice::<Value>(&body).is_ok());
    }

    #[test]
    fn arbitrary_lambda_events_are_answered_or_refused_never_a_panic(
        event in prop_oneof![
            any_json(),
            mutated("lex/service-health-voice.json"),
            mutated("alexa/service-health.json"),
        ]
    ) {
        let w = world();
        let outcome = w.runtime.block_on(
            w.function.invoke(event, lambda_runtime::Context::default()),
        );
        if let Err(error) = outcome {
            prop_assert!(!error.to_string().is_empty());
        }
    }
}

proptest! {
    // Each case signs its body: fewer cases, same coverage of the parser.
    #![proptest_config(ProptestConfig { cases: common::cases(96), ..ProptestConfig::default() })]

    #[test]
    fn mutated_signed_alexa_envelopes_get_a_valid_answer_or_a_400(
        envelope in prop_oneof![
            mutated("alexa/service-health.json"),
            mutated("alexa/launch.json"),
            mutated("alexa/session-ended.json"),
        ]
    ) {
        let w = world();
        let body = serde_json::to_vec(&envelope).unwrap();
        let signature = w.pki.sign(&body);
        let (status, bytes) = post("/alexa", body, &[
            ("SignatureCertChainUrl", axum::http::HeaderValue::from_static(
                "https://s3.amazonaws.com/echo.api/echo-api-cert.pem")),
            ("Signature-256", signature.parse().unwrap()),
        ]);
        prop_assert!(status == 200 || status == 400 || status == 422,
            "status {status}: {}", String::from_utf8_lossy(&bytes));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        if status == 200 {
            prop_assert_eq!(&v["version"], "1.0");
            let response = &v["response"];
            prop_assert!(response.is_object());
            if let Some(ssml) = response["outputSpeech"]["ssml"].as_str() {
                common::assert_valid_ssml(ssml);
            }
            prop_assert!(bytes.len() <= 24 * 1024);
        }
    }

    #[test]
    fn arbitrary_and_mutated_tokens_are_refused_without_a_panic(
        token in prop_oneof![
            ".{0,300}",
            "[A-Za-z0-9_-]{1,60}\\.[A-Za-z0-9_-]{1,200}\\.[A-Za-z0-9_-]{0,400}",
            (0usize..600, any::<u8>()).prop_map(|(at, byte)| {
                let mut t = world().token.clone().into_bytes();
                let at = at % t.len();
                t[at] = if t[at] == byte { byte.wrapping_add(1) } else { byte };
                String::from_utf8_lossy(&t).into_owned()
            }),
        ]
    ) {
        let w = world();
        prop_assume!(token != w.token);
        let verdict = w.runtime.block_on(w.verifier.verify(&token));
        prop_assert!(verdict.is_err(), "accepted {token}");
        // Through /v1/ask: a 401 with a reason, or (for a header value HTTP cannot carry)
        // a request that never leaves the client.
        if let Ok(value) = axum::http::HeaderValue::from_str(&format!("Bearer {token}")) {
            let (status, body) = post(
                "/v1/ask",
                br#"{"text": "any alarms firing"}"#.to_vec(),
                &[("authorization", value)],
            );
            // A blank token is no token: the demo answers anonymous callers.
            let blank = token.trim().is_empty();
            prop_assert!(status == 401 || (blank && status == 200),
                "{status}: {}", String::from_utf8_lossy(&body));
        }
    }
}

#[test]
fn the_real_token_is_accepted_so_the_refusals_above_mean_something() {
    let w = world();
    let principal = w.runtime.block_on(w.verifier.verify(&w.token)).unwrap();
    assert_eq!(principal.username, "ana");
    let (status, body) = post(
        "/v1/ask",
        br#"{"text": "any alarms firing"}"#.to_vec(),
        &[(
            "authorization",
            format!("Bearer {}", w.token).parse().unwrap(),
        )],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
