//! Logs: every question leaves one audit event, and no token ever reaches a log line.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use serde_json::json;

/// The log tests install a subscriber for their own thread. `tracing` caches, per call
/// site and process-wide, whether anyone listens; with the other suites logging on other
/// threads of this one test binary, that cache could say "nobody" and the capture stayed
/// empty (seen: 1 run in 4). So they run alone, each in a process of its own.
#[test]
fn logs_are_checked_in_a_process_of_their_own() {
    common::alone(&[
        "audit::each_question_is_audited_and_tokens_never_reach_the_logs",
        "audit::user_text_cannot_forge_a_pretty_log_line_or_reach_the_terminal",
    ]);
}

#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `logs_are_checked_in_a_process_of_their_own`"]
async fn each_question_is_audited_and_tokens_never_reach_the_logs() {
    let capture = common::LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .finish();
    // #[tokio::test] runs on one thread, so this subscriber sees the whole request.
    let _guard = tracing::subscriber::set_default(subscriber);

    let secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";
    let assistant = common::assistant();
    let mut event = common::fixture("lex/service-health-voice.json");
    event["sessionState"]["sessionAttributes"] =
        json!({"authorization": format!("Bearer {secret}")});
    event["requestAttributes"] = json!({"authorization": secret});
    let event: opsvoice::channel::lex::LexEvent = serde_json::from_value(event).unwrap();
    let response = serde_json::to_string(&assistant.lex(&event).await).unwrap();
    assert!(!response.contains(secret), "the token was echoed");

    let logs = capture.text();
    assert!(!logs.contains(secret), "a token reached the logs:\n{logs}");
    let audits: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "opsvoice::audit")
        .collect();
    assert_eq!(audits.len(), 1, "one audit event per question:\n{logs}");
    let a = &audits[0]["fields"];
    assert_eq!(a["intent"], "ServiceHealth");
    assert_eq!(a["decision"], "allowed");
    assert_eq!(a["username"], "anonymous");
    assert_eq!(a["resources"], "service=checkout");
    assert!(a["latency_ms"].is_u64());
}

/// Hardening: in the pretty format, user text reached the log unescaped through fields
/// printed with `%`: a slot value with a newline wrote a fake `opsvoice::audit` line with
/// `decision="allowed"`, and raw ANSI escapes reached the terminal. The carriers: a Lex
/// slot value (the audit's `resources`, also for a refused, tokenless turn), an unknown
/// intent name in the session context, a session-attribute key, and a JWT header `alg`.
#[tokio::test]
#[ignore = "captures the thread's logs: run alone by `logs_are_checked_in_a_process_of_their_own`"]
async fn user_text_cannot_forge_a_pretty_log_line_or_reach_the_terminal() {
    use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};

    let capture = common::LogCapture::default();
    let subscriber = opsvoice::telemetry::subscriber(
        opsvoice::config::LogFormat::Pretty,
        tracing_subscriber::EnvFilter::new("trace"),
        false,
        capture.clone(),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let forged = "checkout\n2026-12-01T10:00:00.000000Z  INFO opsvoice::audit: audit sub=\"root\" decision=\"allowed\"\u{1b}[2J\u{1b}[31m";
    let assistant = common::assistant();
    // The slot value, and an unknown intent name inside our session context.
    let mut event = common::fixture("lex/service-health-voice.json");
    event["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!(forged);
    let context = json!({"last": {"intent": forged, "slots": {}}}).to_string();
    event["sessionState"]["sessionAttributes"] = json!({
        opsvoice::dialog::context::ATTRIBUTE: context,
        forged: "x",
    });
    let event: opsvoice::channel::lex::LexEvent = serde_json::from_value(event).unwrap();
    assistant.lex(&event).await;

    // A refused, tokenless turn on a deployment that needs sign-in, and a token whose
    // header names a forged algorithm.
    let verifier = Verifier::new(
        Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: "us-east-1_audit".to_owned(),
            client_ids: vec!["client".to_owned()],
            token_use: TokenUse::Access,
            leeway: std::time::Duration::from_secs(5),
            jwks_url: Some("http://127.0.0.1:9/jwks.json".to_owned()),
        },
        common::clock(),
    )
    .unwrap();
    let strict = common::demo(opsvoice::auth::Identity::new(
        Some(std::sync::Arc::new(verifier)),
        opsvoice::auth::policy::Policy::allow_all(),
        None,
    ))
    .build()
    .unwrap();
    let mut refused = common::fixture("lex/service-health-voice.json");
    refused["sessionState"]["intent"]["slots"]["service"]["value"]["interpretedValue"] =
        json!(forged);
    strict
        .lex(&serde_json::from_value(refused.clone()).unwrap())
        .await;
    let token = common::jwks::unsigned(&json!({"alg": forged, "kid": "k"}), &json!({}), b"sig");
    refused["requestAttributes"] = json!({"authorization": format!("Bearer {token}")});
    strict.lex(&serde_json::from_value(refused).unwrap()).await;

    let logs = capture.text();
    assert!(
        !logs.contains('\u{1b}'),
        "an ANSI escape reached the log:\n{logs}"
    );
    for line in logs.lines() {
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()),
            "a line that is not a log event of ours: {line:?}\n{logs}"
        );
    }
    // An event's target is its third word ("<time>  INFO opsvoice::audit: ..."): forged
    // text can only ever sit later in a line.
    let audits = logs
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("opsvoice::audit:"))
        .count();
    assert_eq!(
        audits, 3,
        "one audit event per question, none forged:\n{logs}"
    );
    assert!(
        logs.contains("\\n2026-12-01"),
        "the newline is there, escaped:\n{logs}"
    );
}
